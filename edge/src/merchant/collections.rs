//! Listing what collects by itself: `GET /v1/contracts`, `/v1/subscriptions` and
//! `/v1/installment_plans`, newest first, a hundred at a time, optionally of one status. The
//! console's automation page reads them (through `/console/api/v1/...`).

use super::contracts::{ContractRow, CONTRACT_COLUMNS};
use super::installments::{PlanRow, PLAN_COLUMNS};
use super::protocol::{ContractList, InstallmentPlanList, SubscriptionList};
use super::store::{Ledger, Merchant, Result};
use super::subscriptions::{SubscriptionRow, SUBSCRIPTION_COLUMNS};
use crate::error::AppError;
use paydesk_shared::contract::ContractStatus;
use paydesk_shared::installment::InstallmentStatus;
use paydesk_shared::subscription::SubscriptionStatus;
use paydesk_shared::urlenc::query_pairs;
use serde::de::DeserializeOwned;

const PAGE: usize = 100;

/// `status=` (checked against the kind's statuses, spelled as its objects spell them) and
/// `after=` (the last id of the page before).
struct Filter {
    status: Option<String>,
    after: String,
}

impl Filter {
    fn of<S: DeserializeOwned>(query: &str) -> Result<Filter> {
        let mut f = Filter {
            status: None,
            after: String::new(),
        };
        for (k, v) in query_pairs(query) {
            match k.as_str() {
                "status" => {
                    serde_json::from_value::<S>(serde_json::Value::String(v.clone()))
                        .map_err(|_| AppError::param("status", format!("no status {v}")))?;
                    f.status = Some(v);
                }
                "after" => f.after = v,
                _ => {
                    return Err(AppError::param(
                        "query",
                        format!("unknown query parameter {k}"),
                    ))
                }
            }
        }
        Ok(f)
    }
}

impl Ledger<'_> {
    /// A page of `table`'s rows, newest first, and the id to read the next page after (its last
    /// row's, `id_of`) when more follow.
    fn newest<T: DeserializeOwned>(
        &self,
        table: &str,
        id: &str,
        columns: &str,
        f: &Filter,
        id_of: fn(&T) -> &str,
    ) -> Result<(Vec<T>, Option<String>)> {
        self.run_due()?;
        if !f.after.is_empty() {
            let known: Vec<serde_json::Value> = self.q(
                &format!("SELECT 1 AS x FROM {table} WHERE {id} = ?"),
                vec![f.after.as_str().into()],
            )?;
            if known.is_empty() {
                return Err(AppError::param("after", "after names nothing listed here"));
            }
        }
        let status = f.status.clone().unwrap_or_default();
        let mut rows: Vec<T> = self.q(
            &format!(
                "SELECT {columns} FROM {table}
                 WHERE (? = '' OR status = ?)
                 AND (? = '' OR (created_at_ms, {id}) <
                     (SELECT created_at_ms, {id} FROM {table} WHERE {id} = ?))
                 ORDER BY created_at_ms DESC, {id} DESC LIMIT {}",
                PAGE + 1
            ),
            vec![
                status.as_str().into(),
                status.as_str().into(),
                f.after.as_str().into(),
                f.after.as_str().into(),
            ],
        )?;
        let more = rows.len() > PAGE;
        rows.truncate(PAGE);
        let next_after = rows.last().filter(|_| more).map(|r| id_of(r).to_owned());
        Ok((rows, next_after))
    }

    pub fn list_contracts(&self, m: &Merchant, query: &str) -> Result<ContractList> {
        let f = Filter::of::<ContractStatus>(query)?;
        let (rows, next_after) = self.newest(
            "contracts",
            "contract_code",
            CONTRACT_COLUMNS,
            &f,
            |c: &ContractRow| c.contract_code.as_str(),
        )?;
        let contracts = rows
            .iter()
            .map(|c| self.wire_contract(c, m))
            .collect::<Result<_>>()?;
        Ok(ContractList {
            contracts,
            next_after,
        })
    }

    pub fn list_subscriptions(&self, m: &Merchant, query: &str) -> Result<SubscriptionList> {
        let f = Filter::of::<SubscriptionStatus>(query)?;
        let (rows, next_after) = self.newest(
            "subscriptions",
            "subscription_id",
            SUBSCRIPTION_COLUMNS,
            &f,
            |s: &SubscriptionRow| s.subscription_id.as_str(),
        )?;
        let subscriptions = rows
            .iter()
            .map(|s| self.wire_subscription(m, s))
            .collect::<Result<_>>()?;
        Ok(SubscriptionList {
            subscriptions,
            next_after,
        })
    }

    pub fn list_installment_plans(&self, query: &str) -> Result<InstallmentPlanList> {
        let f = Filter::of::<InstallmentStatus>(query)?;
        let (rows, next_after) = self.newest(
            "installment_plans",
            "plan_no",
            PLAN_COLUMNS,
            &f,
            |p: &PlanRow| p.plan_no.as_str(),
        )?;
        let plans = rows
            .iter()
            .map(|p| self.wire_installment_plan(p))
            .collect::<Result<_>>()?;
        Ok(InstallmentPlanList { plans, next_after })
    }
}
