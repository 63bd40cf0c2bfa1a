//! What a revision of a policy asks of the consents given under an earlier
//! version.
//!
//! This file holds the one type every part of the crate agrees on: a
//! [`FreshConsent`] says which grants given under an earlier version no
//! longer cover a later one. Classifying the changes between two versions
//! (`diff`) produces them; an engine built from a policy history reads them
//! to decide which grants still count; the re-consent scan lists the
//! subjects they concern.

use std::fmt;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::consent::ConsentQualities;
use crate::ids::{PolicyId, PurposeId, RecipientId};
use crate::taxonomy::CategoryKey;

/// Grants given under an earlier version that stop counting from the
/// version that made this change: those for `purpose` that cover one of
/// `categories` (every category of the purpose when it is empty) and, when
/// `recipient` is set, only as far as that recipient is concerned.
///
/// A grant given under version `V` counts for a request decided under
/// version `W` of the same policy only if no version after the earlier of
/// the two, up to and including the later, makes a `FreshConsent` that
/// matches the grant's purpose, category and recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FreshConsent {
    /// The purpose whose grants lapse.
    pub purpose: PurposeId,
    /// The categories whose grants lapse; empty for all of the purpose's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<CategoryKey>,
    /// Only grants as far as this recipient is concerned lapse; `None` for
    /// every grant of the purpose and categories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<RecipientId>,
    /// The qualities the new consent must have.
    pub qualities: ConsentQualities,
}

impl FreshConsent {
    /// Every grant for `purpose` lapses; the new consent needs `qualities`.
    pub fn new(purpose: PurposeId, qualities: ConsentQualities) -> Self {
        Self { purpose, categories: Vec::new(), recipient: None, qualities }
    }

    /// Only grants covering one of `categories` lapse.
    #[must_use]
    pub fn for_categories(mut self, categories: Vec<CategoryKey>) -> Self {
        self.categories = categories;
        self
    }

    /// Only grants as far as `recipient` is concerned lapse.
    #[must_use]
    pub fn for_recipient(mut self, recipient: RecipientId) -> Self {
        self.recipient = Some(recipient);
        self
    }
}

impl FreshConsent {
    /// Whether a grant for `purpose` covering `category`, used as far as
    /// `recipient` is concerned (`None`: the controller's own processing),
    /// lapses under this change: the one reading of the rule above.
    pub fn lapses(&self, purpose: &PurposeId, category: &CategoryKey, recipient: Option<&RecipientId>) -> bool {
        &self.purpose == purpose
            && (self.categories.is_empty()
                || self.categories.iter().any(|c| category.is_within(c) || c.is_within(category)))
            && self.recipient.as_ref().is_none_or(|r| recipient == Some(r))
    }
}

/// The clause of a minor change: notice before the new version takes
/// effect, and no more.
const ORDINARY_NOTICE: &str = "003 §9; 004 §7 (notice before it takes effect)";

