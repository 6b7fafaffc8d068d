use crate::i18n::{t, Lang, Text};
use crate::state::format_countdown;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct CountdownProps {
    pub seconds_left: i64,
    pub lang: Lang,
}

/// Time left to pay; turns into the expired notice at zero.
#[function_component]
pub fn Countdown(props: &CountdownProps) -> Html {
    if props.seconds_left <= 0 {
        return html! {
            <p class="pd-countdown pd-expired" data-testid="expired" role="status">{ t(props.lang, Text::Expired) }</p>
        };
    }
    let urgent = props.seconds_left < 120;
    html! {
        <p class={classes!("pd-countdown", urgent.then_some("pd-urgent"))}>
            { t(props.lang, Text::TimeLeft) }{ " " }
            <time data-testid="countdown">{ format_countdown(props.seconds_left) }</time>
        </p>
    }
}
