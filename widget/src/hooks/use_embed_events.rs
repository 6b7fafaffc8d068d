use crate::api;
use crate::state::Phase;
use yew::prelude::*;

/// Leaves the pay page for the merchant's.
#[derive(Clone)]
pub struct UseEmbedEventsHandle {
    origin: Option<String>,
    out_trade_no: String,
}

impl UseEmbedEventsHandle {
    /// In an embedding page, asks it to close the overlay; on a page of its own, goes back.
    pub fn return_to_merchant(&self) {
        match &self.origin {
            Some(origin) => api::notify_host(origin, "return", &self.out_trade_no, None),
            None => {
                if let Some(w) = web_sys::window() {
                    let _ = w.history().and_then(|h| h.back());
                }
            }
        }
    }
}

/// Tells the embedding page (only `origin`, the allowed one it came from) that the order was
/// paid or failed, once per outcome: `www/embed.js` turns these into the host's DOM events.
/// Nothing is sent when the page is not embedded.
#[hook]
pub fn use_embed_events(
    origin: Option<String>,
    out_trade_no: String,
    phase: Phase,
) -> UseEmbedEventsHandle {
    {
        let (origin, otn) = (origin.clone(), out_trade_no.clone());
        use_effect_with(phase, move |phase| {
            let Some(origin) = origin else {
                return;
            };
            match phase {
                Phase::Paid => api::notify_host(&origin, "paid", &otn, None),
                Phase::Failed { code, .. } => api::notify_host(&origin, "failed", &otn, Some(code)),
                Phase::Blocked => {
                    api::notify_host(&origin, "failed", &otn, Some("ORDER_NOT_PAYABLE"))
                }
                _ => {}
            }
        });
    }
    UseEmbedEventsHandle {
        origin,
        out_trade_no,
    }
}
