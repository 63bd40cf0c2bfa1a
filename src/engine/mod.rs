//! The engine: a policy compiled once into dense ids and bitsets, and the
//! evaluator that answers requests from it.
//!
//! Its files depend on each other one way only (each on those listed before
//! it; all read the compiled [`Engine`] of this file):
//!
//! 1. `bitset`, `draft`: the vocabulary a decision is recorded in while it
//!    is made (borrowed ids, message templates, [`ObligationRef`] and
//!    [`UnmetRef`], the compact forms of [`Obligation`] and [`Unmet`]);
//!    `named`: the purposes and recipients a consent may name, compiled
//!    after the declared ones;
//! 2. `outcome` (rendering a decision), then `ruling` (the verdict, once);
//! 3. `prepare`: a request resolved to ids, with the request-level checks;
//! 4. `ctx`: what every category check reads, and the checks that several
//!    actions share; then `consent` (the consent a category needs);
//! 5. `provide` (the providing actions) and `retention` (retain, delete,
//!    anonymise; the deadlines come from [`crate::retention`]);
//! 6. `evaluate`: prepares, decides each category, renders.
//!
//! [`ObligationRef`]: draft::ObligationRef
//! [`UnmetRef`]: draft::UnmetRef
//! [`Obligation`]: crate::Obligation
//! [`Unmet`]: crate::Unmet

/// A built-in rule's id, `builtin.<name>`: the one way the engine names its
/// own rules. Made once per call site and borrowed after that (`.clone()`
/// for an owned id, a reference count).
macro_rules! builtin {
    ($name:literal) => {{
        static ID: std::sync::LazyLock<crate::ids::RuleId> =
            std::sync::LazyLock::new(|| crate::ids::RuleId::builtin($name));
        &*ID
    }};
}

mod bitset;
mod compile;
mod consent;
mod ctx;
mod draft;
mod evaluate;
mod index;
mod named;
mod outcome;
mod prepare;
mod provide;
mod retention;
mod ruling;

use crate::calendar::{BeyondData, WorkingCalendar};
use crate::consent::{CompactLedger, ConsentStore};
use crate::decision::Decision;
use crate::error::Error;
use crate::ids::{PurposeId, RecipientId, RuleId, SubjectId};
use crate::lifecycle::{LifecycleAnswer, LifecycleEvent, LifecycleRequest};
use crate::policy::{Action, Policy, PolicyHistory, RecipientKind, Validated};
use crate::request::Request;
use crate::rights::{Holding, RightsAnswer, RightsRequest};
use crate::taxonomy::{CategoryKey, Sensitivity, Taxonomy};

use std::sync::atomic::AtomicU64;

use bitset::BitSet;
use index::IdMap;

pub use prepare::Prepared;
pub use ruling::Ruling;

/// Numbers engines, so a prepared request is decided only by the engine
/// that prepared it.
static NEXT_STAMP: AtomicU64 = AtomicU64::new(0);

