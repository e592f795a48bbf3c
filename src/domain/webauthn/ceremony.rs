//! The two ceremonies: registration (§7.1) and authentication (§7.2).

use sha2::{Digest, Sha256};

use super::auth_data::{self, AuthenticatorData, CredentialFlags, BE, BS, UP, UV};
use super::cbor::{self, Value};
use super::client_data::{self, base64url};
use super::cose::{CoseAlgorithm, CoseKey};
use super::der::es256_der_to_raw;
use super::WebAuthnError;

/// Far above what browsers send (a few hundred bytes), far below what could hurt.
pub const MAX_CLIENT_DATA_JSON: usize = 4 * 1024;
/// Room for a 1023-byte credential id, a public key and extension outputs.
pub const MAX_ATTESTATION_OBJECT: usize = 16 * 1024;
/// An assertion's is 37 bytes plus any extension outputs.
pub const MAX_AUTHENTICATOR_DATA: usize = 4 * 1024;
/// A DER ES256 signature is at most 72 bytes, Ed25519's 64.
pub const MAX_SIGNATURE: usize = 256;
/// `user.id` is at most 64 bytes (§5.4.3).
pub const MAX_USER_HANDLE: usize = 64;

/// `AuthenticatorAttestationResponse`, its binary fields decoded.
#[derive(Debug, Clone)]
pub struct RegistrationResponse {
    pub client_data_json: Vec<u8>,
    pub attestation_object: Vec<u8>,
}

impl RegistrationResponse {
    /// From the base64url strings of `RegistrationResponseJSON.response`.
    pub fn from_base64url(
        client_data_json: &str,
        attestation_object: &str,
    ) -> Result<Self, WebAuthnError> {
        Ok(Self {
            client_data_json: base64url(
                client_data_json,
                MAX_CLIENT_DATA_JSON,
                WebAuthnError::ClientDataTooLarge,
            )?,
            attestation_object: base64url(
                attestation_object,
                MAX_ATTESTATION_OBJECT,
                WebAuthnError::AttestationObjectTooLarge,
            )?,
        })
    }
}

/// What this registration was started with.
#[derive(Debug, Clone)]
pub struct RegistrationExpectations<'a> {
    /// The challenge sent in the creation options, as bytes.
    pub challenge: &'a [u8],
    /// Exact origins (`https://host[:port]`) the ceremony may run on.
    pub origins: &'a [String],
    pub rp_id: &'a str,
    /// `userVerification: "required"` was asked for.
    pub require_user_verification: bool,
    /// The `pubKeyCredParams` offered.
    pub algorithms: &'a [CoseAlgorithm],
}

/// A verified new credential: what to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCredential {
    pub credential_id: Vec<u8>,
    pub public_key: CoseKey,
    /// The COSE_Key bytes as the authenticator sent them; [`CoseKey::from_cose`] reads
    /// them back.
    pub public_key_cose: Vec<u8>,
    pub sign_count: u32,
    pub flags: CredentialFlags,
    /// Unattested under "none": good for naming the passkey provider, never for trust.
    pub aaguid: [u8; 16],
}

/// §7.1 for attestation "none": no signature to check, so this is the whole ceremony
/// except what needs the database (step 26: the credential id must not be registered
/// yet).
pub fn verify_registration(
    response: &RegistrationResponse,
    expected: &RegistrationExpectations<'_>,
) -> Result<NewCredential, WebAuthnError> {
    if response.client_data_json.len() > MAX_CLIENT_DATA_JSON {
        return Err(WebAuthnError::ClientDataTooLarge);
    }
    if response.attestation_object.len() > MAX_ATTESTATION_OBJECT {
        return Err(WebAuthnError::AttestationObjectTooLarge);
    }
    client_data::check(
        &response.client_data_json,
        "webauthn.create",
        expected.challenge,
        expected.origins,
    )?;
    let attestation = attestation_object(&response.attestation_object)?;
    let data = auth_data::parse(attestation.auth_data, true)?;
    check_flags_and_rp(&data, expected.rp_id, expected.require_user_verification)?;
    let credential = data
        .attested
        .as_ref()
        .ok_or(WebAuthnError::MissingAttestedCredentialData)?;
    let public_key = CoseKey::from_value(&credential.public_key)?;
    if !expected.algorithms.contains(&public_key.algorithm()) {
        return Err(WebAuthnError::AlgorithmNotOffered);
    }
    // Steps 21-22. Under attestation "none" browsers replace every other statement
    // with an empty "none" one, except "packed" self attestation from an authenticator
    // with an all-zero AAGUID (§5.1.3): that one is refused here, as its signature would
    // need checking and proves nothing the credential's first assertion does not.
    if attestation.fmt != "none" {
        return Err(WebAuthnError::UnsupportedAttestationFormat);
    }
    if !attestation.att_stmt_is_empty {
        return Err(WebAuthnError::InvalidAttestationStatement);
    }
    Ok(NewCredential {
        credential_id: credential.credential_id.to_vec(),
        public_key,
        public_key_cose: credential.public_key_bytes.to_vec(),
        sign_count: data.sign_count,
        flags: data.credential_flags(),
        aaguid: credential.aaguid,
    })
}

