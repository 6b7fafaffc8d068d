//! UTC unix milliseconds internally, RFC 3339 on the wire. Civil-date arithmetic after
//! Howard Hinnant's `days_from_civil`, so no date crate is needed on either side.

/// Days since 1970-01-01 for a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day number (days since 1970-01-01).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `2026-11-27T11:22:40Z` (second precision, UTC).
pub fn format_rfc3339(unix_ms: i64) -> String {
    let secs = unix_ms.div_euclid(1000);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// The UTC year and month (1-12) of an instant: what a card's expiry is compared with.
pub fn year_month(unix_ms: i64) -> (u16, u8) {
    let (y, m, _) = civil_from_days(unix_ms.div_euclid(86_400_000));
    (y.clamp(0, i64::from(u16::MAX)) as u16, m as u8)
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]` into unix milliseconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    // Read as bytes, with `get` and no string slicing: a slice's boundary panic would link
    // core's string formatting into the pay page's wasm, which parses the order's times.
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: core::ops::Range<usize>| decimal(b.get(r)?);
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 {
        return None;
    }
    if sec > 59 {
        return None;
    }
    let mut rest = b.get(19..)?;
    let mut millis = 0i64;
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return None;
        }
        let ms_digits = frac.get(..n.min(3))?;
        millis = i64::from(decimal(ms_digits)?) * 10i64.pow(3 - ms_digits.len() as u32);
        rest = frac.get(n..)?;
    }
    let offset_secs: i64 = match rest {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (oh, om) = (decimal(&[*h1, *h2])?, decimal(&[*m1, *m2])?);
            let (oh, om) = (i64::from(oh), i64::from(om));
            if oh > 23 || om > 59 {
                return None;
            }
            let v = oh * 3600 + om * 60;
            if *sign == b'-' {
                -v
            } else {
                v
            }
        }
        _ => return None,
    };
    let days = days_from_civil(i64::from(y), mo, d);
    let secs = days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(sec);
    Some((secs - offset_secs) * 1000 + millis)
}

/// The number `b` spells in ASCII digits (1 to 9 of them, nothing else).
fn decimal(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
}

/// China Standard Time, the zone of the v2 protocol's times.
const CST_OFFSET_MS: i64 = 8 * 3_600_000;

/// The v2 protocol's `yyyyMMddHHmmss` in UTC+8 (`time_end`, `time_expire`).
pub fn format_v2(unix_ms: i64) -> String {
    let t = format_rfc3339(unix_ms + CST_OFFSET_MS);
    let digits: String = t
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(char::from)
        .collect();
    digits
}

/// The v2 protocol's refund times: `yyyy-MM-dd HH:mm:ss` in UTC+8.
pub fn format_v2_dashed(unix_ms: i64) -> String {
    let t = format_rfc3339(unix_ms + CST_OFFSET_MS);
    format!("{} {}", &t[..10], &t[11..19])
}

/// Parses `yyyyMMddHHmmss` (UTC+8) into unix milliseconds.
pub fn parse_v2(s: &str) -> Option<i64> {
    if s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let rfc = format!(
        "{}-{}-{}T{}:{}:{}+08:00",
        &s[0..4],
        &s[4..6],
        &s[6..8],
        &s[8..10],
        &s[10..12],
        &s[12..14]
    );
    parse_rfc3339(&rfc)
}

/// Days in a month of the proleptic Gregorian calendar.
pub fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        _ => 28,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_instants() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(1_795_778_560_000), "2026-11-27T11:22:40Z");
        assert_eq!(
            parse_rfc3339("2026-11-27T11:22:40Z"),
            Some(1_795_778_560_000)
        );
        assert_eq!(
            parse_rfc3339("2026-11-27T19:22:40+08:00"),
            Some(1_795_778_560_000)
        );
        assert_eq!(
            parse_rfc3339("2026-11-27T11:22:40.5Z"),
            Some(1_795_778_560_500)
        );
        assert_eq!(
            parse_rfc3339("2024-02-29T00:00:00Z"),
            Some(1_709_164_800_000)
        );
    }

    #[test]
    fn year_and_month() {
        assert_eq!(year_month(0), (1970, 1));
        assert_eq!(year_month(1_795_778_560_000), (2026, 11));
        let new_year = parse_rfc3339("2027-01-01T00:00:00Z").unwrap();
        assert_eq!(year_month(new_year - 1), (2026, 12));
        assert_eq!(year_month(new_year), (2027, 1));
    }

    #[test]
    fn rejects_malformed() {
        for s in [
            "",
            "2026-11-27",
            "2026-11-27 11:22:40Z",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-11-27T24:00:00Z",
            "2026-11-27T11:22:40",
            "2026-11-27T11:22:40+0800",
            "2026-11-27T11:22:40.Z",
            "２０２６-11-27T11:22:40Z",
            "2026-11-27T11:22:40++8:00",
            "2026-11-27T11:22:40+é:00",
            "2026-11-27T11:22:40+08:é",
            "2026-11-27T11:22:40é",
            "2026-11-27T11:22:40.1234567890Z",
            "2026-11-27T11:22:40+24:00",
        ] {
            assert_eq!(parse_rfc3339(s), None, "{s:?}");
        }
    }

    #[test]
    fn offsets_and_fractions() {
        assert_eq!(
            parse_rfc3339("2026-11-27T03:22:40-08:00"),
            Some(1_795_778_560_000)
        );
        assert_eq!(
            parse_rfc3339("2026-11-27T11:22:40.123456789z"),
            Some(1_795_778_560_123)
        );
        assert_eq!(
            parse_rfc3339("2026-11-27T11:22:40.07+00:00"),
            Some(1_795_778_560_070)
        );
    }

    proptest! {
        /// Any text, multi-byte characters included, is read or refused: never a panic.
        #[test]
        fn any_text_is_read_or_refused(s in "2026-11-27T11:22:40[.0-9+:Zz\\-é２]{0,12}") {
            let _ = parse_rfc3339(&s);
        }

        #[test]
        fn format_parse_round_trip(secs in 0i64..253_402_300_799) {
            let ms = secs * 1000;
            prop_assert_eq!(parse_rfc3339(&format_rfc3339(ms)), Some(ms));
        }
    }

    #[test]
    fn v2_times_are_china_standard_time() {
        let ms = parse_rfc3339("2026-11-27T16:30:05Z").unwrap();
        assert_eq!(format_v2(ms), "20261128003005");
        assert_eq!(format_v2_dashed(ms), "2026-11-28 00:30:05");
        assert_eq!(parse_v2("20261128003005"), Some(ms));
        assert_eq!(parse_v2("20261301000000"), None);
        assert_eq!(parse_v2("2026112800300"), None);
        assert_eq!(parse_v2("2026112800300x"), None);
    }
}
