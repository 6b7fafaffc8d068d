//! `cargo xtask dev`: install what is missing, build, start `wrangler dev` on 127.0.0.1:8787
//! with persisted local state, and print the URLs to open.

use crate::proc::cmd;
use crate::tools::{ensure_all, Need};
use crate::{build, root, step, Result};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

pub const PORT: u16 = 8787;

pub fn run() -> Result<()> {
    let root = root();
    let tools = ensure_all(Need::Build)?;
    ensure_dev_vars(&root.join("edge/.dev.vars"))?;
    build::widget(&tools, false)?;
    build::edge(&tools, false)?;

    step(&format!("starting wrangler dev on http://127.0.0.1:{PORT}"));
    let state = root.join(".paydesk/state");
    let mut child = cmd(&root, "wrangler")
        .args(["dev", "--ip", "127.0.0.1", "--port", &PORT.to_string()])
        .arg("--persist-to")
        .arg(&state)
        .args(["--show-interactive-dev-session=false"])
        .current_dir(root.join("edge"))
        .spawn()
        .map_err(|e| format!("cannot start wrangler: {e}"))?;

    if let Err(e) = wait_healthy(&mut child, &format!("127.0.0.1:{PORT}"), "wrangler dev") {
        let _ = child.kill();
        return Err(e);
    }

    let base = format!("http://127.0.0.1:{PORT}");
    let demo = match http("POST", "/dev/demo-order", "{}") {
        Ok((201, body)) => json_string_field(&body, "checkout_url"),
        _ => None,
    };
    println!();
    println!("paydesk is running (local state in .paydesk/state, dev keys in edge/.dev.vars)");
    println!("  home          {base}/");
    println!("  health        {base}/api/health");
    println!("  demo shop     {base}/shop/   (buy, then pay with card 4242 4242 4242 4242)");
    match demo {
        Some(url) => println!("  demo pay page {url}"),
        None => println!("  demo pay page: could not create a demo order; see the log above"),
    }
    println!("  new demo order: curl -X POST {base}/dev/demo-order");
    println!("  console       {base}/console   (users: POST /admin/merchants/{{id}}/console_users; README)");
    println!("Stop with Ctrl-C.");
    println!();
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("wrangler dev exited ({status})"))
    }
}

/// Writes `edge/.dev.vars` with fresh dev-only keys and a demo merchant if there is none.
pub fn ensure_dev_vars(path: &Path) -> Result<()> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        // Written by an older version: add the keys it lacks, keep the rest.
        let mut added = String::new();
        if !existing.contains("RECEIPT_SIGNING_KEYS=") {
            step("adding a dev-only receipt signing key to edge/.dev.vars");
            added += &format!("RECEIPT_SIGNING_KEYS=dev-1:{}\n", random_hex(64));
        }
        if !existing.contains("DATA_KEYS=") {
            step("adding a dev-only data sealing key to edge/.dev.vars");
            added += &format!("DATA_KEYS=dev-1:{}\n", random_hex(64));
        }
        if !added.is_empty() {
            let sep = if existing.ends_with('\n') { "" } else { "\n" };
            std::fs::write(path, format!("{existing}{sep}{added}"))
                .map_err(|e| format!("writing {}: {e}", path.display()))?;
        }
        return Ok(());
    }
    step("writing edge/.dev.vars with fresh dev-only keys and a demo merchant");
    std::fs::write(path, dev_vars(&random_hex(64)))
        .map_err(|e| format!("writing {}: {e}", path.display()))
}

