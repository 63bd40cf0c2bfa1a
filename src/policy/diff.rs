//! Classifying the changes between two versions of a policy (003 §9,
//! 004 §7): each change with its kind, whether it is major and why, its
//! paths, and what it asks of the grants given under the old version.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::Hash;

use serde::Serialize;

use super::about::{Channel, RightOffer};
use super::change::{Change, ChangeDuty, ChangeKind, Changes, FreshConsent};
use super::{
    Action, ActionRule, Domestic, MinorEffect, MinorRule, Minors, Policy, Purpose, PurposeBasis, Recipient,
    RecipientKind, RetentionRule,
};
use crate::consent::ConsentQualities;
use crate::taxonomy::CategoryKey;

/// The changes from `old` to `new`, two versions of one policy.
///
/// Two documents with the same `id` and `version` are one version: a
/// version is never edited in place, so they give no change. `cites`,
/// `notes` and `acknowledged_warnings` are not the policy's content and are
/// not compared.
///
/// Lists are matched by id in maps, so the cost grows with the documents'
/// size, plus one pass over the consent requirements for each grant that
/// lapses. The rules are in `docs/policy-format.md`, "Policy changes".
///
/// # Example
///
/// ```
/// use privacy_engine::{ChangeKind, Policy, Purpose, PurposeBasis, diff};
/// let old = Policy::new("shop", "2024-01-01");
/// let mut new = Policy::new("shop", "2024-06-01");
/// new.purposes.push(Purpose::new("ads", PurposeBasis::Optional, vec!["user.behavior".parse()?]));
/// let changes = diff(&old, &new);
/// assert_eq!(changes.changes[0].kind, ChangeKind::PurposeAdded);
/// assert!(changes.has_major());
/// # Ok::<(), privacy_engine::Error>(())
/// ```
pub fn diff(old: &Policy, new: &Policy) -> Changes {
    let mut d = Differ { old, new, out: Vec::new(), fresh: Vec::new() };
    if old.id != new.id || old.version != new.version {
        d.about();
        d.rights();
        d.sensitivities();
        d.purposes();
        d.requirements();
        d.recipients();
        d.actions();
        d.retention();
        d.rest();
    }
    let Differ { out, mut fresh, .. } = d;
    fresh.sort_by(|a, b| fresh_key(a).cmp(&fresh_key(b)));
    fresh.dedup();
    let duties = duties(old, new, &out);
    Changes {
        policy: new.id.clone(),
        from_version: old.version.clone(),
        to_version: new.version.clone(),
        effective: new.effective,
        changes: out,
        duties,
        fresh,
    }
}

/// The order of the fresh consents: purpose, recipient, categories.
fn fresh_key(f: &FreshConsent) -> (&str, Option<&str>, Vec<&str>) {
    (f.purpose.as_str(), f.recipient.as_ref().map(|r| r.as_str()), f.categories.iter().map(|c| c.as_str()).collect())
}

/// What publishing `new` asks, given its changes.
fn duties(old: &Policy, new: &Policy, changes: &[Change]) -> Vec<ChangeDuty> {
    if changes.is_empty() {
        return Vec::new();
    }
    let prominent = changes.iter().any(|c| c.major);
    let mut out = vec![
        ChangeDuty::Notify { prominent, before: new.effective },
        ChangeDuty::Publish { version: new.version.clone(), effective: new.effective },
        ChangeDuty::Archive { version: old.version.clone() },
    ];
    if changes.iter().any(|c| c.kind == ChangeKind::RightsReduced) {
        out.push(ChangeDuty::ExplicitConsentToReduction);
    }
    out
}

/// A value as JSON without its `cites`, for comparing content only.
fn plain<T: Serialize>(x: &T) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.remove("cites");
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(x).unwrap_or(serde_json::Value::Null);
    strip(&mut v);
    v
}

/// An item of a list with its index.
type At<'a, T> = (usize, &'a T);

/// A new item with its index, and its old match with its index, if any.
type Matched<'a, T> = (Option<At<'a, T>>, usize, &'a T);

/// Items of two lists matched by a key: the removed (with their old
/// index), then each new item with its old match, if any, in document order.
/// Linear: the old items are found by key in a map.
fn matched<'a, T, K: Eq + Hash>(
    old: &'a [T],
    new: &'a [T],
    key: impl Fn(&T) -> K,
) -> (Vec<At<'a, T>>, Vec<Matched<'a, T>>) {
    let mut by_key: HashMap<K, At<'a, T>> = HashMap::with_capacity(old.len());
    for (i, o) in old.iter().enumerate() {
        by_key.entry(key(o)).or_insert((i, o));
    }
    let rest: Vec<Matched<'a, T>> = new.iter().enumerate().map(|(j, n)| (by_key.get(&key(n)).copied(), j, n)).collect();
    let kept: HashSet<usize> = rest.iter().filter_map(|(o, ..)| o.map(|(i, _)| i)).collect();
    let removed = old.iter().enumerate().filter(|(i, _)| !kept.contains(i)).collect();
    (removed, rest)
}

