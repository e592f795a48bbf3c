//! RFC 4226 HOTP / RFC 6238 TOTP, the otpauth:// enrolment URI and its QR code.

use std::fmt;

use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use qrcodegen::{QrCode, QrCodeEcc};
use subtle::{ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlg {
    Sha1,
    Sha256,
    Sha512,
}

pub const STEP_SECONDS: u64 = 30;
pub const DIGITS: u32 = 6;

/// RFC 4226 HOTP with dynamic truncation; returns the numeric code (value mod 10^digits).
pub fn hotp(alg: HashAlg, key: &[u8], counter: u64, digits: u32) -> u32 {
    let msg = counter.to_be_bytes();
    let truncated = match alg {
        HashAlg::Sha1 => truncate::<Hmac<sha1::Sha1>>(key, &msg),
        HashAlg::Sha256 => truncate::<Hmac<sha2::Sha256>>(key, &msg),
        HashAlg::Sha512 => truncate::<Hmac<sha2::Sha512>>(key, &msg),
    };
    // The truncated value is below 2^31, so 10 or more digits means "the whole value".
    10u32
        .checked_pow(digits)
        .map_or(truncated, |m| truncated % m)
}

fn truncate<M: Mac + hmac::digest::KeyInit>(key: &[u8], msg: &[u8]) -> u32 {
    let mut mac = <M as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(msg);
    let out = mac.finalize().into_bytes();
    let offset = usize::from(out[out.len() - 1] & 0x0f);
    let word: [u8; 4] = out[offset..offset + 4].try_into().expect("4-byte slice");
    u32::from_be_bytes(word) & 0x7fff_ffff
}

/// RFC 6238 time step for a unix time in seconds (T0 = 0). Negative times -> 0.
pub fn time_step(unix_seconds: i64) -> u64 {
    u64::try_from(unix_seconds).map_or(0, |s| s / STEP_SECONDS)
}

/// A TOTP shared secret (160 bits when generated). Zeroized on drop; Debug prints "TotpSecret(REDACTED)"; no Display, no Serialize.
pub struct TotpSecret(Vec<u8>);

impl TotpSecret {
    /// 160 bits: the RFC 4226 recommended length and the HMAC-SHA-1 output size.
    pub fn generate() -> Self {
        let mut raw = crate::domain::random::bytes::<20>();
        let secret = Self::from_bytes(&raw);
        raw.zeroize();
        secret
    }

    pub fn from_bytes(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Unpadded because the Key Uri Format omits '=' and some authenticator apps reject it.
    pub fn to_base32(&self) -> String {
        base32::encode(base32::Alphabet::Rfc4648 { padding: false }, &self.0)
    }
}

impl Drop for TotpSecret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(REDACTED)")
    }
}

/// A submitted code: exactly 6 ASCII digits, nothing else (no spaces, no signs, no unicode digits, no 5 or 7 digits).
pub struct TotpCode(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidTotpCode;

impl TotpCode {
    pub fn parse(s: &str) -> Result<Self, InvalidTotpCode> {
        // A byte-length check plus is_ascii_digit rules out multi-byte unicode digits.
        if s.len() == DIGITS as usize && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidTotpCode)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A live code is a credential for the rest of its window, so it stays out of logs.
impl fmt::Debug for TotpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpCode(******)")
    }
}

/// The code for the step containing `unix_seconds` (SHA-1, 6 digits, zero-padded) — used by tests and clients.
pub fn code_at(secret: &TotpSecret, unix_seconds: i64) -> String {
    code_for_step(secret, time_step(unix_seconds))
}

fn code_for_step(secret: &TotpSecret, step: u64) -> String {
    // Compared as zero-padded strings: "005924" must not become 5924.
    let value = hotp(HashAlg::Sha1, secret.as_bytes(), step, DIGITS);
    format!("{value:0width$}", width = DIGITS as usize)
}

/// The served verifier: SHA-1, 6 digits, 30 s steps; checks the step of `unix_seconds` and one step either side
/// (prev, current, next); compares in constant time (subtle); returns the matched time step, or None.
/// When more than one step matches (practically impossible), return the LATEST matching step.
pub fn matching_step(secret: &TotpSecret, code: &TotpCode, unix_seconds: i64) -> Option<u64> {
    let now = time_step(unix_seconds);
    let submitted = code.as_str().as_bytes();
    let mut found = subtle::Choice::from(0);
    let mut step = 0u64;
    // All candidates are always computed and compared, and later ones overwrite earlier
    // ones, so timing does not reveal which step matched and the latest match wins.
    for candidate in [now.checked_sub(1), Some(now), now.checked_add(1)]
        .into_iter()
        .flatten()
    {
        let hit = code_for_step(secret, candidate).as_bytes().ct_eq(submitted);
        step.conditional_assign(&candidate, hit);
        found |= hit;
    }
    bool::from(found).then_some(step)
}

