//! The embedded durable store: the consent log and the audit chain in one
//! SQLite file (feature `sqlite`).

mod audit;
mod cases;
mod lifecycle;
mod rows;
mod schema;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::{Appended, DurableLog, ErasureReason, LogEntry, LogRecord, SubjectSeal, check_append, check_snapshot};
use crate::consent::ConsentEvent;
use crate::error::Error;
use crate::ids::SubjectId;
pub use audit::SqliteAuditStore;
use rows::{COLUMNS, CONSENT, ERASURE, REMOVED, Row, Subjects};
pub use schema::SCHEMA_VERSION as SQLITE_SCHEMA_VERSION;
use schema::failed;

/// How long a write waits for another writer's transaction by default.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How often [`SqliteLog::wait_for_change`] looks at the file.
const POLL: Duration = Duration::from_millis(1);

/// How a [`SqliteLog`] is opened: [`SqliteOptions::new`] and the setters.
#[derive(Debug)]
#[non_exhaustive]
pub struct SqliteOptions {
    seal: Option<SubjectSeal>,
    busy_timeout: Duration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl SqliteOptions {
    /// Subject ids in clear, a busy timeout of 10 seconds.
    pub fn new() -> Self {
        Self { seal: None, busy_timeout: BUSY_TIMEOUT }
    }

    /// Keeps subject ids only as keyed pseudonyms and sealed ids (see
    /// [`SqliteLog`] for what a copy of the file then reveals).
    #[must_use]
    pub fn seal(mut self, seal: SubjectSeal) -> Self {
        self.seal = Some(seal);
        self
    }

    /// How long a write waits for other writers before it fails.
    #[must_use]
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }
}

/// A [`DurableLog`] in one SQLite file, which several processes may open
/// and write at once (feature `sqlite`).
///
/// Each append is one transaction (`BEGIN IMMEDIATE`, so writers take turns
/// and numbers have no gaps) committed in WAL mode with
/// `synchronous=FULL`: when [`append`](DurableLog::append) returns, the
/// events survive a crash of the process or a loss of power. Many events
/// in one append share the commit (a group commit). A writer waits up to
/// the busy timeout for the others. The schema is versioned
/// (`PRAGMA user_version`, see [`SQLITE_SCHEMA_VERSION`]) and migrated
/// forward on open; a file written by a newer version is refused.
///
/// Event ids are unique in the whole file, and an erased event's id stays
/// (as the [`Removed`](crate::LogRecord::Removed) place of the event) so
/// that no retry brings it back.
///
/// # What a copy of the file reveals
///
/// Opened with [`open`](Self::open), everything: subject ids, consent
/// events, the audit chain (whose subjects are keyed pseudonyms already).
/// Opened with a [`SubjectSeal`] ([`SqliteOptions::seal`]), a copy without
/// the pseudonym key holds no subject id: each row has the subject's keyed
/// pseudonym (HMAC-SHA256, the audit log's Records pseudonym) and the id
/// encrypted with AES-256-GCM, and the event's JSON has its subject left
/// out. The copy still shows how many subjects there are, which rows
/// belong to the same subject, and every event's content: policy, purposes,
/// categories, recipients, times and event ids. A sealed file is refused
/// without its seal (and a plain one with a seal). A sealed log keeps no
/// snapshots (a ledger snapshot holds ids in clear).
///
/// Erasing a subject (or purging it) overwrites its rows (`secure_delete`)
/// and then checkpoints and empties the write-ahead log, which held the
/// rows' earlier versions: that step waits, up to the busy timeout, for
/// other connections' reads in progress, and if it cannot finish the
/// erasure still stands but the WAL file may hold the rows until a later
/// checkpoint. A backup or copy taken before the erasure holds them too.
///
/// # From an async service
///
/// Every method blocks on the file. In an async service, keep the replica
/// behind a mutex and append on the blocking pool, so that no runtime
/// worker waits on a commit; decisions read the replica without I/O:
///
/// ```no_run
/// use std::sync::{Arc, Mutex};
/// use privacy_engine::{ConsentEvent, Error, Replica, SqliteLog};
///
/// type Shared = Arc<Mutex<Replica<SqliteLog>>>;
///
/// async fn record(replica: Shared, event: ConsentEvent) -> Result<u64, Box<dyn std::error::Error + Send + Sync>> {
///     let appended = tokio::task::spawn_blocking(move || -> Result<_, Error> {
///         // An append either commits or changes nothing: a poisoned lock
///         // still guards a replica equal to a prefix of the log.
///         let mut replica = replica.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
///         replica.append(event, std::time::SystemTime::now().into())
///     })
///     .await??;
///     Ok(appended.seq)
/// }
/// ```
///
/// # Example
///
/// ```no_run
/// use privacy_engine::{Replica, SqliteLog};
/// # fn main() -> Result<(), privacy_engine::Error> {
/// let mut replica = Replica::open(SqliteLog::open("consents.db")?)?;
/// // Before a sensitive decision: apply what other processes committed.
/// replica.catch_up()?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct SqliteLog {
    path: PathBuf,
    conn: Connection,
    subjects: Subjects,
    /// The file's `data_version` when last looked at.
    data_version: i64,
}

