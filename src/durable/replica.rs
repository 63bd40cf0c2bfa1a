//! The in-memory replica of a durable log that an instance decides against.

use chrono::{DateTime, Utc};

use super::{Appended, DurableLog, LogEntry, LogRecord, READ_BATCH};
use crate::consent::{CompactLedger, ConsentEvent, ConsentHistory, ConsentQuery, ConsentStore, EventView, Grants};
use crate::engine::Engine;
use crate::error::Error;
use crate::ids::SubjectId;
use crate::policy::Permission;

/// A [`CompactLedger`] kept equal to a durable log, for deciding without
/// I/O.
///
/// **What a decision has seen.** The replica has applied every record of
/// the log up to [`seen`](Self::seen), in the log's order, and nothing
/// after it. Its own appends are applied before [`append`](Self::append)
/// returns (read your writes), together with every record other writers
/// committed before them. Other instances' appends arrive when the replica
/// [catches up](Self::catch_up): call it before a decision that must see
/// every consent committed until now (a sensitive one), or on a timer or a
/// backend's notification for a bounded delay. A decision at time T has
/// seen every record committed before the last catch-up or append that
/// returned before T, and no record this replica has not applied.
///
/// Reads ([`ConsentStore`], [`ConsentHistory`]) go to the ledger alone and
/// cannot fail; opening, appending and catching up can.
#[derive(Debug)]
pub struct Replica<L> {
    log: L,
    ledger: CompactLedger,
    seen: u64,
}

impl<L: DurableLog> Replica<L> {
    /// Loads `log` into a new replica: from the log's
    /// [snapshot](DurableLog::snapshot) and the records after it when the
    /// log keeps one, else from every record.
    ///
    /// A snapshot that does not decode (torn, altered, or of another
    /// format; see [`CompactLedger::from_snapshot`]) is not used: the
    /// replica then replays the whole log instead, which takes longer but
    /// gives the same ledger.
    ///
    /// # Errors
    ///
    /// As [`DurableLog::snapshot`] and [`catch_up`](Self::catch_up).
    pub fn open(mut log: L) -> Result<Self, Error> {
        let start = match log.snapshot()? {
            Some((seq, bytes)) => CompactLedger::from_snapshot(&bytes).ok().map(|ledger| (ledger, seq)),
            None => None,
        };
        let (ledger, seen) = start.unwrap_or_default();
        Self::resume(log, ledger, seen)
    }

    /// A replica that starts from `ledger`, which holds the log's records
    /// up to `seen` (a snapshot), and reads the rest of the log.
    ///
    /// # Errors
    ///
    /// As [`catch_up`](Self::catch_up).
    pub fn resume(log: L, ledger: CompactLedger, seen: u64) -> Result<Self, Error> {
        let mut replica = Self { log, ledger, seen };
        replica.catch_up()?;
        Ok(replica)
    }

    /// Binds the replica's ledger to `engine`'s vocabulary, so that a
    /// decision reads it by number (see [`Engine::bind_ledger`]).
    pub fn bind(&mut self, engine: &Engine) {
        engine.bind_ledger(&mut self.ledger);
    }

    /// Appends one event to the log, then catches up.
    ///
    /// # Errors
    ///
    /// As [`append_all`](Self::append_all).
    pub fn append(&mut self, event: ConsentEvent, recorded: DateTime<Utc>) -> Result<Appended, Error> {
        let appended = self.append_all(std::slice::from_ref(&event), recorded)?;
        appended.first().copied().ok_or_else(|| Error::store("the store acknowledged no event".to_owned()))
    }

    /// Appends `events` to the log in one transaction (a group commit),
    /// then catches up, so that the replica has applied them when this
    /// returns.
    ///
    /// # Errors
    ///
    /// As [`DurableLog::append`], and as [`catch_up`](Self::catch_up). If
    /// the append succeeded but catching up failed, the events are in the
    /// log (a retry is idempotent) and the next catch-up applies them.
    pub fn append_all(&mut self, events: &[ConsentEvent], recorded: DateTime<Utc>) -> Result<Vec<Appended>, Error> {
        let appended = self.log.append(events, recorded)?;
        self.catch_up()?;
        Ok(appended)
    }

