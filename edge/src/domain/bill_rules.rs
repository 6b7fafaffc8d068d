//! Reconciliation bills as text: a closed merchant day's money movements, one line per
//! transaction (an order's release, a refund of released money), in two layouts:
//!
//! - paydesk's CSV (`GET /v1/bills`): RFC 4180 quoting, amounts in fen, times on the merchant's
//!   calendar with its offset, one column per tag key, a `TOTAL` line whose `net` is the day's
//!   settlement; or the same day grouped by one tag key;
//! - WeChat Pay v2's bill (`POST /pay/downloadbill`): every field after a backtick, amounts in
//!   yuan, its Chinese column titles and its totals lines, as its SDKs parse it.
//!
//! Pure, tested natively. The lines themselves come from `merchant/bills.rs`.

use super::refusal::Refusal;
use paydesk_shared::time::civil_from_days;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum BillType {
    All,
    Success,
    Refund,
}

impl BillType {
    pub fn parse(s: &str) -> Option<BillType> {
        match s {
            "ALL" => Some(BillType::All),
            "SUCCESS" => Some(BillType::Success),
            "REFUND" => Some(BillType::Refund),
            _ => None,
        }
    }
}

/// `YYYY-MM-DD` (or the v2 dialect's `YYYYMMDD`) as a day number since 1970-01-01.
pub fn parse_day(s: &str) -> Option<i64> {
    let digits: String = s.chars().filter(|c| *c != '-').collect();
    let dashed_ok = s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-';
    if digits.len() != 8
        || !(dashed_ok || s.len() == 8)
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let y: i64 = digits[..4].parse().ok()?;
    let m: u32 = digits[4..6].parse().ok()?;
    let d: u32 = digits[6..].parse().ok()?;
    let valid = (2000..=2999).contains(&y)
        && (1..=12).contains(&m)
        && d >= 1
        && d <= paydesk_shared::time::days_in_month(y as u32, m);
    valid.then(|| paydesk_shared::time::days_from_civil(y, m, d))
}

pub fn bad_date(param: &str) -> Refusal {
    Refusal::param(param, "a bill's date is YYYY-MM-DD")
}

/// One transaction of a bill.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BillLine {
    /// Where it stands in the day (the cursor of the next page).
    pub seq: i64,
    pub at_ms: i64,
    pub out_trade_no: String,
    pub transaction_id: String,
    pub out_refund_no: Option<String>,
    pub refund_id: Option<String>,
    /// Signed for the merchant: + released, − refunded.
    pub amount: i64,
    /// Charged (+) or given back (−).
    pub fee: i64,
    /// Booked to receivers (+) or clawed back (−).
    pub shared: i64,
    pub order_amount: i64,
    pub fee_rate_bp: Option<i64>,
    pub description: String,
    pub attach: Option<String>,
    pub tags: BTreeMap<String, String>,
}

impl BillLine {
    pub fn net(&self) -> i64 {
        self.amount - self.fee - self.shared
    }

    pub fn is_refund(&self) -> bool {
        self.out_refund_no.is_some()
    }
}

/// A business time on the merchant's calendar: `2026-12-03 10:00:00`.
pub fn local_time(at_ms: i64, utc_offset_minutes: i32) -> String {
    let ms = at_ms + i64::from(utc_offset_minutes) * 60_000;
    let (day, rest) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000) / 1000);
    let (y, m, d) = civil_from_days(day);
    let (h, mi, s) = (rest / 3600, rest / 60 % 60, rest % 60);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}")
}

