//! The accounts' lifecycle events in PostgreSQL: [`LifecycleStore`] for
//! [`PgLog`], one row per event in `lifecycle_events` (schema version 3).
//!
//! Writers of one subject's events take turns on a transaction-scoped
//! advisory lock named after the subject's key, so that each checks its
//! event against the ones before it, however many instances record at
//! once.

use chrono::{DateTime, Utc};
use postgres::GenericClient;
use uuid::Uuid;

use super::PgLog;
use super::codec::Subjects;
use super::schema::db;
use crate::durable::lifecycle::{event_body, event_from_body};
use crate::error::Error;
use crate::ids::SubjectId;
use crate::lifecycle::{LifecycleEvent, LifecycleStore, check_event};
use crate::rights::Step;

/// The events `where_` (a condition on `lifecycle_events`, with `params`)
/// selects, by time, then in the order recorded.
fn events_where(
    client: &mut impl GenericClient,
    subjects: &Subjects,
    where_: &str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
) -> Result<Vec<LifecycleEvent>, Error> {
    let fail = |e| db("cannot read lifecycle events", e);
    let select = format!("SELECT id, subject, sealed, body FROM lifecycle_events WHERE {where_} ORDER BY at, seq");
    let rows = client.query(&select, params).map_err(fail)?;
    rows.iter()
        .map(|r| {
            let id: Uuid = r.try_get(0).map_err(fail)?;
            let subject = subjects.open(r.try_get(1).map_err(fail)?, r.try_get(2).map_err(fail)?)?;
            event_from_body(id, &subject, r.try_get(3).map_err(fail)?)
        })
        .collect()
}

impl LifecycleStore for PgLog {
    fn record_lifecycle(&mut self, event: &LifecycleEvent) -> Result<(), Error> {
        let (client, subjects) = self.parts();
        let fail = |e| db("cannot record a lifecycle event", e);
        let mut tx = client.transaction().map_err(fail)?;
        let key = subjects.key(&event.subject);
        tx.execute("SELECT pg_advisory_xact_lock(hashtext('privacy_engine_lifecycle'), hashtext($1))", &[&key])
            .map_err(fail)?;
        let history = events_where(&mut tx, subjects, "subject = $1 OR id = $2", &[&key, &event.id])?;
        if check_event(&history, event)? == Step::Repeated {
            return Ok(());
        }
        let at: DateTime<Utc> = event.at.to_utc();
        tx.execute(
            "INSERT INTO lifecycle_events (id, subject, sealed, at, body) VALUES ($1, $2, $3, $4, $5)",
            &[&event.id, &key, &subjects.sealed(&event.subject)?, &at, &event_body(event)?],
        )
        .map_err(fail)?;
        tx.commit().map_err(fail)
    }

    fn lifecycle_of(&mut self, subject: &SubjectId) -> Result<Vec<LifecycleEvent>, Error> {
        let (client, subjects) = self.parts();
        events_where(client, subjects, "subject = $1", &[&subjects.key(subject)])
    }
}
