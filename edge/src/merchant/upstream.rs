//! The WeChat Pay v2 upstream channel in the merchant's object: its configuration (the key
//! sealed with `DATA_KEYS`), the payer's hand-off to the upstream's cashier (`unifiedorder`,
//! and `orderquery` before any retry, so a payment is never started twice), the upstream's
//! payment notification, and refunds pushed to it. Requests to the upstream are made outside
//! any transaction (they await the network); what they change is committed in its own one.
//!
//! An attempt is recorded as `sent` before `unifiedorder` goes out: if the answer is lost (a
//! timeout, a restart), the next press of the pay button asks the upstream first.

use super::protocol::{Cashier, CashierReply, ChannelSummary, SetChannel, UpstreamNotify};
use super::risk::Payer;
use super::store::{Ledger, Merchant, Result};
use crate::channel::Instrument;
use crate::domain::limits;
use crate::domain::payment;
use crate::domain::risk_rules::{Action, Decision};
use crate::domain::sealing;
use crate::domain::state::Event;
use crate::domain::upstream_rules::{
    self as rules, AfterQuery, PaidReport, Trade, Unusable, Upstream, UpstreamOrder,
};
use crate::error::AppError;
use crate::runtime;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::time::format_rfc3339;
use paydesk_shared::OrderStatus;
use serde::Deserialize;
use worker::{Headers, Method, Request, RequestInit};

/// The channel name orders paid through it show.
pub const WECHAT_V2: &str = "wechat_v2";

fn aad(merchant_id: &str) -> Vec<u8> {
    sealing::aad::channel(merchant_id, WECHAT_V2)
}

#[derive(Deserialize)]
struct ChannelRow {
    mch_id: String,
    appid: String,
    base_url: String,
    key_sealed: String,
    key_masked: String,
    configured_at_ms: i64,
}

#[derive(Deserialize)]
struct Attempt {
    trade_type: String,
    cashier_url: Option<String>,
}

/// What the object decided to do for a press of the pay button, before the network.
struct Plan {
    up: Upstream,
    order: UpstreamOrder,
    /// An earlier attempt exists: ask the upstream first.
    earlier: Option<Attempt>,
    /// The merchant's risk rules, judged at the first hand-off: blocked, or to be reviewed
    /// once paid.
    verdict: Option<Decision>,
}

