//! The console's users and sessions: roles and what each may do (enforced on the server for
//! every action), the password policy and its hash's parameters, throttling of failed sign-ins,
//! and the CSRF token bound to a session. Pure; `merchant/console_users.rs` keeps the users and
//! sessions, `routes/console.rs` serves them.

use super::contact_rules::is_email;
use super::refusal::Refusal;
use serde::{Deserialize, Serialize};

/// What a console user is trusted with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything; changes nothing.
    Viewer,
    /// Reads, and runs the business: refunds, resends, rules (a change above the merchant's
    /// thresholds waits for approval).
    Operator,
    /// Reads, and approves or rejects what waits for approval, and risk reviews.
    Approver,
    /// Everything, alert channels and the webhook secret too.
    Admin,
}

/// What a request asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    Operate,
    Approve,
    /// Alert channels and secrets.
    Administer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "viewer" => Role::Viewer,
            "operator" => Role::Operator,
            "approver" => Role::Approver,
            "admin" => Role::Admin,
            _ => return None,
        })
    }

    /// Whether this role may do `a`.
    pub fn allows(self, a: Action) -> bool {
        match a {
            Action::Read => true,
            Action::Operate => matches!(self, Role::Operator | Role::Admin),
            Action::Approve => matches!(self, Role::Approver | Role::Admin),
            Action::Administer => self == Role::Admin,
        }
    }
}

/// PBKDF2-SHA256 iterations for a new password hash (through the runtime's WebCrypto; each
/// user's own count is kept, so it can be raised later).
pub const PBKDF2_ITERATIONS: u32 = 210_000;

/// A password is 12-128 characters.
pub fn check_password(p: &str) -> Result<(), Refusal> {
    let n = p.chars().count();
    if !(12..=128).contains(&n) {
        return Err(Refusal::param("password", "password is 12-128 characters"));
    }
    Ok(())
}

/// A console user's email: an address of at most 64 characters, compared lower-cased.
pub fn normal_email(e: &str) -> Result<String, Refusal> {
    let e = e.trim().to_lowercase();
    // An approver is named by their email: at most 64 characters.
    if !is_email(&e) || e.len() > 64 {
        return Err(Refusal::param("email", "email is not a valid address"));
    }
    Ok(e)
}

/// Failed sign-ins in a row before the user is locked out.
pub const LOCK_AFTER: i64 = 5;

/// After `failures` failed sign-ins in a row: how long the user is locked out (15 min at the
/// fifth, doubling, at most a day), or `None`.
pub fn lockout_ms(failures: i64) -> Option<i64> {
    const MIN15: i64 = 15 * 60_000;
    let over = failures - LOCK_AFTER;
    (over >= 0).then(|| (MIN15 << over.min(7)).min(24 * 3_600_000))
}

/// Equal bytes, compared without stopping at the first difference (hashes, CSRF tokens).
pub fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// How long failed sign-ins are remembered after the last one, a user's as an email's that is
/// no user: at least the longest lockout, so a stranger's lockout lasts as a user's would, and
/// a user's count is forgotten as a stranger's is (else the lockout after a day's quiet would
/// tell a user from a stranger).
pub const STRANGER_KEPT_MS: i64 = 24 * 3_600_000;

/// A user's failed sign-ins in a row once this one fails: counted from one again when the last
/// failure is older than `STRANGER_KEPT_MS` (or not known: a count from before it was timed).
pub fn failures_after(failures: i64, last_failed_ms: Option<i64>, now_ms: i64) -> i64 {
    match last_failed_ms {
        Some(t) if now_ms - t <= STRANGER_KEPT_MS => failures + 1,
        _ => 1,
    }
}

/// How long a session lasts.
pub const SESSION_MS: i64 = 12 * 3_600_000;

/// The number of a refund issued from the console, from the one-time key its form sent (32
/// lowercase hex digits, made by the browser when the form was shown and kept until a refund
/// succeeds): a submission sent again after a lost answer names the same refund, which is
/// answered as it stands instead of refunding twice.
pub fn refund_number(key: &str) -> Result<String, Refusal> {
    let hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    if key.len() != 32 || !key.bytes().all(hex) {
        return Err(Refusal::param(
            "key",
            "key is the form's 32 lowercase hex digits",
        ));
    }
    Ok(format!("CR{key}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_s_failures_are_forgotten_after_a_quiet_day_as_a_stranger_s_are() {
        let now = 10 * STRANGER_KEPT_MS;
        assert_eq!(failures_after(4, Some(now - 60_000), now), 5);
        assert_eq!(failures_after(4, Some(now - STRANGER_KEPT_MS), now), 5);
        assert_eq!(failures_after(4, Some(now - STRANGER_KEPT_MS - 1), now), 1);
        assert_eq!(failures_after(4, None, now), 1);
    }

    #[test]
    fn roles_allow_what_they_are_for() {
        use Action::*;
        let table = [
            (Role::Viewer, [true, false, false, false]),
            (Role::Operator, [true, true, false, false]),
            (Role::Approver, [true, false, true, false]),
            (Role::Admin, [true, true, true, true]),
        ];
        for (role, allowed) in table {
            for (a, want) in [Read, Operate, Approve, Administer]
                .into_iter()
                .zip(allowed)
            {
                assert_eq!(role.allows(a), want, "{role:?} {a:?}");
            }
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn failed_sign_ins_lock_out_longer_each_time() {
        assert_eq!(lockout_ms(4), None);
        assert_eq!(lockout_ms(5), Some(15 * 60_000));
        assert_eq!(lockout_ms(6), Some(30 * 60_000));
        assert_eq!(lockout_ms(40), Some(24 * 3_600_000));
    }

    #[test]
    fn passwords_and_emails_are_checked() {
        assert!(check_password("correct horse").is_ok());
        assert_eq!(
            check_password("short").unwrap_err().param.as_deref(),
            Some("password")
        );
        assert_eq!(
            normal_email(" Ops@Shop.Example ").unwrap(),
            "ops@shop.example"
        );
        assert!(normal_email("nope").is_err());
    }

    #[test]
    fn a_console_refund_is_numbered_by_its_forms_key() {
        let key = "0123456789abcdef0123456789abcdef";
        assert_eq!(refund_number(key).unwrap(), format!("CR{key}"));
        for bad in [
            "",
            "0123456789ABCDEF0123456789ABCDEF",
            &key[1..],
            "g123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(
                refund_number(bad).unwrap_err().param.as_deref(),
                Some("key"),
                "{bad}"
            );
        }
        let n = refund_number(key).unwrap();
        assert!(super::super::order_rules::is_out_refund_no(&n));
    }
}
