//! The pay form: a real HTML form that posts to the worker before (or without) the wasm, and
//! that the wasm takes over. Pure: markup from the state.

use super::markup::Markup;
use super::order::guarantee;
use crate::i18n::{field_error, method_label, t, Lang, Text};
use crate::state::{CardFields, Phase, State};
use paydesk_shared::api::PayMethod;

/// The instrument part of a form, as the pay and the contract pages both show it: the method,
/// the sandbox wallet and the card fields.
pub struct Entry<'a> {
    pub lang: Lang,
    pub methods: &'a [PayMethod],
    pub method: PayMethod,
    pub wallet: &'a str,
    pub card: &'a CardFields,
    /// The card field to fix and the reason key.
    pub field_error: Option<(&'static str, &'static str)>,
    /// While a submission is out: nothing can be changed.
    pub busy: bool,
}

/// The method choice, the wallet choice and the card fields for `e`.
pub fn instrument(m: &mut Markup, e: &Entry) {
    methods(m, e);
    wallets(m, e);
    card_fields(m, e);
}

/// The form for `state`, posting to `/pay/{token}`.
pub fn pay_form(m: &mut Markup, s: &State, f: &super::Frame) {
    let (lang, v) = (s.lang, &s.view);
    let busy = matches!(s.phase, Phase::Submitting | Phase::Confirming);
    m.raw("<form id=\"pd-form\" method=\"post\"")
        .attr(
            "action",
            &format!("/pay/{}?lang={}{}", f.token, lang.code(), f.embed_query),
        )
        .raw(" novalidate=\"novalidate\" class=\"pd-form\"><input")
        .attr("value", &s.form_key)
        .raw(" type=\"hidden\" name=\"submission_key\">");
    instrument(
        m,
        &Entry {
            lang,
            methods: &s.methods(),
            method: s.method,
            wallet: &s.wallet,
            card: &s.card,
            field_error: s.field_error,
            busy,
        },
    );
    guarantee(m, lang, v.escrow(), v.merchant.guarantee_text.as_deref());
    m.raw("<button type=\"submit\" data-testid=\"pay\"")
        .flag("disabled", !s.can_pay())
        .attr("aria-busy", if busy { "true" } else { "false" })
        .raw(" class=\"pd-button pd-pay\">");
    if busy {
        m.raw("<span aria-hidden=\"true\" class=\"pd-spinner\"></span>")
            .text(t(lang, Text::Paying));
    } else {
        m.text(t(lang, Text::Pay))
            .raw(" ")
            .text(&v.amount.to_string());
    }
    m.raw("</button></form>");
}

/// The allowed methods as a radio group.
fn methods(m: &mut Markup, s: &Entry) {
    m.raw("<fieldset")
        .flag("disabled", s.busy)
        .raw(" class=\"pd-methods\"><legend>")
        .text(t(s.lang, Text::ChooseMethod))
        .raw("</legend>");
    for &method in s.methods {
        let on = method == s.method;
        let id = format!("pd-method-{}", method.as_str());
        m.raw("<label")
            .attr("for", &id)
            .raw(if on {
                " class=\"pd-method pd-selected\"><input"
            } else {
                " class=\"pd-method\"><input"
            })
            .attr("value", method.as_str())
            .flag("checked", on)
            .raw(" type=\"radio\" name=\"method\"")
            .attr("id", &id)
            .raw("><span>")
            .text(method_label(s.lang, method))
            .raw("</span></label>");
    }
    m.raw("</fieldset>");
}

/// The sandbox wallet choice for `balance`. It and the card fields are both always in the
/// document, so the form works without JavaScript; the stylesheet shows the one the checked
/// method needs (`data-active`).
fn wallets(m: &mut Markup, s: &Entry) {
    let active = s.method == PayMethod::Balance;
    m.raw("<fieldset")
        .flag("disabled", s.busy)
        .attr("data-active", if active { "true" } else { "false" })
        .raw(" class=\"pd-wallets\"><legend>")
        .text(t(s.lang, Text::SandboxWallet))
        .raw("</legend>");
    for (value, label) in [
        ("wallet_ok", Text::WalletOk),
        ("wallet_low", Text::WalletLow),
    ] {
        m.raw("<label class=\"pd-wallet\"><input")
            .attr("value", value)
            .flag("checked", s.wallet == value)
            .raw(" type=\"radio\" name=\"wallet\"><span>")
            .text(t(s.lang, label))
            .raw("</span></label>");
    }
    m.raw("</fieldset>");
}

/// One card input: `(id, name, label, autocomplete, placeholder, maxlength, error key)`.
struct Field {
    id: &'static str,
    name: &'static str,
    label: Text,
    autocomplete: &'static str,
    placeholder: &'static str,
    maxlength: &'static str,
    error: &'static str,
}

const NUMBER: Field = Field {
    id: "pd-card-number",
    name: "card_number",
    label: Text::CardNumber,
    autocomplete: "cc-number",
    placeholder: "1234 5678 9012 3456",
    maxlength: "23",
    error: "number",
};
const EXPIRY: Field = Field {
    id: "pd-card-exp",
    name: "card_exp",
    label: Text::Expiry,
    autocomplete: "cc-exp",
    placeholder: "MM/YY",
    maxlength: "5",
    error: "expiry",
};
const CVC: Field = Field {
    id: "pd-card-cvc",
    name: "card_cvc",
    label: Text::Cvc,
    autocomplete: "cc-csc",
    placeholder: "123",
    maxlength: "4",
    error: "cvc",
};

/// Card entry: number grouped as typed, MM/YY, CVC, with the numeric keyboard and autofill
/// hints; the field to fix says why.
fn card_fields(m: &mut Markup, s: &Entry) {
    m.raw("<fieldset")
        .flag("disabled", s.busy)
        .attr(
            "data-active",
            if s.method != PayMethod::Balance {
                "true"
            } else {
                "false"
            },
        )
        .raw(" class=\"pd-card-fields\">");
    field(m, s, &NUMBER, &s.card.number);
    m.raw("<div class=\"pd-row\">");
    field(m, s, &EXPIRY, &s.card.expiry);
    field(m, s, &CVC, &s.card.cvc);
    m.raw("</div></fieldset>");
}

fn field(m: &mut Markup, s: &Entry, f: &Field, value: &str) {
    let error = s
        .field_error
        .filter(|(name, _)| *name == f.error)
        .map(|(_, key)| field_error(s.lang, key));
    m.raw(if error.is_some() {
        "<div class=\"pd-field pd-invalid\"><label"
    } else {
        "<div class=\"pd-field\"><label"
    })
    .attr("for", f.id)
    .raw(">")
    .text(t(s.lang, f.label))
    .raw("</label><input")
    .attr("value", value)
    .attr("id", f.id)
    .attr("name", f.name)
    .raw(" type=\"text\" inputmode=\"numeric\"")
    .attr("autocomplete", f.autocomplete)
    .attr("placeholder", f.placeholder)
    .attr("maxlength", f.maxlength)
    .attr(
        "aria-invalid",
        if error.is_some() { "true" } else { "false" },
    );
    // A screen reader reads the reason with the field.
    if error.is_some() {
        m.attr("aria-describedby", &format!("{}-error", f.id));
    }
    m.raw(">");
    if let Some(msg) = error {
        m.raw("<p")
            .attr("id", &format!("{}-error", f.id))
            .raw(" role=\"alert\" class=\"pd-field-error\">")
            .text(msg)
            .raw("</p>");
    }
    m.raw("</div>");
}
