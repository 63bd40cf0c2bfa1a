//! Preparing a request: its names resolved to the engine's dense ids, and
//! every check that does not depend on consent (declared names, a needed
//! purpose or recipient, the recipient's kind, the times, the age cap), made
//! once, as request-level reasons.

use chrono::{DateTime, Datelike, Utc};

use super::Engine;
use super::draft::{Small, reason};
use super::named::PolicyChange;
use crate::decision::{Effect, Reason};
use crate::ids::RuleId;
use crate::policy::{ActionRule, CrossBorderOrigin, NamedInConsent, RecipientKind, UnknownAge};
use crate::request::{MAX_AGE, Request};

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
    /// The undeclared names that only a revised policy can permit.
    pub(super) policy_change: PolicyChange,
    /// Whether the purpose or the recipient is one named in consent.
    pub(super) named: bool,
    pub(super) top_denied: bool,
    pub(super) age: Option<u8>,
    pub(super) at: DateTime<Utc>,
    /// Whether the engine's version was in force at the request's time.
    pub(super) in_force: bool,
}

impl Prepared<'_> {
    /// The request.
    pub fn request(&self) -> &Request {
        self.req
    }
}

/// Resolves the request's names to the engine's dense ids and checks what
/// does not depend on consent: declared action, purpose, recipient and
/// categories, the recipient's kind, the times and the age.
pub(super) fn prepare<'r>(engine: &Engine, req: &'r Request) -> Prepared<'r> {
    let mut top: Vec<Reason> = Vec::new();
    if let Some(message) = crate::limits::request_exceeds(req) {
        deny_top(&mut top, builtin!("over_limit"), message);
    }
    let policy = &engine.policy;
    let in_force = policy.effective <= req.at;
    if !in_force {
        let message = format!(
            "no version of policy `{}` was in force at the time of the request: the first, `{}`, takes effect at {}",
            policy.id,
            policy.version,
            policy.effective.to_rfc3339()
        );
        deny_top(&mut top, builtin!("no_policy_in_force"), message);
    }
    let cat_ids = resolve_categories(engine, req, &mut top);
    let rule = engine.action_rules.get(req.action as usize).copied().flatten();
    if rule.is_none() {
        let message = format!("the policy has no rule for action `{}`", req.action.as_str());
        deny_top(&mut top, builtin!("undeclared_action"), message);
    }
    let rule_ref = rule.and_then(|i| policy.actions.get(i));
    let mut policy_change = PolicyChange::default();
    let purpose = resolve_purpose(engine, req, rule_ref, &mut top, &mut policy_change.purpose);
    let recipient = resolve_recipient(engine, req, &mut top, &mut policy_change.recipient);
    if let (Some(rule), Some(r)) = (rule_ref, recipient.and_then(|i| engine.recipient_at(i)))
        && !kind_allowed(rule, req, r.kind)
    {
        top.push(reason(
            rule.id.clone(),
            Effect::Deny,
            rule.cites.as_ref(),
            format!("recipient `{}` is of a kind to which action `{}` may not go", r.id, req.action.as_str()),
        ));
    }
    if !times_representable(req) {
        let message = "a time in the request lies outside the years 1 to 9999 in its own offset".to_owned();
        deny_top(&mut top, builtin!("invalid_time"), message);
    }
    let age = resolve_age(engine, req, &mut top);
    let top_denied = top.iter().any(|r| r.effect == Effect::Deny);
    let home = &policy.settings.home_region;
    Prepared {
        req,
        stamp: engine.stamp,
        cat_ids,
        rule,
        origin_home: data_origin(engine, req) == home,
        destination_home: req.destination_region.as_ref().map(|d| d == home),
        purpose,
        recipient,
        top,
        policy_change,
        named: purpose.is_some_and(|i| i >= policy.purposes.len())
            || recipient.is_some_and(|i| i >= policy.recipients.len()),
        top_denied,
        age,
        at: req.at.with_timezone(&Utc),
        in_force,
    }
}

/// Adds a request-level denial.
fn deny_top(top: &mut Vec<Reason>, rule: &RuleId, message: String) {
    top.push(reason(rule.clone(), Effect::Deny, None, message));
}