/// What kind of change a [`Change`] is. Whether it is major, and the clause
/// that says so, follow from the kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChangeKind {
    /// The controller, or who owns it, changes (003 §9 / 004 §7 item 2).
    Ownership,
    /// The responsible department, a contact or a complaint channel changes
    /// (item 5).
    ContactsChanged,
    /// A right or how to exercise it changes, without reducing it (item 4).
    RightsChanged,
    /// A right is removed or harder to exercise, or consent is asked of less
    /// processing: needs the person's explicit consent (003 §9, 004 §7).
    RightsReduced,
    /// The latest impact assessment finds a high risk (item 6).
    HighRiskAssessment,
    /// The impact assessment changes without finding a high risk.
    AssessmentUpdated,
    /// A category's sensitivity is raised.
    SensitivityRaised,
    /// A category's sensitivity is lowered.
    SensitivityLowered,
    /// A purpose is added (item 1).
    PurposeAdded,
    /// A purpose is removed: processing for it stops.
    PurposeRemoved,
    /// A purpose processes more categories (item 1).
    CategoriesAdded,
    /// A purpose processes fewer categories.
    CategoriesRemoved,
    /// How personal information is used changes: a purpose's basis or
    /// permission, an action rule or exception, the minors rules, the
    /// settings (item 1).
    MannerOfUse,
    /// A rule or exception is removed: less is permitted.
    ScopeNarrowed,
    /// Consent is asked of more processing, or with more qualities.
    ConsentStrengthened,
    /// A recipient is added (item 3).
    RecipientAdded,
    /// A recipient is removed (item 3).
    RecipientRemoved,
    /// A recipient receives more, in a less protected state or with fewer
    /// agreements, or is another party (item 3).
    RecipientChanged,
    /// A recipient receives fewer categories or for fewer purposes, or with
    /// more protection.
    RecipientNarrowed,
    /// Data goes to a region abroad that no recipient was in before
    /// (PIPL art. 39).
    CrossBorderDestination,
    /// Data is kept longer, or a retention rule is added.
    RetentionLengthened,
    /// Data is kept for less time, or a retention rule is removed.
    RetentionShortened,
    /// Wording: descriptions, the source text, the language.
    Wording,
}

impl ChangeKind {
    /// The kind's name as in the JSON form, e.g. `purpose_added`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ownership => "ownership",
            Self::ContactsChanged => "contacts_changed",
            Self::RightsChanged => "rights_changed",
            Self::RightsReduced => "rights_reduced",
            Self::HighRiskAssessment => "high_risk_assessment",
            Self::AssessmentUpdated => "assessment_updated",
            Self::SensitivityRaised => "sensitivity_raised",
            Self::SensitivityLowered => "sensitivity_lowered",
            Self::PurposeAdded => "purpose_added",
            Self::PurposeRemoved => "purpose_removed",
            Self::CategoriesAdded => "categories_added",
            Self::CategoriesRemoved => "categories_removed",
            Self::MannerOfUse => "manner_of_use",
            Self::ScopeNarrowed => "scope_narrowed",
            Self::ConsentStrengthened => "consent_strengthened",
            Self::RecipientAdded => "recipient_added",
            Self::RecipientRemoved => "recipient_removed",
            Self::RecipientChanged => "recipient_changed",
            Self::RecipientNarrowed => "recipient_narrowed",
            Self::CrossBorderDestination => "cross_border_destination",
            Self::RetentionLengthened => "retention_lengthened",
            Self::RetentionShortened => "retention_shortened",
            Self::Wording => "wording",
        }
    }

    /// Whether a change of this kind is major: it needs prominent notice
    /// before it takes effect. The minor kinds are those whose clause asks
    /// only ordinary notice.
    pub fn is_major(self) -> bool {
        self.clause() != ORDINARY_NOTICE
    }

    /// The clause of the seeds or the law that makes the change major, or
    /// for a minor change the one that asks ordinary notice.
    pub fn clause(self) -> &'static str {
        match self {
            Self::Ownership => "003 §9 item 2; 004 §7 item 2",
            Self::ContactsChanged => "003 §9 item 5; 004 §7 item 5",
            Self::RightsChanged => "003 §9 item 4; 004 §7 item 4",
            Self::RightsReduced => {
                "003 §9 item 4 and 'will not reduce your rights'; 004 §7 item 4 and 未经您明确同意…不会削减"
            }
            Self::HighRiskAssessment => "003 §9 item 6; 004 §7 item 6",
            Self::SensitivityRaised | Self::SensitivityLowered => {
                "003 §9 item 1; 004 §7 item 1 (type of personal information); PIPL art. 28-29"
            }
            Self::PurposeAdded | Self::CategoriesAdded => "003 §9 item 1; 004 §7 item 1 (purpose, type)",
            Self::MannerOfUse => "003 §9 item 1; 004 §7 item 1 (manner of use)",
            Self::RecipientAdded | Self::RecipientRemoved | Self::RecipientChanged => "003 §9 item 3; 004 §7 item 3",
            Self::CrossBorderDestination => "PIPL art. 39; 003 §9 item 3; 004 §7 item 3",
            Self::RetentionLengthened => "003 §9 item 1; 004 §7 item 1 (manner of use); PIPL art. 17(1)(3)",
            Self::AssessmentUpdated
            | Self::PurposeRemoved
            | Self::CategoriesRemoved
            | Self::ScopeNarrowed
            | Self::ConsentStrengthened
            | Self::RecipientNarrowed
            | Self::RetentionShortened
            | Self::Wording => ORDINARY_NOTICE,
        }
    }
}

