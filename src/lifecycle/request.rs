//! A lifecycle request: cancel, terminate, inactive, reactivate
//! (docs/lifecycle.md, "JSON forms").

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::ids::SubjectId;
use crate::rights::Identity;

/// What is asked of the engine about an account's lifecycle. The JSON form
/// is tagged by `"lifecycle"`; every time is RFC 3339.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "lifecycle", deny_unknown_fields)]
#[non_exhaustive]
pub enum LifecycleRequest {
    /// The person cancels the account at `at` (004 §10; 003 §7).
    Cancel {
        /// Whose account.
        subject: SubjectId,
        /// When the cancellation takes effect.
        #[serde(deserialize_with = "crate::timestamp::deserialize")]
        at: DateTime<FixedOffset>,
        /// Whether the person's identity has been verified (003 §7).
        #[serde(default)]
        identity: Identity,
    },
    /// The controller ends the service for every subject (003 §7; 001
    /// §4(2)(5)), noticed at `notice`, effective at `at`.
    Terminate {
        /// When the notice was given.
        #[serde(deserialize_with = "crate::timestamp::deserialize")]
        notice: DateTime<FixedOffset>,
        /// When the termination takes effect.
        #[serde(deserialize_with = "crate::timestamp::deserialize")]
        at: DateTime<FixedOffset>,
    },
    /// The person stopped using the service at `since` (003 §5): the
    /// retention trigger `last_used`.
    Inactive {
        /// Whose account.
        subject: SubjectId,
        /// The last use.
        #[serde(deserialize_with = "crate::timestamp::deserialize")]
        since: DateTime<FixedOffset>,
        /// The time the answer is computed for.
        #[serde(deserialize_with = "crate::timestamp::deserialize")]
        at: DateTime<FixedOffset>,
    },
    /// The person asks the account back after a cancellation.
    Reactivate {
        /// Whose account.
        subject: SubjectId,
        /// When the account was cancelled.
        #[serde(deserialize_with = "crate::timestamp::deserialize")]
        cancelled: DateTime<FixedOffset>,
        /// When the person asks.
        #[serde(deserialize_with = "crate::timestamp::deserialize")]
        at: DateTime<FixedOffset>,
    },
}

impl LifecycleRequest {
    /// A cancellation of `subject`'s account at `at`, identity unverified.
    pub fn cancel(subject: impl Into<SubjectId>, at: DateTime<FixedOffset>) -> Self {
        Self::Cancel { subject: subject.into(), at, identity: Identity::Unverified }
    }

    /// The time the request is decided at: its `at`.
    pub fn at(&self) -> DateTime<FixedOffset> {
        match self {
            Self::Cancel { at, .. }
            | Self::Terminate { at, .. }
            | Self::Inactive { at, .. }
            | Self::Reactivate { at, .. } => *at,
        }
    }

    /// The subject the request is about; `None` for a termination (every
    /// subject).
    pub fn subject(&self) -> Option<&SubjectId> {
        match self {
            Self::Cancel { subject, .. } | Self::Inactive { subject, .. } | Self::Reactivate { subject, .. } => {
                Some(subject)
            }
            Self::Terminate { .. } => None,
        }
    }
}
