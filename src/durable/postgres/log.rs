//! [`PgLog`]: the consent log in PostgreSQL.
//!
//! **How the numbering stays gap-free across writers.** Every transaction
//! that adds records first locks its log's row of `privacy_engine_heads`
//! (`SELECT … FOR UPDATE`), numbers its records from the seq that row
//! holds, writes them, moves the row on and commits; the lock is released
//! only after the commit is visible. So writers take numbers one
//! transaction at a time, in the order they commit: a transaction holding
//! seq n + 1 cannot commit before the one holding n, and a rolled-back
//! transaction rolls its numbers back with it. A reader that tails by
//! `seq > last` therefore never sees record n + 1 while n is still to
//! come (a `SERIAL` or sequence would hand out numbers that commit out of
//! order, and skip the numbers of rolled-back transactions). Erased events
//! keep their rows as `removed` places, so erasure leaves no gap either.

use chrono::{DateTime, Utc};
use postgres::{Client, Transaction};
use uuid::Uuid;

use super::codec::{self, COLUMNS, Subjects};
use super::schema::{self, CHANNEL, db};
use crate::consent::ConsentEvent;
use crate::durable::{
    Appended, DurableLog, ErasureReason, LogEntry, LogRecord, SubjectSeal, check_append, check_snapshot,
};
use crate::error::Error;
use crate::ids::SubjectId;

/// A [`DurableLog`] in a PostgreSQL database, shared by every instance that
/// connects to it.
///
/// The tables live in the connection's `search_path` (give the store a
/// schema of its own: `options='-c search_path=consents'` in the
/// connection string); opening creates them, migrates an older schema
/// forward and refuses a newer one. Each append is one transaction that
/// commits with the server's durability settings (keep `fsync` and
/// `synchronous_commit` on) and notifies the channel a [`PgListener`]
/// listens on.
///
/// **From an async service.** The `postgres` client runs a small runtime
/// of its own and blocks on it: open, append, catch up — and drop — a
/// `PgLog` (or a [`Replica`](crate::Replica) over one) inside
/// `tokio::task::spawn_blocking`, never on a runtime's worker thread
/// (tokio panics there). Decisions read the replica's memory and need no
/// care.
///
/// [`PgListener`]: super::PgListener
///
/// # Example
///
/// ```no_run
/// use privacy_engine::{PgLog, Replica};
/// let log = PgLog::connect("host=/run/postgresql dbname=app options='-c search_path=consents'")?;
/// let replica = Replica::open(log)?;
/// # Ok::<(), privacy_engine::Error>(())
/// ```
pub struct PgLog {
    client: Client,
    subjects: Subjects,
}

impl std::fmt::Debug for PgLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgLog").field("subjects", &self.subjects.mode()).finish_non_exhaustive()
    }
}

/// What the log holds under an event's id, read in an append's transaction.
struct Held {
    seq: u64,
    kind: String,
    body: Option<String>,
    subject: Option<String>,
}

impl PgLog {
    /// The log in the database `client` is connected to, keeping subject
    /// ids in clear.
    ///
    /// # Errors
    ///
    /// An error of kind [`Store`](crate::ErrorKind::Store) if the schema
    /// cannot be created or migrated, is newer than this crate's, or keeps
    /// subject ids sealed.
    pub fn new(client: Client) -> Result<Self, Error> {
        Self::open(client, Subjects::Clear)
    }

    /// The log in the database `client` is connected to, keeping each
    /// subject id as its keyed pseudonym and sealed under `seal` (see
    /// [`SubjectSeal`]): a copy of the database without the key names no
    /// one.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new), and if the store keeps subject ids in clear.
    pub fn with_seal(client: Client, seal: SubjectSeal) -> Result<Self, Error> {
        Self::open(client, Subjects::Sealed(Box::new(seal)))
    }

    /// Connects with `config` (a libpq-style connection string) without
    /// TLS, for a server on a local socket or loopback, and opens the log
    /// as [`new`](Self::new) does. Connect a [`Client`] yourself for TLS.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new), and if the connection fails.
    pub fn connect(config: &str) -> Result<Self, Error> {
        Self::new(super::connect(config)?)
    }

    fn open(mut client: Client, subjects: Subjects) -> Result<Self, Error> {
        schema::migrate(&mut client)?;
        schema::check_subject_mode(&mut client, &subjects.mode())?;
        Ok(Self { client, subjects })
    }

