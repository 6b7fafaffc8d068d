//! The contract page's layout: the terms the payer authorises, the signing form (a real HTML
//! form: it posts to the worker without JavaScript; with it, entries are checked before they
//! are sent), and the signed, ended and expired states with the way to end it.

use super::text::{ended_by, how_often, t, term, when, Text};
use crate::components::{CardForm, Header, MethodPicker};
use crate::i18n::{self, Lang};
use crate::state::{instrument_request, CardFields, FIELD_ERRORS};
use paydesk_shared::api::PayMethod;
use paydesk_shared::contract::{ContractPageData, ContractProblem, ContractStatus, ContractView};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ContractAppProps {
    pub data: ContractPageData,
    pub lang: Lang,
}

/// The contract page.
#[function_component]
pub fn ContractApp(props: &ContractAppProps) -> Html {
    let (data, lang) = (&props.data, props.lang);
    let v = &data.view;
    let other = lang.other();
    html! {
        <div class="pd-card pd-contract" lang={lang.html_tag()} data-contract-status={v.status.as_str()}>
            <div class="pd-topbar">
                if data.sandbox {
                    <span class="pd-sandbox">{ i18n::t(lang, i18n::Text::SandboxNotice) }</span>
                }
                <a class="pd-lang" data-testid="lang" href={format!("?lang={}", other.code())}
                   lang={other.html_tag()}>{ i18n::t(lang, i18n::Text::SwitchLanguage) }</a>
            </div>
            <Header branding={v.merchant.clone()} {lang} />
            <Terms view={v.clone()} {lang} />
            { state_section(data, lang) }
        </div>
    }
}

fn state_section(data: &ContractPageData, lang: Lang) -> Html {
    let v = &data.view;
    let action = |suffix: &str| format!("/contract/{}{suffix}?lang={}", data.token, lang.code());
    match v.status {
        ContractStatus::Pending => html! {
            <SignForm data={data.clone()} {lang} action={action("")} />
        },
        ContractStatus::Active if data.seed.confirm_end => html! {
            <section class="pd-contract-state" data-testid="confirm-end">
                <h2>{ t(lang, Text::ConfirmEndTitle) }</h2>
                <p>{ t(lang, Text::ConfirmEndBody) }</p>
                <form method="post" action={action("/terminate")}>
                    <input type="hidden" name="confirm" value="yes" />
                    <button type="submit" class="pd-button pd-danger" data-testid="end">{ t(lang, Text::End) }</button>
                </form>
                <a class="pd-link" href={action("")}>{ t(lang, Text::Keep) }</a>
            </section>
        },
        ContractStatus::Active => html! {
            <section class="pd-contract-state" data-testid="signed">
                <h2>{ t(lang, Text::SignedTitle) }</h2>
                <dl class="pd-terms">
                    if let Some(at) = &v.signed_at {
                        <dt>{ t(lang, Text::Since) }</dt><dd>{ when(at) }</dd>
                    }
                    { instrument_row(v, lang) }
                </dl>
                if !v.upcoming.is_empty() {
                    <h3>{ t(lang, Text::Upcoming) }</h3>
                    <ul class="pd-upcoming" data-testid="upcoming">
                        { for v.upcoming.iter().map(|u| html! {
                            <li>{ when(&u.charge_at) }{ " · " }{ u.amount.to_string() }{ " · " }{ &u.description }</li>
                        }) }
                    </ul>
                }
                <p class="pd-muted">{ t(lang, Text::HowToCancel) }</p>
                <a class="pd-button pd-secondary" data-testid="end-link" href={action("/terminate")}>{ t(lang, Text::End) }</a>
            </section>
        },
        ContractStatus::Terminated => html! {
            <section class="pd-contract-state" data-testid="ended">
                <h2>{ t(lang, Text::EndedTitle) }</h2>
                <p>
                    { v.termination_mode.map(|m| ended_by(lang, m)).unwrap_or_default() }
                    { v.terminated_at.as_deref().map(|a| format!(" · {}", when(a))).unwrap_or_default() }
                </p>
                <p>{ t(lang, Text::NoMoreCharges) }</p>
            </section>
        },
        ContractStatus::Expired => html! {
            <section class="pd-contract-state" data-testid="expired">
                <h2>{ t(lang, Text::ExpiredTitle) }</h2>
                <p>{ t(lang, Text::ExpiredBody) }</p>
            </section>
        },
    }
}

fn instrument_row(v: &ContractView, lang: Lang) -> Html {
    let Some(i) = &v.instrument else {
        return Html::default();
    };
    let label = crate::components::method_label(lang, i.method);
    let detail = match &i.card_last4 {
        Some(l4) => format!("{label} · {} {l4}", t(lang, Text::Card)),
        None => label.to_owned(),
    };
    html! { <><dt>{ t(lang, Text::PayWith) }</dt><dd data-testid="instrument">{ detail }</dd></> }
}

#[derive(Properties, PartialEq)]
struct TermsProps {
    view: ContractView,
    lang: Lang,
}

