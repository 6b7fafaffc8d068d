//! Automation and money: contracts, subscriptions and installment plans with their schedules;
//! settlements, the month's fee report and a day's bill to download (the merchant API's own
//! CSV, through the console session).

use super::kit::{amount, field, items, s, t, use_loaded, PageProps};
use serde_json::Value;
use yew::prelude::*;

#[function_component(Automation)]
pub fn automation(p: &PageProps) -> Html {
    let contracts = use_loaded("/v1/contracts".into(), 0);
    let subs = use_loaded("/v1/subscriptions".into(), 0);
    let plans = use_loaded("/v1/installment_plans".into(), 0);
    let l = p.lang;
    let plan = |ip: &Value| {
        html! {
            <li data-plan={s(ip, "plan_no").to_owned()}>
                <strong>{ format!("{} · {}", s(ip, "plan_no"), s(ip, "description")) }</strong>
                <span>{ format!("{} · {} / {}", s(ip, "status"), amount(&ip["paid"]), amount(&ip["total"])) }</span>
                <ol class="console-schedule">
                    { for ip["parts"].as_array().into_iter().flatten().map(|part| html! {
                        <li>{ format!("{} · {} · {}", amount(&part["amount"]), s(part, "due_at"), s(part, "status")) }</li>
                    }) }
                </ol>
            </li>
        }
    };
    html! {
        <section aria-label={t(l, "自动扣款", "Automation")}>
            <h2>{ t(l, "订阅", "Subscriptions") }</h2>
            <table class="console-table">
                <thead><tr><th>{ t(l, "编号", "ID") }</th><th>{ t(l, "状态", "Status") }</th><th>{ t(l, "价格", "Price") }</th><th>{ t(l, "本期结束", "Period ends") }</th></tr></thead>
                <tbody>{ for items(&subs, "subscriptions").iter().map(|x| html! {
                    <tr data-subscription={s(x, "subscription_id").to_owned()}>
                        <td>{ format!("{} · {}", s(x, "subscription_id"), s(x, "description")) }</td>
                        <td>{ s(x, "status") }</td>
                        <td>{ format!("{} / {}", amount(&x["price"]["amount"]), s(&x["price"], "interval")) }</td>
                        <td>{ s(x, "current_period_end") }</td>
                    </tr>
                }) }</tbody>
            </table>
            <h2>{ t(l, "分期", "Installment plans") }</h2>
            <ul class="console-list">{ for items(&plans, "plans").iter().map(plan) }</ul>
            <h2>{ t(l, "委托代扣协议", "Contracts") }</h2>
            <table class="console-table">
                <thead><tr><th>{ t(l, "协议号", "Contract") }</th><th>{ t(l, "状态", "Status") }</th><th>{ t(l, "账户", "Account") }</th><th>{ t(l, "到期", "Expires") }</th></tr></thead>
                <tbody>{ for items(&contracts, "contracts").iter().map(|c| html! {
                    <tr data-contract={s(c, "contract_code").to_owned()}>
                        <td>{ s(c, "contract_code") }</td><td>{ s(c, "status") }</td>
                        <td>{ s(c, "display_account") }</td><td>{ s(c, "expires_at") }</td>
                    </tr>
                }) }</tbody>
            </table>
        </section>
    }
}

#[function_component(Money)]
pub fn money(p: &PageProps) -> Html {
    let settlements = use_loaded("/v1/settlements".into(), 0);
    let l = p.lang;
    // A bill is of a closed day: yesterday by default.
    let yesterday = js_sys::Date::new(&(js_sys::Date::now() - 86_400_000.0).into());
    let yesterday = String::from(yesterday.to_iso_string());
    let month = use_state(|| yesterday.get(..7).unwrap_or_default().to_owned());
    let day = use_state(|| yesterday.get(..10).unwrap_or_default().to_owned());
    let onchange = {
        let (month, day) = (month.clone(), day.clone());
        Callback::from(move |_: Event| {
            month.set(field("c-month"));
            day.set(field("c-day"));
        })
    };
    html! {
        <section aria-label={t(l, "资金", "Money")}>
            <h2>{ t(l, "下载", "Downloads") }</h2>
            <form class="console-filters" {onchange}>
                <label>{ t(l, "月份", "Month") }<input id="c-month" type="month" value={(*month).clone()} /></label>
                <a class="button" data-download="fees" download="" href={format!("/console/api/v1/reports/fees?month={}&format=csv", *month)}>{ t(l, "手续费报表 CSV", "Fee report CSV") }</a>
                <label>{ t(l, "日期", "Day") }<input id="c-day" type="date" value={(*day).clone()} /></label>
                <a class="button" data-download="bill" download="" href={format!("/console/api/v1/bills?date={}", *day)}>{ t(l, "对账单 CSV", "Bill CSV") }</a>
                <a class="button" data-download="settlements" download="" href="/console/api/v1/settlements?format=csv">{ t(l, "结算记录 CSV", "Settlements CSV") }</a>
            </form>
            <h2>{ t(l, "结算", "Settlements") }</h2>
            <table class="console-table">
                <thead><tr>
                    <th>{ t(l, "日期", "Date") }</th><th>{ t(l, "收款", "Gross") }</th><th>{ t(l, "退款", "Refunds") }</th>
                    <th>{ t(l, "手续费", "Fees") }</th><th>{ t(l, "净额", "Net") }</th>
                </tr></thead>
                <tbody>{ for items(&settlements, "settlements").iter().map(|x| html! {
                    <tr data-settlement={s(x, "settlement_id").to_owned()}>
                        <td>{ s(x, "date") }</td><td>{ amount(&x["gross"]) }</td><td>{ amount(&x["refunds"]) }</td>
                        <td>{ amount(&x["fees"]) }</td><td>{ amount(&x["net"]) }</td>
                    </tr>
                }) }</tbody>
            </table>
        </section>
    }
}
