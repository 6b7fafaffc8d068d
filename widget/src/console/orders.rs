//! Orders: search by number, status, date range and tag; an order's page with where its money
//! is and its risk review, its refunds (issue one: through approval above the merchant's
//! threshold), its notifications (send one again) and its audit entries, each change shown
//! field by field.

use super::api;
use super::kit::{
    diff, error_line, field, fill_fields, items, parse_yuan, s, t, use_loaded, yuan, PageProps,
};
use crate::i18n::Lang;
use paydesk_shared::urlenc::encode_component;
use serde_json::{json, Value};
use yew::prelude::*;

const STATUSES: [&str; 7] = [
    "NOTPAY",
    "USERPAYING",
    "SUCCESS",
    "PAYERROR",
    "REFUND",
    "CLOSED",
    "PENDING_APPROVAL",
];

/// A date field's day at this browser's midnight (or the last second of it), as RFC 3339.
fn instant(day: &str, end: bool) -> Option<String> {
    if day.len() != 10 {
        return None;
    }
    let time = if end { "T23:59:59" } else { "T00:00:00" };
    let d = js_sys::Date::new(&format!("{day}{time}").into());
    let iso = String::from(d.to_iso_string());
    Some(format!("{}Z", iso.split('.').next()?))
}

/// The search form's query.
fn query() -> String {
    let mut q = vec![];
    let number: String = field("c-number")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "_-|*".contains(*c))
        .collect();
    if !number.is_empty() {
        q.push(format!("number={number}"));
    }
    let status = field("c-status");
    if !status.is_empty() {
        q.push(format!("status={status}"));
    }
    if let Some(from) = instant(&field("c-from"), false) {
        q.push(format!("from={}", encode_component(&from)));
    }
    if let Some(to) = instant(&field("c-to"), true) {
        q.push(format!("to={}", encode_component(&to)));
    }
    let tag = field("c-tag");
    if !tag.trim().is_empty() {
        q.push(format!("tag={}", encode_component(tag.trim())));
    }
    q.join("&")
}

