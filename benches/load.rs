//! Opening a replica of a durable log of 1,000,000 subjects × 20 consent
//! events: by replaying every record, and from a snapshot of the ledger
//! plus the log's tail.
//!
//! The log is synthetic and in memory: it makes each record from its seq
//! when the replica reads it (six purposes, eight categories at several
//! depths, grants with and without an expiry, withdrawals, permission
//! switches, two policy versions, the subjects interleaved as a service's
//! traffic would be), so that replaying costs what applying the records
//! costs, without a database's reading and parsing. The snapshot goes
//! through a file, as a store keeps it.
//!
//! ```sh
//! cargo bench --bench load                  # 1,000,000 subjects
//! PE_LOAD_SUBJECTS=100000 cargo bench --bench load
//! ```
//!
//! It prints the replay time, the snapshot's size, the encoding and
//! decoding times (median of `PE_LOAD_RUNS`, default 3), the time to open
//! from the snapshot and a tail of `PE_LOAD_TAIL` records (default
//! 100,000), and the memory: the resident size of the replica built by
//! replaying, and of a process that opens from the snapshot (each open
//! runs in a process of its own), with its peak (`VmHWM`).
//! `PE_LOAD_KEEP=1` keeps the snapshot file and prints how to open it
//! again (`PE_LOAD_OPEN=<seq>:<path>` opens it and exits).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, missing_docs)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use privacy_engine::{
    Appended, CategoryKey, CompactLedger, ConsentChange, ConsentEvent, ConsentQualities, DurableLog, ErasureReason,
    Error, LogEntry, LogRecord, Permission, PolicyId, PurposeId, Replica, Scope, SubjectId, Uuid,
};

const EVENTS_PER_SUBJECT: u64 = 20;

const PURPOSES: [&str; 6] = ["ads", "stats", "login", "delivery", "support", "recommendations"];
const CATEGORIES: [&str; 8] = [
    "user.device",
    "user.device.device_id",
    "user.contact.phone_number",
    "user.contact.email",
    "user.location.precise",
    "user.behavior.browsing_history",
    "user.account",
    "user.financial.bank_account",
];

/// A log that makes its records from their seq, and keeps its snapshot
/// in a file.
struct SyntheticLog {
    subjects: u64,
    records: u64,
    purposes: Vec<PurposeId>,
    categories: Vec<CategoryKey>,
    policy: PolicyId,
    snapshot: PathBuf,
    snapshot_seq: Option<u64>,
}

impl SyntheticLog {
    fn new(subjects: u64) -> Self {
        Self {
            subjects,
            records: subjects * EVENTS_PER_SUBJECT,
            purposes: PURPOSES.iter().map(|p| PurposeId::from(*p)).collect(),
            categories: CATEGORIES.iter().map(|c| CategoryKey::new(*c).unwrap()).collect(),
            policy: "seed-004".into(),
            snapshot: std::env::temp_dir().join(format!("pe-load-{}.snapshot", std::process::id())),
            snapshot_seq: None,
        }
    }

    /// The record at `seq`: round `j` of subject `i`, the subjects
    /// interleaved.
    fn record(&self, seq: u64) -> LogRecord {
        let (j, i) = ((seq - 1) / self.subjects, (seq - 1) % self.subjects);
        let mix = splitmix(seq);
        let base = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let at = base + TimeDelta::days(3 * j as i64) + TimeDelta::seconds((i % 86_400) as i64);
        let at = at.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap());
        let scope = || {
            Scope::new(
                vec![self.purposes[(mix % 6) as usize].clone()],
                vec![self.categories[((mix >> 8) % 8) as usize].clone()],
            )
        };
        let change = match j % 5 {
            0..=2 => ConsentChange::Grant {
                qualities: [ConsentQualities::separate(), ConsentQualities::empty()][(mix >> 16) as usize % 2],
                scope: scope(),
                expires: (mix >> 20).is_multiple_of(4).then(|| at + TimeDelta::days(365)),
            },
            3 => ConsentChange::Withdraw { scope: scope() },
            _ => {
                let permission = [Permission::Camera, Permission::Location][(mix >> 24) as usize % 2];
                if (mix >> 28).is_multiple_of(2) {
                    ConsentChange::PermissionOn { permission }
                } else {
                    ConsentChange::PermissionOff { permission }
                }
            }
        };
        let version = if j < 10 { "2021-08-20" } else { "2023-01-01" };
        let subject = format!("user-{i:07}");
        let event = ConsentEvent::new(
            Uuid::from_u128(u128::from(mix) << 64 | u128::from(seq)),
            at,
            subject.as_str(),
            self.policy.clone(),
            version,
            change,
        );
        LogRecord::Consent { event, recorded: at.with_timezone(&Utc) + TimeDelta::seconds(1) }
    }
}

