//! The pay page of a merchant paid through an upstream channel (WeChat Pay v2), while its order
//! can be paid: who is paid, for what and how much, and one button that hands the payer to the
//! upstream's cashier (`POST /pay/{token}/cashier`). Server-rendered, no script; once paid,
//! the ordinary pay page shows the result. Simplified Chinese first, English under it.

use crate::domain::bill_rules::yuan;
use crate::page::escape_html as esc;
use paydesk_shared::CheckoutView;

/// What went wrong at the last press, in the payer's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The upstream did not answer: try again (nothing was started twice: it is asked first).
    NotAnswering,
    /// The upstream or the ledger refused; the payer cannot fix it.
    Refused,
}

/// `embed`: the allowed origin whose page frames this one (`www/embed.js`). The upstream's
/// cashier cannot open inside a frame, so the button opens it in a new window, and the framed
/// page asks again every few seconds: once the order is paid it moves on to the pay page, which
/// tells the embedding page.
pub fn cashier_page(
    v: &CheckoutView,
    token: &str,
    problem: Option<Problem>,
    embed: Option<&str>,
) -> String {
    let name = esc(&v.merchant.display_name);
    let amount = format!("¥{}", yuan(v.amount.total as i64));
    let problem = match problem {
        None => String::new(),
        Some(Problem::NotAnswering) => "<p class=\"pd-error\" role=\"alert\" data-testid=\"cashier-problem\">微信支付暂未响应，请稍后重试；不会重复扣款。\
             <span lang=\"en\">WeChat Pay is not answering. Please try again; you will not be charged twice.</span></p>\n"
            .to_owned(),
        Some(Problem::Refused) => "<p class=\"pd-error\" role=\"alert\" data-testid=\"cashier-problem\">此订单现在无法通过微信支付付款，请联系商户；您未被扣款。\
             <span lang=\"en\">This order cannot be paid with WeChat Pay now. Please contact the merchant; you have not been charged.</span></p>\n"
            .to_owned(),
    };
    let (target, hint) = match embed {
        None => ("", "<p>您将在微信支付页面完成付款，完成后回到此页查看结果。\
             <span lang=\"en\">You pay on WeChat Pay's page; come back to this page to see the result.</span></p>\n"),
        Some(_) => (" target=\"_blank\"", "<p data-testid=\"cashier-window\">微信支付页面将在新窗口打开；付款后此页会自动更新。\
             <span lang=\"en\">WeChat Pay's page opens in a new window; this page updates by itself once you have paid.</span></p>\n"),
    };
    let inner = format!(
        "<h1>{name}</h1>\n\
         <p class=\"pd-amount\" data-testid=\"amount\">{amount}</p>\n\
         <p>{desc}</p>\n\
         {problem}\
         <form method=\"post\" action=\"/pay/{token}/cashier\"{target}>\n\
         <button type=\"submit\" data-testid=\"cashier\">使用微信支付 <span lang=\"en\">Pay with WeChat Pay</span></button>\n\
         </form>\n\
         {hint}",
        desc = esc(&v.description),
        token = esc(token),
    );
    let page = crate::page::static_document(
        &format!("{name} · 付款 Pay"),
        r#"class="paydesk cashier""#,
        &inner,
    );
    match embed {
        None => page,
        Some(origin) => {
            let again = format!(
                "<meta http-equiv=\"refresh\" content=\"{QR_REFRESH_S};url=/pay/{}?embed={}\">",
                esc(token),
                esc(&paydesk_shared::urlenc::encode_component(origin)),
            );
            page.replacen("<title>", &format!("{again}\n<title>"), 1)
        }
    }
}

/// The page of a NATIVE hand-off (a desktop browser): the upstream's `code_url` as a QR code to
/// scan with WeChat, and the link itself (it opens WeChat on the same device). The page asks
/// again every few seconds (`GET /pay/{token}/cashier`: the upstream is queried), and once the
/// order is paid it moves on to the pay page, which shows the result.
pub fn qr_page(v: &CheckoutView, token: &str, code_url: &str) -> String {
    let name = esc(&v.merchant.display_name);
    let amount = format!("¥{}", yuan(v.amount.total as i64));
    let inner = format!(
        "<h1>{name}</h1>\n\
         <p class=\"pd-amount\" data-testid=\"amount\">{amount}</p>\n\
         <p>{desc}</p>\n\
         <p>请使用微信扫一扫付款。<span lang=\"en\">Scan with WeChat to pay.</span></p>\n\
         <figure class=\"pd-qr\" data-testid=\"qr\">{svg}</figure>\n\
         <p><a href=\"{link}\" data-testid=\"qr-link\" rel=\"noreferrer\">在本机打开微信支付 <span lang=\"en\">Open WeChat Pay on this device</span></a></p>\n\
         <p>付款后此页会自动更新。<span lang=\"en\">This page updates by itself once you have paid.</span></p>\n",
        desc = esc(&v.description),
        svg = qr_svg(code_url),
        link = esc(code_url),
    );
    let head_extra = format!(
        "<meta http-equiv=\"refresh\" content=\"{QR_REFRESH_S};url=/pay/{}/cashier\">",
        esc(token)
    );
    crate::page::static_document(
        &format!("{name} · 扫码付款 Scan to pay"),
        r#"class="paydesk cashier""#,
        &inner,
    )
    .replacen("<title>", &format!("{head_extra}\n<title>"), 1)
}

