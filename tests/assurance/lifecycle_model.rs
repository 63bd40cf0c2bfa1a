//! The reference model of the account's lifecycle and of incidents: an
//! executable reading of `docs/lifecycle.md`, written for obviousness
//! rather than speed.
//!
//! It reads the policy as its JSON document (the retention rules, the
//! purposes and their basis, `lifecycle.termination_notice`,
//! `lifecycle.reactivation`, `incident_notice.channels` and
//! `incident_notice.contents`), the request and the incident in their JSON
//! forms, the holdings and the consent events by their public fields, and
//! never calls the engine or the library's deciding code. Periods end as
//! `docs/policy-format.md` says ("When a period ends"), by the general
//! reference model's arithmetic (`reference::period_end`).
//!
//! Answers are written in a complete form ([`comparable`] puts the
//! engine's JSON in the same form: every list present, empty when the
//! engine leaves it out; `notice_short_by_days` `null` when absent), and
//! [`differences`] compares them with a vector's `expected`.

use chrono::{DateTime, FixedOffset, NaiveDate};
use privacy_engine::{
    CategoryKey, ConsentChange, ConsentEvent, Holding, LifecycleChange, LifecycleEvent, Period, Policy,
};
use serde_json::{Value, json};

use crate::reference::{period_end, within, zone};

/// One lifecycle or incident case: what the model answers from.
pub(crate) struct LifecycleCase<'a> {
    /// The policy, for its period arithmetic and time zone.
    pub(crate) policy: &'a Policy,
    /// The policy's JSON document, as written (fields the crate's model
    /// may not know yet included).
    pub(crate) doc: &'a Value,
    pub(crate) consents: &'a [ConsentEvent],
    pub(crate) holdings: &'a [Holding],
    /// The subject's earlier lifecycle events.
    pub(crate) events: &'a [LifecycleEvent],
    /// A lifecycle request or an incident request, in its JSON form.
    pub(crate) request: &'a Value,
}

fn time(v: &Value) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map_or(Vec::new(), |a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
}

fn period(v: &Value) -> Option<Period> {
    v.as_str().map(|_| serde_json::from_value(v.clone()).unwrap())
}

fn duty(name: &str) -> Value {
    json!({"duty": name})
}

/// The model's answer, in the complete form of [`comparable`].
pub(crate) fn answer(case: &LifecycleCase<'_>) -> Value {
    if case.request.get("incident").is_some() {
        return incident(case.doc, &case.request["incident"]);
    }
    let r = case.request;
    let mut out = json!({
        "outcome": "accepted", "before": [], "immediate": [], "categories": [],
        "end_consents": [], "ask_again": [], "notice_short_by_days": null, "reason": null,
    });
    match r["lifecycle"].as_str().unwrap() {
        "cancel" => cancel(case, &mut out),
        "terminate" => terminate(case, &mut out),
        "inactive" => inactive(case, &mut out),
        _ => reactivate(case, &mut out),
    }
    out
}

// ---------------------------------------------------------------------------
// Cancellation (docs "Cancellation")
// ---------------------------------------------------------------------------

fn cancel(case: &LifecycleCase<'_>, out: &mut Value) {
    let at = time(&case.request["at"]);
    let mine = case.events.iter().filter(|e| e.subject.as_str() == case.request["subject"] && e.at <= at);
    if mine.into_iter().any(|e| e.change == LifecycleChange::ServiceTerminated) {
        out["outcome"] = json!("refused");
        out["reason"] = json!("terminated");
        return;
    }
    if cancelled(case, at) {
        out["outcome"] = json!("refused");
        return;
    }
    let mut before = vec![duty("warn_irreversible")];
    if case.request["identity"] != "verified" {
        before.insert(0, duty("verify_identity"));
    }
    out["before"] = json!(before);
    let mut immediate = vec![duty("disable_account"), duty("stop_collection"), duty("stop_use"), duty("end_consents")];
    let rules = case.doc["retention"].as_array().map_or(&[][..], Vec::as_slice);
    if rules.iter().any(|r| r["backups_at_next_cycle"] == true || r["isolate_backups"] == true) {
        immediate.push(duty("backups_at_next_cycle"));
    }
    out["immediate"] = json!(immediate);
    out["categories"] =
        json!(sorted_holdings(case).map(|h| disposal(case, h, at, Ending::Cancelled)).collect::<Vec<_>>());
    out["end_consents"] = json!(optional_in_force(case, at));
}

