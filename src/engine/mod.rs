//! The engine: a policy compiled once into dense ids and bitsets, and the
//! evaluator that answers requests from it.

/// A built-in rule's id, made once per call site and borrowed after that.
macro_rules! builtin {
    ($name:literal) => {{
        static ID: std::sync::LazyLock<crate::ids::RuleId> =
            std::sync::LazyLock::new(|| crate::ids::RuleId::builtin($name));
        &*ID
    }};
}

/// A built-in rule's id as an owned value (a reference count).
macro_rules! builtin_id {
    ($name:literal) => {
        crate::ids::RuleId::clone(builtin!($name))
    };
}

mod bitset;
mod consent;
mod draft;
mod evaluate;
mod outcome;
mod provide;
mod retention;
mod ruling;

use crate::consent::ConsentStore;
use crate::decision::Decision;
use crate::error::Error;
use crate::ids::{IdMap, PurposeId, RecipientId, RuleId};
use crate::policy::{Action, Policy, RecipientKind};
use crate::request::Request;
use crate::taxonomy::{CategoryKey, Sensitivity, Taxonomy};

use std::sync::atomic::{AtomicU64, Ordering};

use bitset::BitSet;

pub use evaluate::Prepared;
pub use retention::{Due, RetentionPlanner, RetentionRecord};
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
/// let policy = Policy::from_json(include_str!("../../examples/policies/seed-004.json"))?;
/// let engine = Engine::new(policy)?;
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
    /// Which engine this is (see [`Prepared`]).
    stamp: u64,
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
    /// # Errors
    ///
    /// The policy's validation errors ([`ErrorKind::Invalid`](crate::ErrorKind::Invalid)).
    pub fn new(policy: Policy) -> Result<Engine, Error> {
        policy.validate()?;
        let taxonomy = policy.taxonomy();
        let mut cats = Vec::new();
        let mut cat_index = IdMap::default();
        for (key, info) in taxonomy.iter() {
            cat_index.insert(key.clone(), cats.len());
            cats.push(Cat {
                key: key.clone(),
                sensitivity: info.sensitivity,
                covering: Vec::new(),
                covering_ids: Vec::new(),
            });
        }
        for cat in &mut cats {
            let mut p = cat.key.parent();
            while let Some(a) = p {
                if taxonomy.get(&a).is_some_and(|i| i.sensitivity >= cat.sensitivity) {
                    cat.covering_ids.extend(cat_index.get(&a).copied());
                    cat.covering.push(a.clone());
                }
                p = a.parent();
            }
        }
        let n = cats.len();
        // `cats` is in key order, where a key's descendants follow it
        // contiguously (`.` sorts before every other key character).
        let within = |keys: &[CategoryKey]| -> BitSet {
            let mut set = BitSet::new(n);
            for k in keys {
                let Ok(start) = cats.binary_search_by(|c| c.key.cmp(k)) else { continue };
                for (i, c) in cats.iter().enumerate().skip(start) {
                    if !c.key.is_within(k) {
                        break;
                    }
                    set.insert(i);
                }
            }
            set
        };
        let within_opt = |keys: &[CategoryKey]| (!keys.is_empty()).then(|| within(keys));

        let purpose_index: IdMap<PurposeId, usize> =
            policy.purposes.iter().enumerate().map(|(i, p)| (p.id.clone(), i)).collect();
        let purpose_set = |ids: &[PurposeId]| -> BitSet {
            let mut set = BitSet::new(policy.purposes.len());
            for id in ids {
                if let Some(&i) = purpose_index.get(id) {
                    set.insert(i);
                }
            }
            set
        };
        let purpose_set_opt = |ids: &[PurposeId]| (!ids.is_empty()).then(|| purpose_set(ids));

        let purposes = policy.purposes.iter().map(|p| CPurpose { cats: within(&p.categories) }).collect();
        let recipients = policy
            .recipients
            .iter()
            .map(|r| CRecipient {
                cats: within(&r.categories),
                purposes: purpose_set(&r.purposes),
                at_home: r.region == policy.settings.home_region,
            })
            .collect();
        let recipient_index = policy.recipients.iter().enumerate().map(|(i, r)| (r.id.clone(), i)).collect();
        let requirements = policy
            .consent_requirements
            .iter()
            .map(|r| CRequirement {
                actions: r.actions.iter().fold(0, |m, a| m | action_bit(*a)),
                kinds: r.recipient_kinds.iter().fold(0, |m, k| m | kind_bit(*k)),
                cats: within_opt(&r.categories),
            })
            .collect();
        let retention: Vec<CRetention> = policy
            .retention
            .iter()
            .map(|r| CRetention { cats: within_opt(&r.categories), purposes: purpose_set_opt(&r.purposes) })
            .collect();
        let mut requirements_by_purpose = vec![Vec::new(); policy.purposes.len()];
        let mut requirements_any_purpose = Vec::new();
        for (i, r) in policy.consent_requirements.iter().enumerate() {
            if r.purposes.is_empty() {
                requirements_any_purpose.push(i);
            }
            for p in &r.purposes {
                if let Some(list) = purpose_index.get(p).and_then(|&pi| requirements_by_purpose.get_mut(pi)) {
                    list.push(i);
                }
            }
        }
        let mut retention_by_cat = vec![Vec::new(); n];
        for (i, r) in retention.iter().enumerate() {
            for (c, list) in retention_by_cat.iter_mut().enumerate() {
                if r.cats.as_ref().is_none_or(|s| s.contains(c)) {
                    list.push(i);
                }
            }
        }
        let purpose_rules = policy.purposes.iter().map(|p| RuleId::new(p.id.as_str())).collect();
        let recipient_rules = policy.recipients.iter().map(|r| RuleId::new(r.id.as_str())).collect();
        // For each action rule, the purposes of each of its data-state
        // entries (empty: any purpose).
        let data_state_purposes =
            policy.actions.iter().map(|a| a.data_states.iter().map(|ds| purpose_set(&ds.purposes)).collect()).collect();
        let mut action_rules = [None; 10];
        for (i, rule) in policy.actions.iter().enumerate() {
            if let Some(slot) = action_rules.get_mut(rule.action as usize) {
                *slot = Some(i);
            }
        }
        Ok(Engine {
            policy,
            taxonomy,
            cats,
            cat_index,
            purposes,
            purpose_index,
            recipients,
            recipient_index,
            requirements,
            requirements_by_purpose,
            requirements_any_purpose,
            retention_by_cat,
            purpose_rules,
            recipient_rules,
            action_rules,
            data_state_purposes,
            retention,
            stamp: NEXT_STAMP.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// Decides a request against the policy and the subject's consents.
    ///
    /// Never fails and never panics: anything the policy does not declare is
    /// denied with the reason. Reads no clock: the request carries its time.
    pub fn evaluate(&self, request: &Request, consents: &impl ConsentStore) -> Decision {
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
    /// let engine = Engine::new(Policy::from_json(include_str!("../../examples/policies/seed-004.json"))?)?;
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
        evaluate::prepare(self, request)
    }

    /// Decides a prepared request. The [`Ruling`] holds the whole decision
    /// as references into the policy and the request, and renders as the
    /// same [`Decision`] that [`Engine::evaluate`] gives. A request prepared
    /// by another engine is prepared again.
    #[inline(always)]
    pub fn decide<'a>(&'a self, prepared: &'a Prepared<'a>, consents: &impl ConsentStore) -> Ruling<'a> {
        evaluate::decide(self, prepared, consents)
    }

    /// The engine's stamp, which names its vocabulary.
    pub(crate) fn stamp(&self) -> u64 {
        self.stamp
    }

    /// The purposes, in the order of their ids.
    pub(crate) fn purpose_names(&self) -> impl Iterator<Item = &PurposeId> {
        self.policy.purposes.iter().map(|p| &p.id)
    }

    /// The categories, in the order of their ids.
    pub(crate) fn category_names(&self) -> impl Iterator<Item = &CategoryKey> {
        self.cats.iter().map(|c| &c.key)
    }

    /// The recipients, in the order of their ids.
    pub(crate) fn recipient_names(&self) -> impl Iterator<Item = &RecipientId> {
        self.policy.recipients.iter().map(|r| &r.id)
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
                cr.cats.contains(c) && !matches!(r.kind, RecipientKind::Public | RecipientKind::Controller)
            })
            .map(|(_, r)| r.id.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    /// The policy the engine was built from.
    pub fn policy(&self) -> &Policy {
        &self.policy
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
