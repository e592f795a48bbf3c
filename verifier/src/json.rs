//! Strict JSON objects and the typed reads the claim checks need.

use serde::de::{Deserializer, Error as _, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

/// A top-level JSON object that refuses duplicate member names.
///
/// `serde_json` keeps the last of two equal names; other JWT libraries keep the first.
/// RFC 7515 §4 allows rejecting such input, and rejecting removes any chance that this
/// crate and another parser read a different `alg`, `kid` or `exp` from the same bytes.
pub(crate) struct StrictObject(pub(crate) Map<String, Value>);

impl<'de> Deserialize<'de> for StrictObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;

        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = StrictObject;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object without duplicate member names")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<StrictObject, A::Error> {
                let mut map = Map::new();
                while let Some(key) = access.next_key::<String>()? {
                    if map.contains_key(&key) {
                        return Err(A::Error::custom("duplicate member name"));
                    }
                    let value: Value = access.next_value()?;
                    map.insert(key, value);
                }
                Ok(StrictObject(map))
            }
        }

        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// Parses bytes as one strict JSON object (no trailing data, no duplicate names).
pub(crate) fn strict_object(bytes: &[u8]) -> Option<Map<String, Value>> {
    serde_json::from_slice::<StrictObject>(bytes)
        .ok()
        .map(|o| o.0)
}

/// A JSON number as whole unix seconds (RFC 7519 NumericDate). Fractions are floored;
/// values beyond `i64` saturate. Anything that is not a number is `None`.
pub(crate) fn numeric_date(value: &Value) -> Option<i64> {
    let Value::Number(n) = value else {
        return None;
    };
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = n.as_f64()?;
    // `as` saturates on overflow; NaN and infinities cannot come out of JSON.
    f.is_finite().then(|| f.floor() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_object_rejects_duplicates_and_non_objects() {
        assert!(strict_object(br#"{"a":1,"b":2}"#).is_some());
        assert!(strict_object(br#"{"a":1,"a":1}"#).is_none());
        assert!(strict_object(br#"[1]"#).is_none());
        assert!(strict_object(br#"{"a":1} x"#).is_none());
        assert!(strict_object(b"").is_none());
    }

    #[test]
    fn numeric_dates() {
        assert_eq!(numeric_date(&serde_json::json!(5)), Some(5));
        assert_eq!(numeric_date(&serde_json::json!(-5)), Some(-5));
        assert_eq!(numeric_date(&serde_json::json!(5.9)), Some(5));
        assert_eq!(numeric_date(&serde_json::json!(u64::MAX)), Some(i64::MAX));
        assert_eq!(numeric_date(&serde_json::json!(1e300)), Some(i64::MAX));
        assert_eq!(numeric_date(&serde_json::json!("5")), None);
        assert_eq!(numeric_date(&Value::Null), None);
        assert_eq!(numeric_date(&serde_json::json!(true)), None);
    }
}
