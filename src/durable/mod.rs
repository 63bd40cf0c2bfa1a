//! Durable consent storage: the [`DurableLog`] a backend implements (one
//! numbered sequence of records shared by every instance of a service),
//! the checks every backend makes before it writes, and the [`Replica`] an
//! instance decides against.
//!
//! The backends live behind cargo features: `sqlite` (embedded, one file,
//! SQLite compiled in) and `postgres` (shared by many instances). This
//! module does no I/O itself: a backend does, and the replica only calls
//! it when it is opened, appended to or asked to catch up, never inside a
//! decision.

#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod cases;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod lifecycle;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
mod replica;
mod seal;
#[cfg(feature = "sqlite")]
mod sqlite;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::consent::{ConsentEvent, check_event, check_recorded};
use crate::error::Error;
use crate::ids::SubjectId;

pub use memory::InMemoryLog;
#[cfg(feature = "postgres")]
pub use postgres::{PgAuditStore, PgListener, PgLog};
pub use replica::Replica;
pub use seal::SubjectSeal;
#[cfg(feature = "sqlite")]
pub use sqlite::{SQLITE_SCHEMA_VERSION, SqliteAuditStore, SqliteLog, SqliteOptions};

/// How many records a replica reads from its log in one call when it loads
/// or catches up: the memory a read takes is bounded by this many records.
pub const READ_BATCH: usize = 10_000;

/// The most events one append may carry: a group commit larger than this
/// is split by the caller.
pub const MAX_APPEND_BATCH: usize = 10_000;

/// One record of a durable log with its place in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// Its place: the log's records are numbered 1, 2, 3, … in the order
    /// they were committed, with no gaps, across every writer.
    pub seq: u64,
    /// What it records.
    pub record: LogRecord,
}

/// What a durable log records. More kinds (lifecycle events, rights
/// requests) may follow; a reader that meets one it does not know reports
/// it instead of skipping it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
#[expect(
    clippy::large_enum_variant,
    reason = "a record is read, applied and dropped; a box would cost an allocation each"
)]
pub enum LogRecord {
    /// A consent event, with the time the service recorded it.
    Consent {
        /// The event, as it was appended.
        event: ConsentEvent,
        /// When it was recorded (the caller's clock).
        recorded: DateTime<Utc>,
    },
    /// Every consent event of a subject was removed from the log at `at`:
    /// replicas drop the subject's history when they read this record.
    Erasure {
        /// Whose events were removed.
        subject: SubjectId,
        /// When.
        at: DateTime<Utc>,
        /// Why.
        reason: ErasureReason,
    },
    /// The place of a consent event that a later
    /// [`Erasure`](Self::Erasure) removed: it holds nothing, and is kept so
    /// that the log's numbering has no gaps (a reader that finds a gap
    /// knows a record is missing, not erased).
    Removed,
}

/// Why a subject's consent events were removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErasureReason {
    /// The person asked for erasure (PIPL art. 47, GDPR art. 17).
    Request,
    /// The records' own retention period ended and no legal hold kept them.
    Retention,
}

/// What an append did with one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Appended {
    /// The event's place in the log.
    pub seq: u64,
    /// `false` when the log already held this very event (the append was a
    /// retry of one that had been committed): nothing was written for it.
    pub fresh: bool,
}

/// A durable, shared log of consent records: what a backend implements.
///
/// Every method may fail (the store is I/O); none is called inside a
/// decision. Writes are atomic: an append either commits every event it
/// was given or none.
pub trait DurableLog {
    /// Appends `events`, recorded at `recorded`, in one transaction, and
    /// returns what happened to each, in order.
    ///
    /// An event whose id the log already holds with the same content is not
    /// written again (an idempotent retry); one whose id it holds with other
    /// content, or whose id was erased, refuses the whole append. So does an
    /// event that [`check_append`] refuses.
    ///
    /// # Errors
    ///
    /// An error of kind [`Store`](crate::ErrorKind::Store) if the store
    /// cannot be written or refuses an id, of kind
    /// [`Ledger`](crate::ErrorKind::Ledger) for an event `check_append`
    /// refuses; nothing is written then.
    fn append(&mut self, events: &[ConsentEvent], recorded: DateTime<Utc>) -> Result<Vec<Appended>, Error>;

    /// The records after `after`, in order, at most `limit` of them.
    ///
    /// # Errors
    ///
    /// An error of kind [`Store`](crate::ErrorKind::Store) if the store
    /// cannot be read or a record cannot be decoded (its seq is named).
    fn read_after(&mut self, after: u64, limit: usize) -> Result<Vec<LogEntry>, Error>;

    /// Every subject the log holds consent events of.
    ///
    /// # Errors
    ///
    /// As [`read_after`](Self::read_after).
    fn subjects(&mut self) -> Result<Vec<SubjectId>, Error>;

    /// Every record about `subject`, in order (what an access or
    /// portability request exports).
    ///
    /// # Errors
    ///
    /// As [`read_after`](Self::read_after).
    fn subject_records(&mut self, subject: &SubjectId) -> Result<Vec<LogEntry>, Error>;

