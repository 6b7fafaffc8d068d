use crate::i18n::{t, Lang, Text};
use paydesk_shared::Money;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct AmountProps {
    pub amount: Money,
    pub description: String,
    pub out_trade_no: String,
    pub lang: Lang,
}

/// What the payer pays and for what: the amount large, the description, the order number.
#[function_component]
pub fn Amount(props: &AmountProps) -> Html {
    html! {
        <section class="pd-order" aria-label={t(props.lang, Text::AmountDue)}>
            <p class="pd-amount-label">{ t(props.lang, Text::AmountDue) }</p>
            <p class="pd-amount" data-testid="amount">{ props.amount.to_string() }</p>
            <p class="pd-description">{ &props.description }</p>
            <p class="pd-order-no">
                { t(props.lang, Text::OrderNo) }{ " " }<span>{ &props.out_trade_no }</span>
            </p>
        </section>
    }
}
