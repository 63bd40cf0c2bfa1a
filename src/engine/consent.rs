//! The consent a category needs: the requirements that apply, the guardian's
//! share, and the look-ups that check them, combined into one grant or one
//! grant per requirement as the policy says.

use super::ctx::{Ctx, PIPL_CHILD_AGE};
use super::draft::{Arg, CatDraft, Msg, ObligationRef, Small, UnmetRef};
use crate::consent::{ConsentQualities, ConsentQuery, ConsentStore, Grants, Numbered};
use crate::ids::{Cites, PurposeId, RuleId, SubjectId};
use crate::policy::{ConsentGrants, MinorEffect};
use crate::taxonomy::CategoryKey;
use chrono::{DateTime, Utc};

/// The consent requirements that apply to a category: the qualities each
/// names, the rule that asks and the clause it cites, in the order they were
/// found.
#[derive(Debug, Default)]
pub(super) struct Requirements<'a>(Small<Requirement<'a>, 6>);

type Requirement<'a> = (ConsentQualities, &'a RuleId, Option<&'a Cites>);

impl<'a> Requirements<'a> {
    pub(super) fn push(&mut self, qualities: ConsentQualities, rule: &'a RuleId, cites: Option<&'a Cites>) {
        self.0.push((qualities, rule, cites));
    }

    /// Every quality some requirement names.
    pub(super) fn union(&self) -> ConsentQualities {
        self.0.iter().fold(ConsentQualities::empty(), |q, (n, _, _)| q | *n)
    }
}

impl super::Engine {
    /// The versions (first and last index, inclusive) whose grants for
    /// purpose `p`, category `c` and, if set, the recipient cover a decision
    /// under this version: a grant given under version `V` counts under `W`
    /// unless a version after the earlier of the two, up to the later, made
    /// a fresh consent that matches it ([`FreshConsent`]).
    ///
    /// [`FreshConsent`]: crate::FreshConsent
    pub(super) fn grant_versions(&self, p: usize, c: usize, recipient: Option<usize>) -> (usize, usize) {
        self.version_window(self.lapses.get(p).map_or(&[][..], Vec::as_slice), c, recipient)
    }

    /// The same for a purpose this version does not declare, by name.
    fn named_grant_versions(&self, purpose: &PurposeId, c: usize, recipient: Option<usize>) -> (usize, usize) {
        let lapses = self.named_lapses.iter().find(|(id, _)| id == purpose).map_or(&[][..], |(_, l)| l.as_slice());
        self.version_window(lapses, c, recipient)
    }

    /// The window of versions whose grants still cover this one, given the
    /// lapses of one purpose.
    fn version_window(&self, lapses: &[super::compile::Lapse], c: usize, recipient: Option<usize>) -> (usize, usize) {
        let w = self.version_index;
        let (mut first, mut last) = (0, self.versions.len().saturating_sub(1));
        for l in lapses {
            let matches =
                l.cats.as_ref().is_none_or(|s| s.contains(c)) && l.recipient.is_none_or(|r| Some(r) == recipient);
            if !matches {
                continue;
            }
            if l.version <= w {
                first = first.max(l.version);
            } else {
                last = last.min(l.version.saturating_sub(1));
            }
        }
        (first, last)
    }
}

impl super::Engine {
    /// Whether a grant of any quality, given under this policy in a version
    /// that still covers this one, is in force at `at` for `purpose` and
    /// `category` (or a category whose grants cover it): the look-up of
    /// [`grants`](Ctx::grants) without a recipient, for rights answers.
    pub(super) fn grant_in_force(
        &self,
        store: &impl ConsentStore,
        subject: &SubjectId,
        purpose: &PurposeId,
        category: &CategoryKey,
        at: DateTime<Utc>,
    ) -> bool {
        let (pi, ci) = (self.purpose_index.get(purpose).copied(), self.cat_index.get(category).copied());
        let covering = ci.and_then(|c| self.cats.get(c)).map_or(&[][..], |c| c.covering.as_slice());
        let (first, last) = match (pi, ci) {
            (Some(p), Some(c)) => self.grant_versions(p, c, None),
            (None, Some(c)) => self.named_grant_versions(purpose, c, None),
            _ => (0, self.versions.len().saturating_sub(1)),
        };
        let mut query = ConsentQuery::new(subject, purpose, category, at)
            .covering(covering)
            .under(&self.policy.id, self.versions.get(first..=last).unwrap_or_default());
        query.purpose_undeclared = pi.is_none();
        !store.grants(&query).is_empty()
    }
}

