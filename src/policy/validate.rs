//! Parsing and validation of policy documents, with a path for every
//! problem.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Action, Policy, PurposeBasis, RecipientKind, RecipientRequirement, RetentionRule, SCHEMA_VERSION};
use crate::consent::ConsentQualities;
use crate::error::Error;
use crate::ids::PurposeId;
use crate::taxonomy::{CategoryKey, Sensitivity, Taxonomy};

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The policy cannot be loaded.
    Error,
    /// The policy loads, but a reviewer should look; a policy may acknowledge
    /// it with a reason.
    Warning,
}

/// What a diagnostic is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum DiagnosticCode {
    /// The document's `schema` is not one this crate reads.
    SchemaVersion,
    /// Two items share an id.
    DuplicateId,
    /// A category key is not in the taxonomy.
    UnknownCategory,
    /// A declared category's parent is not in the taxonomy.
    UnknownParent,
    /// A declared category lowers a built-in sensitivity.
    LoweredSensitivity,
    /// A purpose id is not declared.
    UnknownPurpose,
    /// Two action rules for one action.
    DuplicateActionRule,
    /// A list that must not be empty is.
    EmptyList,
    /// Consent qualities that cannot go together, or none where some are
    /// needed.
    InvalidQualities,
    /// An age threshold outside 1–25.
    InvalidAge,
    /// A retention minimum longer than its maximum.
    RetentionBounds,
    /// A UTC offset beyond ±18 hours, or not in whole minutes.
    InvalidOffset,
    /// A sensitive category collected for an optional purpose without a
    /// separate-consent requirement.
    SensitiveWithoutSeparateConsent,
    /// An advertiser may receive identifiable data.
    IdentifiableToAdvertiser,
    /// A collected category with no retention rule.
    CollectedWithoutRetention,
    /// An exception ground with no basis in PIPL art. 13.
    GroundWithoutPiplBasis,
    /// Cross-border transfer without a transfer-mechanism requirement.
    CrossBorderWithoutMechanism,
    /// An acknowledgement that matches no warning.
    StaleAcknowledgement,
    /// An exception that can never apply, because an earlier one of the same
    /// action, ground and recipients needs no more evidence.
    ShadowedException,
    /// An action rule sets a field, away from its default, that its action
    /// never reads.
    FieldWithoutEffect,
    /// A core purpose covers a whole root of the taxonomy, sensitive
    /// categories included, so they are collected without consent.
    CoreCoversSensitive,
    /// `settings.unknown_age` treats a subject of unknown age as an adult.
    UnknownAgeAdult,
    /// A providing rule permits core purposes without consent to recipients
    /// it asks no agreement of.
    CoreProvidingWithoutAgreement,
    /// A guardian's consent is asked below an age lower than the regime's.
    LowGuardianAge,
    /// `settings.child_data_sensitive` is off.
    ChildDataNotSensitive,
    /// An id is longer than [`MAX_ID_BYTES`](crate::MAX_ID_BYTES).
    IdTooLong,
    /// An exception, recipient, retention rule, consent requirement or
    /// minors rule that no well-formed request can reach (see
    /// [`Policy::witnesses`](crate::Policy::witnesses)).
    UnreachableRule,
    /// A `named_in_consent` rule that cannot be applied: a recipient kind
    /// missing or out of place, an action it cannot name its purpose or
    /// recipient for, a guardian quality, or a second rule for one action.
    InvalidNamedInConsent,
    /// The policy leaves out something it must say about itself: its
    /// controller, the responsible department, a contact or complaint
    /// channel, the rights offered, or the latest impact assessment.
    MissingDisclosure,
    /// A version in a policy history is of another policy.
    HistoryPolicyId,
    /// Two versions in a policy history have the same version string.
    DuplicateVersion,
    /// A version in a policy history takes effect no later than the one
    /// before it.
    EffectiveOrder,
}

