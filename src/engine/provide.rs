//! Share, entrust, transfer, cross-border transfer and public disclosure:
//! data leaving the controller.

use super::consent::Requirements;
use super::ctx::Ctx;
use super::draft::{Arg, CatDraft, Msg, ObligationRef, UnmetRef};
use crate::consent::{ConsentQualities, ConsentStore};
use crate::policy::{Action, ActionRule, DataState, Domestic, Duty, PurposeBasis, Recipient, RecipientRequirement};
use crate::taxonomy::Sensitivity;

/// Decides a providing action for one category: the purpose, the recipient
/// and the region, then the exception, minors rules and legal basis.
///
/// A request with no purpose reaches here only on a listed exception
/// ground (see `prepare`): the ground is the basis, so the recipient's
/// purposes are not asked and nothing but the exception can permit it.
pub(super) fn provide<'a, S: ConsentStore>(ctx: &Ctx<'a, S>, c: usize, sensitivity: Sensitivity, d: &mut CatDraft<'a>) {
    let pi = ctx.purpose.map(|(i, _)| i);
    ctx.within_purpose(c, d);
    // A cross-border request that is not one, which the rule permits.
    let mut domestic = false;
    if let Some((ri, r)) = ctx.recipient {
        let abroad = abroad(ctx, ri);
        domestic = cross_border_check(ctx, d, abroad);
        recipient_checks(ctx, c, pi, d, ri, r, domestic);
        abroad_check(ctx, d, r, abroad);
    } else if ctx.req.action != Action::Disclose {
        return;
    }
    ctx.data_states(d);
    if domestic && pi.is_some() {
        // The minors deny rules are consulted even when a check above has
        // denied, so that the decision lists every rule that denies.
        if !ctx.minors_deny(d) && !d.has_deny() {
            let rule: &'a ActionRule = ctx.rule;
            d.permit(
                &rule.id,
                rule.cites.as_ref(),
                "the data does not leave for abroad: the rule permits it without consent",
            );
            provide_obligations(ctx, d, false, false);
        }
        return;
    }
    if let Some(e) = ctx.exception(d) {
        if !d.has_deny() {
            ctx.permit_by_exception(d, e);
            provide_obligations(ctx, d, false, true);
        }
        return;
    }
    if pi.is_none() || ctx.minors_deny(d) {
        return;
    }
    let mut needs = Requirements::default();
    let Some(by_consent) = basis(ctx, d, &mut needs) else { return };
    ctx.policy_requirements(c, &mut needs);
    // Sensitive data provided on consent needs separate consent (PIPL art. 29).
    if by_consent && sensitivity == Sensitivity::Sensitive && !needs.union().contains(ConsentQualities::SEPARATE) {
        needs.push(ConsentQualities::separate(), builtin!("sensitive_separate_consent"), None);
    }
    ctx.guardian_needs(d, &mut needs);
    if !needs.union().is_empty() {
        ctx.require_consent(d, c, &needs, true);
    }
    if d.permit && !d.has_deny() {
        provide_obligations(ctx, d, true, true);
    }
}

/// Whether the data leaves for abroad: it comes from the home region and
/// goes elsewhere (the request's `destination_region`, else the recipient's).
fn abroad<S: ConsentStore>(ctx: &Ctx<'_, S>, ri: usize) -> bool {
    let destination_home =
        ctx.destination_home.unwrap_or_else(|| ctx.engine.recipients.get(ri).is_some_and(|cr| cr.at_home));
    ctx.origin_home && !destination_home
}

/// Denies a `cross_border` that is not one, unless the rule permits it as
/// domestic: then `true`.
fn cross_border_check<'a, S: ConsentStore>(ctx: &Ctx<'a, S>, d: &mut CatDraft<'a>, abroad: bool) -> bool {
    if ctx.req.action != Action::CrossBorder || abroad {
        return false;
    }
    if ctx.rule.domestic == Domestic::Permit {
        return true;
    }
    let engine: &'a super::Engine = ctx.engine;
    let home = &engine.policy.settings.home_region;
    let message = if ctx.origin_home {
        Msg::new(&["the destination is the home region `", "`: this is not a cross-border transfer"], [Arg::Id(home)])
    } else {
        let origin = super::prepare::data_origin(engine, ctx.req);
        Msg::new(
            &["the data comes from `", "`, not from the home region `", "`: this is not a cross-border transfer"],
            [Arg::Id(origin), Arg::Id(home)],
        )
    };
    d.deny(builtin!("not_cross_border"), None, message);
    false
}

/// Denies a provision abroad that must go through the `cross_border` rule.
fn abroad_check<'a, S: ConsentStore>(ctx: &Ctx<'a, S>, d: &mut CatDraft<'a>, r: &'a Recipient, abroad: bool) {
    let provision = matches!(ctx.req.action, Action::Share | Action::Entrust | Action::Disclose | Action::Transfer);
    if abroad && !ctx.rule.allow_abroad && provision {
        let engine: &'a super::Engine = ctx.engine;
        d.deny(
            builtin!("cross_border_required"),
            None,
            Msg::new(
                &["recipient `", "` is outside `", "`: the transfer is a cross-border one"],
                [Arg::Id(ctx.recipient_id().unwrap_or(&r.id).as_str()), Arg::Id(&engine.policy.settings.home_region)],
            ),
        );
    }
}

