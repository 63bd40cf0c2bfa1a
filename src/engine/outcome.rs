//! Renders the per-category drafts as a decision: sorted lists, merged
//! unmet requirements. The verdict comes from the [`Ruling`], which decides
//! it once; [`reported`] and [`default_deny`] are the one filter of the
//! reasons a decision reports and the one fallback when none is left.
//!
//! [`Ruling`]: super::Ruling

use super::draft::{RichDraft, reason};
use super::named::PolicyChange;
use crate::decision::{CategoryOutcome, Decision, Effect, Obligation, Reason, Unmet, Verdict};
use crate::ids::RuleId;
use crate::request::Request;
use crate::taxonomy::CategoryKey;

/// Whether a decision reports a reason of this effect: a permit reports
/// every reason; a denial names only what denied and what was noted.
pub(super) fn reported(permit: bool, effect: Effect) -> bool {
    permit || effect != Effect::Permit
}

/// The rule a denial names when no reason is left to report, and its message.
pub(super) fn default_deny() -> (&'static RuleId, &'static str) {
    (builtin!("default_deny"), "nothing permits the request")
}

/// The decision being assembled, one category at a time.
pub(super) struct Outcome<'r> {
    req: &'r Request,
    /// The verdict, as the ruling decided it.
    permit: bool,
    top: Vec<Reason>,
    /// When a request-level reason denies: the rules that denied, sorted,
    /// which every category reports (made once, not once per category).
    top_rules: Option<Vec<RuleId>>,
    categories: Vec<CategoryOutcome>,
    /// What the permitted categories bring: kept if the request is permitted.
    permitted: Lists,
    /// What the denied categories bring: kept if it is denied.
    denied: Lists,
    denied_unmet: Vec<Unmet>,
    /// A denied category that nothing lifts.
    not_liftable: bool,
}

#[derive(Default)]
struct Lists {
    reasons: Vec<Reason>,
    obligations: Vec<Obligation>,
    minimise: bool,
}

/// Appends `src` to `dst`, taking `src`'s allocation when `dst` is empty.
fn append<T>(dst: &mut Vec<T>, mut src: Vec<T>) {
    if dst.is_empty() {
        *dst = src;
    } else {
        dst.append(&mut src);
    }
}

/// Appends what `dst` does not hold yet: categories of one request share
/// most of their reasons and obligations, and the lists are short.
fn merge<T: PartialEq>(dst: &mut Vec<T>, src: Vec<T>) {
    if dst.is_empty() {
        *dst = src;
    } else {
        dst.reserve(src.len());
        for x in src {
            if !dst.contains(&x) {
                dst.push(x);
            }
        }
    }
}

impl<'r> Outcome<'r> {
    pub(super) fn new(req: &'r Request, permit: bool, top: Vec<Reason>, top_denied: bool) -> Self {
        let top_rules = top_denied.then(|| {
            let mut rules: Vec<RuleId> =
                top.iter().filter(|r| r.effect == Effect::Deny).map(|r| r.rule.clone()).collect();
            rules.sort();
            rules.dedup();
            rules.shrink_to_fit();
            rules
        });
        Outcome {
            req,
            permit,
            top,
            top_rules,
            categories: Vec::with_capacity(req.categories.len()),
            permitted: Lists::default(),
            denied: Lists::default(),
            denied_unmet: Vec::new(),
            not_liftable: false,
        }
    }

    /// Adds one category's draft.
    pub(super) fn add(&mut self, d: RichDraft) {
        let (verdict, rules) = match &self.top_rules {
            Some(rules) => (Verdict::Deny, rules.clone()),
            None => {
                // A category's rules are those that gave its verdict.
                let effect = if d.permit { Effect::Permit } else { Effect::Deny };
                let mut rules: Vec<RuleId> =
                    d.reasons.iter().filter(|r| r.effect == effect).map(|r| r.rule.clone()).collect();
                rules.sort();
                rules.dedup();
                (if d.permit { Verdict::Permit } else { Verdict::Deny }, rules)
            }
        };
        self.categories.push(CategoryOutcome { category: d.key, verdict, rules });
        // A permit reports its reasons and obligations; a denial reports what
        // the denied categories need.
        let lists = if d.permit {
            &mut self.permitted
        } else {
            append(&mut self.denied_unmet, d.unmet);
            self.not_liftable |= d.not_liftable;
            &mut self.denied
        };
        merge(&mut lists.reasons, d.reasons);
        merge(&mut lists.obligations, d.obligations);
        lists.minimise |= d.minimise;
    }

