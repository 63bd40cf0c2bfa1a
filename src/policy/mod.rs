//! The typed policy: what an app's privacy policy promises, as data.
//!
//! A [`Policy`] is read from JSON with [`Policy::from_json`] (which parses and
//! validates in one step) or built in Rust with [`PolicyBuilder`]. Field by
//! field documentation of the JSON form is in `docs/policy-format.md`.

mod about;
mod builder;
mod categories;
mod change;
mod construct;
mod diff;
mod ground;
mod history;
mod lifecycle;
mod named;
mod period;
mod reach;
mod validate;
mod widening;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::consent::ConsentQualities;
use crate::ids::{Cites, PolicyId, PurposeId, RecipientId, RuleId};
use crate::taxonomy::{CategoryKey, Sensitivity, Taxonomy};

pub use about::{Channel, ChannelKind, Handler, ImpactAssessment, Responsible, Right, RightOffer, TimeLimit};
pub use builder::PolicyBuilder;
pub use change::{Change, ChangeDuty, ChangeKind, Changes, FreshConsent};
pub use diff::diff;
pub use ground::{Evidence, Ground};
pub use history::PolicyHistory;
pub use lifecycle::AccountLifecycle;
pub use named::{NamedInConsent, Names};
pub use period::Period;
pub use reach::Witness;
use validate::Findings;
pub(crate) use validate::pointer;
pub use validate::{Diagnostic, DiagnosticCode, Severity};

/// The version of the policy document format this crate reads.
pub const SCHEMA_VERSION: u32 = 1;

/// A privacy policy as typed, validated data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Policy {
    /// Document format version; must be [`SCHEMA_VERSION`].
    pub schema: u32,
    /// Identifies the policy, e.g. `seed-004`.
    pub id: PolicyId,
    /// The policy's version, e.g. the publication date of the text.
    pub version: String,
    /// When this version took effect.
    pub effective: DateTime<FixedOffset>,
    /// Language of the published text, a BCP 47 tag such as `zh-CN`.
    pub language: String,
    /// The published text the rules come from (title, URL or file name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Free notes for reviewers: readings chosen, silences, contradictions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The controller the policy is from, and its owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<Handler>,
    /// The department or person responsible for personal information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsible: Option<Responsible>,
    /// Where to ask about the policy or personal information.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Channel>,
    /// Where to complain: the controller's own channels and outside ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub complaints: Vec<Channel>,
    /// The rights the policy offers and how to exercise each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rights: Vec<RightOffer>,
    /// The result of the latest personal-information impact assessment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact_assessment: Option<ImpactAssessment>,
    /// What the policy says of its incident notices: channels, contents,
    /// a password-change reminder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_notice: Option<crate::incident::IncidentNotice>,
    /// Warnings the authors looked at and accepted, with their reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acknowledged_warnings: Vec<AcknowledgedWarning>,
    /// Settings: home region, time zone, calendar conventions, unknown ages.
    #[serde(default)]
    pub settings: Settings,
    /// Categories the policy adds to the built-in taxonomy, or whose
    /// sensitivity it raises.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<CategoryDecl>,
    /// Purposes of processing, with the categories each needs.
    #[serde(default)]
    pub purposes: Vec<Purpose>,
    /// Consent requirements: which consent qualities which processing needs.
    #[serde(default)]
    pub consent_requirements: Vec<ConsentRequirement>,
    /// Recipients: affiliates, processors, partners, SDKs, authorities,
    /// acquirers, the public.
    #[serde(default)]
    pub recipients: Vec<Recipient>,
    /// Purposes and recipients the policy does not declare but a specific
    /// consent may name, with the qualities that consent must have.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub named_in_consent: Vec<NamedInConsent>,
    /// One rule per action the policy permits at all, with its exceptions.
    /// An action without a rule is not permitted.
    #[serde(default)]
    pub actions: Vec<ActionRule>,
    /// Rules for minors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minors: Option<Minors>,
    /// Retention rules.
    #[serde(default)]
    pub retention: Vec<RetentionRule>,
    /// The account's lifecycle: reactivation, the termination notice
    /// (docs/lifecycle.md).
    #[serde(default, skip_serializing_if = "AccountLifecycle::is_empty")]
    pub lifecycle: AccountLifecycle,
}

