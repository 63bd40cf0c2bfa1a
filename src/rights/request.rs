//! A rights request: who asks, for what, about which data, when.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::case::CaseId;
use crate::ids::{PurposeId, SubjectId};
use crate::taxonomy::CategoryKey;

/// What a person asks of the controller (PIPL arts. 15, 24, 44–48; GDPR
/// arts. 15–22; CCPA §1798.105–.125).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
#[non_exhaustive]
pub enum RightsRequestKind {
    /// To know what is held: for which purposes, from which sources, shared
    /// with whom (PIPL art. 44, 45 ¶1; GDPR art. 15).
    Access,
    /// A copy of what is held (PIPL art. 45 ¶1; GDPR art. 15(3)).
    Copy,
    /// The data the person provided, in a form another controller can read
    /// (PIPL art. 45 ¶3; GDPR art. 20).
    Portability,
    /// To correct or complete the data (PIPL art. 46; GDPR art. 16).
    Correction,
    /// To have the data deleted, on the grounds the person states (PIPL art.
    /// 47; GDPR art. 17; CCPA §1798.105).
    Deletion {
        /// The grounds the person invokes.
        grounds: Vec<DeletionGround>,
    },
    /// To restrict processing to storage (PIPL art. 44; GDPR art. 18).
    Restriction,
    /// To object to a kind of processing (PIPL art. 24 ¶2, 44; GDPR art.
    /// 21).
    Objection {
        /// What the person objects to.
        target: ObjectionTarget,
    },
    /// To have the processing rules explained (PIPL art. 48), and a
    /// decision made solely by automated means (PIPL art. 24 ¶3; GDPR art.
    /// 22).
    Explanation {
        /// Whether the person asks about a decision made solely by
        /// automated means.
        #[serde(default)]
        automated_decision: bool,
    },
    /// To withdraw consent for these purposes (PIPL art. 15); empty: every
    /// purpose that rests on consent.
    Withdrawal {
        /// The purposes.
        #[serde(default)]
        purposes: Vec<PurposeId>,
    },
    /// To refuse the optional data of these purposes and keep using the
    /// rest of the service (PIPL art. 16; GB/T 35273 §5.3).
    RefuseOptional {
        /// The purposes refused.
        purposes: Vec<PurposeId>,
    },
}

/// A ground for deletion (PIPL art. 47 ¶1; 001 §4(2)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeletionGround {
    /// The purpose was achieved, cannot be achieved, or the data is no
    /// longer needed for it (art. 47(1)).
    PurposeAchieved,
    /// The controller stopped providing the product or service (art. 47(2);
    /// 001 §4(2)(5)).
    ServiceStopped,
    /// The retention period ended (art. 47(2)).
    RetentionExpired,
    /// The person withdrew consent (art. 47(3)).
    ConsentWithdrawn,
    /// The processing breaks the law (art. 47(4); 001 §4(2)(1)), or was done
    /// without the consent it needed (001 §4(2)(2)).
    Unlawful,
    /// The processing breaks the agreement with the person (art. 47(4); 001
    /// §4(2)(3)).
    AgainstAgreement,
    /// The person no longer uses the service or cancelled the account (001
    /// §4(2)(4)).
    AccountCancelled,
}

/// What a person objects to (PIPL art. 24 ¶2; 003 §6.1(2); 002 §2.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ObjectionTarget {
    /// Recommendations personalised on the person's characteristics.
    PersonalisedRecommendations,
    /// Marketing (003 §3).
    Marketing,
    /// Profiling: user portraits (002 §2.7).
    Profiling,
    /// Programmatic advertising (003 §6.1(2)).
    ProgrammaticAdvertising,
    /// Every processing that rests on consent or on no stated basis.
    Processing,
}

/// Whether the requester's identity has been verified.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Identity {
    /// Not (yet) verified.
    #[default]
    Unverified,
    /// Verified by the controller's means (004 §5.1, §1.2.5; 003 §7).
    Verified,
}

/// A rights request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RightsRequest {
    /// The case this request is, as the caller numbers it.
    pub case: CaseId,
    /// Who asks (about their own data).
    pub subject: SubjectId,
    /// What they ask.
    pub right: RightsRequestKind,
    /// The categories asked about (with their descendants); empty: all
    /// that is held.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<CategoryKey>,
    /// When the request was received: deadlines run from its date in the
    /// policy's time zone.
    #[serde(deserialize_with = "crate::timestamp::deserialize")]
    pub received: DateTime<FixedOffset>,
    /// When it is answered (the time the answer is computed for).
    #[serde(deserialize_with = "crate::timestamp::deserialize")]
    pub at: DateTime<FixedOffset>,
    /// Whether the requester's identity has been verified.
    #[serde(default)]
    pub identity: Identity,
}
