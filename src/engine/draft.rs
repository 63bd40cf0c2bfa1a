//! What a decision records while it is made: borrowed ids, message
//! templates and obligation codes, in lists kept inline (a list spills to
//! the heap only past its inline size). No string is copied or formatted
//! until the decision is rendered as a [`Decision`].
//!
//! One vocabulary runs from rule to rendered decision, with one mapping at
//! each step:
//!
//! - obligations: a policy rule's [`Duty`] becomes an [`ObligationRef`] in
//!   `Ctx::duty` only (the engine's own obligations, such as `DeleteBy`, are
//!   recorded as `ObligationRef` directly); [`ObligationRef::render`] alone
//!   turns it into the public [`Obligation`], variant for variant (`Minimise`
//!   is the draft's `minimise` flag, one obligation for the whole decision).
//! - unmet requirements: the checks record an [`UnmetRef`];
//!   [`CatDraft::render`] alone turns it into the public [`Unmet`], variant
//!   for variant. (`consent::Requirement` is not an unmet requirement: it
//!   is a consent requirement that applies, met or not.)
//!
//! [`Decision`]: crate::Decision
//! [`Duty`]: crate::Duty

use std::borrow::Cow;
use std::fmt::Write as _;

use chrono::{DateTime, FixedOffset};

use super::Engine;
use crate::consent::ConsentQualities;
use crate::decision::{ConsentFrom, Effect, NoticeField, Obligation, Reason, Unmet};
use crate::ids::{Cites, PurposeId, RecipientId, RuleId};
use crate::policy::{DataState, EndAction, Permission, RecipientKind, RecipientRequirement, Trigger};
use crate::policy::{Evidence, Ground};
use crate::taxonomy::CategoryKey;

/// A list that keeps its first `N` items inline and spills beyond them.
#[derive(Clone, Debug)]
pub(super) struct Small<T: Copy, const N: usize> {
    len: usize,
    inline: [Option<T>; N],
    spill: Vec<T>,
}

impl<T: Copy, const N: usize> Default for Small<T, N> {
    fn default() -> Self {
        Self { len: 0, inline: [None; N], spill: Vec::new() }
    }
}

impl<T: Copy, const N: usize> Small<T, N> {
    pub(super) fn push(&mut self, item: T) {
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = Some(item),
            None => self.spill.push(item),
        }
        self.len += 1;
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(super) fn iter(
        &self,
    ) -> std::iter::Chain<std::iter::Flatten<std::slice::Iter<'_, Option<T>>>, std::slice::Iter<'_, T>> {
        let used = self.inline.get(..self.len.min(N)).unwrap_or_default();
        used.iter().flatten().chain(self.spill.iter())
    }

    /// Keeps the items `keep` accepts, in order.
    pub(super) fn retain(&mut self, keep: impl Fn(&T) -> bool) {
        let mut kept = 0;
        for i in 0..self.len {
            let item = if i < N { self.inline.get(i).copied().flatten() } else { self.spill.get(i - N).copied() };
            let Some(item) = item.filter(|x| keep(x)) else { continue };
            match self.inline.get_mut(kept) {
                Some(slot) => *slot = Some(item),
                None => {
                    if let Some(slot) = self.spill.get_mut(kept - N) {
                        *slot = item;
                    }
                }
            }
            kept += 1;
        }
        for slot in self.inline.iter_mut().skip(kept) {
            *slot = None;
        }
        self.spill.truncate(kept.saturating_sub(N));
        self.len = kept;
    }
}

impl<T: Copy, const N: usize> FromIterator<T> for Small<T, N> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        let mut list = Self::default();
        for item in items {
            list.push(item);
        }
        list
    }
}

/// A piece of a message.
#[derive(Clone, Copy, Debug)]
pub(super) enum Arg<'a> {
    /// Fixed text.
    S(&'static str),
    /// An id or key, as the policy or request spells it.
    Id(&'a str),
    /// Consent qualities, as `affirmative+separate`.
    Qualities(ConsentQualities),
    /// A time, as `DateTime`'s `Display` writes it.
    Time(DateTime<FixedOffset>),
    /// A number.
    Num(u8),
    /// A retention trigger, by its policy-format name.
    Trigger(Trigger),
}

/// A reason's message, kept as a template and its arguments until the
/// decision is rendered: `pieces[0] args[0] pieces[1] args[1] …`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Msg<'a> {
    pieces: &'static [&'static str],
    args: [Option<Arg<'a>>; 2],
}