    /// Adds what only a revised policy permits: the undeclared names that no
    /// rule lets a consent name.
    pub(super) fn policy_change(&mut self, change: PolicyChange) {
        if change.any() {
            let (purpose, recipient) = (self.req.purpose.as_ref(), self.req.recipient.as_ref());
            self.denied_unmet.push(Unmet::PolicyChange {
                purpose: purpose.filter(|_| change.purpose).cloned(),
                recipient: recipient.filter(|_| change.recipient).cloned(),
            });
        }
    }

    /// The decision.
    pub(super) fn finish(self) -> Decision {
        let permit = self.permit;
        let not_liftable = !permit && self.not_liftable;
        let mut reasons = self.top;
        let kept = if permit { self.permitted } else { self.denied };
        append(&mut reasons, kept.reasons);
        let mut obligations = kept.obligations;
        if kept.minimise {
            obligations.push(Obligation::Minimise { categories: sorted_categories(&self.req.categories) });
        }
        // Nothing lifts the denial: it lists no requirement.
        let unmet = if permit || not_liftable { Vec::new() } else { self.denied_unmet };
        reasons.retain(|r| reported(permit, r.effect));
        if reasons.is_empty() {
            let (rule, message) = default_deny();
            reasons.push(reason(rule.clone(), Effect::Deny, None, message));
        }
        let mut categories = self.categories;
        categories.sort();
        categories.dedup();
        reasons.sort();
        reasons.dedup();
        obligations.sort();
        obligations.dedup();
        Decision {
            verdict: if permit { Verdict::Permit } else { Verdict::Deny },
            action: self.req.action,
            policy_id: None,
            policy_version: None,
            categories,
            reasons,
            obligations,
            unmet: merge_unmet(unmet),
            not_liftable,
        }
    }
}

/// The request's categories sorted and without duplicates, as every list of
/// a decision is.
fn sorted_categories(cats: &[CategoryKey]) -> Vec<CategoryKey> {
    let mut cats = cats.to_vec();
    cats.sort();
    cats.dedup();
    cats
}

/// Sorts, removes duplicates, and merges consent requirements that differ
/// only in their categories, so the app can ask once.
fn merge_unmet(mut unmet: Vec<Unmet>) -> Vec<Unmet> {
    let mut merged: Vec<Unmet> = Vec::with_capacity(unmet.len());
    unmet.sort();
    for u in unmet {
        if let Unmet::Consent { purpose, categories, qualities, from, recipient, rules } = &u {
            let found = merged.iter_mut().find_map(|m| match m {
                Unmet::Consent { purpose: p, qualities: q, from: f, recipient: r, categories: cs, rules: rs }
                    if p == purpose && q == qualities && f == from && r == recipient =>
                {
                    Some((cs, rs))
                }
                _ => None,
            });
            if let Some((cs, rs)) = found {
                cs.extend(categories.iter().cloned());
                cs.sort();
                cs.dedup();
                rs.extend(rules.iter().cloned());
                rs.sort();
                rs.dedup();
                continue;
            }
            let mut rules = rules.clone();
            rules.sort();
            rules.dedup();
            merged.push(Unmet::Consent {
                purpose: purpose.clone(),
                categories: categories.clone(),
                qualities: *qualities,
                from: *from,
                recipient: recipient.clone(),
                rules,
            });
            continue;
        }
        if merged.last() != Some(&u) {
            merged.push(u);
        }
    }
    merged.sort();
    merged.dedup();
    merged
}
