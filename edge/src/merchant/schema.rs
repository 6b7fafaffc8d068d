//! The merchant object's SQLite schema, as an ordered list of migrations. Each object applies
//! the ones it has not yet applied when it starts (`schema_migrations` remembers), so a deployed
//! object upgrades in place. Never edit a released migration; append a new one.
//!
//! Keys are designed for sharding one merchant over several objects by hash(out_trade_no) later:
//! nothing here depends on seeing all of a merchant's orders in one table.

pub const MIGRATIONS: &[(u32, &str)] = &[
    (
        1,
        "CREATE TABLE IF NOT EXISTS merchant (
        merchant_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        tier TEXT NOT NULL,
        sandbox INTEGER NOT NULL,
        branding_json TEXT NOT NULL,
        config_json TEXT NOT NULL,
        api_key TEXT NOT NULL,
        prev_api_key TEXT,
        prev_api_key_until_ms INTEGER,
        webhook_secret TEXT NOT NULL,
        dormant INTEGER NOT NULL DEFAULT 0,
        last_activity_ms INTEGER NOT NULL,
        clock_offset_ms INTEGER NOT NULL DEFAULT 0,
        created_at_ms INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS orders (
        out_trade_no TEXT PRIMARY KEY,
        transaction_id TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL,
        amount_total INTEGER NOT NULL CHECK (amount_total > 0),
        currency TEXT NOT NULL,
        description TEXT NOT NULL,
        item_id TEXT,
        attach TEXT,
        tags_json TEXT,
        limit_pay TEXT NOT NULL,
        notify_url TEXT,
        timeout_action TEXT NOT NULL,
        reminded INTEGER NOT NULL DEFAULT 0,
        created_at_ms INTEGER NOT NULL,
        time_expire_ms INTEGER NOT NULL,
        paid_at_ms INTEGER,
        method TEXT,
        card_last4 TEXT,
        refunded_total INTEGER NOT NULL DEFAULT 0 CHECK (refunded_total <= amount_total),
        opened INTEGER NOT NULL DEFAULT 0,
        fingerprint TEXT NOT NULL,
        pay_attempts INTEGER NOT NULL DEFAULT 0,
        pending_until_ms INTEGER,
        approval_id TEXT
    );
    CREATE INDEX IF NOT EXISTS orders_by_created ON orders (created_at_ms, out_trade_no);
    CREATE INDEX IF NOT EXISTS orders_by_deadline ON orders (status, time_expire_ms);
    CREATE TABLE IF NOT EXISTS refunds (
        out_refund_no TEXT PRIMARY KEY,
        out_trade_no TEXT NOT NULL,
        amount INTEGER NOT NULL CHECK (amount > 0),
        reason TEXT,
        status TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        fingerprint TEXT NOT NULL,
        approval_id TEXT
    );
    CREATE INDEX IF NOT EXISTS refunds_by_order ON refunds (out_trade_no, created_at_ms);
    CREATE TABLE IF NOT EXISTS approvals (
        approval_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        need INTEGER NOT NULL,
        status TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS approval_votes (
        approval_id TEXT NOT NULL,
        approver TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        PRIMARY KEY (approval_id, approver)
    );
    CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, seen_at_ms INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS rate_events (kind TEXT NOT NULL, at_ms INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS rate_events_by_kind ON rate_events (kind, at_ms);
    CREATE TABLE IF NOT EXISTS daily_totals (day TEXT PRIMARY KEY, paid_total INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS pay_submissions (
        submission_key TEXT PRIMARY KEY,
        out_trade_no TEXT NOT NULL,
        reply_json TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        target TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        data_json TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS audit (
        seq INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        before TEXT NOT NULL,
        after TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );",
    ),
    (
        2,
        // Notifications: every event becomes an outbox row in the transaction that caused it;
        // delivery state lives beside it.
        "ALTER TABLE events ADD COLUMN order_key TEXT NOT NULL DEFAULT '';
    ALTER TABLE events ADD COLUMN body TEXT NOT NULL DEFAULT '';
    ALTER TABLE events ADD COLUMN notify_url TEXT;
    ALTER TABLE events ADD COLUMN status TEXT NOT NULL DEFAULT 'PENDING';
    ALTER TABLE events ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE events ADD COLUMN next_attempt_at_ms INTEGER;
    ALTER TABLE events ADD COLUMN delivered_at_ms INTEGER;
    CREATE INDEX IF NOT EXISTS events_due ON events (status, next_attempt_at_ms);
    CREATE INDEX IF NOT EXISTS events_by_order ON events (order_key, seq);
    CREATE TABLE IF NOT EXISTS delivery_attempts (
        event_id TEXT NOT NULL,
        n INTEGER NOT NULL,
        at_ms INTEGER NOT NULL,
        url TEXT NOT NULL,
        status_code INTEGER,
        latency_ms INTEGER NOT NULL,
        error TEXT,
        response_head TEXT,
        PRIMARY KEY (event_id, n)
    );
    CREATE TABLE IF NOT EXISTS alerts (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        raised_at_ms INTEGER NOT NULL,
        cleared_at_ms INTEGER,
        detail TEXT NOT NULL
    );
    ALTER TABLE merchant ADD COLUMN origin TEXT NOT NULL DEFAULT '';
    ALTER TABLE merchant ADD COLUMN webhook_secret_prev TEXT;
    ALTER TABLE merchant ADD COLUMN webhook_secret_prev_until_ms INTEGER;
    ALTER TABLE merchant ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;",
    ),
    (
        3,
        // The v2 XML dialect: an order created through it remembers the protocol details its
        // answers and notifications need, and its events are delivered in that dialect.
        "ALTER TABLE orders ADD COLUMN v2_json TEXT;
    ALTER TABLE refunds ADD COLUMN refund_id TEXT;
    ALTER TABLE refunds ADD COLUMN notify_url TEXT;
    ALTER TABLE refunds ADD COLUMN settled_at_ms INTEGER;
    CREATE UNIQUE INDEX IF NOT EXISTS refunds_by_refund_id ON refunds (refund_id);
    ALTER TABLE events ADD COLUMN format TEXT NOT NULL DEFAULT 'json';",
    ),
    (
        4,
        // Forgetting expired nonces on every request must not scan them all.
        "CREATE INDEX IF NOT EXISTS nonces_by_time ON nonces (seen_at_ms);",
    ),
    (
        5,
        // Withhold contracts: the merchant's plans, each payer's contract under one, and the
        // deductions (ordinary orders that name their contract and, under a plan with a
        // pre-deduction notice, when they are charged).
        "CREATE TABLE IF NOT EXISTS contract_plans (
        plan_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        max_amount INTEGER NOT NULL,
        period TEXT NOT NULL,
        max_per_period INTEGER NOT NULL,
        contract_days INTEGER,
        notice INTEGER NOT NULL,
        created_at_ms INTEGER NOT NULL,
        fingerprint TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS contracts (
        contract_code TEXT PRIMARY KEY,
        contract_id TEXT UNIQUE,
        plan_id TEXT NOT NULL,
        status TEXT NOT NULL,
        display_account TEXT NOT NULL,
        payer_ref TEXT,
        notify_url TEXT,
        created_at_ms INTEGER NOT NULL,
        sign_deadline_ms INTEGER NOT NULL,
        signed_at_ms INTEGER,
        expires_at_ms INTEGER,
        terminated_at_ms INTEGER,
        termination_mode TEXT,
        termination_remark TEXT,
        method TEXT,
        wallet TEXT,
        card_last4 TEXT,
        fingerprint TEXT NOT NULL,
        format TEXT NOT NULL DEFAULT 'json',
        v2_json TEXT
    );
    CREATE INDEX IF NOT EXISTS contracts_due ON contracts (status, sign_deadline_ms);
    ALTER TABLE orders ADD COLUMN contract_code TEXT;
    ALTER TABLE orders ADD COLUMN charge_at_ms INTEGER;
    CREATE INDEX IF NOT EXISTS orders_by_contract ON orders (contract_code, created_at_ms);",
    ),
    (
        6,
        // Subscriptions: each one's schedule and where its collection stands; its invoices are
        // ordinary orders that name it and their period; usage reports, each counted once.
        "CREATE TABLE IF NOT EXISTS subscriptions (
        subscription_id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        description TEXT NOT NULL,
        amount INTEGER NOT NULL,
        interval TEXT NOT NULL,
        interval_count INTEGER NOT NULL,
        contract_code TEXT,
        usage_unit TEXT,
        usage_unit_amount INTEGER,
        reminder_hours INTEGER NOT NULL,
        notify_url TEXT,
        payer_ref TEXT,
        created_at_ms INTEGER NOT NULL,
        anchor_ms INTEGER NOT NULL,
        trial_end_ms INTEGER,
        trial_notice_sent INTEGER NOT NULL DEFAULT 0,
        next_period INTEGER NOT NULL DEFAULT 0,
        reminded_period INTEGER NOT NULL DEFAULT -1,
        cancel_at_period_end INTEGER NOT NULL DEFAULT 0,
        canceled_at_ms INTEGER,
        cancel_reason TEXT,
        paused_at_ms INTEGER,
        incomplete_until_ms INTEGER,
        first_failed_ms INTEGER,
        failures INTEGER NOT NULL DEFAULT 0,
        next_due_ms INTEGER,
        fingerprint TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS subscriptions_due ON subscriptions (next_due_ms);
    CREATE TABLE IF NOT EXISTS usage_records (
        subscription_id TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        occurred_at_ms INTEGER NOT NULL,
        billed_period INTEGER,
        reported_at_ms INTEGER NOT NULL,
        fingerprint TEXT NOT NULL,
        PRIMARY KEY (subscription_id, idempotency_key)
    );
    CREATE INDEX IF NOT EXISTS usage_unbilled ON usage_records (subscription_id, billed_period);
    ALTER TABLE orders ADD COLUMN subscription_id TEXT;
    ALTER TABLE orders ADD COLUMN period_index INTEGER;
    ALTER TABLE orders ADD COLUMN usage_amount INTEGER;
    CREATE UNIQUE INDEX IF NOT EXISTS invoices_by_period ON orders (subscription_id, period_index);",
    ),
    (
        7,
        // Installment plans: each plan, its parts, and the orders the parts become (unique:
        // a part is never an order twice).
        "CREATE TABLE IF NOT EXISTS installment_plans (
        plan_no TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        description TEXT NOT NULL,
        contract_code TEXT,
        grace_hours INTEGER NOT NULL,
        deposit_refundable INTEGER NOT NULL,
        reminder_hours INTEGER NOT NULL,
        notify_url TEXT,
        payer_ref TEXT,
        created_at_ms INTEGER NOT NULL,
        next_part INTEGER NOT NULL,
        next_due_ms INTEGER,
        completed_at_ms INTEGER,
        defaulted_at_ms INTEGER,
        refunded INTEGER,
        kept INTEGER,
        fingerprint TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS installment_plans_due ON installment_plans (next_due_ms);
    CREATE TABLE IF NOT EXISTS installment_parts (
        plan_no TEXT NOT NULL,
        idx INTEGER NOT NULL,
        amount INTEGER NOT NULL,
        due_at_ms INTEGER NOT NULL,
        label TEXT,
        deposit INTEGER NOT NULL,
        PRIMARY KEY (plan_no, idx)
    );
    ALTER TABLE orders ADD COLUMN plan_no TEXT;
    ALTER TABLE orders ADD COLUMN part_index INTEGER;
    CREATE UNIQUE INDEX IF NOT EXISTS parts_by_plan ON orders (plan_no, part_index);",
    ),
    (
        8,
        // Validity (courses, memberships): who an order is for, each payer's entitlement to an
        // item, and the purchase that granted (or extended) it, so a refund ends what it gave.
        "ALTER TABLE orders ADD COLUMN payer_ref TEXT;
    CREATE TABLE IF NOT EXISTS entitlements (
        payer_ref TEXT NOT NULL,
        item_id TEXT NOT NULL,
        valid_from_ms INTEGER NOT NULL,
        valid_until_ms INTEGER NOT NULL,
        PRIMARY KEY (payer_ref, item_id)
    );
    CREATE TABLE IF NOT EXISTS entitlement_grants (
        out_trade_no TEXT PRIMARY KEY,
        payer_ref TEXT NOT NULL,
        item_id TEXT NOT NULL,
        days INTEGER NOT NULL,
        granted_at_ms INTEGER NOT NULL,
        ended_at_ms INTEGER
    );
    CREATE INDEX IF NOT EXISTS grants_by_payer ON entitlement_grants (payer_ref, item_id);",
    ),
    (
        9,
        // The stretch of time each purchase added, so a refund takes back only what it gave
        // and has not been used yet.
        "ALTER TABLE entitlement_grants ADD COLUMN from_ms INTEGER;
    ALTER TABLE entitlement_grants ADD COLUMN until_ms INTEGER;",
    ),
    (
        10,
        // Escrow: until when a paid order's money is held, when it was released or fulfilled,
        // and its automatic refund (when the merchant has one), done at most once.
        "ALTER TABLE orders ADD COLUMN held_until_ms INTEGER;
    ALTER TABLE orders ADD COLUMN released_at_ms INTEGER;
    ALTER TABLE orders ADD COLUMN fulfilled_at_ms INTEGER;
    ALTER TABLE orders ADD COLUMN auto_refund_at_ms INTEGER;
    ALTER TABLE orders ADD COLUMN auto_refunded INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX IF NOT EXISTS orders_held ON orders (released_at_ms, held_until_ms);",
    ),
    (
        11,
        // Fees: each paid order's fee, what refunds gave back of it, and its rate.
        "ALTER TABLE orders ADD COLUMN fee INTEGER;
    ALTER TABLE orders ADD COLUMN fee_refunded INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE orders ADD COLUMN fee_rate_bp INTEGER;
    CREATE INDEX IF NOT EXISTS orders_by_paid_at ON orders (paid_at_ms);",
    ),
    (
        12,
        // Settlement (merchant/settlements.rs): every movement of released money on the
        // merchant's books, signed for the merchant, on the merchant day it counts on, until a
        // day's close puts it in that day's settlement. Profit-sharing receivers and an order's
        // splits. A member of a fund pool names its group; a group's object keeps its members
        // and the settlements they swept in, each once.
        "ALTER TABLE orders ADD COLUMN splits_json TEXT;
    ALTER TABLE merchant ADD COLUMN group_id TEXT;
    CREATE TABLE IF NOT EXISTS money_moves (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at_ms INTEGER NOT NULL,
        day INTEGER NOT NULL,
        kind TEXT NOT NULL,
        out_trade_no TEXT NOT NULL,
        out_refund_no TEXT,
        receiver_id TEXT,
        amount INTEGER NOT NULL,
        settlement_id TEXT
    );
    CREATE INDEX IF NOT EXISTS money_moves_open ON money_moves (settlement_id, day);
    CREATE INDEX IF NOT EXISTS money_moves_by_receiver ON money_moves (receiver_id);
    CREATE TABLE IF NOT EXISTS settlements (
        settlement_id TEXT PRIMARY KEY,
        day INTEGER NOT NULL UNIQUE,
        date TEXT NOT NULL,
        gross INTEGER NOT NULL,
        refunds INTEGER NOT NULL,
        fees INTEGER NOT NULL,
        splits INTEGER NOT NULL,
        net INTEGER NOT NULL,
        order_count INTEGER NOT NULL,
        created_at_ms INTEGER NOT NULL,
        group_id TEXT,
        swept_at_ms INTEGER,
        sweep_attempts INTEGER NOT NULL DEFAULT 0,
        sweep_next_ms INTEGER
    );
    CREATE TABLE IF NOT EXISTS receivers (
        receiver_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        relation TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS pool_members (
        merchant_id TEXT PRIMARY KEY,
        joined_at_ms INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS pool_sweeps (
        merchant_id TEXT NOT NULL,
        settlement_id TEXT NOT NULL,
        date TEXT NOT NULL,
        net INTEGER NOT NULL,
        received_at_ms INTEGER NOT NULL,
        PRIMARY KEY (merchant_id, settlement_id)
    );",
    ),
    (
        13,
        // A bill reads its settlement's movements a page at a time, in the order they moved.
        "CREATE INDEX IF NOT EXISTS money_moves_by_settlement ON money_moves (settlement_id, seq);",
    ),
    (
        14,
        // The audit chain's head when a day closed, signed into that day's statement.
        "ALTER TABLE settlements ADD COLUMN audit_seq INTEGER;
    ALTER TABLE settlements ADD COLUMN audit_hash TEXT;",
    ),
    (
        15,
        // An export reads refunds by creation time, the chain's entries by time, and the
        // entry that last changed each record.
        "CREATE INDEX IF NOT EXISTS refunds_by_created ON refunds (created_at_ms, out_refund_no);
    CREATE INDEX IF NOT EXISTS audit_by_time ON audit (at_ms);
    CREATE INDEX IF NOT EXISTS audit_by_target ON audit (target, seq);",
    ),
    (
        16,
        // Records are kept 7 years of business time, then let go: what the books let go of
        // is carried here (so lifetime totals still add up), with the audit entry the kept
        // chain starts after.
        "CREATE TABLE IF NOT EXISTS retention (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        horizon_ms INTEGER NOT NULL,
        audit_seq INTEGER NOT NULL,
        audit_hash TEXT NOT NULL,
        orders INTEGER NOT NULL DEFAULT 0,
        paid INTEGER NOT NULL DEFAULT 0,
        refunded INTEGER NOT NULL DEFAULT 0,
        fees INTEGER NOT NULL DEFAULT 0,
        settled INTEGER NOT NULL DEFAULT 0,
        shared INTEGER NOT NULL DEFAULT 0
    );
    ALTER TABLE receivers ADD COLUMN retired_booked INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE receivers ADD COLUMN retired_clawed_back INTEGER NOT NULL DEFAULT 0;",
    ),
    (
        17,
        // Risk: every payer's payment attempt (who, which card, from where; declined or not),
        // kept 30 days for the rules' windows; the review queue; a frozen merchant.
        "CREATE TABLE IF NOT EXISTS risk_signals (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at_ms INTEGER NOT NULL,
        declined INTEGER NOT NULL DEFAULT 0,
        payer_ref TEXT,
        card_fp TEXT NOT NULL,
        ip TEXT
    );
    CREATE INDEX IF NOT EXISTS risk_by_payer ON risk_signals (payer_ref, at_ms);
    CREATE INDEX IF NOT EXISTS risk_by_card ON risk_signals (card_fp, at_ms);
    CREATE INDEX IF NOT EXISTS risk_by_ip ON risk_signals (ip, at_ms);
    CREATE INDEX IF NOT EXISTS risk_by_time ON risk_signals (at_ms);
    CREATE TABLE IF NOT EXISTS reviews (
        review_id TEXT PRIMARY KEY,
        out_trade_no TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL,
        rule TEXT NOT NULL,
        figures TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        due_at_ms INTEGER NOT NULL,
        decided_at_ms INTEGER,
        decided_by TEXT,
        reason TEXT
    );
    CREATE INDEX IF NOT EXISTS reviews_due ON reviews (status, due_at_ms);
    ALTER TABLE orders ADD COLUMN in_review INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE merchant ADD COLUMN frozen_at_ms INTEGER;
    ALTER TABLE merchant ADD COLUMN frozen_reason TEXT;
    ALTER TABLE merchant ADD COLUMN unfrozen_at_ms INTEGER;",
    ),
    (
        18,
        // After every request the object asks when something next falls due: the earliest
        // charge of a deduction and the earliest end of a pending payment, by index rather than
        // by reading every unpaid order.
        "CREATE INDEX IF NOT EXISTS orders_by_charge ON orders (status, charge_at_ms);
    CREATE INDEX IF NOT EXISTS orders_by_pending ON orders (status, pending_until_ms);",
    ),
    (
        19,
        // Letting an order go after seven years reads and deletes its money movements.
        "CREATE INDEX IF NOT EXISTS money_moves_by_order ON money_moves (out_trade_no, day);",
    ),
    (
        20,
        // A merchant's applications to collect live money (`merchant/onboarding.rs`): the
        // documents sealed with AES-GCM, only their masked form in clear.
        "CREATE TABLE IF NOT EXISTS applications (
        application_id INTEGER PRIMARY KEY AUTOINCREMENT,
        submitted_at_ms INTEGER NOT NULL,
        tier TEXT NOT NULL,
        supported_tier TEXT NOT NULL,
        sealed TEXT NOT NULL,
        masked_json TEXT NOT NULL,
        status TEXT NOT NULL,
        decided_at_ms INTEGER,
        decided_by TEXT,
        reason TEXT,
        approved_tier TEXT
    );
    ALTER TABLE merchant ADD COLUMN approved_at_ms INTEGER;",
    ),
    (
        21,
        // Payment channels (`merchant/channels.rs`): each channel's circuit, which channel an
        // order's payment went through, and the sandbox banks' own books of what they charged.
        "CREATE TABLE IF NOT EXISTS channel_health (
        channel TEXT PRIMARY KEY,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        opened_at_ms INTEGER,
        last_failure_at_ms INTEGER,
        last_failure TEXT
    );
    CREATE TABLE IF NOT EXISTS sandbox_books (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        channel TEXT NOT NULL,
        out_trade_no TEXT NOT NULL,
        amount INTEGER NOT NULL,
        at_ms INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS sandbox_books_by_order ON sandbox_books (out_trade_no);
    ALTER TABLE orders ADD COLUMN channel TEXT;",
    ),
    (
        22,
        // The WeChat Pay v2 upstream channel (`merchant/upstream.rs`): its configuration (the
        // key sealed), each order's hand-off to its cashier, and refunds waiting for it.
        "CREATE TABLE IF NOT EXISTS upstream_channel (
        channel TEXT PRIMARY KEY,
        mch_id TEXT NOT NULL,
        appid TEXT NOT NULL,
        base_url TEXT NOT NULL,
        key_sealed TEXT NOT NULL,
        key_masked TEXT NOT NULL,
        configured_at_ms INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS upstream_payments (
        out_trade_no TEXT PRIMARY KEY,
        sent_at_ms INTEGER NOT NULL,
        trade_type TEXT NOT NULL,
        cashier_url TEXT,
        upstream_transaction_id TEXT,
        closed_at_ms INTEGER,
        review_json TEXT
    );
    ALTER TABLE refunds ADD COLUMN upstream_state TEXT;
    ALTER TABLE refunds ADD COLUMN upstream_retry_at_ms INTEGER;
    CREATE INDEX IF NOT EXISTS refunds_upstream ON refunds (upstream_state, upstream_retry_at_ms);",
    ),
    (
        23,
        // One open alert per cause (`merchant/alerts.rs`): counted while open, resolved with
        // what cleared it. Alerts raised before get the cause their kind (and channel) names.
        "ALTER TABLE alerts ADD COLUMN cause TEXT;
    ALTER TABLE alerts ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE alerts ADD COLUMN last_seen_ms INTEGER;
    ALTER TABLE alerts ADD COLUMN resolution TEXT;
    UPDATE alerts SET last_seen_ms = raised_at_ms, cause = CASE kind
        WHEN 'merchant.alert' THEN 'notifications'
        WHEN 'merchant.frozen' THEN 'frozen'
        WHEN 'channel.circuit_open' THEN 'channel:' || substr(detail, 1, instr(detail, ':') - 1)
        ELSE kind || ':' || seq END;
    CREATE INDEX IF NOT EXISTS alerts_by_cause ON alerts (cause, cleared_at_ms);",
    ),
    (
        24,
        // The payer's contact on an order (`merchant/orders.rs`): sealed, and masked in clear.
        "ALTER TABLE orders ADD COLUMN contact_sealed TEXT;
    ALTER TABLE orders ADD COLUMN contact_masked TEXT;",
    ),
    (
        25,
        // Messages to people (`merchant/messages.rs`): one row per message and channel, unique
        // by what prompted it (so it is never sent twice), delivered from the alarm with
        // retries; inbox messages are delivered as they are written and read in place. Payers
        // who unsubscribed are known by a keyed digest of their address. Contacts of
        // subscriptions, plans and contracts are sealed like an order's. The staff's settings
        // are sealed whole. The notification and mismatch alerts' kinds are renamed.
        "CREATE TABLE IF NOT EXISTS messages (
        message_id TEXT PRIMARY KEY,
        dedup_key TEXT NOT NULL UNIQUE,
        channel TEXT NOT NULL,
        audience TEXT NOT NULL,
        template TEXT NOT NULL,
        subject TEXT NOT NULL,
        to_sealed TEXT,
        to_masked TEXT,
        to_digest TEXT,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at_ms INTEGER,
        quiet_until_ms INTEGER,
        created_at_ms INTEGER NOT NULL,
        delivered_at_ms INTEGER,
        last_error TEXT,
        read_at_ms INTEGER
    );
    CREATE INDEX IF NOT EXISTS messages_due ON messages (status, next_attempt_at_ms);
    CREATE INDEX IF NOT EXISTS messages_by_channel ON messages (channel, created_at_ms);
    CREATE INDEX IF NOT EXISTS messages_by_time ON messages (created_at_ms);
    CREATE TABLE IF NOT EXISTS unsubscribes (
        to_digest TEXT PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        message_id TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS contacts (
        subject TEXT PRIMARY KEY,
        sealed TEXT NOT NULL,
        masked TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS messaging (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        sealed TEXT NOT NULL,
        masked_json TEXT NOT NULL,
        updated_at_ms INTEGER NOT NULL
    );
    UPDATE alerts SET kind = 'notifications.failing' WHERE kind = 'merchant.alert';
    UPDATE alerts SET kind = 'settlement.anomaly' WHERE kind = 'channel.mismatch';",
    ),
    (
        26,
        // Console users and their sessions (`merchant/console_users.rs`): a PBKDF2-SHA256 hash
        // of each password with its salt and iterations; failed sign-ins in a row and the
        // lockout they led to; sessions until they expire or end.
        "CREATE TABLE IF NOT EXISTS console_users (
        email TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        salt_hex TEXT NOT NULL,
        hash_hex TEXT NOT NULL,
        iterations INTEGER NOT NULL,
        created_at_ms INTEGER NOT NULL,
        failures INTEGER NOT NULL DEFAULT 0,
        locked_until_ms INTEGER
    );
    CREATE TABLE IF NOT EXISTS console_sessions (
        session_id TEXT PRIMARY KEY,
        email TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        expires_at_ms INTEGER NOT NULL,
        ended_at_ms INTEGER
    );",
    ),
    (
        27,
        // Settings changes from the console waiting for approval (`merchant/settings.rs`): the
        // rules proposed, those they were proposed against, who proposed them, and how it ended
        // (`pending`, `applied`, `rejected`, `stale`).
        "CREATE TABLE IF NOT EXISTS settings_changes (
        change_id TEXT PRIMARY KEY,
        approval_id TEXT NOT NULL,
        base_json TEXT NOT NULL,
        rules_json TEXT NOT NULL,
        proposed_by TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        status TEXT NOT NULL
    );",
    ),
    (
        28,
        // The dev-only bench route's floor for one write (`POST /dev/merchants/{id}/bench-write`):
        // a table nothing else reads, empty outside benches.
        "CREATE TABLE IF NOT EXISTS bench_writes (
        id INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL
    );",
    ),
    (
        29,
        // What escrow waits for, indexed on exactly the rows it waits on: every request asks
        // when the alarm is next due, and through `orders_held` that walked every unpaid order
        // (their `released_at_ms` is NULL too). The conditions are those of
        // `merchant/escrow.rs` (`next_escrow_due`), which SQLite needs word for word.
        "CREATE INDEX IF NOT EXISTS orders_holding ON orders (held_until_ms)
         WHERE status IN ('SUCCESS', 'REFUND') AND released_at_ms IS NULL AND in_review = 0;
    CREATE INDEX IF NOT EXISTS orders_auto_refunding ON orders (auto_refund_at_ms)
         WHERE status IN ('SUCCESS', 'REFUND') AND released_at_ms IS NULL AND in_review = 0
           AND auto_refunded = 0 AND fulfilled_at_ms IS NULL;",
    ),
    (
        30,
        // How many requests of each kind the rate window holds, kept by triggers as entries
        // come and go: counting the window's entries read one row per request in the last
        // minute, on every request (`merchant/auth.rs`, `rate`).
        "CREATE TABLE IF NOT EXISTS rate_counts (kind TEXT PRIMARY KEY, n INTEGER NOT NULL);
    INSERT OR REPLACE INTO rate_counts (kind, n)
         SELECT kind, COUNT(*) FROM rate_events GROUP BY kind;
    CREATE TRIGGER IF NOT EXISTS rate_events_counted AFTER INSERT ON rate_events BEGIN
        INSERT INTO rate_counts (kind, n) VALUES (NEW.kind, 1)
            ON CONFLICT (kind) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER IF NOT EXISTS rate_events_uncounted AFTER DELETE ON rate_events BEGIN
        UPDATE rate_counts SET n = n - 1 WHERE kind = OLD.kind;
    END;",
    ),
    (
        31,
        // `GET /api/health` writes here, in the storage probe's own object only
        // (`routes/health.rs`): one row, replaced each time.
        "CREATE TABLE IF NOT EXISTS storage_probe (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        at_ms INTEGER NOT NULL
    );",
    ),
    (
        32,
        // The indexes on what a new order does not have yet (a contract, a subscription period,
        // an instalment, a payment, a charge time, a pending payment) keep only the orders that
        // have it. An order create no longer writes six index entries for NULLs (Cloudflare
        // bills each index entry as a row written), and each index is the size of what it
        // finds. SQLite uses a partial index only for a query that implies its condition: every
        // query through these names the column with `=`, a range or `IS NOT NULL` (the dues in
        // `merchant/deadlines.rs` say `IS NOT NULL` for that reason).
        "DROP INDEX IF EXISTS orders_by_contract;
    CREATE INDEX orders_by_contract ON orders (contract_code, created_at_ms)
         WHERE contract_code IS NOT NULL;
    DROP INDEX IF EXISTS invoices_by_period;
    CREATE UNIQUE INDEX invoices_by_period ON orders (subscription_id, period_index)
         WHERE subscription_id IS NOT NULL;
    DROP INDEX IF EXISTS parts_by_plan;
    CREATE UNIQUE INDEX parts_by_plan ON orders (plan_no, part_index) WHERE plan_no IS NOT NULL;
    DROP INDEX IF EXISTS orders_by_paid_at;
    CREATE INDEX orders_by_paid_at ON orders (paid_at_ms) WHERE paid_at_ms IS NOT NULL;
    DROP INDEX IF EXISTS orders_by_charge;
    CREATE INDEX orders_by_charge ON orders (status, charge_at_ms) WHERE charge_at_ms IS NOT NULL;
    DROP INDEX IF EXISTS orders_by_pending;
    CREATE INDEX orders_by_pending ON orders (status, pending_until_ms)
         WHERE pending_until_ms IS NOT NULL;",
    ),
    (
        33,
        // The replay window's nonces become a log in the order they came, with no index on the
        // nonce: the object looks nonces up in memory (`domain/replay_window.rs`), reading the
        // log once when it starts. Keyed by the nonce, each new one went to a random page of an
        // index as large as the last 10 minutes' traffic (plus the index on its time), and a
        // busy merchant's commits wrote that many more pages. The window's nonces move over
        // (run again, it finds none: `nonces` is created empty only to be dropped).
        "CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, seen_at_ms INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS nonce_log (
        id INTEGER PRIMARY KEY,
        nonce TEXT NOT NULL,
        seen_at_ms INTEGER NOT NULL
    );
    INSERT INTO nonce_log (nonce, seen_at_ms) SELECT nonce, seen_at_ms FROM nonces ORDER BY seen_at_ms;
    DROP TABLE nonces;",
    ),
    (
        34,
        // Held money, indexed only while it is held: `orders_held` was on `(released_at_ms,
        // held_until_ms)`, so every order had an entry (a new order's two NULLs among them) and
        // a create wrote it. What reads it (the balance's held money, `merchant/settlements.rs`)
        // names it; the alarm's due escrow goes through the partial indexes of migration 29
        // (`merchant/escrow.rs`, `run_due_escrow`).
        "DROP INDEX IF EXISTS orders_held;
    CREATE INDEX orders_held ON orders (held_until_ms)
         WHERE held_until_ms IS NOT NULL AND released_at_ms IS NULL;",
    ),
    (
        35,
        // The rate window's entries are kept in the order they are read, `(kind, at_ms)`, with
        // nothing else beside them: a table keyed by rowid needed the index on `(kind, at_ms)`
        // as well, and each request wrote to both. An entry's `id` numbers its kind's entries
        // (`rate_counts.seq`, the last one given), so entries of the same instant differ, and
        // one in `limits::RATE_PRUNE_EVERY` forgets the expired ones (`merchant/auth.rs`).
        // Run again over its own result it gives the same tables (it reads only `kind` and
        // `at_ms` of the window, and builds the counts afresh).
        "DROP TRIGGER IF EXISTS rate_events_counted;
    DROP TRIGGER IF EXISTS rate_events_uncounted;
    DROP TABLE IF EXISTS rate_window;
    CREATE TABLE rate_window (
        kind TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        id INTEGER NOT NULL,
        PRIMARY KEY (kind, at_ms, id)
    ) WITHOUT ROWID;
    INSERT INTO rate_window (kind, at_ms, id)
         SELECT kind, at_ms, ROW_NUMBER() OVER (PARTITION BY kind ORDER BY at_ms)
         FROM rate_events;
    DROP TABLE rate_events;
    ALTER TABLE rate_window RENAME TO rate_events;
    DROP TABLE IF EXISTS rate_counts;
    CREATE TABLE rate_counts (
        kind TEXT PRIMARY KEY,
        n INTEGER NOT NULL,
        seq INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO rate_counts (kind, n, seq)
         SELECT kind, COUNT(*), MAX(id) FROM rate_events GROUP BY kind;
    CREATE TRIGGER rate_events_counted AFTER INSERT ON rate_events BEGIN
        INSERT INTO rate_counts (kind, n, seq) VALUES (NEW.kind, 1, NEW.id)
            ON CONFLICT (kind) DO UPDATE SET n = n + 1, seq = NEW.id;
    END;
    CREATE TRIGGER rate_events_uncounted AFTER DELETE ON rate_events BEGIN
        UPDATE rate_counts SET n = n - 1 WHERE kind = OLD.kind;
    END;",
    ),
    (
        36,
        // Failed sign-ins of emails that are no console user (`merchant/console_users.rs`),
        // counted as a user's are so that a lockout does not tell who is a user: keyed by a
        // keyed digest of the email, dropped a day after their last failure.
        "CREATE TABLE IF NOT EXISTS sign_in_strangers (
        digest TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        locked_until_ms INTEGER,
        last_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS sign_in_strangers_by_last ON sign_in_strangers (last_ms);",
    ),
    (
        37,
        // How many refunds of an order are still in progress (`orders.refunding`), kept by
        // triggers as refunds open and end: the held money is not released while one is
        // (`domain/escrow_rules.rs`, `due`), so what it takes is never released first and
        // clawed back after. The index of held orders keeps only those free to be released: the
        // alarm's due time is never one it cannot act on (`merchant/escrow.rs`, `ESCROW_DUE`).
        // And who the payer paid (`orders.paid_to`): the merchant's display name as the payment
        // settled, so a receipt names it however the branding changes later
        // (`merchant/receipts.rs`); NULL for orders paid before, whose receipts name the merchant
        // as it is now, as they always did. Both columns are `ADDED_COLUMNS`.
        "UPDATE orders SET refunding = (SELECT COUNT(*) FROM refunds
         WHERE refunds.out_trade_no = orders.out_trade_no AND refunds.status = 'PROCESSING')
     WHERE out_trade_no IN (SELECT out_trade_no FROM refunds WHERE status = 'PROCESSING');
    CREATE TRIGGER IF NOT EXISTS refunds_opened AFTER INSERT ON refunds
         WHEN NEW.status = 'PROCESSING' BEGIN
        UPDATE orders SET refunding = refunding + 1 WHERE out_trade_no = NEW.out_trade_no;
    END;
    CREATE TRIGGER IF NOT EXISTS refunds_ended AFTER UPDATE OF status ON refunds
         WHEN OLD.status = 'PROCESSING' AND NEW.status <> 'PROCESSING' BEGIN
        UPDATE orders SET refunding = refunding - 1 WHERE out_trade_no = NEW.out_trade_no;
    END;
    CREATE TRIGGER IF NOT EXISTS refunds_dropped AFTER DELETE ON refunds
         WHEN OLD.status = 'PROCESSING' BEGIN
        UPDATE orders SET refunding = refunding - 1 WHERE out_trade_no = OLD.out_trade_no;
    END;
    DROP INDEX IF EXISTS orders_holding;
    CREATE INDEX orders_holding ON orders (held_until_ms)
         WHERE status IN ('SUCCESS', 'REFUND') AND released_at_ms IS NULL AND in_review = 0
           AND refunding = 0;",
    ),
    (
        38,
        // Money the ledger owes the payer (`orders.refund_owed`): set as one of its own rules
        // refunds the rest of a payment (an automatic refund, a rejected review, a payment it
        // could not use), cleared once the payment is refunded in full. While set, nothing of
        // it is released (`domain/escrow_rules.rs`, `due`): a refund the channel refused leaves
        // the money held for the payer and a `refund.owed` alert for staff, not released to
        // the merchant. Orders already waiting like that (refunded automatically or rejected in
        // review, not refunded in full, not released) are marked, and the index of held orders
        // keeps only those free to be released (`merchant/escrow.rs`, `ESCROW_DUE`).
        // And when a console user last failed to sign in (`console_users.last_failed_ms`): a
        // user's count of failures is forgotten a day after the last, as a stranger's is
        // (`domain/console_rules.rs`, `failures_after`). And a renewal's charge held a day after
        // a reminder that went out late (as a paused subscription resumed, `resumed_at_ms`)
        // under a plan that announces each charge a day ahead (`subscriptions.
        // charge_not_before_ms`, `domain/subscription_rules.rs`).
        "UPDATE orders SET refund_owed = 1
     WHERE status IN ('SUCCESS', 'REFUND') AND released_at_ms IS NULL
       AND refunded_total < amount_total
       AND (auto_refunded = 1
            OR out_trade_no IN (SELECT out_trade_no FROM reviews WHERE status = 'rejected'));
    DROP INDEX IF EXISTS orders_holding;
    CREATE INDEX orders_holding ON orders (held_until_ms)
         WHERE status IN ('SUCCESS', 'REFUND') AND released_at_ms IS NULL AND in_review = 0
           AND refunding = 0 AND refund_owed = 0;",
    ),
    (
        39,
        // When to ask the upstream channel again about an order to close that it did not
        // confirm closed (`upstream_payments.ask_at_ms`, real time): until it does, the order
        // stays open here (`merchant/upstream_close.rs`). The alarm waits for the earliest.
        // And when the upstream accepted a refund (`refunds.upstream_accepted_at_ms`): it is
        // asked about until the money reached the payer (`merchant/upstream_refunds.rs`).
        "CREATE INDEX IF NOT EXISTS upstream_payments_asking ON upstream_payments (ask_at_ms)
         WHERE closed_at_ms IS NULL AND ask_at_ms IS NOT NULL;",
    ),
];

