//! The typed protocol between the worker and a merchant's Durable Object: one command type per
//! operation, each bound by [`Ask`] to the one reply type the object answers it with. Plain
//! serde types, shared by both sides of the stub call and tested natively. A refusal or failure
//! travels back as the edge's one [`AppError`], which the worker renders; so does every reply,
//! except a merchant API answer in JSON, which the object renders ([`RENDERED`]).

use crate::config::Secret;
use crate::domain::approval::{ApprovalLevel, ApprovalStatus};
use crate::domain::events::{DeliveryStatus, EventKind};
use crate::domain::limits::{RateLimits, Tier, DEFAULT_UTC_OFFSET_MINUTES};
use crate::domain::schedule_rules::Dunning;
use paydesk_shared::api::{Order, PayRequest, PayResult, Refund};
use paydesk_shared::contract::{Contract, ContractView, Plan};
use paydesk_shared::entitlement::EntitlementList;
use paydesk_shared::installment::InstallmentPlan;
use paydesk_shared::subscription::{Subscription, UsageRecord};
use paydesk_shared::{Branding, CheckoutView, Money};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How long a `remind` order stays open after its reminder, by default.
pub const DEFAULT_REMIND_GRACE_SECONDS: u32 = 24 * 3600;

/// Per-merchant settings (everything but identity, keys and branding). `Default` is what an
/// empty JSON object gives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MerchantConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
    /// Used instead of the usual URL while a delivery alert is open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_notify_url: Option<String>,
    #[serde(default)]
    pub ip_allowlist: Vec<String>,
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    #[serde(default)]
    pub approval_levels: Vec<ApprovalLevel>,
    #[serde(default)]
    pub rate_limits: RateLimits,
    /// Minor units per merchant calendar day; defaults from the tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_limit: Option<u64>,
    /// Fixed-price items: `item_id` → amount.
    #[serde(default)]
    pub items: BTreeMap<String, Money>,
    /// The merchant's calendar day is in this UTC offset (default UTC+8).
    #[serde(default = "default_offset")]
    pub utc_offset_minutes: i32,
    /// How long a `remind` order stays open after its reminder (default 24 h).
    #[serde(default = "default_grace")]
    pub remind_grace_seconds: u32,
    /// Refunds above this many minor units need one approver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_approval_above: Option<u64>,
    /// Retries of a failed periodic charge (`domain::schedule_rules::Dunning`).
    #[serde(default)]
    pub dunning: Dunning,
    /// Items whose purchase entitles the payer for this many days: `item_id` → days.
    #[serde(default)]
    pub validity_days: BTreeMap<String, u32>,
    /// A paid order's money is held until it is fulfilled or this many days pass.
    #[serde(default = "default_release_days")]
    pub release_days: u32,
    /// Paid orders not fulfilled within this many hours are refunded in full by themselves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_refund_hours: Option<u32>,
    /// Risk rules (`domain::risk_rules`); the freeze rule is on by default.
    #[serde(default)]
    pub risk: crate::domain::risk_rules::RiskConfig,
    /// What the merchant sells: its fee rate follows it (`domain::money_rules`).
    #[serde(default)]
    pub industry: crate::domain::money_rules::Industry,
}

fn default_release_days() -> u32 {
    crate::domain::escrow_rules::DEFAULT_RELEASE_DAYS
}

fn default_offset() -> i32 {
    DEFAULT_UTC_OFFSET_MINUTES
}

fn default_grace() -> u32 {
    DEFAULT_REMIND_GRACE_SECONDS
}

impl Default for MerchantConfig {
    fn default() -> Self {
        MerchantConfig {
            notify_url: None,
            backup_notify_url: None,
            ip_allowlist: Vec::new(),
            allowed_origins: Vec::new(),
            approval_levels: Vec::new(),
            rate_limits: RateLimits::default(),
            daily_limit: None,
            items: BTreeMap::new(),
            utc_offset_minutes: default_offset(),
            remind_grace_seconds: default_grace(),
            refund_approval_above: None,
            dunning: Dunning::default(),
            validity_days: BTreeMap::new(),
            release_days: default_release_days(),
            auto_refund_hours: None,
            industry: Default::default(),
            risk: Default::default(),
        }
    }
}

/// A merchant as the admin API creates it; keys are minted by the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MerchantSetup {
    pub merchant_id: String,
    pub name: String,
    pub tier: Tier,
    pub sandbox: bool,
    pub branding: Branding,
    pub config: MerchantConfig,
    pub api_key: Secret,
    pub webhook_secret: Secret,
    /// The group whose fund pool its settlements sweep into.
    #[serde(default)]
    pub group_id: Option<String>,
}

/// Who is asking: the context every command travels with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    pub request_id: String,
    /// `scheme://host` for building `checkout_url`s.
    pub origin: String,
    /// Whether dev-only relaxations apply (http notify URLs to loopback).
    pub dev: bool,
}

/// A command to a merchant's object that it answers with `Self::Reply`.
pub trait Ask: Into<Command> {
    type Reply: Serialize + DeserializeOwned;
}

