//! Answering a rights request, as docs/rights.md says: the scope, the
//! identity check, the answer per right, the outcome as a whole, the duties
//! and the deadline.

use chrono::{DateTime, Utc};

use super::answer::{AnswerItem, AnswerOutcome, ItemOutcome, LimitGround, RightsAnswer, RightsDuty, Source};
use super::holdings::Holding;
use super::request::{Identity, ObjectionTarget, RightsRequest, RightsRequestKind};
use super::{deadline, deletion, duties, per_right, scope};
use crate::calendar::{BeyondData, WorkingCalendar};
use crate::ids::{Cites, PurposeId};
use crate::policy::{Policy, Right};
use crate::taxonomy::CategoryKey;

/// Whether the ledger has a grant in force at the request's time covering
/// the purpose and the category (the evaluator's consent look-up).
pub(crate) type GrantInForce<'a> = dyn Fn(&PurposeId, &CategoryKey) -> bool + 'a;

/// An item with the holding it is about (`None` for an item about a
/// purpose, or a category not held).
pub(crate) type Decided<'a> = (AnswerItem, Option<&'a Holding>);

/// What an answer is decided from.
pub(crate) struct Inputs<'a> {
    /// The policy version in force at the request's `at`.
    pub(crate) policy: &'a Policy,
    pub(crate) request: &'a RightsRequest,
    pub(crate) held: &'a [Holding],
    pub(crate) granted: &'a GrantInForce<'a>,
    pub(crate) calendar: &'a dyn WorkingCalendar,
    pub(crate) beyond: BeyondData,
}

impl Inputs<'_> {
    /// The request's time, in UTC.
    pub(crate) fn at(&self) -> DateTime<Utc> {
        self.request.at.to_utc()
    }

    /// The right the policy's offers name for the request's right.
    pub(crate) fn right(&self) -> Right {
        offered_right(&self.request.right)
    }

    /// The clause of the policy's offer of the request's right, or the
    /// law's article for it.
    pub(crate) fn right_cites(&self) -> String {
        self.offer_cites().unwrap_or_else(|| law_of(&self.request.right).to_owned())
    }

    /// The clause of the policy's offer of the request's right, if it
    /// offers it with one.
    pub(crate) fn offer_cites(&self) -> Option<String> {
        let right = self.right();
        self.policy.rights.iter().find(|o| o.right == right).and_then(|o| o.cites.as_ref()).map(cited)
    }
}

/// A clause as text.
pub(crate) fn cited(c: &Cites) -> String {
    c.as_str().to_owned()
}

/// An item about `category`, answered `outcome` on `ground`.
pub(crate) fn item(
    category: &CategoryKey,
    outcome: ItemOutcome,
    ground: Option<LimitGround>,
    source: Source,
    cites: String,
) -> AnswerItem {
    AnswerItem {
        category: category.clone(),
        purpose: None,
        outcome,
        ground,
        cites: Some(cites),
        source,
        purposes: Vec::new(),
        recipients: Vec::new(),
    }
}

/// The answer to `inputs.request`.
pub(crate) fn answer(inputs: &Inputs<'_>) -> RightsAnswer {
    let request = inputs.request;
    let scoped = scope::items(inputs);
    let suspended = needs_identity(inputs) && request.identity == Identity::Unverified;
    let mut decided: Vec<Decided<'_>> = Vec::with_capacity(scoped.len());
    let mut duties = duties::Duties::default();
    for (draft, holding) in scoped {
        let item = match holding {
            _ if suspended => suspend(draft, inputs),
            Some(h) => decide_held(inputs, draft, h, &mut duties),
            None => draft,
        };
        decided.push((item, holding));
    }
    let outcome =
        if suspended { AnswerOutcome::Suspended } else { whole(&request.right, decided.iter().map(|(item, _)| item)) };
    let (deadline, deadline_error) =
        match deadline::answer_due(inputs.policy, inputs.right(), request.received, inputs.calendar, inputs.beyond) {
            Ok(d) => (Some(d), None),
            Err(e) => (None, Some(e)),
        };
    if suspended {
        duties.push(RightsDuty::VerifyIdentity);
    } else {
        per_right::answer_duties(inputs, &decided, deadline.as_ref(), &mut duties);
    }
    let items: Vec<AnswerItem> = decided.into_iter().map(|(item, _)| item).collect();
    if matches!(outcome, AnswerOutcome::Refused | AnswerOutcome::PartlyAccepted) {
        duties.push(RightsDuty::GiveReasons);
    }
    let withdrawing =
        matches!(request.right, RightsRequestKind::Withdrawal { .. } | RightsRequestKind::RefuseOptional { .. });
    RightsAnswer {
        outcome,
        unavailable: if withdrawing && !suspended { per_right::accepted_purposes(items.iter()) } else { Vec::new() },
        stops_from: (withdrawing && !suspended).then_some(request.at),
        cites: answer_cites(inputs, &items),
        duties: duties.into_ordered(),
        items,
        deadline,
        deadline_error,
        policy_version: inputs.policy.version.clone(),
    }
}

