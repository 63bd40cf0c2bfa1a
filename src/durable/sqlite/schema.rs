//! The SQLite file: opening a connection with the durability settings,
//! and the versioned schema, migrated forward on open.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::error::Error;

/// The version of the SQLite store's schema this crate writes
/// (`PRAGMA user_version`): it migrates an older file forward on open and
/// refuses a newer one.
pub const SCHEMA_VERSION: u32 = 3;

/// The steps that bring a file from version `i` to `i + 1`, in order.
/// A later version appends its step; a step never changes once released.
const MIGRATIONS: &[&str] = &[V1, V2, V3];

/// Version 1.
///
/// `records` is the consent log, numbered by `seq` (the rowid: records are
/// never deleted, so the numbers have no gaps). `kind` says what a row
/// holds: `consent` (an event: `body` its JSON, `recorded` when the store
/// took it), `erasure` (`body` the time and reason), `removed` (the place
/// of an erased event, holding only its `event_id`, which keeps the id
/// from coming back). Later kinds (policy lifecycle events, retention
/// records) are new `kind` values with their own `body`, not new tables; a
/// reader refuses a kind it does not know. (Rights-request cases, which
/// change state and are listed by deadline, have tables of their own from
/// version 2.)
/// `subject` is the subject id, or its keyed pseudonym when the store is
/// sealed (`sealed` then holds the id encrypted); `recorded` is RFC 3339
/// UTC with nine fractional digits, so that text order is time order.
///
/// `snapshots` holds at most one row (`id` 1): the newest snapshot.
/// `meta` holds `subjects` (`plain`, or `sealed:<key id>`) and
/// `erased_at` (the seq of the last erasure). `audit` is the audit chain,
/// one canonical entry per row, with the subject's pseudonym for export.
const V1: &str = "
CREATE TABLE records (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    event_id BLOB,
    subject TEXT,
    sealed BLOB,
    recorded TEXT,
    body TEXT
);
CREATE UNIQUE INDEX records_event_id ON records (event_id) WHERE event_id IS NOT NULL;
CREATE INDEX records_subject ON records (subject, kind) WHERE subject IS NOT NULL;
CREATE TABLE snapshots (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    bytes BLOB NOT NULL
);
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    subject TEXT,
    record BLOB NOT NULL
);
CREATE INDEX audit_subject ON audit (subject) WHERE subject IS NOT NULL;
";

/// Version 2: rights-request cases.
///
/// `cases` holds one row per case: its id (the UUID's 16 bytes), its
/// subject as `records` keeps subjects (the id, or its pseudonym with the
/// id in `sealed`), when it was received (RFC 3339 UTC, as `recorded`), and
/// where it stands now: its `state` and the deadline in force (`due`,
/// `YYYY-MM-DD`, so that text order is date order). `case_steps` holds one
/// row per step, numbered from 0 in each case, its `body` the step's JSON
/// without the case and the subject. The partial index `cases_overdue`
/// holds only the open cases, by deadline: listing the overdue ones is a
/// range scan of it.
const V2: &str = "
CREATE TABLE cases (
    id BLOB PRIMARY KEY,
    subject TEXT NOT NULL,
    sealed BLOB,
    received TEXT NOT NULL,
    state TEXT NOT NULL,
    due TEXT
) WITHOUT ROWID;
CREATE INDEX cases_overdue ON cases (due, id) WHERE state <> 'answered';
CREATE INDEX cases_subject ON cases (subject, received);
CREATE TABLE case_steps (
    case_id BLOB NOT NULL,
    n INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (case_id, n)
) WITHOUT ROWID;
";

/// Version 3: the accounts' lifecycle events.
///
/// `lifecycle_events` holds one row per event, numbered by `seq` in the
/// order recorded: its id (the UUID's 16 bytes, unique), its subject as
/// `records` keeps subjects, when it took effect (`at`, RFC 3339 UTC as
/// `recorded`, so that text order is time order) and its `body`, the
/// event's JSON without the id and the subject. A subject's events are
/// listed by `at`, then `seq`, from the index `lifecycle_subject`.
const V3: &str = "
CREATE TABLE lifecycle_events (
    seq INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    subject TEXT NOT NULL,
    sealed BLOB,
    at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX lifecycle_subject ON lifecycle_events (subject, at, seq);
";

/// An error of kind `Store` about the file at `path`.
pub(crate) fn failed(path: &Path, what: &str) -> impl Fn(rusqlite::Error) -> Error + use<> {
    let message = format!("cannot {what} consent store `{}`", path.display());
    move |e| Error::store_caused(message.clone(), e)
}

/// Opens `path` (creating it), in WAL mode with `synchronous=FULL` (an
/// acknowledged commit survives power loss), `secure_delete` (erased rows
/// are overwritten, not just unlinked) and a busy timeout, so that several
/// processes write in turn; then brings its schema to [`SCHEMA_VERSION`].
///
/// # Errors
///
/// A `Store` error if the file cannot be opened or migrated, or was
/// written by a newer version of this crate.
pub(crate) fn connect(path: &Path, busy: Duration) -> Result<Connection, Error> {
    let mut conn = Connection::open(path).map_err(failed(path, "open"))?;
    conn.busy_timeout(busy).map_err(failed(path, "open"))?;
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0)).map_err(failed(path, "open"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::store(format!("consent store `{}` cannot be put in WAL mode", path.display())));
    }
    conn.pragma_update(None, "synchronous", "FULL").map_err(failed(path, "open"))?;
    conn.pragma_update(None, "secure_delete", "ON").map_err(failed(path, "open"))?;
    // 32 MiB of page cache (the default is 2): a group commit touches
    // index pages all over the file.
    conn.pragma_update(None, "cache_size", -32_768).map_err(failed(path, "open"))?;
    migrate(&mut conn, path)?;
    Ok(conn)
}

/// Runs the migrations the file lacks, in one transaction.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), Error> {
    let fail = failed(path, "migrate");
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(&fail)?;
    let version: u32 = tx.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(&fail)?;
    if version > SCHEMA_VERSION {
        return Err(Error::store(format!(
            "consent store `{}` has schema version {version}, newer than this version of the crate reads \
             ({SCHEMA_VERSION}): open it with a newer one",
            path.display()
        )));
    }
    let from = usize::try_from(version).unwrap_or(usize::MAX);
    for step in MIGRATIONS.get(from..).unwrap_or_default() {
        tx.execute_batch(step).map_err(&fail)?;
    }
    if version < SCHEMA_VERSION {
        tx.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(&fail)?;
    }
    tx.commit().map_err(&fail)
}

/// The value of `key` in the `meta` table.
pub(crate) fn meta(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()
}

/// Sets `key` to `value` in the `meta` table.
pub(crate) fn set_meta(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", [key, value]).map(|_| ())
}
