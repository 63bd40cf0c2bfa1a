//! The account's lifecycle: cancellation, the controller's termination of
//! the service, inactivity and reactivation, as events a store keeps and as
//! state the engine reads. The rules are written out in
//! `docs/lifecycle.md`.
//!
//! `request` and `answer` are the JSON forms; `decide` answers a request
//! from the policy, the caller's holdings, the subject's earlier events and
//! the consent ledger, reusing the retention deadlines
//! (`crate::retention`) and the rights answer's restriction
//! (`crate::rights`).

mod answer;
mod decide;
mod event;
mod history;
mod request;

pub use answer::{Disposal, LifecycleAnswer, LifecycleDuty, LifecycleOutcome, LifecycleReason};
pub(crate) use decide::{Inputs, decide};
pub use event::{LifecycleChange, LifecycleEvent, LifecycleStore};
pub(crate) use history::{check_event, in_time_order};
pub use request::LifecycleRequest;
