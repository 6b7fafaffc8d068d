//! The Durable Object itself: construction (schema migrations), the one dispatch of commands,
//! the alarm, and the live status sockets of pay pages. Each command runs through the capability
//! that owns it; writes happen inside `Ledger::atomically`, so a command's state change, audit
//! entry and event commit together or not at all.

use super::kept::Kept;
use super::protocol::{
    ApiReply, ApiRequest, Ask, Call, Command, ConsoleAnswer, Envelope, ENVELOPE, PROTOCOL,
    PROTOCOL_HEADER, RENDERED,
};
use super::schema::{ADDED_COLUMNS, CREATE_MIGRATIONS_TABLE, MIGRATIONS};
use super::sql_meter::{SqlMeter, Tally};
use super::store::{Ledger, Merchant, Result};
use crate::domain::alarm_rules::{self, DueChange};
use crate::error::AppError;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{
    durable_object, DurableObject, Env, Request, Response, SqlStorage, State, WebSocket,
    WebSocketIncomingMessage, WebSocketPair,
};

#[durable_object]
pub struct MerchantDO {
    state: State,
    env: Env,
    sql: SqlStorage,
    meter: SqlMeter,
    /// The alarm as this object last set or read it (`None`: not known), so rescheduling
    /// after every request asks storage only when the time changes. Known only between
    /// reschedulings: one that fails, or overlaps another (`alarm_epoch`), leaves it unknown.
    alarm_at: std::cell::Cell<Option<Option<i64>>>,
    /// Counts reschedulings and alarm runs, so one that awaited storage while another began
    /// does not record a time the other may have replaced.
    alarm_epoch: std::cell::Cell<u64>,
    /// Its merchant row and its audit chain's head, kept between requests (`merchant/kept.rs`).
    kept: Kept<Merchant>,
    /// Whether its tables exist now (`migrate`).
    schema: std::cell::Cell<bool>,
    /// It held nothing when it started (or was emptied since), and no merchant was created in
    /// it yet: a request naming a merchant id nobody created leaves no storage behind
    /// (`forget_if_empty`).
    fresh: std::cell::Cell<bool>,
}

impl DurableObject for MerchantDO {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        let fresh = migrate(&sql).expect("merchant schema migrations");
        Self {
            state,
            env,
            sql,
            meter: SqlMeter::default(),
            alarm_at: Default::default(),
            alarm_epoch: Default::default(),
            kept: Default::default(),
            schema: std::cell::Cell::new(true),
            fresh: std::cell::Cell::new(fresh),
        }
    }

    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        if !self.schema.get() {
            migrate(&self.sql)?;
            self.schema.set(true);
        }
        let response = self.serve(req).await;
        self.forget_if_empty().await?;
        response
    }

    async fn alarm(&self) -> worker::Result<Response> {
        let tally = &self.meter.alarms;
        tally.run();
        // A fired alarm is no longer set, and what it runs moves what falls due: until it has
        // rescheduled, the object does not know its alarm.
        self.alarm_at.set(None);
        self.alarm_epoch.set(self.alarm_epoch.get() + 1);
        let origin = self
            .ledger(alarm_call(String::new()), tally)
            .merchant()
            .ok()
            .flatten()
            .map(|m| m.row.origin)
            .unwrap_or_default();
        let ledger = self.ledger(alarm_call(origin), tally);
        // Orders handed to the upstream channel are asked about before their deadline closes them.
        if let Err(e) = super::upstream_close::settle_expiring(&ledger, 0).await {
            worker::console_error!("merchant upstream expiries: {e:?}");
        }
        if let Err(e) = ledger.atomically(|l| {
            l.run_due()?;
            l.forget_expired_requests()
        }) {
            worker::console_error!("merchant alarm: {e:?}");
        }
        // An order closed at its deadline while the upstream did not answer: closed there too.
        if ledger.upstream_due.take() {
            if let Err(e) = super::upstream_close::settle_expiring(&ledger, 0).await {
                worker::console_error!("merchant upstream closes: {e:?}");
            }
        }
        self.broadcast(&ledger);
        // Notifications go out after the state they report has committed.
        if let Err(e) = super::outbox::deliver_due(&ledger).await {
            worker::console_error!("merchant notifications: {e:?}");
        }
        if let Err(e) = super::message_delivery::send_due_messages(&ledger).await {
            worker::console_error!("merchant messages: {e:?}");
        }
        if let Err(e) = super::pool::sweep_due(&ledger).await {
            worker::console_error!("merchant sweeps: {e:?}");
        }
        if let Err(e) = super::upstream_refunds::push_refunds(&ledger, false).await {
            worker::console_error!("merchant upstream refunds: {e:?}");
        }
        self.schedule_alarm(tally, DueChange::Unknown).await?;
        Response::empty()
    }

    async fn websocket_message(
        &self,
        _ws: WebSocket,
        _msg: WebSocketIncomingMessage,
    ) -> worker::Result<()> {
        // Pages only listen; anything they send is ignored.
        Ok(())
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        _code: usize,
        _reason: String,
        _clean: bool,
    ) -> worker::Result<()> {
        let _ = ws.close(Some(1000), Some("bye"));
        Ok(())
    }

    async fn websocket_error(&self, ws: WebSocket, _error: worker::Error) -> worker::Result<()> {
        let _ = ws.close(Some(1011), Some("error"));
        Ok(())
    }
}

