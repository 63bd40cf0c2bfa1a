//! The SQLite store (feature `sqlite`): durable appends, group commits,
//! propagation between replicas, and opening a large log.
//!
//! ```sh
//! cargo bench --features sqlite --bench durable -- --warm-up-time 1 --measurement-time 5
//! ```
//!
//! Criterion times `append_one` (one event per transaction, every commit
//! synced: `synchronous=FULL`) and `group_commit/<n>` (n events in one
//! transaction, throughput in events/s). Then, printed:
//!
//! - propagation: an append on one handle until a replica on another
//!   handle, waiting with `SqliteLog::wait_for_change` and catching up, has
//!   applied it (median and p99 of 300, measured from the append's return
//!   and from its call);
//! - open and load: `PE_BENCH_SUBJECTS` subjects (default 10,000) × 20
//!   events into a replica, by replaying every record and from a snapshot
//!   (`Replica::checkpoint`), with the time, the resident memory it added
//!   and the file's size. The file is built once and kept in the bench
//!   directory.
//!
//! - `PE_BENCH_LOAD=build`, then `PE_BENCH_LOAD=open`: the load target at
//!   full size, from a snapshot plus the log's tail (see `load_at_size`).
//!
//! The files live in `PE_BENCH_DIR` (default: the system's temporary
//! directory), which should be on the disk to measure.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use criterion::{BatchSize, Criterion, Throughput};
use privacy_engine::{
    CategoryKey, ConsentChange, ConsentEvent, ConsentQualities, DurableLog, Replica, Scope, SqliteLog, Uuid,
};

fn recorded() -> DateTime<Utc> {
    "2024-05-01T02:00:00Z".parse().unwrap()
}

/// Event `n` of `subject`, a grant dated `n` seconds (mod a day) before
/// [`recorded`].
fn event(id: u128, subject: &str, n: u64) -> ConsentEvent {
    let scope = Scope::new(vec!["marketing".into()], vec![CategoryKey::new("user.contact").unwrap()]);
    let at = (recorded() - TimeDelta::seconds((n % 86_400) as i64)).fixed_offset();
    let change = ConsentChange::Grant { qualities: ConsentQualities::explicit(), scope, expires: None };
    ConsentEvent::new(Uuid::from_u128(id), at, subject, "seed-004", "2021-08-20", change)
}

