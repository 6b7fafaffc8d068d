//! HTML documents the edge answers with: the pay page host and the friendly error page. Pure
//! string building, so it is tested natively. Every merchant- or payer-supplied value passes
//! through [`escape_html`] or [`inline_json`]; nothing is ever inserted as markup.

use paydesk_shared::contract::ContractPageData;
use paydesk_shared::PayPageData;

/// Escapes text for use in HTML element content and double-quoted attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// JSON that is safe inside `<script type="application/json">`: no `<` can close the element
/// or open a comment, and U+2028/U+2029 are escaped for older parsers.
pub fn inline_json<T: serde::Serialize>(value: &T) -> String {
    let json = serde_json::to_string(value).expect("view types always serialise");
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            _ => out.push(c),
        }
    }
    out
}

/// Paths of the widget's built files, as served from `www/`.
#[derive(Debug, Clone, Copy)]
pub struct WidgetAssets<'a> {
    pub js: &'a str,
    pub wasm: &'a str,
}

/// The pay and contract pages' stylesheet, inlined in their documents: a separate file would
/// cost the first paint a round trip. It is `www/pay.css` minified by `edge/build.rs`
/// (`css_min.rs`). The pages without scripts still link `/pay.css`.
const PAY_CSS: &str = include_str!(concat!(env!("OUT_DIR"), "/pay.min.css"));

/// The widget build's content-hashed files (`www/a/assets.txt`, read by `edge/build.rs`),
/// cached immutably by browsers (`www/_headers`).
pub const WIDGET_ASSETS: WidgetAssets<'static> = WidgetAssets {
    js: env!("PAYDESK_ASSET_JS"),
    wasm: env!("PAYDESK_ASSET_WASM"),
};

/// The contract page's build of the widget (feature `contract-page`).
pub const CONTRACT_ASSETS: WidgetAssets<'static> = WidgetAssets {
    js: env!("PAYDESK_ASSET_CONTRACT_JS"),
    wasm: env!("PAYDESK_ASSET_CONTRACT_WASM"),
};

/// The Content-Security-Policy of the pay page: only our own scripts (the inline starter by
/// nonce), wasm, same-origin fetch/WebSocket, https images (merchant logos), and framing only by
/// `ancestors` (the merchant's allowed origins).
pub fn pay_page_csp(nonce: &str, ancestors: &[String]) -> String {
    let frame = frame_ancestors(ancestors);
    format!(
        "default-src 'none'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' https: data:; connect-src 'self'; \
         form-action 'self'; base-uri 'none'; frame-ancestors {frame}"
    )
}

/// The sources of a `frame-ancestors` directive: the origins given, or `'none'`.
pub fn frame_ancestors(ancestors: &[String]) -> String {
    if ancestors.is_empty() {
        "'none'".to_owned()
    } else {
        ancestors.join(" ")
    }
}

/// The `Link` header of a page the widget hydrates: the same preloads as the document's head,
/// seen by the browser with the response's headers, before the first byte of the document is
/// parsed (and turned into 103 Early Hints where the host sends them). On a slow link the wasm
/// is most of the wait for the page to hydrate, so its download starts as early as it can.
pub fn preload_header(assets: WidgetAssets<'_>) -> String {
    format!(
        "<{js}>; rel=modulepreload, <{wasm}>; rel=preload; as=fetch; type=\"application/wasm\"; crossorigin",
        js = assets.js,
        wasm = assets.wasm,
    )
}

