//! Both ceremonies end to end on real keys and signatures, then one refusal per check:
//! each negative case starts from a response that verifies and breaks one thing.

use std::sync::LazyLock;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use sha2::{Digest, Sha256};

use super::auth_data::{AT, BE, BS, ED, UP, UV};
use super::testkit::*;
use super::*;

static ORIGINS: LazyLock<Vec<String>> =
    LazyLock::new(|| vec![ORIGIN.to_owned(), OTHER_ORIGIN.to_owned()]);
const BOTH: &[CoseAlgorithm] = &[CoseAlgorithm::Es256, CoseAlgorithm::EdDsa];
const USER_HANDLE: &[u8] = b"user-handle-1";

fn registration_expectations() -> RegistrationExpectations<'static> {
    RegistrationExpectations {
        challenge: CHALLENGE,
        origins: &ORIGINS,
        rp_id: RP_ID,
        require_user_verification: false,
        algorithms: BOTH,
    }
}

fn assertion_expectations() -> AssertionExpectations<'static> {
    AssertionExpectations {
        challenge: CHALLENGE,
        origins: &ORIGINS,
        rp_id: RP_ID,
        require_user_verification: false,
        require_user_handle: true,
    }
}

fn register(client: &ClientData, auth: &AuthData) -> Result<NewCredential, WebAuthnError> {
    verify_registration(&registration(client, auth), &registration_expectations())
}

fn refused_registration(client: &ClientData, auth: &AuthData) -> WebAuthnError {
    register(client, auth).expect_err("registration must be refused")
}

/// A registration whose only defect is its public key.
fn refused_key(public_key: Cbor) -> WebAuthnError {
    let mut auth = AuthData::registration(&TestKey::es256());
    auth.attested.as_mut().unwrap().public_key = public_key.encode();
    refused_registration(&ClientData::new("webauthn.create"), &auth)
}

fn refused_attestation_object(attestation_object: Vec<u8>) -> WebAuthnError {
    let response = RegistrationResponse {
        client_data_json: ClientData::new("webauthn.create").json(),
        attestation_object,
    };
    verify_registration(&response, &registration_expectations()).unwrap_err()
}

fn stored(key: &TestKey, sign_count: u32) -> StoredCredential {
    StoredCredential {
        public_key: key.cose_key(),
        sign_count,
        backup_eligible: false,
        user_handle: USER_HANDLE.to_vec(),
    }
}

/// The whole of §7.2 the way the Worker will run it, the native check standing in for
/// WebCrypto.
fn authenticate(
    response: &AssertionResponse,
    stored: &StoredCredential,
    expected: &AssertionExpectations<'_>,
) -> Result<VerifiedAssertion, WebAuthnError> {
    let pending = verify_assertion(response, stored, expected)?;
    let valid = check_signature(&pending.signed);
    pending.finish(valid)
}

/// An ES256 assertion (counter 42 over a stored 41) with one thing changed before signing.
fn refused_assertion(change: impl FnOnce(&mut ClientData, &mut AuthData)) -> WebAuthnError {
    let key = TestKey::es256();
    let (mut client, mut auth) = (ClientData::new("webauthn.get"), AuthData::assertion(42));
    change(&mut client, &mut auth);
    let response = assertion(&key, &client, &auth);
    authenticate(&response, &stored(&key, 41), &assertion_expectations())
        .expect_err("assertion must be refused")
}

fn p256_prime() -> [u8; 32] {
    let mut p = [0xff; 32];
    p[4..11].fill(0);
    p[11] = 0x01;
    p[12..20].fill(0);
    p
}

// ---- Happy paths ----

#[test]
fn es256_registers_then_signs_in() {
    let key = TestKey::es256();
    let credential = register(
        &ClientData::new("webauthn.create"),
        &AuthData::registration(&key),
    )
    .unwrap();
    assert_eq!(credential.credential_id, b"credential-id-0123456789");
    assert_eq!(credential.public_key, key.cose_key());
    assert_eq!(credential.public_key_cose, key.cose().encode());
    assert_eq!(credential.aaguid, AAGUID);
    assert_eq!(credential.sign_count, 0);

    // What the Worker will store, read back the way it will read it.
    let record = StoredCredential {
        public_key: CoseKey::from_cose(&credential.public_key_cose).unwrap(),
        sign_count: credential.sign_count,
        backup_eligible: credential.flags.backup_eligible,
        user_handle: USER_HANDLE.to_vec(),
    };
    let response = assertion(
        &key,
        &ClientData::new("webauthn.get"),
        &AuthData::assertion(1),
    );
    let verified = authenticate(&response, &record, &assertion_expectations()).unwrap();
    assert_eq!(verified.sign_count, 1);
    assert!(!verified.flags.user_verified);
}

#[test]
fn ed25519_registers_then_signs_in() {
    let key = TestKey::ed25519();
    let credential = register(
        &ClientData::new("webauthn.create"),
        &AuthData::registration(&key),
    )
    .unwrap();
    assert_eq!(credential.public_key.algorithm(), CoseAlgorithm::EdDsa);
    let record = StoredCredential {
        public_key: CoseKey::from_cose(&credential.public_key_cose).unwrap(),
        sign_count: 0,
        backup_eligible: false,
        user_handle: USER_HANDLE.to_vec(),
    };
    // Counters stay at zero for authenticators that do not implement them.
    let response = assertion(
        &key,
        &ClientData::new("webauthn.get"),
        &AuthData::assertion(0),
    );
    let verified = authenticate(&response, &record, &assertion_expectations()).unwrap();
    assert_eq!(verified.sign_count, 0);
}

#[test]
fn registration_reports_uv_and_backup_flags() {
    let key = TestKey::es256();
    let mut auth = AuthData::registration(&key);
    auth.flags |= UV | BE | BS;
    let credential = verify_registration(
        &registration(&ClientData::new("webauthn.create"), &auth),
        &RegistrationExpectations {
            require_user_verification: true,
            ..registration_expectations()
        },
    )
    .unwrap();
    assert_eq!(
        credential.flags,
        CredentialFlags {
            user_verified: true,
            backup_eligible: true,
            backup_state: true,
        }
    );
}

