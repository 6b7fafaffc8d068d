//! Building the two halves with separate cargo invocations, so the edge's and the widget's
//! feature sets never unify (TOOLCHAIN.md).

use crate::proc::{cmd, run};
use crate::tools::Tools;
use crate::{root, step, Result};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// wasm features rustc 1.95 emits by default for wasm32-unknown-unknown; wasm-opt must accept them.
const WASM_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// The widget, three times from the same crate: the pay page's wasm, the contract page's
/// (feature `contract-page`) and the merchant console's (feature `console-page`), so no page
/// downloads another's. Each: cargo (release, wasm32; the payer's pages with their own standard
/// library, [`WidgetBuild`]) → wasm-bindgen (`--target web`) → `wasm-opt -Oz --converge` →
/// short names between the wasm and its glue (`short_names.rs`) → esbuild (the JS glue), into
/// `www/pkg/` where the worker serves it. The builds of one kind share every dependency; only
/// the widget crate itself is built again for each page.
pub fn widget(tools: &Tools, force: bool) -> Result<()> {
    let root = root();
    let _ = tools; // the version check happened when the tools were ensured
    let out = root.join("www/pkg");
    if !force && widget_is_fresh(&root) {
        eprintln!("xtask: widget build is up to date");
        return Ok(());
    }
    for (features, name, build) in [
        (None, "paydesk_widget", WidgetBuild::AbortOnPanic),
        (
            Some("contract-page"),
            "paydesk_contract",
            WidgetBuild::AbortOnPanic,
        ),
        (
            Some("console-page"),
            "paydesk_console",
            WidgetBuild::Standard,
        ),
    ] {
        step(&format!("building the widget: {name} (wasm, release)"));
        let mut cargo = widget_cargo(&root, build);
        if let Some(f) = features {
            cargo.args(["--features", f]);
        }
        run(cargo.current_dir(&root))?;
        let wasm = root
            .join(build.target_dir())
            .join("wasm32-unknown-unknown/release/paydesk_widget.wasm");
        // Builds of one kind leave their wasm at the same path: keep a copy of what each
        // output was made from, and redo wasm-bindgen and wasm-opt only when it changed.
        let made_from = root.join(format!("target/{name}.source.wasm"));
        let bytes = std::fs::read(&wasm).map_err(|e| format!("{}: {e}", wasm.display()))?;
        let bindgen_out = out.join(format!("{name}_bg.wasm"));
        let same_input = std::fs::read(&made_from).ok().as_deref() == Some(&bytes[..]);
        if !same_input || !is_fresh(&bindgen_out, &post_build_steps(&root)) {
            bindgen(&root, &wasm, &out, name)?;
            std::fs::write(&made_from, &bytes).map_err(|e| e.to_string())?;
        }
    }
    hash_assets(&root)?;
    std::fs::write(root.join(WIDGET_STAMP), "").map_err(|e| format!("{WIDGET_STAMP}: {e}"))
}

/// How a page's wasm is built.
#[derive(Clone, Copy)]
enum WidgetBuild {
    /// The payer's pages. The standard library is compiled from source (`-Zbuild-std`, the
    /// `rust-src` component) so that a panic aborts on the spot (`-Cpanic=immediate-abort`,
    /// `-Zlocation-detail=none`): no panic handler, message or source location, and none of
    /// `core::fmt` that only they used. A panic ended these pages' wasm before too (`panic =
    /// "abort"` in Cargo.toml) and no hook showed its message, so they behave the same. That
    /// std is also built with its `optimize_for_size` feature: smaller sorting and number
    /// formatting, the same results. And the shared crate is optimised for size (below).
    /// Together, 4.1 KB (pay page) and 2.9 KB (contract page) less gzip
    /// (docs/architecture.md). The flags are unstable: `RUSTC_BOOTSTRAP=1` lets the stable
    /// toolchain every other build uses accept them, for this build only, in its own target
    /// directory.
    AbortOnPanic,
    /// The console: Yew prints a panic's message to the browser's console, which staff and
    /// whoever supports them read.
    Standard,
}

impl WidgetBuild {
    fn target_dir(self) -> &'static str {
        match self {
            WidgetBuild::AbortOnPanic => "target/widget-abort",
            WidgetBuild::Standard => "target",
        }
    }
}