/// One change between two versions of a policy.
///
/// Read back from JSON, `major` and `clause` come from the kind, whatever
/// the document says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "ChangeForm")]
#[non_exhaustive]
pub struct Change {
    /// What kind of change it is.
    pub kind: ChangeKind,
    /// Whether it is major ([`ChangeKind::is_major`]).
    pub major: bool,
    /// What changed, naming ids and keys from the policies.
    pub reason: String,
    /// The clause that makes it major, or asks notice of it
    /// ([`ChangeKind::clause`]).
    pub clause: String,
    /// Its JSON pointer in the old version, if it is there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
    /// Its JSON pointer in the new version, if it is there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_path: Option<String>,
}

/// The JSON form of a [`Change`] as read: what `major` and `clause`
/// follow from.
#[derive(Deserialize)]
struct ChangeForm {
    kind: ChangeKind,
    reason: String,
    #[serde(default)]
    old_path: Option<String>,
    #[serde(default)]
    new_path: Option<String>,
}

impl From<ChangeForm> for Change {
    fn from(f: ChangeForm) -> Self {
        Change::new(f.kind, f.reason, f.old_path, f.new_path)
    }
}

impl Change {
    /// A change of `kind` for `reason`, at the given paths.
    pub fn new(kind: ChangeKind, reason: String, old_path: Option<String>, new_path: Option<String>) -> Self {
        Self { kind, major: kind.is_major(), reason, clause: kind.clause().to_owned(), old_path, new_path }
    }
}

/// What publishing a new version asks of the controller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "duty")]
#[non_exhaustive]
pub enum ChangeDuty {
    /// Tell users before the new version takes effect: prominently (e-mail,
    /// SMS or a special prompt on the page) when a change is major, by an
    /// announcement otherwise (003 §9, 004 §7).
    Notify {
        /// Whether the notice must be prominent.
        prominent: bool,
        /// The new version's effective time, which the notice must precede.
        before: DateTime<FixedOffset>,
    },
    /// Publish the new version with its date (001, 003 §9, 004 §7).
    Publish {
        /// The new version.
        version: String,
        /// When it takes effect.
        effective: DateTime<FixedOffset>,
    },
    /// Keep the old version for users to read (004 §7).
    Archive {
        /// The old version.
        version: String,
    },
    /// Apply a reduction of rights to a person only with their explicit
    /// consent (003 §9, 004 §7); until then their rights stay as they were.
    ExplicitConsentToReduction,
}

impl ChangeDuty {
    /// The clause that asks for it.
    pub fn clause(&self) -> &'static str {
        match self {
            Self::Notify { prominent: true, .. } => "003 §9; 004 §7 (更为显著的通知)",
            Self::Notify { prominent: false, .. } => "003 §9; 004 §7 (在生效前…提醒)",
            Self::Publish { .. } => "001 (date at the top); 003 §9; 004 §7",
            Self::Archive { .. } => "004 §7 (将本隐私政策的旧版本存档,供您查阅)",
            Self::ExplicitConsentToReduction => "003 §9; 004 §7 (未经您明确同意,我们不会削减您的权利)",
        }
    }
}