/// Who will charge, for what, how much at most, how often, until when, and how to cancel.
#[function_component]
fn Terms(props: &TermsProps) -> Html {
    let (v, lang) = (&props.view, props.lang);
    let until = match (&v.expires_at, v.contract_days) {
        (Some(at), _) => when(at),
        (None, Some(days)) if v.status == ContractStatus::Pending => term(lang, days),
        _ => t(lang, Text::UntilEnded).to_owned(),
    };
    html! {
        <section class="pd-contract-terms">
            <h2>{ t(lang, Text::Title) }</h2>
            <p><strong>{ &v.merchant.display_name }</strong>{ " " }{ t(lang, Text::Intro) }</p>
            <dl class="pd-terms" data-testid="terms">
                <dt>{ t(lang, Text::Service) }</dt><dd>{ &v.plan_name }</dd>
                <dt>{ t(lang, Text::Account) }</dt><dd>{ &v.display_account }</dd>
                <dt>{ t(lang, Text::AtMost) }</dt>
                <dd data-testid="max-amount">{ v.max_amount_per_deduction.to_string() }</dd>
                <dt>{ t(lang, Text::HowOften) }</dt>
                <dd>{ how_often(lang, v.max_deductions_per_period, v.period) }</dd>
                <dt>{ t(lang, Text::Until) }</dt><dd data-testid="until">{ until }</dd>
                if v.pre_deduction_notice {
                    <dt>{ t(lang, Text::Notice) }</dt><dd>{ t(lang, Text::NoticeText) }</dd>
                }
            </dl>
            if v.status == ContractStatus::Pending {
                <p class="pd-muted" data-testid="how-to-cancel">{ t(lang, Text::HowToCancel) }</p>
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct SignFormProps {
    data: ContractPageData,
    lang: Lang,
    action: String,
}

/// The instrument and the consent. Without JavaScript the form posts as it is; with it, an
/// entry the worker would refuse is pointed out before anything is sent.
#[function_component]
fn SignForm(props: &SignFormProps) -> Html {
    let (seed, lang) = (&props.data.seed, props.lang);
    let method = use_state(|| seed.method.unwrap_or(PayMethod::Balance));
    let wallet = use_state(|| seed.wallet.clone().unwrap_or_else(|| "wallet_ok".into()));
    let card = use_state(CardFields::default);
    let consent = use_state(|| false);
    let problem = use_state(|| seed.problem.clone());
    let now_ms = seed.now_ms;
    let onsubmit = {
        let (method, wallet, card, consent, problem) = (
            method.clone(),
            wallet.clone(),
            card.clone(),
            consent.clone(),
            problem.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            let found = match instrument_request(*method, &wallet, &card, now_ms) {
                Err((field, reason)) => Some(ContractProblem::Field {
                    field: field.into(),
                    reason: reason.into(),
                }),
                Ok(_) if !*consent => Some(ContractProblem::Consent),
                Ok(_) => None,
            };
            if found.is_some() {
                e.prevent_default();
            }
            problem.set(found);
        })
    };
    let edit = |f: fn(&mut CardFields, String)| {
        let card = card.clone();
        Callback::from(move |s: String| {
            let mut c = (*card).clone();
            f(&mut c, s);
            card.set(c);
        })
    };
    let field_error = match &*problem {
        Some(ContractProblem::Field { field, reason }) => FIELD_ERRORS
            .iter()
            .find(|(f, r)| f == field && r == reason)
            .copied(),
        _ => None,
    };
    html! {
        <form class="pd-form" id="pd-contract-form" method="post" novalidate=true action={props.action.clone()} {onsubmit}>
            <p class="pd-muted">{ t(lang, Text::ConfirmBy) }{ " " }{ when(&props.data.view.sign_deadline) }</p>
            <MethodPicker methods={PayMethod::ALL.to_vec()} selected={*method} disabled=false {lang}
                          on_select={{ let method = method.clone(); Callback::from(move |m| method.set(m)) }} />
            <CardForm method={*method} card={(*card).clone()} wallet={(*wallet).clone()} disabled=false {lang}
                      error={field_error}
                      on_number={edit(|c, s| c.number = crate::state::format_card_number(&s))}
                      on_expiry={edit(|c, s| c.expiry = s)} on_cvc={edit(|c, s| c.cvc = s)}
                      on_wallet={{ let wallet = wallet.clone(); Callback::from(move |w| wallet.set(w)) }} />
            <label class={classes!("pd-consent", matches!(*problem, Some(ContractProblem::Consent)).then_some("pd-invalid"))}>
                <input type="checkbox" name="consent" value="yes" data-testid="consent" checked={*consent}
                       onchange={{ let consent = consent.clone(); Callback::from(move |_: Event| consent.set(!*consent)) }} />
                <span>{ t(lang, Text::Consent) }</span>
            </label>
            { problem_note(problem.as_ref(), lang) }
            <button type="submit" class="pd-button pd-pay" data-testid="sign">{ t(lang, Text::Sign) }</button>
        </form>
    }
}

fn problem_note(problem: Option<&ContractProblem>, lang: Lang) -> Html {
    let text = match problem {
        None | Some(ContractProblem::Field { .. }) => return Html::default(),
        Some(ContractProblem::Consent) => t(lang, Text::ConsentMissing).to_owned(),
        Some(ContractProblem::Declined { message }) => {
            format!("{} {message}", t(lang, Text::NotKept))
        }
        Some(ContractProblem::Refused { message, .. }) => message.clone(),
        Some(ContractProblem::Unavailable) => t(lang, Text::Unavailable).to_owned(),
    };
    html! { <p class="pd-problem" role="alert" data-testid="problem">{ text }</p> }
}
