//! The WeChat Pay v2 upstream channel in pure terms: its configuration, the requests paydesk
//! sends (`unifiedorder`, `orderquery`, `refund`), and how an answer or a notification is
//! read. Nothing is trusted unsigned: an answer or a notification counts only when its `sign`
//! verifies under the configured key and it names the configured `mch_id` and `appid`.

use super::refusal::Refusal;
use super::v2::Params;
use paydesk_shared::sign::params::{self as v2sign, SignType};
use paydesk_shared::OrderStatus;
use serde::{Deserialize, Serialize};

/// A QR code the payer scans with WeChat (a desktop browser).
pub const NATIVE: &str = "NATIVE";
/// The upstream's cashier page, opened in a mobile browser.
pub const MWEB: &str = "MWEB";

/// Which hand-off suits the payer's browser: a phone opens the cashier (MWEB), anything else
/// shows a QR code to scan with the phone (NATIVE).
pub fn trade_type_for(user_agent: &str) -> &'static str {
    let mobile = ["Mobile", "Android", "iPhone", "iPad", "MicroMessenger"];
    if mobile.iter().any(|m| user_agent.contains(m)) {
        MWEB
    } else {
        NATIVE
    }
}

/// How long paydesk waits for the upstream to answer.
pub const TIMEOUT_MS: u64 = 5_000;

/// `PUT /admin/merchants/{id}/channel`: the upstream account the merchant is paid through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    /// `wechat_v2`, the only real channel so far.
    #[serde(rename = "type")]
    pub kind: String,
    pub mch_id: String,
    pub appid: String,
    /// The API key the upstream signs with (sealed at rest, shown masked).
    pub key: String,
    /// `https://api.mch.weixin.qq.com`, or any server speaking the dialect (another paydesk).
    pub base_url: String,
}

