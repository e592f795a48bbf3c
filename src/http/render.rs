//! From what the services return to the API's typed response bodies.

use crate::api::responses::Authenticated;
use crate::services::grant::Issued;

/// The `authenticated` body of login, login/mfa, refresh, confirm and password change.
pub fn authenticated(issued: &Issued) -> Authenticated {
    Authenticated {
        device_token: issued.device_token.as_ref().map(|t| t.expose().to_owned()),
        ..Authenticated::new(
            issued.access_token.clone(),
            issued.expires_in,
            issued.refresh_token.clone(),
        )
    }
}
