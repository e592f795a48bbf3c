//! Why a WebAuthn response was refused.

/// One variant per failed check, so that logs and security events can tell a probing
/// client from a broken authenticator. [`code`](Self::code) is stable: callers may put it
/// in API bodies and event records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebAuthnError {
    ClientDataTooLarge,
    AttestationObjectTooLarge,
    AuthenticatorDataTooLarge,
    SignatureTooLarge,
    UserHandleTooLarge,
    MalformedBase64url,
    /// Not JSON, not an object, or a member missing or of the wrong type.
    MalformedClientData,
    WrongCeremonyType,
    ChallengeMismatch,
    OriginNotAllowed,
    /// `crossOrigin: true`: the ceremony ran in a cross-origin iframe, never offered.
    CrossOrigin,
    /// Indefinite lengths, tags, floats, deep nesting, duplicate keys, truncation...
    MalformedCbor,
    /// Not a map of exactly `fmt` (text), `attStmt` (map) and `authData` (bytes).
    MalformedAttestationObject,
    UnsupportedAttestationFormat,
    /// `fmt` "none" with a non-empty `attStmt`.
    InvalidAttestationStatement,
    /// Shorter than its fixed fields, an empty credential id, or extensions not a map.
    MalformedAuthenticatorData,
    AuthenticatorDataTrailingBytes,
    RpIdMismatch,
    UserNotPresent,
    UserNotVerified,
    MissingAttestedCredentialData,
    UnexpectedAttestedCredentialData,
    BackupStateWithoutEligibility,
    BackupEligibilityChanged,
    CredentialIdTooLong,
    /// Not a map, a required parameter missing or of the wrong type, or a private key.
    MalformedCoseKey,
    /// An algorithm this relying party does not implement (only ES256 and EdDSA).
    UnsupportedAlgorithm,
    /// Implemented, but not among the algorithms offered for this registration.
    AlgorithmNotOffered,
    /// `kty` or `crv` not the ones the algorithm requires.
    CoseKeyMismatch,
    /// A coordinate of the wrong length, out of range, or not a point of the curve.
    InvalidPublicKey,
    /// Not strict DER (ES256) or not 64 bytes (EdDSA).
    MalformedSignature,
    BadSignature,
    UserHandleMismatch,
    MissingUserHandle,
    /// A validly signed counter that did not move forward: possibly a cloned
    /// authenticator (§7.2 step 22), worth a security event.
    CounterRegression {
        stored: u32,
        received: u32,
    },
}

impl WebAuthnError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::ClientDataTooLarge => "client_data_too_large",
            Self::AttestationObjectTooLarge => "attestation_object_too_large",
            Self::AuthenticatorDataTooLarge => "authenticator_data_too_large",
            Self::SignatureTooLarge => "signature_too_large",
            Self::UserHandleTooLarge => "user_handle_too_large",
            Self::MalformedBase64url => "malformed_base64url",
            Self::MalformedClientData => "malformed_client_data",
            Self::WrongCeremonyType => "wrong_ceremony_type",
            Self::ChallengeMismatch => "challenge_mismatch",
            Self::OriginNotAllowed => "origin_not_allowed",
            Self::CrossOrigin => "cross_origin",
            Self::MalformedCbor => "malformed_cbor",
            Self::MalformedAttestationObject => "malformed_attestation_object",
            Self::UnsupportedAttestationFormat => "unsupported_attestation_format",
            Self::InvalidAttestationStatement => "invalid_attestation_statement",
            Self::MalformedAuthenticatorData => "malformed_authenticator_data",
            Self::AuthenticatorDataTrailingBytes => "authenticator_data_trailing_bytes",
            Self::RpIdMismatch => "rp_id_mismatch",
            Self::UserNotPresent => "user_not_present",
            Self::UserNotVerified => "user_not_verified",
            Self::MissingAttestedCredentialData => "missing_attested_credential_data",
            Self::UnexpectedAttestedCredentialData => "unexpected_attested_credential_data",
            Self::BackupStateWithoutEligibility => "backup_state_without_eligibility",
            Self::BackupEligibilityChanged => "backup_eligibility_changed",
            Self::CredentialIdTooLong => "credential_id_too_long",
            Self::MalformedCoseKey => "malformed_cose_key",
            Self::UnsupportedAlgorithm => "unsupported_algorithm",
            Self::AlgorithmNotOffered => "algorithm_not_offered",
            Self::CoseKeyMismatch => "cose_key_mismatch",
            Self::InvalidPublicKey => "invalid_public_key",
            Self::MalformedSignature => "malformed_signature",
            Self::BadSignature => "bad_signature",
            Self::UserHandleMismatch => "user_handle_mismatch",
            Self::MissingUserHandle => "missing_user_handle",
            Self::CounterRegression { .. } => "counter_regression",
        }
    }
}

/// The code alone; `Debug` also shows the counters of a regression.
impl std::fmt::Display for WebAuthnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl std::error::Error for WebAuthnError {}
