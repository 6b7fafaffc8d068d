//! Every string the pay page shows, in Simplified Chinese and English, from one table.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// From a BCP 47 tag such as `navigator.language`: any `zh*` is Chinese, the rest English.
    pub fn from_tag(tag: &str) -> Lang {
        let t = tag.as_bytes();
        if t.len() >= 2 && t[..2].eq_ignore_ascii_case(b"zh") && (t.len() == 2 || t[2] == b'-') {
            Lang::Zh
        } else {
            Lang::En
        }
    }

    /// The browser's preferred language.
    pub fn detect() -> Lang {
        web_sys::window()
            .and_then(|w| w.navigator().language())
            .map_or(Lang::Zh, |tag| Lang::from_tag(&tag))
    }

    pub fn html_tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    PayTo,
    AmountDue,
    OrderNo,
    MerchantLogo,
}

pub fn t(lang: Lang, text: Text) -> &'static str {
    use Text::*;
    match (lang, text) {
        (Lang::Zh, PayTo) => "付款给",
        (Lang::En, PayTo) => "Pay to",
        (Lang::Zh, AmountDue) => "应付金额",
        (Lang::En, AmountDue) => "Amount due",
        (Lang::Zh, OrderNo) => "订单号",
        (Lang::En, OrderNo) => "Order no.",
        (Lang::Zh, MerchantLogo) => "商户标志",
        (Lang::En, MerchantLogo) => "Merchant logo",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_from_browser_tag() {
        for zh in ["zh", "zh-CN", "zh-Hans-CN", "ZH-tw"] {
            assert_eq!(Lang::from_tag(zh), Lang::Zh, "{zh}");
        }
        for en in ["en", "en-US", "fr", "", "z", "zhx"] {
            assert_eq!(Lang::from_tag(en), Lang::En, "{en}");
        }
    }

    #[test]
    fn every_text_exists_in_both_languages() {
        use Text::*;
        for text in [PayTo, AmountDue, OrderNo, MerchantLogo] {
            let (zh, en) = (t(Lang::Zh, text), t(Lang::En, text));
            assert!(!zh.is_empty() && !en.is_empty());
            assert_ne!(zh, en);
        }
    }
}
