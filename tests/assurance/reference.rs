//! The reference evaluator: an executable reading of
//! `docs/policy-format.md`, written for obviousness rather than speed.
//!
//! It is written from the document and the public data types only. It reads
//! the `Policy` and the `Request` by their public fields, replays the
//! consent events itself instead of asking a `ConsentStore`, and never calls
//! an engine helper that encodes a decision rule:
//!
//! - its tables come from the document's own tables, read at run time from
//!   `docs/policy-format.md` (the built-in taxonomy, the ground table, the
//!   agreements, the data states' protection, the providing actions'
//!   obligations), so the document decides;
//! - its calendar is its own: a period's months and days, month ends under
//!   `settings.month_end`, the policy's UTC offset, the last-day convention
//!   ("When a period ends");
//! - category keys are compared as dotted strings.
//!
//! Each rule below names the part of the document it follows (`docs
//! §"…"`). Where the document was silent it was completed, in "How a
//! decision is made"; a difference from the engine is a question for the
//! document, never a reason to bend this model.
//!
//! Messages are left out: the differential test compares everything but
//! `Reason::message`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate, NaiveTime, Utc};
use privacy_engine::{
    Action, ActionRule, Agreement, CategoryKey, Cites, ConsentChange, ConsentEvent, ConsentFrom, ConsentGrants,
    ConsentQualities, CrossBorderOrigin, DataState, DiagnosticCode, Domestic, Duty, Effect, EndAction, Evidence,
    Exception, Ground, MinorEffect, MinorRule, MonthEnd, NamedInConsent, Names, NoticeField, Obligation, Period,
    Permission, Policy, Purpose, PurposeBasis, PurposeId, Recipient, RecipientId, RecipientKind, RecipientRequirement,
    Request, RetentionRule, RuleId, Scope, Sensitivity, SubjectId, TaxonomySource, Trigger, UnknownAge, Unmet, Verdict,
};
use serde::de::DeserializeOwned;

// ---------------------------------------------------------------------------
// The document's tables
// ---------------------------------------------------------------------------

/// The normative description of the policy format and the decision rules.
const DOC: &str = include_str!("../../docs/policy-format.md");

/// The body rows of the document's table whose header row is `header`,
/// each as its cells, trimmed.
fn doc_table(header: &str) -> Vec<Vec<&'static str>> {
    let mut lines = DOC.lines().skip_while(|l| l.trim() != header);
    assert!(lines.next().is_some(), "docs/policy-format.md has no table with the header `{header}`");
    lines
        .skip(1) // |---|---|
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.trim().trim_start_matches('|').trim_end_matches('|').split(" | ").map(str::trim).collect())
        .collect()
}

/// The names written in backticks in a table cell.
fn ticked(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

/// A vocabulary value by the name the document writes for it.
fn named<T: DeserializeOwned>(name: &str) -> T {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .unwrap_or_else(|e| panic!("docs/policy-format.md names `{name}`, which the format does not know: {e}"))
}

/// What the document's tables say, read once.
struct Tables {
    /// "Built-in taxonomy": each key and its default sensitivity.
    taxonomy: BTreeMap<String, Sensitivity>,
    /// "Grounds": each ground's built-in duties and evidence.
    grounds: BTreeMap<Ground, (Vec<Duty>, Vec<Evidence>)>,
    /// "Grounds": those with a PIPL basis (the others' cell is `none`).
    based: Vec<Ground>,
    /// "`agreements` values": the recipient requirement each agreement
    /// satisfies.
    agreements: Vec<(Agreement, RecipientRequirement)>,
    /// "`data_state` values": each state's protection.
    protection: Vec<(DataState, u8)>,
    /// "A permit carries built-in obligations": each providing action's.
    providing_duties: Vec<(Action, Vec<Duty>)>,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| Tables {
        taxonomy: doc_table("| key | default sensitivity | holds |")
            .iter()
            .map(|row| (ticked(row[0])[0].to_owned(), named(row[1].trim_matches('*'))))
            .collect(),
        grounds: doc_table("| value | meaning | PIPL basis | built-in duties | built-in evidence |")
            .iter()
            .map(|row| {
                let duties = ticked(row[3]).into_iter().map(named).collect();
                let evidence = ticked(row[4]).into_iter().map(named).collect();
                (named(ticked(row[0])[0]), (duties, evidence))
            })
            .collect(),
        based: doc_table("| value | meaning | PIPL basis | built-in duties | built-in evidence |")
            .iter()
            .filter(|row| !row[2].starts_with("none"))
            .map(|row| named(ticked(row[0])[0]))
            .collect(),
        agreements: doc_table("| value | meaning | satisfies `recipient_requires` |")
            .iter()
            .map(|row| (named(ticked(row[0])[0]), named(ticked(row[2])[0])))
            .collect(),
        protection: doc_table("| value | protection | meaning |")
            .iter()
            .map(|row| (named(ticked(row[0])[0]), row[1].parse().unwrap()))
            .collect(),
        providing_duties: doc_table("| action | obligations |")
            .iter()
            .map(|row| (named(ticked(row[0])[0]), ticked(row[1]).into_iter().map(named).collect()))
            .collect(),
    })
}

/// The grounds of the document's ground table.
pub(crate) fn documented_grounds() -> Vec<Ground> {
    tables().grounds.keys().copied().collect()
}

/// The document's built-in taxonomy: each key and its default sensitivity.
pub(crate) fn documented_taxonomy() -> &'static BTreeMap<String, Sensitivity> {
    &tables().taxonomy
}

/// A data state's protection (docs `data_state` values): 0 identifiable, 1
/// de-identified, 2 anonymised or aggregated.
fn protection(state: DataState) -> u8 {
    tables().protection.iter().find(|(s, _)| *s == state).map(|(_, p)| *p).unwrap()
}

/// Anonymised and aggregated data is no longer personal data (docs
/// `data_state` values: protection 2).
fn is_personal(state: DataState) -> bool {
    protection(state) < 2
}

/// The ground's built-in duties and evidence (docs "Grounds").
fn ground_duties(ground: Ground) -> &'static [Duty] {
    tables().grounds.get(&ground).map_or(&[], |(d, _)| d.as_slice())
}

pub(crate) fn ground_evidence(ground: Ground) -> &'static [Evidence] {
    tables().grounds.get(&ground).map_or(&[], |(_, e)| e.as_slice())
}

/// Whether the agreement satisfies the requirement (docs `agreements`
/// values).
fn satisfies(agreement: Agreement, requirement: RecipientRequirement) -> bool {
    tables().agreements.iter().any(|(a, r)| *a == agreement && *r == requirement)
}

/// The order of sensitivities (docs "Sensitivity": `non_personal` <
/// `personal` < `sensitive`).
fn rank(s: Sensitivity) -> u8 {
    match s {
        Sensitivity::NonPersonal => 0,
        Sensitivity::Personal => 1,
        _ => 2,
    }
}

// ---------------------------------------------------------------------------
// Category keys, as dotted strings (docs "Category keys")
// ---------------------------------------------------------------------------

/// The key one level up, if any.
fn parent(key: &str) -> Option<&str> {
    key.rfind('.').map(|i| &key[..i])
}

/// Whether `key` is `rule` or below it: "a rule on `user.device` covers
/// `user.device.device_id.imei`".
pub(crate) fn within(key: &CategoryKey, rule: &CategoryKey) -> bool {
    let (k, r) = (key.as_str(), rule.as_str());
    k == r || (k.starts_with(r) && k.as_bytes().get(r.len()) == Some(&b'.'))
}

// ---------------------------------------------------------------------------
// The calendar (docs "Periods", "When a period ends")
// ---------------------------------------------------------------------------

/// A period as months and days: years count as 12 months, weeks as 7 days
/// (docs "Periods"). Read from the period as the document writes it.
fn months_and_days(period: Period) -> (u32, u32) {
    let text: String = serde_json::from_value(serde_json::to_value(period).unwrap()).unwrap();
    let (mut months, mut days, mut n) = (0, 0, 0u32);
    for c in text.trim_start_matches('P').chars() {
        match c {
            '0'..='9' => n = n * 10 + c.to_digit(10).unwrap(),
            'Y' => (months, n) = (months + 12 * n, 0),
            'M' => (months, n) = (months + n, 0),
            'W' => (days, n) = (days + 7 * n, 0),
            'D' => (days, n) = (days + n, 0),
            _ => panic!("period `{text}` is not in the document's form"),
        }
    }
    (months, days)
}

fn leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if leap(year) => 29,
        2 => 28,
        _ => 31,
    }
}

/// `date` plus `period`: the months first, a day past the target month's
/// end clamped to it or rolled over into the next month (`month_end`), then
/// the days.
fn add_period(date: NaiveDate, period: Period, month_end: MonthEnd) -> NaiveDate {
    let (months, days) = months_and_days(period);
    let index = date.year() * 12 + date.month0() as i32 + months as i32;
    let (year, month) = (index.div_euclid(12), index.rem_euclid(12) as u32 + 1);
    let last = days_in_month(year, month);
    let moved = if date.day() <= last {
        NaiveDate::from_ymd_opt(year, month, date.day()).unwrap()
    } else {
        let end = NaiveDate::from_ymd_opt(year, month, last).unwrap();
        match month_end {
            MonthEnd::Clamp => end,
            _ => end + Days::new(u64::from(date.day() - last)),
        }
    };
    moved + Days::new(u64::from(days))
}

/// The policy's zone (`settings.utc_offset_seconds`).
pub(crate) fn zone(policy: &Policy) -> FixedOffset {
    FixedOffset::east_opt(policy.settings.utc_offset_seconds).unwrap()
}

