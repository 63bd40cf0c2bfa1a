//! Many writers: four writer processes append to one SQLite file while a
//! replica in this process catches up and decides; afterwards every replica
//! equals the stored log, the audit chain verifies, and no event is lost
//! or doubled.

use std::time::Duration;

use chrono::DateTime;
use privacy_engine::{Action, CategoryKey, Engine, Policy, Replica, Request, SqliteLog, Subject};

use crate::TempDir;
use crate::conformance::{log_state, replica_state};
use crate::sqlite_crash::{check_store, read_acks, spawn_writer};

const WRITERS: usize = 4;
const EVENTS: usize = 150;

#[test]
fn four_writer_processes_and_a_deciding_reader() {
    let dir = TempDir::new("writers");
    let path = dir.join("log.db");
    let engine =
        Engine::new(Policy::from_json(include_str!("../../examples/policies/seed-004.json")).unwrap()).unwrap();
    let mut reader = Replica::open(SqliteLog::open(&path).unwrap()).unwrap();
    reader.bind(&engine);
    let mut writers: Vec<_> = (0..WRITERS)
        .map(|_| {
            let mut child = spawn_writer(&path, Some(EVENTS));
            let (_, acks) = read_acks(&mut child);
            (child, acks)
        })
        .collect();
    let at = DateTime::parse_from_rfc3339("2024-05-01T10:00:00+08:00").unwrap();
    let (mut decisions, mut catch_ups) = (0, 0);
    while writers.iter_mut().any(|(child, _)| child.try_wait().unwrap().is_none()) {
        reader.log_mut().wait_for_change(Duration::from_millis(20)).unwrap();
        reader.catch_up().unwrap();
        catch_ups += 1;
        for s in 0..37 {
            let request = Request::new(
                Action::Collect,
                Subject::new(format!("s{s}")).age(30),
                vec![CategoryKey::new("user.account.nickname").unwrap()],
                at,
            )
            .purpose("account_binding");
            let _ = engine.evaluate(&request, &reader);
            decisions += 1;
        }
    }
    let mut acked = Vec::new();
    for (mut child, acks) in writers {
        assert!(child.wait().unwrap().success());
        acked.extend(acks.join().unwrap());
    }
    assert_eq!(acked.len(), WRITERS * EVENTS);
    let present = check_store(&path, &acked);
    assert_eq!(present, acked.len());
    reader.catch_up().unwrap();
    let stored = log_state(&mut SqliteLog::open(&path).unwrap());
    assert_eq!(replica_state(&reader), stored);
    assert_eq!(replica_state(&Replica::open(SqliteLog::open(&path).unwrap()).unwrap()), stored);
    println!(
        "sqlite writers: {WRITERS} processes, {} events, {catch_ups} catch-ups and {decisions} decisions meanwhile",
        acked.len()
    );
}