/// A compiled policy that answers requests.
///
/// `Engine::new` validates the policy and compiles categories, purposes,
/// recipients and rules to dense ids and bitsets, once. The engine is
/// immutable, `Send` and `Sync`: share it behind an `Arc`, and swap in a new
/// engine for a new policy version.
///
/// # Example
///
/// ```
/// use privacy_engine::{Action, Engine, InMemoryLedger, Policy, Request, Subject, CategoryKey};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let engine = Engine::from_json(include_str!("../../examples/policies/seed-004.json"))?;
/// let ledger = InMemoryLedger::new();
/// let request = Request::new(
///     Action::Collect,
///     Subject::new("u-1").age(30),
///     vec![CategoryKey::new("user.contact.phone_number")?],
///     "2024-05-01T10:00:00+08:00".parse()?,
/// )
/// .purpose("registration_login");
/// let decision = engine.evaluate(&request, &ledger);
/// assert!(decision.is_permit());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Engine {
    policy: Policy,
    taxonomy: Taxonomy,
    cats: Vec<Cat>,
    cat_index: IdMap<CategoryKey, usize>,
    purposes: Vec<CPurpose>,
    purpose_index: IdMap<PurposeId, usize>,
    recipients: Vec<CRecipient>,
    recipient_index: IdMap<RecipientId, usize>,
    requirements: Vec<CRequirement>,
    /// For each purpose, the requirements that name it; then those that
    /// name no purpose.
    requirements_by_purpose: Vec<Vec<usize>>,
    requirements_any_purpose: Vec<usize>,
    /// For each category, the retention rules that cover it.
    retention_by_cat: Vec<Vec<usize>>,
    /// Purposes and recipients as the rule ids reasons name them by.
    purpose_rules: Vec<RuleId>,
    recipient_rules: Vec<RuleId>,
    action_rules: [Option<usize>; 10],
    /// For each action rule, the purposes of each of its `data_states`
    /// entries, as ids.
    data_state_purposes: Vec<Vec<BitSet>>,
    retention: Vec<CRetention>,
    /// For each action rule, whether each exception may permit: its ground
    /// has a PIPL basis, or the policy acknowledges that it has none.
    exceptions_usable: Vec<Vec<bool>>,
    /// The purposes and recipients a consent may name (`named_in_consent`),
    /// numbered after the declared ones in `purposes` and `recipients`.
    named: named::NamedRoutes,
    /// Which engine this is (see [`Prepared`]).
    stamp: u64,
    /// The version strings of the policy's history, oldest first, and this
    /// version's place among them; one for an engine of a single policy.
    versions: Vec<String>,
    version_index: usize,
    /// For each purpose, the revisions after which earlier grants stop
    /// covering it (empty when no revision does, as for a single policy).
    lapses: Vec<Vec<compile::Lapse>>,
    /// The same for purposes this version does not declare (a consent may
    /// name them, `named_in_consent`), by name.
    named_lapses: Vec<(PurposeId, Vec<compile::Lapse>)>,
    /// The history's earlier versions, compiled, oldest first: only the
    /// engine of the latest version has them.
    earlier: Vec<Engine>,
}

/// A compiled category.
#[derive(Debug)]
struct Cat {
    key: CategoryKey,
    sensitivity: Sensitivity,
    /// Ancestors whose consent grants cover this category (same or higher
    /// sensitivity), nearest first.
    covering: Vec<CategoryKey>,
    /// The same, as ids.
    covering_ids: Vec<usize>,
}

#[derive(Debug)]
struct CPurpose {
    /// Every category within the purpose's categories.
    cats: BitSet,
}

#[derive(Debug)]
struct CRecipient {
    cats: BitSet,
    purposes: BitSet,
    /// Whether its region is the policy's home region.
    at_home: bool,
}

#[derive(Debug)]
struct CRequirement {
    actions: u16,
    /// The recipient kinds it applies to, one bit each; 0: any request.
    kinds: u16,
    /// `None`: every category.
    cats: Option<BitSet>,
}

#[derive(Debug)]
struct CRetention {
    cats: Option<BitSet>,
    purposes: Option<BitSet>,
}

fn action_bit(a: Action) -> u16 {
    1 << (a as u16)
}

fn kind_bit(k: RecipientKind) -> u16 {
    1 << (k as u16)
}

impl Engine {
    /// Validates and compiles a policy.
    ///
    /// The policy is validated here, once, whether or not it was validated
    /// before: its fields are public and may have changed since. To load a
    /// document with one validation, use [`Engine::from_json`].
    ///
    /// # Errors
    ///
    /// The policy's validation errors ([`ErrorKind::Invalid`](crate::ErrorKind::Invalid)).
    pub fn new(policy: Policy) -> Result<Engine, Error> {
        Ok(compile::compile(policy.validated()?))
    }

    /// Parses, validates and compiles a policy document: the same as
    /// `Engine::new(Policy::from_json(json)?)` with one validation instead
    /// of two.
    ///
    /// # Errors
    ///
    /// As [`Policy::from_json`].
    pub fn from_json(json: &str) -> Result<Engine, Error> {
        Ok(compile::compile(Validated::from_json(json)?))
    }

