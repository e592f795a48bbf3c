//! Registration: a new account with an Argon2id password hash.

use super::{Ctx, ServiceError};
use crate::domain::email::Email;
use crate::domain::mail;
use crate::domain::opaque::{random_id, EmailCode};
use crate::domain::password::{hash_password, Password};
use crate::domain::username::Username;
use crate::store::email_codes::{NewEmailCode, VERIFY_EMAIL};
use crate::store::users::{self, NewUser};

pub struct Registered {
    pub user_id: String,
    pub username: Username,
}

pub async fn register(
    ctx: &Ctx,
    username: Username,
    password: Password,
    email: Option<Email>,
) -> Result<Registered, ServiceError> {
    ctx.shed_if_busy()?;
    let password_hash = ctx.argon2(|| hash_password(&password)).await;
    let user_id = random_id();
    let code = EmailCode::generate();
    let code_hash = code.hash();
    let verify = email.as_ref().map(|e| NewEmailCode {
        code_hash: &code_hash,
        user_id: &user_id,
        purpose: VERIFY_EMAIL,
        email: e.as_str(),
        now: ctx.now,
        expires_at: ctx.now + mail::VERIFY_TTL,
    });
    let inserted = users::insert(
        &ctx.db()?,
        &NewUser {
            id: &user_id,
            username: username.as_str(),
            email: email.as_ref().map(Email::as_str),
            password_hash: &password_hash,
            now: ctx.now,
        },
        verify.as_ref(),
    )
    .await?;
    if !inserted {
        return Err(ServiceError::UsernameTaken);
    }
    if let Some(email) = &email {
        let config = ctx.config()?;
        ctx.send_mail(mail::verification(
            email.as_str(),
            &config.mail.public_url,
            code.expose(),
        ));
    }
    Ok(Registered { user_id, username })
}
