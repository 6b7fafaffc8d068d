//! `cargo xtask serve`: the worker self-hosted on workerd, in production mode, on the merchant's
//! own machine (docs/self-host.md).
//!
//! It builds, stages under `target/serve/<listen address>/` the workerd configuration (`edge/selfhost/paydesk.capnp`)
//! beside the built worker, the front door (`front.js`: the static assets layer), the `EMAIL`
//! binding (`mail.js`) and the production `www/` (as `cargo xtask deploy` stages it), then runs the
//! `workerd` binary from the npm package with the secrets of an env file kept outside the
//! repository and each Durable Object's SQLite file in a data directory. It prints one readiness
//! line once `/api/health` says storage answers, and on SIGTERM or Ctrl-C stops workerd, which
//! checkpoints its SQLite files before it exits.

use crate::deploy::copy_assets;
use crate::dev::{random_hex, wait_healthy};
use crate::proc::cmd;
use crate::{build, root, step, tools, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

const USAGE: &str = "usage: cargo xtask serve [--listen HOST:PORT] [--data DIR] [--env-file FILE] \
                     [--egress-gateway HOST:PORT] | serve --init [--env-file FILE]";

/// What the worker cannot run without; the env file must set each.
pub const SECRETS: [&str; 4] = [
    "ADMIN_TOKEN",
    "CHECKOUT_TOKEN_KEY",
    "RECEIPT_SIGNING_KEYS",
    "DATA_KEYS",
];

/// What the configuration also reads from the environment when it is set.
const OPTIONAL: [&str; 3] = ["EMAIL_FROM", "EMAIL_RELAY_URL", "EMAIL_RELAY_TOKEN"];

/// Staged beside `paydesk.capnp`, which embeds them by these names.
const STAGED: [(&str, &str); 5] = [
    ("edge/selfhost/paydesk.capnp", "paydesk.capnp"),
    ("edge/selfhost/front.js", "front.js"),
    ("edge/selfhost/mail.js", "mail.js"),
    ("edge/build/index.js", "index.js"),
    ("edge/build/index_bg.wasm", "index_bg.wasm"),
];

/// The line of `paydesk.capnp` that `--egress-gateway` replaces.
const EGRESS: &str = r#"(name = "egress", network = (allow = ["public"])),"#;

#[derive(Debug, PartialEq)]
pub struct Options {
    pub listen: String,
    pub data: PathBuf,
    pub env_file: PathBuf,
    pub init: bool,
    pub gateway: Option<String>,
}

pub fn run(args: &[String]) -> Result<()> {
    let o = parse(args, &|k| std::env::var(k).ok())?;
    if o.init {
        return init_env(&o.env_file);
    }
    let vars = read_env_file(&o.env_file)?;
    let tools = tools::ensure_all(tools::Need::Build)?;
    build::widget(&tools, false)?;
    build::edge(&tools, false)?;
    let stage = stage(&o.listen, o.gateway.as_deref())?;
    own_directory(&o.data)?;
    let data = o.data.canonicalize().map_err(|e| e.to_string())?;
    catch_stop_signals();
    step(&format!("starting workerd on http://{}", o.listen));
    let mut child = cmd(&root(), "workerd")
        .arg("serve")
        .arg(stage.join("paydesk.capnp"))
        .arg("config")
        .arg(format!(
            "--directory-path=www={}",
            stage.join("www").display()
        ))
        .arg(format!("--directory-path=data={}", data.display()))
        .arg(format!("--socket-addr=http={}", o.listen))
        .envs(&vars)
        // The server's log is one stream, stdout, for journald, docker logs or a file.
        .stderr(std::io::stdout())
        .spawn()
        .map_err(|e| format!("cannot start workerd: {e}"))?;
    if let Err(e) = wait_healthy(&mut child, &o.listen, "workerd") {
        stop(&mut child);
        return Err(e);
    }
    println!(
        "paydesk ready on http://{} (production; data in {}; storage ok)",
        o.listen,
        data.display()
    );
    supervise(child)
}

/// The options, with defaults from the XDG folders of the user who runs it.
pub fn parse(args: &[String], env: &dyn Fn(&str) -> Option<String>) -> Result<Options> {
    let mut o = Options {
        listen: "127.0.0.1:8788".into(),
        data: xdg(env, "XDG_DATA_HOME", ".local/share"),
        env_file: xdg(env, "XDG_CONFIG_HOME", ".config").join("paydesk.env"),
        init: false,
        gateway: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{a} needs a value\n{USAGE}"))
        };
        match a.as_str() {
            "--listen" => o.listen = value()?,
            "--data" => o.data = PathBuf::from(value()?),
            "--env-file" => o.env_file = PathBuf::from(value()?),
            "--egress-gateway" => o.gateway = Some(value()?),
            "--init" => o.init = true,
            _ => return Err(format!("unknown option {a}\n{USAGE}")),
        }
    }
    Ok(o)
}

