//! proptest generators: small random policies that pass `Policy::validate`,
//! consent histories and requests around every boundary that matters.
//!
//! The settings and rule fields that depart from the PIPL defaults are each
//! turned on in a fair share of the policies and left at their defaults in
//! most: `taxonomy: "declared"` (1 in 5), `child_data_sensitive: false`
//! (1 in 4), `consent_grants: "per_requirement"` (3 in 10),
//! `cross_border_origin: "subject_region"` (3 in 10); a consent
//! requirement's `recipient_kinds` (3 in 10); an action rule's `data_states`
//! (1 in 4 where it has effect), `within_purpose: false` (1 in 5),
//! `recipient_requires_kinds` (3 in 10 of the rules with
//! `recipient_requires`), `domestic: "permit"` (1 in 2 cross-border rules),
//! `allow_abroad` (3 in 10 share, entrust, transfer and disclose rules);
//! recipients of kind `controller` (1 in 10); a `named_in_consent` rule for
//! purposes (1 in 2) and one for recipients (1 in 2), grants that describe
//! what they name (1 in 2), requests for an undeclared purpose or recipient
//! (1 in 8 each when a rule names one); requests with a subject
//! region (4 in 10) and an `events.retain_until` around the request time
//! (1 in 4).
//!
//! Policies, consent events and requests are written as JSON documents
//! (`serde_json::json!`) and read with `Policy::from_json`,
//! `Request::from_json` and serde, as a caller would write them: the
//! generator never builds the public structs field by field.
//!
//! So that requests get past the recipient checks to consent, exceptions and
//! obligations often enough to test them, recipients take identifiable data
//! in 5 of 8 cases and have every agreement in 1 of 4, action rules name
//! recipient kinds in half of them, and one request in four is a coherent
//! provision (see `request_for`).

use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use privacy_engine::{
    Action, Agreement, CategoryKey, Cites, ConsentEvent, ConsentQualities, DataState, Duty, Evidence, Ground,
    Permission, Policy, PurposeId, RecipientKind, RecipientRequirement, Request, Sensitivity, TaxonomySource,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use serde_json::{Value, json};

/// Built-in categories at every depth and of every sensitivity, and the two
/// the generated policies may declare.
pub(crate) const CATEGORIES: &[&str] = &[
    "user",
    "user.contact",
    "user.contact.phone_number",
    "user.contact.carrier",
    "user.biometric",
    "user.biometric.face",
    "user.device",
    "user.device.model",
    "user.device.device_id",
    "user.device.device_id.imei",
    "user.financial.transaction",
    "user.location.precise",
    "user.account.nickname",
    "organization.contact",
    "aggregate.statistics",
    "user.contact.phone_number.backup",
    "user.device.model.codename",
];

/// Keys that no generated policy declares.
pub(crate) const UNKNOWN_CATEGORIES: &[&str] = &["user.unknown", "user.contact.phone_number.unknown", "unknown"];

/// New roots that only a policy with `taxonomy: "declared"` declares.
const DECLARED_ROOTS: &[&str] = &["device", "device.id"];

/// The parents of `CATEGORIES` that a declared taxonomy needs as well.
const DECLARED_PARENTS: &[&str] = &["user.account", "user.financial", "user.location", "organization", "aggregate"];

/// A built-in key that is known unless the taxonomy is the policy's own.
const BUILTIN_ONLY: &[&str] = &["user.contact.email"];

/// The keys a generated policy names: `CATEGORIES`, and with a declared
/// taxonomy its new roots too.
fn pool(declared: bool) -> Vec<&'static str> {
    let mut keys = CATEGORIES.to_vec();
    if declared {
        keys.extend(DECLARED_ROOTS);
    }
    keys
}

/// The keys a request names: any policy's, and some no policy has.
fn request_keys() -> Vec<&'static str> {
    [CATEGORIES, DECLARED_ROOTS, BUILTIN_ONLY].concat()
}

/// `value` without its null fields, at any depth: an absent optional field
/// is left out, as a person writing the document would.
fn strip_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, strip_nulls(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

/// The subject whose consents the ledger holds; requests are for it or for
/// `other`.
pub(crate) const SUBJECT: &str = "s1";

/// Ids in an order that is not sorted, so that lists built in policy order
/// show whether they are sorted.
const PURPOSE_IDS: [&str; 3] = ["purpose.z", "purpose.a", "purpose.m"];
const RECIPIENT_IDS: [&str; 3] = ["recipient.z", "recipient.a", "recipient.m"];

/// The request time the generated times are around.
pub(crate) fn base_time() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2024-05-01T10:00:00+08:00").unwrap()
}

pub(crate) fn key(s: &str) -> CategoryKey {
    CategoryKey::new(s).unwrap()
}

/// Any of the 32 quality sets, made coherent (separate implies explicit,
/// explicit, separate and written imply affirmative): every coherent set,
/// the empty one (policy acceptance) included.
pub(crate) fn qualities() -> impl Strategy<Value = ConsentQualities> {
    (0u8..32).prop_map(|bits| {
        let mut q = ConsentQualities::from_bits_truncate(bits);
        if q.contains(ConsentQualities::SEPARATE) {
            q |= ConsentQualities::EXPLICIT;
        }
        if q.intersects(ConsentQualities::EXPLICIT | ConsentQualities::SEPARATE | ConsentQualities::WRITTEN) {
            q |= ConsentQualities::AFFIRMATIVE;
        }
        q
    })
}

/// A coherent, non-empty quality set (what a requirement may name).
pub(crate) fn required_qualities() -> impl Strategy<Value = ConsentQualities> {
    qualities().prop_map(|q| if q.is_empty() { ConsentQualities::AFFIRMATIVE } else { q })
}

fn cats(pool: Vec<&'static str>, max: usize) -> impl Strategy<Value = Vec<CategoryKey>> {
    subsequence(pool, 0..=max).prop_map(|v| v.into_iter().map(key).collect())
}

fn nonempty_cats(pool: Vec<&'static str>, max: usize) -> impl Strategy<Value = Vec<CategoryKey>> {
    subsequence(pool, 1..=max).prop_map(|v| v.into_iter().map(key).collect())
}

fn purpose_refs(n: usize) -> impl Strategy<Value = Vec<PurposeId>> {
    subsequence(&PURPOSE_IDS[..n], 0..=n).prop_map(|v| v.into_iter().map(PurposeId::from).collect())
}

/// Every ground of the document's ground table, so that the differential
/// test compares each ground's built-in duties and evidence.
fn grounds() -> Vec<Ground> {
    crate::reference::documented_grounds()
}

const EVIDENCE: &[Evidence] = &[
    Evidence::LegalDocuments,
    Evidence::NotForProfit,
    Evidence::ResultsDeIdentified,
    Evidence::ConsentHardToObtain,
    Evidence::MajorPublicInterest,
    Evidence::SubjectRequested,
    Evidence::GuardianRequested,
    Evidence::NewHolderBound,
];

