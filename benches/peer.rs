//! The peer benchmark (`../shared/peer-bench/`: Cedar and Rego on the same
//! 21 privacy rules and 10,000 scenarios) run on this engine with
//! `examples/policies/peer-bench.json`.
//!
//! `cargo bench --bench peer` first checks that every verdict is the one the
//! peer engines agreed on (it panics otherwise), then:
//!
//! 1. a latency pass like the peer harness's (`src/bench.rs` there): after
//!    an untimed warm-up pass, each decision is timed on its own with
//!    `Instant`, giving median, p99 and mean per decision, against the
//!    `CompactLedger` and the `InMemoryLedger`;
//! 2. a criterion benchmark of a pass over the 10,000 decisions, with each
//!    ledger.
//!
//! Requests are built, prepared (`Engine::prepare`: names resolved to ids)
//! and the ledgers loaded beforehand, as the peer harness prebuilds Cedar's
//! requests and entities: what is timed is `engine.decide(&prepared,
//! &ledger)`, the full decision. The latency pass also times
//! `engine.evaluate(&request, &ledger)`, which prepares the request too.
//!
//! For callgrind, `PEER_PROFILE=1` runs every scenario once through
//! `one_decision_ours` and exits (`PEER_LEDGER=in_memory` for the in-memory
//! ledger; the compact one otherwise):
//!
//! ```sh
//! PEER_PROFILE=1 valgrind --tool=callgrind --toggle-collect='*one_decision_ours*' \
//!     target/release/deps/peer-<hash> --bench
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

#[path = "peer/scenarios.rs"]
mod scenarios;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use privacy_engine::{ConsentStore, Engine, Policy, Prepared, Request};

/// One decision on a prepared request, kept out of line so that callgrind
/// can count it alone.
#[inline(never)]
fn one_decision_ours(engine: &Engine, request: &Prepared<'_>, ledger: &impl ConsentStore) -> bool {
    engine.decide(request, ledger).is_permit()
}

/// One decision, the request prepared too.
#[inline(never)]
fn one_decision_evaluate(engine: &Engine, request: &Request, ledger: &impl ConsentStore) -> bool {
    engine.evaluate(request, ledger).is_permit()
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Times each decision on its own, after an untimed warm-up pass.
fn latency<R>(name: &str, requests: &[R], decide: impl Fn(&R) -> bool) {
    for r in requests {
        black_box(decide(r));
    }
    let mut samples = Vec::with_capacity(requests.len());
    let mut permits = 0usize;
    for r in requests {
        let t0 = Instant::now();
        let permit = decide(r);
        let dt = t0.elapsed();
        permits += usize::from(black_box(permit));
        samples.push(u64::try_from(dt.as_nanos()).unwrap_or(u64::MAX));
    }
    let mean = samples.iter().sum::<u64>() as f64 / samples.len() as f64;
    samples.sort_unstable();
    let t0 = Instant::now();
    for r in requests {
        black_box(decide(r));
    }
    let per_s = requests.len() as f64 / t0.elapsed().as_secs_f64();
    println!(
        "peer/{name}: {} decisions ({permits} permits): median {:.2} µs, p99 {:.2} µs, mean {:.2} µs per decision; {:.0} decisions/s without the timer",
        requests.len(),
        percentile(&samples, 50.0) as f64 / 1e3,
        percentile(&samples, 99.0) as f64 / 1e3,
        mean / 1e3,
        per_s,
    );
}

fn main() {
    let engine = Engine::new(Policy::from_json(scenarios::POLICY).unwrap()).unwrap();
    let replay = scenarios::replay();
    let requests = &replay.requests;
    let prepared: Vec<Prepared<'_>> = requests.iter().map(|r| engine.prepare(r)).collect();
    // The verdicts first: a benchmark of wrong answers measures nothing.
    let mut wrong = Vec::new();
    for (s, r) in replay.scenarios.iter().zip(requests) {
        let compact = engine.evaluate(r, &replay.compact);
        let in_memory = engine.evaluate(r, &replay.in_memory);
        let p = engine.prepare(r);
        let decided =
            [engine.decide(&p, &replay.compact).to_decision(), engine.decide(&p, &replay.in_memory).to_decision()];
        if compact.is_permit() != s.expected.permit() || in_memory != compact || decided.iter().any(|d| *d != compact) {
            wrong.push(s.id);
        }
    }
    assert!(wrong.is_empty(), "{} of {} verdicts differ from the peer's: {wrong:?}", wrong.len(), requests.len());
    println!("peer: all {} verdicts agree with the peer's, with both ledgers", requests.len());

    if std::env::var_os("PEER_PROFILE").is_some_and(|v| v == "1") {
        let in_memory = std::env::var_os("PEER_LEDGER").is_some_and(|v| v == "in_memory");
        let mut permits = 0usize;
        for r in &prepared {
            let permit = if in_memory {
                one_decision_ours(&engine, r, &replay.in_memory)
            } else {
                one_decision_ours(&engine, r, &replay.compact)
            };
            permits += usize::from(black_box(permit));
        }
        println!("peer: profiled {} decisions ({permits} permits)", requests.len());
        return;
    }

    latency("compact_ledger", &prepared, |p| one_decision_ours(&engine, p, &replay.compact));
    latency("in_memory_ledger", &prepared, |p| one_decision_ours(&engine, p, &replay.in_memory));
    latency("compact_ledger/evaluate", requests, |r| one_decision_evaluate(&engine, r, &replay.compact));

    let mut c = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(10)).configure_from_args();
    c.bench_function("peer/10000_decisions/compact_ledger", |b| {
        b.iter(|| prepared.iter().filter(|p| one_decision_ours(&engine, p, &replay.compact)).count())
    });
    c.bench_function("peer/10000_decisions/in_memory_ledger", |b| {
        b.iter(|| prepared.iter().filter(|p| one_decision_ours(&engine, p, &replay.in_memory)).count())
    });
    c.final_summary();
}
