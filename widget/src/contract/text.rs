//! Every string the contract page shows, in Simplified Chinese and English. The page also uses
//! the pay page's words for methods and card fields (`crate::i18n`).

use crate::i18n::Lang;
use paydesk_shared::contract::{Period, TerminationMode};

crate::i18n::texts! {
    Title => "授权自动扣款", "Authorise automatic payments";
    Intro => "将按以下约定从您这里自动扣款，无需每次确认：", "will charge you under these terms, without asking each time:";
    Service => "服务", "For";
    Account => "您的账户", "Your account";
    AtMost => "每次最多扣款", "At most per charge";
    HowOften => "扣款频率", "How often";
    Until => "有效期", "Until";
    UntilEnded => "直到您或商户解除授权", "Until you or the merchant end it";
    Notice => "扣款通知", "Notice";
    NoticeText => "每次扣款前 24 小时告知（签约后 12 小时内的首次扣款除外），其间您可解除授权，该笔不再扣款。",
        "Each charge is announced 24 hours before it is made (except a first one within 12 hours of signing); end it in between and it is never made.";
    HowToCancel => "随时可在本页解除授权，无需登录；解除后不再扣款。请保存本页链接。",
        "End it at any time on this page, no login needed; nothing is charged after that. Keep this page's link.";
    PayWith => "扣款方式", "Charge to";
    Consent => "我同意按上述约定自动扣款", "I authorise these automatic charges";
    ConsentMissing => "请勾选同意授权", "Tick the box to authorise";
    Sign => "同意并开通", "Agree and authorise";
    ConfirmBy => "请在此时间前确认", "Confirm by";
    SignedTitle => "已开通自动扣款", "Automatic payments are on";
    Since => "开通时间", "Since";
    Upcoming => "即将扣款", "Upcoming charges";
    PlusUsage => "（另加用量）", " + usage";
    End => "解除授权", "End this authorisation";
    ConfirmEndTitle => "确定解除授权？", "End this authorisation?";
    ConfirmEndBody => "解除后商户将无法再自动扣款；未付的分期仍需通过付款链接支付。",
        "The merchant can then no longer charge you automatically; instalments still due stay owed, paid through their links.";
    Keep => "保留授权", "Keep it";
    EndedTitle => "授权已解除", "This authorisation has ended";
    EndedByPayer => "由您解除", "Ended by you";
    EndedByMerchant => "由商户解除", "Ended by the merchant";
    EndedByExpiry => "已到期", "It reached the end of its term";
    NoMoreCharges => "此后不会再扣款。", "Nothing more will be charged.";
    ExpiredTitle => "授权请求已过期", "This authorisation request has expired";
    ExpiredBody => "未在 24 小时内确认，未开通也未扣款。如需开通，请向商户获取新链接。",
        "It was not confirmed within 24 hours: nothing was set up or charged. Ask the merchant for a new link.";
    NotKept => "无法使用该付款方式", "This payment method cannot be used";
    Unavailable => "暂时无法连接，请重试；不会重复开通。", "We could not reach the server. Try again; nothing is set up twice.";
    Card => "卡号尾号", "Card ending";
}

/// "At most 2 per month" / "每月最多 2 次".
pub fn how_often(lang: Lang, n: u32, period: Period) -> String {
    match lang {
        Lang::Zh => {
            let p = match period {
                Period::Day => "日",
                Period::Week => "周",
                Period::Month => "月",
                Period::Year => "年",
            };
            format!("每{p}最多 {n} 次")
        }
        Lang::En => format!("At most {n} per {}", period.as_str()),
    }
}

/// "365 days after you sign" / "签约后 365 天".
pub fn term(lang: Lang, days: u32) -> String {
    match lang {
        Lang::Zh => format!("签约后 {days} 天"),
        Lang::En => format!("{days} days after you sign"),
    }
}

pub fn ended_by(lang: Lang, mode: TerminationMode) -> &'static str {
    t(
        lang,
        match mode {
            TerminationMode::Payer => Text::EndedByPayer,
            TerminationMode::Merchant => Text::EndedByMerchant,
            TerminationMode::Expiry => Text::EndedByExpiry,
        },
    )
}

/// `2026-12-04T10:00:00Z` as `2026-12-04 10:00 UTC`.
pub fn when(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(d), Some(t)) => format!("{d} {t} UTC"),
        _ => rfc3339.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_exists_in_both_languages() {
        for &text in Text::ALL {
            let (zh, en) = (t(Lang::Zh, text), t(Lang::En, text));
            assert!(!zh.is_empty() && !en.is_empty(), "{text:?}");
            assert_ne!(zh, en, "{text:?}");
        }
    }

    #[test]
    fn phrases() {
        assert_eq!(how_often(Lang::En, 2, Period::Month), "At most 2 per month");
        assert_eq!(how_often(Lang::Zh, 1, Period::Week), "每周最多 1 次");
        assert_eq!(term(Lang::En, 365), "365 days after you sign");
        assert_eq!(when("2026-12-04T10:00:00Z"), "2026-12-04 10:00 UTC");
        assert_eq!(when("x"), "x");
    }
}