const KINDS: &[RecipientKind] = &[
    RecipientKind::Controller,
    RecipientKind::Affiliate,
    RecipientKind::Processor,
    RecipientKind::Partner,
    RecipientKind::Merchant,
    RecipientKind::Advertiser,
    RecipientKind::Sdk,
    RecipientKind::Authority,
    RecipientKind::Acquirer,
    RecipientKind::Public,
    RecipientKind::DataSubject,
];

const AGREEMENTS: &[Agreement] = &[
    Agreement::Confidentiality,
    Agreement::ProcessingContract,
    Agreement::CacStandardContract,
    Agreement::CacSecurityAssessment,
    Agreement::Certification,
    Agreement::AdvertisingRules,
];

const RECIPIENT_REQUIREMENTS: &[RecipientRequirement] = &[
    RecipientRequirement::Confidentiality,
    RecipientRequirement::ProcessingContract,
    RecipientRequirement::TransferMechanism,
    RecipientRequirement::AdvertisingRules,
];

const DUTIES: &[Duty] = &[
    Duty::DeIdentifyFirst,
    Duty::AnonymiseFirst,
    Duty::Minimise,
    Duty::Encrypt,
    Duty::NotifySubject,
    Duty::BindRecipientToPurpose,
    Duty::ConfidentialityAgreement,
    Duty::TransferMechanism,
    Duty::ImpactAssessment,
    Duty::LegalDocuments,
    Duty::EncryptDisclosure,
    Duty::DeIdentifyResults,
    Duty::NotForProfit,
    Duty::NewHolderBound,
    Duty::AdvanceNotice,
    Duty::NotifyRecipients,
    Duty::NoReidentification,
];

const PERMISSIONS: &[Permission] = &[Permission::Camera, Permission::Location, Permission::Contacts];

pub(crate) const STATES: &[DataState] =
    &[DataState::Identifiable, DataState::DeIdentified, DataState::Anonymised, DataState::Aggregated];

const REGIONS: &[&str] = &["CN", "EU", "US"];

/// Periods in increasing length, so a minimum never exceeds its maximum.
const PERIODS: &[&str] = &["P0D", "P30D", "P6M", "P1Y", "P1Y6M", "P3Y"];

fn cites() -> impl Strategy<Value = Option<Cites>> {
    prop_oneof![Just(None), Just(Some(Cites::from("§1"))), Just(Some(Cites::from("§2")))]
}

fn purpose(id: &'static str, pool: Vec<&'static str>) -> impl Strategy<Value = Value> {
    (
        select(vec!["core", "optional"]),
        nonempty_cats(pool, 4),
        proptest::option::weighted(0.3, select(PERMISSIONS)),
        cites(),
    )
        .prop_map(move |(basis, categories, permission, cites)| {
            json!({"id": id, "basis": basis, "categories": categories, "permission": permission, "cites": cites})
        })
}

/// Recipient kinds a rule names: one to three in `weight_listed` of ten,
/// otherwise none (any kind).
fn some_kinds(weight_listed: u32) -> impl Strategy<Value = Vec<RecipientKind>> {
    prop_oneof![10 - weight_listed => Just(vec![]), weight_listed => subsequence(KINDS, 1..=3)]
}

fn requirement(i: usize, n_purposes: usize, pool: Vec<&'static str>) -> impl Strategy<Value = Value> {
    (
        subsequence(Action::ALL.to_vec(), 1..=4),
        purpose_refs(n_purposes),
        cats(pool, 2),
        required_qualities(),
        some_kinds(3),
        cites(),
    )
        .prop_map(move |(actions, purposes, categories, qualities, recipient_kinds, cites)| {
            json!({
                "id": format!("req{i}"),
                "actions": actions,
                "purposes": purposes,
                "categories": categories,
                "recipient_kinds": recipient_kinds,
                "qualities": qualities,
                "cites": cites,
            })
        })
}

fn recipient(id: &'static str, n_purposes: usize, pool: Vec<&'static str>) -> impl Strategy<Value = Value> {
    (
        select(KINDS),
        select(REGIONS),
        prop_oneof![3 => subsequence(AGREEMENTS, 0..=3), 1 => Just(AGREEMENTS.to_vec())],
        nonempty_cats(pool, 3),
        purpose_refs(n_purposes),
        prop_oneof![2 => Just(DataState::Identifiable), 2 => select(STATES)],
        cites(),
    )
        .prop_map(move |(kind, region, agreements, categories, purposes, data_state, cites)| {
            json!({
                "id": id,
                "kind": kind,
                "region": region,
                "agreements": agreements,
                "categories": categories,
                "purposes": purposes,
                "data_state": data_state,
                "cites": cites,
            })
        })
}

fn exception(rule: String, j: usize) -> impl Strategy<Value = Value> {
    (select(grounds()), subsequence(EVIDENCE, 0..=1), subsequence(KINDS, 0..=2), subsequence(DUTIES, 0..=2), cites())
        .prop_map(move |(ground, requires, recipient_kinds, duties, cites)| {
            json!({
                "id": format!("{rule}.e{j}"),
                "ground": ground,
                "requires": requires,
                "recipient_kinds": recipient_kinds,
                "duties": duties,
                "cites": cites,
            })
        })
}

fn data_state_rule(n_purposes: usize) -> impl Strategy<Value = Value> {
    (purpose_refs(n_purposes), some_kinds(5), select(STATES), cites()).prop_map(
        |(purposes, recipient_kinds, at_least, cites)| {
            json!({"purposes": purposes, "recipient_kinds": recipient_kinds, "at_least": at_least, "cites": cites})
        },
    )
}

/// The fields of an action rule beyond the PIPL defaults, each where its
/// action reads it (elsewhere it is a `field-without-effect` error):
/// `data_states`, `within_purpose`, `recipient_requires_kinds`, `domestic`,
/// `allow_abroad`.
#[derive(Clone, Debug)]
struct RuleRegime {
    data_states: Vec<Value>,
    within_purpose: bool,
    requires_kinds: Vec<RecipientKind>,
    domestic: &'static str,
    allow_abroad: bool,
}

fn rule_regime(action: Action, n_purposes: usize) -> impl Strategy<Value = RuleRegime> {
    let retention = matches!(action, Action::Retain | Action::Delete | Action::Anonymise);
    let data_states = if retention {
        Just(vec![]).boxed()
    } else {
        prop_oneof![3 => Just(vec![]), 1 => vec(data_state_rule(n_purposes), 1..=2)].boxed()
    };
    let within_purpose = if retention { Just(true).boxed() } else { proptest::bool::weighted(0.8).boxed() };
    let domestic =
        if action == Action::CrossBorder { select(vec!["deny", "permit"]).boxed() } else { Just("deny").boxed() };
    let abroad_possible = matches!(action, Action::Share | Action::Entrust | Action::Transfer | Action::Disclose);
    let allow_abroad = if abroad_possible { proptest::bool::weighted(0.3).boxed() } else { Just(false).boxed() };
    (data_states, within_purpose, some_kinds(3), domestic, allow_abroad).prop_map(
        |(data_states, within_purpose, requires_kinds, domestic, allow_abroad)| RuleRegime {
            data_states,
            within_purpose,
            requires_kinds,
            domestic,
            allow_abroad,
        },
    )
}

