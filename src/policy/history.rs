//! A policy's successive versions ([`PolicyHistory`]): the same policy id,
//! distinct versions, strictly increasing `effective` times; and what each
//! revision asks of the consents given under the version before it
//! ([`FreshConsent`]s, from [`fresh_consents`]).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{Diagnostic, DiagnosticCode, FreshConsent, Policy, Severity, Validated};
use crate::error::Error;
use crate::ids::PolicyId;

/// The successive versions of one policy, oldest first.
///
/// Every version has the same `id`, its own `version` string, and an
/// `effective` time later than the one before it; a version is in force from
/// its `effective` time until the next one's. Archived versions stay
/// readable: [`version`](Self::version) finds one by its version string,
/// [`in_force`](Self::in_force) the one in force at a time.
///
/// Read one from a history document (`{"versions": [policy, ...]}`, see
/// `docs/policy-format.md`) with [`PolicyHistory::from_json`], or build one
/// from policies with [`PolicyHistory::new`]; an
/// [`Engine::from_history`](crate::Engine::from_history) decides each
/// request under the version in force at its time.
///
/// # Example
///
/// ```
/// use privacy_engine::{Policy, PolicyHistory};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let v1 = Policy::from_json(include_str!("../../examples/policies/seed-004.json"))?;
/// let mut v2 = v1.clone();
/// v2.version = "2024-01-01".into();
/// v2.effective = "2024-01-01T00:00:00+08:00".parse()?;
/// let history = PolicyHistory::new(vec![v1, v2])?;
/// assert_eq!(history.in_force("2023-06-01T00:00:00Z".parse()?).map(|p| p.version.as_str()), Some("2021-08-20"));
/// assert!(history.version("2021-08-20").is_some()); // archived, still readable
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct PolicyHistory {
    /// The versions before the latest, oldest first.
    earlier: Vec<Validated>,
    latest: Validated,
}

/// The JSON form of a history document.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryDoc {
    versions: Vec<serde_json::Value>,
}

impl PolicyHistory {
    /// A history of `versions`, oldest first, each validated.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Invalid`](crate::ErrorKind::Invalid) when there is no
    /// version, when a version is invalid (its diagnostics, their paths
    /// under `/versions/<i>`), or when the versions are not of one policy
    /// (`history-policy-id` at `/versions/<i>/id`), repeat a version string
    /// (`duplicate-version` at `/versions/<i>/version`) or do not take effect
    /// in strictly increasing order (`effective-order` at
    /// `/versions/<i>/effective`).
    pub fn new(versions: Vec<Policy>) -> Result<PolicyHistory, Error> {
        let mut validated = Vec::with_capacity(versions.len());
        for (i, policy) in versions.into_iter().enumerate() {
            validated.push(policy.validated().map_err(|e| e.under(&format!("/versions/{i}")))?);
        }
        Self::checked(validated)
    }

    /// Parses and validates a history document: `{"versions": [policy,
    /// ...]}`, each version a policy document, oldest first.
    ///
    /// # Errors
    ///
    /// A syntax or format error of the document, each version's errors as
    /// [`Policy::from_json`] gives them (with their paths under
    /// `/versions/<i>`), and those of [`new`](Self::new).
    pub fn from_json(json: &str) -> Result<PolicyHistory, Error> {
        use crate::limits::{MAX_POLICY_BYTES, oversized};
        if let Some(message) = oversized("policy history document", json.len(), MAX_POLICY_BYTES) {
            return Err(Error::over_limit(crate::ErrorKind::Format, "/".to_owned(), message));
        }
        let value: serde_json::Value = serde_json::from_str(json).map_err(Error::syntax)?;
        let doc: HistoryDoc = serde_json::from_value(value).map_err(|e| Error::format("/".to_owned(), e))?;
        let mut validated = Vec::with_capacity(doc.versions.len());
        for (i, version) in doc.versions.iter().enumerate() {
            let parsed = Validated::from_json(&version.to_string()).map_err(|e| e.under(&format!("/versions/{i}")))?;
            validated.push(parsed);
        }
        Self::checked(validated)
    }

