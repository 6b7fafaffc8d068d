//! The merchant object's SQLite schema, as an ordered list of migrations. Each object applies
//! the ones it has not yet applied when it starts (`schema_migrations` remembers), so a deployed
//! object upgrades in place. Never edit a released migration; append a new one.
//!
//! Keys are designed for sharding one merchant over several objects by hash(out_trade_no) later:
//! nothing here depends on seeing all of a merchant's orders in one table.

pub const MIGRATIONS: &[(u32, &str)] = &[(
    1,
    "CREATE TABLE IF NOT EXISTS merchant (
        merchant_id TEXT PRIMARY KEY,
        display_name TEXT NOT NULL,
        branding_json TEXT NOT NULL,
        sandbox INTEGER NOT NULL DEFAULT 1,
        created_at_ms INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS orders (
        out_trade_no TEXT PRIMARY KEY,
        transaction_id TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL,
        amount_total INTEGER NOT NULL CHECK (amount_total >= 0),
        currency TEXT NOT NULL,
        description TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        time_expire_ms INTEGER NOT NULL
    );",
)];

pub const CREATE_MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    applied_at_ms INTEGER NOT NULL
)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_sequential_from_one() {
        for (i, (v, sql)) in MIGRATIONS.iter().enumerate() {
            assert_eq!(*v as usize, i + 1);
            assert!(!sql.trim().is_empty());
        }
    }
}
