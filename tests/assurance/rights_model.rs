//! The reference model of rights requests: an executable reading of
//! `docs/rights.md`, written for obviousness rather than speed.
//!
//! It reads the policy as its JSON document (purposes, their basis,
//! categories and `processing`; the retention rules; the rights offers with
//! their channels' time limits, `verify_identity` and `grounds`), the
//! request, the holdings and the consent events by their public fields, and
//! never calls the engine or the library's deciding code. Its calendar is its
//! own: the State Council's 2025 and 2026 schedules written from the notices
//! (国办发明电〔2024〕12号, 国办发明电〔2025〕7号), with the data ending on
//! 2026-12-25 as the Chinese calendar's does, and its own working-day count.
//! Periods end as `docs/policy-format.md` says ("When a period ends"), by
//! the general reference model's calendar.
//!
//! The answer is written in the vectors' `expected` form: `outcome`, `items`
//! (`category`, `purpose`, `outcome`, `ground`, `delete_on`), `duties`,
//! `deadline` and `unavailable`, with the kinds of the deadline's
//! `assumptions` besides; [`comparable`] puts the engine's answer in the
//! same form.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate, Utc, Weekday};
use privacy_engine::{
    CategoryKey, ConsentChange, ConsentEvent, Holding, HoldingOrigin, Identity, Period, Policy, PurposeId,
    RightsAnswer, RightsRequest, RightsRequestKind,
};
use serde_json::{Value, json};

use crate::reference::{period_end, within, zone};

/// One rights case: what the model answers from.
pub(crate) struct RightsCase<'a> {
    pub(crate) policy: &'a Policy,
    pub(crate) consents: &'a [ConsentEvent],
    pub(crate) holdings: &'a [Holding],
    pub(crate) request: &'a RightsRequest,
    /// Count weekdays as working days past the calendar's data.
    pub(crate) assume_weekdays: bool,
}

// ---------------------------------------------------------------------------
// The calendar (docs "The deadline")
// ---------------------------------------------------------------------------

/// A date as the notices write it: year, month, day.
type Ymd = (i32, u32, u32);

/// The last day of the Chinese calendar's data.
pub(crate) const DATA_ENDS: Ymd = (2026, 12, 25);

/// The days off of the 2025 and 2026 schedules, as ranges (from the notices).
const DAYS_OFF: &[(Ymd, Ymd)] = &[
    ((2025, 1, 1), (2025, 1, 1)),
    ((2025, 1, 28), (2025, 2, 4)),
    ((2025, 4, 4), (2025, 4, 6)),
    ((2025, 5, 1), (2025, 5, 5)),
    ((2025, 5, 31), (2025, 6, 2)),
    ((2025, 10, 1), (2025, 10, 8)),
    ((2026, 1, 1), (2026, 1, 3)),
    ((2026, 2, 15), (2026, 2, 23)),
    ((2026, 4, 4), (2026, 4, 6)),
    ((2026, 5, 1), (2026, 5, 5)),
    ((2026, 6, 19), (2026, 6, 21)),
    ((2026, 9, 25), (2026, 9, 27)),
    ((2026, 10, 1), (2026, 10, 7)),
];

/// The weekend days worked (调休) of the 2025 and 2026 schedules.
const DAYS_WORKED: &[Ymd] = &[
    (2025, 1, 26),
    (2025, 2, 8),
    (2025, 4, 27),
    (2025, 9, 28),
    (2025, 10, 11),
    (2026, 1, 4),
    (2026, 2, 14),
    (2026, 2, 28),
    (2026, 5, 9),
    (2026, 9, 20),
    (2026, 10, 10),
];

