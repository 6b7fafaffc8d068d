//! The contract page's markup, pure: the terms the payer authorises, the signing form (a real
//! HTML form: it posts to the worker without JavaScript; with it, entries are checked before
//! they are sent), and the signed, ended and expired states with the way to end it. The worker
//! sends it and the browser morphs the document into it on every change, so the two cannot
//! differ. It shares the pay page's top bar, header and instrument fields (`crate::page`).

use super::sign::Signing;
use super::text::{ended_by, how_often, t, term, when, Text};
use crate::i18n::{method_label, Lang};
use crate::page::entry::{instrument, Entry};
use crate::page::markup::Markup;
use crate::page::order::{header, topbar};
use paydesk_shared::api::PayMethod;
use paydesk_shared::contract::{ContractPageData, ContractProblem, ContractStatus, ContractView};

/// The whole card for `data` with the form as `s` has it; `logo` is the logo's mark once the
/// browser has said whether it loaded.
pub fn render(data: &ContractPageData, s: &Signing, logo: Option<&str>) -> String {
    let (v, lang) = (&data.view, s.lang);
    let mut m = Markup::new();
    m.raw("<div")
        .attr("lang", lang.html_tag())
        .attr("data-contract-status", v.status.as_str())
        .raw(" class=\"pd-card pd-contract\">");
    topbar(&mut m, lang, data.sandbox, "");
    header(&mut m, lang, &v.merchant, logo);
    terms(&mut m, v, lang);
    let action = |suffix: &str| format!("/contract/{}{suffix}?lang={}", data.token, lang.code());
    match v.status {
        ContractStatus::Pending => sign_form(&mut m, s, &v.sign_deadline, &action("")),
        ContractStatus::Active if data.seed.confirm_end => {
            confirm_end(&mut m, lang, &action("/terminate"), &action(""))
        }
        ContractStatus::Active => signed(&mut m, v, lang, &action("/terminate")),
        ContractStatus::Terminated => ended(&mut m, v, lang),
        ContractStatus::Expired => {
            section(&mut m, "expired", lang, Text::ExpiredTitle);
            m.raw("<p>")
                .text(t(lang, Text::ExpiredBody))
                .raw("</p></section>");
        }
    }
    m.raw("</div>");
    m.finish()
}

/// `<section class="pd-contract-state" data-testid="…"><h2>title</h2>`, left open.
fn section(m: &mut Markup, testid: &str, lang: Lang, title: Text) {
    m.raw("<section class=\"pd-contract-state\"")
        .attr("data-testid", testid)
        .raw("><h2>")
        .text(t(lang, title))
        .raw("</h2>");
}

/// `<dt>term</dt><dd>value</dd>`, the value escaped.
fn row(m: &mut Markup, lang: Lang, term: Text, testid: Option<&str>, value: &str) {
    m.raw("<dt>").text(t(lang, term)).raw("</dt><dd");
    if let Some(id) = testid {
        m.attr("data-testid", id);
    }
    m.raw(">").text(value).raw("</dd>");
}

/// Who will charge, for what, how much at most, how often, until when, and how to cancel.
fn terms(m: &mut Markup, v: &ContractView, lang: Lang) {
    let until = match (&v.expires_at, v.contract_days) {
        (Some(at), _) => when(at),
        (None, Some(days)) if v.status == ContractStatus::Pending => term(lang, days),
        _ => t(lang, Text::UntilEnded).to_owned(),
    };
    m.raw("<section class=\"pd-contract-terms\"><h2>")
        .text(t(lang, Text::Title))
        .raw("</h2><p><strong>")
        .text(&v.merchant.display_name)
        .raw("</strong> ")
        .text(t(lang, Text::Intro))
        .raw("</p><dl class=\"pd-terms\" data-testid=\"terms\">");
    row(m, lang, Text::Service, None, &v.plan_name);
    row(m, lang, Text::Account, None, &v.display_account);
    let at_most = v.max_amount_per_deduction.to_string();
    row(m, lang, Text::AtMost, Some("max-amount"), &at_most);
    let often = how_often(lang, v.max_deductions_per_period, v.period);
    row(m, lang, Text::HowOften, None, &often);
    row(m, lang, Text::Until, Some("until"), &until);
    if v.pre_deduction_notice {
        row(m, lang, Text::Notice, None, t(lang, Text::NoticeText));
    }
    m.raw("</dl>");
    if v.status == ContractStatus::Pending {
        m.raw("<p class=\"pd-muted\" data-testid=\"how-to-cancel\">")
            .text(t(lang, Text::HowToCancel))
            .raw("</p>");
    }
    m.raw("</section>");
}

