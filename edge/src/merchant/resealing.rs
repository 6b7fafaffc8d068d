//! Key rotation for sealed data: once a new key leads `DATA_KEYS` (new data is sealed under it
//! and every listed key still opens), the operator re-seals what the old keys sealed, a batch
//! per call (`POST /admin/merchants/{id}/reseal`), until nothing remains under them; then the
//! old key can be dropped from `DATA_KEYS`. Every sealed column is here, with the associated
//! data its rows are sealed to.

use super::protocol::Resealed;
use super::store::{Ledger, Merchant, Result};
use crate::domain::sealing::{self, aad};
use crate::error::AppError;
use crate::runtime;
use serde::Deserialize;

/// Values re-sealed per call, so one transaction stays short.
const BATCH: i64 = 200;

/// A row whose value (`{s}`) is sealed, but not under the current key (`?`, its prefix
/// `v1.<key id>.`; compared exactly: key ids are case-sensitive).
const STALE: &str = "{s} IS NOT NULL AND substr({s}, 1, length(?1)) != ?1";

/// A column of sealed values: its table, the column naming each row, and what a row's value is
/// sealed to (from the merchant's id and that row's name).
struct Column {
    table: &'static str,
    key: &'static str,
    sealed: &'static str,
    aad: fn(&str, &str) -> Vec<u8>,
}

const COLUMNS: [Column; 6] = [
    Column {
        table: "applications",
        key: "application_id",
        sealed: "sealed",
        aad: aad::application,
    },
    Column {
        table: "upstream_channel",
        key: "channel",
        sealed: "key_sealed",
        aad: aad::channel,
    },
    Column {
        table: "orders",
        key: "out_trade_no",
        sealed: "contact_sealed",
        aad: aad::contact,
    },
    Column {
        table: "contacts",
        key: "subject",
        sealed: "sealed",
        aad: aad::contact,
    },
    Column {
        table: "messages",
        key: "message_id",
        sealed: "to_sealed",
        aad: aad::message,
    },
    Column {
        table: "messaging",
        key: "id",
        sealed: "sealed",
        aad: |m, _| aad::messaging(m),
    },
];

impl Ledger<'_> {
    /// Re-seals up to a batch of values sealed under keys other than the first, and says how
    /// many remain.
    pub fn reseal(&self, m: &Merchant) -> Result<Resealed> {
        let keys = runtime::data_keys(self.env)?;
        let current = keys
            .first()
            .map(|k| k.key_id.clone())
            .ok_or_else(|| AppError::internal("DATA_KEYS holds no key"))?;
        let prefix = format!("v1.{current}.");
        let mut resealed = 0;
        for c in &COLUMNS {
            let left = BATCH - resealed;
            if left <= 0 {
                break;
            }
            resealed += self.reseal_column(m, c, &keys, &prefix, left)?;
        }
        let mut remaining = 0;
        for c in &COLUMNS {
            remaining += self
                .number(
                    &format!("SELECT COUNT(*) AS v FROM {} WHERE {STALE}", c.table,)
                        .replace("{s}", c.sealed),
                    vec![prefix.as_str().into()],
                )?
                .unwrap_or(0);
        }
        if resealed > 0 {
            let now = self.now(m);
            let what = format!("{resealed} values under {current}");
            self.audit(now, "admin", "data.reseal", m.id(), "", &what)?;
        }
        Ok(Resealed {
            key_id: current,
            resealed: resealed as u32,
            remaining: remaining as u32,
        })
    }

    fn reseal_column(
        &self,
        m: &Merchant,
        c: &Column,
        keys: &[sealing::DataKey],
        prefix: &str,
        limit: i64,
    ) -> Result<i64> {
        #[derive(Deserialize)]
        struct Row {
            k: String,
            s: String,
        }
        let rows: Vec<Row> = self.q(
            &format!(
                "SELECT CAST({key} AS TEXT) AS k, {{s}} AS s FROM {t} WHERE {STALE} LIMIT ?",
                key = c.key,
                t = c.table
            )
            .replace("{s}", c.sealed),
            vec![prefix.into(), limit.into()],
        )?;
        for r in &rows {
            let aad = (c.aad)(m.id(), &r.k);
            let fresh =
                sealing::reseal(keys, runtime::random_bytes(), &aad, &r.s).map_err(|e| {
                    AppError::internal(format!("{} {} does not open: {e:?}", c.table, r.k))
                })?;
            self.x(
                &format!(
                    "UPDATE {} SET {} = ? WHERE {} = ?",
                    c.table, c.sealed, c.key
                ),
                vec![fresh.into(), r.k.as_str().into()],
            )?;
        }
        Ok(rows.len() as i64)
    }
}
