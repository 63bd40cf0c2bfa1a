//! Rights answers in the audit log, and their replay on the calendar data
//! they were computed on.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

use super::digest::PolicyRef;
use super::entry::{AuditEntry, AuditEvent, records_pseudonym};
use super::replay::{check_subject, recorded_version};
use crate::calendar::{Assumption, BeyondData, DueDate, WorkingCalendar};
use crate::consent::ConsentStore;
use crate::engine::Engine;
use crate::error::Error;
use crate::ids::PurposeId;
use crate::pseudonym::{Pseudonym, Pseudonymiser};
use crate::rights::{
    AnswerOutcome, CaseId, Holding, Identity, ItemOutcome, LimitGround, RightsAnswer, RightsDuty, RightsRequest,
    RightsRequestKind,
};
use crate::taxonomy::CategoryKey;

/// A rights answer as the audit log keeps it: the request with its subject
/// pseudonymised, what was answered, the deadline with the version of the
/// calendar data it was counted on, and the policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RightsAnswerRecord {
    /// The case.
    pub case: CaseId,
    /// The pseudonym of the subject, in
    /// [`PseudonymDomain::Records`](crate::PseudonymDomain::Records).
    pub subject: Pseudonym,
    /// The right asked, with its grounds or target.
    pub right: RightsRequestKind,
    /// The categories asked about; empty: all that is held.
    pub categories: Vec<CategoryKey>,
    /// When the request was received.
    pub received: DateTime<FixedOffset>,
    /// When it was answered.
    pub at: DateTime<FixedOffset>,
    /// Whether the requester's identity was verified.
    pub identity: Identity,
    /// The policy answered under.
    pub policy: PolicyRef,
    /// What was answered.
    pub answer: AnswerRecord,
}

/// The parts of a [`RightsAnswer`] an audit record keeps: those a replay
/// must reproduce.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AnswerRecord {
    /// The answer as a whole.
    pub outcome: AnswerOutcome,
    /// The items, in the answer's order.
    pub items: Vec<AnswerItemRecord>,
    /// The duties, in the answer's order.
    pub duties: Vec<RightsDuty>,
    /// The deadline, with the calendar's version ([`DueDate::calendar`])
    /// and its assumptions.
    pub deadline: Option<DueDate>,
    /// Why no deadline could be computed.
    pub deadline_error: Option<String>,
}

/// One item of an answer as the audit log keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AnswerItemRecord {
    /// The category.
    pub category: CategoryKey,
    /// The purpose, where the item is about one.
    pub purpose: Option<PurposeId>,
    /// How it was answered.
    pub outcome: ItemOutcomeKind,
    /// The ground that limits it.
    pub ground: Option<LimitGround>,
    /// For a restricted item: when deletion is due (none while a legal
    /// hold without an end lasts).
    pub delete_on: Option<NaiveDate>,
}

/// How an item was answered, without the date a restriction ends (see
/// [`ItemOutcome`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ItemOutcomeKind {
    /// Done as asked.
    Accepted,
    /// Restricted now, deleted later.
    Restricted,
    /// Refused.
    Refused,
}

/// A replayed rights answer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AnswerReplay {
    /// The answer the engine gives now.
    pub answer: RightsAnswer,
    /// Whether it is the recorded one (outcome, items, duties, deadline).
    pub matches: bool,
}

impl RightsAnswerRecord {
    /// The record of `answer` to `request` under `policy`, the subject
    /// pseudonymised with `pseudonyms`.
    pub(crate) fn new(
        request: &RightsRequest,
        answer: &RightsAnswer,
        policy: &PolicyRef,
        pseudonyms: &Pseudonymiser,
    ) -> Self {
        Self {
            case: request.case,
            subject: records_pseudonym(request.subject.as_str(), pseudonyms),
            right: request.right.clone(),
            categories: request.categories.clone(),
            received: request.received,
            at: request.at,
            identity: request.identity,
            policy: policy.clone(),
            answer: AnswerRecord::new(answer),
        }
    }

    /// Whether `answer` is the one recorded: same outcome, items, duties
    /// and deadline (date, calendar version and assumptions) or deadline
    /// error.
    pub fn reproduces(&self, answer: &RightsAnswer) -> bool {
        self.answer == AnswerRecord::new(answer)
    }

