//! The signed merchant JSON API inside the object: which operation the path names, then
//! authentication (its own transaction: a request that fails on its merits has still used its
//! nonce and its place in the rate window), then the capability that answers it.

use super::api_route::{route, ApiRoute};
use super::protocol::{ApiBody, ApiReply, ApiRequest, ReviewDecision};
use super::store::{parse_body, Ledger, Merchant, Result};
use crate::error::AppError;
use paydesk_shared::api::{CreateOrder, CreateRefund, ErrorCode};
use paydesk_shared::contract::TerminateContract;
use paydesk_shared::subscription::CancelSubscription;

impl Ledger<'_> {
    pub async fn api(&self, req: &ApiRequest) -> Result<ApiReply> {
        let route = route(&req.method, &req.path).map_err(|code| match code {
            ErrorCode::MethodNotAllowed => {
                AppError::code(code, "this method is not allowed on this path")
            }
            ErrorCode::ParamError => {
                AppError::param("path", "the path is not valid UTF-8 after decoding")
            }
            _ => AppError::code(ErrorCode::NotFound, "no such API operation"),
        })?;
        let used = self.atomically(|l| l.authenticate(req, route.rate_kind()))?;
        self.kept().record_nonce(used.key, used.at_ms);
        self.remember_origin()?;
        if let ApiRoute::CloseOrder(id) = &route {
            super::upstream_close::close_there_first(self, id).await?;
        }
        self.atomically(|l| {
            let m = l.merchant_or_fail()?;
            l.answer_api(&m, &route, req)
        })
    }

    pub(super) fn answer_api(
        &self,
        m: &Merchant,
        route: &ApiRoute,
        req: &ApiRequest,
    ) -> Result<ApiReply> {
        let ok = |body| Ok(ApiReply::new(200, body));
        match route {
            ApiRoute::CreateOrder => {
                let (order, created) =
                    self.create_order(m, &parse_body::<CreateOrder>(&req.body)?)?;
                Ok(ApiReply::new(
                    if created { 201 } else { 200 },
                    ApiBody::Order(Box::new(order)),
                ))
            }
            ApiRoute::QueryOrder(id) => {
                let o = self.queried_order(m, id)?;
                ok(ApiBody::Order(Box::new(self.wire_order(&o, m)?)))
            }
            ApiRoute::CloseOrder(id) => {
                self.close_by_merchant(m, id)?;
                Ok(ApiReply::new(204, ApiBody::Nothing))
            }
            ApiRoute::FulfilOrder(id) => ok(ApiBody::Order(Box::new(self.fulfil(m, id)?))),
            ApiRoute::CreateRefund => {
                let ask: CreateRefund = parse_body(&req.body)?;
                let (r, created) = self.create_refund(m, &ask, None)?;
                Ok(ApiReply::new(
                    if created { 201 } else { 200 },
                    ApiBody::Refund(r.wire()),
                ))
            }
            ApiRoute::QueryRefund(id) => ok(ApiBody::Refund(self.refund_or_fail(id)?.wire())),
            ApiRoute::VerifyAudit => ok(ApiBody::Audit(self.verify_audit()?)),
            ApiRoute::ListNotifications => {
                ok(ApiBody::Notifications(self.list_notifications(&req.query)?))
            }
            ApiRoute::GetNotification(id) => ok(ApiBody::Notification(Box::new(
                self.get_notification(m, id)?,
            ))),
            ApiRoute::ResendNotification(id) => {
                let n = self.resend_notification(m, id)?;
                Ok(ApiReply::new(202, ApiBody::Resent(n)))
            }
            ApiRoute::ListAlerts => ok(ApiBody::Alerts(self.list_alerts()?)),
            ApiRoute::CreatePlan => {
                let (plan, created) = self.create_plan(&parse_body(&req.body)?)?;
                Ok(ApiReply::new(created_or_same(created), ApiBody::Plan(plan)))
            }
            ApiRoute::QueryPlan(id) => ok(ApiBody::Plan(self.plan_or_fail(id)?.wire()?)),
            ApiRoute::CreateContract => {
                let ask = parse_body(&req.body)?;
                let (c, created) = self.request_contract(m, &ask, None)?;
                let wire = self.wire_contract(&c, m)?;
                Ok(ApiReply::new(
                    created_or_same(created),
                    ApiBody::Contract(Box::new(wire)),
                ))
            }
            ApiRoute::QueryContract(code) => {
                let c = self.current_contract(m, code)?;
                ok(ApiBody::Contract(Box::new(self.wire_contract(&c, m)?)))
            }
            ApiRoute::TerminateContract(code) => {
                let ask: TerminateContract = match req.body.trim() {
                    "" => TerminateContract::default(),
                    body => parse_body(body)?,
                };
                let c = self.terminate_by_merchant(m, code, ask.remark.as_deref())?;
                ok(ApiBody::Contract(Box::new(self.wire_contract(&c, m)?)))
            }
            ApiRoute::CreateDeduction(code) => {
                let (order, created) = self.deduct(m, code, &parse_body(&req.body)?, None)?;
                Ok(ApiReply::new(
                    created_or_same(created),
                    ApiBody::Order(Box::new(order)),
                ))
            }
            ApiRoute::CreateSubscription
            | ApiRoute::QuerySubscription(_)
            | ApiRoute::CancelSubscription(_)
            | ApiRoute::PauseSubscription(_)
            | ApiRoute::ResumeSubscription(_)
            | ApiRoute::ReportUsage(_) => self.answer_subscriptions(m, route, req),
            ApiRoute::CreateInstallmentPlan
            | ApiRoute::QueryInstallmentPlan(_)
            | ApiRoute::ListEntitlements => self.answer_plans(m, route, req),
            ApiRoute::ListContracts
            | ApiRoute::ListSubscriptions
            | ApiRoute::ListInstallmentPlans
            | ApiRoute::DailyReport => self.answer_listings(m, route, &req.query),
            // Fees, settlements, the balance, receivers, the pool, bills.
            _ => self.answer_money(m, route, req),
        }
    }

    /// What collects by itself, listed, and the daily report.
    fn answer_listings(&self, m: &Merchant, route: &ApiRoute, query: &str) -> Result<ApiReply> {
        let body = match route {
            ApiRoute::ListContracts => ApiBody::Contracts(self.list_contracts(m, query)?),
            ApiRoute::ListSubscriptions => {
                ApiBody::Subscriptions(self.list_subscriptions(m, query)?)
            }
            ApiRoute::ListInstallmentPlans => {
                ApiBody::InstallmentPlans(self.list_installment_plans(query)?)
            }
            ApiRoute::DailyReport => ApiBody::Daily(Box::new(self.daily_report(m, query)?)),
            _ => return Err(AppError::internal("not a listing")),
        };
        Ok(ApiReply::new(200, body))
    }

    /// Installment plans and entitlements.
    fn answer_plans(&self, m: &Merchant, route: &ApiRoute, req: &ApiRequest) -> Result<ApiReply> {
        let ok = |body| Ok(ApiReply::new(200, body));
        match route {
            ApiRoute::CreateInstallmentPlan => {
                let (p, created) = self.create_installment_plan(m, &parse_body(&req.body)?)?;
                Ok(ApiReply::new(
                    created_or_same(created),
                    ApiBody::InstallmentPlan(Box::new(p)),
                ))
            }
            ApiRoute::ListEntitlements => ok(ApiBody::Entitlements(
                self.list_entitlements(m, &req.query)?,
            )),
            ApiRoute::QueryInstallmentPlan(no) => {
                let p = self.current_installment_plan(m, no)?;
                let wire = self.wire_installment_plan(&p)?;
                ok(ApiBody::InstallmentPlan(Box::new(wire)))
            }
            _ => Err(AppError::internal("not an installment plan operation")),
        }
    }

    /// Money after the payment: fees, settlements, the balance, receivers, the fund pool,
    /// bills, receipts.
    fn answer_money(&self, m: &Merchant, route: &ApiRoute, req: &ApiRequest) -> Result<ApiReply> {
        let ok = |body| Ok(ApiReply::new(200, body));
        match route {
            ApiRoute::FeeReport => ok(ApiBody::FeeReport(Box::new(
                self.fee_report(m, &req.query)?,
            ))),
            ApiRoute::ListSettlements => {
                ok(ApiBody::Settlements(self.list_settlements(&req.query)?))
            }
            ApiRoute::Balance => ok(ApiBody::Balance(self.balance(m)?)),
            ApiRoute::AuditLog => ok(ApiBody::AuditLog(self.audit_log(&req.query)?)),
            ApiRoute::SettlementStatement(id) => {
                ok(ApiBody::Statement(Box::new(self.statement(m, id)?)))
            }
            ApiRoute::OrderReceipt(no) => {
                let o = self.current_order(m, no)?;
                ok(ApiBody::Receipts(Box::new(self.receipts(m, &o)?)))
            }
            ApiRoute::CreateReceiver => {
                let (r, created) = self.create_receiver(m, &parse_body(&req.body)?)?;
                Ok(ApiReply::new(
                    created_or_same(created),
                    ApiBody::Receiver(r),
                ))
            }
            ApiRoute::ListReceivers => ok(ApiBody::Receivers(self.list_receivers()?)),
            ApiRoute::Pool => ok(ApiBody::Pool(self.pool_view(m)?)),
            ApiRoute::Bill => ok(ApiBody::Bill(Box::new(self.bill_head(m, &req.query)?))),
            ApiRoute::Export => ok(ApiBody::Export(Box::new(self.export_head(m, &req.query)?))),
            ApiRoute::ListReviews => ok(ApiBody::Reviews(self.list_reviews(&req.query)?)),
            ApiRoute::ApproveReview(id) | ApiRoute::RejectReview(id) => {
                let approve = matches!(route, ApiRoute::ApproveReview(_));
                let ask: ReviewDecision = match req.body.trim() {
                    "" => ReviewDecision::default(),
                    body => parse_body(body)?,
                };
                let r = self.decide_review(m, id, approve, &ask, "merchant_api")?;
                ok(ApiBody::Review(Box::new(r)))
            }
            ApiRoute::Apply => {
                let a = self.apply_to_collect(m, &parse_body(&req.body)?)?;
                Ok(ApiReply::new(201, ApiBody::Application(Box::new(a))))
            }
            ApiRoute::Application => ok(ApiBody::Application(Box::new(
                self.application_view(m, false)?,
            ))),
            ApiRoute::ListChannels => ok(ApiBody::Channels(self.list_channels(m)?)),
            _ => self.answer_messaging(m, route, req),
        }
    }

    /// Messages to people: the settings, the inbox, the outbound list.
    fn answer_messaging(
        &self,
        m: &Merchant,
        route: &ApiRoute,
        req: &ApiRequest,
    ) -> Result<ApiReply> {
        let ok = |body| Ok(ApiReply::new(200, body));
        match route {
            ApiRoute::GetMessaging => ok(ApiBody::Messaging(Box::new(self.messaging_view()?))),
            ApiRoute::SetMessaging => ok(ApiBody::Messaging(Box::new(
                self.set_messaging(m, &parse_body(&req.body)?)?,
            ))),
            ApiRoute::Inbox => ok(ApiBody::Inbox(self.inbox(&req.query)?)),
            ApiRoute::MarkRead(id, read) => {
                ok(ApiBody::Message(Box::new(self.mark_read(m, id, *read)?)))
            }
            ApiRoute::ListMessages => ok(ApiBody::Messages(self.list_messages(&req.query)?)),
            _ => Err(AppError::internal("not an API operation")),
        }
    }

    /// The subscription operations.
    fn answer_subscriptions(
        &self,
        m: &Merchant,
        route: &ApiRoute,
        req: &ApiRequest,
    ) -> Result<ApiReply> {
        let (status, s) = match route {
            ApiRoute::CreateSubscription => {
                let (s, created) = self.create_subscription(m, &parse_body(&req.body)?)?;
                return Ok(ApiReply::new(
                    created_or_same(created),
                    ApiBody::Subscription(Box::new(s)),
                ));
            }
            ApiRoute::QuerySubscription(id) => (200, self.current_subscription(m, id)?),
            ApiRoute::CancelSubscription(id) => {
                let ask: CancelSubscription = match req.body.trim() {
                    "" => CancelSubscription::default(),
                    body => parse_body(body)?,
                };
                (200, self.cancel_subscription(m, id, ask.at_period_end)?)
            }
            ApiRoute::PauseSubscription(id) => (200, self.pause_or_resume(m, id, true)?),
            ApiRoute::ResumeSubscription(id) => (200, self.pause_or_resume(m, id, false)?),
            ApiRoute::ReportUsage(id) => {
                let (u, created) = self.report_usage(m, id, &parse_body(&req.body)?)?;
                return Ok(ApiReply::new(created_or_same(created), ApiBody::Usage(u)));
            }
            _ => return Err(AppError::internal("not a subscription operation")),
        };
        let wire = self.wire_subscription(m, &s)?;
        Ok(ApiReply::new(status, ApiBody::Subscription(Box::new(wire))))
    }
}

/// 201 for what a request created, 200 for the same request answered again.
fn created_or_same(created: bool) -> u16 {
    if created {
        201
    } else {
        200
    }
}