/// For every other HTML answer of the worker.
pub const STRICT_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The pay page for one order: `markup` (the widget's rendering of `data`) in `#paydesk-root`,
/// the checkout data inlined for the widget to take the page over, the JS and wasm preloaded
/// from this first response, and the stylesheet inline, so nothing else blocks the first paint.
/// The form in the markup works before (or without) the wasm.
pub fn pay_page(data: &PayPageData, markup: &str, assets: WidgetAssets<'_>, nonce: &str) -> String {
    let view = &data.view;
    let title = format!("{} · {}", view.merchant.display_name, view.amount);
    let warm = read_remembered_method();
    document(&Document {
        title: &title,
        theme: view.merchant.theme_color.as_deref(),
        lang: &data.seed.lang,
        markup,
        data: &inline_json(data),
        data_id: "paydesk-data",
        mount: "mount",
        warm: &warm,
        assets,
        nonce,
    })
}

/// What the pay page starter does first once the widget's JS is in. Chromium loads a page's
/// `localStorage` on its first read, a few milliseconds of the main thread; `mount` reads the
/// remembered method, so the starter reads it first, while the wasm is still on its way (5-8 ms
/// less between its last byte and `paydesk:interactive` on the bench's throttled phone).
fn read_remembered_method() -> String {
    format!(
        r#"try {{ localStorage.getItem("{}"); }} catch {{}} "#,
        paydesk_widget::api::LAST_METHOD_KEY
    )
}

/// The contract page: the same host as the pay page, its data under `#paydesk-contract-data`,
/// hydrated by the widget's `mount_contract`.
pub fn contract_page(
    data: &ContractPageData,
    markup: &str,
    assets: WidgetAssets<'_>,
    nonce: &str,
) -> String {
    let title = match data.seed.lang.as_str() {
        "en" => format!("{} · Automatic payments", data.view.merchant.display_name),
        _ => format!("{} · 自动扣款授权", data.view.merchant.display_name),
    };
    document(&Document {
        title: &title,
        theme: data.view.merchant.theme_color.as_deref(),
        lang: &data.seed.lang,
        markup,
        data: &inline_json(data),
        data_id: "paydesk-contract-data",
        mount: "mount_contract",
        warm: "",
        assets,
        nonce,
    })
}

/// A server-rendered page the widget hydrates.
struct Document<'a> {
    /// Plain text; escaped here.
    title: &'a str,
    theme: Option<&'a str>,
    /// `zh` or `en`.
    lang: &'a str,
    markup: &'a str,
    /// Already made safe by [`inline_json`].
    data: &'a str,
    data_id: &'a str,
    /// The widget's export that hydrates it.
    mount: &'a str,
    /// Script the starter runs once the widget's JS is in, before the wasm is instantiated.
    warm: &'a str,
    assets: WidgetAssets<'a>,
    nonce: &'a str,
}

/// The starter is the body's last element, so everything it hydrates has been parsed when it
/// runs, and a classic script of a few statements: it only schedules the widget's start for
/// after the first frame (a `requestAnimationFrame` callback runs as that frame begins; a task it
/// queues, once the frame is painted), with a timer in case no frame comes (a hidden tab). The
/// JS and wasm download meanwhile from the preloads, and the server-rendered form already pays.
/// (As an `async` module it ran as soon as the JS was in, often in the middle of a slow phone's
/// first layout, and its compiling and `init` could then come before the first paint.) Whichever
/// of the frame and the timer comes second finds `started` set and does nothing (a timer holds
/// the function it was given, so replacing `go` would not stop it: a page left open for a second
/// would start the widget twice). Its bindings live in a block, not in the page's global scope.
fn document(d: &Document<'_>) -> String {
    let theme = d.theme.filter(|c| is_hex_colour(c)).unwrap_or("#1a73e8");
    format!(
        r##"<!doctype html>
<html lang="{html_lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="theme-color" content="{theme}">
<meta name="robots" content="noindex">
<title>{title}</title>
<link rel="modulepreload" href="{js}">
<link rel="preload" href="{wasm}" as="fetch" type="application/wasm" crossorigin>
<style>{css}</style>
</head>
<body style="--brand:{theme}">
<main id="paydesk-root" class="paydesk">{markup}</main>
<script id="{data_id}" type="application/json">{data}</script>
<script nonce="{nonce}">{{ let started = false; const go = () => {{ if (started) return; started = true; import("{js}").then((w) => {{ {warm}return w.default({{ module_or_path: "{wasm}" }}).then(w.{mount}); }}); }}; requestAnimationFrame(() => setTimeout(go)); setTimeout(go, 1000); }}</script>
</body>
</html>
"##,
        title = escape_html(d.title),
        css = PAY_CSS,
        js = d.assets.js,
        wasm = d.assets.wasm,
        markup = d.markup,
        data = d.data,
        data_id = d.data_id,
        mount = d.mount,
        warm = d.warm,
        nonce = d.nonce,
        html_lang = if d.lang == "en" { "en" } else { "zh-CN" },
    )
}

