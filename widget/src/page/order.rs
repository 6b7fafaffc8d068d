//! The top of the pay page: who is paid, how much and for what, the time left, and the promise
//! next to the pay button. Pure: markup from the state, in the page's language.

use super::markup::Markup;
use crate::i18n::{t, Lang, Text};
use crate::state::format_countdown;
use paydesk_shared::checkout::EscrowTerms;
use paydesk_shared::installment::PartOfPlan;
use paydesk_shared::{Branding, Money};

/// The sandbox notice and the language switch (a link to the page in the other language, so it
/// works without JavaScript).
pub fn topbar(m: &mut Markup, lang: Lang, sandbox: bool, query: &str) {
    m.raw("<div class=\"pd-topbar\">");
    if sandbox {
        m.raw("<span class=\"pd-sandbox\">")
            .text(t(lang, Text::SandboxNotice))
            .raw("</span>");
    }
    let other = lang.other();
    m.raw("<a data-testid=\"lang\" data-act=\"lang\" role=\"button\"")
        .attr("href", &format!("?lang={}{query}", other.code()))
        .attr("lang", other.html_tag())
        .raw(" class=\"pd-lang\">")
        .text(t(lang, Text::SwitchLanguage))
        .raw("</a></div>");
}

/// Who the payer pays: logo, name, registration/filing text, as text only. The merchant's
/// initial sits under the logo and shows when there is none or it cannot load (the page marks
/// the logo `data-failed`, or it is transparent with an empty alt without JavaScript).
pub fn header(m: &mut Markup, lang: Lang, b: &Branding, logo: Option<&str>) {
    m.raw("<header class=\"pd-header\"><span role=\"img\"")
        .attr("aria-label", t(lang, Text::MerchantLogo))
        .raw(" class=\"pd-logo-slot\"><span aria-hidden=\"true\" class=\"pd-logo pd-initial\">")
        .text(&initial(&b.display_name))
        .raw("</span>");
    if let Some(url) = &b.logo_url {
        m.raw("<img").attr("src", url);
        m.raw(" alt=\"\" width=\"48\" height=\"48\" referrerpolicy=\"no-referrer\"");
        if let Some(mark) = logo {
            m.raw(" ").raw(mark).raw("=\"\"");
        }
        m.raw(" class=\"pd-logo\">");
    }
    m.raw("</span><div class=\"pd-merchant\"><span class=\"pd-pay-to\">")
        .text(t(lang, Text::PayTo))
        .raw("</span><h1 class=\"pd-merchant-name\">")
        .text(&b.display_name)
        .raw("</h1>");
    if let Some(filing) = &b.filing_text {
        m.raw("<p class=\"pd-filing\">").text(filing).raw("</p>");
    }
    m.raw("</div></header>");
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

/// The order: the amount large, the description, the part of a plan, the order number.
pub fn amount(
    m: &mut Markup,
    lang: Lang,
    amount: Money,
    description: &str,
    out_trade_no: &str,
    part: Option<&PartOfPlan>,
) {
    m.raw("<section")
        .attr("aria-label", t(lang, Text::AmountDue))
        .raw(" class=\"pd-order\"><p class=\"pd-amount-label\">")
        .text(t(lang, Text::AmountDue))
        .raw("</p><p data-testid=\"amount\" class=\"pd-amount\">")
        .text(&amount.to_string())
        .raw("</p><p class=\"pd-description\">")
        .text(description)
        .raw("</p>");
    if let Some(p) = part {
        let (which, left) = part_line(lang, p);
        m.raw("<p data-testid=\"installment\" class=\"pd-part\">")
            .text(&which)
            .raw("<br>")
            .text(&left)
            .raw("</p>");
    }
    m.raw("<p class=\"pd-order-no\">")
        .text(t(lang, Text::OrderNo))
        .raw(" <span>")
        .text(out_trade_no)
        .raw("</span></p></section>");
}

/// "Part 2 of 3 (balance) · ¥8,000.00 left after this part", in the page's language.
fn part_line(lang: Lang, p: &PartOfPlan) -> (String, String) {
    let label = p
        .label
        .as_deref()
        .map(|l| format!(" · {l}"))
        .unwrap_or_default();
    let last = p.remaining_after.total == 0;
    match lang {
        Lang::Zh => (
            format!("分期付款：第 {} 期，共 {} 期{label}", p.part, p.parts),
            if last {
                "这是最后一期".to_owned()
            } else {
                format!("本期付款后还需支付 {}", p.remaining_after)
            },
        ),
        Lang::En => (
            format!("Installments: part {} of {}{label}", p.part, p.parts),
            if last {
                "This is the last part".to_owned()
            } else {
                format!("{} left to pay after this part", p.remaining_after)
            },
        ),
    }
}

/// Time left to pay; the expired notice at zero.
pub fn countdown(m: &mut Markup, lang: Lang, seconds_left: i64) {
    if seconds_left <= 0 {
        m.raw("<p data-testid=\"expired\" role=\"status\" class=\"pd-countdown pd-expired\">")
            .text(t(lang, Text::Expired))
            .raw("</p>");
        return;
    }
    m.raw(if seconds_left < 120 {
        "<p class=\"pd-countdown pd-urgent\">"
    } else {
        "<p class=\"pd-countdown\">"
    });
    m.text(t(lang, Text::TimeLeft))
        .raw(" <time data-testid=\"countdown\">")
        .text(&format_countdown(seconds_left))
        .raw("</time></p>");
}

/// The reassurance next to the pay button: the platform's promise, then the merchant's words.
pub fn guarantee(m: &mut Markup, lang: Lang, escrow: EscrowTerms, custom: Option<&str>) {
    let mut text = promise(lang, escrow);
    if let Some(own) = custom {
        text.push(' ');
        text.push_str(own);
    }
    m.raw("<p data-testid=\"guarantee\" class=\"pd-guarantee\">")
        .raw("<svg viewBox=\"0 0 24 24\" width=\"16\" height=\"16\" aria-hidden=\"true\" class=\"pd-shield\">")
        .raw("<path d=\"M12 2 4 5v6c0 5 3.4 9.6 8 11 4.6-1.4 8-6 8-11V5z\" fill=\"currentColor\"></path></svg>")
        .text(&text)
        .raw("</p>");
}

/// The platform's promise, made only from what the merchant's settings do: money held until
/// delivery or `release_days`, refunded by itself when the merchant has an automatic refund.
fn promise(lang: Lang, e: EscrowTerms) -> String {
    let d = e.release_days;
    let (held, after) = match lang {
        Lang::Zh => (
            format!("资金由平台托管，商家确认发货或付款 {d} 天后才转给商家；"),
            ["", "小时内未发货将自动全额退款。", "如不满意，可向商家申请退款。"],
        ),
        Lang::En => (
            format!("Your money is held by the platform until the merchant confirms delivery, for at most {d} days. "),
            ["Not delivered within ", " hours? It is refunded in full by itself.", "Not satisfied? Ask the merchant for a refund."],
        ),
    };
    match e.auto_refund_hours {
        Some(h) => format!("{held}{}{h}{}", after[0], after[1]),
        None => held + after[2],
    }
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
