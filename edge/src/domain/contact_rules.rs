//! A payer's contact (phone, email) is personal data: checked when given, kept sealed
//! (`domain/sealing.rs`), and only ever shown masked: `138****5678`, `a***@example.com`.

use super::refusal::Refusal;
use paydesk_shared::api::Contact;

/// An address as one person is known by it, whichever way it was written: trimmed, lowercase,
/// and a mainland number without its `+86` (`+8613812345678` is `13812345678`). An unsubscribe
/// is by address, so both forms must be the same one.
pub fn address_key(to: &str) -> String {
    let t = to.trim().to_lowercase();
    match t.strip_prefix("+86") {
        Some(rest) if rest.len() == 11 && is_phone(rest) => rest.to_owned(),
        _ => t,
    }
}

/// A mainland mobile number (11 digits from `1[3-9]`), or an international one in E.164
/// (`+` and 8-15 digits).
pub fn is_phone(s: &str) -> bool {
    let b = s.as_bytes();
    let mainland = b.len() == 11
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
        && b.iter().all(u8::is_ascii_digit);
    let e164 = b.first() == Some(&b'+')
        && (9..=16).contains(&b.len())
        && b[1] != b'0'
        && b[1..].iter().all(u8::is_ascii_digit);
    mainland || e164
}

/// `local@domain.tld`: one `@`, no spaces or controls, a dot in the domain, at most 254 bytes.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let clean = |p: &str| {
        !p.is_empty()
            && !p
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '@')
    };
    let labels_ok = domain
        .split('.')
        .all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'));
    s.len() <= 254
        && local.len() <= 64
        && clean(local)
        && clean(domain)
        && domain.contains('.')
        && labels_ok
}

/// Checks a contact whole: at least one way to reach the payer, each well formed.
pub fn check(c: &Contact) -> Result<(), Refusal> {
    if c.phone.is_none() && c.email.is_none() {
        return Err(Refusal::param(
            "contact",
            "contact needs a phone or an email",
        ));
    }
    if c.phone.as_deref().is_some_and(|p| !is_phone(p)) {
        return Err(Refusal::param(
            "contact.phone",
            "phone is a mainland mobile number (11 digits) or +country code and number",
        ));
    }
    if c.email.as_deref().is_some_and(|e| !is_email(e)) {
        return Err(Refusal::param(
            "contact.email",
            "email is not a valid address",
        ));
    }
    if !matches!(c.locale.as_deref(), None | Some("zh-CN") | Some("en")) {
        return Err(Refusal::param("contact.locale", "locale is zh-CN or en"));
    }
    Ok(())
}

/// `13812345678` → `138****5678`; `+85291234567` → `+85*****4567`.
pub fn mask_phone(p: &str) -> String {
    let n = p.chars().count();
    let hidden = n.saturating_sub(7);
    let head: String = p.chars().take(3).collect();
    let tail: String = p.chars().skip(n.saturating_sub(4)).collect();
    head + &"*".repeat(hidden) + &tail
}

/// `alice@example.com` → `a***@example.com`.
pub fn mask_email(e: &str) -> String {
    match e.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

pub fn mask(c: &Contact) -> Contact {
    Contact {
        phone: c.phone.as_deref().map(mask_phone),
        email: c.email.as_deref().map(mask_email),
        locale: c.locale.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(phone: Option<&str>, email: Option<&str>) -> Contact {
        Contact {
            phone: phone.map(Into::into),
            email: email.map(Into::into),
            locale: None,
        }
    }

    #[test]
    fn a_mainland_number_is_one_address_with_or_without_its_country_code() {
        assert_eq!(address_key(" +8613812345678 "), "13812345678");
        assert_eq!(address_key("13812345678"), "13812345678");
        assert_eq!(address_key("+85291234567"), "+85291234567");
        assert_eq!(address_key("+86123"), "+86123");
        assert_eq!(address_key(" Alice@Example.COM"), "alice@example.com");
    }

    #[test]
    fn phones_and_emails_are_checked() {
        assert!(is_phone("13812345678"));
        assert!(is_phone("+85291234567"));
        for bad in [
            "12812345678",
            "1381234567",
            "138123456789",
            "+0123456789",
            "+1234567",
            "138-1234-5678",
        ] {
            assert!(!is_phone(bad), "{bad}");
        }
        assert!(is_email("alice@example.com"));
        assert!(is_email("张三@例子.中国"));
        for bad in [
            "alice",
            "a@b",
            "a b@example.com",
            "a@@example.com",
            "@example.com",
            "a@example..com",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
        assert_eq!(
            check(&c(None, None)).unwrap_err().param.as_deref(),
            Some("contact")
        );
        assert_eq!(
            check(&c(Some("123"), None)).unwrap_err().param.as_deref(),
            Some("contact.phone")
        );
        assert_eq!(
            check(&c(None, Some("x@y"))).unwrap_err().param.as_deref(),
            Some("contact.email")
        );
        assert_eq!(
            check(&c(Some("13812345678"), Some("alice@example.com"))),
            Ok(())
        );
    }

    #[test]
    fn masks_keep_only_what_tells_them_apart() {
        let m = mask(&c(Some("13812345678"), Some("alice@example.com")));
        assert_eq!(m.phone.as_deref(), Some("138****5678"));
        assert_eq!(m.email.as_deref(), Some("a***@example.com"));
        assert_eq!(mask_phone("+85291234567"), "+85*****4567");
        assert_eq!(mask(&c(None, Some("x@example.com"))).phone, None);
    }
}