/// Everything but RFC 3986 unreserved characters, so the label's ':' separator stays unambiguous.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Key Uri Format (https://github.com/google/google-authenticator/wiki/Key-Uri-Format):
/// otpauth://totp/{Issuer}:{account}?secret={BASE32 unpadded}&issuer={Issuer}&algorithm=SHA1&digits=6&period=30
/// The label's issuer and account are each percent-encoded (spaces as %20, and ':' '/' '?' '#' '&' '=' '+' '%' and all non-unreserved bytes encoded), the ':' separator between them literal; the issuer query parameter is percent-encoded the same way.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &TotpSecret) -> String {
    let issuer = utf8_percent_encode(issuer, URI_COMPONENT);
    let account = utf8_percent_encode(account, URI_COMPONENT);
    format!(
        "otpauth://totp/{issuer}:{account}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        secret.to_base32()
    )
}

/// An SVG QR code of `data` (error-correction level M, a four-module quiet zone, 200x200 by
/// default, black on white) as a standalone `<svg ...>...</svg>` that can be inlined into HTML.
/// The dark modules are one path of unit squares, so the image scales without seams.
///
/// Panics if `data` exceeds QR capacity at level M (about 2,300 bytes); an otpauth URI
/// is far shorter unless issuer or account are unbounded.
pub fn qr_svg(data: &str) -> String {
    const QUIET: i32 = 4;
    let code =
        QrCode::encode_text(data, QrCodeEcc::Medium).expect("data fits in a level-M QR code");
    let size = code.size();
    let side = size + 2 * QUIET;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"200\" height=\"200\" viewBox=\"0 0 {side} {side}\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/><path fill=\"#000000\" d=\""
    );
    for y in 0..size {
        for x in 0..size {
            if code.get_module(x, y) {
                svg.push_str(&format!("M{},{}h1v1h-1z", x + QUIET, y + QUIET));
            }
        }
    }
    svg.push_str("\"/></svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_SHA1: &[u8] = b"12345678901234567890";
    const SEED_SHA256: &[u8] = b"12345678901234567890123456789012";
    const SEED_SHA512: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(SEED_SHA1)
    }

    fn code(s: &str) -> TotpCode {
        TotpCode::parse(s).unwrap()
    }

    #[test]
    fn rfc4226_appendix_d() {
        let expected = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (count, want) in expected.into_iter().enumerate() {
            assert_eq!(
                hotp(HashAlg::Sha1, SEED_SHA1, count as u64, 6),
                want,
                "count {count}"
            );
        }
    }

    #[test]
    fn rfc6238_appendix_b() {
        // (time, SHA1, SHA256, SHA512), 8 digits, per-algorithm seeds per Errata 2866.
        let vectors: [(i64, u32, u32, u32); 6] = [
            (59, 94287082, 46119246, 90693936),
            (1111111109, 7081804, 68084774, 25091201),
            (1111111111, 14050471, 67062674, 99943326),
            (1234567890, 89005924, 91819424, 93441116),
            (2000000000, 69279037, 90698825, 38618901),
            (20000000000, 65353130, 77737706, 47863826),
        ];
        for (t, sha1, sha256, sha512) in vectors {
            let step = time_step(t);
            assert_eq!(hotp(HashAlg::Sha1, SEED_SHA1, step, 8), sha1, "SHA1 t={t}");
            assert_eq!(
                hotp(HashAlg::Sha256, SEED_SHA256, step, 8),
                sha256,
                "SHA256 t={t}"
            );
            assert_eq!(
                hotp(HashAlg::Sha512, SEED_SHA512, step, 8),
                sha512,
                "SHA512 t={t}"
            );
        }
    }

    #[test]
    fn time_steps() {
        assert_eq!(time_step(20000000000), 0x27BC86AA);
        assert_eq!(time_step(1111111109), 0x023523EC);
        assert_eq!(time_step(-1), 0);
        assert_eq!(time_step(i64::MIN), 0);
    }

    #[test]
    fn code_at_keeps_leading_zeros() {
        let s = rfc_secret();
        assert_eq!(code_at(&s, 59), "287082");
        assert_eq!(code_at(&s, 1111111109), "081804");
        assert_eq!(code_at(&s, 1234567890), "005924");
        assert_eq!(code_at(&s, 20000000000), "353130");
    }

    #[test]
    fn base32_and_generation() {
        assert_eq!(rfc_secret().to_base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(
            TotpSecret::from_bytes(SEED_SHA256).to_base32(),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA"
        );
        let (a, b) = (TotpSecret::generate(), TotpSecret::generate());
        assert_eq!(a.as_bytes().len(), 20);
        assert_ne!(a.as_bytes(), b.as_bytes());
        let encoded = a.to_base32();
        assert_eq!(encoded.len(), 32);
        assert!(!encoded.contains('='));
    }

    #[test]
    fn code_parsing() {
        for ok in ["000000", "123456"] {
            assert_eq!(TotpCode::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "",
            "12345",
            "1234567",
            " 123456",
            "123456 ",
            "12a456",
            "+12345",
            "１２３４５６",
            "-12345",
        ] {
            assert_eq!(TotpCode::parse(bad).err(), Some(InvalidTotpCode), "{bad:?}");
        }
    }

    #[test]
    fn window_accepts_one_step_either_side() {
        let s = rfc_secret();
        // t=89 is step 2; HOTP counts 0..4 are the codes of steps 0..4.
        assert_eq!(matching_step(&s, &code("287082"), 89), Some(1));
        assert_eq!(matching_step(&s, &code("359152"), 89), Some(2));
        assert_eq!(matching_step(&s, &code("969429"), 89), Some(3));
        assert_eq!(matching_step(&s, &code("755224"), 89), None);
        assert_eq!(matching_step(&s, &code("338314"), 89), None);
        assert_eq!(matching_step(&s, &code("000000"), 89), None);
    }

    #[test]
    fn window_edges() {
        let s = rfc_secret();
        // 90 is the first second of step 3, 89 the last of step 2: the window moves by one.
        assert_eq!(matching_step(&s, &code("287082"), 89), Some(1));
        assert_eq!(matching_step(&s, &code("287082"), 90), None);
        assert_eq!(matching_step(&s, &code("338314"), 89), None);
        assert_eq!(matching_step(&s, &code("338314"), 90), Some(4));
        // Step 0 has no previous step; that must not wrap around.
        assert_eq!(matching_step(&s, &code("755224"), 0), Some(0));
        assert_eq!(matching_step(&s, &code("287082"), 0), Some(1));
        assert_eq!(
            matching_step(&s, &code(&code_at(&s, 1234567890)), 1234567890),
            Some(41152263)
        );
    }

    #[test]
    fn latest_matching_step_wins() {
        // Found by brute force offline: this key gives 991359 for both step 1 and step 2.
        let s = TotpSecret::from_bytes(&[0x00, 0x0f, 0x1c, 0x92]);
        assert_eq!(code_at(&s, 30), code_at(&s, 60));
        assert_eq!(matching_step(&s, &code("991359"), 45), Some(2));
        assert_eq!(matching_step(&s, &code("991359"), 75), Some(2));
        assert_eq!(matching_step(&s, &code("991359"), 105), Some(2));
    }

    #[test]
    fn otpauth_uri_format() {
        assert_eq!(
            otpauth_uri("Edge Login", "alice", &rfc_secret()),
            "otpauth://totp/Edge%20Login:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Edge%20Login&algorithm=SHA1&digits=6&period=30"
        );
        let uri = otpauth_uri("A:B/C?#&=+%", "bob smith@x", &rfc_secret());
        assert!(
            uri.starts_with("otpauth://totp/A%3AB%2FC%3F%23%26%3D%2B%25:bob%20smith%40x?secret=")
        );
        assert!(uri.contains("&issuer=A%3AB%2FC%3F%23%26%3D%2B%25&"));
        // 21 bytes do not fill whole base32 blocks, so an encoder with padding would add '='.
        let odd = otpauth_uri("X", "y", &TotpSecret::from_bytes(&[0xab; 21]));
        assert!(odd.contains("?secret=VOV2XK5LVOV2XK5LVOV2XK5LVOV2XK5LVM&issuer=X&"));
    }

    #[test]
    fn qr_svg_is_inlineable() {
        let a = qr_svg("otpauth://totp/X:a?secret=GEZDGNBVGY3TQOJQ");
        let b = qr_svg("otpauth://totp/X:b?secret=GEZDGNBVGY3TQOJQ");
        assert!(a.starts_with("<svg"));
        assert!(a.trim_end().ends_with("</svg>"));
        assert!(!a.contains("<?xml"));
        assert_ne!(a, b);
    }

    /// The drawn squares, read back by an independent decoder, give the URI again.
    #[test]
    fn qr_svg_decodes_to_its_data() {
        let uri = otpauth_uri("Edge Login", "alice@example.com", &rfc_secret());
        let svg = qr_svg(&uri);
        let side: usize = svg
            .split("viewBox=\"0 0 ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let path = svg
            .split(" d=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let mut dark = vec![false; side * side];
        for square in path.split('M').filter(|s| !s.is_empty()) {
            let xy = square.trim_end_matches("h1v1h-1z");
            let (x, y) = xy.split_once(',').unwrap();
            dark[y.parse::<usize>().unwrap() * side + x.parse::<usize>().unwrap()] = true;
        }
        // Four pixels per module, as a camera would see a printed code.
        let scale = 4;
        let mut image =
            rqrr::PreparedImage::prepare_from_bitmap(side * scale, side * scale, |x, y| {
                dark[(y / scale) * side + x / scale]
            });
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1);
        let (_, content) = grids[0].decode().unwrap();
        assert_eq!(content, uri);
    }

    #[test]
    fn debug_redacts() {
        let s = rfc_secret();
        let shown = format!("{s:?}");
        assert_eq!(shown, "TotpSecret(REDACTED)");
        assert!(!shown.contains("1234") && !shown.contains("GEZD"));
        let shown = format!("{:?}", code("987654"));
        assert_eq!(shown, "TotpCode(******)");
        assert!(!shown.contains("987654"));
    }
}
