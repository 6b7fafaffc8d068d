//! Messages to people (staff alerts, payer reminders): the channels, what a merchant's messaging
//! settings may say, where each kind of alert goes, the retry schedule, and quiet hours. Pure;
//! `merchant/messages.rs` keeps the outbox and `merchant/message_delivery.rs` sends it.

use super::contact_rules::{is_email, is_phone, mask_email, mask_phone};
use super::order_rules::check_notify_url;
use super::refusal::Refusal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Cloudflare's `send_email` binding.
    Email,
    /// The merchant's SMS provider: a signed HTTPS POST.
    Sms,
    /// The merchant's inbox (`GET /v1/inbox`): staff only.
    Inbox,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Inbox => "inbox",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            "email" => Some(Channel::Email),
            "sms" => Some(Channel::Sms),
            "inbox" => Some(Channel::Inbox),
            _ => None,
        }
    }
}

/// The language a message is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Locale {
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl Locale {
    /// `zh-CN` unless `en` is asked for by name.
    pub fn parse(s: Option<&str>) -> Option<Locale> {
        match s {
            None | Some("zh-CN") => Some(Locale::ZhCn),
            Some("en") => Some(Locale::En),
            Some(_) => None,
        }
    }
}

/// The kinds of staff alert, each routed on its own: what `GET /v1/alerts` calls `type`.
pub const ALERT_KINDS: [&str; 8] = [
    "notifications.failing",
    "channel.circuit_open",
    "merchant.frozen",
    "reviews.waiting",
    "approvals.waiting",
    "settlement.anomaly",
    "dunning.exhausted",
    "refund.owed",
];

/// `PUT /v1/messaging`: who on the merchant's staff is told, how, and where SMS go.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessagingSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_phone: Option<String>,
    /// `zh-CN` (default) or `en`: the language of staff messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_locale: Option<String>,
    /// The SMS provider's endpoint; without it nothing goes by SMS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_url: Option<String>,
    /// Alert kind → channels. A kind not named goes to the inbox and, when a staff email is
    /// set, by email.
    #[serde(default)]
    pub alert_routes: BTreeMap<String, Vec<Channel>>,
}

impl MessagingSettings {
    /// Checked whole; any fault names its field.
    pub fn check(&self, dev: bool) -> Result<(), Refusal> {
        if self.staff_email.as_deref().is_some_and(|e| !is_email(e)) {
            return Err(Refusal::param(
                "staff_email",
                "staff_email is not a valid address",
            ));
        }
        if self.staff_phone.as_deref().is_some_and(|p| !is_phone(p)) {
            return Err(Refusal::param(
                "staff_phone",
                "staff_phone is a mainland mobile number (11 digits) or +country code and number",
            ));
        }
        if Locale::parse(self.staff_locale.as_deref()).is_none() {
            return Err(Refusal::param(
                "staff_locale",
                "staff_locale is zh-CN or en",
            ));
        }
        if let Some(url) = &self.sms_url {
            check_notify_url(url, dev)
                .map_err(|why| Refusal::param("sms_url", why.replace("notify_url", "sms_url")))?;
        }
        for (kind, channels) in &self.alert_routes {
            if !ALERT_KINDS.contains(&kind.as_str()) {
                return Err(Refusal::param(
                    "alert_routes",
                    format!(
                        "{kind} is not an alert kind; kinds: {}",
                        ALERT_KINDS.join(", ")
                    ),
                ));
            }
            if channels.len() > 3 {
                return Err(Refusal::param(
                    "alert_routes",
                    "a kind goes to at most the three channels",
                ));
            }
        }
        Ok(())
    }

    /// What may be shown of them: the staff's phone and email masked.
    pub fn masked(&self) -> MessagingSettings {
        MessagingSettings {
            staff_email: self.staff_email.as_deref().map(mask_email),
            staff_phone: self.staff_phone.as_deref().map(mask_phone),
            ..self.clone()
        }
    }

    /// These settings with each staff contact sent back exactly as `current` shows it (masked)
    /// kept as it is: a form filled from `GET /v1/messaging` can be sent back whole without
    /// retyping the contacts it could only show masked.
    pub fn keeping(&self, current: &MessagingSettings) -> MessagingSettings {
        let shown = current.masked();
        let keep = |given: &Option<String>, shown: &Option<String>, stored: &Option<String>| {
            if given.is_some() && given == shown {
                stored.clone()
            } else {
                given.clone()
            }
        };
        MessagingSettings {
            staff_email: keep(&self.staff_email, &shown.staff_email, &current.staff_email),
            staff_phone: keep(&self.staff_phone, &shown.staff_phone, &current.staff_phone),
            ..self.clone()
        }
    }

