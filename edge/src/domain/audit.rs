//! The audit chain: every state change and admin action is an append-only entry that carries
//! the hash of the entry before it, so editing or deleting any stored entry breaks the chain
//! from that point on, and [`verify`] finds the first broken link.

use paydesk_shared::sign::{hex_lower, sha256};

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Entry {
    pub seq: i64,
    pub at_ms: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub before: String,
    pub after: String,
    pub prev_hash: String,
    pub hash: String,
}

/// What an entry records, before it is chained.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub seq: i64,
    pub at_ms: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub before: &'a str,
    pub after: &'a str,
}

/// The hash of an entry: SHA-256 over the previous hash and its fields, each length-prefixed so
/// no two different entries hash the same bytes.
pub fn entry_hash(prev_hash: &str, r: &Record<'_>) -> String {
    let mut buf = Vec::new();
    let seq_s = r.seq.to_string();
    let at_s = r.at_ms.to_string();
    for field in [
        prev_hash, &seq_s, &at_s, r.actor, r.action, r.target, r.before, r.after,
    ] {
        buf.extend_from_slice(&(field.len() as u64).to_be_bytes());
        buf.extend_from_slice(field.as_bytes());
    }
    hex_lower(&sha256(&buf))
}

impl Entry {
    pub fn record(&self) -> Record<'_> {
        Record {
            seq: self.seq,
            at_ms: self.at_ms,
            actor: &self.actor,
            action: &self.action,
            target: &self.target,
            before: &self.before,
            after: &self.after,
        }
    }
}

/// One field an audited action changed, as the audit log shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Change {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// The field a plain (not JSON) before/after pair of an action is about.
fn field_of(action: &str) -> &'static str {
    match action {
        "order.release" => "funds",
        "order.fulfil" => "fulfilled",
        "clock.advance" => "business_time",
        "settlement.create" => "net",
        "settlement.sweep" | "pool.join" => "group",
        "pool.sweep" => "swept",
        "receiver.create" => "relation",
        "console_user.create" | "console_user.role" | "console_user.remove" => "role",
        "console_user.password" => "password",
        _ => "status",
    }
}

fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// What an entry changed, field by field: the keys that differ when before and after are JSON
/// objects (a configuration), else the one field the action is about.
pub fn changes(action: &str, before: &str, after: &str) -> Vec<Change> {
    let object = |s: &str| match crate::json_text::from_text::<serde_json::Value>(s) {
        Ok(serde_json::Value::Object(m)) => Some(m),
        _ if s.is_empty() => Some(serde_json::Map::new()),
        _ => None,
    };
    if let (Some(b), Some(a)) = (object(before), object(after)) {
        if !(b.is_empty() && a.is_empty()) {
            let keys: std::collections::BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            let null = serde_json::Value::Null;
            return keys
                .into_iter()
                .filter(|k| b.get(*k) != a.get(*k))
                .map(|k| Change {
                    field: k.clone(),
                    before: text(b.get(k).unwrap_or(&null)),
                    after: text(a.get(k).unwrap_or(&null)),
                })
                .collect();
        }
    }
    if before == after {
        return vec![];
    }
    vec![Change {
        field: field_of(action).to_owned(),
        before: before.to_owned(),
        after: after.to_owned(),
    }]
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub seq: i64,
    pub reason: &'static str,
}

/// Recomputes the chain in `seq` order; `Ok(count)` if intact.
pub fn verify(entries: &[Entry]) -> Result<usize, Broken> {
    verify_from(0, GENESIS, entries)
}

