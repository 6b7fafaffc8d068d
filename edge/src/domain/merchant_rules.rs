//! Validation of what the admin API accepts for a merchant: branding shown to payers (text only,
//! https images, length caps), allowlists, approval levels, limits, fixed-price items.

use super::approval::{check_levels, ApprovalLevel};
use super::ip::parse_cidr;
use super::limits::{RateLimits, Tier};
use super::order_rules::check_notify_url;
use super::refusal::Refusal;
use paydesk_shared::{Branding, Money};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `POST /admin/merchants` .
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMerchant {
    pub name: String,
    pub tier: Tier,
    #[serde(default = "yes")]
    pub sandbox: bool,
    pub branding: Branding,
    #[serde(default)]
    pub notify_url: Option<String>,
    #[serde(default)]
    pub backup_notify_url: Option<String>,
    #[serde(default)]
    pub ip_allowlist: Vec<String>,
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    #[serde(default)]
    pub approval_levels: Vec<ApprovalLevel>,
    #[serde(default)]
    pub rate_limits: Option<RateLimits>,
    #[serde(default)]
    pub daily_limit: Option<u64>,
    #[serde(default)]
    pub items: BTreeMap<String, Money>,
    #[serde(default)]
    pub utc_offset_minutes: Option<i32>,
    #[serde(default)]
    pub remind_grace_seconds: Option<u32>,
    #[serde(default)]
    pub refund_approval_above: Option<u64>,
    /// How failed periodic charges are retried (default 1, 3 and 5 days, then canceled).
    #[serde(default)]
    pub dunning: Option<super::schedule_rules::Dunning>,
    /// Items (of `items`) whose purchase entitles the payer for this many days (1-3650).
    #[serde(default)]
    pub validity_days: BTreeMap<String, u32>,
    /// Days a paid order's money is held unless fulfilled first (default 7).
    #[serde(default)]
    pub release_days: Option<u32>,
    /// Not fulfilled within this many hours of payment: refunded in full by itself.
    #[serde(default)]
    pub auto_refund_hours: Option<u32>,
    /// `education`, `retail` (default) or `services`: the fee rate follows it.
    #[serde(default)]
    pub industry: super::money_rules::Industry,
    /// A group merchant's id: this merchant's settlements sweep into that group's fund pool.
    #[serde(default)]
    pub group_id: Option<String>,
    /// Risk rules (`risk_rules`); without them, only the default freeze rule.
    #[serde(default)]
    pub risk: Option<super::risk_rules::RiskConfig>,
}

fn yes() -> bool {
    true
}

fn text_ok(s: &str, max: usize) -> bool {
    let n = s.chars().count();
    n >= 1 && n <= max && !s.chars().any(char::is_control)
}

/// A logo is an https URL, or a path on this origin (the dev demo's `/demo/logo.svg`).
pub fn check_logo_url(url: &str) -> bool {
    if url.len() > 512 || !url.bytes().all(|b| b.is_ascii_graphic()) {
        return false;
    }
    if let Some(rest) = url.strip_prefix("https://") {
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        return !host.is_empty() && !host.contains('@');
    }
    url.starts_with('/') && !url.starts_with("//")
}

/// An origin that may embed the pay page: `https://host[:port]` (http only on loopback in dev).
pub fn check_origin(origin: &str, dev: bool) -> bool {
    let rest = match origin.strip_prefix("https://") {
        Some(r) => r,
        None => match origin.strip_prefix("http://") {
            Some(r) if dev && (r.starts_with("127.0.0.1") || r.starts_with("localhost")) => r,
            _ => return false,
        },
    };
    !rest.is_empty()
        && rest.len() <= 253
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

/// Whether an allowed origin, as the merchant wrote it, names the origin a browser reports:
/// browsers serialise the host in lower case and leave out the scheme's default port, so
/// `https://Shop.example:443` is `https://shop.example`, as `frame-ancestors` already judges it.
pub fn same_origin(allowed: &str, browser: &str) -> bool {
    fn canonical(o: &str) -> String {
        let o = o.to_ascii_lowercase();
        let o = match o.strip_suffix(":443") {
            Some(bare) if bare.starts_with("https://") => bare.to_owned(),
            _ => o,
        };
        match o.strip_suffix(":80") {
            Some(bare) if bare.starts_with("http://") => bare.to_owned(),
            _ => o,
        }
    }
    canonical(allowed) == canonical(browser)
}

/// What payers see of the merchant: plain text of bounded length, an https logo, a colour.
pub fn check_branding(b: &Branding) -> Result<(), Refusal> {
    let err = Refusal::param;
    if !text_ok(&b.display_name, 64) {
        return Err(err(
            "branding.display_name",
            "display_name must be 1-64 characters of plain text",
        ));
    }
    if b.logo_url.as_deref().is_some_and(|u| !check_logo_url(u)) {
        return Err(err(
            "branding.logo_url",
            "logo_url must be an https URL (at most 512 characters)",
        ));
    }
    if b.filing_text.as_deref().is_some_and(|t| !text_ok(t, 128)) {
        return Err(err(
            "branding.filing_text",
            "filing_text must be 1-128 characters of plain text",
        ));
    }
    if b.guarantee_text
        .as_deref()
        .is_some_and(|t| !text_ok(t, 200))
    {
        return Err(err(
            "branding.guarantee_text",
            "guarantee_text must be 1-200 characters of plain text",
        ));
    }
    let hex_colour = |c: &str| {
        c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|x| x.is_ascii_hexdigit())
    };
    if b.theme_color.as_deref().is_some_and(|c| !hex_colour(c)) {
        return Err(err("branding.theme_color", "theme_color must be #rrggbb"));
    }
    Ok(())
}

