//! The audit chain in the SQLite file, shared by every writer of it.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::schema;
use crate::audit::{AuditEntry, AuditStore, StoredRecords, Tail, TornRecord, load_by_scan};
use crate::error::Error;
use crate::pseudonym::Pseudonym;

/// An [`AuditStore`] in a SQLite file (table `audit`), which many
/// processes and instances may append to at once (feature `sqlite`).
///
/// [`append_chained`](AuditStore::append_chained) reads the last entry and
/// appends the next inside one `BEGIN IMMEDIATE` transaction, so that
/// writers take turns and each entry chains to the one truly before it:
/// an [`AuditLog`](crate::AuditLog) over this store verifies whoever wrote
/// it. Commits are durable as [`SqliteLog`](crate::SqliteLog)'s are; the
/// store may share its file with the consent log.
///
/// The chain holds subjects only as keyed pseudonyms, so erasing a subject
/// from the consent log leaves it untouched and verifiable; its entries of
/// one subject are found by that pseudonym ([`entries_of`](Self::entries_of)).
///
/// # Example
///
/// ```no_run
/// use privacy_engine::{AuditLog, PseudonymKey, Pseudonymiser, SqliteAuditStore};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let pseudonyms = Pseudonymiser::new(PseudonymKey::from_bytes("k1", &[7; 32])?);
/// let log = AuditLog::open(SqliteAuditStore::open("consents.db")?, pseudonyms)?;
/// assert!(log.verify(None)?.is_intact());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct SqliteAuditStore {
    path: PathBuf,
    conn: Connection,
}

impl SqliteAuditStore {
    /// Opens the audit chain in the file at `path`, creating it if missing.
    ///
    /// # Errors
    ///
    /// An error of kind [`Store`](crate::ErrorKind::Store) if the file
    /// cannot be opened or migrated, or has a newer schema.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        let conn = schema::connect(&path, Duration::from_secs(10))?;
        Ok(Self { path, conn })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every stored record whose subject is `pseudonym`, in order: a
    /// subject's audit entries for an access or portability request. Give
    /// the pseudonym the log wrote: [`SubjectSeal::lookup`](crate::SubjectSeal::lookup),
    /// or the [`Pseudonymiser`](crate::Pseudonymiser)'s in
    /// [`PseudonymDomain::Records`](crate::PseudonymDomain::Records) (once
    /// per key the log was written under).
    ///
    /// # Errors
    ///
    /// An error of kind [`Audit`](crate::ErrorKind::Audit) if the store
    /// cannot be read.
    pub fn entries_of(&self, pseudonym: &Pseudonym) -> Result<Vec<Vec<u8>>, Error> {
        let mut select = self
            .conn
            .prepare_cached("SELECT record FROM audit WHERE subject = ?1 ORDER BY seq")
            .map_err(|e| self.failed("read", e))?;
        let rows = select.query_map([pseudonym.to_string()], |r| r.get(0)).map_err(|e| self.failed("read", e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.failed("read", e))
    }

    fn failed(&self, what: &str, e: rusqlite::Error) -> Error {
        Error::audit(format!("cannot {what} the audit log in `{}`: {e}", self.path.display()))
    }
}

/// The subject pseudonym of a stored record, if it is an entry that has
/// one.
fn subject_of(record: &[u8]) -> Option<String> {
    AuditEntry::from_json(record).ok()?.subject()
}

fn check_record(record: &[u8]) -> Result<(), Error> {
    if record.contains(&b'\n') {
        return Err(Error::audit("an audit record may not hold a line break".to_owned()));
    }
    Ok(())
}

impl AuditStore for SqliteAuditStore {
    fn append(&mut self, record: &[u8]) -> Result<(), Error> {
        check_record(record)?;
        self.conn
            .execute("INSERT INTO audit (subject, record) VALUES (?1, ?2)", params![subject_of(record), record])
            .map_err(|e| self.failed("write", e))?;
        Ok(())
    }

    fn append_chained(&mut self, build: &mut dyn FnMut(Tail<'_>) -> Result<Vec<u8>, Error>) -> Result<Vec<u8>, Error> {
        let Self { path, conn } = self;
        let failed =
            |e: rusqlite::Error| Error::audit(format!("cannot write the audit log in `{}`: {e}", path.display()));
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(failed)?;
        let last: Option<Vec<u8>> = tx
            .query_row("SELECT record FROM audit ORDER BY seq DESC LIMIT 1", [], |r| r.get(0))
            .optional()
            .map_err(failed)?;
        let record = build(last.as_deref().map_or(Tail::Empty, Tail::Last))?;
        check_record(&record)?;
        tx.execute("INSERT INTO audit (subject, record) VALUES (?1, ?2)", params![subject_of(&record), record])
            .map_err(failed)?;
        tx.commit().map_err(failed)?;
        Ok(record)
    }

    fn load(&self) -> Result<StoredRecords, Error> {
        load_by_scan(self)
    }

    /// Reads the records one row at a time, in one read transaction: the
    /// chain as it was when the scan began.
    fn scan(&self, visit: &mut dyn FnMut(&[u8]) -> ControlFlow<()>) -> Result<Option<TornRecord>, Error> {
        let mut select =
            self.conn.prepare_cached("SELECT record FROM audit ORDER BY seq").map_err(|e| self.failed("read", e))?;
        let mut rows = select.query([]).map_err(|e| self.failed("read", e))?;
        while let Some(row) = rows.next().map_err(|e| self.failed("read", e))? {
            let Some(record) = row.get_ref(0).ok().and_then(|v| v.as_blob().ok()) else {
                return Err(Error::audit(format!(
                    "the audit log in `{}` holds a record that is not bytes",
                    self.path.display()
                )));
            };
            if visit(record).is_break() {
                break;
            }
        }
        Ok(None)
    }
}