/// The same for a chain whose entries up to `anchor_seq` were let go (past retention): the
/// first kept entry must follow `anchor_seq` and link to `anchor_hash`, the hash of the last
/// entry let go.
pub fn verify_from(anchor_seq: i64, anchor_hash: &str, entries: &[Entry]) -> Result<usize, Broken> {
    let mut prev = anchor_hash.to_owned();
    for (expected_seq, e) in (anchor_seq + 1..).zip(entries) {
        if e.seq != expected_seq {
            return Err(Broken {
                seq: expected_seq,
                reason: "entry missing",
            });
        }
        if e.prev_hash != prev {
            return Err(Broken {
                seq: e.seq,
                reason: "previous-hash link does not match",
            });
        }
        if entry_hash(&e.prev_hash, &e.record()) != e.hash {
            return Err(Broken {
                seq: e.seq,
                reason: "entry content does not match its hash",
            });
        }
        prev = e.hash.clone();
    }
    Ok(entries.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_field_by_field() {
        let c = changes("order.pay", "NOTPAY", "SUCCESS");
        assert_eq!(
            c,
            [Change {
                field: "status".into(),
                before: "NOTPAY".into(),
                after: "SUCCESS".into()
            }]
        );
        let c = changes(
            "merchant.config",
            r#"{"release_days":7,"industry":"retail"}"#,
            r#"{"release_days":3,"industry":"retail","group_id":"mch_1"}"#,
        );
        let fields: Vec<(&str, &str, &str)> = c
            .iter()
            .map(|c| (c.field.as_str(), c.before.as_str(), c.after.as_str()))
            .collect();
        assert_eq!(
            fields,
            [("group_id", "", "mch_1"), ("release_days", "7", "3")]
        );
        assert_eq!(changes("order.release", "held", "100")[0].field, "funds");
        assert!(changes("order.fulfil", "x", "x").is_empty());
        let created = changes("merchant.create", "", r#"{"name":"Shop"}"#);
        assert_eq!(
            (created[0].field.as_str(), created[0].after.as_str()),
            ("name", "Shop")
        );
    }

    fn chain(n: i64) -> Vec<Entry> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let (actor, action, target) = ("api", "order.create", format!("ORDER_{seq}"));
                let rec = Record {
                    seq,
                    at_ms: seq * 10,
                    actor,
                    action,
                    target: &target,
                    before: "",
                    after: "NOTPAY",
                };
                let hash = entry_hash(&prev, &rec);
                let e = Entry {
                    seq,
                    at_ms: seq * 10,
                    actor: actor.into(),
                    action: action.into(),
                    target,
                    before: String::new(),
                    after: "NOTPAY".into(),
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                e
            })
            .collect()
    }

    #[test]
    fn intact_chain_verifies() {
        assert_eq!(verify(&chain(5)), Ok(5));
        assert_eq!(verify(&[]), Ok(0));
    }

    #[test]
    fn an_edited_entry_is_the_first_broken_link() {
        let mut c = chain(5);
        c[2].after = "SUCCESS".into();
        assert_eq!(verify(&c).unwrap_err().seq, 3);
        let mut c = chain(5);
        c[1].at_ms += 1;
        assert_eq!(verify(&c).unwrap_err().seq, 2);
    }

    #[test]
    fn a_rehashed_edit_still_breaks_the_next_link() {
        let mut c = chain(5);
        c[2].after = "SUCCESS".into();
        c[2].hash = entry_hash(&c[2].prev_hash, &c[2].record());
        assert_eq!(
            verify(&c).unwrap_err(),
            Broken {
                seq: 4,
                reason: "previous-hash link does not match"
            }
        );
    }

    #[test]
    fn a_deleted_entry_is_found() {
        let mut c = chain(5);
        c.remove(3);
        assert_eq!(verify(&c).unwrap_err().seq, 4);
    }

    #[test]
    fn fields_cannot_bleed_into_each_other() {
        let r = |actor, action| Record {
            seq: 1,
            at_ms: 1,
            actor,
            action,
            target: "",
            before: "",
            after: "",
        };
        assert_ne!(
            entry_hash(GENESIS, &r("ab", "c")),
            entry_hash(GENESIS, &r("a", "bc"))
        );
    }
}
