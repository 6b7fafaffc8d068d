//! Alerts (one per cause, open or resolved) and the staff inbox they and other messages land in.

use super::kit::{items, s, t, use_loaded, PageProps};
use serde_json::{json, Value};
use yew::prelude::*;

#[function_component(Alerts)]
pub fn alerts(p: &PageProps) -> Html {
    let data = use_loaded("/alerts".into(), 0);
    let inbox = use_loaded("/inbox".into(), 0);
    let l = p.lang;
    let rows = items(&data, "alerts");
    let unread = inbox
        .as_ref()
        .map(|i| i["unread"].clone())
        .unwrap_or(json!(0));
    let message = |m: &Value| {
        html! {
            <li class={if m["read"] == json!(false) { "unread" } else { "" }}>
                <strong>{ s(m, "title") }</strong>
                <span>{ s(m, "text") }</span>
                <small>{ s(m, "created_at") }</small>
            </li>
        }
    };
    html! {
        <section aria-label={t(l, "告警", "Alerts")}>
            <h2>{ t(l, "告警", "Alerts") }</h2>
            if rows.is_empty() { <p>{ t(l, "没有告警。", "No alerts.") }</p> }
            <ul class="console-list">
            { for rows.iter().map(|a| html! {
                <li data-alert={s(a, "type").to_owned()}>
                    <strong>{ s(a, "type") }</strong>
                    { format!(" ×{} · {}", a["count"], s(a, "detail")) }
                    if a["open"] == json!(false) { <small>{ t(l, "（已恢复）", " (resolved)") }</small> }
                </li>
            }) }
            </ul>
            <h2>{ format!("{} ({} {})", t(l, "收件箱", "Inbox"), unread, t(l, "未读", "unread")) }</h2>
            <ul class="console-list">{ for items(&inbox, "messages").iter().map(message) }</ul>
        </section>
    }
}
