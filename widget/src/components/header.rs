use crate::i18n::{t, Lang, Text};
use paydesk_shared::Branding;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct HeaderProps {
    pub branding: Branding,
    pub lang: Lang,
}

/// Who the payer pays: logo, name, registration/filing text. Branding is rendered as text only.
/// The merchant's initial sits under the logo and shows when there is none or it cannot load:
/// the logo is then hidden (with JavaScript) or transparent with an empty alt (without), so no
/// broken image and no clipped alt text; the name beside it says who it is.
#[function_component]
pub fn Header(props: &HeaderProps) -> Html {
    let b = &props.branding;
    let mark = |attr: &'static str| {
        Callback::from(move |e: Event| {
            if let Some(img) = e.target_dyn_into::<web_sys::Element>() {
                let _ = img.set_attribute(attr, "");
            }
        })
    };
    html! {
        <header class="pd-header">
            <span class="pd-logo-slot" role="img" aria-label={t(props.lang, Text::MerchantLogo)}>
                <span class="pd-logo pd-initial" aria-hidden="true">{ initial(&b.display_name) }</span>
                if let Some(logo) = &b.logo_url {
                    <img class="pd-logo" src={logo.clone()} alt="" width="48" height="48"
                         referrerpolicy="no-referrer" onload={mark("data-loaded")}
                         onerror={mark("data-failed")} />
                }
            </span>
            <div class="pd-merchant">
                <span class="pd-pay-to">{ t(props.lang, Text::PayTo) }</span>
                <h1 class="pd-merchant-name">{ &b.display_name }</h1>
                if let Some(filing) = &b.filing_text {
                    <p class="pd-filing">{ filing }</p>
                }
            </div>
        </header>
    }
}

/// The first letter of the merchant's name, capitalised (`演`, `D`). ASCII case only: the full
/// Unicode case tables would cost the page's wasm 6 KB gzip for letters that have none (CJK).
pub fn initial(name: &str) -> String {
    name.trim()
        .chars()
        .next()
        .map(|c| c.to_ascii_uppercase().to_string())
        .unwrap_or_default()
}

/// A logo under `root` that loaded or failed before the page's script ran did so unheard: mark
/// it now. The mark set, if any.
#[cfg(feature = "browser")]
pub fn mark_logo(root: &web_sys::Element) -> Option<&'static str> {
    use wasm_bindgen::JsCast;
    let img = root
        .query_selector("img.pd-logo")
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<web_sys::HtmlImageElement>().ok())
        .filter(|i| i.complete())?;
    let mark = if img.natural_width() > 0 {
        "data-loaded"
    } else {
        "data-failed"
    };
    let _ = img.set_attribute(mark, "");
    Some(mark)
}

#[cfg(test)]
mod tests {
    use super::initial;

    #[test]
    fn initials() {
        assert_eq!(initial("演示茶馆 Demo Tea House"), "演");
        assert_eq!(initial("  demo shop"), "D");
        assert_eq!(initial(""), "");
    }
}