fn ymd((y, m, d): Ymd) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn weekday(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Whether `date` is a working day in China: `None` past the data.
fn working_day(date: NaiveDate) -> Option<bool> {
    assert!(date.year() >= 2025, "the reference's calendar starts in 2025, not {date}");
    if date > ymd(DATA_ENDS) {
        return None;
    }
    let off = DAYS_OFF.iter().any(|(a, b)| ymd(*a) <= date && date <= ymd(*b));
    Some(DAYS_WORKED.iter().any(|d| ymd(*d) == date) || (weekday(date) && !off))
}

/// The `n`th working day after `start`; `None` when it runs past the data
/// and weekdays are not assumed.
fn nth_working_day(start: NaiveDate, n: u32, assume_weekdays: bool) -> Option<NaiveDate> {
    let (mut day, mut counted) = (start, 0);
    while counted < n {
        day = day + Days::new(1);
        let working = match working_day(day) {
            Some(w) => w,
            None if assume_weekdays => weekday(day),
            None => return None,
        };
        counted += u32::from(working);
    }
    Some(day)
}

// ---------------------------------------------------------------------------
// The policy document
// ---------------------------------------------------------------------------

/// The policy's document, and what the model reads of it.
struct Doc<'a> {
    policy: &'a Policy,
    json: Value,
}

impl Doc<'_> {
    fn purposes(&self) -> &[Value] {
        self.json["purposes"].as_array().map_or(&[], Vec::as_slice)
    }

    fn purpose(&self, id: &str) -> Option<&Value> {
        self.purposes().iter().find(|p| p["id"] == id)
    }

    fn optional(&self, id: &str) -> bool {
        self.purpose(id).is_some_and(|p| p["basis"] == "optional")
    }

    fn core(&self, id: &str) -> bool {
        self.purpose(id).is_some_and(|p| p["basis"] == "core")
    }

    /// The offer of the right the request exercises (docs "Inputs").
    fn offer(&self, right: &str) -> Option<&Value> {
        self.json["rights"].as_array()?.iter().find(|o| o["right"] == right)
    }

    /// The retention rules that cover the held item: its category, and
    /// one of its purposes when the rule names some and the holding too
    /// (docs "Readings").
    fn rules(&self, h: &Holding) -> Vec<&Value> {
        let covers = |r: &&Value| {
            let keys = strings(&r["categories"]);
            let purposes = strings(&r["purposes"]);
            (keys.is_empty() || keys.iter().any(|k| within(&h.category, &CategoryKey::new(k).unwrap())))
                && (purposes.is_empty()
                    || h.purposes.is_empty()
                    || h.purposes.iter().any(|p| purposes.iter().any(|q| q == p.as_str())))
        };
        self.json["retention"].as_array().map_or(Vec::new(), |rs| rs.iter().filter(covers).collect())
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map_or(Vec::new(), |a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
}

/// The offer a request kind exercises (docs "Inputs": the right's offer).
fn offered(kind: &RightsRequestKind) -> &'static str {
    let tag = serde_json::to_value(kind).unwrap();
    match (tag["kind"].as_str().unwrap(), tag["target"].as_str()) {
        ("correction", _) => "correct",
        ("deletion", _) => "delete",
        ("restriction", _) => "restrict",
        ("objection", Some("programmatic_advertising" | "marketing")) => "refuse_ads",
        ("objection", _) => "restrict",
        ("withdrawal" | "refuse_optional", _) => "withdraw_consent",
        ("access", _) => "access",
        ("copy", _) => "copy",
        ("portability", _) => "portability",
        _ => "explanation",
    }
}

// ---------------------------------------------------------------------------
// The answer
// ---------------------------------------------------------------------------

/// An item of the answer while it is decided.
struct Item<'a> {
    category: CategoryKey,
    purpose: Option<PurposeId>,
    /// `accepted`, `restricted` or `refused`.
    outcome: &'static str,
    ground: Option<&'static str>,
    /// For a restricted item: when deletion is due (`None`: a hold without
    /// end).
    delete_on: Option<NaiveDate>,
    holding: Option<&'a Holding>,
    /// For an accepted objection: the purposes it stops.
    stops: Vec<PurposeId>,
}

impl<'a> Item<'a> {
    fn new(category: CategoryKey, holding: Option<&'a Holding>) -> Self {
        Item { category, purpose: None, outcome: "accepted", ground: None, delete_on: None, holding, stops: Vec::new() }
    }

    fn refuse(&mut self, ground: &'static str) {
        self.outcome = "refused";
        self.ground = Some(ground);
    }
}

