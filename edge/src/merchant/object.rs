//! The Durable Object itself: construction (schema migrations), the command entry point, the
//! alarm, and the one way of writing: inside `transactionSync`, so a command's writes (state
//! change, audit entry, event) commit together or not at all.

use super::ledger::{Fail, Ledger};
use super::protocol::Envelope;
use super::schema::{CREATE_MIGRATIONS_TABLE, MIGRATIONS};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, SqlStorage, State};

#[durable_object]
pub struct MerchantDO {
    state: State,
    env: Env,
    sql: SqlStorage,
}

impl DurableObject for MerchantDO {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        migrate(&sql).expect("merchant schema migrations");
        Self { state, env, sql }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let envelope: Envelope = serde_json::from_slice(&req.bytes().await?)?;
        let request_id = envelope.request_id.clone();
        let reply = self
            .ledger()
            .handle(envelope)
            .unwrap_or_else(|f| f.into_reply(&request_id));
        self.schedule_alarm().await?;
        Response::from_json(&reply)
    }

    async fn alarm(&self) -> Result<Response> {
        let ledger = self.ledger();
        if let Err(Fail::Internal(e)) = ledger.atomically(|l| l.run_due()) {
            worker::console_error!("merchant alarm: {e}");
        }
        self.schedule_alarm().await?;
        Response::empty()
    }
}

impl MerchantDO {
    fn ledger(&self) -> Ledger<'_> {
        Ledger::new(&self.sql, &self.env, self.state.storage())
    }

    /// The alarm fires at the earliest pending deadline (order expiry, reminder, pending
    /// payment), converted from the merchant's business time to real time.
    async fn schedule_alarm(&self) -> Result<()> {
        let next = self
            .ledger()
            .next_due_real_ms()
            .map_err(|e| worker::Error::RustError(format!("{e:?}")))?;
        let storage = self.state.storage();
        match next {
            Some(at) => {
                let now = worker::Date::now().as_millis() as i64;
                let at = at.max(now + 1);
                if storage.get_alarm().await? != Some(at) {
                    storage
                        .set_alarm(worker::ScheduledTime::new(js_sys::Date::new(
                            &JsValue::from_f64(at as f64),
                        )))
                        .await?;
                }
            }
            None => storage.delete_alarm().await?,
        }
        Ok(())
    }
}

/// Applies the migrations this object has not applied yet, in one transaction each.
fn migrate(sql: &SqlStorage) -> Result<()> {
    sql.exec(CREATE_MIGRATIONS_TABLE, None)?;
    #[derive(Deserialize)]
    struct V {
        v: Option<i64>,
    }
    let current = sql
        .exec("SELECT MAX(version) AS v FROM schema_migrations", None)?
        .one::<V>()?
        .v
        .unwrap_or(0);
    for (version, ddl) in MIGRATIONS {
        if i64::from(*version) > current {
            sql.exec(ddl, None)?;
            sql.exec(
                "INSERT INTO schema_migrations (version, applied_at_ms) VALUES (?, ?)",
                vec![
                    i64::from(*version).into(),
                    (worker::Date::now().as_millis() as i64).into(),
                ],
            )?;
        }
    }
    Ok(())
}
