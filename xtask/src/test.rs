//! `cargo xtask test`: every layer, then one summary line.
//!
//! 0. `cargo fmt --check` and `cargo clippy -D warnings` (native and wasm32), one check each;
//! 1. native unit tests (`cargo test` of the pure crates);
//! 2. widget tests in headless Chromium (`wasm-pack test --headless --chrome widget`);
//! 3. black-box tests (`node --test tests/`) that start the real worker under `wrangler dev` and
//!    drive it over HTTP and through headless Chromium with playwright-core.
//!
//! Every process a layer starts is stopped by that layer, on failure too (the black-box harness
//! starts each wrangler in its own process group and kills the group).

use crate::proc::{cmd, run_tee};
use crate::tools::{ensure_all, Need};
use crate::{build, root, step, Result};

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.passed += o.passed;
        self.failed += o.failed;
    }
}

/// Sums cargo/libtest and wasm-bindgen-test result lines:
/// `test result: ok. 34 passed; 0 failed; ...`.
pub fn parse_libtest(out: &str) -> Counts {
    let mut c = Counts::default();
    for line in out.lines() {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            continue;
        };
        for part in rest.split([';', '.']) {
            let mut w = part.split_whitespace();
            if let (Some(n), Some(kind)) = (w.next(), w.next()) {
                if let Ok(n) = n.parse::<u64>() {
                    match kind {
                        "passed" => c.passed += n,
                        "failed" => c.failed += n,
                        _ => {}
                    }
                }
            }
        }
    }
    c
}

/// Reads node's test runner summary (`ℹ pass 12`, `ℹ fail 0`; `# pass 12` with TAP).
pub fn parse_node(out: &str) -> Counts {
    let mut c = Counts::default();
    for line in out.lines() {
        let l = line.trim_start_matches(['ℹ', '#', ' ']);
        if let Some(n) = l.strip_prefix("pass ") {
            c.passed = n.trim().parse().unwrap_or(c.passed);
        } else if let Some(n) = l.strip_prefix("fail ") {
            c.failed = n.trim().parse().unwrap_or(c.failed);
        }
    }
    c
}

pub fn run(args: &[String]) -> Result<()> {
    let root = root();
    let mut clock = Laps::start();
    let tools = ensure_all(Need::Test)?;
    build::widget(&tools, false)?;
    build::edge(&tools, false)?;
    clock.lap("install and build");

    let mut total = Counts::default();
    let mut broken: Vec<&str> = Vec::new();
    let only = args.first().map(String::as_str);

    if only.is_none() || only == Some("lint") {
        step(
            "formatting and lints (cargo fmt --check, cargo clippy -D warnings, native and wasm32)",
        );
        let checks: [&[&str]; 5] = [
            &["fmt", "--all", "--check"],
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
            &[
                "clippy",
                "-p",
                "paydesk-edge",
                "-p",
                "paydesk-widget",
                "--target",
                "wasm32-unknown-unknown",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
            // The contract page's build of the widget (only the widget crate is checked again; its
            // browser tests are the pay page's, left out of this build: widget/tests/web.rs).
            &[
                "clippy",
                "-p",
                "paydesk-widget",
                "--features",
                "contract-page",
                "--target",
                "wasm32-unknown-unknown",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
            // The console's build.
            &[
                "clippy",
                "-p",
                "paydesk-widget",
                "--features",
                "console-page",
                "--target",
                "wasm32-unknown-unknown",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ];
        for args in checks {
            let ok = crate::proc::run(cmd(&root, "cargo").current_dir(&root).args(args)).is_ok();
            if ok {
                total.passed += 1;
            } else {
                total.failed += 1;
                broken.push("lint");
            }
        }
        clock.lap("lint");
    }

    if only.is_none() || only == Some("unit") {
        step("native unit tests (cargo test)");
        let (ok, out) = run_tee(
            cmd(&root, "cargo")
                .current_dir(&root)
                .args(["test", "--workspace"]),
        )?;
        total += parse_libtest(&out);
        if !ok {
            broken.push("unit");
        }
        clock.lap("unit");
    }

    if only.is_none() || only == Some("widget") {
        step("widget tests in headless Chromium (wasm-pack test --headless --chrome)");
        let (ok, out) = run_tee(
            cmd(&root, "wasm-pack")
                .current_dir(root.join("widget"))
                .args(["test", "--headless", "--chrome"]),
        )?;
        let c = parse_libtest(&out);
        total += c;
        if !ok || c.passed == 0 {
            broken.push("widget");
        }
        clock.lap("widget");
    }

    if only.is_none() || only == Some("e2e") {
        step("black-box tests against the real worker (wrangler dev) and headless Chromium");
        let (ok, out) = run_tee(cmd(&root, "node").current_dir(&root).args([
            "--test",
            "--test-concurrency=1",
            // A failed test may leave a server of its own open; do not wait for it.
            "--test-force-exit",
            "--test-reporter=spec",
            "tests/*.test.mjs",
        ]))?;
        let c = parse_node(&out);
        total += c;
        if !ok || c.passed == 0 {
            broken.push("e2e");
        }
        clock.lap("e2e");
    }

    println!();
    println!("time: {}", clock.report());
    println!("total: {} passed, {} failed", total.passed, total.failed);
    if broken.is_empty() && total.failed == 0 {
        Ok(())
    } else {
        Err(format!("failing layers: {}", broken.join(", ")))
    }
}

/// Wall-clock time of each layer, so a slow one shows in every run's last lines.
struct Laps {
    started: std::time::Instant,
    last: std::time::Instant,
    laps: Vec<(&'static str, f64)>,
}

impl Laps {
    fn start() -> Laps {
        let now = std::time::Instant::now();
        Laps {
            started: now,
            last: now,
            laps: Vec::new(),
        }
    }

    fn lap(&mut self, name: &'static str) {
        let now = std::time::Instant::now();
        self.laps.push((name, (now - self.last).as_secs_f64()));
        self.last = now;
    }

    /// `install and build 3s, lint 1s, ..., total 95s`.
    fn report(&self) -> String {
        let mut parts: Vec<String> = self
            .laps
            .iter()
            .map(|(name, s)| format!("{name} {s:.0}s"))
            .collect();
        parts.push(format!(
            "total {:.0}s",
            self.started.elapsed().as_secs_f64()
        ));
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_libtest_lines() {
        let out = "test result: ok. 34 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.14s\n\
                   noise\n\
                   test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out";
        assert_eq!(
            parse_libtest(out),
            Counts {
                passed: 37,
                failed: 2
            }
        );
    }

    #[test]
    fn reads_node_summary() {
        let out = "✔ something (12ms)\nℹ tests 7\nℹ suites 0\nℹ pass 6\nℹ fail 1\nℹ cancelled 0";
        assert_eq!(
            parse_node(out),
            Counts {
                passed: 6,
                failed: 1
            }
        );
        assert_eq!(
            parse_node("# pass 3\n# fail 0"),
            Counts {
                passed: 3,
                failed: 0
            }
        );
    }
}
