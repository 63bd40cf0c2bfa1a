//! What the application holds about a person: the caller's source.

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::ids::{PurposeId, RecipientId, SubjectId};
use crate::request::RecordEvents;
use crate::taxonomy::CategoryKey;

/// Where held data came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HoldingOrigin {
    /// The person provided it (forms, uploads, posts).
    Provided,
    /// The service observed it (logs, device data, location).
    Observed,
    /// The service derived or inferred it (portraits, scores).
    Derived,
    /// A third party provided it (partners, public sources, 004 §1.2.4).
    ThirdParty,
}

/// One category the application holds about a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Holding {
    /// The category.
    pub category: CategoryKey,
    /// Where it came from.
    pub origin: HoldingOrigin,
    /// The purposes it is held for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub purposes: Vec<PurposeId>,
    /// Who it was provided to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<RecipientId>,
    /// The record's events (collection, cancellation, legal hold, ...):
    /// what the retention rules run from.
    #[serde(default)]
    pub events: RecordEvents,
    /// Whether the record holds other people's personal information too
    /// (a chat, a shared album): a copy would disclose it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub others_data: bool,
}

impl Holding {
    /// A holding of `category` from `origin`, with no purpose, recipient or
    /// event.
    pub fn new(category: CategoryKey, origin: HoldingOrigin) -> Self {
        Self {
            category,
            origin,
            purposes: Vec::new(),
            recipients: Vec::new(),
            events: RecordEvents::default(),
            others_data: false,
        }
    }
}

/// The caller's source of what the application holds: the library cannot
/// know it (a permit in the audit log does not prove the data was
/// collected, and data collected on a contract basis leaves no grant).
pub trait Holdings {
    /// What is held about `subject`.
    ///
    /// # Errors
    ///
    /// Whatever the source's own storage reports; name no personal data in
    /// it.
    fn held(&self, subject: &SubjectId) -> Result<Vec<Holding>, Error>;
}
