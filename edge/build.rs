//! Stamps the git commit into the build for `GET /api/health`, links the pay page to the
//! widget's content-hashed assets named by `www/a/assets.txt` (written by `cargo xtask build`),
//! and writes the stylesheet the pages inline, minified (`src/css_min.rs`), to `OUT_DIR`.
use std::process::Command;

#[path = "src/css_min.rs"]
mod css_min;

fn main() {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
        .map(|s| !s.is_empty())
        .unwrap_or(false);
    let commit = if dirty {
        format!("{commit}-dirty")
    } else {
        commit
    };
    println!("cargo:rustc-env=PAYDESK_GIT_COMMIT={commit}");
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
        println!("cargo:rerun-if-changed={dir}/index");
        if let Some(head_ref) = git(&["symbolic-ref", "-q", "HEAD"]) {
            println!("cargo:rerun-if-changed={dir}/{head_ref}");
        }
    }
    let manifest = std::path::Path::new("../www/a/assets.txt");
    let assets = std::fs::read_to_string(manifest).unwrap_or_default();
    for (key, default) in [
        ("js", "/pkg/paydesk_widget.js"),
        ("wasm", "/pkg/paydesk_widget_bg.wasm"),
        ("contract_js", "/pkg/paydesk_contract.js"),
        ("contract_wasm", "/pkg/paydesk_contract_bg.wasm"),
    ] {
        let path = assets
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .unwrap_or(default);
        println!(
            "cargo:rustc-env=PAYDESK_ASSET_{}={path}",
            key.to_ascii_uppercase()
        );
    }
    println!("cargo:rerun-if-changed=../www/a/assets.txt");
    inline_stylesheet();
    println!("cargo:rerun-if-changed=build.rs");
}

/// `www/pay.css` as the pay and contract pages inline it (`src/page.rs`).
fn inline_stylesheet() {
    let css = std::fs::read_to_string("../www/pay.css").expect("www/pay.css");
    let out = std::path::Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("pay.min.css");
    std::fs::write(out, css_min::minify(&css)).expect("writing pay.min.css");
    println!("cargo:rerun-if-changed=../www/pay.css");
    println!("cargo:rerun-if-changed=src/css_min.rs");
}
