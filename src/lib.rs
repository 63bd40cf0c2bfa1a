//! privacy-engine turns an app's privacy policy into a typed policy that the
//! app consults before it touches personal data.
//!
//! (Crate documentation is in progress.)

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]

mod consent;
mod decision;
mod engine;
mod error;
mod ground;
mod ids;
mod policy;
mod request;
mod taxonomy;

// The public interface is:
pub use crate::consent::{
    ConsentChange, ConsentEvent, ConsentQualities, ConsentQuery, ConsentStatus, ConsentStore,
    InMemoryLedger, Scope,
};
pub use crate::decision::{
    CategoryOutcome, ConsentFrom, Decision, Effect, NoticeField, Obligation, Reason, Unmet, Verdict,
};
pub use crate::engine::{Due, Engine, RetentionPlanner, RetentionRecord};
pub use crate::error::{Error, ErrorKind};
pub use crate::ground::{Evidence, Ground};
pub use crate::ids::{PolicyId, PurposeId, RecipientId, RuleId, SubjectId};
pub use crate::policy::{
    AcknowledgedWarning, Action, ActionRule, Agreement, CategoryDecl, ConsentRequirement,
    DataState, Diagnostic, DiagnosticCode, Duty, EndAction, Exception, MinorEffect, MinorRule,
    Minors, MonthEnd, Period, Permission, Policy, PolicyBuilder, Purpose, PurposeBasis, Recipient,
    RecipientKind, RecipientRequirement, RetentionRule, SCHEMA_VERSION, Settings, Severity,
    Trigger, UnknownAge,
};
pub use crate::request::{ClaimedException, LegalHold, MAX_AGE, RecordEvents, Request, Subject};
pub use crate::taxonomy::{CategoryInfo, CategoryKey, InvalidCategoryKey, Sensitivity, Taxonomy};