/// `$var/paydesk`, or `$HOME/fallback/paydesk` when `var` is unset: where the data directory
/// (`XDG_DATA_HOME`) and the env file (`XDG_CONFIG_HOME`) live by default.
pub fn xdg(env: &dyn Fn(&str) -> Option<String>, var: &str, fallback: &str) -> PathBuf {
    let home = env("HOME").unwrap_or_else(|| "/root".into());
    env(var)
        .filter(|v| !v.is_empty())
        .map_or_else(|| Path::new(&home).join(fallback), PathBuf::from)
        .join("paydesk")
}

/// Writes a new env file with fresh production keys, readable by its owner only.
fn init_env(path: &Path) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    outside_repository(path)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            format!(
                "{}: {e} (an existing env file is never overwritten)",
                path.display()
            )
        })?;
    f.write_all(fresh_env().as_bytes())
        .map_err(|e| e.to_string())?;
    println!(
        "wrote {} with fresh keys (mode 600); keep a copy somewhere safe:",
        path.display()
    );
    println!("without DATA_KEYS the sealed data in the data directory cannot be read.");
    Ok(())
}

/// A new env file's content: fresh random keys, and the optional settings commented out.
pub fn fresh_env() -> String {
    format!(
        "# paydesk secrets for `cargo xtask serve` (docs/self-host.md). Keep this file outside the\n\
         # repository, readable by the server's user only, and backed up apart from the data.\n\
         ADMIN_TOKEN=adm_{}\n\
         CHECKOUT_TOKEN_KEY={}\n\
         RECEIPT_SIGNING_KEYS=receipt-1:{}\n\
         DATA_KEYS=data-1:{}\n\
         # The sender of emails, and the relay that sends them (edge/selfhost/mail.js):\n\
         # EMAIL_FROM=notifications@shop.example\n\
         # EMAIL_RELAY_URL=https://mail-relay.shop.example/send\n\
         # EMAIL_RELAY_TOKEN=\n",
        random_hex(40),
        random_hex(64),
        random_hex(64),
        random_hex(64),
    )
}

/// The data directory, made if missing and readable by its owner only: the objects hold
/// merchants' API keys and webhook secrets in clear.
fn own_directory(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let err = |e: std::io::Error| format!("{}: {e}", dir.display());
    std::fs::create_dir_all(dir).map_err(err)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(err)
}

/// The env file's variables, after checking where it is, who may read it and what it sets.
fn read_env_file(path: &Path) -> Result<BTreeMap<String, String>> {
    use std::os::unix::fs::PermissionsExt;
    let missing = || {
        format!(
            "{}: no env file; write one with fresh keys: cargo xtask serve --init --env-file {}",
            path.display(),
            path.display()
        )
    };
    let meta = std::fs::metadata(path).map_err(|_| missing())?;
    outside_repository(path)?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(format!(
            "{} holds secrets but others may read it: chmod 600 {}",
            path.display(),
            path.display()
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let vars = parse_env(&text)?;
    let absent: Vec<&str> = SECRETS
        .into_iter()
        .filter(|k| vars.get(*k).is_none_or(|v| v.is_empty()))
        .collect();
    if !absent.is_empty() {
        return Err(format!(
            "{} does not set {}",
            path.display(),
            absent.join(", ")
        ));
    }
    Ok(vars)
}

/// `KEY=VALUE` lines (`export ` and quotes allowed); `#` comments and blank lines skipped.
/// Only the variables the configuration reads are kept.
pub fn parse_env(text: &str) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let (k, v) = line
            .split_once('=')
            .ok_or_else(|| format!("env file line {}: not KEY=VALUE", n + 1))?;
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(v);
        let k = k.trim();
        if SECRETS.contains(&k) || OPTIONAL.contains(&k) {
            out.insert(k.to_owned(), v.to_owned());
        }
    }
    Ok(out)
}