    /// The [`Erasure`](LogRecord::Erasure) records about `subject`, in
    /// order: what an export over a [`Replica`] reads from the log (the
    /// replica holds the consent events). The default filters
    /// [`subject_records`](Self::subject_records); a backend that can read
    /// them alone overrides it.
    ///
    /// # Errors
    ///
    /// As [`read_after`](Self::read_after).
    fn subject_erasures(&mut self, subject: &SubjectId) -> Result<Vec<LogEntry>, Error> {
        let mut records = self.subject_records(subject)?;
        records.retain(|r| matches!(r.record, LogRecord::Erasure { .. }));
        Ok(records)
    }

    /// Removes every consent event of `subject`, keeping their ids (so that
    /// a retried append cannot bring one back) and their places as
    /// [`Removed`](LogRecord::Removed) records, and appends an
    /// [`Erasure`](LogRecord::Erasure) record; returns its seq and how many
    /// events were removed.
    ///
    /// # Errors
    ///
    /// As [`append`](Self::append).
    fn erase_subject(
        &mut self,
        subject: &SubjectId,
        at: DateTime<Utc>,
        reason: ErasureReason,
    ) -> Result<(u64, usize), Error>;

    /// The newest snapshot of the replica's ledger the log keeps, with the
    /// seq it holds the records up to; `None` if it keeps none. A replica
    /// loads it and reads only the records after it.
    ///
    /// # Errors
    ///
    /// As [`read_after`](Self::read_after).
    fn snapshot(&mut self) -> Result<Option<(u64, Vec<u8>)>, Error> {
        Ok(None)
    }

    /// Keeps `bytes`, a snapshot of a ledger holding the records up to
    /// `seq`, in place of any older one. An erasure removes every snapshot
    /// taken before it (they hold the erased events).
    ///
    /// # Errors
    ///
    /// An error of kind [`Store`](crate::ErrorKind::Store) if the log
    /// keeps no snapshots (the default) or cannot write it.
    fn save_snapshot(&mut self, seq: u64, bytes: &[u8]) -> Result<(), Error> {
        let _ = (seq, bytes);
        Err(Error::store("this log keeps no snapshots".to_owned()))
    }
}

impl<L: DurableLog + ?Sized> DurableLog for &mut L {
    fn append(&mut self, events: &[ConsentEvent], recorded: DateTime<Utc>) -> Result<Vec<Appended>, Error> {
        (**self).append(events, recorded)
    }
    fn read_after(&mut self, after: u64, limit: usize) -> Result<Vec<LogEntry>, Error> {
        (**self).read_after(after, limit)
    }
    fn subjects(&mut self) -> Result<Vec<SubjectId>, Error> {
        (**self).subjects()
    }
    fn subject_records(&mut self, subject: &SubjectId) -> Result<Vec<LogEntry>, Error> {
        (**self).subject_records(subject)
    }
    fn subject_erasures(&mut self, subject: &SubjectId) -> Result<Vec<LogEntry>, Error> {
        (**self).subject_erasures(subject)
    }
    fn erase_subject(
        &mut self,
        subject: &SubjectId,
        at: DateTime<Utc>,
        reason: ErasureReason,
    ) -> Result<(u64, usize), Error> {
        (**self).erase_subject(subject, at, reason)
    }
    fn snapshot(&mut self) -> Result<Option<(u64, Vec<u8>)>, Error> {
        (**self).snapshot()
    }
    fn save_snapshot(&mut self, seq: u64, bytes: &[u8]) -> Result<(), Error> {
        (**self).save_snapshot(seq, bytes)
    }
}

/// What every backend checks before it writes an append: at least one and
/// at most [`MAX_APPEND_BATCH`] events, each well formed (as the in-memory
/// ledgers check it) and dated within the consent horizon of `recorded`,
/// and no id twice among them.
///
/// # Errors
///
/// An error of kind [`Ledger`](crate::ErrorKind::Ledger) naming the first
/// event refused.
pub fn check_append(events: &[ConsentEvent], recorded: DateTime<Utc>) -> Result<(), Error> {
    if events.is_empty() || events.len() > MAX_APPEND_BATCH {
        return Err(Error::ledger(format!(
            "an append carries from 1 to {MAX_APPEND_BATCH} events, not {}",
            events.len()
        )));
    }
    let mut ids = std::collections::HashSet::with_capacity(events.len());
    for event in events {
        check_event(event)?;
        check_recorded(event, recorded)?;
        if !ids.insert(event.id) {
            return Err(Error::ledger(format!("consent event id `{}` twice in one append", event.id)));
        }
    }
    Ok(())
}

/// Refuses a snapshot up to `seq` of a log whose last record is `last` and
/// whose last erasure is at `erased_at`: one past the end, or one taken
/// before an erasure (it holds erased events).
pub(crate) fn check_snapshot(seq: u64, last: u64, erased_at: u64) -> Result<(), Error> {
    if seq > last {
        return Err(Error::store(format!("a snapshot up to record {seq} is past the log's end, record {last}")));
    }
    if seq < erased_at {
        return Err(Error::store(format!(
            "a snapshot up to record {seq} was taken before the erasure at record {erased_at}"
        )));
    }
    Ok(())
}