#[function_component(Orders)]
pub fn orders(p: &PageProps) -> Html {
    let q = use_state(String::new);
    let open = use_state(|| None::<String>);
    let data = use_loaded(format!("/orders?{}", *q), 0);
    // A select takes the first option inserted as its choice, and Yew may insert them in any
    // order: "All" is chosen explicitly once the form is there.
    use_effect_with(open.is_none(), |listing| {
        if *listing {
            fill_fields(&[("c-status".into(), String::new())]);
        }
    });
    let l = p.lang;
    if let Some(no) = (*open).clone() {
        // Back to the list, its search cleared (as its form is).
        let back = {
            let (open, q) = (open.clone(), q.clone());
            Callback::from(move |_| {
                q.set(String::new());
                open.set(None)
            })
        };
        return html! { <OrderPage lang={l} session={p.session.clone()} {no} {back} /> };
    }
    let search = {
        let q = q.clone();
        Callback::from(move |_: Event| q.set(query()))
    };
    let onsubmit = {
        let q = q.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            q.set(query())
        })
    };
    let rows = items(&data, "orders");
    let row = |o: &Value| {
        let no = s(o, "out_trade_no").to_owned();
        let onclick = {
            let (open, no) = (open.clone(), no.clone());
            Callback::from(move |_| open.set(Some(no.clone())))
        };
        html! {
            <tr data-order={no.clone()}>
                <td><button type="button" class="link" {onclick}>{ no.clone() }</button></td>
                <td>{ s(o, "status") }</td>
                <td>{ yuan(o["amount"]["total"].as_u64().unwrap_or(0)) }</td>
                <td>{ s(o, "created_at") }</td>
            </tr>
        }
    };
    html! {
        <section aria-label={t(l, "订单", "Orders")}>
            <form class="console-filters" {onsubmit} onchange={search.clone()}>
                <label>{ t(l, "订单号开头", "Order number starts with") }
                    <input id="c-number" type="search" oninput={Callback::from(move |e: InputEvent| search.emit(e.into()))} /></label>
                <label>{ t(l, "状态", "Status") }
                    <select id="c-status">
                        <option value="">{ t(l, "全部", "All") }</option>
                        { for STATUSES.iter().map(|st| html! { <option value={*st}>{ *st }</option> }) }
                    </select></label>
                <label>{ t(l, "从", "From") }<input id="c-from" type="date" /></label>
                <label>{ t(l, "到", "To") }<input id="c-to" type="date" /></label>
                <label>{ t(l, "标签", "Tag") }<input id="c-tag" placeholder="key:value" /></label>
            </form>
            { error_line(data.as_ref().and_then(|d| d["message"].as_str()).unwrap_or_default()) }
            <table class="console-table">
                <thead><tr>
                    <th>{ t(l, "订单号", "Number") }</th><th>{ t(l, "状态", "Status") }</th>
                    <th>{ t(l, "金额", "Amount") }</th><th>{ t(l, "创建时间", "Created") }</th>
                </tr></thead>
                <tbody>{ for rows.iter().map(row) }</tbody>
            </table>
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct OrderProps {
    lang: Lang,
    session: super::kit::Session,
    no: String,
    back: Callback<MouseEvent>,
}

#[function_component(OrderPage)]
fn order_page(p: &OrderProps) -> Html {
    let reload = use_state(|| 0u32);
    let error = use_state(String::new);
    let done = use_state(String::new);
    // The refund form's one-time key, kept until an action succeeds: a refund sent again after
    // a lost answer is the same refund, never a second one.
    let refund_key = use_state(crate::api::submission_key);
    let data = use_loaded(format!("/orders/{}", encode_component(&p.no)), *reload);
    let l = p.lang;
    let Some(d) = (*data).clone() else {
        return html! { <p>{ t(l, "加载中…", "Loading…") }</p> };
    };
    let o = &d["order"];
    let post = {
        let (csrf, reload, error, done, key) = (
            p.session.csrf.clone(),
            reload.clone(),
            error.clone(),
            done.clone(),
            refund_key.clone(),
        );
        move |path: String, body: Option<Value>| {
            let (csrf, reload, error, done, key) = (
                csrf.clone(),
                reload.clone(),
                error.clone(),
                done.clone(),
                key.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let a = api::call("POST", &path, body, &csrf).await;
                if a.ok() {
                    key.set(crate::api::submission_key());
                    error.set(String::new());
                    done.set(status_of(&a.json));
                } else {
                    error.set(a.message());
                }
                reload.set(*reload + 1);
            });
        }
    };
    let refund = {
        let (no, post, key) = (p.no.clone(), post.clone(), (*refund_key).clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let fen = parse_yuan(&field("c-refund-amount"));
            let reason = field("c-refund-reason");
            let body = json!({ "amount": fen.unwrap_or(0), "reason": reason, "key": key });
            post(
                format!("/orders/{}/refund", encode_component(&no)),
                Some(body),
            );
        })
    };
    let operates = p.session.operates();
    html! {
        <section aria-label={t(l, "订单详情", "Order")} data-testid="order-page">
            <button type="button" class="link" onclick={p.back.clone()}>{ t(l, "← 返回订单列表", "← Back to orders") }</button>
            <h2>{ format!("{} · {}", s(o, "out_trade_no"), s(o, "status")) }</h2>
            <dl class="console-facts">
                <dt>{ t(l, "商品", "Description") }</dt><dd>{ s(o, "description") }</dd>
                <dt>{ t(l, "金额", "Amount") }</dt><dd>{ yuan(o["amount"]["total"].as_u64().unwrap_or(0)) }</dd>
                <dt>{ t(l, "已退款", "Refunded") }</dt><dd>{ yuan(o["refunded_total"].as_u64().unwrap_or(0)) }</dd>
                <dt>{ t(l, "创建时间", "Created") }</dt><dd>{ s(o, "created_at") }</dd>
                <dt>{ t(l, "支付时间", "Paid") }</dt><dd>{ s(o, "paid_at") }</dd>
                if !s(o, "funds").is_empty() {
                    <dt>{ t(l, "资金", "Funds") }</dt><dd data-testid="funds">{ funds(l, o) }</dd>
                }
                if !s(o, "review").is_empty() {
                    <dt>{ t(l, "风控审核", "Risk review") }</dt><dd data-testid="review">{ review(l, s(o, "review")) }</dd>
                }
            </dl>
            { error_line(&error) }
            if !done.is_empty() { <p role="status" data-testid="done">{ format!("{} {}", t(l, "已提交：", "Done:"), *done) }</p> }
            <h3>{ t(l, "退款", "Refunds") }</h3>
            <ul class="console-list">{ for items(&data, "refunds").iter().map(|r| html! {
                <li data-refund={s(r, "out_refund_no").to_owned()}>
                    { format!("{} · {} · {}", s(r, "out_refund_no"), yuan(r["amount"].as_u64().unwrap_or(0)), status_of(r)) }
                </li>
            }) }</ul>
            if operates {
                <form class="console-filters" onsubmit={refund} aria-label={t(l, "发起退款", "Issue a refund")}>
                    <label>{ t(l, "退款金额（元）", "Amount (yuan)") }<input id="c-refund-amount" inputmode="decimal" required=true /></label>
                    <label>{ t(l, "原因", "Reason") }<input id="c-refund-reason" /></label>
                    <button type="submit">{ t(l, "退款", "Refund") }</button>
                </form>
            }
            <h3>{ t(l, "通知", "Notifications") }</h3>
            <ul class="console-list">{ for items(&data, "notifications").iter().map(|n| {
                let id = s(n, "id").to_owned();
                let resend = {
                    let (post, id) = (post.clone(), id.clone());
                    Callback::from(move |_| post(format!("/notifications/{}/resend", encode_component(&id)), None))
                };
                html! {
                    <li data-notification={id.clone()}>
                        { format!("{} · {} · {}×", s(n, "type"), s(n, "status"), n["attempts"]) }
                        if operates { <button type="button" class="secondary" onclick={resend}>{ t(l, "重发", "Resend") }</button> }
                    </li>
                }
            }) }</ul>
            <h3>{ t(l, "审计记录", "Audit entries") }</h3>
            <ul class="console-list">{ for items(&data, "audit").iter().map(audit_entry) }</ul>
        </section>
    }
}

