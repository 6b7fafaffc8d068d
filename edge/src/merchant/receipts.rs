//! Signed electronic receipts: one for a paid order and one for each refund that succeeded,
//! signed with the deployment's Ed25519 key when they are read (the same bytes and signature
//! every time: what they attest never changes once the money moved, the merchant's name
//! included, which is the one it had when paid: `orders.paid_to`). The merchant reads them
//! with `GET /v1/orders/{no}/receipt`, the payer on the pay page's receipt (`?receipt`). The
//! canonical form and the signature are `domain::receipt_rules`'.

use super::protocol::Receipts;
use super::store::{Ledger, Merchant, OrderRow, Result};
use crate::domain::receipt_rules::{self as rules, Receipt};
use crate::runtime;
use paydesk_shared::time::format_rfc3339;
use paydesk_shared::{OrderStatus, RefundStatus};

impl Ledger<'_> {
    /// The receipts of an order: none before it is paid.
    pub fn receipts(&self, m: &Merchant, o: &OrderRow) -> Result<Receipts> {
        let paid = matches!(o.status, OrderStatus::Success | OrderStatus::Refund);
        let (Some(paid_at), true) = (o.paid_at_ms, paid) else {
            return Ok(Receipts {
                merchant_name: m.branding.display_name.clone(),
                utc_offset_minutes: m.config.utc_offset_minutes,
                payment: None,
                refunds: vec![],
            });
        };
        let keys = runtime::receipt_keys(self.env)?;
        let key = &keys[0];
        // Whom the payer paid, as named then: a later rename changes no receipt.
        let paid_to = o
            .paid_to
            .clone()
            .unwrap_or_else(|| m.branding.display_name.clone());
        let base = Receipt {
            amount: o.amount_total as u64,
            at: format_rfc3339(paid_at),
            currency: o.currency.clone(),
            description: o.description.clone(),
            kind: "payment".into(),
            merchant_id: m.id().to_owned(),
            merchant_name: paid_to.clone(),
            method: o.method.clone(),
            out_refund_no: None,
            out_trade_no: o.out_trade_no.clone(),
            refund_id: None,
            transaction_id: o.transaction_id.clone(),
            version: 1,
        };
        let mut refunds = Vec::new();
        for r in self.refunds_of(&o.out_trade_no)? {
            let (RefundStatus::Success, Some(at)) = (r.status, r.settled_at_ms) else {
                continue;
            };
            let receipt = Receipt {
                amount: r.amount as u64,
                at: format_rfc3339(at),
                kind: "refund".into(),
                method: None,
                out_refund_no: Some(r.out_refund_no.clone()),
                refund_id: r.refund_id.clone(),
                ..base.clone()
            };
            refunds.push(rules::sign(&receipt, key));
        }
        Ok(Receipts {
            merchant_name: paid_to,
            utc_offset_minutes: m.config.utc_offset_minutes,
            payment: Some(rules::sign(&base, key)),
            refunds,
        })
    }
}