/// The changes from one version of a policy to the next, with what they
/// ask: the controller's duties and the grants that no longer cover the new
/// version. Made by [`diff`](crate::diff); its JSON form reads back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Changes {
    /// The policy.
    pub policy: PolicyId,
    /// The old version.
    pub from_version: String,
    /// The new version.
    pub to_version: String,
    /// When the new version takes effect.
    pub effective: DateTime<FixedOffset>,
    /// The changes, in a fixed order: what the policy says about itself,
    /// then sensitivities, purposes, consent requirements, recipients,
    /// action rules, retention, minors, settings and the remaining
    /// wording, each in document order.
    pub changes: Vec<Change>,
    /// What publishing the new version asks.
    pub duties: Vec<ChangeDuty>,
    /// The grants that no longer cover the new version, sorted.
    pub fresh: Vec<FreshConsent>,
}

impl Changes {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Whether a change is major.
    pub fn has_major(&self) -> bool {
        self.changes.iter().any(|c| c.major)
    }

    /// The grants given under the old version that do not cover the new
    /// one: the purposes (and categories, recipients) that need fresh
    /// consent, and of which qualities.
    pub fn fresh_consent(&self) -> Vec<FreshConsent> {
        self.fresh.clone()
    }

    /// Whether a grant for `purpose` covering `category` still covers the
    /// new version as far as `recipient` is concerned (`None`: the
    /// controller's own processing).
    pub fn still_covers(&self, purpose: &PurposeId, category: &CategoryKey, recipient: Option<&RecipientId>) -> bool {
        !self.fresh.iter().any(|f| f.lapses(purpose, category, recipient))
    }
}

impl fmt::Display for Changes {
    /// The change list as text, one numbered change to two lines, then the
    /// duties and the fresh consents.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let major = self.changes.iter().filter(|c| c.major).count();
        writeln!(
            f,
            "policy `{}`: version `{}` -> `{}`, effective {}",
            self.policy,
            self.from_version,
            self.to_version,
            self.effective.to_rfc3339()
        )?;
        writeln!(f, "{} changes: {major} major, {} minor", self.changes.len(), self.changes.len() - major)?;
        for (i, c) in self.changes.iter().enumerate() {
            let level = if c.major { "major" } else { "minor" };
            writeln!(f, "{:>2}. [{level}] {}: {}", i + 1, c.kind.as_str(), c.reason)?;
            let at = match (&c.old_path, &c.new_path) {
                (Some(o), Some(n)) if o == n => format!("at {o}"),
                (Some(o), Some(n)) => format!("old {o}, new {n}"),
                (Some(o), None) => format!("old {o}"),
                (None, Some(n)) => format!("new {n}"),
                (None, None) => "-".to_owned(),
            };
            writeln!(f, "    {at}; {}", c.clause)?;
        }
        writeln!(f, "duties:")?;
        for d in &self.duties {
            let what = match d {
                ChangeDuty::Notify { prominent: true, before } => {
                    format!("notify prominently (e-mail, SMS or a special prompt) before {}", before.to_rfc3339())
                }
                ChangeDuty::Notify { prominent: false, before } => {
                    format!("notify by announcement before {}", before.to_rfc3339())
                }
                ChangeDuty::Publish { version, effective } => {
                    format!("publish version `{version}`, in force from {}", effective.to_rfc3339())
                }
                ChangeDuty::Archive { version } => format!("archive version `{version}` for users to read"),
                ChangeDuty::ExplicitConsentToReduction => {
                    "reduce a person's rights only with their explicit consent".to_owned()
                }
            };
            writeln!(f, "- {what}; {}", d.clause())?;
        }
        writeln!(f, "fresh consent:")?;
        for c in &self.fresh {
            write!(f, "- purpose `{}`", c.purpose)?;
            if !c.categories.is_empty() {
                let keys: Vec<String> = c.categories.iter().map(|k| format!("`{k}`")).collect();
                write!(f, ", categories {}", keys.join(", "))?;
            }
            if let Some(r) = &c.recipient {
                write!(f, ", recipient `{r}`")?;
            }
            writeln!(f, ": {}", c.qualities)?;
        }
        Ok(())
    }
}
