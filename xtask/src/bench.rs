//! `cargo xtask bench`: speed and size, each figure beside a baseline measured in the same run on
//! the same machine (issue 8). Installs what is missing and builds, like `test`; then
//!
//! 1. the criterion micro-benchmarks (`cargo bench -p paydesk-shared -p paydesk-edge`), each hot
//!    operation beside SHA-256 of the same bytes;
//! 2. `node bench/run.mjs`: sizes of the first load, the pay page in throttled headless Chromium
//!    beside a static snapshot of itself, the edge under autocannon beside its health endpoint,
//!    notification latency and storage per order, all against the real worker (wrangler dev);
//!
//! and writes `target/bench/report.md` and `report.json`, keeping each complete report in
//! `target/bench/history/<commit>.json` so that the next commit's sizes compare with it.
//! Arguments go to bench/run.mjs (`--only size,page,edge,micro,notify,storage,bill`, `--quick`, ...).

use crate::proc::cmd;
use crate::tools::{ensure_all, Need};
use crate::{build, root, step, Result};
use std::time::{SystemTime, UNIX_EPOCH};

/// The criterion benches, by package.
const CRITERION: &[&str] = &[
    "-p",
    "paydesk-shared",
    "--bench",
    "signing",
    "-p",
    "paydesk-edge",
    "--bench",
    "rules",
];

pub fn run(args: &[String]) -> Result<()> {
    let root = root();
    let tools = ensure_all(Need::Test)?;
    build::widget(&tools, false)?;
    build::edge(&tools, false)?;

    let since_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_millis();
    if wants(args, "micro") {
        step("micro-benchmarks (cargo bench, criterion)");
        let mut c = cmd(&root, "cargo");
        c.current_dir(&root).arg("bench").args(CRITERION);
        if args.iter().any(|a| a == "--quick") {
            c.args(["--", "--warm-up-time", "0.2", "--measurement-time", "0.5"]);
        }
        crate::proc::run(&mut c)?;
    }

    step("pay page, edge, notifications and storage against the real worker (node bench/run.mjs)");
    let mut command = String::from("cargo xtask bench");
    for a in args {
        command.push(' ');
        command.push_str(a);
    }
    crate::proc::run(
        cmd(&root, "node")
            .current_dir(&root)
            .arg("bench/run.mjs")
            .args(args)
            .arg("--criterion-since")
            .arg(since_ms.to_string())
            .arg("--command")
            .arg(command),
    )?;
    eprintln!(
        "xtask: wrote {} and report.json",
        root.join("target/bench/report.md").display()
    );
    Ok(())
}

/// Whether `section` is measured: every section unless `--only` leaves it out.
fn wants(args: &[String], section: &str) -> bool {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let list = if a == "--only" {
            it.next().map(String::as_str)
        } else {
            a.strip_prefix("--only=")
        };
        if let Some(list) = list {
            return list.split(',').any(|s| s == section);
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_section_unless_only_says_otherwise() {
        assert!(wants(&v(&[]), "micro"));
        assert!(wants(&v(&["--quick"]), "micro"));
        assert!(!wants(&v(&["--only", "size,page"]), "micro"));
        assert!(wants(&v(&["--only", "edge,micro"]), "micro"));
        assert!(!wants(&v(&["--only=edge"]), "micro"));
    }
}
