//! Which rules of a policy some well-formed request can reach: for each
//! action rule, exception, recipient, `named_in_consent` rule, retention
//! rule, consent requirement and minors rule, a witness
//! request that the engine decides by it, or the reason there is none (the
//! `unreachable-rule` warning).
//!
//! The analysis follows the engine's order of checks (`engine::prepare`,
//! `engine::provide`, `engine::retention`) without running it; the tests
//! decide every witness with the engine and check that the decision cites
//! its rule, so the two cannot drift apart unnoticed.

use chrono::{DateTime, FixedOffset};
use uuid::Uuid;

use super::{
    Action, ActionRule, ConsentRequirement, DataState, Domestic, Exception, MinorEffect, MinorRule, NamedInConsent,
    Names, Policy, Purpose, PurposeBasis, Recipient, RecipientKind, RetentionRule, exception_path,
};
use crate::consent::{ConsentChange, ConsentEvent, ConsentQualities, Described, Scope};
use crate::ids::{PurposeId, RecipientId, RuleId};
use crate::policy::Evidence;
use crate::request::{ClaimedException, LegalHold, Request, Subject};
use crate::taxonomy::{CategoryKey, Sensitivity, Taxonomy};

/// The subject every witness is about: an adult, so that no minors rule
/// stands in the way.
const WITNESS_SUBJECT: &str = "witness";
const WITNESS_AGE: u8 = 30;

/// A request that reaches one rule of a policy, with the consents it needs.
///
/// Decided by an engine of the policy, it is decided by the rule: an
/// action rule, exception, `named_in_consent` rule, retention rule,
/// consent requirement or minors rule is cited among the decision's
/// reasons (as `rule`); a recipient's request is permitted.
/// Made by [`Policy::witnesses`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Witness {
    /// The rule's path in the policy document, e.g. `/actions/0/exceptions/3`.
    pub path: String,
    /// The rule's id as a decision cites it (a recipient's id for a
    /// recipient).
    pub rule: RuleId,
    /// What the rule is: `action rule`, `exception`, `recipient`,
    /// `named in consent`, `retention rule`, `consent requirement` or
    /// `minors rule`.
    pub kind: &'static str,
    /// The request.
    pub request: Request,
    /// The consent events the request needs (grants of every quality for
    /// its purpose and category, describing a purpose or recipient named
    /// only in the consent), oldest first.
    pub consents: Vec<ConsentEvent>,
}

/// One rule of the policy and whether some request reaches it.
pub(super) struct Reach {
    pub(super) path: String,
    pub(super) what: String,
    pub(super) witness: Option<Witness>,
    /// Whether another warning already says why the rule is never reached
    /// (an exception on a ground with no PIPL basis that the policy does
    /// not acknowledge: acknowledging it makes it reachable).
    pub(super) warned_elsewhere: bool,
}

/// Every action rule, exception, recipient, `named_in_consent` rule,
/// retention rule, consent requirement and minors rule of the policy, each
/// with its witness if it has one.
pub(super) fn reach(policy: &Policy, taxonomy: &Taxonomy) -> Vec<Reach> {
    let w = Finder { policy, taxonomy, at: policy.effective };
    let mut out = Vec::new();
    for (i, a) in policy.actions.iter().enumerate() {
        out.push(w.reach(format!("/actions/{i}"), "action rule", &a.id, w.action(a)));
        for (j, e) in a.exceptions.iter().enumerate() {
            let mut r = w.reach(exception_path(i, j), "exception", &e.id, w.exception(i, a, j, e, None));
            r.warned_elsewhere = e.ground.pipl_basis().is_none() && !policy.acknowledges_unbased_exception(i, j);
            out.push(r);
        }
    }
    for (k, r) in policy.recipients.iter().enumerate() {
        out.push(w.reach(format!("/recipients/{k}"), "recipient", &RuleId::new(r.id.as_str()), w.recipient(r)));
    }
    for (k, n) in policy.named_in_consent.iter().enumerate() {
        out.push(w.reach(format!("/named_in_consent/{k}"), "named in consent", &n.id, w.named(n)));
    }
    for (k, q) in policy.consent_requirements.iter().enumerate() {
        out.push(w.reach(format!("/consent_requirements/{k}"), "consent requirement", &q.id, w.requirement(q)));
    }
    for (k, rule) in policy.retention.iter().enumerate() {
        out.push(w.reach(format!("/retention/{k}"), "retention rule", &rule.id, w.retention(rule)));
    }
    let minor_rules = policy.minors.as_ref().map_or(&[][..], |m| m.rules.as_slice());
    for (k, rule) in minor_rules.iter().enumerate() {
        out.push(w.reach(format!("/minors/rules/{k}"), "minors rule", &rule.id, w.minor(rule, minor_rules)));
    }
    out
}

