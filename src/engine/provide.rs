//! Share, entrust, transfer, cross-border transfer and public disclosure:
//! data leaving the controller.

use super::consent::Needs;
use super::evaluate::{CatDraft, Ctx, reason, text};
use crate::consent::{ConsentQualities, ConsentStore};
use crate::decision::{Effect, Obligation, Unmet};
use crate::policy::{Action, CrossBorderOrigin, DataState, Domestic, Duty, PurposeBasis, RecipientRequirement};
use crate::taxonomy::Sensitivity;

pub(super) fn provide<S: ConsentStore>(ctx: &Ctx<'_, S>, c: usize, sensitivity: Sensitivity, d: &mut CatDraft) {
    let (Some((pi, p)), rule) = (ctx.purpose, ctx.rule) else {
        return;
    };
    let action = ctx.req.action;
    ctx.within_purpose(c, d);
    let home = &ctx.engine.policy.settings.home_region;
    // A cross-border request that is not one, which the rule permits.
    let mut domestic = false;
    if let Some((ri, r)) = ctx.recipient {
        let destination = ctx.req.destination_region.as_ref().unwrap_or(&r.region);
        let origin = match ctx.engine.policy.settings.cross_border_origin {
            CrossBorderOrigin::SubjectRegion => ctx.req.subject.region.as_ref().unwrap_or(home),
            CrossBorderOrigin::Home => home,
        };
        let abroad = origin == home && destination != home;
        if action == Action::CrossBorder && !abroad && rule.domestic == Domestic::Permit {
            domestic = true;
        } else if action == Action::CrossBorder && !abroad {
            let message = if origin == home {
                format!("the destination is the home region `{home}`: this is not a cross-border transfer")
            } else {
                format!(
                    "the data comes from `{origin}`, not from the home region `{home}`: this is not a cross-border transfer"
                )
            };
            d.deny(reason(builtin!("not_cross_border"), Effect::Deny, None, message));
        }
        let cr = ctx.engine.recipients.get(ri);
        if !cr.is_some_and(|cr| cr.cats.contains(c)) {
            d.deny(reason(
                ctx.engine.recipient_rules.get(ri).cloned().unwrap_or_else(|| r.id.as_str().into()),
                Effect::Deny,
                r.cites.as_ref(),
                text(&["recipient `", r.id.as_str(), "` may not receive `", d.key.as_str(), "`"]),
            ));
        }
        if !cr.is_some_and(|cr| cr.purposes.contains(pi)) {
            d.deny(reason(
                ctx.engine.recipient_rules.get(ri).cloned().unwrap_or_else(|| r.id.as_str().into()),
                Effect::Deny,
                r.cites.as_ref(),
                text(&["recipient `", r.id.as_str(), "` may not receive data for purpose `", p.id.as_str(), "`"]),
            ));
        }
        if ctx.req.data_state.protection() < r.data_state.protection() {
            d.deny(reason(
                ctx.engine.recipient_rules.get(ri).cloned().unwrap_or_else(|| r.id.as_str().into()),
                Effect::Deny,
                r.cites.as_ref(),
                text(&[
                    "recipient `",
                    r.id.as_str(),
                    "` may receive this data only ",
                    r.data_state.as_str(),
                    " or better",
                ]),
            ));
            d.unmet.push(Unmet::DataState { at_least: r.data_state });
        }
        if rule.requires_of(r.kind) {
            // A transfer mechanism is for exports only.
            let asked = rule
                .recipient_requires
                .iter()
                .filter(|rr| !(domestic && **rr == RecipientRequirement::TransferMechanism));
            for rr in asked {
                if !rr.satisfied_by(&r.agreements) {
                    d.deny(reason(
                        rule.id.clone(),
                        Effect::Deny,
                        rule.cites.as_ref(),
                        text(&["recipient `", r.id.as_str(), "` lacks the required ", rr.as_str()]),
                    ));
                    d.unmet.push(Unmet::Agreement { recipient: r.id.clone(), requirement: *rr });
                }
            }
        }
        if abroad
            && !rule.allow_abroad
            && matches!(action, Action::Share | Action::Entrust | Action::Disclose | Action::Transfer)
        {
            d.deny(reason(
                builtin!("cross_border_required"),
                Effect::Deny,
                None,
                format!("recipient `{}` is outside `{home}`: the transfer is a cross-border one", r.id),
            ));
        }
    } else if action != Action::Disclose {
        return;
    }

    ctx.data_states(d);
    if domestic {
        // The minors deny rules are consulted even when a check above has
        // denied, so that the decision lists every rule that denies.
        if !ctx.minors_deny(d) && !d.has_deny() {
            d.permit(reason(
                rule.id.clone(),
                Effect::Permit,
                rule.cites.as_ref(),
                "the data does not leave for abroad: the rule permits it without consent",
            ));
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
        d.permit(reason(
            rule.id.clone(),
            Effect::Permit,
            rule.cites.as_ref(),
            "entrustment rests on the processing contract: no consent for the entrustment itself (PIPL art. 21)"
                .to_owned(),
        ));
    } else if rule.core_purposes && core {
        d.permit(reason(
            rule.id.clone(),
            Effect::Permit,
            rule.cites.as_ref(),
            "needed to provide the service of a core purpose (PIPL art. 13(2))",
        ));
    } else if let Some(needed) = rule.consent {
        needs.push(needed, rule.id.clone(), rule.cites.as_ref());
        by_consent = true;
    } else {
        d.deny(reason(
            builtin!("no_basis"),
            Effect::Deny,
            rule.cites.as_ref(),
            format!("no consent permits action `{}` under this policy, and no exception applies", action.as_str()),
        ));
        return;
    }
    ctx.policy_requirements(c, &mut needs);
    // Sensitive data provided on consent needs separate consent (PIPL art. 29).
    if by_consent && sensitivity == Sensitivity::Sensitive && !needs.union().contains(ConsentQualities::SEPARATE) {
        needs.push(ConsentQualities::separate(), builtin!("sensitive_separate_consent"), None);
    }
    ctx.guardian_needs(d, &mut needs);
    if !needs.union().is_empty() {
        ctx.require_consent(d, c, needs, true);
    }
    if d.permit && !d.has_deny() {
        provide_obligations(ctx, d, true, true);
    }
}

/// The obligations of a permit: the action's built-in duties (unless
/// `builtin` is false), the agreements asked of the recipient, and no
/// re-identification of de-identified data.
fn provide_obligations<S: ConsentStore>(ctx: &Ctx<'_, S>, d: &mut CatDraft, by_consent: bool, builtin: bool) {
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
    d.obligations.reserve(duties.len() + ctx.rule.recipient_requires.len() + ctx.rule.duties.len() + 1);
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
        d.obligations.push(Obligation::NoReidentification);
    }
}