#[test]
fn registration_from_base64url_fields() {
    let key = TestKey::es256();
    let raw = registration(
        &ClientData::new("webauthn.create"),
        &AuthData::registration(&key),
    );
    let response = RegistrationResponse::from_base64url(
        &URL_SAFE_NO_PAD.encode(&raw.client_data_json),
        &URL_SAFE_NO_PAD.encode(&raw.attestation_object),
    )
    .unwrap();
    assert!(verify_registration(&response, &registration_expectations()).is_ok());
}

#[test]
fn assertion_from_base64url_fields() {
    let key = TestKey::ed25519();
    let raw = assertion(
        &key,
        &ClientData::new("webauthn.get"),
        &AuthData::assertion(9),
    );
    let response = AssertionResponse::from_base64url(
        &URL_SAFE_NO_PAD.encode(&raw.client_data_json),
        &URL_SAFE_NO_PAD.encode(&raw.authenticator_data),
        &URL_SAFE_NO_PAD.encode(&raw.signature),
        Some(&URL_SAFE_NO_PAD.encode(USER_HANDLE)),
    )
    .unwrap();
    assert!(authenticate(&response, &stored(&key, 8), &assertion_expectations()).is_ok());
}

#[test]
fn signed_data_is_what_webcrypto_verifies() {
    let key = TestKey::es256();
    let response = assertion(
        &key,
        &ClientData::new("webauthn.get"),
        &AuthData::assertion(42),
    );
    let pending =
        verify_assertion(&response, &stored(&key, 41), &assertion_expectations()).unwrap();
    let mut message = response.authenticator_data.clone();
    message.extend(Sha256::digest(&response.client_data_json));
    assert_eq!(pending.signed.message, message);
    assert_eq!(
        pending.signed.signature,
        es256_der_to_raw(&response.signature).unwrap()
    );
    assert_eq!(pending.signed.key, key.cose_key());
    let raw_key = pending.signed.key.raw_public_key();
    assert_eq!((raw_key.len(), raw_key[0]), (65, 0x04));
    assert_eq!(pending.sign_count(), 42);
    assert_eq!(TestKey::ed25519().cose_key().raw_public_key().len(), 32);
}

#[test]
fn extension_outputs_are_skipped() {
    let key = TestKey::es256();
    let extensions = Cbor::Map(vec![
        (Cbor::Text("credProtect"), Cbor::Int(2)),
        (Cbor::Text("hmac-secret"), Cbor::Bool(true)),
    ]);
    let auth = AuthData::registration(&key).with_extensions(extensions.clone());
    assert!(register(&ClientData::new("webauthn.create"), &auth).is_ok());
    let auth = AuthData::assertion(42).with_extensions(extensions);
    let response = assertion(&key, &ClientData::new("webauthn.get"), &auth);
    assert!(authenticate(&response, &stored(&key, 41), &assertion_expectations()).is_ok());
}

#[test]
fn client_data_extras_are_tolerated() {
    let key = TestKey::es256();
    let mut client = ClientData::new("webauthn.create");
    // Chrome's deliberate unknown member; topOrigin is ignored unless cross-origin.
    client.extra = r#""crossOrigin":false,"topOrigin":"https://x.example","other_keys_can_be_added_here":"do not compare clientDataJSON against a template""#;
    assert!(register(&client, &AuthData::registration(&key)).is_ok());
    client.extra = "";
    assert!(register(&client, &AuthData::registration(&key)).is_ok());
    client.origin = OTHER_ORIGIN;
    assert!(register(&client, &AuthData::registration(&key)).is_ok());
}

// ---- clientDataJSON ----

#[test]
fn duplicate_client_data_members_read_as_serde_json_does() {
    // The last one wins (client_data::check says why that is acceptable).
    let key = TestKey::es256();
    let mut client = ClientData::new("webauthn.get");
    client.extra = r#""type":"webauthn.create""#;
    assert!(register(&client, &AuthData::registration(&key)).is_ok());
    let mut client = ClientData::new("webauthn.create");
    client.extra = r#""type":"webauthn.get""#;
    assert_eq!(
        refused_registration(&client, &AuthData::registration(&key)),
        WebAuthnError::WrongCeremonyType
    );
}

#[test]
fn registration_rejects_wrong_type() {
    let key = TestKey::es256();
    for ceremony in ["webauthn.get", "webauthn.create ", "WebAuthn.create", ""] {
        let client = ClientData::new(ceremony);
        assert_eq!(
            refused_registration(&client, &AuthData::registration(&key)),
            WebAuthnError::WrongCeremonyType
        );
    }
}

#[test]
fn assertion_rejects_wrong_type() {
    let error = refused_assertion(|client, _| client.ceremony = "webauthn.create");
    assert_eq!(error, WebAuthnError::WrongCeremonyType);
}

#[test]
fn registration_rejects_wrong_challenge() {
    let key = TestKey::es256();
    let mut client = ClientData::new("webauthn.create");
    for challenge in [
        &b"another 32-byte challenge, sorry"[..],
        &CHALLENGE[..31],
        b"",
    ] {
        client.challenge = URL_SAFE_NO_PAD.encode(challenge);
        assert_eq!(
            refused_registration(&client, &AuthData::registration(&key)),
            WebAuthnError::ChallengeMismatch
        );
    }
}

#[test]
fn assertion_rejects_wrong_challenge() {
    let error = refused_assertion(|client, _| {
        client.challenge = URL_SAFE_NO_PAD.encode(b"a stale challenge from yesterday")
    });
    assert_eq!(error, WebAuthnError::ChallengeMismatch);
}