/// The model's answer, in the vectors' `expected` form.
pub(crate) fn answer(case: &RightsCase<'_>) -> Value {
    let doc = Doc { policy: case.policy, json: serde_json::to_value(case.policy).unwrap() };
    let req = case.request;
    let kind = serde_json::to_value(&req.right).unwrap();
    let right = kind["kind"].as_str().unwrap().to_owned();
    let mut items = scope(&doc, req, case.holdings);
    let offer = doc.offer(offered(&req.right));
    let needs_identity = offer.is_some_and(|o| o["verify_identity"] == true)
        || ["access", "copy", "portability", "correction", "deletion"].contains(&right.as_str());
    let suspended = needs_identity && req.identity == Identity::Unverified;
    for item in &mut items {
        if suspended {
            item.refuse("identity_not_verified");
        } else if let Some(h) = item.holding {
            decide_held(&doc, case, &kind, item, h);
        }
    }
    let (deadline, assumptions) = deadline(&doc, req, offer, case.assume_weekdays);
    let outcome = whole(&right, &items, suspended);
    let mut duties =
        if suspended { vec![json!({"duty": "verify_identity"})] } else { duties(&right, &items, deadline) };
    if matches!(outcome, "refused" | "partly_accepted") {
        duties.push(json!({"duty": "give_reasons"}));
    }
    let withdrawing = matches!(right.as_str(), "withdrawal" | "refuse_optional") && !suspended;
    let unavailable: BTreeSet<&PurposeId> =
        items.iter().filter(|i| withdrawing && i.outcome == "accepted").filter_map(|i| i.purpose.as_ref()).collect();
    json!({
        "outcome": outcome,
        "items": items.iter().map(item_json).collect::<Vec<_>>(),
        "duties": duties,
        "deadline": deadline,
        "assumptions": assumptions,
        "unavailable": unavailable,
    })
}

fn item_json(i: &Item<'_>) -> Value {
    let mut v = json!({"category": i.category, "outcome": i.outcome});
    if let Some(p) = &i.purpose {
        v["purpose"] = json!(p);
    }
    if let Some(g) = i.ground {
        v["ground"] = json!(g);
    }
    if i.outcome == "restricted" {
        v["delete_on"] = json!(i.delete_on);
    }
    v
}

/// docs "Scope": the held categories the request covers and those it names
/// that are not held; for a withdrawal or a refusal of optional data, the
/// categories of the named purposes. In category order (then purpose).
fn scope<'a>(doc: &Doc<'_>, req: &RightsRequest, holdings: &'a [Holding]) -> Vec<Item<'a>> {
    let named = match &req.right {
        RightsRequestKind::Withdrawal { purposes } => Some((purposes, true)),
        RightsRequestKind::RefuseOptional { purposes } => Some((purposes, false)),
        _ => None,
    };
    let mut items = Vec::new();
    if let Some((named, every_optional)) = named {
        for p in doc.purposes() {
            let id: PurposeId = serde_json::from_value(p["id"].clone()).unwrap();
            let chosen =
                if named.is_empty() { every_optional && p["basis"] == "optional" } else { named.contains(&id) };
            for c in strings(&p["categories"]).iter().filter(|_| chosen) {
                let mut item = Item::new(CategoryKey::new(c).unwrap(), None);
                item.purpose = Some(id.clone());
                if p["basis"] != "optional" {
                    item.refuse("not_based_on_consent");
                }
                items.push(item);
            }
        }
    } else {
        let asked = &req.categories;
        let covered = |h: &Holding| asked.is_empty() || asked.iter().any(|k| within(&h.category, k));
        items.extend(holdings.iter().filter(|h| covered(h)).map(|h| Item::new(h.category.clone(), Some(h))));
        for k in asked.iter().filter(|k| !holdings.iter().any(|h| within(&h.category, k))) {
            let mut item = Item::new(k.clone(), None);
            item.refuse("not_held");
            items.push(item);
        }
    }
    items.sort_by(|a, b| (&a.category, &a.purpose).cmp(&(&b.category, &b.purpose)));
    items
}