/// `cargo build --release` of the widget for the browser, as `build` says.
fn widget_cargo(root: &Path, build: WidgetBuild) -> std::process::Command {
    let mut cargo = cmd(root, "cargo");
    cargo.args(["build", "--release"]);
    if let WidgetBuild::AbortOnPanic = build {
        // Cargo.toml gives the shared crate `opt-level = 3` for the worker's request signing,
        // which no page does: at "z" the pay page's wasm is 0.7 KB gzip smaller. (The
        // console's grew 0.3 KB at "z", so it keeps 3.)
        cargo
            .args([
                "--config",
                "profile.release.package.paydesk-shared.opt-level=\"z\"",
            ])
            .env("RUSTC_BOOTSTRAP", "1")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env(
                "RUSTFLAGS",
                "-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none",
            )
            .args([
                "-Zbuild-std=std,panic_abort",
                "-Zbuild-std-features=optimize_for_size",
            ]);
    }
    cargo
        .args(["--target", "wasm32-unknown-unknown", "--target-dir"])
        .arg(build.target_dir())
        .args(["-p", "paydesk-widget"]);
    cargo
}

/// The code that turns a cargo-built wasm into what the pages load: when it changes, the
/// outputs are made again even from the same wasm.
fn post_build_steps(root: &Path) -> [PathBuf; 2] {
    ["xtask/src/build.rs", "xtask/src/short_names.rs"].map(|f| root.join(f))
}

/// Written after a whole widget build: the three feature builds of one crate overwrite one
/// another's artifact, so cargo alone would relink each of them every time (about 9 s).
const WIDGET_STAMP: &str = "www/pkg/.paydesk-built";

/// Whether the last whole widget build is newer than every source it was built from.
fn widget_is_fresh(root: &Path) -> bool {
    let mut sources = Vec::new();
    for dir in ["widget/src", "shared/src"] {
        collect_files(&root.join(dir), &mut sources);
    }
    sources.extend(post_build_steps(root));
    for f in [
        "Cargo.lock",
        "Cargo.toml",
        "shared/Cargo.toml",
        "widget/Cargo.toml",
    ] {
        sources.push(root.join(f));
    }
    is_fresh(&root.join(WIDGET_STAMP), &sources)
}

/// wasm-bindgen, then wasm-opt, of the widget's wasm into `out` as `name`; then the names the
/// wasm and its glue call each other by shortened (`short_names.rs`), and the glue minified.
fn bindgen(root: &Path, wasm: &Path, out: &Path, name: &str) -> Result<()> {
    let bindgen_out = out.join(format!("{name}_bg.wasm"));
    run(cmd(root, "wasm-bindgen")
        .args([
            "--target",
            "web",
            "--no-typescript",
            "--out-name",
            name,
            "--out-dir",
        ])
        .arg(out)
        .arg(wasm))?;
    // `--converge` repeats the passes until the module stops shrinking: 400 B gzip less on
    // the pay page than a single -Oz pass, for about 7 s of build.
    run(cmd(root, "wasm-opt")
        .args(["-Oz", "--converge", "--strip-debug"])
        .args(WASM_FEATURES)
        .arg(&bindgen_out)
        .arg("-o")
        .arg(&bindgen_out))?;
    let js = out.join(format!("{name}.js"));
    crate::short_names::shorten(&bindgen_out, &js, &format!("./{name}_bg.js"))?;
    // wasm-bindgen's glue, minified by the esbuild wrangler brings: the pay page's drops from
    // 6.6 to 4.9 KB gzip (3.4 KB with the short names). Its exports keep their names.
    run(cmd(root, "esbuild")
        .arg(&js)
        .args([
            "--minify",
            "--format=esm",
            "--allow-overwrite",
            "--log-level=warning",
        ])
        .arg(format!("--outfile={}", js.display())))?;
    Ok(())
}

