//! JSON for the pay page's wasm without serde: a small parser into [`Json`], the decoding of
//! the few shared types the page reads ([`Decode`]), and the one request body it sends. The
//! contract page reads its inlined data with the same parser (`contract/data.rs`).
//! serde_json's parser, serde's derived visitors and the error messages (with their float
//! formatting) that come with them were most of the page's wasm. The decoders follow the shared
//! types' serde attributes field by field (a default where serde has one, `null` as `None`), and
//! the tests read what serde_json writes, so the page reads exactly what the worker sends. The
//! page's data has no fractional numbers: one is refused like any other bad input.

use paydesk_shared::api::{NextStep, PayMethod, PayRequest, PayResult};
use paydesk_shared::installment::PartOfPlan;
use paydesk_shared::money::Currency;
use paydesk_shared::{
    Branding, CheckoutView, Money, OrderStatus, PayOutcome, PayPageData, RenderSeed,
};

/// A parsed JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

/// `text` read as a `T`; `None` for anything that is not valid JSON of that shape.
pub fn from_str<T: Decode>(text: &str) -> Option<T> {
    T::decode(&parse(text)?)
}

/// `text` as a JSON value; `None` if it is not one whole JSON document.
pub fn parse(text: &str) -> Option<Json> {
    let mut p = Parser {
        b: text.as_bytes(),
        at: 0,
    };
    let v = p.value(0)?;
    p.ws();
    (p.at == p.b.len()).then_some(v)
}

/// Nesting deeper than this is refused, so hostile input cannot exhaust the stack.
const MAX_DEPTH: u32 = 64;

struct Parser<'a> {
    b: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.at < self.b.len() && matches!(self.b[self.at], b' ' | b'\t' | b'\n' | b'\r') {
            self.at += 1;
        }
    }

    fn eat(&mut self, lit: &[u8]) -> Option<()> {
        self.b[self.at..]
            .starts_with(lit)
            .then(|| self.at += lit.len())
    }

    fn value(&mut self, depth: u32) -> Option<Json> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        Some(match *self.b.get(self.at)? {
            b'n' => self.eat(b"null").map(|_| Json::Null)?,
            b't' => self.eat(b"true").map(|_| Json::Bool(true))?,
            b'f' => self.eat(b"false").map(|_| Json::Bool(false))?,
            b'"' => Json::Str(self.string()?),
            b'[' => {
                self.at += 1;
                let mut items = Vec::new();
                self.list(b']', |p| {
                    items.push(p.value(depth + 1)?);
                    Some(())
                })?;
                Json::Arr(items)
            }
            b'{' => {
                self.at += 1;
                let mut fields = Vec::new();
                self.list(b'}', |p| {
                    p.ws();
                    let key = p.string()?;
                    p.ws();
                    p.eat(b":")?;
                    fields.push((key, p.value(depth + 1)?));
                    Some(())
                })?;
                Json::Obj(fields)
            }
            _ => Json::Int(self.int()?),
        })
    }

    /// Comma-separated items up to `close`, each read by `item`.
    fn list(&mut self, close: u8, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.ws();
        if self.eat(&[close]).is_some() {
            return Some(());
        }
        loop {
            item(self)?;
            self.ws();
            if self.eat(b",").is_none() {
                return self.eat(&[close]);
            }
        }
    }

    fn int(&mut self) -> Option<i64> {
        let start = self.at;
        if self.b.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        while self.b.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        let digits = std::str::from_utf8(&self.b[start..self.at]).ok()?;
        digits.parse().ok()
    }

    fn string(&mut self) -> Option<String> {
        self.eat(b"\"")?;
        let mut out = String::new();
        loop {
            let start = self.at;
            while !matches!(*self.b.get(self.at)?, b'"' | b'\\' | 0..=0x1f) {
                self.at += 1;
            }
            // Only ASCII bytes stop the scan, so the run is whole UTF-8.
            out.push_str(std::str::from_utf8(&self.b[start..self.at]).ok()?);
            match self.b[self.at] {
                b'"' => {
                    self.at += 1;
                    return Some(out);
                }
                b'\\' => {
                    self.at += 1;
                    out.push(self.escape()?);
                }
                _ => return None,
            }
        }
    }

    fn escape(&mut self) -> Option<char> {
        let c = *self.b.get(self.at)?;
        self.at += 1;
        Some(match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = self.hex4()?;
                if (0xd800..0xdc00).contains(&hi) {
                    self.eat(b"\\u")?;
                    let lo = self.hex4()?;
                    if !(0xdc00..0xe000).contains(&lo) {
                        return None;
                    }
                    char::from_u32(0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00))?
                } else {
                    char::from_u32(hi)?
                }
            }
            _ => return None,
        })
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = std::str::from_utf8(self.b.get(self.at..self.at + 4)?).ok()?;
        self.at += 4;
        u32::from_str_radix(h, 16).ok()
    }
}

