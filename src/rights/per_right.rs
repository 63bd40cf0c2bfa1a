//! The answer per right for a held item, other than deletion, and the
//! duties each right brings (docs/rights.md, "Per right").

use std::collections::BTreeSet;

use super::answer::{AnswerItem, ItemOutcome, LimitGround, RightsDuty};
use super::decide::{Decided, Inputs};
use super::duties::Duties;
use super::holdings::{Holding, HoldingOrigin};
use super::request::{ObjectionTarget, RightsRequestKind};
use crate::calendar::DueDate;
use crate::ids::PurposeId;
use crate::policy::{ProcessingKind, Purpose, PurposeBasis};

/// The clause for the rights of others limiting access and copies.
const RIGHTS_OF_OTHERS: &str = "GDPR art. 15(4)";
/// The clause that limits portability to what the person provided.
const PROVIDED_ONLY: &str = "PIPL art. 45 ¶3";

/// A held item under access, copy, portability, correction, restriction or
/// explanation.
pub(crate) fn held(inputs: &Inputs<'_>, mut draft: AnswerItem, holding: &Holding) -> AnswerItem {
    let right = &inputs.request.right;
    let refusal = match right {
        RightsRequestKind::Portability if holding.origin != HoldingOrigin::Provided => {
            Some((LimitGround::NotProvidedByPerson, PROVIDED_ONLY))
        }
        RightsRequestKind::Access | RightsRequestKind::Copy | RightsRequestKind::Portability if holding.others_data => {
            Some((LimitGround::RightsOfOthers, RIGHTS_OF_OTHERS))
        }
        _ => None,
    };
    if let Some((ground, cites)) = refusal {
        draft.outcome = ItemOutcome::Refused;
        draft.ground = Some(ground);
        draft.cites = Some(cites.to_owned());
    } else if matches!(right, RightsRequestKind::Access | RightsRequestKind::Copy) {
        draft.purposes = holding.purposes.clone();
        draft.recipients = holding.recipients.clone();
    }
    draft
}

/// A held item under an objection: accepted when it is held for a purpose
/// of the target's kind, whose processing then stops.
pub(crate) fn objection(
    inputs: &Inputs<'_>,
    mut draft: AnswerItem,
    holding: &Holding,
    target: ObjectionTarget,
    duties: &mut Duties,
) -> AnswerItem {
    let declared: Vec<&Purpose> =
        holding.purposes.iter().filter_map(|id| inputs.policy.purposes.iter().find(|p| &p.id == id)).collect();
    let hit: Vec<PurposeId> = declared.iter().filter(|p| of_kind(p, target)).map(|p| p.id.clone()).collect();
    if hit.is_empty() {
        draft.outcome = ItemOutcome::Refused;
        let all_core = !declared.is_empty() && declared.iter().all(|p| p.basis == PurposeBasis::Core);
        if all_core {
            draft.ground = Some(LimitGround::NotBasedOnConsent);
        }
    } else {
        duties.stop(hit);
    }
    draft
}

/// Whether an objection to `target` reaches `purpose`.
fn of_kind(purpose: &Purpose, target: ObjectionTarget) -> bool {
    let kind = match target {
        ObjectionTarget::PersonalisedRecommendations => ProcessingKind::PersonalisedRecommendation,
        ObjectionTarget::Marketing => ProcessingKind::Marketing,
        ObjectionTarget::Profiling => ProcessingKind::Profiling,
        ObjectionTarget::ProgrammaticAdvertising => ProcessingKind::ProgrammaticAdvertising,
        ObjectionTarget::Processing => return purpose.basis == PurposeBasis::Optional,
    };
    purpose.processing.contains(&kind)
}

/// The duties the request's right brings, from the decided items (the
/// objection's are gathered as its items are decided).
pub(crate) fn answer_duties(
    inputs: &Inputs<'_>,
    decided: &[Decided<'_>],
    deadline: Option<&DueDate>,
    duties: &mut Duties,
) {
    let items = || decided.iter().map(|(item, _)| item);
    match &inputs.request.right {
        RightsRequestKind::Deletion { .. } => super::deletion::duties(decided, deadline, duties),
        RightsRequestKind::Restriction if items().any(|i| i.outcome == ItemOutcome::Accepted) => {
            duties.push(RightsDuty::RestrictToStorage);
        }
        RightsRequestKind::Withdrawal { .. } => {
            let purposes = accepted_purposes(items());
            if !purposes.is_empty() {
                duties.push(RightsDuty::RecordWithdrawal { purposes: purposes.clone() });
                duties.stop(purposes);
            }
        }
        RightsRequestKind::RefuseOptional { .. } => duties.stop(accepted_purposes(items())),
        _ => {}
    }
}

/// The purposes of the accepted items, sorted, once each.
pub(crate) fn accepted_purposes<'i>(items: impl Iterator<Item = &'i AnswerItem>) -> Vec<PurposeId> {
    let set: BTreeSet<&PurposeId> =
        items.filter(|i| i.outcome == ItemOutcome::Accepted).filter_map(|i| i.purpose.as_ref()).collect();
    set.into_iter().cloned().collect()
}
