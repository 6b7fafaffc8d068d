use crate::components::{Amount, Header};
use crate::i18n::Lang;
use paydesk_shared::CheckoutView;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct AppProps {
    pub view: CheckoutView,
    pub lang: Lang,
}

/// The pay page.
#[function_component]
pub fn App(props: &AppProps) -> Html {
    let v = &props.view;
    html! {
        <div class="pd-card" lang={props.lang.html_tag()}>
            <Header branding={v.merchant.clone()} lang={props.lang} />
            <Amount amount={v.amount} description={v.description.clone()}
                    out_trade_no={v.out_trade_no.clone()} lang={props.lang} />
        </div>
    }
}
