//! A merchant's application to collect live money: what it must contain, what its documents
//! support, and how its personal and bank data is shown (masked, always).
//!
//! The business licence number is China's unified social credit code (GB 32100-2015): 18
//! characters whose last one is a check character, and whose first two say what registered it
//! (`91` an enterprise, `92` an individual business). The tier an operator may approve follows
//! the licence: an individual business's licence never makes an enterprise.

use super::limits::Tier;
use super::refusal::Refusal;
use serde::{Deserialize, Serialize};

/// `POST /v1/application`: what the merchant submits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    /// The tier applied for: `enterprise` or `individual_business`.
    pub tier: Tier,
    /// The registered name on the licence.
    pub business_name: String,
    pub licence_number: String,
    pub legal_person: String,
    pub corporate_account: CorporateAccount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorporateAccount {
    pub bank: String,
    pub account_name: String,
    pub account_number: String,
}

/// The application as anyone sees it: sensitive fields masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Masked {
    pub business_name: String,
    pub licence_number: String,
    pub legal_person: String,
    pub corporate_account: CorporateAccount,
}

const USCC_CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Whether `code` is a unified social credit code with a correct check character.
pub fn is_credit_code(code: &str) -> bool {
    let b = code.as_bytes();
    if b.len() != 18 {
        return false;
    }
    let value = |c: u8| USCC_CHARS.iter().position(|x| *x == c).map(|p| p as u32);
    let mut sum = 0;
    for (c, w) in b[..17].iter().zip(USCC_WEIGHTS) {
        match value(*c) {
            Some(v) => sum += v * w,
            None => return false,
        }
    }
    let check = (31 - sum % 31) % 31;
    value(b[17]) == Some(check)
}

/// The highest tier a licence supports: `91…` an enterprise, `92…` an individual business;
/// other registrations (institutions, cooperatives, …) are not taken online.
pub fn licence_tier(code: &str) -> Option<Tier> {
    match code.get(..2) {
        Some("91") => Some(Tier::Enterprise),
        Some("92") => Some(Tier::IndividualBusiness),
        _ => None,
    }
}

fn rank(t: Tier) -> u8 {
    match t {
        Tier::Personal => 0,
        Tier::IndividualBusiness => 1,
        Tier::Enterprise => 2,
    }
}

/// Whether `tier` is at most what `ceiling` allows.
pub fn at_most(tier: Tier, ceiling: Tier) -> bool {
    rank(tier) <= rank(ceiling)
}

fn text(param: &str, v: &str, min: usize, max: usize) -> Result<(), Refusal> {
    let n = v.trim().chars().count();
    if n < min || n > max || v.trim() != v || v.chars().any(char::is_control) {
        return Err(Refusal::param(
            param,
            format!("{param} is {min}-{max} characters, without leading or trailing spaces"),
        ));
    }
    Ok(())
}

/// Checks a submission whole; the first fault is named.
pub fn check(a: &Application) -> Result<(), Refusal> {
    text("business_name", &a.business_name, 2, 80)?;
    if !is_credit_code(&a.licence_number) {
        return Err(Refusal::param(
            "licence_number",
            "licence_number is an 18-character unified social credit code with a valid check character",
        ));
    }
    let Some(supported) = licence_tier(&a.licence_number) else {
        return Err(Refusal::param(
            "licence_number",
            "only enterprise (91…) and individual business (92…) licences are accepted",
        ));
    };
    approved_tier(a.tier, supported, None)?;
    text("legal_person", &a.legal_person, 2, 30)?;
    let acc = &a.corporate_account;
    text("corporate_account.bank", &acc.bank, 2, 40)?;
    text("corporate_account.account_name", &acc.account_name, 2, 80)?;
    let digits = acc.account_number.len();
    if !(8..=32).contains(&digits) || !acc.account_number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Refusal::param(
            "corporate_account.account_number",
            "account_number is 8-32 digits",
        ));
    }
    // A company is paid into an account in its own registered name; an individual business
    // may use its owner's.
    let holder_ok = acc.account_name == a.business_name
        || (a.tier == Tier::IndividualBusiness && acc.account_name == a.legal_person);
    if !holder_ok {
        return Err(Refusal::param(
            "corporate_account.account_name",
            "the account must be in the business's registered name (or, for an individual \
             business, its legal person's)",
        ));
    }
    Ok(())
}

/// `张*`, `欧阳**`→`欧**`: the first character, the rest hidden.
fn mask_name(s: &str) -> String {
    let mut chars = s.chars();
    let first = chars.next().map(String::from).unwrap_or_default();
    first + &"*".repeat(chars.count().clamp(1, 8))
}

/// The first `head` and last `tail` characters, the rest as `*`.
fn mask_middle(s: &str, head: usize, tail: usize) -> String {
    let n = s.chars().count();
    let hidden = n.saturating_sub(head + tail);
    let start: String = s.chars().take(head).collect();
    let end: String = s.chars().skip(n - tail.min(n)).collect();
    start + &"*".repeat(hidden) + &end
}

