//! The evaluator: one request, one decision, default deny.

use std::borrow::Cow;

use chrono::{DateTime, Datelike, Utc};

use super::Engine;
use super::consent::Needs;
use super::draft::{Arg, CatDraft, Msg, Need, Ob, Small};
use super::retention::cancelled_by;
use super::ruling::Ruling;
use crate::consent::{ConsentQualities, ConsentStore};
use crate::decision::{Decision, Effect, NoticeField, Reason};
use crate::ground::Ground;
use crate::ids::{Cites, RuleId};
use crate::policy::{
    Action, ActionRule, CrossBorderOrigin, DataState, Duty, Exception, MinorEffect, Purpose, PurposeBasis, Recipient,
    RecipientKind, UnknownAge,
};
use crate::request::{MAX_AGE, Request};
use crate::taxonomy::Sensitivity;

/// Below this age a child's personal data is sensitive (PIPL art. 28).
pub(super) const PIPL_CHILD_AGE: u8 = 14;

pub(super) fn reason(
    rule: RuleId,
    effect: Effect,
    cites: Option<&Cites>,
    message: impl Into<Cow<'static, str>>,
) -> Reason {
    Reason { rule, effect, cites: cites.cloned(), message: message.into() }
}

/// A request resolved against one engine: its names looked up once, and
/// what does not depend on consent already checked.
///
/// Made by [`Engine::prepare`]; decide it with [`Engine::decide`], as often
/// as needed (against other consent stores, for instance). It borrows the
/// request.
#[derive(Clone, Debug)]
pub struct Prepared<'r> {
    pub(super) req: &'r Request,
    /// The engine that prepared it.
    pub(super) stamp: u64,
    /// Each category's id, `None` if undeclared; inline for the first few,
    /// so that deciding reads no other allocation of the prepared request.
    pub(super) cat_ids: Small<Option<usize>, 4>,
    pub(super) rule: Option<usize>,
    /// Whether the data comes from the home region (by
    /// `settings.cross_border_origin`), and whether the request's
    /// `destination_region`, if it names one, is the home region: compared
    /// here once, so that deciding compares no text.
    pub(super) origin_home: bool,
    pub(super) destination_home: Option<bool>,
    pub(super) purpose: Option<usize>,
    pub(super) recipient: Option<usize>,
    /// Request-level reasons: undeclared names, invalid times, age notes.
    pub(super) top: Vec<Reason>,
    pub(super) top_denied: bool,
    pub(super) age: Option<u8>,
    pub(super) at: DateTime<Utc>,
}

impl Prepared<'_> {
    /// The request.
    pub fn request(&self) -> &Request {
        self.req
    }
}

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
    /// The age the decision uses: stated, from the birth date, or assumed.
    age: Option<u8>,
}

pub(super) fn evaluate(engine: &Engine, req: &Request, store: &impl ConsentStore) -> Decision {
    decide(engine, &prepare(engine, req), store).to_decision()
}

