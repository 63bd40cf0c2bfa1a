//! A deletion, per item: whether a ground the person invokes holds, and
//! whether a minimum retention or a legal hold restricts it instead (PIPL
//! art. 47), with the duties that follow.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

use super::answer::{AnswerItem, ItemOutcome, LimitGround, RightsDuty, Source};
use super::deadline::local_date;
use super::decide::{Decided, Inputs, cited};
use super::duties::Duties;
use super::holdings::Holding;
use super::request::DeletionGround;
use crate::calendar::DueDate;
use crate::policy::{Policy, PurposeBasis, RetentionRule, Right};
use crate::retention::{bounds, cancelled_by, hold_active, retained_until};

/// The law's article on deletion, cited for a ground the policy does not
/// list and for a refusal.
const PIPL_47: &str = "PIPL art. 47";
/// The article on restriction instead of deletion.
const PIPL_47_2: &str = "PIPL art. 47 ¶2";

/// Decides a held item under a deletion on `grounds`.
pub(crate) fn decide(
    inputs: &Inputs<'_>,
    mut draft: AnswerItem,
    holding: &Holding,
    grounds: &[DeletionGround],
) -> AnswerItem {
    let Some(ground) = grounds.iter().copied().find(|g| holds(inputs, holding, *g)) else {
        draft.outcome = ItemOutcome::Refused;
        draft.ground = Some(LimitGround::NoDeletionGround);
        draft.cites = Some(PIPL_47.to_owned());
        return draft;
    };
    draft.cites = Some(ground_cites(inputs, ground));
    draft.source = ground_source(ground);
    if let Some((delete_on, limit, source, cites)) = restriction(inputs, holding) {
        draft.outcome = ItemOutcome::Restricted { delete_on };
        draft.ground = Some(limit);
        draft.source = source;
        draft.cites = Some(cites);
    }
    draft
}

/// Whether `ground` holds for the item at the request's time.
fn holds(inputs: &Inputs<'_>, holding: &Holding, ground: DeletionGround) -> bool {
    let at = inputs.at();
    let events = &holding.events;
    match ground {
        DeletionGround::ConsentWithdrawn => consent_ended(inputs, holding),
        DeletionGround::RetentionExpired => bounds(rules(inputs.policy, holding), &inputs.policy.settings, events, at)
            .any(|b| b.maximum_passed(at).is_some()),
        DeletionGround::AccountCancelled => cancelled_by(events, at).is_some(),
        DeletionGround::PurposeAchieved => events.purpose_fulfilled.is_some_and(|t| t.to_utc() <= at),
        DeletionGround::Unlawful | DeletionGround::AgainstAgreement | DeletionGround::ServiceStopped => true,
    }
}

/// Whether every purpose the item is held for (at least one) is optional
/// and no grant in force covers it and the category.
fn consent_ended(inputs: &Inputs<'_>, holding: &Holding) -> bool {
    let optional = |id| inputs.policy.purposes.iter().any(|p| &p.id == id && p.basis == PurposeBasis::Optional);
    !holding.purposes.is_empty()
        && holding.purposes.iter().all(|p| optional(p) && !(inputs.granted)(p, &holding.category))
}

/// The retention rules that cover the item: its category, and one of its
/// purposes when the rule names purposes and the holding states some.
pub(crate) fn rules<'a>(policy: &'a Policy, holding: &'a Holding) -> impl Iterator<Item = &'a RetentionRule> {
    policy.retention.iter().filter(move |r| {
        let category = r.categories.is_empty() || r.categories.iter().any(|k| holding.category.is_within(k));
        let purpose = r.purposes.is_empty()
            || holding.purposes.is_empty()
            || r.purposes.iter().any(|p| holding.purposes.contains(p));
        category && purpose
    })
}

/// What restricts the deletion of the item now, if anything: the latest
/// end of a running minimum (or a deadline set outside the policy), and a
/// legal hold; with the date deletion is due (`None`: a hold without end),
/// the ground, the source and the clause.
fn restriction(inputs: &Inputs<'_>, holding: &Holding) -> Option<(Option<NaiveDate>, LimitGround, Source, String)> {
    restriction_at(inputs.policy, holding, inputs.at())
}

/// [`restriction`] of a holding under `policy` at `at`: also what keeps a
/// category after a cancellation or a termination.
pub(crate) fn restriction_at(
    policy: &Policy,
    holding: &Holding,
    at: DateTime<Utc>,
) -> Option<(Option<NaiveDate>, LimitGround, Source, String)> {
    let events = &holding.events;
    let running: Vec<(DateTime<FixedOffset>, String)> = bounds(rules(policy, holding), &policy.settings, events, at)
        .filter(|b| b.minimum_pending(at))
        .filter_map(|b| {
            Some((b.minimum_ends?.ok()?, b.rule.cites.as_ref().map_or_else(|| PIPL_47_2.to_owned(), cited)))
        })
        .chain(retained_until(events, at).map(|u| (u, PIPL_47_2.to_owned())))
        .collect();
    let minimum = running.into_iter().max_by_key(|(end, _)| *end);
    let hold = events.legal_hold.as_ref().filter(|_| hold_active(events, at));
    let date = |t: DateTime<FixedOffset>| local_date(policy, t);
    match (minimum, hold) {
        (None, None) => None,
        (Some((end, cites)), None) => Some((date(end), LimitGround::StatutoryRetention, Source::Retention, cites)),
        (Some((end, cites)), Some(h)) if h.until.is_some_and(|u| u < end) => {
            Some((date(end), LimitGround::StatutoryRetention, Source::Retention, cites))
        }
        (_, Some(h)) => Some((h.until.and_then(date), LimitGround::LegalHold, Source::Holdings, PIPL_47_2.to_owned())),
    }
}

/// The clause a ground rests on: the policy's deletion offer when it lists
/// the ground, PIPL art. 47 otherwise.
fn ground_cites(inputs: &Inputs<'_>, ground: DeletionGround) -> String {
    let offer = inputs.policy.rights.iter().find(|o| o.right == Right::Delete && o.grounds.contains(&ground));
    offer.and_then(|o| o.cites.as_ref()).map_or_else(|| PIPL_47.to_owned(), cited)
}

/// Where a ground's facts come from.
fn ground_source(ground: DeletionGround) -> Source {
    match ground {
        DeletionGround::ConsentWithdrawn => Source::ConsentLedger,
        DeletionGround::RetentionExpired => Source::Retention,
        _ => Source::Holdings,
    }
}

/// The duties of a deletion: for accepted items, stop their purposes,
/// delete by the deadline, purge backups; for restricted ones, restrict to
/// storage and delete by the restriction's end; notify every recipient of
/// either.
pub(crate) fn duties(items: &[Decided<'_>], deadline: Option<&DueDate>, duties: &mut Duties) {
    for (item, holding) in items {
        let Some(h) = holding else { continue };
        match item.outcome {
            ItemOutcome::Accepted => {
                duties.stop(h.purposes.clone());
                if let Some(d) = deadline {
                    duties.push(RightsDuty::DeleteBy { date: d.date });
                }
                duties.push(RightsDuty::PurgeBackups);
            }
            ItemOutcome::Restricted { delete_on } => {
                duties.push(RightsDuty::RestrictToStorage);
                if let Some(date) = delete_on {
                    duties.push(RightsDuty::DeleteBy { date });
                }
            }
            _ => continue,
        }
        duties.push(RightsDuty::NotifyRecipients { recipients: h.recipients.clone() });
    }
}
