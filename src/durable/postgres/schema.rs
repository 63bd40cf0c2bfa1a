//! The tables of the PostgreSQL store, their version and its forward
//! migrations, and how a database error becomes this crate's error.

use postgres::{Client, GenericClient};

use crate::error::Error;

/// The schema version this crate writes. Opening migrates an older schema
/// forward, one step at a time, and refuses a newer one.
pub(crate) const SCHEMA_VERSION: i32 = 3;

/// The channel every append notifies, with `<schema>:<seq of its last
/// record>` as the payload: what a [`PgListener`](super::PgListener)
/// listens on.
pub(crate) const CHANNEL: &str = "privacy_engine_records";

/// Serialises migrations of every schema in the database (an advisory lock
/// key: "privacy-engine schema").
const MIGRATION_LOCK: i64 = 0x7072_6976_6163_7931;

/// Version 1.
///
/// - `privacy_engine_meta`: the schema version and how subject ids are kept
///   (`clear` or `sealed`).
/// - `privacy_engine_heads`: one row per log with its last seq; an append
///   locks its log's row for the whole transaction (see `PgLog`).
/// - `consent_log`: one row per record, `seq` 1, 2, 3, … with no gaps.
///   `kind` names the record (`consent`, `erasure`, `removed`; lifecycle
///   and retention records are new kinds, not new tables; rights-request
///   cases have their own from version 2).
///   `event_id` is unique across the whole log and stays on a `removed`
///   row: the erased id's tombstone. `subject` is the id in clear or its
///   keyed pseudonym, `sealed` the sealed id; `body` the record's JSON
///   without its subject (NULL once removed); `recorded` when it was
///   recorded, for the records' own retention.
/// - `consent_snapshots`: the newest snapshot of a replica's ledger.
/// - `audit_log`: the audit chain's records, `seq` from 0, as the chain
///   numbers its entries, with the subject pseudonym of each entry about
///   one (for a subject's export).
const V1: &str = "
CREATE TABLE privacy_engine_heads (name text PRIMARY KEY, seq bigint NOT NULL);
INSERT INTO privacy_engine_heads VALUES ('consent', 0), ('consent_erased', 0), ('audit', 0);
CREATE TABLE consent_log (
    seq bigint PRIMARY KEY CHECK (seq > 0),
    kind text NOT NULL,
    event_id uuid UNIQUE,
    subject text,
    sealed bytea,
    recorded timestamptz NOT NULL,
    body text
);
CREATE INDEX consent_log_subject ON consent_log (subject, seq);
CREATE INDEX consent_log_recorded ON consent_log (kind, recorded);
CREATE TABLE consent_snapshots (seq bigint PRIMARY KEY, bytes bytea NOT NULL);
CREATE TABLE audit_log (seq bigint PRIMARY KEY CHECK (seq >= 0), record text NOT NULL, subject text);
CREATE INDEX audit_log_subject ON audit_log (subject, seq) WHERE subject IS NOT NULL;
";

/// Version 2: rights-request cases.
///
/// - `rights_cases`: one row per case, its subject as `consent_log` keeps
///   subjects (in clear, or the pseudonym with the id sealed), when it was
///   received, and where it stands: its `state` and the deadline in force.
///   The partial index `rights_cases_overdue` holds the open cases only,
///   by deadline: listing the overdue ones is a range scan of it.
/// - `rights_case_steps`: one row per step, numbered from 0 in each case,
///   its `body` the step's JSON without the case and the subject.
const V2: &str = "
CREATE TABLE rights_cases (
    id uuid PRIMARY KEY,
    subject text NOT NULL,
    sealed bytea,
    received timestamptz NOT NULL,
    state text NOT NULL,
    due date
);
CREATE INDEX rights_cases_overdue ON rights_cases (due, id) WHERE state <> 'answered';
CREATE INDEX rights_cases_subject ON rights_cases (subject, received);
CREATE TABLE rights_case_steps (
    case_id uuid NOT NULL REFERENCES rights_cases (id),
    n integer NOT NULL,
    body text NOT NULL,
    PRIMARY KEY (case_id, n)
);
";

