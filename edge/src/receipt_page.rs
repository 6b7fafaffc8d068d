//! The payer's receipt page (`/pay/{token}?receipt`), opened from the pay page's success state:
//! what was paid and refunded, to whom and when, in both languages, printable, with the signed
//! receipts themselves (`?receipt=json` downloads them) and how to check them. Pure string
//! building, tested natively; every value passes through `page::escape_html`.

use crate::domain::bill_rules::{local_time, offset_suffix, yuan};
use crate::domain::receipt_rules::{Receipt, SignedReceipt};
use crate::page::escape_html as esc;

/// What the page shows, as the ledger answered it.
pub struct ReceiptView<'a> {
    pub merchant_name: &'a str,
    pub payment: Option<&'a SignedReceipt>,
    pub refunds: &'a [SignedReceipt],
    pub utc_offset_minutes: i32,
}

fn row(zh: &str, en: &str, value: &str) -> String {
    format!(
        "<tr><th>{zh} <span lang=\"en\">{en}</span></th><td>{}</td></tr>\n",
        esc(value)
    )
}

fn when(r: &Receipt, offset: i32) -> String {
    let ms = paydesk_shared::time::parse_rfc3339(&r.at).unwrap_or(0);
    format!("{} (UTC{})", local_time(ms, offset), offset_suffix(offset))
}

fn section(s: &SignedReceipt, offset: i32) -> String {
    let Ok(r) = crate::json_text::from_text::<Receipt>(&s.payload) else {
        return String::new();
    };
    let refund = r.kind == "refund";
    let (zh, en) = if refund {
        ("退款凭证", "Refund receipt")
    } else {
        ("付款凭证", "Payment receipt")
    };
    let mut rows = row(
        "金额",
        "Amount",
        &format!("{} ¥{}", r.currency, yuan(r.amount as i64)),
    );
    rows += &row("时间", "Time", &when(&r, offset));
    rows += &row("商户订单号", "Order no.", &r.out_trade_no);
    rows += &row("交易号", "Transaction", &r.transaction_id);
    if let Some(no) = &r.out_refund_no {
        rows += &row("退款单号", "Refund no.", no);
    }
    rows += &row("商品", "Item", &r.description);
    format!(
        "<section class=\"pd-receipt\" data-testid=\"{kind}\">\n<h2>{zh} <span lang=\"en\">{en}</span></h2>\n<table>\n{rows}</table>\n</section>\n",
        kind = if refund { "refund-receipt" } else { "payment-receipt" },
    )
}

/// The page; `None` payment: the order is not paid, so there is no receipt yet.
pub fn receipt_page(v: &ReceiptView<'_>) -> String {
    let name = esc(v.merchant_name);
    let body = match v.payment {
        None => "<p>此订单尚未付款，暂无凭证。</p>\n<p lang=\"en\">This order is not paid: there is no receipt yet.</p>\n".to_owned(),
        Some(p) => {
            let mut out = section(p, v.utc_offset_minutes);
            for r in v.refunds {
                out += &section(r, v.utc_offset_minutes);
            }
            let all: Vec<&SignedReceipt> = std::iter::once(p).chain(v.refunds).collect();
            let json = serde_json::to_string_pretty(&all).unwrap_or_default();
            out + &format!(
                "<p>本凭证由 paydesk 以 Ed25519 签名（密钥 {kid}），任何人可用公开密钥离线核验。打印：使用浏览器的打印功能。</p>\n\
                 <p lang=\"en\">Signed by paydesk with Ed25519 (key {kid}); anyone can check it offline with the public keys at /.well-known/paydesk-receipt-keys. To print it, use your browser's Print.</p>\n\
                 <p><a href=\"?receipt=json\" download=\"paydesk-receipt.json\">下载签名凭证 <span lang=\"en\">Download the signed receipt</span></a></p>\n\
                 <details><summary>签名凭证 <span lang=\"en\">Signed receipt</span></summary><pre data-testid=\"signed\">{}</pre></details>\n",
                esc(&json),
                kid = esc(&p.key_id),
            )
        }
    };
    crate::page::static_document(
        &format!("{name} · 电子凭证 Receipt"),
        r#"class="paydesk receipt""#,
        &format!("<h1>{name}</h1>\n{body}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::receipt_rules::{parse_keys, sign};

    #[test]
    fn the_page_shows_what_was_paid_escaped_and_the_signed_receipt() {
        let keys = parse_keys(&format!("k1:{}", "42".repeat(32))).unwrap();
        let r = Receipt {
            amount: 1_234,
            at: "2026-12-03T02:00:00.000Z".into(),
            currency: "CNY".into(),
            description: "<b>Tea</b>".into(),
            kind: "payment".into(),
            merchant_id: "mch_0000000000000001".into(),
            merchant_name: "Tea & Co".into(),
            method: None,
            out_refund_no: None,
            out_trade_no: "T1".into(),
            refund_id: None,
            transaction_id: "42".into(),
            version: 1,
        };
        let signed = sign(&r, &keys[0]);
        let page = receipt_page(&ReceiptView {
            merchant_name: "Tea & Co",
            payment: Some(&signed),
            refunds: &[],
            utc_offset_minutes: 480,
        });
        assert!(page.contains("<h1>Tea &amp; Co</h1>"));
        assert!(page.contains("CNY ¥12.34"));
        assert!(page.contains("2026-12-03 10:00:00 (UTC+08:00)"));
        assert!(page.contains("&lt;b&gt;Tea&lt;/b&gt;"));
        assert!(!page.contains("<b>Tea"));
        assert!(page.contains(&signed.signature));
        let unpaid = receipt_page(&ReceiptView {
            merchant_name: "x",
            payment: None,
            refunds: &[],
            utc_offset_minutes: 0,
        });
        assert!(unpaid.contains("not paid"));
    }
}