impl Json {
    pub(crate) fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub(crate) fn object(&self) -> Option<&Json> {
        matches!(self, Json::Obj(_)).then_some(self)
    }

    pub(crate) fn str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn string(&self) -> Option<String> {
        self.str().map(str::to_owned)
    }

    pub(crate) fn int(&self) -> Option<i64> {
        match self {
            Json::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub(crate) fn u32(&self) -> Option<u32> {
        self.int()?.try_into().ok()
    }

    pub(crate) fn bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// A field serde requires.
    pub(crate) fn req<T>(&self, key: &str, read: impl Fn(&Json) -> Option<T>) -> Option<T> {
        read(self.get(key)?)
    }

    /// An `Option` field with `#[serde(default)]`: missing or `null` is `None`.
    pub(crate) fn opt<T>(&self, key: &str, read: impl Fn(&Json) -> Option<T>) -> Option<Option<T>> {
        match self.get(key) {
            None | Some(Json::Null) => Some(None),
            Some(v) => read(v).map(Some),
        }
    }

    /// A field with a serde default: missing is `default`.
    pub(crate) fn or<T>(
        &self,
        key: &str,
        default: T,
        read: impl Fn(&Json) -> Option<T>,
    ) -> Option<T> {
        match self.get(key) {
            None => Some(default),
            Some(v) => read(v),
        }
    }
}

/// A shared type as its serde derive reads it (see the module's note).
pub trait Decode: Sized {
    fn decode(j: &Json) -> Option<Self>;
}

impl Decode for PayPageData {
    fn decode(j: &Json) -> Option<Self> {
        let j = j.object()?;
        Some(PayPageData {
            view: j.req("view", CheckoutView::decode)?,
            token: j.req("token", Json::string)?,
            embed_origin: j.opt("embed_origin", Json::string)?,
            sandbox: j.or("sandbox", false, Json::bool)?,
            seed: j.or("seed", RenderSeed::default(), RenderSeed::decode)?,
        })
    }
}

impl Decode for CheckoutView {
    fn decode(j: &Json) -> Option<Self> {
        let j = j.object()?;
        Some(CheckoutView {
            merchant: j.req("merchant", branding)?,
            out_trade_no: j.req("out_trade_no", Json::string)?,
            description: j.req("description", Json::string)?,
            amount: j.req("amount", money)?,
            status: j.req("status", status)?,
            time_expire: j.req("time_expire", Json::string)?,
            methods: j.or("methods", Vec::new(), |v| match v {
                Json::Arr(items) => items.iter().map(method).collect(),
                _ => None,
            })?,
            installment: j.opt("installment", part_of_plan)?,
            release_days: j.or("release_days", 7, Json::u32)?,
            auto_refund_hours: j.opt("auto_refund_hours", Json::u32)?,
            in_review: j.or("in_review", false, Json::bool)?,
            review_hours: j.or("review_hours", 0, Json::u32)?,
        })
    }
}

pub(crate) fn branding(j: &Json) -> Option<Branding> {
    let j = j.object()?;
    Some(Branding {
        display_name: j.req("display_name", Json::string)?,
        logo_url: j.opt("logo_url", Json::string)?,
        filing_text: j.opt("filing_text", Json::string)?,
        theme_color: j.opt("theme_color", Json::string)?,
        guarantee_text: j.opt("guarantee_text", Json::string)?,
    })
}

pub(crate) fn money(j: &Json) -> Option<Money> {
    let j = j.object()?;
    Some(Money {
        total: j.req("total", |v| v.int()?.try_into().ok())?,
        currency: j.req("currency", |v| Currency::parse(v.str()?))?,
    })
}

fn part_of_plan(j: &Json) -> Option<PartOfPlan> {
    let j = j.object()?;
    Some(PartOfPlan {
        part: j.req("part", Json::u32)?,
        parts: j.req("parts", Json::u32)?,
        label: j.opt("label", Json::string)?,
        remaining_after: j.req("remaining_after", money)?,
    })
}

fn status(j: &Json) -> Option<OrderStatus> {
    OrderStatus::parse(j.str()?)
}

pub(crate) fn method(j: &Json) -> Option<PayMethod> {
    PayMethod::parse(j.str()?)
}

fn next_step(j: &Json) -> Option<NextStep> {
    Some(match j.str()? {
        "retry" => NextStep::Retry,
        "switch_method" => NextStep::SwitchMethod,
        "none" => NextStep::None,
        _ => return None,
    })
}

impl Decode for RenderSeed {
    fn decode(j: &Json) -> Option<Self> {
        let j = j.object()?;
        Some(RenderSeed {
            lang: j.or("lang", String::new(), Json::string)?,
            now_ms: j.or("now_ms", 0, Json::int)?,
            submission_key: j.or("submission_key", String::new(), Json::string)?,
            method: j.opt("method", method)?,
            wallet: j.opt("wallet", Json::string)?,
            outcome: j.opt("outcome", PayOutcome::decode)?,
            field_error: j.opt("field_error", |v| match v {
                Json::Arr(pair) if pair.len() == 2 => Some((pair[0].string()?, pair[1].string()?)),
                _ => None,
            })?,
        })
    }
}

/// Tagged by `kind`, snake case.
impl Decode for PayOutcome {
    fn decode(j: &Json) -> Option<Self> {
        let j = j.object()?;
        Some(match j.get("kind")?.str()? {
            "paid" => PayOutcome::Paid,
            "in_review" => PayOutcome::InReview,
            "pending" => PayOutcome::Pending,
            "unavailable" => PayOutcome::Unavailable,
            "declined" => PayOutcome::Declined {
                code: j.req("code", Json::string)?,
                message: j.req("message", Json::string)?,
                next_step: j.req("next_step", next_step)?,
            },
            "refused" => PayOutcome::Refused {
                code: j.req("code", Json::string)?,
                message: j.req("message", Json::string)?,
            },
            _ => return None,
        })
    }
}

impl Decode for PayResult {
    fn decode(j: &Json) -> Option<Self> {
        let j = j.object()?;
        Some(PayResult {
            status: j.req("status", status)?,
            code: j.opt("code", Json::string)?,
            message: j.opt("message", Json::string)?,
            next_step: j.opt("next_step", next_step)?,
        })
    }
}

/// The edge's error body (`paydesk_shared::api::ApiError`) as the pay page reads it: its code
/// as the wire name, whichever it is, and the message. The page acts on a few codes and shows
/// every other as a failure, so its wasm does not hold every code's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: String,
    pub message: String,
}

impl Decode for Refusal {
    fn decode(j: &Json) -> Option<Self> {
        let j = j.object()?;
        Some(Refusal {
            code: j.req("code", Json::string)?,
            message: j.req("message", Json::string)?,
        })
    }
}

/// Only the status of a checkout view (the status poll) or a live message.
impl Decode for OrderStatus {
    fn decode(j: &Json) -> Option<Self> {
        j.object()?.req("status", status)
    }
}

/// The body of `POST /api/checkout/{token}/pay`, as serde would write it.
pub fn pay_request(req: &PayRequest) -> String {
    let mut out = String::from("{\"method\":");
    string(&mut out, req.method.as_str());
    if let Some(w) = &req.wallet {
        out.push_str(",\"wallet\":");
        string(&mut out, w);
    }
    if let Some(c) = &req.card {
        out.push_str(",\"card\":{\"number\":");
        string(&mut out, &c.number);
        out.push_str(&format!(
            ",\"exp_month\":{},\"exp_year\":{},\"cvc\":",
            c.exp_month, c.exp_year
        ));
        string(&mut out, &c.cvc);
        out.push('}');
    }
    if let Some(k) = &req.submission_key {
        out.push_str(",\"submission_key\":");
        string(&mut out, k);
    }
    out.push('}');
    out
}

/// Lower-case hex digits, for the page's hex written by hand: `{:x}` would link core's hex
/// formatting into the wasm.
pub const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// A JSON string literal.
fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                out.push(HEX_DIGITS[c as usize >> 4].into());
                out.push(HEX_DIGITS[c as usize & 15].into());
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::tests::{view, NOW};
    use paydesk_shared::api::CardInput;

