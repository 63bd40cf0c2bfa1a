//! Compiling a validated policy into an [`Engine`]: categories, purposes,
//! recipients and rules as dense ids and bitsets, once.

use std::sync::atomic::Ordering;

use super::bitset::BitSet;
use super::index::IdMap;
use super::{CPurpose, CRecipient, CRequirement, CRetention, Cat, Engine, NEXT_STAMP, action_bit, kind_bit};
use crate::ids::{PurposeId, RecipientId, RuleId};
use crate::policy::{FreshConsent, Policy, PolicyHistory, Validated};
use crate::taxonomy::{CategoryKey, Taxonomy};

/// Compiles what validation produced.
pub(super) fn compile(validated: Validated) -> Engine {
    let (policy, taxonomy) = validated.into_parts();
    let (cats, cat_index) = categories(&taxonomy);
    let purpose_index: IdMap<PurposeId, usize> =
        policy.purposes.iter().enumerate().map(|(i, p)| (p.id.clone(), i)).collect();
    let sets =
        Sets { cats: &cats, cat_index: &cat_index, purposes: &purpose_index, purpose_count: policy.purposes.len() };
    let mut purposes: Vec<CPurpose> =
        policy.purposes.iter().map(|p| CPurpose { cats: sets.within(&p.categories) }).collect();
    let mut recipients: Vec<CRecipient> = policy
        .recipients
        .iter()
        .map(|r| CRecipient {
            cats: sets.within(&r.categories),
            purposes: sets.purposes(&r.purposes),
            at_home: r.region == policy.settings.home_region,
        })
        .collect();
    let (named, named_purposes, named_recipients) =
        super::named::compile(&policy, |keys| sets.within(keys), |ids| sets.purposes(ids));
    purposes.extend(named_purposes);
    recipients.extend(named_recipients);
    let recipient_index: IdMap<RecipientId, usize> =
        policy.recipients.iter().enumerate().map(|(i, r)| (r.id.clone(), i)).collect();
    let requirements = policy
        .consent_requirements
        .iter()
        .map(|r| CRequirement {
            actions: r.actions.iter().fold(0, |m, a| m | action_bit(*a)),
            kinds: r.recipient_kinds.iter().fold(0, |m, k| m | kind_bit(*k)),
            cats: sets.within_opt(&r.categories),
        })
        .collect();
    let retention: Vec<CRetention> = policy
        .retention
        .iter()
        .map(|r| CRetention { cats: sets.within_opt(&r.categories), purposes: sets.purposes_opt(&r.purposes) })
        .collect();
    let (requirements_by_purpose, requirements_any_purpose) = requirements_by_purpose(&policy, &purpose_index);
    // For each action rule, the purposes of each of its data-state entries
    // (empty: any purpose).
    let data_state_purposes =
        policy.actions.iter().map(|a| a.data_states.iter().map(|ds| sets.purposes(&ds.purposes)).collect()).collect();
    Engine {
        retention_by_cat: retention_by_cat(&retention, cats.len()),
        exceptions_usable: exceptions_usable(&policy),
        purpose_rules: policy.purposes.iter().map(|p| RuleId::new(p.id.as_str())).collect(),
        recipient_rules: (policy.recipients.iter().map(|r| RuleId::new(r.id.as_str())))
            .chain(named.recipients.iter().map(|(r, _)| RuleId::new(r.id.as_str())))
            .collect(),
        named,
        action_rules: action_rules(&policy),
        data_state_purposes,
        cats,
        cat_index,
        purposes,
        purpose_index,
        recipients,
        recipient_index,
        requirements,
        requirements_by_purpose,
        requirements_any_purpose,
        retention,
        versions: vec![policy.version.clone()],
        version_index: 0,
        lapses: Vec::new(),
        named_lapses: Vec::new(),
        earlier: Vec::new(),
        policy,
        taxonomy,
        stamp: NEXT_STAMP.fetch_add(1, Ordering::Relaxed),
    }
}

/// For each action rule, which of its exceptions may permit: those on a
/// ground with a PIPL basis, and those the policy acknowledges.
fn exceptions_usable(policy: &Policy) -> Vec<Vec<bool>> {
    (policy.actions.iter().enumerate())
        .map(|(i, a)| {
            let usable = |(j, e): (usize, &crate::policy::Exception)| {
                e.ground.pipl_basis().is_some() || policy.acknowledges_unbased_exception(i, j)
            };
            a.exceptions.iter().enumerate().map(usable).collect()
        })
        .collect()
}

/// A revision after which earlier grants for a purpose stop covering it.
#[derive(Debug)]
pub(super) struct Lapse {
    /// The index of the version that made the change.
    pub(super) version: usize,
    /// The categories concerned (those related to the change's: the same,
    /// above or below); `None` for all.
    pub(super) cats: Option<BitSet>,
    /// The recipient concerned; `None` for every grant.
    pub(super) recipient: Option<usize>,
}

/// Compiles each version of a history once; the latest holds the others.
pub(super) fn compile_history(history: PolicyHistory) -> Engine {
    let versions: Vec<String> = history.versions().map(|p| p.version.clone()).collect();
    let (earlier, latest) = history.into_revisions();
    let fresh: Vec<&[FreshConsent]> =
        earlier.iter().chain(std::iter::once(&latest)).map(|(_, f)| f.as_slice()).collect();
    let version = |k: usize, validated: &Validated| {
        let mut e = compile(validated.clone());
        (e.lapses, e.named_lapses) = lapses(&e, &fresh);
        e.versions.clone_from(&versions);
        e.version_index = k;
        e
    };
    let mut engine = version(earlier.len(), &latest.0);
    engine.earlier = earlier.iter().enumerate().map(|(k, (v, _))| version(k, v)).collect();
    engine
}