fn action_rule(action: Action, n_purposes: usize) -> impl Strategy<Value = Value> {
    let id = format!("rule.{}", action.as_str());
    let exceptions = vec(0..3usize, 0..=2);
    (
        proptest::option::weighted(0.6, required_qualities()),
        any::<bool>(),
        prop_oneof![Just(vec![]), subsequence(KINDS, 1..=3)],
        subsequence(RECIPIENT_REQUIREMENTS, 0..=2),
        exceptions,
        subsequence(DUTIES, 0..=2),
        cites(),
        rule_regime(action, n_purposes),
    )
        .prop_flat_map(
            move |(consent, core_purposes, recipient_kinds, recipient_requires, ex, duties, cites, regime)| {
                let id = id.clone();
                let exs: Vec<_> = (0..ex.len()).map(|j| exception(id.clone(), j)).collect();
                // Kinds without agreements to ask of them are an error.
                let requires_kinds = if recipient_requires.is_empty() { vec![] } else { regime.requires_kinds.clone() };
                // Only the providing actions read `consent`, `core_purposes`
                // and `recipient_requires` (elsewhere they are an error).
                let providing = matches!(
                    action,
                    Action::Share | Action::Entrust | Action::Transfer | Action::CrossBorder | Action::Disclose
                );
                let consent = consent.filter(|_| providing);
                let core_purposes = core_purposes && providing;
                let recipient_requires = if providing { recipient_requires.clone() } else { vec![] };
                let requires_kinds = if providing { requires_kinds } else { vec![] };
                exs.prop_map(move |exceptions| {
                    json!({
                        "id": id,
                        "action": action,
                        "consent": consent,
                        "core_purposes": core_purposes,
                        "recipient_kinds": recipient_kinds,
                        "recipient_requires": recipient_requires,
                        "recipient_requires_kinds": requires_kinds,
                        "data_states": regime.data_states,
                        "exceptions": exceptions,
                        "within_purpose": regime.within_purpose,
                        "domestic": regime.domestic,
                        "allow_abroad": regime.allow_abroad,
                        "duties": duties,
                        "cites": cites,
                    })
                })
            },
        )
}

fn age_threshold() -> impl Strategy<Value = u8> {
    prop_oneof![Just(13u8), Just(14), Just(17), Just(18), 1u8..=25]
}

fn minors(n_purposes: usize) -> impl Strategy<Value = Value> {
    let rule = (
        age_threshold(),
        select(vec!["deny", "guardian_consent", "guidance"]),
        subsequence(Action::ALL.to_vec(), 0..=3),
        purpose_refs(n_purposes),
        any::<bool>(),
        cites(),
    );
    (age_threshold(), qualities(), vec(rule, 0..=2), cites()).prop_map(|(below, guardian_qualities, rules, cites)| {
        let rules: Vec<Value> = rules
            .into_iter()
            .enumerate()
            .map(|(i, (below_age, effect, actions, purposes, requires_real_name, cites))| {
                json!({
                    "id": format!("minors.r{i}"),
                    "below_age": below_age,
                    "effect": effect,
                    "actions": actions,
                    "purposes": purposes,
                    "requires_real_name": requires_real_name,
                    "cites": cites,
                })
            })
            .collect();
        json!({
            "id": "minors",
            "guardian_consent_below": below,
            "guardian_qualities": guardian_qualities,
            "rules": rules,
            "cites": cites,
        })
    })
}

fn trigger() -> impl Strategy<Value = &'static str> {
    select(vec!["collected", "transaction_completed", "account_cancelled", "last_used", "purpose_fulfilled"])
}

fn retention_rule(i: usize, n_purposes: usize, pool: Vec<&'static str>) -> impl Strategy<Value = Value> {
    (
        cats(pool, 2),
        purpose_refs(n_purposes),
        trigger(),
        proptest::option::of(0..PERIODS.len()),
        proptest::option::of(0..PERIODS.len()),
        select(vec!["delete", "anonymise", "delete_or_anonymise"]),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        cites(),
    )
        .prop_map(move |(categories, purposes, trigger, min, max, end_action, backups, isolate, notify, cites)| {
            let (min, max) = match (min, max) {
                (Some(a), Some(b)) => (Some(a.min(b)), Some(a.max(b))),
                other => other,
            };
            json!({
                "id": format!("ret{i}"),
                "categories": categories,
                "purposes": purposes,
                "trigger": trigger,
                "minimum": min.map(|i| PERIODS[i]),
                "maximum": max.map(|i| PERIODS[i]),
                "end_action": end_action,
                "backups_at_next_cycle": backups,
                "isolate_backups": isolate,
                "notify_recipients": notify,
                "cites": cites,
            })
        })
}

fn settings(declared: bool) -> impl Strategy<Value = Value> {
    (
        select(vec![0i32, 8 * 3600, -5 * 3600]),
        any::<bool>(),
        select(vec!["clamp", "roll_over"]),
        select(vec!["minor", "adult"]),
        any::<bool>(),
        (
            proptest::bool::weighted(0.75),
            prop_oneof![7 => Just("combined"), 3 => Just("per_requirement")],
            prop_oneof![7 => Just("home"), 3 => Just("subject_region")],
        ),
    )
        .prop_map(
            move |(offset, last_day_included, month_end, unknown_age, stops_use, (child_sensitive, grants, origin))| {
                json!({
                    "utc_offset_seconds": offset,
                    "last_day_included": last_day_included,
                    "month_end": month_end,
                    "unknown_age": unknown_age,
                    "permission_off_stops_use": stops_use,
                    "child_data_sensitive": child_sensitive,
                    "consent_grants": grants,
                    "cross_border_origin": origin,
                    "taxonomy": if declared { "declared" } else { "builtin" },
                })
            },
        )
}

/// A declared taxonomy: every key the policy may name, their parents and
/// new roots, each with a sensitivity of its own (lower than the built-in
/// one too) or none (inherited, `personal` at a root).
fn declared_taxonomy() -> impl Strategy<Value = Vec<Value>> {
    let keys: Vec<&'static str> = [pool(true).as_slice(), DECLARED_PARENTS].concat();
    let sens = proptest::option::weighted(
        0.6,
        select(vec![Sensitivity::NonPersonal, Sensitivity::Personal, Sensitivity::Sensitive]),
    );
    vec(sens, keys.len()).prop_map(move |levels| {
        keys.iter().zip(levels).map(|(k, sensitivity)| json!({"key": k, "sensitivity": sensitivity})).collect()
    })
}

fn category_decls(declared: bool) -> BoxedStrategy<Vec<Value>> {
    if declared {
        return declared_taxonomy().boxed();
    }
    let sens =
        proptest::option::of(select(vec![Sensitivity::NonPersonal, Sensitivity::Personal, Sensitivity::Sensitive]));
    (sens.clone(), sens, proptest::option::weighted(0.3, Just(Sensitivity::Sensitive)))
        .prop_map(|(a, b, raise)| {
            let mut decls = vec![
                json!({"key": "user.contact.phone_number.backup", "sensitivity": a}),
                json!({"key": "user.device.model.codename", "sensitivity": b}),
            ];
            if raise.is_some() {
                // Raise a built-in personal category.
                decls.push(json!({"key": "user.contact", "sensitivity": raise}));
            }
            decls
        })
        .boxed()
}

