//! Purposes and recipients named only in a consent (the policy's
//! `named_in_consent`): each rule compiled as one more purpose or recipient,
//! numbered after the declared ones, so that a request for an undeclared
//! purpose or recipient runs through the same checks as a declared one.
//! Nothing here runs for a request whose names the policy declares.

use super::bitset::BitSet;
use super::{CPurpose, CRecipient, Engine};
use crate::ids::{PurposeId, RecipientId};
use crate::policy::{Action, NamedInConsent, Names, Policy, Purpose, PurposeBasis, Recipient};

/// The `named_in_consent` rules, compiled.
#[derive(Debug, Default)]
pub(super) struct NamedRoutes {
    /// Each purpose rule as a purpose (optional, on the rule's categories),
    /// with the rule's index; its id is `declared purposes + position`.
    pub(super) purposes: Vec<(Purpose, usize)>,
    /// Each recipient rule as a recipient of the rule's kind, with the
    /// rule's index; its id is `declared recipients + position`.
    pub(super) recipients: Vec<(Recipient, usize)>,
    /// For each action, the position of its purpose rule and of its
    /// recipient rule.
    pub(super) by_action: [(Option<usize>, Option<usize>); 10],
}

/// Which undeclared names of a request no rule of the policy lets a consent
/// name: only a revised policy can permit them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct PolicyChange {
    pub(super) purpose: bool,
    pub(super) recipient: bool,
}

impl PolicyChange {
    pub(super) fn any(self) -> bool {
        self.purpose || self.recipient
    }
}

/// A request's purpose and recipient resolved, and the `named_in_consent`
/// rules they stand for.
pub(super) type NamedParts<'e> = (
    Option<(usize, &'e Purpose)>,
    Option<(usize, &'e Recipient)>,
    Option<&'e NamedInConsent>,
    Option<&'e NamedInConsent>,
);

/// The rules as purposes and recipients: the policy's declarations they
/// stand for, and their compiled sets (`within` makes a category set).
pub(super) fn compile(
    policy: &Policy,
    within: impl Fn(&[crate::taxonomy::CategoryKey]) -> BitSet,
    purpose_set: impl Fn(&[PurposeId]) -> BitSet,
) -> (NamedRoutes, Vec<CPurpose>, Vec<CRecipient>) {
    let mut routes = NamedRoutes::default();
    let (mut purposes, mut recipients) = (Vec::new(), Vec::new());
    let all_purposes =
        policy.purposes.len() + policy.named_in_consent.iter().filter(|r| r.names == Names::Purpose).count();
    for (i, r) in policy.named_in_consent.iter().enumerate() {
        let slot = match r.names {
            Names::Purpose => {
                routes.purposes.push((as_purpose(r), i));
                purposes.push(CPurpose { cats: within(&r.categories) });
                routes.purposes.len() - 1
            }
            Names::Recipient => {
                routes.recipients.push((as_recipient(r, &policy.settings.home_region), i));
                let mut allowed = purpose_set(&r.purposes);
                if r.purposes.is_empty() {
                    allowed = BitSet::new(all_purposes);
                    (0..all_purposes).for_each(|p| allowed.insert(p));
                }
                recipients.push(CRecipient { cats: within(&r.categories), purposes: allowed, at_home: true });
                routes.recipients.len() - 1
            }
        };
        for a in &r.actions {
            if let Some(entry) = routes.by_action.get_mut(*a as usize) {
                match r.names {
                    Names::Purpose => entry.0 = Some(slot),
                    Names::Recipient => entry.1 = Some(slot),
                }
            }
        }
    }
    (routes, purposes, recipients)
}

/// The purpose a rule stands for: optional (consent is its basis), on the
/// rule's categories.
fn as_purpose(r: &NamedInConsent) -> Purpose {
    let mut p = Purpose::new(PurposeId::new(r.id.as_str()), PurposeBasis::Optional, r.categories.clone());
    p.cites = r.cites.clone();
    p
}

/// The recipient a rule stands for: of the rule's kind, at home unless the
/// request names a destination, with the rule's agreements.
fn as_recipient(r: &NamedInConsent, home: &str) -> Recipient {
    let kind = r.recipient_kind.unwrap_or(crate::policy::RecipientKind::Partner);
    let mut x = Recipient::new(RecipientId::new(r.id.as_str()), kind, home);
    x.categories = r.categories.clone();
    x.purposes = r.purposes.clone();
    x.agreements = r.agreements.clone();
    x.cites = r.cites.clone();
    x
}

impl Engine {
    /// The id of the purpose a consent may name for `action`, if a rule
    /// lets it. Data kept for such a purpose is retained, deleted and
    /// anonymised under the first rule that names purposes (the retention
    /// rules that name no purpose govern it).
    pub(super) fn named_purpose_for(&self, action: Action) -> Option<usize> {
        let slot = match action.is_retention() {
            true => (!self.named.purposes.is_empty()).then_some(0)?,
            false => self.named.by_action.get(action as usize)?.0?,
        };
        Some(self.policy.purposes.len() + slot)
    }

    /// The id of the recipient a consent may name for `action`, if a rule
    /// lets it.
    pub(super) fn named_recipient_for(&self, action: Action) -> Option<usize> {
        let slot = self.named.by_action.get(action as usize)?.1?;
        Some(self.policy.recipients.len() + slot)
    }

    /// The purpose and recipient with these ids (declared, or named in
    /// consent), and the rules those named in consent stand for.
    #[cold]
    #[inline(never)]
    pub(super) fn named_parts(&self, purpose: Option<usize>, recipient: Option<usize>) -> NamedParts<'_> {
        (
            purpose.and_then(|i| self.purpose_at(i).map(|p| (i, p))),
            recipient.and_then(|i| self.recipient_at(i).map(|r| (i, r))),
            purpose.and_then(|i| self.named_purpose_rule(i)),
            recipient.and_then(|i| self.named_recipient_rule(i)),
        )
    }

    /// The purpose with this id: declared, or named in consent.
    pub(super) fn purpose_at(&self, i: usize) -> Option<&Purpose> {
        self.policy.purposes.get(i).or_else(|| self.named.purposes.get(i - self.policy.purposes.len()).map(|(p, _)| p))
    }

    /// The recipient with this id: declared, or named in consent.
    pub(super) fn recipient_at(&self, i: usize) -> Option<&Recipient> {
        let declared = self.policy.recipients.len();
        self.policy.recipients.get(i).or_else(|| self.named.recipients.get(i - declared).map(|(r, _)| r))
    }

    /// The rule a purpose id stands for, if it is one named in consent.
    pub(super) fn named_purpose_rule(&self, i: usize) -> Option<&NamedInConsent> {
        let (_, rule) = self.named.purposes.get(i.checked_sub(self.policy.purposes.len())?)?;
        self.policy.named_in_consent.get(*rule)
    }

    /// The rule a recipient id stands for, if it is one named in consent.
    pub(super) fn named_recipient_rule(&self, i: usize) -> Option<&NamedInConsent> {
        let (_, rule) = self.named.recipients.get(i.checked_sub(self.policy.recipients.len())?)?;
        self.policy.named_in_consent.get(*rule)
    }
}
