//! The first step of a login: the password. Either the session starts here (no second
//! factor enrolled) or a second-factor challenge is stored in KV for `second_step`.

use super::grant::{Grant, Issued, Profile};
use super::password_check::check_password;
use super::{Ctx, ServiceError};
use crate::domain::device::DeviceId;
use crate::domain::events::EventKind;
use crate::domain::opaque::MfaToken;
use crate::domain::password::Password;
use crate::domain::session::{after_password, PasswordOutcome, MFA_METHODS};
use crate::domain::username::Username;
use crate::store::challenges::{save_mfa_challenge, MfaChallenge};
use crate::store::sessions;
use crate::store::throttle::Lookup;

pub enum LoginOutcome {
    Authenticated(Issued),
    MfaRequired {
        user_id: String,
        mfa_token: MfaToken,
        expires_in: i64,
        methods: &'static [&'static str],
    },
}

/// `device_token` from an earlier login on this client, if it sent one; one that does
/// not verify leaves the client a stranger and changes nothing else.
pub async fn login(
    ctx: &Ctx,
    username: &Username,
    password: &Password,
    device_token: Option<&str>,
) -> Result<LoginOutcome, ServiceError> {
    let config = ctx.config()?;
    let db = ctx.db()?;
    let known =
        device_token.and_then(|t| config.device_tokens.verify(t, username.as_str(), ctx.now));
    let user = check_password(
        ctx,
        &db,
        username.as_str(),
        Lookup::Username(username.as_str()),
        password,
        known.as_ref(),
    )
    .await?;
    let new_device = known.is_none();
    let device = known.unwrap_or_else(DeviceId::generate);

    match after_password(user.totp_enabled(), ctx.now) {
        PasswordOutcome::Authenticated(auth) => {
            let grant = Grant::new(ctx, &config, auth);
            sessions::insert(&db, &grant.session(&user.id)).await?;
            ctx.event(EventKind::LoginSucceeded, &user.id);
            if new_device {
                ctx.event(EventKind::NewDeviceLogin, &user.id);
            }
            let mut issued = grant.issue(&config, &Profile::of(&user, false)).await?;
            issued.device_token =
                Some(config.device_tokens.issue(&device, &user.username, ctx.now));
            Ok(LoginOutcome::Authenticated(issued))
        }
        PasswordOutcome::SecondFactorRequired { auth_time } => {
            let token = MfaToken::generate();
            let challenge = MfaChallenge {
                user_id: user.id.clone(),
                username: user.username,
                email: user.email,
                totp_secret: user.totp_secret.unwrap_or_default(),
                totp_enabled_at: user.totp_enabled_at.unwrap_or_default(),
                auth_time,
                expires_at: ctx.now + config.mfa_ttl,
                device_id: Some(device.as_str().to_owned()),
                new_device,
            };
            save_mfa_challenge(&ctx.kv()?, &token.hash(), &challenge, config.mfa_ttl).await?;
            Ok(LoginOutcome::MfaRequired {
                user_id: user.id,
                mfa_token: token,
                expires_in: config.mfa_ttl,
                methods: &MFA_METHODS,
            })
        }
    }
}
