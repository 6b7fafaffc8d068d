use crate::i18n::{t, Lang, Text};
use paydesk_shared::installment::PartOfPlan;
use paydesk_shared::Money;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct AmountProps {
    pub amount: Money,
    pub description: String,
    pub out_trade_no: String,
    #[prop_or_default]
    pub installment: Option<PartOfPlan>,
    pub lang: Lang,
}

/// "Part 2 of 3 (balance) · ¥8,000.00 left after this part", in the page's language.
fn part_line(lang: Lang, p: &PartOfPlan) -> (String, String) {
    let label = p
        .label
        .as_deref()
        .map(|l| format!(" · {l}"))
        .unwrap_or_default();
    let last = p.remaining_after.total == 0;
    match lang {
        Lang::Zh => (
            format!("分期付款：第 {} 期，共 {} 期{label}", p.part, p.parts),
            if last {
                "这是最后一期".to_owned()
            } else {
                format!("本期付款后还需支付 {}", p.remaining_after)
            },
        ),
        Lang::En => (
            format!("Installments: part {} of {}{label}", p.part, p.parts),
            if last {
                "This is the last part".to_owned()
            } else {
                format!("{} left to pay after this part", p.remaining_after)
            },
        ),
    }
}

/// What the payer pays and for what: the amount large, the description, the order number.
#[function_component]
pub fn Amount(props: &AmountProps) -> Html {
    html! {
        <section class="pd-order" aria-label={t(props.lang, Text::AmountDue)}>
            <p class="pd-amount-label">{ t(props.lang, Text::AmountDue) }</p>
            <p class="pd-amount" data-testid="amount">{ props.amount.to_string() }</p>
            <p class="pd-description">{ &props.description }</p>
            if let Some(p) = &props.installment {
                <p class="pd-part" data-testid="installment">
                    { part_line(props.lang, p).0 }<br />{ part_line(props.lang, p).1 }
                </p>
            }
            <p class="pd-order-no">
                { t(props.lang, Text::OrderNo) }{ " " }<span>{ &props.out_trade_no }</span>
            </p>
        </section>
    }
}