/// An audit entry: who did what when, and each field it changed, before → after.
pub fn audit_entry(a: &Value) -> Html {
    html! {
        <li class="console-audit">
            <span>{ format!("#{} {} · {} · {}", a["seq"], s(a, "at"), s(a, "actor"), s(a, "action")) }</span>
            { diff(&a["changes"]) }
        </li>
    }
}

/// A refund's or notification's status; a refund that waits for an approver says so.
fn status_of(v: &Value) -> String {
    match (s(v, "status"), v["approval_id"].as_str()) {
        ("PROCESSING", Some(_)) => "PENDING_APPROVAL".into(),
        (st, _) => st.to_owned(),
    }
}

/// Where a paid order's money is: held by the platform (until when), or released.
fn funds(l: Lang, o: &Value) -> String {
    match s(o, "funds") {
        "held" => format!(
            "{} {}",
            t(l, "平台托管中，至", "Held by the platform until"),
            s(o, "held_until")
        ),
        "released" => format!("{} {}", t(l, "已放款", "Released"), s(o, "released_at")),
        "owed" => t(
            l,
            "应退还付款人，平台托管中，退款完成前不放款",
            "Owed to the payer: held by the platform, never released, until it is refunded",
        )
        .to_owned(),
        other => other.to_owned(),
    }
}

/// A payment's risk review: waiting (refunded in full if nobody approves it), or decided.
fn review(l: Lang, status: &str) -> &str {
    match status {
        "pending" => t(
            l,
            "待审核：请先不要发货，到期未通过将全额退款",
            "Waiting: do not ship yet; refunded in full unless approved in time",
        ),
        "approved" => t(l, "已通过", "Approved"),
        "rejected" => t(l, "已拒绝（退款见上）", "Rejected (refunds above)"),
        other => other,
    }
}