fn bench_dir() -> PathBuf {
    std::env::var_os("PE_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from)
}

/// A new, empty store file in the bench directory.
fn fresh(name: &str) -> PathBuf {
    let path = bench_dir().join(format!("pe-bench-durable-{name}-{}.db", std::process::id()));
    remove(&path);
    path
}

fn remove(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

fn appends(c: &mut Criterion) {
    let path = fresh("append");
    let mut log = SqliteLog::open(&path).unwrap();
    let mut next = 0u128;
    let mut g = c.benchmark_group("durable");
    g.throughput(Throughput::Elements(1));
    g.bench_function("append_one", |b| {
        b.iter(|| {
            next += 1;
            log.append(&[event(next, &format!("s{}", next % 1000), next as u64)], recorded()).unwrap()
        })
    });
    for n in [100u64, 1_000, 10_000] {
        g.throughput(Throughput::Elements(n));
        g.bench_function(format!("group_commit/{n}"), |b| {
            b.iter_batched(
                || {
                    (0..n)
                        .map(|i| {
                            next += 1;
                            event(next, &format!("s{}", next % 1000), i)
                        })
                        .collect::<Vec<_>>()
                },
                |events| log.append(&events, recorded()).unwrap(),
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
    drop(log);
    remove(&path);
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// An append on one handle until a replica on another has applied it.
fn propagation() {
    const SAMPLES: usize = 300;
    let path = fresh("propagation");
    let mut writer = SqliteLog::open(&path).unwrap();
    let reader_log = SqliteLog::open(&path).unwrap();
    let (seen_tx, seen_rx) = mpsc::channel::<(u64, Instant)>();
    let reader = std::thread::spawn(move || {
        let mut replica = Replica::open(reader_log).unwrap();
        while replica.seen() < SAMPLES as u64 {
            if replica.log_mut().wait_for_change(Duration::from_secs(5)).unwrap() && replica.catch_up().unwrap() > 0 {
                seen_tx.send((replica.seen(), Instant::now())).unwrap();
            }
        }
    });
    let (mut from_return, mut from_call) = (Vec::new(), Vec::new());
    let mut jitter = 1u64;
    for n in 1..=SAMPLES as u128 {
        jitter = jitter.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        std::thread::sleep(Duration::from_micros((jitter >> 33) % 3_000));
        let called = Instant::now();
        let seq = writer.append(&[event(n, "p", n as u64)], recorded()).unwrap()[0].seq;
        let returned = Instant::now();
        let visible = loop {
            let (seen, at) = seen_rx.recv().unwrap();
            if seen >= seq {
                break at;
            }
        };
        from_return.push(visible.saturating_duration_since(returned));
        from_call.push(visible.saturating_duration_since(called));
    }
    reader.join().unwrap();
    from_return.sort();
    from_call.sort();
    println!(
        "durable/propagation: {SAMPLES} appends; from the append's return: median {:?}, p99 {:?}, max {:?}; \
         from its call: median {:?}, p99 {:?}",
        percentile(&from_return, 0.5),
        percentile(&from_return, 0.99),
        from_return.last().unwrap(),
        percentile(&from_call, 0.5),
        percentile(&from_call, 0.99)
    );
    drop(writer);
    remove(&path);
}

/// Resident memory of this process, in bytes.
fn resident() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()).unwrap_or(0) * 4096
}

fn file_size(path: &Path) -> u64 {
    ["", "-wal"].iter().filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok()).map(|m| m.len()).sum()
}

/// The store of `subjects` × 20 events, built once (10,000 events per
/// transaction).
fn large_store(subjects: u64) -> PathBuf {
    let path = bench_dir().join(format!("pe-bench-durable-load-{subjects}x20.db"));
    if path.exists() {
        return path;
    }
    let building = path.with_extension("building");
    remove(&building);
    let mut log = SqliteLog::open(&building).unwrap();
    let started = Instant::now();
    let total = subjects * 20;
    let mut id = 0u128;
    for chunk in (0..total).collect::<Vec<_>>().chunks(10_000) {
        let events: Vec<_> = chunk
            .iter()
            .map(|&i| {
                id += 1;
                event(id, &format!("subject-{:08}", i % subjects), i / subjects)
            })
            .collect();
        log.append(&events, recorded()).unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    println!("durable/load: built {total} events in {secs:.1} s ({:.0} events/s)", total as f64 / secs);
    drop(log);
    std::fs::rename(&building, &path).unwrap();
    remove(&building);
    path
}

fn open_and_load() {
    let subjects: u64 = std::env::var("PE_BENCH_SUBJECTS").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let path = large_store(subjects);
    let copy = path.with_extension("snapshot.db");
    remove(&copy);
    std::fs::copy(&path, &copy).unwrap();
    let mut log = SqliteLog::open(&copy).unwrap();
    let (started, mut after, mut read) = (Instant::now(), 0, 0);
    loop {
        let batch = log.read_after(after, privacy_engine::READ_BATCH).unwrap();
        let Some(last) = batch.last() else { break };
        (after, read) = (last.seq, read + batch.len());
    }
    println!("durable/load: read and decoded {read} records in {:.2} s", started.elapsed().as_secs_f64());
    drop(log);
    let before = resident();
    let started = Instant::now();
    let mut replica = Replica::open(SqliteLog::open(&copy).unwrap()).unwrap();
    let replay = started.elapsed();
    let memory = resident().saturating_sub(before);
    println!(
        "durable/load: {subjects} subjects x 20 = {} events replayed into a replica in {:.2} s, {} MiB resident, \
         file {} MiB",
        replica.ledger().len(),
        replay.as_secs_f64(),
        memory >> 20,
        file_size(&copy) >> 20
    );
    let started = Instant::now();
    replica.checkpoint().unwrap();
    let checkpoint = started.elapsed();
    drop(replica);
    let started = Instant::now();
    let replica = Replica::open(SqliteLog::open(&copy).unwrap()).unwrap();
    println!(
        "durable/load: checkpoint {:.2} s; opened from the snapshot in {:.2} s ({} events), file {} MiB",
        checkpoint.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        replica.ledger().len(),
        file_size(&copy) >> 20
    );
    drop(replica);
    remove(&copy);
}

/// The load target at full size, in two runs so that the open's memory is
/// its own process's: `PE_BENCH_LOAD=build` builds the store of
/// `PE_BENCH_SUBJECTS` × 20 events (once), a snapshot of exactly its records
/// (the ledger a replica of it holds, encoded as `Replica::checkpoint`
/// does, without replaying the file) and a tail of `PE_BENCH_TAIL` (default
/// 100,000) more records; `PE_BENCH_LOAD=open` then times
/// `Replica::open` of it: the snapshot, then the tail.
fn load_at_size(mode: &str) {
    let subjects: u64 = std::env::var("PE_BENCH_SUBJECTS").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let tail: u64 = std::env::var("PE_BENCH_TAIL").ok().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let path = bench_dir().join(format!("pe-bench-durable-load-{subjects}x20-tail{tail}.db"));
    if mode == "build" {
        remove(&path);
        std::fs::copy(large_store(subjects), &path).unwrap();
        let mut ledger = privacy_engine::CompactLedger::new();
        let total = subjects * 20;
        for i in 0..total {
            let e = event(u128::from(i) + 1, &format!("subject-{:08}", i % subjects), i / subjects);
            ledger.append_at(e, recorded()).unwrap();
        }
        let mut log = SqliteLog::open(&path).unwrap();
        let bytes = ledger.to_snapshot();
        drop(ledger);
        log.save_snapshot(total, &bytes).unwrap();
        println!("durable/load: snapshot of {total} records, {} bytes", bytes.len());
        for chunk in (0..tail).collect::<Vec<_>>().chunks(10_000) {
            let events: Vec<_> = chunk
                .iter()
                .map(|&i| event(u128::from(total + i) + 1, &format!("subject-{:08}", i % subjects), 20 + i / subjects))
                .collect();
            log.append(&events, recorded()).unwrap();
        }
        println!(
            "durable/load: built {} with a tail of {tail} records, {} MiB",
            path.display(),
            file_size(&path) >> 20
        );
        return;
    }
    let before = resident();
    let started = Instant::now();
    let replica = Replica::open(SqliteLog::open(&path).unwrap()).unwrap();
    let took = started.elapsed();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status.lines().find(|l| l.starts_with("VmHWM")).unwrap_or("VmHWM: ?").to_owned();
    println!(
        "durable/load: opened {} events ({} after the snapshot) in {:.2} s, {} MiB resident added, {peak}, file {} MiB",
        replica.ledger().len(),
        replica.seen() - subjects * 20,
        took.as_secs_f64(),
        resident().saturating_sub(before) >> 20,
        file_size(&path) >> 20
    );
}

fn main() {
    if let Ok(mode) = std::env::var("PE_BENCH_LOAD") {
        load_at_size(&mode);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    appends(&mut c);
    c.final_summary();
    // `cargo test --benches` runs each benchmark once, without `--bench`:
    // the printed measurements are for bench runs only.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    propagation();
    open_and_load();
}
