//! Payers' contacts: checked when given, sealed under `DATA_KEYS` (bound to the merchant and
//! what they are the contact of, so a sealed value moved elsewhere does not open), masked in
//! clear, and counted in a request's stored fingerprint only through a keyed digest. An order's
//! contact is kept on the order; a subscription's, installment plan's or contract's in
//! `contacts`, under the key its events carry (`subscription:<id>`, `installment:<no>`,
//! `contract/<code>`).

use super::store::{Ledger, Merchant, Result};
use crate::domain::{contact_rules, sealing};
use crate::error::AppError;
use crate::runtime;
use paydesk_shared::api::Contact;

impl Ledger<'_> {
    /// A request's stored fingerprint: `plain` (the request without its contact), and the
    /// contact only as a keyed digest, so the stored fingerprint cannot be searched for a phone.
    pub fn fingerprint_with_contact(&self, plain: String, c: Option<&Contact>) -> Result<String> {
        let Some(c) = c else {
            return Ok(plain);
        };
        let key = runtime::checkout_token_key(self.env)?;
        let digest = paydesk_shared::sign::hmac_sha256(
            key.peek().as_bytes(),
            &[b"order-contact\n", serde_json::to_string(c)?.as_bytes()],
        );
        let digest = paydesk_shared::sign::hex_lower(&digest);
        Ok(format!("{plain}.{}", &digest[..16]))
    }

    /// A contact checked and sealed as the contact of `subject`: `(sealed, masked JSON)`.
    pub fn seal_contact(
        &self,
        m: &Merchant,
        subject: &str,
        c: &Contact,
    ) -> Result<(String, String)> {
        contact_rules::check(c)?;
        let keys = runtime::data_keys(self.env)?;
        let plain = serde_json::to_vec(c)?;
        let sealed = sealing::seal(&keys, runtime::random_bytes(), &aad(m, subject), &plain)
            .map_err(AppError::internal)?;
        Ok((sealed, serde_json::to_string(&contact_rules::mask(c))?))
    }

    /// Keeps the contact of a subscription, plan or contract (checked first: a bad one refuses
    /// the request, and its transaction keeps nothing).
    pub fn keep_contact(&self, m: &Merchant, subject: &str, c: Option<&Contact>) -> Result<()> {
        let Some(c) = c else {
            return Ok(());
        };
        let (sealed, masked) = self.seal_contact(m, subject, c)?;
        self.x(
            "INSERT OR REPLACE INTO contacts (subject, sealed, masked) VALUES (?, ?, ?)",
            vec![subject.into(), sealed.into(), masked.into()],
        )
    }

    /// The masked contact of a subscription, plan or contract, for its wire form.
    pub fn masked_contact(&self, subject: &str) -> Result<Option<Contact>> {
        #[derive(serde::Deserialize)]
        struct C {
            masked: String,
        }
        let c: Option<C> = self.first(
            "SELECT masked FROM contacts WHERE subject = ?",
            vec![subject.into()],
        )?;
        Ok(c.map(|c| crate::json_text::from_text(&c.masked))
            .transpose()?)
    }

    /// The contact of whatever an event is about (its `order_key`), opened to reach the payer.
    pub fn contact_of(&self, m: &Merchant, subject: &str) -> Result<Option<Contact>> {
        #[derive(serde::Deserialize)]
        struct S {
            sealed: Option<String>,
        }
        let row: Option<S> = self.first(
            "SELECT sealed FROM contacts WHERE subject = ?1
             UNION ALL SELECT contact_sealed AS sealed FROM orders WHERE out_trade_no = ?1",
            vec![subject.into()],
        )?;
        let Some(sealed) = row.and_then(|r| r.sealed) else {
            return Ok(None);
        };
        let keys = runtime::data_keys(self.env)?;
        let plain = sealing::open(&keys, &aad(m, subject), &sealed)
            .map_err(|e| AppError::internal(format!("a contact does not open: {e:?}")))?;
        Ok(Some(serde_json::from_slice(&plain)?))
    }
}

/// What a contact is sealed to: the merchant and what it is the contact of.
fn aad(m: &Merchant, subject: &str) -> Vec<u8> {
    sealing::aad::contact(m.id(), subject)
}
