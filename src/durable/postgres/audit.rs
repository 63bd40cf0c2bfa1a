//! [`PgAuditStore`]: the audit chain in PostgreSQL, extended by many
//! writers at once.

use std::cell::RefCell;
use std::ops::ControlFlow;

use postgres::{Client, Transaction};

use super::schema::{self, db};
use crate::audit::{AuditEntry, AuditStore, StoredRecords, Tail, TornRecord, load_by_scan};
use crate::error::Error;
use crate::pseudonym::Pseudonym;

/// How many audit records a scan reads from the database at a time.
const SCAN_BATCH: i64 = 1_000;

/// An [`AuditStore`] in a PostgreSQL database, in the same schema as a
/// [`PgLog`](super::PgLog), that many writers (threads, processes,
/// instances) append to at once.
///
/// [`append_chained`](AuditStore::append_chained) locks the chain's head
/// row, reads the last record and writes the new one in one transaction,
/// so each entry is chained to the one truly before it and concurrent
/// writers serialise; [`AuditLog::verify`](crate::AuditLog::verify) then
/// runs over the stored chain. Errors are of kind
/// [`Audit`](crate::ErrorKind::Audit), as the trait says.
///
/// # Example
///
/// ```no_run
/// use privacy_engine::{AuditLog, PgAuditStore, PseudonymKey, Pseudonymiser};
/// let store = PgAuditStore::connect("host=/run/postgresql dbname=app options='-c search_path=consents'")?;
/// let key = PseudonymKey::from_bytes("k1", &[7; 32])?;
/// let log = AuditLog::open(store, Pseudonymiser::new(key))?;
/// # Ok::<(), privacy_engine::Error>(())
/// ```
pub struct PgAuditStore {
    // `AuditStore` reads through `&self`; a read that finds the client in
    // use (a visitor calling back into the store) is refused, not blocked.
    client: RefCell<Client>,
}

impl std::fmt::Debug for PgAuditStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgAuditStore").finish_non_exhaustive()
    }
}

impl PgAuditStore {
    /// The audit store in the database `client` is connected to; creates or
    /// migrates the schema as [`PgLog::new`](super::PgLog::new) does.
    ///
    /// # Errors
    ///
    /// An error of kind [`Store`](crate::ErrorKind::Store) if the schema
    /// cannot be created or migrated, or is newer than this crate's.
    pub fn new(mut client: Client) -> Result<Self, Error> {
        schema::migrate(&mut client)?;
        Ok(Self { client: RefCell::new(client) })
    }

    /// Connects with `config` without TLS (a local socket or loopback) and
    /// opens the store as [`new`](Self::new) does.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new), and if the connection fails.
    pub fn connect(config: &str) -> Result<Self, Error> {
        Self::new(super::connect(config)?)
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
        let fail = |e: postgres::Error| audit(db("cannot read the audit log", e));
        let rows = self
            .client()?
            .query("SELECT record FROM audit_log WHERE subject = $1 ORDER BY seq", &[&pseudonym.to_string()])
            .map_err(fail)?;
        rows.iter().map(|r| r.try_get::<_, String>(0).map(String::into_bytes).map_err(fail)).collect()
    }

    fn client(&self) -> Result<std::cell::RefMut<'_, Client>, Error> {
        self.client.try_borrow_mut().map_err(|_| Error::audit("the audit store is already being read".to_owned()))
    }

    /// Appends what `build` makes of the tail, under the head's lock.
    fn chained(
        tx: &mut Transaction<'_>,
        build: &mut dyn FnMut(Tail<'_>) -> Result<Vec<u8>, Error>,
    ) -> Result<Vec<u8>, Error> {
        let fail = |e: postgres::Error| audit(db("cannot append to the audit log", e));
        let next: i64 = tx
            .query_one("SELECT seq FROM privacy_engine_heads WHERE name = 'audit' FOR UPDATE", &[])
            .and_then(|r| r.try_get(0))
            .map_err(fail)?;
        let last = match next {
            0 => None,
            _ => Some(
                tx.query_one("SELECT record FROM audit_log WHERE seq = $1", &[&(next - 1)])
                    .and_then(|r| r.try_get::<_, String>(0))
                    .map_err(fail)?,
            ),
        };
        let record = build(last.as_deref().map_or(Tail::Empty, |r| Tail::Last(r.as_bytes())))?;
        let text =
            std::str::from_utf8(&record).map_err(|_| Error::audit("an audit record is not UTF-8 text".to_owned()))?;
        if text.contains('\n') {
            return Err(Error::audit("an audit record may not hold a line break".to_owned()));
        }
        let subject = AuditEntry::from_json(&record).ok().and_then(|e| e.subject());
        tx.execute("INSERT INTO audit_log VALUES ($1, $2, $3)", &[&next, &text, &subject]).map_err(fail)?;
        tx.execute("UPDATE privacy_engine_heads SET seq = $1 WHERE name = 'audit'", &[&(next + 1)]).map_err(fail)?;
        Ok(record)
    }
}

fn audit(e: Error) -> Error {
    Error::audit(e.to_string())
}

impl AuditStore for PgAuditStore {
    fn append(&mut self, record: &[u8]) -> Result<(), Error> {
        self.append_chained(&mut |_| Ok(record.to_vec())).map(|_| ())
    }

    fn append_chained(&mut self, build: &mut dyn FnMut(Tail<'_>) -> Result<Vec<u8>, Error>) -> Result<Vec<u8>, Error> {
        let fail = |e: postgres::Error| audit(db("cannot append to the audit log", e));
        let client = self.client.get_mut();
        let mut tx = client.transaction().map_err(fail)?;
        let record = Self::chained(&mut tx, build)?;
        tx.commit().map_err(fail)?;
        Ok(record)
    }

    fn load(&self) -> Result<StoredRecords, Error> {
        load_by_scan(self)
    }

    fn scan(&self, visit: &mut dyn FnMut(&[u8]) -> ControlFlow<()>) -> Result<Option<TornRecord>, Error> {
        let fail = |e: postgres::Error| audit(db("cannot read the audit log", e));
        let mut client = self.client()?;
        let mut from = 0i64;
        loop {
            let rows = client
                .query("SELECT seq, record FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2", &[&from, &SCAN_BATCH])
                .map_err(fail)?;
            for row in &rows {
                let seq: i64 = row.try_get(0).map_err(fail)?;
                let record: &str = row.try_get(1).map_err(fail)?;
                if visit(record.as_bytes()).is_break() {
                    return Ok(None);
                }
                from = seq + 1;
            }
            if rows.len() < usize::try_from(SCAN_BATCH).unwrap_or(usize::MAX) {
                return Ok(None);
            }
        }
    }
}
