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
    TotpEnabled,
    TotpDisabled,
    RecoveryCodeUsed,
    RecoveryCodesRegenerated,
    PasswordChanged,
    RefreshReuseDetected,
}

impl EventKind {
    /// Every kind, in the order the API documents them.
    pub const ALL: [EventKind; 10] = [
        Self::LoginSucceeded,
        Self::LoginFailed,
        Self::SecondFactorFailed,
        Self::Lockout,
        Self::TotpEnabled,
        Self::TotpDisabled,
        Self::RecoveryCodeUsed,
        Self::RecoveryCodesRegenerated,
        Self::PasswordChanged,
        Self::RefreshReuseDetected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::LoginSucceeded => "login_succeeded",
            Self::LoginFailed => "login_failed",
            Self::SecondFactorFailed => "second_factor_failed",
            Self::Lockout => "lockout",
            Self::TotpEnabled => "totp_enabled",
            Self::TotpDisabled => "totp_disabled",
            Self::RecoveryCodeUsed => "recovery_code_used",
            Self::RecoveryCodesRegenerated => "recovery_codes_regenerated",
            Self::PasswordChanged => "password_changed",
            Self::RefreshReuseDetected => "refresh_reuse_detected",
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
        serde_json::json!({
            "level": "info",
            "msg": "security_event",
            "event": self.kind.as_str(),
            "user_id": self.user_id,
            "at": self.at,
            "ip": self.ip,
            "detail": self.detail,
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
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
