//! Real WebAuthn responses for the tests, built the way an authenticator and a browser
//! build them: a tiny CBOR encoder, authenticator data byte by byte, clientDataJSON,
//! and signatures from real P-256 and Ed25519 keys with fixed seeds. Also the native
//! signature check standing in for WebCrypto.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use p256::ecdsa::signature::{Signer, Verifier};
use sha2::{Digest, Sha256};

use super::auth_data::{AT, ED, UP};
use super::{AssertionResponse, CoseKey, RegistrationResponse, SignedData};

pub const RP_ID: &str = "login.example.com";
pub const ORIGIN: &str = "https://login.example.com";
pub const OTHER_ORIGIN: &str = "https://app.example.com";
pub const CHALLENGE: &[u8] = b"a 32-byte challenge, from getrnd";
pub const AAGUID: [u8; 16] = *b"aaguid-of-tests!";

/// Just enough CBOR to write what authenticators write, and a few things they must not.
#[derive(Debug, Clone)]
pub enum Cbor {
    Int(i64),
    Bytes(Vec<u8>),
    Text(&'static str),
    Array(Vec<Cbor>),
    Map(Vec<(Cbor, Cbor)>),
    Bool(bool),
    /// Pre-encoded bytes, for encodings the other variants cannot produce.
    Raw(Vec<u8>),
}

impl Cbor {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Self::Int(n) if *n >= 0 => head(out, 0, n.unsigned_abs()),
            Self::Int(n) => head(out, 1, n.unsigned_abs() - 1),
            Self::Bytes(bytes) => {
                head(out, 2, bytes.len() as u64);
                out.extend_from_slice(bytes);
            }
            Self::Text(text) => {
                head(out, 3, text.len() as u64);
                out.extend_from_slice(text.as_bytes());
            }
            Self::Array(items) => {
                head(out, 4, items.len() as u64);
                items.iter().for_each(|item| item.write(out));
            }
            Self::Map(entries) => {
                head(out, 5, entries.len() as u64);
                for (key, value) in entries {
                    key.write(out);
                    value.write(out);
                }
            }
            Self::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
            Self::Raw(bytes) => out.extend_from_slice(bytes),
        }
    }

    /// Replaces (or adds) the value under an integer key of a map: COSE key variants.
    pub fn set(mut self, key: i64, value: Cbor) -> Self {
        if let Self::Map(entries) = &mut self {
            entries.retain(|(k, _)| !matches!(k, Cbor::Int(n) if *n == key));
            entries.push((Cbor::Int(key), value));
        }
        self
    }

    pub fn remove(mut self, key: i64) -> Self {
        if let Self::Map(entries) = &mut self {
            entries.retain(|(k, _)| !matches!(k, Cbor::Int(n) if *n == key));
        }
        self
    }
}

fn head(out: &mut Vec<u8>, major: u8, n: u64) {
    let major = major << 5;
    match n {
        0..=23 => out.push(major | n as u8),
        24..=0xff => out.extend([major | 24, n as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend((n as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(major | 26);
            out.extend((n as u32).to_be_bytes());
        }
        _ => {
            out.push(major | 27);
            out.extend(n.to_be_bytes());
        }
    }
}

pub fn cose_es256(x: &[u8], y: &[u8]) -> Cbor {
    Cbor::Map(vec![
        (Cbor::Int(1), Cbor::Int(2)),
        (Cbor::Int(3), Cbor::Int(-7)),
        (Cbor::Int(-1), Cbor::Int(1)),
        (Cbor::Int(-2), Cbor::Bytes(x.to_vec())),
        (Cbor::Int(-3), Cbor::Bytes(y.to_vec())),
    ])
}

pub fn cose_ed25519(x: &[u8]) -> Cbor {
    Cbor::Map(vec![
        (Cbor::Int(1), Cbor::Int(1)),
        (Cbor::Int(3), Cbor::Int(-8)),
        (Cbor::Int(-1), Cbor::Int(6)),
        (Cbor::Int(-2), Cbor::Bytes(x.to_vec())),
    ])
}

/// An authenticator's key pair.
pub enum TestKey {
    Es256(p256::ecdsa::SigningKey),
    Ed25519(ed25519_compact::KeyPair),
}

impl TestKey {
    pub fn es256() -> Self {
        Self::Es256(p256::ecdsa::SigningKey::from_bytes(&[0x5a; 32].into()).unwrap())
    }

    pub fn ed25519() -> Self {
        Self::Ed25519(ed25519_compact::KeyPair::from_seed(
            ed25519_compact::Seed::new([0x3c; 32]),
        ))
    }

    pub fn cose(&self) -> Cbor {
        match self {
            Self::Es256(key) => {
                let point = key.verifying_key().to_encoded_point(false);
                cose_es256(point.x().unwrap(), point.y().unwrap())
            }
            Self::Ed25519(pair) => cose_ed25519(pair.pk.as_ref()),
        }
    }

    pub fn cose_key(&self) -> CoseKey {
        CoseKey::from_cose(&self.cose().encode()).unwrap()
    }

    /// What the authenticator puts in `signature`: DER for ES256.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            Self::Es256(key) => {
                let signature: p256::ecdsa::Signature = key.sign(message);
                signature.to_der().as_bytes().to_vec()
            }
            Self::Ed25519(pair) => pair.sk.sign(message, None).to_vec(),
        }
    }
}