/// Declares the commands: the `Command` enum the object dispatches on, and for each command
/// type its variant and its reply type.
macro_rules! commands {
    ($($(#[$doc:meta])* $variant:ident($ty:ty) -> $reply:ty;)*) => {
        /// Externally tagged (`{"checkout": {...}}`): an internally tagged enum is read
        /// through a buffered copy of its input (see `ApiBody`).
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Command {
            $($(#[$doc])* $variant($ty),)*
        }
        $(
            impl From<$ty> for Command {
                fn from(c: $ty) -> Command {
                    Command::$variant(c)
                }
            }
            impl Ask for $ty {
                type Reply = $reply;
            }
        )*
    };
}

commands! {
    /// Admin: create the merchant this object holds.
    CreateMerchant(CreateMerchant) -> Created;
    /// A signed merchant JSON API request.
    Api(ApiRequest) -> ApiReply;
    /// The v2 XML dialect; answered with a signed document.
    V2(V2Request) -> V2Reply;
    /// What the pay page shows; marks the order as opened by a payer.
    Checkout(Checkout) -> CheckoutReply;
    /// A payer pays.
    Pay(Pay) -> PayResult;
    GetMerchant(GetMerchant) -> MerchantSummary;
    RotateSecret(RotateSecret) -> SecretRotated;
    Reactivate(Reactivate) -> Reactivated;
    /// Admin: lift a risk freeze, with a reason.
    Unfreeze(Unfreeze) -> FreezeState;
    /// Admin: the merchant's latest application, masked (or opened, audited).
    GetApplication(GetApplication) -> ApplicationView;
    /// Admin: approve (with the tier) or reject (with a reason) the waiting application.
    DecideApplication(DecideApplication) -> ApplicationView;
    /// Admin: the upstream channel the merchant is paid through.
    SetChannel(SetChannel) -> ChannelSummary;
    /// The payer presses pay on an upstream merchant's page: where to send them (awaits the
    /// upstream, outside any transaction).
    Cashier(Cashier) -> CashierReply;
    /// The upstream's payment notification; the answer is its protocol's XML.
    UpstreamNotify(UpstreamNotify) -> String;
    /// Admin: re-seal a batch of what older data keys sealed under the first one.
    Reseal(Reseal) -> Resealed;
    /// Admin: set the merchant's risk rules (checked whole; nothing changes if refused).
    SetRisk(SetRisk) -> crate::domain::risk_rules::RiskConfig;
    AdvanceClock(AdvanceClock) -> ClockMoved;
    ListOrders(ListOrders) -> OrderPage;
    Decide(Decide) -> Decision;
    VerifyAudit(VerifyAudit) -> AuditReport;
    /// Dev only: what the object has asked of its SQLite (`merchant/sql_meter.rs`).
    ReadSqlMeter(ReadSqlMeter) -> super::sql_meter::MeterReading;
    /// Dev only: the bench's floor for a write, one `INSERT` and nothing else.
    BenchWrite(BenchWrite) -> BenchWritten;
    /// `GET /api/health`: one write and its read-back in the storage probe's object.
    ProbeStorage(ProbeStorage) -> StorageProbed;
    /// What a contract's page shows (signing, signed, ended).
    ContractPage(ContractPage) -> ContractPageReply;
    /// The payer signs a contract on its page.
    SignContract(SignContract) -> ContractPageReply;
    /// The payer ends a contract from its page.
    EndContract(EndContract) -> ContractPageReply;
    /// The v2 dialect's signing link (`/papay/entrustweb`): the contract page to send the payer to.
    EntrustWeb(EntrustWeb) -> Entrusted;
    /// To a group's object: a merchant joins its fund pool.
    JoinPool(JoinPool) -> PoolJoined;
    /// To a group's object: a member's settlement sweeps into the pool (once, however often
    /// it is sent).
    Sweep(Sweep) -> Swept;
    /// The next page of a bill the merchant was authenticated for (`BillHead`): only the
    /// worker sends it, after the merchant's signed request was answered with the head.
    BillPage(BillPage) -> BillLines;
    /// The next page of an export the merchant was authenticated for (`ExportHead`): only the
    /// worker sends it, after the merchant's signed request was answered with the head.
    ExportPage(ExportPage) -> ExportLines;
    /// The receipts of an order whose pay page link the worker verified.
    PayerReceipts(PayerReceipts) -> Receipts;
    /// A payer's unsubscribe link, verified by the worker.
    Unsubscribe(Unsubscribe) -> UnsubscribeReply;
    /// Admin: a console user, its password already hashed by the worker.
    NewConsoleUser(NewConsoleUser) -> SessionView;
    /// Admin: the merchant's console users.
    ListConsoleUsers(ListConsoleUsers) -> ConsoleUserList;
    /// Admin: a user's new role, or new password (hashed by the worker), or both.
    ChangeConsoleUser(ChangeConsoleUser) -> SessionView;
    /// Admin: a user's access ends, their sessions with it.
    RemoveConsoleUser(RemoveConsoleUser) -> ConsoleUserRemoved;
    /// The salt and iterations a console user's password is hashed with.
    ConsoleSalt(ConsoleSalt) -> Salt;
    /// A console user signs in with their password's hash.
    ConsoleSignIn(ConsoleSignIn) -> SignInReply;
    /// A console request, its session cookie and CSRF token checked by the worker.
    ConsoleCall(ConsoleCall) -> ConsoleAnswer;
}

/// Every command travels with the context the object needs to answer it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub call: Call,
    pub command: Command,
}

/// The header a merchant API request's envelope travels in when the worker streams the API
/// body to the object unread, as the object request's own body (`ApiRequest::body` is then
/// empty in the envelope, and filled by the object). The worker streams only beside a path and
/// query of at most 4 KiB (`routes/merchant_api.rs`), so the envelope stays well within what
/// one header may hold.
pub const ENVELOPE: &str = "paydesk-envelope";

impl Envelope {
    /// The envelope as a header value: JSON with every character outside ASCII escaped, so
    /// the runtime's `Headers` takes it whatever the strings hold.
    pub fn to_header(&self) -> serde_json::Result<String> {
        let json = serde_json::to_string(self)?;
        if json.is_ascii() {
            return Ok(json);
        }
        let mut out = String::with_capacity(json.len() + 16);
        for c in json.chars() {
            if c.is_ascii() {
                out.push(c);
                continue;
            }
            // serde_json writes non-ASCII only inside strings, where `\u` escapes mean the
            // same characters (as UTF-16 units).
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
        Ok(out)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateMerchant {
    pub setup: Box<MerchantSetup>,
    /// The dev demo merchant: succeed without change if it already exists.
    pub ensure: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Created {
    pub merchant_id: String,
    /// False when `ensure` found it already there.
    pub created: bool,
}

/// A signed merchant API request, exactly as received, for the object to authenticate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiRequest {
    pub method: String,
    pub path: String,
    /// Without the leading `?`; empty if none.
    pub query: String,
    pub timestamp: String,
    pub nonce: String,
    pub signature: String,
    pub body: String,
    pub client_ip: Option<String>,
    /// The worker will pass a JSON answer on as it is (the client asked for neither XML nor
    /// CSV): the object may then answer with the rendered body itself ([`RENDERED`]).
    #[serde(default)]
    pub render: bool,
    /// The client declared its body `application/json`. A body the worker streams on unread
    /// ([`ENVELOPE`]) is checked by the object: its size, UTF-8, and this type if not empty.
    #[serde(default)]
    pub declared_json: bool,
}

/// The header both sides of the stub put on every command and every answer: the version of
/// this protocol they speak. The worker and its objects are one script, but after a deploy an
/// active object may keep its old code for minutes (Cloudflare defers an object's update) while
/// the worker already runs the new. A command or an answer from another version is refused
/// before anything is done, as a retryable SYSTEM_ERROR, instead of being misread. Raise
/// [`PROTOCOL`] with any change to a command's or an answer's JSON that the other version could
/// not read (docs/deploy.md).
pub const PROTOCOL_HEADER: &str = "paydesk-protocol";
pub const PROTOCOL: &str = "2";

/// Whether the other side's [`PROTOCOL_HEADER`] says it speaks this version.
pub fn speaks(header: Option<&str>) -> bool {
    header == Some(PROTOCOL)
}

/// The refusal of a command or answer from another version of the protocol: nothing was done,
/// and it will work again once both sides run the same code.
pub fn other_version() -> crate::error::AppError {
    crate::domain::refusal::Refusal::new(
        paydesk_shared::api::ErrorCode::SystemError,
        "paydesk is being updated; try again in a few seconds",
    )
    .retry_after(5)
    .into()
}

/// The header on an object's reply to a [`ApiRequest::render`] request when the reply is the
/// API's answer itself: its status is the answer's, its body the JSON the client gets.
pub const RENDERED: &str = "paydesk-rendered";

/// The JSON API's answer: the HTTP status and what the body holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiReply {
    pub status: u16,
    pub body: ApiBody,
}

/// Externally tagged between the object and the worker (`{"order": {...}}`): serde reads an
/// adjacently or internally tagged enum through a buffered copy of its input, which compiled a
/// second decoder of every body type into the worker (75 KB of its wasm, gzip).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiBody {
    Order(Box<Order>),
    Refund(Refund),
    /// 204.
    Nothing,
    Audit(AuditReport),
    Notifications(NotificationPage),
    Notification(Box<NotificationDetail>),
    /// A notification queued again (202).
    Resent(Notification),
    Alerts(AlertList),
    Plan(Plan),
    Contract(Box<Contract>),
    Subscription(Box<Subscription>),
    Usage(UsageRecord),
    InstallmentPlan(Box<InstallmentPlan>),
    Entitlements(EntitlementList),
    FeeReport(Box<FeeReport>),
    Settlements(SettlementList),
    Balance(Balance),
    Receiver(Receiver),
    Receivers(ReceiverList),
    Pool(PoolView),
    /// `GET /v1/bills`: what the worker streams, page by page.
    Bill(Box<BillHead>),
    Receipts(Box<Receipts>),
    AuditLog(AuditLog),
    Statement(Box<crate::domain::receipt_rules::SignedReceipt>),
    /// `GET /v1/exports`: what the worker streams, page by page, and seals.
    Export(Box<ExportHead>),
    Reviews(ReviewList),
    Review(Box<Review>),
    Application(Box<ApplicationView>),
    Channels(ChannelList),
    /// `GET|PUT /v1/messaging`: the settings, staff contacts masked.
    Messaging(Box<crate::domain::message_rules::MessagingSettings>),
    Inbox(InboxPage),
    Messages(MessageList),
    Message(Box<MessageView>),
    Contracts(ContractList),
    Subscriptions(SubscriptionList),
    InstallmentPlans(InstallmentPlanList),
    Daily(Box<DailyReport>),
}

impl ApiBody {
    /// The body as the API's JSON, or `None` for what is not sent as JSON: no body (204), and
    /// the bills and exports the worker streams.
    pub fn to_json(&self) -> Option<serde_json::Result<Vec<u8>>> {
        use serde_json::to_vec;
        Some(match self {
            ApiBody::Nothing | ApiBody::Bill(_) | ApiBody::Export(_) => return None,
            ApiBody::Order(o) => to_vec(o),
            ApiBody::Refund(r) => to_vec(r),
            ApiBody::Audit(a) => to_vec(a),
            ApiBody::Notifications(n) => to_vec(n),
            ApiBody::Notification(n) => to_vec(n),
            ApiBody::Resent(n) => to_vec(n),
            ApiBody::Alerts(a) => to_vec(a),
            ApiBody::Plan(p) => to_vec(p),
            ApiBody::Contract(c) => to_vec(c),
            ApiBody::Subscription(s) => to_vec(s),
            ApiBody::Usage(u) => to_vec(u),
            ApiBody::InstallmentPlan(p) => to_vec(p),
            ApiBody::Entitlements(e) => to_vec(e),
            ApiBody::FeeReport(f) => to_vec(f),
            ApiBody::Settlements(s) => to_vec(s),
            ApiBody::Balance(b) => to_vec(b),
            ApiBody::Receiver(r) => to_vec(r),
            ApiBody::Receivers(r) => to_vec(r),
            ApiBody::Pool(p) => to_vec(p),
            ApiBody::Receipts(r) => to_vec(r),
            ApiBody::AuditLog(a) => to_vec(a),
            ApiBody::Statement(s) => to_vec(s),
            ApiBody::Reviews(r) => to_vec(r),
            ApiBody::Review(r) => to_vec(r),
            ApiBody::Application(a) => to_vec(a),
            ApiBody::Channels(c) => to_vec(c),
            ApiBody::Messaging(m) => to_vec(m),
            ApiBody::Inbox(i) => to_vec(i),
            ApiBody::Messages(m) => to_vec(m),
            ApiBody::Message(m) => to_vec(m),
            ApiBody::Contracts(c) => to_vec(c),
            ApiBody::Subscriptions(s) => to_vec(s),
            ApiBody::InstallmentPlans(p) => to_vec(p),
            ApiBody::Daily(d) => to_vec(d),
        })
    }
}

/// `GET /v1/contracts`: newest first; `next_after` to read the next page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractList {
    pub contracts: Vec<Contract>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}

/// `GET /v1/subscriptions`: newest first; `next_after` to read the next page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionList {
    pub subscriptions: Vec<Subscription>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}

/// `GET /v1/installment_plans`: newest first; `next_after` to read the next page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstallmentPlanList {
    pub plans: Vec<InstallmentPlan>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}

/// `GET /v1/reports/daily`: a line per day of the merchant's calendar, oldest first, in fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyReport {
    pub from: String,
    pub to: String,
    pub days: Vec<crate::domain::report_rules::Day>,
}