/// The `named_in_consent` rules: one naming purposes and one naming
/// recipients, each half of the time.
fn named_rules(n_purposes: usize, pool: Vec<&'static str>) -> impl Strategy<Value = Vec<Value>> {
    let route_qualities = || {
        required_qualities().prop_map(|q| {
            let q = q.difference(ConsentQualities::GUARDIAN);
            if q.is_empty() { ConsentQualities::AFFIRMATIVE } else { q }
        })
    };
    let per_category = vec![Action::Collect, Action::Use, Action::Share, Action::Entrust, Action::Disclose];
    let purpose = (subsequence(per_category, 1..=3), nonempty_cats(pool.clone(), 3), route_qualities(), cites())
        .prop_map(|(actions, categories, qualities, cites)| {
            json!({"id": "named.purpose", "names": "purpose", "actions": actions, "categories": categories,
                   "qualities": qualities, "cites": cites})
        });
    let kinds: Vec<RecipientKind> = KINDS.iter().copied().filter(|k| *k != RecipientKind::Controller).collect();
    let recipient = (
        (subsequence(PROVIDING.to_vec(), 1..=3), nonempty_cats(pool, 3), select(kinds)),
        (subsequence(AGREEMENTS, 0..=3), purpose_refs(n_purposes), route_qualities(), cites()),
    )
        .prop_map(|((actions, categories, kind), (agreements, purposes, qualities, cites))| {
            json!({"id": "named.recipient", "names": "recipient", "actions": actions, "categories": categories,
                   "recipient_kind": kind, "agreements": agreements, "purposes": purposes,
                   "qualities": qualities, "cites": cites})
        });
    (proptest::option::weighted(0.5, purpose), proptest::option::weighted(0.5, recipient))
        .prop_map(|(p, r)| p.into_iter().chain(r).collect())
}

/// A small random policy that passes `Policy::validate`.
pub(crate) fn policy() -> impl Strategy<Value = Policy> {
    let sizes = (prop_oneof![1 => Just(0usize), 6 => 1usize..=3], 0usize..=3, 0usize..=3, 0usize..=3);
    (sizes, proptest::bool::weighted(0.2), proptest::bool::ANY)
        .prop_flat_map(|((np, nq, nr, nt), declared, acknowledge)| {
            let pool = pool(declared);
            (
                settings(declared),
                category_decls(declared),
                PURPOSE_IDS[..np].iter().map(|id| purpose(id, pool.clone())).collect::<Vec<_>>(),
                (0..nq).map(|i| requirement(i, np, pool.clone())).collect::<Vec<_>>(),
                RECIPIENT_IDS[..nr].iter().map(|id| recipient(id, np, pool.clone())).collect::<Vec<_>>(),
                subsequence(Action::ALL.to_vec(), 3..=10)
                    .prop_flat_map(move |acts| acts.into_iter().map(|a| action_rule(a, np)).collect::<Vec<_>>()),
                proptest::option::weighted(0.7, minors(np)),
                (
                    (0..nt).map(|i| retention_rule(i, np, pool.clone())).collect::<Vec<_>>(),
                    named_rules(np, pool),
                    Just(acknowledge),
                ),
            )
        })
        .prop_map(|(settings, categories, purposes, consent_requirements, recipients, actions, minors, rest)| {
            let (retention, named_in_consent, ack) = rest;
            let doc = strip_nulls(json!({
                "schema": 1,
                "id": "gen",
                "version": "1",
                "effective": base_time() - Duration::days(3650),
                "language": "en",
                "settings": settings,
                "categories": categories,
                "purposes": purposes,
                "consent_requirements": consent_requirements,
                "recipients": recipients,
                "named_in_consent": named_in_consent,
                "actions": actions,
                "minors": minors,
                "retention": retention,
            }));
            match Policy::from_json(&doc.to_string()) {
                Ok(p) if ack => acknowledge_unbased_grounds(p),
                Ok(p) => p,
                Err(e) => panic!("generated policy is invalid: {e}\n{doc:#}"),
            }
        })
}

/// The policy with every exception on a ground without a PIPL basis
/// acknowledged, so that half the policies permit on those grounds (with
/// the decision's note) and half deny (docs "Exceptions").
fn acknowledge_unbased_grounds(p: Policy) -> Policy {
    let mut doc = serde_json::to_value(&p).unwrap();
    let acks: Vec<serde_json::Value> = p
        .diagnostics()
        .iter()
        .filter(|d| d.code == privacy_engine::DiagnosticCode::GroundWithoutPiplBasis)
        .map(|d| json!({"code": "ground-without-pipl-basis", "path": d.path, "reason": "generated"}))
        .collect();
    doc["acknowledged_warnings"] = serde_json::Value::Array(acks);
    Policy::from_json(&doc.to_string()).unwrap()
}

/// An offset from the request time: around it to the second, and a day,
/// a month, a year or three away.
fn near(scale_days: &'static [i64]) -> impl Strategy<Value = Duration> {
    (select(scale_days), select(vec![-1i64, 0, 1, 3600 * 7, 3600 * 16, -3600 * 16]))
        .prop_map(|(d, s)| Duration::days(d) + Duration::seconds(s))
}

/// Offsets of consent events relative to the request time.
const CONSENT_DAYS: &[i64] = &[-1000, -1, 0, 1];

/// Offsets of retention events before the request time, around 30 days,
/// six months, one, one and a half and three years.
const RETENTION_DAYS: &[i64] =
    &[0, 1, 29, 30, 31, 180, 181, 182, 183, 184, 364, 365, 366, 367, 546, 547, 548, 549, 1094, 1095, 1096, 1097, 1098];

fn time_zone() -> impl Strategy<Value = FixedOffset> {
    select(vec![0i32, 8 * 3600, -5 * 3600]).prop_map(|s| FixedOffset::east_opt(s).unwrap())
}

fn scope(purposes: Vec<PurposeId>, cats: Vec<CategoryKey>) -> impl Strategy<Value = Value> {
    let n = purposes.len().min(2);
    let mut recipients = RECIPIENT_IDS.to_vec();
    recipients.push(UNDECLARED_RECIPIENT);
    (
        subsequence(purposes, 1..=n.max(1)),
        vec(category_near(cats), 1..=2),
        proptest::option::weighted(0.3, select(recipients)),
    )
        .prop_map(|(purposes, categories, recipient)| {
            json!({"purposes": purposes, "categories": categories, "recipient": recipient})
        })
}