/// The pay and contract pages' first-load assets, copied to content-hashed names under `www/a/` so they can
/// be cached immutably (`www/_headers`), and `www/a/assets.txt` naming them for the worker's
/// build (`edge/build.rs`), which links the pay page to exactly these files. Older hashed copies
/// are removed.
fn hash_assets(root: &Path) -> Result<()> {
    use sha2::Digest;
    let pkg = root.join("www/pkg");
    let sources = [
        ("js", pkg.join("paydesk_widget.js"), "paydesk_widget", "js"),
        (
            "wasm",
            pkg.join("paydesk_widget_bg.wasm"),
            "paydesk_widget_bg",
            "wasm",
        ),
        (
            "contract_js",
            pkg.join("paydesk_contract.js"),
            "paydesk_contract",
            "js",
        ),
        (
            "contract_wasm",
            pkg.join("paydesk_contract_bg.wasm"),
            "paydesk_contract_bg",
            "wasm",
        ),
    ];
    let hashed = root.join("www/a");
    std::fs::create_dir_all(&hashed).map_err(|e| e.to_string())?;
    let mut manifest = String::new();
    let mut keep = Vec::new();
    for (key, src, stem, ext) in sources {
        let bytes = std::fs::read(&src).map_err(|e| format!("{}: {e}", src.display()))?;
        let digest = sha2::Sha256::digest(&bytes);
        let hash: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        let name = format!("{stem}.{hash}.{ext}");
        let dest = hashed.join(&name);
        if std::fs::read(&dest).ok().as_deref() != Some(&bytes[..]) {
            std::fs::write(&dest, &bytes).map_err(|e| format!("{}: {e}", dest.display()))?;
        }
        // The name carries the content's hash, so an existing `.br` beside it is of these bytes.
        let br = hashed.join(format!("{name}.br"));
        if !br.exists() {
            std::fs::write(&br, brotli_11(&bytes)?)
                .map_err(|e| format!("{}: {e}", br.display()))?;
        }
        manifest.push_str(&format!("{key}=/a/{name}\n"));
        keep.push(format!("{name}.br"));
        keep.push(name);
    }
    for e in std::fs::read_dir(&hashed)
        .map_err(|e| e.to_string())?
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        if name != "assets.txt" && !keep.contains(&name) {
            let _ = std::fs::remove_file(e.path());
        }
    }
    let path = hashed.join("assets.txt");
    if std::fs::read_to_string(&path).ok().as_deref() != Some(manifest.as_str()) {
        std::fs::write(&path, manifest).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// `bytes` as brotli at its highest quality: on the pay page's wasm, 15% smaller than gzip -9 and
/// 10% smaller than workerd's own brotli, which the self-hosted front door sends otherwise
/// (`edge/selfhost/front.js`).
fn brotli_11(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).map_err(|e| e.to_string())?;
    Ok(out)
}

/// The worker, with worker-build, unless `edge/build/` is newer than every source it depends on.
/// `force` rebuilds regardless (the explicit `cargo xtask build`).
pub fn edge(_tools: &Tools, force: bool) -> Result<()> {
    let root = root();
    let output = root.join("edge/build/index.js");
    let mut sources = Vec::new();
    for dir in ["edge/src", "shared/src", "widget/src"] {
        collect_files(&root.join(dir), &mut sources);
    }
    for f in [
        "Cargo.lock",
        "Cargo.toml",
        "edge/Cargo.toml",
        "shared/Cargo.toml",
        "widget/Cargo.toml",
        "edge/build.rs",
        "www/a/assets.txt",
        // Inlined in the pay and contract pages, minified by edge/build.rs.
        "www/pay.css",
    ] {
        sources.push(root.join(f));
    }
    // The health endpoint reports the commit, so a new commit is a change too.
    let stamp = root.join("edge/build/.paydesk-commit");
    let commit = crate::proc::output(
        std::process::Command::new("git")
            .args(["-C"])
            .arg(&root)
            .args(["describe", "--always", "--dirty", "--abbrev=12"]),
    )
    .unwrap_or_default();
    let same_commit = std::fs::read_to_string(&stamp).ok().as_deref() == Some(commit.as_str());
    if !force && same_commit && is_fresh(&output, &sources) {
        eprintln!("xtask: worker build is up to date");
        return Ok(());
    }
    step("building the worker with worker-build (release)");
    run(cmd(&root, "worker-build")
        .arg("--release")
        .current_dir(root.join("edge")))?;
    if !output.exists() {
        return Err(format!("worker-build did not produce {}", output.display()));
    }
    // worker-build leaves the wasm `name` section in (about 200 KB of function names): strip it,
    // the runtime never needs it and every isolate start pays for the bytes.
    let wasm = root.join("edge/build/index_bg.wasm");
    run(cmd(&root, "wasm-opt")
        .args(WASM_FEATURES)
        .arg("--strip-debug")
        .arg(&wasm)
        .arg("-o")
        .arg(&wasm))?;
    let _ = std::fs::write(&stamp, commit);
    Ok(())
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn mtime(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// `output` exists and is newer than every input.
fn is_fresh(output: &Path, inputs: &[PathBuf]) -> bool {
    let Some(out) = mtime(output) else {
        return false;
    };
    inputs.iter().all(|i| mtime(i).is_some_and(|t| t <= out))
}
