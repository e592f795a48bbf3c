//! Ending a successful login: a session row, an access token and a refresh token.

use super::context::sign;
use super::{Ctx, ServiceError};
use crate::domain::config::Config;
use crate::domain::device::DeviceToken;
use crate::domain::opaque::{random_id, RefreshToken};
use crate::domain::session::Authentication;
use crate::domain::tokens::TokenSubject;
use crate::domain::user_agent;
use crate::store::sessions::NewSession;
use crate::store::users::UserRow;

/// Everything needed to persist and announce a new session.
pub struct Grant {
    pub session_id: String,
    pub refresh: RefreshToken,
    pub refresh_hash: String,
    pub authentication: Authentication,
    stored_authentication: String,
    now: i64,
    expires_at: i64,
    ip: Option<String>,
    device: String,
}

impl Grant {
    pub fn new(ctx: &Ctx, config: &Config, authentication: Authentication) -> Self {
        let refresh = RefreshToken::generate();
        let now = ctx.now;
        Self {
            ip: ctx.ip.clone(),
            device: user_agent::label(ctx.user_agent().as_deref()),
            session_id: random_id(),
            refresh_hash: refresh.hash(),
            refresh,
            stored_authentication: authentication.to_stored(),
            authentication,
            now,
            expires_at: now + config.refresh_ttl,
        }
    }

    /// The session row this grant creates.
    pub fn session<'a>(&'a self, user_id: &'a str) -> NewSession<'a> {
        NewSession {
            id: &self.session_id,
            user_id,
            refresh_hash: &self.refresh_hash,
            authentication: &self.stored_authentication,
            now: self.now,
            expires_at: self.expires_at,
            ip: self.ip.as_deref(),
            device: &self.device,
        }
    }

    /// The tokens for the session, once it is stored.
    pub async fn issue(
        &self,
        config: &Config,
        profile: &Profile<'_>,
    ) -> Result<Issued, ServiceError> {
        issue(
            config,
            profile,
            &self.session_id,
            &self.authentication,
            &self.refresh,
            self.now,
        )
        .await
    }
}

/// Who the tokens are for.
pub struct Profile<'a> {
    pub user_id: &'a str,
    pub username: &'a str,
    /// Verified only.
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

/// A signed-in session's tokens, as the client receives them.
pub struct Issued {
    pub user_id: String,
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: String,
    /// On logins: names this client as a known device for the account's password
    /// throttle (see `domain::device`).
    pub device_token: Option<DeviceToken>,
}

/// Signs the access token (WebCrypto, off the WASM) and hands out both tokens.
pub async fn issue(
    config: &Config,
    profile: &Profile<'_>,
    session_id: &str,
    authentication: &Authentication,
    refresh: &RefreshToken,
    now: i64,
) -> Result<Issued, ServiceError> {
    let input = config.tokens.signing_input(
        &TokenSubject {
            user_id: profile.user_id,
            session_id,
            username: profile.username,
            verified_email: profile.email,
            mfa_enabled: profile.mfa_enabled,
            auth: authentication,
        },
        random_id(),
        now,
    );
    Ok(Issued {
        user_id: profile.user_id.to_owned(),
        access_token: sign(input).await?,
        expires_in: config.tokens.lifetime_seconds(),
        refresh_token: refresh.expose().to_owned(),
        device_token: None,
    })
}