#[test]
fn rejects_a_challenge_that_is_not_canonical_base64url() {
    let key = TestKey::es256();
    let encoded = URL_SAFE_NO_PAD.encode(CHALLENGE);
    let mut client = ClientData::new("webauthn.create");
    for challenge in [
        format!("{encoded}="),
        encoded.replace('-', "+").replace('_', "/") + "+/",
        format!(" {encoded}"),
        // 4 stray low bits: decodes under a lax decoder to the same bytes.
        format!("{}B", &encoded[..encoded.len() - 1]),
    ] {
        client.challenge = challenge;
        assert_eq!(
            refused_registration(&client, &AuthData::registration(&key)),
            WebAuthnError::MalformedBase64url,
            "{}",
            client.challenge
        );
    }
}

#[test]
fn registration_rejects_unlisted_origins() {
    let key = TestKey::es256();
    let mut client = ClientData::new("webauthn.create");
    for origin in [
        "https://evil.example",
        "https://login.example.com/",
        "https://login.example.com:443",
        "http://login.example.com",
        "HTTPS://login.example.com",
        "https://login.example.com.evil.example",
        "",
    ] {
        client.origin = origin;
        assert_eq!(
            refused_registration(&client, &AuthData::registration(&key)),
            WebAuthnError::OriginNotAllowed,
            "{origin}"
        );
    }
}

#[test]
fn assertion_rejects_unlisted_origin() {
    let error = refused_assertion(|client, _| client.origin = "https://evil.example");
    assert_eq!(error, WebAuthnError::OriginNotAllowed);
}

#[test]
fn registration_rejects_cross_origin() {
    let key = TestKey::es256();
    let mut client = ClientData::new("webauthn.create");
    client.extra = r#""crossOrigin":true,"topOrigin":"https://login.example.com""#;
    assert_eq!(
        refused_registration(&client, &AuthData::registration(&key)),
        WebAuthnError::CrossOrigin
    );
}

