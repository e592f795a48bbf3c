//! The `send_email` binding (Cloudflare Email Service). Under `wrangler dev` it sends
//! nothing: each message is written to a file whose path is logged.

use worker::{Env, SendEmailBuilder};

use super::error::internal;
use super::StoreError;
use crate::domain::mail::Mail;

pub async fn send(env: &Env, from: &str, mail: &Mail) -> Result<(), StoreError> {
    let binding = env.send_email("EMAIL").map_err(internal("mail binding"))?;
    let message = SendEmailBuilder::new(from, &mail.to, &mail.subject);
    message.set_text(&mail.text);
    message.set_html(&mail.html);
    binding
        .send_with_builder(&message)
        .await
        .map_err(|e| StoreError::new("mail send", format!("{e:?}")))?;
    Ok(())
}
