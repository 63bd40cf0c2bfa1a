//! Consent: the qualities a grant has, the append-only ledger of consent
//! events, the [`ConsentStore`] trait the evaluator reads, the
//! [`ConsentHistory`] walk of a store, and the [`Rescan`] of who must
//! consent again after a revision.

mod compact;
mod history;
mod ledger;
mod qualities;
mod rescan;

use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ids::{PolicyId, PurposeId, RecipientId, SubjectId};
use crate::policy::{Permission, RecipientKind};
use crate::taxonomy::CategoryKey;

pub use compact::CompactLedger;
pub use history::{BoxedEvents, ConsentHistory, DynConsentHistory, EventView};
pub use ledger::InMemoryLedger;
pub use qualities::{ConsentQualities, Grants};
pub use rescan::{Lapsed, Reconsent, Rescan};

/// One event in a subject's consent history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ConsentEvent {
    /// The event's id.
    pub id: Uuid,
    /// When it happened.
    #[serde(deserialize_with = "crate::timestamp::deserialize")]
    pub at: DateTime<FixedOffset>,
    /// Whose consent it is.
    #[serde(deserialize_with = "crate::request::subject_id")]
    pub subject: SubjectId,
    /// The policy it was given under.
    pub policy_id: PolicyId,
    /// The version of that policy.
    pub policy_version: String,
    /// What happened.
    pub change: ConsentChange,
}

/// The purposes × categories (and optionally the recipient) an event is
/// about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Scope {
    /// The purposes.
    pub purposes: Vec<PurposeId>,
    /// The categories; a grant covers their descendants of the same or lower
    /// sensitivity.
    pub categories: Vec<CategoryKey>,
    /// The recipient, for consent to provide data to one party only. On a
    /// grant, `None` covers the controller's own processing and every
    /// recipient of the purpose. On an ending event, `None` ends every grant
    /// of the scope; a recipient ends every grant (general ones too) as far
    /// as that recipient is concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<RecipientId>,
    /// On a grant for a purpose or a recipient the policy does not declare
    /// (its `named_in_consent`): what the consent told the person about
    /// them. Such a grant counts only with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub described: Option<Described>,
}

/// What a consent told the person about a purpose or a recipient that the
/// policy does not name (seed 004 §1.2 item 9: the new use is explained in
/// the page prompt that asks for the consent).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Described {
    /// What the scope's purposes are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Who the scope's recipient is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// What kind of party the scope's recipient is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_kind: Option<RecipientKind>,
}

impl Described {
    /// A description of the scope's purposes.
    pub fn purpose(description: impl Into<String>) -> Self {
        Self { purpose: Some(description.into()), recipient: None, recipient_kind: None }
    }

    /// A description of the scope's recipient and its kind.
    pub fn recipient(description: impl Into<String>, kind: RecipientKind) -> Self {
        Self { purpose: None, recipient: Some(description.into()), recipient_kind: Some(kind) }
    }

    /// Adds a description of the scope's recipient and its kind.
    #[must_use]
    pub fn and_recipient(mut self, description: impl Into<String>, kind: RecipientKind) -> Self {
        self.recipient = Some(description.into());
        self.recipient_kind = Some(kind);
        self
    }
}

/// Whether a grant whose description `d` gives answers `query` as far as
/// the description goes: a query about a purpose the policy does not
/// declare needs a described purpose, one about such a recipient a
/// recipient described as of the query's kind. Both ledgers ask this; the
/// description is looked up only for such a query.
#[inline]
pub(crate) fn describes<'d>(d: impl FnOnce() -> Option<&'d Described>, query: &ConsentQuery<'_>) -> bool {
    if !query.purpose_undeclared && query.recipient_kind.is_none() {
        return true;
    }
    let d = d();
    (!query.purpose_undeclared || d.is_some_and(|d| d.purpose.is_some()))
        && query.recipient_kind.is_none_or(|k| d.is_some_and(|d| d.recipient_kind == Some(k)))
}

/// The longest description a grant may give of a purpose or a recipient,
/// in bytes.
const MAX_DESCRIPTION_BYTES: usize = 4096;

impl ConsentEvent {
    /// An event: its id, time, subject, the policy (id and version) it
    /// happened under, and what changed.
    pub fn new(
        id: Uuid,
        at: DateTime<FixedOffset>,
        subject: impl Into<SubjectId>,
        policy_id: impl Into<PolicyId>,
        policy_version: impl Into<String>,
        change: ConsentChange,
    ) -> Self {
        Self {
            id,
            at,
            subject: subject.into(),
            policy_id: policy_id.into(),
            policy_version: policy_version.into(),
            change,
        }
    }
}

