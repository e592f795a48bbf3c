//! Registration: a new account with an Argon2id password hash.

use super::{Ctx, ServiceError};
use crate::domain::email::Email;
use crate::domain::opaque::random_id;
use crate::domain::password::{hash_password, Password};
use crate::domain::username::Username;
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
    let inserted = users::insert(
        &ctx.db()?,
        &NewUser {
            id: &user_id,
            username: username.as_str(),
            email: email.as_ref().map(Email::as_str),
            password_hash: &password_hash,
            now: ctx.now,
        },
    )
    .await?;
    if !inserted {
        return Err(ServiceError::UsernameTaken);
    }
    Ok(Registered { user_id, username })
}