/// docs "Per right", for a held item.
fn decide_held(doc: &Doc<'_>, case: &RightsCase<'_>, kind: &Value, item: &mut Item<'_>, h: &Holding) {
    match kind["kind"].as_str().unwrap() {
        "access" | "copy" if h.others_data => item.refuse("rights_of_others"),
        "portability" if h.origin != HoldingOrigin::Provided => item.refuse("not_provided_by_person"),
        "portability" if h.others_data => item.refuse("rights_of_others"),
        "deletion" => delete(doc, case, &strings(&kind["grounds"]), item, h),
        "objection" => object(doc, kind["target"].as_str().unwrap(), item, h),
        _ => {}
    }
}

/// The kind of processing an objection target reaches (docs "Inputs").
fn processing_kind(target: &str) -> &str {
    match target {
        "personalised_recommendations" => "personalised_recommendation",
        other => other,
    }
}

/// docs "Per right", objection: accepted when held for a purpose of the
/// target's kind (`processing`: every optional purpose).
fn object(doc: &Doc<'_>, target: &str, item: &mut Item<'_>, h: &Holding) {
    let reaches = |id: &PurposeId| {
        let Some(p) = doc.purpose(id.as_str()) else { return false };
        if target == "processing" {
            p["basis"] == "optional"
        } else {
            strings(&p["processing"]).iter().any(|k| k == processing_kind(target))
        }
    };
    item.stops = h.purposes.iter().filter(|p| reaches(p)).cloned().collect();
    if item.stops.is_empty() {
        item.outcome = "refused";
        // Held only for core purposes: no consent to object to. Held for
        // optional purposes of other kinds: refused without a ground.
        let all_core = !h.purposes.is_empty() && h.purposes.iter().all(|p| doc.core(p.as_str()));
        item.ground = all_core.then_some("not_based_on_consent");
    }
}

// ---------------------------------------------------------------------------
// Deletion (docs "When a deletion ground holds", "The minimum and the hold")
// ---------------------------------------------------------------------------

fn period(v: &Value) -> Option<Period> {
    v.as_str().map(|_| serde_json::from_value(v.clone()).unwrap())
}

fn trigger_time(h: &Holding, trigger: &str, at: DateTime<Utc>) -> Option<DateTime<FixedOffset>> {
    let e = &h.events;
    let t = match trigger {
        "collected" => e.collected,
        "transaction_completed" => e.transaction_completed,
        "account_cancelled" => e.account_cancelled,
        "last_used" => e.last_used,
        _ => e.purpose_fulfilled,
    };
    // docs/policy-format.md "Retention and the cancelled account":
    // cancelling the account counts as the purpose being fulfilled.
    match (trigger, e.account_cancelled.filter(|c| c.to_utc() <= at)) {
        ("purpose_fulfilled", Some(c)) => Some(t.map_or(c, |t| t.min(c))),
        _ => t,
    }
}

/// Whether a grant in force at `at` covers the purpose and the category
/// (any qualities, the controller's own processing).
fn granted(case: &RightsCase<'_>, purpose: &PurposeId, category: &CategoryKey, at: DateTime<Utc>) -> bool {
    let mut evs: Vec<&ConsentEvent> =
        case.consents.iter().filter(|e| e.subject == case.request.subject && e.at.to_utc() <= at).collect();
    evs.sort_by_key(|e| e.at.to_utc());
    let mut live: Vec<Option<DateTime<Utc>>> = Vec::new();
    for e in evs {
        match &e.change {
            ConsentChange::Grant { scope, expires, .. }
                if scope.purposes.contains(purpose)
                    && scope.recipient.is_none()
                    && scope.categories.iter().any(|c| within(category, c)) =>
            {
                live.push(expires.map(|x| x.to_utc()));
            }
            ConsentChange::Refuse { scope }
            | ConsentChange::Withdraw { scope }
            | ConsentChange::Expire { scope }
            | ConsentChange::Revoke { scope }
                if scope.purposes.contains(purpose)
                    && scope.recipient.is_none()
                    && scope.categories.iter().any(|c| within(category, c) || within(c, category)) =>
            {
                live.clear();
            }
            _ => {}
        }
    }
    live.iter().any(|x| x.is_none_or(|x| at < x))
}

