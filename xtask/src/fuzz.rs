//! `cargo xtask fuzz [SECONDS]`: runs each `cargo fuzz` target of `fuzz/` (the WeChat Pay v2 XML
//! parser and parameter signer) for SECONDS (default 60) and prints libFuzzer's execution count.
//! Installs cargo-fuzz from crates.io when it is missing. A crash fails the command and leaves
//! the input under `fuzz/artifacts/`.

use crate::proc::{cmd, run};
use crate::{root, step, Result};

const CARGO_FUZZ_VERSION: &str = "0.13.2";
const TARGETS: &[&str] = &["v2_xml", "v2_sign"];

pub fn run_all(args: &[String]) -> Result<()> {
    let secs: u64 = match args.first() {
        Some(s) => s
            .parse()
            .map_err(|_| format!("fuzz: SECONDS must be a number, not {s:?}"))?,
        None => 60,
    };
    let root = root();
    crate::tools::ensure_cargo_tool(&root, "cargo-fuzz", "cargo-fuzz", CARGO_FUZZ_VERSION, "2")?;
    for t in TARGETS {
        step(&format!("fuzzing {t} for {secs} s"));
        // libFuzzer's instrumentation needs `-Z` flags: RUSTC_BOOTSTRAP lets the stable
        // toolchain accept them, for this build only. No sanitizer: the code is safe Rust, and
        // the properties in the targets assert what matters.
        run(cmd(&root, "cargo")
            .args(["fuzz", "run", "--sanitizer", "none", t, "--"])
            .arg(format!("-max_total_time={secs}"))
            .arg("-print_final_stats=1")
            .env("RUSTC_BOOTSTRAP", "1")
            .current_dir(root.join("fuzz")))?;
    }
    Ok(())
}