impl<'a> Msg<'a> {
    /// A message from its fixed pieces and up to two arguments between them.
    pub(super) fn new<const K: usize>(pieces: &'static [&'static str], args: [Arg<'a>; K]) -> Self {
        const { assert!(K <= 2, "a message has at most two arguments") };
        let mut slots = [None; 2];
        for (slot, arg) in slots.iter_mut().zip(args) {
            *slot = Some(arg);
        }
        Msg { pieces, args: slots }
    }

    fn render(&self) -> Cow<'static, str> {
        if let (["", ""], [Some(Arg::S(s)), None]) = (self.pieces, self.args) {
            return Cow::Borrowed(s);
        }
        let mut out = String::new();
        for (i, piece) in self.pieces.iter().enumerate() {
            out.push_str(piece);
            let Some(Some(arg)) = self.args.get(i) else { continue };
            // Writing to a `String` cannot fail.
            let _ = match arg {
                Arg::S(s) => out.write_str(s),
                Arg::Id(s) => out.write_str(s),
                Arg::Qualities(q) => write!(out, "{q}"),
                Arg::Time(t) => write!(out, "{t}"),
                Arg::Num(n) => write!(out, "{n}"),
                Arg::Trigger(t) => out.write_str(t.as_str()),
            };
        }
        Cow::Owned(out)
    }
}

impl From<&'static str> for Msg<'_> {
    fn from(s: &'static str) -> Self {
        Msg { pieces: &["", ""], args: [Some(Arg::S(s)), None] }
    }
}

/// A reason as it is recorded: the rule and the clause are the policy's own.
#[derive(Clone, Copy, Debug)]
pub(super) struct Why<'a> {
    pub(super) rule: &'a RuleId,
    pub(super) effect: Effect,
    pub(super) cites: Option<&'a Cites>,
    pub(super) msg: Msg<'a>,
}

impl Why<'_> {
    fn render(&self) -> Reason {
        Reason { rule: self.rule.clone(), effect: self.effect, cites: self.cites.cloned(), message: self.msg.render() }
    }
}

