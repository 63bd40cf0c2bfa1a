//! privacy-engine turns an app's privacy policy into a typed policy that the
//! app consults before it touches personal data.
//!
//! (Crate documentation is in progress.)

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]

mod consent;
mod error;
mod ground;
mod ids;
mod policy;
mod taxonomy;

// The public interface is:
pub use crate::consent::{
    ConsentChange, ConsentEvent, ConsentQualities, ConsentQuery, ConsentStatus, ConsentStore, InMemoryLedger, Scope,
};
pub use crate::error::{Error, ErrorKind};
pub use crate::ground::{Evidence, Ground};
pub use crate::ids::{PolicyId, PurposeId, RecipientId, RuleId, SubjectId};
pub use crate::policy::{
    AcknowledgedWarning, Action, ActionRule, Agreement, CategoryDecl, ConsentRequirement, DataState, Diagnostic,
    DiagnosticCode, Duty, EndAction, Exception, MinorEffect, MinorRule, Minors, MonthEnd, Permission, Period, Policy,
    PolicyBuilder, Purpose, PurposeBasis, Recipient, RecipientKind, RecipientRequirement, RetentionRule, Settings,
    Severity, Trigger, UnknownAge, SCHEMA_VERSION,
};
pub use crate::taxonomy::{CategoryInfo, CategoryKey, InvalidCategoryKey, Sensitivity, Taxonomy};