/// Whether a filter (empty: everything) covers less as `new` than as
/// `old`.
fn fewer<T: Eq + Hash>(old: &[T], new: &[T]) -> bool {
    !new.is_empty() && (old.is_empty() || !missing_from(old, new).is_empty())
}

/// The items of `a` that are not in `b`, in order.
fn missing_from<'a, T: Eq + Hash>(a: &'a [T], b: &[T]) -> Vec<&'a T> {
    let b: HashSet<&T> = b.iter().collect();
    a.iter().filter(|x| !b.contains(x)).collect()
}

/// Backticked, comma-separated names.
fn listed<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    items.into_iter().map(|x| format!("`{x}`")).collect::<Vec<_>>().join(", ")
}

/// An action rule in the old version (at `i`) and the new one (at `j`).
struct Rule<'p> {
    old: &'p ActionRule,
    i: usize,
    new: &'p ActionRule,
    j: usize,
}

struct Differ<'p> {
    old: &'p Policy,
    new: &'p Policy,
    out: Vec<Change>,
    fresh: Vec<FreshConsent>,
}

impl Differ<'_> {
    fn push(&mut self, kind: ChangeKind, reason: String, old_path: Option<String>, new_path: Option<String>) {
        self.out.push(Change::new(kind, reason, old_path, new_path));
    }

    /// A change at the same top-level field of both versions.
    fn field(&mut self, kind: ChangeKind, field: &str, reason: String) {
        let (had, has) = (self.present(self.old, field), self.present(self.new, field));
        let path = |there: bool| there.then(|| format!("/{field}"));
        self.push(kind, reason, path(had), path(has));
    }

    fn present(&self, policy: &Policy, field: &str) -> bool {
        match field {
            "controller" => policy.controller.is_some(),
            "responsible" => policy.responsible.is_some(),
            "contacts" => !policy.contacts.is_empty(),
            "complaints" => !policy.complaints.is_empty(),
            "impact_assessment" => policy.impact_assessment.is_some(),
            "incident_notice" => policy.incident_notice.is_some(),
            _ => true,
        }
    }

    /// Ownership, the responsible department and channels, the impact
    /// assessment.
    fn about(&mut self) {
        let (old, new) = (self.old, self.new);
        if plain(&old.controller) != plain(&new.controller) {
            let reason = match (&old.controller, &new.controller) {
                (None, Some(_)) => "the controller is named where the old version named none",
                (Some(_), None) => "the controller is no longer named",
                (Some(a), Some(b)) if a.name != b.name => "the controller is another",
                _ => "the controller's owner changes",
            };
            self.field(ChangeKind::Ownership, "controller", reason.to_owned());
        }
        if plain(&old.responsible) != plain(&new.responsible) {
            let reason = "the department or person responsible for personal information changes".to_owned();
            self.field(ChangeKind::ContactsChanged, "responsible", reason);
        }
        for (field, a, b) in
            [("contacts", &old.contacts, &new.contacts), ("complaints", &old.complaints, &new.complaints)]
        {
            if plain(a) != plain(b) {
                let reason = format!("the {} channels change: {}", &field[..field.len() - 1], channel_change(a, b));
                self.field(ChangeKind::ContactsChanged, field, reason);
            }
        }
        if plain(&old.incident_notice) != plain(&new.incident_notice) {
            let reason = "how the people are notified of an incident changes".to_owned();
            self.field(ChangeKind::ContactsChanged, "incident_notice", reason);
        }
        if plain(&old.impact_assessment) != plain(&new.impact_assessment) {
            match &new.impact_assessment {
                Some(a) if a.high_risk => {
                    let reason = format!("the impact assessment of {} finds a high risk", a.date);
                    self.field(ChangeKind::HighRiskAssessment, "impact_assessment", reason);
                }
                _ => {
                    let reason = "the impact assessment changes and finds no high risk".to_owned();
                    self.field(ChangeKind::AssessmentUpdated, "impact_assessment", reason);
                }
            }
        }
    }

    /// The rights and how to exercise them.
    fn rights(&mut self) {
        let (removed, rest) = matched(&self.old.rights, &self.new.rights, |r| r.right);
        for (i, r) in removed {
            let reason = format!("the right `{}` is no longer offered", r.right.as_str());
            self.push(ChangeKind::RightsReduced, reason, Some(format!("/rights/{i}")), None);
        }
        for (before, j, r) in rest {
            let new_path = Some(format!("/rights/{j}"));
            let Some((i, o)) = before else {
                let reason = format!("the right `{}` is offered", r.right.as_str());
                self.push(ChangeKind::RightsChanged, reason, None, new_path);
                continue;
            };
            if plain(o) == plain(r) {
                continue;
            }
            let old_path = Some(format!("/rights/{i}"));
            match reduction(o, r) {
                Some(how) => {
                    let reason = format!("the right `{}` is harder to exercise: {how}", r.right.as_str());
                    self.push(ChangeKind::RightsReduced, reason, old_path, new_path);
                }
                None => {
                    let reason = format!("how to exercise the right `{}` changes", r.right.as_str());
                    self.push(ChangeKind::RightsChanged, reason, old_path, new_path);
                }
            }
        }
    }

    /// Sensitivities the policies declare, compared in their taxonomies:
    /// the keys declared in the old version only, then those of the new one.
    fn sensitivities(&mut self) {
        let (old_tax, new_tax) = (self.old.taxonomy(), self.new.taxonomy());
        let (removed, rest) = matched(&self.old.categories, &self.new.categories, |c| c.key.clone());
        let at = |i: usize| Some(format!("/categories/{i}/sensitivity"));
        let keys = removed
            .into_iter()
            .map(|(i, c)| (&c.key, at(i), None))
            .chain(rest.into_iter().map(|(o, j, c)| (&c.key, o.and_then(|(i, _)| at(i)), at(j))));
        for (key, old_path, new_path) in keys {
            let (Some(before), Some(after)) = (old_tax.get(key), new_tax.get(key)) else { continue };
            let (from, to) = (before.sensitivity, after.sensitivity);
            if to == from {
                continue;
            }
            let reason = format!("category `{key}` becomes {} (was {})", plain_name(&to), plain_name(&from));
            if to > from {
                self.push(ChangeKind::SensitivityRaised, reason, old_path, new_path);
                self.sensitive_consents(key);
            } else {
                self.push(ChangeKind::SensitivityLowered, reason, old_path, new_path);
            }
        }
    }

    /// Every optional purpose that processes `key` needs fresh, separate
    /// consent for it (PIPL art. 29).
    fn sensitive_consents(&mut self, key: &CategoryKey) {
        let strict = ConsentQualities::affirmative() | ConsentQualities::explicit() | ConsentQualities::separate();
        for p in self.new.purposes.iter().filter(|p| p.basis == PurposeBasis::Optional) {
            if p.categories.iter().any(|c| c.is_within(key) || key.is_within(c)) {
                let q = asked(self.new, &[Action::Collect, Action::Use], p, std::slice::from_ref(key)) | strict;
                self.fresh.push(FreshConsent::new(p.id.clone(), q).for_categories(vec![key.clone()]));
            }
        }
    }

    fn purposes(&mut self) {
        let (removed, rest) = matched(&self.old.purposes, &self.new.purposes, |p| p.id.clone());
        for (i, p) in removed {
            let reason = format!("purpose `{}` is removed", p.id);
            self.push(ChangeKind::PurposeRemoved, reason, Some(format!("/purposes/{i}")), None);
        }
        for (before, j, p) in rest {
            let Some((i, o)) = before else {
                let reason = format!("purpose `{}` is added, for {}", p.id, listed(&p.categories));
                self.push(ChangeKind::PurposeAdded, reason, None, Some(format!("/purposes/{j}")));
                continue;
            };
            self.purpose(i, o, j, p);
        }
    }

    fn purpose(&mut self, i: usize, o: &Purpose, j: usize, p: &Purpose) {
        let paths = |f: &str| (Some(format!("/purposes/{i}{f}")), Some(format!("/purposes/{j}{f}")));
        let added: Vec<CategoryKey> = missing_from(&p.categories, &o.categories).into_iter().cloned().collect();
        if !added.is_empty() {
            let reason = format!("purpose `{}` also processes {}", p.id, listed(&added));
            let (a, b) = paths("/categories");
            self.push(ChangeKind::CategoriesAdded, reason, a, b);
            // PIPL art. 14: when the categories a purpose processes change,
            // consent is obtained again, for the processing as a whole: every
            // grant for the purpose lapses, not only those for the new keys.
            if p.basis == PurposeBasis::Optional {
                let q = asked(self.new, &[Action::Collect, Action::Use], p, &p.categories);
                self.fresh.push(FreshConsent::new(p.id.clone(), q));
            }
        }
        let dropped = missing_from(&o.categories, &p.categories);
        if !dropped.is_empty() {
            let reason = format!("purpose `{}` no longer processes {}", p.id, listed(&dropped));
            let (a, b) = paths("/categories");
            self.push(ChangeKind::CategoriesRemoved, reason, a, b);
        }
        self.processing(paths("/processing"), o, p);
        if o.basis != p.basis || o.permission != p.permission {
            let reason = format!("purpose `{}` changes its basis or permission", p.id);
            let (a, b) = paths("");
            self.push(ChangeKind::MannerOfUse, reason, a, b);
        }
        if o.description != p.description {
            let (a, b) = paths("/description");
            self.push(ChangeKind::Wording, format!("purpose `{}` is described anew", p.id), a, b);
        }
    }

    /// A kind of processing a purpose now is (profiling, an automated
    /// decision…) changes the manner of processing: consent is obtained
    /// again for the processing as a whole (PIPL art. 14), as for new
    /// categories. One it no longer is narrows it.
    fn processing(&mut self, (a, b): (Option<String>, Option<String>), o: &Purpose, p: &Purpose) {
        let added = missing_from(&p.processing, &o.processing);
        if !added.is_empty() {
            let reason = format!("purpose `{}` is now also {}", p.id, named(&added));
            self.push(ChangeKind::MannerOfUse, reason, a.clone(), b.clone());
            if p.basis == PurposeBasis::Optional {
                let q = asked(self.new, &[Action::Collect, Action::Use], p, &p.categories);
                self.fresh.push(FreshConsent::new(p.id.clone(), q));
            }
        }
        let dropped = missing_from(&o.processing, &p.processing);
        if !dropped.is_empty() {
            let reason = format!("purpose `{}` is no longer {}", p.id, named(&dropped));
            self.push(ChangeKind::ScopeNarrowed, reason, a, b);
        }
    }

    fn requirements(&mut self) {
        let (old, new) = (&self.old.consent_requirements, &self.new.consent_requirements);
        let (removed, rest) = matched(old, new, |r| r.id.clone());
        for (i, r) in removed {
            let reason = format!("consent requirement `{}` is removed", r.id);
            self.push(ChangeKind::RightsReduced, reason, Some(format!("/consent_requirements/{i}")), None);
        }
        for (before, j, r) in rest {
            let new_path = Some(format!("/consent_requirements/{j}"));
            let Some((i, o)) = before else {
                let reason = format!("consent requirement `{}` is added", r.id);
                self.push(ChangeKind::ConsentStrengthened, reason, None, new_path);
                continue;
            };
            if plain(o) == plain(r) {
                continue;
            }
            let weaker = !r.qualities.contains(o.qualities)
                || !missing_from(&o.actions, &r.actions).is_empty()
                || fewer(&o.purposes, &r.purposes)
                || fewer(&o.categories, &r.categories)
                || fewer(&o.recipient_kinds, &r.recipient_kinds);
            let old_path = Some(format!("/consent_requirements/{i}"));
            if weaker {
                let reason = format!("consent requirement `{}` asks less", r.id);
                self.push(ChangeKind::RightsReduced, reason, old_path, new_path);
            } else {
                let reason = format!("consent requirement `{}` asks more", r.id);
                self.push(ChangeKind::ConsentStrengthened, reason, old_path, new_path);
            }
        }
    }

    fn recipients(&mut self) {
        let abroad_before: BTreeSet<&str> = self
            .old
            .recipients
            .iter()
            .filter(|r| r.region != self.old.settings.home_region)
            .map(|r| r.region.as_str())
            .collect();
        let (removed, rest) = matched(&self.old.recipients, &self.new.recipients, |r| r.id.clone());
        for (i, r) in removed {
            let reason = format!("recipient `{}` is removed", r.id);
            self.push(ChangeKind::RecipientRemoved, reason, Some(format!("/recipients/{i}")), None);
        }
        for (before, j, r) in rest {
            match before {
                None => {
                    let reason = format!("recipient `{}` is added, for {}", r.id, listed(&r.purposes));
                    self.push(ChangeKind::RecipientAdded, reason, None, Some(format!("/recipients/{j}")));
                    self.recipient_consents(r, &r.categories);
                }
                Some((i, o)) => self.recipient(i, o, j, r),
            }
            let abroad = r.region != self.new.settings.home_region;
            if abroad && !abroad_before.contains(r.region.as_str()) && before.is_none_or(|(_, o)| o.region != r.region)
            {
                let reason = format!("recipient `{}` takes data to `{}`, a region no recipient was in", r.id, r.region);
                let old_path = before.map(|(i, _)| format!("/recipients/{i}/region"));
                self.push(
                    ChangeKind::CrossBorderDestination,
                    reason,
                    old_path,
                    Some(format!("/recipients/{j}/region")),
                );
            }
        }
    }

    fn recipient(&mut self, i: usize, o: &Recipient, j: usize, r: &Recipient) {
        if plain(o) == plain(r) {
            return;
        }
        let (old_path, new_path) = (Some(format!("/recipients/{i}")), Some(format!("/recipients/{j}")));
        let new_categories: Vec<CategoryKey> =
            missing_from(&r.categories, &o.categories).into_iter().cloned().collect();
        let new_purposes = !missing_from(&r.purposes, &o.purposes).is_empty();
        let another = o.kind != r.kind || o.name != r.name || o.region != r.region;
        let weaker = r.data_state.protection() < o.data_state.protection()
            || !missing_from(&o.agreements, &r.agreements).is_empty();
        if another || new_purposes {
            let reason = format!("recipient `{}` is another party, in another region, or serves more purposes", r.id);
            self.push(ChangeKind::RecipientChanged, reason, old_path, new_path);
            self.recipient_consents(r, &r.categories);
        } else if !new_categories.is_empty() || weaker {
            let what = if new_categories.is_empty() {
                "less protected data or with fewer agreements".to_owned()
            } else {
                listed(&new_categories)
            };
            let reason = format!("recipient `{}` also receives {what}", r.id);
            self.push(ChangeKind::RecipientChanged, reason, old_path, new_path);
            let lapsing = if new_categories.is_empty() || weaker { r.categories.clone() } else { new_categories };
            self.recipient_consents(r, &lapsing);
        } else {
            let reason = format!("recipient `{}` receives less or under more protection, or its contact changes", r.id);
            self.push(ChangeKind::RecipientNarrowed, reason, old_path, new_path);
        }
    }

    /// Grants that covered every recipient of an optional purpose of `r` no
    /// longer cover providing `categories` to `r`. A recipient that receives
    /// no category (an empty `categories`) is provided nothing: no grant
    /// lapses (a fresh consent without categories would ask for all).
    fn recipient_consents(&mut self, r: &Recipient, categories: &[CategoryKey]) {
        if categories.is_empty() {
            return;
        }
        let action = providing_action(self.new, r);
        let rule = self.new.action_rule(action).and_then(|a| a.consent).unwrap_or(ConsentQualities::affirmative());
        for id in &r.purposes {
            let Some(p) = self.new.purpose(id).filter(|p| p.basis == PurposeBasis::Optional) else { continue };
            let q = asked(self.new, &[action], p, categories) | rule;
            let fresh = FreshConsent::new(p.id.clone(), q).for_recipient(r.id.clone());
            self.fresh.push(fresh.for_categories(categories.to_vec()));
        }
    }

    fn actions(&mut self) {
        let (removed, rest) = matched(&self.old.actions, &self.new.actions, |a| a.action);
        for (i, a) in removed {
            let reason = format!("the rule for `{}` is removed: the action is no longer permitted", a.action.as_str());
            self.push(ChangeKind::ScopeNarrowed, reason, Some(format!("/actions/{i}")), None);
        }
        for (before, j, a) in rest {
            let new_path = format!("/actions/{j}");
            let Some((i, o)) = before else {
                let reason = format!("a rule for `{}` is added: the action is permitted", a.action.as_str());
                self.push(ChangeKind::MannerOfUse, reason, None, Some(new_path));
                continue;
            };
            let (gone, kept) = matched(&o.exceptions, &a.exceptions, |e| e.id.clone());
            for (k, e) in gone {
                let reason = format!("exception `{}` of `{}` is removed", e.id, a.action.as_str());
                self.push(ChangeKind::ScopeNarrowed, reason, Some(format!("/actions/{i}/exceptions/{k}")), None);
            }
            for (was, k, e) in kept {
                if was.is_some_and(|(_, w)| plain(w) == plain(e)) {
                    continue;
                }
                let reason = format!("exception `{}` of `{}` is added or changed", e.id, a.action.as_str());
                let old_path = was.map(|(m, _)| format!("/actions/{i}/exceptions/{m}"));
                self.push(ChangeKind::MannerOfUse, reason, old_path, Some(format!("{new_path}/exceptions/{k}")));
            }
            self.rule(Rule { old: o, i, new: a, j });
        }
    }

    /// An action rule's fields, one by one (its exceptions are compared
    /// apart): a field that lets the action do more, or with less
    /// protection, is a change of the manner of use (major); one that lets
    /// it do less, or asks more, is minor. A field whose direction cannot be
    /// told (the data states, the kinds `recipient_requires` is asked of,
    /// the duties) is a change of the manner of use whenever it differs.
    fn rule(&mut self, r: Rule<'_>) {
        let (o, a) = (r.old, r.new);
        match (o.consent, a.consent) {
            (b, n) if b == n => {}
            (Some(b), Some(n)) if n.contains(b) => {
                self.rule_field(&r, "consent", ChangeKind::ConsentStrengthened, "asks consent with more qualities");
            }
            (Some(_), Some(_)) => {
                self.rule_field(&r, "consent", ChangeKind::RightsReduced, "asks consent with fewer qualities");
            }
            _ => self.rule_field(&r, "consent", ChangeKind::MannerOfUse, "changes whether consent can permit it"),
        }
        let wider = [
            ("core_purposes", a.core_purposes && !o.core_purposes, o.core_purposes && !a.core_purposes),
            (
                "recipient_kinds",
                fewer(&a.recipient_kinds, &o.recipient_kinds),
                fewer(&o.recipient_kinds, &a.recipient_kinds),
            ),
            (
                "recipient_requires",
                !missing_from(&o.recipient_requires, &a.recipient_requires).is_empty(),
                !missing_from(&a.recipient_requires, &o.recipient_requires).is_empty(),
            ),
            ("within_purpose", o.within_purpose && !a.within_purpose, a.within_purpose && !o.within_purpose),
            (
                "domestic",
                o.domestic != a.domestic && a.domestic == Domestic::Permit,
                o.domestic != a.domestic && a.domestic == Domestic::Deny,
            ),
            ("allow_abroad", a.allow_abroad && !o.allow_abroad, o.allow_abroad && !a.allow_abroad),
            ("data_states", plain(&o.data_states) != plain(&a.data_states), false),
            ("recipient_requires_kinds", o.recipient_requires_kinds != a.recipient_requires_kinds, false),
            ("duties", plain(&o.duties) != plain(&a.duties), false),
        ];
        for (field, more, less) in wider {
            if more {
                self.rule_field(
                    &r,
                    field,
                    ChangeKind::MannerOfUse,
                    &format!("changes `{field}`: it permits more or protects less"),
                );
            } else if less {
                self.rule_field(
                    &r,
                    field,
                    ChangeKind::ScopeNarrowed,
                    &format!("changes `{field}`: it permits less or protects more"),
                );
            }
        }
    }

    /// The minors rules, compared as the action rules are: what protects
    /// children less (a lower age, a weaker effect, a rule removed or
    /// narrowed) is a change of the manner of use; what protects them more
    /// is minor; the guardian's consent asked with fewer qualities reduces
    /// rights.
    fn minors(&mut self, o: &Minors, n: &Minors) {
        let at = |f: &str| (Some(format!("/minors/{f}")), Some(format!("/minors/{f}")));
        if o.guardian_consent_below != n.guardian_consent_below {
            let (kind, what) = if n.guardian_consent_below > o.guardian_consent_below {
                (ChangeKind::ScopeNarrowed, "a guardian's consent is needed up to a higher age")
            } else {
                (ChangeKind::MannerOfUse, "a guardian's consent is needed up to a lower age")
            };
            let (a, b) = at("guardian_consent_below");
            self.push(kind, what.to_owned(), a, b);
        }
        if o.guardian_qualities != n.guardian_qualities {
            let (kind, what) = if n.guardian_qualities.contains(o.guardian_qualities) {
                (ChangeKind::ConsentStrengthened, "a guardian's consent is asked with more qualities")
            } else {
                (ChangeKind::RightsReduced, "a guardian's consent is asked with fewer qualities")
            };
            let (a, b) = at("guardian_qualities");
            self.push(kind, what.to_owned(), a, b);
        }
        let (removed, rest) = matched(&o.rules, &n.rules, |r| r.id.clone());
        for (i, r) in removed {
            let reason = format!("minors rule `{}` is removed: children are protected less", r.id);
            self.push(ChangeKind::MannerOfUse, reason, Some(format!("/minors/rules/{i}")), None);
        }
        for (before, j, r) in rest {
            let new_path = Some(format!("/minors/rules/{j}"));
            let Some((i, w)) = before else {
                let reason = format!("minors rule `{}` is added: children are protected more", r.id);
                self.push(ChangeKind::ScopeNarrowed, reason, None, new_path);
                continue;
            };
            let Some(less) = protects_less(w, r) else { continue };
            let (kind, what) =
                if less { (ChangeKind::MannerOfUse, "less") } else { (ChangeKind::ScopeNarrowed, "more or otherwise") };
            let reason = format!("minors rule `{}` changes: children are protected {what}", r.id);
            self.push(kind, reason, Some(format!("/minors/rules/{i}")), new_path);
        }
    }

    fn rule_field(&mut self, r: &Rule<'_>, field: &str, kind: ChangeKind, what: &str) {
        let reason = format!("the rule for `{}` {what}", r.new.action.as_str());
        self.push(kind, reason, Some(format!("/actions/{}/{field}", r.i)), Some(format!("/actions/{}/{field}", r.j)));
    }

    fn retention(&mut self) {
        let (removed, rest) = matched(&self.old.retention, &self.new.retention, |r| r.id.clone());
        for (i, r) in removed {
            let reason = format!("retention rule `{}` is removed", r.id);
            self.push(ChangeKind::RetentionShortened, reason, Some(format!("/retention/{i}")), None);
        }
        for (before, j, r) in rest {
            let new_path = Some(format!("/retention/{j}"));
            let Some((i, o)) = before else {
                let reason = format!("retention rule `{}` is added", r.id);
                self.push(ChangeKind::RetentionLengthened, reason, None, new_path);
                continue;
            };
            let old_path = Some(format!("/retention/{i}"));
            match self.longer(o, r) {
                Some(true) => {
                    let reason = format!("retention rule `{}` keeps data longer", r.id);
                    self.push(ChangeKind::RetentionLengthened, reason, old_path.clone(), new_path.clone());
                }
                Some(false) => {
                    let reason = format!("retention rule `{}` keeps data for less time", r.id);
                    self.push(ChangeKind::RetentionShortened, reason, old_path.clone(), new_path.clone());
                }
                None => {}
            }
            if (&o.categories, &o.purposes, o.trigger, o.end_action)
                != (&r.categories, &r.purposes, r.trigger, r.end_action)
            {
                let reason = format!("retention rule `{}` governs other data or ends otherwise", r.id);
                self.push(ChangeKind::MannerOfUse, reason, old_path, new_path);
            }
        }
    }

    /// Whether `r` keeps data longer than `o` (`Some(true)`), for less time
    /// (`Some(false)`), or neither. A maximum that may end later on some
    /// start day, or that goes, is longer; so is a minimum that grows.
    fn longer(&self, o: &RetentionRule, r: &RetentionRule) -> Option<bool> {
        let month_end = self.new.settings.month_end;
        let later = |a: super::Period, b: super::Period| a != b && !super::validate::always_longer(b, a, month_end);
        let maximum = match (o.maximum, r.maximum) {
            (Some(a), Some(b)) if later(b, a) => Some(true),
            (Some(a), Some(b)) if a != b => Some(false),
            (Some(_), None) => Some(true),
            (None, Some(_)) => Some(false),
            _ => None,
        };
        let minimum = match (o.minimum, r.minimum) {
            (Some(a), Some(b)) if later(b, a) => Some(true),
            (None, Some(_)) => Some(true),
            _ => None,
        };
        maximum.or(minimum)
    }

    /// Minors rules, settings, and the wording of the document.
    fn rest(&mut self) {
        let (old, new) = (self.old, self.new);
        match (&old.minors, &new.minors) {
            (Some(o), Some(n)) => self.minors(o, n),
            (None, None) => {}
            (o, n) => {
                let reason = "the rules for minors are added or removed".to_owned();
                let path = |m: &Option<Minors>| m.as_ref().map(|_| "/minors".to_owned());
                self.push(ChangeKind::MannerOfUse, reason, path(o), path(n));
            }
        }
        if plain(&old.settings) != plain(&new.settings) {
            self.field(ChangeKind::MannerOfUse, "settings", "the settings change".to_owned());
        }
        if old.language != new.language || old.source != new.source {
            self.field(ChangeKind::Wording, "source", "the published text or its language changes".to_owned());
        }
        let (_, rest) = matched(&old.categories, &new.categories, |c| c.key.clone());
        for (before, j, c) in rest {
            let Some((i, o)) = before.filter(|(_, o)| o.description != c.description) else { continue };
            let reason = format!("category `{}` is described anew", o.key);
            let paths = (Some(format!("/categories/{i}/description")), Some(format!("/categories/{j}/description")));
            self.push(ChangeKind::Wording, reason, paths.0, paths.1);
        }
    }
}