/// For each purpose of `engine`'s version, the revisions of the history
/// (`fresh`: each version's fresh consents, by version index) after which
/// earlier grants stop covering it (empty when there are none); and the
/// same, by name, for the purposes it does not declare, which a consent may
/// name.
#[allow(clippy::type_complexity)]
fn lapses(engine: &Engine, fresh: &[&[FreshConsent]]) -> (Vec<Vec<Lapse>>, Vec<(PurposeId, Vec<Lapse>)>) {
    let mut by_purpose: Vec<Vec<Lapse>> = engine.purposes.iter().map(|_| Vec::new()).collect();
    let mut by_name: Vec<(PurposeId, Vec<Lapse>)> = Vec::new();
    for (version, f) in fresh.iter().enumerate().flat_map(|(k, list)| list.iter().map(move |f| (k, f))) {
        let Some(lapse) = lapse(engine, version, f) else { continue };
        match engine.purpose_index.get(&f.purpose).and_then(|&p| by_purpose.get_mut(p)) {
            Some(list) => list.push(lapse),
            None => match by_name.iter_mut().find(|(id, _)| *id == f.purpose) {
                Some((_, list)) => list.push(lapse),
                None => by_name.push((f.purpose.clone(), vec![lapse])),
            },
        }
    }
    let by_purpose = if by_purpose.iter().all(Vec::is_empty) { Vec::new() } else { by_purpose };
    (by_purpose, by_name)
}

/// One fresh consent of the revision to `version`, in `engine`'s ids;
/// `None` when it names a recipient this version does not know (which
/// receives nothing here).
fn lapse(engine: &Engine, version: usize, f: &FreshConsent) -> Option<Lapse> {
    let recipient = match &f.recipient {
        None => None,
        Some(r) => Some(*engine.recipient_index.get(r)?),
    };
    let cats = (!f.categories.is_empty()).then(|| {
        let mut set = BitSet::new(engine.cats.len());
        for (i, c) in engine.cats.iter().enumerate() {
            if f.categories.iter().any(|k| c.key.is_within(k) || k.is_within(&c.key)) {
                set.insert(i);
            }
        }
        set
    });
    Some(Lapse { version, cats, recipient })
}

/// The taxonomy's categories in key order, each with the ancestors whose
/// grants cover it, and the index from key to id.
fn categories(taxonomy: &Taxonomy) -> (Vec<Cat>, IdMap<CategoryKey, usize>) {
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
    (cats, cat_index)
}

/// Makes the sets of categories and purposes a policy's lists name.
struct Sets<'c> {
    /// In key order, where a key's descendants follow it contiguously
    /// (`.` sorts before every other key character).
    cats: &'c [Cat],
    cat_index: &'c IdMap<CategoryKey, usize>,
    purposes: &'c IdMap<PurposeId, usize>,
    purpose_count: usize,
}

impl Sets<'_> {
    /// Every category within one of `keys`.
    fn within(&self, keys: &[CategoryKey]) -> BitSet {
        let mut set = BitSet::new(self.cats.len());
        for k in keys {
            let Some(&start) = self.cat_index.get(k) else { continue };
            for (i, c) in self.cats.iter().enumerate().skip(start) {
                if !c.key.is_within(k) {
                    break;
                }
                set.insert(i);
            }
        }
        set
    }

    /// As [`within`](Self::within); `None` (every category) for no keys.
    fn within_opt(&self, keys: &[CategoryKey]) -> Option<BitSet> {
        (!keys.is_empty()).then(|| self.within(keys))
    }

    /// The purposes `ids` names.
    fn purposes(&self, ids: &[PurposeId]) -> BitSet {
        let mut set = BitSet::new(self.purpose_count);
        for id in ids {
            if let Some(&i) = self.purposes.get(id) {
                set.insert(i);
            }
        }
        set
    }

    /// As [`purposes`](Self::purposes); `None` (every purpose) for no ids.
    fn purposes_opt(&self, ids: &[PurposeId]) -> Option<BitSet> {
        (!ids.is_empty()).then(|| self.purposes(ids))
    }
}

/// For each purpose, the consent requirements that name it; then those
/// that name no purpose.
fn requirements_by_purpose(policy: &Policy, purpose_index: &IdMap<PurposeId, usize>) -> (Vec<Vec<usize>>, Vec<usize>) {
    let mut by_purpose = vec![Vec::new(); policy.purposes.len()];
    let mut any_purpose = Vec::new();
    for (i, r) in policy.consent_requirements.iter().enumerate() {
        if r.purposes.is_empty() {
            any_purpose.push(i);
        }
        for p in &r.purposes {
            if let Some(list) = purpose_index.get(p).and_then(|&pi| by_purpose.get_mut(pi)) {
                list.push(i);
            }
        }
    }
    (by_purpose, any_purpose)
}

/// For each category, the retention rules that cover it.
fn retention_by_cat(retention: &[CRetention], n: usize) -> Vec<Vec<usize>> {
    let mut by_cat = vec![Vec::new(); n];
    for (i, r) in retention.iter().enumerate() {
        match &r.cats {
            Some(cats) => {
                for c in cats.ones() {
                    if let Some(list) = by_cat.get_mut(c) {
                        list.push(i);
                    }
                }
            }
            None => by_cat.iter_mut().for_each(|list| list.push(i)),
        }
    }
    by_cat
}

/// For each action, the index of its rule.
fn action_rules(policy: &Policy) -> [Option<usize>; 10] {
    let mut rules = [None; 10];
    for (i, rule) in policy.actions.iter().enumerate() {
        if let Some(slot) = rules.get_mut(rule.action as usize) {
            *slot = Some(i);
        }
    }
    rules
}
