//! A rights request kept as a case, with its states and history.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::answer::AnswerOutcome;
use super::request::RightsRequestKind;
use crate::error::Error;
use crate::ids::SubjectId;

/// A case's id, chosen by the caller (a UUID, as consent events have).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CaseId(pub Uuid);

/// Where a case stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CaseState {
    /// Received; the deadline runs.
    Received,
    /// The requester's identity was verified.
    IdentityVerified,
    /// The deadline was extended (with notice to the person).
    Extended,
    /// Answered: the case is closed.
    Answered,
}

/// One step of a case: the state it entered, when, and the deadline from
/// then on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CaseEvent {
    /// The case.
    pub case: CaseId,
    /// Whose request it is.
    pub subject: SubjectId,
    /// The state entered.
    pub state: CaseState,
    /// When.
    pub at: DateTime<Utc>,
    /// What was asked: on `Received`, required; otherwise `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub right: Option<RightsRequestKind>,
    /// The deadline from this step on (set on `Received` and `Extended`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<NaiveDate>,
    /// The calendar version the deadline was computed on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<String>,
    /// On `Answered`: how.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<AnswerOutcome>,
}

/// A case: what was asked, where it stands, its deadline and its history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RightsCase {
    /// The case's id.
    pub id: CaseId,
    /// Whose request it is.
    pub subject: SubjectId,
    /// What was asked.
    pub right: RightsRequestKind,
    /// The state it is in now.
    pub state: CaseState,
    /// The deadline now in force.
    pub due: Option<NaiveDate>,
    /// Every step, oldest first.
    pub history: Vec<CaseEvent>,
}

/// Where cases are kept: implemented by every durable store, so a restart
/// loses no case and an overdue case can be listed.
///
/// Reads take `&mut self`, as [`DurableLog`](crate::DurableLog)'s do: a
/// store's reads are I/O on a connection it owns.
pub trait CaseStore {
    /// Records one step of a case. The first step of a case must be
    /// `Received` with its `right`; a step on a closed case, or out of
    /// order, is refused; the same step again is a no-op.
    ///
    /// # Errors
    ///
    /// An error of kind [`Rights`](crate::ErrorKind::Rights) for a step the
    /// case's state does not allow, or [`Store`](crate::ErrorKind::Store)
    /// when the store fails.
    fn record_case(&mut self, event: &CaseEvent) -> Result<(), Error>;

    /// The case `id`, if it is known.
    ///
    /// # Errors
    ///
    /// An error of kind [`Store`](crate::ErrorKind::Store).
    fn case(&mut self, id: CaseId) -> Result<Option<RightsCase>, Error>;

    /// The cases of `subject`, oldest first.
    ///
    /// # Errors
    ///
    /// An error of kind [`Store`](crate::ErrorKind::Store).
    fn cases_of(&mut self, subject: &SubjectId) -> Result<Vec<RightsCase>, Error>;

    /// The open cases whose deadline is before `today`, earliest deadline
    /// first, at most `limit`.
    ///
    /// # Errors
    ///
    /// An error of kind [`Store`](crate::ErrorKind::Store).
    fn overdue(&mut self, today: NaiveDate, limit: usize) -> Result<Vec<RightsCase>, Error>;
}

impl CaseEvent {
    /// A step of case `case` of `subject` entering `state` at `at`, with no
    /// right, deadline, calendar or outcome: set them with the setters.
    pub fn new(case: CaseId, subject: impl Into<SubjectId>, state: CaseState, at: DateTime<Utc>) -> Self {
        Self { case, subject: subject.into(), state, at, right: None, due: None, calendar: None, outcome: None }
    }

    /// The first step of a case: `right` received at `at`, due on `due`.
    pub fn received(
        case: CaseId,
        subject: impl Into<SubjectId>,
        right: RightsRequestKind,
        at: DateTime<Utc>,
        due: NaiveDate,
    ) -> Self {
        Self::new(case, subject, CaseState::Received, at).right(right).due(due)
    }

    /// Sets what was asked.
    #[must_use]
    pub fn right(mut self, right: RightsRequestKind) -> Self {
        self.right = Some(right);
        self
    }

