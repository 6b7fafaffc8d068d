//! Risk rules: what a payer's payment attempt is judged on (its [`Signals`]), which rule fires
//! with what outcome ([`evaluate`]), when a merchant's refund or decline rate freezes it
//! ([`freeze`]), and the configuration that sets them per merchant ([`RiskConfig`], checked
//! by [`check`]). Every decision names the rule and the figures that triggered it, so the
//! audit chain can say why.

use super::refusal::Refusal;
use serde::{Deserialize, Serialize};

/// What a rule does to a payment. Ordered by severity: the most severe rule that fires wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Allow,
    /// The payment goes through, its money held in a review queue until the merchant
    /// approves it (or rejects it: refunded in full; undecided by the deadline: the same).
    Review,
    /// The payment is refused before the channel sees it.
    Block,
}

/// At most `max_per_minute` payment attempts in any minute, else `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Velocity {
    pub max_per_minute: u32,
    pub action: Action,
}

/// An amount above `factor` times the median of the merchant's last `history` paid orders
/// (judged once at least `min_history` were paid), else `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outlier {
    pub factor: u32,
    #[serde(default = "default_history")]
    pub history: u32,
    #[serde(default = "default_min_history")]
    pub min_history: u32,
    pub action: Action,
}

fn default_history() -> u32 {
    50
}

fn default_min_history() -> u32 {
    10
}

/// At most `max` declines of the same payer, card or client IP in 10 minutes; the next
/// attempt gets `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declines {
    pub max: u32,
    pub action: Action,
}

/// Freeze the merchant when, over the last `window_days` (and since it was last unfrozen),
/// refunds exceed `refund_rate_pct` of the amount paid or declines `decline_rate_pct` of the
/// attempts, once at least `min_payments` attempts were made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Freeze {
    pub refund_rate_pct: u32,
    pub decline_rate_pct: u32,
    #[serde(default = "default_window_days")]
    pub window_days: u32,
    #[serde(default = "default_min_payments")]
    pub min_payments: u32,
}

fn default_window_days() -> u32 {
    7
}

fn default_min_payments() -> u32 {
    20
}

fn default_review_hours() -> u32 {
    24
}

/// A merchant's risk rules. Each rule is off until set; the freeze rule is on by default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskConfig {
    /// Attempts per payer (`payer_ref` of the order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<Velocity>,
    /// Attempts per card (or wallet) fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<Velocity>,
    /// Attempts per client IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<Velocity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Outlier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declines: Option<Declines>,
    /// On by default: absent means the defaults, `null` means off. It is therefore always
    /// written, `null` included, so that switching it off survives being stored and read back.
    #[serde(default = "default_freeze")]
    pub freeze: Option<Freeze>,
    /// Hours the merchant has to decide a review; undecided, the payment is refunded in full.
    #[serde(default = "default_review_hours")]
    pub review_hours: u32,
}

fn default_freeze() -> Option<Freeze> {
    Some(Freeze {
        refund_rate_pct: 50,
        decline_rate_pct: 60,
        window_days: default_window_days(),
        min_payments: default_min_payments(),
    })
}

impl Default for RiskConfig {
    fn default() -> Self {
        RiskConfig {
            payer: None,
            card: None,
            ip: None,
            amount: None,
            declines: None,
            freeze: default_freeze(),
            review_hours: default_review_hours(),
        }
    }
}

/// Refuses a configuration that cannot work, naming the field (`risk.<rule>.<field>`).
pub fn check(c: &RiskConfig) -> Result<(), Refusal> {
    let bad = |field: &str, why: &str| Err(Refusal::param(&format!("risk.{field}"), why));
    for (name, v) in [("payer", c.payer), ("card", c.card), ("ip", c.ip)] {
        if let Some(v) = v {
            if !(1..=10_000).contains(&v.max_per_minute) {
                return bad(
                    &format!("{name}.max_per_minute"),
                    "max_per_minute is 1 to 10000",
                );
            }
        }
    }
    if let Some(o) = c.amount {
        if !(2..=1_000).contains(&o.factor) {
            return bad("amount.factor", "factor is 2 to 1000 (times the median)");
        }
        if !(1..=500).contains(&o.history) || o.min_history == 0 || o.min_history > o.history {
            return bad(
                "amount.history",
                "history is 1 to 500 orders, min_history 1 to history",
            );
        }
    }
    if let Some(d) = c.declines {
        if !(1..=1_000).contains(&d.max) {
            return bad("declines.max", "max is 1 to 1000 declines in 10 minutes");
        }
    }
    if let Some(f) = c.freeze {
        if !(1..=100).contains(&f.refund_rate_pct) || !(1..=100).contains(&f.decline_rate_pct) {
            return bad(
                "freeze",
                "refund_rate_pct and decline_rate_pct are 1 to 100",
            );
        }
        if !(1..=30).contains(&f.window_days) || !(1..=100_000).contains(&f.min_payments) {
            return bad("freeze", "window_days is 1 to 30, min_payments 1 to 100000");
        }
    }
    if !(1..=168).contains(&c.review_hours) {
        return bad("review_hours", "review_hours is 1 to 168");
    }
    Ok(())
}