/// The instrument and the consent. Without JavaScript the form posts as it is; with it, an
/// entry the worker would refuse is pointed out before anything is sent.
fn sign_form(m: &mut Markup, s: &Signing, deadline: &str, action: &str) {
    let lang = s.lang;
    m.raw("<form class=\"pd-form\" id=\"pd-contract-form\" method=\"post\" novalidate")
        .attr("action", action)
        .raw("><p class=\"pd-muted\">")
        .text(t(lang, Text::ConfirmBy))
        .raw(" ")
        .text(&when(deadline))
        .raw("</p>");
    instrument(
        m,
        &Entry {
            lang,
            methods: &PayMethod::ALL,
            method: s.method,
            wallet: &s.wallet,
            card: &s.card,
            field_error: s.field_error(),
            busy: false,
        },
    );
    let missing = matches!(s.problem, Some(ContractProblem::Consent));
    m.raw(if missing {
        "<label class=\"pd-consent pd-invalid\">"
    } else {
        "<label class=\"pd-consent\">"
    })
    .raw("<input type=\"checkbox\" name=\"consent\" value=\"yes\" data-testid=\"consent\"")
    .flag("checked", s.consent)
    .raw("><span>")
    .text(t(lang, Text::Consent))
    .raw("</span></label>");
    problem_note(m, s.problem.as_ref(), lang);
    m.raw("<button type=\"submit\" class=\"pd-button pd-pay\" data-testid=\"sign\">")
        .text(t(lang, Text::Sign))
        .raw("</button></form>");
}

fn problem_note(m: &mut Markup, problem: Option<&ContractProblem>, lang: Lang) {
    let text = match problem {
        None | Some(ContractProblem::Field { .. }) => return,
        Some(ContractProblem::Consent) => t(lang, Text::ConsentMissing).to_owned(),
        Some(ContractProblem::Declined { code }) => {
            format!(
                "{} {}",
                t(lang, Text::NotKept),
                crate::i18n::decline_reason(lang, code)
            )
        }
        // The payer's language, not the API's English message: what it means for them.
        Some(ContractProblem::Refused { code, .. }) => {
            crate::i18n::decline_reason(lang, code.as_str()).to_owned()
        }
        Some(ContractProblem::Unavailable) => t(lang, Text::Unavailable).to_owned(),
    };
    m.raw("<p class=\"pd-problem\" role=\"alert\" data-testid=\"problem\">")
        .text(&text)
        .raw("</p>");
}

/// The payer opened the link to end it: one more press, or keep it.
fn confirm_end(m: &mut Markup, lang: Lang, end: &str, keep: &str) {
    section(m, "confirm-end", lang, Text::ConfirmEndTitle);
    m.raw("<p>")
        .text(t(lang, Text::ConfirmEndBody))
        .raw("</p><form method=\"post\"")
        .attr("action", end)
        .raw("><input type=\"hidden\" name=\"confirm\" value=\"yes\"><button type=\"submit\" class=\"pd-button pd-danger\" data-testid=\"end\">")
        .text(t(lang, Text::End))
        .raw("</button></form><a class=\"pd-link\"")
        .attr("href", keep)
        .raw(">")
        .text(t(lang, Text::Keep))
        .raw("</a></section>");
}

