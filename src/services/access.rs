//! Who is calling: access tokens presented as `Bearer`, and the keys that verify them.

use serde_json::Value;

use super::{Ctx, ServiceError};
use crate::domain::tokens::AccessClaims;

/// The verified claims of an access token (the isolate's verified-token cache first).
pub fn authenticate(ctx: &Ctx, token: &str) -> Result<AccessClaims, ServiceError> {
    ctx.config()?
        .tokens
        .verify(token, ctx.now)
        .map_err(|_| ServiceError::InvalidToken)
}

/// The public key set, for `/.well-known/jwks.json`.
pub fn jwks(ctx: &Ctx) -> Result<Value, ServiceError> {
    Ok(ctx.config()?.tokens.jwks())
}
