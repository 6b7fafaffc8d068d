//! Settlement as arithmetic: which money movements a release and a refund book, the merchant
//! day they count on, when that day closes, and a day's batch. Pure, tested natively, with a
//! property test of the invariant the ledger keeps at every moment:
//! settled + releasable + held + shared = paid − refunded − fees, to the fen
//! (`shared` is what profit-sharing receivers were booked).
//!
//! Movements are signed for the merchant: money it will be paid is positive (a release, a fee
//! given back, a split clawed back), money it gives up negative (a refund of released money,
//! a fee, a receiver's share). A refund of money still held books nothing: it comes out of the
//! held funds, so there is never anything to claw back from a settlement.

use super::money_rules::{share_given_back, Split};
use super::refusal::Refusal;

pub const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveKind {
    Release,
    Refund,
    Fee,
    FeeBack,
    Split,
    SplitBack,
}

impl MoveKind {
    pub const ALL: [MoveKind; 6] = [
        MoveKind::Release,
        MoveKind::Refund,
        MoveKind::Fee,
        MoveKind::FeeBack,
        MoveKind::Split,
        MoveKind::SplitBack,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MoveKind::Release => "release",
            MoveKind::Refund => "refund",
            MoveKind::Fee => "fee",
            MoveKind::FeeBack => "fee_back",
            MoveKind::Split => "split",
            MoveKind::SplitBack => "split_back",
        }
    }

    pub fn parse(s: &str) -> Option<MoveKind> {
        MoveKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One movement of money on the merchant's books.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    pub kind: MoveKind,
    /// Signed for the merchant, in fen.
    pub amount: i64,
    /// The profit-sharing receiver of a split or its claw-back.
    pub receiver_id: Option<String>,
}

/// A paid order's money as it stands: what was paid, refunded, its fee and what refunds gave
/// back of it, and its splits.
#[derive(Debug, Clone, Copy)]
pub struct Paid<'a> {
    pub paid: u64,
    pub refunded: u64,
    pub fee: u64,
    pub fee_refunded: u64,
    pub splits: &'a [Split],
}

fn mv(kind: MoveKind, amount: i64, receiver_id: Option<&str>) -> Option<Move> {
    (amount != 0).then(|| Move {
        kind,
        amount,
        receiver_id: receiver_id.map(str::to_owned),
    })
}

/// The most settlements a listing answers (`GET /v1/settlements`, newest first).
pub const LISTED_AT_MOST: usize = 400;

/// A CSV of settlements ends with their `TOTAL`, which must be the range's: a listing that
/// reached [`LISTED_AT_MOST`] may have left older ones out, so it is refused as a CSV.
pub fn whole_for_csv(listed: usize) -> Result<(), Refusal> {
    if listed < LISTED_AT_MOST {
        return Ok(());
    }
    Err(Refusal::param(
        "from",
        format!(
            "a CSV of settlements covers fewer than {LISTED_AT_MOST} of them, so that its TOTAL \
             is the range's: ask for a shorter range (from, to)"
        ),
    ))
}

/// What releasing a held order books: what is left of the payment, less what is left of its
/// fee, less each receiver's share of what is left (a share shrinks with the refunds made
/// while the money was held, rounded up: `share_given_back`).
pub fn on_release(o: Paid<'_>) -> Vec<Move> {
    let left = o.paid.saturating_sub(o.refunded);
    let fee_left = o.fee.saturating_sub(o.fee_refunded);
    let mut moves: Vec<Option<Move>> = vec![
        mv(MoveKind::Release, left as i64, None),
        mv(MoveKind::Fee, -(fee_left as i64), None),
    ];
    for s in o.splits {
        let share = s.amount - share_given_back(s.amount, o.paid, 0, o.refunded);
        moves.push(mv(MoveKind::Split, -(share as i64), Some(&s.receiver_id)));
    }
    moves.into_iter().flatten().collect()
}