/// Fixed-price items: at most 200, ids of `[A-Za-z0-9_-]`, positive prices in CNY (the only
/// currency the ledger keeps its books in).
fn check_items(items: &BTreeMap<String, Money>) -> Result<(), Refusal> {
    let err = Refusal::param;
    if items.len() > 200 {
        return Err(err("items", "at most 200 fixed-price items"));
    }
    for (id, price) in items {
        let id_ok = (1..=32).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        let price_ok = price.currency == paydesk_shared::Currency::Cny
            && (1..=paydesk_shared::money::MAX_MINOR).contains(&price.total);
        if !id_ok || !price_ok {
            return Err(err(
                "items",
                "item ids are 1-32 of [A-Za-z0-9_-] with a positive price in CNY",
            ));
        }
    }
    Ok(())
}

/// A daily limit is a positive amount, and at most what the merchant's tier allows.
fn check_daily_limit(tier: Tier, daily_limit: Option<u64>) -> Result<(), Refusal> {
    let Some(d) = daily_limit else {
        return Ok(());
    };
    if d == 0 || d > paydesk_shared::money::MAX_MINOR {
        return Err(Refusal::param(
            "daily_limit",
            "daily_limit must be a positive amount in minor units",
        ));
    }
    match tier.max_daily_limit() {
        Some(cap) if d > cap => Err(Refusal::param(
            "daily_limit",
            format!(
                "a {} merchant may collect at most {cap} fen a day",
                tier.as_str()
            ),
        )),
        _ => Ok(()),
    }
}

