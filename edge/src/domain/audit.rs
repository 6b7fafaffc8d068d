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

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub seq: i64,
    pub reason: &'static str,
}

/// Recomputes the chain in `seq` order; `Ok(count)` if intact.
pub fn verify(entries: &[Entry]) -> Result<usize, Broken> {
    let mut prev = GENESIS.to_owned();
    for (expected_seq, e) in (1..).zip(entries) {
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
