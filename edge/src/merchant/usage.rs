//! Metered usage: reports, each counted once by its idempotency key, summed into the next
//! invoice a subscription's period creates. Reports and invoice creation are transactions of
//! the same object, so a report racing a period's close lands wholly before it (billed now) or
//! wholly after it (billed with the next period): never both, never neither.

use super::store::{Ledger, Merchant, Result};
use super::subscriptions::SubscriptionRow;
use crate::domain::contract_rules;
use crate::domain::idempotency::{self, Repeat};
use crate::domain::refusal::Refusal;
use crate::domain::subscription_rules as rules;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::subscription::{ReportUsage, UsageRecord};
use paydesk_shared::time::{format_rfc3339, parse_rfc3339};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
struct UsageRow {
    subscription_id: String,
    idempotency_key: String,
    quantity: i64,
    occurred_at_ms: i64,
    billed_period: Option<i64>,
    fingerprint: String,
}

const USAGE_COLUMNS: &str =
    "subscription_id, idempotency_key, quantity, occurred_at_ms, billed_period, fingerprint";

/// A report may say it happened up to this long ahead of the merchant's clock (clock skew).
const FUTURE_SKEW_MS: i64 = 5 * 60_000;

impl Ledger<'_> {
    /// `POST /v1/subscriptions/{id}/usage`: the record, and whether it was created now.
    pub fn report_usage(
        &self,
        m: &Merchant,
        id: &str,
        req: &ReportUsage,
    ) -> Result<(UsageRecord, bool)> {
        rules::validate_usage(req.quantity, &req.idempotency_key)?;
        let s = self.current_subscription(m, id)?;
        let fingerprint = contract_rules::fingerprint(req);
        let stored = self.usage_row(id, &req.idempotency_key)?;
        match idempotency::repeat(stored, |u| &u.fingerprint, &fingerprint) {
            Repeat::Same(existing) => {
                return Ok((
                    self.wire_usage(&existing, self.unbilled_lands_on(&s)?),
                    false,
                ))
            }
            Repeat::Other => {
                return Err(Refusal::new(
                    ErrorCode::UsageKeyUsed,
                    "this idempotency_key was used for a different usage report",
                )
                .at("idempotency_key")
                .into())
            }
            Repeat::New => {}
        }
        if s.usage_unit.is_none() || s.status.is_final() {
            return Err(Refusal::new(
                ErrorCode::SubscriptionNotAllowed,
                format!(
                    "usage can be reported only to a subscription with a usage price that has not ended (this one is {})",
                    s.status.as_str()
                ),
            )
            .into());
        }
        let now = self.now(m);
        let occurred = match &req.occurred_at {
            None => now,
            Some(t) => parse_rfc3339(t)
                .filter(|t| *t <= now + FUTURE_SKEW_MS && *t >= s.created_at_ms)
                .ok_or_else(|| {
                    Refusal::param(
                        "occurred_at",
                        "occurred_at must be RFC 3339, after the subscription was created and not in the future",
                    )
                })?,
        };
        self.x(
            &format!(
                "INSERT INTO usage_records ({USAGE_COLUMNS}, reported_at_ms)
                 VALUES (?, ?, ?, ?, NULL, ?, ?)"
            ),
            vec![
                id.into(),
                req.idempotency_key.as_str().into(),
                (req.quantity as i64).into(),
                occurred.into(),
                fingerprint.into(),
                now.into(),
            ],
        )?;
        let row = self
            .usage_row(id, &req.idempotency_key)?
            .ok_or_else(|| crate::error::AppError::internal("usage report not stored"))?;
        Ok((self.wire_usage(&row, self.unbilled_lands_on(&s)?), true))
    }

    /// The period whose invoice will bill usage not billed yet: the next invoice created. That
    /// is the next period's, unless its invoice exists already (created ahead of its charge, or
    /// a first one that failed and is retried), then the one after.
    fn unbilled_lands_on(&self, s: &SubscriptionRow) -> Result<i64> {
        let n = s.next_period;
        Ok(match self.invoice(&s.subscription_id, n)? {
            Some(_) => n + 1,
            None => n,
        })
    }

    fn usage_row(&self, id: &str, key: &str) -> Result<Option<UsageRow>> {
        self.first(
            &format!(
                "SELECT {USAGE_COLUMNS} FROM usage_records
                 WHERE subscription_id = ? AND idempotency_key = ?"
            ),
            vec![id.into(), key.into()],
        )
    }

    fn wire_usage(&self, u: &UsageRow, next_period: i64) -> UsageRecord {
        UsageRecord {
            subscription_id: u.subscription_id.clone(),
            idempotency_key: u.idempotency_key.clone(),
            quantity: u.quantity as u64,
            occurred_at: format_rfc3339(u.occurred_at_ms),
            invoice_period: u.billed_period.unwrap_or(next_period) as u32,
            billed: u.billed_period.is_some(),
        }
    }

    /// Units reported and not yet on an invoice.
    pub fn usage_pending(&self, id: &str) -> Result<u64> {
        let units = self.number(
            "SELECT SUM(quantity) AS v FROM usage_records
             WHERE subscription_id = ? AND billed_period IS NULL",
            vec![id.into()],
        )?;
        Ok(units.unwrap_or(0) as u64)
    }

    /// The usage an invoice that will not be paid billed goes back to the next invoice.
    pub fn unbill_usage(&self, id: &str, n: i64) -> Result<()> {
        self.x(
            "UPDATE usage_records SET billed_period = NULL
             WHERE subscription_id = ? AND billed_period = ?",
            vec![id.into(), n.into()],
        )
    }

    /// Marks the unbilled usage as billed by period `n`'s invoice (in the transaction that
    /// created it with their sum).
    pub fn bill_usage(&self, id: &str, n: i64) -> Result<()> {
        self.x(
            "UPDATE usage_records SET billed_period = ?
             WHERE subscription_id = ? AND billed_period IS NULL",
            vec![n.into(), id.into()],
        )
    }
}