impl Scope {
    /// A scope of purposes × categories, for the controller and every
    /// recipient of the purposes.
    pub fn new(purposes: Vec<PurposeId>, categories: Vec<CategoryKey>) -> Self {
        Self { purposes, categories, recipient: None, described: None }
    }

    /// Narrows the scope to one recipient.
    pub fn recipient(mut self, recipient: impl Into<RecipientId>) -> Self {
        self.recipient = Some(recipient.into());
        self
    }

    /// Describes a purpose or recipient the policy does not name.
    pub fn described(mut self, described: Described) -> Self {
        self.described = Some(described);
        self
    }
}

/// What a consent event does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ConsentChange {
    /// Consent given, with its qualities.
    Grant {
        /// The qualities of this grant.
        qualities: ConsentQualities,
        /// What it covers.
        scope: Scope,
        /// When it lapses by itself, if it does.
        #[serde(
            default,
            deserialize_with = "crate::timestamp::deserialize_option",
            skip_serializing_if = "Option::is_none"
        )]
        expires: Option<DateTime<FixedOffset>>,
    },
    /// The person said no.
    Refuse {
        /// What was refused.
        scope: Scope,
    },
    /// The person withdrew consent: processing stops from this time on;
    /// processing done before stays lawful.
    Withdraw {
        /// What was withdrawn.
        scope: Scope,
    },
    /// The consent's validity period ended.
    Expire {
        /// What expired.
        scope: Scope,
    },
    /// Another party (the controller, a guardian, an authority) ended it.
    Revoke {
        /// What was revoked.
        scope: Scope,
    },
    /// A device permission was switched on: a technical gate on collection,
    /// not legal consent by itself.
    PermissionOn {
        /// The permission.
        permission: Permission,
    },
    /// A device permission was switched off.
    PermissionOff {
        /// The permission.
        permission: Permission,
    },
}

impl ConsentChange {
    /// The scope of a consent change; `None` for a permission switch.
    pub fn scope(&self) -> Option<&Scope> {
        match self {
            Self::Grant { scope, .. }
            | Self::Refuse { scope }
            | Self::Withdraw { scope }
            | Self::Expire { scope }
            | Self::Revoke { scope } => Some(scope),
            Self::PermissionOn { .. } | Self::PermissionOff { .. } => None,
        }
    }

    /// The W3C DPV consent status this change leads to.
    pub fn status(&self) -> Option<ConsentStatus> {
        match self {
            Self::Grant { .. } => Some(ConsentStatus::Given),
            Self::Refuse { .. } => Some(ConsentStatus::Refused),
            Self::Withdraw { .. } => Some(ConsentStatus::Withdrawn),
            Self::Expire { .. } => Some(ConsentStatus::Expired),
            Self::Revoke { .. } => Some(ConsentStatus::Revoked),
            Self::PermissionOn { .. } | Self::PermissionOff { .. } => None,
        }
    }
}

/// What every ledger refuses: a grant with incoherent qualities, a scope
/// with no purpose or no category.
pub(crate) fn check_event(event: &ConsentEvent) -> Result<(), crate::Error> {
    if let ConsentChange::Grant { qualities, .. } = &event.change
        && !qualities.is_coherent()
    {
        return Err(crate::Error::ledger(format!(
            "incoherent consent qualities `{qualities}` in event `{}`: separate consent is explicit, and explicit, separate and written consent are affirmative",
            event.id
        )));
    }
    if let Some(scope) = event.change.scope()
        && (scope.purposes.is_empty() || scope.categories.is_empty())
    {
        return Err(crate::Error::ledger(format!("consent event `{}` names no purpose or no category", event.id)));
    }
    if let Some(d) = event.change.scope().and_then(|s| s.described.as_ref()) {
        check_described(event, d)?;
    }
    Ok(())
}

