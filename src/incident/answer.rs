//! The answer to an incident: the duties owed, the notice's contents, the
//! notices a condition lets the controller skip.

use serde::{Deserialize, Serialize};

use super::notice::NoticeContent;
use super::regime::IncidentCondition;
use crate::policy::ChannelKind;

/// When a notice is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NoticeDeadline {
    /// Promptly, with no hour count (PIPL art. 57 and the seeds give none):
    /// `"promptly"`.
    Promptly,
    /// Within so many hours of the discovery (GDPR art. 33(1): 72):
    /// `{"hours": 72}`.
    Hours(u32),
}

/// A duty an incident brings, tagged by `"duty"` in JSON.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "duty")]
#[non_exhaustive]
pub enum IncidentDuty {
    /// Take remedial measures at once (PIPL art. 57 ¶1).
    Remedy,
    /// Notify the regulator.
    NotifyRegulator {
        /// When the notice is due.
        deadline: NoticeDeadline,
    },
    /// Notify the affected people, one by one where they can be reached.
    NotifyIndividuals {
        /// The policy's incident channels, in the order its text gives
        /// them; empty when it names none.
        channels: Vec<ChannelKind>,
    },
    /// Announce the incident publicly: the people cannot all be reached one
    /// by one (001 §3(4); 004 §4.3 item 7).
    PublicAnnouncement,
    /// Remind the users to change their passwords: credentials leaked
    /// (003 §4.3).
    PasswordReminder,
}

/// A notice a regime's condition lets the controller skip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum NoticeTo {
    /// The notice to the regulator: `"notify_regulator"`.
    #[serde(rename = "notify_regulator")]
    Regulator,
    /// The notice to the people: `"notify_individuals"`.
    #[serde(rename = "notify_individuals")]
    Individuals,
}

/// A notice not owed, and the condition that holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SkippedDuty {
    /// Which notice.
    pub duty: NoticeTo,
    /// The regime's condition that lets it be skipped (`"harm_avoided"`
    /// under PIPL art. 57 ¶2).
    pub because: IncidentCondition,
}

/// What an incident obliges the controller to do (`Engine::incident`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct IncidentAnswer {
    /// The duties owed, in the order: remedy, regulator, individuals,
    /// public announcement, password reminder.
    pub duties: Vec<IncidentDuty>,
    /// What the notices must contain: the regime's list and the policy's,
    /// in [`NoticeContent`]'s order.
    pub contents: Vec<NoticeContent>,
    /// The notices not owed, with the condition that lets them be skipped.
    pub skipped: Vec<SkippedDuty>,
    /// The clauses: the regime's, then the policy's.
    pub cites: Vec<String>,
    /// The version of the policy in force at the request's time.
    pub policy_version: String,
}