/// What an attempt is judged on. Counts include this attempt; `None`: the attempt has no
/// such identity (an order without `payer_ref`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Signals {
    pub payer_per_minute: Option<u32>,
    pub card_per_minute: u32,
    pub ip_per_minute: Option<u32>,
    /// Declines of this payer, card or IP in the last 10 minutes (the most of the three).
    pub recent_declines: u32,
    pub amount: i64,
    /// The median amount of the last paid orders, and how many there were.
    pub median: Option<(i64, u32)>,
}

/// The decline window of the `declines` rule.
pub const DECLINE_WINDOW_MS: i64 = 10 * 60_000;
/// The velocity window.
pub const MINUTE_MS: i64 = 60_000;

/// A rule's verdict: what to do, which rule, and the figures that made it fire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub action: Action,
    pub rule: String,
    pub figures: String,
}

/// The most severe verdict of the rules that fire, or `None` if none does (the first rule
/// in the order below wins a tie).
pub fn evaluate(c: &RiskConfig, s: &Signals) -> Option<Decision> {
    let mut fired: Vec<Decision> = Vec::new();
    let mut fire = |action: Action, rule: &str, figures: String| {
        fired.push(Decision {
            action,
            rule: rule.to_owned(),
            figures,
        })
    };
    let velocity = [
        ("payer_velocity", c.payer, s.payer_per_minute),
        ("card_velocity", c.card, Some(s.card_per_minute)),
        ("ip_velocity", c.ip, s.ip_per_minute),
    ];
    for (rule, v, n) in velocity {
        if let (Some(v), Some(n)) = (v, n) {
            if n > v.max_per_minute {
                fire(
                    v.action,
                    rule,
                    format!("{n} attempts in a minute, limit {}", v.max_per_minute),
                );
            }
        }
    }
    if let Some(d) = c.declines {
        if s.recent_declines >= d.max {
            let n = s.recent_declines;
            fire(
                d.action,
                "repeated_declines",
                format!("{n} declines in 10 minutes, limit {}", d.max),
            );
        }
    }
    if let (Some(o), Some((median, n))) = (c.amount, s.median) {
        if n >= o.min_history && s.amount > median.saturating_mul(i64::from(o.factor)) {
            let figures = format!(
                "amount {} is over {}x the median {} of the last {n} paid orders",
                s.amount, o.factor, median
            );
            fire(o.action, "amount_outlier", figures);
        }
    }
    let worst = fired.iter().map(|d| d.action).max()?;
    fired.into_iter().find(|d| d.action == worst)
}

/// The median of amounts (the lower middle of an even count).
pub fn median(mut amounts: Vec<i64>) -> Option<(i64, u32)> {
    if amounts.is_empty() {
        return None;
    }
    amounts.sort_unstable();
    Some((amounts[(amounts.len() - 1) / 2], amounts.len() as u32))
}

/// The merchant's recent record, over the freeze window since it was last unfrozen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Record {
    pub attempts: u64,
    pub declines: u64,
    pub paid: u64,
    pub refunded: u64,
}

/// Where the freeze rule's window starts at `now`: `window_days` back, or the last unfreeze if
/// that was later (an operator's unfreeze starts the count afresh).
pub fn freeze_window_start(f: &Freeze, now: i64, unfrozen_at: Option<i64>) -> i64 {
    (now - i64::from(f.window_days) * 86_400_000).max(unfrozen_at.unwrap_or(i64::MIN))
}

/// When a review opened at `now` is rejected (refunded) if nobody decided it.
pub fn review_due(c: &RiskConfig, now: i64) -> i64 {
    now + i64::from(c.review_hours) * 3_600_000
}

/// The hours a review opened at `created_ms` and due at `due_ms` was given, as the payer was told
/// them: the setting when it opened, whatever it is now (rounded up; at least one).
pub fn review_hours(created_ms: i64, due_ms: i64) -> u32 {
    let hours = (due_ms - created_ms + 3_599_999).div_euclid(3_600_000);
    u32::try_from(hours.max(1)).unwrap_or(u32::MAX)
}

