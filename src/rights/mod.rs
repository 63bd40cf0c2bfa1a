//! The person's side: rights requests and their answers.
//!
//! A [`RightsRequest`] is what a person asks of the controller (see, copy,
//! correct, delete, restrict, object, have explained, withdraw consent,
//! refuse optional data); a [`RightsAnswer`] is accepted, partly accepted,
//! refused or suspended, per category, each item with its ground, clause
//! and the source it came from, with the duties that come with it and a
//! deadline on the policy's calendar. The rules are written out in
//! `docs/rights.md`; the reference model in `tests/assurance` decides from
//! that document.
//!
//! The library does not know what an application holds: the caller
//! supplies a [`Holdings`] source. A [`RightsCase`] is a request kept in a
//! durable store with its states ([`CaseStore`]). An [`Export`] is what the
//! stores, the audit log and the holdings know about one person ([`export`]).

mod answer;
mod case;
mod deadline;
mod decide;
mod deletion;
mod duties;
mod export;
mod holdings;
mod per_right;
mod request;
mod scope;

pub use answer::{AnswerItem, AnswerOutcome, ItemOutcome, LimitGround, RightsAnswer, RightsDuty, Source};
pub use case::{CaseEvent, CaseId, CaseState, CaseStore, RightsCase};
pub(crate) use case::{Step, check_step};
pub(crate) use deadline::local_date;
pub(crate) use decide::{Inputs, answer, cited};
pub(crate) use deletion::{restriction_at, rules as holding_rules};
pub use export::{
    Export, ExportAnswer, ExportAnswerItem, ExportCase, ExportCaseStep, ExportConsent, ExportConsentState,
    ExportDeadline, ExportDecision, ExportErasure, ExportHolding, ExportPolicy, ExportReceipt, ExportRetentionRule,
    ExportSources, export,
};
pub use holdings::{Holding, HoldingOrigin, Holdings};
pub use request::{DeletionGround, Identity, ObjectionTarget, RightsRequest, RightsRequestKind};
