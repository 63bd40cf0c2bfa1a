//! The answer to a lifecycle request (docs/lifecycle.md, "JSON forms").

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ids::{PurposeId, RuleId};
use crate::policy::EndAction;
use crate::taxonomy::CategoryKey;

/// Whether a lifecycle request is carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LifecycleOutcome {
    /// It takes effect, with the answer's duties.
    Accepted,
    /// It is refused (a second cancellation, a reactivation the policy
    /// does not allow or the subject's events contradict).
    Refused,
}

/// Why a reactivation's answer is not the one the request alone would get:
/// the subject's lifecycle events contradict its `cancelled`
/// (docs/lifecycle.md, "Reactivation").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LifecycleReason {
    /// Refused: the events show the account not cancelled at the request's
    /// time (never cancelled, or reactivated since).
    NotCancelled,
    /// Refused: the events show the service terminated; nothing comes
    /// after it.
    Terminated,
    /// The events show the cancellation at another time than the
    /// request's `cancelled`: decided from the events' cancellation.
    CancelledAtOtherTime,
}

/// A duty that comes with a lifecycle answer. The JSON form is tagged by
/// `"duty"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "duty")]
#[non_exhaustive]
pub enum LifecycleDuty {
    /// Verify the person's identity, security status and usual device
    /// before cancelling (003 §7).
    VerifyIdentity,
    /// Tell the person, before they confirm, that cancellation cannot be
    /// undone (003 §7; 004 §1.2.1).
    WarnIrreversible,
    /// Disable the account: no login afterwards (004 §10; 003 §7).
    DisableAccount,
    /// Stop collecting personal information, for every purpose.
    StopCollection,
    /// Stop using it, for every purpose.
    StopUse,
    /// End every grant in force: the caller appends one `withdraw` event
    /// per purpose in the answer's `end_consents`.
    EndConsents,
    /// Purge backups at their next cycle (004 §5.1; 001 §4(2)).
    BackupsAtNextCycle,
    /// Give notice of the termination this many days before it takes
    /// effect (003 §7).
    NoticeBeforeTermination {
        /// The days of notice the policy requires.
        days: u32,
    },
}

/// What becomes of one held category after a cancellation, a termination
/// or inactivity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Disposal {
    /// The held category.
    pub category: CategoryKey,
    /// The retention rule that decides it; `None` when no rule covers it
    /// (keeping it is not permitted: due at once).
    pub rule: Option<RuleId>,
    /// Delete, anonymise, or either.
    pub action: EndAction,
    /// When it must be deleted or anonymised, in the policy's time zone;
    /// `None` while a legal hold without an end keeps it.
    pub due: Option<NaiveDate>,
    /// Whether it is kept for now, processing restricted to storage and
    /// security (a minimum still runs, or a legal hold).
    pub restricted: bool,
    /// The clause the disposal rests on.
    pub cites: String,
}

impl Disposal {
    /// A disposal of `category` by `action`, due on `due`, unrestricted,
    /// under no rule.
    pub fn new(category: CategoryKey, action: EndAction, due: Option<NaiveDate>, cites: impl Into<String>) -> Self {
        Self { category, rule: None, action, due, restricted: false, cites: cites.into() }
    }
}

/// The answer to a [`LifecycleRequest`](crate::LifecycleRequest). Empty
/// lists and an absent `notice_short_by_days` are left out of the JSON
/// form: a refused answer has only `outcome`, `cites` and
/// `policy_version`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct LifecycleAnswer {
    /// Carried out or refused.
    pub outcome: LifecycleOutcome,
    /// What must happen before it takes effect.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub before: Vec<LifecycleDuty>,
    /// What stops at once, at the request's `at` (or the termination's
    /// effective date).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub immediate: Vec<LifecycleDuty>,
    /// Per held category, in the order of the holdings: what its retention
    /// rule now does and when.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<Disposal>,
    /// A cancellation: the optional purposes whose grants end at `at`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub end_consents: Vec<PurposeId>,
    /// An allowed reactivation: the optional purposes to ask consent for
    /// anew (consents ended by the cancellation are not restored).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ask_again: Vec<PurposeId>,
    /// A termination: how many days the notice falls short of the policy's
    /// `lifecycle.termination_notice` (0: long enough).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_short_by_days: Option<u32>,
    /// A reactivation the subject's events contradict: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<LifecycleReason>,
    /// The clauses the answer rests on.
    #[serde(default)]
    pub cites: Vec<String>,
    /// The version of the policy that decided it.
    pub policy_version: String,
}

impl LifecycleAnswer {
    /// An answer `outcome` under `policy_version`, with nothing else.
    pub fn new(outcome: LifecycleOutcome, policy_version: impl Into<String>) -> Self {
        Self {
            outcome,
            before: Vec::new(),
            immediate: Vec::new(),
            categories: Vec::new(),
            end_consents: Vec::new(),
            ask_again: Vec::new(),
            notice_short_by_days: None,
            reason: None,
            cites: Vec::new(),
            policy_version: policy_version.into(),
        }
    }

    /// Whether the request is carried out.
    pub fn is_accepted(&self) -> bool {
        self.outcome == LifecycleOutcome::Accepted
    }
}