    /// The channels an alert of `kind` goes to, each only if it can reach someone.
    pub fn route(&self, kind: &str) -> Vec<Channel> {
        let mut chosen = match self.alert_routes.get(kind) {
            Some(c) => c.clone(),
            None => vec![Channel::Inbox, Channel::Email],
        };
        chosen.sort();
        chosen.dedup();
        chosen.retain(|c| match c {
            Channel::Inbox => true,
            Channel::Email => self.staff_email.is_some(),
            Channel::Sms => self.staff_phone.is_some() && self.sms_url.is_some(),
        });
        chosen
    }
}

/// What prompted a message: the key it is written under, with its channel, is unique, so the
/// same prompt never writes a message twice (a retried transaction, an alarm run again, an alert
/// seen again while open: it is counted, not raised, and writes nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt<'a> {
    /// The alert with this number, raised or resolved.
    Alert { seq: i64, raised: bool },
    /// The event with this id.
    Event(&'a str),
}

/// The message's unique key: one per prompt and channel.
pub fn message_key(p: Prompt<'_>, channel: Channel) -> String {
    match p {
        Prompt::Alert { seq, raised } => {
            let phase = if raised { "raised" } else { "resolved" };
            format!("alert:{seq}:{phase}:{}", channel.as_str())
        }
        Prompt::Event(id) => format!("event:{id}:{}", channel.as_str()),
    }
}

/// Delays after the 1st, 2nd, ... failed attempt to send a message: 1 min, 5 min, 30 min, 2 h,
/// 6 h. After the 6th failed attempt (8 h 36 min in all) it is FAILED: a reminder later than
/// that is no longer a reminder.
pub const RETRY_SCHEDULE_SECS: [i64; 5] = [60, 300, 1800, 7200, 21_600];

/// A provider that has not answered within this long has failed.
pub const TIMEOUT_MS: u64 = 10_000;

/// When to try again after `attempts_made` failed attempts, or `None` when it has failed.
pub fn next_delay_ms(attempts_made: u32) -> Option<i64> {
    let i = (attempts_made as usize).checked_sub(1)?;
    RETRY_SCHEDULE_SECS.get(i).map(|s| s * 1000)
}

/// No SMS reaches a payer between 22:00 and 08:00 merchant time.
pub const QUIET_FROM_HOUR: i64 = 22;
pub const QUIET_UNTIL_HOUR: i64 = 8;

/// Whether an SMS may go to a payer at `at_ms` (merchant time is UTC plus `offset_minutes`);
/// if not, when it may: 08:00 that morning (or the next, from 22:00 on).
pub fn quiet_until(at_ms: i64, offset_minutes: i32) -> Option<i64> {
    const HOUR: i64 = 3_600_000;
    const DAY: i64 = 24 * HOUR;
    let local = at_ms + i64::from(offset_minutes) * 60_000;
    let into_day = local.rem_euclid(DAY);
    let hour = into_day / HOUR;
    if (QUIET_UNTIL_HOUR..QUIET_FROM_HOUR).contains(&hour) {
        return None;
    }
    let midnight = local - into_day;
    let morning = if hour >= QUIET_FROM_HOUR {
        midnight + DAY + QUIET_UNTIL_HOUR * HOUR
    } else {
        midnight + QUIET_UNTIL_HOUR * HOUR
    };
    Some(morning - i64::from(offset_minutes) * 60_000)
}