/// `GET /v1/inbox`: the newest inbox messages first, and how many are unread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxPage {
    pub unread: u32,
    pub messages: Vec<MessageView>,
}

/// `GET /v1/messages`: the newest outbound messages first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageList {
    pub messages: Vec<MessageView>,
}

/// One message to a person, as the merchant sees it: the recipient masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub id: String,
    /// `email`, `sms` or `inbox`.
    pub channel: String,
    /// `staff` or `payer`.
    pub audience: String,
    /// What it is: `alert.raised`, `renewal.upcoming`, ...
    pub template: String,
    /// What prompted it: an alert's kind, or the order, subscription, plan or contract.
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    pub title: String,
    pub text: String,
    /// `PENDING`, `DELIVERED`, `FAILED` or `SUPPRESSED` (the payer unsubscribed).
    pub status: String,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<String>,
    /// An SMS to a payer held back by quiet hours (22:00-08:00 merchant time) until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_until: Option<String>,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Inbox messages: whether staff read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewConsoleUser {
    pub email: String,
    pub role: String,
    pub salt_hex: String,
    pub hash_hex: String,
    pub iterations: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleSalt {
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Salt {
    pub salt_hex: String,
    pub iterations: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleSignIn {
    pub email: String,
    pub hash_hex: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListConsoleUsers {}

/// A console user as the operator sees them: never their password's hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleUserView {
    pub email: String,
    pub role: String,
    pub created_at: String,
    /// While they are locked out after failed sign-ins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<String>,
    /// Their sessions still live.
    pub sessions: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleUserList {
    pub users: Vec<ConsoleUserView>,
}

/// A new role, a new password's hash (with its salt and iterations), or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeConsoleUser {
    pub email: String,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub password: Option<NewPassword>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPassword {
    pub salt_hex: String,
    pub hash_hex: String,
    pub iterations: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveConsoleUser {
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleUserRemoved {
    pub email: String,
    /// How many of their sessions it ended.
    pub sessions_ended: u32,
}

/// A console user, and their session when one was started (never shown to the browser: the
/// worker puts it in the signed cookie).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub email: String,
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
}

/// A sign-in's outcome. A refusal is an answer, not an error, so the failure it counts is
/// committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignInReply {
    SignedIn(SessionView),
    /// Wrong email or password; `locked_for_secs` once the user is locked out.
    Refused {
        locked_for_secs: Option<u32>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleCall {
    pub session_id: String,
    pub method: String,
    /// What follows `/console/api`.
    pub path: String,
    pub query: String,
    pub body: String,
}

/// `GET /console/api/orders/{no}`: an order with what happened to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderDetail {
    pub order: Order,
    pub refunds: Vec<Refund>,
    pub notifications: Vec<Notification>,
    pub audit: Vec<AuditEntry>,
}

/// `POST /console/api/orders/{no}/refund`: the refund's number is made from the form's key
/// (`domain/console_rules.rs`, `refund_number`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleRefund {
    /// Minor units.
    pub amount: u64,
    /// The form's one-time key: sent again with the same submission, it names the same refund.
    pub key: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// What a console request is answered with, in the object; it travels as a [`ConsoleAnswer`].
/// Untagged: each view is written as its own JSON, which is what the console reads.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ConsoleReply {
    Settings(Box<SettingsView>),
    SettingsChanged(SettingsOutcome),
    Rotated(RotatedSecret),
    Me(SessionView),
    SignedOut,
    Alerts(AlertList),
    Inbox(InboxPage),
    Orders(OrderPage),
    Approvals(ApprovalList),
    Decision(Decision),
    Order(Box<OrderDetail>),
    Refund(Refund),
    Resent(Notification),
    Reviews(ReviewList),
    Review(Box<Review>),
    /// A read of the merchant API, rendered by the worker as the API renders it.
    Api(ApiReply),
}

/// A console reply as it travels to the worker: a view the object has already written as the
/// JSON the console gets, which the worker passes on unread, or a read of the merchant API,
/// which the worker renders as the API does (JSON or CSV). The worker does not decode views:
/// reading the untagged `ConsoleReply` back took the first variant whose fields fitted, and
/// decoding every view that way cost the worker's wasm 84 KB gzip (docs/architecture.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ConsoleAnswer {
    View { kind: ViewKind, json: String },
    Api(Box<ApiReply>),
}

/// What the worker does besides passing a view on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ViewKind {
    Plain,
    /// The signed-in user: the worker adds the session's CSRF token.
    Me,
    /// Signed out: the worker clears the session cookie.
    SignedOut,
}

impl ConsoleAnswer {
    pub fn of(reply: ConsoleReply) -> serde_json::Result<Self> {
        let kind = match reply {
            ConsoleReply::Api(r) => return Ok(Self::Api(Box::new(r))),
            ConsoleReply::Me(_) => ViewKind::Me,
            ConsoleReply::SignedOut => ViewKind::SignedOut,
            _ => ViewKind::Plain,
        };
        let json = serde_json::to_string(&reply)?;
        Ok(Self::View { kind, json })
    }
}

/// `POST /console/api/webhook-secret/rotate`: the new secret, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotatedSecret {
    pub webhook_secret: String,
    pub previous_valid_until: String,
}

