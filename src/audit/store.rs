//! Where audit records live: the [`AuditStore`] trait and its in-memory
//! implementation.

use std::ops::ControlFlow;

use crate::error::Error;

/// Storage for the audit log: an append-only sequence of records, each the
/// canonical JSON of one entry.
///
/// A store keeps bytes, not entries, so that verification sees exactly what
/// was stored.
pub trait AuditStore {
    /// Appends one record. The record holds no line break.
    ///
    /// # Errors
    ///
    /// An error of kind [`Audit`](crate::ErrorKind::Audit) if the record
    /// could not be stored; the store is then as it was, or ends in a torn
    /// record that [`load`](Self::load) reports.
    fn append(&mut self, record: &[u8]) -> Result<(), Error>;

    /// Appends the record `build` makes from the store's last record, as one
    /// step no other writer can come between: what a store shared by many
    /// writers implements, so that each entry chains to the one truly
    /// before it (a database does it in one transaction that locks the
    /// log's tail).
    ///
    /// `build` is given the last stored record ([`Tail::Last`]), or
    /// [`Tail::Empty`]. The default is for a store with one writer, whose log already
    /// knows the last record: it passes [`Tail::Unknown`] and appends what
    /// `build` returns.
    ///
    /// # Errors
    ///
    /// What `build` returns, or as [`append`](Self::append); nothing is
    /// stored then.
    fn append_chained(&mut self, build: &mut dyn FnMut(Tail<'_>) -> Result<Vec<u8>, Error>) -> Result<Vec<u8>, Error> {
        let record = build(Tail::Unknown)?;
        self.append(&record)?;
        Ok(record)
    }

    /// Every complete record in order, and a torn final record if there is
    /// one.
    ///
    /// # Errors
    ///
    /// An error of kind [`Audit`](crate::ErrorKind::Audit) if the store
    /// cannot be read.
    fn load(&self) -> Result<StoredRecords, Error>;

    /// Passes every complete record in order to `visit`, one at a time,
    /// until it answers `Break`; then the torn final record if there is one
    /// (none when `visit` stopped early).
    ///
    /// Opening and verifying a log use this, so that a store that reads its
    /// records one at a time ([`FileAuditStore`](crate::FileAuditStore)
    /// does) keeps memory bounded by the longest record. The default reads
    /// them all with [`load`](Self::load).
    ///
    /// # Errors
    ///
    /// As [`load`](Self::load).
    fn scan(&self, visit: &mut dyn FnMut(&[u8]) -> ControlFlow<()>) -> Result<Option<TornRecord>, Error> {
        let loaded = self.load()?;
        for record in loaded.records() {
            if visit(record).is_break() {
                return Ok(None);
            }
        }
        Ok(loaded.torn().copied())
    }
}

/// Every record of `store`, read through its [`scan`](AuditStore::scan):
/// the `load` of a store that reads its records in batches.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn load_by_scan(store: &(impl AuditStore + ?Sized)) -> Result<StoredRecords, Error> {
    let mut records = Vec::new();
    let torn = store.scan(&mut |r| {
        records.push(r.to_vec());
        ControlFlow::Continue(())
    })?;
    Ok(StoredRecords::new(records, torn))
}

/// The end of the log an entry is chained to, as
/// [`AuditStore::append_chained`] gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tail<'a> {
    /// The store has one writer and does not read its tail: chain to the
    /// head the log knows.
    Unknown,
    /// The store holds no record.
    Empty,
    /// The last stored record, read in the transaction that appends.
    Last(&'a [u8]),
}

/// The records of a store, as [`AuditStore::load`] reads them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredRecords {
    records: Vec<Vec<u8>>,
    torn: Option<TornRecord>,
}

impl StoredRecords {
    /// Complete records, and the torn final record if there is one.
    pub fn new(records: Vec<Vec<u8>>, torn: Option<TornRecord>) -> Self {
        Self { records, torn }
    }

    /// The complete records, in order.
    pub fn records(&self) -> &[Vec<u8>] {
        &self.records
    }

    /// The torn final record, if the last write did not complete.
    pub fn torn(&self) -> Option<&TornRecord> {
        self.torn.as_ref()
    }
}

/// A final record only partly written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TornRecord {
    offset: u64,
    len: u64,
}

impl TornRecord {
    /// A torn record starting at byte `offset` of the store, `len` bytes
    /// long.
    pub fn new(offset: u64, len: u64) -> Self {
        Self { offset, len }
    }

    /// Where it starts, in bytes from the start of the store.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// How many bytes of it were written.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether no byte of it was written (never, for a torn record that was
    /// found).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// An audit store in memory.
///
/// # Example
///
/// ```
/// use privacy_engine::{AuditStore, InMemoryAuditStore};
/// let mut store = InMemoryAuditStore::new();
/// store.append(b"{}")?;
/// assert_eq!(store.load()?.records().len(), 1);
/// # Ok::<(), privacy_engine::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InMemoryAuditStore {
    records: Vec<Vec<u8>>,
}

impl InMemoryAuditStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding these records, e.g. copied from another store to
    /// verify them.
    pub fn from_records(records: Vec<Vec<u8>>) -> Self {
        Self { records }
    }

    /// The records.
    pub fn records(&self) -> &[Vec<u8>] {
        &self.records
    }
}

impl AuditStore for InMemoryAuditStore {
    fn append(&mut self, record: &[u8]) -> Result<(), Error> {
        if record.contains(&b'\n') {
            return Err(Error::audit("an audit record may not hold a line break".to_owned()));
        }
        self.records.push(record.to_vec());
        Ok(())
    }

    fn load(&self) -> Result<StoredRecords, Error> {
        Ok(StoredRecords::new(self.records.clone(), None))
    }

    fn scan(&self, visit: &mut dyn FnMut(&[u8]) -> ControlFlow<()>) -> Result<Option<TornRecord>, Error> {
        let _ = self.records.iter().try_for_each(|r| visit(r));
        Ok(None)
    }
}

impl<S: AuditStore + ?Sized> AuditStore for &mut S {
    fn append(&mut self, record: &[u8]) -> Result<(), Error> {
        (**self).append(record)
    }

    fn append_chained(&mut self, build: &mut dyn FnMut(Tail<'_>) -> Result<Vec<u8>, Error>) -> Result<Vec<u8>, Error> {
        (**self).append_chained(build)
    }

    fn load(&self) -> Result<StoredRecords, Error> {
        (**self).load()
    }

    fn scan(&self, visit: &mut dyn FnMut(&[u8]) -> ControlFlow<()>) -> Result<Option<TornRecord>, Error> {
        (**self).scan(visit)
    }
}
