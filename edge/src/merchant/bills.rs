//! Reconciliation bills: a closed merchant day's transactions, the movements of its
//! settlement grouped into lines (an order's release with its fee and shares; a refund of
//! released money with the fee and shares it gave back), so a bill of every type adds up to
//! that day's settlement. The object answers a bill's head once the merchant is authenticated
//! (`GET /v1/bills`, `POST /pay/downloadbill`) and then its lines a page at a time
//! (`BillPage`), which the worker streams (`routes/bills.rs`): a day of any size never sits
//! in memory. The text layouts are `domain::bill_rules`'.

use super::protocol::{BillHead, BillLines, BillPage};
use super::store::{Ledger, Merchant, Result};
use crate::domain::bill_rules::{self as rules, BillLine, BillType, Group, Totals};
use crate::domain::order_rules::is_tag_key;
use crate::domain::settlement_rules::day_closes_at;
use crate::error::AppError;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::urlenc::query_pairs;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Money movements read per page: more than the most one line can have (a release with 20
/// shares is 22), few enough to keep a page small.
const PAGE_MOVES: i64 = 1_000;

#[derive(Deserialize)]
struct MoveRow {
    seq: i64,
    at_ms: i64,
    kind: String,
    amount: i64,
    out_trade_no: String,
    out_refund_no: Option<String>,
    transaction_id: String,
    order_amount: i64,
    fee_rate_bp: Option<i64>,
    description: String,
    attach: Option<String>,
    tags_json: Option<String>,
    refund_id: Option<String>,
}

impl MoveRow {
    fn line(&self) -> Result<BillLine> {
        Ok(BillLine {
            seq: self.seq,
            at_ms: self.at_ms,
            out_trade_no: self.out_trade_no.clone(),
            transaction_id: self.transaction_id.clone(),
            out_refund_no: self.out_refund_no.clone(),
            refund_id: self.refund_id.clone(),
            amount: 0,
            fee: 0,
            shared: 0,
            order_amount: self.order_amount,
            fee_rate_bp: self.fee_rate_bp,
            description: self.description.clone(),
            attach: self.attach.clone(),
            tags: match &self.tags_json {
                Some(j) => crate::json_text::from_text(j)?,
                None => BTreeMap::new(),
            },
        })
    }

    fn add_to(&self, l: &mut BillLine) {
        match self.kind.as_str() {
            "release" | "refund" => l.amount += self.amount,
            "fee" | "fee_back" => l.fee -= self.amount,
            _ => l.shared -= self.amount,
        }
    }
}

/// Why there is no bill: the day has not closed, or closed with nothing moving.
fn no_bill(m: &Merchant, day: i64, now: i64) -> AppError {
    if day_closes_at(day, m.config.utc_offset_minutes) > now {
        AppError::code(
            ErrorCode::BillNotReady,
            "that day has not closed yet: its bill is made at its 24:00",
        )
    } else {
        AppError::code(ErrorCode::BillNotExist, "no money moved that day")
    }
}

impl Ledger<'_> {
    /// `GET /v1/bills?date=YYYY-MM-DD&type=ALL|SUCCESS|REFUND&group_by=<tag key>`.
    pub fn bill_head(&self, m: &Merchant, query: &str) -> Result<BillHead> {
        let (mut date, mut bill_type, mut group_by) = (None, BillType::All, None);
        for (k, v) in query_pairs(query) {
            match k.as_str() {
                "date" => date = Some(rules::parse_day(&v).ok_or_else(|| rules::bad_date("date"))?),
                "type" => {
                    bill_type = BillType::parse(&v)
                        .ok_or_else(|| AppError::param("type", "type is ALL, SUCCESS or REFUND"))?
                }
                "group_by" => group_by = Some(v),
                _ => {
                    return Err(AppError::param(
                        "query",
                        format!("unknown query parameter {k}"),
                    ))
                }
            }
        }
        let day = date.ok_or_else(|| rules::bad_date("date"))?;
        if group_by.as_deref().is_some_and(|k| !is_tag_key(k)) {
            return Err(AppError::param("group_by", "group_by names a tag key"));
        }
        self.bill_of(m, day, bill_type, group_by.as_deref(), "")
    }

    /// The head of a closed day's bill.
    pub fn bill_of(
        &self,
        m: &Merchant,
        day: i64,
        bill_type: BillType,
        group_by: Option<&str>,
        appid: &str,
    ) -> Result<BillHead> {
        self.run_due()?;
        #[derive(Deserialize)]
        struct S {
            settlement_id: String,
            date: String,
        }
        let Some(s) = self.first::<S>(
            "SELECT settlement_id, date FROM settlements WHERE day = ?",
            vec![day.into()],
        )?
        else {
            return Err(no_bill(m, day, self.now(m)));
        };
        #[derive(Deserialize)]
        struct K {
            k: String,
        }
        let keys: Vec<K> = self.q(
            "SELECT DISTINCT j.key AS k FROM money_moves mv
               JOIN orders o ON o.out_trade_no = mv.out_trade_no, json_each(o.tags_json) j
             WHERE mv.settlement_id = ? AND o.tags_json IS NOT NULL ORDER BY k",
            vec![s.settlement_id.as_str().into()],
        )?;
        let grouped = match group_by {
            Some(key) => Some(self.grouped_bill(&s.settlement_id, bill_type, key)?),
            None => None,
        };
        Ok(BillHead {
            merchant_id: m.id().to_owned(),
            date: s.date,
            settlement_id: s.settlement_id,
            bill_type,
            tag_keys: keys.into_iter().map(|k| k.k).collect(),
            utc_offset_minutes: m.config.utc_offset_minutes,
            grouped,
            appid: appid.to_owned(),
        })
    }

    /// A page of a bill's lines, in the order the money moved.
    pub fn bill_page(&self, p: &BillPage) -> Result<BillLines> {
        let rows: Vec<MoveRow> = self.q(
            "SELECT mv.seq, mv.at_ms, mv.kind, mv.amount, mv.out_trade_no, mv.out_refund_no,
                    o.transaction_id, o.amount_total AS order_amount, o.fee_rate_bp,
                    o.description, o.attach, o.tags_json, r.refund_id
             FROM money_moves mv JOIN orders o ON o.out_trade_no = mv.out_trade_no
             LEFT JOIN refunds r ON r.out_refund_no = mv.out_refund_no
             WHERE mv.settlement_id = ? AND mv.seq > ?
               AND (? = 'All' OR (mv.out_refund_no IS NULL) = (? = 'Success'))
             ORDER BY mv.seq LIMIT ?",
            vec![
                p.settlement_id.as_str().into(),
                p.after_seq.into(),
                format!("{:?}", p.bill_type).into(),
                format!("{:?}", p.bill_type).into(),
                PAGE_MOVES.into(),
            ],
        )?;
        let complete = (rows.len() as i64) < PAGE_MOVES;
        // A line's movements were booked together, so they are consecutive.
        let mut lines: Vec<(BillLine, i64)> = Vec::new();
        for r in &rows {
            let same = lines.last().is_some_and(|(l, _)| {
                l.out_trade_no == r.out_trade_no && l.out_refund_no == r.out_refund_no
            });
            if !same {
                lines.push((r.line()?, r.seq));
            }
            if let Some((l, last)) = lines.last_mut() {
                r.add_to(l);
                *last = r.seq;
            }
        }
        if !complete {
            // The last line may go on in the next page: it starts it.
            lines.pop();
        }
        let next = (!complete).then(|| lines.last().map_or(p.after_seq, |(_, s)| *s));
        Ok(BillLines {
            lines: lines.into_iter().map(|(l, _)| l).collect(),
            next,
        })
    }

    fn grouped_bill(&self, settlement_id: &str, bill_type: BillType, key: &str) -> Result<String> {
        #[derive(Deserialize)]
        struct G {
            value: Option<String>,
            lines: i64,
            amount: Option<i64>,
            fee: Option<i64>,
            shared: Option<i64>,
        }
        let rows: Vec<G> = self.q(
            // An order without the tag and one whose tag is empty print alike: one line.
            "SELECT COALESCE(json_extract(o.tags_json, '$.\"' || ? || '\"'), '') AS value,
                    COUNT(DISTINCT mv.out_trade_no || '/' || COALESCE(mv.out_refund_no, '')) AS lines,
                    SUM(CASE WHEN mv.kind IN ('release', 'refund') THEN mv.amount END) AS amount,
                    -SUM(CASE WHEN mv.kind IN ('fee', 'fee_back') THEN mv.amount END) AS fee,
                    -SUM(CASE WHEN mv.kind IN ('split', 'split_back') THEN mv.amount END) AS shared
             FROM money_moves mv JOIN orders o ON o.out_trade_no = mv.out_trade_no
             WHERE mv.settlement_id = ?
               AND (? = 'All' OR (mv.out_refund_no IS NULL) = (? = 'Success'))
             GROUP BY value ORDER BY value",
            vec![
                key.into(),
                settlement_id.into(),
                format!("{bill_type:?}").into(),
                format!("{bill_type:?}").into(),
            ],
        )?;
        let groups: Vec<Group> = rows
            .into_iter()
            .map(|g| {
                let (amount, fee, shared) = (
                    g.amount.unwrap_or(0),
                    g.fee.unwrap_or(0),
                    g.shared.unwrap_or(0),
                );
                Group {
                    value: g.value.unwrap_or_default(),
                    totals: Totals {
                        count: g.lines as u64,
                        amount,
                        fee,
                        shared,
                        net: amount - fee - shared,
                        ..Totals::default()
                    },
                }
            })
            .collect();
        Ok(rules::csv_grouped(key, &groups))
    }
}
