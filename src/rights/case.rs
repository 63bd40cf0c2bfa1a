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
    fn case(&self, id: CaseId) -> Result<Option<RightsCase>, Error>;

    /// The cases of `subject`, oldest first.
    ///
    /// # Errors
    ///
    /// An error of kind [`Store`](crate::ErrorKind::Store).
    fn cases_of(&self, subject: &SubjectId) -> Result<Vec<RightsCase>, Error>;

    /// The open cases whose deadline is before `today`, earliest deadline
    /// first, at most `limit`.
    ///
    /// # Errors
    ///
    /// An error of kind [`Store`](crate::ErrorKind::Store).
    fn overdue(&self, today: NaiveDate, limit: usize) -> Result<Vec<RightsCase>, Error>;
}