/// `GET /console/api/settings`: the merchant's rules, and a change waiting for approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsView {
    pub rules: crate::domain::settings_rules::Rules,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingSettings>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PendingSettings {
    pub change_id: String,
    pub approval_id: String,
    pub proposed_by: String,
    pub proposed_at: String,
    pub rules: crate::domain::settings_rules::Rules,
    pub changes: Vec<crate::domain::audit::Change>,
}

/// `PUT /console/api/settings`: `applied`, `pending_approval` (with its approval) or
/// `unchanged`, and what it changes, field by field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsOutcome {
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
    pub changes: Vec<crate::domain::audit::Change>,
}

/// What waits for approval, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalList {
    pub approvals: Vec<PendingApproval>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingApproval {
    pub approval_id: String,
    /// `order` or `refund`.
    pub kind: String,
    /// The order or refund number.
    pub target: String,
    /// Approvers needed in all, each a different person.
    pub need: u32,
    /// Who approved so far, in order: the first approved level 1, the second level 2.
    pub approvers: Vec<String>,
    pub created_at: String,
    /// What an approver decides on: the order's or the refund's amount, and the order (a
    /// refund's order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<paydesk_shared::Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_trade_no: Option<String>,
}

/// `POST /admin/merchants/{id}/reseal`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reseal {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resealed {
    /// The key everything is being sealed under (the first of `DATA_KEYS`).
    pub key_id: String,
    /// Values sealed again under it by this call.
    pub resealed: u32,
    /// Values still sealed under other keys: call again until none remain.
    pub remaining: u32,
}