/// When a message due at `at` may go: a payer's SMS not in quiet hours (the quiet hours' end
/// is returned too, for the merchant to see), anything else at once.
pub fn send_at(at: i64, payer: bool, channel: Channel, offset_minutes: i32) -> (i64, Option<i64>) {
    let payer_sms = payer && channel == Channel::Sms;
    let quiet = payer_sms.then(|| quiet_until(at, offset_minutes)).flatten();
    (quiet.unwrap_or(at), quiet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_sent_back_masked_are_kept() {
        let current = MessagingSettings {
            staff_email: Some("alice@shop.example".into()),
            staff_phone: Some("13800138000".into()),
            ..MessagingSettings::default()
        };
        let shown = current.masked();
        assert_ne!(shown.staff_email, current.staff_email);
        assert_eq!(shown.keeping(&current), current);
        let changed = MessagingSettings {
            staff_email: Some("bob@shop.example".into()),
            staff_phone: None,
            ..shown.clone()
        };
        let kept = changed.keeping(&current);
        assert_eq!(kept.staff_email.as_deref(), Some("bob@shop.example"));
        assert_eq!(kept.staff_phone, None, "removed stays removed");
    }

    const H: i64 = 3_600_000;

    #[test]
    fn quiet_hours_hold_sms_until_eight_merchant_time() {
        // 2026-01-01T00:00Z is 08:00 in Beijing (UTC+8).
        let day = 1_767_225_600_000;
        assert_eq!(quiet_until(day, 480), None, "08:00 is not quiet");
        assert_eq!(quiet_until(day + 13 * H, 480), None, "21:00 is not quiet");
        // 22:00 and 23:30 wait until 08:00 the next morning.
        assert_eq!(quiet_until(day + 14 * H, 480), Some(day + 24 * H));
        assert_eq!(quiet_until(day + 15 * H + H / 2, 480), Some(day + 24 * H));
        // 03:00 waits until 08:00 the same morning; 07:59:59 too.
        assert_eq!(quiet_until(day - 5 * H, 480), Some(day));
        assert_eq!(quiet_until(day - 1000, 480), Some(day));
        // In UTC, 08:00 Beijing is midnight: quiet.
        assert_eq!(quiet_until(day, 0), Some(day + 8 * H));
    }

    #[test]
    fn one_message_per_prompt_and_channel() {
        let raised = Prompt::Alert {
            seq: 7,
            raised: true,
        };
        let resolved = Prompt::Alert {
            seq: 7,
            raised: false,
        };
        let keys = [
            message_key(raised, Channel::Email),
            message_key(raised, Channel::Sms),
            message_key(resolved, Channel::Email),
            message_key(
                Prompt::Alert {
                    seq: 8,
                    raised: true,
                },
                Channel::Email,
            ),
            message_key(Prompt::Event("evt_1"), Channel::Email),
            message_key(Prompt::Event("evt_2"), Channel::Email),
        ];
        let mut unique = keys.to_vec();
        unique.sort();
        unique.dedup();
        assert_eq!(
            unique.len(),
            keys.len(),
            "distinct prompts never share a key"
        );
        assert_eq!(
            message_key(raised, Channel::Email),
            keys[0],
            "the same prompt does"
        );
    }

    #[test]
    fn only_a_payers_sms_waits_out_quiet_hours() {
        let night = 1_767_225_600_000 + 15 * H; // 23:00 in Beijing
        let morning = 1_767_225_600_000 + 24 * H;
        assert_eq!(
            send_at(night, true, Channel::Sms, 480),
            (morning, Some(morning))
        );
        assert_eq!(send_at(night, false, Channel::Sms, 480), (night, None));
        assert_eq!(send_at(night, true, Channel::Email, 480), (night, None));
        assert_eq!(send_at(morning, true, Channel::Sms, 480), (morning, None));
    }

    #[test]
    fn messages_retry_then_fail() {
        assert_eq!(next_delay_ms(0), None);
        assert_eq!(next_delay_ms(1), Some(60_000));
        assert_eq!(next_delay_ms(5), Some(21_600_000));
        assert_eq!(next_delay_ms(6), None);
    }

    fn settings() -> MessagingSettings {
        MessagingSettings {
            staff_email: Some("ops@shop.example".into()),
            staff_phone: Some("13812345678".into()),
            sms_url: Some("https://sms.example/send".into()),
            ..Default::default()
        }
    }

    #[test]
    fn alerts_go_where_the_merchant_routes_them() {
        let mut s = settings();
        assert_eq!(
            s.route("merchant.frozen"),
            vec![Channel::Email, Channel::Inbox]
        );
        s.alert_routes.insert(
            "merchant.frozen".into(),
            vec![Channel::Sms, Channel::Sms, Channel::Email],
        );
        assert_eq!(
            s.route("merchant.frozen"),
            vec![Channel::Email, Channel::Sms]
        );
        // A channel that cannot reach anyone is dropped.
        s.sms_url = None;
        s.staff_email = None;
        assert_eq!(s.route("merchant.frozen"), vec![]);
        assert_eq!(s.route("reviews.waiting"), vec![Channel::Inbox]);
    }

    #[test]
    fn settings_are_checked_whole_and_shown_masked() {
        assert!(settings().check(false).is_ok());
        let bad = |f: fn(&mut MessagingSettings), field: &str| {
            let mut s = settings();
            f(&mut s);
            let r = s.check(false).unwrap_err();
            assert_eq!(r.param.as_deref(), Some(field));
        };
        bad(|s| s.staff_email = Some("nope".into()), "staff_email");
        bad(|s| s.staff_phone = Some("12345".into()), "staff_phone");
        bad(|s| s.staff_locale = Some("fr".into()), "staff_locale");
        bad(|s| s.sms_url = Some("http://10.0.0.1/x".into()), "sms_url");
        bad(
            |s| {
                s.alert_routes.insert("lunch".into(), vec![Channel::Inbox]);
            },
            "alert_routes",
        );
        let m = settings().masked();
        assert_eq!(m.staff_phone.as_deref(), Some("138****5678"));
        assert_eq!(m.staff_email.as_deref(), Some("o***@shop.example"));
    }
}