    /// What the worker inlines, every optional part present, read back exactly.
    fn page(outcome: Option<PayOutcome>) -> PayPageData {
        let mut v = view(OrderStatus::PayError);
        v.merchant.logo_url = Some("https://cdn.example/logo.png?a=1&b=\"2\"".into());
        v.merchant.filing_text = Some("沪ICP备00000000号 \\ 😀 <b>".into());
        v.merchant.guarantee_text = Some("line\nbreak\ttab \u{1} control".into());
        v.installment = Some(PartOfPlan {
            part: 2,
            parts: 3,
            label: Some("balance".into()),
            remaining_after: Money::cny(800_000),
        });
        v.auto_refund_hours = Some(48);
        v.in_review = true;
        PayPageData {
            view: v,
            token: "tok.en".into(),
            embed_origin: Some("https://shop.example".into()),
            sandbox: true,
            seed: RenderSeed {
                lang: "en".into(),
                now_ms: NOW,
                submission_key: "00ff".into(),
                method: Some(PayMethod::CreditCard),
                wallet: Some("wallet_low".into()),
                field_error: Some(("number".into(), "card_number_invalid".into())),
                outcome,
            },
        }
    }

    #[test]
    fn reads_what_serde_json_writes() {
        let outcomes = [
            None,
            Some(PayOutcome::Paid),
            Some(PayOutcome::InReview),
            Some(PayOutcome::Pending),
            Some(PayOutcome::Unavailable),
            Some(PayOutcome::Declined {
                code: "CARD_DECLINED".into(),
                message: "no".into(),
                next_step: NextStep::SwitchMethod,
            }),
            Some(PayOutcome::Refused {
                code: "ORDER_CLOSED".into(),
                message: "closed".into(),
            }),
        ];
        for o in outcomes {
            let data = page(o);
            let text = serde_json::to_string(&data).unwrap();
            assert_eq!(from_str::<PayPageData>(&text), Some(data.clone()));
            let pretty = serde_json::to_string_pretty(&data).unwrap();
            assert_eq!(from_str::<PayPageData>(&pretty), Some(data));
        }
        let minimal = serde_json::to_string(&view(OrderStatus::NotPay)).unwrap();
        assert_eq!(
            from_str::<CheckoutView>(&minimal),
            Some(view(OrderStatus::NotPay))
        );
    }

