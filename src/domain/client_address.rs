//! The key a per-client limit counts under.
//!
//! An IPv4 client has one address; an IPv6 client is usually handed a whole /64 (2^64
//! addresses), so counting per address would give it an unlimited budget. IPv6 is keyed
//! on its /64, IPv4 (and IPv4-mapped IPv6) on the address.

use std::net::IpAddr;

/// The limiter key for `CF-Connecting-IP`. A value that is not an address (only local
/// tools send none or garbage; Cloudflare's edge always sets a real one) is its own key.
pub fn limiter_key(address: &str) -> String {
    match address.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Err(_) => address.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::limiter_key;

    #[test]
    fn ipv6_counts_per_64_and_ipv4_per_address() {
        let one = limiter_key("2001:db8:1:2::1");
        assert_eq!(one, "2001:db8:1:2::/64");
        for same in [
            "2001:db8:1:2:ffff:ffff:ffff:ffff",
            "2001:0db8:0001:0002:0:0:0:abcd",
            "2001:DB8:1:2::9",
        ] {
            assert_eq!(limiter_key(same), one, "{same}");
        }
        assert_ne!(limiter_key("2001:db8:1:3::1"), one);
        assert_eq!(limiter_key("198.51.100.7"), "198.51.100.7");
        assert_ne!(limiter_key("198.51.100.8"), limiter_key("198.51.100.7"));
        assert_eq!(limiter_key("::ffff:198.51.100.7"), "198.51.100.7");
        assert_eq!(limiter_key("unknown"), "unknown");
    }
}