impl Ledger<'_> {
    /// `PUT /admin/merchants/{id}/channel`: checked whole, the key sealed; audited without it.
    pub fn set_channel(&self, m: &Merchant, s: &SetChannel) -> Result<ChannelSummary> {
        let c = &s.config;
        rules::check(c)?;
        let keys = runtime::data_keys(self.env)?;
        let sealed = sealing::seal(
            &keys,
            runtime::random_bytes(),
            &aad(m.id()),
            c.key.as_bytes(),
        )
        .map_err(AppError::internal)?;
        let now = self.now(m);
        self.x(
            "INSERT INTO upstream_channel (channel, mch_id, appid, base_url, key_sealed, key_masked, configured_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (channel) DO UPDATE SET mch_id = ?2, appid = ?3, base_url = ?4,
               key_sealed = ?5, key_masked = ?6, configured_at_ms = ?7",
            vec![
                WECHAT_V2.into(),
                c.mch_id.as_str().into(),
                c.appid.as_str().into(),
                c.base_url.as_str().into(),
                sealed.into(),
                rules::mask_key(&c.key).into(),
                now.into(),
            ],
        )?;
        let summary = self.channel_summary()?;
        let after = serde_json::to_string(&summary)?;
        self.audit(now, "admin", "merchant.channel", m.id(), "", &after)?;
        summary.ok_or_else(|| AppError::internal("a channel just set"))
    }

    fn channel_row(&self) -> Result<Option<ChannelRow>> {
        self.first(
            "SELECT * FROM upstream_channel WHERE channel = ?",
            vec![WECHAT_V2.into()],
        )
    }

    /// The configured upstream channel as shown (the key masked).
    pub fn channel_summary(&self) -> Result<Option<ChannelSummary>> {
        Ok(self.channel_row()?.map(|r| ChannelSummary {
            kind: WECHAT_V2.to_owned(),
            mch_id: r.mch_id,
            appid: r.appid,
            base_url: r.base_url,
            key: r.key_masked,
            configured_at: format_rfc3339(r.configured_at_ms),
        }))
    }

    /// The configured upstream, its key opened.
    pub fn upstream(&self, m: &Merchant) -> Result<Option<Upstream>> {
        let Some(r) = self.channel_row()? else {
            return Ok(None);
        };
        let keys = runtime::data_keys(self.env)?;
        let key = sealing::open(&keys, &aad(m.id()), &r.key_sealed)
            .map_err(|e| AppError::internal(format!("the channel key does not open: {e:?}")))?;
        Ok(Some(Upstream {
            mch_id: r.mch_id,
            appid: r.appid,
            base_url: r.base_url,
            key: String::from_utf8(key).map_err(|_| AppError::internal("channel key"))?,
        }))
    }

    /// Everything a press of the pay button must pass before the upstream is asked.
    fn plan_cashier(&self, c: &Cashier) -> Result<Plan> {
        let m = self.merchant_or_fail()?;
        let o = self.current_order(&m, &c.out_trade_no)?;
        payment::check_payable(o.status)?;
        self.refuse_if_frozen()?;
        m.may_collect()?;
        let Some(up) = self.upstream(&m)? else {
            return Err(AppError::code(
                ErrorCode::ChannelNotConfigured,
                "this merchant has no channel with a cashier",
            ));
        };
        let now = self.now(&m);
        let day = limits::merchant_day(now, m.config.utc_offset_minutes);
        let counted = self.paid_on(&day)? + self.handed_off_unpaid(&o.out_trade_no, now)?;
        limits::check_daily(m.daily_limit(), counted, o.amount_total as u64)?;
        let earlier: Option<Attempt> = self.first(
            "SELECT trade_type, cashier_url FROM upstream_payments WHERE out_trade_no = ?",
            vec![o.out_trade_no.as_str().into()],
        )?;
        let first = earlier.as_ref().map(|a| a.trade_type.as_str());
        let trade_type = rules::trade_type_of(first, &c.user_agent);
        let verdict = match &earlier {
            Some(_) => None,
            None => self.judge_handoff(&m, &o, c, now)?,
        };
        Ok(Plan {
            verdict,
            up,
            order: UpstreamOrder {
                out_trade_no: o.out_trade_no.clone(),
                total_fee: o.amount_total as u64,
                body: o.description.clone(),
                client_ip: c.client_ip.clone().unwrap_or_else(|| "127.0.0.1".into()),
                notify_url: format!("{}/channels/{WECHAT_V2}/notify/{}", m.row.origin, m.id()),
                trade_type,
            },
            earlier,
        })
    }

    /// What the orders handed to the upstream and still open (not paid, closed or past their
    /// deadline) could yet bring in, besides `except`. The upstream takes a payment without
    /// asking the ledger, so each hand-off counts against the daily limit until it settles:
    /// otherwise several orders handed off together could all be paid past the limit. Read
    /// through `orders_by_deadline`: the open orders, not the history.
    fn handed_off_unpaid(&self, except: &str, now: i64) -> Result<u64> {
        #[derive(Deserialize)]
        struct V {
            v: i64,
        }
        let v: Option<V> = self.first(
            "SELECT COALESCE(SUM(o.amount_total), 0) AS v FROM orders o
             WHERE o.status IN ('NOTPAY', 'USERPAYING') AND o.time_expire_ms > ?
               AND o.out_trade_no != ?
               AND EXISTS (SELECT 1 FROM upstream_payments u
                           WHERE u.out_trade_no = o.out_trade_no AND u.closed_at_ms IS NULL)",
            vec![now.into(), except.into()],
        )?;
        Ok(v.map_or(0, |v| v.v as u64))
    }

    /// A first hand-off is an attempt to pay, judged by the merchant's risk rules like a card's
    /// (the payer, the IP, the amount; the "card" is the order itself, so a QR page asking
    /// again is not counted). A block fails the attempt here, before the upstream sees it.
    fn judge_handoff(
        &self,
        m: &Merchant,
        o: &super::store::OrderRow,
        c: &Cashier,
        now: i64,
    ) -> Result<Option<Decision>> {
        let instrument = Instrument::Wallet(format!("{WECHAT_V2}:{}", o.out_trade_no));
        let who = Payer {
            payer_ref: o.payer_ref.as_deref(),
            instrument: &instrument,
            ip: c.client_ip.as_deref(),
        };
        let (_, decision) = self.judge(m, o, &who, now)?;
        if let Some(d) = decision.as_ref().filter(|d| d.action == Action::Block) {
            self.blocked(m, o, d, now)?;
        }
        Ok(decision.filter(|d| d.action != Action::Allow))
    }

    /// The upstream says the order was paid: the order is paid here, once (a repeated
    /// notification, or a query after one, changes nothing).
    pub fn upstream_paid(&self, otn: &str, paid: &Trade, actor: &str) -> Result<()> {
        let Trade::Paid {
            transaction_id,
            total_fee,
        } = paid
        else {
            return Ok(());
        };
        let m = self.merchant_or_fail()?;
        let o = self.order_or_fail(otn)?;
        let now = self.now(&m);
        let report = rules::paid_report(o.status, o.amount_total as u64, *total_fee);
        if report == PaidReport::AlreadyPaid {
            return Ok(());
        }
        if report == PaidReport::Mismatch {
            // Money moved upstream that this order cannot take: staff must see it.
            let detail = format!(
                "{otn}: the upstream reports {total_fee} fen paid (transaction {transaction_id}) \
                 for an order of {} fen in state {}; settle it at the upstream",
                o.amount_total,
                o.status.as_str()
            );
            self.raise_alert(
                "settlement.anomaly",
                &format!("mismatch:{otn}"),
                &detail,
                now,
            )?;
            return self.audit(now, actor, "channel.mismatch", otn, "", &detail);
        }
        self.apply(&o, Event::StartPay, now, actor)?;
        self.handoff_paid(otn)?;
        let day = limits::merchant_day(now, m.config.utc_offset_minutes);
        self.reserve_daily(&day, o.amount_total as u64)?;
        self.x(
            "UPDATE orders SET channel = ? WHERE out_trade_no = ?",
            vec![WECHAT_V2.into(), otn.into()],
        )?;
        self.x(
            "UPDATE upstream_payments SET upstream_transaction_id = ? WHERE out_trade_no = ?",
            vec![transaction_id.as_str().into(), otn.into()],
        )?;
        let o = self.order_or_fail(otn)?;
        if let Some(d) = self.handoff_review(otn)? {
            self.open_review(&m, &o, &d, now)?;
        }
        self.settle_paid(&m, &o, now, actor)
    }

    /// The review a rule asked for at the hand-off, opened when the payment arrives.
    fn handoff_review(&self, otn: &str) -> Result<Option<Decision>> {
        #[derive(Deserialize)]
        struct R {
            review_json: Option<String>,
        }
        let r: Option<R> = self.first(
            "SELECT review_json FROM upstream_payments WHERE out_trade_no = ?",
            vec![otn.into()],
        )?;
        match r.and_then(|r| r.review_json) {
            Some(j) => Ok(Some(crate::json_text::from_text(&j)?)),
            None => Ok(None),
        }
    }

    fn attempt_sent(&self, otn: &str, trade_type: &str, review: Option<&Decision>) -> Result<()> {
        let now = self.real_now();
        let review = review.map(serde_json::to_string).transpose()?;
        self.x(
            "INSERT INTO upstream_payments (out_trade_no, sent_at_ms, trade_type, review_json)
             VALUES (?, ?, ?, ?)
             ON CONFLICT (out_trade_no) DO UPDATE SET sent_at_ms = excluded.sent_at_ms",
            vec![otn.into(), now.into(), trade_type.into(), review.into()],
        )
    }

    /// The cashier the upstream opened, kept for the next press; `false` if the order closed
    /// here while the upstream was opening it (its hand-off is then opened again, to be
    /// closed there before anyone pays it).
    fn cashier_opened(&self, otn: &str, url: &str) -> Result<bool> {
        self.x(
            "UPDATE upstream_payments SET cashier_url = ? WHERE out_trade_no = ?",
            vec![url.into(), otn.into()],
        )?;
        if self.order_or_fail(otn)?.status == OrderStatus::Closed {
            self.handoff_reopened(otn)?;
            return Ok(false);
        }
        Ok(true)
    }

    /// `POST /channels/wechat_v2/notify/{merchant_id}`: the upstream's payment notification,
    /// answered in its protocol (`SUCCESS` once used, `FAIL` if it cannot be trusted).
    pub fn upstream_notify(&self, n: &UpstreamNotify) -> Result<String> {
        let m = self.merchant_or_fail()?;
        let Some(up) = self.upstream(&m)? else {
            return Ok(crate::domain::v2::return_fail("no channel is configured"));
        };
        let p = match up.read(&n.body) {
            Ok(p) => p,
            Err(e) => return Ok(crate::domain::v2::return_fail(&format!("{e:?}"))),
        };
        let otn = p.get("out_trade_no").unwrap_or_default().to_owned();
        if self.order(&otn)?.is_none() {
            return Ok(crate::domain::v2::return_fail("no such order"));
        }
        self.upstream_paid(&otn, &rules::trade(&p), "channel:notify")?;
        Ok(paydesk_shared::v2xml::write(&[
            ("return_code", "SUCCESS"),
            ("return_msg", "OK"),
        ]))
    }
}

