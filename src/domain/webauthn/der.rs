//! ES256 signatures: authenticators send ASN.1 DER (`SEQUENCE { r INTEGER, s INTEGER }`,
//! WebAuthn §6.5.5), WebCrypto verifies the raw `r || s` form (IEEE P1363).

use super::WebAuthnError;

/// The order n of the P-256 group, big-endian: r and s must lie in [1, n - 1].
const N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

const BAD: WebAuthnError = WebAuthnError::MalformedSignature;

/// Strict DER to the 64-byte `r || s` WebCrypto expects. Only one encoding of each
/// signature is accepted (short-form lengths, minimal positive integers, nothing after),
/// so that a signature cannot be re-encoded into a "different" valid one.
pub fn es256_der_to_raw(der: &[u8]) -> Result<[u8; 64], WebAuthnError> {
    // A body is at most 2 * (2 + 33) = 70 bytes, so the length is always short-form.
    let body = match der {
        [0x30, len, body @ ..] if *len < 0x80 && usize::from(*len) == body.len() => body,
        _ => return Err(BAD),
    };
    let (r, rest) = integer(body)?;
    let (s, rest) = integer(rest)?;
    if !rest.is_empty() {
        return Err(BAD);
    }
    let mut raw = [0u8; 64];
    raw[..32].copy_from_slice(&r);
    raw[32..].copy_from_slice(&s);
    Ok(raw)
}

fn integer(input: &[u8]) -> Result<([u8; 32], &[u8]), WebAuthnError> {
    let [0x02, len, rest @ ..] = input else {
        return Err(BAD);
    };
    let (content, rest) = rest.split_at_checked(usize::from(*len)).ok_or(BAD)?;
    let magnitude = match content {
        // One leading zero is allowed, and required, only before a set high bit.
        [0x00, next, ..] if next & 0x80 != 0 => &content[1..],
        [first, ..] if first & 0x80 == 0 && !(*first == 0 && content.len() > 1) => content,
        _ => return Err(BAD),
    };
    let start = 32usize.checked_sub(magnitude.len()).ok_or(BAD)?;
    let mut value = [0u8; 32];
    value[start..].copy_from_slice(magnitude);
    // Equal-length big-endian arrays compare like the numbers they hold.
    if value == [0u8; 32] || value >= N {
        return Err(BAD);
    }
    Ok((value, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::{signature::Signer, Signature, SigningKey};

    fn sig(r: &[u8], s: &[u8]) -> Vec<u8> {
        let mut body = vec![0x02, r.len() as u8];
        body.extend_from_slice(r);
        body.extend([0x02, s.len() as u8]);
        body.extend_from_slice(s);
        let mut der = vec![0x30, body.len() as u8];
        der.extend(body);
        der
    }

    fn refused(der: &[u8]) -> bool {
        es256_der_to_raw(der) == Err(WebAuthnError::MalformedSignature)
    }

    #[test]
    fn matches_p256_on_real_signatures() {
        let key = SigningKey::from_bytes(&[0x42; 32].into()).unwrap();
        // Enough messages that some r or s have a high bit (33-byte DER integers) and
        // some are shorter than 32 bytes.
        let (mut padded, mut short) = (0, 0);
        for i in 0..600u32 {
            let signature: Signature = key.sign(&i.to_be_bytes());
            let der = signature.to_der();
            let der = der.as_bytes();
            let r_len = usize::from(der[3]);
            for len in [r_len, usize::from(der[5 + r_len])] {
                padded += usize::from(len == 33);
                short += usize::from(len < 32);
            }
            assert_eq!(
                es256_der_to_raw(der).unwrap().as_slice(),
                signature.to_bytes().as_slice()
            );
        }
        assert!(padded > 0 && short > 0, "{padded} {short}");
    }

    #[test]
    fn accepts_small_and_boundary_values() {
        let raw = es256_der_to_raw(&sig(&[0x01], &[0x00, 0x80])).unwrap();
        assert_eq!(raw[31], 1);
        assert_eq!(raw[63], 0x80);
        let mut n_minus_1 = N.to_vec();
        n_minus_1[31] -= 1;
        n_minus_1.insert(0, 0);
        assert!(es256_der_to_raw(&sig(&n_minus_1, &[0x01])).is_ok());
    }

    #[test]
    fn rejects_non_minimal_integers() {
        assert!(refused(&sig(&[0x00, 0x01], &[0x01])));
        assert!(refused(&sig(&[0x01], &[0x00, 0x00, 0x80])));
        assert!(refused(&sig(&[0x01], &[0x00])));
    }

    #[test]
    fn rejects_negative_zero_and_out_of_range_integers() {
        assert!(refused(&sig(&[0x80], &[0x01])));
        assert!(refused(&sig(&[0x01], &[0xff, 0x01])));
        assert!(refused(&sig(&[0x00], &[0x01])));
        let mut n = N.to_vec();
        n.insert(0, 0);
        assert!(refused(&sig(&[0x01], &n)));
        let mut too_long = vec![0x01; 33];
        too_long[0] = 0x01;
        assert!(refused(&sig(&too_long, &[0x01])));
        assert!(refused(&sig(&[], &[0x01])));
    }

    #[test]
    fn rejects_wrong_lengths_and_tags() {
        let good = sig(&[0x01], &[0x02]);
        assert!(es256_der_to_raw(&good).is_ok());
        let mut longer = good.clone();
        longer[1] += 1;
        assert!(refused(&longer));
        let mut shorter = good.clone();
        shorter[1] -= 1;
        assert!(refused(&shorter));
        let mut int_overrun = good.clone();
        int_overrun[3] = 5;
        assert!(refused(&int_overrun));
        let mut not_sequence = good.clone();
        not_sequence[0] = 0x31;
        assert!(refused(&not_sequence));
        let mut not_integer = good.clone();
        not_integer[2] = 0x03;
        assert!(refused(&not_integer));
        // The same body behind a long-form length.
        let mut long_form = vec![0x30, 0x81, good[1]];
        long_form.extend_from_slice(&good[2..]);
        assert!(refused(&long_form));
        assert!(refused(&[]));
        assert!(refused(&[0x30]));
        assert!(refused(&[0x30, 0x00]));
    }

    #[test]
    fn rejects_trailing_bytes() {
        let mut after = sig(&[0x01], &[0x02]);
        after.push(0x00);
        assert!(refused(&after));
        // A third integer inside the sequence.
        let mut inside = vec![
            0x30, 0x09, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x02, 0x01, 0x03,
        ];
        assert!(refused(&inside));
        inside[1] = 0x06;
        inside.truncate(8);
        assert!(es256_der_to_raw(&inside).is_ok());
    }
}