    /// Compiles every version of a policy's history, once: the engine
    /// decides each request under the version in force at its time (chosen
    /// when the request is prepared), and denies one dated before the first
    /// version takes effect (`builtin.no_policy_in_force`). A grant counts
    /// only if it was given under this policy, in a version whose grants
    /// still cover the version deciding: see [`FreshConsent`](crate::FreshConsent).
    ///
    /// [`policy`](Self::policy) is then the latest version, and
    /// [`versions`](Self::versions) lists them all.
    ///
    /// # Errors
    ///
    /// None today: a [`PolicyHistory`] is validated when it is made. The
    /// `Result` leaves room for compile-time checks across versions.
    ///
    /// # Example
    ///
    /// ```
    /// use privacy_engine::{Action, CategoryKey, Engine, InMemoryLedger, Policy, PolicyHistory, Request, Subject};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let v1 = Policy::from_json(include_str!("../../examples/policies/seed-004.json"))?;
    /// let mut v2 = v1.clone();
    /// v2.version = "2024-01-01".into();
    /// v2.effective = "2024-01-01T00:00:00+08:00".parse()?;
    /// let engine = Engine::from_history(PolicyHistory::new(vec![v1, v2])?)?;
    /// let request = Request::new(
    ///     Action::Collect,
    ///     Subject::new("u-1").age(30),
    ///     vec![CategoryKey::new("user.contact.phone_number")?],
    ///     "2023-05-01T10:00:00+08:00".parse()?,
    /// )
    /// .purpose("registration_login");
    /// let decision = engine.evaluate(&request, &InMemoryLedger::new());
    /// assert_eq!(decision.policy_version.as_deref(), Some("2021-08-20"));
    /// # Ok(()) }
    /// ```
    pub fn from_history(history: PolicyHistory) -> Result<Engine, Error> {
        Ok(compile::compile_history(history))
    }

    /// Decides a request against the policy and the subject's consents.
    ///
    /// Never fails and never panics: anything the policy does not declare is
    /// denied with the reason. Reads no clock: the request carries its time,
    /// and the version in force at that time decides.
    pub fn evaluate(&self, request: &Request, consents: &impl ConsentStore) -> Decision {
        evaluate::evaluate(self.version_at(request.at.with_timezone(&chrono::Utc)), request, consents)
    }

    /// Answers a rights request (docs/rights.md): per category held (or
    /// per purpose, for a withdrawal or a refusal of optional data) accepted,
    /// restricted or refused, each item with its ground, its clause and the
    /// source it came from; the answer as a whole, the duties that come with
    /// it, and the deadline on `calendar` (the policy's home region's).
    ///
    /// `held` is what the application holds about the request's subject
    /// (from the caller's [`Holdings`](crate::Holdings)); `consents` is the
    /// ledger, read as of the request's `at` as [`Engine::evaluate`] reads
    /// it. The policy version in force at `at` decides. A deadline that
    /// runs past the calendar's data is `None` with `deadline_error`, unless
    /// `beyond` assumes weekdays (then the assumption is in the due date).
    ///
    /// Pure: reads no clock and no file, and never panics.
    ///
    /// # Example
    ///
    /// ```
    /// use privacy_engine::{
    ///     AnswerOutcome, BeyondData, CaseId, CategoryKey, DueDate, Engine, Holding, HoldingOrigin, Identity,
    ///     InMemoryLedger, NaiveDate, RightsRequest, RightsRequestKind, SubjectId, Uuid, WorkingCalendar,
    /// };
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// struct Weekdays;
    /// impl WorkingCalendar for Weekdays {
    ///     fn version(&self) -> &str { "weekdays" }
    ///     fn is_working_day(&self, d: NaiveDate) -> Option<bool> {
    ///         use chrono::Datelike;
    ///         Some(d.weekday().number_from_monday() <= 5)
    ///     }
    ///     fn is_business_day(&self, d: NaiveDate) -> Option<bool> { self.is_working_day(d) }
    /// }
    /// let engine = Engine::from_json(include_str!("../../examples/policies/seed-004.json"))?;
    /// let held = [Holding::new(CategoryKey::new("user.contact.phone_number")?, HoldingOrigin::Provided)];
    /// let mut request: RightsRequest = serde_json::from_str(r#"{
    ///     "case": "6f9619ff-8b86-d011-b42d-00c04fc964ff", "subject": "u-1",
    ///     "right": {"kind": "access"},
    ///     "received": "2024-05-06T10:00:00+08:00", "at": "2024-05-06T10:00:00+08:00",
    ///     "identity": "verified"
    /// }"#)?;
    /// let answer = engine.answer(&request, &held, &InMemoryLedger::new(), &Weekdays, BeyondData::Refuse);
    /// assert_eq!(answer.outcome, AnswerOutcome::Accepted);
    /// request.identity = Identity::Unverified;
    /// let answer = engine.answer(&request, &held, &InMemoryLedger::new(), &Weekdays, BeyondData::Refuse);
    /// assert_eq!(answer.outcome, AnswerOutcome::Suspended);
    /// # Ok(()) }
    /// ```
    pub fn answer(
        &self,
        request: &RightsRequest,
        held: &[Holding],
        consents: &impl ConsentStore,
        calendar: &dyn WorkingCalendar,
        beyond: BeyondData,
    ) -> RightsAnswer {
        let at = request.at.to_utc();
        let engine = self.version_at(at);
        let granted = |purpose: &PurposeId, category: &CategoryKey| {
            engine.grant_in_force(consents, &request.subject, purpose, category, at)
        };
        let inputs =
            crate::rights::Inputs { policy: &engine.policy, request, held, granted: &granted, calendar, beyond };
        crate::rights::answer(&inputs)
    }