    /// The connection, e.g. to run `VACUUM` after an erasure (PostgreSQL
    /// keeps a removed row's old version on disk until it is vacuumed).
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    /// The records' own retention: erases, as [`ErasureReason::Retention`]
    /// at `now`, every subject whose newest consent event was recorded more
    /// than `keep` before `now`, except the subjects in `holds` (a legal
    /// hold), in one transaction; returns the subjects erased.
    ///
    /// A consent record is kept as long as it may have to prove the
    /// consent, and not forever by accident.
    ///
    /// # Errors
    ///
    /// An error of kind [`Store`](crate::ErrorKind::Store) if the store
    /// cannot be written or the cutoff is out of range; nothing is erased
    /// then.
    pub fn purge_records(
        &mut self,
        now: DateTime<Utc>,
        keep: chrono::TimeDelta,
        holds: &[SubjectId],
    ) -> Result<Vec<SubjectId>, Error> {
        let cutoff = now
            .checked_sub_signed(keep)
            .ok_or_else(|| Error::store("the retention cutoff is out of range".to_owned()))?;
        self.locked("cannot purge the log", |tx, subjects, head| {
            let held: Vec<String> = holds.iter().map(|s| subjects.key(s)).collect();
            let due = past_retention(tx, subjects, cutoff, &held)?;
            let mut last = head;
            for subject in &due {
                last = erase_in(tx, subjects, last, subject, now, ErasureReason::Retention)?.0;
            }
            Ok((due, last))
        })
    }

    /// The connection and how subject ids are kept, borrowed apart.
    pub(crate) fn parts(&mut self) -> (&mut Client, &Subjects) {
        (&mut self.client, &self.subjects)
    }

    /// Runs `work` in a transaction that holds the log's head: it is given
    /// the last seq and returns its result and the new last seq, which is
    /// stored and notified before the commit.
    fn locked<T>(
        &mut self,
        what: &str,
        work: impl FnOnce(&mut Transaction<'_>, &Subjects, u64) -> Result<(T, u64), Error>,
    ) -> Result<T, Error> {
        let fail = |e: postgres::Error| db(what, e);
        let mut tx = self.client.transaction().map_err(fail)?;
        let head: i64 = tx
            .query_one("SELECT seq FROM privacy_engine_heads WHERE name = 'consent' FOR UPDATE", &[])
            .and_then(|r| r.try_get(0))
            .map_err(fail)?;
        let head = u64::try_from(head).map_err(|_| Error::store("the log's head is negative".to_owned()))?;
        let (out, last) = work(&mut tx, &self.subjects, head)?;
        if last != head {
            let last_i = seq_param(last)?;
            tx.execute("UPDATE privacy_engine_heads SET seq = $1 WHERE name = 'consent'", &[&last_i]).map_err(fail)?;
            tx.execute("SELECT pg_notify($1, current_schema() || ':' || $2)", &[&CHANNEL, &last.to_string()])
                .map_err(fail)?;
        }
        tx.commit().map_err(fail)?;
        Ok(out)
    }
}

fn seq_param(seq: u64) -> Result<i64, Error> {
    i64::try_from(seq).map_err(|_| Error::store(format!("seq {seq} is out of the store's range")))
}

/// What the log holds under the ids of `events`, read under the head lock.
fn held(tx: &mut Transaction<'_>, events: &[ConsentEvent]) -> Result<Vec<(Uuid, Held)>, Error> {
    let ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
    let rows = tx
        .query("SELECT event_id, seq, kind, body, subject FROM consent_log WHERE event_id = ANY($1)", &[&ids])
        .map_err(|e| db("cannot read the log's event ids", e))?;
    rows.iter()
        .map(|r| {
            let col = |e: postgres::Error| db("cannot read the log's event ids", e);
            let seq: i64 = r.try_get(1).map_err(col)?;
            let held = Held {
                seq: u64::try_from(seq).unwrap_or(0),
                kind: r.try_get(2).map_err(col)?,
                body: r.try_get(3).map_err(col)?,
                subject: r.try_get(4).map_err(col)?,
            };
            Ok((r.try_get(0).map_err(col)?, held))
        })
        .collect()
}

/// Whether `held` is `event` itself, appended before (a retry): same
/// subject, same event. An error for an erased id or other content.
fn retry_of(held: &Held, event: &ConsentEvent, subjects: &Subjects) -> Result<Appended, Error> {
    if held.kind == "removed" {
        return Err(Error::store(format!("consent event id `{}` was erased and cannot be appended again", event.id)));
    }
    let same_subject = held.subject.as_deref() == Some(subjects.key(&event.subject).as_str());
    let stored = held.body.as_deref().and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok());
    let same_event = stored.as_ref().and_then(|v| v.get("event")).is_some_and(|stored| {
        let mut stored = stored.clone();
        if let Some(o) = stored.as_object_mut() {
            o.insert("subject".to_owned(), event.subject.as_str().into());
        }
        serde_json::from_value::<ConsentEvent>(stored).is_ok_and(|s| s == *event)
    });
    if held.kind == "consent" && same_subject && same_event {
        return Ok(Appended { seq: held.seq, fresh: false });
    }
    Err(Error::store(format!("consent event id `{}` is already held with other content", event.id)))
}