/// Resolves the request's names to the engine's dense ids and checks what
/// does not depend on consent: declared action, purpose, recipient and
/// categories, the recipient's kind, the times and the age.
pub(super) fn prepare<'r>(engine: &Engine, req: &'r Request) -> Prepared<'r> {
    let mut top: Vec<Reason> = Vec::new();
    let deny_top = |top: &mut Vec<Reason>, rule: &RuleId, message: String| {
        top.push(reason(rule.clone(), Effect::Deny, None, message));
    };
    let policy = &engine.policy;

    if req.categories.is_empty() {
        deny_top(&mut top, builtin!("no_category"), "the request names no data category".to_owned());
    }
    let mut cat_ids = Small::default();
    for key in &req.categories {
        match engine.cat_index.get(key) {
            Some(&i) => cat_ids.push(Some(i)),
            None => {
                cat_ids.push(None);
                deny_top(&mut top, builtin!("undeclared_category"), format!("data category `{key}` is not declared"));
            }
        }
    }
    let rule = engine.action_rules.get(req.action as usize).copied().flatten();
    if rule.is_none() {
        deny_top(
            &mut top,
            builtin!("undeclared_action"),
            format!("the policy has no rule for action `{}`", req.action.as_str()),
        );
    }
    let retention_action = req.action.is_retention();
    let purpose = match &req.purpose {
        Some(id) => match engine.purpose_index.get(id) {
            Some(&i) => Some(i),
            None => {
                deny_top(&mut top, builtin!("undeclared_purpose"), format!("purpose `{id}` is not declared"));
                None
            }
        },
        None if !retention_action => {
            deny_top(
                &mut top,
                builtin!("missing_purpose"),
                format!("action `{}` needs a purpose", req.action.as_str()),
            );
            None
        }
        None => None,
    };
    let recipient = match &req.recipient {
        Some(id) => match engine.recipient_index.get(id) {
            Some(&i) => Some(i),
            None => {
                deny_top(&mut top, builtin!("undeclared_recipient"), format!("recipient `{id}` is not declared"));
                None
            }
        },
        None => {
            if req.action.needs_recipient() {
                deny_top(
                    &mut top,
                    builtin!("missing_recipient"),
                    format!("action `{}` needs a recipient", req.action.as_str()),
                );
            }
            None
        }
    };
    let rule_ref = rule.and_then(|i| policy.actions.get(i));
    if let (Some(rule), Some(r)) = (rule_ref, recipient.and_then(|i| policy.recipients.get(i))) {
        if !kind_allowed(rule, req, r.kind) {
            top.push(reason(
                rule.id.clone(),
                Effect::Deny,
                rule.cites.as_ref(),
                format!("recipient `{}` is of a kind to which action `{}` may not go", r.id, req.action.as_str()),
            ));
        }
    }
    if !times_representable(req) {
        deny_top(
            &mut top,
            builtin!("invalid_time"),
            "a time in the request lies outside the years 1 to 9999 in its own offset".to_owned(),
        );
    }
    let age = resolve_age(engine, req, &mut top);
    let top_denied = top.iter().any(|r| r.effect == Effect::Deny);
    let home = &policy.settings.home_region;
    let origin_home = data_origin(engine, req) == home;
    Prepared {
        req,
        stamp: engine.stamp,
        cat_ids,
        rule,
        origin_home,
        destination_home: req.destination_region.as_ref().map(|d| d == home),
        purpose,
        recipient,
        top,
        top_denied,
        age,
        at: req.at.with_timezone(&Utc),
    }
}

/// Decides a prepared request.
#[inline(always)]
pub(super) fn decide<'a>(engine: &'a Engine, prepared: &'a Prepared<'a>, store: &impl ConsentStore) -> Ruling<'a> {
    let fresh;
    let (prepared, top) = if prepared.stamp == engine.stamp {
        (prepared, Cow::Borrowed(&prepared.top[..]))
    } else {
        // Prepared by another engine: its ids mean nothing here. The
        // categories need the ids, not the request-level reasons.
        let mut again = prepare(engine, prepared.req);
        let top = std::mem::take(&mut again.top);
        fresh = again;
        (&fresh, Cow::Owned(top))
    };
    let mut ruling = Ruling::new(engine, prepared.req, top, prepared.top_denied);
    decide_categories(engine, prepared, store, &mut ruling);
    ruling
}

/// Drafts each category of a prepared request, in request order. Inlined,
/// so that the ruling is drafted where `decide` returns it, not copied there.
#[inline(always)]
fn decide_categories<'a>(
    engine: &'a Engine,
    prepared: &Prepared<'a>,
    store: &impl ConsentStore,
    ruling: &mut Ruling<'a>,
) {
    let req: &'a Request = prepared.req;
    let policy = &engine.policy;
    let rule = prepared.rule.and_then(|i| policy.actions.get(i).map(|r| (i, r)));
    match rule {
        Some((rule_index, rule)) if !prepared.top_denied => {
            let ctx = Ctx {
                engine,
                req,
                store,
                at: prepared.at,
                rule,
                rule_index,
                origin_home: prepared.origin_home,
                destination_home: prepared.destination_home,
                purpose: prepared.purpose.and_then(|i| policy.purposes.get(i).map(|p| (i, p))),
                recipient: prepared.recipient.and_then(|i| policy.recipients.get(i).map(|r| (i, r))),
                age: prepared.age,
            };
            for (key, idx) in req.categories.iter().zip(prepared.cat_ids.iter()) {
                if let (Some(d), Some(c)) = (ruling.draft(key), *idx) {
                    decide_category(&ctx, c, d);
                }
            }
        }
        _ => {
            for key in &req.categories {
                ruling.draft(key);
            }
        }
    }
}

