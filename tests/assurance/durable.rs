//! The durable store decides as the in-memory ledger does: the generated
//! histories of the differential test, appended to a SQLite log (in groups
//! where their dates allow one commit) and read back through a replica,
//! give the same decisions as an [`InMemoryLedger`](privacy_engine::InMemoryLedger)
//! of the same events (feature `sqlite`).

use chrono::{DateTime, Utc};
use privacy_engine::{ConsentEvent, Engine, Replica, SqliteLog, check_append};
use proptest::prelude::*;

use crate::differential::ledger_of;
use crate::generate;

/// A file in the system's temporary directory, removed when dropped.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new() -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        Self(std::env::temp_dir().join(format!("pe-assurance-durable-{}-{n}.db", std::process::id())))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

/// Appends `events` in groups of up to three, each recorded at its latest
/// event's time; a group the horizon refuses goes one event at a time.
fn append_grouped(replica: &mut Replica<SqliteLog>, events: &[ConsentEvent]) {
    for group in events.chunks(3) {
        let recorded: DateTime<Utc> = group.iter().map(|e| e.at.to_utc()).max().unwrap();
        if check_append(group, recorded).is_ok() {
            replica.append_all(group, recorded).unwrap();
        } else {
            for e in group {
                replica.append(e.clone(), e.at.to_utc()).unwrap();
            }
        }
    }
}

proptest! {
    #![proptest_config(crate::property_config(module_path!()))]

    #[test]
    fn sqlite_replica_decides_as_the_in_memory_ledger(
        (policy, events, requests) in generate::case(),
    ) {
        let engine = Engine::new(policy).unwrap();
        let memory = ledger_of(&events);
        let file = TempFile::new();
        let mut writer = Replica::open(SqliteLog::open(&file.0).unwrap()).unwrap();
        append_grouped(&mut writer, &events);
        // A second replica, loaded from the file alone.
        let mut reader = Replica::open(SqliteLog::open(&file.0).unwrap()).unwrap();
        for req in &requests {
            let want = engine.evaluate(req, &memory);
            prop_assert_eq!(&engine.evaluate(req, &writer), &want);
            prop_assert_eq!(&engine.evaluate(req, &reader), &want);
        }
        reader.bind(&engine);
        for req in &requests {
            prop_assert_eq!(engine.evaluate(req, &reader), engine.evaluate(req, &memory));
        }
    }
}
