use crate::api;
use crate::state::{Action, Phase, State};
use paydesk_shared::PayOutcome;
use yew::prelude::*;

/// Submits the payer's entry.
#[derive(Clone)]
pub struct UsePaySubmissionHandle {
    dispatch: UseReducerDispatcher<State>,
}

impl UsePaySubmissionHandle {
    /// Submits with a fresh one-time key from the browser's CSPRNG; the reducer keeps the
    /// previous key instead when this retries a lost answer, so that retry cannot pay twice.
    pub fn submit(&self) {
        self.dispatch.dispatch(Action::Submit {
            key: api::submission_key(),
        });
    }
}

/// Sends one pay request per accepted submission (the reducer counts them in `submissions`) and
/// dispatches its answer. A successful method is remembered for this browser's next order.
/// Not switched off by `live`: component tests rely on the request failing like a lost network.
#[hook]
pub fn use_pay_submission(
    state: &UseReducerHandle<State>,
    token: String,
) -> UsePaySubmissionHandle {
    {
        let state = state.clone();
        use_effect_with(state.submissions, move |&n| {
            if n == 0 || state.phase != Phase::Submitting {
                return;
            }
            let Ok(req) = state.pay_request() else {
                return;
            };
            let (dispatch, method) = (state.dispatcher(), state.method);
            yew::platform::spawn_local(async move {
                let answer = api::pay(&token, &req).await;
                if matches!(answer, PayOutcome::Paid | PayOutcome::InReview) {
                    api::remember_method(method);
                }
                dispatch.dispatch(answer.into());
            });
        });
    }
    UsePaySubmissionHandle {
        dispatch: state.dispatcher(),
    }
}