/// The payer's unsubscribe page: `confirm` unsubscribes (a GET only asks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unsubscribe {
    pub message_id: String,
    pub confirm: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsubscribeReply {
    pub merchant: String,
    /// The address, masked.
    pub to: String,
    pub channel: String,
    pub unsubscribed: bool,
}

/// `GET /v1/channels`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelList {
    pub channels: Vec<ChannelView>,
}

/// One payment channel as the merchant's object sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelView {
    pub channel: String,
    /// `closed` (payments go to it), `open` (passed over) or `half_open` (the next payment
    /// probes it).
    pub state: String,
    pub consecutive_failures: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe_after: Option<String>,
    /// A sandbox channel: what its bank charged, by its own books.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox_charges: Option<SandboxCharges>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxCharges {
    pub count: u64,
    pub amount: u64,
}

impl ApiReply {
    pub fn new(status: u16, body: ApiBody) -> ApiReply {
        ApiReply { status, body }
    }
}

/// A v2 XML dialect request, parsed by the worker (which refused anything malformed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct V2Request {
    pub op: crate::domain::v2::Op,
    pub params: crate::domain::v2::Params,
    pub client_ip: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct V2Reply {
    pub xml: String,
    /// `downloadbill`: the bill to stream in the v2 layout (`xml` is then empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill: Option<Box<BillHead>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkout {
    pub out_trade_no: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckoutReply {
    pub view: CheckoutView,
    pub sandbox: bool,
    /// Origins that may frame the pay page.
    pub allowed_origins: Vec<String>,
    /// Paid through an upstream channel's cashier, not on the page (`cashier_page.rs`).
    #[serde(default)]
    pub cashier: bool,
    /// The merchant's business time now (its test clock included), which the deadline is in:
    /// the page counts down from it.
    #[serde(default)]
    pub now_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pay {
    pub out_trade_no: String,
    pub pay: PayRequest,
    /// Where the payer's request came from (the risk rules count attempts per IP).
    #[serde(default)]
    pub client_ip: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractPage {
    pub contract_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignContract {
    pub contract_code: String,
    /// The instrument, as the pay page's pay request names it.
    pub pay: PayRequest,
    /// The payer ticked the authorisation.
    pub consent: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndContract {
    pub contract_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntrustWeb {
    /// The link's query parameters, as received.
    pub params: crate::domain::v2::Params,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entrusted {
    pub contract_url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractPageReply {
    pub view: ContractView,
    pub sandbox: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetMerchant {}

/// What an operator sees of a merchant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MerchantSummary {
    pub merchant_id: String,
    pub name: String,
    pub tier: Tier,
    pub sandbox: bool,
    pub branding: Branding,
    pub config: MerchantConfig,
    pub dormant: bool,
    pub business_time: String,
    pub daily_limit: Option<u64>,
    pub open_alert: bool,
    pub consecutive_failed_deliveries: i64,
    /// A risk rule froze it: no new orders or payments until an operator unfreezes it.
    pub freeze: FreezeState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// The upstream channel a live merchant is paid through, if one is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<ChannelSummary>,
}

/// Which secret a rotation replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretKind {
    ApiKey,
    WebhookSecret,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RotateSecret {
    pub kind: SecretKind,
    pub new_secret: Secret,
    pub grace_seconds: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretRotated {
    pub merchant_id: String,
    pub previous_key_valid_until: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reactivate {
    pub document_ref: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reactivated {
    pub merchant_id: String,
    pub dormant: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unfreeze {
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetChannel {
    pub config: crate::domain::upstream_rules::ChannelConfig,
}

/// The upstream channel as shown (its key masked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelSummary {
    #[serde(rename = "type")]
    pub kind: String,
    pub mch_id: String,
    pub appid: String,
    pub base_url: String,
    pub key: String,
    pub configured_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cashier {
    pub out_trade_no: String,
    pub client_ip: Option<String>,
    /// The payer's browser: a phone is sent to the cashier, anything else shown a QR code.
    pub user_agent: String,
}

/// Where to send the payer: the upstream's cashier, or (`None`) back to the pay page, which
/// shows the order paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashierReply {
    pub url: Option<String>,
    /// `url` is for a QR code (NATIVE's `code_url`), not to be opened here.
    pub qr: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamNotify {
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetApplication {
    pub reveal: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecideApplication {
    pub application_id: Option<i64>,
    pub approve: bool,
    pub tier: Option<crate::domain::limits::Tier>,
    pub reason: String,
}

/// A merchant's application to collect live money, as the merchant and the operator see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationView {
    pub application_id: i64,
    /// `submitted`, `approved`, `rejected`, or `superseded` by a newer one.
    pub status: String,
    pub tier: crate::domain::limits::Tier,
    /// The highest tier the licence supports.
    pub supported_tier: crate::domain::limits::Tier,
    pub submitted_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_tier: Option<crate::domain::limits::Tier>,
    /// The merchant's tier now, and whether it may take orders and be paid.
    pub merchant_tier: crate::domain::limits::Tier,
    pub may_collect: bool,
    /// Masked, unless an operator asked to reveal them.
    pub documents: crate::domain::onboarding_rules::Masked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetRisk {
    pub risk: crate::domain::risk_rules::RiskConfig,
}

/// Whether a risk rule froze the merchant, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreezeState {
    pub frozen: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frozen_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A payment in the risk review queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub review_id: String,
    pub out_trade_no: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    /// The rule that sent it to review, and its figures.
    pub rule: String,
    pub figures: String,
    pub amount: u64,
    pub created_at: String,
    /// Undecided by then, it is rejected (refunded in full) by itself.
    pub due_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewList {
    pub reviews: Vec<Review>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}

/// `POST /v1/reviews/{id}/approve|reject`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewDecision {
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvanceClock {
    pub seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockMoved {
    pub business_time: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListOrders {
    pub status: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
    /// Orders whose number starts with this.
    #[serde(default)]
    pub number: Option<String>,
    /// Created at or after, before (RFC 3339).
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    /// Orders tagged with this key (`key`), or with this value (`key:value`).
    #[serde(default)]
    pub tag: Option<String>,
}

impl ListOrders {
    /// `?status=&cursor=&limit=&number=&from=&to=&tag=`; any other parameter is refused.
    pub fn from_query(query: &str) -> Result<ListOrders, crate::error::AppError> {
        use crate::error::AppError;
        let mut list = ListOrders {
            status: None,
            cursor: None,
            limit: None,
            number: None,
            from: None,
            to: None,
            tag: None,
        };
        for (k, v) in paydesk_shared::urlenc::query_pairs(query) {
            let slot = match k.as_str() {
                "status" => &mut list.status,
                "cursor" => &mut list.cursor,
                "number" => &mut list.number,
                "from" => &mut list.from,
                "to" => &mut list.to,
                "tag" => &mut list.tag,
                "limit" => {
                    let n = v
                        .parse()
                        .map_err(|_| AppError::param("limit", "limit must be 1-100"))?;
                    list.limit = Some(n);
                    continue;
                }
                _ => {
                    return Err(AppError::param(
                        "query",
                        format!("unknown query parameter {k}"),
                    ))
                }
            };
            *slot = Some(v);
        }
        Ok(list)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderPage {
    pub orders: Vec<Order>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decide {
    pub approval_id: String,
    pub approver: String,
    pub approve: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub approval_id: String,
    pub status: ApprovalStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvals: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needed: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyAudit {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadSqlMeter {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BenchWrite {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BenchWritten {
    pub id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeStorage {}

/// The time the probe wrote, as read back from SQLite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageProbed {
    pub at_ms: i64,
}

/// Whether the audit chain is intact, and where it first breaks if not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    pub intact: bool,
    pub entries: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_broken_seq: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A notification as the merchant's notification API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// The order it is about (absent for a contract's own events).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub out_trade_no: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
    /// For an installment plan's own events: the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_no: Option<String>,
    pub status: DeliveryStatus,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
    pub attempts: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationPage {
    pub notifications: Vec<Notification>,
    pub next_cursor: Option<String>,
}

/// One notification with its body and every delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationDetail {
    #[serde(flatten)]
    pub notification: Notification,
    /// What is (or would be) sent; empty when the order's dialect sends nothing for it.
    pub body: String,
    pub attempt_log: Vec<AttemptView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptView {
    pub n: i64,
    pub at: String,
    pub at_ms: i64,
    pub url: String,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
    pub response_head: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertList {
    pub alerts: Vec<Alert>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub raised_at: String,
    pub cleared_at: Option<String>,
    pub open: bool,
    pub detail: String,
    /// How often its cause was seen while it was open, and when last.
    pub count: u32,
    pub last_seen_at: String,
    /// What cleared it, once resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
}

/// One rate's line of a month's fee report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeLine {
    pub rate_bp: u32,
    pub orders: u64,
    pub volume: u64,
    pub fees: u64,
    pub fees_refunded: u64,
}

/// The month's fee report, in fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeReport {
    pub month: String,
    pub industry: crate::domain::money_rules::Industry,
    pub from: String,
    pub to: String,
    pub orders: u64,
    pub volume: u64,
    pub fees: u64,
    pub fees_refunded: u64,
    pub net_fees: u64,
    pub lines: Vec<FeeLine>,
}

/// An audit entry as the audit log shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    /// `api_key:<id>`, `admin`, `payer`, or `system:<the rule that fired>`.
    pub actor: String,
    pub action: String,
    pub target: String,
    pub changes: Vec<crate::domain::audit::Change>,
    /// As hashed (with `changes` derived from them).
    pub before: String,
    pub after: String,
    pub prev_hash: String,
    pub hash: String,
}

/// `GET /v1/audit`: a page of entries in chain order; `next_after` to read the next page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLog {
    pub entries: Vec<AuditEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayerReceipts {
    pub out_trade_no: String,
}

/// An order's signed receipts (`domain::receipt_rules`): its payment's, once paid, and each
/// succeeded refund's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipts {
    pub merchant_name: String,
    pub utc_offset_minutes: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<crate::domain::receipt_rules::SignedReceipt>,
    pub refunds: Vec<crate::domain::receipt_rules::SignedReceipt>,
}

/// A bill the merchant may read: which closed day, which lines, and how to write them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillHead {
    pub merchant_id: String,
    pub date: String,
    pub settlement_id: String,
    pub bill_type: crate::domain::bill_rules::BillType,
    /// The tag keys of the day's orders, one column each.
    pub tag_keys: Vec<String>,
    pub utc_offset_minutes: i32,
    /// `group_by`: the whole grouped bill (a line per tag value; small).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grouped: Option<String>,
    /// The v2 dialect's `appid` for its layout.
    #[serde(default)]
    pub appid: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillPage {
    pub settlement_id: String,
    pub bill_type: crate::domain::bill_rules::BillType,
    /// The last money movement of the previous page (0 for the first).
    pub after_seq: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillLines {
    pub lines: Vec<crate::domain::bill_rules::BillLine>,
    /// The cursor of the next page; `None`: this was the last.
    pub next: Option<i64>,
}

/// An export the merchant may read: its range and its head line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportHead {
    pub merchant_id: String,
    pub range: crate::domain::export_rules::Range,
    /// The merchant's calendar, which the download's name is dated on.
    #[serde(default)]
    pub utc_offset_minutes: i32,
    /// The export's first line (`type: export`), newline included.
    pub head_line: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportPage {
    pub range: crate::domain::export_rules::Range,
    pub cursor: crate::domain::export_rules::Cursor,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportLines {
    /// JSON lines, each ending in a newline.
    pub text: String,
    pub lines: u64,
    /// Where the next page starts; `None`: this was the last.
    pub next: Option<crate::domain::export_rules::Cursor>,
    /// On the last page: the chain's head as it ended (`None` only for an empty chain).
    pub head: Option<crate::domain::export_rules::AuditRef>,
}

/// A closed merchant day's batch, settled the next day (T+1), in fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    pub settlement_id: String,
    /// The merchant day (YYYY-MM-DD on the merchant's calendar) it settles.
    pub date: String,
    /// Released that day.
    pub gross: u64,
    /// Refunds of released money that day.
    pub refunds: u64,
    /// Fees of the released money, less fees given back.
    pub fees: i64,
    /// Profit-sharing receivers' shares, less shares clawed back.
    pub splits: i64,
    /// gross − refunds − fees − splits: paid to the merchant (negative: owed by it).
    pub net: i64,
    pub order_count: u64,
    pub created_at: String,
    /// A member of a fund pool: the group its net swept into, and when the group took it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swept_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementList {
    /// Newest first.
    pub settlements: Vec<Settlement>,
}

/// `GET /v1/balance`: the merchant's money at this moment of its clock, in fen. Amounts are
/// net of fees: `held + releasable + settled + shared = paid − refunded − fees`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    pub business_time: String,
    /// Paid and not yet released (less its fee): refunds come out of it.
    pub held: i64,
    /// Released and not yet in a settlement: settles after its day closes.
    pub releasable: i64,
    /// The sum of all settlements.
    pub settled: i64,
    /// Booked to profit-sharing receivers, less what refunds clawed back.
    pub shared: i64,
    pub paid: i64,
    pub refunded: i64,
    /// Fees charged, less fees given back.
    pub fees: i64,
}

/// `POST /v1/receivers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateReceiver {
    pub receiver_id: String,
    pub name: String,
    /// What the receiver is to the merchant: `partner`, `supplier`, `distributor`, `staff`,
    /// `store`, `headquarter` or `other`.
    pub relation: String,
}

/// A profit-sharing receiver and its balance, in fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receiver {
    pub receiver_id: String,
    pub name: String,
    pub relation: String,
    pub created_at: String,
    /// Shares booked on releases.
    pub booked: i64,
    /// Clawed back by refunds.
    pub clawed_back: i64,
    pub balance: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiverList {
    pub receivers: Vec<Receiver>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinPool {
    pub member_id: String,
    pub sandbox: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolJoined {
    pub group_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sweep {
    pub member_id: String,
    pub settlement_id: String,
    pub date: String,
    pub net: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Swept {
    /// When the pool took it (the first time it was sent).
    pub received_at: String,
}

/// A member's line in its group's pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolMember {
    pub merchant_id: String,
    pub joined_at: String,
    pub settlements: u64,
    pub swept: i64,
}

/// `GET /v1/pool` (a group merchant): what its members swept in, in fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolView {
    pub group_id: String,
    pub total: i64,
    pub members: Vec<PoolMember>,
    /// The latest 100, newest first.
    pub sweeps: Vec<Sweep>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call() -> Call {
        Call {
            request_id: "r".into(),
            origin: "http://127.0.0.1:8787".into(),
            dev: true,
        }
    }

    #[test]
    fn commands_round_trip() {
        let c = Envelope {
            call: call(),
            command: Checkout {
                out_trade_no: "DEMO-1".into(),
            }
            .into(),
        };
        let json = serde_json::to_string(&c).unwrap();
        assert!(
            json.contains(r#""command":{"checkout":{"out_trade_no":"DEMO-1"}}"#),
            "{json}"
        );
        assert_eq!(crate::json_text::from_text::<Envelope>(&json).unwrap(), c);
        let empty: Command = GetMerchant {}.into();
        let json = serde_json::to_string(&empty).unwrap();
        assert_eq!(
            crate::json_text::from_text::<Command>(&json).unwrap(),
            empty
        );
    }

    #[test]
    fn another_protocol_version_is_refused_as_retryable() {
        assert!(speaks(Some(PROTOCOL)));
        assert!(!speaks(None), "an object or worker from before the header");
        assert!(!speaks(Some("1")));
        let refused = other_version();
        let r = refused.refusal().unwrap();
        assert_eq!(r.code, paydesk_shared::api::ErrorCode::SystemError);
        assert_eq!(r.retry_after, Some(5));
    }

    #[test]
    fn console_views_travel_written_and_api_reads_typed() {
        let me = ConsoleReply::Me(SessionView {
            email: "ops@example.com".into(),
            role: "admin".into(),
            expires_at_ms: Some(1),
            session_id: None,
        });
        let travelled: ConsoleAnswer = crate::json_text::from_text(
            &serde_json::to_string(&ConsoleAnswer::of(me).unwrap()).unwrap(),
        )
        .unwrap();
        assert_eq!(
            travelled,
            ConsoleAnswer::View {
                kind: ViewKind::Me,
                json: r#"{"email":"ops@example.com","role":"admin","expires_at_ms":1}"#.into(),
            }
        );
        let out = ConsoleAnswer::of(ConsoleReply::SignedOut).unwrap();
        assert_eq!(
            out,
            ConsoleAnswer::View {
                kind: ViewKind::SignedOut,
                json: "null".into(),
            }
        );
        let secret = ConsoleReply::Rotated(RotatedSecret {
            webhook_secret: "whsec".into(),
            previous_valid_until: "2026-12-07T00:00:00Z".into(),
        });
        let ConsoleAnswer::View { kind, json } = ConsoleAnswer::of(secret).unwrap() else {
            panic!("a view travels written");
        };
        assert_eq!(kind, ViewKind::Plain);
        assert!(json.starts_with(r#"{"webhook_secret":"whsec""#), "{json}");
        let api = ApiReply::new(204, ApiBody::Nothing);
        assert_eq!(
            ConsoleAnswer::of(ConsoleReply::Api(api.clone())).unwrap(),
            ConsoleAnswer::Api(Box::new(api))
        );
    }

    #[test]
    fn envelopes_travel_in_a_header_as_ascii() {
        let api = ApiRequest {
            method: "POST".into(),
            path: "/v1/orders".into(),
            query: String::new(),
            timestamp: "1700000000".into(),
            nonce: "n\u{e9}".into(),
            signature: "s\u{1f600}".into(),
            body: String::new(),
            client_ip: None,
            render: true,
            declared_json: true,
        };
        let envelope = Envelope {
            call: call(),
            command: api.into(),
        };
        let header = envelope.to_header().unwrap();
        assert!(header.is_ascii(), "{header}");
        assert!(header.contains(r"n\u00e9") && header.contains(r"s\ud83d\ude00"));
        assert_eq!(
            crate::json_text::from_text::<Envelope>(&header).unwrap(),
            envelope
        );
    }

    #[test]
    fn api_bodies_render_as_their_value_alone() {
        // What the object renders for the client is the value without its variant's name.
        let alerts = ApiBody::Alerts(AlertList { alerts: vec![] });
        let json = alerts.to_json().unwrap().unwrap();
        assert_eq!(String::from_utf8(json).unwrap(), r#"{"alerts":[]}"#);
        // Between the object and the worker the body travels externally tagged, read back as
        // it was written.
        let tagged = serde_json::to_string(&alerts).unwrap();
        assert_eq!(tagged, r#"{"alerts":{"alerts":[]}}"#);
        assert_eq!(
            crate::json_text::from_text::<ApiBody>(&tagged).unwrap(),
            alerts
        );
        let nothing = serde_json::to_string(&ApiBody::Nothing).unwrap();
        assert_eq!(
            crate::json_text::from_text::<ApiBody>(&nothing).unwrap(),
            ApiBody::Nothing
        );
        // No body, and what the worker streams, are never rendered as JSON.
        assert!(ApiBody::Nothing.to_json().is_none());
        // A request from before `render` existed is answered as typed.
        let req: ApiRequest = serde_json::from_value(serde_json::json!({
            "method": "GET", "path": "/v1/alerts", "query": "", "timestamp": "1",
            "nonce": "n", "signature": "s", "body": "", "client_ip": null
        }))
        .unwrap();
        assert!(!req.render);
    }

    #[test]
    fn inline_commands_round_trip() {
        // A command travels under its variant's name, its struct's fields inside: a field may
        // be named like anything else (the v2 request's `op`).
        let v2: Command = V2Request {
            op: crate::domain::v2::Op::OrderQuery,
            params: crate::domain::v2::Params(vec![("out_trade_no".into(), "A1".into())]),
            client_ip: Some("203.0.113.7".into()),
        }
        .into();
        let json = serde_json::to_string(&v2).unwrap();
        assert!(json.starts_with(r#"{"v2":{"op":"#), "{json}");
        assert_eq!(crate::json_text::from_text::<Command>(&json).unwrap(), v2);
    }

    #[test]
    fn replies_round_trip() {
        let r = ApiReply::new(
            200,
            ApiBody::Audit(AuditReport {
                intact: true,
                entries: 3,
                first_broken_seq: None,
                reason: None,
            }),
        );
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(crate::json_text::from_text::<ApiReply>(&json).unwrap(), r);
        let nothing = ApiReply::new(204, ApiBody::Nothing);
        let json = serde_json::to_string(&nothing).unwrap();
        assert_eq!(
            crate::json_text::from_text::<ApiReply>(&json).unwrap(),
            nothing
        );
    }

    #[test]
    fn config_defaults() {
        let c: MerchantConfig = crate::json_text::from_text("{}").unwrap();
        assert_eq!(c, MerchantConfig::default());
        assert_eq!(c.utc_offset_minutes, 480);
        assert_eq!(c.remind_grace_seconds, 86_400);
        assert_eq!(c.rate_limits, RateLimits::default());
        assert!(crate::json_text::from_text::<MerchantConfig>(r#"{"nope":1}"#).is_err());
    }

    #[test]
    fn setups_never_print_their_secrets() {
        let s = MerchantSetup {
            merchant_id: "mch_0000000000000001".into(),
            name: "Shop".into(),
            tier: Tier::Enterprise,
            sandbox: true,
            branding: crate::json_text::from_text(r#"{"display_name":"Shop"}"#).unwrap(),
            config: MerchantConfig::default(),
            api_key: Secret::new("sk_do_not_print".into()),
            group_id: None,
            webhook_secret: Secret::new("whsec_do_not_print".into()),
        };
        let printed = format!("{s:?}");
        assert!(!printed.contains("do_not_print"), "{printed}");
    }
}