fn id_like(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Whether `base_url` may be used: https, or http to this machine (local development).
fn base_url_ok(u: &str) -> bool {
    let local = ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"];
    let scheme_ok = u.starts_with("https://") || local.iter().any(|p| u.starts_with(p));
    scheme_ok && !u.ends_with('/') && u.len() <= 200 && !u.contains(['?', '#', ' ', '"', '<', '>'])
}

pub fn check(c: &ChannelConfig) -> Result<(), Refusal> {
    if c.kind != "wechat_v2" {
        return Err(Refusal::param("type", "the only channel type is wechat_v2"));
    }
    if !id_like(&c.mch_id) {
        return Err(Refusal::param(
            "mch_id",
            "mch_id is 1-32 letters, digits, _ or -",
        ));
    }
    if !id_like(&c.appid) {
        return Err(Refusal::param(
            "appid",
            "appid is 1-32 letters, digits, _ or -",
        ));
    }
    let key_ok = (16..=128).contains(&c.key.len()) && c.key.bytes().all(|b| b.is_ascii_graphic());
    if !key_ok {
        return Err(Refusal::param(
            "key",
            "key is 16-128 printable ASCII characters",
        ));
    }
    if !base_url_ok(&c.base_url) {
        return Err(Refusal::param(
            "base_url",
            "base_url is https://host[:port][/path] without a trailing slash (http only to 127.0.0.1 or localhost)",
        ));
    }
    Ok(())
}

/// The key as shown: its last four characters.
pub fn mask_key(key: &str) -> String {
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("****{tail}")
}

/// The upstream as paydesk uses it (the key opened).
#[derive(Debug, Clone)]
pub struct Upstream {
    pub mch_id: String,
    pub appid: String,
    pub key: String,
    pub base_url: String,
}

type Fields = Vec<(String, String)>;

fn f(k: &str, v: impl Into<String>) -> (String, String) {
    (k.to_owned(), v.into())
}

impl Upstream {
    fn envelope(&self, nonce: &str) -> Fields {
        vec![
            f("appid", self.appid.as_str()),
            f("mch_id", self.mch_id.as_str()),
            f("nonce_str", nonce),
            f("sign_type", "HMAC-SHA256"),
        ]
    }

    fn document(&self, fields: Fields) -> String {
        super::v2::signed_document(fields, &self.key, SignType::HmacSha256)
    }

    /// `POST {base}/pay/unifiedorder`, MWEB (a mobile browser is sent to the upstream's
    /// cashier) or NATIVE (a QR code).
    pub fn unified_order(&self, o: &UpstreamOrder, nonce: &str) -> (String, String) {
        let mut fields = self.envelope(nonce);
        fields.extend([
            f("body", o.body.chars().take(120).collect::<String>()),
            f("out_trade_no", o.out_trade_no.as_str()),
            f("total_fee", o.total_fee.to_string()),
            f("spbill_create_ip", o.client_ip.as_str()),
            f("notify_url", o.notify_url.as_str()),
            f("trade_type", o.trade_type),
        ]);
        if o.trade_type == NATIVE {
            // Required for NATIVE: what the QR code sells; the order number says it.
            fields.push(f(
                "product_id",
                o.out_trade_no.chars().take(32).collect::<String>(),
            ));
        }
        (
            format!("{}/pay/unifiedorder", self.base_url),
            self.document(fields),
        )
    }

    /// `POST {base}/pay/orderquery`.
    pub fn order_query(&self, out_trade_no: &str, nonce: &str) -> (String, String) {
        let mut fields = self.envelope(nonce);
        fields.push(f("out_trade_no", out_trade_no));
        (
            format!("{}/pay/orderquery", self.base_url),
            self.document(fields),
        )
    }

    /// `POST {base}/pay/closeorder`: the payer can no longer pay it at the cashier.
    pub fn close_order(&self, out_trade_no: &str, nonce: &str) -> (String, String) {
        let mut fields = self.envelope(nonce);
        fields.push(f("out_trade_no", out_trade_no));
        (
            format!("{}/pay/closeorder", self.base_url),
            self.document(fields),
        )
    }

    /// `POST {base}/pay/refundquery` of one refund: whether an accepted refund reached the payer.
    pub fn refund_query(&self, out_refund_no: &str, nonce: &str) -> (String, String) {
        let mut fields = self.envelope(nonce);
        fields.push(f("out_refund_no", out_refund_no));
        (
            format!("{}/pay/refundquery", self.base_url),
            self.document(fields),
        )
    }

    /// `POST {base}/secapi/pay/refund`.
    pub fn refund(&self, r: &UpstreamRefund, nonce: &str) -> (String, String) {
        let mut fields = self.envelope(nonce);
        fields.extend([
            f("out_trade_no", r.out_trade_no.as_str()),
            f("out_refund_no", r.out_refund_no.as_str()),
            f("total_fee", r.total_fee.to_string()),
            f("refund_fee", r.refund_fee.to_string()),
        ]);
        (
            format!("{}/secapi/pay/refund", self.base_url),
            self.document(fields),
        )
    }

    /// A document from the upstream (an answer or a notification), verified: signed with the
    /// configured key, naming the configured merchant and app.
    pub fn read(&self, body: &str) -> Result<Params, Unusable> {
        let p = Params(paydesk_shared::v2xml::parse(body.trim()).map_err(|_| Unusable::NotXml)?);
        if p.get("return_code") != Some("SUCCESS") {
            let msg = p.get("return_msg").unwrap_or("return_code is not SUCCESS");
            return Err(Unusable::Refused(msg.to_owned()));
        }
        let st = match p.get("sign_type") {
            Some("HMAC-SHA256") => SignType::HmacSha256,
            Some("MD5") | None => {
                // Answers carry no sign_type; they are signed as the request was.
                let md5 = v2sign::verify(
                    p.pairs(),
                    &self.key,
                    SignType::Md5,
                    p.get("sign").unwrap_or(""),
                );
                if md5 {
                    SignType::Md5
                } else {
                    SignType::HmacSha256
                }
            }
            Some(_) => return Err(Unusable::BadSign),
        };
        if !v2sign::verify(p.pairs(), &self.key, st, p.get("sign").unwrap_or("")) {
            return Err(Unusable::BadSign);
        }
        if p.get("mch_id") != Some(self.mch_id.as_str())
            || p.get("appid") != Some(self.appid.as_str())
        {
            return Err(Unusable::NotOurs);
        }
        Ok(p)
    }
}

/// Why an upstream document was not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    NotXml,
    Refused(String),
    BadSign,
    NotOurs,
}

