//! Console users and their sessions, in the merchant's object: users created through the admin
//! API (an email, a role, a PBKDF2-SHA256 hash computed by the worker through WebCrypto), signing
//! in (the hash compared in constant time; failures counted, and locked out after five in a
//! row), sessions that expire and can be ended, and every console request checked against the
//! session's role before anything is done (`domain/console_rules.rs`).

use super::api_route::ApiRoute;
use super::console_route::ConsoleRoute;
use super::protocol::{
    ApiRequest, ConsoleCall, ConsoleRefund, ConsoleReply, ConsoleSalt, ConsoleSignIn, ListOrders,
    NewConsoleUser, OrderDetail, ReviewDecision, RotateSecret, RotatedSecret, Salt, SecretKind,
    SessionView, SignInReply,
};
use super::store::{parse_body, Ledger, Merchant, Result};
use crate::config::Secret;
use crate::domain::console_rules::{self as rules, Role};
use crate::error::AppError;
use crate::runtime;
use paydesk_shared::api::{CreateRefund, ErrorCode, Refund};
use paydesk_shared::sign::{hex_lower, hmac_sha256};
use serde::Deserialize;

#[derive(Deserialize)]
pub(super) struct UserRow {
    pub role: String,
    salt_hex: String,
    hash_hex: String,
    iterations: i64,
    failures: i64,
    locked_until_ms: Option<i64>,
    #[serde(default)]
    last_failed_ms: Option<i64>,
}

#[derive(Deserialize)]
struct Stranger {
    failures: i64,
    locked_until_ms: Option<i64>,
}

fn unauthorized(why: &str) -> AppError {
    AppError::code(ErrorCode::Unauthorized, why)
}