/// The content of a `.dev.vars`, every key derived from `seed` (64 hex digits of randomness).
pub fn dev_vars(seed: &str) -> String {
    assert!(seed.len() >= 64);
    format!(
        "# DEV-ONLY keys for local development, written by `cargo xtask dev`. Never use in production.\n\
         PAYDESK_ENV=dev\n\
         ADMIN_TOKEN=dev_admin_{a}\n\
         CHECKOUT_TOKEN_KEY=dev_checkout_{b}\n\
         DEMO_MERCHANT_ID=mch_{m}\n\
         DEMO_API_KEY=dev_key_{c}\n\
         DEMO_WEBHOOK_SECRET=whsec_dev_{d}\n\
         RECEIPT_SIGNING_KEYS=dev-1:{r}\n\
         DATA_KEYS=dev-1:{k}\n",
        a = &seed[0..16],
        b = &seed[16..48],
        m = &seed[48..64],
        c = &seed[32..64],
        d = &seed[8..40],
        r = random_hex(64),
        k = random_hex(64),
    )
}

pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n.div_ceil(2)];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("reading /dev/urandom");
    let mut s: String = buf.iter().map(|b| format!("{b:02x}")).collect();
    s.truncate(n);
    s
}

/// Until `/api/health` at `addr` answers 200 (storage included), or `child` (`what`) exits, or
/// 120 s pass; polled every 200 ms.
pub fn wait_healthy(child: &mut Child, addr: &str, what: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Err(format!("{what} exited before it was ready ({status})"));
        }
        let last = match http_at(addr, "GET", "/api/health", "") {
            Ok((200, _)) => return Ok(()),
            Ok((code, body)) => format!("HTTP {code}: {body}"),
            Err(e) => e.to_string(),
        };
        if Instant::now() > deadline {
            return Err(format!(
                "{what}: /api/health did not answer 200 within 120 s ({last})"
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A minimal HTTP/1.1 exchange with the local worker; returns (status, body).
fn http(method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
    http_at(&format!("127.0.0.1:{PORT}"), method, path, body)
}

/// A minimal HTTP/1.1 exchange with a server at `addr` (`host:port`); returns (status, body).
pub fn http_at(addr: &str, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut resp = String::new();
    s.read_to_string(&mut resp)?;
    let status = resp
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = resp
        .split_once("\r\n\r\n")
        .map(|x| x.1)
        .unwrap_or("")
        .to_owned();
    Ok((status, body))
}

/// The value of a string field in a flat JSON object (enough for our own responses).
fn json_string_field(json: &str, field: &str) -> Option<String> {
    let needle = format!("\"{field}\":\"");
    let start = json.find(&needle)? + needle.len();
    let end = json[start..].find('"')?;
    Some(json[start..start + end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_vars_are_labelled_and_complete() {
        let v = dev_vars(&"0123456789abcdef".repeat(4));
        assert!(v.starts_with("# DEV-ONLY"));
        for key in [
            "PAYDESK_ENV=dev",
            "ADMIN_TOKEN=",
            "CHECKOUT_TOKEN_KEY=",
            "DEMO_MERCHANT_ID=mch_",
            "DEMO_API_KEY=",
            "DEMO_WEBHOOK_SECRET=",
            "RECEIPT_SIGNING_KEYS=dev-1:",
            "DATA_KEYS=dev-1:",
        ] {
            assert!(v.contains(key), "{key}");
        }
        let id = v
            .lines()
            .find_map(|l| l.strip_prefix("DEMO_MERCHANT_ID="))
            .unwrap();
        assert_eq!(id.len(), 20);
        let key = v
            .lines()
            .find_map(|l| l.strip_prefix("CHECKOUT_TOKEN_KEY="))
            .unwrap();
        assert!(key.len() >= 32);
    }

    #[test]
    fn random_hex_is_random() {
        let (a, b) = (random_hex(64), random_hex(64));
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }

    #[test]
    fn reads_a_string_field() {
        let j = r#"{"merchant_id":"mch_1","checkout_url":"http://x/pay/abc.def"}"#;
        assert_eq!(
            json_string_field(j, "checkout_url").as_deref(),
            Some("http://x/pay/abc.def")
        );
        assert_eq!(json_string_field(j, "nope"), None);
    }
}
