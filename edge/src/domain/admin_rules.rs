//! Bounds of what operators may ask of a merchant through the admin API: who approves, which
//! documents re-activate a dormant account, how far the test clock moves, how long a rotated
//! key stays valid, how many orders a page lists.

use super::refusal::Refusal;

/// The longest the previous key or webhook secret stays valid after a rotation.
pub const MAX_ROTATION_GRACE_SECONDS: u32 = 7 * 86_400;
/// By default the previous key stays valid a day.
pub const DEFAULT_ROTATION_GRACE_SECONDS: u32 = 86_400;
/// The test clock moves at most 400 days a call.
pub const MAX_CLOCK_ADVANCE_SECONDS: u64 = 400 * 86_400;

fn plain(s: &str, max: usize) -> bool {
    !s.is_empty() && s.chars().count() <= max && !s.chars().any(char::is_control)
}

/// An approver's name, trimmed: 1-64 characters of plain text.
pub fn approver(name: &str) -> Result<&str, Refusal> {
    let name = name.trim();
    if plain(name, 64) {
        Ok(name)
    } else {
        Err(Refusal::param(
            "approver",
            "approver must be 1-64 characters",
        ))
    }
}

/// The reference to the documents that re-activate a dormant account, trimmed: 1-128 characters.
pub fn document_ref(doc: &str) -> Result<&str, Refusal> {
    let doc = doc.trim();
    if plain(doc, 128) {
        Ok(doc)
    } else {
        Err(Refusal::param(
            "document_ref",
            "a reference (1-128 characters) to the re-submitted documents is required",
        ))
    }
}

/// A clock advance stops at most this many times on the way (each due time once).
pub const MAX_CLOCK_STEPS: usize = 20_000;

/// More due times on the way than one advance walks: advance in smaller steps.
pub fn too_much_due() -> Refusal {
    Refusal::param(
        "seconds",
        "more falls due on the way than one advance runs (20000 due times): advance in smaller steps",
    )
}

pub fn clock_advance(seconds: u64) -> Result<i64, Refusal> {
    if seconds == 0 || seconds > MAX_CLOCK_ADVANCE_SECONDS {
        return Err(Refusal::param(
            "seconds",
            "seconds must be 1 to 34560000 (400 days)",
        ));
    }
    Ok(seconds as i64 * 1000)
}

pub fn rotation_grace(seconds: Option<u32>) -> Result<u32, Refusal> {
    let s = seconds.unwrap_or(DEFAULT_ROTATION_GRACE_SECONDS);
    if s > MAX_ROTATION_GRACE_SECONDS {
        return Err(Refusal::param(
            "grace_seconds",
            "grace_seconds must be at most 604800 (7 days)",
        ));
    }
    Ok(s)
}

/// How many orders one page of a listing holds: 1-100, 20 by default.
pub fn page_limit(limit: Option<u32>) -> Result<u32, Refusal> {
    let l = limit.unwrap_or(20);
    if (1..=100).contains(&l) {
        Ok(l)
    } else {
        Err(Refusal::param("limit", "limit must be 1-100"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approvers_and_documents_are_trimmed_plain_text() {
        assert_eq!(approver("  alice "), Ok("alice"));
        assert!(approver("   ").is_err());
        assert!(approver(&"a".repeat(65)).is_err());
        assert!(approver("a\u{7}").is_err());
        assert_eq!(document_ref(" LIC-2026-0001 "), Ok("LIC-2026-0001"));
        assert!(document_ref("").is_err());
        assert!(document_ref(&"文".repeat(129)).is_err());
        assert!(document_ref(&"文".repeat(128)).is_ok());
    }

    #[test]
    fn clock_and_rotation_bounds() {
        assert_eq!(clock_advance(1), Ok(1000));
        assert!(clock_advance(0).is_err());
        assert!(clock_advance(MAX_CLOCK_ADVANCE_SECONDS).is_ok());
        assert_eq!(
            clock_advance(MAX_CLOCK_ADVANCE_SECONDS + 1)
                .unwrap_err()
                .param
                .as_deref(),
            Some("seconds")
        );
        assert_eq!(rotation_grace(None), Ok(86_400));
        assert_eq!(rotation_grace(Some(0)), Ok(0));
        assert!(rotation_grace(Some(MAX_ROTATION_GRACE_SECONDS + 1)).is_err());
        assert_eq!(page_limit(None), Ok(20));
        assert!(page_limit(Some(0)).is_err() && page_limit(Some(101)).is_err());
    }
}