impl Ledger<'_> {
    /// `POST /admin/merchants/{id}/console_users`: a new user (an email is one user).
    pub fn create_console_user(&self, m: &Merchant, u: &NewConsoleUser) -> Result<SessionView> {
        let email = rules::normal_email(&u.email)?;
        let role = Role::parse(&u.role).ok_or_else(|| {
            AppError::param("role", "role is viewer, operator, approver or admin")
        })?;
        if self.console_user(&email)?.is_some() {
            return Err(AppError::param(
                "email",
                "this email is already a console user",
            ));
        }
        let now = runtime::now_ms();
        self.x(
            "INSERT INTO console_users (email, role, salt_hex, hash_hex, iterations, created_at_ms)
             VALUES (?, ?, ?, ?, ?, ?)",
            vec![
                email.as_str().into(),
                role.as_str().into(),
                u.salt_hex.as_str().into(),
                u.hash_hex.as_str().into(),
                i64::from(u.iterations).into(),
                now.into(),
            ],
        )?;
        self.audit(
            self.now(m),
            "admin",
            "console_user.create",
            &email,
            "",
            role.as_str(),
        )?;
        Ok(SessionView {
            email,
            role: role.as_str().into(),
            expires_at_ms: None,
            session_id: None,
        })
    }

    pub(super) fn console_user(&self, email: &str) -> Result<Option<UserRow>> {
        self.first(
            "SELECT role, salt_hex, hash_hex, iterations, failures, locked_until_ms, last_failed_ms
             FROM console_users WHERE email = ?",
            vec![email.into()],
        )
    }

    /// A sign-in for an email that is no user fails, and is counted and locked out exactly as a
    /// user's would be, so neither the answer nor the lockout tells which emails are users.
    fn stranger_failed(&self, email: &str, now: i64) -> Result<SignInReply> {
        let key = runtime::checkout_token_key(self.env)?;
        let digest = hex_lower(&hmac_sha256(
            key.peek().as_bytes(),
            &[b"console-stranger\n", email.as_bytes()],
        ));
        self.x(
            "DELETE FROM sign_in_strangers WHERE last_ms < ?",
            vec![(now - rules::STRANGER_KEPT_MS).into()],
        )?;
        let seen: Option<Stranger> = self.first(
            "SELECT failures, locked_until_ms FROM sign_in_strangers WHERE digest = ?",
            vec![digest.as_str().into()],
        )?;
        let (failures, locked_until) = seen.map_or((0, None), |s| (s.failures, s.locked_until_ms));
        if let Some(until) = locked_until.filter(|t| *t > now) {
            return Ok(locked(until - now));
        }
        let until = rules::lockout_ms(failures + 1).map(|ms| now + ms);
        self.x(
            "INSERT INTO sign_in_strangers (digest, failures, locked_until_ms, last_ms)
             VALUES (?, 1, ?, ?) ON CONFLICT (digest) DO UPDATE
             SET failures = failures + 1, locked_until_ms = excluded.locked_until_ms,
                 last_ms = excluded.last_ms",
            vec![digest.as_str().into(), until.into(), now.into()],
        )?;
        Ok(failed(until, now))
    }

    /// The salt and iterations to hash a password with. An unknown email gets a salt of its own
    /// that never changes, so a sign-in does not tell which emails are users.
    pub fn console_salt(&self, s: &ConsoleSalt) -> Result<Salt> {
        let email = s.email.trim().to_lowercase();
        if let Some(u) = self.console_user(&email)? {
            return Ok(Salt {
                salt_hex: u.salt_hex,
                iterations: u.iterations as u32,
            });
        }
        let key = runtime::checkout_token_key(self.env)?;
        let fake = hmac_sha256(
            key.peek().as_bytes(),
            &[b"console-salt\n", email.as_bytes()],
        );
        Ok(Salt {
            salt_hex: hex_lower(&fake[..16]),
            iterations: rules::PBKDF2_ITERATIONS,
        })
    }

    /// Signs in with a password's hash: a session, or refused (the same for an unknown email
    /// and a wrong password); locked out, saying for how long, after five failures in a row.
    pub fn console_sign_in(&self, m: &Merchant, s: &ConsoleSignIn) -> Result<SignInReply> {
        let email = s.email.trim().to_lowercase();
        let now = runtime::now_ms();
        let Some(u) = self.console_user(&email)? else {
            return self.stranger_failed(&email, now);
        };
        if let Some(until) = u.locked_until_ms.filter(|t| *t > now) {
            return Ok(locked(until - now));
        }
        if !rules::constant_eq(u.hash_hex.as_bytes(), s.hash_hex.as_bytes()) {
            let failures = rules::failures_after(u.failures, u.last_failed_ms, now);
            let until = rules::lockout_ms(failures).map(|ms| now + ms);
            self.x(
                "UPDATE console_users SET failures = ?, locked_until_ms = ?, last_failed_ms = ?
                  WHERE email = ?",
                vec![
                    failures.into(),
                    until.into(),
                    now.into(),
                    email.as_str().into(),
                ],
            )?;
            let at = self.now(m);
            self.audit(
                at,
                &format!("console:{email}"),
                "console.sign_in_failed",
                &email,
                "",
                "",
            )?;
            return Ok(failed(until, now));
        }
        self.x(
            "UPDATE console_users SET failures = 0, locked_until_ms = NULL WHERE email = ?",
            vec![email.as_str().into()],
        )?;
        let session_id = format!("cs_{}", runtime::random_hex(16));
        let expires = now + rules::SESSION_MS;
        self.x(
            "INSERT INTO console_sessions (session_id, email, created_at_ms, expires_at_ms)
             VALUES (?, ?, ?, ?)",
            vec![
                session_id.as_str().into(),
                email.as_str().into(),
                now.into(),
                expires.into(),
            ],
        )?;
        self.audit(
            self.now(m),
            &format!("console:{email}"),
            "console.sign_in",
            &email,
            "",
            &u.role,
        )?;
        Ok(SignInReply::SignedIn(SessionView {
            email,
            role: u.role,
            expires_at_ms: Some(expires),
            session_id: Some(session_id),
        }))
    }

    /// The session's user and role, if it is live (not ended, not expired, its user still there).
    fn console_session(&self, session_id: &str) -> Result<(String, Role, i64)> {
        #[derive(Deserialize)]
        struct S {
            email: String,
            role: String,
            expires_at_ms: i64,
        }
        let s: Option<S> = self.first(
            "SELECT s.email, u.role, s.expires_at_ms FROM console_sessions s
             JOIN console_users u ON u.email = s.email
             WHERE s.session_id = ? AND s.ended_at_ms IS NULL AND s.expires_at_ms > ?",
            vec![session_id.into(), runtime::now_ms().into()],
        )?;
        let s = s.ok_or_else(|| unauthorized("not signed in, or the session ended"))?;
        let role = Role::parse(&s.role).ok_or_else(|| AppError::internal("unknown role"))?;
        Ok((s.email, role, s.expires_at_ms))
    }

    /// A console request: its session checked, then its role, then it is answered.
    pub fn console(&self, m: &Merchant, c: &ConsoleCall) -> Result<ConsoleReply> {
        let (email, role, expires) = self.console_session(&c.session_id)?;
        let route = ConsoleRoute::of(&c.method, &c.path)
            .map_err(|code| AppError::code(code, "no such console operation"))?;
        if !role.allows(route.action()) {
            return Err(AppError::code(
                ErrorCode::Forbidden,
                format!("a {} may not do this", role.as_str()),
            ));
        }
        // What the console does for the merchant is audited as this person's.
        *self.acting_key.borrow_mut() = Some(format!("console:{email}"));
        let actor = email.clone();
        Ok(match route {
            ConsoleRoute::Me => ConsoleReply::Me(SessionView {
                email,
                role: role.as_str().into(),
                expires_at_ms: Some(expires),
                session_id: None,
            }),
            ConsoleRoute::SignOut => {
                self.x(
                    "UPDATE console_sessions SET ended_at_ms = ? WHERE session_id = ?",
                    vec![runtime::now_ms().into(), c.session_id.as_str().into()],
                )?;
                ConsoleReply::SignedOut
            }
            ConsoleRoute::Alerts => ConsoleReply::Alerts(self.list_alerts()?),
            ConsoleRoute::Inbox => ConsoleReply::Inbox(self.inbox(&c.query)?),
            ConsoleRoute::Orders => {
                ConsoleReply::Orders(self.list_orders(m, &ListOrders::from_query(&c.query)?)?)
            }
            ConsoleRoute::Order(no) => ConsoleReply::Order(Box::new(self.order_detail(m, &no)?)),
            ConsoleRoute::Refund(no) => ConsoleReply::Refund(self.console_refund(m, &no, &c.body)?),
            ConsoleRoute::Resend(id) => ConsoleReply::Resent(self.resend_notification(m, &id)?),
            ConsoleRoute::Reviews => ConsoleReply::Reviews(self.list_reviews(&c.query)?),
            ConsoleRoute::DecideReview(id, approve) => {
                let ask: ReviewDecision = match c.body.trim() {
                    "" => ReviewDecision::default(),
                    body => parse_body(body)?,
                };
                let r = self.decide_review(m, &id, approve, &ask, "merchant_api")?;
                ConsoleReply::Review(Box::new(r))
            }
            ConsoleRoute::Approvals => ConsoleReply::Approvals(self.pending_approvals()?),
            ConsoleRoute::Settings => ConsoleReply::Settings(Box::new(self.settings_view(m)?)),
            ConsoleRoute::ChangeSettings => {
                let admin = role == Role::Admin;
                ConsoleReply::SettingsChanged(self.change_settings(m, &c.body, &actor, admin)?)
            }
            ConsoleRoute::SetMessaging => {
                let req = api_read(c);
                let req = ApiRequest {
                    method: "PUT".into(),
                    body: c.body.clone(),
                    ..req
                };
                ConsoleReply::Api(self.answer_api(m, &ApiRoute::SetMessaging, &req)?)
            }
            ConsoleRoute::RotateWebhookSecret => {
                ConsoleReply::Rotated(self.console_rotate_webhook_secret(m, &c.body)?)
            }
            ConsoleRoute::Read(r) => ConsoleReply::Api(self.answer_api(m, &r, &api_read(c))?),
            ConsoleRoute::Decide(id, approve) => {
                let d = super::protocol::Decide {
                    approval_id: id,
                    approver: actor,
                    approve,
                };
                ConsoleReply::Decision(self.decide(m, &d)?)
            }
        })
    }
}