impl SqliteLog {
    /// Opens the log in the file at `path`, creating it if missing, with
    /// subject ids in clear.
    ///
    /// # Errors
    ///
    /// As [`open_with`](Self::open_with).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::open_with(path, SqliteOptions::new())
    }

    /// Opens the log in the file at `path`, creating it if missing.
    ///
    /// # Errors
    ///
    /// An error of kind [`Store`](crate::ErrorKind::Store) if the file
    /// cannot be opened or migrated, has a newer schema, or keeps subject
    /// ids otherwise than `options` say (sealed under another key, or in
    /// clear).
    pub fn open_with(path: impl AsRef<Path>, options: SqliteOptions) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        let mut conn = schema::connect(&path, options.busy_timeout)?;
        let subjects = Subjects::new(options.seal);
        check_mode(&mut conn, &path, &subjects)?;
        let mut log = Self { path, conn, subjects, data_version: 0 };
        log.data_version = log.data_version()?;
        Ok(log)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn data_version(&self) -> Result<i64, Error> {
        self.conn.pragma_query_value(None, "data_version", |r| r.get(0)).map_err(failed(&self.path, "read"))
    }

    /// Waits until another connection (another handle, process or
    /// instance) commits to the file, or `timeout` passes; returns whether
    /// one did. It polls SQLite's `data_version` every millisecond, which
    /// reads no page: cheap enough to run in a loop before
    /// [`Replica::catch_up`](crate::Replica::catch_up).
    ///
    /// # Errors
    ///
    /// An error of kind [`Store`](crate::ErrorKind::Store) if the file
    /// cannot be read.
    pub fn wait_for_change(&mut self, timeout: Duration) -> Result<bool, Error> {
        let start = Instant::now();
        loop {
            let version = self.data_version()?;
            if version != self.data_version {
                self.data_version = version;
                return Ok(true);
            }
            if start.elapsed() >= timeout {
                return Ok(false);
            }
            std::thread::sleep(POLL);
        }
    }

    /// The records' own retention: erases, as [`ErasureReason::Retention`]
    /// at `now`, every subject whose newest consent event was recorded more
    /// than `keep` before `now`, except the subjects in `holds` (a legal
    /// hold), in one transaction; returns the subjects erased.
    ///
    /// # Errors
    ///
    /// An error of kind [`Store`](crate::ErrorKind::Store) if the file
    /// cannot be written; nothing is erased then.
    pub fn purge_records(
        &mut self,
        now: DateTime<Utc>,
        keep: TimeDelta,
        holds: &[SubjectId],
    ) -> Result<Vec<SubjectId>, Error> {
        let cutoff = now
            .checked_sub_signed(keep)
            .ok_or_else(|| Error::store("the retention cutoff is out of range".to_owned()))?;
        let Self { path, conn, subjects, .. } = self;
        let held: HashSet<String> = holds.iter().map(|s| subjects.key(s)).collect();
        let fail = failed(path, "purge");
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(&fail)?;
        let due: Vec<(String, Option<Vec<u8>>)> = {
            let mut select = tx
                .prepare(
                    "SELECT subject, sealed FROM records WHERE subject IS NOT NULL AND kind = 'consent' \
                     GROUP BY subject HAVING max(recorded) < ?1",
                )
                .map_err(&fail)?;
            let rows = select.query_map([rows::time_text(cutoff)], |r| Ok((r.get(0)?, r.get(1)?))).map_err(&fail)?;
            rows.collect::<Result<_, _>>().map_err(&fail)?
        };
        let mut erased = Vec::new();
        for (key, sealed) in due {
            if held.contains(&key) {
                continue;
            }
            let subject = subjects.open(key, sealed.as_deref())?;
            erase_in(&tx, path, subjects, &subject, now, ErasureReason::Retention)?;
            erased.push(subject);
        }
        tx.commit().map_err(&fail)?;
        self.checkpoint();
        Ok(erased)
    }

    /// Moves the write-ahead log into the file and empties it, so that
    /// erased rows leave the WAL too; best effort (a reader may hold it).
    fn checkpoint(&self) {
        let _ = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
    }

    fn query(&self, sql: &str, params: impl rusqlite::Params) -> Result<Vec<LogEntry>, Error> {
        let fail = failed(&self.path, "read");
        let mut select = self.conn.prepare_cached(sql).map_err(&fail)?;
        let rows = select.query_map(params, Row::read).map_err(&fail)?;
        rows.map(|r| r.map_err(&fail).and_then(|row| row.decode(&self.subjects, &self.path))).collect()
    }
}

