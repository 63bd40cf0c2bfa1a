//! Purposes and recipients the policy does not name, which a specific
//! consent may name instead (seed 004 §1.2 item 9 另行征得同意; 003 §1 and
//! §6.1; 002 §3(1)1(1)): the policy states for which actions, categories
//! and recipient kinds such a consent may be asked, and with which
//! qualities it must come.

use serde::{Deserialize, Serialize};

use super::{Action, Agreement, RecipientKind};
use crate::consent::ConsentQualities;
use crate::ids::{Cites, PurposeId, RuleId};
use crate::taxonomy::CategoryKey;

/// What a [`NamedInConsent`] rule lets a consent name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Names {
    /// A purpose of processing the policy does not declare.
    Purpose,
    /// A recipient the policy does not declare.
    Recipient,
}

impl Names {
    /// The name as in the JSON form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Purpose => "purpose",
            Self::Recipient => "recipient",
        }
    }
}

/// A purpose or a recipient named only in a specific consent: a request for
/// a purpose (or to a recipient) the policy does not declare is decided as
/// if the policy declared it as this rule describes, and needs a grant of
/// `qualities` that names and describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct NamedInConsent {
    /// The rule's id.
    pub id: RuleId,
    /// Whether the consent names a purpose or a recipient.
    pub names: Names,
    /// The actions it applies to; at most one rule of each `names` per
    /// action.
    pub actions: Vec<Action>,
    /// The categories such a purpose may cover, or such a recipient may
    /// receive (with their descendants).
    pub categories: Vec<CategoryKey>,
    /// For a recipient: its kind, which the grant must name too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_kind: Option<RecipientKind>,
    /// For a recipient: the declared purposes it may receive data for;
    /// empty means every purpose.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub purposes: Vec<PurposeId>,
    /// For a recipient: the agreements the controller has with every
    /// recipient it names this way (e.g. 002 §3(1)4: a confidentiality
    /// agreement with every company it shares with).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agreements: Vec<Agreement>,
    /// The qualities the grant that names it must have.
    pub qualities: ConsentQualities,
    /// The clause of the published policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cites: Option<Cites>,
}

impl NamedInConsent {
    /// A rule that lets a consent of `qualities` name a purpose (or a
    /// recipient) for `actions` on `categories`.
    pub fn new(
        id: impl Into<RuleId>,
        names: Names,
        actions: Vec<Action>,
        categories: Vec<CategoryKey>,
        qualities: ConsentQualities,
    ) -> Self {
        Self {
            id: id.into(),
            names,
            actions,
            categories,
            recipient_kind: None,
            purposes: Vec::new(),
            agreements: Vec::new(),
            qualities,
            cites: None,
        }
    }

    /// Sets the kind a recipient named this way is of.
    #[must_use]
    pub fn recipient_kind(mut self, kind: RecipientKind) -> Self {
        self.recipient_kind = Some(kind);
        self
    }
}
