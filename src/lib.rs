//! privacy-engine turns an app's privacy policy into a typed, validated
//! policy and an evaluator that the app consults before it touches personal
//! data. For an action on data categories, for a purpose, to a recipient, at
//! a time, for a subject with a consent history, [`Engine::evaluate`] answers
//! permit or deny, why (the rules and policy clauses that decided), which
//! obligations come with it, and for a denial what would make it permitted.
//!
//! ```
//! use privacy_engine::{Action, CategoryKey, Engine, InMemoryLedger, Policy, Request, Subject};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = Engine::from_json(include_str!("../examples/policies/seed-004.json"))?;
//! let consents = InMemoryLedger::new();
//! let request = Request::new(
//!     Action::Collect,
//!     Subject::new("user-42").age(30),
//!     vec![CategoryKey::new("user.contact.phone_number")?],
//!     "2024-05-01T10:00:00+08:00".parse()?,
//! )
//! .purpose("registration_login");
//! let decision = engine.evaluate(&request, &consents);
//! assert!(decision.is_permit()); // a core purpose rests on the contract
//! # Ok(()) }
//! ```
//!
//! # Overview
//!
//! - [`Policy`]: the typed policy, read with [`Policy::from_json`] or built
//!   with [`PolicyBuilder`]; [`Diagnostic`]s with paths for every problem.
//! - [`Taxonomy`] and [`CategoryKey`]: hierarchical data categories with
//!   their [`Sensitivity`].
//! - [`ConsentEvent`], [`ConsentQualities`], [`InMemoryLedger`] and the
//!   [`ConsentStore`] trait: the consent history the evaluator reads;
//!   [`ConsentHistory`] and [`Rescan`]: who must consent again after a
//!   revision, streamed for a batch job.
//! - [`Request`] in, [`Decision`] out: [`Verdict`], per-category
//!   [`CategoryOutcome`]s, [`Reason`]s, [`Obligation`]s and [`Unmet`]
//!   requirements.
//! - [`diff`] and [`Changes`]: what changed between two versions of a
//!   policy, major or minor and why, the duties a revision brings, and the
//!   grants that need fresh consent ([`FreshConsent`]).
//! - [`RetentionPlanner`]: what is due for deletion at a time.
//! - [`AuditLog`], [`ConsentReceipt`] and [`Pseudonymiser`]: evidence — a
//!   tamper-evident log of decisions and consent events, signed receipts for
//!   the person, and the keyed pseudonyms both use.
//! - [`Deadline`] on a [`WorkingCalendar`]: calendar days, months, working
//!   or business days and extensions, counted on [`ChinaCalendar`] (the
//!   State Council's holidays and adjusted working days), a caller's
//!   [`TableCalendar`] or [`WeekdayCalendar`]; the [`DueDate`] names the
//!   calendar data's version and any [`Assumption`].
//! - [`Engine::lifecycle`]: a [`LifecycleRequest`] (cancel, terminate,
//!   inactive, reactivate) answered with a [`LifecycleAnswer`]: what must
//!   happen before, what stops at once, and per held category its
//!   [`Disposal`] (docs/lifecycle.md); [`LifecycleEvent`]s kept by a
//!   [`LifecycleStore`].
//! - [`Engine::incident`]: what a personal-information incident obliges
//!   the controller to do under an [`IncidentRegime`] (PIPL art. 57's by
//!   default), as an [`IncidentAnswer`]; [`affected`] lists the subjects it
//!   affects from a [`HoldingsIndex`] and a [`ConsentHistory`] store.
//! - [`decide_line`]: the JSON-lines interface of `examples/evaluate.rs`;
//!   [`answer_line`] answers its rights, lifecycle and incident lines too
//!   ([`LineOutput`]).
//! - [`limits`]: the limits every request, line and policy is read within
//!   ([`MAX_LINE_BYTES`], [`MAX_CATEGORIES_PER_REQUEST`], ...).
//! - [`Error`]: the one error type of the fallible boundaries.
//! - [`DateTime`], [`FixedOffset`], [`NaiveDate`], [`Utc`] (from `chrono`)
//!   and [`Uuid`] (from `uuid`): the time and id types of the interface,
//!   re-exported so that a caller needs no other dependency.
//! - [`policy_format`]: the policy document format, field by field, and the
//!   forms of times and ids every document and request is read with.
//!
//! # Cookbook
//!
//! ### Collect with separate consent
//!
//! Record the grant in the ledger with the qualities it has; the engine
//! checks them against what the policy requires.
//!
//! ```
//! # use privacy_engine::*;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let engine = Engine::from_json(include_str!("../examples/policies/seed-004.json"))?;
//! let mut ledger = InMemoryLedger::new();
//! let at: DateTime<FixedOffset> = "2024-05-01T09:00:00+08:00".parse()?;
//! let event = |n, change| ConsentEvent::new(Uuid::from_u128(n), at, "u", "seed-004", "2021-08-20", change);
//! ledger.append(event(1, ConsentChange::PermissionOn { permission: Permission::Camera }))?;
//! ledger.append(event(2, ConsentChange::Grant {
//!     qualities: ConsentQualities::separate(),
//!     scope: Scope::new(vec!["face_verification".into()], vec![CategoryKey::new("user.biometric.face")?]),
//!     expires: None,
//! }))?;
//! let request = Request::new(
//!     Action::Collect,
//!     Subject::new("u").age(30),
//!     vec![CategoryKey::new("user.biometric.face")?],
//!     "2024-05-01T10:00:00+08:00".parse()?,
//! )
//! .purpose("face_verification");
//! assert!(engine.evaluate(&request, &ledger).is_permit());
//! # Ok(()) }
//! ```
//!
//! ### Share with a partner
//!
//! A share names its recipient; the decision carries the duties: bind the
//! recipient to the purpose, tell the person (PIPL art. 23), confidentiality.
//!
//! ```
//! # use privacy_engine::*;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let engine = Engine::from_json(include_str!("../examples/policies/seed-004.json"))?;
//! let request = Request::new(
//!     Action::Share,
//!     Subject::new("u").age(30),
//!     vec![CategoryKey::new("user.contact.address")?],
//!     "2024-05-01T10:00:00+08:00".parse()?,
//! )
//! .purpose("payment_delivery")
//! .recipient("partner.logistics");
//! let decision = engine.evaluate(&request, &InMemoryLedger::new());
//! assert!(decision.obligations.iter().any(|o| matches!(o, Obligation::BindRecipientToPurpose { .. })));
//! # Ok(()) }
//! ```
//!
//! ### Delete past retention
//!
//! Deleting before a statutory minimum is denied with the date from which it
//! is permitted.
//!
//! ```
//! # use privacy_engine::*;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let engine = Engine::from_json(include_str!("../examples/policies/seed-004.json"))?;
//! let mut request = Request::new(
//!     Action::Delete,
//!     Subject::new("u").age(30),
//!     vec![CategoryKey::new("user.financial.transaction")?],
//!     "2023-05-01T10:00:00+08:00".parse()?,
//! );
//! request.events.transaction_completed = Some("2021-01-31T12:00:00+08:00".parse()?);
//! let decision = engine.evaluate(&request, &InMemoryLedger::new());
//! assert_eq!(
//!     decision.unmet,
//!     vec![Unmet::NotBefore { at: "2024-02-01T00:00:00+08:00".parse()? }]
//! );
//! # Ok(()) }
//! ```
//!
//! ### Ask fresh consent for a purpose the policy does not name
//!
//! Where the policy lets a consent name a new purpose (`named_in_consent`,
//! seed 004 §1.2 item 9), a denial asks for that consent; a grant that names
//! and describes the purpose permits it. Where it does not, the decision
//! asks for a revised policy instead ([`Unmet::PolicyChange`]).
//!
//! ```
//! # use privacy_engine::*;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let engine = Engine::from_json(include_str!("../examples/policies/seed-004.json"))?;
//! let request = Request::new(
//!     Action::Use,
//!     Subject::new("u").age(30),
//!     vec![CategoryKey::new("user.contact.phone_number")?],
//!     "2024-05-01T10:00:00+08:00".parse()?,
//! )
//! .purpose("satisfaction_survey");
//! let mut ledger = InMemoryLedger::new();
//! let decision = engine.evaluate(&request, &ledger);
//! assert!(decision.unmet.iter().any(|u| matches!(u, Unmet::Described { .. })));
//! let scope = Scope::new(vec!["satisfaction_survey".into()], vec![CategoryKey::new("user.contact")?])
//!     .described(Described::purpose("a survey after an order, as the page prompt explains it"));
//! let at = "2024-05-01T09:00:00+08:00".parse()?;
//! let grant = ConsentChange::Grant { qualities: ConsentQualities::separate(), scope, expires: None };
//! ledger.append(ConsentEvent::new(Uuid::from_u128(1), at, "u", "seed-004", "2021-08-20", grant))?;
//! assert!(engine.evaluate(&request, &ledger).is_permit());
//! # Ok(()) }
//! ```
//!
//! ### Classify a revision of the policy
//!
//! A purpose that gains a category is a major change (seed 004 §7 item 1):
//! notice must be prominent, and grants given for the purpose before no
//! longer cover the new category.
//!
//! ```
//! # use privacy_engine::*;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let old = Policy::from_json(include_str!("../examples/policies/seed-004.json"))?;
//! let mut new = old.clone();
//! new.version = "2022-03-01".to_owned();
//! new.effective = "2022-03-01T00:00:00+08:00".parse()?;
//! let stats = PurposeId::from("usage_statistics");
//! if let Some(p) = new.purposes.iter_mut().find(|p| p.id == stats) {
//!     p.categories.push(CategoryKey::new("user.location.imprecise")?);
//! }
//! let changes = diff(&old, &new);
//! assert_eq!(changes.changes[0].kind, ChangeKind::CategoriesAdded);
//! assert_eq!(changes.duties[0], ChangeDuty::Notify { prominent: true, before: new.effective });
//! let location = CategoryKey::new("user.location.imprecise")?;
//! assert!(!changes.still_covers(&stats, &location, None));
//! # Ok(()) }
//! ```
//!
//! ### Count a reply deadline on the Chinese calendar
//!
//! 004 §9 promises a reply within 15 working days. Count them on the home
//! region's calendar: the State Council's holidays are not working days,
//! its adjusted working days (调休) are. Past the calendar's data the count
//! is refused unless the caller accepts weekdays, and the date says so.
//!
//! ```
//! # use privacy_engine::*;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let calendar = calendar_for_region("CN").ok_or("no calendar")?;
//! let reply = Deadline::new(Span::WorkingDays(15));
//! let received = NaiveDate::from_ymd_opt(2026, 2, 9).ok_or("date")?;
//! // Over the 2026 Spring Festival (February 15–23 off; Saturdays 14 and 28 worked).
//! assert_eq!(reply.due(received, calendar, BeyondData::Refuse)?.date.to_string(), "2026-03-06");
//! let late = NaiveDate::from_ymd_opt(2026, 12, 10).ok_or("date")?;
//! assert!(reply.due(late, calendar, BeyondData::Refuse).is_err());
//! let assumed = reply.due(late, calendar, BeyondData::AssumeWeekdays)?;
//! assert!(matches!(assumed.assumptions[..], [Assumption::WeekdaysBeyondData { .. }]));
//! # Ok(()) }
//! ```
//!
//! # Crate features
//!
//! None is on by default: the core has no I/O and no optional parts.
//!
//! - `sqlite`: `SqliteLog` and `SqliteAuditStore`, the consent log and
//!   the audit chain in one SQLite file (SQLite compiled in, nothing to
//!   install), shared by the processes that open it.
//! - `postgres`: `PgLog`, `PgAuditStore` and `PgListener`, the
//!   consent log and audit chain in PostgreSQL, shared by many instances
//!   (each deciding against its own [`Replica`]).
//!
//! # Guarantees
//!
//! - **Default deny**: anything the policy does not declare is denied, with
//!   the reason; the policy's silence is never permission. (A purpose or
//!   recipient the policy lets a consent name is permitted only on a grant
//!   that names and describes it.)
//! - **No panics on untrusted input**: policy documents, requests and ledger
//!   events give an [`Error`] with a path; [`Engine::evaluate`] always
//!   returns a [`Decision`].
//! - **What the evaluator never does**: read a clock, a file, the network or
//!   the environment; echo personal-data values from a request in a message.
//!
//! The reasons behind these choices are in `DESIGN.md`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]

