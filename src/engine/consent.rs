//! The consent a category needs: the requirements that apply, the guardian's
//! share, and the look-ups that check them, combined into one grant or one
//! grant per requirement as the policy says.

use super::evaluate::{CatDraft, Ctx, PIPL_CHILD_AGE, builtin, reason};
use crate::consent::{ConsentQualities, ConsentQuery, ConsentStore};
use crate::decision::{ConsentFrom, Effect, Obligation, Unmet};
use crate::ids::RuleId;
use crate::policy::{ConsentGrants, MinorEffect};

/// The consent requirements that apply to a category: the qualities each
/// names and the rule that asks, in the order they were found.
#[derive(Debug, Default)]
pub(super) struct Needs(Vec<(ConsentQualities, RuleId)>);

impl Needs {
    pub(super) fn push(&mut self, qualities: ConsentQualities, rule: RuleId) {
        self.0.push((qualities, rule));
    }

    /// Every quality some requirement names.
    pub(super) fn union(&self) -> ConsentQualities {
        self.0.iter().fold(ConsentQualities::empty(), |q, (n, _)| q | *n)
    }

    fn rules(&self) -> Vec<RuleId> {
        self.0.iter().map(|(_, r)| r.clone()).collect()
    }
}

impl<S: ConsentStore> Ctx<'_, S> {
    /// Whether a grant with every quality of `required`, and none of
    /// `excluded`, is in force for the category.
    fn consent(&self, c: usize, required: ConsentQualities, excluded: ConsentQualities, with_recipient: bool) -> bool {
        let (Some((_, p)), Some(cat)) = (self.purpose, self.engine.cats.get(c)) else {
            return false;
        };
        self.store.has_consent(&ConsentQuery {
            subject: &self.req.subject.id,
            purpose: &p.id,
            category: &cat.key,
            covering: &cat.covering,
            recipient: if with_recipient { self.recipient.map(|(_, r)| &r.id) } else { None },
            required,
            excluded,
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
                        builtin("pipl_guardian_consent"),
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
                needs.push(r.qualities, r.id.clone());
            }
        }
    }

    /// Checks the consent the requirements ask for; permits or denies the
    /// category. Combined: one grant must have every quality any of them
    /// names. Per requirement: each must be met by a grant of its own,
    /// which carries no `separate` or `guardian` quality it does not name.
    pub(super) fn require_consent(&self, d: &mut CatDraft, c: usize, needs: Needs, with_recipient: bool) {
        match self.engine.policy.settings.consent_grants {
            ConsentGrants::Combined => {
                let q = needs.union();
                self.require_grant(d, c, q, ConsentQualities::empty(), needs.rules(), with_recipient);
            }
            ConsentGrants::PerRequirement => {
                let answers_only = ConsentQualities::SEPARATE | ConsentQualities::GUARDIAN;
                for (q, rule) in needs.0 {
                    self.require_grant(d, c, q, answers_only.difference(q), vec![rule], with_recipient);
                }
            }
        }
    }

    /// Checks one grant with `q` and none of `excluded`, asked for by `rules`.
    fn require_grant(
        &self,
        d: &mut CatDraft,
        c: usize,
        q: ConsentQualities,
        excluded: ConsentQualities,
        rules: Vec<RuleId>,
        with_recipient: bool,
    ) {
        if self.consent(c, q, excluded, with_recipient) {
            for r in rules {
                let cites = self.cites_of(&r);
                d.permit(reason(r, Effect::Permit, cites.as_ref(), "the consent it requires is in force"));
            }
            return;
        }
        let Some((_, p)) = self.purpose else { return };
        for r in &rules {
            let cites = self.cites_of(r);
            d.deny(reason(
                r.clone(),
                Effect::Deny,
                cites.as_ref(),
                format!("needs consent `{q}`, which is not in force"),
            ));
        }
        d.unmet.push(Unmet::Consent {
            purpose: p.id.clone(),
            categories: vec![d.key().clone()],
            qualities: q,
            from: if q.contains(ConsentQualities::GUARDIAN) { ConsentFrom::Guardian } else { ConsentFrom::Subject },
            recipient: if with_recipient { self.recipient.map(|(_, r)| r.id.clone()) } else { None },
            rules,
        });
    }
}