/// The instant a period that runs from `from` ends (docs "When a period
/// ends"): the calendar date of `from` in the policy's zone, plus the
/// period, plus a day if the last day is included, at 00:00 in that zone.
pub(crate) fn period_end(policy: &Policy, from: DateTime<FixedOffset>, period: Period) -> DateTime<FixedOffset> {
    let tz = zone(policy);
    let mut last = add_period(from.with_timezone(&tz).date_naive(), period, policy.settings.month_end);
    if policy.settings.last_day_included {
        last = last + Days::new(1);
    }
    last.and_time(NaiveTime::MIN).and_local_timezone(tz).single().unwrap()
}

/// The time of a retention trigger: the request's `events.<trigger>`.
fn trigger_time(req: &Request, trigger: Trigger) -> Option<DateTime<FixedOffset>> {
    let e = &req.events;
    match trigger {
        Trigger::Collected => e.collected,
        Trigger::TransactionCompleted => e.transaction_completed,
        Trigger::AccountCancelled => e.account_cancelled,
        Trigger::LastUsed => e.last_used,
        _ => e.purpose_fulfilled,
    }
}

// ---------------------------------------------------------------------------
// The decision rules
// ---------------------------------------------------------------------------

/// Below this age a child's personal data is sensitive (docs
/// "Sensitivity"), and without a minors section the guardian's consent is
/// needed (docs `minors`).
const PIPL_CHILD_AGE: u8 = 14;

/// The highest age a request may state or a birth date may give (docs "How a
/// decision is made"); also the age assumed by `unknown_age: "adult"`.
const OLDEST: u8 = 150;

/// `separate` with the qualities it requires (docs "Consent qualities").
const SEPARATE: ConsentQualities =
    ConsentQualities::AFFIRMATIVE.union(ConsentQualities::EXPLICIT).union(ConsentQualities::SEPARATE);

fn builtin(name: &str) -> RuleId {
    RuleId::new(format!("builtin.{name}"))
}

/// A reason as the comparison sees it: the rule, its effect, the cites.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Why {
    pub(crate) rule: RuleId,
    pub(crate) effect: Effect,
    pub(crate) cites: Option<Cites>,
}

fn reason(rule: RuleId, effect: Effect, cites: Option<&Cites>) -> Why {
    Why { rule, effect, cites: cites.cloned() }
}

/// The model's decision: everything of a `Decision` but the messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub(crate) verdict: Verdict,
    pub(crate) action: Action,
    /// The version decided under; `None` when none was in force.
    pub(crate) policy_version: Option<String>,
    /// Each category with its verdict and the rules that decided it.
    pub(crate) categories: Vec<(CategoryKey, Verdict, Vec<RuleId>)>,
    pub(crate) reasons: BTreeSet<Why>,
    pub(crate) obligations: Vec<Obligation>,
    pub(crate) unmet: Vec<Unmet>,
    /// A rule denies whatever the consent: nothing lifts the denial.
    pub(crate) not_liftable: bool,
}

impl Outcome {
    /// The outcome as JSON in the decision's field names, for failure
    /// messages.
    pub(crate) fn to_json(&self) -> String {
        use serde_json::json;
        let categories: Vec<_> =
            self.categories.iter().map(|(c, v, r)| json!({"category": c, "verdict": v, "rules": r})).collect();
        let reasons: Vec<_> =
            self.reasons.iter().map(|w| json!({"rule": w.rule, "effect": w.effect, "cites": w.cites})).collect();
        json!({
            "verdict": self.verdict,
            "action": self.action,
            "policy_version": self.policy_version,
            "categories": categories,
            "reasons": reasons,
            "obligations": self.obligations,
            "unmet": self.unmet,
            "not_liftable": self.not_liftable,
        })
        .to_string()
    }
}

/// The consent history, replayed from the raw events on every question,
/// for a decision under `versions[w]`.
pub(crate) struct Events<'a> {
    events: &'a [ConsentEvent],
    versions: &'a [Policy],
    w: usize,
}

/// Grants that stop counting from a revision (docs "Policy changes",
/// consent effects, and "Policy histories"): those for `purpose` covering a
/// category that is one of `categories`, above or below one (every category
/// when `None`), and, when `recipient` is set, only as far as that
/// recipient is concerned.
struct Lapse {
    purpose: PurposeId,
    categories: Option<Vec<CategoryKey>>,
    recipient: Option<RecipientId>,
}

impl Lapse {
    /// Whether a grant for `purpose`, counted for `category` and the
    /// recipient (`None`: the controller's own processing), lapses.
    fn matches(&self, purpose: &PurposeId, category: &CategoryKey, recipient: Option<&RecipientId>) -> bool {
        &self.purpose == purpose
            && self.categories.as_ref().is_none_or(|cs| cs.iter().any(|c| within(category, c) || within(c, category)))
            && self.recipient.as_ref().is_none_or(|r| recipient == Some(r))
    }
}

/// What the revision from `old` to `new` asks of earlier grants, by the
/// consent effects of docs "Policy changes". Only optional purposes (as
/// `new` declares them) have grants to lapse:
///
/// - a purpose that lists a key it did not: all of its grants (PIPL art.
///   14, the processing as a whole);
/// - a key declared in either version that is more sensitive in `new`'s
///   categories: for each purpose listing it, a key below or above it,
///   the grants for that key;
/// - a recipient that is new, or another party (`kind`, `name`, `region`)
///   or serving a purpose it did not: for each purpose it serves, grants
///   as far as it is concerned, for all its categories; one receiving less
///   protected data (`data_state`) or with an agreement gone: the same;
///   else one receiving keys it did not: for those keys.
fn lapses(old: &Policy, new: &Policy) -> Vec<Lapse> {
    let optional: Vec<&Purpose> = new.purposes.iter().filter(|p| p.basis == PurposeBasis::Optional).collect();
    let mut out = Vec::new();
    for p in &optional {
        let Some(o) = old.purposes.iter().find(|o| o.id == p.id) else { continue };
        if p.categories.iter().any(|c| !o.categories.contains(c)) {
            out.push(Lapse { purpose: p.id.clone(), categories: None, recipient: None });
        }
    }
    let (before, after) = (categories(old), categories(new));
    let declared: BTreeSet<&CategoryKey> = old.categories.iter().chain(&new.categories).map(|c| &c.key).collect();
    for key in declared {
        let (Some(a), Some(b)) = (before.get(key.as_str()), after.get(key.as_str())) else { continue };
        if rank(*b) <= rank(*a) {
            continue;
        }
        for p in optional.iter().filter(|p| p.categories.iter().any(|c| within(c, key) || within(key, c))) {
            out.push(Lapse { purpose: p.id.clone(), categories: Some(vec![key.clone()]), recipient: None });
        }
    }
    for r in &new.recipients {
        let lapsing: Vec<CategoryKey> = match old.recipients.iter().find(|o| o.id == r.id) {
            None => r.categories.clone(),
            Some(o) => {
                let another = o.kind != r.kind || o.name != r.name || o.region != r.region;
                let more_purposes = r.purposes.iter().any(|p| !o.purposes.contains(p));
                let weaker = protection(r.data_state) < protection(o.data_state)
                    || o.agreements.iter().any(|a| !r.agreements.contains(a));
                if another || more_purposes || weaker {
                    r.categories.clone()
                } else {
                    r.categories.iter().filter(|c| !o.categories.contains(c)).cloned().collect()
                }
            }
        };
        if lapsing.is_empty() {
            continue;
        }
        for p in optional.iter().filter(|p| r.purposes.contains(&p.id)) {
            let categories = Some(lapsing.clone());
            out.push(Lapse { purpose: p.id.clone(), categories, recipient: Some(r.id.clone()) });
        }
    }
    out
}

impl<'a> Events<'a> {
    /// The history `events`, every grant counting whatever policy it names
    /// (a question that names no policy).
    pub(crate) fn any(events: &'a [ConsentEvent]) -> Self {
        Events { events, versions: &[], w: 0 }
    }

    /// The history `events`, for a question under `versions[w]`.
    pub(crate) fn under(events: &'a [ConsentEvent], versions: &'a [Policy], w: usize) -> Self {
        Events { events, versions, w }
    }

    /// Whether a grant event counts for a decision under `versions[w]`
    /// about `purpose`, `category` (and the recipient): given under the
    /// same policy id, in one of its versions, and no version after the
    /// earlier of the two up to the later made a lapse that matches it.
    fn grant_counts(
        &self,
        e: &ConsentEvent,
        purpose: &PurposeId,
        category: &CategoryKey,
        recipient: Option<&RecipientId>,
    ) -> bool {
        if self.versions.is_empty() {
            return true;
        }
        let Some(decided) = self.versions.get(self.w) else { return false };
        if e.policy_id != decided.id {
            return false;
        }
        let Some(v) = self.versions.iter().position(|p| p.version == e.policy_version) else { return false };
        let (lo, hi) = (v.min(self.w), v.max(self.w));
        (lo + 1..=hi).all(|k| {
            !lapses(&self.versions[k - 1], &self.versions[k]).iter().any(|l| l.matches(purpose, category, recipient))
        })
    }
}

