//! A subject's export: everything the library's stores and the caller's
//! holdings source know about one person, as one document a person can be
//! handed (PIPL art. 45; GDPR arts. 15 and 20).

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::Serialize;

use super::answer::{AnswerOutcome, LimitGround, RightsDuty};
use super::case::{CaseState, CaseStore, RightsCase};
use super::holdings::{HoldingOrigin, Holdings};
use super::request::RightsRequestKind;
use crate::audit::{AuditEntry, AuditEvent, ItemOutcomeKind, RightsAnswerRecord};
use crate::calendar::DueDate;
use crate::consent::{ConsentChange, ConsentEvent, ConsentQualities, ConsentStatus, InMemoryLedger, Scope};
use crate::decision::Verdict;
use crate::durable::{DurableLog, ErasureReason, LogRecord, Replica};
use crate::engine::Engine;
use crate::error::Error;
use crate::ids::{PolicyId, PurposeId, RecipientId, RuleId, SubjectId};
use crate::policy::{Action, EndAction, Period, Permission, Trigger};
use crate::receipt::{Controller, ReceiptCategory, ReceiptDetails, ReceiptPurpose, ReceiptRecipient, Told};
use crate::retention::{RetentionPlanner, RetentionRecord};
use crate::taxonomy::CategoryKey;

/// What an [`export`] reads besides the durable store: the policy, the
/// caller's holdings, the subject's audit entries, and what the receipts
/// name.
#[non_exhaustive]
pub struct ExportSources<'a> {
    /// The policy (every version of its history).
    pub engine: &'a Engine,
    /// What the application holds.
    pub holdings: &'a dyn Holdings,
    /// The subject's audit entries: for a durable audit store, its
    /// `entries_of` with the subject's pseudonym, read with
    /// [`AuditEntry::from_json`]. Only decisions and rights answers are
    /// exported.
    pub audit: &'a [AuditEntry],
    /// The controller and the withdrawal method the receipts name; `None`:
    /// no receipts in the export. Its receipt id is not used.
    pub receipts: Option<&'a ReceiptDetails>,
}

impl fmt::Debug for ExportSources<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExportSources").field("audit", &self.audit.len()).finish_non_exhaustive()
    }
}

impl<'a> ExportSources<'a> {
    /// The policy and the holdings, with no audit entry and no receipts.
    pub fn new(engine: &'a Engine, holdings: &'a dyn Holdings) -> Self {
        Self { engine, holdings, audit: &[], receipts: None }
    }

    /// The subject's audit entries.
    #[must_use]
    pub fn audit(mut self, entries: &'a [AuditEntry]) -> Self {
        self.audit = entries;
        self
    }

    /// Receipts, naming this controller and withdrawal method.
    #[must_use]
    pub fn receipts(mut self, details: &'a ReceiptDetails) -> Self {
        self.receipts = Some(details);
        self
    }
}

/// Everything known about one person, in a form they can be handed: field
/// names in snake_case and stable, times in ISO 8601 (RFC 3339), and no
/// internal id (no record number, event or case UUID, or pseudonym).
/// [`to_json`](Self::to_json) writes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Export {
    /// Whose data.
    pub subject: SubjectId,
    /// The time the export describes.
    pub at: DateTime<FixedOffset>,
    /// The policy in force at `at`.
    pub policy: ExportPolicy,
    /// Every consent event, in the order recorded.
    pub consent_history: Vec<ExportConsent>,
    /// What the receipts of the consent events tell, when receipts were
    /// asked for (not for a device permission switch, nor for a policy
    /// version the engine does not hold), in the order of their first
    /// event.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub receipts: Vec<ExportReceipt>,
    /// The consent for each purpose, category (and recipient) the events
    /// name, as it stands at `at`, sorted.
    pub consent_state: Vec<ExportConsentState>,
    /// When consent records of the person were erased, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub erasures: Vec<ExportErasure>,
    /// The decisions about the person the audit log records, in its order.
    pub decisions: Vec<ExportDecision>,
    /// What the application holds, with its retention deadlines.
    pub held_data: Vec<ExportHolding>,
    /// The person's rights requests, oldest first.
    pub rights_requests: Vec<ExportCase>,
    /// The answers to the person's rights requests the audit log records,
    /// in its order.
    pub answers: Vec<ExportAnswer>,
}