/// A consent change: grants with every coherent quality set and expiries
/// around the request time, endings of every kind, permission switches;
/// about the given purposes and (mostly) categories within `cats`.
fn change_about(purposes: Vec<PurposeId>, cats: Vec<CategoryKey>) -> impl Strategy<Value = Value> {
    let at = base_time();
    let sc = move || scope(purposes.clone(), cats.clone());
    let ending = |kind: &'static str| move |scope: Value| json!({"type": kind, "scope": scope});
    let switch = |kind: &'static str| move |permission: Permission| json!({"type": kind, "permission": permission});
    prop_oneof![
        6 => (qualities(), sc(), proptest::option::weighted(0.3, near(CONSENT_DAYS)), described())
            .prop_map(move |(qualities, mut scope, exp, described)| {
                // A description of the purpose, and of the recipient when
                // the scope names one.
                if let Some((purpose, kind)) = described {
                    let mut d = json!({"purpose": purpose});
                    if !scope["recipient"].is_null() {
                        d = json!({"purpose": purpose, "recipient": "a party", "recipient_kind": kind});
                    }
                    scope["described"] = d;
                }
                json!({"type": "grant", "qualities": qualities, "scope": scope, "expires": exp.map(|d| at + d)})
            }),
        1 => sc().prop_map(ending("refuse")),
        1 => sc().prop_map(ending("withdraw")),
        1 => sc().prop_map(ending("expire")),
        1 => sc().prop_map(ending("revoke")),
        1 => select(PERMISSIONS).prop_map(switch("permission_on")),
        1 => select(PERMISSIONS).prop_map(switch("permission_off")),
    ]
}

/// What a grant describes, half of the time: its purpose and the kind of
/// its recipient.
fn described() -> impl Strategy<Value = Option<(&'static str, RecipientKind)>> {
    proptest::option::weighted(0.5, (Just("a purpose"), select(KINDS.to_vec())))
}

/// The names requests give for an undeclared purpose and recipient.
const UNDECLARED_PURPOSE: &str = "purpose.undeclared";
const UNDECLARED_RECIPIENT: &str = "recipient.undeclared";

fn all_purposes() -> Vec<PurposeId> {
    PURPOSE_IDS.iter().map(|p| PurposeId::from(*p)).collect()
}

fn event_about(purposes: Vec<PurposeId>, cats: Vec<CategoryKey>) -> impl Strategy<Value = ConsentEvent> {
    // Most events under the generated policy's version "1"; some under its
    // version "0" (the first of a history, unknown to a single policy) or
    // under another policy.
    let under = prop_oneof![8 => Just(("gen", "1")), 1 => Just(("gen", "0")), 1 => Just(("other", "1"))];
    let subject = prop_oneof![6 => Just(SUBJECT), 1 => Just("other")];
    (near(CONSENT_DAYS), time_zone(), change_about(purposes, cats), subject, under).prop_map(
        |(d, tz, change, subject, (policy_id, policy_version))| {
            let event = strip_nulls(json!({
                "id": uuid::Uuid::nil(),
                "at": (base_time() + d).with_timezone(&tz),
                "subject": subject,
                "policy_id": policy_id,
                "policy_version": policy_version,
                "change": change,
            }));
            match serde_json::from_value::<ConsentEvent>(event.clone()) {
                Ok(e) => e,
                Err(e) => panic!("generated consent event does not parse: {e}\n{event:#}"),
            }
        },
    )
}

/// A consent event near the request time (ids are set by `history`).
pub(crate) fn event() -> impl Strategy<Value = ConsentEvent> {
    event_about(all_purposes(), vec![key("user")])
}

fn with_ids(mut evs: Vec<ConsentEvent>) -> Vec<ConsentEvent> {
    for (i, e) in evs.iter_mut().enumerate() {
        e.id = uuid::Uuid::from_u128(i as u128 + 1);
    }
    evs
}

/// A consent history the ledger accepts (unique ids), about anything.
pub(crate) fn history(max: usize) -> impl Strategy<Value = Vec<ConsentEvent>> {
    vec(event(), 0..=max).prop_map(with_ids)
}

/// A consent history about the policy's purposes and categories.
pub(crate) fn history_for(policy: &Policy, max: usize) -> BoxedStrategy<Vec<ConsentEvent>> {
    let mut purposes: Vec<PurposeId> = policy.purposes.iter().map(|p| p.id.clone()).collect();
    if purposes.is_empty() {
        purposes = all_purposes();
    }
    if policy.named_in_consent.iter().any(|r| r.names == privacy_engine::Names::Purpose) {
        purposes.push(PurposeId::from(UNDECLARED_PURPOSE));
    }
    let named = policy.named_in_consent.iter().flat_map(|r| r.categories.clone());
    let cats: Vec<CategoryKey> = policy.purposes.iter().flat_map(|p| p.categories.clone()).chain(named).collect();
    let cats = if cats.is_empty() { vec![key("user")] } else { cats };
    // Half of the time where a rule names purposes, a grant the rule asks
    // for (all the qualities, the guardian's too, described) on its
    // categories, so that a request for the undeclared purpose gets as far
    // as a permit.
    let named_grant = policy.named_in_consent.iter().find(|r| r.names == privacy_engine::Names::Purpose).map(|r| {
        let scope = json!({"purposes": [UNDECLARED_PURPOSE], "categories": r.categories,
                               "described": {"purpose": "a purpose named in consent"}});
        let all = ["affirmative", "explicit", "separate", "written", "guardian"];
        strip_nulls(json!({
            "id": uuid::Uuid::nil(), "at": base_time() - Duration::days(1), "subject": SUBJECT,
            "policy_id": "gen", "policy_version": "1",
            "change": {"type": "grant", "qualities": all, "scope": scope},
        }))
    });
    let extra = proptest::bool::weighted(0.5).prop_map(move |add| if add { named_grant.clone() } else { None });
    (vec(event_about(purposes, cats), 0..=max), extra)
        .prop_map(|(mut evs, extra)| {
            if let Some(event) = extra {
                evs.push(serde_json::from_value(event).unwrap());
            }
            with_ids(evs)
        })
        .boxed()
}

/// One edit a revision makes to a policy's JSON form (`revision`): a kind
/// of change the consent effects of docs "Policy changes" name, or one
/// that asks no fresh consent. Indices are taken modulo the list's length.
#[derive(Clone, Debug)]
enum Edit {
    /// Purpose `i` also lists the key (`categories_added`), and becomes
    /// optional when the flag is set (`manner_of_use`).
    PurposeGains(usize, &'static str, bool),
    /// A category declaration takes the level (`sensitivity_raised` or
    /// `_lowered`); in a built-in taxonomy one in three declares
    /// `user.contact` sensitive instead.
    Level(usize, Sensitivity),
    /// A recipient is added, or replaces the one with its id.
    Recipient(Value),
    /// Recipient `i` changes by `how` (0 a key added, 1 a purpose added, 2
    /// the region, 3 the kind, 4 less protected data, 5 an agreement gone,
    /// 6 a key gone, 7 its name), with the key, region and kind given.
    RecipientChanges(usize, u8, &'static str, &'static str, RecipientKind),
    /// Purpose `i` flips its basis, or drops its last key.
    PurposeOther(usize, bool),
}

/// The item `i` (modulo the length) of the array at `field`, if any.
fn item<'a>(doc: &'a mut Value, field: &str, i: usize) -> Option<&'a mut Value> {
    let list = doc.get_mut(field)?.as_array_mut()?;
    let n = list.len();
    list.get_mut(i.checked_rem(n)?)
}