impl Events<'_> {
    /// The subject's events at or before `at`, in time order, ties in the
    /// order given.
    fn as_of(&self, subject: &SubjectId, at: DateTime<Utc>) -> Vec<&ConsentEvent> {
        let mut evs: Vec<&ConsentEvent> =
            self.events.iter().filter(|e| &e.subject == subject && e.at.with_timezone(&Utc) <= at).collect();
        evs.sort_by_key(|e| e.at.with_timezone(&Utc)); // stable
        evs
    }

    /// Whether the device permission is on: the latest switch at or before
    /// `at` says so (off when never switched).
    pub(crate) fn permission_on(&self, subject: &SubjectId, permission: Permission, at: DateTime<Utc>) -> bool {
        let mut on = false;
        for e in self.as_of(subject, at) {
            match &e.change {
                ConsentChange::PermissionOn { permission: p } if *p == permission => on = true,
                ConsentChange::PermissionOff { permission: p } if *p == permission => on = false,
                _ => {}
            }
        }
        on
    }

    /// Whether a single grant with all of `required` and none of `excluded`
    /// is in force at `at` for `purpose` × `category` (and the recipient).
    /// A grant on `category` or on an ancestor in `covering` counts; a
    /// grant to one recipient counts only for that recipient; an ending
    /// event (refuse, withdraw, expire, revoke) on the category, an ancestor
    /// or a descendant ends the grants before it (for the query's recipient
    /// only, when it names one); a grant's own expiry ends it from that
    /// instant.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn has_consent(
        &self,
        subject: &SubjectId,
        purpose: &PurposeId,
        category: &CategoryKey,
        covering: &[String],
        recipient: Option<&RecipientId>,
        (required, excluded): (ConsentQualities, ConsentQualities),
        described: (bool, Option<RecipientKind>),
        at: DateTime<Utc>,
    ) -> bool {
        struct Live {
            qualities: ConsentQualities,
            expires: Option<DateTime<Utc>>,
        }
        let mut live: Vec<Live> = Vec::new();
        for e in self.as_of(subject, at) {
            let Some(scope) = scope_of(&e.change) else { continue };
            if !scope.purposes.contains(purpose) {
                continue;
            }
            if let ConsentChange::Grant { qualities, expires, .. } = &e.change {
                let covers = scope.categories.iter().any(|c| c == category || covering.iter().any(|k| k == c.as_str()));
                let to_recipient = match (&scope.recipient, recipient) {
                    (None, _) => true,
                    (Some(r), Some(want)) => r == want,
                    (Some(_), None) => false,
                };
                // A purpose or recipient the policy does not name: the
                // grant must describe it, the recipient as of the rule's kind.
                let d = scope.described.as_ref();
                let (purpose_named, kind) = described;
                let describes = (!purpose_named || d.is_some_and(|d| d.purpose.is_some()))
                    && kind.is_none_or(|k| d.is_some_and(|d| d.recipient_kind == Some(k)));
                if covers && to_recipient && describes && self.grant_counts(e, purpose, category, recipient) {
                    live.push(Live { qualities: *qualities, expires: expires.map(|x| x.with_timezone(&Utc)) });
                }
            } else if scope.recipient.as_ref().is_none_or(|r| recipient == Some(r))
                && scope.categories.iter().any(|c| within(category, c) || within(c, category))
            {
                // An ending event for one recipient ends every grant as far
                // as that recipient is concerned.
                live.clear();
            }
        }
        live.iter().any(|g| {
            g.qualities.contains(required) && !g.qualities.intersects(excluded) && g.expires.is_none_or(|x| at < x)
        })
    }
}

/// The scope of a consent change; a permission switch has none.
fn scope_of(change: &ConsentChange) -> Option<&Scope> {
    match change {
        ConsentChange::Grant { scope, .. }
        | ConsentChange::Refuse { scope }
        | ConsentChange::Withdraw { scope }
        | ConsentChange::Expire { scope }
        | ConsentChange::Revoke { scope } => Some(scope),
        _ => None,
    }
}

/// One category's outcome while it is being decided.
struct Draft {
    key: CategoryKey,
    permit: bool,
    reasons: Vec<Why>,
    obligations: Vec<Obligation>,
    unmet: Vec<Unmet>,
    /// The ground of the exception that permitted the category, if one did.
    by_exception: Option<Ground>,
    /// A rule denied that no consent lifts.
    not_liftable: bool,
}

impl Draft {
    fn permit(&mut self, r: Why) {
        self.permit = true;
        self.reasons.push(r);
    }
    fn deny(&mut self, r: Why) {
        self.permit = false;
        self.reasons.push(r);
    }
    fn note(&mut self, rule: RuleId, cites: Option<&Cites>) {
        self.reasons.push(reason(rule, Effect::Note, cites));
    }
    fn has_deny(&self) -> bool {
        self.reasons.iter().any(|r| r.effect == Effect::Deny)
    }
}

/// The consent requirements that apply to a category: each rule that asks
/// and the qualities it names.
type Needs = Vec<(RuleId, ConsentQualities)>;

fn union(needs: &Needs) -> ConsentQualities {
    needs.iter().fold(ConsentQualities::empty(), |u, (_, q)| u | *q)
}

/// The categories that exist and their sensitivity.
type Categories = BTreeMap<String, Sensitivity>;

/// The policy's categories (docs `categories`, `settings.taxonomy`): the
/// built-in table with the policy's keys added or raised, or with
/// `declared` the policy's keys alone. A key declared without a sensitivity
/// keeps its built-in one, or else takes its parent's (after the parent's
/// own raise), or is `personal` at a root.
fn categories(policy: &Policy) -> Categories {
    let builtin: Categories = match policy.settings.taxonomy {
        TaxonomySource::Declared => Categories::new(),
        _ => tables().taxonomy.clone(),
    };
    fn level(policy: &Policy, builtin: &Categories, key: &str) -> Sensitivity {
        let declared = policy.categories.iter().find(|d| d.key.as_str() == key).and_then(|d| d.sensitivity);
        match (declared, builtin.get(key), parent(key)) {
            (Some(s), _, _) => s,
            (None, Some(s), _) => *s,
            (None, None, Some(up)) => level(policy, builtin, up),
            (None, None, None) => Sensitivity::Personal,
        }
    }
    let mut out = builtin.clone();
    for d in &policy.categories {
        out.insert(d.key.as_str().to_owned(), level(policy, &builtin, d.key.as_str()));
    }
    out
}

/// Everything a category decision needs.
struct Ctx<'a> {
    policy: &'a Policy,
    tax: &'a Categories,
    events: &'a Events<'a>,
    req: &'a Request,
    at: DateTime<Utc>,
    rule: &'a ActionRule,
    purpose: Option<&'a Purpose>,
    recipient: Option<&'a Recipient>,
    /// The `named_in_consent` rules an undeclared purpose and recipient
    /// stand for.
    named_purpose: Option<&'a NamedInConsent>,
    named_recipient: Option<&'a NamedInConsent>,
    age: Option<u8>,
}

/// The `named_in_consent` rule that lets a consent name a purpose (or a
/// recipient) for the request's action, and what it stands for: a
/// purpose with the request's name, optional, on the rule's categories; a
/// recipient with the request's name, of the rule's kind, at home, with the
/// rule's agreements, for the rule's purposes (every purpose when it lists
/// none).
fn named_rule(policy: &Policy, names: Names, action: Action) -> Option<&NamedInConsent> {
    // Data kept for a purpose named in consent: retention actions take the
    // first rule that names purposes.
    let retention = matches!(action, Action::Retain | Action::Delete | Action::Anonymise);
    let for_action = |r: &&NamedInConsent| r.actions.contains(&action) || (retention && names == Names::Purpose);
    policy.named_in_consent.iter().filter(|r| r.names == names).find(for_action)
}

fn named_purpose(rule: &NamedInConsent, id: &PurposeId) -> Purpose {
    let mut p = Purpose::new(id.clone(), PurposeBasis::Optional, rule.categories.clone());
    p.cites = rule.cites.clone();
    p
}

fn named_recipient(policy: &Policy, rule: &NamedInConsent, id: &RecipientId, purpose: Option<&Purpose>) -> Recipient {
    let kind = rule.recipient_kind.unwrap();
    let mut r = Recipient::new(id.clone(), kind, policy.settings.home_region.clone());
    r.categories = rule.categories.clone();
    r.purposes = if rule.purposes.is_empty() {
        policy.purposes.iter().map(|p| p.id.clone()).chain(purpose.map(|p| p.id.clone())).collect()
    } else {
        rule.purposes.clone()
    };
    r.agreements = rule.agreements.clone();
    r.cites = rule.cites.clone();
    r
}

/// Decides `req` under `policy` with the consent history `events` (the
/// events a ledger accepted, in append order).
pub(crate) fn decide(policy: &Policy, events: &[ConsentEvent], req: &Request) -> Outcome {
    decide_history(std::slice::from_ref(policy), events, req)
}