/// The policy an export was made under.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ExportPolicy {
    /// Its id.
    pub id: PolicyId,
    /// Its version.
    pub version: String,
    /// When that version took effect.
    pub effective: DateTime<FixedOffset>,
}

/// One consent event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ExportConsent {
    /// When it happened.
    pub at: DateTime<FixedOffset>,
    /// When the service recorded it.
    pub recorded: DateTime<Utc>,
    /// What happened: `grant`, `refuse`, `withdraw`, `expire`, `revoke`,
    /// `permission_on` or `permission_off`.
    pub change: &'static str,
    /// The consent status it led to (none for a permission switch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ConsentStatus>,
    /// The purposes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub purposes: Vec<PurposeId>,
    /// The categories.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<CategoryKey>,
    /// The recipient it was limited to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<RecipientId>,
    /// A grant's qualities.
    #[serde(skip_serializing_if = "ConsentQualities::is_empty")]
    pub qualities: ConsentQualities,
    /// When a grant lapses by itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<DateTime<FixedOffset>>,
    /// The device permission switched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permission: Option<Permission>,
    /// The version of the policy it was given under.
    pub policy_version: String,
}

/// What the receipts of some consent events tell (ISO/IEC TS 27560),
/// without their ids and the person's pseudonym: the events of one policy
/// version, scope and consent type share one, which lists their times (the
/// events themselves give the status, qualities and expiry).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ExportReceipt {
    /// The times of the consent events it is the receipt of.
    pub events: Vec<DateTime<FixedOffset>>,
    /// The version of the policy they were given under.
    pub policy_version: String,
    /// The controller.
    pub controller: Controller,
    /// The policy's language and source.
    pub language: String,
    /// Where the policy is published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The purposes, with what the policy says of them.
    pub purposes: Vec<ReceiptPurpose>,
    /// The personal data, with its sensitivity.
    pub personal_data: Vec<ReceiptCategory>,
    /// The DPV consent type of a grant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent_type: Option<String>,
    /// The recipient, with its name and contact.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<ReceiptRecipient>,
    /// The retention rules that apply.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub retention: Vec<ExportRetentionRule>,
    /// How to withdraw.
    pub withdrawal_method: String,
}

/// A retention rule as a receipt names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ExportRetentionRule {
    /// The rule.
    pub rule: RuleId,
    /// What its periods run from.
    pub trigger: Trigger,
    /// The least time the data is kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum: Option<Period>,
    /// The most time it is kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum: Option<Period>,
    /// What happens at the end.
    pub end_action: EndAction,
}

/// The consent for one purpose and category (and recipient) at the
/// export's time.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub struct ExportConsentState {
    /// The purpose.
    pub purpose: PurposeId,
    /// The category.
    pub category: CategoryKey,
    /// The recipient, for consent limited to one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<RecipientId>,
    /// Its status.
    pub status: ConsentStatus,
}

/// An erasure of the person's consent records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ExportErasure {
    /// When.
    pub at: DateTime<Utc>,
    /// Why.
    pub reason: ErasureReason,
}

/// A decision about the person, as the audit log records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ExportDecision {
    /// The time of the processing decided on.
    pub at: DateTime<FixedOffset>,
    /// When the decision was recorded.
    pub recorded: DateTime<FixedOffset>,
    /// What the application asked to do.
    pub action: Action,
    /// For which purposes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub purposes: Vec<PurposeId>,
    /// Which categories.
    pub categories: Vec<CategoryKey>,
    /// To whom.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<RecipientId>,
    /// Permitted or denied.
    pub verdict: Verdict,
    /// The policy version it was decided under.
    pub policy_version: String,
}

/// A category the application holds about the person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ExportHolding {
    /// The category.
    pub category: CategoryKey,
    /// Where it came from.
    pub origin: HoldingOrigin,
    /// For which purposes it is held.
    pub purposes: Vec<PurposeId>,
    /// Who it was provided to.
    pub recipients: Vec<RecipientId>,
    /// The retention rules that apply, with their deadlines.
    pub retention: Vec<ExportDeadline>,
    /// Since when it is due for deletion or anonymisation, if it is at the
    /// export's time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_since: Option<DateTime<FixedOffset>>,
}

