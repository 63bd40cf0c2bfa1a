//! Tells the test suite whether a PostgreSQL server is named: without
//! `PRIVACY_ENGINE_PG`, the PostgreSQL tests (feature `postgres`) are
//! marked ignored with the reason and how to run them, so that `cargo test`
//! says what it skipped. The library itself reads no cfg set here.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(privacy_engine_no_pg)");
    println!("cargo::rerun-if-env-changed=PRIVACY_ENGINE_PG");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var_os("PRIVACY_ENGINE_PG").is_none() {
        println!("cargo::rustc-cfg=privacy_engine_no_pg");
    }
}
