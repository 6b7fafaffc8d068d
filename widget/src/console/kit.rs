//! What every console page uses: the two languages, the session, loading a read, and reading
//! a form's fields.

use super::api;
use crate::i18n::Lang;
use serde_json::Value;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// Picks the text of the console's language.
pub fn t(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// Who is signed in, and the CSRF token their changes carry.
#[derive(Clone, PartialEq, Default)]
pub struct Session {
    pub email: String,
    pub role: String,
    pub csrf: String,
}

impl Session {
    pub fn of(v: &Value) -> Session {
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
        Session {
            email: s("email"),
            role: s("role"),
            csrf: s("csrf_token"),
        }
    }

    /// What the server lets the role do (`edge/src/domain/console_rules.rs`); the page only
    /// hides what would be refused.
    pub fn approves(&self) -> bool {
        matches!(self.role.as_str(), "approver" | "admin")
    }

    pub fn operates(&self) -> bool {
        matches!(self.role.as_str(), "operator" | "admin")
    }

    pub fn administers(&self) -> bool {
        self.role == "admin"
    }
}

#[derive(Properties, PartialEq)]
pub struct PageProps {
    pub lang: Lang,
    pub session: Session,
}

/// Loads `path` into a state when the page opens and each time `path` or `reload` changes.
/// Only the latest request's answer is kept: answers that come back out of order (a search
/// typed quickly) never replace a newer one.
#[hook]
pub fn use_loaded(path: String, reload: u32) -> UseStateHandle<Option<Value>> {
    let data = use_state(|| None::<Value>);
    let latest = use_mut_ref(|| 0u64);
    {
        let data = data.clone();
        use_effect_with((path, reload), move |(path, _)| {
            let path = path.clone();
            *latest.borrow_mut() += 1;
            let mine = *latest.borrow();
            wasm_bindgen_futures::spawn_local(async move {
                let a = api::call("GET", &path, None, "").await;
                if *latest.borrow() == mine {
                    data.set(Some(a.json));
                }
            });
        });
    }
    data
}

/// The items of `key` in a loaded answer (none while loading).
pub fn items(data: &Option<Value>, key: &str) -> Vec<Value> {
    data.as_ref()
        .and_then(|d| d[key].as_array().cloned())
        .unwrap_or_default()
}

/// The text of a field of `v`.
pub fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

/// Fen as yuan: `¥12.34`.
pub fn yuan(fen: u64) -> String {
    format!("¥{}.{:02}", fen / 100, fen % 100)
}

/// An amount as the API gives it, fen or a money object (`{total, currency}`), as yuan; a
/// negative one (money the merchant owes) with its sign.
pub fn amount(v: &Value) -> String {
    let fen = v.as_i64().or_else(|| v["total"].as_i64()).unwrap_or(0);
    let sign = if fen < 0 { "−" } else { "" };
    format!("{sign}{}", yuan(fen.unsigned_abs()))
}

/// The value of the form field with this id (an input or a select).
pub fn field(id: &str) -> String {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .map(|el| el.unchecked_into::<web_sys::HtmlInputElement>().value())
        .unwrap_or_default()
}

/// An error line for the screen reader and the eye, when there is one.
pub fn error_line(error: &str) -> Html {
    if error.is_empty() {
        html! {}
    } else {
        html! { <p class="console-error" role="alert">{ error.to_owned() }</p> }
    }
}

/// `12.3` yuan as 1230 fen; nothing if it is not an amount.
pub fn parse_yuan(text: &str) -> Option<u64> {
    let text = text.trim();
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || frac.len() > 2
        || !whole
            .bytes()
            .chain(frac.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let frac = format!("{frac:0<2}");
    whole
        .parse::<u64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(frac.parse::<u64>().ok()?)
}

/// Puts values in form fields by id (inputs, selects, text areas), leaving them the browser's
/// afterwards: a re-render never takes back what was typed.
pub fn fill_fields(values: &[(String, String)]) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    for (id, v) in values {
        if let Some(el) = doc.get_element_by_id(id) {
            el.unchecked_into::<web_sys::HtmlInputElement>()
                .set_value(v);
        }
    }
}

/// A change's fields, before → after.
pub fn diff(changes: &Value) -> Html {
    html! {
        <table class="console-diff" data-testid="diff">
            { for changes.as_array().into_iter().flatten().map(|c| html! {
                <tr><th scope="row">{ s(c, "field") }</th><td><del>{ s(c, "before") }</del></td><td><ins>{ s(c, "after") }</ins></td></tr>
            }) }
        </table>
    }
}