impl DiagnosticCode {
    /// The code as in the JSON form, e.g. `ground-without-pipl-basis`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SchemaVersion => "schema-version",
            Self::DuplicateId => "duplicate-id",
            Self::UnknownCategory => "unknown-category",
            Self::UnknownParent => "unknown-parent",
            Self::LoweredSensitivity => "lowered-sensitivity",
            Self::UnknownPurpose => "unknown-purpose",
            Self::DuplicateActionRule => "duplicate-action-rule",
            Self::EmptyList => "empty-list",
            Self::InvalidQualities => "invalid-qualities",
            Self::InvalidAge => "invalid-age",
            Self::RetentionBounds => "retention-bounds",
            Self::InvalidOffset => "invalid-offset",
            Self::SensitiveWithoutSeparateConsent => "sensitive-without-separate-consent",
            Self::IdentifiableToAdvertiser => "identifiable-to-advertiser",
            Self::CollectedWithoutRetention => "collected-without-retention",
            Self::GroundWithoutPiplBasis => "ground-without-pipl-basis",
            Self::CrossBorderWithoutMechanism => "cross-border-without-mechanism",
            Self::StaleAcknowledgement => "stale-acknowledgement",
            Self::ShadowedException => "shadowed-exception",
            Self::FieldWithoutEffect => "field-without-effect",
            Self::CoreCoversSensitive => "core-covers-sensitive",
            Self::UnknownAgeAdult => "unknown-age-adult",
            Self::CoreProvidingWithoutAgreement => "core-providing-without-agreement",
            Self::LowGuardianAge => "low-guardian-age",
            Self::ChildDataNotSensitive => "child-data-not-sensitive",
            Self::IdTooLong => "id-too-long",
            Self::UnreachableRule => "unreachable-rule",
            Self::InvalidNamedInConsent => "invalid-named-in-consent",
            Self::MissingDisclosure => "missing-disclosure",
            Self::HistoryPolicyId => "history-policy-id",
            Self::DuplicateVersion => "duplicate-version",
            Self::EffectiveOrder => "effective-order",
        }
    }
}

/// One problem found in a policy, with its path in the document.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// What it is about.
    pub code: DiagnosticCode,
    /// A JSON pointer into the document, e.g. `/purposes/2/categories/0`.
    pub path: String,
    /// What is wrong, naming ids and keys from the policy.
    pub message: String,
    /// Whether the policy acknowledges this warning.
    pub acknowledged: bool,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning if self.acknowledged => "warning (acknowledged)",
            Severity::Warning => "warning",
        };
        write!(f, "{sev}[{}]: {}: at `{}`", self.code.as_str(), self.message, self.path)
    }
}

pub(super) fn parse(json: &str) -> Result<Policy, Error> {
    // First for syntax alone, so that a syntax error is reported as one.
    let value: serde_json::Value = serde_json::from_str(json).map_err(Error::syntax)?;
    drop(value);
    let de = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = pointer(e.path());
        Error::format(path, e.into_inner())
    })
}

/// The JSON pointer (RFC 6901) of a serde_path_to_error path: `/` for the
/// whole document, and `~` and `/` in keys escaped as `~0` and `~1`.
///
/// Built from the segments, not from the printed form
/// (`purposes[3].categories[0]`), which cannot tell a key `a.b` from a key
/// `a` holding `b`.
pub(crate) fn pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        out.push('/');
        match seg {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } => out.push_str(&key.replace('~', "~0").replace('/', "~1")),
            Segment::Enum { variant } => out.push_str(&variant.replace('~', "~0").replace('/', "~1")),
            Segment::Unknown => out.push('?'),
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

