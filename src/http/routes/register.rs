//! POST /v1/register

use serde::Deserialize;
use serde_json::json;
use worker::Request;

use super::Handled;
use crate::domain::email::Email;
use crate::domain::opaque::random_id;
use crate::domain::password::{hash_password, Password};
use crate::domain::username::Username;
use crate::error::ApiError;
use crate::http::app::Limit;
use crate::http::{body, App, Reply};
use crate::store::users::{self, NewUser};

#[derive(Deserialize)]
struct RegisterBody {
    username: String,
    password: String,
    email: Option<String>,
}

pub async fn register(mut req: Request, app: &App) -> Result<Handled, ApiError> {
    app.rate_limit(Limit::Register).await?;
    let input: RegisterBody = body::json(&mut req).await?;
    let username = Username::parse(&input.username).map_err(ApiError::InvalidUsername)?;
    let password = Password::new_for_user(&input.password, username.as_str())
        .map_err(|r| ApiError::WeakPassword(r.message()))?;
    let email = match input.email.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(Email::parse(raw).map_err(|m| ApiError::InvalidRequest(m.to_owned()))?),
    };

    let password_hash = app.argon2(|| hash_password(&password)).await;
    let user_id = random_id();
    let inserted = users::insert(
        &app.db()?,
        &NewUser {
            id: &user_id,
            username: username.as_str(),
            email: email.as_ref().map(Email::as_str),
            password_hash: &password_hash,
            now: app.now,
        },
    )
    .await?;
    if !inserted {
        return Err(ApiError::UsernameTaken);
    }
    let reply = Reply::json(
        201,
        json!({ "user_id": user_id, "username": username.as_str() }),
    );
    Ok((reply, Some(user_id)))
}
