//! What every check of a category reads: the request resolved against the
//! engine ([`Ctx`]), and the checks that several actions share (minors
//! rules, exceptions, duties, data states, the purpose's categories).

use super::Engine;
use super::draft::{Arg, CatDraft, Msg, ObligationRef, UnmetRef};
use crate::consent::ConsentStore;
use crate::decision::NoticeField;
use crate::ids::{PurposeId, RecipientId};
use crate::policy::{Action, ActionRule, DataState, Duty, Exception, MinorEffect, NamedInConsent, Purpose, Recipient};
use crate::request::Request;
use crate::taxonomy::Sensitivity;

use chrono::{DateTime, Utc};

/// Below this age a child's personal data is sensitive (PIPL art. 28).
pub(super) const PIPL_CHILD_AGE: u8 = 14;

/// What the evaluator knows of the request once it has been resolved.
pub(super) struct Ctx<'a, S> {
    pub(super) engine: &'a Engine,
    pub(super) req: &'a Request,
    /// The consent store (a reference: stores are read, never owned).
    pub(super) store: S,
    pub(super) at: DateTime<Utc>,
    pub(super) rule: &'a ActionRule,
    /// The action rule's index in the policy.
    pub(super) rule_index: usize,
    pub(super) origin_home: bool,
    pub(super) destination_home: Option<bool>,
    pub(super) purpose: Option<(usize, &'a Purpose)>,
    pub(super) recipient: Option<(usize, &'a Recipient)>,
    /// The `named_in_consent` rules the purpose and the recipient stand
    /// for, when the policy does not declare them.
    pub(super) named_purpose: Option<&'a NamedInConsent>,
    pub(super) named_recipient: Option<&'a NamedInConsent>,
    /// Whether either is: the one test the declared path makes.
    pub(super) named: bool,
    /// The age the decision uses: stated, from the birth date, or assumed.
    pub(super) age: Option<u8>,
}

impl<'a, S: ConsentStore> Ctx<'a, S> {
    /// The sensitivity the decision uses: the category's, raised to
    /// sensitive for a child under 14 (PIPL art. 28) unless the policy says
    /// otherwise.
    pub(super) fn sensitivity(&self, c: usize) -> Sensitivity {
        let base = self.engine.cats.get(c).map_or(Sensitivity::Sensitive, |cat| cat.sensitivity);
        let child = self.age.is_some_and(|a| a < PIPL_CHILD_AGE);
        if base == Sensitivity::Personal && child && self.engine.policy.settings.child_data_sensitive {
            Sensitivity::Sensitive
        } else {
            base
        }
    }

    /// The purpose's name: the policy's id, or the request's for a purpose
    /// named in consent.
    pub(super) fn purpose_id(&self) -> Option<&'a PurposeId> {
        let (_, p) = self.purpose?;
        let req: &'a Request = self.req;
        Some(if self.named_purpose.is_some() { req.purpose.as_ref().unwrap_or(&p.id) } else { &p.id })
    }

    /// The recipient's name: the policy's id, or the request's for a
    /// recipient named in consent.
    pub(super) fn recipient_id(&self) -> Option<&'a RecipientId> {
        let (_, r) = self.recipient?;
        let req: &'a Request = self.req;
        Some(if self.named_recipient.is_some() { req.recipient.as_ref().unwrap_or(&r.id) } else { &r.id })
    }

    pub(super) fn is_minor_below(&self, age: u8) -> bool {
        self.age.is_some_and(|a| a < age)
    }

    pub(super) fn minor_rule_applies(&self, r: &crate::policy::MinorRule) -> bool {
        self.is_minor_below(r.below_age)
            && (!r.requires_real_name || self.req.subject.real_name_verified)
            && (r.actions.is_empty() || r.actions.contains(&self.req.action))
            && (r.purposes.is_empty() || self.purpose.is_some_and(|(_, p)| r.purposes.contains(&p.id)))
    }

    /// Denies the category if a minors rule forbids the processing.
    pub(super) fn minors_deny(&self, d: &mut CatDraft<'a>) -> bool {
        let Some(m) = &self.engine.policy.minors else {
            return false;
        };
        let mut denied = false;
        for r in m.rules.iter().filter(|r| r.effect == MinorEffect::Deny && self.minor_rule_applies(r)) {
            d.deny(
                &r.id,
                r.cites.as_ref(),
                Msg::new(
                    &["subjects under ", " may not have this processing, whatever the consent"],
                    [Arg::Num(r.below_age)],
                ),
            );
            // Whatever the consent (004 §1.2.2): nothing lifts it.
            d.not_liftable = true;
            denied = true;
        }
        denied
    }

    /// The claimed exception, if the policy lists it for this action and the
    /// request brings its evidence.
    /// Returns the exception with its index in the action rule.
    pub(super) fn exception(&self, d: &mut CatDraft<'a>) -> Option<(usize, &'a Exception)> {
        let claim = self.req.exception.as_ref()?;
        let kind = self.recipient.map(|(_, r)| r.kind);
        let rule: &'a ActionRule = self.rule;
        let mut listed = false;
        for (j, e) in rule.exceptions.iter().enumerate().filter(|(_, e)| e.ground == claim.ground) {
            if let Some(k) = kind {
                let kinds = if e.recipient_kinds.is_empty() { &rule.recipient_kinds } else { &e.recipient_kinds };
                if !kinds.is_empty() && !kinds.contains(&k) {
                    continue;
                }
            }
            listed = true;
            let mut missing =
                claim.ground.evidence().iter().chain(&e.requires).filter(|ev| !claim.evidence.contains(ev));
            let Some(first) = missing.next() else {
                return Some((j, e));
            };
            d.note(
                &e.id,
                e.cites.as_ref(),
                Msg::new(&["exception on ground `", "` lacks its evidence"], [Arg::S(claim.ground.as_str())]),
            );
            for evidence in std::iter::once(first).chain(missing) {
                d.unmet.push(UnmetRef::Evidence(claim.ground, *evidence));
            }
        }
        if !listed {
            d.note(
                builtin!("exception_not_available"),
                None,
                Msg::new(
                    &["ground `", "` is not an exception to action `", "` in this policy"],
                    [Arg::S(claim.ground.as_str()), Arg::S(self.req.action.as_str())],
                ),
            );
        }
        None
    }

    /// Permits the category on exception `e` (the `j`th of the action
    /// rule), with its duties. A ground with no basis in PIPL art. 13
    /// permits only where the policy acknowledges its warning, and the
    /// decision notes it; otherwise it denies.
    pub(super) fn permit_by_exception(&self, d: &mut CatDraft<'a>, (j, e): (usize, &'a Exception)) {
        let ground = Arg::S(e.ground.as_str());
        let message = match e.ground.pipl_basis() {
            Some(b) => Msg::new(&["permitted without consent on ground `", "` (", ")"], [ground, Arg::S(b)]),
            None if self.engine.exceptions_usable.get(self.rule_index).and_then(|r| r.get(j)) == Some(&true) => {
                d.note(
                    builtin!("ground_without_pipl_basis"),
                    e.cites.as_ref(),
                    Msg::new(
                        &[
                            "ground `",
                            "` has no basis in PIPL art. 13: permitted only because the policy acknowledges it",
                        ],
                        [ground],
                    ),
                );
                Msg::new(&["permitted without consent on ground `", "`"], [ground])
            }
            None => {
                d.deny(
                    builtin!("ground_without_pipl_basis"),
                    e.cites.as_ref(),
                    Msg::new(
                        &["ground `", "` has no basis in PIPL art. 13 and the policy does not acknowledge it"],
                        [ground],
                    ),
                );
                return;
            }
        };
        d.by_exception = Some(e.ground);
        d.permit(&e.id, e.cites.as_ref(), message);
        for duty in e.ground.duties().iter().chain(&e.duties) {
            self.duty(d, *duty);
        }
    }

    /// Turns a duty into an obligation.
    pub(super) fn duty(&self, d: &mut CatDraft<'a>, duty: Duty) {
        let recipient = self.recipient_id();
        let o = match duty {
            Duty::DeIdentifyFirst if self.req.data_state == DataState::Identifiable => ObligationRef::DeIdentifyFirst,
            Duty::DeIdentifyFirst => return,
            Duty::AnonymiseFirst => ObligationRef::AnonymiseFirst,
            Duty::Minimise => {
                d.minimise = true;
                return;
            }
            Duty::Encrypt => ObligationRef::Encrypt,
            Duty::NotifySubject => ObligationRef::NotifySubject(self.notice_fields()),
            Duty::BindRecipientToPurpose => match (recipient, self.purpose_id()) {
                (Some(recipient), Some(purpose)) => ObligationRef::BindRecipientToPurpose(recipient, purpose),
                _ => return,
            },
            Duty::ConfidentialityAgreement => match recipient {
                Some(recipient) => ObligationRef::ConfidentialityAgreement(recipient),
                None => return,
            },
            Duty::TransferMechanism => match recipient {
                Some(recipient) => ObligationRef::TransferMechanism(recipient),
                None => return,
            },
            Duty::ImpactAssessment => ObligationRef::ImpactAssessment,
            Duty::LegalDocuments => ObligationRef::LegalDocuments,
            Duty::EncryptDisclosure => ObligationRef::EncryptDisclosure,
            Duty::DeIdentifyResults => ObligationRef::DeIdentifyResults,
            Duty::NotForProfit => ObligationRef::NotForProfit,
            Duty::NewHolderBound => ObligationRef::NewHolderBound,
            Duty::AdvanceNotice => ObligationRef::AdvanceNotice,
            Duty::NotifyRecipients => ObligationRef::NotifyRecipients(d.key),
            Duty::NoReidentification => ObligationRef::NoReidentification,
        };
        d.obligations.push(o);
    }

    /// The fields a notice must hold for this action, sorted.
    pub(super) fn notice_fields(&self) -> &'static [NoticeField] {
        use NoticeField as F;
        match self.req.action {
            Action::Share | Action::CrossBorder => {
                &[F::RecipientName, F::RecipientContact, F::Purpose, F::Method, F::Categories, F::RightsExercise]
            }
            Action::Transfer => &[F::RecipientName, F::RecipientContact],
            _ => &[F::Purpose, F::Method, F::Categories, F::Retention],
        }
    }

    /// Denies the category when the data is less protected than one of the
    /// action rule's `data_states` asks for this purpose and recipient.
    pub(super) fn data_states(&self, d: &mut CatDraft<'a>) {
        let state = self.req.data_state;
        let purpose = self.purpose.map(|(i, _)| i);
        let kind = self.recipient.map(|(_, r)| r.kind);
        let rule: &'a ActionRule = self.rule;
        let purposes = self.engine.data_state_purposes.get(self.rule_index).map_or(&[][..], Vec::as_slice);
        for (j, ds) in rule.data_states.iter().enumerate() {
            let listed = |p: usize| purposes.get(j).is_some_and(|set| set.contains(p));
            if state.protection() >= ds.at_least.protection()
                || !(ds.purposes.is_empty() || purpose.is_some_and(listed))
                || !(ds.recipient_kinds.is_empty() || kind.is_some_and(|k| ds.recipient_kinds.contains(&k)))
            {
                continue;
            }
            d.deny(
                &rule.id,
                ds.cites.as_ref().or(rule.cites.as_ref()),
                Msg::new(
                    &["action `", "` may concern this data only ", " or better"],
                    [Arg::S(self.req.action.as_str()), Arg::S(ds.at_least.as_str())],
                ),
            );
            d.unmet.push(UnmetRef::DataState(ds.at_least));
        }
    }

    /// Whether the category is among the purpose's (minimisation), or the
    /// action rule lets the action go beyond them; denies the category if
    /// not.
    pub(super) fn within_purpose(&self, c: usize, d: &mut CatDraft<'a>) -> bool {
        let Some((pi, p)) = self.purpose else { return false };
        if !self.rule.within_purpose {
            return true;
        }
        let within = self.engine.purposes.get(pi).is_some_and(|cp| cp.cats.contains(c));
        if !within {
            d.deny(
                builtin!("category_not_in_purpose"),
                p.cites.as_ref(),
                Msg::new(
                    &["`", "` is not among the categories of purpose `", "`"],
                    [Arg::Id(d.key.as_str()), Arg::Id(self.purpose_id().unwrap_or(&p.id).as_str())],
                ),
            );
        }
        within
    }
}