struct Checker<'p> {
    policy: &'p Policy,
    /// The taxonomy's categories and their sensitivities, found by key in
    /// constant time.
    categories: HashMap<&'p str, Sensitivity>,
    /// The declared purposes, found by id in constant time.
    purposes: HashSet<&'p PurposeId>,
    out: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn push(&mut self, severity: Severity, code: DiagnosticCode, path: String, message: String) {
        self.out.push(Diagnostic { severity, code, path, message, acknowledged: false });
    }

    fn error(&mut self, code: DiagnosticCode, path: String, message: String) {
        self.push(Severity::Error, code, path, message);
    }

    fn warn(&mut self, code: DiagnosticCode, path: String, message: String) {
        self.push(Severity::Warning, code, path, message);
    }

    fn categories(&mut self, keys: &[CategoryKey], path: &str, owner: &str) {
        for (i, k) in keys.iter().enumerate() {
            if !self.categories.contains_key(k.as_str()) {
                self.error(
                    DiagnosticCode::UnknownCategory,
                    format!("{path}/{i}"),
                    format!("unknown data category `{k}` in {owner}"),
                );
            }
        }
    }

    fn purposes(&mut self, ids: &[PurposeId], path: &str, owner: &str) {
        for (i, p) in ids.iter().enumerate() {
            if !self.purposes.contains(p) {
                self.error(
                    DiagnosticCode::UnknownPurpose,
                    format!("{path}/{i}"),
                    format!("unknown purpose `{p}` in {owner}"),
                );
            }
        }
    }

    fn non_empty<T>(&mut self, list: &[T], path: String, what: &str) {
        if list.is_empty() {
            self.error(DiagnosticCode::EmptyList, path, format!("{what} is empty"));
        }
    }
}

/// What a check looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Findings {
    /// The errors, which decide whether a policy loads; warnings found on
    /// the way may come too.
    Errors,
    /// Errors and every warning, acknowledged ones marked.
    All,
}

/// The problems of a policy, after `found` (those its taxonomy's
/// declarations raised).
pub(super) fn check(
    policy: &Policy,
    taxonomy: &Taxonomy,
    found: Vec<Diagnostic>,
    findings: Findings,
) -> Vec<Diagnostic> {
    let purposes = policy.purposes.iter().map(|p| &p.id).collect();
    let categories = taxonomy.iter().map(|(k, info)| (k.as_str(), info.sensitivity)).collect();
    let mut c = Checker { policy, categories, purposes, out: found };

    if policy.schema != SCHEMA_VERSION {
        c.error(
            DiagnosticCode::SchemaVersion,
            "/schema".to_owned(),
            format!("schema version {} is not supported; this crate reads {SCHEMA_VERSION}", policy.schema),
        );
    }
    let offset = policy.settings.utc_offset_seconds;
    if offset.unsigned_abs() > 18 * 3600 || offset % 60 != 0 {
        c.error(
            DiagnosticCode::InvalidOffset,
            "/settings/utc_offset_seconds".to_owned(),
            "utc offset must be whole minutes within 18 hours".to_owned(),
        );
    }
    check_ids(&mut c);
    check_purposes(&mut c);
    check_requirements(&mut c);
    check_recipients(&mut c);
    check_named(&mut c);
    check_actions(&mut c);
    check_minors(&mut c);
    check_retention(&mut c);
    check_rights(&mut c);
    if findings == Findings::Errors {
        // Loading a policy needs no more, and the warnings of a large one
        // cost as much as the rest of the load.
        return c.out;
    }
    for (code, path, message) in super::about::missing(policy) {
        c.warn(code, path, message);
    }
    check_warnings(&mut c);
    for (code, path, message) in super::widening::widenings(policy, taxonomy) {
        c.warn(code, path, message);
    }
    for r in super::reach::reach(policy, taxonomy).into_iter().filter(|r| r.witness.is_none() && !r.warned_elsewhere) {
        c.warn(DiagnosticCode::UnreachableRule, r.path, format!("{} can be reached by no well-formed request", r.what));
    }
    acknowledge(policy, c.out)
}

