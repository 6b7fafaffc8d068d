//! The Durable Object itself: construction (schema migrations), the command entry point, the
//! alarm, and the one way of writing: inside `transactionSync`, so a command's writes (state
//! change, audit entry, event) commit together or not at all.

use super::ledger::{Fail, Ledger};
use super::protocol::Envelope;
use super::schema::{CREATE_MIGRATIONS_TABLE, MIGRATIONS};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{
    durable_object, DurableObject, Env, Request, Response, Result, SqlStorage, State, WebSocket,
    WebSocketIncomingMessage, WebSocketPair,
};

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
        if req.path() == "/live" {
            return self.accept_live(&req);
        }
        let envelope: Envelope = serde_json::from_slice(&req.bytes().await?)?;
        let request_id = envelope.request_id.clone();
        let ledger = self.ledger();
        let reply = ledger
            .handle(envelope)
            .unwrap_or_else(|f| f.into_reply(&request_id));
        self.broadcast(&ledger);
        self.schedule_alarm().await?;
        Response::from_json(&reply)
    }

    async fn alarm(&self) -> Result<Response> {
        let ledger = self.ledger();
        if let Err(Fail::Internal(e)) = ledger.atomically(|l| l.run_due()) {
            worker::console_error!("merchant alarm: {e}");
        }
        self.broadcast(&ledger);
        // Notifications go out after the state they report has committed.
        if let Err(Fail::Internal(e)) = super::outbox::deliver_due(&ledger).await {
            worker::console_error!("merchant notifications: {e}");
        }
        self.schedule_alarm().await?;
        Response::empty()
    }

    async fn websocket_message(
        &self,
        _ws: WebSocket,
        _msg: WebSocketIncomingMessage,
    ) -> Result<()> {
        // Pages only listen; anything they send is ignored.
        Ok(())
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        _code: usize,
        _reason: String,
        _clean: bool,
    ) -> Result<()> {
        let _ = ws.close(Some(1000), Some("bye"));
        Ok(())
    }

    async fn websocket_error(&self, ws: WebSocket, _error: worker::Error) -> Result<()> {
        let _ = ws.close(Some(1011), Some("error"));
        Ok(())
    }
}

impl MerchantDO {
    /// A pay page's live status socket for one order (hibernatable, tagged by order), told the
    /// order's current status at once.
    fn accept_live(&self, req: &Request) -> Result<Response> {
        let (_, query) = crate::runtime::path_and_query(req);
        let otn = query.strip_prefix("otn=").unwrap_or_default().to_owned();
        let Ok(Some(order)) = self.ledger().order(&otn) else {
            return Response::error("no such order", 404);
        };
        let pair = WebSocketPair::new()?;
        self.state
            .accept_websocket_with_tags(&pair.server, &[otn.as_str()]);
        pair.server
            .send_with_str(serde_json::json!({"status": order.status}).to_string())?;
        Response::from_websocket(pair.client)
    }

    /// Every open page of every order that changed learns its new status.
    fn broadcast(&self, ledger: &Ledger<'_>) {
        let mut changed = ledger.changed.take();
        changed.sort();
        changed.dedup();
        for otn in changed {
            let Ok(Some(order)) = ledger.order(&otn) else {
                continue;
            };
            let msg = serde_json::json!({"status": order.status}).to_string();
            for ws in self.state.get_websockets_with_tag(&otn) {
                let _ = ws.send_with_str(&msg);
            }
        }
    }

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
