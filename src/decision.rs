//! What the engine answers: a verdict, why, what comes with it, and for a
//! denial what would make it permitted.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::consent::ConsentQualities;
use crate::ids::{Cites, PolicyId, PurposeId, RecipientId, RuleId};
use crate::policy::{Action, DataState, EndAction, Permission, RecipientKind, RecipientRequirement, Trigger};
use crate::policy::{Evidence, Ground};
use crate::taxonomy::CategoryKey;

/// Permitted or denied. There is no third verdict: "needs consent" is a
/// denial whose unmet requirements say which consent would permit it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The processing may go ahead, with the decision's obligations.
    Permit,
    /// The processing may not go ahead.
    Deny,
}

/// A decision.
///
/// Every list is sorted and free of duplicates, so the same inputs give
/// byte-identical JSON.
///
/// [`Engine::evaluate`](crate::Engine::evaluate) returns it;
/// [`Engine::decide`](crate::Engine::decide) gives the same decision as a
/// [`Ruling`](crate::Ruling) that borrows from the policy and the request,
/// rendered by [`Ruling::to_decision`](crate::Ruling::to_decision).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Decision {
    /// Permit or deny.
    pub verdict: Verdict,
    /// The action decided on.
    pub action: Action,
    /// The policy decided under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<PolicyId>,
    /// The version of the policy the decision was made under: the one in
    /// force at the request's time. `None` when none was (the decision is
    /// then a denial, `builtin.no_policy_in_force`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<String>,
    /// The outcome for each category of the request, so an app can see which
    /// subset a narrower request could proceed with.
    pub categories: Vec<CategoryOutcome>,
    /// The rules that decided, with the clauses they cite.
    pub reasons: Vec<Reason>,
    /// What comes with the decision: conditions of a permit, or what a
    /// denial leaves the app to do (delete by a date, restrict processing).
    pub obligations: Vec<Obligation>,
    /// For a denial, everything the app must obtain for a permit.
    pub unmet: Vec<Unmet>,
    /// Whether nothing can lift the denial: a rule forbids the processing
    /// whatever the consent, evidence or agreement (004 §1.2.2: no
    /// transaction services under 18). `unmet` is then empty.
    #[serde(default, skip_serializing_if = "is_false")]
    pub not_liftable: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Decision {
    /// A decision with `verdict` on `action` and nothing else: no category
    /// outcome, reason, obligation or unmet requirement.
    pub fn new(verdict: Verdict, action: Action) -> Self {
        Self {
            verdict,
            action,
            policy_id: None,
            policy_version: None,
            categories: Vec::new(),
            reasons: Vec::new(),
            obligations: Vec::new(),
            unmet: Vec::new(),
            not_liftable: false,
        }
    }

    /// Whether the verdict is [`Verdict::Permit`].
    pub fn is_permit(&self) -> bool {
        self.verdict == Verdict::Permit
    }

    /// The ids of the deciding rules.
    pub fn rule_ids(&self) -> impl Iterator<Item = &RuleId> {
        self.reasons.iter().map(|r| &r.rule)
    }

    /// The decision as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{\"error\":\"unserialisable decision\"}"))
    }
}

/// The outcome for one category.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CategoryOutcome {
    /// The category.
    pub category: CategoryKey,
    /// Its verdict.
    pub verdict: Verdict,
    /// The rules that decided it.
    pub rules: Vec<RuleId>,
}

impl CategoryOutcome {
    /// The outcome for `category`, decided by `rules`.
    pub fn new(category: CategoryKey, verdict: Verdict, rules: Vec<RuleId>) -> Self {
        Self { category, verdict, rules }
    }
}

/// Whether a reason permitted, denied, or only informs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// The rule permitted.
    Permit,
    /// The rule denied.
    Deny,
    /// The rule shaped the decision without deciding it (an assumption made,
    /// a state noted).
    Note,
}

/// A rule that decided, and why.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Reason {
    /// The rule: a policy rule id, or `builtin.*` for the engine's defaults.
    pub rule: RuleId,
    /// What it did.
    pub effect: Effect,
    /// The clause of the published policy it enforces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cites: Option<Cites>,
    /// A sentence for people.
    pub message: Cow<'static, str>,
}

impl Reason {
    /// A reason citing no clause.
    pub fn new(rule: RuleId, effect: Effect, message: impl Into<Cow<'static, str>>) -> Self {
        Self { rule, effect, cites: None, message: message.into() }
    }
}

/// A field a notice to the person must hold (PIPL art. 17, 23, 30, 39).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeField {
    /// The recipient's name.
    RecipientName,
    /// The recipient's contact.
    RecipientContact,
    /// The purpose.
    Purpose,
    /// The method of processing.
    Method,
    /// The categories.
    Categories,
    /// The retention period.
    Retention,
    /// How to exercise rights against the recipient.
    RightsExercise,
    /// Why sensitive data is necessary (PIPL art. 30).
    Necessity,
    /// The impact on the person (PIPL art. 30).
    Impact,
}