/// A warning the policy's authors accept, recorded in the file itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AcknowledgedWarning {
    /// The warning's code, e.g. `ground-without-pipl-basis`.
    pub code: DiagnosticCode,
    /// The warning's path in the document, e.g. `/actions/0/exceptions/7`.
    pub path: String,
    /// Why the warning is accepted.
    pub reason: String,
}

/// Policy-wide settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Settings {
    /// The region where the service operates and stores data, e.g. `CN`.
    pub home_region: String,
    /// Whether personal data collected at home must be stored at home
    /// (PIPL art. 40, seed 004 §4.2).
    pub localisation: bool,
    /// The policy's time zone as a fixed UTC offset in seconds (China: 28800).
    /// Retention deadlines fall on calendar days of this zone.
    pub utc_offset_seconds: i32,
    /// Whether the last day of a retention period is inside it, so that
    /// deletion is permitted only from the day after (the Civil Code art. 203
    /// reading). When false, deletion is permitted on that day.
    pub last_day_included: bool,
    /// What adding months to the 29th–31st does when the target month is
    /// shorter.
    pub month_end: MonthEnd,
    /// What an unknown age is taken to mean.
    pub unknown_age: UnknownAge,
    /// Whether switching a device permission off also stops using data
    /// collected through it, as the policy promises (seed 004 §1.2 item 10).
    /// When false, a permission gates collection only.
    pub permission_off_stops_use: bool,
    /// Where the data of a request comes from, for telling whether providing
    /// it is a cross-border transfer.
    #[serde(skip_serializing_if = "is_default")]
    pub cross_border_origin: CrossBorderOrigin,
    /// Whether one grant answers every consent requirement that applies, or
    /// each requirement needs a grant of its own.
    #[serde(skip_serializing_if = "is_default")]
    pub consent_grants: ConsentGrants,
    /// Whether a child's (under 14) personal data is sensitive (PIPL art.
    /// 28), as by default. When false, a child's data keeps its category's
    /// sensitivity; guardian requirements still apply.
    #[serde(skip_serializing_if = "is_true")]
    pub child_data_sensitive: bool,
    /// Which categories exist: the built-in taxonomy with the policy's
    /// additions, or the policy's `categories` alone.
    #[serde(skip_serializing_if = "is_default")]
    pub taxonomy: TaxonomySource,
}

/// Where a policy's data categories come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TaxonomySource {
    /// The built-in taxonomy (PIPL and GB/T 35273 sensitivities), with the
    /// policy's new keys and raised sensitivities.
    #[default]
    Builtin,
    /// Only the policy's `categories`: new root keys are allowed, a key's
    /// sensitivity may be anything, and a key without one inherits its
    /// parent's (`personal` at a root). For rule sets with their own
    /// vocabulary and sensitivities.
    Declared,
}

/// How the consent requirements that apply to a request are met.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ConsentGrants {
    /// One grant must have the union of the qualities every applicable
    /// requirement names.
    #[default]
    Combined,
    /// Each applicable requirement (the policy's, the action rule's, the
    /// built-in ones, the guardian's) must be met by a grant of its own. A
    /// grant meets a requirement only if it has every quality the
    /// requirement names and carries no `separate` or `guardian` quality the
    /// requirement does not name: a separate consent answers only the
    /// request for separate consent, a guardian's consent only the request
    /// for the guardian's (consent flows that ask for the purpose consent
    /// and the separate consent in two steps).
    PerRequirement,
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// Where the data of a request comes from, for telling whether providing it
/// is a cross-border transfer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CrossBorderOrigin {
    /// From the home region: every destination other than
    /// `home_region` is abroad.
    #[default]
    Home,
    /// From the subject's stated `region` (the home region when the request
    /// states none). A provision is cross-border only when that origin is
    /// the home region and the destination is not: the policy governs
    /// exports from its home region, and the data of a subject elsewhere
    /// sent elsewhere is not an export under it.
    SubjectRegion,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            home_region: "CN".to_owned(),
            localisation: false,
            utc_offset_seconds: 8 * 3600,
            last_day_included: true,
            month_end: MonthEnd::Clamp,
            unknown_age: UnknownAge::Minor,
            permission_off_stops_use: false,
            cross_border_origin: CrossBorderOrigin::Home,
            consent_grants: ConsentGrants::Combined,
            child_data_sensitive: true,
            taxonomy: TaxonomySource::Builtin,
        }
    }
}