fn check_ids(c: &mut Checker<'_>) {
    let p = c.policy;
    let mut seen: HashMap<&str, String> = HashMap::new();
    let mut ids: Vec<(&str, String)> = Vec::new();
    for (i, x) in p.purposes.iter().enumerate() {
        ids.push((x.id.as_str(), format!("/purposes/{i}/id")));
    }
    for (i, x) in p.consent_requirements.iter().enumerate() {
        ids.push((x.id.as_str(), format!("/consent_requirements/{i}/id")));
    }
    for (i, x) in p.recipients.iter().enumerate() {
        ids.push((x.id.as_str(), format!("/recipients/{i}/id")));
    }
    for (i, x) in p.named_in_consent.iter().enumerate() {
        ids.push((x.id.as_str(), format!("/named_in_consent/{i}/id")));
    }
    for (i, a) in p.actions.iter().enumerate() {
        ids.push((a.id.as_str(), format!("/actions/{i}/id")));
        for (j, e) in a.exceptions.iter().enumerate() {
            ids.push((e.id.as_str(), format!("/actions/{i}/exceptions/{j}/id")));
        }
    }
    if let Some(m) = &p.minors {
        ids.push((m.id.as_str(), "/minors/id".to_owned()));
        for (i, r) in m.rules.iter().enumerate() {
            ids.push((r.id.as_str(), format!("/minors/rules/{i}/id")));
        }
    }
    for (i, r) in p.retention.iter().enumerate() {
        ids.push((r.id.as_str(), format!("/retention/{i}/id")));
    }
    let mut dups = Vec::new();
    for (id, path) in ids {
        if let Some(message) = crate::limits::id_too_long("the id", id) {
            c.error(DiagnosticCode::IdTooLong, path, message);
        } else if id.starts_with("builtin.") {
            dups.push((path, format!("id `{id}` uses the reserved prefix `builtin.`")));
        } else if let Some(first) = seen.get(id) {
            dups.push((path, format!("duplicate id `{id}`, first used at `{first}`")));
        } else {
            seen.insert(id, path);
        }
    }
    for (path, msg) in dups {
        c.error(DiagnosticCode::DuplicateId, path, msg);
    }
}

fn check_purposes(c: &mut Checker<'_>) {
    for (i, p) in c.policy.purposes.iter().enumerate() {
        let path = format!("/purposes/{i}/categories");
        c.non_empty(&p.categories, path.clone(), &format!("the category list of purpose `{}`", p.id));
        c.categories(&p.categories, &path, &format!("purpose `{}`", p.id));
    }
}

fn check_requirements(c: &mut Checker<'_>) {
    for (i, r) in c.policy.consent_requirements.iter().enumerate() {
        let path = format!("/consent_requirements/{i}");
        let owner = format!("consent requirement `{}`", r.id);
        c.non_empty(&r.actions, format!("{path}/actions"), &format!("the action list of {owner}"));
        c.purposes(&r.purposes, &format!("{path}/purposes"), &owner);
        c.categories(&r.categories, &format!("{path}/categories"), &owner);
        qualities(c, r.qualities, format!("{path}/qualities"), &owner);
    }
}

fn qualities(c: &mut Checker<'_>, q: ConsentQualities, path: String, owner: &str) {
    if q.is_empty() {
        c.error(
            DiagnosticCode::InvalidQualities,
            path,
            format!("{owner} needs no consent quality: implied consent cannot be required"),
        );
    } else if !q.is_coherent() {
        c.error(
            DiagnosticCode::InvalidQualities,
            path,
            format!("{owner} names incoherent qualities `{q}`: separate consent is explicit, and explicit consent is affirmative"),
        );
    }
}

fn check_recipients(c: &mut Checker<'_>) {
    for (i, r) in c.policy.recipients.iter().enumerate() {
        let path = format!("/recipients/{i}");
        let owner = format!("recipient `{}`", r.id);
        c.categories(&r.categories, &format!("{path}/categories"), &owner);
        c.purposes(&r.purposes, &format!("{path}/purposes"), &owner);
        if r.kind == RecipientKind::Advertiser && r.data_state == super::DataState::Identifiable {
            c.warn(
                DiagnosticCode::IdentifiableToAdvertiser,
                format!("{path}/data_state"),
                format!("advertiser `{}` may receive identifiable data", r.id),
            );
        }
    }
}

