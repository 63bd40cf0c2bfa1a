//! The PostgreSQL store (feature `postgres`) against a server that
//! `PRIVACY_ENGINE_PG` names (`.ci/postgres start` makes one): its
//! contract, crash safety under SIGKILL and `pg_ctl stop -m immediate`,
//! many writer processes, the generated histories of the differential
//! test, and the `spawn_blocking` pattern. Every test prints a line and
//! passes when `PRIVACY_ENGINE_PG` is unset. Each test works in a schema
//! of its own, dropped at its end, so they run in parallel.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use privacy_engine::{
    AuditLog, DurableLog, Engine, ErasureReason, ErrorKind, LogEntry, LogRecord, PgAuditStore, PgListener, PgLog,
    Policy, PseudonymKey, Pseudonymiser, Replica, Request, SubjectId, SubjectSeal, Uuid,
};
use serde_json::json;

use crate::conformance::{event, event_at, log_state, recorded, replica_state};
use crate::generate;

/// Held shared by every test while it uses the server, and exclusively by
/// the test that stops it.
static SERVER: RwLock<()> = RwLock::new(());

const SKIPPED: &str = "skipped: set PRIVACY_ENGINE_PG (see .ci/postgres)";

/// A schema of its own for one test, dropped with it.
struct Schema {
    base: String,
    name: String,
    _server: Option<RwLockReadGuard<'static, ()>>,
}

impl Schema {
    /// A new schema, or `None` (and the skip line printed) without a
    /// server.
    fn new(test: &str) -> Option<Self> {
        let base = base_config(test)?;
        let guard = SERVER.read().unwrap_or_else(|e| e.into_inner());
        Some(Self::create(base, test, Some(guard)))
    }

    fn create(base: String, test: &str, guard: Option<RwLockReadGuard<'static, ()>>) -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let short: String = test.chars().take(30).collect();
        let name = format!("t_{short}_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let mut admin = postgres::Client::connect(&base, postgres::NoTls).unwrap();
        admin.batch_execute(&format!("CREATE SCHEMA {name}")).unwrap();
        Self { base, name, _server: guard }
    }

    /// The connection string of a session in this schema.
    fn config(&self) -> String {
        format!("{} options='-c search_path={}'", self.base, self.name)
    }

    fn log(&self) -> PgLog {
        PgLog::connect(&self.config()).unwrap()
    }

    fn audit(&self) -> AuditLog<PgAuditStore> {
        AuditLog::open(PgAuditStore::connect(&self.config()).unwrap(), pseudonymiser()).unwrap()
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.base, postgres::NoTls) {
            let _ = admin.batch_execute(&format!("DROP SCHEMA {} CASCADE", self.name));
        }
    }
}

fn base_config(test: &str) -> Option<String> {
    match std::env::var("PRIVACY_ENGINE_PG") {
        Ok(c) if !c.is_empty() => Some(c),
        _ => {
            println!("postgres::{test}: {SKIPPED}");
            None
        }
    }
}

fn pseudonymiser() -> Pseudonymiser {
    Pseudonymiser::new(PseudonymKey::from_bytes("k1", &[7; 32]).unwrap())
}

fn seal() -> SubjectSeal {
    SubjectSeal::new(PseudonymKey::from_bytes("k1", &[7; 32]).unwrap()).unwrap()
}

/// Every record of `log`, read in batches of 500 (the crash checks read
/// long logs many times).
fn records_of(log: &mut impl DurableLog) -> Vec<LogEntry> {
    let mut out: Vec<LogEntry> = Vec::new();
    loop {
        let batch = log.read_after(out.last().map_or(0, |e| e.seq), 500).unwrap();
        if batch.is_empty() {
            return out;
        }
        out.extend(batch);
    }
}

/// How many times each event id is in `records`; panics on a gap.
fn id_counts(records: &[LogEntry]) -> HashMap<Uuid, usize> {
    let mut counts = HashMap::new();
    for (entry, seq) in records.iter().zip(1..) {
        assert_eq!(entry.seq, seq, "the log's numbering has a gap");
        if let LogRecord::Consent { event, .. } = &entry.record {
            *counts.entry(event.id).or_insert(0) += 1;
        }
    }
    counts
}

