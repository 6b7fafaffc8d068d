//! Money after the payment, as arithmetic: fees by industry and monthly volume, their pro-rata
//! return on refunds, and profit-sharing splits. Integer fen throughout; pure, tested natively.
//! What a release and a refund book, and a day's batch, are `settlement_rules`'.
//!
//! The one rounding rule: a proportion of an amount is rounded half up to the fen (四舍五入),
//! and a proportion returned piecemeal (a fee or a split given back over several refunds) is
//! computed on the running total and the difference taken, so the pieces always add up to the
//! whole: refunding an order in full returns exactly its fee, whatever the refunds' sizes.

use super::refusal::Refusal;
use serde::{Deserialize, Serialize};

/// What the merchant sells: the fee rate follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Industry {
    Education,
    #[default]
    Retail,
    Services,
}

/// A fee rate in basis points (1 bp = 0.01 %) from a monthly volume (fen, paid this merchant
/// month before this order) up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    pub from_volume: u64,
    pub rate_bp: u32,
}

/// CNY 1,000,000.00 and CNY 10,000,000.00 in fen.
const ONE_MILLION: u64 = 100_000_000;
const TEN_MILLION: u64 = 1_000_000_000;

/// A fee report's month, `YYYY-MM` (digits only, 2000-2999): its first instant and the next
/// month's, in business time on a calendar `utc_offset_minutes` from UTC.
pub fn report_month(text: &str, utc_offset_minutes: i32) -> Option<(i64, i64)> {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let (y, mo) = text
        .split_once('-')
        .filter(|(y, mo)| digits(y, 4) && digits(mo, 2))
        .and_then(|(y, mo)| Some((y.parse::<i64>().ok()?, mo.parse::<u32>().ok()?)))
        .filter(|(y, mo)| (2000..=2999).contains(y) && (1..=12).contains(mo))?;
    let offset = i64::from(utc_offset_minutes) * 60_000;
    let first = |y, mo| paydesk_shared::time::days_from_civil(y, mo, 1) * 86_400_000 - offset;
    let (ny, nm) = if mo == 12 { (y + 1, 1) } else { (y, mo + 1) };
    Some((first(y, mo), first(ny, nm)))
}

/// The tiers of an industry, lowest volume first.
pub fn tiers(industry: Industry) -> [Tier; 3] {
    let (base, mid, top) = match industry {
        Industry::Education | Industry::Retail => (60, 55, 50),
        Industry::Services => (100, 90, 80),
    };
    [
        Tier {
            from_volume: 0,
            rate_bp: base,
        },
        Tier {
            from_volume: ONE_MILLION,
            rate_bp: mid,
        },
        Tier {
            from_volume: TEN_MILLION,
            rate_bp: top,
        },
    ]
}

/// The rate of an order paid when the merchant's month had already collected `month_volume`.
pub fn rate_bp(industry: Industry, month_volume: u64) -> u32 {
    tiers(industry)
        .iter()
        .rev()
        .find(|t| month_volume >= t.from_volume)
        .map_or(0, |t| t.rate_bp)
}

/// `amount × numerator / denominator`, rounded half up; `denominator` > 0.
pub fn proportion(amount: u64, numerator: u64, denominator: u64) -> u64 {
    let p = u128::from(amount) * u128::from(numerator);
    let d = u128::from(denominator);
    ((p + d / 2) / d) as u64
}

/// The fee of an order of `amount` fen at `rate_bp`.
pub fn fee(amount: u64, rate_bp: u32) -> u64 {
    proportion(amount, u64::from(rate_bp), 10_000)
}

/// The part of `whole` (a fee, a split) given back by a refund that brings the order's
/// refunded total from `refunded_before` to `refunded_before + refund`, of `paid`: the running
/// total's proportion minus what earlier refunds gave back.
pub fn given_back(whole: u64, paid: u64, refunded_before: u64, refund: u64) -> u64 {
    if paid == 0 {
        return 0;
    }
    let after = (refunded_before + refund).min(paid);
    proportion(whole, after, paid) - proportion(whole, refunded_before.min(paid), paid)
}