    /// The version of the calendar data the deadline was counted on; none
    /// when no deadline could be computed.
    pub fn calendar(&self) -> Option<&str> {
        self.answer.deadline.as_ref().map(|d| d.calendar.as_str())
    }

    /// Whether the request is the recorded one, but for its subject.
    fn asked_by(&self, request: &RightsRequest) -> bool {
        self.case == request.case
            && self.right == request.right
            && self.categories == request.categories
            && self.received == request.received
            && self.at == request.at
            && self.identity == request.identity
    }
}

impl AnswerRecord {
    fn new(answer: &RightsAnswer) -> Self {
        let items = answer
            .items
            .iter()
            .map(|i| {
                let (outcome, delete_on) = match i.outcome {
                    ItemOutcome::Accepted => (ItemOutcomeKind::Accepted, None),
                    ItemOutcome::Restricted { delete_on } => (ItemOutcomeKind::Restricted, delete_on),
                    ItemOutcome::Refused => (ItemOutcomeKind::Refused, None),
                };
                AnswerItemRecord {
                    category: i.category.clone(),
                    purpose: i.purpose.clone(),
                    outcome,
                    ground: i.ground,
                    delete_on,
                }
            })
            .collect();
        Self {
            outcome: answer.outcome,
            items,
            duties: answer.duties.clone(),
            deadline: answer.deadline.clone(),
            deadline_error: answer.deadline_error.clone(),
        }
    }
}

/// Refuses an answer made under another policy version than `policy`'s.
pub(crate) fn check_policy(answer: &RightsAnswer, policy: &PolicyRef) -> Result<(), Error> {
    if answer.policy_version == policy.version {
        return Ok(());
    }
    Err(Error::audit(format!("the answer was not made under policy `{}` version `{}`", policy.id, policy.version)))
}

/// Answers a recorded rights request again and compares.
///
/// `request` is the request as it was answered, with the real subject id,
/// which must have the recorded pseudonym; `held` and `consents` are what
/// the answer was computed from. The answer is made under the policy
/// version the entry names. Beyond the calendar's data, weekdays are
/// assumed again exactly when the recorded deadline says they were.
///
/// # Errors
///
/// An error of kind [`Audit`](crate::ErrorKind::Audit) if the entry is not
/// a rights answer; if `calendar` has another
/// [`version`](WorkingCalendar::version) than the recorded deadline's (the
/// message names both: a replay never counts on other calendar data); if
/// the engine has no version of the recorded policy with its digest; if
/// `request` is not the recorded one or its subject id does not have the
/// recorded pseudonym.
pub fn replay_answer(
    entry: &AuditEntry,
    engine: &Engine,
    request: &RightsRequest,
    held: &[Holding],
    consents: &impl ConsentStore,
    calendar: &dyn WorkingCalendar,
    pseudonyms: &Pseudonymiser,
) -> Result<AnswerReplay, Error> {
    let AuditEvent::RightsAnswer(record) = &entry.event else {
        return Err(Error::audit(format!("audit entry {} is not a rights answer", entry.seq)));
    };
    if let Some(recorded) = record.calendar().filter(|v| *v != calendar.version()) {
        return Err(Error::audit(format!(
            "audit entry {} was answered on calendar data version `{recorded}`, not `{}`",
            entry.seq,
            calendar.version()
        )));
    }
    let engine = recorded_version(engine, &record.policy, entry.seq)?;
    check_subject(pseudonyms, request.subject.as_str(), &record.subject, entry.seq)?;
    if !record.asked_by(request) {
        return Err(Error::audit(format!("the request is not the one recorded in audit entry {}", entry.seq)));
    }
    let assumed = record.answer.deadline.iter().flat_map(|d| &d.assumptions);
    let beyond = if assumed.into_iter().any(|a| matches!(a, Assumption::WeekdaysBeyondData { .. })) {
        BeyondData::AssumeWeekdays
    } else {
        BeyondData::Refuse
    };
    let answer = engine.answer(request, held, consents, calendar, beyond);
    let matches = record.reproduces(&answer);
    Ok(AnswerReplay { answer, matches })
}
