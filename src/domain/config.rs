//! Configuration from Worker `[vars]` and secrets, parsed once per isolate.
//!
//! Built from a plain lookup function so it is testable natively; the Worker passes
//! a closure over `Env`.

use super::cors::{CorsError, CorsPolicy};
use super::device::DeviceTokens;
use super::keys::{parse_key_list, parse_key_list_with_bare, KeyEntry, KeyError};
use super::recovery::RecoveryHasher;
use super::secret_box::{SecretBox, SecretBoxError};
use super::session::Aal2Lifetime;
use super::throttle::HARD_CAP;
use super::tokens::{PublicKeyEntry, TokenService, TokenServiceError};
use super::webauthn::{RelyingParty, RelyingPartyError};

pub struct Config {
    pub tokens: TokenService,
    pub totp_box: SecretBox,
    pub recovery: RecoveryHasher,
    pub device_tokens: DeviceTokens,
    /// Consecutive failures per account and factor before the factor is locked.
    pub max_failed_attempts: i64,
    pub totp_issuer: String,
    pub refresh_ttl: i64,
    pub mfa_ttl: i64,
    pub enrollment_ttl: i64,
    pub aal2: Aal2Lifetime,
    pub cors: CorsPolicy,
    /// Passkeys' relying party, when `WEBAUTHN_RP_ID` and `WEBAUTHN_ORIGINS` are set
    /// (both or neither).
    pub webauthn: Option<RelyingParty>,
    /// How many Argon2id computations may wait for their turn before new ones are
    /// refused (503 `overloaded`) instead of queued.
    pub argon2_queue_max: usize,
    /// Security events older than this many days are deleted by the scheduled housekeeping.
    pub event_retention_days: i64,
    /// Sender of every email (`EMAIL_FROM`), and the public origin its links point to.
    pub mail: MailSettings,
}

pub struct MailSettings {
    pub from: String,
    pub public_url: String,
}

/// KV refuses TTLs under 60 s.
const KV_MIN_TTL: i64 = 60;