/// The one dispatch: every command to the capability that answers it, with the reply type its
/// [`Ask`] names.
fn dispatch(l: &Ledger<'_>, command: Command) -> Answer {
    match command {
        Command::CreateMerchant(c) => answer(&c, l.atomically(|l| l.create_merchant(&c))),
        Command::Api(_) | Command::V2(_) => failed(AppError::internal(
            "the API is answered before the dispatch",
        )),
        Command::Checkout(c) => answer(&c, l.atomically(|l| l.checkout(&c.out_trade_no))),
        Command::Pay(p) => answer(&p, l.atomically(|l| l.pay(&p))),
        Command::GetMerchant(g) => answer(&g, with_merchant(l, |l, m| l.summary(m))),
        Command::RotateSecret(r) => answer(&r, with_merchant(l, |l, m| l.rotate_secret(m, &r))),
        Command::Reactivate(r) => answer(&r, with_merchant(l, |l, m| l.reactivate(m, &r))),
        Command::Unfreeze(u) => answer(&u, with_merchant(l, |l, m| l.unfreeze(m, &u))),
        Command::GetApplication(g) => answer(&g, with_merchant(l, |l, m| l.get_application(m, &g))),
        Command::DecideApplication(d) => {
            answer(&d, with_merchant(l, |l, m| l.decide_application(m, &d)))
        }
        Command::Reseal(r) => answer(&r, with_merchant(l, |l, m| l.reseal(m))),
        Command::SetRisk(s) => answer(&s, with_merchant(l, |l, m| l.set_risk(m, &s))),
        Command::SetChannel(s) => answer(&s, with_merchant(l, |l, m| l.set_channel(m, &s))),
        Command::UpstreamNotify(n) => answer(&n, l.atomically(|l| l.upstream_notify(&n))),
        Command::Cashier(_) => failed(AppError::internal(
            "the cashier is answered before the dispatch",
        )),
        Command::AdvanceClock(a) => answer(&a, with_merchant(l, |l, m| l.advance_clock(m, &a))),
        Command::ListOrders(q) => answer(&q, with_merchant(l, |l, m| l.list_orders(m, &q))),
        Command::Decide(d) => answer(&d, with_merchant(l, |l, m| l.decide(m, &d))),
        Command::VerifyAudit(v) => answer(&v, with_merchant(l, |l, _| l.verify_audit())),
        Command::BenchWrite(b) => answer(&b, l.atomically(|l| l.bench_write())),
        Command::ProbeStorage(p) => answer(&p, l.atomically(|l| l.probe_storage())),
        // Answered by the object itself, before any ledger work (`fetch`).
        Command::ReadSqlMeter(_) => failed(AppError::not_found()),
        Command::ContractPage(c) => answer(&c, l.atomically(|l| l.contract_page(&c.contract_code))),
        Command::SignContract(s) => answer(&s, l.atomically(|l| l.sign_contract(&s))),
        Command::EndContract(e) => answer(&e, l.atomically(|l| l.end_by_payer(&e.contract_code))),
        Command::EntrustWeb(e) => answer(&e, l.entrust_web(&e.params)),
        Command::JoinPool(j) => answer(&j, with_merchant(l, |l, m| l.join_pool(m, &j))),
        Command::Sweep(s) => answer(&s, with_merchant(l, |l, m| l.receive_sweep(m, &s))),
        Command::BillPage(p) => answer(&p, l.atomically(|l| l.bill_page(&p))),
        Command::ExportPage(p) => answer(&p, with_merchant(l, |l, m| l.export_page(m, &p))),
        Command::Unsubscribe(u) => answer(
            &u,
            l.atomically(|l| l.unsubscribe(&u.message_id, u.confirm)),
        ),
        Command::NewConsoleUser(u) => {
            answer(&u, with_merchant(l, |l, m| l.create_console_user(m, &u)))
        }
        Command::ListConsoleUsers(q) => answer(&q, with_merchant(l, |l, _| l.console_users())),
        Command::ChangeConsoleUser(c) => {
            answer(&c, with_merchant(l, |l, m| l.change_console_user(m, &c)))
        }
        Command::RemoveConsoleUser(r) => {
            answer(&r, with_merchant(l, |l, m| l.remove_console_user(m, &r)))
        }
        Command::ConsoleSalt(s) => answer(&s, l.atomically(|l| l.console_salt(&s))),
        Command::ConsoleSignIn(s) => answer(&s, with_merchant(l, |l, m| l.console_sign_in(m, &s))),
        Command::ConsoleCall(c) => answer(
            &c,
            with_merchant(l, |l, m| l.console(m, &c))
                .and_then(|r| ConsoleAnswer::of(r).map_err(AppError::from)),
        ),
        Command::PayerReceipts(r) => answer(
            &r,
            with_merchant(l, |l, m| l.receipts(m, &l.order_or_fail(&r.out_trade_no)?)),
        ),
    }
}