/// A press of the pay button for an upstream merchant: where to send the payer. An earlier
/// attempt is asked about first: paid, the order is paid here too; still open, the same
/// cashier; unknown, nothing new is started.
pub async fn cashier(l: &Ledger<'_>, c: &Cashier) -> Result<CashierReply> {
    let plan = l.atomically(|l| l.plan_cashier(c))?;
    let otn = plan.order.out_trade_no.clone();
    let qr = plan.order.trade_type == rules::NATIVE;
    if let Some(earlier) = &plan.earlier {
        let (url, body) = plan.up.order_query(&otn, &runtime::random_hex(16));
        let trade = ask(&plan.up, &url, &body).await.map(|p| rules::trade(&p))?;
        match rules::after_query(&trade, earlier.cashier_url.as_deref()) {
            AfterQuery::Paid => {
                l.atomically(|l| l.upstream_paid(&otn, &trade, "channel:orderquery"))?;
                return Ok(CashierReply { url: None, qr });
            }
            AfterQuery::Reopen(url) => {
                let url = Some(url.to_owned());
                return Ok(CashierReply { url, qr });
            }
            AfterQuery::Over => {
                return Err(AppError::code(
                    ErrorCode::PaymentFailed,
                    "the upstream closed this payment; the merchant must create a new order",
                ))
            }
            AfterQuery::Start => {}
        }
    }
    let review = match &plan.verdict {
        Some(d) if d.action == Action::Block => {
            return Err(AppError::code(
                ErrorCode::PaymentFailed,
                "the merchant's risk checks stopped this payment; nothing was charged",
            ))
        }
        review => review.as_ref(),
    };
    l.atomically(|l| l.attempt_sent(&otn, plan.order.trade_type, review))?;
    let (url, body) = plan.up.unified_order(&plan.order, &runtime::random_hex(16));
    let p = ask(&plan.up, &url, &body).await?;
    if p.get("result_code") != Some("SUCCESS") {
        let why = p
            .get("err_code_des")
            .or(p.get("err_code"))
            .unwrap_or("refused");
        return Err(AppError::code(
            ErrorCode::PaymentFailed,
            format!("the upstream refused the payment: {why}"),
        ));
    }
    let field = if qr { "code_url" } else { "mweb_url" };
    let cashier = p.get(field).unwrap_or_default().to_owned();
    let scheme_ok = ["https://", "http://", "weixin://"];
    if !scheme_ok.iter().any(|s| cashier.starts_with(s)) {
        return Err(AppError::internal(
            "the upstream answered without a cashier URL",
        ));
    }
    if !l.atomically(|l| l.cashier_opened(&otn, &cashier))? {
        // Closed there once this request has answered (`upstream_due`, `merchant/object.rs`).
        return Err(AppError::code(
            ErrorCode::OrderClosed,
            "the order was closed as the payment was being opened; nothing was charged",
        ));
    }
    Ok(CashierReply {
        url: Some(cashier),
        qr,
    })
}

