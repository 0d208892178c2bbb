//! Where buzon may send on an admin's word: outgoing URLs (alert webhooks, events out) must
//! not reach this machine or the private network unless an admin setting allows it, so that a
//! URL typed into a form cannot be used to probe or call internal services.

use std::net::IpAddr;

/// Whether `address` is loopback, link-local, private, unique-local, carrier-grade NAT,
/// unspecified, multicast or broadcast (IPv4-mapped IPv6 addresses judged as IPv4).
pub fn is_private_address(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private_address(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

/// The host of an `http://` or `https://` URL, without brackets or port (none otherwise).
pub fn url_host(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = if let Some(bracketed) = host_port.strip_prefix('[') {
        bracketed.split(']').next()?
    } else {
        host_port.split(':').next()?
    };
    (!host.is_empty()).then_some(host)
}

/// Whether an outgoing URL names this machine or a private address outright (a literal
/// address, or `localhost`); names are judged again when they are resolved, at send time.
pub fn url_is_private(url: &str) -> bool {
    match url_host(url) {
        None => false,
        Some(host) => {
            let host = host.trim_end_matches('.').to_ascii_lowercase();
            host == "localhost"
                || host.ends_with(".localhost")
                || host.parse::<IpAddr>().is_ok_and(is_private_address)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_ranges_are_recognised() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::2",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_private_address(private.parse().unwrap()), "{private}");
        }
        for public in ["8.8.8.8", "172.32.0.1", "100.128.0.1", "2a00:1450::1"] {
            assert!(!is_private_address(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn urls_are_judged_by_their_host() {
        assert!(url_is_private("http://127.0.0.1:8080/hook"));
        assert!(url_is_private("https://[::1]/hook"));
        assert!(url_is_private("http://user@10.0.0.5/x"));
        assert!(url_is_private("http://LOCALHOST./x"));
        assert!(url_is_private("http://169.254.169.254/latest/meta-data"));
        assert!(!url_is_private("https://hooks.shop.example/buzon"));
        assert!(!url_is_private("https://8.8.8.8/x"));
        assert_eq!(url_host("https://[fd00::1]:8443/x"), Some("fd00::1"));
    }
}
