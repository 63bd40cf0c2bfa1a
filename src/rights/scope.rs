//! Which items a request is about: the held categories it covers, those it
//! names that are not held, or the categories of the purposes it names.

use super::answer::{AnswerItem, ItemOutcome, LimitGround, Source};
use super::decide::{Inputs, cited, item};
use super::holdings::Holding;
use super::request::RightsRequestKind;
use crate::ids::PurposeId;
use crate::policy::PurposeBasis;

/// The items of the request, each with the holding it is about (`None`
/// for an item already decided: not held, or about a purpose), in category
/// order, then purpose order.
pub(crate) fn items<'a>(inputs: &Inputs<'a>) -> Vec<(AnswerItem, Option<&'a Holding>)> {
    let mut items = match &inputs.request.right {
        RightsRequestKind::Withdrawal { purposes } => purpose_items(inputs, purposes, true),
        RightsRequestKind::RefuseOptional { purposes } => purpose_items(inputs, purposes, false),
        _ => held_items(inputs),
    };
    items.sort_by(|(a, _), (b, _)| (&a.category, &a.purpose).cmp(&(&b.category, &b.purpose)));
    items
}

/// The held categories the request covers, and each category it names that
/// is not held (refused, `not_held`).
fn held_items<'a>(inputs: &Inputs<'a>) -> Vec<(AnswerItem, Option<&'a Holding>)> {
    let asked = &inputs.request.categories;
    let covered = |h: &&Holding| asked.is_empty() || asked.iter().any(|k| h.category.is_within(k));
    let mut items: Vec<_> = inputs
        .held
        .iter()
        .filter(covered)
        .map(|h| (item(&h.category, ItemOutcome::Accepted, None, Source::Holdings, inputs.right_cites()), Some(h)))
        .collect();
    for k in asked.iter().filter(|k| !inputs.held.iter().any(|h| h.category.is_within(k))) {
        let refused = item(k, ItemOutcome::Refused, Some(LimitGround::NotHeld), Source::Holdings, inputs.right_cites());
        items.push((refused, None));
    }
    items
}

/// One item per purpose and category: accepted for an optional purpose,
/// refused (`not_based_on_consent`) for a core one. No purposes named: every
/// optional purpose (for a withdrawal, `every_optional`).
fn purpose_items<'a>(
    inputs: &Inputs<'a>,
    named: &[PurposeId],
    every_optional: bool,
) -> Vec<(AnswerItem, Option<&'a Holding>)> {
    let purposes = inputs.policy.purposes.iter().filter(|p| {
        if named.is_empty() { every_optional && p.basis == PurposeBasis::Optional } else { named.contains(&p.id) }
    });
    let mut items = Vec::new();
    for p in purposes {
        let (outcome, ground, cites) = match p.basis {
            PurposeBasis::Optional => (ItemOutcome::Accepted, None, inputs.right_cites()),
            PurposeBasis::Core => (
                ItemOutcome::Refused,
                Some(LimitGround::NotBasedOnConsent),
                p.cites.as_ref().map_or_else(|| "PIPL art. 16".to_owned(), cited),
            ),
        };
        for c in &p.categories {
            let mut i = item(c, outcome, ground, Source::Policy, cites.clone());
            i.purpose = Some(p.id.clone());
            items.push((i, None));
        }
    }
    items
}
