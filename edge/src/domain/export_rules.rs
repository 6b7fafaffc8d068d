//! Exports of a merchant's records (`GET /v1/exports?from=&to=`): which records a range holds,
//! in which order they are read, how long they are kept, and the seal that closes an export.
//!
//! An export is JSON lines: a head line (`type: export`), then the orders, refunds and
//! settlements of the range, each with the audit-chain entry that last changed it
//! (`audit: {seq, hash}`), then the chain's own entries of the range (`type: audit`), then a
//! seal (`type: seal`): a document signed like a receipt whose payload names the SHA-256 of
//! every byte before it, the line count and the chain's head when the export ended. Whoever
//! holds an export can check offline that no byte of it changed, that its chain entries link
//! and hash, and, against a signed daily statement, that the chain was not rewritten.

use super::refusal::Refusal;
use super::settlement_rules::DAY_MS;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::time::{civil_from_days, days_from_civil, days_in_month, parse_rfc3339};
use serde::{Deserialize, Serialize};

/// Calendar years a record is kept, counted in business time on the merchant's calendar.
pub const RETENTION_YEARS: i64 = 7;

/// The part of an export being read, in the order they are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Orders,
    Refunds,
    Settlements,
    Audit,
}

impl Part {
    /// The part after this one, or `None` after the chain's entries.
    pub fn next(self) -> Option<Part> {
        match self {
            Part::Orders => Some(Part::Refunds),
            Part::Refunds => Some(Part::Settlements),
            Part::Settlements => Some(Part::Audit),
            Part::Audit => None,
        }
    }
}

/// Where the next page of an export starts: after the record `(after_ms, after_key)` of `part`
/// (creation time and key for orders and refunds; the merchant day for settlements; the entry's
/// seq for the chain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub part: Part,
    pub after_ms: i64,
    pub after_key: String,
}

impl Cursor {
    pub fn start(part: Part) -> Cursor {
        Cursor {
            part,
            after_ms: i64::MIN,
            after_key: String::new(),
        }
    }
}

/// The business-time range `[from_ms, to_ms)` an export covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    pub from_ms: i64,
    pub to_ms: i64,
}

/// The download's name: the first and the last merchant day the range covers, on the merchant's
/// calendar (`from=2026-12-01&to=2026-12-31` is `paydesk-export-2026-12-01-2026-12-31.jsonl`).
pub fn filename(range: Range, utc_offset_minutes: i32) -> String {
    let offset_ms = i64::from(utc_offset_minutes) * 60_000;
    let day = |ms: i64| {
        let (y, m, d) = civil_from_days((ms + offset_ms).div_euclid(DAY_MS));
        format!("{y:04}-{m:02}-{d:02}")
    };
    let last = range.to_ms.saturating_sub(1).max(range.from_ms);
    format!("paydesk-export-{}-{}.jsonl", day(range.from_ms), day(last))
}

/// A bound of the range: an RFC 3339 instant, or a merchant day (`YYYY-MM-DD`): its 00:00 as
/// `from`, its 24:00 as `to` (so `from=2026-12-01&to=2026-12-31` is the whole of December).
pub fn parse_bound(
    param: &str,
    v: &str,
    is_to: bool,
    utc_offset_minutes: i32,
) -> Result<i64, Refusal> {
    if let Some(day) = super::bill_rules::parse_day(v) {
        let start = day * DAY_MS - i64::from(utc_offset_minutes) * 60_000;
        return Ok(if is_to { start + DAY_MS } else { start });
    }
    parse_rfc3339(v).ok_or_else(|| {
        Refusal::param(
            param,
            format!("{param} is a date YYYY-MM-DD (the merchant's calendar) or an RFC 3339 time"),
        )
    })
}

/// Checks a range against the retention horizon: both bounds given, `from` before `to`, and
/// nothing asked for that is no longer kept.
pub fn check_range(from: Option<i64>, to: Option<i64>, horizon_ms: i64) -> Result<Range, Refusal> {
    let (Some(from_ms), Some(to_ms)) = (from, to) else {
        return Err(Refusal::param("from", "an export needs from and to"));
    };
    if from_ms >= to_ms {
        return Err(Refusal::param("to", "to is after from"));
    }
    if from_ms < horizon_ms {
        return Err(Refusal::new(
            ErrorCode::RecordsExpired,
            format!(
                "records are kept {RETENTION_YEARS} years: nothing before {} is kept; \
                 ask from then on",
                paydesk_shared::time::format_rfc3339(horizon_ms)
            ),
        ));
    }
    Ok(Range { from_ms, to_ms })
}

/// The retention horizon at business time `now_ms`: the start of the merchant day
/// [`RETENTION_YEARS`] calendar years before today (29 February falls back to the 28th). A record
/// created before it may be gone; one created on or after it is kept.
pub fn horizon_ms(now_ms: i64, utc_offset_minutes: i32) -> i64 {
    let offset_ms = i64::from(utc_offset_minutes) * 60_000;
    let today = (now_ms + offset_ms).div_euclid(DAY_MS);
    let (y, m, d) = civil_from_days(today);
    let y = y - RETENTION_YEARS;
    let d = d.min(days_in_month(y as u32, m));
    days_from_civil(y, m, d) * DAY_MS - offset_ms
}

