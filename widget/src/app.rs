//! The pay page's layout: the state, the hooks that act on it, and the components it shows.

use crate::components::{Amount, CardForm, Countdown, Guarantee, Header, MethodPicker, Outcome};
use crate::hooks::{
    use_embed_events, use_live_status, use_pay_submission, use_restore, use_ticker, Restore,
    UsePaySubmissionHandle,
};
use crate::i18n::{t, Lang, Text};
use crate::state::{Action, Phase, State};
use paydesk_shared::{OrderStatus, PayPageData};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct AppProps {
    pub data: PayPageData,
    pub lang: Lang,
    /// Starting time (unix ms); the page ticks from there.
    pub now_ms: i64,
    /// Side effects (network, timers, sockets) on: off in component tests that drive the state.
    #[prop_or(true)]
    pub live: bool,
    /// What the payer chose and typed into the server-rendered form before the wasm took over;
    /// hydration renders the server's state, then this is put back.
    #[prop_or_default]
    pub restore: Option<Restore>,
}

/// The pay page.
#[function_component]
pub fn App(props: &AppProps) -> Html {
    let token = props.data.token.clone();
    let state = {
        let data = props.data.clone();
        let (lang, now) = (props.lang, props.now_ms);
        use_reducer(move || State::seeded(&data, lang, now))
    };

    let fresh = props.data.seed.outcome.is_none();
    use_restore(&state, props.restore.clone(), fresh);
    use_ticker(state.dispatcher(), props.live);
    let live_status = use_live_status(token.clone(), state.dispatcher(), props.live);
    let pay = use_pay_submission(&state, token.clone());
    let embed = use_embed_events(
        props.data.embed_origin.clone(),
        state.view.out_trade_no.clone(),
        state.phase.clone(),
    );

    let lang = state.lang;
    let v = &state.view;
    let d = state.dispatcher();
    let show_form = matches!(
        state.phase,
        Phase::Ready | Phase::Submitting | Phase::Failed { .. } | Phase::NetworkLost
    );
    let form = show_form.then(|| pay_form(&state, &token, &pay));
    let on_retry = {
        let (d, retry_same) = (d.clone(), state.retry_resends());
        Callback::from(move |_| {
            if retry_same {
                pay.submit();
            } else {
                d.dispatch(Action::Dismiss);
            }
        })
    };
    let on_refresh = Callback::from(move |_| live_status.refresh());
    let on_return = Callback::from(move |_| embed.return_to_merchant());
    let switch_lang = {
        let d = d.clone();
        Callback::from(move |e: MouseEvent| {
            e.prevent_default();
            d.dispatch(Action::SetLang(lang.other()))
        })
    };

    html! {
        <div class="pd-card" lang={lang.html_tag()} data-status={v.status.as_str()}>
            <div class="pd-topbar">
                if props.data.sandbox {
                    <span class="pd-sandbox">{ t(lang, Text::SandboxNotice) }</span>
                }
                <a class="pd-lang" data-testid="lang" role="button" onclick={switch_lang}
                   href={format!("?lang={}", lang.other().code())}
                   lang={lang.other().html_tag()}>{ t(lang, Text::SwitchLanguage) }</a>
            </div>
            <Header branding={v.merchant.clone()} {lang} />
            <Amount amount={v.amount} description={v.description.clone()} out_trade_no={v.out_trade_no.clone()}
                    installment={v.installment.clone()} {lang} />
            if show_form && matches!(v.status, OrderStatus::NotPay | OrderStatus::PayError) {
                <Countdown seconds_left={state.seconds_left()} {lang} />
            }
            <div aria-live="polite" class="pd-live">
                <Outcome phase={state.phase.clone()} status={v.status} expired={state.expired()}
                         amount={v.amount} out_trade_no={v.out_trade_no.clone()} return_url={None::<String>}
                         review_hours={v.in_review.then_some(v.review_hours)}
                         {lang} {on_retry} {on_refresh} {on_return} />
            </div>
            { for form }
        </div>
    }
}

/// The pay form. A real HTML form: before (or without) the wasm it posts to the worker, which
/// answers with the page rendered again.
fn pay_form(state: &UseReducerHandle<State>, token: &str, pay: &UsePaySubmissionHandle) -> Html {
    let (lang, v, d) = (state.lang, &state.view, state.dispatcher());
    let busy = matches!(state.phase, Phase::Submitting | Phase::Confirming);
    let onsubmit = {
        let pay = pay.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            pay.submit();
        })
    };
    let dm = |f: fn(String) -> Action| {
        let d = d.clone();
        Callback::from(move |s: String| d.dispatch(f(s)))
    };
    html! {
        <form class="pd-form" id="pd-form" method="post" novalidate=true {onsubmit}
              action={format!("/pay/{token}?lang={}", lang.code())}>
            <input type="hidden" name="submission_key" value={state.form_key.clone()} />
            <MethodPicker methods={state.methods()} selected={state.method} disabled={busy} {lang}
                          on_select={{ let d = d.clone(); Callback::from(move |m| d.dispatch(Action::SelectMethod(m))) }} />
            <CardForm method={state.method} card={state.card.clone()} wallet={state.wallet.clone()}
                      disabled={busy} {lang} error={state.field_error}
                      on_number={dm(Action::EditCardNumber)} on_expiry={dm(Action::EditExpiry)}
                      on_cvc={dm(Action::EditCvc)} on_wallet={dm(Action::SelectWallet)} />
            <Guarantee custom={v.merchant.guarantee_text.clone()} escrow={v.escrow()} {lang} />
            <button type="submit" class="pd-button pd-pay" data-testid="pay"
                    disabled={!state.can_pay()} aria-busy={busy.to_string()}>
                if busy {
                    <span class="pd-spinner" aria-hidden="true"></span>{ t(lang, Text::Paying) }
                } else {
                    { t(lang, Text::Pay) }{ " " }{ v.amount.to_string() }
                }
            </button>
        </form>
    }
}
