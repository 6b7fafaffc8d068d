//! The dashboard: the last 30 days of the merchant's calendar drawn as SVG bars (collected,
//! success rate, refunds, fees: `GET /v1/reports/daily`), the balance, and whether the audit
//! chain verifies. Plain SVG: a chart library would weigh more than these four charts.

use super::kit::{amount, s, t, use_loaded, yuan, PageProps};
use crate::i18n::Lang;
use serde_json::Value;
use yew::prelude::*;

/// One bar chart: a bar per day, each with its date and value as a tooltip, and a summary for
/// screen readers.
fn bars(lang: Lang, title: &'static str, days: &[(String, u64)], show: fn(u64) -> String) -> Html {
    let max = days.iter().map(|d| d.1).max().unwrap_or(0).max(1);
    let total: u64 = days.iter().map(|d| d.1).sum();
    let width = days.len().max(1) * 10;
    let summary = match lang {
        Lang::Zh => format!("{title}：最高 {}", show(max)),
        Lang::En => format!("{title}: highest {}", show(max)),
    };
    html! {
        <figure class="console-chart" data-chart={title}>
            <figcaption>{ title }</figcaption>
            <svg viewBox={format!("0 0 {width} 100")} preserveAspectRatio="none" role="img" aria-label={summary}>
                { for days.iter().enumerate().map(|(i, (date, v))| {
                    let h = (v * 96 / max).max(u64::from(*v > 0));
                    html! {
                        <rect x={(i * 10 + 1).to_string()} y={(100 - h).to_string()} width="8" height={h.to_string()}>
                            <title>{ format!("{date}: {}", show(*v)) }</title>
                        </rect>
                    }
                }) }
            </svg>
            <small>{ days.first().map(|d| d.0.clone()).unwrap_or_default() }{ " – " }{ days.last().map(|d| d.0.clone()).unwrap_or_default() }</small>
            if !title.contains('%') { <small>{ format!(" · Σ {}", show(total)) }</small> }
        </figure>
    }
}

/// Basis points as a percentage.
fn percent(bp: u64) -> String {
    format!("{}.{:02}%", bp / 100, bp % 100)
}

#[function_component(Dashboard)]
pub fn dashboard(p: &PageProps) -> Html {
    let report = use_loaded("/v1/reports/daily?days=30".into(), 0);
    let audit = use_loaded("/v1/audit/verify".into(), 0);
    let balance = use_loaded("/v1/balance".into(), 0);
    let l = p.lang;
    let days: Vec<Value> = report
        .as_ref()
        .and_then(|r| r["days"].as_array().cloned())
        .unwrap_or_default();
    let series = |f: fn(&Value) -> u64| -> Vec<(String, u64)> {
        days.iter()
            .map(|d| (s(d, "date").to_owned(), f(d)))
            .collect()
    };
    let audit_line = match audit.as_ref() {
        None => html! {},
        Some(a) if a["intact"] == Value::Bool(true) => html! {
            <p class="console-ok" data-testid="audit">{ format!("{} ({} {})", t(l, "审计链完整", "Audit chain intact"), a["entries"], t(l, "条", "entries")) }</p>
        },
        Some(a) if a["intact"] == Value::Bool(false) => html! {
            <p class="console-error" role="alert" data-testid="audit">{ format!("{} #{}: {}", t(l, "审计链断裂于", "Audit chain broken at"), a["first_broken_seq"], s(a, "reason")) }</p>
        },
        // The check did not answer (a network error, a refusal): nothing is known to be broken.
        Some(_) => html! {
            <p class="console-error" data-testid="audit">{ t(l, "审计链暂时无法检查，请稍后刷新。", "The audit chain could not be checked; reload to try again.") }</p>
        },
    };
    let b = balance.as_ref().cloned().unwrap_or(Value::Null);
    let money = |k: &str| amount(&b[k]);
    html! {
        <section aria-label={t(l, "概览", "Dashboard")} data-testid="dashboard">
            { audit_line }
            <dl class="console-facts">
                <dt>{ t(l, "冻结中", "Held") }</dt><dd>{ money("held") }</dd>
                <dt>{ t(l, "可结算", "Releasable") }</dt><dd>{ money("releasable") }</dd>
                <dt>{ t(l, "已结算", "Settled") }</dt><dd>{ money("settled") }</dd>
            </dl>
            <div class="console-charts">
                { bars(l, t(l, "每日收款", "Collected per day"), &series(|d| d["collected"].as_u64().unwrap_or(0)), yuan) }
                { bars(l, t(l, "支付成功率 %", "Success rate %"), &series(|d| {
                    let (all, paid) = (d["orders"].as_u64().unwrap_or(0), d["paid_orders"].as_u64().unwrap_or(0));
                    (paid * 10_000).checked_div(all).unwrap_or(0)
                }), percent) }
                { bars(l, t(l, "每日退款", "Refunded per day"), &series(|d| d["refunded"].as_u64().unwrap_or(0)), yuan) }
                { bars(l, t(l, "每日手续费", "Fees per day"), &series(|d| d["fees"].as_u64().unwrap_or(0)), yuan) }
            </div>
        </section>
    }
}