/// Whether the record freezes the merchant: the rule and its figures.
pub fn freeze(c: &RiskConfig, r: &Record) -> Option<Decision> {
    let f = c.freeze?;
    if r.attempts < u64::from(f.min_payments) {
        return None;
    }
    let over = |part: u64, whole: u64, pct: u32| whole > 0 && part * 100 > whole * u64::from(pct);
    let (rule, figures) = if over(r.refunded, r.paid, f.refund_rate_pct) {
        let figures = format!(
            "refunded {} of {} paid in {} days ({}%), limit {}%",
            r.refunded,
            r.paid,
            f.window_days,
            r.refunded * 100 / r.paid,
            f.refund_rate_pct
        );
        ("refund_rate", figures)
    } else if over(r.declines, r.attempts, f.decline_rate_pct) {
        let figures = format!(
            "{} of {} attempts declined in {} days ({}%), limit {}%",
            r.declines,
            r.attempts,
            f.window_days,
            r.declines * 100 / r.attempts,
            f.decline_rate_pct
        );
        ("decline_rate", figures)
    } else {
        return None;
    };
    Some(Decision {
        action: Action::Block,
        rule: rule.into(),
        figures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn velocity(max: u32, action: Action) -> Option<Velocity> {
        Some(Velocity {
            max_per_minute: max,
            action,
        })
    }

    #[test]
    fn nothing_fires_without_rules_and_freeze_is_on_by_default() {
        let c = RiskConfig::default();
        let s = Signals {
            payer_per_minute: Some(1_000),
            card_per_minute: 1_000,
            amount: 1_000_000,
            median: Some((1, 50)),
            ..Signals::default()
        };
        assert_eq!(evaluate(&c, &s), None);
        assert!(c.freeze.is_some());
        let parsed: RiskConfig = crate::json_text::from_text("{}").unwrap();
        assert_eq!(parsed, c);
    }

    #[test]
    fn a_velocity_rule_fires_above_its_limit_not_at_it() {
        let c = RiskConfig {
            payer: velocity(5, Action::Block),
            ..RiskConfig::default()
        };
        let at = Signals {
            payer_per_minute: Some(5),
            ..Signals::default()
        };
        assert_eq!(evaluate(&c, &at), None);
        let d = evaluate(
            &c,
            &Signals {
                payer_per_minute: Some(6),
                ..at
            },
        )
        .unwrap();
        assert_eq!(
            (d.action, d.rule.as_str()),
            (Action::Block, "payer_velocity")
        );
        assert_eq!(d.figures, "6 attempts in a minute, limit 5");
        // No payer identity: the payer rule cannot fire.
        assert_eq!(
            evaluate(
                &c,
                &Signals {
                    payer_per_minute: None,
                    ..at
                }
            ),
            None
        );
    }

    #[test]
    fn the_most_severe_rule_wins() {
        let c = RiskConfig {
            card: velocity(1, Action::Review),
            ip: velocity(1, Action::Block),
            amount: Some(Outlier {
                factor: 10,
                history: 50,
                min_history: 5,
                action: Action::Review,
            }),
            ..RiskConfig::default()
        };
        let s = Signals {
            card_per_minute: 2,
            ip_per_minute: Some(2),
            amount: 10_001,
            median: Some((1_000, 5)),
            ..Signals::default()
        };
        assert_eq!(evaluate(&c, &s).unwrap().rule, "ip_velocity");
        let only_amount = Signals {
            card_per_minute: 1,
            ip_per_minute: Some(1),
            ..s
        };
        let d = evaluate(&c, &only_amount).unwrap();
        assert_eq!(
            (d.action, d.rule.as_str()),
            (Action::Review, "amount_outlier")
        );
        assert_eq!(
            d.figures,
            "amount 10001 is over 10x the median 1000 of the last 5 paid orders"
        );
        // Too little history: not judged.
        let young = Signals {
            median: Some((1_000, 4)),
            ..only_amount
        };
        assert_eq!(evaluate(&c, &young), None);
    }

    #[test]
    fn repeated_declines_fire_at_their_count() {
        let c = RiskConfig {
            declines: Some(Declines {
                max: 3,
                action: Action::Block,
            }),
            ..RiskConfig::default()
        };
        let s = |n| Signals {
            recent_declines: n,
            ..Signals::default()
        };
        assert_eq!(evaluate(&c, &s(2)), None);
        assert_eq!(evaluate(&c, &s(3)).unwrap().rule, "repeated_declines");
    }

    #[test]
    fn the_median_is_the_lower_middle() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![5, 1, 3]), Some((3, 3)));
        assert_eq!(median(vec![4, 1, 3, 2]), Some((2, 4)));
    }

    #[test]
    fn freeze_needs_enough_payments_and_a_rate_over_its_limit() {
        let c = RiskConfig::default(); // refunds 50%, declines 60%, 20 attempts
        let r = Record {
            attempts: 19,
            declines: 19,
            paid: 100,
            refunded: 100,
        };
        assert_eq!(freeze(&c, &r), None, "too few attempts to judge");
        let r = Record {
            attempts: 20,
            declines: 12,
            paid: 1_000,
            refunded: 500,
        };
        assert_eq!(freeze(&c, &r), None, "at the limits, not over");
        let refunds = freeze(&c, &Record { refunded: 501, ..r }).unwrap();
        assert_eq!(refunds.rule, "refund_rate");
        assert_eq!(
            refunds.figures,
            "refunded 501 of 1000 paid in 7 days (50%), limit 50%"
        );
        let declines = freeze(&c, &Record { declines: 13, ..r }).unwrap();
        assert_eq!(declines.rule, "decline_rate");
        let off = RiskConfig {
            freeze: None,
            ..RiskConfig::default()
        };
        assert_eq!(
            freeze(
                &off,
                &Record {
                    refunded: 1_000,
                    ..r
                }
            ),
            None
        );
    }

    #[test]
    fn the_freeze_window_starts_afresh_at_an_unfreeze_and_a_review_has_its_hours() {
        let f = default_freeze().unwrap();
        let now = 30 * 86_400_000;
        assert_eq!(freeze_window_start(&f, now, None), 23 * 86_400_000);
        assert_eq!(freeze_window_start(&f, now, Some(1)), 23 * 86_400_000);
        assert_eq!(
            freeze_window_start(&f, now, Some(29 * 86_400_000)),
            29 * 86_400_000
        );
        assert_eq!(
            review_due(&RiskConfig::default(), 1_000),
            1_000 + 24 * 3_600_000
        );
    }

    #[test]
    fn a_review_keeps_the_hours_it_was_opened_with() {
        let c = RiskConfig {
            review_hours: 168,
            ..RiskConfig::default()
        };
        assert_eq!(review_hours(5_000, review_due(&c, 5_000)), 168);
        assert_eq!(review_hours(0, 1), 1);
        assert_eq!(review_hours(0, 0), 1);
    }

    #[test]
    fn a_freeze_switched_off_stays_off_once_stored_and_a_missing_one_is_on() {
        let off: RiskConfig = crate::json_text::from_text(r#"{"freeze":null}"#).unwrap();
        assert_eq!(off.freeze, None);
        let stored = serde_json::to_string(&off).unwrap();
        let read: RiskConfig = crate::json_text::from_text(&stored).unwrap();
        assert_eq!(read.freeze, None, "{stored}");
        let missing: RiskConfig = crate::json_text::from_text("{}").unwrap();
        assert_eq!(missing.freeze, default_freeze());
    }

    #[test]
    fn a_config_that_cannot_work_is_refused_by_field() {
        let field = |json: &str| {
            let c: RiskConfig = crate::json_text::from_text(json).unwrap();
            check(&c).err().and_then(|r| r.param)
        };
        assert_eq!(
            field(r#"{"payer":{"max_per_minute":5,"action":"block"}}"#),
            None
        );
        assert_eq!(
            field(r#"{"card":{"max_per_minute":0,"action":"review"}}"#).as_deref(),
            Some("risk.card.max_per_minute")
        );
        assert_eq!(
            field(r#"{"amount":{"factor":1,"action":"review"}}"#).as_deref(),
            Some("risk.amount.factor")
        );
        assert_eq!(
            field(r#"{"amount":{"factor":5,"history":5,"min_history":6,"action":"review"}}"#)
                .as_deref(),
            Some("risk.amount.history")
        );
        assert_eq!(
            field(r#"{"review_hours":0}"#).as_deref(),
            Some("risk.review_hours")
        );
        assert_eq!(
            field(r#"{"freeze":{"refund_rate_pct":0,"decline_rate_pct":50}}"#).as_deref(),
            Some("risk.freeze")
        );
        let unknown: Result<RiskConfig, _> =
            crate::json_text::from_text(r#"{"payer":{"max_per_minute":5,"action":"maybe"}}"#);
        assert!(unknown.is_err());
        let extra: Result<RiskConfig, _> = crate::json_text::from_text(r#"{"velocity":{}}"#);
        assert!(extra.is_err());
    }
}
