//! JSON objects as the flat XML form some merchant systems prefer (`Accept: application/xml`):
//! `<xml><field><![CDATA[text]]></field><amount><total>1</total>...</amount></xml>`.

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
}