/// Whether the subject's account is cancelled at `at` by its earlier
/// lifecycle events (a later reactivation gives it back).
fn cancelled(case: &LifecycleCase<'_>, at: DateTime<FixedOffset>) -> bool {
    let mut events: Vec<&LifecycleEvent> =
        case.events.iter().filter(|e| e.subject.as_str() == case.request["subject"] && e.at <= at).collect();
    events.sort_by_key(|e| e.at);
    events.iter().fold(false, |state, e| match e.change {
        LifecycleChange::Cancelled => true,
        LifecycleChange::Reactivated => false,
        _ => state,
    })
}

/// Every held category's disposal, in category order.
fn disposals(case: &LifecycleCase<'_>, at: DateTime<FixedOffset>, ending: Ending) -> Value {
    json!(sorted_holdings(case).filter_map(|h| disposal(case, h, at, ending)).collect::<Vec<_>>())
}

/// The held categories, in category order.
fn sorted_holdings<'a>(case: &LifecycleCase<'a>) -> impl Iterator<Item = &'a Holding> {
    let mut hs: Vec<&Holding> = case.holdings.iter().collect();
    hs.sort_by(|a, b| a.category.cmp(&b.category));
    hs.into_iter()
}

/// The optional purposes of the policy (in its order) with a grant in force
/// at `at`: any grant naming the purpose, cleared by a later refusal,
/// withdrawal, expiry or revocation naming it, and ended by its expiry.
fn optional_in_force(case: &LifecycleCase<'_>, at: DateTime<FixedOffset>) -> Vec<String> {
    let purposes = case.doc["purposes"].as_array().map_or(&[][..], Vec::as_slice);
    purposes
        .iter()
        .filter(|p| p["basis"] == "optional")
        .filter_map(|p| p["id"].as_str())
        .filter(|id| in_force(case.consents, id, at))
        .map(str::to_owned)
        .collect()
}

fn in_force(consents: &[ConsentEvent], purpose: &str, at: DateTime<FixedOffset>) -> bool {
    let mut evs: Vec<&ConsentEvent> = consents.iter().filter(|e| e.at <= at).collect();
    evs.sort_by_key(|e| e.at);
    let mut live: Vec<Option<DateTime<FixedOffset>>> = Vec::new();
    for e in evs {
        match &e.change {
            ConsentChange::Grant { scope, expires, .. } if scope.purposes.iter().any(|p| p.as_str() == purpose) => {
                live.push(*expires);
            }
            ConsentChange::Refuse { scope }
            | ConsentChange::Withdraw { scope }
            | ConsentChange::Expire { scope }
            | ConsentChange::Revoke { scope }
                if scope.purposes.iter().any(|p| p.as_str() == purpose) =>
            {
                live.clear();
            }
            _ => {}
        }
    }
    live.iter().any(|x| x.is_none_or(|x| at < x))
}

// ---------------------------------------------------------------------------
// What becomes of a held category
// ---------------------------------------------------------------------------

/// How the account ends for the disposal.
#[derive(Clone, Copy, PartialEq)]
enum Ending {
    /// The person cancelled at `at`: the retention rules run with
    /// `account_cancelled` = `at`, and every purpose ends with the account.
    Cancelled,
    /// The service ends at `at`: everything is due then, held back only by
    /// a running minimum or a hold (docs "Service termination").
    Terminated,
    /// The person stopped using the service at the given time: the rules
    /// triggered by `last_used` give the dates (docs "Inactivity").
    Inactive(DateTime<FixedOffset>),
}

/// The retention rules that cover the held item: its category (a rule
/// without categories covers every category), and one of its purposes when
/// the rule names some and the holding too (docs/rights.md "Readings").
fn covering<'a>(doc: &'a Value, h: &Holding) -> Vec<&'a Value> {
    let covers = |r: &&Value| {
        let keys = strings(&r["categories"]);
        let purposes = strings(&r["purposes"]);
        (keys.is_empty() || keys.iter().any(|k| within(&h.category, &CategoryKey::new(k).unwrap())))
            && (purposes.is_empty()
                || h.purposes.is_empty()
                || h.purposes.iter().any(|p| purposes.iter().any(|q| q == p.as_str())))
    };
    doc["retention"].as_array().map_or(Vec::new(), |rs| rs.iter().filter(covers).collect())
}