/// Why a pay page cannot be shown. The payer learns what to do, never why a token failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayPageProblem {
    /// Forged, malformed, expired token, or no such order.
    LinkNotValid,
    /// The same for a contract link.
    ContractLinkNotValid,
    /// The link is fine but the page could not be made just now (a failure on our side).
    Unavailable,
}

/// The friendly page for a link that does not open an order, in both languages.
pub fn problem_page(problem: PayPageProblem) -> String {
    let (zh_title, zh_body, en_title, en_body) = match problem {
        PayPageProblem::LinkNotValid => (
            "付款链接无效或已过期",
            "此链接无法打开订单。如尚未付款，请返回商家页面重新发起付款，未付款不会扣费；\
             如已付款，请先向商家核实，不要重复付款。",
            "This payment link is not valid or has expired",
            "This link does not open an order. If you have not paid, go back to the merchant and \
             start the payment again: nothing is charged unless you pay. If you already paid, check \
             with the merchant before paying again.",
        ),
        PayPageProblem::ContractLinkNotValid => (
            "授权链接无效",
            "此链接无法打开授权。请向商户获取新链接；未确认的授权不会扣款。",
            "This authorisation link is not valid",
            "This link does not open an authorisation. Ask the merchant for a new link; nothing is \
             charged under an authorisation you have not confirmed.",
        ),
        PayPageProblem::Unavailable => (
            "付款页面暂时无法打开",
            "这是我们这边的问题，不是您的网络。请稍后刷新此页重试：未付款不会扣费，已付款不会重复扣款。",
            "The payment page cannot open just now",
            "The problem is on our side, not your connection. Reload this page in a moment: nothing \
             is charged unless you pay, and a payment already made is never charged twice.",
        ),
    };
    let inner = format!(
        "<h1>{zh_title}</h1>\n<p>{zh_body}</p>\n<h2 lang=\"en\">{en_title}</h2>\n<p lang=\"en\">{en_body}</p>\n"
    );
    let kind = match problem {
        PayPageProblem::Unavailable => "unavailable",
        _ => "link-not-valid",
    };
    static_document(
        &format!("{zh_title} · {en_title}"),
        &format!(r#"class="paydesk problem" data-paydesk-problem="{kind}""#),
        &inner,
    )
}

/// A page without scripts (the problem page, the receipt): the pay page's stylesheet, `inner`
/// (already escaped markup) in a `<main>` with `main_attrs`. `title` is escaped by the caller.
pub fn static_document(title: &str, main_attrs: &str, inner: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<link rel="stylesheet" href="/pay.css">
</head>
<body>
<main {main_attrs}>
{inner}</main>
</body>
</html>
"#
    )
}

