//! IP allowlists: CIDR blocks (`203.0.113.0/24`, `2001:db8::/32`) or single addresses; and the
//! network a payer's address counts under in risk rules.

use std::net::{IpAddr, Ipv6Addr};

/// What a client address is counted under by the risk rules: an IPv4 address as it is (an
/// IPv4-mapped IPv6 one unwrapped), an IPv6 address by its /64, the network one connection is
/// given, so rotating addresses inside it does not make a new payer. Text that is no address
/// is counted as it is.
pub fn client_network(ip: &str) -> String {
    match ip.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let net = Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64));
                format!("{net}/64")
            }
        },
        Err(_) => ip.to_owned(),
    }
}

/// Parses `addr[/prefix]`.
pub fn parse_cidr(cidr: &str) -> Option<(IpAddr, u8)> {
    let (addr, prefix) = match cidr.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (cidr, None),
    };
    let ip: IpAddr = addr.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && p.len() <= 3 => {
            p.parse().ok()?
        }
        Some(_) => return None,
        None => max,
    };
    (prefix <= max).then_some((ip, prefix))
}

pub fn cidr_contains(cidr: &str, ip: &str) -> bool {
    let (Some((net, prefix)), Ok(ip)) = (parse_cidr(cidr), ip.parse::<IpAddr>()) else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix))
            };
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let mask = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix))
            };
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payer_is_counted_by_the_network_a_connection_is_given() {
        assert_eq!(client_network("198.51.100.7"), "198.51.100.7");
        assert_eq!(client_network("::ffff:198.51.100.7"), "198.51.100.7");
        assert_eq!(client_network("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(
            client_network("2001:db8:1:2:ffff:ffff:ffff:ffff"),
            "2001:db8:1:2::/64"
        );
        assert_ne!(
            client_network("2001:db8:1:3::1"),
            client_network("2001:db8:1:2::1")
        );
        assert_eq!(client_network("unknown"), "unknown");
    }

    #[test]
    fn v4_and_v6() {
        assert!(cidr_contains("203.0.113.0/24", "203.0.113.77"));
        assert!(!cidr_contains("203.0.113.0/24", "203.0.114.1"));
        assert!(cidr_contains("198.51.100.7", "198.51.100.7"));
        assert!(!cidr_contains("198.51.100.7", "198.51.100.8"));
        assert!(cidr_contains("0.0.0.0/0", "8.8.8.8"));
        assert!(cidr_contains("2001:db8::/32", "2001:db8:1::1"));
        assert!(!cidr_contains("2001:db8::/32", "2001:db9::1"));
        assert!(!cidr_contains("203.0.113.0/24", "2001:db8::1"));
        assert!(!cidr_contains("not-an-ip", "1.2.3.4"));
        assert!(!cidr_contains("1.2.3.4/33", "1.2.3.4"));
        assert!(!cidr_contains("1.2.3.4/", "1.2.3.4"));
        assert!(parse_cidr("10.0.0.0/8").is_some());
    }
}