/// Pushes `value` to the array `list` unless it holds it.
fn add(list: &mut Value, value: Value) {
    if let Some(a) = list.as_array_mut().filter(|a| !a.contains(&value)) {
        a.push(value);
    }
}

fn apply(doc: &mut Value, edit: &Edit) {
    let purposes: Vec<Value> =
        doc["purposes"].as_array().map(|a| a.iter().map(|p| p["id"].clone()).collect()).unwrap_or_default();
    let declared = doc["settings"]["taxonomy"] == "declared";
    match edit {
        Edit::PurposeGains(i, key, optional) => {
            let Some(p) = item(doc, "purposes", *i) else { return };
            add(&mut p["categories"], json!(key));
            if *optional {
                p["basis"] = json!("optional");
            }
        }
        Edit::Level(i, _) if !declared && i % 3 == 0 => {
            if let Some(list) = doc["categories"].as_array_mut() {
                list.retain(|d| d["key"] != "user.contact");
                list.push(json!({"key": "user.contact", "sensitivity": "sensitive"}));
            }
        }
        Edit::Level(i, level) => {
            if let Some(d) = item(doc, "categories", *i) {
                d["sensitivity"] = json!(level);
            }
        }
        Edit::Recipient(r) => {
            let Some(list) = doc["recipients"].as_array_mut() else { return };
            list.retain(|x| x["id"] != r["id"]);
            list.push(r.clone());
        }
        Edit::RecipientChanges(i, how, key, region, kind) => {
            let Some(r) = item(doc, "recipients", *i) else { return };
            match how {
                0 => add(&mut r["categories"], json!(key)),
                1 => {
                    let more = purposes.iter().find(|p| !r["purposes"].as_array().is_some_and(|a| a.contains(p)));
                    if let Some(p) = more {
                        add(&mut r["purposes"], p.clone());
                    }
                }
                2 => r["region"] = json!(region),
                3 => r["kind"] = json!(kind),
                4 => r["data_state"] = json!(DataState::Identifiable),
                5 => {
                    if let Some(a) = r["agreements"].as_array_mut().filter(|a| !a.is_empty()) {
                        a.remove(0);
                    }
                }
                6 => {
                    if let Some(a) = r["categories"].as_array_mut().filter(|a| a.len() > 1) {
                        a.pop();
                    }
                }
                _ => r["name"] = json!("another party"),
            }
        }
        Edit::PurposeOther(i, flip) => {
            let Some(p) = item(doc, "purposes", *i) else { return };
            if *flip {
                p["basis"] = json!(if p["basis"] == "core" { "optional" } else { "core" });
            } else if let Some(a) = p["categories"].as_array_mut().filter(|a| a.len() > 1) {
                a.pop();
            }
        }
    }
}

/// A revision of `first` as version `1`: one to four edits (`Edit`), each
/// kept when the policy stays valid.
fn revision(first: Policy) -> BoxedStrategy<Policy> {
    let pool = pool(first.settings.taxonomy == TaxonomySource::Declared);
    let (np, nr) = (first.purposes.len(), first.recipients.len());
    let levels = vec![Sensitivity::NonPersonal, Sensitivity::Personal, Sensitivity::Sensitive];
    let edit = prop_oneof![
        3 => (any::<usize>(), select(pool.clone()), proptest::bool::weighted(0.3))
            .prop_map(|(i, k, o)| Edit::PurposeGains(i, k, o)),
        3 => (any::<usize>(), select(levels)).prop_map(|(i, s)| Edit::Level(i, s)),
        2 => recipient(RECIPIENT_IDS[nr.min(2)], np, pool.clone()).prop_map(Edit::Recipient),
        4 => (any::<usize>(), 0u8..8, select(pool), select(REGIONS), select(KINDS))
            .prop_map(|(i, how, k, region, kind)| Edit::RecipientChanges(i, how, k, region, kind)),
        2 => (any::<usize>(), any::<bool>()).prop_map(|(i, flip)| Edit::PurposeOther(i, flip)),
    ];
    vec(edit, 1..=4)
        .prop_map(move |edits| {
            let mut doc = serde_json::to_value(&first).unwrap();
            doc["version"] = json!("1");
            let mut out = Policy::from_json(&doc.to_string()).unwrap();
            for e in &edits {
                let mut next = doc.clone();
                apply(&mut next, e);
                if let Ok(p) = Policy::from_json(&next.to_string()) {
                    (doc, out) = (next, p);
                }
            }
            out
        })
        .boxed()
}

/// Two versions of a policy (`0`, long in force, then `1`, in force from
/// near the requests' time), a consent history about the second, its
/// grants given under either version (and a strong grant half of the
/// time), and requests about it, a coherent provision among them when
/// there is one. Half of the second versions revise the first
/// (`revision`), the others are any policy.
pub(crate) fn history_case() -> impl Strategy<Value = (Vec<Policy>, Vec<ConsentEvent>, Vec<Request>)> {
    (policy(), any::<bool>())
        .prop_flat_map(|(first, revise)| {
            let second = if revise { revision(first.clone()) } else { policy().boxed() };
            (Just(first), second, near(CONSENT_DAYS))
        })
        .prop_flat_map(|(mut first, mut second, from)| {
            first.version = "0".into();
            second.effective = base_time() + from;
            let h = (history_for(&second, 8), vec(any::<bool>(), 10), strong_grant(&second)).prop_map(
                |(mut evs, earlier, strong)| {
                    evs.extend(strong);
                    for (e, earlier) in evs.iter_mut().zip(earlier) {
                        if earlier && e.policy_id.as_str() == "gen" {
                            e.policy_version = "0".into();
                        }
                    }
                    with_ids(evs)
                },
            );
            let r = (vec(request_for(&second), 1..=4), provision_for(&second)).prop_map(|(mut r, p)| {
                r.extend(p);
                r
            });
            (Just(vec![first, second]), h, r)
        })
}

/// Half of the time, a grant with every quality for one of the policy's
/// purposes and one of its keys, to one of its recipients in half of those,
/// given a day before the requests: one that permits unless a revision made
/// it lapse.
fn strong_grant(policy: &Policy) -> BoxedStrategy<Option<ConsentEvent>> {
    if policy.purposes.is_empty() {
        return Just(None).boxed();
    }
    let purposes = policy.purposes.clone();
    let recipients: Vec<Option<String>> =
        policy.recipients.iter().map(|r| Some(r.id.as_str().to_owned())).chain([None]).collect();
    let at = base_time() - Duration::days(1);
    let grant = (select(purposes), any::<usize>(), select(recipients)).prop_map(move |(p, k, recipient)| {
        let category = p.categories.get(k % p.categories.len().max(1)).cloned();
        let scope = json!({"purposes": [p.id], "categories": [category], "recipient": recipient});
        let all = ["affirmative", "explicit", "separate", "written", "guardian"];
        let event = strip_nulls(json!({
            "id": uuid::Uuid::nil(), "at": at, "subject": SUBJECT, "policy_id": "gen", "policy_version": "1",
            "change": {"type": "grant", "qualities": all, "scope": scope},
        }));
        serde_json::from_value(event).unwrap()
    });
    proptest::option::weighted(0.5, grant).boxed()
}