/// How often the QR page asks whether the order was paid, in seconds.
pub const QR_REFRESH_S: u32 = 3;

/// `text` as an inline SVG QR code (medium error correction), without the XML prologue.
pub fn qr_svg(text: &str) -> String {
    use qrcode::render::svg;
    match qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M) {
        Ok(code) => {
            let svg = code
                .render::<svg::Color>()
                .min_dimensions(240, 240)
                .quiet_zone(true)
                .build();
            match svg.find("<svg") {
                Some(i) => svg[i..].to_owned(),
                None => svg,
            }
        }
        Err(_) => String::new(),
    }
}

/// The cashier page's policy: no script; its one form posts here and is sent on to the
/// upstream's cashier (https, or this machine in development); framed only by `ancestors` (the
/// merchant's allowed origins, when it is embedded), else by nobody.
pub fn cashier_csp(dev: bool, ancestors: &[String]) -> String {
    let local = if dev {
        " http://127.0.0.1:* http://localhost:*"
    } else {
        ""
    };
    let frame = crate::page::frame_ancestors(ancestors);
    format!(
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; \
         form-action 'self' https:{local}; frame-ancestors {frame}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> CheckoutView {
        let mut v = crate::page::tests::checkout("Tea & Co", None);
        v.description = "<b>Tea</b>".into();
        v
    }

    #[test]
    fn says_who_what_and_how_much_escaped_with_one_button() {
        let page = cashier_page(&view(), "tok", None, None);
        assert!(page.contains("<h1>Tea &amp; Co</h1>"));
        assert!(page.contains("¥12.34"));
        assert!(page.contains("&lt;b&gt;Tea&lt;/b&gt;"));
        assert!(page.contains("action=\"/pay/tok/cashier\""));
        assert!(!page.contains("<script"));
        assert!(!page.contains("cashier-problem"));
        let again = cashier_page(&view(), "tok", Some(Problem::NotAnswering), None);
        assert!(again.contains("not be charged twice"));
        assert!(cashier_csp(false, &[]).contains("form-action 'self' https:;"));
        assert!(cashier_csp(false, &[]).ends_with("frame-ancestors 'none'"));
    }

    #[test]
    fn the_qr_page_shows_the_code_and_asks_again() {
        let page = qr_page(&view(), "tok", "weixin://wxpay/bizpayurl?pr=abc&x=1");
        assert!(page.contains("<svg"));
        assert!(!page.contains("<?xml"));
        assert!(page.contains("href=\"weixin://wxpay/bizpayurl?pr=abc&amp;x=1\""));
        assert!(page.contains("content=\"3;url=/pay/tok/cashier\""));
        assert!(page.find("http-equiv").unwrap() < page.find("<title>").unwrap());
        let a = qr_svg("weixin://wxpay/bizpayurl?pr=abc");
        let b = qr_svg("weixin://wxpay/bizpayurl?pr=abd");
        assert!(
            a.starts_with("<svg") && a != b,
            "the code depends on the text"
        );
        assert!(cashier_csp(true, &[]).contains("http://127.0.0.1:*"));
    }

    #[test]
    fn embedded_the_cashier_opens_in_a_new_window_and_the_frame_asks_again() {
        let page = cashier_page(&view(), "tok", None, Some("https://shop.example"));
        assert!(page.contains("action=\"/pay/tok/cashier\" target=\"_blank\""));
        assert!(page.contains("content=\"3;url=/pay/tok?embed=https%3A%2F%2Fshop.example\""));
        assert!(page.find("http-equiv").unwrap() < page.find("<title>").unwrap());
        assert!(page.contains("opens in a new window"));
        let ancestors = ["https://shop.example".to_owned()];
        assert!(cashier_csp(false, &ancestors).ends_with("frame-ancestors https://shop.example"));
    }
}