    /// Decides a lifecycle request (docs/lifecycle.md): a cancellation, the
    /// controller's termination of the service, inactivity, or a
    /// reactivation. `held` is what the caller holds about the subject (for
    /// a termination: the categories held about anyone), `events` the
    /// subject's earlier lifecycle events (a second cancellation is
    /// refused), `consents` the ledger the grants in force are read from.
    /// Pure: no clock, no I/O; the policy version in force at the
    /// request's `at` decides.
    pub fn lifecycle(
        &self,
        request: &LifecycleRequest,
        held: &[Holding],
        events: &[LifecycleEvent],
        consents: &impl ConsentStore,
    ) -> LifecycleAnswer {
        let at = request.at().to_utc();
        let engine = self.version_at(at);
        let nobody = SubjectId::from("");
        let subject = request.subject().unwrap_or(&nobody);
        let granted = |purpose: &PurposeId, category: &CategoryKey| {
            engine.grant_in_force(consents, subject, purpose, category, at)
        };
        let inputs = crate::lifecycle::Inputs { policy: &engine.policy, request, held, events, granted: &granted };
        crate::lifecycle::decide(&inputs)
    }

    /// The compiled version in force at `at`, or the first version if none
    /// is yet (its preparation then denies the request).
    pub(crate) fn version_at(&self, at: chrono::DateTime<chrono::Utc>) -> &Engine {
        if self.policy.effective <= at {
            return self;
        }
        self.earlier.iter().rev().find(|e| e.policy.effective <= at).or(self.earlier.first()).unwrap_or(self)
    }

    /// The compiled version that made `stamp`, if it is one of this
    /// engine's.
    fn by_stamp(&self, stamp: u64) -> Option<&Engine> {
        if self.stamp == stamp {
            return Some(self);
        }
        self.earlier.iter().find(|e| e.stamp == stamp)
    }

    /// The compiled version with this version string.
    pub(crate) fn version(&self, version: &str) -> Option<&Engine> {
        std::iter::once(self).chain(&self.earlier).find(|e| e.policy.version == version)
    }

    /// Decides a request under this compiled version, whichever is in force
    /// at its time (replay: the version a record names). Denied, as by
    /// [`evaluate`](Self::evaluate), if the version took effect after it.
    pub(crate) fn evaluate_here(&self, request: &Request, consents: &impl ConsentStore) -> Decision {
        evaluate::evaluate(self, request, consents)
    }

