//! A lifecycle event, and where the stores keep them.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::Error;
use crate::ids::SubjectId;

/// What happened to an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LifecycleChange {
    /// The account was cancelled, at once (004 §10; 003 §7).
    Cancelled,
    /// The controller ended the service for this subject (003 §7), after
    /// the notice given at the event's `notice`.
    ServiceTerminated,
    /// The person stopped using the service (003 §5); the event's time is
    /// the last use.
    Inactive,
    /// The account was given back after a cancellation (only where the
    /// policy allows it).
    Reactivated,
}

/// One lifecycle event of a subject's account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct LifecycleEvent {
    /// The event's id, chosen by the caller: the same id appended again is
    /// a no-op.
    pub id: Uuid,
    /// Whose account.
    pub subject: SubjectId,
    /// What happened.
    pub change: LifecycleChange,
    /// For a termination: when the notice was given.
    #[serde(
        default,
        deserialize_with = "crate::timestamp::deserialize_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub notice: Option<DateTime<FixedOffset>>,
    /// When it took effect.
    #[serde(deserialize_with = "crate::timestamp::deserialize")]
    pub at: DateTime<FixedOffset>,
}

impl LifecycleEvent {
    /// The event `id`: `change` to `subject`'s account at `at`.
    pub fn new(id: Uuid, subject: impl Into<SubjectId>, change: LifecycleChange, at: DateTime<FixedOffset>) -> Self {
        Self { id, subject: subject.into(), change, notice: None, at }
    }
}

/// Where lifecycle events are kept: implemented by every durable store, so
/// a restart loses no cancellation.
pub trait LifecycleStore {
    /// Records one event. The same id with the same content again is a
    /// no-op; the same id with other content is refused; an event the
    /// account's state does not allow (a second cancellation, a
    /// reactivation of an account never cancelled) is refused.
    ///
    /// # Errors
    ///
    /// An error of kind [`Rights`](crate::ErrorKind::Rights) for an event
    /// the state does not allow or a conflicting id, or
    /// [`Store`](crate::ErrorKind::Store) when the store fails.
    fn record_lifecycle(&mut self, event: &LifecycleEvent) -> Result<(), Error>;

    /// The lifecycle events of `subject`, in time order.
    ///
    /// # Errors
    ///
    /// An error of kind [`Store`](crate::ErrorKind::Store).
    fn lifecycle_of(&mut self, subject: &SubjectId) -> Result<Vec<LifecycleEvent>, Error>;
}