pub fn mask(a: &Application) -> Masked {
    let acc = &a.corporate_account;
    Masked {
        business_name: a.business_name.clone(),
        licence_number: mask_middle(&a.licence_number, 2, 4),
        legal_person: mask_name(&a.legal_person),
        corporate_account: CorporateAccount {
            bank: acc.bank.clone(),
            account_name: if acc.account_name == a.business_name {
                acc.account_name.clone()
            } else {
                mask_name(&acc.account_name)
            },
            account_number: mask_middle(&acc.account_number, 0, 4),
        },
    }
}

/// An operator's decision on an application, checked: an approval's tier (the one applied for
/// unless given) must be one the licence supports and may collect.
pub fn approved_tier(applied: Tier, supported: Tier, given: Option<Tier>) -> Result<Tier, Refusal> {
    let tier = given.unwrap_or(applied);
    if tier == Tier::Personal || !at_most(tier, supported) {
        return Err(Refusal::param(
            "tier",
            format!(
                "this licence supports at most the {} tier",
                supported.as_str()
            ),
        ));
    }
    Ok(tier)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two codes with valid check characters (the first is the standard's published example).
    const ENTERPRISE: &str = "91350100M000100Y43";

    fn application(tier: Tier, licence: &str) -> Application {
        Application {
            tier,
            business_name: "上海某某科技有限公司".into(),
            licence_number: licence.into(),
            legal_person: "张三".into(),
            corporate_account: CorporateAccount {
                bank: "招商银行上海分行".into(),
                account_name: "上海某某科技有限公司".into(),
                account_number: "6225880212345678".into(),
            },
        }
    }

    /// A code with the given first 17 characters and its check character.
    fn with_check(body: &str) -> String {
        (0..31)
            .map(|i| format!("{body}{}", USCC_CHARS[i] as char))
            .find(|c| is_credit_code(c))
            .unwrap()
    }

    #[test]
    fn the_check_character_is_checked() {
        assert!(is_credit_code(ENTERPRISE));
        assert!(!is_credit_code("91350100M000100Y44"));
        assert!(!is_credit_code("91350100M000100Y4"));
        assert!(
            !is_credit_code("91350100M000100YI3"),
            "I is not in the alphabet"
        );
        let individual = with_check("92310000MA1FL0000");
        assert!(is_credit_code(&individual));
        assert_eq!(licence_tier(&individual), Some(Tier::IndividualBusiness));
        assert_eq!(licence_tier(ENTERPRISE), Some(Tier::Enterprise));
        assert_eq!(licence_tier(&with_check("12100000400000000")), None);
    }

    #[test]
    fn a_complete_application_passes_and_each_fault_is_named() {
        assert_eq!(check(&application(Tier::Enterprise, ENTERPRISE)), Ok(()));
        let fault = |f: &dyn Fn(&mut Application)| {
            let mut a = application(Tier::Enterprise, ENTERPRISE);
            f(&mut a);
            check(&a).unwrap_err().param.unwrap()
        };
        assert_eq!(
            fault(&|a| a.licence_number = "91350100M000100Y44".into()),
            "licence_number"
        );
        assert_eq!(fault(&|a| a.business_name = " x".into()), "business_name");
        assert_eq!(fault(&|a| a.legal_person = "张".into()), "legal_person");
        assert_eq!(
            fault(&|a| a.corporate_account.account_number = "6225-8802".into()),
            "corporate_account.account_number"
        );
        assert_eq!(
            fault(&|a| a.corporate_account.account_name = "张三".into()),
            "corporate_account.account_name",
            "a company's account is in its own name"
        );
        assert_eq!(fault(&|a| a.tier = Tier::Personal), "tier");
    }

    #[test]
    fn the_tier_follows_the_licence() {
        let individual = with_check("92310000MA1FL0000");
        let mut a = application(Tier::Enterprise, &individual);
        assert_eq!(check(&a).unwrap_err().param.as_deref(), Some("tier"));
        a.tier = Tier::IndividualBusiness;
        a.corporate_account.account_name = "张三".into();
        assert_eq!(
            check(&a),
            Ok(()),
            "an individual business may use its owner's account"
        );
        let (ib, ent) = (Tier::IndividualBusiness, Tier::Enterprise);
        assert_eq!(approved_tier(ib, ib, None), Ok(ib));
        assert!(
            approved_tier(ib, ib, Some(ent)).is_err(),
            "never above the licence"
        );
        assert_eq!(
            approved_tier(ent, ent, Some(ib)),
            Ok(ib),
            "an operator may approve a lower tier"
        );
        assert!(approved_tier(ent, ent, Some(Tier::Personal)).is_err());
    }

    #[test]
    fn masks_hide_what_identifies() {
        let m = mask(&application(Tier::Enterprise, ENTERPRISE));
        assert_eq!(m.licence_number, "91************0Y43");
        assert_eq!(m.legal_person, "张*");
        assert_eq!(m.corporate_account.account_number, "************5678");
        assert_eq!(m.corporate_account.account_name, "上海某某科技有限公司");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("Li"), "L*");
    }
}