/// The chain entry that last changed a record, as a record line names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRef {
    pub seq: i64,
    pub hash: String,
}

/// What an export's seal signs. Fields in alphabetical order (its canonical form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seal {
    /// The chain's head when the export ended: every `audit` a line names is at or before it.
    pub audit_hash: String,
    pub audit_seq: i64,
    pub from: String,
    /// `export`.
    pub kind: String,
    /// Lines before the seal, its head line included.
    pub lines: u64,
    pub merchant_id: String,
    /// SHA-256 (lowercase hex) of every byte before the seal line.
    pub sha256: String,
    pub to: String,
    pub version: u32,
}

/// One JSON line: `{"type": kind, <field>: value, ...}` and a newline.
pub fn line(kind: &str, fields: serde_json::Map<String, serde_json::Value>) -> String {
    let mut obj = fields;
    obj.insert("type".into(), kind.into());
    let mut s = serde_json::Value::Object(obj).to_string();
    s.push('\n');
    s
}

/// A record line: the record as the API shows it and the chain entry that last changed it.
pub fn record_line(kind: &str, record: serde_json::Value, audit: Option<&AuditRef>) -> String {
    let mut f = serde_json::Map::new();
    f.insert("record".into(), record);
    f.insert(
        "audit".into(),
        serde_json::to_value(audit).unwrap_or(serde_json::Value::Null),
    );
    line(kind, f)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_download_is_named_by_the_merchants_days() {
        let (from, to) = (
            parse_bound("from", "2026-12-01", false, 480).unwrap(),
            parse_bound("to", "2026-12-31", true, 480).unwrap(),
        );
        let name = filename(
            Range {
                from_ms: from,
                to_ms: to,
            },
            480,
        );
        assert_eq!(name, "paydesk-export-2026-12-01-2026-12-31.jsonl");
        let utc = (
            parse_bound("from", "2026-12-01", false, 0).unwrap(),
            parse_bound("to", "2026-12-31", true, 0).unwrap(),
        );
        let name = filename(
            Range {
                from_ms: utc.0,
                to_ms: utc.1,
            },
            0,
        );
        assert_eq!(name, "paydesk-export-2026-12-01-2026-12-31.jsonl");
    }

    use super::*;
    use paydesk_shared::time::format_rfc3339;

    const CN: i32 = 480;

    #[test]
    fn a_day_bound_is_the_whole_merchant_day() {
        let from = parse_bound("from", "2026-12-01", false, CN).unwrap();
        let to = parse_bound("to", "2026-12-01", true, CN).unwrap();
        assert_eq!(format_rfc3339(from), "2026-11-30T16:00:00Z");
        assert_eq!(to - from, DAY_MS);
        let instant = parse_bound("to", "2026-12-01T08:00:00Z", true, CN).unwrap();
        assert_eq!(format_rfc3339(instant), "2026-12-01T08:00:00Z");
        assert_eq!(
            parse_bound("from", "yesterday", false, CN)
                .unwrap_err()
                .param
                .as_deref(),
            Some("from")
        );
    }

    #[test]
    fn the_horizon_is_seven_calendar_years_back_on_the_merchants_calendar() {
        let now = parse_rfc3339("2026-12-04T17:30:00Z").unwrap(); // 5 Dec 01:30 in Beijing
        assert_eq!(format_rfc3339(horizon_ms(now, CN)), "2019-12-04T16:00:00Z");
        let leap = parse_rfc3339("2028-02-29T04:00:00Z").unwrap();
        assert_eq!(format_rfc3339(horizon_ms(leap, 0)), "2021-02-28T00:00:00Z");
    }

    #[test]
    fn a_range_is_whole_ordered_and_kept() {
        let h = 1_000;
        assert!(check_range(Some(1_000), Some(2_000), h).is_ok());
        assert_eq!(
            check_range(None, Some(2_000), h)
                .unwrap_err()
                .param
                .as_deref(),
            Some("from")
        );
        assert_eq!(
            check_range(Some(2_000), Some(2_000), h)
                .unwrap_err()
                .param
                .as_deref(),
            Some("to")
        );
        let gone = check_range(Some(999), Some(2_000), h).unwrap_err();
        assert_eq!(gone.code, ErrorCode::RecordsExpired);
    }

    #[test]
    fn the_parts_come_in_order_and_end() {
        let mut p = Some(Part::Orders);
        let mut seen = Vec::new();
        while let Some(x) = p {
            seen.push(x);
            p = x.next();
        }
        assert_eq!(
            seen,
            [Part::Orders, Part::Refunds, Part::Settlements, Part::Audit]
        );
    }

    #[test]
    fn a_record_line_is_one_json_line_naming_its_entry() {
        let a = AuditRef {
            seq: 7,
            hash: "ab".into(),
        };
        let l = record_line(
            "order",
            serde_json::json!({"out_trade_no": "T\n1"}),
            Some(&a),
        );
        assert!(l.ends_with('\n') && l.matches('\n').count() == 1);
        let v: serde_json::Value = crate::json_text::from_text(&l).unwrap();
        assert_eq!(v["type"], "order");
        assert_eq!(v["audit"]["seq"], 7);
        assert_eq!(v["record"]["out_trade_no"], "T\n1");
    }
}