    /// Checks that validated versions form one history.
    fn checked(mut versions: Vec<Validated>) -> Result<PolicyHistory, Error> {
        let mut found = Vec::new();
        let mut error = |code, path: String, message: String| {
            found.push(Diagnostic { severity: Severity::Error, code, path, message, acknowledged: false });
        };
        let Some(first) = versions.first() else {
            error(DiagnosticCode::EmptyList, "/versions".to_owned(), "a policy history has no version".to_owned());
            return Err(Error::invalid(found));
        };
        let id = &first.policy.id;
        let mut seen = BTreeSet::new();
        for (i, v) in versions.iter().enumerate() {
            let p = &v.policy;
            if p.id != *id {
                let message = format!("version `{}` is of policy `{}`, not `{id}`", p.version, p.id);
                error(DiagnosticCode::HistoryPolicyId, format!("/versions/{i}/id"), message);
            }
            if !seen.insert(p.version.as_str()) {
                let message = format!("version `{}` of policy `{id}` appears twice", p.version);
                error(DiagnosticCode::DuplicateVersion, format!("/versions/{i}/version"), message);
            }
            let previous = i.checked_sub(1).and_then(|j| versions.get(j));
            if let Some(before) = previous.filter(|b| b.policy.effective >= p.effective) {
                let message = format!(
                    "version `{}` takes effect no later than version `{}` before it",
                    p.version, before.policy.version
                );
                error(DiagnosticCode::EffectiveOrder, format!("/versions/{i}/effective"), message);
            }
        }
        match versions.pop() {
            Some(latest) if found.is_empty() => Ok(PolicyHistory { earlier: versions, latest }),
            _ => Err(Error::invalid(found)),
        }
    }

    /// The policy's id.
    pub fn id(&self) -> &PolicyId {
        &self.latest().id
    }

    /// Every version, oldest first.
    pub fn versions(&self) -> impl DoubleEndedIterator<Item = &Policy> {
        self.earlier.iter().chain(std::iter::once(&self.latest)).map(|v| &v.policy)
    }

    /// How many versions there are.
    pub fn len(&self) -> usize {
        self.earlier.len() + 1
    }

    /// Always `false`: a history has at least one version.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The version with this version string, archived or not.
    pub fn version(&self, version: &str) -> Option<&Policy> {
        self.versions().find(|p| p.version == version)
    }

    /// The version in force at `at`: the latest whose `effective` time is at
    /// or before it; `None` before the first version takes effect.
    pub fn in_force(&self, at: DateTime<Utc>) -> Option<&Policy> {
        self.versions().rev().find(|p| p.effective <= at)
    }

    /// The newest version.
    pub fn latest(&self) -> &Policy {
        &self.latest.policy
    }

    /// The versions, validated, each with the fresh consents its change
    /// from the version before asks for (none for the first): the earlier
    /// ones, oldest first, and the latest.
    pub(crate) fn into_revisions(self) -> (Vec<Revision>, Revision) {
        let mut earlier: Vec<Revision> = Vec::with_capacity(self.earlier.len());
        for v in self.earlier {
            let fresh = earlier.last().map(|(before, _)| fresh_consents(&before.policy, &v.policy)).unwrap_or_default();
            earlier.push((v, fresh));
        }
        let fresh = earlier.last().map(|(before, _)| fresh_consents(&before.policy, &self.latest.policy));
        (earlier, (self.latest, fresh.unwrap_or_default()))
    }
}

/// A validated version with the fresh consents it asks for.
pub(crate) type Revision = (Validated, Vec<FreshConsent>);

/// The fresh consents a revision from `old` to `new` asks for: those of the
/// change classification ([`diff`](super::diff())), the one place that
/// decides which grants a revision lets lapse.
fn fresh_consents(old: &Policy, new: &Policy) -> Vec<FreshConsent> {
    super::diff(old, new).fresh
}