impl Ledger<'_> {
    /// An order with its refunds, its notifications and its audit entries.
    fn order_detail(&self, m: &Merchant, no: &str) -> Result<OrderDetail> {
        let o = self.current_order(m, no)?;
        let refunds = self.refunds_of(no)?.iter().map(|r| r.wire()).collect();
        let query = format!(
            "out_trade_no={}",
            paydesk_shared::urlenc::encode_component(no)
        );
        Ok(OrderDetail {
            order: self.wire_order(&o, m)?,
            refunds,
            notifications: self.list_notifications(&query)?.notifications,
            audit: self.audit_of(no)?,
        })
    }

    /// A new webhook secret from the console (an admin's): shown once, the old one valid for
    /// `grace_seconds` (a day by default) so the merchant's servers can switch over.
    fn console_rotate_webhook_secret(&self, m: &Merchant, body: &str) -> Result<RotatedSecret> {
        #[derive(Deserialize, Default)]
        #[serde(deny_unknown_fields)]
        struct Ask {
            grace_seconds: Option<u32>,
        }
        let ask: Ask = match body.trim() {
            "" => Ask::default(),
            b => parse_body(b)?,
        };
        let grace_seconds = crate::domain::admin_rules::rotation_grace(ask.grace_seconds)?;
        crate::domain::keys::may_rotate(m.row.webhook_secret_prev_until_ms, self.real_now())?;
        let new_secret = Secret::new(format!("whsec_{}", runtime::random_hex(24)));
        let rotation = RotateSecret {
            kind: SecretKind::WebhookSecret,
            new_secret: new_secret.clone(),
            grace_seconds,
        };
        let done = self.rotate_secret(m, &rotation)?;
        Ok(RotatedSecret {
            webhook_secret: new_secret.peek().to_owned(),
            previous_valid_until: done.previous_key_valid_until,
        })
    }

    /// A refund from the console: numbered by its form's one-time key (sent again after a lost
    /// answer, it is the same refund, answered as it stands), and through approval above the
    /// merchant's threshold like any other.
    fn console_refund(&self, m: &Merchant, no: &str, body: &str) -> Result<Refund> {
        let ask: ConsoleRefund = parse_body(body)?;
        let req = CreateRefund {
            out_trade_no: no.to_owned(),
            out_refund_no: rules::refund_number(&ask.key)?,
            amount: ask.amount,
            reason: ask.reason,
        };
        Ok(self.create_refund(m, &req, None)?.0.wire())
    }
}

/// A console request as the merchant API's own (a read, unless changed), already authorised.
fn api_read(c: &ConsoleCall) -> ApiRequest {
    ApiRequest {
        method: "GET".into(),
        path: c.path.clone(),
        query: c.query.clone(),
        timestamp: String::new(),
        nonce: String::new(),
        signature: String::new(),
        body: String::new(),
        client_ip: None,
        render: false,
        declared_json: false,
    }
}

/// A failed sign-in's answer: refused, or locked out `until` then.
fn failed(until: Option<i64>, now: i64) -> SignInReply {
    match until {
        Some(t) => locked(t - now),
        None => SignInReply::Refused {
            locked_for_secs: None,
        },
    }
}

/// Locked out for what is left of it, in whole seconds.
fn locked(left_ms: i64) -> SignInReply {
    SignInReply::Refused {
        locked_for_secs: Some(((left_ms + 999) / 1000) as u32),
    }
}