/// The command a request carries: in its body, or (a merchant API request whose body the
/// worker streamed on unread) in the [`ENVELOPE`] header, the API body being the request's.
async fn received(req: &mut Request) -> Result<Envelope> {
    let Some(head) = req.headers().get(ENVELOPE)? else {
        return Ok(serde_json::from_slice(&req.bytes().await?)?);
    };
    let mut envelope: Envelope = crate::json_text::from_text(&head)?;
    if let Command::Api(api) = &mut envelope.command {
        api.body = crate::request_body::api_body(req.bytes().await?, api.declared_json)?;
    }
    Ok(envelope)
}

/// What the object sends back to the worker.
enum Answer {
    /// A command's `Result` of its reply or an error, as JSON (`Call::ask` reads it).
    Outcome(Vec<u8>),
    /// The merchant API's answer as its client gets it (`ApiRequest::render`): the status and
    /// the JSON body, which the worker passes on unread.
    Rendered { status: u16, json: Vec<u8> },
}

impl Answer {
    fn into_response(self) -> worker::Result<Response> {
        let resp = match self {
            Answer::Outcome(json) => Response::from_bytes(json)?,
            Answer::Rendered { status, json } => {
                let resp = Response::from_bytes(json)?.with_status(status);
                resp.headers().set(RENDERED, "json")?;
                resp
            }
        };
        resp.headers().set("Content-Type", "application/json")?;
        resp.headers().set(PROTOCOL_HEADER, PROTOCOL)?;
        Ok(resp)
    }
}

/// A command's reply as it travels back; typed by the command so the dispatch cannot answer
/// with the wrong shape.
fn answer<A: Ask>(_: &A, reply: Result<A::Reply>) -> Answer {
    match reply.map(|r| serde_json::to_vec(&Ok::<_, AppError>(r))) {
        Ok(Ok(json)) => Answer::Outcome(json),
        Ok(Err(e)) => failed(e.into()),
        Err(e) => failed(e),
    }
}

/// A command that failed, or whose reply could not be written.
fn failed(e: AppError) -> Answer {
    // An error always serialises (strings and numbers only).
    Answer::Outcome(serde_json::to_vec(&Err::<(), _>(e)).unwrap_or_default())
}

/// A merchant API answer: rendered for the client when the worker passes JSON on as it is.
fn api_answer(req: &ApiRequest, reply: Result<ApiReply>) -> Answer {
    match reply {
        Ok(reply) if req.render => match reply.body.to_json() {
            Some(Ok(json)) => Answer::Rendered {
                status: reply.status,
                json,
            },
            Some(Err(e)) => failed(e.into()),
            None => answer(req, Ok(reply)),
        },
        reply => answer(req, reply),
    }
}

