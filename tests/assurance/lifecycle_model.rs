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
use privacy_engine::{CategoryKey, ConsentChange, ConsentEvent, Holding, Period, Policy};
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
        "end_consents": [], "ask_again": [], "notice_short_by_days": null,
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
    out["before"] = json!([duty("verify_identity"), duty("warn_irreversible")]);
    let mut immediate = vec![duty("disable_account"), duty("stop_collection"), duty("stop_use"), duty("end_consents")];
    let rules = case.doc["retention"].as_array().map_or(&[][..], Vec::as_slice);
    if rules.iter().any(|r| r["backups_at_next_cycle"] == true) {
        immediate.push(duty("backups_at_next_cycle"));
    }
    out["immediate"] = json!(immediate);
    out["categories"] =
        json!(sorted_holdings(case).map(|h| disposal(case, h, at, Ending::Cancelled)).collect::<Vec<_>>());
    out["end_consents"] = json!(optional_in_force(case, at));
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
}

/// The retention rules that cover the held category (a rule without
/// categories covers every category).
fn covering<'a>(doc: &'a Value, h: &Holding) -> Vec<&'a Value> {
    let covers = |r: &&Value| {
        let keys = strings(&r["categories"]);
        keys.is_empty() || keys.iter().any(|k| within(&h.category, &CategoryKey::new(k).unwrap()))
    };
    doc["retention"].as_array().map_or(Vec::new(), |rs| rs.iter().filter(covers).collect())
}

/// When the rule's trigger happened for the held record, the account
/// ending at `at` (docs/policy-format.md "Retention and the cancelled
/// account": a `purpose_fulfilled` trigger runs from the cancellation).
fn trigger(h: &Holding, rule: &Value, at: DateTime<FixedOffset>, ending: Ending) -> Option<DateTime<FixedOffset>> {
    let e = &h.events;
    let cancelled = (ending == Ending::Cancelled).then_some(at).or(e.account_cancelled);
    match rule["trigger"].as_str().unwrap() {
        "collected" => e.collected,
        "transaction_completed" => e.transaction_completed,
        "account_cancelled" => cancelled,
        "last_used" => e.last_used,
        _ => match (e.purpose_fulfilled, cancelled) {
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

/// One item of `categories` (docs "Cancellation", per held category).
fn disposal(case: &LifecycleCase<'_>, h: &Holding, at: DateTime<FixedOffset>, ending: Ending) -> Value {
    let date = |t: DateTime<FixedOffset>| t.with_timezone(&zone(case.policy)).date_naive();
    let rules = covering(case.doc, h);
    let maxima: Vec<(DateTime<FixedOffset>, &Value)> = match ending {
        Ending::Cancelled => {
            rules.iter().filter_map(|r| Some((end_of(case, h, r, "maximum", at, ending)?, *r))).collect()
        }
        Ending::Terminated => Vec::new(),
    };
    let minima: Vec<(DateTime<FixedOffset>, &Value)> =
        rules.iter().filter_map(|r| Some((end_of(case, h, r, "minimum", at, ending)?, *r))).collect();
    let running: Vec<&(DateTime<FixedOffset>, &Value)> = minima.iter().filter(|(end, _)| at < *end).collect();
    let earliest = maxima.iter().map(|(end, _)| *end).min();
    // The deciding rules: those of the earliest maximum; else the running
    // minimum that ends last; else any minimum; else the first covering rule.
    let deciding: Vec<&Value> = match earliest {
        Some(e) => maxima.iter().filter(|(end, _)| *end == e).map(|(_, r)| *r).collect(),
        None => {
            let last = minima.iter().max_by_key(|(end, _)| *end).map(|(_, r)| *r);
            last.or_else(|| rules.first().copied()).into_iter().collect()
        }
    };
    let actions: Vec<&str> = deciding.iter().filter_map(|r| r["end_action"].as_str()).collect();
    let action = match actions.as_slice() {
        [] if ending == Ending::Terminated && !rules.is_empty() => "delete_or_anonymise",
        [] => "delete",
        [first, rest @ ..] if rest.iter().all(|a| a == first) => first,
        _ => "delete_or_anonymise",
    };
    let mut due = Some(earliest.unwrap_or(at).max(at));
    for (end, _) in &running {
        due = due.map(|d| d.max(*end));
    }
    let hold = h.events.legal_hold.as_ref().filter(|l| l.since <= at && l.until.is_none_or(|u| at < u));
    if let Some(l) = hold {
        due = match (due, l.until) {
            (Some(d), Some(u)) => Some(d.max(u)),
            _ => None,
        };
    }
    let rule = deciding.first();
    json!({
        "category": h.category,
        "rule": rule.map(|r| r["id"].clone()),
        "action": action,
        "due": due.map(date),
        "restricted": !running.is_empty() || hold.is_some(),
        "cites": rule.map_or(json!("no_retention_rule"), |r| r["cites"].clone()),
    })
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
    out["categories"] =
        json!(sorted_holdings(case).map(|h| disposal(case, h, at, Ending::Terminated)).collect::<Vec<_>>());
}

/// docs "Inactivity": collection and use stop; the rules triggered by
/// `last_used` (= `since`) give their dates.
fn inactive(case: &LifecycleCase<'_>, out: &mut Value) {
    let since = time(&case.request["since"]);
    let date = |t: DateTime<FixedOffset>| t.with_timezone(&zone(case.policy)).date_naive();
    out["immediate"] = json!([duty("stop_collection"), duty("stop_use")]);
    let mut items = Vec::new();
    for h in sorted_holdings(case) {
        for r in covering(case.doc, h).into_iter().filter(|r| r["trigger"] == "last_used") {
            let Some(max) = period(&r["maximum"]) else { continue };
            let end = if r["maximum"] == "P0D" { since } else { period_end(case.policy, since, max) };
            items.push(json!({
                "category": h.category, "rule": r["id"], "action": r["end_action"],
                "due": date(end), "restricted": false, "cites": r["cites"],
            }));
        }
    }
    out["categories"] = json!(items);
}

/// docs "Reactivation": refused unless `lifecycle.reactivation` is true;
/// allowed, the optional purposes whose grants the cancellation ended are
/// asked for anew (never restored).
fn reactivate(case: &LifecycleCase<'_>, out: &mut Value) {
    if case.doc["lifecycle"]["reactivation"] != true {
        out["outcome"] = json!("refused");
        return;
    }
    let cancelled = time(&case.request["cancelled"]);
    let just_before = cancelled - chrono::Duration::nanoseconds(1);
    out["ask_again"] = json!(optional_in_force(case, just_before));
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
    if i["reachable"] == false {
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
        (&["before", "immediate", "categories", "end_consents", "ask_again"], &["notice_short_by_days"])
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
    let mut out = Vec::new();
    for (k, want) in expected.as_object().unwrap() {
        let have = got.get(k).unwrap_or(&Value::Null);
        let same = if k == "categories" {
            let (w, h) = (want.as_array().unwrap(), have.as_array().map_or(&[][..], Vec::as_slice));
            w.len() == h.len()
                && w.iter()
                    .zip(h)
                    .all(|(w, h)| w.as_object().unwrap().iter().all(|(f, x)| h.get(f).unwrap_or(&Value::Null) == x))
        } else {
            want == have
        };
        if !same {
            out.push(format!("{k}: expected {want}, got {have}"));
        }
    }
    out
}
