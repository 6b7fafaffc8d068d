use crate::api;
use crate::components::{Amount, CardForm, Countdown, Guarantee, Header, MethodPicker, Outcome};
use crate::i18n::{t, Lang, Text};
use crate::state::{Action, Phase, State};
use paydesk_shared::api::PayMethod;
use paydesk_shared::{OrderStatus, PayOutcome, PayPageData};
use std::time::Duration;
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

/// The form as found in the document just before hydration, and the method this browser last
/// paid with.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Restore {
    pub method: Option<PayMethod>,
    pub wallet: Option<String>,
    pub number: String,
    pub expiry: String,
    pub cvc: String,
    pub remembered: Option<PayMethod>,
}

impl Restore {
    /// The actions that put the payer's entry back over the rendered state `s`. A method the
    /// payer did not change gives way to the remembered one on a fresh page.
    pub fn actions(&self, s: &State, fresh: bool) -> Vec<Action> {
        let mut out = Vec::new();
        match self.method {
            Some(m) if m != s.method => out.push(Action::SelectMethod(m)),
            _ if fresh => out.extend(self.remembered.map(Action::SelectMethod)),
            _ => {}
        }
        if let Some(w) = self.wallet.clone().filter(|w| *w != s.wallet) {
            out.push(Action::SelectWallet(w));
        }
        for (v, f) in [
            (&self.number, Action::EditCardNumber as fn(String) -> Action),
            (&self.expiry, Action::EditExpiry),
            (&self.cvc, Action::EditCvc),
        ] {
            if !v.is_empty() {
                out.push(f(v.clone()));
            }
        }
        out
    }
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

    // After hydration: put back what the payer did before the wasm arrived.
    {
        let dispatch = state.dispatcher();
        let (restore, fresh) = (props.restore.clone(), props.data.seed.outcome.is_none());
        let initial = state.clone();
        use_effect_with((), move |_| {
            if let Some(r) = restore {
                for a in r.actions(&initial, fresh) {
                    dispatch.dispatch(a);
                }
            }
        });
    }

    // The countdown ticks every second.
    {
        let dispatch = state.dispatcher();
        let live = props.live;
        use_effect_with((), move |_| {
            if live {
                yew::platform::spawn_local(async move {
                    loop {
                        yew::platform::time::sleep(Duration::from_secs(1)).await;
                        dispatch.dispatch(Action::Tick(api::now_ms()));
                    }
                });
            }
        });
    }

    // Live status: the socket, and polling with backoff while it is down.
    {
        let dispatch = state.dispatcher();
        let token = token.clone();
        let live = props.live;
        use_effect_with((), move |_| {
            if live {
                connect_live(token, dispatch, 0);
            }
        });
    }

    // Each submission sends one pay request.
    {
        let state = state.clone();
        let token = token.clone();
        use_effect_with(state.submissions, move |&n| {
            if n > 0 && state.phase == Phase::Submitting {
                if let Ok(req) = state.pay_request() {
                    let dispatch = state.dispatcher();
                    let method = state.method;
                    yew::platform::spawn_local(async move {
                        let answer = api::pay(&token, &req).await;
                        if answer == PayOutcome::Paid {
                            api::remember_method(method);
                        }
                        dispatch.dispatch(answer.into());
                    });
                }
            }
        });
    }

    // Tell an embedding page what happened, once per outcome.
    {
        let embed = props.data.embed_origin.clone();
        let otn = state.view.out_trade_no.clone();
        let phase = state.phase.clone();
        use_effect_with(phase, move |phase| {
            if let Some(origin) = embed {
                match phase {
                    Phase::Paid => api::notify_host(&origin, "paid", &otn, None),
                    Phase::Failed { code, .. } => {
                        api::notify_host(&origin, "failed", &otn, Some(code))
                    }
                    Phase::Blocked => {
                        api::notify_host(&origin, "failed", &otn, Some("ORDER_NOT_PAYABLE"))
                    }
                    _ => {}
                }
            }
        });
    }

