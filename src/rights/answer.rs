//! The answer to a rights request.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::calendar::DueDate;
use crate::ids::{PurposeId, RecipientId};
use crate::taxonomy::CategoryKey;

/// How a request is answered as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AnswerOutcome {
    /// Every item accepted.
    Accepted,
    /// Some items accepted or restricted, others refused; or a deletion
    /// restricted now and due later.
    PartlyAccepted,
    /// Every item refused.
    Refused,
    /// Nothing is done until the requester's identity is verified.
    Suspended,
}

/// How one item (a category, or a purpose) is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
#[non_exhaustive]
pub enum ItemOutcome {
    /// Done as asked.
    Accepted,
    /// Not deleted yet: processing is restricted to storage and security
    /// now, and deletion is due on `delete_on` (PIPL art. 47 ¶2), or when a
    /// legal hold ends (`None`).
    Restricted {
        /// When deletion is due; `None` while a legal hold without an end
        /// lasts.
        delete_on: Option<NaiveDate>,
    },
    /// Refused, on the item's ground.
    Refused,
}

/// A ground that limits a right, with the right it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LimitGround {
    /// The copy would disclose other people's personal information (GDPR
    /// art. 15(4)); limits access and copies, never deletion.
    RightsOfOthers,
    /// A statutory or policy minimum retention still runs (PIPL art. 47
    /// ¶2): deletion is restricted, not refused.
    StatutoryRetention,
    /// A legal hold keeps the data (PIPL art. 47 ¶2).
    LegalHold,
    /// The requester's identity is not verified: the request is suspended.
    IdentityNotVerified,
    /// None of the grounds the person invokes holds for the item.
    NoDeletionGround,
    /// The processing rests on the contract, not on consent: there is no
    /// consent to withdraw, and refusing it ends the service (PIPL art. 13
    /// ¶1(2), 16).
    NotBasedOnConsent,
    /// Portability covers only data the person provided, on consent or
    /// contract (PIPL art. 45 ¶3).
    NotProvidedByPerson,
    /// The category is not held for this person.
    NotHeld,
}

/// Where an item of an answer came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Source {
    /// The policy document.
    Policy,
    /// The consent ledger.
    ConsentLedger,
    /// The audit log of decisions.
    AuditLog,
    /// A retention record and the policy's retention rules.
    Retention,
    /// The caller's [`Holdings`](crate::Holdings).
    Holdings,
}

/// One item of an answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AnswerItem {
    /// The category the item is about (for withdrawal and refusal of
    /// optional data: each category of the purpose).
    pub category: CategoryKey,
    /// The purpose, where the item is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<PurposeId>,
    /// How it is answered.
    #[serde(flatten)]
    pub outcome: ItemOutcome,
    /// The ground that limits it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ground: Option<LimitGround>,
    /// The clause (of the policy, or of the law) the item rests on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cites: Option<String>,
    /// Where the item came from.
    pub source: Source,
    /// For access and copies: the purposes it is held for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub purposes: Vec<PurposeId>,
    /// For access and copies: who it was provided to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<RecipientId>,
}

/// A duty that comes with an answer.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "duty", deny_unknown_fields)]
#[non_exhaustive]
pub enum RightsDuty {
    /// Verify the requester's identity before acting (004 §5.1; 003 §7).
    VerifyIdentity,
    /// Tell the recipients the data went to, and ask them to delete it (001
    /// §4(2); GDPR art. 19; CCPA §1798.105(c)).
    NotifyRecipients {
        /// Who.
        recipients: Vec<RecipientId>,
    },
    /// Purge the data from backups at their next cycle.
    PurgeBackups,
    /// Stop collecting and using the data for these purposes, from the
    /// request's time.
    StopProcessing {
        /// The purposes; empty: every purpose.
        purposes: Vec<PurposeId>,
    },
    /// Restrict processing to storage and the necessary security measures
    /// (PIPL art. 47 ¶2; 004 §4.1).
    RestrictToStorage,
    /// Delete by this date.
    DeleteBy {
        /// The date.
        date: NaiveDate,
    },
    /// Give the reasons for a refusal and say how to complain (PIPL art. 50).
    GiveReasons,
    /// Record the withdrawal in the consent ledger as of the request's time.
    RecordWithdrawal {
        /// The purposes.
        purposes: Vec<PurposeId>,
    },
}

/// The answer to a [`RightsRequest`](crate::RightsRequest).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RightsAnswer {
    /// The answer as a whole.
    pub outcome: AnswerOutcome,
    /// The items, in category order.
    pub items: Vec<AnswerItem>,
    /// The duties, in a stable order.
    pub duties: Vec<RightsDuty>,
    /// When the answer is due, on the policy's calendar; `None` when the
    /// deadline could not be computed (see `deadline_error`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DueDate>,
    /// Why no deadline could be computed (a date beyond the calendar's
    /// data), in words; `None` when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline_error: Option<String>,
    /// For a withdrawal or a refusal of optional data: from when the
    /// processing stops (the request's time; what was done before is not
    /// undone, PIPL art. 15 ¶2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stops_from: Option<DateTime<FixedOffset>>,
    /// For a withdrawal or a refusal of optional data: the purposes (the
    /// features) that become unavailable; the rest of the service goes on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unavailable: Vec<PurposeId>,
    /// The clauses the answer rests on, policy's and law's.
    pub cites: Vec<String>,
    /// The policy version the answer was made under.
    pub policy_version: String,
}
