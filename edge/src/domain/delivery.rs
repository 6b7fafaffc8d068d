//! Notification delivery rules: the retry schedule, what counts as delivered,
//! when an alert is raised, and which notification URLs production may call.

use std::net::IpAddr;

/// Delays after the 1st, 2nd, ... failed attempt: 15s, 15s, 30s, 3m, 10m, 20m, 30m, 30m, 30m,
/// 60m, 3h, 3h, 3h, 6h, 6h (24 h 4 min in all). After the 16th failed attempt: FAILED.
pub const RETRY_SCHEDULE_SECS: [i64; 15] = [
    15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10_800, 10_800, 10_800, 21_600, 21_600,
];

/// Consecutive failed deliveries to one merchant that raise an alert.
pub const ALERT_AFTER: i64 = 5;

/// A delivery that has not answered within this long has failed.
pub const TIMEOUT_MS: i64 = 10_000;

/// When to try again after `attempts_made` failed attempts, or `None` when the schedule is
/// exhausted. `jitter` in [0, 1) stretches the delay by up to 10 %, so retries from many
/// merchants do not arrive in lockstep.
pub fn next_delay_ms(attempts_made: u32, jitter: f64) -> Option<i64> {
    let base = *RETRY_SCHEDULE_SECS.get((attempts_made as usize).checked_sub(1)?)? * 1000;
    let j = jitter.clamp(0.0, 0.999);
    Some(base + (base as f64 * 0.1 * j) as i64)
}

/// Any 2xx is success; everything else (3xx included: redirects are not followed) is not.
pub fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Whether a receiver acknowledged a delivery: a 2xx, and for a notification in the v2
/// dialect also an XML `return_code` SUCCESS in the answer (as the protocol has merchants
/// reply); anything else is delivered again on the schedule.
pub fn acknowledged(v2: bool, status: u16, body: &str) -> bool {
    is_success(status) && (!v2 || super::v2::is_ack(body))
}

/// Whether production may deliver to this host: no loopback, private, link-local, unspecified or
/// otherwise internal addresses given literally, and no `localhost` (SSRF). Names that resolve
/// to such addresses are stopped by the platform's egress, which never reaches private networks.
pub fn is_public_host(host: &str) -> bool {
    let h = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    if h.is_empty()
        || h == "localhost"
        || h.ends_with(".localhost")
        || h.ends_with(".internal")
        || h.ends_with(".local")
    {
        return false;
    }
    match h.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1])) // carrier-grade NAT
                || o[0] >= 224)
        }
        Ok(IpAddr::V6(v6)) => {
            let seg = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (seg[0] & 0xfe00) == 0xfc00 // unique local
                || (seg[0] & 0xffc0) == 0xfe80 // link local
                || v6.to_ipv4_mapped().is_some_and(|v4| !is_public_host(&v4.to_string())))
        }
        // A dotted name that only looks numeric (e.g. `0x7f.1`) is refused too.
        Err(_) => !h
            .split('.')
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit() || c == 'x')),
    }
}

/// The host of an http(s) URL.
pub fn url_host(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.starts_with('[') {
        return authority.split_once(']').map(|(h, _)| &h[1..]);
    }
    Some(authority.rsplit_once(':').map_or(authority, |(h, _)| h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_acknowledges_a_delivery() {
        assert!(acknowledged(false, 204, ""));
        assert!(!acknowledged(false, 302, ""));
        let ok = "<xml><return_code><![CDATA[SUCCESS]]></return_code></xml>";
        assert!(acknowledged(true, 200, ok));
        assert!(!acknowledged(true, 500, ok), "a v2 ack needs a 2xx too");
        assert!(!acknowledged(true, 200, "ok"), "v2 needs the XML answer");
        assert!(!acknowledged(
            true,
            200,
            "<xml><return_code>FAIL</return_code></xml>"
        ));
    }

    #[test]
    fn the_schedule_adds_up_to_24h_4min() {
        let total: i64 = RETRY_SCHEDULE_SECS.iter().sum();
        assert_eq!(total, 24 * 3600 + 4 * 60);
        assert_eq!(next_delay_ms(0, 0.0), None);
        assert_eq!(next_delay_ms(1, 0.0), Some(15_000));
        assert_eq!(next_delay_ms(3, 0.0), Some(30_000));
        assert_eq!(next_delay_ms(15, 0.0), Some(21_600_000));
        assert_eq!(next_delay_ms(16, 0.0), None, "16 attempts, then FAILED");
        assert_eq!(next_delay_ms(1, 0.999), Some(16_498));
    }

    #[test]
    fn success_is_2xx_only() {
        assert!(is_success(200) && is_success(204) && is_success(299));
        assert!(!is_success(301) && !is_success(404) && !is_success(500) && !is_success(0));
    }

    #[test]
    fn ssrf_hosts_are_refused() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "localhost",
            "api.localhost",
            "[::1]",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "metadata.internal",
            "printer.local",
            "0x7f.1",
            "224.0.0.1",
        ] {
            assert!(!is_public_host(bad), "{bad}");
        }
        for good in [
            "shop.example.com",
            "203.0.114.9",
            "8.8.8.8",
            "2606:4700::1111",
            "api-1.shop.cn",
        ] {
            assert!(is_public_host(good), "{good}");
        }
        assert_eq!(
            url_host("https://u.example.com:8443/x?y"),
            Some("u.example.com")
        );
        assert_eq!(url_host("http://[::1]:80/x"), Some("::1"));
    }
}
