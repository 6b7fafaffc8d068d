//! The contract page's inlined data read without serde, by the pay page's JSON reader
//! (`page/json.rs`): serde_json and serde's derived visitors were a fifth of the contract page's
//! code. Each decoder follows the shared type's serde attributes field by field (a default where
//! serde has one, `null` as `None`), and the tests read what serde_json writes.

use crate::page::json::{branding, method, money, Decode, Json};
use paydesk_shared::api::ErrorCode;
use paydesk_shared::contract::{
    ContractInstrument, ContractPageData, ContractProblem, ContractSeed, ContractStatus,
    ContractView, Period, TerminationMode, UpcomingCharge,
};

impl Decode for ContractPageData {
    fn decode(j: &Json) -> Option<Self> {
        let j = j.object()?;
        Some(ContractPageData {
            view: j.req("view", ContractView::decode)?,
            token: j.req("token", Json::string)?,
            sandbox: j.or("sandbox", false, Json::bool)?,
            seed: j.or("seed", ContractSeed::default(), ContractSeed::decode)?,
        })
    }
}

impl Decode for ContractView {
    fn decode(j: &Json) -> Option<Self> {
        let j = j.object()?;
        Some(ContractView {
            merchant: j.req("merchant", branding)?,
            plan_name: j.req("plan_name", Json::string)?,
            max_amount_per_deduction: j.req("max_amount_per_deduction", money)?,
            period: j.req("period", |v| Period::parse(v.str()?))?,
            max_deductions_per_period: j.req("max_deductions_per_period", Json::u32)?,
            pre_deduction_notice: j.req("pre_deduction_notice", Json::bool)?,
            display_account: j.req("display_account", Json::string)?,
            status: j.req("status", |v| ContractStatus::parse(v.str()?))?,
            sign_deadline: j.req("sign_deadline", Json::string)?,
            expires_at: j.opt("expires_at", Json::string)?,
            contract_days: j.opt("contract_days", Json::u32)?,
            signed_at: j.opt("signed_at", Json::string)?,
            terminated_at: j.opt("terminated_at", Json::string)?,
            termination_mode: j.opt("termination_mode", |v| TerminationMode::parse(v.str()?))?,
            instrument: j.opt("instrument", instrument)?,
            upcoming: j.or("upcoming", Vec::new(), |v| match v {
                Json::Arr(items) => items.iter().map(upcoming).collect(),
                _ => None,
            })?,
        })
    }
}

fn instrument(j: &Json) -> Option<ContractInstrument> {
    let j = j.object()?;
    Some(ContractInstrument {
        method: j.req("method", method)?,
        wallet: j.opt("wallet", Json::string)?,
        card_last4: j.opt("card_last4", Json::string)?,
    })
}

fn upcoming(j: &Json) -> Option<UpcomingCharge> {
    let j = j.object()?;
    Some(UpcomingCharge {
        amount: j.req("amount", money)?,
        description: j.req("description", Json::string)?,
        charge_at: j.req("charge_at", Json::string)?,
        plus_usage: j.or("plus_usage", false, Json::bool)?,
    })
}

impl Decode for ContractSeed {
    fn decode(j: &Json) -> Option<Self> {
        let j = j.object()?;
        Some(ContractSeed {
            lang: j.req("lang", Json::string)?,
            now_ms: j.req("now_ms", Json::int)?,
            method: j.opt("method", method)?,
            wallet: j.opt("wallet", Json::string)?,
            problem: j.opt("problem", problem)?,
            confirm_end: j.or("confirm_end", false, Json::bool)?,
        })
    }
}

