//! Configuration from Worker `[vars]` and secrets, parsed once per isolate.
//!
//! Built from a plain lookup function so it is testable natively; the Worker passes
//! a closure over `Env`.

use super::cors::CorsPolicy;
use super::keys::{parse_key_list, parse_single_key};
use super::recovery::RecoveryHasher;
use super::secret_box::SecretBox;
use super::tokens::TokenService;

pub struct Config {
    pub tokens: TokenService,
    pub totp_box: SecretBox,
    pub recovery: RecoveryHasher,
    pub totp_issuer: String,
    pub refresh_ttl: i64,
    pub mfa_ttl: i64,
    pub enrollment_ttl: i64,
    pub cors: CorsPolicy,
}

/// KV refuses TTLs under 60 s.
const KV_MIN_TTL: i64 = 60;

impl Config {
    /// `var` reads `[vars]`, `secret` reads secrets. Errors name the setting, never a value.
    pub fn load(
        var: impl Fn(&str) -> Option<String>,
        secret: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let required = |name: &str| var(name).ok_or_else(|| format!("var {name} is not set"));
        let seconds = |name: &str, min: i64, max: i64| -> Result<i64, String> {
            let v: i64 = required(name)?
                .trim()
                .parse()
                .map_err(|_| format!("var {name} must be a whole number of seconds"))?;
            if !(min..=max).contains(&v) {
                return Err(format!("var {name} must be between {min} and {max}"));
            }
            Ok(v)
        };
        let secret_required =
            |name: &str| secret(name).ok_or_else(|| format!("secret {name} is not set"));

        let signing_keys =
            parse_key_list("JWT_SIGNING_KEYS", &secret_required("JWT_SIGNING_KEYS")?)?;
        let totp_keys = parse_key_list(
            "TOTP_ENCRYPTION_KEYS",
            &secret_required("TOTP_ENCRYPTION_KEYS")?,
        )?;
        let recovery_key =
            parse_single_key("RECOVERY_CODE_KEY", &secret_required("RECOVERY_CODE_KEY")?)?;

        Ok(Self {
            tokens: TokenService::new(
                &signing_keys,
                required("JWT_ISSUER")?,
                required("JWT_AUDIENCE")?,
                seconds("ACCESS_TOKEN_TTL", 60, 3600)?,
            )?,
            totp_box: SecretBox::new(&totp_keys)?,
            recovery: RecoveryHasher::new(recovery_key),
            totp_issuer: required("TOTP_ISSUER")?,
            refresh_ttl: seconds("REFRESH_TOKEN_TTL", 3600, 400 * 86400)?,
            mfa_ttl: seconds("MFA_TOKEN_TTL", KV_MIN_TTL, 900)?,
            enrollment_ttl: seconds("ENROLLMENT_TTL", KV_MIN_TTL, 3600)?,
            cors: CorsPolicy::parse(&var("CORS_ALLOWED_ORIGINS").unwrap_or_default())?,
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
            ("ACCESS_TOKEN_TTL", "900".to_string()),
            ("REFRESH_TOKEN_TTL", "2592000".to_string()),
            ("MFA_TOKEN_TTL", "300".to_string()),
            ("ENROLLMENT_TTL", "600".to_string()),
            ("TOTP_ISSUER", "Edge Login".to_string()),
            ("JWT_SIGNING_KEYS", test_key_list(&["k1"])),
            ("TOTP_ENCRYPTION_KEYS", test_key_list(&["t1"])),
            ("RECOVERY_CODE_KEY", test_key_list(&["r"])[2..].to_string()),
        ])
    }

    fn load(s: &HashMap<&'static str, String>) -> Result<Config, String> {
        Config::load(|k| s.get(k).cloned(), |k| s.get(k).cloned())
    }

    #[test]
    fn loads_a_complete_configuration() {
        let c = load(&settings()).unwrap();
        assert_eq!(c.mfa_ttl, 300);
        assert_eq!(c.tokens.lifetime_seconds(), 900);
    }

    #[test]
    fn names_what_is_missing_or_wrong() {
        let mut s = settings();
        s.remove("JWT_SIGNING_KEYS");
        assert!(load(&s).err().unwrap().contains("JWT_SIGNING_KEYS"));
        let mut s = settings();
        s.insert("MFA_TOKEN_TTL", "30".into());
        assert!(load(&s).err().unwrap().contains("MFA_TOKEN_TTL"));
        let mut s = settings();
        s.insert("ACCESS_TOKEN_TTL", "soon".into());
        assert!(load(&s).err().unwrap().contains("ACCESS_TOKEN_TTL"));
    }
}
