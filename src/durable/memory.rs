//! A durable log in memory: the model every backend is compared with, and a
//! log for tests.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{Appended, DurableLog, ErasureReason, LogEntry, LogRecord, check_append, check_snapshot};
use crate::consent::ConsentEvent;
use crate::error::Error;
use crate::ids::SubjectId;
use crate::lifecycle::{LifecycleEvent, LifecycleStore, check_event, in_time_order};
use crate::rights::{CaseEvent, CaseId, CaseStore, RightsCase, Step, check_step};

/// A [`DurableLog`] in memory, which keeps its records only as long as the
/// value lives.
///
/// It follows the log's contract exactly, as every backend must: event
/// ids unique across the whole log, a retried append idempotent, an
/// erased id refused for good, erased events kept as
/// [`Removed`](LogRecord::Removed) places. The durable backends are tested
/// against it; use it where a test or a tool needs a log and no file.
///
/// # Example
///
/// ```
/// use privacy_engine::{ConsentEvent, DurableLog, InMemoryLog, Replica};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let event: ConsentEvent = serde_json::from_str(r#"{"id": "00000000-0000-0000-0000-000000000001",
///     "at": "2024-05-01T10:00:00+08:00", "subject": "user-42", "policy_id": "seed-004",
///     "policy_version": "1", "change": {"type": "refuse",
///     "scope": {"purposes": ["marketing"], "categories": ["user.contact"]}}}"#)?;
/// let mut replica = Replica::open(InMemoryLog::new())?;
/// let recorded = "2024-05-01T02:00:01Z".parse()?;
/// let first = replica.append(event.clone(), recorded)?;
/// let retried = replica.append(event, recorded)?;
/// assert!(first.fresh && !retried.fresh && first.seq == retried.seq);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct InMemoryLog {
    /// Record `seq` at index `seq - 1`.
    records: Vec<LogRecord>,
    /// Every event id the log has held: the seq of its record, or `None`
    /// once it was erased.
    ids: HashMap<Uuid, Option<u64>>,
    snapshot: Option<(u64, Vec<u8>)>,
    /// The seq of the last erasure: no snapshot from before it is kept.
    erased_at: u64,
    /// The rights-request cases, each its steps, oldest first.
    cases: BTreeMap<CaseId, Vec<CaseEvent>>,
    /// The lifecycle events, in the order they were recorded.
    lifecycle: Vec<LifecycleEvent>,
}

impl InMemoryLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many records the log holds, [`Removed`](LogRecord::Removed)
    /// places included: the seq of the last one.
    pub fn len(&self) -> u64 {
        self.records.len() as u64
    }

    /// Whether the log holds no record.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    fn push(&mut self, record: LogRecord) -> u64 {
        self.records.push(record);
        self.len()
    }

    fn entry(seq: u64, record: &LogRecord) -> LogEntry {
        LogEntry { seq, record: record.clone() }
    }

    /// What an append does with `event`: `Some` for a retry of an event the
    /// log holds, `None` for a new one; an error for a conflicting or erased
    /// id.
    fn retried(&self, event: &ConsentEvent) -> Result<Option<Appended>, Error> {
        let Some(&held) = self.ids.get(&event.id) else { return Ok(None) };
        let Some(seq) = held else {
            return Err(Error::store(format!(
                "consent event id `{}` was erased and cannot be appended again",
                event.id
            )));
        };
        let index = usize::try_from(seq - 1).ok();
        match index.and_then(|i| self.records.get(i)) {
            Some(LogRecord::Consent { event: stored, .. }) if stored == event => {
                Ok(Some(Appended { seq, fresh: false }))
            }
            _ => Err(Error::store(format!("consent event id `{}` is already held with other content", event.id))),
        }
    }
}

impl DurableLog for InMemoryLog {
    fn append(&mut self, events: &[ConsentEvent], recorded: DateTime<Utc>) -> Result<Vec<Appended>, Error> {
        check_append(events, recorded)?;
        let retried = events.iter().map(|e| self.retried(e)).collect::<Result<Vec<_>, _>>()?;
        let mut appended = Vec::with_capacity(events.len());
        for (event, retry) in events.iter().zip(retried) {
            if let Some(retry) = retry {
                appended.push(retry);
                continue;
            }
            let seq = self.push(LogRecord::Consent { event: event.clone(), recorded });
            self.ids.insert(event.id, Some(seq));
            appended.push(Appended { seq, fresh: true });
        }
        Ok(appended)
    }