/// Signed: since when, charged to what, what comes next, and the way to end it.
fn signed(m: &mut Markup, v: &ContractView, lang: Lang, end: &str) {
    section(m, "signed", lang, Text::SignedTitle);
    m.raw("<dl class=\"pd-terms\">");
    if let Some(at) = &v.signed_at {
        row(m, lang, Text::Since, None, &when(at));
    }
    if let Some(i) = &v.instrument {
        let label = method_label(lang, i.method);
        let detail = match &i.card_last4 {
            Some(l4) => format!("{label} · {} {l4}", t(lang, Text::Card)),
            None => label.to_owned(),
        };
        row(m, lang, Text::PayWith, Some("instrument"), &detail);
    }
    m.raw("</dl>");
    if !v.upcoming.is_empty() {
        m.raw("<h3>")
            .text(t(lang, Text::Upcoming))
            .raw("</h3><ul class=\"pd-upcoming\" data-testid=\"upcoming\">");
        for u in &v.upcoming {
            m.raw("<li>")
                .text(&when(&u.charge_at))
                .raw(" · ")
                .text(&u.amount.to_string());
            if u.plus_usage {
                m.text(t(lang, Text::PlusUsage));
            }
            m.raw(" · ").text(&u.description).raw("</li>");
        }
        m.raw("</ul>");
    }
    m.raw("<p class=\"pd-muted\">")
        .text(t(lang, Text::HowToCancel))
        .raw("</p><a class=\"pd-button pd-secondary\" data-testid=\"end-link\"")
        .attr("href", end)
        .raw(">")
        .text(t(lang, Text::End))
        .raw("</a></section>");
}

