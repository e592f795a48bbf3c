//! WebAuthn relying-party verification (Level 3: §7.1 registration, §7.2
//! authentication) for passkeys: ES256 and EdDSA credentials, attestation "none".
//!
//! Pure and strict: every parse and every check is here, natively tested; what needs
//! the database (is this credential id new, whose is it) or the runtime stays outside.
//! Signatures are verified outside too, because the Worker verifies them with
//! WebCrypto, asynchronously: [`verify_assertion`] returns a [`PendingAssertion`] whose
//! [`SignedData`] the caller checks, and [`PendingAssertion::finish`] takes the verdict
//! and only then judges the signature counter. Registration under attestation "none"
//! has no signature, so [`verify_registration`] is the whole ceremony.
//!
//! The CBOR decoder is our own, and reads only what WebAuthn needs: a general one
//! would cost the Worker's size budget for types it must then refuse anyway.

mod auth_data;
mod cbor;
mod ceremony;
mod client_data;
mod cose;
mod der;
mod error;
mod p256_point;
mod relying_party;

#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;

pub use auth_data::{CredentialFlags, MAX_CREDENTIAL_ID};
pub use ceremony::{
    verify_assertion, verify_registration, AssertionExpectations, AssertionResponse, NewCredential,
    PendingAssertion, RegistrationExpectations, RegistrationResponse, SignedData, StoredCredential,
    VerifiedAssertion, MAX_ATTESTATION_OBJECT, MAX_AUTHENTICATOR_DATA, MAX_CLIENT_DATA_JSON,
    MAX_SIGNATURE, MAX_USER_HANDLE,
};
pub use cose::{CoseAlgorithm, CoseKey};
pub use der::es256_der_to_raw;
pub use error::WebAuthnError;
pub use relying_party::{RelyingParty, RelyingPartyError};