/// Decides one held item under the request's right.
fn decide_held(inputs: &Inputs<'_>, draft: AnswerItem, holding: &Holding, duties: &mut duties::Duties) -> AnswerItem {
    match &inputs.request.right {
        RightsRequestKind::Deletion { grounds } => deletion::decide(inputs, draft, holding, grounds),
        RightsRequestKind::Objection { target } => per_right::objection(inputs, draft, holding, *target, duties),
        _ => per_right::held(inputs, draft, holding),
    }
}

/// An item not acted on until the requester's identity is verified.
fn suspend(mut draft: AnswerItem, inputs: &Inputs<'_>) -> AnswerItem {
    draft.outcome = ItemOutcome::Refused;
    draft.ground = Some(LimitGround::IdentityNotVerified);
    draft.cites = Some(inputs.right_cites());
    draft.purposes.clear();
    draft.recipients.clear();
    draft
}

/// Whether the right needs the requester's identity verified first: the
/// policy's offer says so, or the right discloses or changes the data (004
/// §5.1, 003 §7).
fn needs_identity(inputs: &Inputs<'_>) -> bool {
    let right = inputs.right();
    let offered = inputs.policy.rights.iter().any(|o| o.right == right && o.verify_identity);
    offered
        || matches!(
            inputs.request.right,
            RightsRequestKind::Access
                | RightsRequestKind::Copy
                | RightsRequestKind::Portability
                | RightsRequestKind::Correction
                | RightsRequestKind::Deletion { .. }
        )
}

/// The outcome of the answer as a whole, from its items.
fn whole<'i>(right: &RightsRequestKind, items: impl Iterator<Item = &'i AnswerItem>) -> AnswerOutcome {
    let (mut all, mut accepted, mut refused) = (0, 0, 0);
    for i in items {
        all += 1;
        accepted += usize::from(i.outcome == ItemOutcome::Accepted);
        refused += usize::from(i.outcome == ItemOutcome::Refused);
    }
    if all == 0 {
        let nothing_held_is_an_answer = matches!(
            right,
            RightsRequestKind::Access
                | RightsRequestKind::Copy
                | RightsRequestKind::Portability
                | RightsRequestKind::Explanation { .. }
                | RightsRequestKind::Restriction
        );
        return if nothing_held_is_an_answer { AnswerOutcome::Accepted } else { AnswerOutcome::Refused };
    }
    if accepted == all {
        AnswerOutcome::Accepted
    } else if refused == all {
        AnswerOutcome::Refused
    } else {
        AnswerOutcome::PartlyAccepted
    }
}

/// The clauses the answer rests on: the policy's offer (or the law's
/// article for the right), then each item's, once each.
fn answer_cites(inputs: &Inputs<'_>, items: &[AnswerItem]) -> Vec<String> {
    let mut cites = vec![inputs.right_cites()];
    for c in items.iter().filter_map(|i| i.cites.as_ref()) {
        if !cites.contains(c) {
            cites.push(c.clone());
        }
    }
    cites
}

/// The right of the policy's offers that a request kind exercises.
fn offered_right(kind: &RightsRequestKind) -> Right {
    match kind {
        RightsRequestKind::Access => Right::Access,
        RightsRequestKind::Copy => Right::Copy,
        RightsRequestKind::Portability => Right::Portability,
        RightsRequestKind::Correction => Right::Correct,
        RightsRequestKind::Deletion { .. } => Right::Delete,
        RightsRequestKind::Restriction => Right::Restrict,
        RightsRequestKind::Objection {
            target: ObjectionTarget::ProgrammaticAdvertising | ObjectionTarget::Marketing,
        } => Right::RefuseAds,
        RightsRequestKind::Objection { .. } => Right::Restrict,
        RightsRequestKind::Explanation { .. } => Right::Explanation,
        RightsRequestKind::Withdrawal { .. } | RightsRequestKind::RefuseOptional { .. } => Right::WithdrawConsent,
    }
}

/// The law's article for a right (PIPL).
fn law_of(kind: &RightsRequestKind) -> &'static str {
    match kind {
        RightsRequestKind::Access | RightsRequestKind::Copy => "PIPL art. 45",
        RightsRequestKind::Portability => "PIPL art. 45 ¶3",
        RightsRequestKind::Correction => "PIPL art. 46",
        RightsRequestKind::Deletion { .. } => "PIPL art. 47",
        RightsRequestKind::Restriction => "PIPL art. 44",
        RightsRequestKind::Objection { target: ObjectionTarget::Processing } => "PIPL art. 44",
        RightsRequestKind::Objection { .. } => "PIPL art. 24 ¶2",
        RightsRequestKind::Explanation { automated_decision: true } => "PIPL art. 24 ¶3",
        RightsRequestKind::Explanation { .. } => "PIPL art. 48",
        RightsRequestKind::Withdrawal { .. } => "PIPL art. 15",
        RightsRequestKind::RefuseOptional { .. } => "PIPL art. 16",
    }
}