    /// Sets the deadline from this step on.
    #[must_use]
    pub fn due(mut self, due: NaiveDate) -> Self {
        self.due = Some(due);
        self
    }

    /// Sets the version of the calendar the deadline was computed on.
    #[must_use]
    pub fn calendar(mut self, calendar: impl Into<String>) -> Self {
        self.calendar = Some(calendar.into());
        self
    }

    /// Sets how the case was answered.
    #[must_use]
    pub fn outcome(mut self, outcome: AnswerOutcome) -> Self {
        self.outcome = Some(outcome);
        self
    }
}

impl CaseState {
    /// The state's name as a store keeps it (its JSON form).
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::IdentityVerified => "identity_verified",
            Self::Extended => "extended",
            Self::Answered => "answered",
        }
    }
}

/// What recording a step does, once [`check_step`] allowed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// The step is new: the store writes it.
    Fresh,
    /// The case already holds this very step: nothing is written.
    Repeated,
}

/// The one rule of a case's steps, which every [`CaseStore`] applies before
/// it writes: `history` is the case's steps so far (oldest first, empty for
/// a new case), `event` the step to record.
///
/// The first step is `Received`, with the right and the deadline; after it
/// come `IdentityVerified` (once), `Extended` (with a deadline later than
/// the one in force) and `Answered` (with its outcome), none dated before
/// the step before it; nothing comes after `Answered`. A step the case
/// already holds (same state and time) is [`Step::Repeated`] if it is the
/// same step, refused if it says something else. Only `Received` and
/// `Extended` carry a deadline, only `Received` a right, only `Answered` an
/// outcome; a step names the case's own subject.
///
/// # Errors
///
/// An error of kind [`Rights`](crate::ErrorKind::Rights) naming the case
/// (never the subject) for a step the rule refuses.
pub(crate) fn check_step(history: &[CaseEvent], event: &CaseEvent) -> Result<Step, Error> {
    let refuse = |why: &str| Err(Error::rights(format!("case `{}`: {why}", event.case.0)));
    if let Some(held) = history.iter().find(|h| h.state == event.state && h.at == event.at) {
        return if held == event { Ok(Step::Repeated) } else { refuse("this step is already recorded otherwise") };
    }
    if let Err(why) = check_fields(event) {
        return refuse(why);
    }
    let Some(first) = history.first() else {
        return if event.state == CaseState::Received {
            Ok(Step::Fresh)
        } else {
            refuse("its first step must be `received`")
        };
    };
    if first.subject != event.subject {
        return refuse("a step names another subject than the case");
    }
    let case = fold(history);
    if history.last().is_some_and(|last| event.at < last.at) {
        return refuse("a step is dated before the step before it");
    }
    match (case.state, event.state) {
        (CaseState::Answered, _) => refuse("the case is answered: no step comes after it"),
        (_, CaseState::Received) => refuse("the case is already received"),
        (_, CaseState::IdentityVerified) if history.iter().any(|h| h.state == CaseState::IdentityVerified) => {
            refuse("the requester's identity is already verified")
        }
        (_, CaseState::Extended) if event.due <= case.due => refuse("an extension must move the deadline later"),
        _ => Ok(Step::Fresh),
    }
}

/// Which fields a step of its state carries.
fn check_fields(event: &CaseEvent) -> Result<(), &'static str> {
    let state = event.state;
    if event.right.is_some() != (state == CaseState::Received) {
        return Err("only a `received` step names the right, and it must");
    }
    if event.due.is_some() != matches!(state, CaseState::Received | CaseState::Extended) {
        return Err("only `received` and `extended` steps carry a deadline, and they must");
    }
    if event.outcome.is_some() != (state == CaseState::Answered) {
        return Err("only an `answered` step carries an outcome, and it must");
    }
    Ok(())
}

/// Where the steps `history` (allowed by [`check_step`], oldest first) leave
/// the case: its state and deadline.
struct Folded {
    state: CaseState,
    due: Option<NaiveDate>,
}

