//! What waits for a person: the approvals queue (orders and refunds above the merchant's
//! thresholds; each level by another signed-in approver) and the risk review queue (a
//! rejection, which refunds the payment, asks for a reason and a confirmation).

use super::api;
use super::kit::{diff, error_line, field, items, s, t, use_loaded, yuan, PageProps};
use serde_json::{json, Value};
use yew::prelude::*;

/// Posts `body` to `path` with the session's CSRF token, then reloads the queue.
fn post(
    path: String,
    body: Value,
    csrf: String,
    reload: UseStateHandle<u32>,
    error: UseStateHandle<String>,
) {
    wasm_bindgen_futures::spawn_local(async move {
        let a = api::call("POST", &path, Some(body), &csrf).await;
        error.set(if a.ok() { String::new() } else { a.message() });
        reload.set(*reload + 1);
    });
}

/// A button that posts `path` with the session's CSRF token, then reloads the queue.
fn decide(
    path: String,
    csrf: &str,
    reload: &UseStateHandle<u32>,
    error: &UseStateHandle<String>,
) -> Callback<MouseEvent> {
    let (csrf, reload, error) = (csrf.to_owned(), reload.clone(), error.clone());
    Callback::from(move |_| {
        post(
            path.clone(),
            json!({}),
            csrf.clone(),
            reload.clone(),
            error.clone(),
        )
    })
}

/// Who approved at which level: `level 1: alice · level 2: bob`.
fn levels(l: crate::i18n::Lang, who: &[&str]) -> String {
    who.iter()
        .enumerate()
        .map(|(i, w)| match l {
            crate::i18n::Lang::Zh => format!("第{}级：{w}", i + 1),
            crate::i18n::Lang::En => format!("level {}: {w}", i + 1),
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

#[function_component(Approvals)]
pub fn approvals(p: &PageProps) -> Html {
    let reload = use_state(|| 0u32);
    let error = use_state(String::new);
    let data = use_loaded("/approvals".into(), *reload);
    let reviews = use_loaded("/reviews".into(), *reload);
    // A settings change is approved seeing what it changes.
    let settings = use_loaded("/settings".into(), *reload);
    let pending = settings
        .as_ref()
        .map(|s| s["pending"].clone())
        .unwrap_or(Value::Null);
    let l = p.lang;
    let rows = items(&data, "approvals");
    let review_rows = items(&reviews, "reviews");
    let approves = p.session.approves();
    // The review whose rejection is being confirmed, if any.
    let rejecting = use_state(|| None::<String>);
    let approval = |a: &Value| {
        let id = s(a, "approval_id").to_owned();
        let who: Vec<&str> = a["approvers"]
            .as_array()
            .map(|v| v.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut label = format!("{} {}", s(a, "kind"), s(a, "target"));
        // What is decided on: the amount, and a refund's order.
        if let Some(fen) = a["amount"]["total"].as_u64() {
            label.push_str(&format!(" · {}", yuan(fen)));
        }
        let order = s(a, "out_trade_no");
        if !order.is_empty() && order != s(a, "target") {
            label.push_str(&format!(" · {} {order}", t(l, "订单", "order")));
        }
        html! {
            <li data-approval={id.clone()}>
                <span>{ format!("{label} · {}/{}", who.len(), a["need"]) }</span>
                if !who.is_empty() {
                    <small>{ levels(l, &who) }</small>
                }
                if s(&pending, "approval_id") == id {
                    { diff(&pending["changes"]) }
                    <small>{ format!("{} {}", t(l, "提出人", "proposed by"), s(&pending, "proposed_by")) }</small>
                }
                if approves {
                    <button type="button" aria-label={format!("{} {label}", t(l, "批准", "Approve"))}
                        onclick={decide(format!("/approvals/{id}/approve"), &p.session.csrf, &reload, &error)}>
                        { t(l, "批准", "Approve") }</button>
                    <button type="button" class="secondary" aria-label={format!("{} {label}", t(l, "拒绝", "Reject"))}
                        onclick={decide(format!("/approvals/{id}/reject"), &p.session.csrf, &reload, &error)}>
                        { t(l, "拒绝", "Reject") }</button>
                }
            </li>
        }
    };
    let review = |r: &Value| {
        let id = s(r, "review_id").to_owned();
        let label = format!("{} · {}", s(r, "out_trade_no"), s(r, "rule"));
        let money = yuan(r["amount"].as_u64().unwrap_or(0));
        // Rejecting refunds the payment: it asks for a reason and a confirmation first.
        let ask = {
            let (rejecting, id) = (rejecting.clone(), id.clone());
            Callback::from(move |_: MouseEvent| rejecting.set(Some(id.clone())))
        };
        let cancel = {
            let rejecting = rejecting.clone();
            Callback::from(move |_: MouseEvent| rejecting.set(None))
        };
        let confirm = {
            let path = format!("/reviews/{id}/reject");
            let (csrf, reload, error) = (p.session.csrf.clone(), reload.clone(), error.clone());
            let rejecting = rejecting.clone();
            Callback::from(move |e: SubmitEvent| {
                e.prevent_default();
                let body = json!({ "reason": field("c-reject-reason") });
                post(
                    path.clone(),
                    body,
                    csrf.clone(),
                    reload.clone(),
                    error.clone(),
                );
                rejecting.set(None);
            })
        };
        html! {
            <li data-review={id.clone()}>
                <span>{ format!("{label} · {money}") }</span>
                <small>{ format!("{} {}", t(l, "截止", "decide by"), s(r, "due_at")) }</small>
                <small data-figures="">{ s(r, "figures") }</small>
                if approves && rejecting.as_deref() == Some(id.as_str()) {
                    <form class="console-filters" onsubmit={confirm} aria-label={format!("{} {label}", t(l, "拒绝并退款", "Reject and refund"))}>
                        <label>{ t(l, "原因", "Reason") }<input id="c-reject-reason" /></label>
                        <button type="submit">{ format!("{} {money}", t(l, "确认拒绝并全额退款", "Confirm: reject and refund")) }</button>
                        <button type="button" class="secondary" onclick={cancel}>{ t(l, "取消", "Cancel") }</button>
                    </form>
                } else if approves {
                    <button type="button" aria-label={format!("{} {label}", t(l, "放行", "Release"))}
                        onclick={decide(format!("/reviews/{id}/approve"), &p.session.csrf, &reload, &error)}>
                        { t(l, "放行", "Release") }</button>
                    <button type="button" class="secondary" aria-label={format!("{} {label}", t(l, "拒绝并退款", "Reject and refund"))}
                        onclick={ask}>
                        { t(l, "拒绝并退款", "Reject and refund") }</button>
                }
            </li>
        }
    };
    html! {
        <section aria-label={t(l, "待审批", "Approvals")}>
            { error_line(&error) }
            <h2>{ t(l, "审批", "Approvals") }</h2>
            if rows.is_empty() { <p data-testid="empty">{ t(l, "没有待审批事项。", "Nothing waits for approval.") }</p> }
            <ul class="console-list">{ for rows.iter().map(approval) }</ul>
            <h2>{ t(l, "风险审核", "Risk reviews") }</h2>
            if review_rows.is_empty() { <p>{ t(l, "没有待审核的付款。", "No payment waits for review.") }</p> }
            <ul class="console-list">{ for review_rows.iter().map(review) }</ul>
        </section>
    }
}