/// What a refund of `amount` of a released order books (`o` as it was before the refund;
/// `fee_back` the fee it gave back): the refund, the fee returned, and each receiver's share
/// clawed back pro rata.
pub fn on_refund_of_released(o: Paid<'_>, amount: u64, fee_back: u64) -> Vec<Move> {
    let mut moves: Vec<Option<Move>> = vec![
        mv(MoveKind::Refund, -(amount as i64), None),
        mv(MoveKind::FeeBack, fee_back as i64, None),
    ];
    for s in o.splits {
        let back = share_given_back(s.amount, o.paid, o.refunded, amount);
        moves.push(mv(MoveKind::SplitBack, back as i64, Some(&s.receiver_id)));
    }
    moves.into_iter().flatten().collect()
}

/// The merchant day (days since 1970-01-01 on the merchant's calendar) of a business time.
pub fn merchant_day(at_ms: i64, utc_offset_minutes: i32) -> i64 {
    (at_ms + i64::from(utc_offset_minutes) * 60_000).div_euclid(DAY_MS)
}

/// When a merchant day closes: its 24:00 on the merchant's calendar.
pub fn day_closes_at(day: i64, utc_offset_minutes: i32) -> i64 {
    (day + 1) * DAY_MS - i64::from(utc_offset_minutes) * 60_000
}

/// A closed day's batch, settled T+1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Batch {
    /// Released that day.
    pub gross: u64,
    /// Refunds of released money that day.
    pub refunds: u64,
    /// Fees of the money released, less fees given back by the refunds.
    pub fees: i64,
    /// Receivers' shares booked, less shares clawed back.
    pub splits: i64,
    /// What the merchant is paid (negative: the day's refunds exceeded its releases, and the
    /// difference is owed by the merchant).
    pub net: i64,
}

/// The batch of a day's movements.
pub fn batch(moves: impl IntoIterator<Item = (MoveKind, i64)>) -> Batch {
    let mut b = Batch::default();
    for (kind, amount) in moves {
        match kind {
            MoveKind::Release => b.gross += amount as u64,
            MoveKind::Refund => b.refunds += (-amount) as u64,
            MoveKind::Fee | MoveKind::FeeBack => b.fees -= amount,
            MoveKind::Split | MoveKind::SplitBack => b.splits -= amount,
        }
        b.net += amount;
    }
    b
}

/// The longest a failed sweep into a group's pool waits before it is sent again.
pub const SWEEP_MAX_BACKOFF_MS: i64 = 3_600_000;
/// Failed sweeps of one settlement in a row that raise a `settlement.anomaly` alert.
pub const SWEEP_ALERT_AFTER: i64 = 5;