/// The native stand-in for the Worker's WebCrypto `verify`, fed exactly what it would be.
pub fn check_signature(signed: &SignedData) -> bool {
    match &signed.key {
        CoseKey::Es256 { .. } => {
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&signed.key.raw_public_key());
            let signature = p256::ecdsa::Signature::from_slice(&signed.signature);
            match (key, signature) {
                (Ok(key), Ok(signature)) => key.verify(&signed.message, &signature).is_ok(),
                _ => false,
            }
        }
        CoseKey::Ed25519 { x } => ed25519_compact::Signature::from_slice(&signed.signature)
            .is_ok_and(|signature| {
                ed25519_compact::PublicKey::new(*x)
                    .verify(&signed.message, &signature)
                    .is_ok()
            }),
    }
}

pub struct ClientData {
    pub ceremony: &'static str,
    pub challenge: String,
    pub origin: &'static str,
    /// Raw JSON members appended after the standard ones, e.g. `"crossOrigin":true`.
    pub extra: &'static str,
}

impl ClientData {
    pub fn new(ceremony: &'static str) -> Self {
        Self {
            ceremony,
            challenge: URL_SAFE_NO_PAD.encode(CHALLENGE),
            origin: ORIGIN,
            extra: r#""crossOrigin":false"#,
        }
    }

    /// Member order and spacing as Chrome writes them.
    pub fn json(&self) -> Vec<u8> {
        let mut json = format!(
            r#"{{"type":"{}","challenge":"{}","origin":"{}""#,
            self.ceremony, self.challenge, self.origin
        );
        if !self.extra.is_empty() {
            json.push(',');
            json.push_str(self.extra);
        }
        json.push('}');
        json.into_bytes()
    }
}

pub struct Attested {
    pub aaguid: [u8; 16],
    pub credential_id: Vec<u8>,
    /// Encoded COSE_Key (or whatever a test wants in its place).
    pub public_key: Vec<u8>,
}

pub struct AuthData {
    pub rp_id: &'static str,
    pub flags: u8,
    pub sign_count: u32,
    pub attested: Option<Attested>,
    pub extensions: Option<Vec<u8>>,
    pub trailing: Vec<u8>,
}

impl AuthData {
    pub fn registration(key: &TestKey) -> Self {
        Self {
            rp_id: RP_ID,
            flags: UP | AT,
            sign_count: 0,
            attested: Some(Attested {
                aaguid: AAGUID,
                credential_id: b"credential-id-0123456789".to_vec(),
                public_key: key.cose().encode(),
            }),
            extensions: None,
            trailing: Vec::new(),
        }
    }

    pub fn assertion(sign_count: u32) -> Self {
        Self {
            rp_id: RP_ID,
            flags: UP,
            sign_count,
            attested: None,
            extensions: None,
            trailing: Vec::new(),
        }
    }

    /// Sets ED and the extension outputs together, as an authenticator would.
    pub fn with_extensions(mut self, extensions: Cbor) -> Self {
        self.flags |= ED;
        self.extensions = Some(extensions.encode());
        self
    }

    pub fn bytes(&self) -> Vec<u8> {
        let mut out = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        out.push(self.flags);
        out.extend(self.sign_count.to_be_bytes());
        if let Some(attested) = &self.attested {
            out.extend(attested.aaguid);
            out.extend((attested.credential_id.len() as u16).to_be_bytes());
            out.extend(&attested.credential_id);
            out.extend(&attested.public_key);
        }
        if let Some(extensions) = &self.extensions {
            out.extend(extensions);
        }
        out.extend(&self.trailing);
        out
    }
}

/// An attestation object, keys in the order CTAP2's canonical CBOR puts them.
pub fn attestation_object(fmt: &'static str, att_stmt: Cbor, auth_data: Vec<u8>) -> Vec<u8> {
    Cbor::Map(vec![
        (Cbor::Text("fmt"), Cbor::Text(fmt)),
        (Cbor::Text("attStmt"), att_stmt),
        (Cbor::Text("authData"), Cbor::Bytes(auth_data)),
    ])
    .encode()
}

pub fn registration(client: &ClientData, auth: &AuthData) -> RegistrationResponse {
    RegistrationResponse {
        client_data_json: client.json(),
        attestation_object: attestation_object("none", Cbor::Map(vec![]), auth.bytes()),
    }
}

/// Signed by `key` over exactly what it covers.
pub fn assertion(key: &TestKey, client: &ClientData, auth: &AuthData) -> AssertionResponse {
    let client_data_json = client.json();
    let authenticator_data = auth.bytes();
    let mut message = authenticator_data.clone();
    message.extend(Sha256::digest(&client_data_json));
    AssertionResponse {
        signature: key.sign(&message),
        client_data_json,
        authenticator_data,
        user_handle: Some(b"user-handle-1".to_vec()),
    }
}