/// What a description must be: on a grant, of a recipient the scope names
/// with its kind, and not empty or over [`MAX_DESCRIPTION_BYTES`].
fn check_described(event: &ConsentEvent, d: &Described) -> Result<(), crate::Error> {
    let refuse = |what: &str| Err(crate::Error::ledger(format!("consent event `{}` {what}", event.id)));
    let has_recipient = event.change.scope().is_some_and(|s| s.recipient.is_some());
    if !matches!(event.change, ConsentChange::Grant { .. }) {
        return refuse("describes a purpose or recipient, which only a grant does");
    }
    if d.purpose.is_none() && d.recipient.is_none() {
        return refuse("has a description that describes nothing");
    }
    if d.recipient.is_some() != d.recipient_kind.is_some() {
        return refuse("describes a recipient without its kind, or a kind without the recipient");
    }
    if d.recipient.is_some() && !has_recipient {
        return refuse("describes a recipient but names none");
    }
    let texts = [&d.purpose, &d.recipient];
    if texts.iter().copied().flatten().any(|t| t.trim().is_empty() || t.len() > MAX_DESCRIPTION_BYTES) {
        return refuse(&format!("has a description that is empty or longer than {MAX_DESCRIPTION_BYTES} bytes"));
    }
    Ok(())
}

/// How long before the time it is recorded an event may be dated: 400
/// days, long enough for a mobile client that was offline for a year to
/// hand in what the person did meanwhile, short enough that a history
/// cannot be rewritten years back. Checked by
/// [`InMemoryLedger::append_at`] and [`CompactLedger::append_at`].
pub const CONSENT_HORIZON: TimeDelta = TimeDelta::days(400);

/// How far after the time it is recorded an event may be dated: 5 minutes
/// of clock skew between the device that dated it and the service that
/// records it. Checked by the `append_at` of both ledgers.
pub const CONSENT_SKEW: TimeDelta = TimeDelta::minutes(5);

/// Refuses an event dated more than [`CONSENT_HORIZON`] before `recorded`
/// or more than [`CONSENT_SKEW`] after it.
pub(crate) fn check_recorded(event: &ConsentEvent, recorded: DateTime<Utc>) -> Result<(), crate::Error> {
    if recorded.checked_add_signed(CONSENT_SKEW).is_some_and(|latest| event.at > latest) {
        return Err(crate::Error::ledger(format!(
            "consent event `{}` is dated more than {} minutes after it was recorded",
            event.id,
            CONSENT_SKEW.num_minutes()
        )));
    }
    if recorded.checked_sub_signed(CONSENT_HORIZON).is_some_and(|oldest| event.at < oldest) {
        return Err(crate::Error::ledger(format!(
            "consent event `{}` is dated more than {} days before it was recorded",
            event.id,
            CONSENT_HORIZON.num_days()
        )));
    }
    Ok(())
}

/// What one event means for one question about a grant, once the event
/// is known to be at or before the time asked about (an event that neither
/// grants nor ends is left out).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Effect {
    /// A grant of these qualities that covers the question and has not
    /// lapsed.
    Grant(ConsentQualities),
    /// An ending event that ends the question's grants.
    End,
}

/// The grants in force, from the effects of a subject's events at or before
/// the time asked about, each with its key: its own time, then its arrival
/// order. The events may come in any order (the ledgers keep them in
/// arrival order): the latest ending event counts, and every grant after it
/// by key adds its qualities. This is the one fold both ledgers answer
/// with, so that an event appended late counts from its own time and the
/// cost stays linear in the events: one pass while the keys ascend (a
/// history appended in time order), two once one does not.
pub(crate) fn in_force<K: Ord + Copy>(effects: impl Iterator<Item = (K, Effect)> + Clone) -> Grants {
    let mut grants = Grants::NONE;
    let mut last = None;
    for (k, e) in effects.clone() {
        if last.is_some_and(|l| k < l) {
            return in_force_unordered(effects);
        }
        last = Some(k);
        match e {
            Effect::Grant(q) => grants.insert(q),
            Effect::End => grants = Grants::NONE,
        }
    }
    grants
}

/// [`in_force`] for events in any order: the latest ending event, then
/// the grants after it.
fn in_force_unordered<K: Ord + Copy>(effects: impl Iterator<Item = (K, Effect)> + Clone) -> Grants {
    let ended = effects.clone().filter_map(|(k, e)| matches!(e, Effect::End).then_some(k)).max();
    let mut grants = Grants::NONE;
    for (k, e) in effects {
        if let Effect::Grant(q) = e
            && ended.is_none_or(|end| k > end)
        {
            grants.insert(q);
        }
    }
    grants
}

/// The status a grant leaves a consent in, when it is the latest relevant
/// event at `at`: expired once `expires` has passed, else given, or given
/// again when an earlier grant was relevant too.
pub(crate) fn grant_status<T: chrono::TimeZone>(
    renewed: bool,
    expires: Option<&DateTime<T>>,
    at: DateTime<Utc>,
) -> ConsentStatus {
    if expires.is_some_and(|e| *e <= at) {
        ConsentStatus::Expired
    } else if renewed {
        ConsentStatus::RenewedGiven
    } else {
        ConsentStatus::Given
    }
}

