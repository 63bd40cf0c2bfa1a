//! Turns the per-category drafts into a decision: verdict, sorted lists,
//! merged unmet requirements.

use super::evaluate::{CatDraft, builtin, reason};
use crate::decision::{CategoryOutcome, Decision, Effect, Reason, Unmet, Verdict};
use crate::ids::RuleId;
use crate::policy::Action;

pub(super) fn finish(action: Action, top: Vec<Reason>, drafts: Vec<CatDraft>) -> Decision {
    let top_denied = top.iter().any(|r| r.effect == Effect::Deny);
    let permit = !top_denied && !drafts.is_empty() && drafts.iter().all(|d| d.permit);
    let top_rules: Vec<RuleId> = top.iter().filter(|r| r.effect == Effect::Deny).map(|r| r.rule.clone()).collect();
    let mut reasons = top;
    let mut obligations = Vec::new();
    let mut unmet: Vec<Unmet> = Vec::new();
    let mut categories = Vec::with_capacity(drafts.len());
    for d in drafts {
        let verdict = if d.permit && !top_denied { Verdict::Permit } else { Verdict::Deny };
        let mut rules: Vec<RuleId> = if top_denied {
            top_rules.clone()
        } else {
            // A category's rules are those that gave its verdict.
            let effect = if d.permit { Effect::Permit } else { Effect::Deny };
            d.reasons.iter().filter(|r| r.effect == effect).map(|r| r.rule.clone()).collect()
        };
        rules.sort();
        rules.dedup();
        // A permit reports its reasons and obligations; a denial reports what
        // the denied categories need.
        if permit {
            reasons.extend(d.reasons);
            obligations.extend(d.obligations);
        } else if !d.permit {
            reasons.extend(d.reasons);
            obligations.extend(d.obligations);
            unmet.extend(d.unmet);
        }
        categories.push(CategoryOutcome { category: d.key, verdict, rules });
    }
    if !permit {
        // A denial names only what denied and what was noted.
        reasons.retain(|r| r.effect != Effect::Permit);
        if reasons.is_empty() {
            reasons.push(reason(builtin("default_deny"), Effect::Deny, None, "nothing permits the request"));
        }
    }
    categories.sort();
    categories.dedup();
    reasons.sort();
    reasons.dedup();
    obligations.sort();
    obligations.dedup();
    Decision {
        verdict: if permit { Verdict::Permit } else { Verdict::Deny },
        action,
        categories,
        reasons,
        obligations,
        unmet: merge_unmet(unmet),
    }
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
