//! What an incident notice contains, and what a policy says of its own
//! incident notices.

use serde::{Deserialize, Serialize};

use crate::ids::Cites;
use crate::policy::ChannelKind;

/// An item an incident notice must contain. The order of the variants is
/// the order of an answer's `contents`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NoticeContent {
    /// The categories of personal information involved (PIPL art. 57 ¶1(1)).
    CategoriesInvolved,
    /// The cause of the incident (PIPL art. 57 ¶1(1); 003 §4).
    Cause,
    /// The harm it may cause: the incident's basic situation and possible
    /// impact (PIPL art. 57 ¶1(1); 001 §3(4); 004 §4.3 item 7).
    PossibleHarm,
    /// The remedial measures taken or planned (PIPL art. 57 ¶1(2)).
    RemedialMeasures,
    /// What the person can do to reduce the harm (PIPL art. 57 ¶1(3)).
    SelfProtection,
    /// The remedies offered to the person (001 §3(4); 004 §4.3 item 7).
    Remedies,
    /// How to reach the controller (PIPL art. 57 ¶1(4)).
    Contact,
}

/// What a policy says of its incident notices (`incident_notice`): the
/// channels, the contents it lists, whether it promises a password-change
/// reminder.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct IncidentNotice {
    /// How the people are notified, in the order the text gives them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<ChannelKind>,
    /// What the text says a notice contains.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contents: Vec<NoticeContent>,
    /// Whether the text promises to remind the users to change their
    /// passwords (003 §4.3); the reminder is owed where credentials leak
    /// whatever it says, and this clause is then cited.
    #[serde(default, skip_serializing_if = "crate::policy::is_false")]
    pub password_reminder: bool,
    /// The clause of the published policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cites: Option<Cites>,
}

impl IncidentNotice {
    /// Notices by `channels` with `contents`, no reminder promised.
    pub fn new(channels: Vec<ChannelKind>, contents: Vec<NoticeContent>) -> Self {
        Self { channels, contents, password_reminder: false, cites: None }
    }
}