/// Whether every time in the request can be written back in its own offset
/// (years 1 to 9999), so that the decision, which may repeat them, can too.
fn times_representable(req: &Request) -> bool {
    let ok = |t: &chrono::DateTime<chrono::FixedOffset>| {
        t.naive_utc().checked_add_offset(*t.offset()).is_some_and(|l| (1..=9999).contains(&l.year()))
            && (1..=9999).contains(&t.naive_utc().year())
    };
    let e = &req.events;
    ok(&req.at)
        && [e.collected, e.transaction_completed, e.account_cancelled, e.last_used, e.purpose_fulfilled]
            .iter()
            .flatten()
            .all(ok)
        && e.legal_hold.as_ref().is_none_or(|h| ok(&h.since) && h.until.as_ref().is_none_or(ok))
        && e.retain_until.as_ref().is_none_or(ok)
}

/// The region the request's data comes from, by
/// `settings.cross_border_origin`: the subject's region or the home region.
pub(super) fn data_origin<'a>(engine: &'a Engine, req: &'a Request) -> &'a str {
    let home = &engine.policy.settings.home_region;
    match engine.policy.settings.cross_border_origin {
        CrossBorderOrigin::SubjectRegion => req.subject.region.as_deref().unwrap_or(home),
        CrossBorderOrigin::Home => home,
    }
}

/// Whether the recipient's kind may receive this action, under the rule or
/// under an exception of the claimed ground.
fn kind_allowed(rule: &ActionRule, req: &Request, kind: RecipientKind) -> bool {
    if rule.recipient_kinds.is_empty() || rule.recipient_kinds.contains(&kind) {
        return true;
    }
    req.exception.as_ref().is_some_and(|claim| {
        rule.exceptions.iter().any(|e| e.ground == claim.ground && e.recipient_kinds.contains(&kind))
    })
}

