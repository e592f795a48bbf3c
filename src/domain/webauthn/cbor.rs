//! A minimal CBOR (RFC 8949) decoder for the three things WebAuthn encodes: the
//! attestation object, the COSE public key and the authenticator extension outputs.
//!
//! Everything a relying party never needs is refused rather than skipped, so that an
//! odd encoding cannot mean one thing here and another to the authenticator: no
//! indefinite lengths, tags, floats or simple values other than `true`/`false`
//! (extension outputs such as `hmac-secret` and `credBlob` are booleans), no duplicate
//! map keys, at most four levels of nesting and 64 items per array or map. Heads that
//! are not in shortest form are accepted: the signature covers the bytes, not a
//! re-encoding, and rejecting them would only break authenticators that emit them.

const MAX_DEPTH: usize = 4;
// Also bounds the quadratic duplicate-key scan and keeps a claimed count from driving
// any allocation.
const MAX_ITEMS: u64 = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    Unsigned(u64),
    /// The value `-1 - n`, kept as `n` so that the whole CBOR range fits.
    Negative(u64),
    Bytes(&'a [u8]),
    Text(&'a str),
    Array(Vec<Value<'a>>),
    Map(Vec<(Value<'a>, Value<'a>)>),
    Bool(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CborError {
    Truncated,
    Indefinite,
    Tag,
    Float,
    UnsupportedSimple,
    ReservedInfo,
    TooDeep,
    TooManyItems,
    InvalidUtf8,
    DuplicateKey,
    TrailingBytes,
}

impl<'a> Value<'a> {
    pub(crate) fn as_i64(&self) -> Option<i64> {
        match *self {
            Self::Unsigned(n) => i64::try_from(n).ok(),
            Self::Negative(n) => i64::try_from(n).ok().map(|n| -1 - n),
            _ => None,
        }
    }

    /// The value under an integer key (COSE labels), if this is a map.
    pub(crate) fn get_int(&self, key: i64) -> Option<&Value<'a>> {
        match self {
            Self::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_i64() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Exactly one item, nothing after it.
pub(crate) fn decode(input: &[u8]) -> Result<Value<'_>, CborError> {
    let (value, rest) = decode_prefix(input)?;
    if rest.is_empty() {
        Ok(value)
    } else {
        Err(CborError::TrailingBytes)
    }
}

/// One item and whatever follows it: authenticator data has no length field for the
/// public key or the extensions, so their end is only known by decoding them.
pub(crate) fn decode_prefix(input: &[u8]) -> Result<(Value<'_>, &[u8]), CborError> {
    let mut reader = Reader { rest: input };
    let value = reader.value(0)?;
    Ok((value, reader.rest))
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CborError> {
        let (taken, rest) = self.rest.split_at_checked(n).ok_or(CborError::Truncated)?;
        self.rest = rest;
        Ok(taken)
    }

    fn take_array<const N: usize>(&mut self) -> Result<[u8; N], CborError> {
        let bytes = self.take(N)?;
        bytes.try_into().map_err(|_| CborError::Truncated)
    }

    fn argument(&mut self, info: u8) -> Result<u64, CborError> {
        Ok(match info {
            0..=23 => u64::from(info),
            24 => u64::from(u8::from_be_bytes(self.take_array()?)),
            25 => u64::from(u16::from_be_bytes(self.take_array()?)),
            26 => u64::from(u32::from_be_bytes(self.take_array()?)),
            27 => u64::from_be_bytes(self.take_array()?),
            28..=30 => return Err(CborError::ReservedInfo),
            _ => return Err(CborError::Indefinite),
        })
    }

    fn length(&mut self, info: u8) -> Result<usize, CborError> {
        let n = self.argument(info)?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.rest.len())
            .ok_or(CborError::Truncated)
    }

    fn value(&mut self, depth: usize) -> Result<Value<'a>, CborError> {
        let [initial] = self.take_array()?;
        let (major, info) = (initial >> 5, initial & 0x1f);
        match major {
            0 => Ok(Value::Unsigned(self.argument(info)?)),
            1 => Ok(Value::Negative(self.argument(info)?)),
            2 => {
                let n = self.length(info)?;
                Ok(Value::Bytes(self.take(n)?))
            }
            3 => {
                let n = self.length(info)?;
                let text =
                    std::str::from_utf8(self.take(n)?).map_err(|_| CborError::InvalidUtf8)?;
                Ok(Value::Text(text))
            }
            4 | 5 => {
                let count = self.argument(info)?;
                if depth >= MAX_DEPTH {
                    return Err(CborError::TooDeep);
                }
                if count > MAX_ITEMS {
                    return Err(CborError::TooManyItems);
                }
                if major == 4 {
                    let mut items = Vec::new();
                    for _ in 0..count {
                        items.push(self.value(depth + 1)?);
                    }
                    Ok(Value::Array(items))
                } else {
                    let mut entries: Vec<(Value<'a>, Value<'a>)> = Vec::new();
                    for _ in 0..count {
                        let key = self.value(depth + 1)?;
                        if entries.iter().any(|(k, _)| *k == key) {
                            return Err(CborError::DuplicateKey);
                        }
                        let value = self.value(depth + 1)?;
                        entries.push((key, value));
                    }
                    Ok(Value::Map(entries))
                }
            }
            6 => Err(CborError::Tag),
            _ => match info {
                20 => Ok(Value::Bool(false)),
                21 => Ok(Value::Bool(true)),
                25..=27 => Err(CborError::Float),
                31 => Err(CborError::Indefinite),
                _ => Err(CborError::UnsupportedSimple),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(bytes: &[u8]) -> CborError {
        decode(bytes).expect_err("must be refused")
    }

    #[test]
    fn decodes_each_supported_type() {
        assert_eq!(decode(&[0x00]), Ok(Value::Unsigned(0)));
        assert_eq!(decode(&[0x17]), Ok(Value::Unsigned(23)));
        assert_eq!(decode(&[0x18, 0xff]), Ok(Value::Unsigned(255)));
        assert_eq!(decode(&[0x19, 0x01, 0x00]), Ok(Value::Unsigned(256)));
        assert_eq!(
            decode(&[0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            Ok(Value::Unsigned(u64::MAX))
        );
        assert_eq!(decode(&[0x26]).map(|v| v.as_i64()), Ok(Some(-7)));
        assert_eq!(decode(&[0x27]).map(|v| v.as_i64()), Ok(Some(-8)));
        assert_eq!(
            decode(&[0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            Ok(Value::Negative(u64::MAX))
        );
        assert_eq!(decode(&[0x42, 1, 2]), Ok(Value::Bytes(&[1, 2])));
        assert_eq!(
            decode(&[0x64, b'n', b'o', b'n', b'e']),
            Ok(Value::Text("none"))
        );
        assert_eq!(
            decode(&[0x82, 0x01, 0xf5]),
            Ok(Value::Array(vec![Value::Unsigned(1), Value::Bool(true)]))
        );
        let map = decode(&[0xa2, 0x01, 0x02, 0x20, 0xf4]).unwrap();
        assert_eq!(map.get_int(1), Some(&Value::Unsigned(2)));
        assert_eq!(map.get_int(-1), Some(&Value::Bool(false)));
        assert_eq!(map.get_int(3), None);
        // Not shortest form, accepted on purpose (module comment).
        assert_eq!(decode(&[0x18, 0x05]), Ok(Value::Unsigned(5)));
    }

    #[test]
    fn rejects_indefinite_lengths() {
        assert_eq!(err(&[0x5f, 0x41, 0x00, 0xff]), CborError::Indefinite);
        assert_eq!(err(&[0x7f, 0xff]), CborError::Indefinite);
        assert_eq!(err(&[0x9f, 0xff]), CborError::Indefinite);
        assert_eq!(err(&[0xbf, 0xff]), CborError::Indefinite);
        assert_eq!(err(&[0xff]), CborError::Indefinite);
        assert_eq!(err(&[0x1f]), CborError::Indefinite);
    }

    #[test]
    fn rejects_reserved_additional_information() {
        for info in 28..=30u8 {
            assert_eq!(err(&[info]), CborError::ReservedInfo);
            assert_eq!(err(&[0x40 | info]), CborError::ReservedInfo);
        }
    }

    #[test]
    fn rejects_tags() {
        assert_eq!(err(&[0xc2, 0x41, 0x01]), CborError::Tag);
        assert_eq!(err(&[0xd8, 0x18, 0x41, 0x00]), CborError::Tag);
    }

    #[test]
    fn rejects_floats_and_other_simple_values() {
        assert_eq!(err(&[0xf9, 0x3c, 0x00]), CborError::Float);
        assert_eq!(err(&[0xfa, 0, 0, 0, 0]), CborError::Float);
        assert_eq!(err(&[0xfb, 0, 0, 0, 0, 0, 0, 0, 0]), CborError::Float);
        assert_eq!(err(&[0xf6]), CborError::UnsupportedSimple); // null
        assert_eq!(err(&[0xf7]), CborError::UnsupportedSimple); // undefined
        assert_eq!(err(&[0xf8, 0x20]), CborError::UnsupportedSimple);
        assert_eq!(err(&[0xe0]), CborError::UnsupportedSimple);
    }

    #[test]
    fn rejects_nesting_deeper_than_four() {
        // Four levels of arrays around an integer are fine, five are not.
        assert!(decode(&[0x81, 0x81, 0x81, 0x81, 0x00]).is_ok());
        assert_eq!(
            err(&[0x81, 0x81, 0x81, 0x81, 0x81, 0x00]),
            CborError::TooDeep
        );
        assert!(decode(&[0xa1, 0x00, 0xa1, 0x00, 0xa1, 0x00, 0xa1, 0x00, 0x00]).is_ok());
        assert_eq!(
            err(&[0xa1, 0x00, 0xa1, 0x00, 0xa1, 0x00, 0xa1, 0x00, 0x80]),
            CborError::TooDeep
        );
        // Map keys count as nested too.
        assert_eq!(
            err(&[0x81, 0x81, 0x81, 0xa1, 0x80, 0x00]),
            CborError::TooDeep
        );
    }

    #[test]
    fn rejects_lengths_beyond_the_input() {
        assert_eq!(err(&[0x42, 0x01]), CborError::Truncated);
        assert_eq!(err(&[0x62, b'a']), CborError::Truncated);
        assert_eq!(
            err(&[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            CborError::Truncated
        );
        assert_eq!(err(&[0x19, 0x01]), CborError::Truncated);
        assert_eq!(err(&[0x82, 0x01]), CborError::Truncated);
        assert_eq!(err(&[0xa1, 0x01]), CborError::Truncated);
        assert_eq!(err(&[]), CborError::Truncated);
    }

    #[test]
    fn rejects_item_counts_beyond_the_cap() {
        let mut array = vec![0x98, 64];
        array.extend([0u8; 64]);
        assert!(decode(&array).is_ok());
        let mut array = vec![0x98, 65];
        array.extend([0u8; 65]);
        assert_eq!(err(&array), CborError::TooManyItems);
        // A claimed count far beyond the input must fail before allocating anything.
        assert_eq!(
            err(&[0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            CborError::TooManyItems
        );
    }

    #[test]
    fn rejects_trailing_bytes() {
        assert_eq!(err(&[0x00, 0x00]), CborError::TrailingBytes);
        assert_eq!(err(&[0xa0, 0xff]), CborError::TrailingBytes);
    }

    #[test]
    fn rejects_duplicate_map_keys() {
        assert_eq!(
            err(&[0xa2, 0x03, 0x26, 0x03, 0x27]),
            CborError::DuplicateKey
        );
        assert_eq!(
            err(&[0xa2, 0x61, b'a', 0x00, 0x61, b'a', 0x01]),
            CborError::DuplicateKey
        );
        // The same number as unsigned and negative is two different keys.
        assert!(decode(&[0xa2, 0x00, 0x00, 0x20, 0x00]).is_ok());
    }

    #[test]
    fn rejects_invalid_utf8() {
        assert_eq!(err(&[0x62, 0xc3, 0x28]), CborError::InvalidUtf8);
    }

    #[test]
    fn decode_prefix_returns_what_follows() {
        let (value, rest) = decode_prefix(&[0x41, 0x07, 0xa0, 0x01]).unwrap();
        assert_eq!(value, Value::Bytes(&[7]));
        assert_eq!(rest, &[0xa0, 0x01]);
    }

    #[test]
    fn every_truncation_of_a_valid_item_is_refused() {
        let item = [
            0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x42, 0xaa, 0xbb, 0x22, 0x82, 0x63,
            b'a', b'b', b'c', 0xf5,
        ];
        assert!(decode(&item).is_ok());
        for end in 0..item.len() {
            assert_eq!(decode(&item[..end]), Err(CborError::Truncated), "{end}");
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A fixed xorshift stream: deterministic, and wide enough to reach every branch.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            let mut bytes = Vec::new();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 24) as usize;
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                bytes.push((state >> 24) as u8);
            }
            let _ = decode(&bytes);
        }
    }
}