/// The state of a consent, as the W3C Data Privacy Vocabulary names it
/// (`dpv:ConsentStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ConsentStatus {
    /// `dpv:ConsentUnknown`: nothing recorded.
    #[serde(rename = "dpv:ConsentUnknown")]
    Unknown,
    /// `dpv:ConsentGiven`.
    #[serde(rename = "dpv:ConsentGiven")]
    Given,
    /// `dpv:RenewedConsentGiven`: given again after an earlier consent.
    #[serde(rename = "dpv:RenewedConsentGiven")]
    RenewedGiven,
    /// `dpv:ConsentRefused`.
    #[serde(rename = "dpv:ConsentRefused")]
    Refused,
    /// `dpv:ConsentWithdrawn`.
    #[serde(rename = "dpv:ConsentWithdrawn")]
    Withdrawn,
    /// `dpv:ConsentRevoked`.
    #[serde(rename = "dpv:ConsentRevoked")]
    Revoked,
    /// `dpv:ConsentExpired`.
    #[serde(rename = "dpv:ConsentExpired")]
    Expired,
}

impl ConsentStatus {
    /// Whether processing may rest on a consent in this state.
    pub fn is_valid_for_processing(self) -> bool {
        matches!(self, Self::Given | Self::RenewedGiven)
    }

    /// The DPV name, e.g. `dpv:ConsentGiven`.
    pub fn dpv(self) -> &'static str {
        match self {
            Self::Unknown => "dpv:ConsentUnknown",
            Self::Given => "dpv:ConsentGiven",
            Self::RenewedGiven => "dpv:RenewedConsentGiven",
            Self::Refused => "dpv:ConsentRefused",
            Self::Withdrawn => "dpv:ConsentWithdrawn",
            Self::Revoked => "dpv:ConsentRevoked",
            Self::Expired => "dpv:ConsentExpired",
        }
    }
}

/// A question to a [`ConsentStore`]: is a grant with all of `required`'s
/// qualities, and none of `excluded`'s, in force at `at`?
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct ConsentQuery<'a> {
    /// Whose consent.
    pub subject: &'a SubjectId,
    /// For which purpose.
    pub purpose: &'a PurposeId,
    /// For which category.
    pub category: &'a CategoryKey,
    /// The ancestors of `category` whose grants cover it (those of the same
    /// or higher sensitivity). The engine computes them from the taxonomy.
    pub covering: &'a [CategoryKey],
    /// The recipient, when consent to provide data to one party is asked.
    pub recipient: Option<&'a RecipientId>,
    /// The qualities a single grant must all have.
    pub required: ConsentQualities,
    /// The qualities the grant must not have: with
    /// `settings.consent_grants: per_requirement`, a separate or a
    /// guardian's consent answers only a requirement that names that
    /// quality. Empty for none.
    pub excluded: ConsentQualities,
    /// The time of the processing; events at exactly this time count.
    pub at: DateTime<Utc>,
    /// The purpose is one the policy does not declare (a `named_in_consent`
    /// purpose): only grants that describe their purpose count.
    pub purpose_undeclared: bool,
    /// The recipient is one the policy does not declare: only grants that
    /// describe it as a recipient of this kind count.
    pub recipient_kind: Option<RecipientKind>,
    /// The policy a grant must have been given under to count, if set:
    /// only grants whose `policy_id` is this one and whose
    /// `policy_version` is among [`policy_versions`](Self::policy_versions)
    /// count. `None`: a grant counts whatever policy it names. Ending events
    /// (refusal, withdrawal, expiry, revocation) count whatever policy or
    /// version they name: a person's no is never filtered away.
    pub policy_id: Option<&'a PolicyId>,
    /// The versions of `policy_id` whose grants count; read only when
    /// `policy_id` is set.
    pub policy_versions: &'a [String],
    /// The same names as numbers, for the crate's own bound ledgers.
    pub(crate) numbered: Option<Numbered<'a>>,
}

impl<'a> ConsentQuery<'a> {
    /// A question about `subject`'s consent to `purpose` for `category` at
    /// `at`: no covering ancestor, no recipient, no quality required or
    /// excluded. Set the other fields after.
    pub fn new(subject: &'a SubjectId, purpose: &'a PurposeId, category: &'a CategoryKey, at: DateTime<Utc>) -> Self {
        Self {
            subject,
            purpose,
            category,
            covering: &[],
            recipient: None,
            required: ConsentQualities::empty(),
            excluded: ConsentQualities::empty(),
            at,
            purpose_undeclared: false,
            recipient_kind: None,
            policy_id: None,
            policy_versions: &[],
            numbered: None,
        }
    }