/// What the recipient may receive (categories, purposes, data state) and
/// the agreements the rule asks of it.
fn recipient_checks<'a, S: ConsentStore>(
    ctx: &Ctx<'a, S>,
    c: usize,
    pi: Option<usize>,
    d: &mut CatDraft<'a>,
    ri: usize,
    r: &'a Recipient,
    domestic: bool,
) {
    let engine: &'a super::Engine = ctx.engine;
    let cr = engine.recipients.get(ri);
    // Every declared recipient has its rule id.
    let Some(rrule) = engine.recipient_rules.get(ri) else { return };
    let deny = |d: &mut CatDraft<'a>, msg| d.deny(rrule, r.cites.as_ref(), msg);
    let name = ctx.recipient_id().unwrap_or(&r.id);
    if !cr.is_some_and(|cr| cr.cats.contains(c)) {
        let args = [Arg::Id(name.as_str()), Arg::Id(d.key.as_str())];
        deny(d, Msg::new(&["recipient `", "` may not receive `", "`"], args));
    }
    if let Some(pi) = pi
        && !cr.is_some_and(|cr| cr.purposes.contains(pi))
    {
        let purpose = ctx.purpose_id().map_or("", |p| p.as_str());
        let args = [Arg::Id(name.as_str()), Arg::Id(purpose)];
        deny(d, Msg::new(&["recipient `", "` may not receive data for purpose `", "`"], args));
    }
    if ctx.req.data_state.protection() < r.data_state.protection() {
        let args = [Arg::Id(name.as_str()), Arg::S(r.data_state.as_str())];
        deny(d, Msg::new(&["recipient `", "` may receive this data only ", " or better"], args));
        d.unmet.push(UnmetRef::DataState(r.data_state));
    }
    let rule: &'a ActionRule = ctx.rule;
    if !rule.requires_of(r.kind) {
        return;
    }
    // A transfer mechanism is for exports only.
    let asked =
        rule.recipient_requires.iter().filter(|rr| !(domestic && **rr == RecipientRequirement::TransferMechanism));
    for rr in asked.filter(|rr| !rr.satisfied_by(&r.agreements)) {
        d.deny(
            &rule.id,
            rule.cites.as_ref(),
            Msg::new(&["recipient `", "` lacks the required ", ""], [Arg::Id(name.as_str()), Arg::S(rr.as_str())]),
        );
        d.unmet.push(UnmetRef::Agreement(name, *rr));
    }
}

/// The legal basis of the provision: permitted on a contract (`Some(false)`),
/// or the rule's consent added to `needs` (`Some(true)`); `None` once denied
/// for want of any basis.
fn basis<'a, S: ConsentStore>(ctx: &Ctx<'a, S>, d: &mut CatDraft<'a>, needs: &mut Requirements<'a>) -> Option<bool> {
    let rule: &'a ActionRule = ctx.rule;
    let action = ctx.req.action;
    let core = ctx.purpose.is_some_and(|(_, p)| p.basis == PurposeBasis::Core);
    if let Some(named) = ctx.named_recipient {
        // A recipient named only in a consent: that consent is the basis.
        needs.push(named.qualities, &named.id, named.cites.as_ref());
        if let Some(needed) = rule.consent {
            needs.push(needed, &rule.id, rule.cites.as_ref());
        }
        return Some(true);
    }
    if action == Action::Entrust && rule.consent.is_none() {
        d.permit(
            &rule.id,
            rule.cites.as_ref(),
            "entrustment rests on the processing contract: no consent for the entrustment itself (PIPL art. 21)",
        );
    } else if rule.core_purposes && core {
        d.permit(&rule.id, rule.cites.as_ref(), "needed to provide the service of a core purpose (PIPL art. 13(2))");
    } else if let Some(needed) = rule.consent {
        needs.push(needed, &rule.id, rule.cites.as_ref());
        return Some(true);
    } else {
        d.deny(
            builtin!("no_basis"),
            rule.cites.as_ref(),
            Msg::new(
                &["no consent permits action `", "` under this policy, and no exception applies"],
                [Arg::S(action.as_str())],
            ),
        );
        return None;
    }
    Some(false)
}

/// The obligations of a permit: the action's built-in duties (unless
/// `builtin` is false), the agreements asked of the recipient, and no
/// re-identification of de-identified data.
fn provide_obligations<'a, S: ConsentStore>(ctx: &Ctx<'a, S>, d: &mut CatDraft<'a>, by_consent: bool, builtin: bool) {
    let action = ctx.req.action;
    let duties: &[Duty] = match action {
        _ if !builtin => &[],
        Action::Share => &[Duty::BindRecipientToPurpose, Duty::NotifySubject],
        Action::Entrust => &[Duty::BindRecipientToPurpose, Duty::ImpactAssessment],
        Action::Transfer => &[Duty::NotifySubject, Duty::NewHolderBound],
        Action::CrossBorder => &[Duty::TransferMechanism, Duty::ImpactAssessment, Duty::NotifySubject],
        Action::Disclose => &[Duty::ImpactAssessment],
        _ => &[],
    };
    for duty in duties {
        if *duty == Duty::NotifySubject && !by_consent && action != Action::Transfer {
            continue;
        }
        ctx.duty(d, *duty);
    }
    let signs_agreements = ctx.recipient.is_some_and(|(_, r)| ctx.rule.requires_of(r.kind));
    for rr in ctx.rule.recipient_requires.iter().filter(|_| signs_agreements) {
        if *rr == RecipientRequirement::Confidentiality {
            ctx.duty(d, Duty::ConfidentialityAgreement);
        }
    }
    if ctx.req.data_state == DataState::DeIdentified {
        d.obligations.push(ObligationRef::NoReidentification);
    }
}
