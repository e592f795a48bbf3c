//! Free loopback ports.

use std::io;
use std::net::TcpListener;

/// A free port on 127.0.0.1 (bound and released: the caller's server binds it right after).
pub fn free_port() -> io::Result<u16> {
    let [port] = free_ports::<1>()?;
    Ok(port)
}

/// `N` distinct free ports on 127.0.0.1 (e.g. HTTP and inspector). All listeners are held until
/// every port is known, so they differ; they are released before this returns.
pub fn free_ports<const N: usize>() -> io::Result<[u16; N]> {
    let mut listeners = Vec::with_capacity(N);
    let mut ports = [0; N];
    for port in &mut ports {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        *port = listener.local_addr()?.port();
        listeners.push(listener);
    }
    drop(listeners);
    Ok(ports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_distinct_and_bindable() {
        let ports = free_ports::<4>().unwrap();
        for (i, a) in ports.iter().enumerate() {
            assert_ne!(*a, 0);
            assert!(ports[i + 1..].iter().all(|b| b != a), "{ports:?}");
        }
        // Released: binding them again works.
        let held: Vec<_> = ports
            .iter()
            .map(|p| TcpListener::bind(("127.0.0.1", *p)).unwrap())
            .collect();
        assert_eq!(held.len(), 4);
        assert_ne!(free_port().unwrap(), 0);
    }
}
