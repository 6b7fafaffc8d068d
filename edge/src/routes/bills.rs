//! Streams a bill the merchant's object authorised (`merchant/bills.rs`): the header, then the
//! lines a page at a time from the object, then the totals, each written as soon as it is
//! read, so a day of 50,000 transactions never sits whole in the worker's memory. Two layouts:
//! paydesk's CSV (`GET /v1/bills`) and WeChat Pay v2's (`POST /pay/downloadbill`), both from
//! `domain::bill_rules`.

use super::Call;
use crate::domain::bill_rules::{self as rules, Totals, V2Names};
use crate::error::AppError;
use crate::merchant::protocol::{BillHead, BillPage};
use futures_util::stream;
use worker::{Env, Response};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Csv,
    V2,
}

enum Step {
    Header,
    Lines(i64),
    Totals,
    Done,
}

struct State {
    env: Env,
    call: Call,
    head: BillHead,
    layout: Layout,
    totals: Totals,
    step: Step,
}

impl State {
    /// The next piece of the bill, or `None` at its end.
    async fn next(&mut self) -> Result<Option<String>, AppError> {
        let h = &self.head;
        match self.step {
            Step::Header => {
                self.step = Step::Lines(0);
                Ok(Some(match self.layout {
                    Layout::Csv => rules::csv_header(&h.tag_keys),
                    Layout::V2 => rules::V2_HEADER.to_owned(),
                }))
            }
            Step::Lines(after_seq) => {
                let page = BillPage {
                    settlement_id: h.settlement_id.clone(),
                    bill_type: h.bill_type,
                    after_seq,
                };
                let got = self.call.ask(&self.env, &h.merchant_id, page).await?;
                let names = V2Names {
                    appid: &h.appid,
                    mch_id: &h.merchant_id,
                    utc_offset_minutes: h.utc_offset_minutes,
                };
                let mut out = String::new();
                for l in &got.lines {
                    self.totals.add(l);
                    out += &match self.layout {
                        Layout::Csv => rules::csv_line(l, &h.tag_keys, h.utc_offset_minutes),
                        Layout::V2 => rules::v2_line(l, &names),
                    };
                }
                self.step = got.next.map_or(Step::Totals, Step::Lines);
                Ok(Some(out))
            }
            Step::Totals => {
                self.step = Step::Done;
                Ok(Some(match self.layout {
                    Layout::Csv => rules::csv_totals(&self.totals, &h.tag_keys),
                    Layout::V2 => rules::v2_totals(&self.totals),
                }))
            }
            Step::Done => Ok(None),
        }
    }
}

/// The bill as a streamed response. A grouped bill is small and written whole.
pub fn respond(env: Env, call: Call, head: BillHead, layout: Layout) -> Result<Response, AppError> {
    let filename = format!("paydesk-bill-{}.csv", head.date);
    let resp = if let Some(grouped) = head.grouped.clone() {
        Response::ok(grouped)?
    } else {
        let state = State {
            env,
            call,
            head,
            layout,
            totals: Totals::default(),
            step: Step::Header,
        };
        let pieces = stream::unfold(state, |mut st| async move {
            match st.next().await {
                Ok(Some(text)) => Some((Ok(text.into_bytes()), st)),
                Ok(None) => None,
                Err(e) => {
                    worker::console_error!("bill: {e:?}");
                    st.step = Step::Done;
                    Some((Err(worker::Error::RustError("bill page failed".into())), st))
                }
            }
        });
        Response::from_stream(pieces)?
    };
    match layout {
        Layout::Csv => super::attachment(&resp, "text/csv; charset=utf-8", &filename)?,
        Layout::V2 => {
            let headers = resp.headers();
            headers.set("Content-Type", "text/plain; charset=utf-8")?;
            headers.set("Cache-Control", "no-store")?;
            headers.set("Content-Security-Policy", super::JSON_CSP)?;
        }
    }
    Ok(resp)
}
