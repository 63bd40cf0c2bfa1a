//! Crash safety: a writer process killed with SIGKILL at random moments
//! loses no acknowledged event, doubles none, and leaves an audit chain
//! that verifies.
//!
//! The writer is this test binary itself, run again on the ignored test
//! [`child_writer`] with the store's path in `PE_DURABLE_CHILD`: it appends
//! in a loop (one to five events per transaction), records each event in
//! the audit chain of the same file, and prints `ACK <id>` for every event
//! once its append has returned, flushing each line.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, TimeDelta, Utc};
use privacy_engine::{AuditLog, DurableLog, LogRecord, SqliteAuditStore, SqliteLog, Uuid};

use crate::TempDir;
use crate::conformance::{all_records, event_at};

/// The environment variable that makes [`child_writer`] write to a store.
const CHILD: &str = "PE_DURABLE_CHILD";
/// How many events the child appends before it stops; none: until killed.
const CHILD_EVENTS: &str = "PE_DURABLE_CHILD_EVENTS";

/// How many times the crash test kills the writer.
const KILLS: usize = 50;

/// The writer process; a no-op unless run by [`spawn_writer`].
#[test]
#[ignore = "run as a child process by the crash and concurrency tests"]
fn child_writer() {
    let Ok(path) = std::env::var(CHILD) else { return };
    let limit: Option<usize> = std::env::var(CHILD_EVENTS).ok().and_then(|n| n.parse().ok());
    let mut log = SqliteLog::open(&path).unwrap();
    let mut audit = AuditLog::open(SqliteAuditStore::open(&path).unwrap(), crate::sqlite::pseudonyms()).unwrap();
    let mut out = std::io::stdout().lock();
    writeln!(out, "READY").unwrap();
    out.flush().unwrap();
    let (mut written, mut round) = (0, 0usize);
    while limit.is_none_or(|l| written < l) {
        round += 1;
        let now: DateTime<Utc> = SystemTime::now().into();
        let batch: Vec<_> = (0..1 + round % 5)
            .map(|i| event_at(Uuid::new_v4().as_u128(), &format!("s{}", (round + i) % 37), now - TimeDelta::seconds(1)))
            .collect();
        log.append(&batch, now).unwrap();
        for e in &batch {
            audit.record_consent(Uuid::new_v4(), e.at, e).unwrap();
            writeln!(out, "ACK {}", e.id).unwrap();
            out.flush().unwrap();
        }
        written += batch.len();
    }
}

/// Runs [`child_writer`] on `path`, appending `events` events (or until
/// killed), with its stdout piped.
pub(crate) fn spawn_writer(path: &Path, events: Option<usize>) -> Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", "sqlite_crash::child_writer", "--ignored", "--nocapture", "--test-threads=1"])
        .env(CHILD, path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(n) = events {
        command.env(CHILD_EVENTS, n.to_string());
    }
    command.spawn().unwrap()
}

/// Reads the child's stdout on a thread: sends `()` when it is ready, and
/// returns the ids it acknowledged (complete lines only).
pub(crate) fn read_acks(child: &mut Child) -> (mpsc::Receiver<()>, std::thread::JoinHandle<Vec<Uuid>>) {
    let stdout = child.stdout.take().unwrap();
    let (ready, is_ready) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut acks = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // The harness prints the test's name before its output, on the
            // same line.
            if line.ends_with("READY") {
                let _ = ready.send(());
            } else if let Some(id) = line.strip_prefix("ACK ").and_then(|id| Uuid::parse_str(id).ok()) {
                acks.push(id);
            }
        }
        acks
    });
    (is_ready, reader)
}

/// How many consent records of each event id the store holds.
pub(crate) fn stored_ids(path: &Path) -> HashMap<Uuid, usize> {
    let mut counts = HashMap::new();
    for entry in all_records(&mut SqliteLog::open(path).unwrap()) {
        if let LogRecord::Consent { event, .. } = entry.record {
            *counts.entry(event.id).or_default() += 1;
        }
    }
    counts
}

/// Every acknowledged id is stored exactly once, no id twice, and the
/// audit chain verifies; returns the number of events stored.
pub(crate) fn check_store(path: &Path, acked: &[Uuid]) -> usize {
    let stored = stored_ids(path);
    for id in acked {
        assert_eq!(stored.get(id), Some(&1), "acknowledged event `{id}` is stored {:?} times", stored.get(id));
    }
    assert!(stored.values().all(|&n| n == 1), "an event is stored twice");
    let audit = AuditLog::open(SqliteAuditStore::open(path).unwrap(), crate::sqlite::pseudonyms()).unwrap();
    assert!(audit.verify(None).unwrap().is_intact());
    assert!(SqliteLog::open(path).unwrap().read_after(0, 1).is_ok());
    stored.len()
}

/// A small pseudo-random sequence, seeded from the clock (printed, so that
/// a failing run can be told apart).
fn delays(n: usize) -> Vec<u64> {
    let mut x = u64::from(SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().subsec_nanos()) | 1;
    println!("sqlite crash test: delay seed {x}");
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            5 + x % 76
        })
        .collect()
}

#[test]
fn acknowledged_appends_survive_sigkill() {
    let dir = TempDir::new("crash");
    let path = dir.join("log.db");
    let mut acked = Vec::new();
    let mut kills = 0;
    for delay in delays(KILLS) {
        let mut child = spawn_writer(&path, None);
        let (ready, reader) = read_acks(&mut child);
        ready.recv_timeout(Duration::from_secs(30)).expect("the writer did not start");
        std::thread::sleep(Duration::from_millis(delay));
        child.kill().unwrap();
        child.wait().unwrap();
        kills += 1;
        acked.extend(reader.join().unwrap());
        // After each kill the store opens, verifies, and holds every
        // acknowledged event once.
        check_store(&path, &acked);
    }
    let present = check_store(&path, &acked);
    println!("sqlite crash test: {kills} kills, {} acknowledged, {present} present", acked.len());
    assert!(acked.len() >= KILLS, "too few appends were acknowledged to mean anything");
    assert!(present >= acked.len());
}