/// Decides `req` under the version of `versions` (oldest first) in force at
/// its time: the latest whose `effective` is at or before it. Before the
/// first, the request is read against the first version and denied with
/// `builtin.no_policy_in_force`.
pub(crate) fn decide_history(versions: &[Policy], events: &[ConsentEvent], req: &Request) -> Outcome {
    let at = req.at.with_timezone(&Utc);
    let in_force = versions.iter().rposition(|p| p.effective.with_timezone(&Utc) <= at);
    let w = in_force.unwrap_or(0);
    let policy = &versions[w];
    let tax = categories(policy);
    let events = Events::under(events, versions, w);
    let mut top: Vec<Why> = Vec::new();
    let deny = |top: &mut Vec<Why>, name: &str| top.push(reason(builtin(name), Effect::Deny, None));
    if in_force.is_none() {
        deny(&mut top, "no_policy_in_force");
    }

    if req.categories.is_empty() {
        deny(&mut top, "no_category");
    }
    for key in &req.categories {
        if !tax.contains_key(key.as_str()) {
            deny(&mut top, "undeclared_category");
        }
    }
    let rule = policy.actions.iter().find(|r| r.action == req.action);
    if rule.is_none() {
        deny(&mut top, "undeclared_action");
    }
    let retention_action = matches!(req.action, Action::Retain | Action::Delete | Action::Anonymise);
    // An undeclared purpose or recipient: what a consent may name instead
    // (`named_in_consent`), or else only a revised policy permits it.
    let mut change: (Option<PurposeId>, Option<RecipientId>) = (None, None);
    let named_p = req.purpose.as_ref().filter(|id| !policy.purposes.iter().any(|p| &p.id == *id));
    let named_p_rule = named_p.and_then(|_| named_rule(policy, Names::Purpose, req.action));
    let synthetic_p = named_p.zip(named_p_rule).map(|(id, r)| named_purpose(r, id));
    let named_r = req.recipient.as_ref().filter(|id| !policy.recipients.iter().any(|r| &r.id == *id));
    let named_r_rule = named_r.and_then(|_| named_rule(policy, Names::Recipient, req.action));
    let synthetic_r = named_r.zip(named_r_rule).map(|(id, r)| named_recipient(policy, r, id, synthetic_p.as_ref()));
    for rule in named_p_rule.iter().chain(&named_r_rule) {
        top.push(reason(rule.id.clone(), Effect::Note, rule.cites.as_ref()));
    }
    let purpose = match &req.purpose {
        Some(id) => {
            let p = policy.purposes.iter().find(|p| &p.id == id).or(synthetic_p.as_ref());
            if p.is_none() {
                deny(&mut top, "undeclared_purpose");
                change.0 = Some(id.clone());
            }
            p
        }
        None => {
            // docs "Exceptions": a request claiming a ground its action
            // rule lists needs no purpose; the ground is the basis.
            let on_ground = req
                .exception
                .as_ref()
                .is_some_and(|c| rule.is_some_and(|r| r.exceptions.iter().any(|e| e.ground == c.ground)));
            if !retention_action && !on_ground {
                deny(&mut top, "missing_purpose");
            }
            None
        }
    };
    let recipient = match &req.recipient {
        Some(id) => {
            let r = policy.recipients.iter().find(|r| &r.id == id).or(synthetic_r.as_ref());
            if r.is_none() {
                deny(&mut top, "undeclared_recipient");
                change.1 = Some(id.clone());
            }
            r
        }
        None => {
            // Disclosure may go to the public at large without a named party.
            if matches!(req.action, Action::Share | Action::Entrust | Action::Transfer | Action::CrossBorder) {
                deny(&mut top, "missing_recipient");
            }
            None
        }
    };
    if let (Some(rule), Some(r)) = (rule, recipient) {
        // The rule's kinds, widened by an exception of the claimed ground
        // that lists the kind.
        let by_rule = rule.recipient_kinds.is_empty() || rule.recipient_kinds.contains(&r.kind);
        let by_exception = req.exception.as_ref().is_some_and(|claim| {
            rule.exceptions.iter().any(|e| e.ground == claim.ground && e.recipient_kinds.contains(&r.kind))
        });
        if !by_rule && !by_exception {
            top.push(reason(rule.id.clone(), Effect::Deny, rule.cites.as_ref()));
        }
    }
    let age = resolve_age(policy, req, &mut top);

    let top_denied = top.iter().any(|r| r.effect == Effect::Deny);
    let mut drafts = Vec::new();
    for key in &req.categories {
        let mut d = Draft {
            key: key.clone(),
            permit: false,
            reasons: vec![],
            obligations: vec![],
            unmet: vec![],
            by_exception: None,
            not_liftable: false,
        };
        if let (false, Some(rule), true) = (top_denied, rule, tax.contains_key(key.as_str())) {
            let ctx = Ctx {
                policy,
                tax: &tax,
                events: &events,
                req,
                at: req.at.with_timezone(&Utc),
                rule,
                purpose,
                recipient,
                named_purpose: synthetic_p.as_ref().and(named_p_rule),
                named_recipient: synthetic_r.as_ref().and(named_r_rule),
                age,
            };
            decide_category(&ctx, &mut d);
        }
        drafts.push(d);
    }
    let changed = change.0.is_some() || change.1.is_some();
    let policy_change = changed.then_some(Unmet::PolicyChange { purpose: change.0, recipient: change.1 });
    let mut outcome = finish(req.action, top, drafts, policy_change);
    outcome.policy_version = in_force.map(|_| policy.version.clone());
    outcome
}

/// The age the decision uses: from the birth date (which overrides the
/// stated age) on the calendar day of the request in the policy's time
/// zone, the stated age, or what the policy assumes for an unknown age
/// (0 for a minor, 150 for an adult), noted.
fn resolve_age(policy: &Policy, req: &Request, top: &mut Vec<Why>) -> Option<u8> {
    if let Some(birth) = req.subject.birth_date {
        let tz = zone(policy);
        let today: NaiveDate = req.at.with_timezone(&tz).date_naive();
        if birth > today {
            top.push(reason(builtin("invalid_birth_date"), Effect::Deny, None));
            return None;
        }
        let mut years = today.year() - birth.year();
        if (today.month(), today.day()) < (birth.month(), birth.day()) {
            years -= 1;
        }
        if years > i32::from(OLDEST) {
            top.push(reason(builtin("invalid_age"), Effect::Deny, None));
            return None;
        }
        return Some(u8::try_from(years).unwrap());
    }
    match req.subject.age {
        Some(a) if a > OLDEST => {
            top.push(reason(builtin("invalid_age"), Effect::Deny, None));
            None
        }
        Some(a) => Some(a),
        None => match policy.settings.unknown_age {
            UnknownAge::Adult => {
                top.push(reason(builtin("unknown_age_assumed_adult"), Effect::Note, None));
                Some(OLDEST)
            }
            UnknownAge::Minor => {
                top.push(reason(builtin("unknown_age_assumed_minor"), Effect::Note, None));
                Some(0)
            }
        },
    }
}

fn within_any(key: &CategoryKey, keys: &[CategoryKey]) -> bool {
    keys.iter().any(|k| within(key, k))
}