pub struct UpstreamOrder {
    pub out_trade_no: String,
    pub total_fee: u64,
    pub body: String,
    pub client_ip: String,
    pub notify_url: String,
    pub trade_type: &'static str,
}

pub struct UpstreamRefund {
    pub out_trade_no: String,
    pub out_refund_no: String,
    pub total_fee: u64,
    pub refund_fee: u64,
}

/// What the upstream says of an order (an `orderquery` answer or a notification).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trade {
    Paid {
        transaction_id: String,
        total_fee: u64,
    },
    /// Not paid yet: the payer may still pay at the cashier.
    NotPaid,
    /// The upstream has no such order.
    NotExist,
    /// Closed, failed or revoked: it will not be paid.
    Over,
}

/// Reads a verified `orderquery` answer or payment notification.
pub fn trade(p: &Params) -> Trade {
    if p.get("result_code") != Some("SUCCESS") {
        return match p.get("err_code") {
            Some("ORDERNOTEXIST") => Trade::NotExist,
            _ => Trade::NotPaid,
        };
    }
    // A notification has no trade_state: it is sent only for a payment.
    match p.get("trade_state").unwrap_or("SUCCESS") {
        "SUCCESS" | "REFUND" => Trade::Paid {
            transaction_id: p.get("transaction_id").unwrap_or_default().to_owned(),
            total_fee: p.get("total_fee").and_then(|v| v.parse().ok()).unwrap_or(0),
        },
        "NOTPAY" | "USERPAYING" => Trade::NotPaid,
        _ => Trade::Over,
    }
}

/// The trade type of a press of the pay button: the first hand-off's (the upstream takes an
/// order number with one trade type), else the one the payer's browser suits.
pub fn trade_type_of(earlier: Option<&str>, user_agent: &str) -> &'static str {
    match earlier {
        Some(NATIVE) => NATIVE,
        Some(_) => MWEB,
        None => trade_type_for(user_agent),
    }
}

/// What a press does once the upstream was asked about the order's earlier hand-off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterQuery<'a> {
    /// Paid there: pay it here.
    Paid,
    /// Still open at its cashier: send the payer there again.
    Reopen(&'a str),
    /// Closed or failed there: it cannot be paid any more.
    Over,
    /// Not there (the answer that created it was lost before it was), or its cashier is not
    /// known: start it (`unifiedorder` of the same order answers the same one).
    Start,
}

pub fn after_query<'a>(trade: &Trade, cashier_url: Option<&'a str>) -> AfterQuery<'a> {
    match (trade, cashier_url) {
        (Trade::Paid { .. }, _) => AfterQuery::Paid,
        (Trade::NotPaid, Some(url)) => AfterQuery::Reopen(url),
        (Trade::Over, _) => AfterQuery::Over,
        _ => AfterQuery::Start,
    }
}

/// What the upstream's report of a payment means for the order here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaidReport {
    /// Paid here already (a repeated notification, or a query after one): nothing to do.
    AlreadyPaid,
    /// Money this order cannot take (another amount, or the order is closed): staff must
    /// settle it at the upstream.
    Mismatch,
    Pay,
}

pub fn paid_report(status: OrderStatus, amount: u64, total_fee: u64) -> PaidReport {
    match status {
        OrderStatus::Success | OrderStatus::Refund => PaidReport::AlreadyPaid,
        OrderStatus::Closed => PaidReport::Mismatch,
        _ if total_fee != amount => PaidReport::Mismatch,
        _ => PaidReport::Pay,
    }
}

/// Whether an answer to `closeorder` closed the order there (or it was closed already); an
/// `ORDERPAID` or a passing error leaves the hand-off open, to be asked again.
pub fn closed(p: &Params) -> bool {
    p.get("result_code") == Some("SUCCESS") || p.get("err_code") == Some("ORDERCLOSED")
}

/// What the upstream's answer to a refund means for the refund here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundAnswer {
    /// Accepted: its outcome is asked for next (`refund_outcome`).
    Accepted,
    /// Refused for good: the refund closes and the money stays paid.
    Refused,
    /// Not taken this time (`SYSTEMERROR`, `BIZERR_NEED_RETRY`, `FREQUENCY_LIMITED`): the v2 API
    /// asks for the same `out_refund_no` again later, so the refund stays pending.
    AskAgain,
}

