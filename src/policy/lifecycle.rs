//! What a policy says of the account's lifecycle: whether a cancelled
//! account may be given back, and the notice the controller gives before it
//! ends the service (docs/lifecycle.md).

use serde::{Deserialize, Serialize};

use super::{Period, is_false};
use crate::ids::Cites;

/// The policy's `lifecycle` section.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AccountLifecycle {
    /// Whether a cancelled account may be reactivated. `false` by default
    /// and under every seed (003 §7 "irreversible"; 004 §10).
    #[serde(default, skip_serializing_if = "is_false")]
    pub reactivation: bool,
    /// The least notice the controller gives before ending the service
    /// (003 §7: 30 days); absent, no minimum is checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_notice: Option<Period>,
    /// The clause of the published policy on cancellation and the end of
    /// the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cites: Option<Cites>,
}

impl AccountLifecycle {
    /// Whether the section says nothing (it is then left out of the JSON
    /// form).
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}