/// Month-end convention for retention periods counted in months or years.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonthEnd {
    /// 31 January + 1 month = 28 (or 29) February.
    Clamp,
    /// 31 January + 1 month = 3 (or 2) March: the surplus days roll over.
    RollOver,
}

/// What the engine assumes when a request gives no age and no birth date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownAge {
    /// Treat the subject as an adult. Decisions that rely on this say so.
    Adult,
    /// Treat the subject as a child below every age threshold (the
    /// protective default).
    Minor,
}

/// A category the policy declares: a new key, or a raised sensitivity for a
/// built-in one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CategoryDecl {
    /// The key; its parent must be known.
    pub key: CategoryKey,
    /// The sensitivity; for a built-in key it may only be raised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<Sensitivity>,
    /// What it holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The clause of the published policy this comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cites: Option<Cites>,
}

/// Whether refusing a purpose blocks the service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PurposeBasis {
    /// Necessary for the service the person asked for. Its legal basis is the
    /// contract (PIPL art. 13(2)); refusing it blocks the service.
    Core,
    /// Needs consent; refusing it disables only that feature.
    Optional,
}

/// A device permission that technically gates collection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Camera.
    Camera,
    /// Photo album.
    Photos,
    /// Storage (read and write files).
    Storage,
    /// Location.
    Location,
    /// Address book.
    Contacts,
    /// Call logs.
    CallLogs,
    /// Phone state and number.
    Phone,
    /// Microphone.
    Microphone,
    /// Sensors.
    Sensors,
    /// Device information.
    DeviceInfo,
}

/// A purpose of processing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Purpose {
    /// The purpose's id.
    pub id: PurposeId,
    /// What the purpose is, in the policy's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Core (contract) or optional (consent).
    pub basis: PurposeBasis,
    /// The categories the purpose needs; a rule on a key covers its
    /// descendants.
    pub categories: Vec<CategoryKey>,
    /// The device permission that gates collection for this purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission: Option<Permission>,
    /// The kinds of processing the purpose is, which a person may object
    /// to (PIPL art. 24 ¶2); empty when it is none of them. Read by rights
    /// answers only, never by the evaluator.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub processing: Vec<ProcessingKind>,
    /// The clause of the published policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cites: Option<Cites>,
}

/// A kind of processing a person may object to (PIPL art. 24 ¶2; 002 §2.7;
/// 003 §3, §6.1(2); 001 §1(1)1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProcessingKind {
    /// Content or recommendations personalised on the person's
    /// characteristics.
    PersonalisedRecommendation,
    /// Marketing: advertisements, promotions, product recommendations.
    Marketing,
    /// Profiling: user portraits.
    Profiling,
    /// Programmatic advertising.
    ProgrammaticAdvertising,
    /// Decisions made solely by automated means (PIPL art. 24 ¶3).
    AutomatedDecision,
}

/// Which consent some processing needs, and of what quality.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ConsentRequirement {
    /// The rule's id.
    pub id: RuleId,
    /// The actions it applies to.
    pub actions: Vec<Action>,
    /// The purposes it applies to; empty means every purpose.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub purposes: Vec<PurposeId>,
    /// The categories it applies to (with their descendants); empty means
    /// every category.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<CategoryKey>,
    /// The recipient kinds it applies to; empty means any request, with a
    /// recipient or without. A request without a recipient matches no kind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipient_kinds: Vec<RecipientKind>,
    /// The qualities a single grant must all have to satisfy it.
    pub qualities: ConsentQualities,
    /// The clause of the published policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cites: Option<Cites>,
}

/// What kind of party a recipient is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientKind {
    /// A company of the same group.
    Affiliate,
    /// An entrusted party processing on the controller's instructions
    /// (PIPL art. 21).
    Processor,
    /// An independent third-party controller: partner, payment institution,
    /// logistics company, employer.
    Partner,
    /// A merchant on the platform.
    Merchant,
    /// An advertiser or advertising service provider.
    Advertiser,
    /// A third-party SDK embedded in the app.
    Sdk,
    /// A public authority.
    Authority,
    /// The acquirer in a merger, acquisition, division or asset transfer.
    Acquirer,
    /// The public (public disclosure).
    Public,
    /// The controller itself: the app's own processing, named as a recipient
    /// where a rule set treats it as one (the peer benchmark's `self`). It
    /// signs no agreement with itself and is never told to delete.
    Controller,
    /// The data subject, or the guardian acting for them: data provided at
    /// their own lawful request (seed 004 §3.1 items 6 and 7). They sign no
    /// agreement and are never told to delete.
    DataSubject,
}

