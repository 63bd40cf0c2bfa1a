//! Durable consent storage through the public API only: every backend
//! against the [`DurableLog`] contract (`conformance`, the same functions
//! for each), and the SQLite store's own promises (feature `sqlite`): what
//! a copy of the file reveals, crash safety under SIGKILL, many writer
//! processes, the generated histories of the differential test, and the
//! `spawn_blocking` pattern of an async service.
//!
//! `cargo test --test durable` runs the in-memory log;
//! `cargo test --features sqlite --test durable` adds SQLite.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

pub mod conformance;
pub mod export;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "sqlite")]
mod sqlite_async;
#[cfg(feature = "sqlite")]
mod sqlite_crash;
#[cfg(feature = "sqlite")]
mod sqlite_writers;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use chrono::NaiveDate;
use chrono::{DateTime, Utc};
use privacy_engine::{
    Appended, CaseEvent, CaseId, CaseStore, ConsentEvent, DurableLog, ErasureReason, Error, InMemoryLog,
    LifecycleEvent, LifecycleStore, LogEntry, RightsCase, SubjectId,
};

/// One [`InMemoryLog`] behind handles that share it, as the handles of a
/// database share its file: what the conformance functions open twice.
#[derive(Clone, Debug, Default)]
pub struct SharedMemory(Rc<RefCell<InMemoryLog>>);

impl DurableLog for SharedMemory {
    fn append(&mut self, events: &[ConsentEvent], recorded: DateTime<Utc>) -> Result<Vec<Appended>, Error> {
        self.0.borrow_mut().append(events, recorded)
    }
    fn read_after(&mut self, after: u64, limit: usize) -> Result<Vec<LogEntry>, Error> {
        self.0.borrow_mut().read_after(after, limit)
    }
    fn subjects(&mut self) -> Result<Vec<SubjectId>, Error> {
        self.0.borrow_mut().subjects()
    }
    fn subject_records(&mut self, subject: &SubjectId) -> Result<Vec<LogEntry>, Error> {
        self.0.borrow_mut().subject_records(subject)
    }
    fn erase_subject(
        &mut self,
        subject: &SubjectId,
        at: DateTime<Utc>,
        reason: ErasureReason,
    ) -> Result<(u64, usize), Error> {
        self.0.borrow_mut().erase_subject(subject, at, reason)
    }
    fn snapshot(&mut self) -> Result<Option<(u64, Vec<u8>)>, Error> {
        self.0.borrow_mut().snapshot()
    }
    fn save_snapshot(&mut self, seq: u64, bytes: &[u8]) -> Result<(), Error> {
        self.0.borrow_mut().save_snapshot(seq, bytes)
    }
}

impl CaseStore for SharedMemory {
    fn record_case(&mut self, event: &CaseEvent) -> Result<(), Error> {
        self.0.borrow_mut().record_case(event)
    }
    fn case(&mut self, id: CaseId) -> Result<Option<RightsCase>, Error> {
        self.0.borrow_mut().case(id)
    }
    fn cases_of(&mut self, subject: &SubjectId) -> Result<Vec<RightsCase>, Error> {
        self.0.borrow_mut().cases_of(subject)
    }
    fn overdue(&mut self, today: NaiveDate, limit: usize) -> Result<Vec<RightsCase>, Error> {
        self.0.borrow_mut().overdue(today, limit)
    }
}

impl LifecycleStore for SharedMemory {
    fn record_lifecycle(&mut self, event: &LifecycleEvent) -> Result<(), Error> {
        self.0.borrow_mut().record_lifecycle(event)
    }
    fn lifecycle_of(&mut self, subject: &SubjectId) -> Result<Vec<LifecycleEvent>, Error> {
        self.0.borrow_mut().lifecycle_of(subject)
    }
}

/// A fresh in-memory store: every call of the returned function is a new
/// handle on it.
fn memory_store() -> impl FnMut() -> SharedMemory {
    let shared = SharedMemory::default();
    move || shared.clone()
}

crate::conformance_tests!(memory, crate::memory_store());

/// A directory under the system's temporary directory, removed when
/// dropped.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new, empty directory named after `name`, the process and a counter.
    pub fn new(name: &str) -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let dir = std::env::temp_dir().join(format!("pe-durable-{name}-{}-{n}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    /// A path in it.
    pub fn join(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(feature = "postgres")]
mod postgres;

// The differential test's generator (and the model it draws grounds from),
// for the generated histories the durable stores replay.
#[cfg(feature = "postgres")]
#[allow(dead_code, unreachable_pub)]
#[path = "../assurance/generate.rs"]
mod generate;
#[cfg(feature = "postgres")]
#[allow(dead_code, unreachable_pub)]
#[path = "../assurance/reference.rs"]
mod reference;