pub fn validate(m: &NewMerchant, dev: bool) -> Result<(), Refusal> {
    let err = Refusal::param;
    if !text_ok(&m.name, 64) {
        return Err(err("name", "name must be 1-64 characters"));
    }
    check_branding(&m.branding)?;
    if let Some(r) = &m.risk {
        super::risk_rules::check(r)?;
    }
    if let Some(u) = &m.notify_url {
        check_notify_url(u, dev).map_err(|msg| err("notify_url", msg))?;
    }
    if let Some(u) = &m.backup_notify_url {
        check_notify_url(u, dev).map_err(|msg| err("backup_notify_url", msg))?;
    }
    if m.ip_allowlist.len() > 32 || m.ip_allowlist.iter().any(|c| parse_cidr(c).is_none()) {
        return Err(err(
            "ip_allowlist",
            "ip_allowlist takes at most 32 IPv4/IPv6 addresses or CIDR blocks",
        ));
    }
    if m.allowed_origins.len() > 16 || m.allowed_origins.iter().any(|o| !check_origin(o, dev)) {
        return Err(err(
            "allowed_origins",
            "allowed_origins takes at most 16 origins like https://shop.example.com",
        ));
    }
    check_levels(&m.approval_levels).map_err(|msg| err("approval_levels", msg))?;
    if let Some(r) = &m.rate_limits {
        let ok = |n: u32| (1..=100_000).contains(&n);
        if !(ok(r.create) && ok(r.query) && ok(r.refund)) {
            return Err(err(
                "rate_limits",
                "rate limits must be 1-100000 per minute",
            ));
        }
    }
    check_daily_limit(m.tier, m.daily_limit)?;
    check_items(&m.items)?;
    if let Some(d) = &m.dunning {
        d.validate()?;
    }
    super::escrow_rules::check_settings(
        m.release_days
            .unwrap_or(super::escrow_rules::DEFAULT_RELEASE_DAYS),
        m.auto_refund_hours,
    )?;
    let known = |id: &String| m.items.contains_key(id);
    if m.validity_days
        .iter()
        .any(|(id, d)| !known(id) || !(1..=3650).contains(d))
    {
        return Err(err(
            "validity_days",
            "validity_days maps items of `items` to 1-3650 days",
        ));
    }
    if m.utc_offset_minutes
        .is_some_and(|o| !(-720..=840).contains(&o))
    {
        return Err(err(
            "utc_offset_minutes",
            "utc_offset_minutes must be -720 to 840",
        ));
    }
    if m.remind_grace_seconds
        .is_some_and(|g| !(60..=30 * 86_400).contains(&g))
    {
        return Err(err(
            "remind_grace_seconds",
            "remind_grace_seconds must be 60 to 2592000",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    type Mutation = Box<dyn Fn(&mut NewMerchant)>;

    #[test]
    fn a_daily_limit_is_positive_and_within_the_tiers_cap() {
        let param = |tier, d| check_daily_limit(tier, d).err().and_then(|r| r.param);
        assert_eq!(param(Tier::IndividualBusiness, None), None);
        assert_eq!(param(Tier::IndividualBusiness, Some(10_000_000)), None);
        assert_eq!(
            param(Tier::IndividualBusiness, Some(10_000_001)).as_deref(),
            Some("daily_limit")
        );
        assert_eq!(param(Tier::Enterprise, Some(900_000_000)), None);
        assert_eq!(
            param(Tier::Enterprise, Some(0)).as_deref(),
            Some("daily_limit")
        );
    }

    fn base() -> NewMerchant {
        serde_json::from_value(serde_json::json!({
            "name": "Tea House", "tier": "enterprise",
            "branding": {"display_name": "Tea House", "logo_url": "https://cdn.example.com/l.png", "theme_color": "#112233"}
        }))
        .unwrap()
    }

    #[test]
    fn accepts_a_plain_merchant_and_defaults_to_sandbox() {
        assert!(base().sandbox);
        assert_eq!(validate(&base(), false), Ok(()));
    }

    #[test]
    fn branding_is_checked() {
        let cases: Vec<(Mutation, &str)> = vec![
            (
                Box::new(|m| m.branding.logo_url = Some("http://cdn.example.com/l.png".into())),
                "branding.logo_url",
            ),
            (
                Box::new(|m| m.branding.logo_url = Some("javascript:alert(1)".into())),
                "branding.logo_url",
            ),
            (
                Box::new(|m| m.branding.logo_url = Some("//evil.example.com/x.png".into())),
                "branding.logo_url",
            ),
            (
                Box::new(|m| m.branding.display_name = "x".repeat(65)),
                "branding.display_name",
            ),
            (
                Box::new(|m| m.branding.theme_color = Some("red".into())),
                "branding.theme_color",
            ),
            (
                Box::new(|m| m.branding.filing_text = Some("a\nb".into())),
                "branding.filing_text",
            ),
            (
                Box::new(|m| m.ip_allowlist = vec!["10.0.0.0/33".into()]),
                "ip_allowlist",
            ),
            (
                Box::new(|m| m.allowed_origins = vec!["http://shop.example.com".into()]),
                "allowed_origins",
            ),
            (
                Box::new(|m| {
                    m.approval_levels = vec![ApprovalLevel {
                        above: 1,
                        approvers: 0,
                    }]
                }),
                "approval_levels",
            ),
            (
                Box::new(|m| m.items = BTreeMap::from([("tea".into(), Money::cny(0))])),
                "items",
            ),
            (
                Box::new(|m| {
                    let usd = Money::new(100, paydesk_shared::Currency::Usd).unwrap();
                    m.items = BTreeMap::from([("tea".into(), usd)])
                }),
                "items",
            ),
            (
                Box::new(|m| m.utc_offset_minutes = Some(900)),
                "utc_offset_minutes",
            ),
        ];
        for (i, (mutate, param)) in cases.into_iter().enumerate() {
            let mut m = base();
            mutate(&mut m);
            assert_eq!(
                validate(&m, false).unwrap_err().param.as_deref(),
                Some(param),
                "case {i}"
            );
        }
    }

    #[test]
    fn markup_in_names_is_allowed_as_text() {
        let mut m = base();
        m.branding.display_name = "<b>Tea</b>".into();
        assert_eq!(validate(&m, false), Ok(()));
    }

    #[test]
    fn origins() {
        assert!(check_origin("https://shop.example.com", false));
        assert!(check_origin("https://shop.example.com:8443", false));
        assert!(check_origin("http://127.0.0.1:8787", true));
        assert!(!check_origin("http://127.0.0.1:8787", false));
        assert!(!check_origin("https://shop.example.com/path", false));
        assert!(!check_origin("*", false));
    }

    #[test]
    fn an_allowed_origin_matches_the_browser_s_serialisation_of_it() {
        let browser = "https://shop.example.com";
        assert!(same_origin("https://Shop.Example.com", browser));
        assert!(same_origin("https://shop.example.com:443", browser));
        assert!(same_origin("http://localhost:80", "http://localhost"));
        assert!(!same_origin("https://shop.example.com:8443", browser));
        assert!(!same_origin("http://shop.example.com", browser));
        assert!(!same_origin("https://shop.example.com:80", browser));
        assert!(!same_origin("https://evil.example.com", browser));
    }
}