/// An agreement or mechanism in place with a recipient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agreement {
    /// A confidentiality agreement.
    Confidentiality,
    /// An entrusted-processing contract (PIPL art. 21).
    ProcessingContract,
    /// The CAC standard contract for cross-border transfer (PIPL art. 38(3)).
    CacStandardContract,
    /// A CAC security assessment (PIPL art. 38(1)).
    CacSecurityAssessment,
    /// Personal-information protection certification (PIPL art. 38(2)).
    Certification,
    /// The recipient agreed to abide by the controller's advertising rules
    /// (seed 003 §6.1(2)).
    AdvertisingRules,
}

impl ActionRule {
    /// Whether `recipient_requires` is asked of a recipient of this kind:
    /// those of `recipient_requires_kinds`, or when it is empty every kind
    /// but an authority, the public and the controller itself.
    pub(crate) fn requires_of(&self, kind: RecipientKind) -> bool {
        if self.recipient_requires_kinds.is_empty() {
            !matches!(
                kind,
                RecipientKind::Authority
                    | RecipientKind::Public
                    | RecipientKind::Controller
                    | RecipientKind::DataSubject
            )
        } else {
            self.recipient_requires_kinds.contains(&kind)
        }
    }
}

impl Agreement {
    /// Whether this agreement is a cross-border transfer mechanism.
    pub fn is_transfer_mechanism(self) -> bool {
        matches!(self, Self::CacStandardContract | Self::CacSecurityAssessment | Self::Certification)
    }
}

/// How identifiable the data is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataState {
    /// Identifies the person directly or with data the holder has.
    Identifiable,
    /// Pseudonymised: identifies no one without additional information.
    /// Still personal data (PIPL art. 73(3)).
    DeIdentified,
    /// Cannot identify anyone and cannot be restored: no longer personal data
    /// (PIPL art. 4, art. 73(4)).
    Anonymised,
    /// Statistics over groups that point to no one.
    Aggregated,
}

impl DataState {
    /// How far the state is from identifying someone: 0 identifiable,
    /// 1 de-identified, 2 anonymised or aggregated.
    pub fn protection(self) -> u8 {
        match self {
            Self::Identifiable => 0,
            Self::DeIdentified => 1,
            Self::Anonymised | Self::Aggregated => 2,
        }
    }

    /// The state's name as in the JSON form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Identifiable => "identifiable",
            Self::DeIdentified => "de_identified",
            Self::Anonymised => "anonymised",
            Self::Aggregated => "aggregated",
        }
    }

    /// Whether data in this state is still personal data.
    pub fn is_personal(self) -> bool {
        self.protection() < 2
    }
}

/// A party that may receive data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Recipient {
    /// The recipient's id.
    pub id: RecipientId,
    /// What kind of party it is.
    pub kind: RecipientKind,
    /// Its name, as shown to the person (PIPL art. 23, 39).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// How to contact it (PIPL art. 23, 39).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// Where it processes the data, e.g. `CN`, `EU`, `US`.
    pub region: String,
    /// Agreements in place with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agreements: Vec<Agreement>,
    /// The categories it may receive (with descendants).
    pub categories: Vec<CategoryKey>,
    /// The purposes for which it may receive them.
    pub purposes: Vec<PurposeId>,
    /// The least protected state it may receive the data in.
    pub data_state: DataState,
    /// The clause of the published policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cites: Option<Cites>,
}

/// Something an app can do with personal data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Collect data from the person or a device.
    Collect,
    /// Use data already held.
    Use,
    /// Provide data to a third-party controller (PIPL art. 23).
    Share,
    /// Entrust data to a processor (PIPL art. 21).
    Entrust,
    /// Transfer data in a merger, acquisition, division or restructuring
    /// (PIPL art. 22).
    Transfer,
    /// Provide data to a recipient abroad (PIPL art. 38–39).
    CrossBorder,
    /// Disclose data publicly (PIPL art. 25).
    Disclose,
    /// Keep data.
    Retain,
    /// Delete data.
    Delete,
    /// Anonymise data.
    Anonymise,
}

impl Action {
    /// Every action, in order.
    pub const ALL: [Action; 10] = [
        Self::Collect,
        Self::Use,
        Self::Share,
        Self::Entrust,
        Self::Transfer,
        Self::CrossBorder,
        Self::Disclose,
        Self::Retain,
        Self::Delete,
        Self::Anonymise,
    ];