/// The `named_in_consent` rules: their lists, their qualities, the
/// recipient kind a recipient rule needs, the actions each can apply to, and
/// at most one rule of each kind per action.
fn check_named(c: &mut Checker<'_>) {
    let mut seen: HashMap<(super::Names, Action), usize> = HashMap::new();
    for (i, r) in c.policy.named_in_consent.iter().enumerate() {
        let path = format!("/named_in_consent/{i}");
        let owner = format!("rule `{}`", r.id);
        c.non_empty(&r.actions, format!("{path}/actions"), &format!("the action list of {owner}"));
        c.non_empty(&r.categories, format!("{path}/categories"), &format!("the category list of {owner}"));
        c.categories(&r.categories, &format!("{path}/categories"), &owner);
        c.purposes(&r.purposes, &format!("{path}/purposes"), &owner);
        qualities(c, r.qualities, format!("{path}/qualities"), &owner);
        let bad = |c: &mut Checker<'_>, field: &str, message: String| {
            c.error(DiagnosticCode::InvalidNamedInConsent, format!("{path}/{field}"), message);
        };
        if r.qualities.contains(ConsentQualities::GUARDIAN) {
            bad(c, "qualities", format!("{owner} asks for a guardian's consent: the minors rules add that"));
        }
        let recipient = r.names == super::Names::Recipient;
        match (recipient, r.recipient_kind) {
            (true, None) => bad(c, "names", format!("{owner} names recipients but gives no `recipient_kind`")),
            (true, Some(RecipientKind::Controller)) => {
                bad(c, "recipient_kind", format!("{owner} names the controller itself as a recipient"));
            }
            (false, Some(_)) => {
                bad(c, "recipient_kind", format!("{owner} names purposes: a recipient kind has no effect"))
            }
            _ => {}
        }
        let recipient_fields = !(r.purposes.is_empty() && r.agreements.is_empty());
        if !recipient && recipient_fields {
            let field = if r.purposes.is_empty() { "agreements" } else { "purposes" };
            bad(c, field, format!("{owner} names purposes: field `{field}` applies to recipients only"));
        }
        for (j, a) in r.actions.iter().enumerate() {
            if a.is_retention() || (recipient && !(a.needs_recipient() || *a == Action::Disclose)) {
                let message = format!("{owner} cannot name a {} for action `{}`", r.names.as_str(), a.as_str());
                bad(c, &format!("actions/{j}"), message);
            } else if let Some(first) = seen.insert((r.names, *a), i) {
                let message = format!(
                    "action `{}` already has a rule naming a {} in consent, at `/named_in_consent/{first}`",
                    a.as_str(),
                    r.names.as_str()
                );
                bad(c, &format!("actions/{j}"), message);
            }
        }
    }
}