/// Whether the invoked `ground` holds for the held item.
fn ground_holds(doc: &Doc<'_>, case: &RightsCase<'_>, ground: &str, h: &Holding) -> bool {
    let at = case.request.at.to_utc();
    let by_at = |t: Option<DateTime<FixedOffset>>| t.is_some_and(|t| t.to_utc() <= at);
    match ground {
        "consent_withdrawn" => {
            !h.purposes.is_empty()
                && h.purposes.iter().all(|p| doc.optional(p.as_str()) && !granted(case, p, &h.category, at))
        }
        "retention_expired" => doc.rules(h).iter().any(|r| {
            let (Some(max), Some(t)) = (period(&r["maximum"]), trigger_time(h, r["trigger"].as_str().unwrap(), at))
            else {
                return false;
            };
            // A maximum of zero ends at its start (docs/policy-format.md
            // "Retention").
            let end = if r["maximum"] == "P0D" { t } else { period_end(doc.policy, t, max) };
            at >= end.to_utc()
        }),
        "account_cancelled" => by_at(h.events.account_cancelled),
        "purpose_achieved" => by_at(h.events.purpose_fulfilled),
        _ => true, // unlawful, against_agreement, service_stopped: taken as made
    }
}

fn delete(doc: &Doc<'_>, case: &RightsCase<'_>, grounds: &[String], item: &mut Item<'_>, h: &Holding) {
    if !grounds.iter().any(|g| ground_holds(doc, case, g, h)) {
        item.refuse("no_deletion_ground");
        return;
    }
    let at = case.request.at.to_utc();
    let minimum = doc
        .rules(h)
        .iter()
        .filter_map(|r| {
            let min = period(&r["minimum"])?;
            let end = period_end(doc.policy, trigger_time(h, r["trigger"].as_str().unwrap(), at)?, min);
            (at < end.to_utc()).then_some(end)
        })
        // A deadline set outside the policy restricts as a running minimum
        // does (docs "Readings": `retain_until`).
        .chain(h.events.retain_until.filter(|u| at < u.to_utc()))
        .max();
    let hold =
        h.events.legal_hold.as_ref().filter(|l| l.since.to_utc() <= at && l.until.is_none_or(|u| at < u.to_utc()));
    let date = |t: DateTime<FixedOffset>| t.with_timezone(&zone(doc.policy)).date_naive();
    let (ground, until) = match (minimum, hold) {
        (None, None) => return,
        (Some(end), Some(l)) if l.until.is_some_and(|u| u < end) => ("statutory_retention", Some(end)),
        (Some(end), None) => ("statutory_retention", Some(end)),
        (_, Some(l)) => ("legal_hold", l.until),
    };
    item.outcome = "restricted";
    item.ground = Some(ground);
    item.delete_on = until.map(date);
}

// ---------------------------------------------------------------------------
// The whole answer, its duties and its deadline
// ---------------------------------------------------------------------------