/// One retention rule's deadlines for a held category.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ExportDeadline {
    /// The rule.
    pub rule: RuleId,
    /// Until when the data must be kept (a statutory minimum), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_until: Option<DateTime<FixedOffset>>,
    /// From when the data may no longer be kept, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_from: Option<DateTime<FixedOffset>>,
    /// What happens then.
    pub end_action: EndAction,
}

/// A rights request of the person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ExportCase {
    /// What was asked.
    pub right: RightsRequestKind,
    /// Where it stands.
    pub state: CaseState,
    /// When it was received.
    pub received: DateTime<Utc>,
    /// The deadline in force.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<NaiveDate>,
    /// Every step, oldest first.
    pub history: Vec<ExportCaseStep>,
}

/// One step of a rights request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ExportCaseStep {
    /// The state entered.
    pub state: CaseState,
    /// When.
    pub at: DateTime<Utc>,
    /// The deadline from then on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<NaiveDate>,
    /// The calendar the deadline was counted on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calendar: Option<String>,
    /// How it was answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<AnswerOutcome>,
}

/// An answer to a rights request of the person, as the audit log records
/// it, without the case id and the person's pseudonym.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ExportAnswer {
    /// The right asked, with its grounds or target.
    pub right: RightsRequestKind,
    /// The categories asked about; empty: all that is held.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<CategoryKey>,
    /// When the request was received.
    pub received: DateTime<FixedOffset>,
    /// When it was answered.
    pub answered: DateTime<FixedOffset>,
    /// When the answer was recorded.
    pub recorded: DateTime<FixedOffset>,
    /// The answer as a whole.
    pub outcome: AnswerOutcome,
    /// How each category (and purpose) was answered.
    pub items: Vec<ExportAnswerItem>,
    /// What the controller must do.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub duties: Vec<RightsDuty>,
    /// When the answer is due, with the version of the calendar data it
    /// was counted on and what it assumes beyond that data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DueDate>,
    /// Why no deadline could be computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline_error: Option<String>,
    /// The policy version it was answered under.
    pub policy_version: String,
}

/// One item of an answer to a rights request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ExportAnswerItem {
    /// The category.
    pub category: CategoryKey,
    /// The purpose, where the item is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<PurposeId>,
    /// How it was answered.
    pub outcome: ItemOutcomeKind,
    /// The ground that limits it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ground: Option<LimitGround>,
    /// For a restricted item: when deletion is due.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_on: Option<NaiveDate>,
}

impl Export {
    /// The export as pretty-printed JSON.
    ///
    /// # Errors
    ///
    /// An error of kind [`Rights`](crate::ErrorKind::Rights) if it cannot
    /// be serialised (it always can).
    pub fn to_json(&self) -> Result<String, Error> {
        serde_json::to_string_pretty(self).map_err(|e| Error::rights(format!("cannot serialise an export: {e}")))
    }
}

/// The export of `subject` at `at`: its consent records and rights-request
/// cases read from `store`, the rest from `sources`; the decisions and
/// the rights answers (`answers`: the right asked, when, the outcome, the
/// items, the duties and the deadline with its calendar version) come from
/// the subject's audit entries. Over a [`Replica`],
/// [`Replica::export`] gives the same document and reads the consent
/// events from memory.
///
/// # Errors
///
/// An error of kind [`Store`](crate::ErrorKind::Store) if the store cannot
/// be read, or whatever the holdings source reports.
///
/// # Example
///
/// ```
/// use privacy_engine::*;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// struct Nothing;
/// impl Holdings for Nothing {
///     fn held(&self, _: &SubjectId) -> Result<Vec<Holding>, Error> {
///         Ok(Vec::new())
///     }
/// }
/// let engine = Engine::new(Policy::from_json(include_str!("../../examples/policies/seed-004.json"))?)?;
/// let mut log = InMemoryLog::new();
/// let subject = SubjectId::from("user-42");
/// let export = export(&mut log, &subject, "2024-05-01T10:00:00+08:00".parse()?, &ExportSources::new(&engine, &Nothing))?;
/// assert!(export.consent_history.is_empty());
/// assert!(export.to_json()?.contains("\"policy\""));
/// # Ok(()) }
/// ```
pub fn export<L: DurableLog + CaseStore + ?Sized>(
    store: &mut L,
    subject: &SubjectId,
    at: DateTime<FixedOffset>,
    sources: &ExportSources<'_>,
) -> Result<Export, Error> {
    let mut ledger = InMemoryLedger::new();
    let (mut events, mut erasures) = (Vec::new(), Vec::new());
    for entry in store.subject_records(subject)? {
        match entry.record {
            LogRecord::Consent { event, recorded } => {
                // The store checked it when it was appended.
                ledger.append(event.clone())?;
                events.push(Ok((event, recorded)));
            }
            record => erasures.extend(erasure(record)),
        }
    }
    let status = |p: &PurposeId, c: &CategoryKey, r: Option<&RecipientId>| ledger.status(subject, p, c, r, at.to_utc());
    let consents = consents(events.into_iter(), status, erasures, sources)?;
    document(consents, store.cases_of(subject)?, subject, at, sources)
}