/// Columns a migration adds, each added before its SQL runs and only when missing: SQLite's
/// `ADD COLUMN` has no `IF NOT EXISTS`, and every step must be able to run again (a step cut
/// short, or an object put back to an older schema, as `tests/selfhost.test.mjs` does).
pub const ADDED_COLUMNS: &[(u32, &str, &str, &str)] = &[
    (37, "orders", "refunding", "INTEGER NOT NULL DEFAULT 0"),
    (37, "orders", "paid_to", "TEXT"),
    (38, "orders", "refund_owed", "INTEGER NOT NULL DEFAULT 0"),
    (38, "console_users", "last_failed_ms", "INTEGER"),
    (38, "subscriptions", "charge_not_before_ms", "INTEGER"),
    (38, "subscriptions", "resumed_at_ms", "INTEGER"),
    (39, "upstream_payments", "ask_at_ms", "INTEGER"),
    (39, "refunds", "upstream_accepted_at_ms", "INTEGER"),
];

pub const CREATE_MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    applied_at_ms INTEGER NOT NULL
)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_columns_belong_to_a_migration() {
        for (v, ..) in ADDED_COLUMNS {
            assert!(MIGRATIONS.iter().any(|(m, _)| m == v));
        }
    }

    #[test]
    fn versions_are_sequential_from_one() {
        for (i, (v, sql)) in MIGRATIONS.iter().enumerate() {
            assert_eq!(*v as usize, i + 1);
            assert!(!sql.trim().is_empty());
        }
    }
}