    /// Resolves a request's names (categories, purpose, recipient, action)
    /// to this engine's dense ids, once, and checks what does not depend on
    /// consent. [`Engine::decide`] then decides it without hashing or
    /// comparing a string.
    ///
    /// # Example
    ///
    /// ```
    /// use privacy_engine::{Action, Engine, InMemoryLedger, Policy, Request, Subject, CategoryKey};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let engine = Engine::from_json(include_str!("../../examples/policies/seed-004.json"))?;
    /// let request = Request::new(
    ///     Action::Collect,
    ///     Subject::new("u-1").age(30),
    ///     vec![CategoryKey::new("user.contact.phone_number")?],
    ///     "2024-05-01T10:00:00+08:00".parse()?,
    /// )
    /// .purpose("registration_login");
    /// let prepared = engine.prepare(&request);
    /// let ruling = engine.decide(&prepared, &InMemoryLedger::new());
    /// assert_eq!(ruling.to_decision(), engine.evaluate(&request, &InMemoryLedger::new()));
    /// # Ok(()) }
    /// ```
    pub fn prepare<'r>(&self, request: &'r Request) -> Prepared<'r> {
        prepare::prepare(self.version_at(request.at.with_timezone(&chrono::Utc)), request)
    }

    /// Decides a prepared request. The [`Ruling`] holds the whole decision
    /// as references into the policy and the request, and renders as the
    /// same [`Decision`] that [`Engine::evaluate`] gives. A request prepared
    /// by another engine is prepared again.
    #[inline(always)]
    pub fn decide<'a>(&'a self, prepared: &'a Prepared<'a>, consents: &impl ConsentStore) -> Ruling<'a> {
        let engine = match self.by_stamp(prepared.stamp) {
            Some(e) => e,
            None => self.version_at(prepared.at),
        };
        evaluate::decide(engine, prepared, consents)
    }

    /// Binds a [`CompactLedger`] to this engine: the engine's look-ups
    /// then find purposes, categories and recipients in the ledger by the
    /// engine's own numbering instead of by their names. The answers are the
    /// same; look-ups by another engine, or by a caller, use the names.
    /// Events appended after binding are translated as they come; binding
    /// again replaces the binding. An engine of a history binds the ledger
    /// to the ids of each of its versions.
    ///
    /// # Example
    ///
    /// ```
    /// use privacy_engine::{Action, CategoryKey, CompactLedger, Engine, Request, Subject};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let engine = Engine::from_json(include_str!("../../examples/policies/seed-004.json"))?;
    /// let mut ledger = CompactLedger::new();
    /// engine.bind_ledger(&mut ledger);
    /// // Append events as usual, then decide with the engine.
    /// let mut request = Request::new(
    ///     Action::Collect,
    ///     Subject::new("u-1"),
    ///     vec![CategoryKey::new("user.biometric.face")?],
    ///     "2024-05-01T10:00:00+08:00".parse()?,
    /// )
    /// .purpose("face_verification");
    /// request.subject.age = Some(30);
    /// assert_eq!(engine.evaluate(&request, &ledger), engine.evaluate(&request, &CompactLedger::new()));
    /// # Ok(()) }
    /// ```
    pub fn bind_ledger(&self, ledger: &mut CompactLedger) {
        ledger.unbind();
        for e in std::iter::once(self).chain(&self.earlier) {
            ledger.bind(
                e.stamp,
                e.policy.purposes.iter().map(|p| &p.id),
                e.cats.iter().map(|c| &c.key),
                e.policy.recipients.iter().map(|r| &r.id),
                (&e.policy.id, &e.versions),
            );
        }
    }

    /// The recipients that may have received a category (those whose
    /// categories cover it), for telling them to delete it.
    fn recipients_of(&self, key: &CategoryKey) -> Vec<RecipientId> {
        let Some(&c) = self.cat_index.get(key) else {
            return Vec::new();
        };
        self.recipients
            .iter()
            .zip(&self.policy.recipients)
            .filter(|(cr, r)| {
                cr.cats.contains(c)
                    && !matches!(r.kind, RecipientKind::Public | RecipientKind::Controller | RecipientKind::DataSubject)
            })
            .map(|(_, r)| r.id.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    /// The policy the engine was built from; for an engine of a history,
    /// its latest version.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Every version the engine decides under, oldest first: the one policy
    /// of [`Engine::new`], or each version of [`Engine::from_history`].
    pub fn versions(&self) -> impl Iterator<Item = &Policy> {
        self.earlier.iter().chain(std::iter::once(self)).map(|e| &e.policy)
    }

    /// The taxonomy the engine uses.
    pub fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Engine>();
    }
}
