//! The account's lifecycle: cancellation, the controller's termination of
//! the service, inactivity and reactivation, as events a store keeps and as
//! state the engine reads. The rules are written out in
//! `docs/lifecycle.md`.

mod event;
mod history;

pub use event::{LifecycleChange, LifecycleEvent, LifecycleStore};
pub(crate) use history::{check_event, in_time_order};