/// The consent qualities `policy` asks of `actions` for purpose `p` on one
/// of `categories`: every matching requirement's, at least affirmative.
fn asked(policy: &Policy, actions: &[Action], p: &Purpose, categories: &[CategoryKey]) -> ConsentQualities {
    policy
        .consent_requirements
        .iter()
        .filter(|r| r.actions.iter().any(|a| actions.contains(a)))
        .filter(|r| r.purposes.is_empty() || r.purposes.contains(&p.id))
        .filter(|r| {
            r.categories.is_empty()
                || r.categories.iter().any(|c| categories.iter().any(|k| k.is_within(c) || c.is_within(k)))
        })
        .fold(ConsentQualities::affirmative(), |q, r| q | r.qualities)
}

/// The action that provides data to `r`: a cross-border transfer when it is
/// abroad, else the one its kind receives by.
fn providing_action(policy: &Policy, r: &Recipient) -> Action {
    if r.region != policy.settings.home_region {
        return Action::CrossBorder;
    }
    match r.kind {
        RecipientKind::Processor => Action::Entrust,
        RecipientKind::Acquirer => Action::Transfer,
        RecipientKind::Public => Action::Disclose,
        _ => Action::Share,
    }
}

/// Whether a minors rule protects children less as `n` than as `o`
/// (`Some(true)`: a lower age, a weaker effect, fewer actions or purposes,
/// a real-name check now needed), otherwise changed (`Some(false)`), or
/// the same (`None`).
fn protects_less(o: &MinorRule, n: &MinorRule) -> Option<bool> {
    if plain(o) == plain(n) {
        return None;
    }
    let strength = |e: MinorEffect| match e {
        MinorEffect::Guidance => 0,
        MinorEffect::GuardianConsent => 1,
        MinorEffect::Deny => 2,
    };
    Some(
        n.below_age < o.below_age
            || strength(n.effect) < strength(o.effect)
            || fewer(&o.actions, &n.actions)
            || fewer(&o.purposes, &n.purposes)
            || (n.requires_real_name && !o.requires_real_name),
    )
}