/// The [`DurableLog`] contract (`crate::conformance`) on a schema of its
/// own per test, with subject ids in clear and sealed.
macro_rules! pg_conformance {
    ($($f:ident),* $(,)?) => {
        mod conformance_clear {
            use super::*;
            $(
                #[test]
                #[cfg_attr(privacy_engine_no_pg, ignore = "needs PostgreSQL: set PRIVACY_ENGINE_PG, which `.ci/postgres start` prints")]
                fn $f() {
                    let Some(schema) = Schema::new(stringify!($f)) else { return };
                    crate::conformance::$f(|| schema.log());
                }
            )*
        }
        mod conformance_sealed {
            use super::*;
            $(
                #[test]
                #[cfg_attr(privacy_engine_no_pg, ignore = "needs PostgreSQL: set PRIVACY_ENGINE_PG, which `.ci/postgres start` prints")]
                fn $f() {
                    let Some(schema) = Schema::new(stringify!($f)) else { return };
                    crate::conformance::$f(|| {
                        let client = postgres::Client::connect(&schema.config(), postgres::NoTls).unwrap();
                        PgLog::with_seal(client, seal()).unwrap()
                    });
                }
            )*
        }
    };
}

pg_conformance!(
    ids_unique_across_subjects,
    retry_is_idempotent,
    conflicting_retry_writes_nothing,
    bad_append_writes_nothing,
    read_after_in_order_without_gaps,
    subjects_listed,
    subject_records_in_order,
    erasure_removes_and_keeps_ids,
    snapshot_round_trip,
    records_survive_reopening,
    replica_reads_its_writes,
    replica_catches_up_with_another_handle,
    replica_sees_erasure,
    replica_opens_from_its_checkpoint,
    case_steps_follow_the_rules,
    cases_listed_by_subject_and_deadline,
    cases_outlive_erasure,
    lifecycle_follows_the_rules,
    lifecycle_listed_in_time_order,
    lifecycle_outlives_erasure,
    full_export,
);