    /// Applies every record committed after [`seen`](Self::seen), in
    /// order, and returns how many it applied.
    ///
    /// # Errors
    ///
    /// An error of kind [`Store`](crate::ErrorKind::Store) if the log
    /// cannot be read, or a record is out of sequence or one the ledger
    /// refuses (the log was altered outside this crate); the replica then
    /// holds every record before the one that failed.
    pub fn catch_up(&mut self) -> Result<usize, Error> {
        let mut applied = 0;
        loop {
            let batch = self.log.read_after(self.seen, READ_BATCH)?;
            let full = batch.len() == READ_BATCH;
            for entry in batch {
                self.apply(entry)?;
                applied += 1;
            }
            if !full {
                return Ok(applied);
            }
        }
    }

    fn apply(&mut self, entry: LogEntry) -> Result<(), Error> {
        if entry.seq != self.seen + 1 {
            return Err(Error::store(format!("the log skips from record {} to {}", self.seen, entry.seq)));
        }
        match entry.record {
            LogRecord::Consent { event, recorded } => self
                .ledger
                .restore(event, recorded)
                .map_err(|e| Error::store(format!("record {} of the log is refused: {e}", entry.seq)))?,
            LogRecord::Erasure { subject, .. } => {
                self.ledger.forget(&subject);
            }
            LogRecord::Removed => {}
        }
        self.seen = entry.seq;
        Ok(())
    }

    /// Keeps a snapshot of the ledger in the log
    /// ([`DurableLog::save_snapshot`]), holding the records up to
    /// [`seen`](Self::seen), and returns that seq: the next
    /// [`open`](Self::open) reads only the records after it.
    ///
    /// # Errors
    ///
    /// As [`DurableLog::save_snapshot`]: of kind
    /// [`Store`](crate::ErrorKind::Store) if the log keeps no snapshots or
    /// cannot write this one.
    pub fn checkpoint(&mut self) -> Result<u64, Error> {
        self.log.save_snapshot(self.seen, &self.ledger.to_snapshot())?;
        Ok(self.seen)
    }

    /// The last record of the log this replica has applied.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// The ledger the replica decides with.
    pub fn ledger(&self) -> &CompactLedger {
        &self.ledger
    }

    /// The log.
    pub fn log(&self) -> &L {
        &self.log
    }

    /// The log, to list subjects, export or erase through it. An erasure
    /// made through it reaches this replica at its next catch-up.
    pub fn log_mut(&mut self) -> &mut L {
        &mut self.log
    }

    /// The log and the ledger, e.g. to snapshot the ledger.
    pub fn into_parts(self) -> (L, CompactLedger, u64) {
        (self.log, self.ledger, self.seen)
    }
}

impl<L> ConsentStore for Replica<L> {
    fn has_consent(&self, query: &ConsentQuery<'_>) -> bool {
        self.ledger.has_consent(query)
    }
    fn grants(&self, query: &ConsentQuery<'_>) -> Grants {
        self.ledger.grants(query)
    }
    fn permission_on(&self, subject: &SubjectId, permission: Permission, at: DateTime<Utc>) -> bool {
        self.ledger.permission_on(subject, permission, at)
    }
}

impl<L> ConsentHistory for Replica<L> {
    fn subjects(&self) -> impl Iterator<Item = SubjectId> + '_ {
        self.ledger.subjects()
    }
    fn history<'a>(&'a self, subject: &SubjectId) -> impl Iterator<Item = EventView<'a>> + 'a {
        self.ledger.history(subject)
    }
    fn histories(&self) -> impl Iterator<Item = (std::borrow::Cow<'_, str>, impl Iterator<Item = EventView<'_>>)> + '_ {
        self.ledger.histories()
    }
}