fn resolve_age(engine: &Engine, req: &Request, top: &mut Vec<Reason>) -> Option<u8> {
    let offset = chrono::FixedOffset::east_opt(engine.policy.settings.utc_offset_seconds)
        .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).unwrap_or(*req.at.offset()));
    if let Some(birth) = req.subject.birth_date {
        // Checked: near the end of chrono's range the local time may not exist.
        let today =
            req.at.naive_utc().checked_add_offset(offset).map_or_else(|| req.at.naive_utc().date(), |t| t.date());
        if birth > today {
            top.push(reason(
                builtin!("invalid_birth_date").clone(),
                Effect::Deny,
                None,
                "the subject's birth date is after the time of the request",
            ));
            return None;
        }
        let mut years = today.year() - birth.year();
        if (today.month(), today.day()) < (birth.month(), birth.day()) {
            years -= 1;
        }
        if years > i32::from(MAX_AGE) {
            top.push(reason(
                builtin!("invalid_age").clone(),
                Effect::Deny,
                None,
                format!("the subject's birth date gives an age above {MAX_AGE}"),
            ));
            return None;
        }
        return u8::try_from(years).ok();
    }
    match req.subject.age {
        Some(a) if a > MAX_AGE => {
            top.push(reason(
                builtin!("invalid_age").clone(),
                Effect::Deny,
                None,
                format!("the stated age is above {MAX_AGE}"),
            ));
            None
        }
        Some(a) => Some(a),
        None => match engine.policy.settings.unknown_age {
            UnknownAge::Adult => {
                top.push(reason(
                    builtin!("unknown_age_assumed_adult").clone(),
                    Effect::Note,
                    None,
                    "the subject's age is unknown; the policy says to treat them as an adult",
                ));
                Some(MAX_AGE)
            }
            UnknownAge::Minor => {
                top.push(reason(
                    builtin!("unknown_age_assumed_minor").clone(),
                    Effect::Note,
                    None,
                    "the subject's age is unknown; the policy says to treat them as a child",
                ));
                Some(0)
            }
        },
    }
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
            d.unmet.push(Need::AgeAtLeast(r.below_age));
            denied = true;
        }
        denied
    }

    /// The claimed exception, if the policy lists it for this action and the
    /// request brings its evidence.
    pub(super) fn exception(&self, d: &mut CatDraft<'a>) -> Option<&'a Exception> {
        let claim = self.req.exception.as_ref()?;
        let kind = self.recipient.map(|(_, r)| r.kind);
        let rule: &'a ActionRule = self.rule;
        let mut listed = false;
        for e in rule.exceptions.iter().filter(|e| e.ground == claim.ground) {
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
                return Some(e);
            };
            d.note(
                &e.id,
                e.cites.as_ref(),
                Msg::new(&["exception on ground `", "` lacks its evidence"], [Arg::S(claim.ground.as_str())]),
            );
            for evidence in std::iter::once(first).chain(missing) {
                d.unmet.push(Need::Evidence(claim.ground, *evidence));
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

    pub(super) fn permit_by_exception(&self, d: &mut CatDraft<'a>, e: &'a Exception) {
        d.by_exception = Some(e.ground);
        let message = match e.ground.pipl_basis() {
            Some(b) => {
                Msg::new(&["permitted without consent on ground `", "` (", ")"], [Arg::S(e.ground.as_str()), Arg::S(b)])
            }
            None => Msg::new(&["permitted without consent on ground `", "`"], [Arg::S(e.ground.as_str())]),
        };
        d.permit(&e.id, e.cites.as_ref(), message);
        for duty in e.ground.duties().iter().chain(&e.duties) {
            self.duty(d, *duty);
        }
    }

    /// Turns a duty into an obligation.
    pub(super) fn duty(&self, d: &mut CatDraft<'a>, duty: Duty) {
        let recipient = self.recipient.map(|(_, r)| &r.id);
        let o = match duty {
            Duty::DeIdentifyFirst if self.req.data_state == DataState::Identifiable => Ob::DeIdentifyFirst,
            Duty::DeIdentifyFirst => return,
            Duty::AnonymiseFirst => Ob::AnonymiseFirst,
            Duty::Minimise => {
                d.minimise = true;
                return;
            }
            Duty::Encrypt => Ob::Encrypt,
            Duty::NotifySubject => Ob::NotifySubject(self.notice_fields()),
            Duty::BindRecipientToPurpose => match (recipient, self.purpose) {
                (Some(recipient), Some((_, p))) => Ob::BindRecipientToPurpose(recipient, &p.id),
                _ => return,
            },
            Duty::ConfidentialityAgreement => match recipient {
                Some(recipient) => Ob::ConfidentialityAgreement(recipient),
                None => return,
            },
            Duty::TransferMechanism => match recipient {
                Some(recipient) => Ob::TransferMechanism(recipient),
                None => return,
            },
            Duty::ImpactAssessment => Ob::ImpactAssessment,
            Duty::LegalDocuments => Ob::LegalDocuments,
            Duty::EncryptDisclosure => Ob::EncryptDisclosure,
            Duty::DeIdentifyResults => Ob::DeIdentifyResults,
            Duty::NotForProfit => Ob::NotForProfit,
            Duty::NewHolderBound => Ob::NewHolderBound,
            Duty::AdvanceNotice => Ob::AdvanceNotice,
            Duty::NotifyRecipients => Ob::NotifyRecipients(d.key),
            Duty::NoReidentification => Ob::NoReidentification,
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
            d.unmet.push(Need::DataState(ds.at_least));
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
                    [Arg::Id(d.key.as_str()), Arg::Id(p.id.as_str())],
                ),
            );
        }
        within
    }
}