/// The part of a receiver's share given back by a refund: as [`given_back`], but each
/// running total rounded up, so what the shares keep is never more than their proportion of
/// what is left. Rounded to the nearest like the fee, several shares could keep more than the
/// merchant has: a 1 fen refund of a 1000 fen order with a 6 fen fee, split 497 + 497, gave
/// back nothing of either share and left the merchant −1.
pub fn share_given_back(whole: u64, paid: u64, refunded_before: u64, refund: u64) -> u64 {
    if paid == 0 {
        return 0;
    }
    let up = |n: u64| {
        let (p, d) = (
            u128::from(whole) * u128::from(n.min(paid)),
            u128::from(paid),
        );
        p.div_ceil(d) as u64
    };
    up(refunded_before + refund) - up(refunded_before)
}

/// One receiver's share of an order (分账).
pub use paydesk_shared::api::Split;

pub const MAX_SPLITS: usize = 20;

/// Splits of an order of `amount` with `fee`: at most 20, distinct receivers the merchant
/// registered, each positive, together at most what the merchant keeps (amount − fee).
pub fn check_splits(
    splits: &[Split],
    amount: u64,
    fee: u64,
    registered: impl Fn(&str) -> bool,
) -> Result<(), Refusal> {
    let err = |m: &str| Refusal::param("splits", m);
    if splits.len() > MAX_SPLITS {
        return Err(err("at most 20 splits"));
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut total = 0u64;
    for s in splits {
        if s.amount == 0 || !registered(&s.receiver_id) || !seen.insert(s.receiver_id.as_str()) {
            return Err(err(
                "each split names a different registered receiver and a positive amount",
            ));
        }
        total = total.saturating_add(s.amount);
    }
    if total > amount.saturating_sub(fee) {
        return Err(err("splits may not exceed the amount minus the fee"));
    }
    Ok(())
}

/// What a receiver may be to the merchant (WeChat Pay's 分账 relation types).
pub const RELATIONS: [&str; 7] = [
    "partner",
    "supplier",
    "distributor",
    "staff",
    "store",
    "headquarter",
    "other",
];

/// A receiver's id (1-64 of `A-Z a-z 0-9 _ -`), its name (1-64 characters, no control
/// characters) and a relation of [`RELATIONS`].
pub fn check_receiver(receiver_id: &str, name: &str, relation: &str) -> Result<(), Refusal> {
    let id_ok = (1..=64).contains(&receiver_id.len())
        && receiver_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !id_ok {
        return Err(Refusal::param(
            "receiver_id",
            "receiver_id is 1-64 letters, digits, _ or -",
        ));
    }
    let n = name.chars().count();
    if n == 0 || n > 64 || name.chars().any(char::is_control) {
        return Err(Refusal::param("name", "name is 1-64 characters"));
    }
    if !RELATIONS.contains(&relation) {
        return Err(Refusal::param(
            "relation",
            "relation is partner, supplier, distributor, staff, store, headquarter or other",
        ));
    }
    Ok(())
}

/// The most an order's fee can be, whatever the month's volume when it is paid: splits are
/// checked against it when the order is created, so they always fit what the merchant keeps.
pub fn highest_fee(industry: Industry, amount: u64) -> u64 {
    fee(amount, tiers(industry)[0].rate_bp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_follow_the_industry_and_the_month() {
        assert_eq!(rate_bp(Industry::Education, 0), 60);
        assert_eq!(rate_bp(Industry::Retail, ONE_MILLION - 1), 60);
        assert_eq!(rate_bp(Industry::Retail, ONE_MILLION), 55);
        assert_eq!(rate_bp(Industry::Services, 0), 100);
        assert_eq!(rate_bp(Industry::Services, TEN_MILLION), 80);
    }

    #[test]
    fn fees_round_half_up_to_the_fen() {
        // 0.6 % of ¥9.99 is 5.994 fen → 6; of ¥0.75 is 0.45 → 0; of ¥2.50 is 1.5 → 2.
        assert_eq!(fee(999, 60), 6);
        assert_eq!(fee(75, 60), 0);
        assert_eq!(fee(250, 60), 2);
        assert_eq!(fee(1_000_000, 60), 6_000);
        assert_eq!(fee(u64::from(u32::MAX), 100), 42_949_673);
    }

    #[test]
    fn shares_given_back_round_up_and_add_up() {
        assert_eq!(share_given_back(497, 1_000, 0, 1), 1);
        let pieces = [
            share_given_back(497, 1_000, 0, 333),
            share_given_back(497, 1_000, 333, 333),
            share_given_back(497, 1_000, 666, 334),
        ];
        assert_eq!(pieces.iter().sum::<u64>(), 497);
        assert_eq!(share_given_back(497, 1_000, 1_000, 1), 0);
    }

    #[test]
    fn refunds_give_the_fee_back_in_pieces_that_add_up() {
        // ¥10.00 at 0.6 %: fee 6 fen. Three refunds of ¥3.33, ¥3.33, ¥3.34.
        let (paid, whole) = (1_000, fee(1_000, 60));
        let a = given_back(whole, paid, 0, 333);
        let b = given_back(whole, paid, 333, 333);
        let c = given_back(whole, paid, 666, 334);
        assert_eq!((a, b, c), (2, 2, 2));
        assert_eq!(a + b + c, whole);
        // Nothing more once all is refunded.
        assert_eq!(given_back(whole, paid, 1_000, 1), 0);
    }

    #[test]
    fn receivers_are_checked() {
        assert_eq!(check_receiver("shop-1_A", "上海一店", "store"), Ok(()));
        assert!(check_receiver("", "x", "store").is_err());
        assert!(check_receiver("a b", "x", "store").is_err());
        assert!(check_receiver(&"a".repeat(65), "x", "store").is_err());
        assert!(check_receiver("a", "", "store").is_err());
        assert!(check_receiver("a", "x\n", "store").is_err());
        assert!(check_receiver("a", "x", "friend").is_err());
        // Tiers only lower the rate, so the base rate's fee is the highest.
        assert_eq!(highest_fee(Industry::Services, 1_000), 10);
    }

    #[test]
    fn splits_are_checked() {
        let reg = |r: &str| r.starts_with("rcv_");
        let s = |r: &str, a| Split {
            receiver_id: r.into(),
            amount: a,
        };
        assert_eq!(
            check_splits(&[s("rcv_a", 500), s("rcv_b", 494)], 1_000, 6, reg),
            Ok(())
        );
        assert!(
            check_splits(&[s("rcv_a", 995)], 1_000, 6, reg).is_err(),
            "above amount − fee"
        );
        assert!(check_splits(&[s("rcv_a", 1), s("rcv_a", 1)], 1_000, 6, reg).is_err());
        assert!(check_splits(&[s("someone", 1)], 1_000, 6, reg).is_err());
        assert!(check_splits(&[s("rcv_a", 0)], 1_000, 6, reg).is_err());
        let many: Vec<Split> = (0..21).map(|i| s(&format!("rcv_{i}"), 1)).collect();
        assert!(check_splits(&many, 1_000, 6, reg).is_err());
    }

    #[test]
    fn a_report_month_is_digits_and_its_bounds_are_the_merchants() {
        // 2026-12 in UTC+8: from 2026-11-30T16:00Z to 2026-12-31T16:00Z.
        let dec = paydesk_shared::time::days_from_civil(2026, 12, 1) * 86_400_000;
        let jan = paydesk_shared::time::days_from_civil(2027, 1, 1) * 86_400_000;
        let eight = 8 * 3_600_000;
        assert_eq!(
            report_month("2026-12", 480),
            Some((dec - eight, jan - eight))
        );
        for bad in [
            "2026-13", "2026-+1", "+026-01", "2026-1", "1999-12", "2026/12", "",
        ] {
            assert_eq!(report_month(bad, 480), None, "{bad}");
        }
    }
}
