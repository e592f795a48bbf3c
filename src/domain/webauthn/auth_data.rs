//! Authenticator data (WebAuthn §6.1): the bytes the authenticator signs.

use super::cbor::{self, Value};
use super::WebAuthnError;

pub(crate) const UP: u8 = 0x01;
pub(crate) const UV: u8 = 0x04;
pub(crate) const BE: u8 = 0x08;
pub(crate) const BS: u8 = 0x10;
pub(crate) const AT: u8 = 0x40;
pub(crate) const ED: u8 = 0x80;

/// §7.1 step 25.
pub const MAX_CREDENTIAL_ID: usize = 1023;

const MALFORMED: WebAuthnError = WebAuthnError::MalformedAuthenticatorData;

/// The flags a relying party keeps or acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialFlags {
    /// UV: the authenticator verified the user (PIN, biometric), not just their presence.
    pub user_verified: bool,
    /// BE: a multi-device credential (synced passkey); fixed for the credential's life.
    pub backup_eligible: bool,
    /// BS: currently backed up.
    pub backup_state: bool,
}

pub(crate) struct AuthenticatorData<'a> {
    pub rp_id_hash: [u8; 32],
    pub flags: u8,
    pub sign_count: u32,
    pub attested: Option<AttestedCredential<'a>>,
}

pub(crate) struct AttestedCredential<'a> {
    pub aaguid: [u8; 16],
    pub credential_id: &'a [u8],
    pub public_key: Value<'a>,
    /// Exactly the bytes the authenticator encoded, to store as they were signed.
    pub public_key_bytes: &'a [u8],
}

impl AuthenticatorData<'_> {
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    pub fn credential_flags(&self) -> CredentialFlags {
        CredentialFlags {
            user_verified: self.has(UV),
            backup_eligible: self.has(BE),
            backup_state: self.has(BS),
        }
    }
}

/// The structure only; what the flags and hash must be is the ceremony's business.
/// `attested` says which ceremony: registration must carry attested credential data,
/// an assertion must not (§6.1: AT is only set by authenticatorMakeCredential).
pub(crate) fn parse(bytes: &[u8], attested: bool) -> Result<AuthenticatorData<'_>, WebAuthnError> {
    let (rp_id_hash, rest) = take::<32>(bytes)?;
    let ([flags], rest) = take::<1>(rest)?;
    let (count, mut rest) = take::<4>(rest)?;
    let mut data = AuthenticatorData {
        rp_id_hash,
        flags,
        sign_count: u32::from_be_bytes(count),
        attested: None,
    };
    match (data.has(AT), attested) {
        (false, true) => return Err(WebAuthnError::MissingAttestedCredentialData),
        (true, false) => return Err(WebAuthnError::UnexpectedAttestedCredentialData),
        _ => {}
    }
    if attested {
        let (aaguid, after) = take::<16>(rest)?;
        let (length, after) = take::<2>(after)?;
        let length = usize::from(u16::from_be_bytes(length));
        if length > MAX_CREDENTIAL_ID {
            return Err(WebAuthnError::CredentialIdTooLong);
        }
        if length == 0 {
            return Err(MALFORMED);
        }
        let (credential_id, after) = after.split_at_checked(length).ok_or(MALFORMED)?;
        let (public_key, after_key) =
            cbor::decode_prefix(after).map_err(|_| WebAuthnError::MalformedCbor)?;
        let public_key_bytes = after
            .get(..after.len() - after_key.len())
            .ok_or(MALFORMED)?;
        data.attested = Some(AttestedCredential {
            aaguid,
            credential_id,
            public_key,
            public_key_bytes,
        });
        rest = after_key;
    }
    // Extensions are parsed only to find where they end; none are requested, and §7.1
    // step 20 / §7.2 step 18 let a relying party ignore unsolicited ones.
    if data.has(ED) {
        let (extensions, after) =
            cbor::decode_prefix(rest).map_err(|_| WebAuthnError::MalformedCbor)?;
        if !matches!(extensions, Value::Map(_)) {
            return Err(MALFORMED);
        }
        rest = after;
    }
    if !rest.is_empty() {
        return Err(WebAuthnError::AuthenticatorDataTrailingBytes);
    }
    Ok(data)
}

fn take<const N: usize>(bytes: &[u8]) -> Result<([u8; N], &[u8]), WebAuthnError> {
    let (head, rest) = bytes.split_first_chunk::<N>().ok_or(MALFORMED)?;
    Ok((*head, rest))
}
