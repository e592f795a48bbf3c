//! Proving an email address: the code sent to it comes back, once.

use super::{Ctx, ServiceError};
use crate::domain::events::EventKind;
use crate::domain::opaque::EmailCode;
use crate::store::email_codes;

/// Marks the address verified. The code needs no session: having it is the proof.
pub async fn verify(ctx: &Ctx, code: &EmailCode) -> Result<String, ServiceError> {
    let spent = email_codes::verify_email(&ctx.db()?, &code.hash(), ctx.now)
        .await?
        .ok_or(ServiceError::InvalidEmailCode)?;
    ctx.event(EventKind::EmailVerified, &spent.user_id);
    Ok(spent.user_id)
}