/// Something the app must do if it goes ahead (or, on a denial, what the
/// denial leaves it to do).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Obligation {
    /// De-identify the data first.
    DeIdentifyFirst,
    /// Anonymise the data first.
    AnonymiseFirst,
    /// Process only these categories.
    Minimise {
        /// The categories.
        categories: Vec<CategoryKey>,
    },
    /// Encrypt the data.
    Encrypt,
    /// Tell the person, with these fields.
    NotifySubject {
        /// What the notice must hold.
        fields: Vec<NoticeField>,
    },
    /// Tell these recipients (to delete their copies).
    NotifyRecipients {
        /// The recipients.
        recipients: Vec<RecipientId>,
    },
    /// Bind the recipient to the purpose.
    BindRecipientToPurpose {
        /// The recipient.
        recipient: RecipientId,
        /// The purpose.
        purpose: PurposeId,
    },
    /// Have a confidentiality agreement with the recipient.
    ConfidentialityAgreement {
        /// The recipient.
        recipient: RecipientId,
    },
    /// Use a transfer mechanism with the recipient.
    TransferMechanism {
        /// The recipient.
        recipient: RecipientId,
    },
    /// Carry out an impact assessment (PIPL art. 55).
    ImpactAssessment,
    /// Obtain and keep the legal documents.
    LegalDocuments,
    /// Disclose only under encryption.
    EncryptDisclosure,
    /// De-identify research results before publishing them.
    DeIdentifyResults,
    /// No sale, rent or disclosure for profit.
    NotForProfit,
    /// Keep the new holder bound by the policy, or have it ask for consent
    /// again.
    NewHolderBound,
    /// Give notice in advance.
    AdvanceNotice,
    /// Guardians should guide the minor.
    GuardianGuidance,
    /// Never re-identify the data.
    NoReidentification,
    /// Keep the data until this time (a statutory minimum).
    RetainUntil {
        /// From this instant deletion is permitted.
        until: DateTime<FixedOffset>,
    },
    /// Delete or anonymise the data by this time.
    DeleteBy {
        /// The deadline.
        by: DateTime<FixedOffset>,
        /// Delete, anonymise, or either.
        end: EndAction,
    },
    /// Stop all processing except storage and security measures.
    RestrictToStorageAndSecurity,
    /// Purge backup copies at the next backup cycle.
    PurgeBackupsAtNextCycle,
    /// Keep backup copies isolated, for storage and security only, until
    /// they can be erased or anonymised.
    IsolateBackups,
}

/// Who must give a consent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentFrom {
    /// The person.
    Subject,
    /// The person's guardian.
    Guardian,
}

/// Something the app must obtain before the request can be permitted.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Unmet {
    /// A consent grant with these qualities.
    Consent {
        /// For this purpose.
        purpose: PurposeId,
        /// On these categories.
        categories: Vec<CategoryKey>,
        /// With all these qualities.
        qualities: ConsentQualities,
        /// From whom.
        from: ConsentFrom,
        /// To provide the data to this recipient.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recipient: Option<RecipientId>,
        /// The rules that ask for it.
        rules: Vec<RuleId>,
    },
    /// A device permission switched on.
    Permission {
        /// The permission.
        permission: Permission,
    },
    /// An agreement or mechanism with a recipient.
    Agreement {
        /// The recipient.
        recipient: RecipientId,
        /// What must be in place.
        requirement: RecipientRequirement,
    },
    /// Evidence for a claimed ground.
    Evidence {
        /// The ground.
        ground: Ground,
        /// The missing evidence.
        evidence: Evidence,
    },
    /// The data in a more protected state.
    DataState {
        /// At least this state.
        at_least: DataState,
    },
    /// Wait until this time.
    NotBefore {
        /// The earliest permitted time.
        at: DateTime<FixedOffset>,
    },
    /// The subject must be at least this old. (Not produced any more: a
    /// minors rule that denies whatever the consent makes the decision
    /// [`not_liftable`](Decision::not_liftable).)
    AgeAtLeast {
        /// The age.
        age: u8,
    },
    /// The time of a retention event must be known.
    EventTime {
        /// The event.
        trigger: Trigger,
    },
    /// The consent must describe a purpose or a recipient the policy does
    /// not declare (its `named_in_consent`), which the consent requirement
    /// beside this one names: a fresh consent (004 §1.2 item 9).
    Described {
        /// The purpose it must describe.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        purpose: Option<PurposeId>,
        /// The recipient it must describe.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recipient: Option<RecipientId>,
        /// As a recipient of this kind.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recipient_kind: Option<RecipientKind>,
    },
    /// Only a revised policy can permit this: it declares no such purpose or
    /// recipient, and lets no consent name one for this action.
    PolicyChange {
        /// The undeclared purpose.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        purpose: Option<PurposeId>,
        /// The undeclared recipient.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recipient: Option<RecipientId>,
    },
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = match self.verdict {
            Verdict::Permit => "PERMIT",
            Verdict::Deny => "DENY",
        };
        write!(f, "{v} {}", self.action.as_str())?;
        for c in &self.categories {
            let cv = match c.verdict {
                Verdict::Permit => "permit",
                Verdict::Deny => "deny",
            };
            write!(f, "\n  {}: {cv}", c.category)?;
        }
        for r in &self.reasons {
            write!(f, "\n  because [{}] {}", r.rule, r.message)?;
            if let Some(c) = &r.cites {
                write!(f, " ({c})")?;
            }
        }
        for o in &self.obligations {
            write!(f, "\n  must {}", serde_json::to_string(o).unwrap_or_default())?;
        }
        for u in &self.unmet {
            write!(f, "\n  needs {}", serde_json::to_string(u).unwrap_or_default())?;
        }
        Ok(())
    }
}