#[test]
fn assertion_rejects_cross_origin() {
    let error = refused_assertion(|client, _| client.extra = r#""crossOrigin":true"#);
    assert_eq!(error, WebAuthnError::CrossOrigin);
}

#[test]
fn rejects_malformed_client_data_json() {
    let key = TestKey::es256();
    let mut response = registration(
        &ClientData::new("webauthn.create"),
        &AuthData::registration(&key),
    );
    let good = String::from_utf8(response.client_data_json.clone()).unwrap();
    let cases: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"not json".to_vec(),
        b"[]".to_vec(),
        good.as_bytes()[..good.len() - 1].to_vec(),
        good.replace(r#""challenge""#, r#""challenge_""#)
            .into_bytes(),
        good.replace(r#""type":"webauthn.create""#, r#""type":1"#)
            .into_bytes(),
        good.replace(r#""crossOrigin":false"#, r#""crossOrigin":"false""#)
            .into_bytes(),
        [&[0xff, 0xfe][..], good.as_bytes()].concat(),
        good.replace("login", "log\u{0}in").into_bytes(),
    ];
    for json in cases {
        response.client_data_json = json;
        assert_eq!(
            verify_registration(&response, &registration_expectations()),
            Err(WebAuthnError::MalformedClientData),
            "{}",
            String::from_utf8_lossy(&response.client_data_json)
        );
    }
}

#[test]
fn assertion_rejects_malformed_client_data_json() {
    let key = TestKey::es256();
    let mut response = assertion(
        &key,
        &ClientData::new("webauthn.get"),
        &AuthData::assertion(42),
    );
    response.client_data_json = b"{\"type\":\"webauthn.get\"}".to_vec();
    assert_eq!(
        authenticate(&response, &stored(&key, 41), &assertion_expectations()),
        Err(WebAuthnError::MalformedClientData)
    );
}

// ---- Attestation object ----

#[test]
fn registration_rejects_formats_other_than_none() {
    let auth = AuthData::registration(&TestKey::es256()).bytes();
    let packed_self = Cbor::Map(vec![
        (Cbor::Text("alg"), Cbor::Int(-7)),
        (Cbor::Text("sig"), Cbor::Bytes(vec![0x30, 0x00])),
    ]);
    for (fmt, statement) in [
        ("packed", packed_self),
        ("packed", Cbor::Map(vec![])),
        ("fido-u2f", Cbor::Map(vec![])),
        ("None", Cbor::Map(vec![])),
    ] {
        assert_eq!(
            refused_attestation_object(attestation_object(fmt, statement, auth.clone())),
            WebAuthnError::UnsupportedAttestationFormat,
            "{fmt}"
        );
    }
}

#[test]
fn registration_rejects_a_none_statement_that_is_not_empty() {
    let auth = AuthData::registration(&TestKey::es256()).bytes();
    let statement = Cbor::Map(vec![(Cbor::Text("sig"), Cbor::Bytes(vec![1]))]);
    assert_eq!(
        refused_attestation_object(attestation_object("none", statement, auth)),
        WebAuthnError::InvalidAttestationStatement
    );
}

#[test]
fn registration_rejects_malformed_attestation_objects() {
    let auth = AuthData::registration(&TestKey::es256()).bytes();
    let fmt = || (Cbor::Text("fmt"), Cbor::Text("none"));
    let statement = || (Cbor::Text("attStmt"), Cbor::Map(vec![]));
    let data = || (Cbor::Text("authData"), Cbor::Bytes(auth.clone()));
    let cases = [
        Cbor::Map(vec![fmt(), statement()]),
        Cbor::Map(vec![fmt(), data()]),
        Cbor::Map(vec![statement(), data()]),
        Cbor::Map(vec![
            fmt(),
            statement(),
            data(),
            (Cbor::Text("epAtt"), Cbor::Bool(true)),
        ]),
        Cbor::Map(vec![
            (Cbor::Text("fmt"), Cbor::Bytes(b"none".to_vec())),
            statement(),
            data(),
        ]),
        Cbor::Map(vec![
            fmt(),
            (Cbor::Text("attStmt"), Cbor::Array(vec![])),
            data(),
        ]),
        Cbor::Map(vec![
            fmt(),
            statement(),
            (Cbor::Text("authData"), Cbor::Text("x")),
        ]),
        Cbor::Map(vec![
            (Cbor::Int(1), Cbor::Text("none")),
            statement(),
            data(),
        ]),
        Cbor::Array(vec![fmt().1, statement().1, data().1]),
        Cbor::Bytes(auth.clone()),
    ];
    for case in cases {
        assert_eq!(
            refused_attestation_object(case.encode()),
            WebAuthnError::MalformedAttestationObject,
            "{case:?}"
        );
    }
}

#[test]
fn registration_rejects_malformed_cbor() {
    let good = registration(
        &ClientData::new("webauthn.create"),
        &AuthData::registration(&TestKey::es256()),
    )
    .attestation_object;
    let mut trailing = good.clone();
    trailing.push(0x00);
    let mut indefinite = good.clone();
    indefinite[0] = 0xbf;
    indefinite.push(0xff);
    let mut tagged = vec![0xd8, 0x18];
    tagged.extend(&good);
    let duplicate = Cbor::Map(vec![
        (Cbor::Text("fmt"), Cbor::Text("none")),
        (Cbor::Text("fmt"), Cbor::Text("packed")),
        (Cbor::Text("attStmt"), Cbor::Map(vec![])),
    ])
    .encode();
    for case in [
        good[..good.len() - 1].to_vec(),
        trailing,
        indefinite,
        tagged,
        duplicate,
        vec![],
    ] {
        assert_eq!(
            refused_attestation_object(case),
            WebAuthnError::MalformedCbor
        );
    }
}

// ---- Authenticator data ----

#[test]
fn registration_rejects_wrong_rp_id_hash() {
    let mut auth = AuthData::registration(&TestKey::es256());
    auth.rp_id = "example.com";
    let client = ClientData::new("webauthn.create");
    assert_eq!(
        refused_registration(&client, &auth),
        WebAuthnError::RpIdMismatch
    );
    // And the other way round: the right hash, but this ceremony is for another RP ID.
    let auth = AuthData::registration(&TestKey::es256());
    let expected = RegistrationExpectations {
        rp_id: "other.example.com",
        ..registration_expectations()
    };
    assert_eq!(
        verify_registration(&registration(&client, &auth), &expected),
        Err(WebAuthnError::RpIdMismatch)
    );
}

#[test]
fn assertion_rejects_wrong_rp_id_hash() {
    let error = refused_assertion(|_, auth| auth.rp_id = "evil.example.com");
    assert_eq!(error, WebAuthnError::RpIdMismatch);
}

#[test]
fn registration_rejects_missing_user_presence() {
    let mut auth = AuthData::registration(&TestKey::es256());
    auth.flags = AT | UV;
    assert_eq!(
        refused_registration(&ClientData::new("webauthn.create"), &auth),
        WebAuthnError::UserNotPresent
    );
}

#[test]
fn assertion_rejects_missing_user_presence() {
    let error = refused_assertion(|_, auth| auth.flags = UV);
    assert_eq!(error, WebAuthnError::UserNotPresent);
}

#[test]
fn registration_rejects_missing_user_verification_when_required() {
    let client = ClientData::new("webauthn.create");
    let auth = AuthData::registration(&TestKey::es256());
    let strict = RegistrationExpectations {
        require_user_verification: true,
        ..registration_expectations()
    };
    assert_eq!(
        verify_registration(&registration(&client, &auth), &strict),
        Err(WebAuthnError::UserNotVerified)
    );
    assert!(
        verify_registration(&registration(&client, &auth), &registration_expectations()).is_ok()
    );
}

#[test]
fn assertion_rejects_missing_user_verification_when_required() {
    let key = TestKey::es256();
    let strict = AssertionExpectations {
        require_user_verification: true,
        ..assertion_expectations()
    };
    let client = ClientData::new("webauthn.get");
    let response = assertion(&key, &client, &AuthData::assertion(42));
    assert_eq!(
        authenticate(&response, &stored(&key, 41), &strict),
        Err(WebAuthnError::UserNotVerified)
    );
    let mut auth = AuthData::assertion(42);
    auth.flags |= UV;
    let response = assertion(&key, &client, &auth);
    let verified = authenticate(&response, &stored(&key, 41), &strict).unwrap();
    assert!(verified.flags.user_verified);
}

#[test]
fn registration_rejects_missing_attested_credential_data() {
    let mut auth = AuthData::registration(&TestKey::es256());
    auth.flags = UP;
    auth.attested = None;
    assert_eq!(
        refused_registration(&ClientData::new("webauthn.create"), &auth),
        WebAuthnError::MissingAttestedCredentialData
    );
    // The data without the flag is no better: it is trailing garbage then.
    let mut auth = AuthData::registration(&TestKey::es256());
    auth.flags = UP;
    assert_eq!(
        refused_registration(&ClientData::new("webauthn.create"), &auth),
        WebAuthnError::MissingAttestedCredentialData
    );
}

#[test]
fn assertion_rejects_attested_credential_data() {
    let key = TestKey::es256();
    let error = refused_assertion(|_, auth| {
        auth.flags |= AT;
        auth.attested = AuthData::registration(&key).attested;
    });
    assert_eq!(error, WebAuthnError::UnexpectedAttestedCredentialData);
    // AT with nothing behind it, too.
    let error = refused_assertion(|_, auth| auth.flags |= AT);
    assert_eq!(error, WebAuthnError::UnexpectedAttestedCredentialData);
}

#[test]
fn registration_rejects_trailing_bytes() {
    let key = TestKey::es256();
    let client = ClientData::new("webauthn.create");
    let mut auth = AuthData::registration(&key);
    auth.trailing = vec![0x00];
    assert_eq!(
        refused_registration(&client, &auth),
        WebAuthnError::AuthenticatorDataTrailingBytes
    );
    // Extensions present but ED clear: they are trailing bytes too.
    let mut auth = AuthData::registration(&key);
    auth.trailing = Cbor::Map(vec![(Cbor::Text("credProtect"), Cbor::Int(2))]).encode();
    assert_eq!(
        refused_registration(&client, &auth),
        WebAuthnError::AuthenticatorDataTrailingBytes
    );
    let mut auth = AuthData::registration(&key).with_extensions(Cbor::Map(vec![]));
    auth.trailing = vec![0xa0];
    assert_eq!(
        refused_registration(&client, &auth),
        WebAuthnError::AuthenticatorDataTrailingBytes
    );
}

#[test]
fn assertion_rejects_trailing_bytes() {
    let error = refused_assertion(|_, auth| auth.trailing = vec![0x00]);
    assert_eq!(error, WebAuthnError::AuthenticatorDataTrailingBytes);
    let error = refused_assertion(|_, auth| {
        *auth = AuthData::assertion(42).with_extensions(Cbor::Map(vec![]));
        auth.trailing = vec![0x01, 0x02];
    });
    assert_eq!(error, WebAuthnError::AuthenticatorDataTrailingBytes);
}

#[test]
fn rejects_extension_flag_without_a_map() {
    let key = TestKey::es256();
    let client = ClientData::new("webauthn.create");
    let mut auth = AuthData::registration(&key);
    auth.flags |= ED;
    assert_eq!(
        refused_registration(&client, &auth),
        WebAuthnError::MalformedCbor
    );
    let auth = AuthData::registration(&key).with_extensions(Cbor::Array(vec![]));
    assert_eq!(
        refused_registration(&client, &auth),
        WebAuthnError::MalformedAuthenticatorData
    );
    let error = refused_assertion(|_, auth| auth.flags |= ED);
    assert_eq!(error, WebAuthnError::MalformedCbor);
}

#[test]
fn rejects_truncated_authenticator_data() {
    let key = TestKey::es256();
    let full = AuthData::registration(&key).bytes();
    // Every cut before the public key is a structural error; the cuts inside the key
    // are the CBOR decoder's.
    let key_start = 37 + 16 + 2 + 24;
    for end in 0..full.len() {
        let error = refused_attestation_object(attestation_object(
            "none",
            Cbor::Map(vec![]),
            full[..end].to_vec(),
        ));
        let expected = if end < key_start {
            WebAuthnError::MalformedAuthenticatorData
        } else {
            WebAuthnError::MalformedCbor
        };
        assert_eq!(error, expected, "cut at {end}");
    }
    let key = TestKey::es256();
    let mut response = assertion(
        &key,
        &ClientData::new("webauthn.get"),
        &AuthData::assertion(42),
    );
    response.authenticator_data.truncate(36);
    assert_eq!(
        verify_assertion(&response, &stored(&key, 41), &assertion_expectations()).unwrap_err(),
        WebAuthnError::MalformedAuthenticatorData
    );
}

#[test]
fn rejects_an_empty_credential_id() {
    let mut auth = AuthData::registration(&TestKey::es256());
    auth.attested.as_mut().unwrap().credential_id.clear();
    assert_eq!(
        refused_registration(&ClientData::new("webauthn.create"), &auth),
        WebAuthnError::MalformedAuthenticatorData
    );
}

#[test]
fn registration_rejects_backup_state_without_eligibility() {
    let mut auth = AuthData::registration(&TestKey::es256());
    auth.flags |= BS;
    assert_eq!(
        refused_registration(&ClientData::new("webauthn.create"), &auth),
        WebAuthnError::BackupStateWithoutEligibility
    );
}

#[test]
fn assertion_rejects_backup_state_without_eligibility() {
    let error = refused_assertion(|_, auth| auth.flags |= BS);
    assert_eq!(error, WebAuthnError::BackupStateWithoutEligibility);
}

#[test]
fn assertion_rejects_a_changed_backup_eligibility() {
    let key = TestKey::es256();
    let client = ClientData::new("webauthn.get");
    let mut auth = AuthData::assertion(42);
    auth.flags |= BE | BS;
    let response = assertion(&key, &client, &auth);
    assert_eq!(
        authenticate(&response, &stored(&key, 41), &assertion_expectations()),
        Err(WebAuthnError::BackupEligibilityChanged)
    );
    let eligible = StoredCredential {
        backup_eligible: true,
        ..stored(&key, 41)
    };
    let verified = authenticate(&response, &eligible, &assertion_expectations()).unwrap();
    assert!(verified.flags.backup_eligible && verified.flags.backup_state);
    let response = assertion(&key, &client, &AuthData::assertion(43));
    assert_eq!(
        authenticate(&response, &eligible, &assertion_expectations()),
        Err(WebAuthnError::BackupEligibilityChanged)
    );
}

#[test]
fn registration_rejects_credential_ids_over_1023_bytes() {
    let client = ClientData::new("webauthn.create");
    let mut auth = AuthData::registration(&TestKey::es256());
    auth.attested.as_mut().unwrap().credential_id = vec![0x11; MAX_CREDENTIAL_ID];
    assert_eq!(
        register(&client, &auth).unwrap().credential_id.len(),
        MAX_CREDENTIAL_ID
    );
    auth.attested.as_mut().unwrap().credential_id = vec![0x11; MAX_CREDENTIAL_ID + 1];
    assert_eq!(
        refused_registration(&client, &auth),
        WebAuthnError::CredentialIdTooLong
    );
}

// ---- Credential public key ----

#[test]
fn registration_rejects_kty_alg_crv_mismatches() {
    let TestKey::Es256(signing) = TestKey::es256() else {
        unreachable!()
    };
    let es256 = TestKey::Es256(signing).cose();
    let ed25519 = TestKey::ed25519().cose();
    for (name, key) in [
        ("EC2 key as OKP", es256.clone().set(1, Cbor::Int(1))),
        ("EC2 key as RSA", es256.clone().set(1, Cbor::Int(3))),
        ("P-384 curve", es256.clone().set(-1, Cbor::Int(2))),
        ("Ed25519 curve on EC2", es256.clone().set(-1, Cbor::Int(6))),
        (
            "ES256 named on an OKP key",
            ed25519.clone().set(3, Cbor::Int(-7)),
        ),
        (
            "EdDSA named on an EC2 key",
            es256.clone().set(3, Cbor::Int(-8)),
        ),
        ("Ed448 curve", ed25519.clone().set(-1, Cbor::Int(7))),
        ("OKP key as EC2", ed25519.clone().set(1, Cbor::Int(2))),
    ] {
        assert_eq!(refused_key(key), WebAuthnError::CoseKeyMismatch, "{name}");
    }
}

#[test]
fn registration_rejects_algorithms_not_offered() {
    let client = ClientData::new("webauthn.create");
    for (key, offered) in [
        (TestKey::es256(), CoseAlgorithm::EdDsa),
        (TestKey::ed25519(), CoseAlgorithm::Es256),
    ] {
        let response = registration(&client, &AuthData::registration(&key));
        let expected = RegistrationExpectations {
            algorithms: &[offered],
            ..registration_expectations()
        };
        assert_eq!(
            verify_registration(&response, &expected),
            Err(WebAuthnError::AlgorithmNotOffered)
        );
        let expected = RegistrationExpectations {
            algorithms: &[],
            ..registration_expectations()
        };
        assert_eq!(
            verify_registration(&response, &expected),
            Err(WebAuthnError::AlgorithmNotOffered)
        );
    }
}

#[test]
fn registration_rejects_unknown_algorithms() {
    let es256 = TestKey::es256().cose();
    // RS256, ES384, the fully-specified Ed25519 (-19), and a private-use value.
    for alg in [-257, -35, -19, -65536, 0, 7] {
        assert_eq!(
            refused_key(es256.clone().set(3, Cbor::Int(alg))),
            WebAuthnError::UnsupportedAlgorithm,
            "{alg}"
        );
    }
}

#[test]
fn registration_rejects_malformed_cose_keys() {
    let es256 = TestKey::es256().cose();
    let ed25519 = TestKey::ed25519().cose();
    for (name, key) in [
        ("no alg", es256.clone().remove(3)),
        ("no kty", es256.clone().remove(1)),
        ("no crv", es256.clone().remove(-1)),
        ("no x", es256.clone().remove(-2)),
        ("no y", es256.clone().remove(-3)),
        ("alg as text", es256.clone().set(3, Cbor::Text("ES256"))),
        ("kty as text", es256.clone().set(1, Cbor::Text("EC2"))),
        ("x as text", es256.clone().set(-2, Cbor::Text("x"))),
        ("compressed y", es256.clone().set(-3, Cbor::Bool(true))),
        (
            "private key",
            es256.clone().set(-4, Cbor::Bytes(vec![1; 32])),
        ),
        (
            "OKP with y",
            ed25519.clone().set(-3, Cbor::Bytes(vec![1; 32])),
        ),
        (
            "OKP private key",
            ed25519.clone().set(-4, Cbor::Bytes(vec![1; 32])),
        ),
        (
            "not a map",
            Cbor::Bytes(TestKey::es256().cose_key().raw_public_key()),
        ),
        ("an array", Cbor::Array(vec![Cbor::Int(1), Cbor::Int(2)])),
    ] {
        assert_eq!(refused_key(key), WebAuthnError::MalformedCoseKey, "{name}");
    }
    // Broken CBOR where the key should be.
    assert_eq!(
        refused_key(Cbor::Raw(vec![0xa5, 0x01, 0x02])),
        WebAuthnError::MalformedCbor
    );
    assert_eq!(
        CoseKey::from_cose(&[0xa0, 0x00]),
        Err(WebAuthnError::MalformedCbor)
    );
    assert_eq!(
        CoseKey::from_cose(&[0xa0]),
        Err(WebAuthnError::MalformedCoseKey)
    );
}

#[test]
fn registration_rejects_bad_p256_points() {
    let TestKey::Es256(signing) = TestKey::es256() else {
        unreachable!()
    };
    let point = signing.verifying_key().to_encoded_point(false);
    let (x, y) = (point.x().unwrap().to_vec(), point.y().unwrap().to_vec());
    let mut off_curve = y.clone();
    off_curve[31] ^= 1;
    let mut long_x = vec![0];
    long_x.extend(&x);
    for (name, x, y) in [
        ("off the curve", x.clone(), off_curve),
        ("all zero", vec![0; 32], vec![0; 32]),
        ("x = p", p256_prime().to_vec(), y.clone()),
        ("y = p", x.clone(), p256_prime().to_vec()),
        ("short x", x[1..].to_vec(), y.clone()),
        ("long x", long_x, y.clone()),
        ("short y", x.clone(), y[..31].to_vec()),
        ("empty", vec![], vec![]),
    ] {
        assert_eq!(
            refused_key(cose_es256(&x, &y)),
            WebAuthnError::InvalidPublicKey,
            "{name}"
        );
    }
}

#[test]
fn registration_rejects_bad_ed25519_points() {
    let mut identity = [0u8; 32];
    identity[0] = 1;
    // y = p = 2^255 - 19: a non-canonical encoding of 0.
    let mut non_canonical = [0xff; 32];
    non_canonical[0] = 0xed;
    non_canonical[31] = 0x7f;
    // y = 2 has no x on the curve.
    let mut no_point = [0u8; 32];
    no_point[0] = 2;
    for (name, x) in [
        ("identity (small order)", identity.to_vec()),
        ("non-canonical", non_canonical.to_vec()),
        ("not a point", no_point.to_vec()),
        ("31 bytes", vec![0x42; 31]),
        ("33 bytes", vec![0x42; 33]),
    ] {
        assert_eq!(
            refused_key(cose_ed25519(&x)),
            WebAuthnError::InvalidPublicKey,
            "{name}"
        );
    }
}

// ---- Signatures and counters ----

#[test]
fn tampered_signatures_fail() {
    for key in [TestKey::es256(), TestKey::ed25519()] {
        let record = stored(&key, 41);
        let client = ClientData::new("webauthn.get");
        let good = assertion(&key, &client, &AuthData::assertion(42));
        assert!(authenticate(&good, &record, &assertion_expectations()).is_ok());

        let mut flipped = good.clone();
        let last = flipped.signature.len() - 1;
        flipped.signature[last] ^= 0x01;
        assert_eq!(
            authenticate(&flipped, &record, &assertion_expectations()),
            Err(WebAuthnError::BadSignature)
        );
        // A counter pushed forward after signing.
        let mut replayed = good.clone();
        replayed.authenticator_data = AuthData::assertion(1000).bytes();
        assert_eq!(
            authenticate(&replayed, &record, &assertion_expectations()),
            Err(WebAuthnError::BadSignature)
        );
        // The same signature over other client data (here: another allowed origin).
        let mut moved = good.clone();
        let mut other = ClientData::new("webauthn.get");
        other.origin = OTHER_ORIGIN;
        moved.client_data_json = other.json();
        assert_eq!(
            authenticate(&moved, &record, &assertion_expectations()),
            Err(WebAuthnError::BadSignature)
        );
    }
}

#[test]
fn signatures_by_another_key_fail() {
    let key = TestKey::es256();
    let other = TestKey::Es256(p256::ecdsa::SigningKey::from_bytes(&[0x77; 32].into()).unwrap());
    let response = assertion(
        &other,
        &ClientData::new("webauthn.get"),
        &AuthData::assertion(42),
    );
    assert_eq!(
        authenticate(&response, &stored(&key, 41), &assertion_expectations()),
        Err(WebAuthnError::BadSignature)
    );
}

#[test]
fn rejects_malformed_signatures() {
    let es256 = TestKey::es256();
    let mut response = assertion(
        &es256,
        &ClientData::new("webauthn.get"),
        &AuthData::assertion(42),
    );
    // Raw r || s where DER belongs.
    response.signature = es256_der_to_raw(&response.signature).unwrap().to_vec();
    assert_eq!(
        verify_assertion(&response, &stored(&es256, 41), &assertion_expectations()).unwrap_err(),
        WebAuthnError::MalformedSignature
    );
    response.signature = vec![];
    assert_eq!(
        verify_assertion(&response, &stored(&es256, 41), &assertion_expectations()).unwrap_err(),
        WebAuthnError::MalformedSignature
    );
    let ed25519 = TestKey::ed25519();
    let mut response = assertion(
        &ed25519,
        &ClientData::new("webauthn.get"),
        &AuthData::assertion(42),
    );
    for length in [63, 65] {
        response.signature.resize(length, 0);
        assert_eq!(
            verify_assertion(&response, &stored(&ed25519, 41), &assertion_expectations())
                .unwrap_err(),
            WebAuthnError::MalformedSignature
        );
    }
}

#[test]
fn counter_must_increase_once_either_side_is_non_zero() {
    let key = TestKey::es256();
    let client = ClientData::new("webauthn.get");
    for (stored_count, received, ok) in [
        (41, 42, true),
        (0, 0, true),
        (0, 5, true),
        (41, 41, false),
        (41, 40, false),
        (5, 0, false),
        (u32::MAX, u32::MAX, false),
    ] {
        let response = assertion(&key, &client, &AuthData::assertion(received));
        let result = authenticate(
            &response,
            &stored(&key, stored_count),
            &assertion_expectations(),
        );
        if ok {
            assert_eq!(result.unwrap().sign_count, received);
        } else {
            assert_eq!(
                result,
                Err(WebAuthnError::CounterRegression {
                    stored: stored_count,
                    received
                })
            );
        }
    }
}

#[test]
fn counter_regression_is_only_reported_for_valid_signatures() {
    // An attacker without the key can choose any counter; that must read as a bad
    // signature, not as a cloned authenticator.
    let key = TestKey::es256();
    let response = assertion(
        &key,
        &ClientData::new("webauthn.get"),
        &AuthData::assertion(3),
    );
    let pending =
        verify_assertion(&response, &stored(&key, 41), &assertion_expectations()).unwrap();
    assert_eq!(
        pending.clone().finish(false),
        Err(WebAuthnError::BadSignature)
    );
    assert_eq!(
        pending.finish(true),
        Err(WebAuthnError::CounterRegression {
            stored: 41,
            received: 3
        })
    );
}

// ---- User handle ----

#[test]
fn assertion_checks_the_user_handle() {
    let key = TestKey::es256();
    let mut response = assertion(
        &key,
        &ClientData::new("webauthn.get"),
        &AuthData::assertion(42),
    );
    response.user_handle = Some(b"user-handle-2".to_vec());
    assert_eq!(
        authenticate(&response, &stored(&key, 41), &assertion_expectations()),
        Err(WebAuthnError::UserHandleMismatch)
    );
    response.user_handle = None;
    assert_eq!(
        authenticate(&response, &stored(&key, 41), &assertion_expectations()),
        Err(WebAuthnError::MissingUserHandle)
    );
    // Optional when the user was identified before the ceremony.
    let identified = AssertionExpectations {
        require_user_handle: false,
        ..assertion_expectations()
    };
    assert!(authenticate(&response, &stored(&key, 41), &identified).is_ok());
}

// ---- Sizes and base64url ----

#[test]
fn rejects_oversized_inputs() {
    let key = TestKey::es256();
    let mut response = registration(
        &ClientData::new("webauthn.create"),
        &AuthData::registration(&key),
    );
    // JSON padded with whitespace to exactly the cap is fine; one byte more is not.
    let json = response.client_data_json.clone();
    let pad = MAX_CLIENT_DATA_JSON - json.len();
    response.client_data_json = [&json[..1], &vec![b' '; pad], &json[1..]].concat();
    assert!(verify_registration(&response, &registration_expectations()).is_ok());
    response.client_data_json.insert(1, b' ');
    assert_eq!(
        verify_registration(&response, &registration_expectations()),
        Err(WebAuthnError::ClientDataTooLarge)
    );
    response.client_data_json = json;
    response
        .attestation_object
        .resize(MAX_ATTESTATION_OBJECT + 1, 0);
    assert_eq!(
        verify_registration(&response, &registration_expectations()),
        Err(WebAuthnError::AttestationObjectTooLarge)
    );

    let good = assertion(
        &key,
        &ClientData::new("webauthn.get"),
        &AuthData::assertion(42),
    );
    let record = stored(&key, 41);
    let mut response = good.clone();
    response
        .client_data_json
        .resize(MAX_CLIENT_DATA_JSON + 1, b' ');
    assert_eq!(
        verify_assertion(&response, &record, &assertion_expectations()).unwrap_err(),
        WebAuthnError::ClientDataTooLarge
    );
    let mut response = good.clone();
    response
        .authenticator_data
        .resize(MAX_AUTHENTICATOR_DATA + 1, 0);
    assert_eq!(
        verify_assertion(&response, &record, &assertion_expectations()).unwrap_err(),
        WebAuthnError::AuthenticatorDataTooLarge
    );
    let mut response = good.clone();
    response.signature.resize(MAX_SIGNATURE + 1, 0);
    assert_eq!(
        verify_assertion(&response, &record, &assertion_expectations()).unwrap_err(),
        WebAuthnError::SignatureTooLarge
    );
    let mut response = good;
    response.user_handle = Some(vec![0; MAX_USER_HANDLE + 1]);
    assert_eq!(
        verify_assertion(&response, &record, &assertion_expectations()).unwrap_err(),
        WebAuthnError::UserHandleTooLarge
    );
}

#[test]
fn from_base64url_rejects_oversized_fields_before_decoding() {
    let huge = "A".repeat(10 * 1024 * 1024);
    let small = URL_SAFE_NO_PAD.encode(b"{}");
    assert_eq!(
        RegistrationResponse::from_base64url(&huge, &small).unwrap_err(),
        WebAuthnError::ClientDataTooLarge
    );
    assert_eq!(
        RegistrationResponse::from_base64url(&small, &huge).unwrap_err(),
        WebAuthnError::AttestationObjectTooLarge
    );
    // Refused on its length alone: never decoded, so never found malformed.
    assert_eq!(
        RegistrationResponse::from_base64url(&"*".repeat(2 * MAX_CLIENT_DATA_JSON), &small)
            .unwrap_err(),
        WebAuthnError::ClientDataTooLarge
    );
    let just_over = URL_SAFE_NO_PAD.encode(vec![0u8; MAX_CLIENT_DATA_JSON + 1]);
    assert_eq!(
        RegistrationResponse::from_base64url(&just_over, &small).unwrap_err(),
        WebAuthnError::ClientDataTooLarge
    );
    let at_cap = URL_SAFE_NO_PAD.encode(vec![0u8; MAX_CLIENT_DATA_JSON]);
    assert!(RegistrationResponse::from_base64url(&at_cap, &small).is_ok());
    for (ad, sig, handle, error) in [
        (
            &huge,
            &small,
            None,
            WebAuthnError::AuthenticatorDataTooLarge,
        ),
        (&small, &huge, None, WebAuthnError::SignatureTooLarge),
        (
            &small,
            &small,
            Some(URL_SAFE_NO_PAD.encode([0u8; MAX_USER_HANDLE + 1])),
            WebAuthnError::UserHandleTooLarge,
        ),
    ] {
        assert_eq!(
            AssertionResponse::from_base64url(&small, ad, sig, handle.as_deref()).unwrap_err(),
            error
        );
    }
}

#[test]
fn from_base64url_rejects_malformed_fields() {
    let good = URL_SAFE_NO_PAD.encode(b"{}");
    for bad in ["e30=", "e3+", "e3/", "e3 0", "e30\n", "e31", "*"] {
        assert_eq!(
            RegistrationResponse::from_base64url(bad, &good).unwrap_err(),
            WebAuthnError::MalformedBase64url,
            "{bad:?}"
        );
        assert_eq!(
            AssertionResponse::from_base64url(&good, &good, &good, Some(bad)).unwrap_err(),
            WebAuthnError::MalformedBase64url,
            "{bad:?}"
        );
    }
}

#[test]
fn error_codes_are_distinct_and_snake_case() {
    let all = [
        WebAuthnError::ClientDataTooLarge,
        WebAuthnError::AttestationObjectTooLarge,
        WebAuthnError::AuthenticatorDataTooLarge,
        WebAuthnError::SignatureTooLarge,
        WebAuthnError::UserHandleTooLarge,
        WebAuthnError::MalformedBase64url,
        WebAuthnError::MalformedClientData,
        WebAuthnError::WrongCeremonyType,
        WebAuthnError::ChallengeMismatch,
        WebAuthnError::OriginNotAllowed,
        WebAuthnError::CrossOrigin,
        WebAuthnError::MalformedCbor,
        WebAuthnError::MalformedAttestationObject,
        WebAuthnError::UnsupportedAttestationFormat,
        WebAuthnError::InvalidAttestationStatement,
        WebAuthnError::MalformedAuthenticatorData,
        WebAuthnError::AuthenticatorDataTrailingBytes,
        WebAuthnError::RpIdMismatch,
        WebAuthnError::UserNotPresent,
        WebAuthnError::UserNotVerified,
        WebAuthnError::MissingAttestedCredentialData,
        WebAuthnError::UnexpectedAttestedCredentialData,
        WebAuthnError::BackupStateWithoutEligibility,
        WebAuthnError::BackupEligibilityChanged,
        WebAuthnError::CredentialIdTooLong,
        WebAuthnError::MalformedCoseKey,
        WebAuthnError::UnsupportedAlgorithm,
        WebAuthnError::AlgorithmNotOffered,
        WebAuthnError::CoseKeyMismatch,
        WebAuthnError::InvalidPublicKey,
        WebAuthnError::MalformedSignature,
        WebAuthnError::BadSignature,
        WebAuthnError::UserHandleMismatch,
        WebAuthnError::MissingUserHandle,
        WebAuthnError::CounterRegression {
            stored: 2,
            received: 1,
        },
    ];
    let codes: std::collections::HashSet<_> = all.iter().map(WebAuthnError::code).collect();
    assert_eq!(codes.len(), all.len());
    for code in codes {
        assert!(
            !code.is_empty()
                && code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{code}"
        );
    }
    assert_eq!(all.last().unwrap().to_string(), "counter_regression");
}