/// Builds witnesses for one policy.
struct Finder<'p> {
    policy: &'p Policy,
    taxonomy: &'p Taxonomy,
    at: DateTime<FixedOffset>,
}

impl Finder<'_> {
    /// The rule at `path` (a `kind` with id `rule`), with the witness of
    /// `request` if there is one.
    fn reach(&self, path: String, kind: &'static str, rule: &RuleId, request: Option<Request>) -> Reach {
        let witness = request.map(|r| self.witness(&path, rule, kind, r));
        Reach { what: format!("{kind} `{rule}`"), path, witness, warned_elsewhere: false }
    }

    /// A request for `action` on `key` by the witness subject.
    fn request(&self, action: Action, key: &CategoryKey) -> Request {
        let mut r = Request::new(action, Subject::new(WITNESS_SUBJECT).age(WITNESS_AGE), vec![key.clone()], self.at);
        // Non-personal data is in scope only when linked to an identity.
        r.linked_to_identity = self.taxonomy.get(key).is_some_and(|info| info.sensitivity == Sensitivity::NonPersonal);
        r
    }

    /// The witness of a rule reached by `req`, with grants of every
    /// quality for its purpose and category.
    fn witness(&self, path: &str, rule: &RuleId, kind: &'static str, request: Request) -> Witness {
        let consents = self.consents(&request);
        Witness { path: path.to_owned(), rule: rule.clone(), kind, request, consents }
    }

    /// Grants for the request's purpose and category (none without a
    /// purpose), naming and describing a purpose or recipient the policy
    /// does not declare.
    fn consents(&self, r: &Request) -> Vec<ConsentEvent> {
        let Some(id) = &r.purpose else { return Vec::new() };
        let declared = self.policy.purpose(id);
        let mut scope = Scope::new(vec![id.clone()], r.categories.clone());
        if declared.is_none() {
            scope = scope.described(Described::purpose("what the consent told of the purpose"));
        }
        let undeclared = r.recipient.as_ref().filter(|rec| !self.policy.recipients.iter().any(|x| &x.id == *rec));
        let kind = self.named_rule(Names::Recipient, r.action).and_then(|n| n.recipient_kind);
        if let (Some(rec), Some(kind)) = (undeclared, kind) {
            let who = "who the consent told of the recipient";
            let described = match scope.described.take() {
                Some(d) => d.and_recipient(who, kind),
                None => Described::recipient(who, kind),
            };
            scope.recipient = Some(rec.clone());
            scope = scope.described(described);
        }
        grants(self.policy, self.at, declared.and_then(|p| p.permission), scope)
    }

    /// The `named_in_consent` rule of `names` for `action`, if any.
    fn named_rule(&self, names: Names, action: Action) -> Option<&NamedInConsent> {
        self.policy.named_in_consent.iter().rfind(|n| n.names == names && n.actions.contains(&action))
    }

    /// An action rule: reached by a request of its action that it permits
    /// (a permit names the action rule it was asked under): on a basis it
    /// gives (a providing rule's consent, contract or core purpose, to a
    /// recipient of one of its purposes), for a purpose of the policy
    /// (`collect`, `use`), within a retention rule that keeps the data or
    /// else under a legal hold (`retain`), or, for `delete` and
    /// `anonymise`, once every retention minimum has passed.
    fn action(&self, a: &ActionRule) -> Option<Request> {
        if matches!(a.action, Action::Delete | Action::Anonymise) {
            return self.end_of_retention(a.action);
        }
        if a.action.has_recipient() {
            let provided = self.policy.recipients.iter().find_map(|rec| {
                let mut purposes = rec.purposes.iter().filter_map(|id| self.policy.purpose(id));
                purposes.find_map(|p| self.provision(a, p, rec, &[]))
            });
            if provided.is_some() || a.action.needs_recipient() {
                return provided;
            }
        }
        if a.action == Action::Retain {
            return self.retained();
        }
        self.policy.purposes.iter().find_map(|p| self.own_processing(a, p, &p.categories, &[]))
    }

    /// A request to keep data a retention rule keeps for its purpose, or,
    /// with no such rule, data under a legal hold (kept whatever the rules).
    fn retained(&self) -> Option<Request> {
        let keeps = self.policy.retention.iter().filter(|rule| !rule.keeps_nothing());
        if let Some(mut r) = keeps.filter_map(|rule| self.retention(rule)).next() {
            r.action = Action::Retain;
            return Some(r);
        }
        let mut r = self.request(Action::Retain, self.some_category()?);
        r.events.legal_hold = Some(LegalHold::new(self.at, None));
        Some(r)
    }

    /// A request to delete (or anonymise) data a retention rule governs,
    /// every event of which lies so far back that no minimum still runs.
    fn end_of_retention(&self, action: Action) -> Option<Request> {
        let mut r = match self.policy.retention.first() {
            Some(rule) => self.retention(rule)?,
            None => self.request(action, self.some_category()?),
        };
        r.action = action;
        let long_ago = self.at.checked_sub_days(chrono::Days::new(200 * 366))?;
        let e = &mut r.events;
        let times = [&mut e.collected, &mut e.transaction_completed, &mut e.account_cancelled, &mut e.last_used];
        for t in times.into_iter().chain([&mut e.purpose_fulfilled]) {
            *t = Some(long_ago);
        }
        Some(r)
    }

    /// A `named_in_consent` rule: reached by a request for one of its
    /// actions (that the policy has a rule for) naming a purpose, or a
    /// recipient, the policy does not declare, on one of its categories;
    /// the engine notes the rule for it.
    fn named(&self, n: &NamedInConsent) -> Option<Request> {
        let action = n.actions.iter().copied().find(|act| {
            self.policy.action_rule(*act).is_some() && self.named_rule(n.names, *act).is_some_and(|m| m.id == n.id)
        })?;
        let key = n.categories.first()?;
        let r = self.request(action, key);
        Some(match n.names {
            Names::Purpose => r.purpose(PurposeId::new(unused_name(&n.id))),
            Names::Recipient => {
                let purpose = n.purposes.first().or_else(|| self.policy.purposes.first().map(|p| &p.id));
                let r = r.recipient(RecipientId::new(unused_name(&n.id)));
                match purpose {
                    Some(p) => r.purpose(p.clone()),
                    None => r,
                }
            }
        })
    }

    /// A declared category of personal data, for rules that name none.
    fn some_category(&self) -> Option<&CategoryKey> {
        let declared = self.policy.purposes.iter().flat_map(|p| &p.categories);
        declared.chain(self.taxonomy.iter().map(|(k, _)| k)).find(|k| {
            self.taxonomy
                .get(k)
                .is_some_and(|i| matches!(i.sensitivity, Sensitivity::Personal | Sensitivity::Sensitive))
        })
    }

    /// Exception `j` of action rule `i`: reached by a request that claims
    /// its ground with its evidence and names no purpose (the ground is the
    /// basis), to a recipient it covers if the action provides data (`to`,
    /// if given, else any).
    fn exception(&self, i: usize, a: &ActionRule, j: usize, e: &Exception, to: Option<&Recipient>) -> Option<Request> {
        if a.action.is_retention()
            || e.ground.pipl_basis().is_none() && !self.policy.acknowledges_unbased_exception(i, j)
        {
            return None;
        }
        let mut evidence: Vec<Evidence> = e.ground.evidence().iter().chain(&e.requires).copied().collect();
        evidence.sort_unstable();
        evidence.dedup();
        let earlier = a.exceptions.get(..j).unwrap_or_default();
        let shadowed = |kind: Option<RecipientKind>| {
            earlier.iter().any(|x| {
                x.ground == e.ground && covers(a, x, kind) && x.requires.iter().all(|ev| evidence.contains(ev))
            })
        };
        let claim = ClaimedException::new(e.ground, evidence.clone());
        if to.is_none() && !a.action.needs_recipient() && !shadowed(None) {
            let state = state_for(a, None, None, DataState::Identifiable)?;
            let mut r = self.request(a.action, self.some_category()?).exception(claim);
            r.data_state = state;
            return Some(r);
        }
        let listed = |kind| a.exceptions.iter().any(|x| x.ground == e.ground && x.recipient_kinds.contains(&kind));
        let candidates: Vec<&Recipient> = match to {
            Some(rec) => vec![rec],
            None => self.policy.recipients.iter().collect(),
        };
        candidates.into_iter().find_map(|rec| {
            let kind_allowed =
                a.recipient_kinds.is_empty() || a.recipient_kinds.contains(&rec.kind) || listed(rec.kind);
            if !kind_allowed || !covers(a, e, Some(rec.kind)) || shadowed(Some(rec.kind)) || !self.route(a, rec) {
                return None;
            }
            let state = state_for(a, None, Some(rec.kind), rec.data_state)?;
            let mut r =
                self.request(a.action, rec.categories.first()?).recipient(rec.id.clone()).exception(claim.clone());
            r.data_state = state;
            Some(r)
        })
    }

    /// A recipient reached only on an exception ground: a request to it
    /// that some exception of a providing rule permits.
    fn recipient_by_exception(&self, rec: &Recipient) -> Option<Request> {
        let rules = self.policy.actions.iter().enumerate().filter(|(_, a)| a.action.has_recipient());
        rules
            .flat_map(|(i, a)| a.exceptions.iter().enumerate().map(move |(j, e)| (i, a, j, e)))
            .find_map(|(i, a, j, e)| self.exception(i, a, j, e, Some(rec)))
    }

    /// A recipient: reached by a permitted request naming it, for one of
    /// its purposes, under a providing rule that lets it receive the data.
    fn recipient(&self, rec: &Recipient) -> Option<Request> {
        let rules = self.policy.actions.iter().filter(|a| a.action.has_recipient());
        for a in rules.filter(|a| a.recipient_kinds.is_empty() || a.recipient_kinds.contains(&rec.kind)) {
            if !rec.data_state.is_personal() {
                // Data no longer personal is out of scope: it may go to
                // such a recipient whatever the rules.
                let mut r = self.request(a.action, rec.categories.first()?).recipient(rec.id.clone());
                r.purpose = rec.purposes.first().cloned();
                r.data_state = rec.data_state;
                return Some(r);
            }
            let found = rec
                .purposes
                .iter()
                .filter_map(|id| self.policy.purpose(id))
                .find_map(|p| self.provision(a, p, rec, &[]));
            if found.is_some() {
                return found;
            }
        }
        self.recipient_by_exception(rec)
    }

    /// A request under providing rule `a`, for purpose `p`, to `rec`, of a
    /// category within `cats` (any if empty), that passes every check of
    /// the recipient and has a basis that consults consent.
    fn provision(&self, a: &ActionRule, p: &Purpose, rec: &Recipient, cats: &[CategoryKey]) -> Option<Request> {
        if !self.route(a, rec) || !has_basis(a, p) || !rec.purposes.contains(&p.id) {
            return None;
        }
        let within: &[CategoryKey] = if a.within_purpose { &p.categories } else { &[] };
        let key = meet(&[&rec.categories, within, cats])?;
        let state = state_for(a, Some(p), Some(rec.kind), rec.data_state)?;
        let mut r = self.request(a.action, &key).purpose(p.id.clone()).recipient(rec.id.clone());
        r.data_state = state;
        Some(r)
    }

    /// A consent requirement: reached by a request of one of its actions,
    /// purposes and categories, which then asks for its consent.
    fn requirement(&self, q: &ConsentRequirement) -> Option<Request> {
        let purposes: Vec<&Purpose> = if q.purposes.is_empty() {
            self.policy.purposes.iter().collect()
        } else {
            q.purposes.iter().filter_map(|id| self.policy.purpose(id)).collect()
        };
        for a in self.policy.actions.iter().filter(|a| q.actions.contains(&a.action) && !a.action.is_retention()) {
            for p in &purposes {
                let within: &[CategoryKey] = if a.within_purpose { &p.categories } else { &[] };
                let found = if a.action.has_recipient() {
                    self.requirement_recipient(q, a, p, within)
                } else if q.recipient_kinds.is_empty() {
                    self.own_processing(a, p, &q.categories, within)
                } else {
                    None
                };
                if found.is_some() {
                    return found;
                }
            }
        }
        None
    }

    /// A providing request for requirement `q` under rule `a` and purpose
    /// `p`: to a recipient of a kind the rule and the requirement both
    /// name, on a basis that consults the requirements.
    fn requirement_recipient(
        &self,
        q: &ConsentRequirement,
        a: &ActionRule,
        p: &Purpose,
        within: &[CategoryKey],
    ) -> Option<Request> {
        if !has_basis(a, p) {
            return None;
        }
        let allowed = |k: RecipientKind| {
            (a.recipient_kinds.is_empty() || a.recipient_kinds.contains(&k))
                && (q.recipient_kinds.is_empty() || q.recipient_kinds.contains(&k))
        };
        if q.recipient_kinds.is_empty() && !a.action.needs_recipient() {
            return self.own_processing(a, p, &q.categories, within);
        }
        self.policy
            .recipients
            .iter()
            .filter(|r| allowed(r.kind))
            .find_map(|rec| self.provision(a, p, rec, &q.categories))
    }

    /// A request with no recipient under rule `a` for purpose `p`, of a
    /// category within `cats` and `within` (any if empty), in a state the
    /// rule lets through.
    fn own_processing(
        &self,
        a: &ActionRule,
        p: &Purpose,
        cats: &[CategoryKey],
        within: &[CategoryKey],
    ) -> Option<Request> {
        let key = meet(&[cats, within])?;
        let state = state_for(a, Some(p), None, DataState::Identifiable)?;
        let mut r = self.request(a.action, &key).purpose(p.id.clone());
        r.data_state = state;
        Some(r)
    }

    /// A minors rule: reached by a request of a subject below its age, of
    /// one of its actions (collect or use) and purposes, that no other
    /// rule denies first (a denying rule is consulted before the others).
    fn minor(&self, rule: &MinorRule, all: &[MinorRule]) -> Option<Request> {
        let acts = [Action::Collect, Action::Use];
        let rules = self.policy.actions.iter().filter(|a| acts.contains(&a.action));
        let rules = rules.filter(|a| rule.actions.is_empty() || rule.actions.contains(&a.action));
        let purposes =
            self.policy.purposes.iter().filter(|p| rule.purposes.is_empty() || rule.purposes.contains(&p.id));
        let candidates: Vec<(&ActionRule, &Purpose)> =
            rules.flat_map(|a| purposes.clone().map(move |p| (a, p))).collect();
        for age in (0..rule.below_age).rev() {
            for (a, p) in &candidates {
                let applies = |r: &MinorRule| {
                    age < r.below_age
                        && (!r.requires_real_name || rule.requires_real_name)
                        && (r.actions.is_empty() || r.actions.contains(&a.action))
                        && (r.purposes.is_empty() || r.purposes.contains(&p.id))
                };
                let denied = all.iter().any(|r| r.effect == MinorEffect::Deny && r.id != rule.id && applies(r));
                if rule.effect != MinorEffect::Deny && denied {
                    continue;
                }
                let Some(mut r) = self.own_processing(a, p, &p.categories, &[]) else { continue };
                r.subject = Subject::new(WITNESS_SUBJECT).age(age).real_name_verified(rule.requires_real_name);
                return Some(r);
            }
        }
        None
    }

    /// A retention rule: reached by a request to keep (or else delete or
    /// anonymise) a category it governs, for its purpose.
    fn retention(&self, rule: &RetentionRule) -> Option<Request> {
        let action = [Action::Retain, Action::Delete, Action::Anonymise]
            .into_iter()
            .find(|act| self.policy.action_rule(*act).is_some())?;
        let key = match rule.categories.first() {
            Some(k) => k,
            None => self.some_category()?,
        };
        let r = self.request(action, key);
        Some(match rule.purposes.first() {
            Some(p) => r.purpose(p.clone()),
            None => r,
        })
    }

    /// Whether the rule lets data go to this recipient at all: abroad only
    /// by the cross-border rule (or a rule that allows it), and with the
    /// agreements the rule asks of it.
    fn route(&self, a: &ActionRule, rec: &Recipient) -> bool {
        let abroad = rec.region != self.policy.settings.home_region;
        let domestic = a.action == Action::CrossBorder && !abroad;
        let region_ok = match a.action {
            Action::CrossBorder => abroad || a.domestic == Domestic::Permit,
            _ => !abroad || a.allow_abroad,
        };
        let agreements_ok = !a.requires_of(rec.kind)
            || a.recipient_requires.iter().all(|rr| {
                (domestic && *rr == super::RecipientRequirement::TransferMechanism) || rr.satisfied_by(&rec.agreements)
            });
        region_ok && agreements_ok
    }
}