/// Records how the store keeps subject ids, or refuses `subjects` if the
/// file keeps them otherwise.
fn check_mode(conn: &mut Connection, path: &Path, subjects: &Subjects) -> Result<(), Error> {
    let fail = failed(path, "open");
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(&fail)?;
    let mode = subjects.mode();
    match schema::meta(&tx, "subjects").map_err(&fail)? {
        None => schema::set_meta(&tx, "subjects", &mode).map_err(&fail)?,
        Some(kept) if kept == mode => {}
        Some(kept) => {
            return Err(Error::store(format!(
                "consent store `{}` keeps subject ids {}, not {}: open it as it was created",
                path.display(),
                describe_mode(&kept),
                describe_mode(&mode)
            )));
        }
    }
    tx.commit().map_err(&fail)
}

fn describe_mode(mode: &str) -> String {
    match mode.strip_prefix("sealed:") {
        Some(key) => format!("sealed under key `{key}`"),
        None => "in clear".to_owned(),
    }
}

/// Erases `subject` inside `tx`: its events become removed places, the
/// snapshot goes, an erasure record follows. Returns its seq and how many
/// events were removed.
fn erase_in(
    tx: &Transaction<'_>,
    path: &Path,
    subjects: &Subjects,
    subject: &SubjectId,
    at: DateTime<Utc>,
    reason: ErasureReason,
) -> Result<(u64, usize), Error> {
    let fail = failed(path, "erase from");
    let columns = subjects.columns(subject)?;
    let removed = tx
        .execute(
            "UPDATE records SET kind = 'removed', subject = NULL, sealed = NULL, recorded = NULL, body = NULL \
             WHERE subject = ?1 AND kind = 'consent'",
            [&columns.key],
        )
        .map_err(&fail)?;
    tx.execute("DELETE FROM snapshots", []).map_err(&fail)?;
    tx.execute(
        "INSERT INTO records (kind, subject, sealed, recorded, body) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![ERASURE, columns.key, columns.sealed, rows::time_text(at), rows::erasure_body(at, reason)?],
    )
    .map_err(&fail)?;
    let seq = last_seq(tx)?;
    schema::set_meta(tx, "erased_at", &seq.to_string()).map_err(&fail)?;
    Ok((seq, removed))
}

/// What an append does with `event`, whose id the file holds in `row`.
fn retried(subjects: &Subjects, path: &Path, event: &ConsentEvent, row: Row) -> Result<Appended, Error> {
    if row.kind == REMOVED {
        return Err(Error::store(format!("consent event id `{}` was erased and cannot be appended again", event.id)));
    }
    let entry = row.decode(subjects, path)?;
    match entry.record {
        LogRecord::Consent { event: stored, .. } if stored == *event => Ok(Appended { seq: entry.seq, fresh: false }),
        _ => Err(Error::store(format!("consent event id `{}` is already held with other content", event.id))),
    }
}

fn last_seq(conn: &Connection) -> Result<u64, Error> {
    u64::try_from(conn.last_insert_rowid()).map_err(|_| Error::store("the store numbered a record below 1".to_owned()))
}

