//! Money after the payment, as arithmetic: fees by industry and monthly volume, their pro-rata
//! return on refunds, profit-sharing splits and their claw-back, and a settlement day's net.
//! Integer fen throughout; pure, tested natively (with a property test of the ledger invariant
//! the settlement capability must keep: settled + held = paid − refunded − fees, to the fen).
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

/// One receiver's share of an order (分账).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    pub receiver_id: String,
    pub amount: u64,
}

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

/// A settlement day's batch: what was released that day, minus that day's refunds and fees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DayTotals {
    pub released: u64,
    /// Refunds of released funds booked that day (a refund of held funds never reaches one).
    pub refunds: u64,
    /// Fees of the orders released that day, less fees given back by that day's refunds.
    pub fees: i64,
}

impl DayTotals {
    /// The net settled (may be negative: a day of refunds of earlier settlements).
    pub fn net(&self) -> i64 {
        self.released as i64 - self.refunds as i64 - self.fees
    }
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

    #[cfg(not(target_arch = "wasm32"))]
    mod invariant {
        use super::*;
        use proptest::prelude::*;

        /// What happens to one order in the model below.
        #[derive(Debug, Clone)]
        enum Move {
            Pay(u64),
            Refund(usize, u64),
            Release(usize),
            CloseDay,
        }

        fn moves() -> impl Strategy<Value = Vec<Move>> {
            prop::collection::vec(
                prop_oneof![
                    (1u64..2_000_000).prop_map(Move::Pay),
                    (0usize..40, 1u64..2_000_000).prop_map(|(i, a)| Move::Refund(i, a)),
                    (0usize..40).prop_map(Move::Release),
                    Just(Move::CloseDay),
                ],
                1..120,
            )
        }

        #[derive(Default)]
        struct Order {
            paid: u64,
            fee: u64,
            refunded: u64,
            fee_back: u64,
            released: bool,
        }

        proptest! {
            /// A month of payments, refunds (of held or released funds), releases and day closes:
            /// settled + held = paid − refunded − fees (net of fees given back), to the fen.
            #[test]
            fn settled_plus_held_is_paid_less_refunds_and_fees(ms in moves(), industry in prop_oneof![
                Just(Industry::Education), Just(Industry::Retail), Just(Industry::Services)]) {
                let mut orders: Vec<Order> = Vec::new();
                let (mut volume, mut settled, mut day) = (0u64, 0i64, DayTotals::default());
                for m in ms {
                    match m {
                        Move::Pay(a) => {
                            let f = fee(a, rate_bp(industry, volume));
                            volume += a;
                            orders.push(Order { paid: a, fee: f, ..Order::default() });
                        }
                        Move::Refund(i, a) => {
                            let Some(o) = orders.get_mut(i) else { continue };
                            let a = a.min(o.paid - o.refunded);
                            let back = given_back(o.fee, o.paid, o.refunded, a);
                            o.refunded += a;
                            o.fee_back += back;
                            if o.released {
                                day.refunds += a;
                                day.fees -= back as i64;
                            }
                        }
                        Move::Release(i) => {
                            let Some(o) = orders.get_mut(i) else { continue };
                            if !o.released {
                                o.released = true;
                                day.released += o.paid - o.refunded;
                                day.fees += (o.fee - o.fee_back) as i64;
                            }
                        }
                        Move::CloseDay => {
                            settled += day.net();
                            day = DayTotals::default();
                        }
                    }
                }
                settled += day.net();
                let held: i64 = orders.iter().filter(|o| !o.released)
                    .map(|o| (o.paid - o.refunded) as i64 - (o.fee - o.fee_back) as i64).sum();
                let paid: i64 = orders.iter().map(|o| o.paid as i64).sum();
                let refunded: i64 = orders.iter().map(|o| o.refunded as i64).sum();
                let fees: i64 = orders.iter().map(|o| (o.fee - o.fee_back) as i64).sum();
                prop_assert_eq!(settled + held, paid - refunded - fees);
                for o in &orders {
                    prop_assert!(o.fee_back <= o.fee);
                    if o.refunded == o.paid { prop_assert_eq!(o.fee_back, o.fee); }
                }
            }
        }
    }
}
