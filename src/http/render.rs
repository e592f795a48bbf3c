//! Response bodies shared by several routes.

use serde_json::{json, Value};

use crate::services::grant::Issued;

/// The `authenticated` body of login, login/mfa, refresh, confirm and password change.
pub fn authenticated(issued: &Issued) -> Value {
    json!({
        "status": "authenticated",
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "refresh_token": issued.refresh_token,
    })
}
