//! Streams an export the merchant's object authorised (`merchant/exports.rs`): the head line,
//! then the records and chain entries a page at a time, each written as soon as it is read,
//! then the seal: a signed document naming the SHA-256 of every byte before it, so whoever
//! holds the file can check it offline with the receipt keys (`domain::export_rules`).

use super::Call;
use crate::domain::export_rules::{AuditRef, Cursor, Part, Seal};
use crate::domain::{audit, receipt_rules};
use crate::error::AppError;
use crate::merchant::protocol::{ExportHead, ExportPage};
use futures_util::stream;
use paydesk_shared::sign::Sha256Stream;
use paydesk_shared::time::format_rfc3339;
use worker::{Env, Response};

enum Step {
    Head,
    Page(Cursor),
    Seal(Option<AuditRef>),
    Done,
}

struct State {
    env: Env,
    call: Call,
    head: ExportHead,
    digest: Sha256Stream,
    lines: u64,
    step: Step,
}

impl State {
    /// The next piece of the export, or `None` at its end.
    async fn next(&mut self) -> Result<Option<String>, AppError> {
        let text = match std::mem::replace(&mut self.step, Step::Done) {
            Step::Head => {
                self.step = Step::Page(Cursor::start(Part::Orders));
                self.lines += 1;
                self.head.head_line.clone()
            }
            Step::Page(cursor) => {
                let page = ExportPage {
                    range: self.head.range,
                    cursor,
                };
                let got = self
                    .call
                    .ask(&self.env, &self.head.merchant_id, page)
                    .await?;
                self.step = match got.next {
                    Some(c) => Step::Page(c),
                    None => Step::Seal(got.head),
                };
                self.lines += got.lines;
                got.text
            }
            Step::Seal(head) => return Ok(Some(self.seal(head)?)),
            Step::Done => return Ok(None),
        };
        self.digest.update(text.as_bytes());
        Ok(Some(text))
    }

    /// The last line: the signed seal over everything before it.
    fn seal(&self, head: Option<AuditRef>) -> Result<String, AppError> {
        let head = head.unwrap_or(AuditRef {
            seq: 0,
            hash: audit::GENESIS.to_owned(),
        });
        let seal = Seal {
            audit_hash: head.hash,
            audit_seq: head.seq,
            from: format_rfc3339(self.head.range.from_ms),
            kind: "export".into(),
            lines: self.lines,
            merchant_id: self.head.merchant_id.clone(),
            sha256: self.digest.hex(),
            to: format_rfc3339(self.head.range.to_ms),
            version: 1,
        };
        let keys = crate::runtime::receipt_keys(&self.env)?;
        let signed = receipt_rules::sign(&seal, &keys[0]);
        let mut f = serde_json::Map::new();
        f.insert("seal".into(), serde_json::to_value(signed)?);
        Ok(crate::domain::export_rules::line("seal", f))
    }
}

/// The export as a streamed download of JSON lines.
pub fn respond(env: Env, call: Call, head: ExportHead) -> Result<Response, AppError> {
    let filename = crate::domain::export_rules::filename(head.range, head.utc_offset_minutes);
    let state = State {
        env,
        call,
        head,
        digest: Sha256Stream::default(),
        lines: 0,
        step: Step::Head,
    };
    let pieces = stream::unfold(state, |mut st| async move {
        match st.next().await {
            Ok(Some(text)) => Some((Ok(text.into_bytes()), st)),
            Ok(None) => None,
            Err(e) => {
                worker::console_error!("export: {e:?}");
                st.step = Step::Done;
                Some((
                    Err(worker::Error::RustError("export page failed".into())),
                    st,
                ))
            }
        }
    });
    let resp = Response::from_stream(pieces)?;
    super::attachment(&resp, "application/x-ndjson; charset=utf-8", &filename)?;
    Ok(resp)
}
