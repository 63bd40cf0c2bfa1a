//! The rights-request cases in PostgreSQL: [`CaseStore`] for [`PgLog`],
//! one row per case in `rights_cases` and one per step in
//! `rights_case_steps` (schema version 2).
//!
//! Writers of one case take turns on a transaction-scoped advisory lock
//! named after it, so that each checks its step against the steps before
//! it, however many instances record steps at once.

use chrono::{DateTime, NaiveDate, Utc};
use postgres::GenericClient;
use uuid::Uuid;

use super::PgLog;
use super::codec::Subjects;
use super::schema::db;
use crate::durable::cases::{step_body, step_from_body};
use crate::error::Error;
use crate::ids::SubjectId;
use crate::rights::{CaseEvent, CaseId, CaseStore, RightsCase, Step, check_step};

/// The columns a read of `rights_cases` selects, in this order.
const HEAD: &str = "id, subject, sealed";

/// The steps of `case` of `subject`, oldest first.
fn steps(client: &mut impl GenericClient, case: CaseId, subject: &SubjectId) -> Result<Vec<CaseEvent>, Error> {
    let fail = |e| db("cannot read a case", e);
    let rows =
        client.query("SELECT body FROM rights_case_steps WHERE case_id = $1 ORDER BY n", &[&case.0]).map_err(fail)?;
    rows.iter().map(|r| step_from_body(case, subject, r.try_get(0).map_err(fail)?)).collect()
}

/// The cases whose rows `select` (with `params`, selecting [`HEAD`]) gives,
/// with their steps, in the order selected.
fn cases_where(
    client: &mut impl GenericClient,
    subjects: &Subjects,
    select: &str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
) -> Result<Vec<RightsCase>, Error> {
    let fail = |e| db("cannot read cases", e);
    let heads = client.query(select, params).map_err(fail)?;
    let mut cases = Vec::with_capacity(heads.len());
    for head in &heads {
        let case = CaseId(head.try_get::<_, Uuid>(0).map_err(fail)?);
        let subject = subjects.open(head.try_get(1).map_err(fail)?, head.try_get(2).map_err(fail)?)?;
        let steps = steps(client, case, &subject)?;
        let refuse = || Error::store(format!("case `{}` has no first step", case.0));
        cases.push(RightsCase::from_history(steps).ok_or_else(refuse)?);
    }
    Ok(cases)
}

impl CaseStore for PgLog {
    fn record_case(&mut self, event: &CaseEvent) -> Result<(), Error> {
        let (client, subjects) = self.parts();
        let fail = |e| db("cannot record a case", e);
        let mut tx = client.transaction().map_err(fail)?;
        let key = event.case.0.to_string();
        tx.execute("SELECT pg_advisory_xact_lock(hashtext('privacy_engine_case'), hashtext($1))", &[&key])
            .map_err(fail)?;
        let select = format!("SELECT {HEAD} FROM rights_cases WHERE id = $1");
        let history = cases_where(&mut tx, subjects, &select, &[&event.case.0])?
            .into_iter()
            .next()
            .map_or_else(Vec::new, |c| c.history);
        if check_step(&history, event)? == Step::Repeated {
            return Ok(());
        }
        let state = event.state.name();
        if history.is_empty() {
            let received: DateTime<Utc> = event.at;
            tx.execute(
                "INSERT INTO rights_cases (id, subject, sealed, received, state, due) VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &event.case.0,
                    &subjects.key(&event.subject),
                    &subjects.sealed(&event.subject)?,
                    &received,
                    &state,
                    &event.due,
                ],
            )
            .map_err(fail)?;
        } else {
            tx.execute(
                "UPDATE rights_cases SET state = $2, due = coalesce($3, due) WHERE id = $1",
                &[&event.case.0, &state, &event.due],
            )
            .map_err(fail)?;
        }
        let n = i32::try_from(history.len())
            .map_err(|_| Error::store(format!("case `{}` has too many steps", event.case.0)))?;
        tx.execute(
            "INSERT INTO rights_case_steps (case_id, n, body) VALUES ($1, $2, $3)",
            &[&event.case.0, &n, &step_body(event)?],
        )
        .map_err(fail)?;
        tx.commit().map_err(fail)
    }

    fn case(&mut self, id: CaseId) -> Result<Option<RightsCase>, Error> {
        let (client, subjects) = self.parts();
        let select = format!("SELECT {HEAD} FROM rights_cases WHERE id = $1");
        Ok(cases_where(client, subjects, &select, &[&id.0])?.into_iter().next())
    }

    fn cases_of(&mut self, subject: &SubjectId) -> Result<Vec<RightsCase>, Error> {
        let (client, subjects) = self.parts();
        let select = format!("SELECT {HEAD} FROM rights_cases WHERE subject = $1 ORDER BY received, id");
        cases_where(client, subjects, &select, &[&subjects.key(subject)])
    }

    fn overdue(&mut self, today: NaiveDate, limit: usize) -> Result<Vec<RightsCase>, Error> {
        let (client, subjects) = self.parts();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let select =
            format!("SELECT {HEAD} FROM rights_cases WHERE state <> 'answered' AND due < $1 ORDER BY due, id LIMIT $2");
        cases_where(client, subjects, &select, &[&today, &limit])
    }
}