mod audit;
mod calendar;
mod consent;
mod decision;
mod durable;
mod engine;
mod error;
mod ids;
mod incident;
mod lifecycle;
pub mod limits;
mod lines;
mod policy;
mod pseudonym;
mod receipt;
mod request;
mod retention;
mod rights;
mod taxonomy;
mod timestamp;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[doc = include_str!("../docs/policy-format.md")]
pub mod policy_format {}

// The public interface is:
pub use crate::audit::{
    AnswerItemRecord, AnswerRecord, AnswerReplay, AuditEntry, AuditEvent, AuditLog, AuditStore, AuditedRequest,
    AuditedSubject, BreakKind, ChainBreak, ChainHead, ChainKey, ChainKeyRotation, ChainKeys, ConsentRecord,
    DecisionRecord, Digest, FileAuditStore, InMemoryAuditStore, ItemOutcomeKind, PolicyRef, Replay, ReplaySubject,
    RightsAnswerRecord, StoredRecords, Tail, TornRecord, Verification, policy_digest, replay, replay_answer,
    verify_records, verify_store,
};
pub use crate::calendar::for_region as calendar_for_region;
pub use crate::calendar::{
    Assumption, BeyondData, ChinaCalendar, Deadline, DueDate, Extension, Span, TableCalendar, WeekdayCalendar,
    WorkingCalendar,
};
pub use crate::consent::{
    BoxedEvents, CONSENT_HORIZON, CONSENT_SKEW, CompactLedger, ConsentChange, ConsentEvent, ConsentHistory,
    ConsentQualities, ConsentQuery, ConsentStatus, ConsentStore, Described, DynConsentHistory, EventView, Grants,
    InMemoryLedger, Lapsed, Reconsent, Rescan, Scope,
};
pub use crate::decision::{
    CategoryOutcome, ConsentFrom, Decision, Effect, NoticeField, Obligation, Reason, Unmet, Verdict,
};
pub use crate::durable::{
    Appended, DurableLog, ErasureReason, InMemoryLog, LogEntry, LogRecord, MAX_APPEND_BATCH, READ_BATCH, Replica,
    SubjectSeal, check_append,
};
#[cfg(feature = "postgres")]
pub use crate::durable::{PgAuditStore, PgListener, PgLog};
#[cfg(feature = "sqlite")]
pub use crate::durable::{SQLITE_SCHEMA_VERSION, SqliteAuditStore, SqliteLog, SqliteOptions};
pub use crate::engine::{Engine, Prepared, Ruling};
pub use crate::error::{Error, ErrorKind};
pub use crate::ids::{Cites, PolicyId, PurposeId, RecipientId, RuleId, SubjectId};
pub use crate::incident::{
    HoldingsIndex, Incident, IncidentAnswer, IncidentCondition, IncidentDuty, IncidentNotice, IncidentRegime,
    IncidentRequest, IncidentRisk, NoticeContent, NoticeDeadline, NoticeRule, NoticeTo, SkippedDuty, affected,
};
pub use crate::lifecycle::{
    Disposal, LifecycleAnswer, LifecycleChange, LifecycleDuty, LifecycleEvent, LifecycleOutcome, LifecycleReason,
    LifecycleRequest, LifecycleStore,
};
pub use crate::limits::{
    MAX_CATEGORIES_PER_REQUEST, MAX_CATEGORY_KEY_BYTES, MAX_CONSENT_EVENTS_PER_LINE, MAX_ID_BYTES, MAX_JSON_DEPTH,
    MAX_LINE_BYTES, MAX_POLICY_BYTES,
};
pub use crate::lines::{LINE_INTERFACE_VERSION, LineOutput, answer_line, decide_line};
pub use crate::policy::{
    AccountLifecycle, AcknowledgedWarning, Action, ActionRule, Agreement, CategoryDecl, Change, ChangeDuty, ChangeKind,
    Changes, Channel, ChannelKind, ConsentGrants, ConsentRequirement, CrossBorderOrigin, DataState, DataStateRule,
    Diagnostic, DiagnosticCode, Domestic, Duty, EndAction, Evidence, Exception, FreshConsent, Ground, Handler,
    ImpactAssessment, MinorEffect, MinorRule, Minors, MonthEnd, NamedInConsent, Names, Period, Permission, Policy,
    PolicyBuilder, PolicyHistory, ProcessingKind, Purpose, PurposeBasis, Recipient, RecipientKind,
    RecipientRequirement, Responsible, RetentionRule, Right, RightOffer, SCHEMA_VERSION, Settings, Severity,
    TaxonomySource, TimeLimit, Trigger, UnknownAge, Witness, diff,
};
pub use crate::pseudonym::{KeyId, Pseudonym, PseudonymDomain, PseudonymKey, Pseudonymiser};
pub use crate::receipt::{
    ConsentReceipt, Controller, RECEIPT_SCHEMA, ReceiptCategory, ReceiptDetails, ReceiptKey, ReceiptNotice,
    ReceiptPublicKey, ReceiptPurpose, ReceiptRecipient, ReceiptRetention, SignedReceipt,
};
pub use crate::request::{ClaimedException, LegalHold, MAX_AGE, RecordEvents, Request, Subject};
pub use crate::retention::{Due, RetentionPlanner, RetentionRecord};
pub use crate::rights::{
    AnswerItem, AnswerOutcome, CaseEvent, CaseId, CaseState, CaseStore, DeletionGround, Export, ExportAnswer,
    ExportAnswerItem, ExportCase, ExportCaseStep, ExportConsent, ExportConsentState, ExportDeadline, ExportDecision,
    ExportErasure, ExportHolding, ExportPolicy, ExportReceipt, ExportRetentionRule, ExportSources, Holding,
    HoldingOrigin, Holdings, Identity, ItemOutcome, LimitGround, ObjectionTarget, RightsAnswer, RightsCase, RightsDuty,
    RightsRequest, RightsRequestKind, Source, export,
};
pub use crate::taxonomy::{CategoryInfo, CategoryKey, Sensitivity, Taxonomy};

// The time and id types of the public interface, so that a caller needs no
// direct dependency on `chrono` or `uuid`.
pub use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
pub use uuid::Uuid;