/// One request to the upstream, its answer verified. A timeout or an unreadable answer is
/// `SYSTEM_ERROR` (try again later: the next press asks first).
pub async fn ask(up: &Upstream, url: &str, body: &str) -> Result<crate::domain::v2::Params> {
    let text = post_xml(url, body).await?;
    up.read(&text).map_err(|e| match e {
        Unusable::Refused(msg) => AppError::code(
            ErrorCode::PaymentFailed,
            format!("the upstream refused the request: {msg}"),
        ),
        other => AppError::internal(format!("the upstream's answer is unusable: {other:?}")),
    })
}

async fn post_xml(url: &str, body: &str) -> Result<String> {
    let headers = Headers::new();
    headers.set("Content-Type", "text/xml; charset=utf-8")?;
    headers.set("User-Agent", "paydesk-channel/1")?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.into()));
    init.with_redirect(worker::RequestRedirect::Manual);
    let req = Request::new_with_init(url, &init)?;
    let Some(mut resp) = runtime::send_within(req, rules::TIMEOUT_MS).await? else {
        return Err(AppError::internal(format!(
            "the upstream did not answer within {} ms",
            rules::TIMEOUT_MS
        )));
    };
    if resp.status_code() != 200 {
        return Err(AppError::internal(format!(
            "the upstream answered HTTP {}",
            resp.status_code()
        )));
    }
    Ok(resp.text().await?)
}