/// When the rule's trigger happened for the held record, the account
/// ending at `at` (docs/policy-format.md "Retention and the cancelled
/// account": a `purpose_fulfilled` trigger runs from the cancellation).
fn trigger(h: &Holding, rule: &Value, at: DateTime<FixedOffset>, ending: Ending) -> Option<DateTime<FixedOffset>> {
    let e = &h.events;
    let cancelled = match ending {
        Ending::Cancelled => Some(e.account_cancelled.map_or(at, |c| c.min(at))),
        _ => e.account_cancelled,
    };
    match rule["trigger"].as_str().unwrap() {
        "collected" => e.collected,
        "transaction_completed" => e.transaction_completed,
        "account_cancelled" => cancelled,
        "last_used" => match ending {
            Ending::Inactive(since) => Some(since),
            _ => e.last_used,
        },
        _ => match (e.purpose_fulfilled, cancelled.filter(|c| *c <= at)) {
            (Some(p), Some(c)) => Some(p.min(c)),
            (p, c) => p.or(c),
        },
    }
}

/// The end of the rule's `field` period (`maximum` or `minimum`) for the
/// record; a maximum of zero ends at its trigger.
fn end_of(
    case: &LifecycleCase<'_>,
    h: &Holding,
    rule: &Value,
    field: &str,
    at: DateTime<FixedOffset>,
    ending: Ending,
) -> Option<DateTime<FixedOffset>> {
    let p = period(&rule[field])?;
    let t = trigger(h, rule, at, ending)?;
    Some(if rule[field] == "P0D" && field == "maximum" { t } else { period_end(case.policy, t, p) })
}

/// The end action standing for several rules (a termination): theirs if
/// they agree, `delete_or_anonymise` otherwise (docs/policy-format.md,
/// `delete_by`); `delete` for none (keeping is not permitted).
fn combined(rules: &[&Value]) -> Value {
    let actions: Vec<&Value> = rules.iter().map(|r| &r["end_action"]).collect();
    match actions.as_slice() {
        [] => json!("delete"),
        [first, rest @ ..] if rest.iter().all(|a| a == first) => (*first).clone(),
        _ => json!("delete_or_anonymise"),
    }
}

/// One item of `categories` (docs "Cancellation", per held category): the
/// deciding rule and the date, before any hold-back. `None` when nothing
/// decides it (inactivity: no `last_used` rule covers it).
fn deciding<'a>(
    case: &LifecycleCase<'a>,
    h: &Holding,
    at: DateTime<FixedOffset>,
    ending: Ending,
) -> Option<(Option<&'a Value>, Value, DateTime<FixedOffset>)> {
    let rules = covering(case.doc, h);
    if ending == Ending::Terminated {
        return Some((rules.first().copied(), combined(&rules), at));
    }
    let candidates = rules.iter().filter(|r| !matches!(ending, Ending::Inactive(_)) || r["trigger"] == "last_used");
    let maxima: Vec<(DateTime<FixedOffset>, &Value)> =
        candidates.filter_map(|r| Some((end_of(case, h, r, "maximum", at, ending)?, *r))).collect();
    match maxima.iter().map(|(end, _)| *end).min() {
        Some(e) => {
            // On a tie, a rule triggered by the cancellation decides (001:
            // `001.retention.account` over `001.retention.purpose`).
            let mut ties: Vec<&Value> = maxima.iter().filter(|(end, _)| *end == e).map(|(_, r)| *r).collect();
            ties.sort_by_key(|r| r["trigger"] != "account_cancelled");
            Some((ties.first().copied(), ties.first().map_or(json!("delete"), |r| r["end_action"].clone()), e))
        }
        None if matches!(ending, Ending::Inactive(_)) => None,
        None => Some((rules.first().copied(), rules.first().map_or(json!("delete"), |r| r["end_action"].clone()), at)),
    }
}