    /// The action's name as in the JSON form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Collect => "collect",
            Self::Use => "use",
            Self::Share => "share",
            Self::Entrust => "entrust",
            Self::Transfer => "transfer",
            Self::CrossBorder => "cross_border",
            Self::Disclose => "disclose",
            Self::Retain => "retain",
            Self::Delete => "delete",
            Self::Anonymise => "anonymise",
        }
    }

    /// Whether the action sends data to a recipient: the providing actions.
    /// A request for one of them may name a recipient; see
    /// [`Action::needs_recipient`] for those that must.
    pub fn has_recipient(self) -> bool {
        self.needs_recipient() || self == Self::Disclose
    }

    /// Whether a request for the action must name a recipient (else it is
    /// denied with `builtin.missing_recipient`). `disclose` need not: a
    /// public disclosure names none, a disclosure to a named party names it.
    pub fn needs_recipient(self) -> bool {
        matches!(self, Self::Share | Self::Entrust | Self::Transfer | Self::CrossBorder)
    }

    /// Whether the action is one of the retention actions (`retain`,
    /// `delete`, `anonymise`), which need no purpose and consult no consent.
    pub fn is_retention(self) -> bool {
        matches!(self, Self::Retain | Self::Delete | Self::Anonymise)
    }
}

/// The rule for one action: whether and how consent permits it, what the
/// recipient must have in place, its exceptions, and its duties.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ActionRule {
    /// The rule's id.
    pub id: RuleId,
    /// The action.
    pub action: Action,
    /// The consent qualities that permit the action, where consent can. For
    /// collect and use, consent comes from the purposes and requirements
    /// instead and this is ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<ConsentQualities>,
    /// Whether the action is permitted for core purposes without consent
    /// beyond the policy (e.g. seed 004 §3.1 item 1: sharing needed to
    /// provide the service).
    #[serde(default, skip_serializing_if = "is_false")]
    pub core_purposes: bool,
    /// The recipient kinds this action may go to; empty means any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipient_kinds: Vec<RecipientKind>,
    /// What the recipient must have in place.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipient_requires: Vec<RecipientRequirement>,
    /// The recipient kinds `recipient_requires` is asked of; empty means
    /// every kind but an authority, the public, the controller itself and
    /// the data subject.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipient_requires_kinds: Vec<RecipientKind>,
    /// The least protected state the data may be in for this action, for
    /// some purposes or recipient kinds; checked before exceptions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_states: Vec<DataStateRule>,
    /// Grounds on which the action is permitted without consent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<Exception>,
    /// Duties that come with every permit of this action.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duties: Vec<Duty>,
    /// Whether the purpose's categories limit this action (the default): a
    /// category outside them is denied. When false the action may concern
    /// any category, whatever the purpose lists (e.g. a rule set whose
    /// purpose table governs collection and sharing only).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub within_purpose: bool,
    /// On the `cross_border` rule: what a request that turns out not to be
    /// cross-border gets.
    #[serde(default, skip_serializing_if = "is_default")]
    pub domestic: Domestic,
    /// On `share`, `entrust`, `transfer` and `disclose`: whether the action
    /// may go to a recipient abroad under this rule. When false (the
    /// default) such a provision is a cross-border transfer and denied here
    /// (`builtin.cross_border_required`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_abroad: bool,
    /// The clause of the published policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cites: Option<Cites>,
}

pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}

fn is_true(b: &bool) -> bool {
    *b
}

fn yes() -> bool {
    true
}

/// The least protected state the data may be in for an action, when the
/// request's purpose and recipient kind match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DataStateRule {
    /// The purposes it applies to; empty means every purpose.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub purposes: Vec<PurposeId>,
    /// The recipient kinds it applies to; empty means any recipient, or
    /// none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipient_kinds: Vec<RecipientKind>,
    /// Data less protected than this is denied.
    pub at_least: DataState,
    /// The clause of the published policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cites: Option<Cites>,
}

/// What the `cross_border` rule does with a request whose destination is not
/// abroad after all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Domestic {
    /// Denied: it is not a cross-border transfer (`builtin.not_cross_border`).
    #[default]
    Deny,
    /// Permitted by the rule without consent: the caller sends every
    /// transfer through this rule and the policy asks for nothing when it
    /// stays at home (the peer benchmark's `transfer_cross_border_default`).
    Permit,
}

