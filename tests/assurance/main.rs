//! Assurance: a reference model of the evaluator and property tests, through
//! the public API only.
//!
//! - `reference`: a deliberately simple evaluator written from the README,
//!   DESIGN.md and the rustdoc, reading the `Policy` directly and replaying
//!   consent events itself. It is the executable specification.
//! - `differential`: the engine and the reference model give the same
//!   decision (everything but `Reason::message`) on random policies, consent
//!   histories and requests (`generate`).
//! - `properties`: deny by default, monotonic consent, time travel, consent
//!   qualities, the guardian threshold, determinism.
//! - `ledger_model`: the consent ledger beside a plain `BTreeMap` model.
//! - `rescan`: the re-consent scan beside a brute force of `has_consent`-style
//!   look-ups over every subject, purpose, category and recipient.
//! - `rights_model`: the reference model of rights requests, written from
//!   `docs/rights.md` and the policy document, with its own Chinese
//!   working-day table (2025–2026, from the State Council's notices).
//! - `rights_differential`: the engine's `answer` and `rights_model` give
//!   the same answer on every rights vector (`rights_vectors`) and on
//!   generated rights requests over seeds 001, 003 and 004 (random rights,
//!   categories, holdings and their events, grounds, identity, consents,
//!   dates from 2025 to past the calendar's data); as many cases as the
//!   differential test.
//! - `lifecycle_model`: the reference model of the account's lifecycle
//!   and of incidents, written from `docs/lifecycle.md` and the policy
//!   document.
//! - `lifecycle_differential`: `Engine::lifecycle` / `Engine::incident` and
//!   `lifecycle_model` give the same answer (every field but the clauses
//!   cited) on every lifecycle vector (`lifecycle_vectors`) and on
//!   generated cancellations, terminations, inactivity, reactivations and
//!   incidents over seeds 001, 003, 004 and the test policy that allows
//!   reactivation; as many cases as the differential test.
//! - `round_trip`: every serialised type through JSON and back.
//! - `durable` (feature `sqlite`): the generated histories through a SQLite
//!   log and its replicas decide as through the in-memory ledger.
//!
//! # Case counts
//!
//! By default every property runs a modest number of cases so that
//! `cargo test` stays fast: the differential test 200 cases (each a policy,
//! a consent history and up to four requests), the other properties 64.
//! `PRIVACY_ENGINE_CASES=<n>` sets the differential count, and the other
//! properties run a tenth of it (at least 64). `PRIVACY_ENGINE_LONG=1` runs
//! the fixed longer campaign instead: 100,000 differential cases and 10,000
//! for each other property, from a fixed seed so that a run is reproducible.
//! CI runs both, in a release build:
//!
//! ```sh
//! PRIVACY_ENGINE_CASES=10000 cargo test --release --test assurance
//! PRIVACY_ENGINE_LONG=1 cargo test --release --test assurance
//! ```
//!
//! Each property prints the number of cases it runs (`--nocapture` shows
//! it). A failing case is shrunk by proptest and printed with both
//! decisions. Generator coverage (verdicts and rules hit):
//! `cargo test --test assurance coverage -- --ignored --nocapture`.
//!
//! # The reference model is independent
//!
//! `reference.rs` is written from `docs/policy-format.md` and the public
//! types only: its own calendar arithmetic, its own taxonomy and ground
//! tables (read from the document's own tables), no engine helper that
//! encodes a decision rule. Where the document was silent it was completed;
//! the document decides, not the engine.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod differential;
#[cfg(feature = "sqlite")]
mod durable;
mod generate;
mod ledger_model;
mod lifecycle_differential;
mod lifecycle_model;
mod lifecycle_vectors;
mod properties;
mod reference;
mod rescan;
mod rights_differential;
mod rights_model;
mod rights_vectors;
mod round_trip;

use proptest::test_runner::{Config, RngSeed};

/// The seed of the longer campaign, so that a run is reproducible.
const LONG_SEED: u64 = 0x5eed_2026_0012;

/// Whether the fixed longer campaign is on (`PRIVACY_ENGINE_LONG=1`).
fn long_campaign() -> bool {
    std::env::var("PRIVACY_ENGINE_LONG").is_ok_and(|v| v == "1")
}

/// The number of differential cases: 100,000 in the longer campaign, else
/// `PRIVACY_ENGINE_CASES`, else 200.
pub(crate) fn differential_cases() -> u32 {
    if long_campaign() {
        return 100_000;
    }
    std::env::var("PRIVACY_ENGINE_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(200)
}

/// The proptest configuration of the property `name` with `cases` cases;
/// prints the count.
pub(crate) fn config(name: &str, cases: u32) -> Config {
    let rng_seed = if long_campaign() { RngSeed::Fixed(LONG_SEED) } else { RngSeed::Random };
    println!("assurance: {name}: {cases} cases{}", if long_campaign() { " (long campaign)" } else { "" });
    Config { cases, max_shrink_iters: 2_000, rng_seed, ..Config::default() }
}

/// The configuration of the property `name`, other than the differential
/// one: 10,000 cases in the longer campaign, else a tenth of the
/// differential count (at least 64).
pub(crate) fn property_config(name: &str) -> Config {
    let cases = if long_campaign() { 10_000 } else { (differential_cases() / 10).max(64) };
    config(name, cases)
}