impl<'a, S: ConsentStore> Ctx<'a, S> {
    /// The grants in force for the category, asked of the store once.
    fn grants(&self, c: usize, with_recipient: bool) -> Grants {
        if self.named {
            return self.named_grants(c, with_recipient);
        }
        let (Some((pi, p)), Some(cat)) = (self.purpose, self.engine.cats.get(c)) else {
            return Grants::NONE;
        };
        let recipient = if with_recipient { self.recipient } else { None };
        let engine = self.engine;
        let (first, last) = engine.grant_versions(pi, c, recipient.map(|(ri, _)| ri));
        let query = ConsentQuery {
            subject: &self.req.subject.id,
            purpose: &p.id,
            category: &cat.key,
            covering: &cat.covering,
            recipient: recipient.map(|(_, r)| &r.id),
            required: ConsentQualities::empty(),
            excluded: ConsentQualities::empty(),
            at: self.at,
            purpose_undeclared: false,
            recipient_kind: None,
            // Only grants given under this policy, in a version that still
            // covers this one.
            policy_id: Some(&engine.policy.id),
            policy_versions: engine.versions.get(first..=last).unwrap_or_default(),
            // For a ledger bound to this engine (`Engine::bind_ledger`).
            numbered: Some(Numbered {
                vocabulary: self.engine.stamp,
                purpose: pi,
                category: c,
                covering: &cat.covering_ids,
                recipient: recipient.map(|(ri, _)| ri),
                versions: (u32::try_from(first).unwrap_or(u32::MAX), u32::try_from(last).unwrap_or(u32::MAX)),
            }),
        };
        self.store.grants(&query)
    }

    /// [`grants`](Self::grants) for a purpose or recipient named in consent:
    /// by the request's names, which a bound ledger does not number, and
    /// only from grants that describe them.
    #[cold]
    #[inline(never)]
    fn named_grants(&self, c: usize, with_recipient: bool) -> Grants {
        let (Some(purpose), Some(cat)) = (self.purpose_id(), self.engine.cats.get(c)) else {
            return Grants::NONE;
        };
        let engine = self.engine;
        let recipient_index = self.recipient.map(|(ri, _)| ri).filter(|_| with_recipient);
        let (first, last) = match self.purpose {
            Some((pi, _)) if self.named_purpose.is_none() => engine.grant_versions(pi, c, recipient_index),
            _ => engine.named_grant_versions(purpose, c, recipient_index),
        };
        let mut query = ConsentQuery::new(&self.req.subject.id, purpose, &cat.key, self.at)
            .covering(&cat.covering)
            .under(&engine.policy.id, engine.versions.get(first..=last).unwrap_or_default());
        query.purpose_undeclared = self.named_purpose.is_some();
        if let Some(recipient) = self.recipient_id().filter(|_| with_recipient) {
            query.recipient = Some(recipient);
            query.recipient_kind = self.named_recipient.and_then(|r| r.recipient_kind);
        }
        self.store.grants(&query)
    }

