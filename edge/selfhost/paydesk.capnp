# The paydesk worker self-hosted on workerd, the open-source runtime of Cloudflare Workers
# (docs/self-host.md). `cargo xtask serve` stages this file beside the built worker in
# target/serve/<listen address>/ and runs:
#
#   workerd serve paydesk.capnp config \
#     --directory-path www=<staged www> --directory-path data=<data dir> --socket-addr http=<addr>
#
# It is what edge/wrangler.toml declares, for workerd alone: the same worker, bindings and
# compatibility date (xtask/src/serve.rs checks that they agree), production mode fixed here (no
# dev routes), secrets read from the environment (the env file `cargo xtask serve` loads), each
# merchant's Durable Object a SQLite file under the data directory, and in front of the worker
# what Cloudflare's static assets layer does (front.js).

using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "front", worker = .front),
    (name = "paydesk", worker = .paydesk),
    (name = "mail", worker = .mail),
    # The staged www/ (no demo shop, no bench files), read-only.
    (name = "www", disk = (writable = false)),
    # The data directory: one folder per Durable Object class (its uniqueKey), one SQLite file
    # per object, and workerd's metadata.sqlite of alarms.
    (name = "data", disk = (writable = true)),
    # Everything the workers fetch: public addresses only, as on Cloudflare, whose egress never
    # reaches private networks. (`cargo xtask serve --egress-gateway` replaces this line.)
    (name = "egress", network = (allow = ["public"])),
  ],
  sockets = [(name = "http", http = (), service = "front")],
);

const front :Workerd.Worker = (
  compatibilityDate = "2026-11-01",
  modules = [(name = "front.js", esModule = embed "front.js")],
  bindings = [(name = "WWW", service = "www"), (name = "PAYDESK", service = "paydesk")],
  globalOutbound = "egress",
);

const paydesk :Workerd.Worker = (
  compatibilityDate = "2026-11-01",
  modules = [
    (name = "index.js", esModule = embed "index.js"),
    (name = "index_bg.wasm", wasm = embed "index_bg.wasm"),
  ],
  bindings = [
    (name = "PAYDESK_ENV", text = "production"),
    (name = "EMAIL_FROM", fromEnvironment = "EMAIL_FROM"),
    (name = "ADMIN_TOKEN", fromEnvironment = "ADMIN_TOKEN"),
    (name = "CHECKOUT_TOKEN_KEY", fromEnvironment = "CHECKOUT_TOKEN_KEY"),
    (name = "RECEIPT_SIGNING_KEYS", fromEnvironment = "RECEIPT_SIGNING_KEYS"),
    (name = "DATA_KEYS", fromEnvironment = "DATA_KEYS"),
    (name = "EMAIL", service = (name = "mail", entrypoint = "Mail")),
    (name = "MERCHANT", durableObjectNamespace = "MerchantDO"),
  ],
  # The uniqueKey names the objects' folder and derives their ids: never change it, or every
  # merchant's object starts empty.
  durableObjectNamespaces = [
    (className = "MerchantDO", uniqueKey = "paydesk-MerchantDO", enableSql = true),
  ],
  durableObjectStorage = (localDisk = "data"),
  globalOutbound = "egress",
);

const mail :Workerd.Worker = (
  compatibilityDate = "2026-11-01",
  modules = [(name = "mail.js", esModule = embed "mail.js")],
  bindings = [
    (name = "EMAIL_RELAY_URL", fromEnvironment = "EMAIL_RELAY_URL"),
    (name = "EMAIL_RELAY_TOKEN", fromEnvironment = "EMAIL_RELAY_TOKEN"),
  ],
  globalOutbound = "egress",
);
