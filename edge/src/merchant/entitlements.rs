//! Validity (courses, memberships): paying for an item the merchant gave a validity period
//! grants the order's payer an entitlement to it, a repeat purchase extends it, and a refund
//! ends what that purchase gave. `GET /v1/entitlements?payer_ref=` answers a payer's.
//!
//! The arithmetic is `domain::validity_rules`' (a purchase extends or restarts; a refund takes
//! back the unused part of its stretch). Here: each purchase remembers the stretch it added; a
//! refund (any refund of its order) moves the end earlier by what it takes back, and the
//! stretches bought after it with it. An entitlement whose end is now has ended.

use super::store::{Ledger, Merchant, OrderRow, Result};
use crate::domain::validity_rules;
use crate::error::AppError;
use paydesk_shared::entitlement::{Entitlement, EntitlementList, Purchase};
use paydesk_shared::time::format_rfc3339;
use paydesk_shared::urlenc::query_pairs;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
struct EntitlementRow {
    payer_ref: String,
    item_id: String,
    valid_from_ms: i64,
    valid_until_ms: i64,
}

#[derive(Debug, Clone, Deserialize)]
struct GrantRow {
    out_trade_no: String,
    days: i64,
    granted_at_ms: i64,
    ended_at_ms: Option<i64>,
    from_ms: Option<i64>,
    until_ms: Option<i64>,
}

const GRANT_COLUMNS: &str = "out_trade_no, days, granted_at_ms, ended_at_ms, from_ms, until_ms";