/// Something a recipient must have in place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientRequirement {
    /// A confidentiality agreement.
    Confidentiality,
    /// An entrusted-processing contract.
    ProcessingContract,
    /// A cross-border transfer mechanism: CAC standard contract, security
    /// assessment or certification.
    TransferMechanism,
    /// Agreement to the controller's advertising rules.
    AdvertisingRules,
}

impl RecipientRequirement {
    /// The requirement's name as in the JSON form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confidentiality => "confidentiality",
            Self::ProcessingContract => "processing_contract",
            Self::TransferMechanism => "transfer_mechanism",
            Self::AdvertisingRules => "advertising_rules",
        }
    }

    /// Whether `agreements` satisfy this requirement.
    pub fn satisfied_by(self, agreements: &[Agreement]) -> bool {
        agreements.iter().any(|a| match self {
            Self::Confidentiality => *a == Agreement::Confidentiality,
            Self::ProcessingContract => *a == Agreement::ProcessingContract,
            Self::TransferMechanism => a.is_transfer_mechanism(),
            Self::AdvertisingRules => *a == Agreement::AdvertisingRules,
        })
    }
}

/// An exception: a ground on which an action is permitted without consent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Exception {
    /// The rule's id.
    pub id: RuleId,
    /// The ground.
    pub ground: Ground,
    /// Evidence the request must carry, beyond what the ground itself needs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<Evidence>,
    /// The recipient kinds the exception covers; empty means those of the
    /// action rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipient_kinds: Vec<RecipientKind>,
    /// Duties beyond those the ground itself carries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duties: Vec<Duty>,
    /// The clause of the published policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cites: Option<Cites>,
}

/// A duty a permit carries, as the policy states it; the decision turns it
/// into a typed obligation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Duty {
    /// De-identify before the action.
    DeIdentifyFirst,
    /// Anonymise before the action.
    AnonymiseFirst,
    /// Process only the categories listed in the request.
    Minimise,
    /// Encrypt in transit and at rest.
    Encrypt,
    /// Tell the person (with the PIPL art. 17/23/39 fields where relevant).
    NotifySubject,
    /// Bind the recipient to the purpose.
    BindRecipientToPurpose,
    /// Have a confidentiality agreement with the recipient.
    ConfidentialityAgreement,
    /// Have a transfer mechanism with the recipient.
    TransferMechanism,
    /// Carry out a personal-information protection impact assessment
    /// (PIPL art. 55).
    ImpactAssessment,
    /// Require legal documents (subpoena, investigation letter).
    LegalDocuments,
    /// Disclose only under encryption keys.
    EncryptDisclosure,
    /// De-identify research results before publishing them.
    DeIdentifyResults,
    /// No sale, rent or disclosure for profit.
    NotForProfit,
    /// Keep the new holder bound by this policy, or have it ask for consent
    /// again.
    NewHolderBound,
    /// Give notice in advance (seed 003 §6.3).
    AdvanceNotice,
    /// Tell recipients to delete (seed 001 §4(2)).
    NotifyRecipients,
    /// Never re-identify.
    NoReidentification,
}

/// The policy's rules for minors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Minors {
    /// The rule id for the guardian requirement.
    pub id: RuleId,
    /// Below this age, processing needs a guardian's consent (PIPL art. 31:
    /// 14). The child's data is sensitive, so that consent must be separate.
    pub guardian_consent_below: u8,
    /// The qualities a guardian's grant must have; `guardian` and `separate`
    /// are always added.
    pub guardian_qualities: ConsentQualities,
    /// Further rules by age.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<MinorRule>,
    /// The clause of the published policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cites: Option<Cites>,
}

/// A rule for subjects below an age.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct MinorRule {
    /// The rule's id.
    pub id: RuleId,
    /// Applies to subjects younger than this.
    pub below_age: u8,
    /// What it does.
    pub effect: MinorEffect,
    /// The actions it applies to; empty means all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<Action>,
    /// The purposes it applies to; empty means all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub purposes: Vec<PurposeId>,
    /// Applies only once the age is established by a real-name check.
    #[serde(default, skip_serializing_if = "is_false")]
    pub requires_real_name: bool,
    /// The clause of the published policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cites: Option<Cites>,
}