/// Runs `f` in one transaction with the merchant this object holds.
fn with_merchant<T>(
    l: &Ledger<'_>,
    f: impl FnOnce(&Ledger<'_>, &super::store::Merchant) -> Result<T>,
) -> Result<T> {
    l.atomically(|l| {
        let m = l.merchant_or_fail()?;
        f(l, &m)
    })
}

fn alarm_call(origin: String) -> Call {
    Call {
        request_id: "alarm".into(),
        origin,
        dev: false,
    }
}

impl Ledger<'_> {
    /// The bench's floor for a write (dev only: the route checks): one row, one statement,
    /// and nothing that falls due touched, so the alarm is not looked at.
    fn bench_write(&self) -> Result<super::protocol::BenchWritten> {
        self.due_change.set(DueChange::Untouched);
        #[derive(Deserialize)]
        struct Id {
            id: i64,
        }
        let row: Option<Id> = self.first(
            "INSERT INTO bench_writes (at_ms) VALUES (?) RETURNING id",
            vec![self.real_now().into()],
        )?;
        let id = row.map_or(0, |r| r.id);
        Ok(super::protocol::BenchWritten { id })
    }

    /// The health check's write: one row, replaced each time, read back as SQLite stored it.
    fn probe_storage(&self) -> Result<super::protocol::StorageProbed> {
        #[derive(Deserialize)]
        struct At {
            at_ms: i64,
        }
        let row: Option<At> = self.first(
            "INSERT INTO storage_probe (id, at_ms) VALUES (1, ?)
             ON CONFLICT (id) DO UPDATE SET at_ms = excluded.at_ms RETURNING at_ms",
            vec![self.real_now().into()],
        )?;
        let at_ms = row.map_or(0, |r| r.at_ms);
        Ok(super::protocol::StorageProbed { at_ms })
    }

    /// Links built later (by the alarm: reminders, notifications, the upstream's notify_url)
    /// point at the origin the merchant's own requests come to. Called only for a request the
    /// merchant signed, once its signature checked (`api.rs`, `v2_dialect.rs`), and for the
    /// operator's creation of the merchant: a `Host` header anyone can send is never taken for
    /// it. No statement when the origin is the one last recorded (`Kept`).
    pub(super) fn remember_origin(&self) -> Result<()> {
        let origin = self.call.origin.as_str();
        if self.kept().origin_is(origin) {
            return Ok(());
        }
        self.x(
            "UPDATE merchant SET origin = ? WHERE origin != ?",
            vec![origin.into(), origin.into()],
        )?;
        self.kept().keep_origin(origin);
        Ok(())
    }
}

impl MerchantDO {
    /// One request: a live socket, or a command.
    async fn serve(&self, mut req: Request) -> worker::Result<Response> {
        if req.path() == "/live" {
            return self.accept_live(&req);
        }
        if !super::protocol::speaks(req.headers().get(PROTOCOL_HEADER)?.as_deref()) {
            return failed(super::protocol::other_version()).into_response();
        }
        let Envelope { call, command } = match received(&mut req).await {
            Ok(envelope) => envelope,
            Err(e) => return failed(e).into_response(),
        };
        self.meter.requests.run();
        let ledger = self.ledger(call, &self.meter.requests);
        let outcome = match command {
            // Dev only (the route checks): what this object has asked of its SQLite so far.
            Command::ReadSqlMeter(r) => {
                let mut reading = self.meter.reading();
                reading.alarm_ms = self.state.storage().get_alarm().await?;
                return answer(&r, Ok(reading)).into_response();
            }
            // The commands that may await the network: the upstream's cashier, and the
            // merchant's close of an order handed to it (`merchant/upstream_close.rs`).
            Command::Cashier(c) => answer(&c, super::upstream::cashier(&ledger, &c).await),
            Command::Api(r) => api_answer(&r, ledger.api(&r).await),
            Command::V2(r) => answer(&r, ledger.v2(&r).await),
            // The test clock's walk closes what falls due: the upstream is asked first.
            // Once the walk is known to be allowed; every refund the upstream accepted is asked
            // about too.
            Command::AdvanceClock(a) => match ledger.atomically(|l| l.clock_walk(&a)) {
                Ok(ahead) => {
                    if let Err(e) = super::upstream_refunds::push_refunds(&ledger, true).await {
                        worker::console_error!("merchant upstream refunds: {e:?}");
                    }
                    match super::upstream_close::settle_expiring(&ledger, ahead).await {
                        Ok(()) => dispatch(&ledger, Command::AdvanceClock(a)),
                        Err(e) => failed(e),
                    }
                }
                Err(e) => failed(e),
            },
            command => {
                let creates = matches!(command, Command::CreateMerchant(_));
                let outcome = dispatch(&ledger, command);
                // A merchant created just now learns its origin: the operator's request.
                if creates {
                    let _ = ledger.remember_origin();
                }
                outcome
            }
        };
        if ledger.upstream_due.take() {
            if let Err(e) = super::upstream_refunds::push_refunds(&ledger, false).await {
                worker::console_error!("merchant upstream refunds: {e:?}");
            }
            // An order closed here is closed at the upstream too.
            if let Err(e) = super::upstream_close::settle_expiring(&ledger, 0).await {
                worker::console_error!("merchant upstream closes: {e:?}");
            }
        }
        self.broadcast(&ledger);
        let change = ledger.due_change.get();
        self.schedule_alarm(&self.meter.requests, change).await?;
        outcome.into_response()
    }