    /// Documents the worker does not write but serde reads (defaults, nulls) or refuses (wrong
    /// types): the decoders agree with serde on each.
    #[test]
    fn agrees_with_serde_on_defaults_nulls_and_wrong_types() {
        let view = serde_json::to_string(&view(OrderStatus::NotPay)).unwrap();
        let pages = [
            format!(r#"{{"view":{view},"token":"t"}}"#),
            format!(r#"{{"view":{view},"token":"t","embed_origin":null,"seed":{{}}}}"#),
            format!(
                r#"{{"view":{view},"token":"t","seed":{{"outcome":null,"field_error":null}}}}"#
            ),
            format!(r#"{{"view":{view},"token":"t","seed":{{"field_error":["a"]}}}}"#),
            format!(r#"{{"view":{view},"token":"t","seed":{{"outcome":{{"kind":"nope"}}}}}}"#),
            format!(
                r#"{{"view":{view},"token":"t","seed":{{"outcome":{{"kind":"refused","code":"NEW_CODE","message":"m"}}}}}}"#
            ),
            format!(r#"{{"view":{view},"token":"t","sandbox":null}}"#),
            format!(r#"{{"view":{view},"token":5}}"#),
            format!(r#"{{"view":{view}}}"#),
            r#"{"token":"t"}"#.to_owned(),
            "[]".to_owned(),
        ];
        for p in &pages {
            let ours = from_str::<PayPageData>(p);
            assert_eq!(ours, serde_json::from_str::<PayPageData>(p).ok(), "{p}");
        }
        let views = [
            r#"{"merchant":{"display_name":"S","logo_url":null},"out_trade_no":"T","description":"D","amount":{"total":1,"currency":"USD"},"status":"CLOSED","time_expire":"x"}"#,
            r#"{"merchant":{"display_name":"S"},"out_trade_no":"T","description":"D","amount":{"total":-1,"currency":"CNY"},"status":"CLOSED","time_expire":"x"}"#,
            r#"{"merchant":{"display_name":"S"},"out_trade_no":"T","description":"D","amount":{"total":1,"currency":"EUR"},"status":"CLOSED","time_expire":"x"}"#,
            r#"{"merchant":{"display_name":"S"},"out_trade_no":"T","description":"D","amount":{"total":1,"currency":"CNY"},"status":"CLOSED","time_expire":"x","methods":["balance","nope"]}"#,
            r#"{"merchant":{"display_name":"S"},"out_trade_no":"T","description":"D","amount":{"total":1,"currency":"CNY"},"status":"CLOSED","time_expire":"x","installment":{"part":1,"parts":2,"remaining_after":{"total":5,"currency":"CNY"}},"release_days":3,"auto_refund_hours":null}"#,
        ];
        for v in views {
            assert_eq!(
                from_str::<CheckoutView>(v),
                serde_json::from_str::<CheckoutView>(v).ok(),
                "{v}"
            );
        }
    }

    #[test]
    fn reads_the_pay_answers() {
        let paid =
            r#"{"status":"SUCCESS","code":"IN_REVIEW","message":"held","extra":[1,{"x":null}]}"#;
        let r: PayResult = from_str(paid).unwrap();
        assert_eq!(r, serde_json::from_str::<PayResult>(paid).unwrap());
        let err = r#"{"code":"ORDER_CLOSED","message":"closed","request_id":"r1"}"#;
        let e: Refusal = from_str(err).unwrap();
        let api = serde_json::from_str::<paydesk_shared::api::ApiError>(err).unwrap();
        assert_eq!(
            (e.code.as_str(), e.message),
            (api.code.as_str(), api.message)
        );
        let unknown = r#"{"code":"SOMETHING_NEWER","message":"?"}"#;
        assert_eq!(
            from_str::<Refusal>(unknown).unwrap().code,
            "SOMETHING_NEWER"
        );
        assert_eq!(from_str::<Refusal>(r#"{"code":"X"}"#), None, "no message");
    }

    #[test]
    fn refuses_what_is_not_json_of_the_shape() {
        for bad in [
            "",
            "{",
            r#"{"status":"SUCCESS"} x"#,
            r#"{"status":"NOPE"}"#,
            r#"{"status":1}"#,
            r#"{"status":"SUCCESS","code":1.5}"#,
            r#"{"status":"SUCC\ESS"}"#,
            "{\"status\":\"SUC\nCESS\"}",
            r#"{"status":"\ud800"}"#,
            r#"{"status" "SUCCESS"}"#,
            r#"{"status":"SUCCESS",}"#,
        ] {
            assert_eq!(from_str::<PayResult>(bad), None, "{bad}");
        }
        let nested = |n: usize| "[".repeat(n) + &"]".repeat(n);
        assert!(parse(&nested(60)).is_some());
        assert!(parse(&nested(100)).is_none());
    }

    #[test]
    fn unicode_escapes_and_surrogate_pairs() {
        let s = parse(r#""\u00e9\u4e2d\ud83d\ude00\n\"\\\/""#).unwrap();
        assert_eq!(s, Json::Str("é中😀\n\"\\/".into()));
    }

    #[test]
    fn the_pay_body_is_what_serde_json_writes() {
        let mut req = PayRequest {
            method: PayMethod::CreditCard,
            wallet: None,
            card: Some(CardInput {
                number: "4242424242424242".into(),
                exp_month: 12,
                exp_year: 2035,
                cvc: "1\"\\\u{1}\u{1f}".into(),
            }),
            submission_key: Some("k".into()),
        };
        assert_eq!(pay_request(&req), serde_json::to_string(&req).unwrap());
        req = PayRequest {
            method: PayMethod::Balance,
            wallet: Some("wallet_ok".into()),
            card: None,
            submission_key: None,
        };
        assert_eq!(pay_request(&req), serde_json::to_string(&req).unwrap());
    }
}