/// A policy, a consent history and requests about it.
pub(crate) fn case() -> impl Strategy<Value = (Policy, Vec<ConsentEvent>, Vec<Request>)> {
    policy().prop_flat_map(|p| {
        let h = history_for(&p, 8);
        let r = vec(request_for(&p), 1..=4);
        (Just(p), h, r)
    })
}

fn age() -> impl Strategy<Value = Option<u8>> {
    prop_oneof![
        6 => Just(None),
        36 => select(vec![0u8, 12, 13, 14, 15, 16, 17, 18, 19, 30, 150]).prop_map(Some),
        1 => select(vec![151u8, 255]).prop_map(Some),
    ]
}

/// A birth date that puts the subject just below, at or just above 13, 14,
/// 17 or 18 on the request's day (give or take the time zone), above 150, or
/// in the future.
fn birth_date() -> impl Strategy<Value = Option<NaiveDate>> {
    let at = base_time().date_naive();
    prop_oneof![
        40 => Just(None),
        8 => (select(vec![13i32, 14, 17, 18]), -1i64..=1).prop_map(move |(y, d)| {
            NaiveDate::from_ymd_opt(at.year() - y, at.month(), at.day()).map(|b| b + Duration::days(d))
        }),
        1 => Just(NaiveDate::from_ymd_opt(at.year() - 151, 1, 1)),
        1 => Just(Some(at + Duration::days(2))),
    ]
}

use chrono::Datelike;

fn record_events() -> impl Strategy<Value = Value> {
    let at = base_time();
    let t = move |w: f64| {
        proptest::option::weighted(
            w,
            (near(RETENTION_DAYS), time_zone()).prop_map(move |(d, tz)| (at - d).with_timezone(&tz)),
        )
    };
    let hold = proptest::option::weighted(
        0.15,
        (near(CONSENT_DAYS), proptest::option::of(near(CONSENT_DAYS)))
            .prop_map(move |(s, u)| json!({"since": at + s, "until": u.map(|u| at + u)})),
    );
    (t(0.6), t(0.5), t(0.15), t(0.5), t(0.4), hold).prop_map(
        |(collected, transaction_completed, account_cancelled, last_used, purpose_fulfilled, legal_hold)| {
            json!({
                "collected": collected,
                "transaction_completed": transaction_completed,
                "account_cancelled": account_cancelled,
                "last_used": last_used,
                "purpose_fulfilled": purpose_fulfilled,
                "legal_hold": legal_hold,
            })
        },
    )
}

/// Where `events.retain_until` lies from the request time: a second before,
/// at, a second after, a day, a year away; written in any of the zones.
fn retain_until_offset() -> impl Strategy<Value = (Duration, FixedOffset)> {
    let seconds = select(vec![-86_400i64, -1, 0, 1, 86_400, 365 * 86_400]);
    (seconds.prop_map(Duration::seconds), time_zone())
}

/// What a request may name: the policy's declarations, or anything.
#[derive(Clone, Debug)]
struct Names {
    actions: Vec<Action>,
    purposes: Vec<(PurposeId, Vec<CategoryKey>)>,
    /// Each recipient with the purposes and categories it takes.
    recipients: Vec<Taker>,
    exceptions: Vec<(Ground, Vec<Evidence>)>,
    /// The providing actions the policy has a rule for, each with a purpose
    /// and a recipient of a kind the rule takes that takes the purpose.
    provisions: Vec<(Action, (PurposeId, Vec<CategoryKey>), Taker)>,
    /// Whether a `named_in_consent` rule names purposes, and recipients.
    named: (bool, bool),
    /// The categories of the rules (`user` when there is none).
    named_cats: Vec<CategoryKey>,
}

/// A recipient with the purposes and categories it takes.
type Taker = (privacy_engine::RecipientId, Vec<PurposeId>, Vec<CategoryKey>);

impl Names {
    fn of(p: &Policy) -> Self {
        Self {
            actions: p.actions.iter().map(|a| a.action).collect(),
            named: (
                p.named_in_consent.iter().any(|r| r.names == privacy_engine::Names::Purpose),
                p.named_in_consent.iter().any(|r| r.names == privacy_engine::Names::Recipient),
            ),
            named_cats: {
                let cats: Vec<CategoryKey> = p.named_in_consent.iter().flat_map(|r| r.categories.clone()).collect();
                if cats.is_empty() { vec![key("user")] } else { cats }
            },
            purposes: p.purposes.iter().map(|p| (p.id.clone(), p.categories.clone())).collect(),
            recipients: p.recipients.iter().map(|r| (r.id.clone(), r.purposes.clone(), r.categories.clone())).collect(),
            exceptions: p
                .actions
                .iter()
                .flat_map(|a| a.exceptions.iter().map(|e| (e.ground, e.requires.clone())))
                .collect(),
            provisions: p
                .actions
                .iter()
                .filter(|a| PROVIDING.contains(&a.action))
                .flat_map(|a| {
                    p.recipients
                        .iter()
                        .filter(|r| a.recipient_kinds.is_empty() || a.recipient_kinds.contains(&r.kind))
                        .flat_map(move |r| {
                            p.purposes.iter().filter(|purpose| r.purposes.contains(&purpose.id)).map(move |purpose| {
                                (
                                    a.action,
                                    (purpose.id.clone(), purpose.categories.clone()),
                                    (r.id.clone(), r.purposes.clone(), r.categories.clone()),
                                )
                            })
                        })
                })
                .collect(),
        }
    }
}

/// A category within one of `within` (at any depth below), or any known or
/// unknown one.
fn category_near(within: Vec<CategoryKey>) -> impl Strategy<Value = CategoryKey> {
    let inside: Vec<CategoryKey> =
        request_keys().iter().map(|c| key(c)).filter(|c| within.iter().any(|w| c.is_within(w))).collect();
    let inside = if inside.is_empty() { vec![key("user")] } else { inside };
    prop_oneof![
        12 => select(inside),
        6 => select(request_keys()).prop_map(key),
        1 => select(UNKNOWN_CATEGORIES).prop_map(key),
    ]
}

/// A request: every action, categories at every depth (unknown ones too),
/// purposes and recipients declared or not, ages and birth dates around the
/// thresholds, every data state, a claimed exception, times around the
/// retention boundaries and legal holds; for the most part what `policy`
/// declares.
///
/// One request in four, when a recipient takes one of the policy's
/// purposes, is a coherent provision instead: a providing action, for a
/// purpose the recipient takes and categories both cover, mostly for an
/// adult. Few requests drawn at random get past the recipient checks to
/// consent, the exceptions and the obligations.
pub(crate) fn request_for(policy: &Policy) -> BoxedStrategy<Request> {
    let names = Names::of(policy);
    if !names.provisions.is_empty() {
        prop_oneof![3 => request_from(names.clone(), false), 1 => request_from(names, true)].boxed()
    } else {
        request_from(names, false)
    }
}

