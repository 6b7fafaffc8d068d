//! The operator's hold on who may use a merchant's console: list its users, change a user's
//! role or password, and remove a user (`/admin/merchants/{id}/console_users`). A removed user's
//! sessions end at once and their password no longer signs in; a new password ends the
//! sessions its old one started (it may have been seen) and lifts a lockout; a new role applies
//! to the user's live sessions at their next request (each reads the role afresh,
//! `console_users.rs`). Every change is audited as the operator's.

use super::protocol::{
    ChangeConsoleUser, ConsoleUserList, ConsoleUserRemoved, ConsoleUserView, RemoveConsoleUser,
    SessionView,
};
use super::store::{Ledger, Merchant, Result};
use crate::domain::console_rules::{self as rules, Role};
use crate::error::AppError;
use crate::runtime;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::time::format_rfc3339;
use serde::Deserialize;

fn no_such_user() -> AppError {
    AppError::code(ErrorCode::NotFound, "no console user with this email")
}

impl Ledger<'_> {
    /// `GET /admin/merchants/{id}/console_users`: every user, with their live sessions.
    pub fn console_users(&self) -> Result<ConsoleUserList> {
        #[derive(Deserialize)]
        struct Row {
            email: String,
            role: String,
            created_at_ms: i64,
            locked_until_ms: Option<i64>,
            sessions: i64,
        }
        let now = runtime::now_ms();
        let rows: Vec<Row> = self.q(
            "SELECT u.email, u.role, u.created_at_ms, u.locked_until_ms,
                    (SELECT COUNT(*) FROM console_sessions s WHERE s.email = u.email
                      AND s.ended_at_ms IS NULL AND s.expires_at_ms > ?) AS sessions
               FROM console_users u ORDER BY u.email",
            vec![now.into()],
        )?;
        let users = rows
            .into_iter()
            .map(|r| ConsoleUserView {
                email: r.email,
                role: r.role,
                created_at: format_rfc3339(r.created_at_ms),
                locked_until: r.locked_until_ms.filter(|t| *t > now).map(format_rfc3339),
                sessions: r.sessions as u32,
            })
            .collect();
        Ok(ConsoleUserList { users })
    }

    /// `PUT /admin/merchants/{id}/console_users/{email}`: a new role, a new password, or both.
    pub fn change_console_user(&self, m: &Merchant, c: &ChangeConsoleUser) -> Result<SessionView> {
        let email = rules::normal_email(&c.email)?;
        let role = match c.role.as_deref() {
            None => None,
            Some(r) => Some(Role::parse(r).ok_or_else(|| {
                AppError::param("role", "role is viewer, operator, approver or admin")
            })?),
        };
        if role.is_none() && c.password.is_none() {
            return Err(AppError::param(
                "body",
                "name a new role, a new password, or both",
            ));
        }
        let before = self.role_of(&email)?.ok_or_else(no_such_user)?;
        let after = role.map_or(before.clone(), |r| r.as_str().to_owned());
        let now = runtime::now_ms();
        let at = self.now(m);
        if role.is_some() {
            self.x(
                "UPDATE console_users SET role = ? WHERE email = ?",
                vec![after.as_str().into(), email.as_str().into()],
            )?;
            self.audit(at, "admin", "console_user.role", &email, &before, &after)?;
        }
        if let Some(p) = &c.password {
            self.x(
                "UPDATE console_users SET salt_hex = ?, hash_hex = ?, iterations = ?,
                        failures = 0, locked_until_ms = NULL, last_failed_ms = NULL
                  WHERE email = ?",
                vec![
                    p.salt_hex.as_str().into(),
                    p.hash_hex.as_str().into(),
                    i64::from(p.iterations).into(),
                    email.as_str().into(),
                ],
            )?;
            let ended = self.end_sessions_of(&email, now)?;
            let note = format!("{ended} sessions ended");
            self.audit(at, "admin", "console_user.password", &email, "", &note)?;
        }
        Ok(SessionView {
            email,
            role: after,
            expires_at_ms: None,
            session_id: None,
        })
    }

    /// `DELETE /admin/merchants/{id}/console_users/{email}`: the user and their sessions end.
    /// What they did stays in the audit chain under their name.
    pub fn remove_console_user(
        &self,
        m: &Merchant,
        r: &RemoveConsoleUser,
    ) -> Result<ConsoleUserRemoved> {
        let email = rules::normal_email(&r.email)?;
        let role = self.role_of(&email)?.ok_or_else(no_such_user)?;
        let ended = self.end_sessions_of(&email, runtime::now_ms())?;
        self.x(
            "DELETE FROM console_users WHERE email = ?",
            vec![email.as_str().into()],
        )?;
        self.audit(
            self.now(m),
            "admin",
            "console_user.remove",
            &email,
            &role,
            "",
        )?;
        Ok(ConsoleUserRemoved {
            email,
            sessions_ended: ended,
        })
    }

    fn role_of(&self, email: &str) -> Result<Option<String>> {
        Ok(self.console_user(email)?.map(|u| u.role))
    }

    /// Ends the user's live sessions; how many.
    fn end_sessions_of(&self, email: &str, now: i64) -> Result<u32> {
        let live = self
            .number(
                "SELECT COUNT(*) AS v FROM console_sessions
                  WHERE email = ? AND ended_at_ms IS NULL AND expires_at_ms > ?",
                vec![email.into(), now.into()],
            )?
            .unwrap_or(0);
        self.x(
            "UPDATE console_sessions SET ended_at_ms = ? WHERE email = ? AND ended_at_ms IS NULL",
            vec![now.into(), email.into()],
        )?;
        Ok(live as u32)
    }
}
