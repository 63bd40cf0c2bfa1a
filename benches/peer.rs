//! The peer benchmark (the peer-bench project: Cedar and Rego on the same
//! 21 privacy rules and 10,000 scenarios) run on this engine with
//! `examples/policies/peer-bench.json`, beside the peer's rules hand-written
//! in Rust (`benches/peer/native.rs`) as an anchor timed in the same process.
//!
//! `cargo bench --bench peer` first checks that every verdict is the one the
//! peer engines agreed on, ours with both ledgers and the hand-written
//! rules' (it panics otherwise), then:
//!
//! 1. an interleaved measurement like the peer harness's
//!    (`measure_interleaved` in its `src/bench.rs`), repeated `PEER_REPEATS`
//!    times (5 by default). Each repeat gives every variant an untimed
//!    warm-up pass, then a latency pass (each decision timed on its own with
//!    `Instant`: median, p99, mean) and a throughput pass (decisions/s, no
//!    per-call timer). Both passes run the scenarios in chunks of 500, every
//!    variant in turn on each chunk, the first variant rotating from chunk to
//!    chunk, so a slow period of the VM hits every variant alike. It prints
//!    a line per variant and repeat, then per variant the median of the
//!    repeats' medians, their range, and its ratio to the hand-written
//!    rules' median; also the cost of the timer itself, which the latency
//!    figures include;
//! 2. a criterion benchmark of a pass over the 10,000 decisions, with each
//!    ledger and with the hand-written rules.
//!
//! The variants are `decide/compact_ledger`, `decide/in_memory_ledger` and
//! `decide/replica`
//! (`engine.decide(&prepared, &ledger)`, the full decision, on requests
//! built and prepared beforehand, as the peer harness prebuilds Cedar's
//! requests and entities), `evaluate/compact_ledger`
//! (`engine.evaluate(&request, &ledger)`, which prepares the request and
//! renders the `Decision` too) and `native` (the hand-written rules on the
//! scenario as read from the file).
//!
//! For callgrind, `PEER_PROFILE=1` runs every scenario once through
//! `one_decision_ours` and exits (`PEER_LEDGER=in_memory` for the in-memory
//! ledger, `PEER_LEDGER=replica` for the replica of a durable log; the
//! compact one otherwise, bound to the engine unless
//! `PEER_UNBOUND=1`); `PEER_PROFILE=native` does the same
//! through `one_decision_native`, and `PEER_PROFILE=evaluate` through
//! `one_decision_evaluate` (prepare, decide and render, compact ledger):
//!
//! ```sh
//! PEER_PROFILE=1 valgrind --tool=callgrind --toggle-collect='*one_decision_ours*' \
//!     target/release/deps/peer-<hash> --bench
//! PEER_PROFILE=native valgrind --tool=callgrind --toggle-collect='*one_decision_native*' \
//!     target/release/deps/peer-<hash> --bench
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

#[path = "peer/native.rs"]
mod native;
#[path = "peer/scenarios.rs"]
mod scenarios;

use std::hint::black_box;
use std::ops::Range;
use std::time::{Duration, Instant};

use criterion::Criterion;
use privacy_engine::{ConsentStore, Engine, Prepared, Request};
use scenarios::Scenario;

/// Scenarios per chunk of the interleaved passes, as in the peer harness.
const CHUNK: usize = 500;

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

/// One decision by the hand-written rules.
#[inline(never)]
fn one_decision_native(scenario: &Scenario) -> bool {
    native::allow(scenario)
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// What is measured: a name and the verdict on scenario `i`.
struct Variant<'a> {
    name: &'static str,
    decide: Box<dyn Fn(usize) -> bool + 'a>,
}

/// One variant's figures from one repeat.
struct Stats {
    median_ns: u64,
    p99_ns: u64,
    mean_ns: f64,
    /// From the throughput pass, without the per-call timer.
    per_s: f64,
    permits: usize,
}