impl<L: DurableLog + CaseStore> Replica<L> {
    /// The export of `subject` at `at`, as [`export`] makes it from the
    /// log: the replica catches up, then the consent events come from its
    /// ledger, and only the erasures and the rights-request cases from the
    /// log, so that the export costs no read or decoding of the consent
    /// events.
    ///
    /// # Errors
    ///
    /// As [`export`] and [`catch_up`](Self::catch_up); and an error of
    /// kind [`Store`](crate::ErrorKind::Store) if the ledger holds an event
    /// of the subject without the time it was recorded (a ledger given to
    /// [`resume`](Self::resume) that was not loaded from a log): the
    /// export from the log has it.
    pub fn export(
        &mut self,
        subject: &SubjectId,
        at: DateTime<FixedOffset>,
        sources: &ExportSources<'_>,
    ) -> Result<Export, Error> {
        self.catch_up()?;
        let erasures =
            self.log_mut().subject_erasures(subject)?.into_iter().filter_map(|e| erasure(e.record)).collect();
        let cases = self.log_mut().cases_of(subject)?;
        let ledger = self.ledger();
        let events = ledger.arrivals(subject).map(|(event, recorded)| match recorded {
            Some(recorded) => Ok((event, recorded)),
            None => Err(Error::store(format!("consent event `{}` is held without the time it was recorded", event.id))),
        });
        let status =
            |p: &PurposeId, c: &CategoryKey, r: Option<&RecipientId>| ledger.status(subject, p, c, r, at.to_utc());
        let consents = consents(events, status, erasures, sources)?;
        document(consents, cases, subject, at, sources)
    }
}

/// The document of both exports, from the subject's consent records and
/// cases, and from `sources`.
fn document(
    consents: Consents,
    cases: Vec<RightsCase>,
    subject: &SubjectId,
    at: DateTime<FixedOffset>,
    sources: &ExportSources<'_>,
) -> Result<Export, Error> {
    let engine = sources.engine.version_at(at.to_utc());
    let policy = engine.policy();
    let Consents { history: consent_history, state: consent_state, erasures, receipts } = consents;
    Ok(Export {
        subject: subject.clone(),
        at,
        policy: ExportPolicy { id: policy.id.clone(), version: policy.version.clone(), effective: policy.effective },
        consent_history,
        receipts,
        consent_state,
        erasures,
        decisions: sources.audit.iter().filter_map(decision).collect(),
        held_data: holdings(engine, sources.holdings, subject, at)?,
        rights_requests: cases.into_iter().map(case).collect(),
        answers: sources.audit.iter().filter_map(answer).collect(),
    })
}

/// An erasure record as exported; `None` for another record.
fn erasure(record: LogRecord) -> Option<ExportErasure> {
    match record {
        LogRecord::Erasure { at, reason, .. } => Some(ExportErasure { at, reason }),
        _ => None,
    }
}

/// What the consent records of a subject give an export.
struct Consents {
    history: Vec<ExportConsent>,
    state: Vec<ExportConsentState>,
    erasures: Vec<ExportErasure>,
    receipts: Vec<ExportReceipt>,
}

/// The receipts of a subject's consent events, one per policy version,
/// scope and consent type (the qualities of a grant), each listing its
/// events: a subject's events repeat a few scopes, and the receipts of
/// events that share them tell the same.
#[derive(Default)]
struct Receipts {
    told: Vec<(Scope, Option<ConsentQualities>, ExportReceipt)>,
}

