//! Ending a successful login: a session row, an access token and a refresh token.

use serde_json::{json, Value};

use crate::domain::config::Config;
use crate::domain::opaque::{random_id, RefreshToken};
use crate::domain::session::Authentication;
use crate::domain::tokens::TokenSubject;
use crate::store::sessions::NewSession;
use crate::store::users::UserRow;

/// Everything needed to persist and announce a new session.
pub struct Grant {
    pub session_id: String,
    pub refresh: RefreshToken,
    pub authentication: Authentication,
    stored_authentication: String,
    now: i64,
    expires_at: i64,
}

impl Grant {
    pub fn new(config: &Config, authentication: Authentication, now: i64) -> Self {
        Self {
            session_id: random_id(),
            refresh: RefreshToken::generate(),
            stored_authentication: authentication.to_stored(),
            authentication,
            now,
            expires_at: now + config.refresh_ttl,
        }
    }

    pub fn session<'a>(&'a self, user_id: &'a str, refresh_hash: &'a str) -> NewSession<'a> {
        NewSession {
            id: &self.session_id,
            user_id,
            refresh_hash,
            authentication: &self.stored_authentication,
            now: self.now,
            expires_at: self.expires_at,
        }
    }
}

pub struct Profile<'a> {
    pub user_id: &'a str,
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub mfa_enabled: bool,
}

impl<'a> Profile<'a> {
    pub fn of(user: &'a UserRow, mfa_enabled: bool) -> Self {
        Self {
            user_id: &user.id,
            username: &user.username,
            email: user.email.as_deref(),
            mfa_enabled,
        }
    }
}

/// The `authenticated` response body shared by login, login/mfa, refresh and confirm.
pub fn authenticated(
    config: &Config,
    profile: &Profile<'_>,
    session_id: &str,
    authentication: &Authentication,
    refresh: &RefreshToken,
    now: i64,
) -> Value {
    let access_token = config.tokens.issue(
        &TokenSubject {
            user_id: profile.user_id,
            session_id,
            username: profile.username,
            email: profile.email,
            mfa_enabled: profile.mfa_enabled,
            auth: authentication,
        },
        random_id(),
        now,
    );
    json!({
        "status": "authenticated",
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": config.tokens.lifetime_seconds(),
        "refresh_token": refresh.expose(),
    })
}
