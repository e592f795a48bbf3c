//! Who is calling: access tokens presented as `Bearer`, and the keys that verify them.

use super::{Ctx, ServiceError};
use crate::domain::session::Aal2Check;
use crate::domain::tokens::AccessClaims;

/// The verified claims of an access token (the isolate's verified-token cache first).
pub fn authenticate(ctx: &Ctx, token: &str) -> Result<AccessClaims, ServiceError> {
    ctx.config()?
        .tokens
        .verify(token, ctx.now)
        .map_err(|_| ServiceError::InvalidToken)
}

/// Factor and account changes need a session whose second factor still counts (RFC
/// 9470 step-up): aal2, and no older than the aal2 lifetime allows.
pub fn require_aal2(ctx: &Ctx, claims: &AccessClaims) -> Result<(), ServiceError> {
    match ctx
        .config()?
        .aal2
        .token_holds(&claims.aal, claims.auth_time, ctx.now)
    {
        Aal2Check::Holds => Ok(()),
        Aal2Check::NotAal2 => Err(ServiceError::InsufficientAuthentication { max_age: None }),
        Aal2Check::TooOld { max_age } => Err(ServiceError::InsufficientAuthentication {
            max_age: Some(max_age),
        }),
    }
}

/// The public key set, for `/.well-known/jwks.json`, as JSON text made once per isolate.
pub fn jwks(ctx: &Ctx) -> Result<String, ServiceError> {
    Ok(ctx.config()?.tokens.jwks_json().to_owned())
}
