use crate::i18n::{t, Lang, Text};
use paydesk_shared::api::PayMethod;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct MethodPickerProps {
    pub methods: Vec<PayMethod>,
    pub selected: PayMethod,
    pub disabled: bool,
    pub lang: Lang,
    pub on_select: Callback<PayMethod>,
}

pub fn method_label(lang: Lang, m: PayMethod) -> &'static str {
    match m {
        PayMethod::Balance => t(lang, Text::Balance),
        PayMethod::BankCard => t(lang, Text::BankCard),
        PayMethod::CreditCard => t(lang, Text::CreditCard),
    }
}

/// The allowed methods as a radio group; the selected one first in tab order.
#[function_component]
pub fn MethodPicker(props: &MethodPickerProps) -> Html {
    html! {
        <fieldset class="pd-methods" disabled={props.disabled}>
            <legend>{ t(props.lang, Text::ChooseMethod) }</legend>
            { for props.methods.iter().map(|&m| {
                let on_select = props.on_select.clone();
                let onchange = Callback::from(move |_: Event| on_select.emit(m));
                let id = format!("pd-method-{}", m.as_str());
                html! {
                    <label class={classes!("pd-method", (m == props.selected).then_some("pd-selected"))} for={id.clone()}>
                        <input type="radio" name="method" id={id} value={m.as_str()}
                               checked={m == props.selected} {onchange} />
                        <span>{ method_label(props.lang, m) }</span>
                    </label>
                }
            }) }
        </fieldset>
    }
}