/// Version 3: the accounts' lifecycle events.
///
/// - `lifecycle_events`: one row per event, numbered by `seq` in the order
///   recorded, its id unique, its subject as `consent_log` keeps subjects,
///   when it took effect (`at`) and its `body`, the event's JSON without
///   the id and the subject. A subject's events are listed by `at`, then
///   `seq`, from the index `lifecycle_events_subject`.
const V3: &str = "
CREATE TABLE lifecycle_events (
    seq bigserial PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    subject text NOT NULL,
    sealed bytea,
    at timestamptz NOT NULL,
    body text NOT NULL
);
CREATE INDEX lifecycle_events_subject ON lifecycle_events (subject, at, seq);
";

/// The migration to version `i + 1` at index `i`.
const MIGRATIONS: [&str; SCHEMA_VERSION as usize] = [V1, V2, V3];

/// A store error for a failed database call: the SQLSTATE and primary
/// message only, never PostgreSQL's DETAIL (it can quote a row's values).
pub(crate) fn db(context: &str, e: postgres::Error) -> Error {
    match e.as_db_error() {
        Some(d) => Error::store(format!("{context}: {} (SQLSTATE {})", d.message(), d.code().code())),
        None => Error::store_caused(context.to_owned(), e),
    }
}

/// Creates or migrates the schema in the client's search path to
/// [`SCHEMA_VERSION`], under a lock so that instances opening at once do it
/// once; refuses a newer schema.
pub(crate) fn migrate(client: &mut Client) -> Result<(), Error> {
    let fail = |e: postgres::Error| db("cannot open the store's schema", e);
    let mut tx = client.transaction().map_err(fail)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).map_err(fail)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS privacy_engine_meta (key text PRIMARY KEY, value text NOT NULL)")
        .map_err(fail)?;
    let version = meta(&mut tx, "schema_version")?.map_or(Ok(0), |v| {
        v.parse::<i32>().map_err(|_| Error::store("the store's schema version is not a number".to_owned()))
    })?;
    if version > SCHEMA_VERSION {
        return Err(Error::store(format!(
            "the store's schema is version {version}, newer than version {SCHEMA_VERSION} this crate knows"
        )));
    }
    for (step, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(version).unwrap_or(usize::MAX)) {
        tx.batch_execute(sql)
            .map_err(|e| db(&format!("cannot migrate the store's schema to version {}", step + 1), e))?;
    }
    set_meta(&mut tx, "schema_version", &SCHEMA_VERSION.to_string())?;
    tx.commit().map_err(fail)
}

/// Checks that the store keeps subject ids as `mode` (`clear`, or
/// `sealed:` and the key id), recording it if the store has not said yet: a log written
/// one way and read the other would name the wrong people.
pub(crate) fn check_subject_mode(client: &mut Client, mode: &str) -> Result<(), Error> {
    let fail = |e: postgres::Error| db("cannot read the store's settings", e);
    let mut tx = client.transaction().map_err(fail)?;
    tx.execute("LOCK TABLE privacy_engine_meta IN SHARE ROW EXCLUSIVE MODE", &[]).map_err(fail)?;
    match meta(&mut tx, "subject_ids")? {
        Some(held) if held == mode => Ok(()),
        Some(held) => Err(Error::store(format!(
            "the store keeps subject ids {}, not {}: open it as it was made",
            describe_mode(&held),
            describe_mode(mode)
        ))),
        None => set_meta(&mut tx, "subject_ids", mode),
    }?;
    tx.commit().map_err(fail)
}

fn meta(client: &mut impl GenericClient, key: &str) -> Result<Option<String>, Error> {
    let row = client
        .query_opt("SELECT value FROM privacy_engine_meta WHERE key = $1", &[&key])
        .map_err(|e| db("cannot read the store's settings", e))?;
    row.map(|r| r.try_get(0)).transpose().map_err(|e| db("cannot read the store's settings", e))
}

fn set_meta(client: &mut impl GenericClient, key: &str, value: &str) -> Result<(), Error> {
    client
        .execute(
            "INSERT INTO privacy_engine_meta VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            &[&key, &value],
        )
        .map_err(|e| db("cannot write the store's settings", e))?;
    Ok(())
}

fn describe_mode(mode: &str) -> String {
    match mode.strip_prefix("sealed:") {
        Some(key) => format!("sealed under key `{key}`"),
        None => "in clear".to_owned(),
    }
}