impl Ctx<'_> {
    fn base_sensitivity(&self, key: &CategoryKey) -> Sensitivity {
        self.tax[key.as_str()]
    }

    /// The category's sensitivity, personal data of a child under 14 raised
    /// to sensitive (PIPL art. 28) unless the policy says otherwise
    /// (`child_data_sensitive: false`).
    fn sensitivity(&self, key: &CategoryKey) -> Sensitivity {
        let base = self.base_sensitivity(key);
        let child = self.age.is_some_and(|a| a < PIPL_CHILD_AGE);
        if base == Sensitivity::Personal && child && self.policy.settings.child_data_sensitive {
            Sensitivity::Sensitive
        } else {
            base
        }
    }

    fn below(&self, age: u8) -> bool {
        self.age.is_some_and(|a| a < age)
    }

    /// The ancestors whose grants cover `key`: those of the same or higher
    /// sensitivity (`Scope::categories`).
    fn covering(&self, key: &CategoryKey) -> Vec<String> {
        let own = rank(self.base_sensitivity(key));
        let mut out = Vec::new();
        let mut up = parent(key.as_str());
        while let Some(a) = up {
            if self.tax.get(a).is_some_and(|s| rank(*s) >= own) {
                out.push(a.to_owned());
            }
            up = parent(a);
        }
        out
    }

    fn consent(
        &self,
        key: &CategoryKey,
        required: ConsentQualities,
        excluded: ConsentQualities,
        with_recipient: bool,
    ) -> bool {
        let Some(p) = self.purpose else { return false };
        self.events.has_consent(
            &self.req.subject.id,
            &p.id,
            key,
            &self.covering(key),
            if with_recipient { self.recipient.map(|r| &r.id) } else { None },
            (required, excluded),
            (
                self.named_purpose.is_some(),
                self.named_recipient.filter(|_| with_recipient).and_then(|r| r.recipient_kind),
            ),
            self.at,
        )
    }

    /// The purpose's categories limit the action unless its rule says
    /// `within_purpose: false`: a category outside them is denied.
    fn within_purpose(&self, d: &mut Draft) -> bool {
        let Some(p) = self.purpose else { return false };
        if self.rule.within_purpose && !within_any(&d.key, &p.categories) {
            d.deny(reason(builtin("category_not_in_purpose"), Effect::Deny, p.cites.as_ref()));
            return false;
        }
        true
    }

    /// The rule's `data_states`: each entry whose purposes and recipient
    /// kinds match (empty lists match anything, but listed kinds never match
    /// a request without a recipient) denies data less protected than its
    /// `at_least`, with the rule's id and the entry's cites (the rule's
    /// when the entry has none).
    fn data_states(&self, d: &mut Draft) {
        for ds in &self.rule.data_states {
            let purpose = ds.purposes.is_empty() || self.purpose.is_some_and(|p| ds.purposes.contains(&p.id));
            let kind =
                ds.recipient_kinds.is_empty() || self.recipient.is_some_and(|r| ds.recipient_kinds.contains(&r.kind));
            if purpose && kind && protection(self.req.data_state) < protection(ds.at_least) {
                d.deny(reason(self.rule.id.clone(), Effect::Deny, ds.cites.as_ref().or(self.rule.cites.as_ref())));
                d.unmet.push(Unmet::DataState { at_least: ds.at_least });
            }
        }
    }

    /// Whether the rule's `recipient_requires` is asked of `r`: of the kinds
    /// in `recipient_requires_kinds`, or when that is empty of every kind but
    /// an authority, the public and the controller itself.
    fn signs_agreements(&self, r: &Recipient) -> bool {
        let kinds = &self.rule.recipient_requires_kinds;
        if kinds.is_empty() {
            !matches!(
                r.kind,
                RecipientKind::Authority
                    | RecipientKind::Public
                    | RecipientKind::Controller
                    | RecipientKind::DataSubject
            )
        } else {
            kinds.contains(&r.kind)
        }
    }

    /// Whether providing to `r` is cross-border: the data comes from the home
    /// region (with `cross_border_origin: "subject_region"`, from the
    /// subject's region, or home when the request states none) and goes
    /// elsewhere (the request's `destination_region`, or the recipient's).
    fn abroad(&self, r: &Recipient) -> bool {
        let s = &self.policy.settings;
        let home = &s.home_region;
        let origin = match s.cross_border_origin {
            CrossBorderOrigin::SubjectRegion => self.req.subject.region.as_ref().unwrap_or(home),
            _ => home,
        };
        let destination = self.req.destination_region.as_ref().unwrap_or(&r.region);
        origin == home && destination != home
    }

    fn minor_rule_applies(&self, r: &MinorRule) -> bool {
        self.below(r.below_age)
            && (!r.requires_real_name || self.req.subject.real_name_verified)
            && (r.actions.is_empty() || r.actions.contains(&self.req.action))
            && (r.purposes.is_empty() || self.purpose.is_some_and(|p| r.purposes.contains(&p.id)))
    }

    /// Deny rules for minors: denied whatever the consent, until the age.
    fn minors_deny(&self, d: &mut Draft) -> bool {
        let Some(m) = &self.policy.minors else { return false };
        let mut denied = false;
        for r in m.rules.iter().filter(|r| r.effect == MinorEffect::Deny && self.minor_rule_applies(r)) {
            d.deny(reason(r.id.clone(), Effect::Deny, r.cites.as_ref()));
            // Whatever the consent: the decision lists no requirement.
            d.not_liftable = true;
            denied = true;
        }
        denied
    }

    /// The guardian's share: below the threshold the guardian's separate
    /// consent (with the policy's guardian qualities); minors rules may ask
    /// a guardian's consent above it, or guidance.
    fn guardian_needs(&self, d: &mut Draft, needs: &mut Needs) {
        match &self.policy.minors {
            Some(m) => {
                if self.below(m.guardian_consent_below) {
                    let q = m.guardian_qualities | ConsentQualities::GUARDIAN | SEPARATE;
                    needs.push((m.id.clone(), q));
                }
                for r in m.rules.iter().filter(|r| self.minor_rule_applies(r)) {
                    match r.effect {
                        MinorEffect::GuardianConsent => {
                            let q = m.guardian_qualities | ConsentQualities::GUARDIAN | ConsentQualities::AFFIRMATIVE;
                            needs.push((r.id.clone(), q));
                        }
                        MinorEffect::Guidance => {
                            d.obligations.push(Obligation::GuardianGuidance);
                            d.note(r.id.clone(), r.cites.as_ref());
                        }
                        MinorEffect::Deny => {}
                    }
                }
            }
            None => {
                if self.below(PIPL_CHILD_AGE) {
                    needs.push((builtin("pipl_guardian_consent"), ConsentQualities::GUARDIAN | SEPARATE));
                }
            }
        }
    }

    /// The policy's consent requirements on this action, purpose, category
    /// and recipient kind (a requirement that names kinds never applies to
    /// a request without a recipient).
    fn policy_requirements(&self, key: &CategoryKey) -> Needs {
        let mut needs = Needs::new();
        // A purpose named only in a consent: the consent that names it.
        if let Some(r) = self.named_purpose {
            needs.push((r.id.clone(), r.qualities));
        }
        for r in &self.policy.consent_requirements {
            let applies = r.actions.contains(&self.req.action)
                && (r.purposes.is_empty() || self.purpose.is_some_and(|p| r.purposes.contains(&p.id)))
                && (r.categories.is_empty() || within_any(key, &r.categories))
                && (r.recipient_kinds.is_empty()
                    || self.recipient.is_some_and(|x| r.recipient_kinds.contains(&x.kind)));
            if applies {
                needs.push((r.id.clone(), r.qualities));
            }
        }
        needs
    }

    fn cites_of(&self, id: &RuleId) -> Option<Cites> {
        let p = self.policy;
        if let Some(r) = p.consent_requirements.iter().find(|r| &r.id == id) {
            return r.cites.clone();
        }
        if let Some(r) = p.named_in_consent.iter().find(|r| &r.id == id) {
            return r.cites.clone();
        }
        if let Some(m) = &p.minors {
            if &m.id == id {
                return m.cites.clone();
            }
            if let Some(r) = m.rules.iter().find(|r| &r.id == id) {
                return r.cites.clone();
            }
        }
        p.actions.iter().find(|r| &r.id == id).and_then(|r| r.cites.clone())
    }

    /// Checks the consent the requirements ask for (`settings.consent_grants`):
    /// one grant with the union of their qualities, or for each requirement
    /// a grant of its own that has its qualities and no `separate` or
    /// `guardian` it does not name. Requirements with the same qualities are
    /// met by the same grants, so they are checked (and listed unmet)
    /// together.
    fn require_consent(&self, d: &mut Draft, needs: Needs, with_recipient: bool) {
        match self.policy.settings.consent_grants {
            ConsentGrants::PerRequirement => {
                let answers_only = ConsentQualities::SEPARATE | ConsentQualities::GUARDIAN;
                let mut by_qualities: BTreeMap<ConsentQualities, Vec<RuleId>> = BTreeMap::new();
                for (rule, q) in needs {
                    by_qualities.entry(q).or_default().push(rule);
                }
                for (q, rules) in by_qualities {
                    self.require_grant(d, q, answers_only.difference(q), rules, with_recipient);
                }
            }
            _ => {
                let q = union(&needs);
                let rules = needs.into_iter().map(|(rule, _)| rule).collect();
                self.require_grant(d, q, ConsentQualities::empty(), rules, with_recipient);
            }
        }
    }

    /// Permits the category if a grant with `q` (and none of `excluded`) is
    /// in force, or denies it on behalf of `rules`.
    fn require_grant(
        &self,
        d: &mut Draft,
        q: ConsentQualities,
        excluded: ConsentQualities,
        rules: Vec<RuleId>,
        with_recipient: bool,
    ) {
        let key = d.key.clone();
        let effect = if self.consent(&key, q, excluded, with_recipient) { Effect::Permit } else { Effect::Deny };
        for r in &rules {
            let cites = self.cites_of(r);
            let rs = reason(r.clone(), effect, cites.as_ref());
            if effect == Effect::Permit { d.permit(rs) } else { d.deny(rs) }
        }
        if effect == Effect::Deny {
            let p = self.purpose.unwrap();
            d.unmet.push(Unmet::Consent {
                purpose: p.id.clone(),
                categories: vec![key],
                qualities: q,
                from: if q.contains(ConsentQualities::GUARDIAN) { ConsentFrom::Guardian } else { ConsentFrom::Subject },
                recipient: if with_recipient { self.recipient.map(|r| r.id.clone()) } else { None },
                rules,
            });
            let kind = self.named_recipient.filter(|_| with_recipient).and_then(|r| r.recipient_kind);
            if self.named_purpose.is_some() || kind.is_some() {
                d.unmet.push(Unmet::Described {
                    purpose: self.named_purpose.map(|_| p.id.clone()),
                    recipient: kind.and(self.recipient.map(|r| r.id.clone())),
                    recipient_kind: kind,
                });
            }
        }
    }

    /// The claimed exception, if the action rule lists its ground (for the
    /// recipient's kind) and the request carries the evidence the ground
    /// and the exception need.
    fn exception(&self, d: &mut Draft) -> Option<(usize, &Exception)> {
        let claim = self.req.exception.as_ref()?;
        let mut listed = false;
        for (j, e) in self.rule.exceptions.iter().enumerate().filter(|(_, e)| e.ground == claim.ground) {
            if let Some(r) = self.recipient {
                let kinds = if e.recipient_kinds.is_empty() { &self.rule.recipient_kinds } else { &e.recipient_kinds };
                if !kinds.is_empty() && !kinds.contains(&r.kind) {
                    continue;
                }
            }
            listed = true;
            let missing: Vec<_> = ground_evidence(claim.ground)
                .iter()
                .chain(&e.requires)
                .filter(|ev| !claim.evidence.contains(ev))
                .collect();
            if missing.is_empty() {
                return Some((j, e));
            }
            d.note(e.id.clone(), e.cites.as_ref());
            for ev in missing {
                d.unmet.push(Unmet::Evidence { ground: claim.ground, evidence: *ev });
            }
        }
        if !listed {
            d.note(builtin("exception_not_available"), None);
        }
        None
    }

    /// docs "Exceptions": a ground the ground table gives no PIPL basis
    /// permits only where the policy acknowledges its
    /// `ground-without-pipl-basis` warning (noted in the decision), and
    /// denies otherwise.
    fn permit_by_exception(&self, d: &mut Draft, (j, e): (usize, &Exception)) {
        if !tables().based.contains(&e.ground) {
            let index = self.policy.actions.iter().position(|a| a.action == self.rule.action).unwrap_or(0);
            let path = format!("/actions/{index}/exceptions/{j}");
            let acknowledged = self
                .policy
                .acknowledged_warnings
                .iter()
                .any(|a| a.code == DiagnosticCode::GroundWithoutPiplBasis && a.path == path);
            if !acknowledged {
                d.deny(reason(builtin("ground_without_pipl_basis"), Effect::Deny, e.cites.as_ref()));
                return;
            }
            d.note(builtin("ground_without_pipl_basis"), e.cites.as_ref());
        }
        d.by_exception = Some(e.ground);
        d.permit(reason(e.id.clone(), Effect::Permit, e.cites.as_ref()));
        for duty in ground_duties(e.ground).iter().chain(&e.duties) {
            self.duty(d, *duty);
        }
    }

    fn request_categories(&self) -> Vec<CategoryKey> {
        let set: BTreeSet<CategoryKey> = self.req.categories.iter().cloned().collect();
        set.into_iter().collect()
    }

    /// The recipients that may have received a category (not the public,
    /// not the controller itself), sorted (every list of a decision is
    /// sorted).
    fn recipients_of(&self, key: &CategoryKey) -> Vec<RecipientId> {
        let set: BTreeSet<RecipientId> = self
            .policy
            .recipients
            .iter()
            .filter(|r| {
                !matches!(r.kind, RecipientKind::Public | RecipientKind::Controller | RecipientKind::DataSubject)
                    && within_any(key, &r.categories)
            })
            .map(|r| r.id.clone())
            .collect();
        set.into_iter().collect()
    }

    fn notice_fields(&self) -> Vec<NoticeField> {
        use NoticeField as F;
        match self.req.action {
            Action::Share | Action::CrossBorder => {
                vec![F::RecipientName, F::RecipientContact, F::Purpose, F::Method, F::Categories, F::RightsExercise]
            }
            Action::Transfer => vec![F::RecipientName, F::RecipientContact],
            _ => vec![F::Purpose, F::Method, F::Categories, F::Retention],
        }
    }

    /// A duty as a typed obligation; duties about a recipient or a purpose
    /// the request lacks fall away.
    fn duty(&self, d: &mut Draft, duty: Duty) {
        let rid = self.recipient.map(|r| r.id.clone());
        let o = match duty {
            Duty::DeIdentifyFirst if self.req.data_state == DataState::Identifiable => Obligation::DeIdentifyFirst,
            Duty::DeIdentifyFirst => return,
            Duty::AnonymiseFirst => Obligation::AnonymiseFirst,
            Duty::Minimise => Obligation::Minimise { categories: self.request_categories() },
            Duty::Encrypt => Obligation::Encrypt,
            Duty::NotifySubject => Obligation::NotifySubject { fields: self.notice_fields() },
            Duty::BindRecipientToPurpose => match (rid, self.purpose) {
                (Some(recipient), Some(p)) => Obligation::BindRecipientToPurpose { recipient, purpose: p.id.clone() },
                _ => return,
            },
            Duty::ConfidentialityAgreement => match rid {
                Some(recipient) => Obligation::ConfidentialityAgreement { recipient },
                None => return,
            },
            Duty::TransferMechanism => match rid {
                Some(recipient) => Obligation::TransferMechanism { recipient },
                None => return,
            },
            Duty::ImpactAssessment => Obligation::ImpactAssessment,
            Duty::LegalDocuments => Obligation::LegalDocuments,
            Duty::EncryptDisclosure => Obligation::EncryptDisclosure,
            Duty::DeIdentifyResults => Obligation::DeIdentifyResults,
            Duty::NotForProfit => Obligation::NotForProfit,
            Duty::NewHolderBound => Obligation::NewHolderBound,
            Duty::AdvanceNotice => Obligation::AdvanceNotice,
            Duty::NotifyRecipients => Obligation::NotifyRecipients { recipients: self.recipients_of(&d.key) },
            Duty::NoReidentification => Obligation::NoReidentification,
        };
        d.obligations.push(o);
    }
}