    fn read_after(&mut self, after: u64, limit: usize) -> Result<Vec<LogEntry>, Error> {
        let start = usize::try_from(after).unwrap_or(usize::MAX);
        let records = self.records.get(start..).unwrap_or_default();
        Ok(records.iter().zip(after + 1..).take(limit).map(|(r, seq)| Self::entry(seq, r)).collect())
    }

    fn subjects(&mut self) -> Result<Vec<SubjectId>, Error> {
        let subjects: BTreeSet<&SubjectId> = self
            .records
            .iter()
            .filter_map(|r| match r {
                LogRecord::Consent { event, .. } => Some(&event.subject),
                _ => None,
            })
            .collect();
        Ok(subjects.into_iter().cloned().collect())
    }

    fn subject_records(&mut self, subject: &SubjectId) -> Result<Vec<LogEntry>, Error> {
        let about = |r: &LogRecord| match r {
            LogRecord::Consent { event, .. } => event.subject == *subject,
            LogRecord::Erasure { subject: s, .. } => s == subject,
            LogRecord::Removed => false,
        };
        Ok(self.records.iter().zip(1..).filter(|(r, _)| about(r)).map(|(r, seq)| Self::entry(seq, r)).collect())
    }

    fn erase_subject(
        &mut self,
        subject: &SubjectId,
        at: DateTime<Utc>,
        reason: ErasureReason,
    ) -> Result<(u64, usize), Error> {
        let mut removed = 0;
        for record in &mut self.records {
            if let LogRecord::Consent { event, .. } = record
                && event.subject == *subject
            {
                self.ids.insert(event.id, None);
                *record = LogRecord::Removed;
                removed += 1;
            }
        }
        self.snapshot = None;
        let seq = self.push(LogRecord::Erasure { subject: subject.clone(), at, reason });
        self.erased_at = seq;
        Ok((seq, removed))
    }

    fn snapshot(&mut self) -> Result<Option<(u64, Vec<u8>)>, Error> {
        Ok(self.snapshot.clone())
    }

    fn save_snapshot(&mut self, seq: u64, bytes: &[u8]) -> Result<(), Error> {
        check_snapshot(seq, self.len(), self.erased_at)?;
        self.snapshot = Some((seq, bytes.to_vec()));
        Ok(())
    }
}

impl CaseStore for InMemoryLog {
    fn record_case(&mut self, event: &CaseEvent) -> Result<(), Error> {
        let history = self.cases.get(&event.case).map_or(&[][..], Vec::as_slice);
        if check_step(history, event)? == Step::Fresh {
            self.cases.entry(event.case).or_default().push(event.clone());
        }
        Ok(())
    }

    fn case(&mut self, id: CaseId) -> Result<Option<RightsCase>, Error> {
        Ok(self.cases.get(&id).and_then(|steps| RightsCase::from_history(steps.clone())))
    }

    fn cases_of(&mut self, subject: &SubjectId) -> Result<Vec<RightsCase>, Error> {
        let mut cases: Vec<RightsCase> = self
            .cases
            .values()
            .filter(|steps| steps.first().is_some_and(|s| s.subject == *subject))
            .filter_map(|steps| RightsCase::from_history(steps.clone()))
            .collect();
        cases.sort_by_key(|c| (c.history.first().map(|s| s.at), c.id));
        Ok(cases)
    }

    fn overdue(&mut self, today: NaiveDate, limit: usize) -> Result<Vec<RightsCase>, Error> {
        let mut cases: Vec<RightsCase> = self
            .cases
            .values()
            .filter_map(|steps| RightsCase::from_history(steps.clone()))
            .filter(|c| c.overdue_on(today))
            .collect();
        cases.sort_by_key(|c| (c.due, c.id));
        cases.truncate(limit);
        Ok(cases)
    }
}

impl LifecycleStore for InMemoryLog {
    fn record_lifecycle(&mut self, event: &LifecycleEvent) -> Result<(), Error> {
        let history: Vec<LifecycleEvent> =
            self.lifecycle.iter().filter(|e| e.subject == event.subject || e.id == event.id).cloned().collect();
        if check_event(&history, event)? == Step::Fresh {
            self.lifecycle.push(event.clone());
        }
        Ok(())
    }

    fn lifecycle_of(&mut self, subject: &SubjectId) -> Result<Vec<LifecycleEvent>, Error> {
        Ok(in_time_order(self.lifecycle.iter().filter(|e| e.subject == *subject).cloned().collect()))
    }
}