/// Each category's id, `None` (and a denial) for an undeclared one.
fn resolve_categories(engine: &Engine, req: &Request, top: &mut Vec<Reason>) -> Small<Option<usize>, 4> {
    if req.categories.is_empty() {
        deny_top(top, builtin!("no_category"), "the request names no data category".to_owned());
    }
    let mut cat_ids = Small::default();
    for key in &req.categories {
        let id = engine.cat_index.get(key).copied();
        if id.is_none() {
            deny_top(top, builtin!("undeclared_category"), format!("data category `{key}` is not declared"));
        }
        cat_ids.push(id);
    }
    cat_ids
}

/// The purpose's id. An undeclared purpose is the one a consent may name
/// for the action, if the policy lets it (`named_in_consent`), and is
/// denied otherwise (`change`: only a revised policy permits it). A missing
/// one is denied unless the action is a retention action or the request
/// claims a ground the action rule lists as an exception: the ground is then
/// the basis (PIPL art. 13(2)–(7)), and the request states only what is
/// done, to what data, for whom.
fn resolve_purpose(
    engine: &Engine,
    req: &Request,
    rule: Option<&ActionRule>,
    top: &mut Vec<Reason>,
    change: &mut bool,
) -> Option<usize> {
    let mut named = req.purpose.as_ref().map(|id| (engine.purpose_index.get(id).copied(), id.as_str()));
    if let Some((found @ None, name)) = &mut named {
        *found = engine.named_purpose_for(req.action);
        note_named(top, found.and_then(|i| engine.named_purpose_rule(i)), "purpose", name);
        *change = found.is_none();
    }
    let missing = match named {
        Some(_) => None,
        None => (!req.action.is_retention() && !on_listed_ground(rule, req)).then(|| builtin!("missing_purpose")),
    };
    resolve(req, top, named, ("purpose", builtin!("undeclared_purpose")), missing)
}

/// Whether the request claims a ground that the action rule lists among
/// its exceptions.
fn on_listed_ground(rule: Option<&ActionRule>, req: &Request) -> bool {
    req.exception
        .as_ref()
        .is_some_and(|claim| rule.is_some_and(|r| r.exceptions.iter().any(|e| e.ground == claim.ground)))
}

/// The recipient's id, as [`resolve_purpose`]; a missing one is denied
/// where the action needs one ([`Action::needs_recipient`]).
///
/// [`Action::needs_recipient`]: crate::Action::needs_recipient
fn resolve_recipient(engine: &Engine, req: &Request, top: &mut Vec<Reason>, change: &mut bool) -> Option<usize> {
    let mut named = req.recipient.as_ref().map(|id| (engine.recipient_index.get(id).copied(), id.as_str()));
    if let Some((found @ None, name)) = &mut named {
        *found = engine.named_recipient_for(req.action);
        note_named(top, found.and_then(|i| engine.named_recipient_rule(i)), "recipient", name);
        *change = found.is_none();
    }
    let missing = req.action.needs_recipient().then(|| builtin!("missing_recipient"));
    resolve(req, top, named, ("recipient", builtin!("undeclared_recipient")), missing)
}

/// Notes that an undeclared name is decided as one a consent names, under
/// `rule`.
fn note_named(top: &mut Vec<Reason>, rule: Option<&NamedInConsent>, what: &str, name: &str) {
    if let Some(rule) = rule {
        let message = format!("{what} `{name}` is not declared: it may rest on a consent that names it");
        top.push(reason(rule.id.clone(), Effect::Note, rule.cites.as_ref(), message));
    }
}

/// The id of a name the request gives (`named`: the id found, if any, and
/// the name), denying an undeclared name with `undeclared` and a missing
/// one with `missing`, if the action needs it.
fn resolve(
    req: &Request,
    top: &mut Vec<Reason>,
    named: Option<(Option<usize>, &str)>,
    (what, undeclared): (&str, &RuleId),
    missing: Option<&RuleId>,
) -> Option<usize> {
    match named {
        Some((found, name)) => {
            if found.is_none() {
                deny_top(top, undeclared, format!("{what} `{name}` is not declared"));
            }
            found
        }
        None => {
            if let Some(rule) = missing {
                deny_top(top, rule, format!("action `{}` needs a {what}", req.action.as_str()));
            }
            None
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
