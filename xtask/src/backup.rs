//! `cargo xtask backup` and `cargo xtask restore`: a self-hosted data directory copied while the
//! server runs, and put back into a new directory (docs/self-host.md). The work is done by
//! `edge/selfhost/backup.mjs` on Node's SQLite, which says how each file is copied consistently.

use crate::proc::{cmd, run};
use crate::serve::xdg;
use crate::{root, tools, Result};
use std::path::PathBuf;

const USAGE: &str = "usage: cargo xtask backup [--data DIR] --to DIR | \
                     cargo xtask restore --from DIR [--data DIR]";

pub fn run_backup(args: &[String]) -> Result<()> {
    let (data, other) = parse(args, "--to")?;
    node_script("backup", data, other)
}

pub fn run_restore(args: &[String]) -> Result<()> {
    let (data, other) = parse(args, "--from")?;
    node_script("restore", other, data)
}

/// The data directory (the serve default unless `--data`) and the folder `flag` names.
fn parse(args: &[String], flag: &str) -> Result<(PathBuf, PathBuf)> {
    let mut data = xdg(&|k| std::env::var(k).ok(), "XDG_DATA_HOME", ".local/share");
    let mut other = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let value = it
            .next()
            .ok_or_else(|| format!("{a} needs a value\n{USAGE}"))?;
        match a.as_str() {
            "--data" => data = PathBuf::from(value),
            f if f == flag => other = Some(PathBuf::from(value)),
            _ => return Err(format!("unknown option {a}\n{USAGE}")),
        }
    }
    let other = other.ok_or_else(|| format!("{flag} is required\n{USAGE}"))?;
    Ok((data, other))
}

fn node_script(op: &str, from: PathBuf, to: PathBuf) -> Result<()> {
    tools::ensure_all(tools::Need::Build)?;
    let root = root();
    run(cmd(&root, "node")
        .arg("--no-warnings")
        .arg(root.join("edge/selfhost/backup.mjs"))
        .arg(op)
        .arg(from)
        .arg(to))
}