fn check_actions(c: &mut Checker<'_>) {
    let mut seen: HashMap<Action, usize> = HashMap::new();
    for (i, a) in c.policy.actions.iter().enumerate() {
        let path = format!("/actions/{i}");
        if let Some(first) = seen.insert(a.action, i) {
            c.error(
                DiagnosticCode::DuplicateActionRule,
                format!("{path}/action"),
                format!(
                    "action `{}` already has rule `{}`",
                    a.action.as_str(),
                    c.policy.actions.get(first).map_or("", |r| r.id.as_str())
                ),
            );
        }
        if let Some(q) = a.consent {
            qualities(c, q, format!("{path}/consent"), &format!("action rule `{}`", a.id));
        }
        fields_without_effect(c, &path, a);
        for (j, ds) in a.data_states.iter().enumerate() {
            c.purposes(&ds.purposes, &format!("{path}/data_states/{j}/purposes"), &format!("action rule `{}`", a.id));
        }
        for (j, e) in a.exceptions.iter().enumerate() {
            if e.ground.pipl_basis().is_none() {
                c.warn(
                    DiagnosticCode::GroundWithoutPiplBasis,
                    super::exception_path(i, j),
                    format!(
                        "exception `{}` rests on ground `{}`, which has no basis in PIPL art. 13",
                        e.id,
                        e.ground.as_str()
                    ),
                );
            }
        }
        for (k, later) in a.exceptions.iter().enumerate() {
            let shadow = a.exceptions.iter().take(k).find(|earlier| {
                earlier.ground == later.ground
                    && (earlier.recipient_kinds.is_empty()
                        || later.recipient_kinds.iter().all(|r| earlier.recipient_kinds.contains(r))
                            && !later.recipient_kinds.is_empty())
                    && earlier.requires.iter().all(|e| later.requires.contains(e))
            });
            if let Some(earlier) = shadow {
                c.warn(
                    DiagnosticCode::ShadowedException,
                    format!("{path}/exceptions/{k}"),
                    format!(
                        "exception `{}` can never apply: `{}` has the same ground and needs no more evidence",
                        later.id, earlier.id
                    ),
                );
            }
        }
        if a.action == Action::CrossBorder && !a.recipient_requires.contains(&RecipientRequirement::TransferMechanism) {
            c.warn(
                DiagnosticCode::CrossBorderWithoutMechanism,
                format!("{path}/recipient_requires"),
                format!("cross-border rule `{}` does not require a transfer mechanism (PIPL art. 38)", a.id),
            );
        }
    }
}

/// The fields of an action rule that its action never reads, set away from
/// their defaults: a reviewer who writes one expects it to do something, so
/// it is an error rather than silently ignored. The actions each field
/// applies to are those of `engine::evaluate` and `engine::provide`.
fn fields_without_effect(c: &mut Checker<'_>, path: &str, a: &super::ActionRule) {
    const PER_CATEGORY: &str = "`collect`, `use`, `share`, `entrust`, `transfer`, `cross_border` and `disclose`";
    const PROVIDING: &str = "the providing actions: `share`, `entrust`, `transfer`, `cross_border` and `disclose`";
    // Retention actions skip the purpose and data-state checks.
    let retention = matches!(a.action, Action::Retain | Action::Delete | Action::Anonymise);
    // Only the providing actions read the rule's consent, core purposes
    // and agreements: elsewhere consent comes from the purpose and the
    // requirements, and nothing is provided to anyone.
    let providing =
        matches!(a.action, Action::Share | Action::Entrust | Action::Transfer | Action::CrossBorder | Action::Disclose);
    let unread = [
        ("consent", a.consent.is_some() && !providing, PROVIDING),
        ("core_purposes", a.core_purposes && !providing, PROVIDING),
        ("recipient_requires", !a.recipient_requires.is_empty() && !providing, PROVIDING),
        (
            "recipient_requires_kinds",
            !a.recipient_requires_kinds.is_empty() && a.recipient_requires.is_empty(),
            "a rule whose `recipient_requires` is not empty",
        ),
        ("data_states", !a.data_states.is_empty() && retention, PER_CATEGORY),
        ("within_purpose", !a.within_purpose && retention, PER_CATEGORY),
        ("domestic", a.domestic != super::Domestic::Deny && a.action != Action::CrossBorder, "`cross_border`"),
        (
            "allow_abroad",
            a.allow_abroad
                && !matches!(a.action, Action::Share | Action::Entrust | Action::Transfer | Action::Disclose),
            "`share`, `entrust`, `transfer` and `disclose`",
        ),
    ];
    for (field, _, applies) in unread.into_iter().filter(|(_, unread, _)| *unread) {
        c.error(
            DiagnosticCode::FieldWithoutEffect,
            format!("{path}/{field}"),
            format!(
                "field `{field}` of rule `{}` has no effect on action `{}`: it applies only to {applies}",
                a.id,
                a.action.as_str()
            ),
        );
    }
}

