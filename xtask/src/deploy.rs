//! `cargo xtask deploy [--dry-run]`: the worker to Cloudflare through `wrangler deploy`.
//!
//! It builds, then stages under `target/deploy/` exactly what production runs: a `wrangler.toml`
//! made from `edge/wrangler.toml` without its `[build]` step (the build is done) and pointing at
//! the staged assets, and `www/` without the demo shop, the demo merchant's logo and the bench's
//! files. Nothing secret comes from the repository: the worker's secrets are put with
//! `wrangler secret put` (README, "Deploy to Cloudflare"). `--dry-run` bundles without an
//! account into `target/deploy/bundle/`, and says how the upload compares with the Workers
//! size limits.

use crate::proc::{cmd, run, run_tee};
use crate::{build, root, step, tools, Result};
use std::path::Path;

/// Top-level folders of `www/` that only a dev worker serves.
pub const DEV_ONLY_ASSETS: [&str; 3] = ["shop", "demo", "bench-static"];

/// The Workers limits on a worker's compressed upload: the Free and the Paid plan.
const LIMIT_FREE_KIB: f64 = 3.0 * 1024.0;
const LIMIT_PAID_KIB: f64 = 10.0 * 1024.0;

pub fn run_deploy(args: &[String]) -> Result<()> {
    let dry_run = match args {
        [] => false,
        [a] if a == "--dry-run" => true,
        _ => return Err("usage: cargo xtask deploy [--dry-run]".into()),
    };
    let tools = tools::ensure_all(tools::Need::Build)?;
    build::widget(&tools, false)?;
    build::edge(&tools, false)?;
    let root = root();
    let stage = root.join("target/deploy");
    step("staging the production assets and configuration in target/deploy");
    let _ = std::fs::remove_dir_all(stage.join("www"));
    copy_assets(&root.join("www"), &stage.join("www"), true)?;
    let config = std::fs::read_to_string(root.join("edge/wrangler.toml"))
        .map_err(|e| format!("edge/wrangler.toml: {e}"))?;
    std::fs::write(stage.join("wrangler.toml"), production_config(&config)?)
        .map_err(|e| e.to_string())?;
    let mut wrangler = cmd(&root, "wrangler");
    wrangler
        .current_dir(&stage)
        .args(["deploy", "--config", "wrangler.toml"]);
    if !dry_run {
        return run(&mut wrangler);
    }
    let _ = std::fs::remove_dir_all(stage.join("bundle"));
    wrangler.args(["--dry-run", "--outdir", "bundle"]);
    let (ok, out) = run_tee(&mut wrangler)?;
    if !ok {
        return Err("wrangler deploy --dry-run failed".into());
    }
    let gzip = upload_gzip_kib(&out).ok_or("wrangler did not say the upload's size")?;
    println!(
        "upload {gzip:.0} KiB gzip: {:.0}% of the Free plan's {LIMIT_FREE_KIB:.0} KiB, {:.0}% of \
         the Paid plan's {LIMIT_PAID_KIB:.0} KiB",
        100.0 * gzip / LIMIT_FREE_KIB,
        100.0 * gzip / LIMIT_PAID_KIB,
    );
    if gzip > LIMIT_PAID_KIB {
        return Err("the worker is over the Workers size limit".into());
    }
    Ok(())
}

/// Copies `from` into `to`, leaving out [`DEV_ONLY_ASSETS`] at the top and every dotfile.
pub fn copy_assets(from: &Path, to: &Path, top: bool) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for entry in std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        let name = entry.file_name();
        // Dotfiles are build stamps (`www/pkg/.paydesk-built`), not assets.
        let dotfile = name.to_string_lossy().starts_with('.');
        if dotfile || top && DEV_ONLY_ASSETS.iter().any(|d| name == *d) {
            continue;
        }
        let (src, dest) = (entry.path(), to.join(&name));
        if src.is_dir() {
            copy_assets(&src, &dest, false)?;
        } else {
            std::fs::copy(&src, &dest).map_err(|e| format!("{}: {e}", src.display()))?;
        }
    }
    Ok(())
}

/// `edge/wrangler.toml` for `target/deploy/`: no `[build]` table, `main` and the assets'
/// directory as seen from there. Fails if either cannot be found, so a changed source file
/// cannot produce a config that deploys something else.
pub fn production_config(source: &str) -> Result<String> {
    let mut out = String::from(
        "# Made by `cargo xtask deploy` from edge/wrangler.toml: edit that file, not this one.\n",
    );
    let (mut in_build, mut main, mut assets) = (false, false, false);
    for line in source.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            in_build = t == "[build]";
        }
        if in_build {
            continue;
        }
        if t.starts_with("main =") {
            out.push_str("main = \"../../edge/build/index.js\"\n");
            main = true;
        } else if t.starts_with("directory = \"../www\"") {
            out.push_str("directory = \"www\"\n");
            assets = true;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !(main && assets) {
        return Err("edge/wrangler.toml: no `main =` or no assets `directory = \"../www\"`".into());
    }
    Ok(out)
}

/// From wrangler's `Total Upload: 3187.32 KiB / gzip: 1123.45 KiB`.
fn upload_gzip_kib(output: &str) -> Option<f64> {
    let line = output.lines().find(|l| l.contains("Total Upload:"))?;
    let gzip = line.split("gzip:").nth(1)?.trim();
    gzip.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_production_config_drops_the_build_step_and_points_at_the_stage() {
        let src = "name = \"paydesk\"\nmain = \"build/index.js\"\n\n[build]\ncommand = \"cargo xtask build-edge\"\nwatch_dir = [\"src\"]\n\n[vars]\nPAYDESK_ENV = \"production\"\n\n[assets]\ndirectory = \"../www\"\nbinding = \"ASSETS\"\n";
        let out = production_config(src).unwrap();
        assert!(!out.contains("[build]") && !out.contains("build-edge"));
        assert!(out.contains("main = \"../../edge/build/index.js\"\n"));
        assert!(out.contains("[assets]\ndirectory = \"www\"\nbinding = \"ASSETS\"\n"));
        assert!(out.contains("[vars]\nPAYDESK_ENV = \"production\"\n"));
        assert!(production_config("name = \"x\"\n").is_err());
    }

    #[test]
    fn reads_the_upload_size_wrangler_prints() {
        let out = "Total Upload: 3187.32 KiB / gzip: 1123.45 KiB\nYour Worker has access to...";
        assert_eq!(upload_gzip_kib(out), Some(1123.45));
        assert_eq!(upload_gzip_kib("nothing"), None);
    }
}
