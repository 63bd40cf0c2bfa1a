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
//! - `round_trip`: every serialised type through JSON and back.
//!
//! # Case counts
//!
//! The differential test runs 10,000 cases (each a policy, a consent history
//! and up to four requests); the other properties 1,000 each. For a longer
//! run set `ASSURANCE_CASES`: it sets the differential count, and the other
//! properties run a tenth of it (at least 100):
//!
//! ```sh
//! ASSURANCE_CASES=200000 cargo test --release --test assurance
//! ```
//!
//! A failing case is shrunk by proptest and printed with both decisions.
//! Generator coverage (verdicts and rules hit):
//! `cargo test --test assurance coverage -- --ignored --nocapture`.
//!
//! # Readings taken from the engine
//!
//! The reference follows the engine (as of commit 7fa4ac1) where the
//! documents are silent: account cancellation (`builtin.account_cancelled`,
//! cancellation as the purpose-fulfilled time), the obligations a denial
//! keeps, notices on exception grounds, confidential authority grounds.
//! Those places are marked "Engine reading" in `reference.rs`; when the
//! engine changes one of them on purpose, change the reference with it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod differential;
mod generate;
mod ledger_model;
mod properties;
mod reference;
mod round_trip;

use proptest::test_runner::Config;

/// The number of differential cases: `ASSURANCE_CASES`, or 10,000.
pub(crate) fn differential_cases() -> u32 {
    std::env::var("ASSURANCE_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000)
}

/// The proptest configuration with `cases` cases.
pub(crate) fn config(cases: u32) -> Config {
    Config { cases, max_shrink_iters: 2_000, ..Config::default() }
}

/// The configuration of the properties other than the differential one.
pub(crate) fn property_config() -> Config {
    config((differential_cases() / 10).max(100))
}
