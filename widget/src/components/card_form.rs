use crate::i18n::{field_error, t, Lang, Text};
use crate::state::CardFields;
use paydesk_shared::api::PayMethod;
use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct CardFormProps {
    pub method: PayMethod,
    pub card: CardFields,
    pub wallet: String,
    pub disabled: bool,
    pub lang: Lang,
    /// The field to fix and the reason key, from the last submit.
    pub error: Option<(&'static str, &'static str)>,
    pub on_number: Callback<String>,
    pub on_expiry: Callback<String>,
    pub on_cvc: Callback<String>,
    pub on_wallet: Callback<String>,
}

fn value_of(e: InputEvent) -> String {
    e.target_unchecked_into::<HtmlInputElement>().value()
}

/// Card entry (number grouped as typed, MM/YY, CVC) with the numeric keyboard and autofill
/// hints, or the sandbox wallet choice for `balance`.
#[function_component]
pub fn CardForm(props: &CardFormProps) -> Html {
    let lang = props.lang;
    // Both the wallet choice and the card fields are always in the document, so the form works
    // without JavaScript; the stylesheet shows the one the checked method needs.
    let on_wallet = props.on_wallet.clone();
    let onchange = Callback::from(move |e: Event| {
        on_wallet.emit(e.target_unchecked_into::<HtmlInputElement>().value())
    });
    let wallets = html! {
        <fieldset class="pd-wallets" disabled={props.disabled} data-active={(props.method == PayMethod::Balance).to_string()}>
            <legend>{ t(lang, Text::SandboxWallet) }</legend>
            <label class="pd-wallet">
                <input type="radio" name="wallet" value="wallet_ok" checked={props.wallet == "wallet_ok"} onchange={onchange.clone()} />
                <span>{ t(lang, Text::WalletOk) }</span>
            </label>
            <label class="pd-wallet">
                <input type="radio" name="wallet" value="wallet_low" checked={props.wallet == "wallet_low"} {onchange} />
                <span>{ t(lang, Text::WalletLow) }</span>
            </label>
        </fieldset>
    };
    let err = |field: &str| {
        props
            .error
            .filter(|(f, _)| *f == field)
            .map(|(_, k)| field_error(lang, k))
    };
    let (on_number, on_expiry, on_cvc) = (
        props.on_number.clone(),
        props.on_expiry.clone(),
        props.on_cvc.clone(),
    );
    let field = |id: &'static str, label: Text, input: Html, error: Option<&'static str>| {
        html! {
            <div class={classes!("pd-field", error.is_some().then_some("pd-invalid"))}>
                <label for={id}>{ t(lang, label) }</label>
                { input }
                if let Some(msg) = error {
                    <p class="pd-field-error" id={format!("{id}-error")} role="alert">{ msg }</p>
                }
            </div>
        }
    };
    html! {
        <>
        { wallets }
        <fieldset class="pd-card-fields" disabled={props.disabled} data-active={(props.method != PayMethod::Balance).to_string()}>
            { field("pd-card-number", Text::CardNumber, html! {
                <input id="pd-card-number" name="card_number" type="text" inputmode="numeric"
                       autocomplete="cc-number" placeholder="1234 5678 9012 3456" maxlength="23"
                       aria-invalid={err("number").is_some().to_string()}
                       aria-describedby={err("number").map(|_| "pd-card-number-error")}
                       value={props.card.number.clone()}
                       oninput={Callback::from(move |e| on_number.emit(value_of(e)))} />
            }, err("number")) }
            <div class="pd-row">
                { field("pd-card-exp", Text::Expiry, html! {
                    <input id="pd-card-exp" name="card_exp" type="text" inputmode="numeric"
                           autocomplete="cc-exp" placeholder="MM/YY" maxlength="5"
                           aria-invalid={err("expiry").is_some().to_string()}
                           value={props.card.expiry.clone()}
                           oninput={Callback::from(move |e| on_expiry.emit(value_of(e)))} />
                }, err("expiry")) }
                { field("pd-card-cvc", Text::Cvc, html! {
                    <input id="pd-card-cvc" name="card_cvc" type="text" inputmode="numeric"
                           autocomplete="cc-csc" placeholder="123" maxlength="4"
                           aria-invalid={err("cvc").is_some().to_string()}
                           value={props.card.cvc.clone()}
                           oninput={Callback::from(move |e| on_cvc.emit(value_of(e)))} />
                }, err("cvc")) }
            </div>
        </fieldset>
        </>
    }
}