impl DurableLog for SqliteLog {
    fn append(&mut self, events: &[ConsentEvent], recorded: DateTime<Utc>) -> Result<Vec<Appended>, Error> {
        check_append(events, recorded)?;
        let Self { path, conn, subjects, .. } = self;
        let fail = failed(path, "append to");
        let recorded = rows::time_text(recorded);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(&fail)?;
        let mut appended = Vec::with_capacity(events.len());
        {
            // The insert looks the id up in its unique index anyway: only
            // an id already held costs a second look-up.
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO records (kind, event_id, subject, sealed, recorded, body) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (event_id) WHERE event_id IS NOT NULL DO NOTHING",
                )
                .map_err(&fail)?;
            let find = format!("SELECT {COLUMNS} FROM records WHERE event_id = ?1");
            let mut find = tx.prepare_cached(&find).map_err(&fail)?;
            for event in events {
                let id = event.id.as_bytes().as_slice();
                let columns = subjects.columns(&event.subject)?;
                let body = subjects.event_body(event)?;
                let inserted =
                    insert.execute(params![CONSENT, id, columns.key, columns.sealed, recorded, body]).map_err(&fail)?;
                if inserted == 1 {
                    appended.push(Appended { seq: last_seq(&tx)?, fresh: true });
                } else {
                    let row = find.query_row([id], Row::read).map_err(&fail)?;
                    appended.push(retried(subjects, path, event, row)?);
                }
            }
        }
        tx.commit().map_err(&fail)?;
        Ok(appended)
    }

    fn read_after(&mut self, after: u64, limit: usize) -> Result<Vec<LogEntry>, Error> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.query(
            &format!("SELECT {COLUMNS} FROM records WHERE seq > ?1 ORDER BY seq LIMIT ?2"),
            params![after, limit],
        )
    }

    fn subjects(&mut self) -> Result<Vec<SubjectId>, Error> {
        let fail = failed(&self.path, "read");
        let mut select = self
            .conn
            .prepare_cached(
                "SELECT subject, sealed FROM records WHERE subject IS NOT NULL AND kind = 'consent' GROUP BY subject",
            )
            .map_err(&fail)?;
        let rows =
            select.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<Vec<u8>>>(1)?))).map_err(&fail)?;
        rows.map(|r| r.map_err(&fail).and_then(|(key, sealed)| self.subjects.open(key, sealed.as_deref()))).collect()
    }

    fn subject_records(&mut self, subject: &SubjectId) -> Result<Vec<LogEntry>, Error> {
        let key = self.subjects.key(subject);
        self.query(&format!("SELECT {COLUMNS} FROM records WHERE subject = ?1 ORDER BY seq"), [key])
    }

    fn subject_erasures(&mut self, subject: &SubjectId) -> Result<Vec<LogEntry>, Error> {
        let key = self.subjects.key(subject);
        self.query(
            &format!("SELECT {COLUMNS} FROM records WHERE subject = ?1 AND kind = ?2 ORDER BY seq"),
            params![key, ERASURE],
        )
    }

    fn erase_subject(
        &mut self,
        subject: &SubjectId,
        at: DateTime<Utc>,
        reason: ErasureReason,
    ) -> Result<(u64, usize), Error> {
        let Self { path, conn, subjects, .. } = self;
        let fail = failed(path, "erase from");
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(&fail)?;
        let done = erase_in(&tx, path, subjects, subject, at, reason)?;
        tx.commit().map_err(&fail)?;
        self.checkpoint();
        Ok(done)
    }

    fn snapshot(&mut self) -> Result<Option<(u64, Vec<u8>)>, Error> {
        let fail = failed(&self.path, "read");
        let row: Option<(i64, Vec<u8>)> = self
            .conn
            .query_row("SELECT seq, bytes FROM snapshots WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(&fail)?;
        Ok(row.and_then(|(seq, bytes)| u64::try_from(seq).ok().map(|seq| (seq, bytes))))
    }

    fn save_snapshot(&mut self, seq: u64, bytes: &[u8]) -> Result<(), Error> {
        if self.subjects.sealed() {
            return Err(Error::store(format!(
                "consent store `{}` keeps subject ids sealed and so keeps no snapshot, which would hold them in clear",
                self.path.display()
            )));
        }
        let fail = failed(&self.path, "write a snapshot to");
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(&fail)?;
        let last: i64 = tx.query_row("SELECT coalesce(max(seq), 0) FROM records", [], |r| r.get(0)).map_err(&fail)?;
        let erased_at = schema::meta(&tx, "erased_at").map_err(&fail)?.and_then(|v| v.parse().ok()).unwrap_or(0);
        check_snapshot(seq, u64::try_from(last).unwrap_or(0), erased_at)?;
        let at = i64::try_from(seq).map_err(|_| Error::store(format!("snapshot seq {seq} is out of range")))?;
        tx.execute("INSERT OR REPLACE INTO snapshots (id, seq, bytes) VALUES (1, ?1, ?2)", params![at, bytes])
            .map_err(&fail)?;
        tx.commit().map_err(&fail)
    }
}
