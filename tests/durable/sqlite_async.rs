//! The `spawn_blocking` pattern of `SqliteLog`'s docs, as an async service
//! would run it: appends on the blocking pool, decisions on the runtime's
//! workers reading the replica without I/O.

use std::sync::{Arc, Mutex};

use privacy_engine::{ConsentEvent, Error, Replica, SqliteLog, SubjectId};

use crate::TempDir;
use crate::conformance::{event, log_state, recorded, replica_state};

type Shared = Arc<Mutex<Replica<SqliteLog>>>;

/// The documented pattern: the append runs on the blocking pool.
async fn record(replica: Shared, event: ConsentEvent) -> Result<u64, Box<dyn std::error::Error + Send + Sync>> {
    let appended = tokio::task::spawn_blocking(move || -> Result<_, Error> {
        let mut replica = replica.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        replica.append(event, recorded())
    })
    .await??;
    Ok(appended.seq)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_on_the_blocking_pool() {
    let dir = TempDir::new("async");
    let path = dir.join("log.db");
    let replica: Shared = Arc::new(Mutex::new(Replica::open(SqliteLog::open(&path).unwrap()).unwrap()));
    let tasks: Vec<_> =
        (1..=40u128).map(|n| tokio::spawn(record(replica.clone(), event(n, &format!("s{}", n % 5))))).collect();
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(task.await.unwrap().unwrap());
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=40).collect::<Vec<_>>());
    // A refused append comes back as an error through the task.
    let mut bad = event(41, "s1");
    bad.at = (recorded() + chrono::TimeDelta::days(1)).fixed_offset();
    assert!(record(replica.clone(), bad).await.is_err());
    let replica = replica.lock().unwrap();
    assert_eq!(replica.ledger().events(&SubjectId::from("s1")).count(), 8);
    assert_eq!(replica_state(&replica), log_state(&mut SqliteLog::open(&path).unwrap()));
}
