//! The consent a category needs: the requirements that apply, the guardian's
//! share, and the look-ups that check them, combined into one grant or one
//! grant per requirement as the policy says.

use super::evaluate::{CatDraft, Ctx, PIPL_CHILD_AGE, reason};
use crate::consent::{ConsentQualities, ConsentQuery, ConsentStore, Grants};
use crate::decision::{ConsentFrom, Effect, Obligation, Unmet};
use crate::ids::{Cites, RuleId};
use crate::policy::{ConsentGrants, MinorEffect};

/// The consent requirements that apply to a category: the qualities each
/// names, the rule that asks and the clause it cites, in the order they were
/// found.
#[derive(Debug, Default)]
pub(super) struct Needs(Vec<Need>);

type Need = (ConsentQualities, RuleId, Option<Cites>);

impl Needs {
    pub(super) fn push(&mut self, qualities: ConsentQualities, rule: RuleId, cites: Option<&Cites>) {
        self.0.push((qualities, rule, cites.cloned()));
    }

    /// Every quality some requirement names.
    pub(super) fn union(&self) -> ConsentQualities {
        self.0.iter().fold(ConsentQualities::empty(), |q, (n, _, _)| q | *n)
    }
}

impl<S: ConsentStore> Ctx<'_, S> {
    /// The grants in force for the category, asked of the store once.
    fn grants(&self, c: usize, with_recipient: bool) -> Grants {
        let (Some((_, p)), Some(cat)) = (self.purpose, self.engine.cats.get(c)) else {
            return Grants::NONE;
        };
        self.store.grants(&ConsentQuery {
            subject: &self.req.subject.id,
            purpose: &p.id,
            category: &cat.key,
            covering: &cat.covering,
            recipient: if with_recipient { self.recipient.map(|(_, r)| &r.id) } else { None },
            required: ConsentQualities::empty(),
            excluded: ConsentQualities::empty(),
            at: self.at,
        })
    }

    /// Adds the guardian's share of the consent needed, with the rules that
    /// ask, and the guidance duties of the minors rules that apply.
    pub(super) fn guardian_needs(&self, d: &mut CatDraft, needs: &mut Needs) {
        let policy = &self.engine.policy;
        match &policy.minors {
            Some(m) => {
                if self.is_minor_below(m.guardian_consent_below) {
                    needs.push(
                        m.guardian_qualities | ConsentQualities::GUARDIAN | ConsentQualities::separate(),
                        m.id.clone(),
                        m.cites.as_ref(),
                    );
                }
                for r in &m.rules {
                    if !self.minor_rule_applies(r) {
                        continue;
                    }
                    match r.effect {
                        MinorEffect::GuardianConsent => {
                            needs.push(
                                m.guardian_qualities | ConsentQualities::GUARDIAN | ConsentQualities::AFFIRMATIVE,
                                r.id.clone(),
                                r.cites.as_ref(),
                            );
                        }
                        MinorEffect::Guidance => {
                            d.obligations.push(Obligation::GuardianGuidance);
                            d.note(r.id.clone(), r.cites.as_ref(), "guardians should guide this minor");
                        }
                        MinorEffect::Deny => {}
                    }
                }
            }
            None => {
                // PIPL art. 31, when the policy has no minors section.
                if self.is_minor_below(PIPL_CHILD_AGE) {
                    needs.push(
                        ConsentQualities::GUARDIAN | ConsentQualities::separate(),
                        builtin!("pipl_guardian_consent"),
                        None,
                    );
                }
            }
        }
    }

    /// The consent the policy's requirements ask of this category.
    pub(super) fn policy_requirements(&self, c: usize, needs: &mut Needs) {
        let bit = super::action_bit(self.req.action);
        let e = self.engine;
        let by_purpose =
            self.purpose.and_then(|(i, _)| e.requirements_by_purpose.get(i)).map_or(&[][..], Vec::as_slice);
        for &i in by_purpose.iter().chain(&e.requirements_any_purpose) {
            let (Some(cr), Some(r)) = (e.requirements.get(i), e.policy.consent_requirements.get(i)) else { continue };
            let kind_matches =
                cr.kinds == 0 || self.recipient.is_some_and(|(_, r)| cr.kinds & super::kind_bit(r.kind) != 0);
            if cr.actions & bit != 0 && kind_matches && cr.cats.as_ref().is_none_or(|s| s.contains(c)) {
                needs.push(r.qualities, r.id.clone(), r.cites.as_ref());
            }
        }
    }

    /// Checks the consent the requirements ask for; permits or denies the
    /// category. Combined: one grant must have every quality any of them
    /// names. Per requirement: each must be met by a grant of its own,
    /// which carries no `separate` or `guardian` quality it does not name.
    pub(super) fn require_consent(&self, d: &mut CatDraft, c: usize, needs: Needs, with_recipient: bool) {
        let grants = self.grants(c, with_recipient);
        match self.engine.policy.settings.consent_grants {
            ConsentGrants::Combined => {
                let q = needs.union();
                self.require_grant(d, grants.any(q, ConsentQualities::empty()), q, &needs.0, with_recipient);
            }
            ConsentGrants::PerRequirement => {
                let answers_only = ConsentQualities::SEPARATE | ConsentQualities::GUARDIAN;
                for need in needs.0.chunks(1) {
                    let q = need.first().map_or(ConsentQualities::empty(), |n| n.0);
                    self.require_grant(d, grants.any(q, answers_only.difference(q)), q, need, with_recipient);
                }
            }
        }
    }

    /// Permits the category if a grant with `q` is in force, or denies it
    /// on behalf of the requirements that ask for it.
    fn require_grant(
        &self,
        d: &mut CatDraft,
        in_force: bool,
        q: ConsentQualities,
        needs: &[Need],
        with_recipient: bool,
    ) {
        if in_force {
            for (_, rule, cites) in needs {
                d.permit(reason(rule.clone(), Effect::Permit, cites.as_ref(), "the consent it requires is in force"));
            }
            return;
        }
        let Some((_, p)) = self.purpose else { return };
        let mut message = String::with_capacity(64);
        message.push_str("needs consent `");
        for (i, n) in q.names().enumerate() {
            if i > 0 {
                message.push('+');
            }
            message.push_str(n);
        }
        if q.is_empty() {
            message.push_str("implied");
        }
        message.push_str("`, which is not in force");
        for (i, (_, rule, cites)) in needs.iter().enumerate() {
            let m = if i + 1 == needs.len() { std::mem::take(&mut message) } else { message.clone() };
            d.deny(reason(rule.clone(), Effect::Deny, cites.as_ref(), m));
        }
        d.unmet.push(Unmet::Consent {
            purpose: p.id.clone(),
            categories: vec![d.key().clone()],
            qualities: q,
            from: if q.contains(ConsentQualities::GUARDIAN) { ConsentFrom::Guardian } else { ConsentFrom::Subject },
            recipient: if with_recipient { self.recipient.map(|(_, r)| r.id.clone()) } else { None },
            rules: needs.iter().map(|(_, rule, _)| rule.clone()).collect(),
        });
    }
}