fn decide_category(ctx: &Ctx<'_>, d: &mut Draft) {
    let req = ctx.req;
    let key = d.key.clone();
    if !is_personal(req.data_state) {
        d.permit(reason(builtin("anonymised_out_of_scope"), Effect::Permit, None));
        d.obligations.push(Obligation::NoReidentification);
        return;
    }
    let sensitivity = ctx.sensitivity(&key);
    if sensitivity == Sensitivity::NonPersonal {
        if !req.linked_to_identity {
            d.permit(reason(builtin("non_personal"), Effect::Permit, None));
            return;
        }
        d.note(builtin("linked_to_identity"), None);
    }
    if req.data_state == DataState::DeIdentified {
        d.note(builtin("de_identified_is_personal"), None);
    }
    match req.action {
        Action::Collect | Action::Use => collect_use(ctx, sensitivity, d),
        Action::Share | Action::Entrust | Action::Transfer | Action::CrossBorder | Action::Disclose => {
            provide(ctx, sensitivity, d)
        }
        Action::Retain | Action::Delete | Action::Anonymise => retention(ctx, d),
    }
    // docs "Each category" 5: cancelling the account ends every
    // authorisation; only storage, security, deletion and the exception
    // grounds remain.
    let retention_action = matches!(req.action, Action::Retain | Action::Delete | Action::Anonymise);
    let cancelled = req.events.account_cancelled.is_some_and(|t| t.with_timezone(&Utc) <= ctx.at);
    if cancelled && !retention_action && d.by_exception.is_none() {
        d.deny(reason(builtin("account_cancelled"), Effect::Deny, None));
    }
    if d.permit && !d.has_deny() {
        // docs "Each category" 6: the action's duties; an authority's request may have to stay
        // confidential, so it carries no notice to the person.
        let confidential = matches!(
            d.by_exception,
            Some(Ground::AuthorityRequest) | Some(Ground::CriminalProceedings) | Some(Ground::NationalSecurity)
        );
        // The rule is noted whenever it has a duty that applies.
        let mut any = false;
        for duty in ctx.rule.duties.iter().filter(|duty| !(confidential && **duty == Duty::NotifySubject)) {
            ctx.duty(d, *duty);
            any = true;
        }
        // With none, a permitted collect, use or retain still notes the rule it
        // was asked under (providing and deleting permits name it anyway).
        if any || matches!(req.action, Action::Collect | Action::Use | Action::Retain) {
            d.note(ctx.rule.id.clone(), ctx.rule.cites.as_ref());
        }
    } else {
        d.permit = false;
        // docs "Each category" 7: obligations are the conditions of a permit; a denial keeps only
        // what it leaves the app to do (guidance for a minor).
        if !retention_action {
            d.obligations.retain(|o| matches!(o, Obligation::GuardianGuidance));
        }
    }
}

fn collect_use(ctx: &Ctx<'_>, sensitivity: Sensitivity, d: &mut Draft) {
    let Some(p) = ctx.purpose else {
        // docs "Exceptions": no purpose, on a listed ground: the data
        // states, then the exception alone.
        ctx.data_states(d);
        if let Some(e) = ctx.exception(d)
            && !d.has_deny()
        {
            ctx.permit_by_exception(d, e);
            if sensitivity == Sensitivity::Sensitive {
                d.obligations.push(Obligation::Encrypt);
            }
            d.obligations.push(Obligation::Minimise { categories: ctx.request_categories() });
        }
        return;
    };
    if !ctx.within_purpose(d) {
        return;
    }
    ctx.data_states(d);
    // A permission gates collection; the policy may say it gates use too.
    if (ctx.req.action == Action::Collect || ctx.policy.settings.permission_off_stops_use)
        && let Some(perm) = p.permission
        && !ctx.events.permission_on(&ctx.req.subject.id, perm, ctx.at)
    {
        d.deny(reason(builtin("permission_off"), Effect::Deny, p.cites.as_ref()));
        d.unmet.push(Unmet::Permission { permission: perm });
    }
    if let Some(e) = ctx.exception(d) {
        if !d.has_deny() {
            ctx.permit_by_exception(d, e);
            if sensitivity == Sensitivity::Sensitive {
                d.obligations.push(Obligation::Encrypt);
            }
            d.obligations.push(Obligation::Minimise { categories: ctx.request_categories() });
        }
        return;
    }
    if ctx.minors_deny(d) {
        return;
    }
    let mut needs = ctx.policy_requirements(&d.key);
    match p.basis {
        PurposeBasis::Optional => {
            if needs.is_empty() {
                needs.push((builtin("optional_purpose_consent"), ConsentQualities::AFFIRMATIVE));
            }
            if sensitivity == Sensitivity::Sensitive && !union(&needs).contains(ConsentQualities::SEPARATE) {
                needs.push((builtin("sensitive_separate_consent"), SEPARATE));
            }
        }
        PurposeBasis::Core => {
            d.permit(reason(RuleId::new(p.id.as_str()), Effect::Permit, p.cites.as_ref()));
        }
    }
    ctx.guardian_needs(d, &mut needs);
    if !needs.is_empty() {
        ctx.require_consent(d, needs, false);
    }
    if d.permit && !d.has_deny() {
        if sensitivity == Sensitivity::Sensitive {
            d.obligations.push(Obligation::Encrypt);
            d.obligations.push(Obligation::NotifySubject {
                fields: vec![NoticeField::Purpose, NoticeField::Necessity, NoticeField::Impact],
            });
        }
        d.obligations.push(Obligation::Minimise { categories: ctx.request_categories() });
    }
}