/// Inserts `records` numbered from `first`, in one statement.
fn insert(
    tx: &mut Transaction<'_>,
    subjects: &Subjects,
    first: u64,
    records: &[LogRecord],
    recorded: DateTime<Utc>,
) -> Result<(), Error> {
    let n = records.len();
    let (mut seqs, mut kinds, mut ids) = (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut keys, mut sealed, mut bodies) = (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    for (record, seq) in records.iter().zip(first..) {
        seqs.push(seq_param(seq)?);
        kinds.push(codec::kind(record));
        ids.push(match record {
            LogRecord::Consent { event, .. } => Some(event.id),
            _ => None,
        });
        let encoded = codec::encode(record)?;
        keys.push(encoded.as_ref().map(|(s, _)| subjects.key(s)));
        sealed.push(match &encoded {
            Some((s, _)) => subjects.sealed(s)?,
            None => None,
        });
        bodies.push(encoded.map(|(_, b)| b));
    }
    tx.execute(
        "INSERT INTO consent_log (seq, kind, event_id, subject, sealed, recorded, body) \
         SELECT s, k, i, su, se, $7, b FROM unnest($1::bigint[], $2::text[], $3::uuid[], $4::text[], $5::bytea[], $6::text[]) \
         AS t(s, k, i, su, se, b)",
        &[&seqs, &kinds, &ids, &keys, &sealed, &bodies, &recorded],
    )
    .map_err(|e| db("cannot write to the log", e))?;
    Ok(())
}

/// The subjects whose newest consent event was recorded before `cutoff`,
/// but those in `held` (their `subject` column values), in id order.
fn past_retention(
    tx: &mut Transaction<'_>,
    subjects: &Subjects,
    cutoff: DateTime<Utc>,
    held: &[String],
) -> Result<Vec<SubjectId>, Error> {
    let fail = |e: postgres::Error| db("cannot find the records past their retention", e);
    let rows = tx
        .query(
            "SELECT subject, (array_agg(sealed))[1] FROM consent_log WHERE kind = 'consent' \
             GROUP BY subject HAVING max(recorded) < $1 AND NOT subject = ANY($2)",
            &[&cutoff, &held],
        )
        .map_err(fail)?;
    let mut due = Vec::with_capacity(rows.len());
    for row in &rows {
        due.push(subjects.open(row.try_get(0).map_err(fail)?, row.try_get(1).map_err(fail)?)?);
    }
    due.sort();
    Ok(due)
}

/// Erases `subject` inside `tx`, whose log ends at `head`: its events
/// become removed places keeping their ids, the snapshots go, an erasure
/// record follows. Returns its seq and how many events were removed.
fn erase_in(
    tx: &mut Transaction<'_>,
    subjects: &Subjects,
    head: u64,
    subject: &SubjectId,
    at: DateTime<Utc>,
    reason: ErasureReason,
) -> Result<(u64, usize), Error> {
    let fail = |e: postgres::Error| db("cannot erase a subject", e);
    let key = subjects.key(subject);
    let removed = tx
        .execute(
            "UPDATE consent_log SET kind = 'removed', subject = NULL, sealed = NULL, body = NULL \
             WHERE subject = $1 AND kind = 'consent'",
            &[&key],
        )
        .map_err(fail)?;
    tx.execute("DELETE FROM consent_snapshots", &[]).map_err(fail)?;
    let seq = head + 1;
    let erasure = LogRecord::Erasure { subject: subject.clone(), at, reason };
    insert(tx, subjects, seq, std::slice::from_ref(&erasure), at)?;
    let seq_i = seq_param(seq)?;
    tx.execute("UPDATE privacy_engine_heads SET seq = $1 WHERE name = 'consent_erased'", &[&seq_i]).map_err(fail)?;
    Ok((seq, usize::try_from(removed).unwrap_or(usize::MAX)))
}

impl DurableLog for PgLog {
    fn append(&mut self, events: &[ConsentEvent], recorded: DateTime<Utc>) -> Result<Vec<Appended>, Error> {
        check_append(events, recorded)?;
        self.locked("cannot append to the log", |tx, subjects, head| {
            let held = held(tx, events)?;
            let mut appended = Vec::with_capacity(events.len());
            let mut fresh = Vec::new();
            let mut next = head;
            for event in events {
                match held.iter().find(|(id, _)| *id == event.id) {
                    Some((_, h)) => appended.push(retry_of(h, event, subjects)?),
                    None => {
                        next += 1;
                        appended.push(Appended { seq: next, fresh: true });
                        fresh.push(LogRecord::Consent { event: event.clone(), recorded });
                    }
                }
            }
            if !fresh.is_empty() {
                insert(tx, subjects, head + 1, &fresh, recorded)?;
            }
            Ok((appended, next))
        })
    }

    fn read_after(&mut self, after: u64, limit: usize) -> Result<Vec<LogEntry>, Error> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .client
            .query(
                &format!("SELECT {COLUMNS} FROM consent_log WHERE seq > $1 ORDER BY seq LIMIT $2"),
                &[&after, &limit],
            )
            .map_err(|e| db("cannot read the log", e))?;
        rows.iter().map(|r| codec::decode(r, &self.subjects)).collect()
    }

    fn subjects(&mut self) -> Result<Vec<SubjectId>, Error> {
        let rows = self
            .client
            .query(
                "SELECT DISTINCT ON (subject) subject, sealed FROM consent_log WHERE kind = 'consent' ORDER BY subject",
                &[],
            )
            .map_err(|e| db("cannot list the log's subjects", e))?;
        let mut subjects = rows
            .iter()
            .map(|r| {
                let col = |e: postgres::Error| db("cannot list the log's subjects", e);
                self.subjects.open(r.try_get(0).map_err(col)?, r.try_get(1).map_err(col)?)
            })
            .collect::<Result<Vec<_>, _>>()?;
        subjects.sort();
        Ok(subjects)
    }

    fn subject_records(&mut self, subject: &SubjectId) -> Result<Vec<LogEntry>, Error> {
        let key = self.subjects.key(subject);
        let rows = self
            .client
            .query(&format!("SELECT {COLUMNS} FROM consent_log WHERE subject = $1 ORDER BY seq"), &[&key])
            .map_err(|e| db("cannot read a subject's records", e))?;
        rows.iter().map(|r| codec::decode(r, &self.subjects)).collect()
    }

    fn erase_subject(
        &mut self,
        subject: &SubjectId,
        at: DateTime<Utc>,
        reason: ErasureReason,
    ) -> Result<(u64, usize), Error> {
        self.locked("cannot erase a subject", |tx, subjects, head| {
            let (seq, removed) = erase_in(tx, subjects, head, subject, at, reason)?;
            Ok(((seq, removed), seq))
        })
    }

    fn snapshot(&mut self) -> Result<Option<(u64, Vec<u8>)>, Error> {
        let fail = |e: postgres::Error| db("cannot read the log's snapshot", e);
        let row = self
            .client
            .query_opt("SELECT seq, bytes FROM consent_snapshots ORDER BY seq DESC LIMIT 1", &[])
            .map_err(fail)?;
        let Some(row) = row else { return Ok(None) };
        let seq: i64 = row.try_get(0).map_err(fail)?;
        let seq = u64::try_from(seq).map_err(|_| Error::store(format!("a snapshot is numbered {seq}")))?;
        Ok(Some((seq, row.try_get(1).map_err(fail)?)))
    }

    fn save_snapshot(&mut self, seq: u64, bytes: &[u8]) -> Result<(), Error> {
        self.locked("cannot save a snapshot", |tx, _, head| {
            let fail = |e: postgres::Error| db("cannot save a snapshot", e);
            let erased: i64 = tx
                .query_one("SELECT seq FROM privacy_engine_heads WHERE name = 'consent_erased'", &[])
                .and_then(|r| r.try_get(0))
                .map_err(fail)?;
            check_snapshot(seq, head, u64::try_from(erased).unwrap_or(0))?;
            let seq_i = seq_param(seq)?;
            tx.execute("DELETE FROM consent_snapshots", &[]).map_err(fail)?;
            tx.execute("INSERT INTO consent_snapshots VALUES ($1, $2)", &[&seq_i, &bytes]).map_err(fail)?;
            Ok(((), head))
        })
    }
}