/// What a minors rule does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MinorEffect {
    /// Denied, whatever the consent.
    Deny,
    /// Needs a guardian's consent with the policy's guardian qualities.
    GuardianConsent,
    /// Guardians should guide; no effect on the verdict, a notice duty.
    Guidance,
}

/// The event a retention period starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// When the data was collected.
    Collected,
    /// When the transaction completed.
    TransactionCompleted,
    /// When the account was cancelled.
    AccountCancelled,
    /// When the data was last used.
    LastUsed,
    /// When the purpose was fulfilled.
    PurposeFulfilled,
}

impl Trigger {
    /// The trigger's name as in the JSON form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Collected => "collected",
            Self::TransactionCompleted => "transaction_completed",
            Self::AccountCancelled => "account_cancelled",
            Self::LastUsed => "last_used",
            Self::PurposeFulfilled => "purpose_fulfilled",
        }
    }
}

/// What happens to data at the end of its retention.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndAction {
    /// Delete it.
    Delete,
    /// Anonymise it.
    Anonymise,
    /// Either (the seeds' "delete or anonymise").
    DeleteOrAnonymise,
}

/// How long data is kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RetentionRule {
    /// The rule's id.
    pub id: RuleId,
    /// The categories it governs (with descendants); empty means all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<CategoryKey>,
    /// The purposes it governs; empty means all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub purposes: Vec<PurposeId>,
    /// The event the periods run from.
    pub trigger: Trigger,
    /// A statutory minimum: deleting earlier is denied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<Period>,
    /// A maximum: keeping longer is denied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<Period>,
    /// What happens at the end.
    pub end_action: EndAction,
    /// Whether backups are purged at the next backup cycle rather than at
    /// once (seed 004 §5.1).
    #[serde(default, skip_serializing_if = "is_false")]
    pub backups_at_next_cycle: bool,
    /// Whether backup copies that cannot be erased at once are isolated
    /// (storage and security only) until they can be (seed 001 §4(2)).
    #[serde(default, skip_serializing_if = "is_false")]
    pub isolate_backups: bool,
    /// Whether recipients are told to delete too (seed 001 §4(2)).
    #[serde(default, skip_serializing_if = "is_false")]
    pub notify_recipients: bool,
    /// The clause of the published policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cites: Option<Cites>,
}

impl RetentionRule {
    /// Whether the rule keeps nothing at all: a maximum of zero from
    /// collection ("the platform keeps no face data", seed 004 §1.2.2).
    /// Such data is deleted at once, whether or not the time of its
    /// collection is known.
    pub fn keeps_nothing(&self) -> bool {
        self.trigger == Trigger::Collected && self.maximum.is_some_and(Period::is_zero)
    }
}

impl Policy {
    /// Parses and validates a policy document.
    ///
    /// # Errors
    ///
    /// A syntax error gives its line and column; a field that does not fit
    /// gives its path; validation gives every error-level problem at once,
    /// each with its path (see [`Error::diagnostics`](crate::Error::diagnostics)).
    ///
    /// # Example
    ///
    /// ```
    /// use privacy_engine::Policy;
    /// let err = Policy::from_json(r#"{"schema": 1, "id": "p", "colour": 1}"#).unwrap_err();
    /// assert_eq!(err.path(), Some("/colour"));
    /// ```
    pub fn from_json(json: &str) -> Result<Policy, crate::Error> {
        use crate::limits::{MAX_POLICY_BYTES, oversized};
        if let Some(message) = oversized("policy document", json.len(), MAX_POLICY_BYTES) {
            return Err(crate::Error::over_limit(crate::ErrorKind::Format, "/".to_owned(), message));
        }
        Ok(validate::parse(json)?.validated()?.policy)
    }