fn splitmix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl DurableLog for SyntheticLog {
    fn append(&mut self, _: &[ConsentEvent], _: DateTime<Utc>) -> Result<Vec<Appended>, Error> {
        unimplemented!("the synthetic log is read only")
    }
    fn read_after(&mut self, after: u64, limit: usize) -> Result<Vec<LogEntry>, Error> {
        let end = self.records.min(after + limit as u64);
        Ok((after + 1..=end).map(|seq| LogEntry { seq, record: self.record(seq) }).collect())
    }
    fn subjects(&mut self) -> Result<Vec<SubjectId>, Error> {
        unimplemented!()
    }
    fn subject_records(&mut self, _: &SubjectId) -> Result<Vec<LogEntry>, Error> {
        unimplemented!()
    }
    fn erase_subject(&mut self, _: &SubjectId, _: DateTime<Utc>, _: ErasureReason) -> Result<(u64, usize), Error> {
        unimplemented!()
    }
    fn snapshot(&mut self) -> Result<Option<(u64, Vec<u8>)>, Error> {
        Ok(self.snapshot_seq.map(|seq| (seq, std::fs::read(&self.snapshot).unwrap())))
    }
    fn save_snapshot(&mut self, seq: u64, bytes: &[u8]) -> Result<(), Error> {
        std::fs::write(&self.snapshot, bytes).unwrap();
        self.snapshot_seq = Some(seq);
        Ok(())
    }
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A line of /proc/self/status, in MiB.
fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1));
    kib.and_then(|k| k.parse::<f64>().ok()).unwrap_or(0.0) / 1024.0
}

/// The time this (single-threaded) process has run on a CPU, which a
/// busy machine does not inflate as it does the wall-clock time.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/schedstat").unwrap_or_default();
    Duration::from_nanos(stat.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0))
}

/// Runs `f`, returning its wall-clock and CPU times.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration, Duration) {
    let (wall, cpu) = (Instant::now(), cpu_time());
    let out = f();
    (out, wall.elapsed(), cpu_time() - cpu)
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

/// Medians of wall-clock and CPU times, in seconds.
fn medians(runs: Vec<(Duration, Duration)>) -> String {
    let wall = median(runs.iter().map(|r| r.0).collect());
    let cpu = median(runs.iter().map(|r| r.1).collect());
    format!("{:.2} s wall, {:.2} s CPU (median of {})", wall.as_secs_f64(), cpu.as_secs_f64(), runs.len())
}

fn main() {
    let subjects = env("PE_LOAD_SUBJECTS", 1_000_000);
    let runs = env("PE_LOAD_RUNS", 3).max(1);
    let tail = env("PE_LOAD_TAIL", 100_000);
    let events = subjects * EVENTS_PER_SUBJECT;
    if let Some((seen, path)) = std::env::var("PE_LOAD_OPEN").ok().as_deref().and_then(|v| v.split_once(':')) {
        return open_from_snapshot(seen.parse().unwrap(), path, subjects, tail);
    }
    println!("load: {subjects} subjects x {EVENTS_PER_SUBJECT} events = {events} records");

    let before = status_mib("VmRSS:");
    let (replica, wall, cpu) = timed(|| Replica::open(SyntheticLog::new(subjects)).unwrap());
    let mut replica = replica;
    assert_eq!(replica.ledger().len() as u64, events);
    let held = status_mib("VmRSS:") - before;
    println!(
        "replay every record: {:.2} s wall, {:.2} s CPU ({:.0} ns CPU a record); replica holds {held:.0} MiB resident",
        wall.as_secs_f64(),
        cpu.as_secs_f64(),
        cpu.as_nanos() as f64 / events as f64
    );

    let mut bytes = Vec::new();
    let encode: Vec<_> = (0..runs)
        .map(|_| {
            let (b, wall, cpu) = timed(|| replica.ledger().to_snapshot());
            bytes = b;
            (wall, cpu)
        })
        .collect();
    println!(
        "snapshot: {} bytes ({:.1} a record); encode {}",
        bytes.len(),
        bytes.len() as f64 / events as f64,
        medians(encode)
    );
    let decode: Vec<_> = (0..runs)
        .map(|_| {
            let (ledger, wall, cpu) = timed(|| CompactLedger::from_snapshot(&bytes).unwrap());
            assert_eq!(ledger.len() as u64, events);
            (wall, cpu)
        })
        .collect();
    println!("decode from memory: {}", medians(decode));
    drop(bytes);

    let seen = replica.checkpoint().unwrap();
    let (log, ledger, _) = replica.into_parts();
    drop(ledger);
    let on_disk = std::fs::metadata(&log.snapshot).map(|m| m.len()).unwrap_or(0);
    println!("snapshot file: {on_disk} bytes on disk");
    // Each open in a process of its own, so that its memory is its own.
    for _ in 0..runs {
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .env("PE_LOAD_OPEN", format!("{seen}:{}", log.snapshot.display()))
            .status()
            .unwrap();
        assert!(status.success());
    }
    if std::env::var_os("PE_LOAD_KEEP").is_some() {
        println!("kept {} (PE_LOAD_OPEN={seen}:{0})", log.snapshot.display());
    } else {
        let _ = std::fs::remove_file(&log.snapshot);
    }
}

/// One open from the snapshot file at `path`, holding the records up to
/// `seen`, and a tail of records after it, in this process.
fn open_from_snapshot(seen: u64, path: &str, subjects: u64, tail: u64) {
    let mut log = SyntheticLog::new(subjects);
    log.snapshot = path.into();
    log.snapshot_seq = Some(seen);
    log.records = seen + tail;
    let before = status_mib("VmRSS:");
    let (replica, wall, cpu) = timed(|| Replica::open(log).unwrap());
    assert_eq!(replica.seen(), seen + tail);
    println!(
        "open from the snapshot file + a tail of {tail} records: {:.2} s wall, {:.2} s CPU; \
         {:.0} MiB resident after ({:.0} MiB before), peak {:.0} MiB",
        wall.as_secs_f64(),
        cpu.as_secs_f64(),
        status_mib("VmRSS:"),
        before,
        status_mib("VmHWM:")
    );
}
