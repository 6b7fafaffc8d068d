use crate::i18n::{t, Lang, Text};
use paydesk_shared::Branding;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct HeaderProps {
    pub branding: Branding,
    pub lang: Lang,
}

/// Who the payer pays: logo, name, registration/filing text. Branding is rendered as text only.
#[function_component]
pub fn Header(props: &HeaderProps) -> Html {
    let b = &props.branding;
    html! {
        <header class="pd-header">
            if let Some(logo) = &b.logo_url {
                <img class="pd-logo" src={logo.clone()} alt={t(props.lang, Text::MerchantLogo)}
                     width="48" height="48" referrerpolicy="no-referrer" />
            }
            <div class="pd-merchant">
                <span class="pd-pay-to">{ t(props.lang, Text::PayTo) }</span>
                <h1 class="pd-merchant-name">{ &b.display_name }</h1>
                if let Some(filing) = &b.filing_text {
                    <p class="pd-filing">{ filing }</p>
                }
            </div>
        </header>
    }
}
