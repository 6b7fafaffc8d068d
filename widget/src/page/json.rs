//! JSON for the pay page's wasm without serde_json: a small parser into [`Json`], a serde
//! `Deserializer` over it whose errors carry no message, and the one request body the page
//! sends. serde_json's parser, and the error messages (with their float formatting) that any
//! full deserializer brings, were most of the page's wasm; the derived `Deserialize` impls of
//! the shared types are used as they are, so the page reads exactly what the worker writes.
//! The page's data has no fractional numbers: one is refused like any other bad input.

use paydesk_shared::api::PayRequest;
use serde::de::{self, value::StringDeserializer, DeserializeOwned, IntoDeserializer, Visitor};
use std::fmt;

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
pub fn from_str<T: DeserializeOwned>(text: &str) -> Option<T> {
    let mut p = Parser {
        b: text.as_bytes(),
        at: 0,
    };
    let v = p.value(0)?;
    p.ws();
    if p.at != p.b.len() {
        return None;
    }
    T::deserialize(v).ok()
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

/// Why a value did not read: deliberately nothing, so no message is ever formatted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bad;

impl fmt::Display for Bad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("bad JSON")
    }
}

impl std::error::Error for Bad {}

impl de::Error for Bad {
    fn custom<T: fmt::Display>(_: T) -> Bad {
        Bad
    }
    fn invalid_type(_: de::Unexpected, _: &dyn de::Expected) -> Bad {
        Bad
    }
    fn invalid_value(_: de::Unexpected, _: &dyn de::Expected) -> Bad {
        Bad
    }
    fn invalid_length(_: usize, _: &dyn de::Expected) -> Bad {
        Bad
    }
    fn unknown_variant(_: &str, _: &'static [&'static str]) -> Bad {
        Bad
    }
    fn unknown_field(_: &str, _: &'static [&'static str]) -> Bad {
        Bad
    }
    fn missing_field(_: &'static str) -> Bad {
        Bad
    }
    fn duplicate_field(_: &'static str) -> Bad {
        Bad
    }
}

impl<'de> de::Deserializer<'de> for Json {
    type Error = Bad;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bad> {
        match self {
            Json::Null => v.visit_unit(),
            Json::Bool(b) => v.visit_bool(b),
            Json::Int(i) => v.visit_i64(i),
            Json::Str(s) => v.visit_string(s),
            Json::Arr(items) => v.visit_seq(de::value::SeqDeserializer::new(items.into_iter())),
            Json::Obj(fields) => v.visit_map(de::value::MapDeserializer::new(fields.into_iter())),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bad> {
        match self {
            Json::Null => v.visit_none(),
            some => v.visit_some(some),
        }
    }

    /// Unit variants only (a string): the page's data has no other externally tagged enum.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Bad> {
        match self {
            Json::Str(s) => v.visit_enum(StringDeserializer::<Bad>::new(s)),
            _ => Err(Bad),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value, Bad> {
        v.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

impl<'de> IntoDeserializer<'de, Bad> for Json {
    type Deserializer = Json;
    fn into_deserializer(self) -> Json {
        self
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

/// A JSON string literal.
fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::tests::{view, NOW};
    use paydesk_shared::api::{ApiError, CardInput, ErrorCode, NextStep, PayMethod, PayResult};
    use paydesk_shared::installment::PartOfPlan;
    use paydesk_shared::{CheckoutView, Money, OrderStatus, PayOutcome, PayPageData, RenderSeed};

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
                code: ErrorCode::OrderClosed,
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

    #[test]
    fn reads_the_pay_answers() {
        let paid =
            r#"{"status":"SUCCESS","code":"IN_REVIEW","message":"held","extra":[1,{"x":null}]}"#;
        let r: PayResult = from_str(paid).unwrap();
        assert_eq!(r, serde_json::from_str::<PayResult>(paid).unwrap());
        let err = r#"{"code":"ORDER_CLOSED","message":"closed","request_id":"r1"}"#;
        let e: ApiError = from_str(err).unwrap();
        assert_eq!(e, serde_json::from_str::<ApiError>(err).unwrap());
        let unknown = r#"{"code":"SOMETHING_NEWER","message":"?"}"#;
        assert_eq!(
            from_str::<ApiError>(unknown).unwrap().code,
            ErrorCode::Unknown
        );
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
        assert!(from_str::<de::IgnoredAny>(&nested(60)).is_some());
        assert!(from_str::<de::IgnoredAny>(&nested(100)).is_none());
    }

    #[test]
    fn unicode_escapes_and_surrogate_pairs() {
        let s: String = from_str(r#""\u00e9\u4e2d\ud83d\ude00\n\"\\\/""#).unwrap();
        assert_eq!(s, "é中😀\n\"\\/");
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
                cvc: "1\"\\\u{1}".into(),
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