/// An obligation as it is recorded: the compact form of [`Obligation`],
/// borrowing from the policy and the request.
#[derive(Clone, Copy, Debug)]
pub(super) enum ObligationRef<'a> {
    DeIdentifyFirst,
    AnonymiseFirst,
    Encrypt,
    NotifySubject(&'static [NoticeField]),
    /// The recipients that may have received this category.
    NotifyRecipients(&'a CategoryKey),
    BindRecipientToPurpose(&'a RecipientId, &'a PurposeId),
    ConfidentialityAgreement(&'a RecipientId),
    TransferMechanism(&'a RecipientId),
    ImpactAssessment,
    LegalDocuments,
    EncryptDisclosure,
    DeIdentifyResults,
    NotForProfit,
    NewHolderBound,
    AdvanceNotice,
    GuardianGuidance,
    NoReidentification,
    RetainUntil(DateTime<FixedOffset>),
    DeleteBy(DateTime<FixedOffset>, EndAction),
    RestrictToStorageAndSecurity,
    PurgeBackupsAtNextCycle,
    IsolateBackups,
}

impl ObligationRef<'_> {
    /// The public obligation: the one mapping from the compact form.
    fn render(self, engine: &Engine) -> Obligation {
        match self {
            ObligationRef::DeIdentifyFirst => Obligation::DeIdentifyFirst,
            ObligationRef::AnonymiseFirst => Obligation::AnonymiseFirst,
            ObligationRef::Encrypt => Obligation::Encrypt,
            ObligationRef::NotifySubject(fields) => Obligation::NotifySubject { fields: fields.to_vec() },
            ObligationRef::NotifyRecipients(key) => {
                Obligation::NotifyRecipients { recipients: engine.recipients_of(key) }
            }
            ObligationRef::BindRecipientToPurpose(recipient, purpose) => {
                Obligation::BindRecipientToPurpose { recipient: recipient.clone(), purpose: purpose.clone() }
            }
            ObligationRef::ConfidentialityAgreement(recipient) => {
                Obligation::ConfidentialityAgreement { recipient: recipient.clone() }
            }
            ObligationRef::TransferMechanism(recipient) => {
                Obligation::TransferMechanism { recipient: recipient.clone() }
            }
            ObligationRef::ImpactAssessment => Obligation::ImpactAssessment,
            ObligationRef::LegalDocuments => Obligation::LegalDocuments,
            ObligationRef::EncryptDisclosure => Obligation::EncryptDisclosure,
            ObligationRef::DeIdentifyResults => Obligation::DeIdentifyResults,
            ObligationRef::NotForProfit => Obligation::NotForProfit,
            ObligationRef::NewHolderBound => Obligation::NewHolderBound,
            ObligationRef::AdvanceNotice => Obligation::AdvanceNotice,
            ObligationRef::GuardianGuidance => Obligation::GuardianGuidance,
            ObligationRef::NoReidentification => Obligation::NoReidentification,
            ObligationRef::RetainUntil(until) => Obligation::RetainUntil { until },
            ObligationRef::DeleteBy(by, end) => Obligation::DeleteBy { by, end },
            ObligationRef::RestrictToStorageAndSecurity => Obligation::RestrictToStorageAndSecurity,
            ObligationRef::PurgeBackupsAtNextCycle => Obligation::PurgeBackupsAtNextCycle,
            ObligationRef::IsolateBackups => Obligation::IsolateBackups,
        }
    }
}

/// An unmet requirement as it is recorded: the compact form of [`Unmet`],
/// borrowing from the policy and the request.
#[derive(Clone, Copy, Debug)]
pub(super) enum UnmetRef<'a> {
    Consent {
        purpose: &'a PurposeId,
        qualities: ConsentQualities,
        from: ConsentFrom,
        recipient: Option<&'a RecipientId>,
        /// The rules that ask, as a range of the draft's `consent_rules`.
        rules: (usize, usize),
    },
    Permission(Permission),
    Agreement(&'a RecipientId, RecipientRequirement),
    Evidence(Ground, Evidence),
    DataState(DataState),
    NotBefore(DateTime<FixedOffset>),
    EventTime(Trigger),
    /// The purpose and the recipient (with its kind) the grant must
    /// describe, those the policy does not declare.
    Described(Option<&'a PurposeId>, Option<(&'a RecipientId, RecipientKind)>),
}

/// A category's outcome in the decision's own types.
pub(super) struct RichDraft {
    pub(super) key: CategoryKey,
    pub(super) permit: bool,
    pub(super) reasons: Vec<Reason>,
    pub(super) obligations: Vec<Obligation>,
    pub(super) unmet: Vec<Unmet>,
    pub(super) minimise: bool,
    pub(super) not_liftable: bool,
}

/// The outcome for one category while it is being decided.
#[derive(Clone, Debug)]
pub(super) struct CatDraft<'a> {
    pub(super) key: &'a CategoryKey,
    pub(super) permit: bool,
    pub(super) reasons: Small<Why<'a>, 4>,
    pub(super) obligations: Small<ObligationRef<'a>, 6>,
    pub(super) unmet: Small<UnmetRef<'a>, 2>,
    /// The rules behind unmet consent requirements.
    pub(super) consent_rules: Small<&'a RuleId, 4>,
    /// The ground of the exception that permitted the category, if one did.
    pub(super) by_exception: Option<Ground>,
    /// Whether a permit must keep to the request's categories (one
    /// `Minimise` obligation for the whole decision).
    pub(super) minimise: bool,
    /// Whether a rule denied that nothing lifts (a minors rule that denies
    /// whatever the consent).
    pub(super) not_liftable: bool,
}

impl<'a> CatDraft<'a> {
    pub(super) fn new(key: &'a CategoryKey) -> Self {
        Self {
            key,
            permit: false,
            reasons: Small::default(),
            obligations: Small::default(),
            unmet: Small::default(),
            consent_rules: Small::default(),
            by_exception: None,
            minimise: false,
            not_liftable: false,
        }
    }

