//! Is (x, y) a point of P-256? Checked before a credential is stored, so that a key
//! WebCrypto would refuse to import never reaches the database.
//!
//! P-256 has cofactor 1, so a pair of coordinates in [0, p) satisfying the curve
//! equation is a valid public key (SP 800-56A full validation); the point at infinity
//! has no affine coordinates and (0, 0) fails the equation. The arithmetic is the
//! plainest that works, shift-and-add multiplication on four 64-bit limbs: it runs four
//! multiplications per key, on public data, so neither speed nor constant time matters
//! and it stays a few hundred bytes of WASM.

/// Little-endian 64-bit limbs.
type U256 = [u64; 4];

/// p = 2^256 - 2^224 + 2^192 + 2^96 - 1.
const P: U256 = [
    0xffff_ffff_ffff_ffff,
    0x0000_0000_ffff_ffff,
    0x0000_0000_0000_0000,
    0xffff_ffff_0000_0001,
];

/// b of y^2 = x^3 - 3x + b (FIPS 186-5 / SP 800-186).
const B: U256 = [
    0x3bce_3c3e_27d2_604b,
    0x651d_06b0_cc53_b0f6,
    0xb3eb_bd55_7698_86bc,
    0x5ac6_35d8_aa3a_93e7,
];

pub(crate) fn is_on_curve(x: &[u8; 32], y: &[u8; 32]) -> bool {
    let (x, y) = (from_be_bytes(x), from_be_bytes(y));
    // Also what makes the modular helpers below correct: they expect reduced inputs.
    if !less_than(&x, &P) || !less_than(&y, &P) {
        return false;
    }
    let x3 = mul_mod(&mul_mod(&x, &x), &x);
    let three_x = add_mod(&add_mod(&x, &x), &x);
    let rhs = add_mod(&sub_mod(&x3, &three_x), &B);
    mul_mod(&y, &y) == rhs
}

fn from_be_bytes(bytes: &[u8; 32]) -> U256 {
    let mut limbs = [0u64; 4];
    for (limb, chunk) in limbs.iter_mut().rev().zip(bytes.chunks_exact(8)) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        *limb = u64::from_be_bytes(word);
    }
    limbs
}

fn less_than(a: &U256, b: &U256) -> bool {
    a.iter().rev().cmp(b.iter().rev()).is_lt()
}

fn add(a: &U256, b: &U256) -> (U256, bool) {
    let mut out = [0u64; 4];
    let mut carry = false;
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        let (s1, c1) = x.overflowing_add(y);
        let (s2, c2) = s1.overflowing_add(u64::from(carry));
        *o = s2;
        carry = c1 || c2;
    }
    (out, carry)
}

fn sub(a: &U256, b: &U256) -> (U256, bool) {
    let mut out = [0u64; 4];
    let mut borrow = false;
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        let (d1, b1) = x.overflowing_sub(y);
        let (d2, b2) = d1.overflowing_sub(u64::from(borrow));
        *o = d2;
        borrow = b1 || b2;
    }
    (out, borrow)
}

fn add_mod(a: &U256, b: &U256) -> U256 {
    let (sum, carry) = add(a, b);
    // a + b < 2p: one subtraction reduces it, and wrapping takes care of the carry.
    if carry || !less_than(&sum, &P) {
        sub(&sum, &P).0
    } else {
        sum
    }
}

fn sub_mod(a: &U256, b: &U256) -> U256 {
    let (difference, borrow) = sub(a, b);
    if borrow {
        add(&difference, &P).0
    } else {
        difference
    }
}