/// Every variant on scenarios `0..n`, interleaved by chunks (see the module
/// docs), in the order of `variants`.
fn measure_interleaved(n: usize, variants: &[Variant<'_>]) -> Vec<Stats> {
    for v in variants {
        for i in 0..n {
            black_box((v.decide)(i));
        }
    }
    let chunks: Vec<Range<usize>> = (0..n).step_by(CHUNK).map(|a| a..(a + CHUNK).min(n)).collect();
    // Chunk `k` starts with variant `k`.
    let turns = |k: usize| (0..variants.len()).map(move |j| (k + j) % variants.len());

    let mut samples: Vec<Vec<u64>> = variants.iter().map(|_| Vec::with_capacity(n)).collect();
    let mut permits = vec![0; variants.len()];
    for (k, chunk) in chunks.iter().enumerate() {
        for v in turns(k) {
            let decide = &variants[v].decide;
            for i in chunk.clone() {
                let t0 = Instant::now();
                let permit = decide(i);
                let dt = t0.elapsed();
                permits[v] += usize::from(black_box(permit));
                samples[v].push(nanos(dt));
            }
        }
    }
    let mut totals = vec![Duration::ZERO; variants.len()];
    for (k, chunk) in chunks.iter().enumerate() {
        for v in turns(k) {
            let decide = &variants[v].decide;
            let t0 = Instant::now();
            for i in chunk.clone() {
                black_box(decide(i));
            }
            totals[v] += t0.elapsed();
        }
    }
    samples
        .into_iter()
        .zip(permits)
        .zip(totals)
        .map(|((mut s, permits), total)| {
            let mean_ns = s.iter().sum::<u64>() as f64 / n as f64;
            s.sort_unstable();
            Stats {
                median_ns: percentile(&s, 50.0),
                p99_ns: percentile(&s, 99.0),
                mean_ns,
                per_s: n as f64 / total.as_secs_f64(),
                permits,
            }
        })
        .collect()
}

/// The cost of the per-call timer itself (`Instant::now` + `elapsed`),
/// median of 100,000.
fn timer_overhead_ns() -> u64 {
    let mut samples: Vec<u64> = (0..100_000)
        .map(|_| {
            let t0 = Instant::now();
            nanos(black_box(t0).elapsed())
        })
        .collect();
    samples.sort_unstable();
    percentile(&samples, 50.0)
}

fn main() {
    let engine = Engine::from_json(scenarios::POLICY).unwrap();
    let mut replay = scenarios::replay();
    // The compact ledger finds names by the engine's ids, as an application
    // that decides with one engine would set it up (`PEER_UNBOUND=1`: by
    // the names).
    if std::env::var_os("PEER_UNBOUND").is_none() {
        engine.bind_ledger(&mut replay.compact);
        replay.replica.bind(&engine);
    }
    let replay = replay;
    let requests = &replay.requests;
    let n = requests.len();
    let prepared: Vec<Prepared<'_>> = requests.iter().map(|r| engine.prepare(r)).collect();
    // The verdicts first: a benchmark of wrong answers measures nothing.
    let mut wrong = Vec::new();
    for (s, r) in replay.scenarios.iter().zip(requests) {
        let compact = engine.evaluate(r, &replay.compact);
        let in_memory = engine.evaluate(r, &replay.in_memory);
        let p = engine.prepare(r);
        let decided = [
            engine.decide(&p, &replay.compact).to_decision(),
            engine.decide(&p, &replay.in_memory).to_decision(),
            engine.decide(&p, &replay.replica).to_decision(),
        ];
        if compact.is_permit() != s.expected.permit() || in_memory != compact || decided.iter().any(|d| *d != compact) {
            wrong.push(s.id);
        }
    }
    assert!(wrong.is_empty(), "{} of {} verdicts differ from the peer's: {wrong:?}", wrong.len(), n);
    let native_wrong: Vec<u32> =
        replay.scenarios.iter().filter(|s| native::allow(s) != s.expected.permit()).map(|s| s.id).collect();
    assert!(
        native_wrong.is_empty(),
        "{} of {} hand-written verdicts differ from the peer's: {native_wrong:?}",
        native_wrong.len(),
        n
    );
    println!("peer: all {} verdicts agree with the peer's, ours with both ledgers and the hand-written rules'", n);

    let variants = [
        Variant {
            name: "decide/compact_ledger",
            decide: Box::new(|i| one_decision_ours(&engine, &prepared[i], &replay.compact)),
        },
        Variant {
            name: "decide/in_memory_ledger",
            decide: Box::new(|i| one_decision_ours(&engine, &prepared[i], &replay.in_memory)),
        },
        Variant {
            name: "decide/replica",
            decide: Box::new(|i| one_decision_ours(&engine, &prepared[i], &replay.replica)),
        },
        Variant {
            name: "evaluate/compact_ledger",
            decide: Box::new(|i| one_decision_evaluate(&engine, &requests[i], &replay.compact)),
        },
        Variant { name: "native", decide: Box::new(|i| one_decision_native(&replay.scenarios[i])) },
    ];
    let variant = |name: &str| variants.iter().position(|v| v.name == name).unwrap();

    let profiled = match std::env::var("PEER_PROFILE").as_deref() {
        Ok("1") if std::env::var_os("PEER_LEDGER").is_some_and(|v| v == "in_memory") => Some("decide/in_memory_ledger"),
        Ok("1") if std::env::var_os("PEER_LEDGER").is_some_and(|v| v == "replica") => Some("decide/replica"),
        Ok("1") => Some("decide/compact_ledger"),
        Ok("native") => Some("native"),
        Ok("evaluate") => Some("evaluate/compact_ledger"),
        _ => None,
    };
    if let Some(name) = profiled {
        let decide = &variants[variant(name)].decide;
        let permits = (0..n).filter(|&i| decide(i)).count();
        println!("peer: profiled {n} decisions of {name} ({permits} permits)");
        return;
    }

    let repeats =
        std::env::var("PEER_REPEATS").map_or(5, |r| r.parse::<usize>().expect("PEER_REPEATS is a count").max(1));
    let permits = replay.scenarios.iter().filter(|s| s.expected.permit()).count();
    println!("peer: timer overhead (Instant::now + elapsed, median of 100,000): {} ns", timer_overhead_ns());
    let mut medians: Vec<Vec<u64>> = variants.iter().map(|_| Vec::with_capacity(repeats)).collect();
    for repeat in 1..=repeats {
        for ((v, s), m) in variants.iter().zip(measure_interleaved(n, &variants)).zip(&mut medians) {
            assert_eq!(s.permits, permits, "{}: the permit count drifted", v.name);
            println!(
                "peer/{:<24} repeat {repeat}/{repeats}: median {} ns, p99 {} ns, mean {:.0} ns; {:.0} decisions/s without the timer",
                v.name, s.median_ns, s.p99_ns, s.mean_ns, s.per_s,
            );
            m.push(s.median_ns);
        }
    }
    for m in &mut medians {
        m.sort_unstable();
    }
    let native_ns = percentile(&medians[variant("native")], 50.0) as f64;
    println!("peer: over {repeats} repeats, the median of the medians (their range), against the hand-written rules:");
    for (v, m) in variants.iter().zip(&medians) {
        let median = percentile(m, 50.0);
        println!(
            "peer/{:<24} {median} ns ({}–{} ns), {:.2}× native",
            v.name,
            m[0],
            m[m.len() - 1],
            median as f64 / native_ns,
        );
    }

    let mut c = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(10)).configure_from_args();
    c.bench_function("peer/10000_decisions/compact_ledger", |b| {
        b.iter(|| prepared.iter().filter(|p| one_decision_ours(&engine, p, &replay.compact)).count())
    });
    c.bench_function("peer/10000_decisions/in_memory_ledger", |b| {
        b.iter(|| prepared.iter().filter(|p| one_decision_ours(&engine, p, &replay.in_memory)).count())
    });
    c.bench_function("peer/10000_decisions/native", |b| {
        b.iter(|| replay.scenarios.iter().filter(|s| one_decision_native(s)).count())
    });
    c.final_summary();
}
