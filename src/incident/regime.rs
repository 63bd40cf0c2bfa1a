//! A regime's incident rules: who must be notified, by when, and under
//! which conditions a notice may be skipped.

use serde::{Deserialize, Serialize};

use super::answer::NoticeDeadline;
use super::notice::NoticeContent;
use super::request::{Incident, IncidentRisk};
use crate::ids::Cites;

/// A condition on an incident, under which a regime lets a notice be
/// skipped. Serialised as its name (`"harm_avoided"`), or an object for
/// one with a threshold (`{"risk_at_most": "unlikely"}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum IncidentCondition {
    /// The measures taken effectively avoid harm (PIPL art. 57 ¶2).
    HarmAvoided,
    /// The data was encrypted (GDPR art. 34(3)(a)).
    Encrypted,
    /// The incident is contained.
    Contained,
    /// The controller assessed the risk, and it is at most this (GDPR art.
    /// 33(1): `unlikely`; art. 34(1): below `high`, i.e. at most `risk`).
    /// Holds on no incident whose risk is not assessed.
    RiskAtMost(IncidentRisk),
    /// Fewer than this many subjects are affected.
    FewerSubjectsThan(u64),
}

impl IncidentCondition {
    /// Whether the condition holds for `incident`.
    pub fn holds(self, incident: &Incident) -> bool {
        match self {
            Self::HarmAvoided => incident.harm_avoided,
            Self::Encrypted => incident.encrypted,
            Self::Contained => incident.contained,
            Self::RiskAtMost(most) => incident.risk.is_some_and(|r| r <= most),
            Self::FewerSubjectsThan(n) => incident.subjects < n,
        }
    }
}

/// When a notice is owed: its deadline, the conditions that let it be
/// skipped, and whether the regulator can require it anyway.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct NoticeRule {
    /// When it is due.
    pub deadline: NoticeDeadline,
    /// It is skipped when any of these holds (the first that holds is the
    /// answer's `because`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip_when: Vec<IncidentCondition>,
    /// Whether it is owed whenever the regulator requires it, whatever
    /// `skip_when` says (PIPL art. 57 ¶2).
    #[serde(default, skip_serializing_if = "crate::policy::is_false")]
    pub unless_required: bool,
    /// The article, where it is not the regime's own (`GDPR art. 34`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cites: Option<Cites>,
}

impl NoticeRule {
    /// A notice owed always, by `deadline`.
    pub fn new(deadline: NoticeDeadline) -> Self {
        Self { deadline, skip_when: Vec::new(), unless_required: false, cites: None }
    }

    /// The condition that lets the notice be skipped for `incident`, if
    /// one holds and the regulator does not require it.
    pub fn skipped_because(&self, incident: &Incident) -> Option<IncidentCondition> {
        if self.unless_required && incident.regulator_requires_notice {
            return None;
        }
        self.skip_when.iter().copied().find(|c| c.holds(incident))
    }
}

/// A regime's incident rules: a value, so that each regime sets its own
/// thresholds and deadlines. [`IncidentRegime::pipl`] is PIPL art. 57's;
/// a GDPR regime sets the regulator's rule to 72 hours, skipped when the
/// risk is unlikely (art. 33), and the individuals' rule skipped below a
/// high risk or where the data was encrypted (art. 34).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct IncidentRegime {
    /// The regime's article, cited by every answer (`PIPL art. 57`).
    pub cites: Cites,
    /// The notice to the regulator.
    pub regulator: NoticeRule,
    /// The notice to the people.
    pub individuals: NoticeRule,
    /// What the regime says a notice contains; the policy's list is added.
    pub contents: Vec<NoticeContent>,
}

impl IncidentRegime {
    /// A regime citing `cites`, with these rules and contents.
    pub fn new(cites: Cites, regulator: NoticeRule, individuals: NoticeRule, contents: Vec<NoticeContent>) -> Self {
        Self { cites, regulator, individuals, contents }
    }

    /// PIPL art. 57: the regulator always, promptly (no hours); the people
    /// promptly, unless the measures effectively avoid harm and the
    /// regulator does not require it; the notice lists the categories, the
    /// cause, the possible harm, the measures, what the person can do and a
    /// contact.
    pub fn pipl() -> Self {
        use NoticeContent::{CategoriesInvolved, Cause, Contact, PossibleHarm, RemedialMeasures, SelfProtection};
        let individuals = NoticeRule {
            skip_when: vec![IncidentCondition::HarmAvoided],
            unless_required: true,
            ..NoticeRule::new(NoticeDeadline::Promptly)
        };
        Self::new(
            Cites::from("PIPL art. 57"),
            NoticeRule::new(NoticeDeadline::Promptly),
            individuals,
            vec![CategoriesInvolved, Cause, PossibleHarm, RemedialMeasures, SelfProtection, Contact],
        )
    }
}