/// A coherent provision (see `request_for`) when the policy has one, so
/// that the grants as far as a recipient is concerned are asked often.
fn provision_for(policy: &Policy) -> BoxedStrategy<Option<Request>> {
    let names = Names::of(policy);
    if names.provisions.is_empty() { Just(None).boxed() } else { request_from(names, true).prop_map(Some).boxed() }
}

/// The actions that provide data to a recipient.
const PROVIDING: &[Action] = &[Action::Share, Action::Entrust, Action::Transfer, Action::CrossBorder, Action::Disclose];

fn pick<T: Clone + std::fmt::Debug + 'static>(declared: Vec<T>, others: Vec<T>) -> BoxedStrategy<T> {
    if declared.is_empty() {
        select(others).boxed()
    } else {
        prop_oneof![6 => select(declared), 1 => select(others)].boxed()
    }
}

/// A request; with `provision`, a coherent provision (see `request_for`).
fn request_from(names: Names, provision: bool) -> BoxedStrategy<Request> {
    let purpose_choice: BoxedStrategy<Option<(PurposeId, Vec<CategoryKey>)>> = {
        let declared = names.purposes.clone();
        let undeclared = Just(Some((PurposeId::from(UNDECLARED_PURPOSE), names.named_cats.clone())));
        // More often where a consent may name it.
        let weight = if names.named.0 { 4 } else { 1 };
        if declared.is_empty() {
            prop_oneof![Just(None), undeclared].boxed()
        } else {
            prop_oneof![1 => Just(None), 24 => select(declared).prop_map(Some), weight => undeclared].boxed()
        }
    };
    // Any recipient, or none; or, half of the time when there is one, a
    // recipient that takes the purpose.
    let recipients = names.recipients.clone();
    let weight = if names.named.1 { 2 } else { 1 };
    let recipient_for = move |purpose: Option<&PurposeId>| -> BoxedStrategy<Option<Taker>> {
        let declared = recipients.clone();
        let undeclared = Just(Some((privacy_engine::RecipientId::from(UNDECLARED_RECIPIENT), vec![], vec![])));
        let any = if declared.is_empty() {
            prop_oneof![3 => Just(None), weight => undeclared].boxed()
        } else {
            prop_oneof![1 => Just(None), 14 => select(declared.clone()).prop_map(Some), weight => undeclared].boxed()
        };
        let takers: Vec<Taker> = declared.into_iter().filter(|r| purpose.is_some_and(|p| r.1.contains(p))).collect();
        if takers.is_empty() { any } else { prop_oneof![any, select(takers).prop_map(Some)].boxed() }
    };
    // The action, the purpose with its categories and the recipient.
    type Who = (Action, Option<(PurposeId, Vec<CategoryKey>)>, Option<Taker>);
    let who: BoxedStrategy<Who> = if provision && !names.provisions.is_empty() {
        select(names.provisions.clone()).prop_map(|(a, p, r)| (a, Some(p), Some(r))).boxed()
    } else {
        (pick(names.actions.clone(), Action::ALL.to_vec()), purpose_choice)
            .prop_flat_map(move |(a, p)| {
                let r = recipient_for(p.as_ref().map(|(id, _)| id));
                (Just(a), Just(p), r)
            })
            .boxed()
    };
    let (age, birth_date) = if provision {
        (prop_oneof![3 => Just(Some(30u8)), 1 => age()].boxed(), Just(None).boxed())
    } else {
        (age().boxed(), birth_date().boxed())
    };
    let exception = {
        let listed = names.exceptions.clone();
        let any_ground = (select(grounds()), subsequence(EVIDENCE, 0..=3));
        let listed: BoxedStrategy<(Ground, Vec<Evidence>)> = if listed.is_empty() {
            any_ground.boxed()
        } else {
            // A listed ground with the evidence it needs, or some of it.
            prop_oneof![
                select(listed).prop_flat_map(|(g, mut ev)| {
                    ev.extend(crate::reference::ground_evidence(g));
                    let n = ev.len();
                    subsequence(ev, 0..=n).prop_map(move |ev| (g, ev))
                }),
                any_ground,
            ]
            .boxed()
        };
        proptest::option::weighted(0.25, listed)
    };
    (
        (age, birth_date, any::<bool>()),
        who.prop_flat_map(move |(action, p, r)| {
            let mut within = p.as_ref().map_or_else(|| vec![key("user")], |(_, c)| c.clone());
            // The keys both the purpose and the recipient take, if any.
            let both: Vec<CategoryKey> = request_keys()
                .into_iter()
                .map(key)
                .filter(|k| within.iter().any(|w| k.is_within(w)))
                .filter(|k| r.as_ref().is_some_and(|(_, _, cats)| cats.iter().any(|c| k.is_within(c))))
                .collect();
            let categories = if provision && !both.is_empty() {
                vec(select(both), 1..=2).boxed()
            } else {
                if !both.is_empty() {
                    within = both;
                }
                let n = prop_oneof![1 => Just(0usize), 30 => 1usize..=3];
                n.prop_flat_map(move |n| vec(category_near(within.clone()), n)).boxed()
            };
            (Just((action, p.map(|(id, _)| id), r.map(|(id, _, _)| id))), categories)
        }),
        (prop_oneof![5 => Just(DataState::Identifiable), 1 => select(STATES)], any::<bool>()),
        exception,
        proptest::option::weighted(0.2, select(REGIONS)),
        (near(CONSENT_DAYS), time_zone()),
        (record_events(), proptest::option::weighted(0.25, retain_until_offset())),
        (prop_oneof![9 => Just(SUBJECT), 1 => Just("other")], proptest::option::weighted(0.4, select(REGIONS))),
    )
        .prop_map(
            |(
                (age, birth_date, real_name_verified),
                ((action, purpose, recipient), categories),
                (data_state, linked),
                exc,
                dest,
                (d, tz),
                (mut events, retain_until),
                (subject, region),
            )| {
                let at = (base_time() + d).with_timezone(&tz);
                events["retain_until"] = json!(retain_until.map(|(offset, tz)| (at + offset).with_timezone(&tz)));
                // An age above 150 is not a request the format accepts; the
                // typed request may still carry one, and is denied.
                let (json_age, typed_age) = match age {
                    Some(a) if a > 150 => (None, Some(a)),
                    _ => (age, None),
                };
                let doc = strip_nulls(json!({
                    "action": action,
                    "subject": {
                        "id": subject,
                        "age": json_age,
                        "birth_date": birth_date,
                        "region": region,
                        "real_name_verified": real_name_verified,
                    },
                    "categories": categories,
                    "purpose": purpose,
                    "recipient": recipient,
                    "data_state": data_state,
                    "linked_to_identity": linked,
                    "exception": exc.map(|(ground, evidence)| json!({"ground": ground, "evidence": evidence})),
                    "destination_region": dest,
                    "at": at,
                    "events": events,
                }));
                let mut req = match Request::from_json(&doc.to_string()) {
                    Ok(r) => r,
                    Err(e) => panic!("generated request does not parse: {e}\n{doc:#}"),
                };
                if typed_age.is_some() {
                    req.subject.age = typed_age;
                }
                req
            },
        )
        .boxed()
}