/// Secrets never live in the repository, where a commit could take them along. The path is
/// judged by its nearest folder that exists, so one still to be made counts too.
fn outside_repository(path: &Path) -> Result<()> {
    let absolute = std::env::current_dir()
        .map_err(|e| e.to_string())?
        .join(path);
    let existing = absolute.ancestors().skip(1).find(|d| d.exists());
    let dir = existing.and_then(|d| d.canonicalize().ok());
    let repo = root().canonicalize().map_err(|e| e.to_string())?;
    if dir.is_some_and(|d| d.starts_with(&repo)) {
        return Err(format!(
            "{} is inside the repository: keep the env file outside it",
            path.display()
        ));
    }
    Ok(())
}

/// `target/serve/<listen>/`: the configuration, the workers and the production `www/`. One
/// folder per address, so staging a second server never changes the files a first one serves.
fn stage(listen: &str, gateway: Option<&str>) -> Result<PathBuf> {
    let root = root();
    let name: String = listen
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let stage = root.join("target/serve").join(name);
    step(&format!(
        "staging the self-hosted server in {}",
        stage.display()
    ));
    let _ = std::fs::remove_dir_all(&stage);
    copy_assets(&root.join("www"), &stage.join("www"), true)?;
    for (from, to) in STAGED {
        std::fs::copy(root.join(from), stage.join(to)).map_err(|e| format!("{from}: {e}"))?;
    }
    let config = stage.join("paydesk.capnp");
    let text = std::fs::read_to_string(&config).map_err(|e| e.to_string())?;
    std::fs::write(&config, with_gateway(&text, gateway)?).map_err(|e| e.to_string())?;
    Ok(stage)
}

/// The configuration, its egress sent in plain HTTP to `gateway` (which originates TLS) if given.
pub fn with_gateway(config: &str, gateway: Option<&str>) -> Result<String> {
    let Some(addr) = gateway else {
        return Ok(config.to_owned());
    };
    if !config.contains(EGRESS) {
        return Err("edge/selfhost/paydesk.capnp has no egress line to replace".into());
    }
    let external = format!(r#"(name = "egress", external = (address = "{addr}", http = ())),"#);
    Ok(config.replace(EGRESS, &external))
}

/// The signal that asked this process to stop, 0 until one did.
static STOP: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_stop(signal: libc::c_int) {
    STOP.store(signal, Ordering::SeqCst);
}

fn catch_stop_signals() {
    let handler = on_stop as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGTERM, handler);
        libc::signal(libc::SIGINT, handler);
    }
}

/// Asks workerd to stop (SIGTERM) and waits for it.
fn stop(child: &mut Child) {
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
    let _ = child.wait();
}