/// Whether exception `x` of rule `a` covers a request to a recipient of
/// this kind (any, for a request without one).
fn covers(a: &ActionRule, x: &Exception, kind: Option<RecipientKind>) -> bool {
    kind.is_none_or(|k| {
        let kinds = if x.recipient_kinds.is_empty() { &a.recipient_kinds } else { &x.recipient_kinds };
        kinds.is_empty() || kinds.contains(&k)
    })
}

/// Whether a providing rule has a basis for purpose `p` that leads to the
/// consent requirements: entrustment on its contract, a core purpose the
/// rule serves, or the rule's consent.
fn has_basis(a: &ActionRule, p: &Purpose) -> bool {
    (a.action == Action::Entrust && a.consent.is_none())
        || (a.core_purposes && p.basis == PurposeBasis::Core)
        || a.consent.is_some()
}

/// The least protected state of personal data the rule lets go for this
/// purpose and recipient kind, no less protected than `floor`; `None` when
/// only data that is no longer personal may.
fn state_for(a: &ActionRule, p: Option<&Purpose>, kind: Option<RecipientKind>, floor: DataState) -> Option<DataState> {
    let applies = |ds: &&super::DataStateRule| {
        (ds.purposes.is_empty() || p.is_some_and(|p| ds.purposes.contains(&p.id)))
            && (ds.recipient_kinds.is_empty() || kind.is_some_and(|k| ds.recipient_kinds.contains(&k)))
    };
    let state = a
        .data_states
        .iter()
        .filter(applies)
        .map(|ds| ds.at_least)
        .fold(floor, |s, t| if t.protection() > s.protection() { t } else { s });
    state.is_personal().then_some(state)
}