/// docs "The answer as a whole".
fn whole(right: &str, items: &[Item<'_>], suspended: bool) -> &'static str {
    if suspended {
        "suspended"
    } else if items.is_empty() {
        if ["access", "copy", "portability", "explanation", "restriction"].contains(&right) {
            "accepted"
        } else {
            "refused"
        }
    } else if items.iter().all(|i| i.outcome == "accepted") {
        "accepted"
    } else if items.iter().all(|i| i.outcome == "refused") {
        "refused"
    } else {
        "partly_accepted"
    }
}

fn sorted<T: Ord + Clone>(it: impl IntoIterator<Item = T>) -> Vec<T> {
    it.into_iter().collect::<BTreeSet<_>>().into_iter().collect()
}

/// docs "Per right" (duties), in the order docs "The answer as a whole"
/// lists them.
fn duties(right: &str, items: &[Item<'_>], deadline: Option<NaiveDate>) -> Vec<Value> {
    let accepted = || items.iter().filter(|i| i.outcome == "accepted");
    let held = |i: &Item<'_>| i.holding.map_or(Vec::new(), |h| h.purposes.clone());
    let (mut restrict, mut stop, mut withdraw, mut notify, mut delete_by, mut purge) =
        (false, Vec::new(), Vec::new(), Vec::new(), Vec::new(), false);
    match right {
        "deletion" => {
            for i in items.iter().filter(|i| i.outcome != "refused") {
                let h = i.holding.unwrap();
                notify.extend(h.recipients.iter().cloned());
                if i.outcome == "accepted" {
                    stop.extend(held(i));
                    delete_by.extend(deadline);
                    purge = true;
                } else {
                    restrict = true;
                    delete_by.extend(i.delete_on);
                }
            }
        }
        "restriction" => restrict = accepted().next().is_some(),
        "objection" => stop.extend(accepted().flat_map(|i| i.stops.clone())),
        "withdrawal" | "refuse_optional" => {
            stop.extend(accepted().filter_map(|i| i.purpose.clone()));
            if right == "withdrawal" {
                withdraw.clone_from(&stop);
            }
        }
        _ => {}
    }
    let mut out = Vec::new();
    if restrict {
        out.push(json!({"duty": "restrict_to_storage"}));
    }
    if !stop.is_empty() {
        out.push(json!({"duty": "stop_processing", "purposes": sorted(stop)}));
    }
    if !withdraw.is_empty() {
        out.push(json!({"duty": "record_withdrawal", "purposes": sorted(withdraw)}));
    }
    if !notify.is_empty() {
        out.push(json!({"duty": "notify_recipients", "recipients": sorted(notify)}));
    }
    out.extend(sorted(delete_by).into_iter().map(|d| json!({"duty": "delete_by", "date": d})));
    if purge {
        out.push(json!({"duty": "purge_backups"}));
    }
    out
}

/// docs "The deadline": the offer's time limit, or 15 working days by
/// default, from the date of `received` in the policy's zone; with the
/// kinds of the assumptions it rests on (sorted): `default_time_limit`
/// without a time limit, `weekdays_beyond_data` when it was counted past
/// the calendar's data.
fn deadline(
    doc: &Doc<'_>,
    req: &RightsRequest,
    offer: Option<&Value>,
    assume_weekdays: bool,
) -> (Option<NaiveDate>, Vec<&'static str>) {
    let start = req.received.with_timezone(&zone(doc.policy)).date_naive();
    let limit = offer
        .and_then(|o| o["channels"].as_array())
        .and_then(|cs| cs.iter().find_map(|c| c.get("time_limit").filter(|t| !t.is_null())));
    let (n, default) = match limit {
        Some(l) if l.get("days").is_some() => {
            return (Some(start + Days::new(l["days"].as_u64().unwrap())), Vec::new());
        }
        Some(l) => (l["working_days"].as_u64().unwrap() as u32, false),
        None => (15, true),
    };
    let Some(due) = nth_working_day(start, n, assume_weekdays) else { return (None, Vec::new()) };
    let mut assumptions = Vec::new();
    if default {
        assumptions.push("default_time_limit");
    }
    if due > ymd(DATA_ENDS) {
        assumptions.push("weekdays_beyond_data");
    }
    (Some(due), assumptions)
}

/// The engine's answer in the model's form.
pub(crate) fn comparable(a: &RightsAnswer) -> Value {
    let full = serde_json::to_value(a).unwrap();
    let items: Vec<Value> = full["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let mut v = json!({"category": i["category"], "outcome": i["outcome"]});
            for k in ["purpose", "ground", "delete_on"] {
                if let Some(x) = i.get(k) {
                    v[k] = x.clone();
                }
            }
            v
        })
        .collect();
    json!({
        "outcome": full["outcome"],
        "items": items,
        "duties": full["duties"],
        "deadline": a.deadline.as_ref().map(|d| d.date),
        "assumptions": full["deadline"]["assumptions"].as_array().map_or(Vec::new(), |xs| {
            sorted(xs.iter().map(|x| x["kind"].as_str().unwrap().to_owned()))
        }),
        "unavailable": full.get("unavailable").cloned().unwrap_or(json!([])),
    })
}

/// The differences between `got` and what `expected` lists: every field
/// present in `expected` must match; items on the fields each expected
/// item lists, in order.
pub(crate) fn differences(expected: &Value, got: &Value) -> Vec<String> {
    differences_on(expected, got, "items")
}

/// As [`differences`], with `list` the field whose elements are compared
/// on the fields each expected element lists, in order.
pub(crate) fn differences_on(expected: &Value, got: &Value, list: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (k, want) in expected.as_object().unwrap() {
        let have = got.get(k).unwrap_or(&Value::Null);
        let same = if k == list {
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