fn mul_mod(a: &U256, b: &U256) -> U256 {
    let mut acc = [0u64; 4];
    for bit in (0..256).rev() {
        acc = add_mod(&acc, &acc);
        if (b[bit / 64] >> (bit % 64)) & 1 == 1 {
            acc = add_mod(&acc, a);
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::SigningKey;
    use p256::elliptic_curve::sec1::ToEncodedPoint;

    fn coordinates(point: &p256::EncodedPoint) -> ([u8; 32], [u8; 32]) {
        let x = point.x().unwrap().as_slice().try_into().unwrap();
        let y = point.y().unwrap().as_slice().try_into().unwrap();
        (x, y)
    }

    fn p_bytes() -> [u8; 32] {
        let mut out = [0u8; 32];
        for (chunk, limb) in out.chunks_exact_mut(8).zip(P.iter().rev()) {
            chunk.copy_from_slice(&limb.to_be_bytes());
        }
        out
    }

    fn p256_accepts(x: &[u8; 32], y: &[u8; 32]) -> bool {
        let mut sec1 = vec![0x04];
        sec1.extend_from_slice(x);
        sec1.extend_from_slice(y);
        p256::PublicKey::from_sec1_bytes(&sec1).is_ok()
    }

    #[test]
    fn agrees_with_p256_on_real_and_perturbed_keys() {
        for seed in 1..=40u8 {
            let key = SigningKey::from_bytes(&[seed; 32].into()).unwrap();
            let (x, y) = coordinates(&key.verifying_key().to_encoded_point(false));
            assert!(is_on_curve(&x, &y), "seed {seed}");
            for byte in [0usize, 17, 31] {
                let mut bad_y = y;
                bad_y[byte] ^= 0x01;
                assert!(!is_on_curve(&x, &bad_y), "seed {seed} byte {byte}");
                assert!(!p256_accepts(&x, &bad_y));
                let mut bad_x = x;
                bad_x[byte] ^= 0x80;
                assert_eq!(is_on_curve(&bad_x, &y), p256_accepts(&bad_x, &y));
            }
        }
    }

    #[test]
    fn accepts_the_generator() {
        let g = p256::AffinePoint::GENERATOR.to_encoded_point(false);
        let (x, y) = coordinates(&g);
        assert!(is_on_curve(&x, &y));
    }

    #[test]
    fn rejects_zero_and_out_of_range_coordinates() {
        assert!(!is_on_curve(&[0; 32], &[0; 32]));
        assert!(!is_on_curve(&[0xff; 32], &[0xff; 32]));
        let p = p_bytes();
        assert!(!is_on_curve(&p, &[0; 32]));
        assert!(!is_on_curve(&[0; 32], &p));
    }

    #[test]
    fn rejects_unreduced_coordinates_of_a_real_point() {
        // Find a point with a tiny x (by decompressing), then write x + p instead of x:
        // the same residue, so only the range check can refuse it.
        let (x, y) = (1u8..=255)
            .find_map(|small| {
                let mut compressed = [0u8; 33];
                compressed[0] = 0x02;
                compressed[32] = small;
                let key = p256::PublicKey::from_sec1_bytes(&compressed).ok()?;
                Some(coordinates(&key.to_encoded_point(false)))
            })
            .expect("some small x is on the curve");
        assert!(is_on_curve(&x, &y));
        let (x_plus_p, overflow) = add(&from_be_bytes(&x), &P);
        assert!(!overflow);
        let mut unreduced = [0u8; 32];
        for (chunk, limb) in unreduced.chunks_exact_mut(8).zip(x_plus_p.iter().rev()) {
            chunk.copy_from_slice(&limb.to_be_bytes());
        }
        assert!(!is_on_curve(&unreduced, &y));
        let (y_plus_p, overflow) = add(&from_be_bytes(&y), &P);
        if !overflow {
            let mut unreduced = [0u8; 32];
            for (chunk, limb) in unreduced.chunks_exact_mut(8).zip(y_plus_p.iter().rev()) {
                chunk.copy_from_slice(&limb.to_be_bytes());
            }
            assert!(!is_on_curve(&x, &unreduced));
        }
    }

    #[test]
    fn modular_helpers_wrap_correctly() {
        let one = [1, 0, 0, 0];
        let (p_minus_1, _) = sub(&P, &one);
        assert_eq!(add_mod(&p_minus_1, &one), [0; 4]);
        assert_eq!(sub_mod(&[0; 4], &one), p_minus_1);
        // (p - 1)^2 = 1 mod p.
        assert_eq!(mul_mod(&p_minus_1, &p_minus_1), one);
    }
}