/// What the upstream's `refundquery` says of a refund it accepted: `result_code` SUCCESS on
/// `secapi/pay/refund` only means the refund was taken; its outcome comes later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundOutcome {
    /// The money reached the payer (`SUCCESS`): the refund succeeds here.
    Succeeded,
    /// It never will (`REFUNDCLOSE`): the refund fails here, the money stays paid.
    Failed,
    /// It left the merchant's account but did not reach the payer (`CHANGE`: the payer's card
    /// refused it): settled by hand at the upstream, so it stays in progress here (never
    /// refundable twice) and staff are told.
    Stuck,
    /// Not yet (`PROCESSING`), or no readable answer: asked again later.
    Processing,
}

/// Reads a verified answer to `refundquery` of one `out_refund_no`.
pub fn refund_outcome(p: &Params) -> RefundOutcome {
    if p.get("result_code") != Some("SUCCESS") {
        return RefundOutcome::Processing;
    }
    match p.get("refund_status_0") {
        Some("SUCCESS") => RefundOutcome::Succeeded,
        Some("REFUNDCLOSE") => RefundOutcome::Failed,
        Some("CHANGE") => RefundOutcome::Stuck,
        _ => RefundOutcome::Processing,
    }
}

/// When a refund the upstream accepted at `accepted_ms` is asked about again after an answer
/// at `now_ms` said not yet: every minute for its first ten minutes, every ten minutes for its
/// first day, then every hour (a refund to a bank card may take days).
pub fn refund_query_after(accepted_ms: i64, now_ms: i64) -> i64 {
    const MINUTE: i64 = 60_000;
    let age = now_ms - accepted_ms;
    let wait = if age < 10 * MINUTE {
        MINUTE
    } else if age < 24 * 60 * MINUTE {
        10 * MINUTE
    } else {
        60 * MINUTE
    };
    now_ms + wait
}

