//! The accounts' lifecycle events in the SQLite file: [`LifecycleStore`]
//! for [`SqliteLog`], one row per event in `lifecycle_events` (schema
//! version 3).

use rusqlite::{Connection, TransactionBehavior, params};
use uuid::Uuid;

use super::SqliteLog;
use super::rows::{self, Subjects};
use super::schema::failed;
use crate::durable::lifecycle::{event_body, event_from_body};
use crate::error::Error;
use crate::ids::SubjectId;
use crate::lifecycle::{LifecycleEvent, LifecycleStore, check_event};
use crate::rights::Step;

/// A row: its id's bytes, `subject`, `sealed` and `body` columns.
type Row = (Vec<u8>, String, Option<Vec<u8>>, String);

/// The events `where_` (a condition on `lifecycle_events`, with `params`)
/// selects, by time, then in the order recorded.
fn events_where(
    conn: &Connection,
    path: &std::path::Path,
    subjects: &Subjects,
    where_: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<LifecycleEvent>, Error> {
    let fail = failed(path, "read lifecycle events from");
    let rows: Vec<Row> = {
        let select = format!("SELECT id, subject, sealed, body FROM lifecycle_events WHERE {where_} ORDER BY at, seq");
        let mut select = conn.prepare_cached(&select).map_err(&fail)?;
        let rows = select.query_map(params, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).map_err(&fail)?;
        rows.collect::<Result<_, _>>().map_err(&fail)?
    };
    rows.into_iter()
        .map(|(id, key, sealed, body)| {
            let id = Uuid::from_slice(&id)
                .map_err(|_| Error::store(format!("a lifecycle event of `{}` has a malformed id", path.display())))?;
            event_from_body(id, &subjects.open(key, sealed.as_deref())?, &body)
        })
        .collect()
}

impl LifecycleStore for SqliteLog {
    fn record_lifecycle(&mut self, event: &LifecycleEvent) -> Result<(), Error> {
        let Self { path, conn, subjects, .. } = self;
        let fail = failed(path, "record a lifecycle event in");
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(&fail)?;
        let columns = subjects.columns(&event.subject)?;
        let id = event.id.as_bytes().as_slice();
        let history = events_where(&tx, path, subjects, "subject = ?1 OR id = ?2", params![columns.key, id])?;
        if check_event(&history, event)? == Step::Repeated {
            return Ok(());
        }
        let at = rows::time_text(event.at.to_utc());
        tx.execute(
            "INSERT INTO lifecycle_events (id, subject, sealed, at, body) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, columns.key, columns.sealed, at, event_body(event)?],
        )
        .map_err(&fail)?;
        tx.commit().map_err(&fail)
    }

    fn lifecycle_of(&mut self, subject: &SubjectId) -> Result<Vec<LifecycleEvent>, Error> {
        let key = self.subjects.key(subject);
        events_where(&self.conn, &self.path, &self.subjects, "subject = ?1", [key])
    }
}
