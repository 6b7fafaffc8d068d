//! Percent-decoding and query strings, written once for every surface: the merchant API's path
//! segments and query parameters, the pay page's form posts and query, the admin listings.
//! No URL parsing library: its tables cost the wasm builds size.

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`). `Err` carries the lenient
/// reading (malformed escapes kept as they are, invalid UTF-8 as U+FFFD) for callers that
/// accept it.
fn decode(s: &str, plus_is_space: bool) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut malformed = false;
    let mut i = 0;
    while i < b.len() {
        let escaped = s
            .get(i + 1..i + 3)
            .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], escaped) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
                continue;
            }
            (b'%', None) => malformed = true,
            (b'+', _) if plus_is_space => {
                out.push(b' ');
                i += 1;
                continue;
            }
            _ => {}
        }
        out.push(b[i]);
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(text) if !malformed => Ok(text),
        Ok(text) => Err(text),
        Err(e) => Err(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

/// A path segment: `%XX` escapes decoded, `+` kept; `None` for a malformed escape or bytes that
/// are not UTF-8 (a bad parameter, never a guess).
pub fn path_segment(seg: &str) -> Option<String> {
    decode(seg, false).ok()
}

/// One `application/x-www-form-urlencoded` or query component: `+` is a space, `%XX` a byte;
/// malformed escapes stay as they are; invalid UTF-8 becomes U+FFFD.
pub fn form_component(s: &str) -> String {
    decode(s, true).unwrap_or_else(|lenient| lenient)
}

/// The `name=value` pairs of a query string or form body (without `?`), decoded, in order.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (form_component(k), form_component(v))
        })
        .collect()
}

/// The first value of `name` in a query string, decoded.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    query_pairs(query)
        .into_iter()
        .find_map(|(k, v)| (k == name).then_some(v))
}

/// A query component or path segment percent-encoded: everything but `A-Z a-z 0-9 - _ . ~`
/// as `%XX` of its UTF-8 bytes, so `form_component` and `path_segment` give it back.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_components_decode_to_themselves() {
        for s in ["#336699", "茶馆 Tea & Co+1", "A|B*", "a=b?c/d%"] {
            let e = encode_component(s);
            assert!(
                e.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.~%".contains(&b)),
                "{e}"
            );
            assert_eq!(form_component(&e), s);
            assert_eq!(path_segment(&e).as_deref(), Some(s));
        }
    }

    #[test]
    fn form_components_are_lenient() {
        assert_eq!(form_component("a+b%20c%2Bd"), "a b c+d");
        assert_eq!(form_component("%E6%94%AF"), "支");
        assert_eq!(form_component("100%"), "100%");
        assert_eq!(form_component("%zz%4"), "%zz%4");
        assert_eq!(form_component("%+1"), "% 1");
        assert_eq!(form_component("%FF"), "\u{FFFD}");
    }

    #[test]
    fn path_segments_are_strict() {
        assert_eq!(path_segment("A%7CB*1").as_deref(), Some("A|B*1"));
        assert_eq!(path_segment("a+b").as_deref(), Some("a+b"));
        assert_eq!(path_segment("%ZZ"), None);
        assert_eq!(path_segment("%4"), None);
        assert_eq!(path_segment("%FF"), None);
    }

    #[test]
    fn queries() {
        let q = "status=FAILED&out_trade_no=A%7C1&flag&limit=5&status=x";
        assert_eq!(
            query_pairs(q),
            vec![
                ("status".into(), "FAILED".into()),
                ("out_trade_no".into(), "A|1".into()),
                ("flag".into(), "".into()),
                ("limit".into(), "5".into()),
                ("status".into(), "x".into()),
            ]
        );
        assert_eq!(query_param(q, "status").as_deref(), Some("FAILED"));
        assert_eq!(query_param(q, "embed"), None);
        assert!(query_pairs("").is_empty());
    }
}