impl Ledger<'_> {
    /// Called by the payment as an order is paid: an item with a validity period, bought for a
    /// payer, grants or extends their entitlement.
    pub fn grant_entitlement(&self, m: &Merchant, o: &OrderRow, now: i64) -> Result<()> {
        let (Some(item), Some(payer)) = (&o.item_id, &o.payer_ref) else {
            return Ok(());
        };
        let Some(&days) = m.config.validity_days.get(item) else {
            return Ok(());
        };
        let current = self
            .entitlement(payer, item)?
            .map(|e| (e.valid_from_ms, e.valid_until_ms));
        let g = validity_rules::grant(current, days, now);
        let (from, stretch_from, until) = (g.valid_from_ms, g.stretch_from_ms, g.valid_until_ms);
        self.x(
            "INSERT INTO entitlements (payer_ref, item_id, valid_from_ms, valid_until_ms)
             VALUES (?, ?, ?, ?)
             ON CONFLICT (payer_ref, item_id) DO UPDATE SET valid_from_ms = excluded.valid_from_ms,
             valid_until_ms = excluded.valid_until_ms",
            vec![
                payer.as_str().into(),
                item.as_str().into(),
                from.into(),
                until.into(),
            ],
        )?;
        self.x(
            "INSERT INTO entitlement_grants (out_trade_no, payer_ref, item_id, days, granted_at_ms,
                 from_ms, until_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            vec![
                o.out_trade_no.as_str().into(),
                payer.as_str().into(),
                item.as_str().into(),
                i64::from(days).into(),
                now.into(),
                stretch_from.into(),
                until.into(),
            ],
        )?;
        let target = format!("{payer}/{item}");
        self.audit(
            now,
            "system:validity",
            "entitlement.grant",
            &target,
            "",
            &format_rfc3339(until),
        )
    }

    /// Called as a refund of an order succeeds: what its purchase gave is taken back.
    pub fn refund_ends_entitlement(&self, o: &OrderRow, now: i64) -> Result<()> {
        let grant: Option<GrantRow> = self.first(
            &format!(
                "SELECT {GRANT_COLUMNS} FROM entitlement_grants
                 WHERE out_trade_no = ? AND ended_at_ms IS NULL"
            ),
            vec![o.out_trade_no.as_str().into()],
        )?;
        let (Some(g), Some(item), Some(payer)) = (grant, &o.item_id, &o.payer_ref) else {
            return Ok(());
        };
        let Some(e) = self.entitlement(payer, item)? else {
            return Ok(());
        };
        // What is left of this purchase's stretch.
        let (from, to) = (
            g.from_ms.unwrap_or(g.granted_at_ms),
            g.until_ms.unwrap_or(g.granted_at_ms),
        );
        let unused = validity_rules::unused(from, to, g.days, now);
        let until = e.valid_until_ms - unused;
        self.x(
            "UPDATE entitlements SET valid_until_ms = ? WHERE payer_ref = ? AND item_id = ?",
            vec![until.into(), payer.as_str().into(), item.as_str().into()],
        )?;
        self.x(
            "UPDATE entitlement_grants SET ended_at_ms = ? WHERE out_trade_no = ?",
            vec![now.into(), g.out_trade_no.as_str().into()],
        )?;
        // The stretches bought after it move earlier by as much.
        self.x(
            "UPDATE entitlement_grants SET from_ms = from_ms - ?, until_ms = until_ms - ?
             WHERE payer_ref = ? AND item_id = ? AND ended_at_ms IS NULL AND from_ms >= ?",
            vec![
                unused.into(),
                unused.into(),
                payer.as_str().into(),
                item.as_str().into(),
                to.into(),
            ],
        )?;
        let target = format!("{payer}/{item}");
        let before = format_rfc3339(e.valid_until_ms);
        self.audit(
            now,
            "system:validity",
            "entitlement.end",
            &target,
            &before,
            &format_rfc3339(until),
        )
    }

    fn entitlement(&self, payer: &str, item: &str) -> Result<Option<EntitlementRow>> {
        self.first(
            "SELECT payer_ref, item_id, valid_from_ms, valid_until_ms FROM entitlements
             WHERE payer_ref = ? AND item_id = ?",
            vec![payer.into(), item.into()],
        )
    }

    /// `GET /v1/entitlements?payer_ref=`: every entitlement the payer has had, with its
    /// purchases.
    pub fn list_entitlements(&self, m: &Merchant, query: &str) -> Result<EntitlementList> {
        let mut payer = None;
        for (k, v) in query_pairs(query) {
            match k.as_str() {
                "payer_ref" => payer = Some(v),
                _ => {
                    return Err(AppError::param(
                        "query",
                        format!("unknown query parameter {k}"),
                    ))
                }
            }
        }
        let payer = payer
            .filter(|p| !p.is_empty() && p.chars().count() <= 64)
            .ok_or_else(|| {
                AppError::param("payer_ref", "payer_ref (1-64 characters) is required")
            })?;
        let now = self.now(m);
        let rows: Vec<EntitlementRow> = self.q(
            "SELECT payer_ref, item_id, valid_from_ms, valid_until_ms FROM entitlements
             WHERE payer_ref = ? ORDER BY item_id",
            vec![payer.as_str().into()],
        )?;
        let mut entitlements = Vec::with_capacity(rows.len());
        for e in rows {
            let grants: Vec<GrantRow> = self.q(
                &format!(
                    "SELECT {GRANT_COLUMNS} FROM entitlement_grants
                     WHERE payer_ref = ? AND item_id = ? ORDER BY granted_at_ms, out_trade_no"
                ),
                vec![e.payer_ref.as_str().into(), e.item_id.as_str().into()],
            )?;
            entitlements.push(Entitlement {
                payer_ref: e.payer_ref.clone(),
                item_id: e.item_id.clone(),
                valid_from: format_rfc3339(e.valid_from_ms),
                valid_until: format_rfc3339(e.valid_until_ms),
                active: e.valid_from_ms <= now && now < e.valid_until_ms,
                purchases: grants
                    .into_iter()
                    .map(|g| Purchase {
                        out_trade_no: g.out_trade_no,
                        days: g.days as u32,
                        granted_at: format_rfc3339(g.granted_at_ms),
                        ended_at: g.ended_at_ms.map(format_rfc3339),
                    })
                    .collect(),
            });
        }
        Ok(EntitlementList {
            payer_ref: payer,
            entitlements,
        })
    }
}
