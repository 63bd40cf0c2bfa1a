//! The PostgreSQL store (feature `postgres`) against the server
//! `PRIVACY_ENGINE_PG` names (`.ci/postgres start` makes one, with
//! `fsync=on` and `synchronous_commit=on`); prints a line and does nothing
//! without it.
//!
//! - `pg_append/one_event`: one event per transaction, the latency of an
//!   acknowledged append.
//! - `pg_append/group_commit_<n>`: `n` events per transaction (a group
//!   commit), in events per second.
//! - propagation, printed after criterion's groups: from an append's
//!   acknowledgement on one instance to its replica on another having
//!   applied it, woken by LISTEN/NOTIFY (median and p99 of
//!   `PROPAGATION_SAMPLES`, default 1,000).
//!
//! ```sh
//! eval "$(.ci/postgres start)"
//! cargo bench --features postgres --bench durable_pg
//! .ci/postgres stop
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, missing_docs)]

use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::{Criterion, Throughput};
use privacy_engine::{ConsentEvent, DurableLog, PgListener, PgLog, Replica, Uuid};
use serde_json::json;

/// The events of one group commit.
const GROUP: usize = 1_000;

/// A schema of its own, dropped at the end.
struct Schema {
    base: String,
    name: String,
}

impl Schema {
    fn new(base: String) -> Self {
        let name = format!("bench_{}", std::process::id());
        let mut admin = postgres::Client::connect(&base, postgres::NoTls).unwrap();
        admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}")).unwrap();
        Self { base, name }
    }

    fn config(&self) -> String {
        format!("{} options='-c search_path={}'", self.base, self.name)
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.base, postgres::NoTls) {
            let _ = admin.batch_execute(&format!("DROP SCHEMA {} CASCADE", self.name));
        }
    }
}

/// A grant by one of 10,000 subjects, now, with a fresh id.
fn event(n: usize) -> ConsentEvent {
    serde_json::from_value(json!({
        "id": Uuid::new_v4(),
        "at": Utc::now().fixed_offset().to_rfc3339(),
        "subject": format!("user-{}", n % 10_000),
        "policy_id": "seed-004",
        "policy_version": "2021-08-20",
        "change": {"type": "grant", "qualities": ["affirmative", "explicit"],
            "scope": {"purposes": ["marketing"], "categories": ["user.contact"]}}
    }))
    .unwrap()
}

fn appends(c: &mut Criterion, schema: &Schema) {
    let mut log = PgLog::connect(&schema.config()).unwrap();
    let mut group = c.benchmark_group("pg_append");
    let mut n = 0;
    group.throughput(Throughput::Elements(1));
    group.bench_function("one_event", |b| {
        b.iter(|| {
            n += 1;
            log.append(&[event(n)], Utc::now()).unwrap()
        })
    });
    group.throughput(Throughput::Elements(GROUP as u64));
    group.sample_size(20);
    group.bench_function(format!("group_commit_{GROUP}"), |b| {
        b.iter_batched(
            || (0..GROUP).map(event).collect::<Vec<_>>(),
            |events| log.append(&events, Utc::now()).unwrap(),
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// From the acknowledgement of an append by one instance to another
/// instance's replica having applied it; prints the median and p99.
fn propagation(schema: &Schema) {
    let samples: usize = std::env::var("PROPAGATION_SAMPLES").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000);
    let config = schema.config();
    let mut writer = Replica::open(PgLog::connect(&config).unwrap()).unwrap();
    let start = writer.seen();
    let (ready_tx, ready_rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut replica = Replica::open(PgLog::connect(&config).unwrap()).unwrap();
        let mut listener = PgListener::connect(&config).unwrap();
        ready_tx.send(()).unwrap();
        let mut applied = Vec::with_capacity(samples);
        while replica.seen() < start + samples as u64 {
            // Polling every second is the fallback; the notification wakes it.
            listener.wait(Duration::from_secs(1)).unwrap();
            replica.catch_up().unwrap();
            applied.push((replica.seen(), Instant::now()));
        }
        applied
    });
    ready_rx.recv().unwrap();
    let mut acked = Vec::with_capacity(samples);
    for i in 0..samples {
        let a = writer.append(event(i), Utc::now()).unwrap();
        acked.push((a.seq, Instant::now()));
        std::thread::sleep(Duration::from_millis(2));
    }
    let applied = reader.join().unwrap();
    let mut delays: Vec<Duration> = acked
        .iter()
        .map(|(seq, t)| {
            let (_, seen) = applied.iter().find(|(s, _)| s >= seq).unwrap();
            seen.saturating_duration_since(*t)
        })
        .collect();
    delays.sort();
    let at = |q: f64| delays[((delays.len() as f64 * q) as usize).min(delays.len() - 1)];
    println!(
        "pg propagation (LISTEN/NOTIFY, {samples} appends 2 ms apart): median {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        delays[delays.len() - 1].as_secs_f64() * 1e3
    );
}

fn main() {
    let Ok(base) = std::env::var("PRIVACY_ENGINE_PG") else {
        println!("durable_pg: skipped: set PRIVACY_ENGINE_PG (see .ci/postgres)");
        return;
    };
    let schema = Schema::new(base);
    let mut c = Criterion::default().configure_from_args();
    appends(&mut c, &schema);
    c.final_summary();
    propagation(&schema);
}
