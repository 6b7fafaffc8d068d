//! Rules and branding: the merchant's settings as one form, a live preview of the real pay page
//! (the worker renders it from the form's branding: `/console/preview`), the change sent whole
//! (`PUT /console/api/settings`): applied at once, or waiting for the merchant's approvers when
//! it loosens a control; a change waiting and the history of changes shown field by field.

use super::api;
use super::kit::{
    diff, error_line, field, fill_fields, items, parse_yuan, s, t, use_loaded, yuan, PageProps,
};
use super::orders::audit_entry;
use paydesk_shared::urlenc::encode_component;
use serde_json::{json, Value};
use yew::prelude::*;

/// A text field, `id` and its label. Its value is the browser's (`fill` sets the saved one): a
/// re-render (the preview following the form, an error) never takes back what was typed.
fn text(id: &'static str, label: &'static str, kind: &'static str) -> Html {
    html! {
        <label>{ label }<input id={id} type={kind} /></label>
    }
}

fn area(id: &'static str, label: &'static str) -> Html {
    html! { <label>{ label }<textarea id={id} rows="3" /></label> }
}

/// The saved rules, field by field, as the form shows them.
fn values(r: &Value) -> Vec<(String, String)> {
    let b = &r["branding"];
    let fen = |k: &str| {
        r[k].as_u64()
            .map(|f| yuan(f).trim_start_matches('¥').to_owned())
            .unwrap_or_default()
    };
    let n = |k: &str| r[k].as_u64().map(|v| v.to_string()).unwrap_or_default();
    let list = |k: &str| {
        r[k].as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let levels: Vec<String> = r["approval_levels"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|x| {
            let above = yuan(x["above"].as_u64().unwrap_or(0));
            format!("{} {}", above.trim_start_matches('¥'), x["approvers"])
        })
        .collect();
    let mut v: Vec<(String, String)> = BRANDING
        .iter()
        .map(|k| (format!("s-{k}"), s(b, k).to_owned()))
        .collect();
    for k in ["release_days", "auto_refund_hours", "remind_grace_seconds"] {
        v.push((format!("s-{k}"), n(k)));
    }
    for k in ["daily_limit", "refund_approval_above"] {
        v.push((format!("s-{k}"), fen(k)));
    }
    for k in ["notify_url", "backup_notify_url"] {
        v.push((format!("s-{k}"), s(r, k).to_owned()));
    }
    for k in ["ip_allowlist", "allowed_origins"] {
        v.push((format!("s-{k}"), list(k)));
    }
    v.push(("s-approval_levels".into(), levels.join("\n")));
    v.push(("s-risk".into(), r["risk"].to_string()));
    v
}

const BRANDING: [&str; 5] = [
    "display_name",
    "theme_color",
    "logo_url",
    "filing_text",
    "guarantee_text",
];

/// Lines of a text area, trimmed, without empty ones.
fn lines(id: &str) -> Vec<String> {
    field(id)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Text or `null` when empty.
fn optional(id: &str) -> Value {
    match field(id).trim() {
        "" => Value::Null,
        v => Value::String(v.to_owned()),
    }
}

/// Yuan or `null` when empty; an error names the field.
fn optional_yuan(id: &str, name: &str) -> Result<Value, String> {
    match field(id).trim() {
        "" => Ok(Value::Null),
        v => parse_yuan(v)
            .map(|f| json!(f))
            .ok_or_else(|| format!("{name}: not an amount")),
    }
}

fn number(id: &str, name: &str) -> Result<Value, String> {
    let v = field(id);
    match v.trim() {
        "" => Ok(Value::Null),
        v => v
            .parse::<u32>()
            .map(|n| json!(n))
            .map_err(|_| format!("{name}: not a whole number")),
    }
}

/// A field the rules cannot be without.
fn required(v: Value, name: &str) -> Result<Value, String> {
    if v.is_null() {
        Err(format!("{name}: required"))
    } else {
        Ok(v)
    }
}

/// The form as the rules object, starting from what was loaded (so nothing the form does not
/// show is lost).
fn collect(base: &Value) -> Result<Value, String> {
    let mut r = base.clone();
    r["branding"]["display_name"] = json!(field("s-display_name"));
    for k in ["theme_color", "logo_url", "filing_text", "guarantee_text"] {
        r["branding"][k] = optional(&format!("s-{k}"));
    }
    r["notify_url"] = optional("s-notify_url");
    r["backup_notify_url"] = optional("s-backup_notify_url");
    r["ip_allowlist"] = json!(lines("s-ip_allowlist"));
    r["allowed_origins"] = json!(lines("s-allowed_origins"));
    let levels: Result<Vec<Value>, String> = lines("s-approval_levels")
        .iter()
        .map(|l| {
            let (above, n) = l
                .split_once(' ')
                .ok_or("approval_levels: `amount approvers`")?;
            let above = parse_yuan(above).ok_or("approval_levels: not an amount")?;
            let n: u32 = n.trim().parse().map_err(|_| "approval_levels: approvers")?;
            Ok(json!({ "above": above, "approvers": n }))
        })
        .collect();
    r["approval_levels"] = json!(levels?);
    r["daily_limit"] = optional_yuan("s-daily_limit", "daily_limit")?;
    r["refund_approval_above"] = optional_yuan("s-refund_approval_above", "refund_approval_above")?;
    r["remind_grace_seconds"] = required(
        number("s-remind_grace_seconds", "remind_grace_seconds")?,
        "remind_grace_seconds",
    )?;
    r["release_days"] = required(number("s-release_days", "release_days")?, "release_days")?;
    r["auto_refund_hours"] = number("s-auto_refund_hours", "auto_refund_hours")?;
    r["risk"] = serde_json::from_str(&field("s-risk")).map_err(|e| format!("risk: {e}"))?;
    for k in ["theme_color", "logo_url", "filing_text", "guarantee_text"] {
        if r["branding"][k].is_null() {
            r["branding"].as_object_mut().map(|b| b.remove(k));
        }
    }
    Ok(r)
}

/// The preview's address for the form's values (`value` of a field's id).
fn preview_src(lang: &str, value: impl Fn(&str) -> String) -> String {
    let mut q = vec![format!("lang={lang}")];
    for k in BRANDING
        .iter()
        .chain(&["release_days", "auto_refund_hours"])
    {
        let v = value(&format!("s-{k}"));
        q.push(format!("{k}={}", encode_component(v.trim())));
    }
    format!("/console/preview?{}", q.join("&"))
}

/// The preview's address for the saved settings.
fn saved_src(r: &Value, lang: &str) -> String {
    let saved = values(r);
    preview_src(lang, |id| {
        saved
            .iter()
            .find(|(k, _)| k == id)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    })
}

#[function_component(Settings)]
pub fn settings(p: &PageProps) -> Html {
    let reload = use_state(|| 0u32);
    let data = use_loaded("/settings".into(), *reload);
    let history = use_loaded("/v1/audit?kind=merchant".into(), *reload);
    let error = use_state(String::new);
    let outcome = use_state(|| Value::Null);
    let lang = if p.lang == crate::i18n::Lang::Zh {
        "zh"
    } else {
        "en"
    };
    // The preview follows the form once it is edited; before, the saved settings.
    let src = use_state(|| None::<String>);
    use_effect_with((*data).clone(), |d| {
        if let Some(d) = d {
            fill_fields(&values(&d["rules"]));
        }
    });
    let l = p.lang;
    let Some(d) = (*data).clone() else {
        return html! { <p>{ t(l, "加载中…", "Loading…") }</p> };
    };
    let r = d["rules"].clone();
    let shown = (*src).clone().unwrap_or_else(|| saved_src(&r, lang));
    let oninput = {
        let src = src.clone();
        Callback::from(move |_: InputEvent| src.set(Some(preview_src(lang, field))))
    };
    let onsubmit = {
        let (base, csrf) = (r.clone(), p.session.csrf.clone());
        let (error, outcome, reload) = (error.clone(), outcome.clone(), reload.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = match collect(&base) {
                Ok(b) => b,
                Err(why) => return error.set(why),
            };
            let (csrf, error, outcome, reload) =
                (csrf.clone(), error.clone(), outcome.clone(), reload.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let a = api::call("PUT", "/settings", Some(body), &csrf).await;
                if a.ok() {
                    error.set(String::new());
                    outcome.set(a.json);
                    reload.set(*reload + 1);
                } else {
                    error.set(a.message());
                }
            });
        })
    };
    let status = s(&outcome, "status");
    html! {
        <section aria-label={t(l, "规则与品牌", "Rules and branding")} class="console-settings">
            if let Some(pending) = d["pending"].as_object() {
                <div class="console-pending" data-testid="pending">
                    <h2>{ t(l, "待审批的变更", "A change waiting for approval") }</h2>
                    <p>{ format!("{} {} · {}", t(l, "提出人", "proposed by"), pending["proposed_by"].as_str().unwrap_or_default(), pending["proposed_at"].as_str().unwrap_or_default()) }</p>
                    { diff(&pending["changes"]) }
                </div>
            }
            <form class="console-form" {onsubmit} {oninput} aria-label={t(l, "规则与品牌", "Rules and branding")}>
                <fieldset><legend>{ t(l, "品牌（付款页展示）", "Branding (shown on the pay page)") }</legend>
                    { text("s-display_name", t(l, "名称", "Display name"), "text") }
                    { text("s-theme_color", t(l, "主题色 #rrggbb", "Theme colour #rrggbb"), "text") }
                    { text("s-logo_url", t(l, "Logo 地址（https）", "Logo URL (https)"), "url") }
                    { text("s-filing_text", t(l, "备案信息", "Filing text"), "text") }
                    { text("s-guarantee_text", t(l, "保障说明", "Guarantee wording"), "text") }
                </fieldset>
                <fieldset><legend>{ t(l, "资金", "Money") }</legend>
                    { text("s-release_days", t(l, "资金冻结天数", "Days money is held"), "number") }
                    { text("s-auto_refund_hours", t(l, "未发货自动退款（小时，可空）", "Auto-refund if not fulfilled (hours, optional)"), "number") }
                    { text("s-daily_limit", t(l, "每日限额（元，空为等级默认）", "Daily limit (yuan; empty: the tier's)"), "text") }
                    { text("s-refund_approval_above", t(l, "退款审批阈值（元）", "Refunds need approval above (yuan)"), "text") }
                    { area("s-approval_levels", t(l, "订单审批级别：每行「金额 人数」", "Order approval levels: a line `yuan approvers` each")) }
                    { text("s-remind_grace_seconds", t(l, "提醒后保留订单（秒）", "Order kept after its reminder (seconds)"), "number") }
                </fieldset>
                <fieldset><legend>{ t(l, "接入与通知", "Access and notifications") }</legend>
                    { text("s-notify_url", t(l, "通知地址", "Notification URL"), "url") }
                    { text("s-backup_notify_url", t(l, "备用通知地址", "Backup notification URL"), "url") }
                    { area("s-ip_allowlist", t(l, "IP 白名单（每行一个）", "IP allow-list (one per line)")) }
                    { area("s-allowed_origins", t(l, "允许嵌入的来源（每行一个）", "Allowed origins (one per line)")) }
                    { area("s-risk", t(l, "风控规则（JSON）", "Risk rules (JSON)")) }
                </fieldset>
                { error_line(&error) }
                if !status.is_empty() {
                    <div role="status" data-testid="outcome" data-status={status.to_owned()}>
                        <p>{ match status {
                            "applied" => t(l, "已生效。", "Applied."),
                            "pending_approval" => t(l, "此变更放宽了管控，已提交审批。", "This change loosens a control: it waits for approval."),
                            _ => t(l, "没有变化。", "Nothing changed."),
                        } }</p>
                        { diff(&outcome["changes"]) }
                    </div>
                }
                if p.session.operates() {
                    <button type="submit">{ t(l, "保存", "Save") }</button>
                }
            </form>
            <figure class="console-preview">
                <figcaption>{ t(l, "付款页实时预览", "Live preview of the pay page") }</figcaption>
                <iframe title={t(l, "付款页预览", "Pay page preview")} src={shown} data-testid="preview"></iframe>
            </figure>
            if p.session.administers() {
                <super::channels::Channels lang={l} session={p.session.clone()} />
            }
            <h2>{ t(l, "变更记录", "History") }</h2>
            <ul class="console-list">{ for items(&history, "entries").iter().rev().map(audit_entry) }</ul>
        </section>
    }
}