    /// Asks about a purpose the policy does not declare: only grants that
    /// describe it count.
    pub fn purpose_undeclared(mut self) -> Self {
        self.purpose_undeclared = true;
        self
    }

    /// Asks about a recipient the policy does not declare: only grants that
    /// describe it as of `kind` count.
    pub fn recipient_kind(mut self, kind: RecipientKind) -> Self {
        self.recipient_kind = Some(kind);
        self
    }

    /// Counts only the grants given under `policy` in one of `versions`.
    pub fn under(mut self, policy: &'a PolicyId, versions: &'a [String]) -> Self {
        self.policy_id = Some(policy);
        self.policy_versions = versions;
        self
    }

    /// Whether a grant given under `policy` in `version` counts for this
    /// query.
    pub(crate) fn counts_grant_of(&self, policy: &PolicyId, version: &str) -> bool {
        self.policy_id.is_none_or(|p| p == policy && self.policy_versions.iter().any(|v| v == version))
    }

    /// Sets the ancestors of the category whose grants cover it.
    pub fn covering(mut self, covering: &'a [CategoryKey]) -> Self {
        self.covering = covering;
        self
    }

    /// Asks for consent to provide the data to `recipient`.
    pub fn recipient(mut self, recipient: &'a RecipientId) -> Self {
        self.recipient = Some(recipient);
        self
    }

    /// Sets the qualities a single grant must all have.
    pub fn required(mut self, required: ConsentQualities) -> Self {
        self.required = required;
        self
    }

    /// Sets the qualities the grant must not have.
    pub fn excluded(mut self, excluded: ConsentQualities) -> Self {
        self.excluded = excluded;
        self
    }
}

/// A query's purpose, category, covering ancestors and recipient as
/// numbers in a vocabulary, beside their names: a ledger of this crate bound
/// to that vocabulary ([`CompactLedger`]) answers from them without reading
/// a name. Only the crate reads or makes one; a store outside it sees the
/// names alone.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Numbered<'a> {
    /// Which vocabulary the numbers are of.
    pub(crate) vocabulary: u64,
    pub(crate) purpose: usize,
    pub(crate) category: usize,
    pub(crate) covering: &'a [usize],
    pub(crate) recipient: Option<usize>,
    /// The versions whose grants count, as the numbers of the vocabulary's
    /// versions (first and last, inclusive), when the query names a policy.
    pub(crate) versions: (u32, u32),
}

/// Where the evaluator reads consent from.
///
/// Reads cannot fail: a store that cannot answer reports that when it is
/// loaded or appended to, never inside a decision.
pub trait ConsentStore {
    /// Whether a grant with all the required qualities, and none of the
    /// excluded ones, is in force.
    fn has_consent(&self, query: &ConsentQuery<'_>) -> bool;

    /// The grants in force for the query's scope at its time, as the set of
    /// their quality combinations; `required` and `excluded` are not read.
    /// The evaluator asks once per category and checks every requirement
    /// against the answer.
    ///
    /// The default asks [`has_consent`](Self::has_consent) once for each of
    /// the 32 combinations; a store should answer in one pass.
    fn grants(&self, query: &ConsentQuery<'_>) -> Grants {
        let mut grants = Grants::NONE;
        for bits in 0..32u8 {
            let q = ConsentQualities::from_bits_retain(bits);
            let exactly = ConsentQuery { required: q, excluded: q.complement(), ..*query };
            if q.bits() == bits && self.has_consent(&exactly) {
                grants.insert(q);
            }
        }
        grants
    }

    /// Whether the device permission is switched on at `at`.
    fn permission_on(&self, subject: &SubjectId, permission: Permission, at: DateTime<Utc>) -> bool;
}

impl<S: ConsentStore + ?Sized> ConsentStore for &S {
    fn has_consent(&self, query: &ConsentQuery<'_>) -> bool {
        (**self).has_consent(query)
    }
    fn grants(&self, query: &ConsentQuery<'_>) -> Grants {
        (**self).grants(query)
    }
    fn permission_on(&self, subject: &SubjectId, permission: Permission, at: DateTime<Utc>) -> bool {
        (**self).permission_on(subject, permission, at)
    }
}
