//! What the payer chose and typed into the server-rendered form before the wasm arrived, and
//! the method this browser last paid with: put back over the page's first state.

use crate::state::{Action, State};
use paydesk_shared::api::PayMethod;
use paydesk_shared::RenderSeed;

/// Whether the page shows the order afresh rather than answering a form post (with an outcome,
/// or an entry to fix): only a fresh page gives the method shown way to the remembered one.
pub fn is_fresh(seed: &RenderSeed) -> bool {
    seed.outcome.is_none() && seed.field_error.is_none()
}

/// The form as found in the document just before hydration, and the method this browser last
/// paid with.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Restore {
    pub method: Option<PayMethod>,
    pub wallet: Option<String>,
    pub number: String,
    pub expiry: String,
    pub cvc: String,
    pub remembered: Option<PayMethod>,
}

impl Restore {
    /// The actions that put the payer's entry back over the rendered state `s`. A method the
    /// payer did not change gives way to the remembered one on a fresh page.
    pub fn actions(&self, s: &State, fresh: bool) -> Vec<Action> {
        let mut out = Vec::new();
        match self.method {
            Some(m) if m != s.method => out.push(Action::SelectMethod(m)),
            _ if fresh => out.extend(self.remembered.map(Action::SelectMethod)),
            _ => {}
        }
        if let Some(w) = self.wallet.clone().filter(|w| *w != s.wallet) {
            out.push(Action::SelectWallet(w));
        }
        for (v, f) in [
            (&self.number, Action::EditCardNumber as fn(String) -> Action),
            (&self.expiry, Action::EditExpiry),
            (&self.cvc, Action::EditCvc),
        ] {
            if !v.is_empty() {
                out.push(f(v.clone()));
            }
        }
        out
    }
}
