//! JSON objects as the flat XML form some merchant systems prefer (`Accept: application/xml`):
//! `<xml><field><![CDATA[text]]></field><amount><total>1</total>...</amount></xml>`.
//! A key that is not an XML name (a tag key may start with a digit or `-`) is written as
//! `<entry key="2fa">...</entry>`, so the answer always parses.

use serde_json::Value;

pub fn to_xml(root: &str, v: &Value) -> String {
    let mut out = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><{root}>");
    if let Value::Object(map) = v {
        for (k, v) in map {
            write_field(&mut out, k, v);
        }
    }
    out.push_str(&format!("</{root}>"));
    out
}

fn write_field(out: &mut String, name: &str, v: &Value) {
    if !is_xml_name(name) {
        let key = escape_attr(name);
        let mut inner = String::new();
        write_field(&mut inner, "entry", v);
        // `inner` starts `<entry>`; give it the key as an attribute.
        if let Some(rest) = inner.strip_prefix("<entry>") {
            out.push_str(&format!("<entry key=\"{key}\">{rest}"));
        }
        return;
    }
    match v {
        Value::Null => {}
        Value::Object(map) => {
            out.push_str(&format!("<{name}>"));
            for (k, v) in map {
                write_field(out, k, v);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Array(items) => {
            out.push_str(&format!("<{name}>"));
            for item in items {
                write_field(out, "item", item);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::String(s) => {
            // `]]>` cannot appear inside CDATA: split it across two sections.
            let safe = s.replace("]]>", "]]]]><![CDATA[>");
            out.push_str(&format!("<{name}><![CDATA[{safe}]]></{name}>"));
        }
        other => out.push_str(&format!("<{name}>{other}</{name}>")),
    }
}

/// Letters, `_`, then also digits, `-` and `.`: the ASCII subset of an XML name, which is all a
/// field or tag key can be.
fn is_xml_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn escape_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_and_escaped() {
        let v = serde_json::json!({"out_trade_no": "A1", "amount": {"total": 5, "currency": "CNY"},
                                   "attach": "x]]>y", "limit_pay": ["balance"], "paid_at": null});
        let xml = to_xml("xml", &v);
        assert!(
            xml.contains("<amount><currency><![CDATA[CNY]]></currency><total>5</total></amount>")
                || xml.contains(
                    "<amount><total>5</total><currency><![CDATA[CNY]]></currency></amount>"
                )
        );
        assert!(xml.contains("<attach><![CDATA[x]]]]><![CDATA[>y]]></attach>"));
        assert!(xml.contains("<limit_pay><item><![CDATA[balance]]></item></limit_pay>"));
        assert!(!xml.contains("paid_at"));
    }

    #[test]
    fn a_key_that_is_not_an_xml_name_becomes_an_entry() {
        let v = serde_json::json!({"tags": {"2fa": "on", "-x": "a\"b", "ok_1": "y"}, "n": null});
        let xml = to_xml("xml", &v);
        assert!(
            xml.contains("<entry key=\"2fa\"><![CDATA[on]]></entry>"),
            "{xml}"
        );
        assert!(
            xml.contains("<entry key=\"-x\"><![CDATA[a\"b]]></entry>"),
            "{xml}"
        );
        assert!(xml.contains("<ok_1><![CDATA[y]]></ok_1>"), "{xml}");
        assert!(!xml.contains("<2fa>") && !xml.contains("<-x>"), "{xml}");
    }
}
