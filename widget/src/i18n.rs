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

    /// The page's language for a request: `?lang=` if given, else the first language of the
    /// `Accept-Language` header, else Chinese. The worker renders in it; the widget hydrates in it.
    pub fn negotiate(query_lang: Option<&str>, accept_language: Option<&str>) -> Lang {
        let first = |h: &str| {
            h.split(',')
                .next()
                .unwrap_or("")
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_owned()
        };
        match (query_lang, accept_language.map(first)) {
            (Some(q), _) if !q.is_empty() => Lang::from_tag(q),
            (_, Some(a)) if !a.is_empty() && a != "*" => Lang::from_tag(&a),
            _ => Lang::Zh,
        }
    }

    /// `zh` or `en`, as [`RenderSeed::lang`](paydesk_shared::RenderSeed) carries it.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    pub fn html_tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }
}

macro_rules! texts {
    ($($name:ident => $zh:literal, $en:literal;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Text { $($name),* }

        impl Text {
            pub const ALL: &'static [Text] = &[$(Text::$name),*];
        }

        pub fn t(lang: Lang, text: Text) -> &'static str {
            match (lang, text) {
                $((Lang::Zh, Text::$name) => $zh, (Lang::En, Text::$name) => $en,)*
            }
        }
    };
}
/// Another page's own table (the contract page's), so the pay page's wasm does not carry it.
pub(crate) use texts;

texts! {
    PayTo => "付款给", "Pay to";
    AmountDue => "应付金额", "Amount due";
    OrderNo => "订单号", "Order no.";
    MerchantLogo => "商户标志", "Merchant logo";
    TimeLeft => "剩余支付时间", "Time left to pay";
    Expired => "订单已过期，无法继续付款", "This order has expired and can no longer be paid";
    ChooseMethod => "选择付款方式", "Choose how to pay";
    Balance => "钱包余额", "Wallet balance";
    BankCard => "银行卡", "Bank card";
    CreditCard => "信用卡", "Credit card";
    SandboxWallet => "测试钱包", "Test wallet";
    WalletOk => "余额充足", "Enough balance";
    WalletLow => "余额不足", "Not enough balance";
    CardNumber => "卡号", "Card number";
    Expiry => "有效期 (月/年)", "Expiry (MM/YY)";
    Cvc => "安全码", "Security code";
    CardNumberInvalid => "请检查卡号", "Check the card number";
    CardExpiryInvalid => "请按 月/年 填写有效期", "Enter the expiry as MM/YY";
    CardCvcInvalid => "安全码为 3 或 4 位数字", "The security code is 3 or 4 digits";
    Pay => "确认付款", "Pay";
    Paying => "正在付款…", "Paying…";
    Confirming => "银行处理中，请稍候…", "Your bank is confirming the payment…";
    PaidTitle => "付款成功", "Payment successful";
    RefundedNote => "这笔付款已退款（全部或部分），退款详情见电子凭证。", "This payment has been refunded, in full or in part: the receipt has the details.";
    Receipt => "电子凭证", "Receipt";
    ReturnToMerchant => "返回商家", "Return to merchant";
    RefreshStatus => "刷新状态", "Refresh status";
    TryAgain => "重试", "Try again";
    ReenterCard => "请在下方重新输入卡信息，然后再次付款。", "Enter the card again below, then pay again.";
    SwitchMethod => "请换一种付款方式", "Please choose another way to pay";
    RetryHint => "这通常是暂时的问题，可以再试一次。", "This is usually temporary; you can try again.";
    FailedTitle => "付款未成功", "The payment did not go through";
    NetworkLost => "未收到付款结果，填写的信息仍在；请重试，不会重复扣款。",
        "No answer came back. Your entries are kept; try again: you will not be charged twice.";
    AwaitingApproval => "等待商家确认后即可付款", "Awaiting the merchant's confirmation before you can pay";
    Closed => "订单已关闭，未扣款；如需购买请向商家重新下单", "Closed unpaid, nothing charged. To buy, order again from the merchant.";
    AlreadyPaid => "此订单已付款", "This order is already paid";
    NothingCharged => "未扣款。", "You have not been charged.";
    InReviewBefore => "已付款，商户审核中：", "Paid; the merchant is reviewing it. Not approved within ";
    InReviewAfter => "小时内未通过将全额退款。", " hours, it is refunded in full.";
    // A risk rule's block, a frozen merchant, a live one without a channel: nothing the payer
    // can fix by retrying.
    CannotCollect => "商户无法接受这笔付款，请联系商户。", "The merchant cannot accept this payment; please contact them.";
    LimitToday => "商户今日收款已达上限，请明天再试或联系商户。", "The merchant cannot take more payments today; try again tomorrow or contact them.";
    NotCompleted => "这笔付款现在无法完成，请稍后再试或联系商户。", "This payment cannot be completed just now; try again later or contact the merchant.";
    CardDeclined => "银行拒绝了这张卡。", "The bank declined this card.";
    InsufficientFunds => "余额不足。", "There are not enough funds.";
    ExpiredCard => "这张卡已过期。", "This card has expired.";
    ProcessingError => "银行暂时无法处理这笔付款。", "The bank could not process the payment just now.";
    SwitchLanguage => "English", "中文";
    SandboxNotice => "测试环境：不会产生真实扣款", "Sandbox: no real money moves";
}