/// How a right became harder to exercise, if it did: a channel gone, an
/// identity check added, an answer that may take longer.
fn reduction(o: &RightOffer, r: &RightOffer) -> Option<String> {
    let gone: Vec<&str> =
        o.channels.iter().filter(|c| !r.channels.iter().any(|n| n.kind == c.kind)).map(|c| kind_name(c)).collect();
    if !gone.is_empty() {
        return Some(format!("no longer through {}", gone.join(", ")));
    }
    if r.verify_identity && !o.verify_identity {
        return Some("the identity is now checked first".to_owned());
    }
    let grounds = missing_from(&o.grounds, &r.grounds);
    if !grounds.is_empty() {
        return Some(format!("it is no longer offered on the grounds {}", named(&grounds)));
    }
    let slower = r.channels.iter().any(|n| {
        let before = o.channels.iter().find(|c| c.kind == n.kind).and_then(|c| c.time_limit);
        matches!((before, n.time_limit), (Some(a), Some(b)) if b.calendar_days() > a.calendar_days())
            || matches!((before, n.time_limit), (Some(_), None))
    });
    slower.then(|| "an answer may take longer".to_owned())
}

/// Items of a `snake_case` enum by their names in the JSON form, in
/// backticks.
fn named<T: Serialize>(items: &[&T]) -> String {
    let names = items.iter().map(|i| plain(i).as_str().map_or_else(String::new, |n| format!("`{n}`")));
    names.collect::<Vec<_>>().join(", ")
}

/// What changed in a list of channels, by kind.
fn channel_change(a: &[Channel], b: &[Channel]) -> String {
    let added: Vec<&str> = b.iter().filter(|n| !a.iter().any(|o| o.kind == n.kind)).map(kind_name).collect();
    let gone: Vec<&str> = a.iter().filter(|o| !b.iter().any(|n| n.kind == o.kind)).map(kind_name).collect();
    match (added.is_empty(), gone.is_empty()) {
        (false, true) => format!("{} added", added.join(", ")),
        (true, false) => format!("{} removed", gone.join(", ")),
        (false, false) => format!("{} added, {} removed", added.join(", "), gone.join(", ")),
        (true, true) => "details or time limits".to_owned(),
    }
}

/// A channel's kind as in the JSON form.
fn kind_name(c: &Channel) -> &'static str {
    c.kind.as_str()
}

/// A sensitivity as in the JSON form.
fn plain_name(s: &crate::taxonomy::Sensitivity) -> String {
    match plain(s) {
        serde_json::Value::String(name) => name,
        _ => String::new(),
    }
}