/// After `failed` failed sweeps of a settlement in a row: how long until the next (1 s,
/// doubling, at most an hour: a sweep is never given up), and whether staff are alerted.
pub fn sweep_retry(failed: i64) -> (i64, bool) {
    let wait = (1_000i64 << (failed - 1).clamp(0, 12)).min(SWEEP_MAX_BACKOFF_MS);
    (wait, failed >= SWEEP_ALERT_AFTER)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_csv_of_settlements_is_refused_when_the_listing_may_have_left_some_out() {
        assert!(super::whole_for_csv(0).is_ok());
        assert!(super::whole_for_csv(super::LISTED_AT_MOST - 1).is_ok());
        let refused = super::whole_for_csv(super::LISTED_AT_MOST).unwrap_err();
        assert_eq!(refused.param.as_deref(), Some("from"));
    }

    use super::*;

    #[test]
    fn a_failing_sweep_backs_off_and_alerts_after_five() {
        assert_eq!(sweep_retry(1), (1_000, false));
        assert_eq!(sweep_retry(4), (8_000, false));
        assert_eq!(sweep_retry(5), (16_000, true));
        assert_eq!(sweep_retry(40), (SWEEP_MAX_BACKOFF_MS, true));
    }

    fn split(r: &str, amount: u64) -> Split {
        Split {
            receiver_id: r.into(),
            amount,
        }
    }

    /// Shares that take all the merchant keeps, refunded a fen at a time before or after the
    /// release: what the order books never goes below zero, and is zero once all is refunded.
    #[test]
    fn shares_never_take_more_than_the_merchant_keeps() {
        use crate::domain::money_rules::{fee, given_back};
        for (paid, receivers) in [(1_000u64, 2u64), (999, 3), (1_234, 5), (77, 2)] {
            let f = fee(paid, 60);
            let each = (paid - f) / receivers;
            let mut splits: Vec<Split> = (0..receivers)
                .map(|i| split(&format!("r{i}"), each))
                .collect();
            splits[0].amount += (paid - f) - each * receivers;
            for released_after in [0, 1, paid / 2, paid] {
                let (mut refunded, mut fee_refunded, mut booked) = (0u64, 0u64, 0i64);
                let money = |refunded, fee_refunded| Paid {
                    paid,
                    refunded,
                    fee: f,
                    fee_refunded,
                    splits: &splits,
                };
                for step in 0..=paid {
                    if step == released_after {
                        booked += on_release(money(refunded, fee_refunded))
                            .iter()
                            .map(|m| m.amount)
                            .sum::<i64>();
                    }
                    if refunded == paid {
                        break;
                    }
                    let back = given_back(f, paid, refunded, 1);
                    if step >= released_after {
                        booked += on_refund_of_released(money(refunded, fee_refunded), 1, back)
                            .iter()
                            .map(|m| m.amount)
                            .sum::<i64>();
                    }
                    refunded += 1;
                    fee_refunded += back;
                    if step >= released_after {
                        assert!(
                            booked >= 0,
                            "paid {paid}, {receivers} receivers, {refunded} refunded: {booked}"
                        );
                    }
                }
                if released_after == paid {
                    booked += on_release(money(refunded, fee_refunded))
                        .iter()
                        .map(|m| m.amount)
                        .sum::<i64>();
                }
                assert_eq!(
                    booked, 0,
                    "paid {paid}, all refunded, released after {released_after}"
                );
            }
        }
    }

    #[test]
    fn a_release_books_what_is_left_after_refunds_while_held() {
        let splits = [split("rcv_a", 300)];
        // ¥10.00 at 0.6 % (fee 6), ¥2.50 refunded while held (fee back 2, share back 75).
        let o = Paid {
            paid: 1_000,
            refunded: 250,
            fee: 6,
            fee_refunded: 2,
            splits: &splits,
        };
        let m = on_release(o);
        let amounts: Vec<(MoveKind, i64)> = m.iter().map(|m| (m.kind, m.amount)).collect();
        assert_eq!(
            amounts,
            [
                (MoveKind::Release, 750),
                (MoveKind::Fee, -4),
                (MoveKind::Split, -225)
            ]
        );
        assert_eq!(m[2].receiver_id.as_deref(), Some("rcv_a"));
        assert_eq!(batch(amounts).net, 521);
    }

    #[test]
    fn refunds_of_released_money_claw_back_what_they_should() {
        let splits = [split("rcv_a", 333), split("rcv_b", 1)];
        let paid = Paid {
            paid: 1_000,
            refunded: 0,
            fee: 6,
            fee_refunded: 0,
            splits: &splits,
        };
        let all = on_refund_of_released(paid, 1_000, 6);
        let b = batch(all.iter().map(|m| (m.kind, m.amount)));
        assert_eq!((b.refunds, b.fees, b.splits), (1_000, -6, -334));
        // Each share's part of a refund is rounded up (a share keeps less than a fen more than
        // its proportion, never more): a 1 fen refund claws a fen back from each, and books no
        // zero line for the fee it gives back none of.
        let small = on_refund_of_released(paid, 1, 0);
        let kinds: Vec<(MoveKind, i64)> = small.iter().map(|m| (m.kind, m.amount)).collect();
        assert_eq!(
            kinds,
            [
                (MoveKind::Refund, -1),
                (MoveKind::SplitBack, 1),
                (MoveKind::SplitBack, 1)
            ]
        );
    }

    #[test]
    fn days_close_at_midnight_on_the_merchants_calendar() {
        // 2026-12-03T15:59:59.999Z is 23:59:59.999 in UTC+8; a millisecond later is the next day.
        let t = 1_796_313_599_999;
        let d = merchant_day(t, 480);
        assert_eq!(merchant_day(t + 1, 480), d + 1);
        assert_eq!(day_closes_at(d, 480), t + 1);
        assert_eq!(merchant_day(-1, 0), -1);
        let (y, mo, dd) = paydesk_shared::time::civil_from_days(d);
        assert_eq!((y, mo, dd), (2026, 12, 3));
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod invariant {
        use super::*;
        use crate::domain::money_rules::{fee, given_back, rate_bp, Industry};
        use proptest::prelude::*;

        #[derive(Debug, Clone)]
        enum Step {
            Pay(u64, u64),
            Refund(usize, u64),
            Release(usize),
            CloseDay,
        }

        fn steps() -> impl Strategy<Value = Vec<Step>> {
            prop::collection::vec(
                prop_oneof![
                    (1u64..2_000_000, 0u64..100).prop_map(|(a, s)| Step::Pay(a, s)),
                    (0usize..40, 1u64..2_000_000).prop_map(|(i, a)| Step::Refund(i, a)),
                    (0usize..40).prop_map(Step::Release),
                    Just(Step::CloseDay),
                ],
                1..150,
            )
        }

        struct Order {
            paid: u64,
            refunded: u64,
            fee: u64,
            fee_refunded: u64,
            splits: Vec<Split>,
            released: bool,
        }

        impl Order {
            fn money(&self) -> Paid<'_> {
                Paid {
                    paid: self.paid,
                    refunded: self.refunded,
                    fee: self.fee,
                    fee_refunded: self.fee_refunded,
                    splits: &self.splits,
                }
            }
        }

        proptest! {
            /// A month of payments (some with a share for a receiver), refunds of held or
            /// released money, releases and day closes: at every step settled + releasable +
            /// held + shared = paid − refunded − fees, to the fen.
            #[test]
            fn nothing_appears_or_disappears(ss in steps(), industry in prop_oneof![
                Just(Industry::Education), Just(Industry::Retail), Just(Industry::Services)]) {
                let mut orders: Vec<Order> = Vec::new();
                let (mut volume, mut settled, mut shared) = (0u64, 0i64, 0i64);
                let mut open: Vec<Move> = Vec::new();
                for s in ss {
                    match s {
                        Step::Pay(a, pct) => {
                            let f = fee(a, rate_bp(industry, volume));
                            volume += a;
                            let share = (a - f) * pct / 100;
                            let splits = if share > 0 { vec![split("rcv", share)] } else { vec![] };
                            orders.push(Order { paid: a, refunded: 0, fee: f, fee_refunded: 0, splits, released: false });
                        }
                        Step::Refund(i, a) => {
                            let Some(o) = orders.get_mut(i) else { continue };
                            let a = a.min(o.paid - o.refunded);
                            if a == 0 { continue; }
                            let back = given_back(o.fee, o.paid, o.refunded, a);
                            if o.released {
                                open.extend(on_refund_of_released(o.money(), a, back));
                            }
                            o.refunded += a;
                            o.fee_refunded += back;
                        }
                        Step::Release(i) => {
                            let Some(o) = orders.get_mut(i) else { continue };
                            if !o.released {
                                o.released = true;
                                open.extend(on_release(o.money()));
                            }
                        }
                        Step::CloseDay => {
                            settled += batch(open.iter().map(|m| (m.kind, m.amount))).net;
                            shared -= open.iter().filter(|m| m.receiver_id.is_some()).map(|m| m.amount).sum::<i64>();
                            open.clear();
                        }
                    }
                    let releasable: i64 = open.iter().map(|m| m.amount).sum();
                    let pending_shares: i64 = -open.iter().filter(|m| m.receiver_id.is_some()).map(|m| m.amount).sum::<i64>();
                    let held: i64 = orders.iter().filter(|o| !o.released)
                        .map(|o| (o.paid - o.refunded) as i64 - (o.fee - o.fee_refunded) as i64).sum();
                    let paid: i64 = orders.iter().map(|o| o.paid as i64).sum();
                    let refunded: i64 = orders.iter().map(|o| o.refunded as i64).sum();
                    let fees: i64 = orders.iter().map(|o| (o.fee - o.fee_refunded) as i64).sum();
                    prop_assert_eq!(settled + releasable + held + shared + pending_shares, paid - refunded - fees);
                }
                for o in &orders {
                    prop_assert!(o.fee_refunded <= o.fee);
                    if o.refunded == o.paid { prop_assert_eq!(o.fee_refunded, o.fee); }
                }
            }
        }
    }
}