/// Reads a verified answer to `secapi/pay/refund`.
pub fn refund_answer(p: &Params) -> RefundAnswer {
    if p.get("result_code") == Some("SUCCESS") {
        return RefundAnswer::Accepted;
    }
    match p.get("err_code") {
        Some("SYSTEMERROR" | "BIZERR_NEED_RETRY" | "FREQUENCY_LIMITED") => RefundAnswer::AskAgain,
        _ => RefundAnswer::Refused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(fields: &[(&str, &str)]) -> Params {
        let pairs = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
        Params(pairs.collect())
    }

    #[test]
    fn a_refund_answer_is_accepted_refused_or_asked_again() {
        let answer = |fields: &[(&str, &str)]| refund_answer(&params(fields));
        assert_eq!(
            answer(&[("result_code", "SUCCESS")]),
            RefundAnswer::Accepted
        );
        for code in ["SYSTEMERROR", "BIZERR_NEED_RETRY", "FREQUENCY_LIMITED"] {
            let fail = [("result_code", "FAIL"), ("err_code", code)];
            assert_eq!(answer(&fail), RefundAnswer::AskAgain, "{code}");
        }
        let refused = [("result_code", "FAIL"), ("err_code", "NOTENOUGH")];
        assert_eq!(answer(&refused), RefundAnswer::Refused);
        assert_eq!(answer(&[("result_code", "FAIL")]), RefundAnswer::Refused);
    }

    #[test]
    fn an_accepted_refund_succeeds_only_once_the_upstream_says_it_reached_the_payer() {
        let outcome = |fields: &[(&str, &str)]| refund_outcome(&params(fields));
        let ok = |status| [("result_code", "SUCCESS"), ("refund_status_0", status)];
        assert_eq!(outcome(&ok("SUCCESS")), RefundOutcome::Succeeded);
        assert_eq!(outcome(&ok("REFUNDCLOSE")), RefundOutcome::Failed);
        assert_eq!(outcome(&ok("CHANGE")), RefundOutcome::Stuck);
        assert_eq!(outcome(&ok("PROCESSING")), RefundOutcome::Processing);
        let unknown = [("result_code", "FAIL"), ("err_code", "SYSTEMERROR")];
        assert_eq!(outcome(&unknown), RefundOutcome::Processing);
        assert_eq!(
            outcome(&[("result_code", "SUCCESS")]),
            RefundOutcome::Processing
        );
        let min = 60_000;
        assert_eq!(refund_query_after(0, 5 * min), 6 * min);
        assert_eq!(refund_query_after(0, 11 * min), 21 * min);
        assert_eq!(refund_query_after(0, 25 * 60 * min), 26 * 60 * min);
        let (url, body) = up().refund_query("R1", "n1");
        assert!(url.ends_with("/pay/refundquery"));
        assert!(
            body.contains("<out_refund_no><![CDATA[R1]]></out_refund_no>"),
            "{body}"
        );
    }

    fn up() -> Upstream {
        Upstream {
            mch_id: "1900000109".into(),
            appid: "wx2421b1c4370ec43b".into(),
            key: "192006250b4c09247ec02edce69f6a2d".into(),
            base_url: "https://api.mch.weixin.qq.com".into(),
        }
    }

    fn answer(u: &Upstream, extra: &[(&str, &str)]) -> String {
        let mut fields: Fields = vec![
            f("return_code", "SUCCESS"),
            f("appid", u.appid.as_str()),
            f("mch_id", u.mch_id.as_str()),
            f("nonce_str", "n1"),
            f("result_code", "SUCCESS"),
        ];
        fields.extend(extra.iter().map(|(k, v)| f(k, *v)));
        super::super::v2::signed_document(fields, &u.key, SignType::HmacSha256)
    }

    #[test]
    fn configs_are_checked() {
        let good = ChannelConfig {
            kind: "wechat_v2".into(),
            mch_id: "1900000109".into(),
            appid: "wx2421b1c4370ec43b".into(),
            key: "192006250b4c09247ec02edce69f6a2d".into(),
            base_url: "https://api.mch.weixin.qq.com".into(),
        };
        assert_eq!(check(&good), Ok(()));
        let param = |f: &dyn Fn(&mut ChannelConfig)| {
            let mut c = good.clone();
            f(&mut c);
            check(&c).unwrap_err().param.unwrap()
        };
        assert_eq!(param(&|c| c.kind = "alipay".into()), "type");
        assert_eq!(
            param(&|c| c.base_url = "http://api.example.com".into()),
            "base_url"
        );
        assert_eq!(
            param(&|c| c.base_url = "https://api.example.com/".into()),
            "base_url"
        );
        assert_eq!(param(&|c| c.key = "short".into()), "key");
        assert_eq!(param(&|c| c.mch_id = "a b".into()), "mch_id");
        let mut local = good.clone();
        local.base_url = "http://127.0.0.1:8787".into();
        assert_eq!(
            check(&local),
            Ok(()),
            "plain http to this machine, for development"
        );
        assert_eq!(mask_key(&good.key), "****6a2d");
    }

    #[test]
    fn requests_are_signed_with_the_key() {
        let u = up();
        let (url, body) = u.order_query("T1", "abc");
        assert_eq!(url, "https://api.mch.weixin.qq.com/pay/orderquery");
        let p = Params(paydesk_shared::v2xml::parse(&body).unwrap());
        assert!(v2sign::verify(
            p.pairs(),
            &u.key,
            SignType::HmacSha256,
            p.get("sign").unwrap()
        ));
        assert_eq!(p.get("out_trade_no"), Some("T1"));
        let o = UpstreamOrder {
            out_trade_no: "T1".into(),
            total_fee: 1234,
            body: "x".repeat(200),
            client_ip: "1.2.3.4".into(),
            notify_url: "https://pay.example/n".into(),
            trade_type: "MWEB",
        };
        let (_, body) = u.unified_order(&o, "abc");
        let p = Params(paydesk_shared::v2xml::parse(&body).unwrap());
        assert_eq!(
            (p.get("total_fee"), p.get("trade_type")),
            (Some("1234"), Some("MWEB"))
        );
        assert_eq!(p.get("product_id"), None);
        let native = UpstreamOrder {
            trade_type: NATIVE,
            ..o
        };
        let (_, body) = u.unified_order(&native, "abc");
        let p = Params(paydesk_shared::v2xml::parse(&body).unwrap());
        assert_eq!(
            (p.get("trade_type"), p.get("product_id")),
            (Some("NATIVE"), Some("T1"))
        );
        assert_eq!(
            trade_type_for("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)"),
            MWEB
        );
        assert_eq!(
            trade_type_for("Mozilla/5.0 (X11; Linux x86_64) Chrome/120"),
            NATIVE
        );
        assert_eq!(p.get("body").unwrap().chars().count(), 120);
    }

    #[test]
    fn only_signed_documents_of_our_account_are_read() {
        let u = up();
        let paid = answer(
            &u,
            &[
                ("trade_state", "SUCCESS"),
                ("transaction_id", "42"),
                ("total_fee", "100"),
            ],
        );
        let p = u.read(&paid).unwrap();
        assert_eq!(
            trade(&p),
            Trade::Paid {
                transaction_id: "42".into(),
                total_fee: 100
            }
        );
        let forged = paid.replace("<total_fee>100</total_fee>", "<total_fee>1</total_fee>");
        assert_eq!(u.read(&forged).unwrap_err(), Unusable::BadSign);
        let other = Upstream {
            key: "another key of thirty-two chars!".into(),
            ..up()
        };
        assert_eq!(other.read(&answer(&other, &[])).map(|_| ()), Ok(()));
        assert_eq!(
            u.read(&answer(&other, &[])).unwrap_err(),
            Unusable::BadSign,
            "another key"
        );
        let mut same_key = up();
        same_key.mch_id = "1900000999".into();
        assert_eq!(
            u.read(&answer(&same_key, &[])).unwrap_err(),
            Unusable::NotOurs
        );
        let refused = "<xml><return_code>FAIL</return_code><return_msg>签名错误</return_msg></xml>";
        assert_eq!(
            u.read(refused).unwrap_err(),
            Unusable::Refused("签名错误".into())
        );
        assert_eq!(u.read("<html>").unwrap_err(), Unusable::NotXml);
    }

    #[test]
    fn a_press_after_an_earlier_hand_off() {
        let paid = Trade::Paid {
            transaction_id: "42".into(),
            total_fee: 1,
        };
        assert_eq!(after_query(&paid, None), AfterQuery::Paid);
        assert_eq!(
            after_query(&Trade::NotPaid, Some("u")),
            AfterQuery::Reopen("u")
        );
        assert_eq!(
            after_query(&Trade::NotPaid, None),
            AfterQuery::Start,
            "its answer was lost"
        );
        assert_eq!(after_query(&Trade::NotExist, Some("u")), AfterQuery::Start);
        assert_eq!(after_query(&Trade::Over, Some("u")), AfterQuery::Over);
        let desktop = "Mozilla/5.0 (X11; Linux x86_64)";
        assert_eq!(trade_type_of(None, desktop), NATIVE);
        assert_eq!(
            trade_type_of(Some(MWEB), desktop),
            MWEB,
            "the first hand-off decides"
        );
        assert_eq!(trade_type_of(Some(NATIVE), "iPhone"), NATIVE);
    }

    #[test]
    fn a_reported_payment_is_taken_once_and_only_at_the_orders_amount() {
        use OrderStatus::*;
        assert_eq!(paid_report(NotPay, 100, 100), PaidReport::Pay);
        assert_eq!(paid_report(PayError, 100, 100), PaidReport::Pay);
        assert_eq!(paid_report(NotPay, 100, 1), PaidReport::Mismatch);
        assert_eq!(paid_report(Closed, 100, 100), PaidReport::Mismatch);
        assert_eq!(paid_report(Success, 100, 100), PaidReport::AlreadyPaid);
        assert_eq!(paid_report(Refund, 100, 1), PaidReport::AlreadyPaid);
    }

    #[test]
    fn trade_states() {
        let u = up();
        let read = |extra: &[(&str, &str)]| trade(&u.read(&answer(&u, extra)).unwrap());
        assert_eq!(read(&[("trade_state", "NOTPAY")]), Trade::NotPaid);
        assert_eq!(read(&[("trade_state", "CLOSED")]), Trade::Over);
        let not_exist = u.read(&answer(&u, &[])).unwrap();
        let mut p = not_exist.clone();
        p.0.retain(|(k, _)| k != "result_code");
        p.0.push(("result_code".into(), "FAIL".into()));
        p.0.push(("err_code".into(), "ORDERNOTEXIST".into()));
        assert_eq!(trade(&p), Trade::NotExist);
    }
}
