use crate::api;
use crate::state::{Action, State};
use std::time::Duration;
use yew::prelude::*;

/// Moves the page's clock every second, which runs the countdown and blocks the form at the
/// deadline without a reload. Off when `live` is false (component tests drive the clock).
#[hook]
pub fn use_ticker(dispatch: UseReducerDispatcher<State>, live: bool) {
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