/// `+08:00` for an offset in minutes.
pub fn offset_suffix(utc_offset_minutes: i32) -> String {
    let sign = if utc_offset_minutes < 0 { '-' } else { '+' };
    let m = utc_offset_minutes.unsigned_abs();
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

/// A text field of a CSV line: quoted when it holds a comma, a quote or a line break, and a
/// leading `=`, `+`, `-`, `@` or tab neutralised with `'`, so a spreadsheet never runs a
/// description as a formula.
pub fn csv_text(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

const FIXED: [&str; 12] = [
    "time",
    "type",
    "out_trade_no",
    "transaction_id",
    "out_refund_no",
    "refund_id",
    "amount",
    "fee",
    "shared",
    "net",
    "fee_rate_bp",
    "description",
];

/// The first line: the fixed columns, then one per tag key.
pub fn csv_header(tag_keys: &[String]) -> String {
    let mut cols: Vec<String> = FIXED.iter().map(|c| (*c).to_owned()).collect();
    cols.extend(tag_keys.iter().map(|k| csv_text(k)));
    cols.join(",") + "\r\n"
}

pub fn csv_line(l: &BillLine, tag_keys: &[String], utc_offset_minutes: i32) -> String {
    let time = local_time(l.at_ms, utc_offset_minutes).replace(' ', "T")
        + &offset_suffix(utc_offset_minutes);
    let mut cols = vec![
        time,
        if l.is_refund() { "REFUND" } else { "SUCCESS" }.to_owned(),
        csv_text(&l.out_trade_no),
        csv_text(&l.transaction_id),
        csv_text(l.out_refund_no.as_deref().unwrap_or("")),
        csv_text(l.refund_id.as_deref().unwrap_or("")),
        l.amount.to_string(),
        l.fee.to_string(),
        l.shared.to_string(),
        l.net().to_string(),
        l.fee_rate_bp.map(|r| r.to_string()).unwrap_or_default(),
        csv_text(&l.description),
    ];
    cols.extend(
        tag_keys
            .iter()
            .map(|k| csv_text(l.tags.get(k).map_or("", String::as_str))),
    );
    cols.join(",") + "\r\n"
}

/// What a bill's lines add up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Totals {
    pub count: u64,
    pub amount: i64,
    pub fee: i64,
    pub shared: i64,
    pub net: i64,
    /// For the v2 layout: released, refunded and the orders' amounts.
    pub released: i64,
    pub refunded: i64,
    pub order_amount: i64,
}

impl Totals {
    pub fn add(&mut self, l: &BillLine) {
        self.count += 1;
        self.amount += l.amount;
        self.fee += l.fee;
        self.shared += l.shared;
        self.net += l.net();
        if l.is_refund() {
            self.refunded -= l.amount;
        } else {
            self.released += l.amount;
            self.order_amount += l.order_amount;
        }
    }
}

/// The last line: `TOTAL`, the number of transactions, and the sums (`net` is the day's
/// settlement when the bill is of every type).
pub fn csv_totals(t: &Totals, tag_keys: &[String]) -> String {
    let mut cols = vec![
        "TOTAL".to_owned(),
        t.count.to_string(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        t.amount.to_string(),
        t.fee.to_string(),
        t.shared.to_string(),
        t.net.to_string(),
        String::new(),
        String::new(),
    ];
    cols.extend(tag_keys.iter().map(|_| String::new()));
    cols.join(",") + "\r\n"
}

/// One value of the grouping tag and what its transactions add up to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Group {
    pub value: String,
    pub totals: Totals,
}

/// The day grouped by one tag key: a line per value (empty: orders without that tag), then
/// `TOTAL`.
pub fn csv_grouped(key: &str, groups: &[Group]) -> String {
    let mut out = format!("{},transactions,amount,fee,shared,net\r\n", csv_text(key));
    let mut all = Totals::default();
    for g in groups {
        let t = &g.totals;
        out += &format!(
            "{},{},{},{},{},{}\r\n",
            csv_text(&g.value),
            t.count,
            t.amount,
            t.fee,
            t.shared,
            t.net
        );
        all.count += t.count;
        all.amount += t.amount;
        all.fee += t.fee;
        all.shared += t.shared;
        all.net += t.net;
    }
    out + &format!(
        "TOTAL,{},{},{},{},{}\r\n",
        all.count, all.amount, all.fee, all.shared, all.net
    )
}

/// A statement as CSV: the header, then each row, every cell a text cell (numbers pass
/// through unchanged; negative ones are numbers, not formulas, so they are written as they are).
pub fn csv_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let cell = |c: &String| {
        if c.parse::<i64>().is_ok() {
            c.clone()
        } else {
            csv_text(c)
        }
    };
    let mut out = header.join(",") + "\r\n";
    for r in rows {
        out += &(r.iter().map(cell).collect::<Vec<_>>().join(",") + "\r\n");
    }
    out
}

