//! An incident, as the controller knows it, and the request to decide it.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::taxonomy::CategoryKey;

/// A security incident involving personal information (PIPL art. 57):
/// what leaked, how many people, when it was found, and what is known of
/// the harm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Incident {
    /// The categories involved; each covers its descendants.
    pub categories: Vec<CategoryKey>,
    /// How many subjects are affected (the controller's estimate).
    pub subjects: u64,
    /// When the controller discovered it.
    #[serde(deserialize_with = "crate::timestamp::deserialize")]
    pub discovered: DateTime<FixedOffset>,
    /// Whether it is contained.
    #[serde(default)]
    pub contained: bool,
    /// Whether the data involved was encrypted (unintelligible to whoever
    /// obtained it).
    #[serde(default)]
    pub encrypted: bool,
    /// Whether passwords or keys leaked.
    #[serde(default)]
    pub credentials: bool,
    /// Whether the measures taken effectively avoid harm (PIPL art. 57 ¶2).
    #[serde(default)]
    pub harm_avoided: bool,
    /// Whether the regulator requires the people to be notified (PIPL art.
    /// 57 ¶2: then the notice is owed even where harm is avoided).
    #[serde(default)]
    pub regulator_requires_notice: bool,
    /// Whether the people can be reached one by one; when not, a public
    /// announcement is owed.
    #[serde(default = "reachable_default")]
    pub reachable: bool,
    /// The controller's assessment of the risk to the people, where it made
    /// one; a regime may set thresholds on it (GDPR arts. 33, 34). Absent,
    /// no condition on the risk holds, so no notice is skipped for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<IncidentRisk>,
}

fn reachable_default() -> bool {
    true
}

/// How likely an incident is to harm the people, as the controller
/// assesses it; ordered from the least to the most.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum IncidentRisk {
    /// Unlikely to result in a risk to the people's rights (GDPR art. 33(1)).
    Unlikely,
    /// Likely to result in a risk.
    Risk,
    /// Likely to result in a high risk (GDPR art. 34(1)).
    High,
}

/// An incident to decide, at a time (which version of the policy is in
/// force): `{"incident": {...}, "at": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct IncidentRequest {
    /// The incident.
    pub incident: Incident,
    /// When it is decided.
    #[serde(deserialize_with = "crate::timestamp::deserialize")]
    pub at: DateTime<FixedOffset>,
}

impl Incident {
    /// An incident involving `categories` of `subjects` people, discovered
    /// at `discovered`: not contained, not encrypted, no credentials, harm
    /// not avoided, the people reachable, no risk assessed.
    pub fn new(categories: Vec<CategoryKey>, subjects: u64, discovered: DateTime<FixedOffset>) -> Self {
        Self {
            categories,
            subjects,
            discovered,
            contained: false,
            encrypted: false,
            credentials: false,
            harm_avoided: false,
            regulator_requires_notice: false,
            reachable: true,
            risk: None,
        }
    }

    /// Whether the incident involves `category`: it is within an involved
    /// category, or contains one (a holding of `user.contact` may be the
    /// leaked `user.contact.phone_number`).
    pub fn involves(&self, category: &CategoryKey) -> bool {
        self.categories.iter().any(|c| category.is_within(c) || c.is_within(category))
    }
}

impl IncidentRequest {
    /// `incident`, decided at `at`.
    pub fn new(incident: Incident, at: DateTime<FixedOffset>) -> Self {
        Self { incident, at }
    }
}
