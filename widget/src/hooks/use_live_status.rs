use crate::api;
use crate::state::{Action, State};
use std::time::Duration;
use yew::prelude::*;

/// Asks the edge for the order's status on demand (the "refresh status" link).
#[derive(Clone)]
pub struct UseLiveStatusHandle {
    token: String,
    dispatch: UseReducerDispatcher<State>,
}

impl UseLiveStatusHandle {
    /// Polls the status once; the answer arrives as an [`Action::Status`].
    pub fn refresh(&self) {
        let (token, dispatch) = (self.token.clone(), self.dispatch.clone());
        yew::platform::spawn_local(async move { poll(&token, &dispatch).await });
    }
}

/// Keeps the order's status current while the page is open: a paid-elsewhere, closed or
/// approved order changes the page at once. Listens on the live socket; while it is down, polls
/// with backoff and opens a new one. The socket is off when `live` is false (component tests);
/// the handle's `refresh` works either way, as it answers the payer's own click.
#[hook]
pub fn use_live_status(
    token: String,
    dispatch: UseReducerDispatcher<State>,
    live: bool,
) -> UseLiveStatusHandle {
    {
        let (token, dispatch) = (token.clone(), dispatch.clone());
        use_effect_with((), move |_| {
            if live {
                connect_live(token, dispatch, 0);
            }
        });
    }
    UseLiveStatusHandle { token, dispatch }
}

/// One status poll; no answer changes nothing (the socket or the next poll will tell).
async fn poll(token: &str, dispatch: &UseReducerDispatcher<State>) {
    if let Some(view) = api::status(token).await {
        dispatch.dispatch(Action::Status(view.status));
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
                poll(&token_again, &dispatch).await;
                let wait = (1u64 << attempt.min(4)).min(15);
                yew::platform::time::sleep(Duration::from_secs(wait)).await;
                poll(&token_again, &dispatch).await;
                connect_live(token_again, dispatch, attempt + 1);
            });
        },
    );
    // The socket lives as long as the page; its handlers hold what they need.
    std::mem::forget(socket);
}
