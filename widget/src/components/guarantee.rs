use crate::i18n::{t, Lang, Text};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct GuaranteeProps {
    /// The merchant's own wording (capped at the admin API), else the platform's.
    pub custom: Option<String>,
    pub lang: Lang,
}

/// The reassurance next to the pay button: funds held until delivery, refunds anytime.
#[function_component]
pub fn Guarantee(props: &GuaranteeProps) -> Html {
    let text = props
        .custom
        .clone()
        .unwrap_or_else(|| t(props.lang, Text::Guarantee).to_owned());
    html! {
        <p class="pd-guarantee" data-testid="guarantee">
            <svg class="pd-shield" viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
                <path d="M12 2 4 5v6c0 5 3.4 9.6 8 11 4.6-1.4 8-6 8-11V5z" fill="currentColor"/>
            </svg>
            { text }
        </p>
    }
}