impl Receipts {
    /// Counts `event` in the receipt it shares with earlier events, or
    /// adds its own.
    fn add(&mut self, event: &ConsentEvent, engine: &Engine, details: &ReceiptDetails) {
        let Some(scope) = event.change.scope() else { return };
        let grant = match &event.change {
            ConsentChange::Grant { qualities, .. } => Some(*qualities),
            _ => None,
        };
        let same = |(s, g, r): &&mut (Scope, Option<ConsentQualities>, ExportReceipt)| {
            *g == grant && r.policy_version == event.policy_version && s == scope
        };
        if let Some((_, _, receipt)) = self.told.iter_mut().find(same) {
            receipt.events.push(event.at);
        } else if let Some(receipt) = receipt(event, engine, details) {
            self.told.push((scope.clone(), grant, receipt));
        }
    }
}

/// A subject's consent history from its `events` (in the order recorded,
/// each with the time it was recorded), its state by `status` (of a
/// purpose, category and recipient at the export's time), and `erasures`.
fn consents(
    events: impl Iterator<Item = Result<(ConsentEvent, DateTime<Utc>), Error>>,
    status: impl Fn(&PurposeId, &CategoryKey, Option<&RecipientId>) -> ConsentStatus,
    erasures: Vec<ExportErasure>,
    sources: &ExportSources<'_>,
) -> Result<Consents, Error> {
    let mut history = Vec::with_capacity(events.size_hint().0);
    let mut receipts = Receipts::default();
    for event in events {
        let (event, recorded) = event?;
        if let Some(details) = sources.receipts {
            receipts.add(&event, sources.engine, details);
        }
        history.push(consent(event, recorded));
    }
    let named: BTreeSet<(&PurposeId, &CategoryKey, Option<&RecipientId>)> = history
        .iter()
        .flat_map(|e| {
            e.purposes.iter().flat_map(move |p| e.categories.iter().map(move |c| (p, c, e.recipient.as_ref())))
        })
        .collect();
    let state = named
        .into_iter()
        .map(|(purpose, category, recipient)| ExportConsentState {
            purpose: purpose.clone(),
            category: category.clone(),
            recipient: recipient.cloned(),
            status: status(purpose, category, recipient),
        })
        .collect();
    let receipts = receipts.told.into_iter().map(|(_, _, r)| r).collect();
    Ok(Consents { history, state, erasures, receipts })
}

/// One consent event as exported.
fn consent(event: ConsentEvent, recorded: DateTime<Utc>) -> ExportConsent {
    let status = event.change.status();
    let none = ConsentQualities::empty();
    let (change, qualities, expires, permission, scope) = match event.change {
        ConsentChange::Grant { qualities, expires, scope } => ("grant", qualities, expires, None, Some(scope)),
        ConsentChange::Refuse { scope } => ("refuse", none, None, None, Some(scope)),
        ConsentChange::Withdraw { scope } => ("withdraw", none, None, None, Some(scope)),
        ConsentChange::Expire { scope } => ("expire", none, None, None, Some(scope)),
        ConsentChange::Revoke { scope } => ("revoke", none, None, None, Some(scope)),
        ConsentChange::PermissionOn { permission } => ("permission_on", none, None, Some(permission), None),
        ConsentChange::PermissionOff { permission } => ("permission_off", none, None, Some(permission), None),
    };
    let (purposes, categories, recipient) = scope.map(|s| (s.purposes, s.categories, s.recipient)).unwrap_or_default();
    ExportConsent {
        at: event.at,
        recorded,
        change,
        status,
        purposes,
        categories,
        recipient,
        qualities,
        expires,
        permission,
        policy_version: event.policy_version,
    }
}

/// What the receipt of `event` tells, if the engine holds its policy
/// version and it is a consent (not a permission switch).
fn receipt(event: &ConsentEvent, engine: &Engine, details: &ReceiptDetails) -> Option<ExportReceipt> {
    let version = engine.version(&event.policy_version)?;
    let told = Told::of(event, version.policy(), version.taxonomy()).ok()?;
    Some(ExportReceipt {
        events: vec![event.at],
        policy_version: event.policy_version.clone(),
        controller: details.controller.clone(),
        language: told.notice.language,
        source: told.notice.source,
        purposes: told.purposes,
        personal_data: told.personal_data,
        consent_type: told.consent_type,
        recipients: told.recipients,
        retention: told
            .retention
            .into_iter()
            .map(|r| ExportRetentionRule {
                rule: r.rule,
                trigger: r.trigger,
                minimum: r.minimum,
                maximum: r.maximum,
                end_action: r.end_action,
            })
            .collect(),
        withdrawal_method: details.withdrawal_method.clone(),
    })
}

