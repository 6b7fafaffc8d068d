use super::protocol::{Command, OrderRecord, Reply, StoreError};
use super::schema::{CREATE_MIGRATIONS_TABLE, MIGRATIONS};
use paydesk_shared::{Branding, CheckoutView, Currency, Money, OrderStatus};
use serde::Deserialize;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, SqlStorage, State};

#[durable_object]
pub struct MerchantDO {
    sql: SqlStorage,
}

impl DurableObject for MerchantDO {
    fn new(state: State, _env: Env) -> Self {
        let sql = state.storage().sql();
        migrate(&sql).expect("merchant schema migrations");
        Self { sql }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let reply = match serde_json::from_slice::<Command>(&req.bytes().await?) {
            Ok(cmd) => self.handle(cmd).unwrap_or_else(|e| {
                worker::console_error!("merchant object: {e}");
                Reply::Error(StoreError::SystemError)
            }),
            Err(_) => Reply::Error(StoreError::SystemError),
        };
        Response::from_json(&reply)
    }
}

/// Applies the migrations this object has not applied yet. Synchronous SQL without an await in
/// between commits atomically, so an object never sees half a migration.
fn migrate(sql: &SqlStorage) -> Result<()> {
    sql.exec(CREATE_MIGRATIONS_TABLE, None)?;
    #[derive(Deserialize)]
    struct V {
        v: Option<i64>,
    }
    let current = sql
        .exec("SELECT MAX(version) AS v FROM schema_migrations", None)?
        .one::<V>()?
        .v
        .unwrap_or(0);
    for (version, ddl) in MIGRATIONS {
        if i64::from(*version) > current {
            sql.exec(ddl, None)?;
            sql.exec(
                "INSERT INTO schema_migrations (version, applied_at_ms) VALUES (?, ?)",
                vec![
                    i64::from(*version).into(),
                    (worker::Date::now().as_millis() as i64).into(),
                ],
            )?;
        }
    }
    Ok(())
}

#[derive(Deserialize)]
struct OrderRow {
    out_trade_no: String,
    transaction_id: String,
    status: String,
    amount_total: i64,
    currency: String,
    description: String,
    created_at_ms: i64,
    time_expire_ms: i64,
}

impl OrderRow {
    fn into_record(self) -> Result<OrderRecord> {
        let bad = |what: &str| worker::Error::RustError(format!("corrupt order row: {what}"));
        Ok(OrderRecord {
            status: OrderStatus::parse(&self.status).ok_or_else(|| bad("status"))?,
            amount: Money::new(
                u64::try_from(self.amount_total).map_err(|_| bad("amount"))?,
                Currency::parse(&self.currency).ok_or_else(|| bad("currency"))?,
            )
            .map_err(|_| bad("amount"))?,
            out_trade_no: self.out_trade_no,
            transaction_id: self.transaction_id,
            description: self.description,
            created_at_ms: self.created_at_ms,
            time_expire_ms: self.time_expire_ms,
        })
    }
}

impl MerchantDO {
    fn handle(&self, cmd: Command) -> Result<Reply> {
        match cmd {
            Command::SeedDemoMerchant {
                merchant_id,
                branding,
            } => self.handle_seed_demo_merchant(&merchant_id, &branding),
            Command::CreateDemoOrder {
                out_trade_no,
                transaction_id,
                amount,
                description,
                now_ms,
                time_expire_ms,
            } => self.handle_create_demo_order(OrderRecord {
                out_trade_no,
                transaction_id,
                status: OrderStatus::NotPay,
                amount,
                description,
                created_at_ms: now_ms,
                time_expire_ms,
            }),
            Command::CheckoutView { out_trade_no } => self.handle_checkout_view(&out_trade_no),
        }
    }

    fn handle_seed_demo_merchant(&self, merchant_id: &str, branding: &Branding) -> Result<Reply> {
        let branding_json = serde_json::to_string(branding)?;
        self.sql.exec(
            "INSERT INTO merchant (merchant_id, display_name, branding_json, sandbox, created_at_ms)
             VALUES (?, ?, ?, 1, ?)
             ON CONFLICT (merchant_id) DO UPDATE SET
               display_name = excluded.display_name, branding_json = excluded.branding_json",
            vec![
                merchant_id.into(),
                branding.display_name.as_str().into(),
                branding_json.into(),
                (worker::Date::now().as_millis() as i64).into(),
            ],
        )?;
        Ok(Reply::Ok)
    }

    fn branding(&self) -> Result<Option<Branding>> {
        #[derive(Deserialize)]
        struct Row {
            branding_json: String,
        }
        let rows: Vec<Row> = self
            .sql
            .exec("SELECT branding_json FROM merchant LIMIT 1", None)?
            .to_array()?;
        match rows.into_iter().next() {
            Some(r) => Ok(Some(serde_json::from_str(&r.branding_json)?)),
            None => Ok(None),
        }
    }

    fn order(&self, out_trade_no: &str) -> Result<Option<OrderRecord>> {
        let rows: Vec<OrderRow> = self
            .sql
            .exec(
                "SELECT out_trade_no, transaction_id, status, amount_total, currency, description,
                        created_at_ms, time_expire_ms
                 FROM orders WHERE out_trade_no = ?",
                vec![out_trade_no.into()],
            )?
            .to_array()?;
        rows.into_iter()
            .next()
            .map(OrderRow::into_record)
            .transpose()
    }

    fn handle_create_demo_order(&self, o: OrderRecord) -> Result<Reply> {
        if self.branding()?.is_none() {
            return Ok(Reply::Error(StoreError::MerchantNotExist));
        }
        if self.order(&o.out_trade_no)?.is_some() {
            return Ok(Reply::Error(StoreError::OutTradeNoUsed));
        }
        self.sql.exec(
            "INSERT INTO orders (out_trade_no, transaction_id, status, amount_total, currency,
                                 description, created_at_ms, time_expire_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                o.out_trade_no.as_str().into(),
                o.transaction_id.as_str().into(),
                o.status.as_str().into(),
                (o.amount.total as i64).into(),
                o.amount.currency.code().into(),
                o.description.as_str().into(),
                o.created_at_ms.into(),
                o.time_expire_ms.into(),
            ],
        )?;
        Ok(Reply::Order(o))
    }

    fn handle_checkout_view(&self, out_trade_no: &str) -> Result<Reply> {
        let Some(merchant) = self.branding()? else {
            return Ok(Reply::Error(StoreError::MerchantNotExist));
        };
        let Some(order) = self.order(out_trade_no)? else {
            return Ok(Reply::Error(StoreError::OrderNotExist));
        };
        Ok(Reply::Checkout(CheckoutView {
            merchant,
            out_trade_no: order.out_trade_no,
            description: order.description,
            amount: order.amount,
            status: order.status,
            time_expire: paydesk_shared::time::format_rfc3339(order.time_expire_ms),
        }))
    }
}