/// The disposal of a held category, held back by a running minimum or an
/// active legal hold (docs/rights.md "The minimum and the hold"): due when
/// they end (`null` for a hold without end), restricted meanwhile; the
/// minimum's rule and action name the disposal where it holds the date
/// back.
fn disposal(case: &LifecycleCase<'_>, h: &Holding, at: DateTime<FixedOffset>, ending: Ending) -> Option<Value> {
    let date = |t: DateTime<FixedOffset>| t.with_timezone(&zone(case.policy)).date_naive();
    let (mut rule, mut action, base) = deciding(case, h, at, ending)?;
    let running = covering(case.doc, h)
        .into_iter()
        .filter_map(|r| Some((end_of(case, h, r, "minimum", at, ending)?, r)))
        .filter(|(end, _)| at < *end)
        .max_by_key(|(end, _)| *end);
    let hold = h.events.legal_hold.as_ref().filter(|l| l.since <= at && l.until.is_none_or(|u| at < u));
    let statutory = running.filter(|(end, _)| hold.is_none_or(|l| l.until.is_some_and(|u| u < *end)));
    let mut due = Some(date(base));
    if let Some((end, r)) = statutory {
        if date(end) > date(base) {
            due = Some(date(end));
            rule = Some(r);
            action = r["end_action"].clone();
        }
    } else if let Some(l) = hold {
        due = l.until.map(|u| date(u).max(date(base)));
    }
    Some(json!({
        "category": h.category,
        "rule": rule.map(|r| r["id"].clone()),
        "action": action,
        "due": due,
        "restricted": running.is_some() || hold.is_some(),
    }))
}

// ---------------------------------------------------------------------------
// Termination, inactivity, reactivation
// ---------------------------------------------------------------------------

/// The days of notice the policy requires (`lifecycle.termination_notice`,
/// a period of days), if it states one.
fn notice_days(doc: &Value) -> Option<i64> {
    let p = doc["lifecycle"]["termination_notice"].as_str()?;
    Some(p.strip_prefix('P')?.strip_suffix('D')?.parse().unwrap())
}

fn terminate(case: &LifecycleCase<'_>, out: &mut Value) {
    let (notice, at) = (time(&case.request["notice"]), time(&case.request["at"]));
    let day = |t: DateTime<FixedOffset>| -> NaiveDate { t.with_timezone(&zone(case.policy)).date_naive() };
    if let Some(days) = notice_days(case.doc) {
        out["before"] = json!([{"duty": "notice_before_termination", "days": days}]);
        let given = (day(at) - day(notice)).num_days();
        out["notice_short_by_days"] = json!((days - given).max(0));
    }
    out["immediate"] = json!([duty("stop_collection"), duty("stop_use")]);
    out["categories"] = disposals(case, at, Ending::Terminated);
}

/// docs "Inactivity": collection and use stop; the rules triggered by
/// `last_used` (= `since`) give their dates.
fn inactive(case: &LifecycleCase<'_>, out: &mut Value) {
    let (since, at) = (time(&case.request["since"]), time(&case.request["at"]));
    out["immediate"] = json!([duty("stop_collection"), duty("stop_use")]);
    out["categories"] = disposals(case, at, Ending::Inactive(since));
}

/// docs "Reactivation": refused unless `lifecycle.reactivation` is true;
/// allowed, no consent ended by the cancellation is restored: every
/// optional purpose of the policy is asked for anew, in its order.
fn reactivate(case: &LifecycleCase<'_>, out: &mut Value) {
    if let Some(reason) = contradicted(case) {
        out["reason"] = json!(reason);
        if reason != "cancelled_at_other_time" {
            out["outcome"] = json!("refused");
            return;
        }
    }
    if case.doc["lifecycle"]["reactivation"] != true {
        out["outcome"] = json!("refused");
        out["reason"] = Value::Null;
        return;
    }
    let purposes = case.doc["purposes"].as_array().map_or(&[][..], Vec::as_slice);
    out["ask_again"] =
        json!(purposes.iter().filter(|p| p["basis"] == "optional").map(|p| &p["id"]).collect::<Vec<_>>());
}

