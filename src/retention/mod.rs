//! Retention: when a retention rule's periods end for one record (the
//! deadline arithmetic, in the policy's time zone and calendar), and the
//! [`RetentionPlanner`] that lists the records due for deletion.
//!
//! The engine's retain, delete and anonymise decisions read the same
//! deadlines (`engine/retention.rs`). Dependencies run one way:
//! `deadline` reads the policy and the request only; the engine reads
//! `deadline`; `planner` reads the engine.

mod deadline;
mod planner;

pub(crate) use deadline::{Bounds, bounds, cancelled_by, end_action, hold_active, retained_until};
pub use planner::{Due, RetentionPlanner, RetentionRecord};