/// Tagged by `kind`, snake case.
fn problem(j: &Json) -> Option<ContractProblem> {
    let j = j.object()?;
    Some(match j.get("kind")?.str()? {
        "consent" => ContractProblem::Consent,
        "field" => ContractProblem::Field {
            field: j.req("field", Json::string)?,
            reason: j.req("reason", Json::string)?,
        },
        "declined" => ContractProblem::Declined {
            code: j.req("code", Json::string)?,
        },
        "refused" => ContractProblem::Refused {
            code: j.req("code", |v| Some(ErrorCode::from_wire(v.str()?)))?,
            message: j.req("message", Json::string)?,
        },
        "unavailable" => ContractProblem::Unavailable,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use crate::page::json::from_str;
    use paydesk_shared::api::{ErrorCode, PayMethod};
    use paydesk_shared::contract::*;
    use paydesk_shared::{Branding, Money};

    fn view(status: ContractStatus) -> ContractView {
        ContractView {
            merchant: Branding {
                display_name: "Tea \"House\" 茶馆".into(),
                logo_url: Some("/demo/logo.svg".into()),
                filing_text: None,
                theme_color: Some("#0a7d5a".into()),
                guarantee_text: None,
            },
            plan_name: "Monthly tea box".into(),
            max_amount_per_deduction: Money::cny(9900),
            period: Period::Month,
            max_deductions_per_period: 1,
            pre_deduction_notice: true,
            display_account: "138****0000".into(),
            status,
            sign_deadline: "2026-12-07T10:00:00Z".into(),
            expires_at: None,
            contract_days: Some(365),
            signed_at: None,
            terminated_at: None,
            termination_mode: None,
            instrument: None,
            upcoming: vec![],
        }
    }

    fn data(view: ContractView, seed: ContractSeed) -> ContractPageData {
        ContractPageData {
            view,
            token: "tok.en".into(),
            sandbox: true,
            seed,
        }
    }

    /// What serde_json writes reads back the same.
    fn same(d: &ContractPageData) {
        let text = serde_json::to_string(d).unwrap();
        assert_eq!(
            from_str::<ContractPageData>(&text).as_ref(),
            Some(d),
            "{text}"
        );
    }

    #[test]
    fn reads_what_the_worker_writes_in_every_state() {
        let seed = ContractSeed {
            lang: "zh".into(),
            now_ms: 1_796_000_000_000,
            ..ContractSeed::default()
        };
        same(&data(view(ContractStatus::Pending), seed.clone()));
        let mut active = view(ContractStatus::Active);
        active.signed_at = Some("2026-12-06T10:00:00Z".into());
        active.expires_at = Some("2027-12-06T10:00:00Z".into());
        active.instrument = Some(ContractInstrument {
            method: PayMethod::CreditCard,
            wallet: None,
            card_last4: Some("4242".into()),
        });
        active.upcoming = vec![UpcomingCharge {
            amount: Money::cny(9900),
            description: "December box".into(),
            charge_at: "2026-12-08T10:00:00Z".into(),
            plus_usage: false,
        }];
        let confirm = ContractSeed {
            confirm_end: true,
            ..seed.clone()
        };
        same(&data(active, confirm));
        let mut ended = view(ContractStatus::Terminated);
        ended.terminated_at = Some("2026-12-06T11:00:00Z".into());
        ended.termination_mode = Some(TerminationMode::Payer);
        same(&data(ended, seed.clone()));
        same(&data(view(ContractStatus::Expired), seed.clone()));
    }

    #[test]
    fn reads_every_problem_and_the_posted_choice() {
        let problems = [
            ContractProblem::Consent,
            ContractProblem::Field {
                field: "number".into(),
                reason: "card_number_invalid".into(),
            },
            ContractProblem::Declined {
                code: "INSUFFICIENT_FUNDS".into(),
            },
            ContractProblem::Refused {
                code: ErrorCode::ParamError,
                message: "no".into(),
            },
            ContractProblem::Unavailable,
        ];
        for p in problems {
            let seed = ContractSeed {
                lang: "en".into(),
                now_ms: 1,
                method: Some(PayMethod::Balance),
                wallet: Some("wallet_low".into()),
                problem: Some(p),
                confirm_end: false,
            };
            same(&data(view(ContractStatus::Pending), seed));
        }
    }

    #[test]
    fn defaults_nulls_and_wrong_shapes_as_serde_has_them() {
        let v = serde_json::to_string(&view(ContractStatus::Pending)).unwrap();
        // `sandbox` and `seed` default; `null` options are `None`.
        let d = from_str::<ContractPageData>(&format!(r#"{{"view":{v},"token":"t"}}"#)).unwrap();
        assert!(!d.sandbox);
        assert_eq!(d.seed, ContractSeed::default());
        let nulls = v.replace(r#""contract_days":365"#, r#""contract_days":null"#);
        let d = from_str::<ContractPageData>(&format!(r#"{{"view":{nulls},"token":"t"}}"#));
        assert_eq!(d.unwrap().view.contract_days, None);
        // A code this page does not know is read as serde reads it: Unknown.
        let seed =
            r#"{"lang":"en","now_ms":1,"problem":{"kind":"refused","code":"NEWER","message":"m"}}"#;
        let d =
            from_str::<ContractPageData>(&format!(r#"{{"view":{v},"token":"t","seed":{seed}}}"#));
        assert!(matches!(
            d.unwrap().seed.problem,
            Some(ContractProblem::Refused {
                code: ErrorCode::Unknown,
                ..
            })
        ));
        // What serde refuses is refused.
        for bad in [
            format!(r#"{{"view":{v}}}"#),
            format!(r#"{{"view":{v},"token":1}}"#),
            format!(
                r#"{{"view":{},"token":"t"}}"#,
                v.replace("PENDING", "pending")
            ),
            format!(
                r#"{{"view":{},"token":"t"}}"#,
                v.replace("\"month\"", "\"fortnight\"")
            ),
            format!(r#"{{"view":{v},"token":"t","seed":{{"lang":"en"}}}}"#),
            format!(
                r#"{{"view":{v},"token":"t","seed":{{"lang":"en","now_ms":1,"problem":{{"kind":"other"}}}}}}"#
            ),
            format!(r#"{{"view":{v},"token":"t"}} x"#),
        ] {
            assert!(
                serde_json::from_str::<ContractPageData>(&bad).is_err(),
                "serde accepts {bad}"
            );
            assert_eq!(from_str::<ContractPageData>(&bad), None, "{bad}");
        }
    }
}