/// The parts of an attestation object that "none" needs: `attStmt` only has to be
/// empty.
struct AttestationObject<'a> {
    fmt: &'a str,
    att_stmt_is_empty: bool,
    auth_data: &'a [u8],
}

/// §6.5.4: a map of exactly `fmt`, `attStmt` and `authData` (the CBOR decoder has
/// already refused duplicates).
fn attestation_object(bytes: &[u8]) -> Result<AttestationObject<'_>, WebAuthnError> {
    let malformed = WebAuthnError::MalformedAttestationObject;
    let Value::Map(entries) = cbor::decode(bytes).map_err(|_| WebAuthnError::MalformedCbor)? else {
        return Err(malformed);
    };
    let (mut fmt, mut att_stmt_is_empty, mut auth_data) = (None, None, None);
    for (key, value) in entries {
        match (key, value) {
            (Value::Text("fmt"), Value::Text(text)) => fmt = Some(text),
            (Value::Text("attStmt"), Value::Map(statement)) => {
                att_stmt_is_empty = Some(statement.is_empty());
            }
            (Value::Text("authData"), Value::Bytes(bytes)) => auth_data = Some(bytes),
            _ => return Err(malformed),
        }
    }
    match (fmt, att_stmt_is_empty, auth_data) {
        (Some(fmt), Some(att_stmt_is_empty), Some(auth_data)) => Ok(AttestationObject {
            fmt,
            att_stmt_is_empty,
            auth_data,
        }),
        _ => Err(malformed),
    }
}

/// The checks both ceremonies share: §7.1 steps 13-16, §7.2 steps 15-18.
fn check_flags_and_rp(
    data: &AuthenticatorData<'_>,
    rp_id: &str,
    require_user_verification: bool,
) -> Result<(), WebAuthnError> {
    if data.rp_id_hash != <[u8; 32]>::from(Sha256::digest(rp_id.as_bytes())) {
        return Err(WebAuthnError::RpIdMismatch);
    }
    if !data.has(UP) {
        return Err(WebAuthnError::UserNotPresent);
    }
    if require_user_verification && !data.has(UV) {
        return Err(WebAuthnError::UserNotVerified);
    }
    if data.has(BS) && !data.has(BE) {
        return Err(WebAuthnError::BackupStateWithoutEligibility);
    }
    Ok(())
}

/// `AuthenticatorAssertionResponse`, its binary fields decoded.
#[derive(Debug, Clone)]
pub struct AssertionResponse {
    pub client_data_json: Vec<u8>,
    pub authenticator_data: Vec<u8>,
    /// As the authenticator sent it: DER for ES256, 64 bytes for EdDSA.
    pub signature: Vec<u8>,
    pub user_handle: Option<Vec<u8>>,
}

impl AssertionResponse {
    /// From the base64url strings of `AuthenticationResponseJSON.response`.
    pub fn from_base64url(
        client_data_json: &str,
        authenticator_data: &str,
        signature: &str,
        user_handle: Option<&str>,
    ) -> Result<Self, WebAuthnError> {
        Ok(Self {
            client_data_json: base64url(
                client_data_json,
                MAX_CLIENT_DATA_JSON,
                WebAuthnError::ClientDataTooLarge,
            )?,
            authenticator_data: base64url(
                authenticator_data,
                MAX_AUTHENTICATOR_DATA,
                WebAuthnError::AuthenticatorDataTooLarge,
            )?,
            signature: base64url(signature, MAX_SIGNATURE, WebAuthnError::SignatureTooLarge)?,
            user_handle: user_handle
                .map(|handle| base64url(handle, MAX_USER_HANDLE, WebAuthnError::UserHandleTooLarge))
                .transpose()?,
        })
    }
}

/// What this authentication was started with.
#[derive(Debug, Clone)]
pub struct AssertionExpectations<'a> {
    pub challenge: &'a [u8],
    pub origins: &'a [String],
    pub rp_id: &'a str,
    pub require_user_verification: bool,
    /// No user was identified before the ceremony (a discoverable credential picked
    /// in the browser), so the response must name its owner (§7.2 step 6).
    pub require_user_handle: bool,
}

/// The credential record the response's credential id was looked up by.
#[derive(Debug, Clone)]
pub struct StoredCredential {
    pub public_key: CoseKey,
    pub sign_count: u32,
    pub backup_eligible: bool,
    /// The `user.id` the credential was created for.
    pub user_handle: Vec<u8>,
}

