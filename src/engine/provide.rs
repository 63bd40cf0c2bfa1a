//! Share, entrust, transfer, cross-border transfer and public disclosure:
//! data leaving the controller.

use super::consent::Needs;
use super::draft::{Arg, CatDraft, Msg, Need, Ob};
use super::evaluate::Ctx;
use crate::consent::{ConsentQualities, ConsentStore};
use crate::policy::ActionRule;
use crate::policy::{Action, DataState, Domestic, Duty, PurposeBasis, RecipientRequirement};
use crate::taxonomy::Sensitivity;

pub(super) fn provide<'a, S: ConsentStore>(ctx: &Ctx<'a, S>, c: usize, sensitivity: Sensitivity, d: &mut CatDraft<'a>) {
    let rule: &'a ActionRule = ctx.rule;
    let Some((pi, p)) = ctx.purpose else {
        return;
    };
    let action = ctx.req.action;
    ctx.within_purpose(c, d);
    let engine: &'a super::Engine = ctx.engine;
    let home = &engine.policy.settings.home_region;
    // A cross-border request that is not one, which the rule permits.
    let mut domestic = false;
    if let Some((ri, r)) = ctx.recipient {
        let destination_home =
            ctx.destination_home.unwrap_or_else(|| engine.recipients.get(ri).is_some_and(|cr| cr.at_home));
        let abroad = ctx.origin_home && !destination_home;
        if action == Action::CrossBorder && !abroad && rule.domestic == Domestic::Permit {
            domestic = true;
        } else if action == Action::CrossBorder && !abroad {
            let origin = super::evaluate::data_origin(engine, ctx.req);
            let message = if ctx.origin_home {
                Msg::new(
                    &["the destination is the home region `", "`: this is not a cross-border transfer"],
                    [Arg::Id(home)],
                )
            } else {
                Msg::new(
                    &[
                        "the data comes from `",
                        "`, not from the home region `",
                        "`: this is not a cross-border transfer",
                    ],
                    [Arg::Id(origin), Arg::Id(home)],
                )
            };
            d.deny(builtin!("not_cross_border"), None, message);
        }
        let cr = engine.recipients.get(ri);
        // Every declared recipient has its rule id.
        let Some(rrule) = engine.recipient_rules.get(ri) else { return };
        if !cr.is_some_and(|cr| cr.cats.contains(c)) {
            d.deny(
                rrule,
                r.cites.as_ref(),
                Msg::new(
                    &["recipient `", "` may not receive `", "`"],
                    [Arg::Id(r.id.as_str()), Arg::Id(d.key.as_str())],
                ),
            );
        }
        if !cr.is_some_and(|cr| cr.purposes.contains(pi)) {
            d.deny(
                rrule,
                r.cites.as_ref(),
                Msg::new(
                    &["recipient `", "` may not receive data for purpose `", "`"],
                    [Arg::Id(r.id.as_str()), Arg::Id(p.id.as_str())],
                ),
            );
        }
        if ctx.req.data_state.protection() < r.data_state.protection() {
            d.deny(
                rrule,
                r.cites.as_ref(),
                Msg::new(
                    &["recipient `", "` may receive this data only ", " or better"],
                    [Arg::Id(r.id.as_str()), Arg::S(r.data_state.as_str())],
                ),
            );
            d.unmet.push(Need::DataState(r.data_state));
        }
        if rule.requires_of(r.kind) {
            // A transfer mechanism is for exports only.
            let asked = rule
                .recipient_requires
                .iter()
                .filter(|rr| !(domestic && **rr == RecipientRequirement::TransferMechanism));
            for rr in asked {
                if !rr.satisfied_by(&r.agreements) {
                    d.deny(
                        &rule.id,
                        rule.cites.as_ref(),
                        Msg::new(
                            &["recipient `", "` lacks the required ", ""],
                            [Arg::Id(r.id.as_str()), Arg::S(rr.as_str())],
                        ),
                    );
                    d.unmet.push(Need::Agreement(&r.id, *rr));
                }
            }
        }
        if abroad
            && !rule.allow_abroad
            && matches!(action, Action::Share | Action::Entrust | Action::Disclose | Action::Transfer)
        {
            d.deny(
                builtin!("cross_border_required"),
                None,
                Msg::new(
                    &["recipient `", "` is outside `", "`: the transfer is a cross-border one"],
                    [Arg::Id(r.id.as_str()), Arg::Id(home)],
                ),
            );
        }
    } else if action != Action::Disclose {
        return;
    }

    ctx.data_states(d);
    if domestic {
        // The minors deny rules are consulted even when a check above has
        // denied, so that the decision lists every rule that denies.
        if !ctx.minors_deny(d) && !d.has_deny() {
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
    if ctx.minors_deny(d) {
        return;
    }
    let mut needs = Needs::default();
    let core = p.basis == PurposeBasis::Core;
    let mut by_consent = false;
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
        by_consent = true;
    } else {
        d.deny(
            builtin!("no_basis"),
            rule.cites.as_ref(),
            Msg::new(
                &["no consent permits action `", "` under this policy, and no exception applies"],
                [Arg::S(action.as_str())],
            ),
        );
        return;
    }
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
        d.obligations.push(Ob::NoReidentification);
    }
}