/// Waits for workerd; a stop signal is passed on to it, and its exit then is a clean stop.
fn supervise(mut child: Child) -> Result<()> {
    loop {
        let signal = STOP.load(Ordering::SeqCst);
        if signal != 0 {
            step(&format!("stopping workerd (signal {signal})"));
            stop(&mut child);
            println!("paydesk stopped");
            return Ok(());
        }
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Err(format!("workerd exited ({status})"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_follow_the_xdg_folders() {
        let env = |k: &str| match k {
            "HOME" => Some("/home/op".to_owned()),
            "XDG_CONFIG_HOME" => Some("/etc/op".to_owned()),
            _ => None,
        };
        let o = parse(&[], &env).unwrap();
        assert_eq!(o.listen, "127.0.0.1:8788");
        assert_eq!(o.data, PathBuf::from("/home/op/.local/share/paydesk"));
        assert_eq!(o.env_file, PathBuf::from("/etc/op/paydesk/paydesk.env"));
        let o = parse(&args(&["--listen", "0.0.0.0:80", "--data", "/d"]), &env).unwrap();
        assert_eq!(
            (o.listen.as_str(), o.data),
            ("0.0.0.0:80", PathBuf::from("/d"))
        );
        assert!(parse(&args(&["--listen"]), &env).is_err());
        assert!(parse(&args(&["--dev"]), &env).is_err());
    }

    #[test]
    fn the_env_file_keeps_only_what_the_configuration_reads() {
        let vars = parse_env(
            "# c\nexport ADMIN_TOKEN=a\nDATA_KEYS=\"d-1:00\"\nPAYDESK_ENV=dev\n\nEMAIL_FROM=x@y\n",
        )
        .unwrap();
        assert_eq!(vars.get("ADMIN_TOKEN").unwrap(), "a");
        assert_eq!(vars.get("DATA_KEYS").unwrap(), "d-1:00");
        assert_eq!(vars.get("EMAIL_FROM").unwrap(), "x@y");
        // Production is fixed by the configuration: the env file cannot turn dev routes on.
        assert!(!vars.contains_key("PAYDESK_ENV"));
        assert!(parse_env("ADMIN_TOKEN").is_err());
    }

    #[test]
    fn an_env_file_in_the_repository_is_refused_even_in_a_folder_not_made_yet() {
        let inside = root().join("target/not-made-yet/deeper/paydesk.env");
        assert!(outside_repository(&inside).is_err());
        assert!(outside_repository(&root().join("paydesk.env")).is_err());
        assert!(outside_repository(Path::new("/tmp/paydesk-test/paydesk.env")).is_ok());
    }

    #[test]
    fn a_fresh_env_file_sets_every_secret_with_fresh_keys() {
        let (a, b) = (
            parse_env(&fresh_env()).unwrap(),
            parse_env(&fresh_env()).unwrap(),
        );
        for k in SECRETS {
            assert!(a[k].len() >= 32, "{k}");
            assert_ne!(a[k], b[k], "{k} is fresh");
        }
    }

    #[test]
    fn the_gateway_replaces_the_egress_and_nothing_else() {
        let config = std::fs::read_to_string(root().join("edge/selfhost/paydesk.capnp")).unwrap();
        assert_eq!(with_gateway(&config, None).unwrap(), config);
        let via = with_gateway(&config, Some("127.0.0.1:9")).unwrap();
        assert!(via.contains(r#"external = (address = "127.0.0.1:9", http = ())"#));
        assert!(!via.contains(EGRESS));
        assert_eq!(via.lines().count(), config.lines().count());
    }

    /// The self-hosted configuration says what edge/wrangler.toml says.
    #[test]
    fn the_configuration_agrees_with_wrangler_toml() {
        let config = std::fs::read_to_string(root().join("edge/selfhost/paydesk.capnp")).unwrap();
        let toml = std::fs::read_to_string(root().join("edge/wrangler.toml")).unwrap();
        let date = toml
            .lines()
            .find_map(|l| l.strip_prefix("compatibility_date = "))
            .unwrap();
        assert_eq!(
            config
                .matches(&format!("compatibilityDate = {date}"))
                .count(),
            3,
            "every worker has wrangler.toml's compatibility date"
        );
        for binding in ["PAYDESK_ENV", "EMAIL_FROM", "EMAIL", "MERCHANT"] {
            assert!(
                toml.contains(&format!("{binding} =")) || toml.contains(&format!("\"{binding}\""))
            );
            assert!(
                config.contains(&format!("(name = \"{binding}\"")),
                "{binding}"
            );
        }
        assert!(toml.contains("class_name = \"MerchantDO\""));
        assert!(config.contains("className = \"MerchantDO\""));
        assert!(config.contains("(name = \"PAYDESK_ENV\", text = \"production\")"));
        for secret in SECRETS {
            assert!(
                config.contains(&format!("fromEnvironment = \"{secret}\"")),
                "{secret}"
            );
        }
    }
}