/// Deletion grounds on an offer of another right than `delete`: nothing
/// reads them.
fn check_rights(c: &mut Checker<'_>) {
    let p = c.policy;
    for (i, o) in p.rights.iter().enumerate().filter(|(_, o)| !o.grounds.is_empty() && o.right != super::Right::Delete)
    {
        c.error(
            DiagnosticCode::FieldWithoutEffect,
            format!("/rights/{i}/grounds"),
            format!("field `grounds` has no effect on right `{}`: it applies only to `delete`", o.right.as_str()),
        );
    }
}

fn check_minors(c: &mut Checker<'_>) {
    let Some(m) = &c.policy.minors else { return };
    if !(1..=25).contains(&m.guardian_consent_below) {
        c.error(
            DiagnosticCode::InvalidAge,
            "/minors/guardian_consent_below".to_owned(),
            format!("age threshold {} is outside 1 to 25", m.guardian_consent_below),
        );
    }
    if !m.guardian_qualities.is_coherent() {
        c.error(
            DiagnosticCode::InvalidQualities,
            "/minors/guardian_qualities".to_owned(),
            format!("minors rule `{}` names incoherent qualities `{}`", m.id, m.guardian_qualities),
        );
    }
    for (i, r) in m.rules.iter().enumerate() {
        if !(1..=25).contains(&r.below_age) {
            c.error(
                DiagnosticCode::InvalidAge,
                format!("/minors/rules/{i}/below_age"),
                format!("age threshold {} of rule `{}` is outside 1 to 25", r.below_age, r.id),
            );
        }
        c.purposes(&r.purposes, &format!("/minors/rules/{i}/purposes"), &format!("minors rule `{}`", r.id));
    }
}

fn check_retention(c: &mut Checker<'_>) {
    for (i, r) in c.policy.retention.iter().enumerate() {
        let path = format!("/retention/{i}");
        let owner = format!("retention rule `{}`", r.id);
        c.categories(&r.categories, &format!("{path}/categories"), &owner);
        c.purposes(&r.purposes, &format!("{path}/purposes"), &owner);
        if let (Some(min), Some(max)) = (r.minimum, r.maximum)
            && always_longer(min, max, c.policy.settings.month_end)
        {
            c.error(
                DiagnosticCode::RetentionBounds,
                format!("{path}/minimum"),
                format!("{owner} has a minimum `{min}` longer than its maximum `{max}`"),
            );
        }
    }
}

/// Whether `a` ends after `b` whatever day they start on: months have 28 to
/// 31 days, so `P1Y` is longer than `P360D` although it has fewer days, and
/// `P1M` is neither longer nor shorter than `P30D`.
///
/// Checked over every start day of a four-year cycle (one leap year).
pub(super) fn always_longer(a: super::Period, b: super::Period, month_end: super::MonthEnd) -> bool {
    let Some(first) = chrono::NaiveDate::from_ymd_opt(2001, 1, 1) else {
        return false;
    };
    first.iter_days().take(4 * 365 + 1).all(|start| match (a.after(start, month_end), b.after(start, month_end)) {
        (Some(end_a), Some(end_b)) => end_a > end_b,
        _ => false,
    })
}

fn check_warnings(c: &mut Checker<'_>) {
    let policy = c.policy;
    let retained = Retained::new(policy);
    for (i, p) in policy.purposes.iter().enumerate() {
        for (j, k) in p.categories.iter().enumerate() {
            let sensitivity = c.categories.get(k.as_str()).copied();
            let sensitive = sensitivity == Some(Sensitivity::Sensitive);
            if sensitive && p.basis == PurposeBasis::Optional && !separate_required(policy, &p.id, k) {
                c.warn(
                    DiagnosticCode::SensitiveWithoutSeparateConsent,
                    format!("/purposes/{i}/categories/{j}"),
                    format!(
                        "sensitive category `{k}` is collected for optional purpose `{}` without a separate-consent requirement; the engine applies its own",
                        p.id
                    ),
                );
            }
            if sensitivity.is_some() && !retained.covers(k, &p.id) {
                c.warn(
                    DiagnosticCode::CollectedWithoutRetention,
                    format!("/purposes/{i}/categories/{j}"),
                    format!("category `{k}` is collected for purpose `{}` but no retention rule covers it", p.id),
                );
            }
        }
    }
}

