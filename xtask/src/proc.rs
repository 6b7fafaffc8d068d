//! Running child processes: plain runs, runs whose output is both shown and scanned, and the
//! environment every child gets (tool paths, and the variables that stop tools from downloading).

use crate::Result;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;

/// Describes a command for error messages.
pub fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs to completion with output shown; fails on a non-zero exit.
pub fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start `{}`: {e}", describe(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(cmd)))
    }
}

/// Runs and returns trimmed stdout, or None if it cannot start or fails.
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Runs with stdout and stderr shown as they come and also collected, for summary parsing.
/// Returns (succeeded, combined output).
pub fn run_tee(cmd: &mut Command) -> Result<(bool, String)> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start `{}`: {e}", describe(cmd)))?;
    let (tx, rx) = mpsc::channel::<String>();
    let pump = |stream: Box<dyn Read + Send>, to_stderr: bool, tx: mpsc::Sender<String>| {
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(|l| l.ok()) {
                if to_stderr {
                    eprintln!("{line}");
                } else {
                    println!("{line}");
                }
                let _ = tx.send(line);
            }
        })
    };
    let a = pump(Box::new(child.stdout.take().unwrap()), false, tx.clone());
    let b = pump(Box::new(child.stderr.take().unwrap()), true, tx);
    let status = child.wait().map_err(|e| e.to_string())?;
    let _ = (a.join(), b.join());
    let text: Vec<String> = rx.iter().collect();
    Ok((status.success(), text.join("\n")))
}

/// PATH with the project's tools first: npm's `node_modules/.bin` (Node 22, wrangler, wasm-opt,
/// esbuild) and cargo's bin folder.
pub fn tool_path(root: &Path) -> String {
    let mut parts = vec![root.join("node_modules/.bin").display().to_string()];
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        parts.push(Path::new(&home).join("bin").display().to_string());
    } else if let Some(home) = std::env::var_os("HOME") {
        parts.push(Path::new(&home).join(".cargo/bin").display().to_string());
    }
    if let Ok(p) = std::env::var("PATH") {
        parts.push(p);
    }
    parts.join(":")
}

/// A command with the project's environment: tool PATH, and the variables that make
/// worker-build and wasm-pack use the installed wasm-bindgen / wasm-opt / esbuild / chromedriver
/// instead of downloading their own.
pub fn cmd(root: &Path, program: &str) -> Command {
    let mut c = Command::new(program);
    c.env("PATH", tool_path(root))
        .env("WASM_BINDGEN_BIN", "wasm-bindgen")
        .env("WASM_OPT_BIN", "wasm-opt")
        .env("ESBUILD_BIN", "esbuild")
        .env("CHROMEDRIVER", "/usr/bin/chromedriver")
        .env("WRANGLER_SEND_METRICS", "false")
        .env("PAYDESK_ROOT", root);
    c
}