/// docs "Reactivation": where the subject has lifecycle events, they are
/// read before the policy: a termination up to `at` (`terminated`), or
/// no cancellation standing at `at` — the latest cancellation or
/// reactivation up to `at` is not a cancellation (`not_cancelled`) —
/// refuses; a standing cancellation at another time than the request's
/// `cancelled` is said (`cancelled_at_other_time`).
fn contradicted(case: &LifecycleCase<'_>) -> Option<&'static str> {
    let r = case.request;
    let (at, claimed) = (time(&r["at"]), time(&r["cancelled"]));
    let mine: Vec<&LifecycleEvent> = case.events.iter().filter(|e| e.subject.as_str() == r["subject"]).collect();
    if mine.is_empty() {
        return None;
    }
    let up_to: Vec<&LifecycleEvent> = mine.into_iter().filter(|e| e.at <= at).collect();
    if up_to.iter().any(|e| e.change == LifecycleChange::ServiceTerminated) {
        return Some("terminated");
    }
    let last = up_to
        .iter()
        .filter(|e| matches!(e.change, LifecycleChange::Cancelled | LifecycleChange::Reactivated))
        .max_by_key(|e| e.at);
    match last {
        Some(e) if e.change == LifecycleChange::Cancelled => (e.at != claimed).then_some("cancelled_at_other_time"),
        _ => Some("not_cancelled"),
    }
}

// ---------------------------------------------------------------------------
// Incidents (docs "Incidents")
// ---------------------------------------------------------------------------

/// PIPL art. 57's contents, then the seeds' own `remedies`, in the fixed
/// order of docs/lifecycle.md.
const CONTENTS: [&str; 7] =
    ["categories_involved", "cause", "possible_harm", "remedial_measures", "self_protection", "remedies", "contact"];

/// What PIPL art. 57 ¶1 itself asks the notice to say.
const PIPL_CONTENTS: [&str; 6] =
    ["categories_involved", "cause", "possible_harm", "remedial_measures", "self_protection", "contact"];

fn incident(doc: &Value, i: &Value) -> Value {
    let mut duties = vec![duty("remedy"), json!({"duty": "notify_regulator", "deadline": "promptly"})];
    let mut skipped = Vec::new();
    if i["harm_avoided"] == true && i["regulator_requires_notice"] != true {
        skipped.push(json!({"duty": "notify_individuals", "because": "harm_avoided"}));
    } else {
        duties.push(json!({"duty": "notify_individuals", "channels": strings(&doc["incident_notice"]["channels"])}));
    }
    // The announcement stands in for the notices to the people that cannot
    // be delivered one by one: none when that notice is skipped.
    if i["reachable"] == false && skipped.is_empty() {
        duties.push(duty("public_announcement"));
    }
    if i["credentials"] == true {
        duties.push(duty("password_reminder"));
    }
    let own = strings(&doc["incident_notice"]["contents"]);
    let contents: Vec<&str> =
        CONTENTS.iter().copied().filter(|c| PIPL_CONTENTS.contains(c) || own.iter().any(|o| o == c)).collect();
    json!({"duties": duties, "contents": contents, "skipped": skipped})
}

// ---------------------------------------------------------------------------
// Comparing
// ---------------------------------------------------------------------------

/// An answer's JSON (the engine's, or the JSON-lines interface's) in the
/// model's complete form.
pub(crate) fn comparable(answer: &Value) -> Value {
    let mut out = answer.clone();
    let (lists, nulls): (&[&str], &[&str]) = if answer.get("duties").is_some() {
        (&["duties", "contents", "skipped"], &[])
    } else {
        (&["before", "immediate", "categories", "end_consents", "ask_again"], &["notice_short_by_days", "reason"])
    };
    for k in lists {
        if out.get(*k).is_none_or(Value::is_null) {
            out[*k] = json!([]);
        }
    }
    for k in nulls {
        if out.get(*k).is_none() {
            out[*k] = Value::Null;
        }
    }
    out
}

/// The differences between `got` (complete form) and what `expected`
/// lists: every field present in `expected` must match; `categories` on
/// the fields each expected item lists, in order.
pub(crate) fn differences(expected: &Value, got: &Value) -> Vec<String> {
    crate::rights_model::differences_on(expected, got, "categories")
}
