use crate::i18n::{decline_reason, t, Lang, Text};
use crate::state::Phase;
use paydesk_shared::api::NextStep;
use paydesk_shared::{Money, OrderStatus};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct OutcomeProps {
    pub phase: Phase,
    pub status: OrderStatus,
    pub expired: bool,
    pub amount: Money,
    pub out_trade_no: String,
    /// In the merchant's risk review: refunded unless approved within this many hours.
    #[prop_or_default]
    pub review_hours: Option<u32>,
    pub return_url: Option<String>,
    pub lang: Lang,
    pub on_retry: Callback<()>,
    pub on_refresh: Callback<()>,
    /// "Return to merchant" when there is no return URL: close the embed, or go back.
    pub on_return: Callback<()>,
}

/// Everything that is not the form: success, the retry prompt, confirming, blocked states.
#[function_component]
pub fn Outcome(props: &OutcomeProps) -> Html {
    let lang = props.lang;
    let refresh = {
        let cb = props.on_refresh.clone();
        html! {
            // A link to this page, so it also works before (or without) the wasm.
            <a class="pd-link" data-testid="refresh" role="button" href=""
               onclick={Callback::from(move |e: MouseEvent| { e.prevent_default(); cb.emit(()) })}>
                { t(lang, Text::RefreshStatus) }
            </a>
        }
    };
    match &props.phase {
        Phase::Paid => html! {
            <section class="pd-outcome pd-success" data-testid="success" role="status">
                <svg class="pd-check" viewBox="0 0 52 52" width="72" height="72" aria-hidden="true">
                    <circle cx="26" cy="26" r="25" fill="#0a7d5a"/>
                    <path d="M14 27l8 8 16-17" fill="none" stroke="#fff" stroke-width="5" stroke-linecap="round" stroke-linejoin="round"/>
                </svg>
                <h2>{ t(lang, Text::PaidTitle) }</h2>
                <p class="pd-paid-amount">{ props.amount.to_string() }</p>
                <p class="pd-order-no">{ t(lang, Text::OrderNo) }{ " " }{ &props.out_trade_no }</p>
                if let Some(h) = props.review_hours {
                    <p class="pd-review" data-testid="in-review">
                        { format!("{}{h}{}", t(lang, Text::InReviewBefore), t(lang, Text::InReviewAfter)) }
                    </p>
                }
                // The signed receipt of this pay link (`/pay/{token}?receipt`), printable.
                <a class="pd-link" data-testid="receipt" href="?receipt" target="_blank" rel="noopener">{ t(lang, Text::Receipt) }</a>
                if let Some(url) = &props.return_url {
                    <a class="pd-button" href={url.clone()}>{ t(lang, Text::ReturnToMerchant) }</a>
                } else {
                    <button type="button" class="pd-button" data-testid="return"
                            onclick={{ let cb = props.on_return.clone(); Callback::from(move |_| cb.emit(())) }}>
                        { t(lang, Text::ReturnToMerchant) }
                    </button>
                }
            </section>
        },
        Phase::Confirming => html! {
            <section class="pd-outcome pd-confirming" data-testid="confirming" role="status">
                <span class="pd-spinner" aria-hidden="true"></span>
                <p>{ t(lang, Text::Confirming) }</p>
                { refresh }
            </section>
        },
        Phase::Failed {
            code, next_step, ..
        } => {
            let retry = props.on_retry.clone();
            html! {
                <section class="pd-outcome pd-failed" data-testid="retry-prompt" data-code={code.clone()} role="alert">
                    <h2>{ t(lang, Text::FailedTitle) }</h2>
                    <p class="pd-reason">{ decline_reason(lang, code) }{ " " }{ t(lang, Text::NothingCharged) }</p>
                    { match next_step {
                        NextStep::Retry => html! {
                            <>
                                <p>{ t(lang, Text::RetryHint) }</p>
                                <button type="submit" form="pd-form" class="pd-button" data-testid="retry"
                                        onclick={submit_instead(retry)}>{ t(lang, Text::TryAgain) }</button>
                            </>
                        },
                        NextStep::SwitchMethod => html! { <p data-testid="switch-hint">{ t(lang, Text::SwitchMethod) }</p> },
                        NextStep::None => html! {},
                    } }
                </section>
            }
        }
        Phase::NetworkLost => {
            let retry = props.on_retry.clone();
            html! {
                <section class="pd-outcome pd-failed" data-testid="network-lost" role="alert">
                    <p>{ t(lang, Text::NetworkLost) }</p>
                    <button type="submit" form="pd-form" class="pd-button" onclick={submit_instead(retry)}>{ t(lang, Text::TryAgain) }</button>
                </section>
            }
        }
        Phase::Blocked => {
            let text = if props.status == OrderStatus::PendingApproval {
                Text::AwaitingApproval
            } else if props.expired && props.status != OrderStatus::Closed {
                Text::Expired
            } else {
                Text::Closed
            };
            html! {
                <section class="pd-outcome pd-blocked" data-testid="blocked" data-status={props.status.as_str()} role="status">
                    <p>{ t(lang, text) }</p>
                    { refresh }
                </section>
            }
        }
        Phase::Ready | Phase::Submitting => html! {},
    }
}

/// A "try again" button submits the pay form when the page has no JavaScript; with it, the
/// click is handled here instead of submitting.
fn submit_instead(cb: Callback<()>) -> Callback<MouseEvent> {
    Callback::from(move |e: MouseEvent| {
        e.prevent_default();
        cb.emit(())
    })
}