    fn why(rule: &'a RuleId, effect: Effect, cites: Option<&'a Cites>, msg: impl Into<Msg<'a>>) -> Why<'a> {
        Why { rule, effect, cites, msg: msg.into() }
    }

    pub(super) fn permit(&mut self, rule: &'a RuleId, cites: Option<&'a Cites>, msg: impl Into<Msg<'a>>) {
        self.permit = true;
        self.reasons.push(Self::why(rule, Effect::Permit, cites, msg));
    }

    pub(super) fn deny(&mut self, rule: &'a RuleId, cites: Option<&'a Cites>, msg: impl Into<Msg<'a>>) {
        self.permit = false;
        self.reasons.push(Self::why(rule, Effect::Deny, cites, msg));
    }

    pub(super) fn note(&mut self, rule: &'a RuleId, cites: Option<&'a Cites>, msg: impl Into<Msg<'a>>) {
        self.reasons.push(Self::why(rule, Effect::Note, cites, msg));
    }

    pub(super) fn key(&self) -> &'a CategoryKey {
        self.key
    }

    pub(super) fn has_deny(&self) -> bool {
        self.reasons.iter().any(|r| r.effect == Effect::Deny)
    }

    /// Records an unmet consent requirement asked for by `rules`.
    pub(super) fn need_consent(
        &mut self,
        purpose: &'a PurposeId,
        qualities: ConsentQualities,
        recipient: Option<&'a RecipientId>,
        rules: impl Iterator<Item = &'a RuleId>,
    ) {
        let start = self.consent_rules.len();
        for r in rules {
            self.consent_rules.push(r);
        }
        let from =
            if qualities.contains(ConsentQualities::GUARDIAN) { ConsentFrom::Guardian } else { ConsentFrom::Subject };
        self.unmet.push(UnmetRef::Consent {
            purpose,
            qualities,
            from,
            recipient,
            rules: (start, self.consent_rules.len()),
        });
    }

    /// The draft with its reasons, obligations and unmet requirements made
    /// into the decision's types.
    pub(super) fn render(&self, engine: &Engine) -> RichDraft {
        let mut unmet = Vec::with_capacity(self.unmet.len());
        unmet.extend(self.unmet.iter().map(|n| match *n {
            UnmetRef::Consent { purpose, qualities, from, recipient, rules: (start, end) } => Unmet::Consent {
                purpose: purpose.clone(),
                categories: vec![self.key.clone()],
                qualities,
                from,
                recipient: recipient.cloned(),
                rules: self.consent_rules.iter().skip(start).take(end - start).map(|r| (*r).clone()).collect(),
            },
            UnmetRef::Permission(permission) => Unmet::Permission { permission },
            UnmetRef::Agreement(recipient, requirement) => {
                Unmet::Agreement { recipient: recipient.clone(), requirement }
            }
            UnmetRef::Evidence(ground, evidence) => Unmet::Evidence { ground, evidence },
            UnmetRef::DataState(at_least) => Unmet::DataState { at_least },
            UnmetRef::NotBefore(at) => Unmet::NotBefore { at },
            UnmetRef::EventTime(trigger) => Unmet::EventTime { trigger },
            UnmetRef::Described(purpose, recipient) => Unmet::Described {
                purpose: purpose.cloned(),
                recipient: recipient.map(|(r, _)| r.clone()),
                recipient_kind: recipient.map(|(_, k)| k),
            },
        }));
        let mut reasons = Vec::with_capacity(self.reasons.len());
        reasons.extend(self.reasons.iter().map(Why::render));
        // Room for the decision's one `Minimise`.
        let mut obligations = Vec::with_capacity(self.obligations.len() + usize::from(self.minimise));
        obligations.extend(self.obligations.iter().map(|o| o.render(engine)));
        RichDraft {
            key: self.key.clone(),
            permit: self.permit,
            reasons,
            obligations,
            unmet,
            minimise: self.minimise,
            not_liftable: self.not_liftable,
        }
    }
}

/// A reason in the decision's own type.
pub(super) fn reason(
    rule: RuleId,
    effect: Effect,
    cites: Option<&Cites>,
    message: impl Into<Cow<'static, str>>,
) -> Reason {
    Reason { rule, effect, cites: cites.cloned(), message: message.into() }
}
