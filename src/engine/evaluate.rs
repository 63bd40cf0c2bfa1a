//! The evaluator: one request, one decision, default deny. The top of the
//! engine's files: it prepares the request, builds the [`Ctx`] and runs each
//! category through the checks of its action.

use std::borrow::Cow;

use super::Engine;
use super::consent::Requirements;
use super::ctx::Ctx;
use super::draft::{Arg, CatDraft, Msg, ObligationRef, UnmetRef};
use super::prepare::{Prepared, prepare};
use super::ruling::Ruling;
use crate::consent::{ConsentQualities, ConsentStore};
use crate::decision::{Decision, NoticeField};
use crate::policy::Ground;
use crate::policy::{Action, ActionRule, DataState, Duty, PurposeBasis};
use crate::request::Request;
use crate::retention::cancelled_by;
use crate::taxonomy::Sensitivity;

/// Prepares, decides and renders a request.
pub(super) fn evaluate(engine: &Engine, req: &Request, store: &impl ConsentStore) -> Decision {
    decide(engine, &prepare(engine, req), store).to_decision()
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
    let mut ruling =
        Ruling::new(engine, prepared.req, (top, prepared.top_denied), prepared.policy_change, prepared.in_force);
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
            let (purpose, recipient, named_purpose, named_recipient) = if prepared.named {
                engine.named_parts(prepared.purpose, prepared.recipient)
            } else {
                let purpose = prepared.purpose.and_then(|i| policy.purposes.get(i).map(|p| (i, p)));
                (purpose, prepared.recipient.and_then(|i| policy.recipients.get(i).map(|r| (i, r))), None, None)
            };
            let ctx = Ctx {
                engine,
                req,
                store,
                at: prepared.at,
                rule,
                rule_index,
                origin_home: prepared.origin_home,
                destination_home: prepared.destination_home,
                purpose,
                recipient,
                named_purpose,
                named_recipient,
                named: prepared.named,
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

/// Decides one declared category: out of scope, or by its action's checks,
/// then the account state and the action's duties.
fn decide_category<'a, S: ConsentStore>(ctx: &Ctx<'a, S>, c: usize, d: &mut CatDraft<'a>) {
    let Some(sensitivity) = scope(ctx, c, d) else { return };
    match ctx.req.action {
        Action::Collect | Action::Use => collect_use(ctx, c, sensitivity, d),
        Action::Share | Action::Entrust | Action::Transfer | Action::CrossBorder | Action::Disclose => {
            super::provide::provide(ctx, c, sensitivity, d)
        }
        Action::Retain | Action::Delete | Action::Anonymise => super::retention::decide(ctx, c, d),
    }
    conclude(ctx, d);
}

/// The category's sensitivity as the decision uses it, or `None` once it is
/// permitted as out of scope (anonymised, or non-personal and unlinked).
fn scope<'a, S: ConsentStore>(ctx: &Ctx<'a, S>, c: usize, d: &mut CatDraft<'a>) -> Option<Sensitivity> {
    let req = ctx.req;
    if !req.data_state.is_personal() {
        d.permit(
            builtin!("anonymised_out_of_scope"),
            None,
            "anonymised or aggregated data is no longer personal data (PIPL art. 4, 73(4))",
        );
        d.obligations.push(ObligationRef::NoReidentification);
        return None;
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
            return None;
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
    Some(sensitivity)
}

/// A cancelled account denies every action but retention; a permit takes
/// the action's duties; a denial keeps only what it leaves the app to do.
fn conclude<'a, S: ConsentStore>(ctx: &Ctx<'a, S>, d: &mut CatDraft<'a>) {
    let retention_action = ctx.req.action.is_retention();
    let cancelled = cancelled_by(&ctx.req.events, ctx.at).is_some();
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
        } else if matches!(ctx.req.action, Action::Collect | Action::Use | Action::Retain) {
            // Providing, deleting and anonymising permits already name the
            // rule; the permit names every rule it rests on.
            d.note(&rule.id, rule.cites.as_ref(), "the policy's rule for the action lets it be asked");
        }
    } else {
        d.permit = false;
        // Obligations are the conditions of a permit; a denial keeps only
        // what it leaves the app to do.
        if !retention_action {
            d.obligations.retain(|o| matches!(o, ObligationRef::GuardianGuidance));
            d.minimise = false;
        }
    }
}

fn collect_use<'a, S: ConsentStore>(ctx: &Ctx<'a, S>, c: usize, sensitivity: Sensitivity, d: &mut CatDraft<'a>) {
    let Some((pi, p)) = ctx.purpose else {
        // No purpose: `prepare` let the request through on a listed
        // exception ground, which is the whole basis.
        ctx.data_states(d);
        by_exception(ctx, sensitivity, d);
        return;
    };
    if !ctx.within_purpose(c, d) {
        return;
    }
    // A device permission is a technical gate on collection, not consent;
    // the policy may promise that switching it off stops use too.
    let gated = ctx.req.action == Action::Collect || ctx.engine.policy.settings.permission_off_stops_use;
    ctx.data_states(d);
    if let Some(perm) = p.permission.filter(|_| gated)
        && !ctx.store.permission_on(&ctx.req.subject.id, perm, ctx.at)
    {
        d.deny(
            builtin!("permission_off"),
            p.cites.as_ref(),
            Msg::new(&["purpose `", "` rests on a device permission that is off"], [Arg::Id(p.id.as_str())]),
        );
        d.unmet.push(UnmetRef::Permission(perm));
    }
    if by_exception(ctx, sensitivity, d) {
        return;
    }
    if ctx.minors_deny(d) {
        return;
    }
    let mut needs = Requirements::default();
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
            d.obligations.push(ObligationRef::Encrypt);
            d.obligations.push(ObligationRef::NotifySubject(&[
                NoticeField::Purpose,
                NoticeField::Necessity,
                NoticeField::Impact,
            ]));
        }
        d.minimise = true;
    }
}

/// Permits collection or use on the claimed exception, unless a check has
/// denied; `true` if the exception applies (it then decides).
fn by_exception<'a, S: ConsentStore>(ctx: &Ctx<'a, S>, sensitivity: Sensitivity, d: &mut CatDraft<'a>) -> bool {
    let Some(e) = ctx.exception(d) else { return false };
    if !d.has_deny() {
        ctx.permit_by_exception(d, e);
        if sensitivity == Sensitivity::Sensitive {
            d.obligations.push(ObligationRef::Encrypt);
        }
        d.minimise = true;
    }
    true
}