/// The retention rules by the categories they name, so that whether a
/// collected category has one costs a few look-ups, not a pass over every
/// rule.
struct Retained<'p> {
    by_category: HashMap<&'p str, Vec<&'p RetentionRule>>,
    /// The keys of `by_category`, in order.
    keys: Vec<&'p str>,
    /// Whether a rule names neither categories nor purposes.
    any: bool,
    /// The purposes of the rules that name no category.
    any_category: HashSet<&'p PurposeId>,
}

impl<'p> Retained<'p> {
    fn new(policy: &'p Policy) -> Self {
        let mut r =
            Retained { by_category: HashMap::new(), keys: Vec::new(), any: false, any_category: HashSet::new() };
        for rule in &policy.retention {
            for k in &rule.categories {
                r.by_category.entry(k.as_str()).or_default().push(rule);
            }
            if rule.categories.is_empty() {
                r.any |= rule.purposes.is_empty();
                r.any_category.extend(&rule.purposes);
            }
        }
        r.keys = r.by_category.keys().copied().collect();
        r.keys.sort_unstable();
        r
    }

    /// Whether a rule covers `key` collected for `purpose`: one that names
    /// no category, or `key`, an ancestor or a descendant of it; and no
    /// purpose, or `purpose`.
    fn covers(&self, key: &CategoryKey, purpose: &PurposeId) -> bool {
        let for_purpose = |k: &str| {
            self.by_category
                .get(k)
                .is_some_and(|rules| rules.iter().any(|r| r.purposes.is_empty() || r.purposes.contains(purpose)))
        };
        if self.any || (!self.any_category.is_empty() && self.any_category.contains(purpose)) {
            return true;
        }
        let key = key.as_str();
        let mut ancestor = Some(key);
        while let Some(k) = ancestor {
            if for_purpose(k) {
                return true;
            }
            ancestor = k.rsplit_once('.').map(|(parent, _)| parent);
        }
        // Descendants follow their ancestor in key order, contiguously
        // (`.` sorts before every other key character).
        let after = self.keys.partition_point(|k| *k <= key);
        self.keys
            .get(after..)
            .unwrap_or_default()
            .iter()
            .take_while(|k| k.strip_prefix(key).is_some_and(|rest| rest.starts_with('.')))
            .any(|k| for_purpose(k))
    }
}

fn separate_required(policy: &Policy, purpose: &PurposeId, key: &CategoryKey) -> bool {
    policy.consent_requirements.iter().any(|r| {
        r.qualities.contains(ConsentQualities::SEPARATE)
            && r.actions.contains(&Action::Collect)
            && (r.purposes.is_empty() || r.purposes.contains(purpose))
            && (r.categories.is_empty() || r.categories.iter().any(|c| key.is_within(c)))
    })
}

/// Marks acknowledged warnings, and warns of acknowledgements that match
/// nothing.
fn acknowledge(policy: &Policy, mut out: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut used = BTreeSet::new();
    for d in out.iter_mut().filter(|d| d.severity == Severity::Warning) {
        if let Some(i) = policy.acknowledgement(d.code, &d.path) {
            d.acknowledged = true;
            used.insert(i);
        }
    }
    for (i, a) in policy.acknowledged_warnings.iter().enumerate() {
        if !used.contains(&i) {
            out.push(Diagnostic {
                severity: Severity::Warning,
                code: DiagnosticCode::StaleAcknowledgement,
                path: format!("/acknowledged_warnings/{i}"),
                message: format!("acknowledged warning `{}` at `{}` does not occur", a.code.as_str(), a.path),
                acknowledged: false,
            });
        }
    }
    out
}
