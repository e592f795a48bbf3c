//! The caller's own security events.

use super::{Ctx, ServiceError};
use crate::domain::tokens::AccessClaims;
use crate::store::events::{self, StoredEvent};

pub async fn recent(ctx: &Ctx, claims: &AccessClaims) -> Result<Vec<StoredEvent>, ServiceError> {
    Ok(events::recent(&ctx.db()?, &claims.sub).await?)
}
