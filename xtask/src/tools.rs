//! Installs what is missing, and only that: a second run reinstalls nothing.
//!
//! - the wasm32 target and the standard library's source (rustup: the pages' wasm is built
//!   with its own `std`, `build.rs`);
//! - wasm-bindgen-cli pinned to the wasm-bindgen in Cargo.lock, worker-build pinned to the worker
//!   crate, wasm-pack (cargo install, from the crate registry);
//! - Node 22, wrangler (with workerd), binaryen's wasm-opt and playwright-core from the committed
//!   package-lock.json with `npm ci` into ./node_modules (git-ignored);
//! - for tests, Debian's chromium, chromium-driver, a CJK font, curl and openssl (apt, when
//!   running as root), and a Python virtualenv in target/pyenv with the pinned packages of
//!   tests/requirements.txt (pip, PyPI).

use crate::proc::{cmd, output, run};
use crate::{root, step, Result};
use std::path::Path;
use std::process::Command;

pub const WASM_PACK_VERSION: &str = "0.15.1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Enough to build and run the worker.
    Build,
    /// Also the browser for tests.
    Test,
}

/// Versions the build must use, read from Cargo.lock.
#[derive(Debug, Clone)]
pub struct Tools {
    pub wasm_bindgen: String,
    pub worker: String,
}

impl Tools {
    pub fn from_installed() -> Result<Tools> {
        let lock = std::fs::read_to_string(root().join("Cargo.lock"))
            .map_err(|e| format!("reading Cargo.lock: {e}"))?;
        Ok(Tools {
            wasm_bindgen: lock_version(&lock, "wasm-bindgen")?,
            worker: lock_version(&lock, "worker")?,
        })
    }
}

/// The version of `name` in a Cargo.lock.
pub fn lock_version(lock: &str, name: &str) -> Result<String> {
    let needle = format!("name = \"{name}\"\nversion = \"");
    let start = lock
        .find(&needle)
        .ok_or_else(|| format!("{name} is not in Cargo.lock"))?
        + needle.len();
    let end = lock[start..].find('"').ok_or("Cargo.lock is malformed")?;
    Ok(lock[start..start + end].to_owned())
}

pub fn ensure_all(need: Need) -> Result<Tools> {
    let root = root();
    let tools = Tools::from_installed()?;
    ensure_rustup(
        "target",
        "wasm32-unknown-unknown",
        "the Rust wasm32 target, under a minute",
    )?;
    ensure_rustup(
        "component",
        "rust-src",
        "the Rust standard library's source, 3 MB",
    )?;
    ensure_cargo_tool(
        &root,
        "wasm-bindgen",
        "wasm-bindgen-cli",
        &tools.wasm_bindgen,
        "2",
    )?;
    ensure_cargo_tool(&root, "worker-build", "worker-build", &tools.worker, "4")?;
    ensure_cargo_tool(&root, "wasm-pack", "wasm-pack", WASM_PACK_VERSION, "2-3")?;
    ensure_npm(&root)?;
    if need == Need::Test {
        ensure_chromium()?;
        ensure_python(&root)?;
    }
    Ok(tools)
}

/// `rustup <kind> add <name>` (`kind`: `target` or `component`) unless `rustup <kind> list
/// --installed` names it already. The pages' wasm needs both the wasm32 target and the standard
/// library's source, which it is built from (`build.rs`, `widget_cargo`).
fn ensure_rustup(kind: &str, name: &str, what: &str) -> Result<()> {
    let installed = output(Command::new("rustup").args([kind, "list", "--installed"]));
    if installed.is_some_and(|s| s.lines().any(|l| l.trim() == name)) {
        return Ok(());
    }
    step(&format!("installing {what} (rustup {kind} {name})"));
    run(Command::new("rustup").args([kind, "add", name]))
}

/// `cargo install <krate> --version <version>` unless `<bin> --version` already says `version`.
pub fn ensure_cargo_tool(
    root: &Path,
    bin: &str,
    krate: &str,
    version: &str,
    minutes: &str,
) -> Result<()> {
    let have = output(cmd(root, bin).arg("--version"));
    if have
        .as_deref()
        .is_some_and(|v| v.split_whitespace().any(|w| w == version))
    {
        return Ok(());
    }
    step(&format!(
        "installing {krate} {version} with cargo install (takes about {minutes} minutes, once)"
    ));
    let locked = run(cmd(root, "cargo").args(["install", krate, "--version", version, "--locked"]));
    if locked.is_ok() {
        return Ok(());
    }
    // A crate's own lockfile sometimes pins a release the registry no longer serves (seen with
    // wasm-bindgen-cli 0.2.130 and webpki-roots 1.0.11); resolve afresh within semver instead.
    step(&format!("retrying {krate} {version} without its lockfile"));
    run(cmd(root, "cargo").args(["install", krate, "--version", version]))
}

