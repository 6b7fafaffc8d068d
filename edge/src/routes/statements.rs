//! Statements as CSV: `GET /v1/settlements` and `GET /v1/reports/fees` with `Accept: text/csv`
//! answer the same figures as a spreadsheet-safe CSV download (`domain::bill_rules::csv_table`),
//! with a `TOTAL` line.

use crate::domain::bill_rules::csv_table;
use crate::error::AppError;
use crate::merchant::protocol::{FeeReport, SettlementList};
use worker::Response;

pub fn settlements(list: &SettlementList) -> Result<Response, AppError> {
    crate::domain::settlement_rules::whole_for_csv(list.settlements.len())?;
    let header = [
        "settlement_id",
        "date",
        "gross",
        "refunds",
        "fees",
        "splits",
        "net",
        "order_count",
        "created_at",
        "group_id",
        "swept_at",
    ];
    let mut rows: Vec<Vec<String>> = list
        .settlements
        .iter()
        .map(|s| {
            vec![
                s.settlement_id.clone(),
                s.date.clone(),
                s.gross.to_string(),
                s.refunds.to_string(),
                s.fees.to_string(),
                s.splits.to_string(),
                s.net.to_string(),
                s.order_count.to_string(),
                s.created_at.clone(),
                s.group_id.clone().unwrap_or_default(),
                s.swept_at.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let sum = |f: fn(&crate::merchant::protocol::Settlement) -> i64| -> String {
        list.settlements.iter().map(f).sum::<i64>().to_string()
    };
    rows.push(vec![
        "TOTAL".into(),
        String::new(),
        sum(|s| s.gross as i64),
        sum(|s| s.refunds as i64),
        sum(|s| s.fees),
        sum(|s| s.splits),
        sum(|s| s.net),
        sum(|s| s.order_count as i64),
        String::new(),
        String::new(),
        String::new(),
    ]);
    download(csv_table(&header, &rows), "paydesk-settlements.csv")
}

pub fn fee_report(r: &FeeReport) -> Result<Response, AppError> {
    let header = [
        "month",
        "industry",
        "rate_bp",
        "orders",
        "volume",
        "fees",
        "fees_refunded",
        "net_fees",
    ];
    let industry = serde_json::to_value(r.industry)?
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let line = |rate: String, orders: u64, volume: u64, fees: u64, back: u64| {
        vec![
            r.month.clone(),
            industry.clone(),
            rate,
            orders.to_string(),
            volume.to_string(),
            fees.to_string(),
            back.to_string(),
            (fees - back).to_string(),
        ]
    };
    let mut rows: Vec<Vec<String>> = r
        .lines
        .iter()
        .map(|l| {
            line(
                l.rate_bp.to_string(),
                l.orders,
                l.volume,
                l.fees,
                l.fees_refunded,
            )
        })
        .collect();
    let mut total = line(String::new(), r.orders, r.volume, r.fees, r.fees_refunded);
    total[0] = "TOTAL".into();
    rows.push(total);
    download(
        csv_table(&header, &rows),
        &format!("paydesk-fees-{}.csv", r.month),
    )
}

fn download(body: String, filename: &str) -> Result<Response, AppError> {
    let resp = Response::ok(body)?;
    super::attachment(&resp, "text/csv; charset=utf-8", filename)?;
    Ok(resp)
}