fn fold(history: &[CaseEvent]) -> Folded {
    let mut case = Folded { state: CaseState::Received, due: None };
    for step in history {
        case.state = step.state;
        if step.due.is_some() {
            case.due = step.due;
        }
    }
    case
}

impl RightsCase {
    /// The case its steps (allowed by [`check_step`], oldest first) make;
    /// `None` for no step, or a first step that names no right.
    pub(crate) fn from_history(history: Vec<CaseEvent>) -> Option<Self> {
        let first = history.first()?;
        let (id, subject, right) = (first.case, first.subject.clone(), first.right.clone()?);
        let Folded { state, due } = fold(&history);
        Some(Self { id, subject, right, state, due, history })
    }

    /// Whether the case is open and its deadline is before `today`.
    pub(crate) fn overdue_on(&self, today: NaiveDate) -> bool {
        self.state != CaseState::Answered && self.due.is_some_and(|due| due < today)
    }
}

impl<S: CaseStore + ?Sized> CaseStore for &mut S {
    fn record_case(&mut self, event: &CaseEvent) -> Result<(), Error> {
        (**self).record_case(event)
    }
    fn case(&mut self, id: CaseId) -> Result<Option<RightsCase>, Error> {
        (**self).case(id)
    }
    fn cases_of(&mut self, subject: &SubjectId) -> Result<Vec<RightsCase>, Error> {
        (**self).cases_of(subject)
    }
    fn overdue(&mut self, today: NaiveDate, limit: usize) -> Result<Vec<RightsCase>, Error> {
        (**self).overdue(today, limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hour: u32) -> DateTime<Utc> {
        DateTime::from_timestamp(1_714_528_800 + i64::from(hour) * 3600, 0).unwrap_or_default()
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 5, d).unwrap_or_default()
    }

    fn received() -> CaseEvent {
        CaseEvent::received(CaseId(Uuid::from_u128(1)), "alice", RightsRequestKind::Copy, at(0), day(22))
    }

    fn then(state: CaseState, hour: u32) -> CaseEvent {
        CaseEvent::new(CaseId(Uuid::from_u128(1)), "alice", state, at(hour))
    }

    #[test]
    fn steps_follow_the_rule_and_fold_into_the_case() {
        let mut history = Vec::new();
        let steps = [
            received(),
            then(CaseState::IdentityVerified, 1),
            then(CaseState::Extended, 2).due(day(30)),
            then(CaseState::Answered, 3).outcome(AnswerOutcome::PartlyAccepted),
        ];
        for step in steps {
            assert_eq!(check_step(&history, &step).ok(), Some(Step::Fresh));
            history.push(step.clone());
            assert_eq!(check_step(&history, &step).ok(), Some(Step::Repeated));
        }
        let case = RightsCase::from_history(history.clone());
        assert_eq!(case.as_ref().map(|c| (c.state, c.due)), Some((CaseState::Answered, Some(day(30)))));
        assert!(case.is_some_and(|c| !c.overdue_on(day(31))));
        let after = then(CaseState::IdentityVerified, 4);
        let err = check_step(&history, &after).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("answered") && err.contains("00000000-0000-0000-0000-000000000001"), "{err}");
    }

    #[test]
    fn a_step_without_its_fields_or_out_of_order_is_refused() {
        let history = vec![received()];
        let refused = |e: CaseEvent| check_step(&history, &e).is_err();
        assert!(refused(then(CaseState::Extended, 1)), "an extension needs a deadline");
        assert!(refused(then(CaseState::Answered, 1)), "an answer needs its outcome");
        assert!(refused(then(CaseState::IdentityVerified, 1).due(day(30))), "only some steps carry a deadline");
        assert!(refused(then(CaseState::Extended, 1).due(day(21))), "an extension moves the deadline later");
        assert!(check_step(&[], &then(CaseState::IdentityVerified, 1)).is_err(), "received comes first");
        let mut early = then(CaseState::IdentityVerified, 0);
        early.at = at(0) - chrono::TimeDelta::hours(1);
        assert!(refused(early), "not dated before the step before it");
    }
}