/// `npm ci` when node_modules does not match the committed package-lock.json.
fn ensure_npm(root: &Path) -> Result<()> {
    let lock = std::fs::read(root.join("package-lock.json"))
        .map_err(|e| format!("reading package-lock.json: {e}"))?;
    let want = format!("{:016x}", fnv1a(&lock));
    let stamp = root.join("node_modules/.paydesk-lock-hash");
    let node = root.join("node_modules/.bin/node");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(want.as_str()) && node.exists() {
        return Ok(());
    }
    step(
        "installing Node 22, wrangler, workerd, binaryen and playwright-core with npm ci (a minute or two)",
    );
    // npm itself runs under the system Node; what it installs (node@22) is what runs the tools.
    let mut c = Command::new("npm");
    c.args(["ci", "--no-audit", "--no-fund"]).current_dir(root);
    run(&mut c)?;
    std::fs::write(&stamp, want).map_err(|e| format!("writing {}: {e}", stamp.display()))?;
    Ok(())
}

/// A virtualenv with the pinned third-party Python clients the interop tests drive.
fn ensure_python(root: &Path) -> Result<()> {
    let reqs = std::fs::read(root.join("tests/requirements.txt"))
        .map_err(|e| format!("reading tests/requirements.txt: {e}"))?;
    let want = format!("{:016x}", fnv1a(&reqs));
    let venv = root.join("target/pyenv");
    let stamp = venv.join(".paydesk-requirements-hash");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(want.as_str()) {
        return Ok(());
    }
    step("installing the Python test clients (wechatpy) into target/pyenv with pip (seconds)");
    run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    run(Command::new(venv.join("bin/pip"))
        .args(["install", "-q", "--disable-pip-version-check", "-r"])
        .arg(root.join("tests/requirements.txt")))?;
    std::fs::write(&stamp, want).map_err(|e| format!("writing {}: {e}", stamp.display()))?;
    Ok(())
}

fn ensure_chromium() -> Result<()> {
    let have = |p: &str| Path::new(p).exists();
    // A CJK font, so screenshots of the Chinese pay page show glyphs (phones have one).
    let font = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc";
    // curl and openssl: the README's collection walk-through (docs/recipes/collection.sh) is
    // run by a test as a reader would run it.
    let recipe_tools = have("/usr/bin/curl") && have("/usr/bin/openssl");
    if have("/usr/bin/chromium") && have("/usr/bin/chromedriver") && have(font) && recipe_tools {
        return Ok(());
    }
    let is_root = output(Command::new("id").arg("-u")).as_deref() == Some("0");
    if !is_root {
        return Err(
            "the browser tests need Debian's Chromium and its driver, and the recipe tests curl \
                    and openssl; install them with `sudo apt-get install -y chromium \
                    chromium-driver fonts-wqy-zenhei curl openssl` and run again"
                .into(),
        );
    }
    step("installing Debian's chromium, chromium-driver, a CJK font, curl and openssl with apt-get (a minute or two)");
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args([
            "install",
            "-y",
            "-qq",
            "chromium",
            "chromium-driver",
            "fonts-wqy-zenhei",
            "curl",
            "openssl",
        ])
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// FNV-1a, enough to notice that a lockfile changed.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_versions_from_a_lockfile() {
        let lock = "[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.130\"\n\n\
                    [[package]]\nname = \"wasm-bindgen-futures\"\nversion = \"0.4.80\"\n";
        assert_eq!(lock_version(lock, "wasm-bindgen").unwrap(), "0.2.130");
        assert_eq!(
            lock_version(lock, "wasm-bindgen-futures").unwrap(),
            "0.4.80"
        );
        assert!(lock_version(lock, "worker").is_err());
    }

    #[test]
    fn the_real_lockfile_pins_the_tools() {
        let t = Tools::from_installed().unwrap();
        assert!(t.wasm_bindgen.starts_with("0.2."));
        assert!(t.worker.starts_with("0.8."));
    }
}
