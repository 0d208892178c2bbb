//! Lists of addresses and CIDR ranges from the configuration (trusted reverse proxies, the
//! addresses `/metrics` answers without a token), and the client's address behind trusted
//! proxies.

use axum::http::HeaderMap;
use std::net::{IpAddr, SocketAddr};

/// Addresses and ranges, such as `127.0.0.1`, `10.0.0.0/8` or `::1`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressList {
    ranges: Vec<(IpAddr, u8)>,
}

impl AddressList {
    /// Parses each item; errs naming the first that is neither an address nor a range.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<AddressList, String> {
        let mut ranges = Vec::with_capacity(items.len());
        for item in items {
            let item = item.as_ref().trim();
            let (address, bits) = match item.split_once('/') {
                Some((address, bits)) => (address, Some(bits)),
                None => (item, None),
            };
            let address: IpAddr = address
                .parse()
                .map_err(|_| format!("{item:?} is not an address or a CIDR range"))?;
            let most = if address.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                None => most,
                Some(bits) => bits
                    .parse::<u8>()
                    .ok()
                    .filter(|bits| *bits <= most)
                    .ok_or_else(|| format!("{item:?} has a bad prefix length"))?,
            };
            ranges.push((address, bits));
        }
        Ok(AddressList { ranges })
    }

    /// Whether `address` is in the list.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.ranges
            .iter()
            .any(|(range, bits)| match (canonical(*range), address) {
                (IpAddr::V4(range), IpAddr::V4(address)) => {
                    prefix_eq(&range.octets(), &address.octets(), *bits)
                }
                (IpAddr::V6(range), IpAddr::V6(address)) => {
                    prefix_eq(&range.octets(), &address.octets(), *bits)
                }
                _ => false,
            })
    }
}

/// An IPv4 address written as IPv6 (`::ffff:a.b.c.d`) is the IPv4 address.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let whole = usize::from(bits / 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    let rest = bits % 8;
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[whole] & mask == b[whole] & mask
    }
}

/// The client's address: the peer, unless the peer is a trusted proxy — then the nearest
/// address in `X-Forwarded-For` that is not itself a trusted proxy (read from the right: what
/// the client wrote on the left is not believed).
pub fn client_address(peer: &SocketAddr, headers: &HeaderMap, trusted: &AddressList) -> IpAddr {
    let mut client = canonical(peer.ip());
    if !trusted.contains(client) {
        return client;
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    for hop in forwarded.into_iter().rev() {
        let Ok(address) = hop.parse::<IpAddr>() else {
            break;
        };
        client = canonical(address);
        if !trusted.contains(client) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn ranges_contain_what_they_should() {
        let list = AddressList::parse(&["10.0.0.0/8", "127.0.0.1", "fd00::/8"]).unwrap();
        assert!(list.contains("10.2.3.4".parse().unwrap()));
        assert!(list.contains("127.0.0.1".parse().unwrap()));
        assert!(list.contains("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!list.contains("127.0.0.2".parse().unwrap()));
        assert!(list.contains("fd12::1".parse().unwrap()));
        assert!(!list.contains("11.0.0.1".parse().unwrap()));
        assert!(AddressList::parse(&["10.0.0.0/33"]).is_err());
        assert!(AddressList::parse(&["proxy"]).is_err());
    }

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 203.0.113.9, 10.0.0.2"),
        );
        let peer: SocketAddr = "10.0.0.1:4000".parse().unwrap();
        let none = AddressList::default();
        assert_eq!(
            client_address(&peer, &headers, &none).to_string(),
            "10.0.0.1"
        );
        let proxies = AddressList::parse(&["10.0.0.0/8"]).unwrap();
        assert_eq!(
            client_address(&peer, &headers, &proxies).to_string(),
            "203.0.113.9",
            "the nearest untrusted hop, not what the client wrote first"
        );
        let direct: SocketAddr = "198.51.100.7:4000".parse().unwrap();
        assert_eq!(
            client_address(&direct, &headers, &proxies).to_string(),
            "198.51.100.7"
        );
    }
}
