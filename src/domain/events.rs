//! Security events: what happened to an account, for the user (`GET /v1/events`) and for
//! the operator (one structured log line each). They carry ids, kinds and an IP, never
//! a password, code, token or secret.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    LoginSucceeded,
    LoginFailed,
    SecondFactorFailed,
    Lockout,
    FactorLocked,
    TotpEnabled,
    TotpDisabled,
    RecoveryCodeUsed,
    RecoveryCodesRegenerated,
    PasswordChanged,
    /// The password was set with a code from the account's address.
    PasswordReset,
    RefreshReuseDetected,
    /// The user ended sessions from the sessions list; `detail` is how many.
    SessionsEnded,
    /// A login from a client without a valid device token (also `login_succeeded`).
    NewDeviceLogin,
    EmailVerified,
    /// The account's address was replaced (the old one, if verified, is told).
    EmailChanged,
    AccountDeleted,
}

impl EventKind {
    /// Every kind, in the order the API documents them.
    pub const ALL: [EventKind; 17] = [
        Self::LoginSucceeded,
        Self::LoginFailed,
        Self::SecondFactorFailed,
        Self::Lockout,
        Self::FactorLocked,
        Self::TotpEnabled,
        Self::TotpDisabled,
        Self::RecoveryCodeUsed,
        Self::RecoveryCodesRegenerated,
        Self::PasswordChanged,
        Self::PasswordReset,
        Self::RefreshReuseDetected,
        Self::SessionsEnded,
        Self::NewDeviceLogin,
        Self::EmailVerified,
        Self::EmailChanged,
        Self::AccountDeleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::LoginSucceeded => "login_succeeded",
            Self::LoginFailed => "login_failed",
            Self::SecondFactorFailed => "second_factor_failed",
            Self::Lockout => "lockout",
            Self::FactorLocked => "factor_locked",
            Self::TotpEnabled => "totp_enabled",
            Self::TotpDisabled => "totp_disabled",
            Self::RecoveryCodeUsed => "recovery_code_used",
            Self::RecoveryCodesRegenerated => "recovery_codes_regenerated",
            Self::PasswordChanged => "password_changed",
            Self::PasswordReset => "password_reset",
            Self::RefreshReuseDetected => "refresh_reuse_detected",
            Self::SessionsEnded => "sessions_ended",
            Self::NewDeviceLogin => "new_device_login",
            Self::EmailVerified => "email_verified",
            Self::EmailChanged => "email_changed",
            Self::AccountDeleted => "account_deleted",
        }
    }
}

/// One event. `detail` is a short fixed phrase or a number chosen by the code, never
/// user input.
#[derive(Debug, Clone, Serialize)]
pub struct SecurityEvent {
    pub kind: EventKind,
    pub user_id: String,
    pub at: i64,
    pub ip: Option<String>,
    pub detail: Option<String>,
}

impl SecurityEvent {
    pub fn new(kind: EventKind, user_id: &str, at: i64, ip: Option<&str>) -> Self {
        Self {
            kind,
            user_id: user_id.to_owned(),
            at,
            ip: ip.map(str::to_owned),
            detail: None,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// The log line for this event.
    pub fn log_line(&self) -> String {
        // A struct, not a json! map: no intermediate Value (and less WASM).
        #[derive(Serialize)]
        struct Line<'a> {
            level: &'static str,
            msg: &'static str,
            event: &'static str,
            user_id: &'a str,
            at: i64,
            ip: Option<&'a str>,
            detail: Option<&'a str>,
        }
        serde_json::to_string(&Line {
            level: "info",
            msg: "security_event",
            event: self.kind.as_str(),
            user_id: &self.user_id,
            at: self.at,
            ip: self.ip.as_deref(),
            detail: self.detail.as_deref(),
        })
        .expect("plain struct serializes")
    }
}

/// Which page of the security log a caller asked for: `limit` events (1 to 100, 50 by
/// default) older than the opaque `before` cursor (the `next_cursor` of the page
/// before), newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPage {
    pub before: Option<i64>,
    pub limit: i64,
}

impl EventPage {
    pub const DEFAULT_LIMIT: i64 = 50;
    pub const MAX_LIMIT: i64 = 100;

    /// From the query string's pairs; unknown names are ignored, bad values refused.
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, &'static str> {
        let mut page = Self {
            before: None,
            limit: Self::DEFAULT_LIMIT,
        };
        for (name, value) in pairs {
            match name {
                "limit" => {
                    page.limit = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=Self::MAX_LIMIT).contains(n))
                        .ok_or("limit must be a whole number from 1 to 100")?;
                }
                "before" => {
                    page.before = Some(
                        decode_cursor(value).ok_or("before is not a cursor from next_cursor")?,
                    )
                }
                _ => {}
            }
        }
        Ok(page)
    }
}

/// The cursor after an event: its row id, in a form clients should not build themselves.
pub fn encode_cursor(id: i64) -> String {
    format!("e{id}")
}

fn decode_cursor(raw: &str) -> Option<i64> {
    let digits = raw.strip_prefix('e')?;
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // `e0` is before every event: a valid cursor to an empty page.
    digits.parse().ok()
}

#[cfg(test)]
mod tests {

    #[test]
    fn event_pages_parse_their_query_and_refuse_nonsense() {
        assert_eq!(
            EventPage::parse([]),
            Ok(EventPage {
                before: None,
                limit: 50
            })
        );
        assert_eq!(
            EventPage::parse([
                ("limit", "2"),
                ("before", encode_cursor(41).as_str()),
                ("x", "y")
            ]),
            Ok(EventPage {
                before: Some(41),
                limit: 2
            })
        );
        for bad in [
            ("limit", "0"),
            ("limit", "101"),
            ("limit", "two"),
            ("before", "41"),
            ("before", "e"),
            ("before", "e-1"),
            ("before", "e99999999999999999999"),
        ] {
            assert!(EventPage::parse([bad]).is_err(), "{bad:?}");
        }
    }
    use super::*;

    #[test]
    fn log_line_is_structured_and_names_the_event() {
        let e = SecurityEvent::new(EventKind::Lockout, "u1", 10, Some("203.0.113.9"))
            .with_detail("failures=5");
        let v: serde_json::Value = serde_json::from_str(&e.log_line()).unwrap();
        assert_eq!(v["event"], "lockout");
        assert_eq!(v["user_id"], "u1");
        assert_eq!(v["detail"], "failures=5");
    }
}