fn provide(ctx: &Ctx<'_>, sensitivity: Sensitivity, d: &mut Draft) {
    // docs "Exceptions": with no purpose (a listed ground claimed), the
    // recipient's purposes are not asked and only the exception permits.
    let p = ctx.purpose;
    let rule = ctx.rule;
    let action = ctx.req.action;
    let key = d.key.clone();
    ctx.within_purpose(d);
    // A cross-border request that stays at home, which the rule permits
    // (`domestic: "permit"`).
    let mut domestic = false;
    if let Some(r) = ctx.recipient {
        let abroad = ctx.abroad(r);
        domestic = action == Action::CrossBorder && !abroad && rule.domestic == Domestic::Permit;
        // A recipient named only in a consent answers to its rule.
        let rid = ctx.named_recipient.map_or_else(|| RuleId::new(r.id.as_str()), |n| n.id.clone());
        if !within_any(&key, &r.categories) {
            d.deny(reason(rid.clone(), Effect::Deny, r.cites.as_ref()));
        }
        if p.is_some_and(|p| !r.purposes.contains(&p.id)) {
            d.deny(reason(rid.clone(), Effect::Deny, r.cites.as_ref()));
        }
        if protection(ctx.req.data_state) < protection(r.data_state) {
            d.deny(reason(rid, Effect::Deny, r.cites.as_ref()));
            d.unmet.push(Unmet::DataState { at_least: r.data_state });
        }
        if ctx.signs_agreements(r) {
            for rr in &rule.recipient_requires {
                // A transfer mechanism is for exports only.
                if domestic && *rr == RecipientRequirement::TransferMechanism {
                    continue;
                }
                let has = r.agreements.iter().any(|a| satisfies(*a, *rr));
                if !has {
                    d.deny(reason(rule.id.clone(), Effect::Deny, rule.cites.as_ref()));
                    d.unmet.push(Unmet::Agreement { recipient: r.id.clone(), requirement: *rr });
                }
            }
        }
        if action == Action::CrossBorder && !abroad && !domestic {
            d.deny(reason(builtin("not_cross_border"), Effect::Deny, None));
        }
        if abroad && action != Action::CrossBorder && !rule.allow_abroad {
            d.deny(reason(builtin("cross_border_required"), Effect::Deny, None));
        }
    } else if action != Action::Disclose {
        return;
    }
    ctx.data_states(d);
    if domestic && p.is_some() {
        // Permitted by the rule after the checks above and the minors deny
        // rules: no exception, no consent, no cross-border obligations.
        ctx.minors_deny(d);
        if !d.has_deny() {
            d.permit(reason(rule.id.clone(), Effect::Permit, rule.cites.as_ref()));
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
    let Some(p) = p else { return };
    if ctx.minors_deny(d) {
        return;
    }
    let mut needs = Needs::new();
    let mut by_consent = false;
    // Entrustment rests on the processing contract (PIPL art. 21); core
    // purposes may rest on the contract when the rule says so; a recipient
    // named only in a consent rests on that consent (and the rule's).
    if let Some(named) = ctx.named_recipient {
        needs.push((named.id.clone(), named.qualities));
        needs.extend(rule.consent.map(|q| (rule.id.clone(), q)));
        by_consent = true;
    } else if (action == Action::Entrust && rule.consent.is_none())
        || (rule.core_purposes && p.basis == PurposeBasis::Core)
    {
        d.permit(reason(rule.id.clone(), Effect::Permit, rule.cites.as_ref()));
    } else if let Some(needed) = rule.consent {
        needs.push((rule.id.clone(), needed));
        by_consent = true;
    } else {
        d.deny(reason(builtin("no_basis"), Effect::Deny, rule.cites.as_ref()));
        return;
    }
    needs.extend(ctx.policy_requirements(&key));
    // Sensitive data provided on consent needs separate consent (PIPL art.
    // 29), unless the requirements already ask it.
    if by_consent && sensitivity == Sensitivity::Sensitive && !union(&needs).contains(ConsentQualities::SEPARATE) {
        needs.push((builtin("sensitive_separate_consent"), SEPARATE));
    }
    ctx.guardian_needs(d, &mut needs);
    if !needs.is_empty() {
        ctx.require_consent(d, needs, true);
    }
    if d.permit && !d.has_deny() {
        provide_obligations(ctx, d, true, true);
    }
}

/// The obligations of a providing permit: the action's own duties (not for
/// a cross-border rule's domestic permit), a confidentiality agreement with
/// a recipient asked to have one, no re-identification of de-identified
/// data.
fn provide_obligations(ctx: &Ctx<'_>, d: &mut Draft, by_consent: bool, action_duties: bool) {
    let action = ctx.req.action;
    // docs "How a providing action is decided": the built-in obligations.
    let table = &tables().providing_duties;
    let duties = table.iter().find(|(a, _)| *a == action && action_duties).map_or(&[][..], |(_, d)| d.as_slice());
    for duty in duties {
        // docs: "`notify_subject` is dropped when the permit comes from an
        // exception, except for `transfer`".
        if *duty == Duty::NotifySubject && !by_consent && action != Action::Transfer {
            continue;
        }
        ctx.duty(d, *duty);
    }
    if ctx.recipient.is_some_and(|r| ctx.signs_agreements(r))
        && ctx.rule.recipient_requires.contains(&RecipientRequirement::Confidentiality)
    {
        ctx.duty(d, Duty::ConfidentialityAgreement);
    }
    if ctx.req.data_state == DataState::DeIdentified {
        d.obligations.push(Obligation::NoReidentification);
    }
}

fn retention(ctx: &Ctx<'_>, d: &mut Draft) {
    let req = ctx.req;
    let at = ctx.at;
    let key = d.key.clone();
    // The rules that govern this category (and purpose, when the request
    // names one).
    let rules: Vec<&RetentionRule> = ctx
        .policy
        .retention
        .iter()
        .filter(|r| {
            (r.categories.is_empty() || within_any(&key, &r.categories))
                && (r.purposes.is_empty() || ctx.purpose.is_none_or(|p| r.purposes.contains(&p.id)))
        })
        .collect();
    // docs "Retention and the cancelled account": cancelling the account
    // ends every purpose, so it counts as the purpose being fulfilled if
    // that came no earlier.
    let start = |r: &RetentionRule| {
        let t = trigger_time(req, r.trigger);
        match (r.trigger, req.events.account_cancelled.filter(|c| c.with_timezone(&Utc) <= at)) {
            (Trigger::PurposeFulfilled, Some(c)) => Some(t.map_or(c, |t| t.min(c))),
            _ => t,
        }
    };
    // Minimum end per rule: None (no minimum), Some(None) (trigger unknown).
    let min_end = |r: &RetentionRule| r.minimum.map(|m| start(r).map(|t| period_end(ctx.policy, t, m)));
    // docs "Retention": a maximum of zero ends at its start itself, whatever
    // the trigger, not at the end of that day.
    let max_end = |r: &RetentionRule| {
        r.maximum
            .and_then(|m| start(r).map(|t| if months_and_days(m) == (0, 0) { t } else { period_end(ctx.policy, t, m) }))
    };
    let pending: Vec<(&RetentionRule, DateTime<FixedOffset>)> = rules
        .iter()
        .filter_map(|r| match min_end(r) {
            Some(Some(end)) if at < end.with_timezone(&Utc) => Some((*r, end)),
            _ => None,
        })
        .collect();
    let pending_minimum = pending.iter().map(|(_, e)| *e).max();
    let unknown_minimum: Vec<&RetentionRule> =
        rules.iter().copied().filter(|r| matches!(min_end(r), Some(None))).collect();
    let passed_max: Vec<(&RetentionRule, DateTime<FixedOffset>)> =
        rules.iter().filter_map(|r| max_end(r).filter(|m| at >= m.with_timezone(&Utc)).map(|m| (*r, m))).collect();
    let held = req
        .events
        .legal_hold
        .as_ref()
        .is_some_and(|h| h.since.with_timezone(&Utc) <= at && h.until.is_none_or(|u| at < u.with_timezone(&Utc)));
    let rr = |r: &RetentionRule, effect| reason(r.id.clone(), effect, r.cites.as_ref());

    match req.action {
        Action::Delete | Action::Anonymise => {
            // A deadline set outside the policy, compared to the second;
            // checked together with the hold.
            if let Some(until) = req.events.retain_until.filter(|u| at < u.with_timezone(&Utc)) {
                d.deny(reason(builtin("retain_until"), Effect::Deny, None));
                d.unmet.push(Unmet::NotBefore { at: until });
            }
            if held {
                d.deny(reason(builtin("legal_hold"), Effect::Deny, None));
                d.obligations.push(Obligation::RestrictToStorageAndSecurity);
                if let Some(until) = req.events.legal_hold.as_ref().and_then(|h| h.until) {
                    d.unmet.push(Unmet::NotBefore { at: until });
                }
                return;
            }
            for r in &unknown_minimum {
                d.deny(rr(r, Effect::Deny));
                d.unmet.push(Unmet::EventTime { trigger: r.trigger });
            }
            if let Some(end) = pending_minimum {
                for (r, _) in &pending {
                    d.deny(rr(r, Effect::Deny));
                }
                d.unmet.push(Unmet::NotBefore { at: end });
                if !passed_max.is_empty() {
                    d.obligations.push(Obligation::RestrictToStorageAndSecurity);
                }
            }
            if !d.has_deny() {
                d.permit(reason(ctx.rule.id.clone(), Effect::Permit, ctx.rule.cites.as_ref()));
                // docs "How `retain`, `delete` and `anonymise` are decided":
                // "With no applicable rule at all it is permitted as
                // `builtin.delete_permitted`."
                if rules.is_empty() {
                    d.permit(reason(builtin("delete_permitted"), Effect::Permit, None));
                }
                for r in &rules {
                    d.permit(rr(r, Effect::Permit));
                    if r.backups_at_next_cycle {
                        d.obligations.push(Obligation::PurgeBackupsAtNextCycle);
                    }
                    if r.isolate_backups {
                        d.obligations.push(Obligation::IsolateBackups);
                    }
                    if r.notify_recipients {
                        d.obligations.push(Obligation::NotifyRecipients { recipients: ctx.recipients_of(&key) });
                    }
                    if req.action == Action::Delete && r.end_action == EndAction::Anonymise {
                        d.note(r.id.clone(), r.cites.as_ref());
                    }
                }
            }
        }
        Action::Retain => {
            // A legal hold keeps the data, for storage and security only,
            // whatever the retention rules say.
            if held {
                d.permit(reason(builtin("legal_hold"), Effect::Permit, None));
                d.obligations.push(Obligation::RestrictToStorageAndSecurity);
                return;
            }
            if rules.is_empty() {
                d.deny(reason(builtin("no_retention_rule"), Effect::Deny, None));
                return;
            }
            // docs "Retention": a maximum of zero from collection keeps
            // nothing: denied, and deleted at the request's time, whether
            // or not the collection time is known (unless a statutory
            // minimum still runs).
            let keeps_nothing = |r: &RetentionRule| {
                r.trigger == Trigger::Collected && r.maximum.is_some_and(|m| months_and_days(m) == (0, 0))
            };
            if pending_minimum.is_none() && rules.iter().any(|r| keeps_nothing(r)) {
                // docs "The decision", Not liftable: nothing the app can obtain lifts it.
                d.not_liftable = true;
                for r in rules.iter().filter(|r| keeps_nothing(r)) {
                    d.deny(rr(r, Effect::Deny));
                    d.obligations.push(Obligation::DeleteBy { by: req.at, end: r.end_action });
                    if r.backups_at_next_cycle {
                        d.obligations.push(Obligation::PurgeBackupsAtNextCycle);
                    }
                }
                return;
            }
            let cancelled = req.events.account_cancelled.filter(|c| c.with_timezone(&Utc) <= at);
            let account_closed = cancelled.is_some();
            // The minimums whose end is known, passed or not.
            let minimum_rules: Vec<(&RetentionRule, DateTime<FixedOffset>)> =
                rules.iter().filter_map(|r| min_end(r).flatten().map(|e| (*r, e))).collect();
            // A maximum still running gives the data until then, cancelled or
            // not.
            let maximum_pending = rules.iter().any(|r| max_end(r).is_some_and(|m| at < m.with_timezone(&Utc)));
            let cancelled = cancelled.filter(|_| !maximum_pending);
            let end_action_of = |rs: &[(&RetentionRule, DateTime<FixedOffset>)]| {
                let mut ends = rs.iter().map(|(r, _)| r.end_action);
                match ends.next() {
                    Some(first) if ends.all(|a| a == first) => first,
                    _ => EndAction::DeleteOrAnonymise,
                }
            };
            match (pending_minimum, passed_max.is_empty(), cancelled) {
                // PIPL art. 47: the purpose is over but a statutory period
                // still runs: storage and security only.
                (Some(end), false, _) | (Some(end), true, Some(_)) => {
                    for (r, _) in &pending {
                        d.permit(rr(r, Effect::Permit));
                    }
                    for (r, _) in &passed_max {
                        d.note(r.id.clone(), r.cites.as_ref());
                    }
                    if cancelled.is_some() {
                        d.note(builtin("account_cancelled"), None);
                    }
                    let ending = if passed_max.is_empty() { &minimum_rules } else { &passed_max };
                    d.obligations.push(Obligation::RestrictToStorageAndSecurity);
                    d.obligations.push(Obligation::DeleteBy { by: end, end: end_action_of(ending) });
                }
                (None, false, _) => {
                    for (r, by) in &passed_max {
                        d.deny(rr(r, Effect::Deny));
                        d.obligations.push(Obligation::DeleteBy { by: *by, end: r.end_action });
                        if r.backups_at_next_cycle {
                            d.obligations.push(Obligation::PurgeBackupsAtNextCycle);
                        }
                    }
                }
                (None, true, Some(cancelled_at)) => {
                    let by = minimum_rules.iter().map(|(_, e)| *e).fold(cancelled_at, DateTime::max);
                    d.deny(reason(builtin("account_cancelled"), Effect::Deny, None));
                    for (r, _) in &minimum_rules {
                        d.deny(rr(r, Effect::Deny));
                    }
                    let ending: Vec<_> = rules.iter().map(|r| (*r, by)).collect();
                    d.obligations.push(Obligation::DeleteBy { by, end: end_action_of(&ending) });
                    if rules.iter().any(|r| r.backups_at_next_cycle) {
                        d.obligations.push(Obligation::PurgeBackupsAtNextCycle);
                    }
                }
                (pending, true, None) => {
                    for r in &rules {
                        d.permit(rr(r, Effect::Permit));
                        if let Some(by) = max_end(r) {
                            d.obligations.push(Obligation::DeleteBy { by, end: r.end_action });
                        }
                    }
                    if let Some(until) = pending {
                        d.obligations.push(Obligation::RetainUntil { until });
                    }
                    // Every purpose ended with the account: storage and
                    // security only until the data goes (PIPL art. 47).
                    if account_closed {
                        d.note(builtin("account_cancelled"), None);
                        d.obligations.push(Obligation::RestrictToStorageAndSecurity);
                    }
                }
            }
        }
        _ => {}
    }
}

/// The key on which consent requirements that differ only in their
/// categories are merged.
type ConsentKey = (PurposeId, ConsentQualities, ConsentFrom, Option<RecipientId>);

/// The decision from the drafts: a permit needs every category permitted
/// and no request-level denial; a permit reports every reason and
/// obligation, a denial what denied (and the notes), the obligations and
/// unmet requirements of the denied categories, consent requirements merged
/// across categories. Every list sorted and free of duplicates.
fn finish(action: Action, top: Vec<Why>, drafts: Vec<Draft>, policy_change: Option<Unmet>) -> Outcome {
    let top_denied = top.iter().any(|r| r.effect == Effect::Deny);
    let permit = !top_denied && !drafts.is_empty() && drafts.iter().all(|d| d.permit);
    let top_rules: BTreeSet<RuleId> = top.iter().filter(|r| r.effect == Effect::Deny).map(|r| r.rule.clone()).collect();
    let mut reasons: BTreeSet<Why> = top.into_iter().collect();
    let mut obligations: BTreeSet<Obligation> = BTreeSet::new();
    let mut consents: BTreeMap<ConsentKey, (BTreeSet<CategoryKey>, BTreeSet<RuleId>)> = BTreeMap::new();
    let mut other_unmet: BTreeSet<Unmet> = policy_change.into_iter().collect();
    let mut not_liftable = false;
    let mut categories: BTreeSet<(CategoryKey, Verdict, Vec<RuleId>)> = BTreeSet::new();
    for d in drafts {
        let rules: BTreeSet<RuleId> = if top_denied {
            top_rules.clone()
        } else {
            // The rules that gave the category its verdict.
            let effect = if d.permit { Effect::Permit } else { Effect::Deny };
            d.reasons.iter().filter(|r| r.effect == effect).map(|r| r.rule.clone()).collect()
        };
        let verdict = if d.permit && !top_denied { Verdict::Permit } else { Verdict::Deny };
        categories.insert((d.key.clone(), verdict, rules.into_iter().collect()));
        if permit || !d.permit {
            reasons.extend(d.reasons);
            obligations.extend(d.obligations);
        }
        if !permit && !d.permit {
            not_liftable |= d.not_liftable;
            for u in d.unmet {
                match u {
                    Unmet::Consent { purpose, categories, qualities, from, recipient, rules } => {
                        let e = consents.entry((purpose, qualities, from, recipient)).or_default();
                        e.0.extend(categories);
                        e.1.extend(rules);
                    }
                    other => {
                        other_unmet.insert(other);
                    }
                }
            }
        }
    }
    if !permit {
        reasons.retain(|r| r.effect != Effect::Permit);
        if reasons.is_empty() {
            reasons.insert(reason(builtin("default_deny"), Effect::Deny, None));
        }
    }
    let mut unmet: Vec<Unmet> = other_unmet.into_iter().collect();
    for ((purpose, qualities, from, recipient), (cats, rules)) in consents {
        unmet.push(Unmet::Consent {
            purpose,
            categories: cats.into_iter().collect(),
            qualities,
            from,
            recipient,
            rules: rules.into_iter().collect(),
        });
    }
    unmet.sort();
    // Nothing lifts the denial: no requirement is listed.
    if not_liftable {
        unmet.clear();
    }
    Outcome {
        verdict: if permit { Verdict::Permit } else { Verdict::Deny },
        action,
        policy_version: None,
        categories: categories.into_iter().collect(),
        reasons,
        obligations: obligations.into_iter().collect(),
        unmet,
        not_liftable,
    }
}

/// The model's calendar gives the document's worked example ("When a
/// period ends") and its month-end cases.
#[test]
fn calendar_follows_the_documents_worked_example() {
    let period = |s: &str| -> Period { named(s) };
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let jan31 = date(2021, 1, 31);
    assert_eq!(add_period(jan31, period("P3Y"), MonthEnd::Clamp), date(2024, 1, 31));
    assert_eq!(add_period(jan31, period("P1M"), MonthEnd::Clamp), date(2021, 2, 28));
    assert_eq!(add_period(jan31, period("P1M"), MonthEnd::RollOver), date(2021, 3, 3));
    assert_eq!(add_period(date(2024, 1, 31), period("P1M"), MonthEnd::RollOver), date(2024, 3, 2));
    assert_eq!(add_period(jan31, period("P2W"), MonthEnd::Clamp), date(2021, 2, 14));
    assert_eq!(add_period(jan31, period("P1Y1M1D"), MonthEnd::Clamp), date(2022, 3, 1));
}