fn decide_category<'a, S: ConsentStore>(ctx: &Ctx<'a, S>, c: usize, d: &mut CatDraft<'a>) {
    let req = ctx.req;
    if !req.data_state.is_personal() {
        d.permit(
            builtin!("anonymised_out_of_scope"),
            None,
            "anonymised or aggregated data is no longer personal data (PIPL art. 4, 73(4))",
        );
        d.obligations.push(Ob::NoReidentification);
        return;
    }
    let sensitivity = ctx.sensitivity(c);
    if sensitivity == Sensitivity::NonPersonal {
        if !req.linked_to_identity {
            d.permit(
                builtin!("non_personal"),
                None,
                Msg::new(
                    &["`", "` cannot identify anyone on its own and is not linked to an identity"],
                    [Arg::Id(d.key.as_str())],
                ),
            );
            return;
        }
        d.note(
            builtin!("linked_to_identity"),
            None,
            Msg::new(
                &["`", "` is linked to an identity: personal data for as long as it stays linked"],
                [Arg::Id(d.key.as_str())],
            ),
        );
    }
    if req.data_state == DataState::DeIdentified {
        d.note(
            builtin!("de_identified_is_personal"),
            None,
            "de-identified data is still personal data (PIPL art. 73(3))",
        );
    }
    match req.action {
        Action::Collect | Action::Use => collect_use(ctx, c, sensitivity, d),
        Action::Share | Action::Entrust | Action::Transfer | Action::CrossBorder | Action::Disclose => {
            super::provide::provide(ctx, c, sensitivity, d)
        }
        Action::Retain | Action::Delete | Action::Anonymise => super::retention::decide(ctx, c, d),
    }
    let retention_action = req.action.is_retention();
    let cancelled = cancelled_by(&req.events, ctx.at).is_some();
    if cancelled && !retention_action && d.by_exception.is_none() {
        d.deny(
            builtin!("account_cancelled"),
            None,
            "the account is cancelled: that withdraws every authorisation, leaving only storage, security and deletion",
        );
    }
    if d.permit && !d.has_deny() {
        // Authorities' requests may have to stay confidential (PIPL art. 18, 35).
        let confidential = d.by_exception.is_some_and(|g| {
            matches!(g, Ground::AuthorityRequest | Ground::CriminalProceedings | Ground::NationalSecurity)
        });
        let rule: &'a ActionRule = ctx.rule;
        let duties = rule.duties.iter().filter(|duty| !(confidential && **duty == Duty::NotifySubject));
        let mut any = false;
        for duty in duties {
            ctx.duty(d, *duty);
            any = true;
        }
        if any {
            d.note(&rule.id, rule.cites.as_ref(), "the action's duties apply");
        }
    } else {
        d.permit = false;
        // Obligations are the conditions of a permit; a denial keeps only
        // what it leaves the app to do.
        if !retention_action {
            d.obligations.retain(|o| matches!(o, Ob::GuardianGuidance));
            d.minimise = false;
        }
    }
}

fn collect_use<'a, S: ConsentStore>(ctx: &Ctx<'a, S>, c: usize, sensitivity: Sensitivity, d: &mut CatDraft<'a>) {
    let Some((pi, p)) = ctx.purpose else { return };
    if !ctx.within_purpose(c, d) {
        return;
    }
    // A device permission is a technical gate on collection, not consent;
    // the policy may promise that switching it off stops use too.
    let gated = ctx.req.action == Action::Collect || ctx.engine.policy.settings.permission_off_stops_use;
    ctx.data_states(d);
    if let Some(perm) = p.permission.filter(|_| gated) {
        if !ctx.store.permission_on(&ctx.req.subject.id, perm, ctx.at) {
            d.deny(
                builtin!("permission_off"),
                p.cites.as_ref(),
                Msg::new(&["purpose `", "` rests on a device permission that is off"], [Arg::Id(p.id.as_str())]),
            );
            d.unmet.push(Need::Permission(perm));
        }
    }
    if let Some(e) = ctx.exception(d) {
        if !d.has_deny() {
            ctx.permit_by_exception(d, e);
            if sensitivity == Sensitivity::Sensitive {
                d.obligations.push(Ob::Encrypt);
            }
            d.minimise = true;
        }
        return;
    }
    if ctx.minors_deny(d) {
        return;
    }
    let mut needs = Needs::default();
    ctx.policy_requirements(c, &mut needs);
    if p.basis == PurposeBasis::Optional {
        if needs.union().is_empty() {
            needs.push(ConsentQualities::AFFIRMATIVE, builtin!("optional_purpose_consent"), None);
        }
        if sensitivity == Sensitivity::Sensitive && !needs.union().contains(ConsentQualities::SEPARATE) {
            needs.push(ConsentQualities::separate(), builtin!("sensitive_separate_consent"), None);
        }
    } else if let Some(rule) = ctx.engine.purpose_rules.get(pi) {
        d.permit(
            rule,
            p.cites.as_ref(),
            "a core purpose rests on the contract (PIPL art. 13(2)): no consent beyond the policy",
        );
    }
    ctx.guardian_needs(d, &mut needs);
    if !needs.union().is_empty() {
        ctx.require_consent(d, c, &needs, false);
    }
    if d.permit && !d.has_deny() {
        if sensitivity == Sensitivity::Sensitive {
            d.obligations.push(Ob::Encrypt);
            d.obligations.push(Ob::NotifySubject(&[NoticeField::Purpose, NoticeField::Necessity, NoticeField::Impact]));
        }
        d.minimise = true;
    }
}