// ---- WeChat Pay v2's layout ----

pub const V2_HEADER: &str = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\r\n";
pub const V2_TOTALS_HEADER: &str =
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n";

/// Fen as yuan: `12.34`, `-0.05`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let f = fen.unsigned_abs();
    format!("{sign}{}.{:02}", f / 100, f % 100)
}

/// The v2 bill's fee column: yuan with five decimals, as the protocol prints it.
fn yuan5(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let f = fen.unsigned_abs();
    format!("{sign}{}.{:02}000", f / 100, f % 100)
}

/// A v2 text field: no backticks or line breaks (they are the layout's separators).
fn v2_text(s: &str) -> String {
    s.chars()
        .map(|c| {
            if matches!(c, '`' | '\r' | '\n') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// Who the v2 bill names: the request's `appid` and the merchant's id.
pub struct V2Names<'a> {
    pub appid: &'a str,
    pub mch_id: &'a str,
    pub utc_offset_minutes: i32,
}

pub fn v2_line(l: &BillLine, n: &V2Names<'_>) -> String {
    let refund = l.is_refund();
    let rate = l
        .fee_rate_bp
        .map(|bp| format!("{}.{:02}%", bp / 100, bp % 100))
        .unwrap_or_default();
    let fields = [
        local_time(l.at_ms, n.utc_offset_minutes),
        v2_text(n.appid),
        n.mch_id.to_owned(),
        "0".to_owned(),
        String::new(),
        v2_text(&l.transaction_id),
        v2_text(&l.out_trade_no),
        String::new(),
        "NATIVE".to_owned(),
        if refund { "REFUND" } else { "SUCCESS" }.to_owned(),
        "OTHERS".to_owned(),
        "CNY".to_owned(),
        yuan(if refund { 0 } else { l.amount }),
        "0.00".to_owned(),
        v2_text(l.refund_id.as_deref().unwrap_or("0")),
        v2_text(l.out_refund_no.as_deref().unwrap_or("0")),
        yuan(if refund { -l.amount } else { 0 }),
        "0.00".to_owned(),
        if refund { "ORIGINAL" } else { "" }.to_owned(),
        if refund { "SUCCESS" } else { "" }.to_owned(),
        v2_text(&l.description),
        v2_text(l.attach.as_deref().unwrap_or("")),
        yuan5(l.fee),
        rate,
        yuan(l.order_amount),
        yuan(if refund { -l.amount } else { 0 }),
        String::new(),
    ];
    let mut out = String::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('`');
        out.push_str(f);
    }
    out + "\r\n"
}

/// The v2 bill's two last lines.
pub fn v2_totals(t: &Totals) -> String {
    let fields = [
        t.count.to_string(),
        yuan(t.released),
        yuan(t.refunded),
        "0.00".to_owned(),
        yuan5(t.fee),
        yuan(t.order_amount),
        yuan(t.refunded),
    ];
    let values: Vec<String> = fields.iter().map(|f| format!("`{f}")).collect();
    format!("{V2_TOTALS_HEADER}{}\r\n", values.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(refund: bool) -> BillLine {
        BillLine {
            seq: 1,
            at_ms: 1_796_263_200_000, // 2026-12-03T02:00:00Z, 10:00 in UTC+8
            out_trade_no: "T1".into(),
            transaction_id: "4200000001".into(),
            out_refund_no: refund.then(|| "R1".into()),
            refund_id: refund.then(|| "50000001".into()),
            amount: if refund { -2_500 } else { 10_000 },
            fee: if refund { -15 } else { 60 },
            shared: 0,
            order_amount: 10_000,
            fee_rate_bp: Some(60),
            description: "=HYPERLINK(\"x\"), tea".into(),
            attach: None,
            tags: BTreeMap::from([("region".into(), "east".into())]),
        }
    }

    #[test]
    fn dates_parse_in_both_forms_and_nothing_else() {
        assert_eq!(parse_day("2026-12-03"), parse_day("20261203"));
        assert_eq!(parse_day("2000-01-02"), Some(10_958));
        assert!(parse_day("1970-01-02").is_none(), "before 2000");
        assert!(parse_day("2026-02-29").is_none());
        assert!(parse_day("2028-02-29").is_some());
        for bad in [
            "2026-13-01",
            "2026-1-01",
            "26-12-03",
            "2026/12/03",
            "",
            "2026-12-3x",
        ] {
            assert!(parse_day(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn csv_lines_quote_neutralise_and_add_up() {
        let keys = vec!["region".to_owned(), "channel".to_owned()];
        let h = csv_header(&keys);
        assert!(h.ends_with(",description,region,channel\r\n"), "{h}");
        let l = csv_line(&line(false), &keys, 480);
        assert_eq!(
            l,
            "2026-12-03T10:00:00+08:00,SUCCESS,T1,4200000001,,,10000,60,0,9940,60,\"'=HYPERLINK(\"\"x\"\"), tea\",east,\r\n"
        );
        let mut t = Totals::default();
        t.add(&line(false));
        t.add(&line(true));
        assert_eq!((t.count, t.amount, t.fee, t.net), (2, 7_500, 45, 7_455));
        assert_eq!(csv_totals(&t, &keys), "TOTAL,2,,,,,7500,45,0,7455,,,,\r\n");
        assert_eq!(csv_text("-5"), "'-5");
        assert_eq!(offset_suffix(-330), "-05:30");
    }

    #[test]
    fn statements_keep_numbers_and_neutralise_text() {
        let rows = vec![
            vec!["stl_1".to_owned(), "-120".to_owned(), "=1+1".to_owned()],
            vec!["TOTAL".to_owned(), "-120".to_owned(), String::new()],
        ];
        assert_eq!(
            csv_table(&["settlement_id", "net", "note"], &rows),
            "settlement_id,net,note\r\nstl_1,-120,'=1+1\r\nTOTAL,-120,\r\n"
        );
    }

    #[test]
    fn grouped_bills_have_a_line_per_value_and_a_total() {
        let mut east = Totals::default();
        east.add(&line(false));
        let groups = [
            Group {
                value: "east".into(),
                totals: east,
            },
            Group {
                value: String::new(),
                totals: Totals::default(),
            },
        ];
        assert_eq!(
            csv_grouped("region", &groups),
            "region,transactions,amount,fee,shared,net\r\neast,1,10000,60,0,9940\r\n,0,0,0,0,0\r\nTOTAL,1,10000,60,0,9940\r\n"
        );
    }

    #[test]
    fn the_v2_layout_is_wechats() {
        let n = V2Names {
            appid: "wx1",
            mch_id: "mch_1",
            utc_offset_minutes: 480,
        };
        let s = v2_line(&line(false), &n);
        assert!(
            s.starts_with(
                "`2026-12-03 10:00:00,`wx1,`mch_1,`0,`,`4200000001,`T1,`,`NATIVE,`SUCCESS,"
            ),
            "{s}"
        );
        assert!(s.contains(",`100.00,`0.00,`0,`0,`0.00,`0.00,`,`,"), "{s}");
        assert!(s.ends_with(",`0.60000,`0.60%,`100.00,`0.00,`\r\n"), "{s}");
        assert_eq!(s.matches(",`").count(), V2_HEADER.matches(',').count());
        let r = v2_line(&line(true), &n);
        assert!(r.contains(",`REFUND,"), "{r}");
        assert!(
            r.contains(",`50000001,`R1,`25.00,`0.00,`ORIGINAL,`SUCCESS,"),
            "{r}"
        );
        assert!(r.contains(",`-0.15000,"), "{r}");
        let mut t = Totals::default();
        t.add(&line(false));
        t.add(&line(true));
        assert_eq!(
            v2_totals(&t),
            format!("{V2_TOTALS_HEADER}`2,`100.00,`25.00,`0.00,`0.45000,`100.00,`25.00\r\n")
        );
        assert_eq!(
            (yuan(-5), yuan(123_456)),
            ("-0.05".into(), "1234.56".into())
        );
    }
}