    /// A request to an object that held nothing and still holds no merchant (and no readiness
    /// probe, `routes/health.rs`): its tables go again, so a merchant id nobody created (any
    /// request can name one) never leaves storage behind. The next request makes them again.
    async fn forget_if_empty(&self) -> worker::Result<()> {
        if !self.fresh.get() || !self.schema.get() {
            return Ok(());
        }
        #[derive(Deserialize)]
        struct N {
            n: i64,
        }
        let held = self
            .sql
            .exec(
                "SELECT (SELECT COUNT(*) FROM merchant) + (SELECT COUNT(*) FROM storage_probe) AS n",
                None,
            )?
            .one::<N>()?
            .n;
        if held > 0 {
            self.fresh.set(false);
            return Ok(());
        }
        self.schema.set(false);
        self.kept.forget_merchant();
        self.kept.forget_audit_head();
        self.state.storage().delete_all().await
    }

    fn ledger<'a>(&'a self, call: Call, tally: &'a Tally) -> Ledger<'a> {
        Ledger::new(
            &self.sql,
            &self.env,
            self.state.storage(),
            call,
            tally,
            &self.kept,
        )
    }

    /// A pay page's live status socket for one order (hibernatable, tagged by order), told the
    /// order's current status at once.
    fn accept_live(&self, req: &Request) -> worker::Result<Response> {
        let (_, query) = crate::runtime::path_and_query(req);
        let otn = paydesk_shared::urlenc::query_param(&query, "otn").unwrap_or_default();
        let Ok(Some(order)) = self
            .ledger(alarm_call(String::new()), &self.meter.requests)
            .order(&otn)
        else {
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

    /// The alarm fires at the earliest pending deadline (order expiry, reminder, pending
    /// payment, notification retry), converted from the merchant's business time to real time.
    /// With the alarm known and the request's change to what falls due known too
    /// (`Ledger::due_change`), nothing needs reading: untouched, the alarm stays; one time
    /// added, the sooner of the two is the earliest.
    async fn schedule_alarm(&self, tally: &Tally, change: DueChange) -> worker::Result<()> {
        let known = self.alarm_at.take();
        let epoch = self.alarm_epoch.get() + 1;
        self.alarm_epoch.set(epoch);
        let next = match alarm_rules::next_without_reading(change, known) {
            Some(next) => next,
            None => self
                .ledger(alarm_call(String::new()), tally)
                .next_due_real_ms()
                .map_err(|e| worker::Error::RustError(format!("{e:?}")))?,
        };
        let storage = self.state.storage();
        let now = crate::runtime::now_ms();
        let want = alarm_rules::alarm_time(next, now);
        let current = match known {
            Some(set) => set,
            None => storage.get_alarm().await?,
        };
        if current != want {
            match want {
                Some(at) => {
                    storage
                        .set_alarm(worker::ScheduledTime::new(js_sys::Date::new(
                            &JsValue::from_f64(at as f64),
                        )))
                        .await?
                }
                None => storage.delete_alarm().await?,
            }
        }
        if self.alarm_epoch.get() == epoch {
            self.alarm_at.set(Some(want));
        }
        Ok(())
    }
}

/// The columns migration `version` adds (`ADDED_COLUMNS`) that the object does not have yet.
fn add_missing_columns(sql: &SqlStorage, version: u32) -> worker::Result<()> {
    #[derive(Deserialize)]
    struct N {
        n: i64,
    }
    for (_, table, column, decl) in ADDED_COLUMNS.iter().filter(|c| c.0 == version) {
        let have = sql
            .exec(
                "SELECT COUNT(*) AS n FROM pragma_table_info(?) WHERE name = ?",
                vec![(*table).into(), (*column).into()],
            )?
            .one::<N>()?
            .n;
        if have == 0 {
            sql.exec(
                &format!("ALTER TABLE {table} ADD COLUMN {column} {decl}"),
                None,
            )?;
        }
    }
    Ok(())
}

/// Applies the migrations this object has not applied yet, in one transaction each; `true` if
/// it had none (it held nothing).
fn migrate(sql: &SqlStorage) -> worker::Result<bool> {
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
            add_missing_columns(sql, *version)?;
            sql.exec(ddl, None)?;
            sql.exec(
                "INSERT INTO schema_migrations (version, applied_at_ms) VALUES (?, ?)",
                vec![i64::from(*version).into(), crate::runtime::now_ms().into()],
            )?;
        }
    }
    Ok(current == 0)
}
