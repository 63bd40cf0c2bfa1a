//! Settings that widen what a policy permits beyond what its regime allows:
//! each raises a warning naming the risk and the regime it departs from,
//! which a policy may acknowledge like any other warning.
//!
//! A regime that reads a setting as permitted switches its warning off
//! ([`Regime::permits`]); PIPL is the only regime so far, and reads none of
//! them so. The jurisdiction settings will add regimes to [`Regime`].

use std::collections::HashMap;

use super::validate::DiagnosticCode;
use super::{ActionRule, Policy, PurposeBasis, RecipientKind, UnknownAge};
use crate::taxonomy::{CategoryKey, Sensitivity, Taxonomy};

/// The age below which PIPL counts a person as a child (arts. 28 and 31).
const PIPL_CHILD_AGE: u8 = 14;

/// A setting that widens what is permitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Widening {
    /// A core purpose covers a whole root of the taxonomy, sensitive
    /// categories included.
    CoreCoversSensitive,
    /// Subjects of unknown age are treated as adults.
    UnknownAgeAdult,
    /// A providing action goes to recipients for core purposes with no
    /// agreement asked of them.
    CoreProvidingWithoutAgreement,
    /// A guardian's consent is asked below an age lower than the regime's.
    LowGuardianAge,
    /// Children's data is not treated as sensitive.
    ChildDataNotSensitive,
}

impl Widening {
    /// The code of its warning.
    pub(super) fn code(self) -> DiagnosticCode {
        match self {
            Self::CoreCoversSensitive => DiagnosticCode::CoreCoversSensitive,
            Self::UnknownAgeAdult => DiagnosticCode::UnknownAgeAdult,
            Self::CoreProvidingWithoutAgreement => DiagnosticCode::CoreProvidingWithoutAgreement,
            Self::LowGuardianAge => DiagnosticCode::LowGuardianAge,
            Self::ChildDataNotSensitive => DiagnosticCode::ChildDataNotSensitive,
        }
    }
}

/// A reading of the law that a policy's settings are checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Regime {
    /// The PRC Personal Information Protection Law.
    Pipl,
}

impl Regime {
    /// The regime a policy is read under: PIPL, until a setting names
    /// another.
    pub(super) fn of(_policy: &Policy) -> Self {
        Self::Pipl
    }

    /// Whether the regime reads a widening as permitted, so that it raises
    /// no warning.
    fn permits(self, widening: Widening) -> bool {
        match (self, widening) {
            (Self::Pipl, _) => false,
        }
    }
}

/// One widening found: what, where, and the warning's text.
pub(super) type Found = (DiagnosticCode, String, String);

/// A widening, where it is, and the warning's text.
type Candidate = (Widening, String, String);

/// The widenings of a policy that its regime does not permit.
pub(super) fn widenings(policy: &Policy, taxonomy: &Taxonomy) -> Vec<Found> {
    let regime = Regime::of(policy);
    let mut all = core_covers_sensitive(policy, taxonomy);
    all.extend(settings(policy));
    all.extend(core_providing(policy));
    all.into_iter()
        .filter(|(w, _, _)| !regime.permits(*w))
        .map(|(w, path, message)| (w.code(), path, message))
        .collect()
}

/// Core purposes that name a whole root of the taxonomy with sensitive
/// categories below it.
fn core_covers_sensitive(policy: &Policy, taxonomy: &Taxonomy) -> Vec<Candidate> {
    // For each root of the taxonomy, its first sensitive category.
    let mut sensitive: HashMap<&str, &CategoryKey> = HashMap::new();
    for (k, _) in taxonomy.iter().filter(|(_, info)| info.sensitivity == Sensitivity::Sensitive) {
        let root = k.as_str().split('.').next().unwrap_or_default();
        sensitive.entry(root).or_insert(k);
    }
    let mut out = Vec::new();
    for (i, p) in policy.purposes.iter().enumerate().filter(|(_, p)| p.basis == PurposeBasis::Core) {
        for (j, k) in p.categories.iter().enumerate() {
            if let Some(s) = sensitive.get(k.as_str()) {
                out.push((
                    Widening::CoreCoversSensitive,
                    format!("/purposes/{i}/categories/{j}"),
                    format!(
                        "core purpose `{}` covers every category within `{k}`, sensitive ones such as `{s}` included, and collects them without consent, where PIPL art. 29 asks separate consent for sensitive personal information",
                        p.id
                    ),
                ));
            }
        }
    }
    out
}

/// The age settings that widen what is permitted.
fn settings(policy: &Policy) -> Vec<Candidate> {
    let mut out = Vec::new();
    if policy.settings.unknown_age == UnknownAge::Adult {
        out.push((
            Widening::UnknownAgeAdult,
            "/settings/unknown_age".to_owned(),
            format!(
                "a subject of unknown age is treated as an adult, so a child's data may be processed without a guardian's consent, where PIPL art. 31 asks it below {PIPL_CHILD_AGE}"
            ),
        ));
    }
    if !policy.settings.child_data_sensitive {
        out.push((
            Widening::ChildDataNotSensitive,
            "/settings/child_data_sensitive".to_owned(),
            format!(
                "children's data is not treated as sensitive, where PIPL art. 28 counts the personal information of a child under {PIPL_CHILD_AGE} as sensitive"
            ),
        ));
    }
    if let Some(m) = policy.minors.as_ref().filter(|m| m.guardian_consent_below < PIPL_CHILD_AGE) {
        out.push((
            Widening::LowGuardianAge,
            "/minors/guardian_consent_below".to_owned(),
            format!(
                "a guardian's consent is asked only below age {}, so older children consent alone, where PIPL art. 31 asks it below {PIPL_CHILD_AGE}",
                m.guardian_consent_below
            ),
        ));
    }
    out
}

/// Providing rules that permit core purposes to recipients they ask no
/// agreement of.
fn core_providing(policy: &Policy) -> Vec<Candidate> {
    let unbound = policy.actions.iter().enumerate().filter_map(|(i, a)| Some((i, a, unbound_core_recipients(a)?)));
    unbound
        .map(|(i, a, kinds)| {
            (
                Widening::CoreProvidingWithoutAgreement,
                format!("/actions/{i}/recipient_requires"),
                format!(
                    "rule `{}` provides data for core purposes without consent to {kinds} with no agreement asked of them, where PIPL art. 23 asks the person's separate consent to provide personal information to another handler",
                    a.id
                ),
            )
        })
        .collect()
}

/// The recipient kinds an agreement can be asked of (an authority, the
/// public and the controller itself never are).
const ASKABLE: [RecipientKind; 7] = [
    RecipientKind::Affiliate,
    RecipientKind::Processor,
    RecipientKind::Partner,
    RecipientKind::Merchant,
    RecipientKind::Advertiser,
    RecipientKind::Sdk,
    RecipientKind::Acquirer,
];

/// For a providing rule that permits core purposes without consent, which
/// recipients it asks no agreement of, as text; `None` if it asks every one.
fn unbound_core_recipients(a: &ActionRule) -> Option<&'static str> {
    if !a.action.has_recipient() || !a.core_purposes {
        return None;
    }
    if a.recipient_requires.is_empty() {
        return Some("any recipient");
    }
    let admitted = |k: &RecipientKind| a.recipient_kinds.is_empty() || a.recipient_kinds.contains(k);
    let asked = |k: &RecipientKind| a.recipient_requires_kinds.is_empty() || a.recipient_requires_kinds.contains(k);
    ASKABLE.iter().any(|k| admitted(k) && !asked(k)).then_some("recipients of kinds outside `recipient_requires_kinds`")
}
