//! `cargo xtask`: the project's two set-up commands and the build steps behind them.
//!
//! It wraps the ecosystem's own tools (rustup, cargo install, npm ci, worker-build, wasm-bindgen,
//! wasm-opt, wasm-pack, wrangler, node) and never replaces them. Everything it installs comes from
//! the package registries: nothing is downloaded from anywhere else.

mod backup;
mod bench;
mod build;
mod deploy;
mod dev;
mod fuzz;
mod proc;
mod serve;
mod short_names;
mod test;
mod tools;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

  dev          install what is missing, build, start the worker on http://127.0.0.1:8787
  test [LAYER] install what is missing, build, run every test layer (or one of: lint, unit,
               widget, e2e), print one summary line
  setup        only install what is missing (wasm target, cargo tools, npm tools, chromium)
  build        build the widget and the worker (release)
  build-edge   build the worker only (run by wrangler's [build] step)
  build-widget build the widget only
  deploy [--dry-run]
               build, stage the production worker in target/deploy and `wrangler deploy` it
               (--dry-run: bundle only, no account needed; docs/deploy.md)
  serve [--listen HOST:PORT] [--data DIR] [--env-file FILE]
               build, then run the worker self-hosted on workerd in production mode, its data in
               DIR, its secrets from FILE (outside the repository; `serve --init` writes one with
               fresh keys); docs/self-host.md
  backup [--data DIR] --to DIR
               copy the self-hosted data directory while the server runs (consistent per object)
  restore --from DIR [--data DIR]
               put a backup into a new or empty data directory, then `serve --data DIR`
  fuzz [SECS]  run the cargo-fuzz targets (v2 XML parser, v2 signer) for SECS each (default 60)
  bench [ARGS] install what is missing, build, measure size and speed beside baselines, write
               target/bench/report.md and report.json (ARGS: --only size,page,edge,ledger,micro,
               notify,storage,bill,risk; --quick; --save-worker DIR keeps the build, and a later
               --only ab --against DIR runs the new build beside it; see bench/run.mjs)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("dev") => dev::run(),
        Some("test") => test::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("setup") => tools::ensure_all(tools::Need::Test).map(|_| ()),
        Some("build") => tools::ensure_all(tools::Need::Build).and_then(|t| {
            build::widget(&t, true)?;
            build::edge(&t, true)
        }),
        Some("fuzz") => fuzz::run_all(&args[1..]),
        Some("deploy") => deploy::run_deploy(&args[1..]),
        Some("serve") => serve::run(&args[1..]),
        Some("backup") => backup::run_backup(&args[1..]),
        Some("restore") => backup::run_restore(&args[1..]),
        Some("build-edge") => tools::Tools::from_installed().and_then(|t| build::edge(&t, false)),
        Some("build-widget") => {
            tools::ensure_all(tools::Need::Build).and_then(|t| build::widget(&t, true))
        }
        _ => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

pub type Result<T> = std::result::Result<T, String>;

/// The workspace root (the folder holding this xtask's parent).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Progress lines that say what is happening, especially for steps that take minutes.
pub fn step(msg: &str) {
    eprintln!("\x1b[1m==>\x1b[0m {msg}");
}
