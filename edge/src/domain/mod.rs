//! Pure business rules: no `worker` types, tested natively with plain `cargo test`.

pub mod ids;