#[test]
#[cfg_attr(privacy_engine_no_pg, ignore = "needs PostgreSQL: set PRIVACY_ENGINE_PG, which `.ci/postgres start` prints")]
fn contract_retry_conflict_erasure_snapshot() {
    let Some(schema) = Schema::new("contract") else { return };
    let mut log = schema.log();
    let first = log.append(&[event(1, "alice"), event(2, "bob")], recorded()).unwrap();
    assert_eq!(first.iter().map(|a| (a.seq, a.fresh)).collect::<Vec<_>>(), [(1, true), (2, true)]);
    let mut other = schema.log();
    let again = other.append(&[event(2, "bob"), event(3, "carol")], recorded() + TimeDelta::seconds(9)).unwrap();
    assert_eq!(again.iter().map(|a| (a.seq, a.fresh)).collect::<Vec<_>>(), [(2, false), (3, true)]);
    let err = log.append(&[event(4, "dave"), event(1, "mallory")], recorded()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Store, "{err}");
    assert!(err.to_string().contains("00000000-0000-0000-0000-000000000001"), "{err}");
    let stale = event_at(5, "eve", recorded() - TimeDelta::days(4000));
    assert_eq!(log.append(&[stale], recorded()).unwrap_err().kind(), ErrorKind::Ledger);
    assert_eq!(records_of(&mut log).len(), 3, "a refused append writes nothing");
    assert_eq!(log.subjects().unwrap(), ["alice", "bob", "carol"].map(SubjectId::from));

    log.save_snapshot(3, b"snap").unwrap();
    assert_eq!(log.snapshot().unwrap(), Some((3, b"snap".to_vec())));
    assert_eq!(log.save_snapshot(4, b"x").unwrap_err().kind(), ErrorKind::Store);
    assert_eq!(log.erase_subject(&SubjectId::from("bob"), recorded(), ErasureReason::Request).unwrap(), (4, 1));
    assert_eq!(log.snapshot().unwrap(), None, "an erasure removes older snapshots");
    let erased = log.append(&[event(2, "bob")], recorded()).unwrap_err();
    assert!(erased.to_string().contains("erased"), "{erased}");
    let records = records_of(&mut other);
    assert_eq!(records.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert_eq!(records[1].record, LogRecord::Removed);
    let bob = log.subject_records(&SubjectId::from("bob")).unwrap();
    assert!(matches!(&bob[..], [LogEntry { seq: 4, record: LogRecord::Erasure { .. } }]));
    let replica = Replica::open(schema.log()).unwrap();
    assert_eq!(replica.seen(), 4);
}

#[test]
#[cfg_attr(privacy_engine_no_pg, ignore = "needs PostgreSQL: set PRIVACY_ENGINE_PG, which `.ci/postgres start` prints")]
fn sealed_store_keeps_no_subject_id_in_clear() {
    let Some(schema) = Schema::new("sealed") else { return };
    let client = || postgres::Client::connect(&schema.config(), postgres::NoTls).unwrap();
    let mut log = PgLog::with_seal(client(), seal()).unwrap();
    log.append(&[event(1, "user-4711"), event(2, "user-4712")], recorded()).unwrap();
    log.erase_subject(&SubjectId::from("user-4712"), recorded(), ErasureReason::Request).unwrap();
    assert_eq!(log.subjects().unwrap(), [SubjectId::from("user-4711")]);
    assert_eq!(log.subject_records(&SubjectId::from("user-4711")).unwrap().len(), 1);
    let dump: String = client()
        .query("SELECT coalesce(subject, '') || coalesce(body, '') FROM consent_log", &[])
        .unwrap()
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect();
    assert!(!dump.contains("user-47"), "a subject id in clear: {dump}");
    let err = PgLog::new(client()).unwrap_err();
    assert!(err.to_string().contains("sealed"), "{err}");
    let replica = Replica::open(PgLog::with_seal(client(), seal()).unwrap()).unwrap();
    assert_eq!(replica.seen(), 3);
}

#[test]
#[cfg_attr(privacy_engine_no_pg, ignore = "needs PostgreSQL: set PRIVACY_ENGINE_PG, which `.ci/postgres start` prints")]
fn newer_schema_refused_and_no_detail_in_errors() {
    let Some(schema) = Schema::new("schema") else { return };
    let mut log = schema.log();
    log.append(&[event(1, "alice")], recorded()).unwrap();
    let mut c = postgres::Client::connect(&schema.config(), postgres::NoTls).unwrap();
    // A row altered outside the crate: a duplicate seq the next append hits.
    c.execute("UPDATE privacy_engine_heads SET seq = 0 WHERE name = 'consent'", &[]).unwrap();
    let err = log.append(&[event(2, "secret-subject")], recorded()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Store);
    assert!(err.to_string().contains("SQLSTATE 23505"), "{err}");
    assert!(!err.to_string().contains("secret-subject") && !err.to_string().contains("(seq)="), "{err}");
    c.execute("UPDATE privacy_engine_meta SET value = '99' WHERE key = 'schema_version'", &[]).unwrap();
    let err = PgLog::connect(&schema.config()).unwrap_err();
    assert!(err.to_string().contains("version 99"), "{err}");
}

#[test]
#[cfg_attr(privacy_engine_no_pg, ignore = "needs PostgreSQL: set PRIVACY_ENGINE_PG, which `.ci/postgres start` prints")]
fn purge_records_keeps_held_and_recent_subjects() {
    let Some(schema) = Schema::new("purge") else { return };
    let mut log = schema.log();
    let old = recorded() - TimeDelta::days(400);
    log.append(&[event_at(1, "old", old - TimeDelta::hours(1))], old).unwrap();
    log.append(&[event_at(2, "held", old - TimeDelta::hours(1))], old).unwrap();
    log.append(&[event(3, "recent")], recorded()).unwrap();
    let purged = log.purge_records(recorded(), TimeDelta::days(365), &[SubjectId::from("held")]).unwrap();
    assert_eq!(purged, [SubjectId::from("old")]);
    assert!(matches!(log.read_after(3, 9).unwrap()[..], [LogEntry { seq: 4, record: LogRecord::Erasure { .. } }]));
    assert_eq!(log.subjects().unwrap(), ["held", "recent"].map(SubjectId::from));
    assert!(log.purge_records(recorded(), TimeDelta::days(365), &[SubjectId::from("held")]).unwrap().is_empty());
}

#[test]
#[cfg_attr(privacy_engine_no_pg, ignore = "needs PostgreSQL: set PRIVACY_ENGINE_PG, which `.ci/postgres start` prints")]
fn audit_chain_with_many_writers_verifies() {
    let Some(schema) = Schema::new("audit") else { return };
    let threads: Vec<_> = (0..4u128)
        .map(|t| {
            let config = schema.config();
            std::thread::spawn(move || {
                let mut audit = AuditLog::open(PgAuditStore::connect(&config).unwrap(), pseudonymiser()).unwrap();
                for i in 0..25 {
                    let e = event(t * 100 + i, "alice");
                    audit.record_consent(Uuid::from_u128(t * 100 + i), e.at, &e).unwrap();
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    let audit = schema.audit();
    assert!(audit.verify(None).unwrap().is_intact());
    assert_eq!(audit.head().len, 100);
    let alice = seal().lookup(&SubjectId::from("alice")).parse().unwrap();
    assert_eq!(audit.store().entries_of(&alice).unwrap().len(), 100, "a subject's entries for an export");
    let bob = seal().lookup(&SubjectId::from("bob")).parse().unwrap();
    assert!(audit.store().entries_of(&bob).unwrap().is_empty());
}

/// The test binary itself, run as a child that appends (see [`child`]).
fn spawn_child(mode: &str, config: &str, base: u128, count: u128) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "postgres::child", "--nocapture", "--test-threads=1", "--quiet"])
        .env("PE_PG_CHILD", mode)
        .env("PE_PG_CONFIG", config)
        .env("PE_PG_BASE", base.to_string())
        .env("PE_PG_COUNT", count.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// In a child: appends batches of 1 to 3 events (ids from `PE_PG_BASE`),
/// printing `ack <ids> .` once each append has returned, and an audit
/// entry per event; stops after `PE_PG_COUNT` events or at the first
/// error. Does nothing in a test run.
#[test]
#[cfg_attr(privacy_engine_no_pg, ignore = "needs PostgreSQL: set PRIVACY_ENGINE_PG, which `.ci/postgres start` prints")]
fn child() {
    let Ok(mode) = std::env::var("PE_PG_CHILD") else { return };
    let var = |k: &str| std::env::var(k).unwrap();
    let (config, base, count): (String, u128, u128) =
        (var("PE_PG_CONFIG"), var("PE_PG_BASE").parse().unwrap(), var("PE_PG_COUNT").parse().unwrap());
    let mut log = PgLog::connect(&config).unwrap();
    let mut audit = AuditLog::open(PgAuditStore::connect(&config).unwrap(), pseudonymiser()).unwrap();
    let mut out = std::io::stdout();
    let mut n = base;
    while n < base + count {
        let k = 1 + n % 3;
        let now = Utc::now();
        let events: Vec<_> = (n..n + k).map(|i| event_at(i, &format!("s{}", i % 97), now)).collect();
        if mode == "writer" && n % 5 == 0 {
            // A retry of an acknowledged batch changes nothing.
            let _ = log.append(&events, now);
        }
        if log.append(&events, now).is_err() {
            return;
        }
        let ids: Vec<String> = (n..n + k).map(|i| i.to_string()).collect();
        let _ = writeln!(out, "ack {} .", ids.join(" "));
        let _ = out.flush();
        for e in &events {
            if audit.record_consent(e.id, e.at, e).is_err() {
                return;
            }
        }
        n += k;
    }
}

/// The ids a child acknowledged, from its output lines.
fn acked(lines: &[String]) -> Vec<u128> {
    lines
        .iter()
        .filter(|l| l.starts_with("ack ") && l.ends_with(" ."))
        .flat_map(|l| l.split(' ').filter_map(|w| w.parse::<u128>().ok()))
        .collect()
}

/// Lines of `child`'s output, as they come.
fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// A small xorshift generator: random moments without a dependency.
struct Rng(u64);

impl Rng {
    fn new() -> Self {
        Self(Utc::now().timestamp_subsec_nanos() as u64 | 1)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Runs a child appending and calls `crash` at a random moment after its
/// first acknowledgement; returns the ids it acknowledged.
fn crash_round(config: &str, base: u128, rng: &mut Rng, crash: impl FnOnce(&mut Child)) -> Vec<u128> {
    let mut child = spawn_child("crash", config, base, u128::MAX / 4);
    let rx = lines_of(&mut child);
    let mut lines = vec![rx.recv_timeout(Duration::from_secs(30)).expect("the child acknowledged nothing")];
    std::thread::sleep(Duration::from_millis(rng.below(300)));
    crash(&mut child);
    let _ = child.kill();
    let _ = child.wait();
    lines.extend(rx.iter());
    acked(&lines)
}

/// After a crash: the log reopens into a replica, every acknowledged id is
/// present exactly once, and the audit chain verifies. Returns how many
/// acknowledged ids were checked.
fn check_after_crash(schema: &Schema, acked: &[u128]) -> usize {
    let mut log = schema.log();
    let counts = id_counts(&records_of(&mut log));
    for id in acked {
        assert_eq!(counts.get(&Uuid::from_u128(*id)), Some(&1), "acknowledged id {id}");
    }
    assert!(counts.values().all(|&n| n == 1), "an id twice");
    Replica::open(log).unwrap();
    let audit = schema.audit();
    assert!(audit.verify(None).unwrap().is_intact());
    acked.len()
}

#[test]
#[cfg_attr(privacy_engine_no_pg, ignore = "needs PostgreSQL: set PRIVACY_ENGINE_PG, which `.ci/postgres start` prints")]
fn crash_sigkill_loses_and_doubles_nothing() {
    let Some(schema) = Schema::new("crash") else { return };
    let mut rng = Rng::new();
    let (kills, mut acknowledged) = (50, 0);
    for round in 0..kills {
        let ids = crash_round(&schema.config(), round as u128 * 1_000_000, &mut rng, |c| {
            let _ = c.kill();
        });
        acknowledged += check_after_crash(&schema, &ids);
    }
    let present = id_counts(&records_of(&mut schema.log())).len();
    println!(
        "postgres crash: {kills} SIGKILLs, {acknowledged} acknowledged, all present once ({present} events in the log)"
    );
}

#[test]
#[cfg_attr(privacy_engine_no_pg, ignore = "needs PostgreSQL: set PRIVACY_ENGINE_PG, which `.ci/postgres start` prints")]
fn crash_server_stopped_immediately_loses_nothing() {
    let Some(base) = base_config("crash_server") else { return };
    let vars = ["PRIVACY_ENGINE_PG_DATA", "PRIVACY_ENGINE_PG_CTL"].map(|k| std::env::var(k).ok());
    let [Some(data), Some(pg_ctl)] = vars else {
        println!(
            "postgres::crash_server: skipped: set PRIVACY_ENGINE_PG_DATA and PRIVACY_ENGINE_PG_CTL (see .ci/postgres)"
        );
        return;
    };
    let user = std::env::var("PRIVACY_ENGINE_PG_USER").ok();
    let ctl = |args: &[&str]| {
        let mut cmd = match &user {
            Some(u) => {
                let mut c = Command::new("runuser");
                c.args(["-u", u, "--", &pg_ctl]);
                c
            }
            None => Command::new(&pg_ctl),
        };
        let log = format!("{data}/../server.log");
        let status = cmd.args(["-D", &data, "-l", &log]).args(args).stdout(Stdio::null()).status().unwrap();
        assert!(status.success(), "pg_ctl {args:?}");
    };
    // Alone on the server: no other test's connection is cut.
    let _alone = SERVER.write().unwrap_or_else(|e| e.into_inner());
    let schema = Schema::create(base, "crash_server", None);
    let mut rng = Rng::new();
    let (stops, mut acknowledged) = (10, 0);
    for round in 0..stops {
        let ids = crash_round(&schema.config(), round as u128 * 1_000_000, &mut rng, |_| {
            ctl(&["-m", "immediate", "-w", "stop"]);
        });
        ctl(&["-w", "start"]);
        acknowledged += check_after_crash(&schema, &ids);
    }
    println!("postgres crash: {stops} immediate server stops, {acknowledged} acknowledged, all present once");
}

/// A decision of seed-004 about `subject`, read from `replica`.
fn decide(engine: &Engine, replica: &Replica<PgLog>, subject: &str) {
    let request = Request::from_json(
        &json!({"action": "collect", "subject": {"id": subject, "age": 30},
            "categories": ["user.contact.phone_number"], "purpose": "registration_login",
            "at": Utc::now().fixed_offset().to_rfc3339()})
        .to_string(),
    )
    .unwrap();
    let _ = engine.evaluate(&request, replica);
}

fn seed_004() -> Engine {
    let json = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/policies/seed-004.json"));
    Engine::new(Policy::from_json(&json.unwrap()).unwrap()).unwrap()
}

#[test]
#[cfg_attr(privacy_engine_no_pg, ignore = "needs PostgreSQL: set PRIVACY_ENGINE_PG, which `.ci/postgres start` prints")]
fn concurrent_writer_processes_and_deciding_readers() {
    let Some(schema) = Schema::new("concurrent") else { return };
    let (writers, per_writer) = (4u128, 300u128);
    drop(schema.log()); // the schema, before the writers race to make it
    let mut children: Vec<Child> =
        (0..writers).map(|w| spawn_child("writer", &schema.config(), w * 1_000_000, per_writer)).collect();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (config, done) = (schema.config(), done.clone());
            std::thread::spawn(move || {
                let engine = seed_004();
                let mut replica = Replica::open(PgLog::connect(&config).unwrap()).unwrap();
                let mut listener = PgListener::connect(&config).unwrap();
                let mut decisions = 0;
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    listener.wait(Duration::from_millis(20)).unwrap();
                    replica.catch_up().unwrap();
                    for s in 0..97 {
                        decide(&engine, &replica, &format!("s{s}"));
                        decisions += 1;
                    }
                }
                (replica, decisions)
            })
        })
        .collect();
    let mut acknowledged = 0;
    for child in &mut children {
        let rx = lines_of(child);
        acknowledged += acked(&rx.iter().collect::<Vec<_>>()).len();
        assert!(child.wait().unwrap().success());
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let records = records_of(&mut schema.log());
    let counts = id_counts(&records);
    assert_eq!(acknowledged as u128, writers * per_writer);
    assert_eq!(counts.len() as u128, writers * per_writer, "lost or extra events");
    assert!(counts.values().all(|&n| n == 1), "an event twice");
    let mut decisions = 0;
    for reader in readers {
        let (mut replica, d) = reader.join().unwrap();
        replica.catch_up().unwrap();
        assert_eq!(replica.seen(), records.len() as u64);
        assert_eq!(replica_state(&replica), log_state(&mut schema.log()));
        decisions += d;
    }
    let audit = schema.audit();
    assert!(audit.verify(None).unwrap().is_intact());
    assert_eq!(audit.head().len as u128, writers * per_writer);
    println!(
        "postgres concurrency: {writers} writer processes, {acknowledged} events, {decisions} decisions by 2 readers"
    );
}

#[test]
#[cfg_attr(privacy_engine_no_pg, ignore = "needs PostgreSQL: set PRIVACY_ENGINE_PG, which `.ci/postgres start` prints")]
fn propagation_by_notification() {
    let Some(schema) = Schema::new("notify") else { return };
    let mut reader = Replica::open(schema.log()).unwrap();
    let mut listener = PgListener::connect(&schema.config()).unwrap();
    let mut writer = Replica::open(schema.log()).unwrap();
    assert_eq!(listener.wait(Duration::from_millis(10)).unwrap(), None, "other schemas' appends are not news");
    let sent = Instant::now();
    writer.append(event(1, "alice"), recorded()).unwrap();
    assert_eq!(writer.seen(), 1, "read your writes");
    assert_eq!(listener.wait(Duration::from_secs(5)).unwrap(), Some(1));
    assert_eq!(reader.catch_up().unwrap(), 1);
    assert!(sent.elapsed() < Duration::from_secs(5));
}

#[test]
#[cfg_attr(privacy_engine_no_pg, ignore = "needs PostgreSQL: set PRIVACY_ENGINE_PG, which `.ci/postgres start` prints")]
fn generated_histories_decide_as_in_memory() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let Some(base) = base_config("differential") else { return };
    drop(base);
    let mut runner = TestRunner::new(Config { cases: 32, ..Config::default() });
    runner
        .run(&generate::case(), |(policy, events, requests)| {
            let schema = Schema::new("differential").unwrap();
            let engine = Engine::new(policy).unwrap();
            let mut memory = privacy_engine::InMemoryLedger::new();
            let mut replica = Replica::open(schema.log()).unwrap();
            for e in events {
                let recorded = e.at.with_timezone(&Utc);
                let in_memory = memory.append(e.clone());
                let durable = replica.append(e, recorded);
                prop_assert_eq!(in_memory.is_ok(), durable.is_ok());
            }
            replica.bind(&engine);
            for r in &requests {
                prop_assert_eq!(engine.evaluate(r, &memory), engine.evaluate(r, &replica));
            }
            Ok(())
        })
        .unwrap();
}

#[test]
#[cfg_attr(privacy_engine_no_pg, ignore = "needs PostgreSQL: set PRIVACY_ENGINE_PG, which `.ci/postgres start` prints")]
fn async_service_appends_through_spawn_blocking() {
    let Some(schema) = Schema::new("async") else { return };
    let config = schema.config();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let seen = rt.block_on(async move {
        let replica = tokio::task::spawn_blocking(move || Replica::open(PgLog::connect(&config).unwrap()))
            .await
            .unwrap()
            .unwrap();
        let shared = std::sync::Arc::new(std::sync::Mutex::new(replica));
        let tasks: Vec<_> = (0..8u128)
            .map(|i| {
                let shared = shared.clone();
                tokio::task::spawn_blocking(move || shared.lock().unwrap().append(event(i + 1, "alice"), recorded()))
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        // A tick of the runtime is not held up by the store meanwhile.
        tokio::time::sleep(Duration::from_millis(1)).await;
        let seen = shared.lock().unwrap().seen();
        // The client blocks on its own runtime, when dropped too: drop it
        // off the runtime's workers.
        tokio::task::spawn_blocking(move || drop(shared)).await.unwrap();
        seen
    });
    assert_eq!(seen, 8);
}

#[test]
#[cfg_attr(privacy_engine_no_pg, ignore = "needs PostgreSQL: set PRIVACY_ENGINE_PG, which `.ci/postgres start` prints")]
fn a_version_1_schema_is_migrated_to_cases() {
    use crate::conformance::{case_id, may, received};
    use privacy_engine::CaseStore;
    let Some(schema) = Schema::new("migrate_v1") else { return };
    // A version 1 schema: the log, without the cases' tables.
    let mut log = schema.log();
    log.append(&[event(1, "alice")], recorded()).unwrap();
    log.client()
        .batch_execute(
            "DROP TABLE lifecycle_events; DROP TABLE rights_case_steps; DROP TABLE rights_cases; \
             UPDATE privacy_engine_meta SET value = '1' WHERE key = 'schema_version'",
        )
        .unwrap();
    drop(log);
    let mut log = schema.log();
    let version: String = log
        .client()
        .query_one("SELECT value FROM privacy_engine_meta WHERE key = 'schema_version'", &[])
        .unwrap()
        .get(0);
    assert_eq!(version, "3");
    assert_eq!(log_state(&mut log).len(), 1);
    log.record_case(&received(1, "alice", 0, 22)).unwrap();
    assert_eq!(log.overdue(may(23), 10).unwrap()[0].id, case_id(1));
}

#[test]
#[cfg_attr(privacy_engine_no_pg, ignore = "needs PostgreSQL: set PRIVACY_ENGINE_PG, which `.ci/postgres start` prints")]
fn a_version_2_schema_is_migrated_to_lifecycle_events() {
    use crate::conformance::{case_id, life, received};
    use privacy_engine::{CaseStore, LifecycleChange, LifecycleStore};
    let Some(schema) = Schema::new("migrate_v2") else { return };
    // A version 2 schema: the log and a case, without the lifecycle table.
    let mut log = schema.log();
    log.append(&[event(1, "alice")], recorded()).unwrap();
    log.record_case(&received(1, "alice", 0, 22)).unwrap();
    log.client()
        .batch_execute(
            "DROP TABLE lifecycle_events; UPDATE privacy_engine_meta SET value = '2' WHERE key = 'schema_version'",
        )
        .unwrap();
    drop(log);
    let mut log = schema.log();
    let version: String = log
        .client()
        .query_one("SELECT value FROM privacy_engine_meta WHERE key = 'schema_version'", &[])
        .unwrap()
        .get(0);
    assert_eq!(version, "3");
    assert_eq!(log.case(case_id(1)).unwrap().unwrap().id, case_id(1));
    let cancel = life(1, "alice", LifecycleChange::Cancelled, 1);
    log.record_lifecycle(&cancel).unwrap();
    assert_eq!(schema.log().lifecycle_of(&SubjectId::from("alice")).unwrap(), [cancel]);
}