    /// Every problem validation finds, errors and warnings, in document
    /// order. Acknowledged warnings are marked as such.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        let (taxonomy, found) = categories::taxonomy_of(self);
        validate::check(self, &taxonomy, found, Findings::All)
    }

    /// A witness for every action rule, exception, recipient,
    /// `named_in_consent` rule, retention rule, consent requirement and
    /// minors rule that some well-formed request can reach: a request (with the consents it needs) that an engine of this
    /// policy decides by that rule. The others are reported by
    /// [`Policy::diagnostics`] as `unreachable-rule` warnings.
    pub fn witnesses(&self) -> Vec<Witness> {
        reach::reach(self, &self.taxonomy()).into_iter().filter_map(|r| r.witness).collect()
    }

    /// The warnings the policy has not acknowledged.
    pub fn unacknowledged_warnings(&self) -> Vec<Diagnostic> {
        self.diagnostics().into_iter().filter(|d| d.severity == Severity::Warning && !d.acknowledged).collect()
    }

    /// Validates the policy.
    ///
    /// # Errors
    ///
    /// An error of kind [`ErrorKind::Invalid`](crate::ErrorKind::Invalid)
    /// holding every error-level diagnostic.
    pub fn validate(&self) -> Result<(), crate::Error> {
        let (taxonomy, found) = categories::taxonomy_of(self);
        errors_of(validate::check(self, &taxonomy, found, Findings::Errors))
    }

    /// Validates the policy and keeps what validation built: the one
    /// validation of every load path ([`Policy::from_json`],
    /// [`Engine::new`](crate::Engine::new),
    /// [`Engine::from_json`](crate::Engine::from_json)).
    pub(crate) fn validated(self) -> Result<Validated, crate::Error> {
        let (taxonomy, found) = categories::taxonomy_of(&self);
        errors_of(validate::check(&self, &taxonomy, found, Findings::Errors))?;
        Ok(Validated { policy: self, taxonomy })
    }

    /// The taxonomy this policy uses: the built-in one with the policy's own
    /// categories and raised sensitivities, or with `settings.taxonomy:
    /// declared` the policy's categories alone.
    pub fn taxonomy(&self) -> Taxonomy {
        categories::taxonomy_of(self).0
    }

    /// A builder for a policy written in Rust.
    pub fn builder(id: impl Into<PolicyId>, version: impl Into<String>) -> PolicyBuilder {
        PolicyBuilder::new(id.into(), version.into())
    }

    /// The purpose with this id.
    pub fn purpose(&self, id: &PurposeId) -> Option<&Purpose> {
        self.purposes.iter().find(|p| &p.id == id)
    }

    /// The recipient with this id.
    pub fn recipient(&self, id: &RecipientId) -> Option<&Recipient> {
        self.recipients.iter().find(|r| &r.id == id)
    }

    /// The rule for this action, if the policy permits the action at all.
    pub fn action_rule(&self, action: Action) -> Option<&ActionRule> {
        self.actions.iter().find(|r| r.action == action)
    }

    /// The acknowledgement of the warning `code` at `path`, if the policy
    /// records one: the one matching of warnings to acknowledgements.
    pub(crate) fn acknowledgement(&self, code: DiagnosticCode, path: &str) -> Option<usize> {
        self.acknowledged_warnings.iter().position(|a| a.code == code && a.path == path)
    }

    /// Whether the policy acknowledges that exception `j` of action rule
    /// `rule` rests on a ground with no basis in PIPL art. 13.
    pub(crate) fn acknowledges_unbased_exception(&self, rule: usize, j: usize) -> bool {
        self.acknowledgement(DiagnosticCode::GroundWithoutPiplBasis, &exception_path(rule, j)).is_some()
    }
}

/// The JSON pointer of exception `j` of action rule `rule`.
pub(crate) fn exception_path(rule: usize, j: usize) -> String {
    format!("/actions/{rule}/exceptions/{j}")
}

/// The error of every error-level diagnostic, if there is one.
fn errors_of(diagnostics: Vec<Diagnostic>) -> Result<(), crate::Error> {
    let errors: Vec<Diagnostic> = diagnostics.into_iter().filter(|d| d.severity == Severity::Error).collect();
    if errors.is_empty() { Ok(()) } else { Err(crate::Error::invalid(errors)) }
}

/// A policy that passed validation, with the taxonomy validation built:
/// what compiling an engine consumes.
///
/// Sound by ownership: only [`Policy::validated`] makes one, and it owns
/// its policy with no way to change it, so what it holds is exactly what
/// was validated. (A flag on `Policy` would not be: its fields are public
/// and may change after validation.)
#[derive(Clone, Debug)]
pub(crate) struct Validated {
    policy: Policy,
    taxonomy: Taxonomy,
}

impl Validated {
    /// Parses and validates a policy document, as [`Policy::from_json`].
    pub(crate) fn from_json(json: &str) -> Result<Validated, crate::Error> {
        validate::parse(json)?.validated()
    }

    /// The policy and its taxonomy.
    pub(crate) fn into_parts(self) -> (Policy, Taxonomy) {
        (self.policy, self.taxonomy)
    }
}