/// Why the configuration was refused. Names the setting, never a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// A required `[vars]` entry is missing.
    MissingVar(&'static str),
    /// A duration var is not a whole number.
    NotSeconds(&'static str),
    NotACount(&'static str),
    /// A duration var is outside its allowed range.
    OutOfRange {
        var: &'static str,
        min: i64,
        max: i64,
    },
    /// A required secret is missing.
    MissingSecret(&'static str),
    /// A key secret does not parse.
    Key(KeyError),
    /// The signing keys do not make a token service.
    Tokens(TokenServiceError),
    /// The TOTP encryption keys do not make a secret box.
    SecretBox(SecretBoxError),
    /// `CORS_ALLOWED_ORIGINS` does not parse.
    Cors(CorsError),
    /// `WEBAUTHN_RP_ID` / `WEBAUTHN_ORIGINS` are not a pair browsers accept.
    WebAuthn(RelyingPartyError),
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MissingVar(name) => write!(f, "var {name} is not set"),
            Self::NotSeconds(name) => write!(f, "var {name} must be a whole number of seconds"),
            Self::NotACount(name) => write!(f, "var {name} must be a whole number"),
            Self::OutOfRange { var, min, max } => {
                write!(f, "var {var} must be between {min} and {max}")
            }
            Self::MissingSecret(name) => write!(f, "secret {name} is not set"),
            // The parts' own messages, as they are.
            Self::Key(e) => e.fmt(f),
            Self::Tokens(e) => e.fmt(f),
            Self::SecretBox(e) => e.fmt(f),
            Self::Cors(e) => e.fmt(f),
            Self::WebAuthn(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        // The wrapped errors are displayed as this one (not as a cause of it), so their
        // own sources are this error's.
        match self {
            Self::Key(e) => e.source(),
            Self::Tokens(e) => e.source(),
            Self::SecretBox(e) => e.source(),
            Self::Cors(e) => e.source(),
            Self::WebAuthn(e) => e.source(),
            _ => None,
        }
    }
}

impl From<KeyError> for ConfigError {
    fn from(e: KeyError) -> Self {
        Self::Key(e)
    }
}

impl From<TokenServiceError> for ConfigError {
    fn from(e: TokenServiceError) -> Self {
        Self::Tokens(e)
    }
}

impl From<SecretBoxError> for ConfigError {
    fn from(e: SecretBoxError) -> Self {
        Self::SecretBox(e)
    }
}

impl From<CorsError> for ConfigError {
    fn from(e: CorsError) -> Self {
        Self::Cors(e)
    }
}

impl Config {
    /// `var` reads `[vars]`, `secret` reads secrets, `public_key` gives the public key of
    /// a signing seed (`tokens::public_key` natively; the Worker asks WebCrypto, which
    /// also signs). Errors name the setting, never a value.
    pub fn load(
        var: impl Fn(&str) -> Option<String>,
        secret: impl Fn(&str) -> Option<String>,
        public_key: impl Fn(&KeyEntry) -> Option<[u8; 32]>,
    ) -> Result<Self, ConfigError> {
        let required = |name: &'static str| var(name).ok_or(ConfigError::MissingVar(name));
        let seconds = |name: &'static str, min: i64, max: i64| -> Result<i64, ConfigError> {
            let v: i64 = required(name)?
                .trim()
                .parse()
                .map_err(|_| ConfigError::NotSeconds(name))?;
            if !(min..=max).contains(&v) {
                return Err(ConfigError::OutOfRange {
                    var: name,
                    min,
                    max,
                });
            }
            Ok(v)
        };
        let count = |name: &'static str, min: i64, max: i64| -> Result<i64, ConfigError> {
            let v: i64 = required(name)?
                .trim()
                .parse()
                .map_err(|_| ConfigError::NotACount(name))?;
            if !(min..=max).contains(&v) {
                return Err(ConfigError::OutOfRange {
                    var: name,
                    min,
                    max,
                });
            }
            Ok(v)
        };
        let secret_required =
            |name: &'static str| secret(name).ok_or(ConfigError::MissingSecret(name));

        let signing_keys =
            parse_key_list("JWT_SIGNING_KEYS", &secret_required("JWT_SIGNING_KEYS")?)?;
        let totp_keys = parse_key_list(
            "TOTP_ENCRYPTION_KEYS",
            &secret_required("TOTP_ENCRYPTION_KEYS")?,
        )?;
        // A list since rotation; the single bare key it used to be still parses.
        let recovery_keys =
            parse_key_list_with_bare("RECOVERY_CODE_KEY", &secret_required("RECOVERY_CODE_KEY")?)?;
        let device_keys =
            parse_key_list("DEVICE_TOKEN_KEYS", &secret_required("DEVICE_TOKEN_KEYS")?)?;

        Ok(Self {
            tokens: TokenService::from_public_keys(
                signing_keys
                    .iter()
                    .map(|k| {
                        let key = public_key(k)
                            .ok_or_else(|| TokenServiceError::NoPublicKey(k.kid.clone()))?;
                        Ok(PublicKeyEntry {
                            kid: k.kid.clone(),
                            key,
                        })
                    })
                    .collect::<Result<_, TokenServiceError>>()?,
                required("JWT_ISSUER")?,
                required("JWT_AUDIENCE")?,
                required("JWT_CLIENT_ID")?,
                seconds("ACCESS_TOKEN_TTL", 60, 3600)?,
            )?,
            totp_box: SecretBox::new(&totp_keys)?,
            recovery: RecoveryHasher::new(recovery_keys),
            device_tokens: DeviceTokens::new(device_keys),
            // 800-63B allows at most 100; lower is for tests and stricter deployments.
            max_failed_attempts: count("MAX_FAILED_ATTEMPTS", 1, HARD_CAP)?,
            totp_issuer: required("TOTP_ISSUER")?,
            refresh_ttl: seconds("REFRESH_TOKEN_TTL", 3600, 400 * 86400)?,
            mfa_ttl: seconds("MFA_TOKEN_TTL", KV_MIN_TTL, 900)?,
            enrollment_ttl: seconds("ENROLLMENT_TTL", KV_MIN_TTL, 3600)?,
            // 800-63B rev 4 caps AAL2 at 24 hours and 1 hour idle; shorter is allowed.
            aal2: Aal2Lifetime {
                max_age: seconds("AAL2_MAX_AGE", 1, 86_400)?,
                idle: seconds("AAL2_IDLE_TIMEOUT", 1, 3_600)?,
            },
            argon2_queue_max: count("ARGON2_QUEUE_MAX", 1, 10_000)? as usize,
            event_retention_days: count("EVENT_RETENTION_DAYS", 1, 3_650)?,
            cors: CorsPolicy::parse(&var("CORS_ALLOWED_ORIGINS").unwrap_or_default())?,
            webauthn: match (var("WEBAUTHN_RP_ID"), var("WEBAUTHN_ORIGINS")) {
                (None, None) => None,
                (Some(id), Some(origins)) => {
                    Some(RelyingParty::parse(&id, &origins).map_err(ConfigError::WebAuthn)?)
                }
                (None, Some(_)) => return Err(ConfigError::MissingVar("WEBAUTHN_RP_ID")),
                (Some(_), None) => return Err(ConfigError::MissingVar("WEBAUTHN_ORIGINS")),
            },
            mail: MailSettings {
                from: required("EMAIL_FROM")?,
                public_url: required("JWT_ISSUER")?.trim_end_matches('/').to_owned(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::keys::test_key_list;
    use std::collections::HashMap;

    fn settings() -> HashMap<&'static str, String> {
        HashMap::from([
            ("JWT_ISSUER", "https://login.example".to_string()),
            ("JWT_AUDIENCE", "apps".to_string()),
            ("JWT_CLIENT_ID", "demo-app".to_string()),
            ("ACCESS_TOKEN_TTL", "900".to_string()),
            ("REFRESH_TOKEN_TTL", "2592000".to_string()),
            ("MFA_TOKEN_TTL", "300".to_string()),
            ("ENROLLMENT_TTL", "600".to_string()),
            ("ARGON2_QUEUE_MAX", "128".to_string()),
            ("EVENT_RETENTION_DAYS", "365".to_string()),
            ("EMAIL_FROM", "no-reply@login.example".to_string()),
            ("AAL2_MAX_AGE", "86400".to_string()),
            ("AAL2_IDLE_TIMEOUT", "3600".to_string()),
            ("TOTP_ISSUER", "Edge Login".to_string()),
            ("JWT_SIGNING_KEYS", test_key_list(&["k1"])),
            ("TOTP_ENCRYPTION_KEYS", test_key_list(&["t1"])),
            ("RECOVERY_CODE_KEY", test_key_list(&["r"])[2..].to_string()),
            ("DEVICE_TOKEN_KEYS", test_key_list(&["d1"])),
            ("MAX_FAILED_ATTEMPTS", "100".to_string()),
        ])
    }

    fn load(s: &HashMap<&'static str, String>) -> Result<Config, ConfigError> {
        Config::load(
            |k| s.get(k).cloned(),
            |k| s.get(k).cloned(),
            |seed| Some(crate::domain::tokens::public_key(seed)),
        )
    }

    #[test]
    fn passkeys_are_configured_by_both_webauthn_vars_or_neither() {
        assert_eq!(load(&settings()).unwrap().webauthn, None);
        let mut s = settings();
        s.insert("WEBAUTHN_RP_ID", "localhost".into());
        s.insert("WEBAUTHN_ORIGINS", "http://localhost:8787".into());
        let rp = load(&s).unwrap().webauthn.unwrap();
        assert_eq!((rp.id.as_str(), rp.origins.len()), ("localhost", 1));
    }

    #[test]
    fn loads_a_complete_configuration() {
        let c = load(&settings()).unwrap();
        assert_eq!(c.mfa_ttl, 300);
        assert_eq!(c.max_failed_attempts, 100);
        assert_eq!(c.tokens.lifetime_seconds(), 900);
        assert_eq!(
            c.aal2,
            Aal2Lifetime {
                max_age: 86_400,
                idle: 3_600
            }
        );
    }

    #[test]
    fn names_what_is_missing_or_wrong() {
        let mut s = settings();
        s.remove("JWT_SIGNING_KEYS");
        assert!(load(&s)
            .err()
            .unwrap()
            .to_string()
            .contains("JWT_SIGNING_KEYS"));
        let mut s = settings();
        s.insert("MFA_TOKEN_TTL", "30".into());
        assert!(load(&s)
            .err()
            .unwrap()
            .to_string()
            .contains("MFA_TOKEN_TTL"));
        let mut s = settings();
        s.insert("ACCESS_TOKEN_TTL", "soon".into());
        assert!(load(&s)
            .err()
            .unwrap()
            .to_string()
            .contains("ACCESS_TOKEN_TTL"));
    }

    #[test]
    fn errors_keep_their_messages() {
        let refused = |edit: &dyn Fn(&mut HashMap<&'static str, String>)| {
            let mut s = settings();
            edit(&mut s);
            load(&s).err().unwrap()
        };
        for (err, want, text) in [
            (
                refused(&|s| {
                    s.remove("JWT_ISSUER");
                }),
                ConfigError::MissingVar("JWT_ISSUER"),
                "var JWT_ISSUER is not set",
            ),
            (
                refused(&|s| {
                    s.insert("ACCESS_TOKEN_TTL", "soon".into());
                }),
                ConfigError::NotSeconds("ACCESS_TOKEN_TTL"),
                "var ACCESS_TOKEN_TTL must be a whole number of seconds",
            ),
            (
                refused(&|s| {
                    s.insert("MFA_TOKEN_TTL", "30".into());
                }),
                ConfigError::OutOfRange {
                    var: "MFA_TOKEN_TTL",
                    min: 60,
                    max: 900,
                },
                "var MFA_TOKEN_TTL must be between 60 and 900",
            ),
            (
                refused(&|s| {
                    s.remove("RECOVERY_CODE_KEY");
                }),
                ConfigError::MissingSecret("RECOVERY_CODE_KEY"),
                "secret RECOVERY_CODE_KEY is not set",
            ),
            (
                refused(&|s| {
                    s.insert("JWT_SIGNING_KEYS", "nokid".into());
                }),
                ConfigError::Key(KeyError::NotKidKey {
                    secret: "JWT_SIGNING_KEYS",
                    entry: 0,
                }),
                "JWT_SIGNING_KEYS: entry 0 is not kid:key",
            ),
            (
                refused(&|s| {
                    s.insert("RECOVERY_CODE_KEY", "abc".into());
                }),
                ConfigError::Key(KeyError::WrongLength {
                    secret: "RECOVERY_CODE_KEY",
                    kid: None,
                }),
                "RECOVERY_CODE_KEY must be 32 bytes",
            ),
            (
                refused(&|s| {
                    s.insert("MAX_FAILED_ATTEMPTS", "101".into());
                }),
                ConfigError::OutOfRange {
                    var: "MAX_FAILED_ATTEMPTS",
                    min: 1,
                    max: 100,
                },
                "var MAX_FAILED_ATTEMPTS must be between 1 and 100",
            ),
            (
                refused(&|s| {
                    s.remove("DEVICE_TOKEN_KEYS");
                }),
                ConfigError::MissingSecret("DEVICE_TOKEN_KEYS"),
                "secret DEVICE_TOKEN_KEYS is not set",
            ),
            (
                refused(&|s| {
                    s.insert("CORS_ALLOWED_ORIGINS", "example.com".into());
                }),
                ConfigError::Cors(CorsError::NoScheme("example.com".into())),
                r#"CORS origin "example.com" must start with https:// or http://"#,
            ),
            (
                refused(&|s| {
                    s.insert("WEBAUTHN_RP_ID", "127.0.0.1".into());
                    s.insert("WEBAUTHN_ORIGINS", "http://127.0.0.1:8787".into());
                }),
                ConfigError::WebAuthn(RelyingPartyError::BadRpId),
                "WEBAUTHN_RP_ID must be a lowercase domain name, not an IP address",
            ),
            (
                refused(&|s| {
                    s.insert("WEBAUTHN_RP_ID", "localhost".into());
                }),
                ConfigError::MissingVar("WEBAUTHN_ORIGINS"),
                "var WEBAUTHN_ORIGINS is not set",
            ),
        ] {
            assert_eq!(err, want);
            assert_eq!(err.to_string(), text);
        }
        let boxed: Box<dyn std::error::Error> = Box::new(ConfigError::MissingVar("X"));
        assert_eq!(boxed.to_string(), "var X is not set");
    }
}