    let lang = state.lang;
    let v = &state.view;
    let d = state.dispatcher();
    let busy = matches!(state.phase, Phase::Submitting | Phase::Confirming);
    let show_form = matches!(
        state.phase,
        Phase::Ready | Phase::Submitting | Phase::Failed { .. } | Phase::NetworkLost
    );
    let onsubmit = {
        let d = d.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            d.dispatch(Action::Submit {
                key: api::submission_key(),
            });
        })
    };
    let on_retry = {
        let d = d.clone();
        let retry_same = matches!(
            &state.phase,
            Phase::Failed {
                next_step: paydesk_shared::api::NextStep::Retry,
                ..
            } | Phase::NetworkLost
        );
        Callback::from(move |_| {
            if retry_same {
                d.dispatch(Action::Submit {
                    key: api::submission_key(),
                });
            } else {
                d.dispatch(Action::Dismiss);
            }
        })
    };
    let on_refresh = {
        let d = d.clone();
        let token = token.clone();
        Callback::from(move |_| {
            let d = d.clone();
            let token = token.clone();
            yew::platform::spawn_local(async move {
                if let Some(view) = api::status(&token).await {
                    d.dispatch(Action::Status(view.status));
                }
            });
        })
    };
    let on_return = {
        let embed = props.data.embed_origin.clone();
        let otn = v.out_trade_no.clone();
        Callback::from(move |_| match &embed {
            Some(origin) => api::notify_host(origin, "return", &otn, None),
            None => {
                if let Some(w) = web_sys::window() {
                    let _ = w.history().and_then(|h| h.back());
                }
            }
        })
    };
    let switch_lang = {
        let d = d.clone();
        Callback::from(move |e: MouseEvent| {
            e.prevent_default();
            d.dispatch(Action::SetLang(lang.other()))
        })
    };
    let dm = |f: fn(String) -> Action| {
        let d = d.clone();
        Callback::from(move |s: String| d.dispatch(f(s)))
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
            <Amount amount={v.amount} description={v.description.clone()} out_trade_no={v.out_trade_no.clone()} {lang} />
            if show_form && matches!(v.status, OrderStatus::NotPay | OrderStatus::PayError) {
                <Countdown seconds_left={state.seconds_left()} {lang} />
            }
            <div aria-live="polite" class="pd-live">
                <Outcome phase={state.phase.clone()} status={v.status} expired={state.expired()}
                         amount={v.amount} out_trade_no={v.out_trade_no.clone()} return_url={None::<String>}
                         {lang} {on_retry} {on_refresh} {on_return} />
            </div>
            if show_form {
                <form class="pd-form" id="pd-form" method="post" novalidate=true {onsubmit}
                      action={format!("/pay/{token}?lang={}", lang.code())}>
                    <input type="hidden" name="submission_key" value={state.form_key.clone()} />
                    <MethodPicker methods={state.methods()} selected={state.method} disabled={busy} {lang}
                                  on_select={{ let d = d.clone(); Callback::from(move |m| d.dispatch(Action::SelectMethod(m))) }} />
                    <CardForm method={state.method} card={state.card.clone()} wallet={state.wallet.clone()}
                              disabled={busy} {lang} error={state.field_error}
                              on_number={dm(Action::EditCardNumber)} on_expiry={dm(Action::EditExpiry)}
                              on_cvc={dm(Action::EditCvc)} on_wallet={dm(Action::SelectWallet)} />
                    <Guarantee custom={v.merchant.guarantee_text.clone()} {lang} />
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
        </div>
    }
}

/// Opens the live socket; when it drops, polls with backoff and tries the socket again.
fn connect_live(token: String, dispatch: UseReducerDispatcher<State>, attempt: u32) {
    let d_status = dispatch.clone();
    let token_again = token.clone();
    let socket = api::live(
        &token,
        move |st| d_status.dispatch(Action::Status(st)),
        move || {
            yew::platform::spawn_local(async move {
                // Poll once now, then back off 1 s, 2 s, 4 s ... 15 s before the next socket.
                if let Some(view) = api::status(&token_again).await {
                    dispatch.dispatch(Action::Status(view.status));
                }
                let wait = (1u64 << attempt.min(4)).min(15);
                yew::platform::time::sleep(Duration::from_secs(wait)).await;
                if let Some(view) = api::status(&token_again).await {
                    dispatch.dispatch(Action::Status(view.status));
                }
                connect_live(token_again, dispatch, attempt + 1);
            });
        },
    );
    // The socket lives as long as the page; its handlers hold what they need.
    std::mem::forget(socket);
}