/// The most specific category within some key of every non-empty list
/// (an empty list stands for every category).
fn meet(lists: &[&[CategoryKey]]) -> Option<CategoryKey> {
    let named: Vec<&[CategoryKey]> = lists.iter().copied().filter(|l| !l.is_empty()).collect();
    let within_all = |k: &CategoryKey| named.iter().all(|l| l.iter().any(|o| k.is_within(o)));
    named.iter().flat_map(|l| l.iter()).filter(|k| within_all(k)).max_by_key(|k| k.depth()).cloned()
}

/// A name for an undeclared purpose or recipient: ids share one namespace,
/// so the rule's own id with a suffix no policy id carries.
fn unused_name(rule: &RuleId) -> String {
    format!("{rule}.named-in-consent-witness")
}

/// Grants of `scope` with every coherent mix of qualities an adult's
/// consent can have, at `at`: whichever the policy's requirements ask, one
/// of them answers (one grant per requirement or one for all).
/// With the purpose's device permission switched on.
fn grants(
    policy: &Policy,
    at: DateTime<FixedOffset>,
    permission: Option<super::Permission>,
    scope: Scope,
) -> Vec<ConsentEvent> {
    let base = ConsentQualities::AFFIRMATIVE | ConsentQualities::EXPLICIT | ConsentQualities::WRITTEN;
    let mixes = [base, base | ConsentQualities::SEPARATE];
    let changes = mixes
        .into_iter()
        .map(|qualities| ConsentChange::Grant { qualities, scope: scope.clone(), expires: None })
        .chain(permission.map(|permission| ConsentChange::PermissionOn { permission }));
    changes
        .zip(1u128..)
        .map(|(change, n)| {
            ConsentEvent::new(
                Uuid::from_u128(n),
                at,
                WITNESS_SUBJECT,
                policy.id.clone(),
                policy.version.clone(),
                change,
            )
        })
        .collect()
}