/// Ended: by whom and when; nothing more is charged.
fn ended(m: &mut Markup, v: &ContractView, lang: Lang) {
    section(m, "ended", lang, Text::EndedTitle);
    m.raw("<p>");
    if let Some(mode) = v.termination_mode {
        m.text(ended_by(lang, mode));
    }
    if let Some(at) = &v.terminated_at {
        m.raw(" · ").text(&when(at));
    }
    m.raw("</p><p>")
        .text(t(lang, Text::NoMoreCharges))
        .raw("</p></section>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use crate::state::tests::NOW;
    use paydesk_shared::contract::{ContractInstrument, ContractSeed, Period, UpcomingCharge};
    use paydesk_shared::{Branding, Money};

    fn data(status: ContractStatus) -> ContractPageData {
        ContractPageData {
            view: ContractView {
                merchant: Branding {
                    display_name: "Tea <b>club</b>".into(),
                    logo_url: None,
                    filing_text: None,
                    theme_color: None,
                    guarantee_text: None,
                },
                plan_name: "Tea club 茶友会".into(),
                max_amount_per_deduction: Money::cny(990_000),
                period: Period::Month,
                max_deductions_per_period: 1,
                pre_deduction_notice: true,
                display_account: "alice@example.com".into(),
                status,
                sign_deadline: "2026-12-08T10:00:00Z".into(),
                expires_at: None,
                contract_days: Some(365),
                signed_at: Some("2026-12-07T10:00:00Z".into()),
                terminated_at: None,
                termination_mode: None,
                instrument: Some(ContractInstrument {
                    method: PayMethod::BankCard,
                    wallet: None,
                    card_last4: Some("4242".into()),
                }),
                upcoming: vec![UpcomingCharge {
                    amount: Money::cny(1_200),
                    description: "December".into(),
                    charge_at: "2026-12-09T00:00:00Z".into(),
                    plus_usage: false,
                }],
            },
            token: "tok".into(),
            sandbox: true,
            seed: ContractSeed {
                lang: "en".into(),
                now_ms: NOW,
                ..ContractSeed::default()
            },
        }
    }

    fn page(d: &ContractPageData) -> String {
        render(d, &Signing::seeded(&d.seed), None)
    }

    #[test]
    fn a_pending_contract_shows_its_terms_and_a_form_that_posts() {
        let html = page(&data(ContractStatus::Pending));
        assert!(html.starts_with(
            r#"<div lang="en" data-contract-status="PENDING" class="pd-card pd-contract">"#
        ));
        assert!(html.contains(r#"<dd data-testid="max-amount">¥9,900.00</dd>"#));
        assert!(html.contains(r#"<dd data-testid="until">365 days after you sign</dd>"#));
        assert!(html.contains(r#"data-testid="how-to-cancel""#));
        assert!(html.contains(r#"<form class="pd-form" id="pd-contract-form" method="post" novalidate action="/contract/tok?lang=en">"#));
        assert!(html.contains(r#"value="balance" checked type="radio" name="method""#));
        assert!(html.contains(
            r#"<input type="checkbox" name="consent" value="yes" data-testid="consent">"#
        ));
        assert!(html.contains("Confirm by 2026-12-08 10:00 UTC"));
        assert!(html.contains("Sandbox"));
        assert!(!html.contains("data-testid=\"problem\""));
        assert!(
            html.contains("Tea &lt;b&gt;club&lt;/b&gt;"),
            "names are text"
        );
    }

    #[test]
    fn problems_are_shown_where_they_are() {
        let d = data(ContractStatus::Pending);
        let mut s = Signing::seeded(&d.seed);
        s.problem = Some(ContractProblem::Consent);
        let html = render(&d, &s, None);
        assert!(html.contains(r#"<label class="pd-consent pd-invalid">"#));
        assert!(html.contains("Tick the box to authorise</p>"));
        s.problem = Some(ContractProblem::Field {
            field: "cvc".into(),
            reason: "card_cvc_invalid".into(),
        });
        let html = render(&d, &s, None);
        assert!(html.contains(r#"id="pd-card-cvc-error""#));
        assert!(!html.contains("data-testid=\"problem\""));
        s.problem = Some(ContractProblem::Declined {
            code: "INSUFFICIENT_FUNDS".into(),
        });
        assert!(render(&d, &s, None).contains("cannot be used There are not enough funds.</p>"));
        s.lang = Lang::Zh;
        let zh = render(&d, &s, None);
        assert!(
            zh.contains("余额不足。</p>"),
            "the reason in the payer's language"
        );
        assert!(!zh.contains("funds"));
    }

    #[test]
    fn the_other_states() {
        let html = page(&data(ContractStatus::Active));
        assert!(html.contains(r#"data-testid="signed""#));
        assert!(html.contains(r#"<dd data-testid="instrument">Bank card · Card ending 4242</dd>"#));
        assert!(html.contains("2026-12-09 00:00 UTC · ¥12.00 · December</li>"));
        assert!(html.contains(r#"href="/contract/tok/terminate?lang=en""#));
        assert!(html.contains("Until you or the merchant end it"));
        assert!(!html.contains("<form"));
        let mut d = data(ContractStatus::Active);
        d.seed.confirm_end = true;
        let html = page(&d);
        assert!(html.contains(r#"data-testid="confirm-end""#));
        assert!(html.contains(r#"<form method="post" action="/contract/tok/terminate?lang=en">"#));
        let mut d = data(ContractStatus::Terminated);
        d.view.termination_mode = Some(paydesk_shared::contract::TerminationMode::Payer);
        d.view.terminated_at = Some("2026-12-10T08:30:00Z".into());
        assert!(page(&d).contains("<p>Ended by you · 2026-12-10 08:30 UTC</p>"));
        assert!(page(&data(ContractStatus::Expired)).contains(r#"data-testid="expired""#));
        d.seed.lang = "zh".into();
        assert!(page(&d).contains("授权已解除"));
    }

    #[test]
    fn a_language_switch_renders_the_same_page_in_the_other_language() {
        let d = data(ContractStatus::Pending);
        let mut s = Signing::seeded(&d.seed);
        s.lang = Lang::Zh;
        let html = render(&d, &s, None);
        assert!(html.contains("授权自动扣款") && html.contains("每月最多 1 次"));
        assert!(html.contains(r#"action="/contract/tok?lang=zh""#));
    }
}
