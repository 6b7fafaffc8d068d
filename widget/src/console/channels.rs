//! An admin's part of the rules page: where staff alerts go (`PUT /v1/messaging`'s settings:
//! staff email and phone, shown masked and kept when sent back as shown; the SMS endpoint; which
//! alert goes to which channels) and a new webhook secret, shown once.

use super::api;
use super::kit::{error_line, field, fill_fields, s, t, use_loaded, PageProps};
use serde_json::{json, Value};
use yew::prelude::*;

fn text(id: &'static str, label: &'static str) -> Html {
    html! { <label>{ label }<input id={id} /></label> }
}

/// The settings as the form shows them.
fn values(m: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = ["staff_email", "staff_phone", "staff_locale", "sms_url"]
        .iter()
        .map(|k| (format!("m-{k}"), s(m, k).to_owned()))
        .collect();
    v.push(("m-alert_routes".into(), m["alert_routes"].to_string()));
    v
}

/// The form as the settings object.
fn collect() -> Result<Value, String> {
    let mut m = json!({});
    for k in ["staff_email", "staff_phone", "staff_locale", "sms_url"] {
        let v = field(&format!("m-{k}"));
        if !v.trim().is_empty() {
            m[k] = json!(v.trim());
        }
    }
    let routes = field("m-alert_routes");
    m["alert_routes"] = match routes.trim() {
        "" => json!({}),
        r => serde_json::from_str(r).map_err(|e| format!("alert_routes: {e}"))?,
    };
    Ok(m)
}

#[function_component(Channels)]
pub fn channels(p: &PageProps) -> Html {
    let reload = use_state(|| 0u32);
    let data = use_loaded("/v1/messaging".into(), *reload);
    let error = use_state(String::new);
    let saved = use_state(|| false);
    let secret = use_state(|| Value::Null);
    use_effect_with((*data).clone(), |d| {
        if let Some(d) = d {
            fill_fields(&values(d));
        }
    });
    let l = p.lang;
    let onsubmit = {
        let (csrf, error, saved, reload) = (
            p.session.csrf.clone(),
            error.clone(),
            saved.clone(),
            reload.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = match collect() {
                Ok(b) => b,
                Err(why) => return error.set(why),
            };
            let (csrf, error, saved, reload) =
                (csrf.clone(), error.clone(), saved.clone(), reload.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let a = api::call("PUT", "/messaging", Some(body), &csrf).await;
                saved.set(a.ok());
                error.set(if a.ok() { String::new() } else { a.message() });
                reload.set(*reload + 1);
            });
        })
    };
    let rotate = {
        let (csrf, error, secret) = (p.session.csrf.clone(), error.clone(), secret.clone());
        let ask = t(
            l,
            "轮换后，商户服务器须在宽限期内改用新密钥。确定轮换吗？",
            "The merchant's servers must switch to the new secret within the grace period. Rotate now?",
        );
        Callback::from(move |_| {
            let sure = web_sys::window()
                .and_then(|w| w.confirm_with_message(ask).ok())
                .unwrap_or(false);
            if !sure {
                return;
            }
            let (csrf, error, secret) = (csrf.clone(), error.clone(), secret.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let a = api::call("POST", "/webhook-secret/rotate", Some(json!({})), &csrf).await;
                if a.ok() {
                    secret.set(a.json);
                } else {
                    error.set(a.message());
                }
            });
        })
    };
    html! {
        <section aria-label={t(l, "告警渠道与密钥", "Alert channels and secrets")} class="console-admin">
            <form class="console-form" {onsubmit} aria-label={t(l, "告警渠道", "Alert channels")}>
                <fieldset><legend>{ t(l, "告警渠道", "Alert channels") }</legend>
                    { text("m-staff_email", t(l, "值班邮箱（显示为掩码，原样提交即保留）", "Staff email (shown masked; kept if sent back as shown)")) }
                    { text("m-staff_phone", t(l, "值班手机", "Staff phone")) }
                    { text("m-staff_locale", t(l, "语言 zh-CN / en", "Language zh-CN / en")) }
                    { text("m-sms_url", t(l, "短信服务地址", "SMS endpoint")) }
                    <label>{ t(l, "告警路由（JSON：类型 → 渠道）", "Alert routes (JSON: type → channels)") }<textarea id="m-alert_routes" rows="3" /></label>
                </fieldset>
                { error_line(&error) }
                if *saved { <p role="status" data-testid="channels-saved">{ t(l, "已保存。", "Saved.") }</p> }
                <button type="submit">{ t(l, "保存告警渠道", "Save alert channels") }</button>
            </form>
            <h2>{ t(l, "通知签名密钥", "Webhook secret") }</h2>
            <p>{ t(l, "轮换后旧密钥在宽限期内（默认 24 小时）仍然有效。", "After a rotation the old secret stays valid for a grace period (24 hours by default).") }</p>
            <button type="button" class="secondary" onclick={rotate}>{ t(l, "轮换通知密钥", "Rotate the webhook secret") }</button>
            if !secret.is_null() {
                <p role="status" data-testid="new-secret">
                    { t(l, "新密钥（只显示这一次）：", "The new secret (shown this once): ") }
                    <code>{ s(&secret, "webhook_secret") }</code>
                    { format!(" · {} {}", t(l, "旧密钥有效至", "old one valid until"), s(&secret, "previous_valid_until")) }
                </p>
            }
        </section>
    }
}