/// A decision of the audit log as exported; `None` for another entry.
fn decision(entry: &AuditEntry) -> Option<ExportDecision> {
    let AuditEvent::Decision(d) = &entry.event else { return None };
    Some(ExportDecision {
        at: d.request.at,
        recorded: entry.at,
        action: d.action,
        purposes: d.request.purpose.iter().cloned().collect(),
        categories: d.request.categories.clone(),
        recipient: d.request.recipient.clone(),
        verdict: d.verdict,
        policy_version: d.policy.version.clone(),
    })
}

/// A rights answer of the audit log as exported; `None` for another entry.
fn answer(entry: &AuditEntry) -> Option<ExportAnswer> {
    let AuditEvent::RightsAnswer(r) = &entry.event else { return None };
    let RightsAnswerRecord { right, categories, received, at, policy, answer, .. } = r.as_ref();
    let items = answer
        .items
        .iter()
        .map(|i| ExportAnswerItem {
            category: i.category.clone(),
            purpose: i.purpose.clone(),
            outcome: i.outcome,
            ground: i.ground,
            delete_on: i.delete_on,
        })
        .collect();
    Some(ExportAnswer {
        right: right.clone(),
        categories: categories.clone(),
        received: *received,
        answered: *at,
        recorded: entry.at,
        outcome: answer.outcome,
        items,
        duties: answer.duties.clone(),
        deadline: answer.deadline.clone(),
        deadline_error: answer.deadline_error.clone(),
        policy_version: policy.version.clone(),
    })
}

/// What the holdings source says is held, with each category's retention
/// deadlines under `engine` (the version in force at `at`).
fn holdings(
    engine: &Engine,
    source: &dyn Holdings,
    subject: &SubjectId,
    at: DateTime<FixedOffset>,
) -> Result<Vec<ExportHolding>, Error> {
    let planner = RetentionPlanner::new(engine);
    let held = source.held(subject)?;
    let mut out = Vec::with_capacity(held.len());
    for holding in held {
        let records: Vec<RetentionRecord> = if holding.purposes.is_empty() {
            vec![RetentionRecord::new(subject.clone(), holding.category.clone())]
        } else {
            holding
                .purposes
                .iter()
                .map(|p| RetentionRecord::new(subject.clone(), holding.category.clone()).purpose(p.clone()))
                .collect()
        };
        let records: Vec<RetentionRecord> =
            records.into_iter().map(|r| RetentionRecord { events: holding.events.clone(), ..r }).collect();
        let mut retention: Vec<ExportDeadline> = Vec::new();
        for record in &records {
            for b in planner.bounds_of(record, at.to_utc()) {
                if retention.iter().all(|d| d.rule != b.rule.id) {
                    retention.push(ExportDeadline {
                        rule: b.rule.id.clone(),
                        keep_until: b.minimum_ends.and_then(Result::ok),
                        end_from: b.maximum_ends,
                        end_action: b.rule.end_action,
                    });
                }
            }
        }
        let due_since = planner.due(&records, at).into_iter().map(|d| d.since).min();
        out.push(ExportHolding {
            category: holding.category,
            origin: holding.origin,
            purposes: holding.purposes,
            recipients: holding.recipients,
            retention,
            due_since,
        });
    }
    Ok(out)
}

/// A case as exported: without its id or its subject.
fn case(case: RightsCase) -> ExportCase {
    let received = case.history.first().map_or(DateTime::<Utc>::MIN_UTC, |s| s.at);
    ExportCase {
        right: case.right,
        state: case.state,
        received,
        due: case.due,
        history: case
            .history
            .into_iter()
            .map(|s| ExportCaseStep { state: s.state, at: s.at, due: s.due, calendar: s.calendar, outcome: s.outcome })
            .collect(),
    }
}
