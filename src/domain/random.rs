//! The OS random source (crypto.getRandomValues inside the Worker).

/// Fills `buf` from the OS CSPRNG. A failing random source is unrecoverable for an
/// auth service, so this panics rather than continuing with predictable bytes.
pub fn fill(buf: &mut [u8]) {
    getrandom::fill(buf).expect("OS random source unavailable");
}

/// `N` fresh random bytes.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    fill(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_draws_differ() {
        assert_ne!(bytes::<16>(), bytes::<16>());
    }
}