    /// Adds the guardian's share of the consent needed, with the rules that
    /// ask, and the guidance duties of the minors rules that apply.
    pub(super) fn guardian_needs(&self, d: &mut CatDraft<'a>, needs: &mut Requirements<'a>) {
        let engine: &'a super::Engine = self.engine;
        match &engine.policy.minors {
            Some(m) => {
                if self.is_minor_below(m.guardian_consent_below) {
                    needs.push(
                        m.guardian_qualities | ConsentQualities::GUARDIAN | ConsentQualities::separate(),
                        &m.id,
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
                                &r.id,
                                r.cites.as_ref(),
                            );
                        }
                        MinorEffect::Guidance => {
                            d.obligations.push(ObligationRef::GuardianGuidance);
                            d.note(&r.id, r.cites.as_ref(), "guardians should guide this minor");
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
    pub(super) fn policy_requirements(&self, c: usize, needs: &mut Requirements<'a>) {
        let bit = super::action_bit(self.req.action);
        if let Some(r) = self.named_purpose {
            needs.push(r.qualities, &r.id, r.cites.as_ref());
        }
        let e: &'a super::Engine = self.engine;
        let by_purpose =
            self.purpose.and_then(|(i, _)| e.requirements_by_purpose.get(i)).map_or(&[][..], Vec::as_slice);
        for &i in by_purpose.iter().chain(&e.requirements_any_purpose) {
            let (Some(cr), Some(r)) = (e.requirements.get(i), e.policy.consent_requirements.get(i)) else { continue };
            let kind_matches =
                cr.kinds == 0 || self.recipient.is_some_and(|(_, r)| cr.kinds & super::kind_bit(r.kind) != 0);
            if cr.actions & bit != 0 && kind_matches && cr.cats.as_ref().is_none_or(|s| s.contains(c)) {
                needs.push(r.qualities, &r.id, r.cites.as_ref());
            }
        }
    }

    /// Checks the consent the requirements ask for; permits or denies the
    /// category. Combined: one grant must have every quality any of them
    /// names. Per requirement: each must be met by a grant of its own,
    /// which carries no `separate` or `guardian` quality it does not name.
    pub(super) fn require_consent(
        &self,
        d: &mut CatDraft<'a>,
        c: usize,
        needs: &Requirements<'a>,
        with_recipient: bool,
    ) {
        let grants = self.grants(c, with_recipient);
        match self.engine.policy.settings.consent_grants {
            ConsentGrants::Combined => {
                let q = needs.union();
                self.require_grant(d, grants.any(q, ConsentQualities::empty()), q, needs.0.iter(), with_recipient);
            }
            ConsentGrants::PerRequirement => {
                let answers_only = ConsentQualities::SEPARATE | ConsentQualities::GUARDIAN;
                for need in needs.0.iter() {
                    let q = need.0;
                    let in_force = grants.any(q, answers_only.difference(q));
                    self.require_grant(d, in_force, q, std::iter::once(need), with_recipient);
                }
            }
        }
    }

    /// Permits the category if a grant with `q` is in force, or denies it
    /// on behalf of the requirements that ask for it.
    fn require_grant<'n>(
        &self,
        d: &mut CatDraft<'a>,
        in_force: bool,
        q: ConsentQualities,
        needs: impl Iterator<Item = &'n Requirement<'a>> + Clone,
        with_recipient: bool,
    ) where
        'a: 'n,
    {
        if in_force {
            for (_, rule, cites) in needs {
                d.permit(rule, *cites, "the consent it requires is in force");
            }
            return;
        }
        let Some(purpose) = self.purpose_id() else { return };
        let message = Msg::new(&["needs consent `", "`, which is not in force"], [Arg::Qualities(q)]);
        for (_, rule, cites) in needs.clone() {
            d.deny(rule, *cites, message);
        }
        let recipient = if with_recipient { self.recipient_id() } else { None };
        d.need_consent(purpose, q, recipient, needs.map(|(_, rule, _)| *rule));
        // A purpose or recipient the policy does not declare: the grant
        // must describe it.
        let named_recipient = self.named_recipient.filter(|_| with_recipient).and_then(|r| r.recipient_kind);
        if self.named_purpose.is_some() || named_recipient.is_some() {
            let purpose = self.named_purpose.map(|_| purpose);
            d.unmet.push(UnmetRef::Described(purpose, recipient.zip(named_recipient)));
        }
    }
}