/// What the caller must verify a signature over, and with what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedData {
    /// `authenticatorData || SHA-256(clientDataJSON)`: the message itself, not a hash
    /// (ECDSA and Ed25519 both hash it again).
    pub message: Vec<u8>,
    /// In the form WebCrypto's `verify` takes: `r || s` (64 bytes) for ES256, already
    /// converted from strict DER, and the 64 bytes for EdDSA.
    pub signature: Vec<u8>,
    pub key: CoseKey,
}

/// An assertion that passed every check but the signature. The counter is only judged
/// once the signature is known good: authenticator data is attacker-chosen until then,
/// and a forged low counter must not raise a cloned-authenticator alarm.
#[derive(Debug, Clone)]
#[must_use = "the signature is still unchecked: verify `signed` and call `finish`"]
pub struct PendingAssertion {
    pub signed: SignedData,
    sign_count: u32,
    stored_sign_count: u32,
    flags: CredentialFlags,
}

/// A fully verified assertion: what to update on the credential record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedAssertion {
    pub sign_count: u32,
    pub flags: CredentialFlags,
}

/// §7.2 up to the signature (step 21), which the caller checks on
/// [`PendingAssertion::signed`] before calling [`PendingAssertion::finish`]. Looking the
/// credential up by id, and checking it against `allowCredentials`, is the caller's.
pub fn verify_assertion(
    response: &AssertionResponse,
    stored: &StoredCredential,
    expected: &AssertionExpectations<'_>,
) -> Result<PendingAssertion, WebAuthnError> {
    if response.client_data_json.len() > MAX_CLIENT_DATA_JSON {
        return Err(WebAuthnError::ClientDataTooLarge);
    }
    if response.authenticator_data.len() > MAX_AUTHENTICATOR_DATA {
        return Err(WebAuthnError::AuthenticatorDataTooLarge);
    }
    if response.signature.len() > MAX_SIGNATURE {
        return Err(WebAuthnError::SignatureTooLarge);
    }
    match &response.user_handle {
        Some(handle) if handle.len() > MAX_USER_HANDLE => {
            return Err(WebAuthnError::UserHandleTooLarge)
        }
        Some(handle) if *handle != stored.user_handle => {
            return Err(WebAuthnError::UserHandleMismatch)
        }
        None if expected.require_user_handle => return Err(WebAuthnError::MissingUserHandle),
        _ => {}
    }
    client_data::check(
        &response.client_data_json,
        "webauthn.get",
        expected.challenge,
        expected.origins,
    )?;
    let data = auth_data::parse(&response.authenticator_data, false)?;
    check_flags_and_rp(&data, expected.rp_id, expected.require_user_verification)?;
    // BE is fixed when the credential is created (§6.1.3); a change means another
    // authenticator or a tampered record.
    if data.has(BE) != stored.backup_eligible {
        return Err(WebAuthnError::BackupEligibilityChanged);
    }
    let signature = match stored.public_key.algorithm() {
        CoseAlgorithm::Es256 => es256_der_to_raw(&response.signature)?.to_vec(),
        CoseAlgorithm::EdDsa if response.signature.len() == 64 => response.signature.clone(),
        CoseAlgorithm::EdDsa => return Err(WebAuthnError::MalformedSignature),
    };
    let mut message = response.authenticator_data.clone();
    message.extend_from_slice(&Sha256::digest(&response.client_data_json));
    Ok(PendingAssertion {
        signed: SignedData {
            message,
            signature,
            key: stored.public_key.clone(),
        },
        sign_count: data.sign_count,
        stored_sign_count: stored.sign_count,
        flags: data.credential_flags(),
    })
}

impl PendingAssertion {
    /// The counter the response carries (not yet trustworthy).
    pub fn sign_count(&self) -> u32 {
        self.sign_count
    }

    /// The flags the response carries (not yet trustworthy).
    pub fn flags(&self) -> CredentialFlags {
        self.flags
    }

    /// Steps 21-22 given the caller's verdict on [`signed`](Self::signed).
    pub fn finish(self, signature_valid: bool) -> Result<VerifiedAssertion, WebAuthnError> {
        if !signature_valid {
            return Err(WebAuthnError::BadSignature);
        }
        // Counters of 0 mean "not implemented" (synced passkeys); any non-zero value on
        // either side means the counter must strictly increase.
        let (stored, received) = (self.stored_sign_count, self.sign_count);
        if (stored != 0 || received != 0) && received <= stored {
            return Err(WebAuthnError::CounterRegression { stored, received });
        }
        Ok(VerifiedAssertion {
            sign_count: received,
            flags: self.flags,
        })
    }
}