/// The plain-words reason for a decline code from the channel.
pub fn decline_reason(lang: Lang, code: &str) -> &'static str {
    let text = match code {
        "CARD_DECLINED" => Text::CardDeclined,
        "INSUFFICIENT_FUNDS" => Text::InsufficientFunds,
        "EXPIRED_CARD" => Text::ExpiredCard,
        "PROCESSING_ERROR" => Text::ProcessingError,
        "ORDER_CLOSED" => Text::Closed,
        "ORDER_PAID" => Text::AlreadyPaid,
        "PENDING_APPROVAL" => Text::AwaitingApproval,
        "RISK_BLOCKED"
        | "MERCHANT_FROZEN"
        | "CHANNEL_NOT_CONFIGURED"
        | "ACCOUNT_NOT_ALLOWED"
        | "ACCOUNT_DORMANT" => Text::CannotCollect,
        "DAILY_LIMIT_EXCEEDED" => Text::LimitToday,
        // Not the failure title again beneath itself: a reason, and what to do.
        _ => Text::NotCompleted,
    };
    t(lang, text)
}

/// A payment method's name.
pub fn method_label(lang: Lang, m: paydesk_shared::api::PayMethod) -> &'static str {
    use paydesk_shared::api::PayMethod;
    match m {
        PayMethod::Balance => t(lang, Text::Balance),
        PayMethod::BankCard => t(lang, Text::BankCard),
        PayMethod::CreditCard => t(lang, Text::CreditCard),
    }
}

/// The field error keys of `State::field_error`.
pub fn field_error(lang: Lang, key: &str) -> &'static str {
    match key {
        "card_number_invalid" => t(lang, Text::CardNumberInvalid),
        "card_expiry_invalid" => t(lang, Text::CardExpiryInvalid),
        _ => t(lang, Text::CardCvcInvalid),
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
    fn language_for_a_request() {
        assert_eq!(
            Lang::negotiate(Some("en"), Some("zh-CN,zh;q=0.9")),
            Lang::En
        );
        assert_eq!(
            Lang::negotiate(None, Some("en-GB,en;q=0.9,zh;q=0.8")),
            Lang::En
        );
        assert_eq!(Lang::negotiate(Some(""), Some("zh-TW;q=1")), Lang::Zh);
        assert_eq!(Lang::negotiate(None, Some("*")), Lang::Zh);
        assert_eq!(Lang::negotiate(None, None), Lang::Zh);
        assert_eq!(Lang::from_tag(Lang::En.code()), Lang::En);
        assert_eq!(Lang::from_tag(Lang::Zh.code()), Lang::Zh);
    }

    #[test]
    fn every_text_exists_in_both_languages() {
        for &text in Text::ALL {
            let (zh, en) = (t(Lang::Zh, text), t(Lang::En, text));
            assert!(!zh.is_empty() && !en.is_empty(), "{text:?}");
            assert_ne!(zh, en, "{text:?}");
        }
    }

    #[test]
    fn every_decline_has_plain_words() {
        for code in [
            "CARD_DECLINED",
            "INSUFFICIENT_FUNDS",
            "EXPIRED_CARD",
            "PROCESSING_ERROR",
            "RISK_BLOCKED",
            "MERCHANT_FROZEN",
            "CHANNEL_NOT_CONFIGURED",
            "ACCOUNT_NOT_ALLOWED",
            "ACCOUNT_DORMANT",
            "DAILY_LIMIT_EXCEEDED",
            "SOMETHING_NEW",
        ] {
            assert_ne!(
                decline_reason(Lang::En, code),
                t(Lang::En, Text::FailedTitle)
            );
        }
    }
}
