use crate::i18n::Lang;
use paydesk_shared::checkout::EscrowTerms;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct GuaranteeProps {
    /// The merchant's own words (capped at the admin API), shown after the platform's.
    pub custom: Option<String>,
    pub escrow: EscrowTerms,
    pub lang: Lang,
}

/// The platform's promise, made only from what the merchant's settings do: money held until
/// delivery or `release_days`, refunded by itself when the merchant has an automatic refund.
fn promise(lang: Lang, e: EscrowTerms) -> String {
    let d = e.release_days;
    let (held, after) = match lang {
        Lang::Zh => (
            format!("资金由平台托管，商家确认发货或付款 {d} 天后才转给商家；"),
            ["", "小时内未发货将自动全额退款。", "如不满意，可向商家申请退款。"],
        ),
        Lang::En => (
            format!("Your money is held by the platform until the merchant confirms delivery, for at most {d} days. "),
            ["Not delivered within ", " hours? It is refunded in full by itself.", "Not satisfied? Ask the merchant for a refund."],
        ),
    };
    match e.auto_refund_hours {
        Some(h) => format!("{held}{}{h}{}", after[0], after[1]),
        None => held + after[2],
    }
}

/// The reassurance next to the pay button.
#[function_component]
pub fn Guarantee(props: &GuaranteeProps) -> Html {
    let mut text = promise(props.lang, props.escrow);
    if let Some(own) = &props.custom {
        text.push(' ');
        text.push_str(own);
    }
    html! {
        <p class="pd-guarantee" data-testid="guarantee">
            <svg class="pd-shield" viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
                <path d="M12 2 4 5v6c0 5 3.4 9.6 8 11 4.6-1.4 8-6 8-11V5z" fill="currentColor"/>
            </svg>
            { text }
        </p>
    }
}
