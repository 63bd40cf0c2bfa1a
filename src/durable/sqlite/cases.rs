//! The rights-request cases in the SQLite file: [`CaseStore`] for
//! [`SqliteLog`], one row per case in `cases` and one per step in
//! `case_steps` (schema version 2).

use chrono::NaiveDate;
use rusqlite::{Connection, TransactionBehavior, params};

use super::SqliteLog;
use super::rows::{self, Subjects};
use super::schema::failed;
use crate::durable::cases::{step_body, step_from_body};
use crate::error::Error;
use crate::ids::SubjectId;
use crate::rights::{CaseEvent, CaseId, CaseStore, RightsCase, Step, check_step};

/// A case's row: its id's bytes, its `subject` and `sealed` columns.
type Head = (Vec<u8>, String, Option<Vec<u8>>);

impl SqliteLog {
    /// The cases whose rows `select` (with `params`) gives, with their
    /// steps, in the order selected.
    fn cases_where(&self, select: &str, params: impl rusqlite::Params) -> Result<Vec<RightsCase>, Error> {
        let fail = failed(&self.path, "read cases from");
        let heads: Vec<Head> = {
            let mut select = self.conn.prepare_cached(select).map_err(&fail)?;
            let rows = select.query_map(params, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).map_err(&fail)?;
            rows.collect::<Result<_, _>>().map_err(&fail)?
        };
        heads.into_iter().map(|head| self.case_of(head)).collect()
    }

    /// The case of `head`, with its steps.
    fn case_of(&self, (id, key, sealed): Head) -> Result<RightsCase, Error> {
        let case = case_id(&id, &self.path)?;
        let subject = self.subjects.open(key, sealed.as_deref())?;
        let steps = steps(&self.conn, &self.path, case, &subject)?;
        RightsCase::from_history(steps)
            .ok_or_else(|| Error::store(format!("case `{}` in `{}` has no first step", case.0, self.path.display())))
    }
}

fn case_id(bytes: &[u8], path: &std::path::Path) -> Result<CaseId, Error> {
    uuid::Uuid::from_slice(bytes)
        .map(CaseId)
        .map_err(|_| Error::store(format!("a case of `{}` has a malformed id", path.display())))
}

/// The steps of `case` of `subject`, oldest first.
fn steps(
    conn: &Connection,
    path: &std::path::Path,
    case: CaseId,
    subject: &SubjectId,
) -> Result<Vec<CaseEvent>, Error> {
    let fail = failed(path, "read cases from");
    let mut select = conn.prepare_cached("SELECT body FROM case_steps WHERE case_id = ?1 ORDER BY n").map_err(&fail)?;
    let bodies = select.query_map([case.0.as_bytes().as_slice()], |r| r.get::<_, String>(0)).map_err(&fail)?;
    bodies.map(|b| b.map_err(&fail).and_then(|b| step_from_body(case, subject, &b))).collect()
}

/// The steps `event`'s case holds in `conn`, read as `subjects` keeps them.
fn history(
    conn: &Connection,
    path: &std::path::Path,
    subjects: &Subjects,
    case: CaseId,
) -> Result<Vec<CaseEvent>, Error> {
    let fail = failed(path, "read cases from");
    let head: Option<(String, Option<Vec<u8>>)> = {
        let mut select = conn.prepare_cached("SELECT subject, sealed FROM cases WHERE id = ?1").map_err(&fail)?;
        let mut rows =
            select.query_map([case.0.as_bytes().as_slice()], |r| Ok((r.get(0)?, r.get(1)?))).map_err(&fail)?;
        rows.next().transpose().map_err(&fail)?
    };
    let Some((key, sealed)) = head else { return Ok(Vec::new()) };
    let subject = subjects.open(key, sealed.as_deref())?;
    steps(conn, path, case, &subject)
}

impl CaseStore for SqliteLog {
    fn record_case(&mut self, event: &CaseEvent) -> Result<(), Error> {
        let Self { path, conn, subjects, .. } = self;
        let fail = failed(path, "record a case in");
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(&fail)?;
        let history = history(&tx, path, subjects, event.case)?;
        if check_step(&history, event)? == Step::Repeated {
            return Ok(());
        }
        let id = event.case.0.as_bytes().as_slice();
        let due = event.due.map(|d| d.to_string());
        if history.is_empty() {
            let columns = subjects.columns(&event.subject)?;
            tx.execute(
                "INSERT INTO cases (id, subject, sealed, received, state, due) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, columns.key, columns.sealed, rows::time_text(event.at), event.state.name(), due],
            )
            .map_err(&fail)?;
        } else {
            tx.execute(
                "UPDATE cases SET state = ?2, due = coalesce(?3, due) WHERE id = ?1",
                params![id, event.state.name(), due],
            )
            .map_err(&fail)?;
        }
        let n = i64::try_from(history.len()).unwrap_or(i64::MAX);
        tx.execute("INSERT INTO case_steps (case_id, n, body) VALUES (?1, ?2, ?3)", params![id, n, step_body(event)?])
            .map_err(&fail)?;
        tx.commit().map_err(&fail)
    }

    fn case(&mut self, id: CaseId) -> Result<Option<RightsCase>, Error> {
        let cases =
            self.cases_where("SELECT id, subject, sealed FROM cases WHERE id = ?1", [id.0.as_bytes().as_slice()])?;
        Ok(cases.into_iter().next())
    }

    fn cases_of(&mut self, subject: &SubjectId) -> Result<Vec<RightsCase>, Error> {
        let key = self.subjects.key(subject);
        self.cases_where("SELECT id, subject, sealed FROM cases WHERE subject = ?1 ORDER BY received, id", [key])
    }

    fn overdue(&mut self, today: NaiveDate, limit: usize) -> Result<Vec<RightsCase>, Error> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.cases_where(
            "SELECT id, subject, sealed FROM cases WHERE state <> 'answered' AND due < ?1 ORDER BY due, id LIMIT ?2",
            params![today.to_string(), limit],
        )
    }
}