fn is_hex_colour(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use paydesk_shared::{Branding, CheckoutView, Money, OrderStatus};

    fn view(name: &str, colour: Option<&str>) -> PayPageData {
        PayPageData {
            view: checkout(name, colour),
            token: "tok".into(),
            embed_origin: None,
            sandbox: true,
            seed: Default::default(),
        }
    }

    /// A pay page's view of a 12.34 yuan order (the cashier page's tests use it too).
    pub(crate) fn checkout(name: &str, colour: Option<&str>) -> CheckoutView {
        CheckoutView {
            merchant: Branding {
                display_name: name.into(),
                logo_url: None,
                filing_text: None,
                theme_color: colour.map(Into::into),
                guarantee_text: None,
            },
            out_trade_no: "DEMO-1".into(),
            description: "</script><script>alert(1)</script>".into(),
            amount: Money::cny(1234),
            status: OrderStatus::NotPay,
            time_expire: "2026-11-28T11:22:40Z".into(),
            methods: vec![],
            installment: None,
            release_days: 7,
            auto_refund_hours: None,
            in_review: false,
            review_hours: 24,
        }
    }

    #[test]
    fn escapes_text() {
        assert_eq!(
            escape_html(r#"<b a="x">&'"#),
            "&lt;b a=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn inlined_data_cannot_close_the_script() {
        let html = pay_page(
            &view("<img src=x onerror=alert(1)>", None),
            "",
            WIDGET_ASSETS,
            "n0nce",
        );
        assert_eq!(
            html.matches("</script>").count(),
            2,
            "only our own two scripts"
        );
        assert!(!html.contains("<img"));
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt; · ¥12.34"));
        let data_start = html.find(r#"type="application/json">"#).unwrap();
        let data = &html[data_start + 24..];
        let data = &data[..data.find("</script>").unwrap()];
        let back: PayPageData = crate::json_text::from_text(data).unwrap();
        assert_eq!(back, view("<img src=x onerror=alert(1)>", None));
    }

    #[test]
    fn theme_colour_must_be_hex() {
        let html = pay_page(
            &view("x", Some("red;background:url(x)")),
            "",
            WIDGET_ASSETS,
            "n0nce",
        );
        assert!(html.contains("--brand:#1a73e8"));
        let html = pay_page(&view("x", Some("#0A7d5a")), "", WIDGET_ASSETS, "n0nce");
        assert!(html.contains("--brand:#0A7d5a"));
    }

    #[test]
    fn pay_page_preloads_the_widget() {
        let html = pay_page(&view("x", None), "", WIDGET_ASSETS, "n0nce");
        let a = WIDGET_ASSETS;
        assert!(html.contains(&format!("<style>{PAY_CSS}</style>")));
        assert!(!html.contains("rel=\"stylesheet\""));
        assert!(html.contains(&format!(r#"<link rel="modulepreload" href="{}">"#, a.js)));
        assert!(html.contains(&format!(r#"href="{}" as="fetch""#, a.wasm)));
        assert!(html.contains(r#"id="paydesk-root""#));
        // The preloads come before the inline stylesheet, for the parser to reach them first.
        assert!(html.find("modulepreload").unwrap() < html.find("<style>").unwrap());
        let link = preload_header(a);
        assert!(link.starts_with(&format!(
            "<{}>; rel=modulepreload, <{}>; rel=preload",
            a.js, a.wasm
        )));
        assert!(link.ends_with("; as=fetch; type=\"application/wasm\"; crossorigin"));
    }

    #[test]
    fn pay_page_starter_reads_the_remembered_method_before_the_wasm() {
        let html = pay_page(&view("x", None), "", WIDGET_ASSETS, "n0nce");
        let read = read_remembered_method();
        assert!(read.contains(&format!(
            r#"localStorage.getItem("{}")"#,
            paydesk_widget::api::LAST_METHOD_KEY
        )));
        let at = html
            .find(&read)
            .expect("the starter reads the remembered method");
        assert!(at < html.find("w.default({ module_or_path").unwrap());
    }

    #[test]
    fn csp_limits_framing_to_allowed_origins() {
        let csp = pay_page_csp("abc", &["https://shop.example.com".into()]);
        assert!(csp.contains("frame-ancestors https://shop.example.com"));
        assert!(csp.contains("'nonce-abc'"));
        assert!(pay_page_csp("abc", &[]).contains("frame-ancestors 'none'"));
        let html = pay_page(&view("x", None), "", WIDGET_ASSETS, "abc");
        assert!(html.contains(r#"<script nonce="abc">{ let started = false; "#));
    }

    #[test]
    fn problem_page_speaks_both_languages() {
        let html = problem_page(PayPageProblem::LinkNotValid);
        assert!(html.contains("付款链接无效或已过期"));
        assert!(html.contains("This payment link is not valid or has expired"));
        let down = problem_page(PayPageProblem::Unavailable);
        assert!(down.contains("付款页面暂时无法打开") && down.contains("never charged twice"));
        assert!(down.contains(r#"data-paydesk-problem="unavailable""#));
    }
}
