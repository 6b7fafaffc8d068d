//! Everything on the pay page that is not the form: success, the retry prompt, confirming, the
//! blocked states. Pure: markup from the state. Buttons carry `data-act`, which the page's
//! script acts on; without it, each is a link or a submit button that works as it is.

use super::markup::Markup;
use crate::i18n::{decline_reason, t, Lang, Text};
use crate::state::{Phase, State};
use paydesk_shared::api::{NextStep, PayMethod};
use paydesk_shared::OrderStatus;

pub fn outcome(m: &mut Markup, s: &State) {
    let (lang, v) = (s.lang, &s.view);
    match &s.phase {
        Phase::Paid => paid(m, s),
        Phase::Confirming => {
            m.raw("<section data-testid=\"confirming\" role=\"status\" class=\"pd-outcome pd-confirming\">")
                .raw("<span aria-hidden=\"true\" class=\"pd-spinner\"></span><p>")
                .text(t(lang, Text::Confirming))
                .raw("</p>");
            refresh(m, lang);
            m.raw("</section>");
        }
        Phase::Failed {
            code, next_step, ..
        } => {
            m.raw("<section data-testid=\"retry-prompt\"")
                .attr("data-code", code)
                .raw(" role=\"alert\" class=\"pd-outcome pd-failed\"><h2>")
                .text(t(lang, Text::FailedTitle))
                .raw("</h2><p class=\"pd-reason\">")
                .text(decline_reason(lang, code))
                .raw(" ")
                .text(t(lang, Text::NothingCharged))
                .raw("</p>");
            match next_step {
                NextStep::Retry => {
                    m.raw("<p>").text(t(lang, Text::RetryHint)).raw("</p>");
                    retry_or_reenter(m, s, " data-testid=\"retry\"");
                }
                NextStep::SwitchMethod => {
                    m.raw("<p data-testid=\"switch-hint\">")
                        .text(t(lang, Text::SwitchMethod))
                        .raw("</p>");
                }
                NextStep::None => {}
            }
            m.raw("</section>");
        }
        Phase::NetworkLost => {
            m.raw("<section data-testid=\"network-lost\" role=\"alert\" class=\"pd-outcome pd-failed\"><p>")
                .text(t(lang, Text::NetworkLost))
                .raw("</p>");
            retry_or_reenter(m, s, "");
            m.raw("</section>");
        }
        Phase::Blocked => {
            let text = if v.status == OrderStatus::PendingApproval {
                Text::AwaitingApproval
            } else if s.expired() && v.status != OrderStatus::Closed {
                Text::Expired
            } else {
                Text::Closed
            };
            m.raw("<section data-testid=\"blocked\"")
                .attr("data-status", v.status.as_str())
                .raw(" role=\"status\" class=\"pd-outcome pd-blocked\"><p>")
                .text(t(lang, text))
                .raw("</p>");
            refresh(m, lang);
            m.raw("</section>");
        }
        Phase::Ready | Phase::Submitting => {}
    }
}

fn paid(m: &mut Markup, s: &State) {
    let (lang, v) = (s.lang, &s.view);
    m.raw("<section data-testid=\"success\" role=\"status\" class=\"pd-outcome pd-success\">")
        .raw("<svg viewBox=\"0 0 52 52\" width=\"72\" height=\"72\" aria-hidden=\"true\" class=\"pd-check\">")
        .raw("<circle cx=\"26\" cy=\"26\" r=\"25\" fill=\"#0a7d5a\"></circle>")
        .raw("<path d=\"M14 27l8 8 16-17\" fill=\"none\" stroke=\"#fff\" stroke-width=\"5\" stroke-linecap=\"round\" stroke-linejoin=\"round\"></path></svg><h2>")
        .text(t(lang, Text::PaidTitle))
        .raw("</h2><p class=\"pd-paid-amount\">")
        .text(&v.amount.to_string())
        .raw("</p><p class=\"pd-order-no\">")
        .text(t(lang, Text::OrderNo))
        .raw(" ")
        .text(&v.out_trade_no)
        .raw("</p>");
    if v.status == OrderStatus::Refund {
        m.raw("<p data-testid=\"refunded\" class=\"pd-review\">")
            .text(t(lang, Text::RefundedNote))
            .raw("</p>");
    }
    if v.in_review {
        m.raw("<p data-testid=\"in-review\" class=\"pd-review\">")
            .text(t(lang, Text::InReviewBefore))
            .text(&v.review_hours.to_string())
            .text(t(lang, Text::InReviewAfter))
            .raw("</p>");
    }
    // The signed receipt of this pay link (`/pay/{token}?receipt`), printable.
    m.raw("<a data-testid=\"receipt\" href=\"?receipt\" target=\"_blank\" rel=\"noopener\" class=\"pd-link\">")
        .text(t(lang, Text::Receipt))
        .raw("</a><button type=\"button\" data-testid=\"return\" data-act=\"return\" class=\"pd-button\">")
        .text(t(lang, Text::ReturnToMerchant))
        .raw("</button></section>");
}

/// "Refresh status": a link to this page, so it also works before (or without) the script.
fn refresh(m: &mut Markup, lang: Lang) {
    m.raw("<a data-testid=\"refresh\" data-act=\"refresh\" role=\"button\" href=\"\" class=\"pd-link\">")
        .text(t(lang, Text::RefreshStatus))
        .raw("</a>");
}

/// "Try again", or, when the card it would send again is not on the page (a page answering a
/// post holds no card number, by design), the hint to enter it again in the form below: a bare
/// resubmit would only send empty card fields.
fn retry_or_reenter(m: &mut Markup, s: &State, testid: &str) {
    if s.method != PayMethod::Balance && s.card.number.is_empty() {
        m.raw("<p data-testid=\"reenter-card\">")
            .text(t(s.lang, Text::ReenterCard))
            .raw("</p>");
    } else {
        retry(m, s.lang, testid);
    }
}

/// "Try again": without the script it submits the pay form; with it, the page decides whether
/// to send the same choice again or go back to the form.
fn retry(m: &mut Markup, lang: Lang, testid: &str) {
    m.raw("<button type=\"submit\" form=\"pd-form\"")
        .raw(testid)
        .raw(" data-act=\"retry\" class=\"pd-button\">")
        .text(t(lang, Text::TryAgain))
        .raw("</button>");
}
