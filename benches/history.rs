//! Deciding under a policy history of 20 versions against deciding under
//! the single version: the version is chosen when the request is
//! prepared, so that deciding costs the same.
//!
//! The history is seed 004 revised 19 times, 60 days apart from
//! 2021-08-20, each revision changing the categories of one purpose (so
//! that its grants lapse); the requests are those of `benches/engine.rs`,
//! dated across the history, with consents under the first version for
//! purposes no revision changes (so both engines give the same verdicts).
//!
//! `cargo bench --bench history` times `prepare` + `decide` on both
//! engines with each ledger. For instruction counts, `HISTORY_PROFILE=1`
//! runs every request 1,000 times through `one_decision_history` and
//! `one_decision_single` in one process and exits:
//!
//! ```sh
//! cargo bench --bench history --no-run
//! HISTORY_PROFILE=1 valgrind --tool=callgrind --toggle-collect='*one_decision_*' \
//!     target/release/deps/history-<hash> --bench
//! callgrind_annotate --inclusive=yes callgrind.out.<pid> | grep one_decision
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, missing_docs)]

use std::hint::black_box;

use criterion::Criterion;
use privacy_engine::{
    Action, CategoryKey, CompactLedger, ConsentChange, ConsentEvent, ConsentQualities, ConsentStore, Engine,
    InMemoryLedger, Permission, Policy, PolicyHistory, Request, Scope, Subject,
};

const SEED_004: &str = include_str!("../examples/policies/seed-004.json");

/// Purposes the revisions change, one each (none that the requests use).
const CHANGED: &[&str] = &[
    "one_click_login",
    "account_binding",
    "identity_determination",
    "identity_confirmation_call_logs",
    "contact_via_address_book",
    "fraud_information_exchange",
    "de_identified_analytics",
    "camera_listing",
    "storage_media",
    "payment_sdk_camera",
    "payment_sdk_photos",
    "payment_sdk_microphone",
    "qq_login_share",
    "flutter_runtime_statistics",
    "cookies_usage_analysis",
    "legal_compliance",
    "subject_requested_disclosure",
    "identity_confirmation_contacts",
    "payment_location_service",
];

fn history() -> PolicyHistory {
    let first = Policy::from_json(SEED_004).unwrap();
    let mut versions = vec![first.clone()];
    for (k, purpose) in CHANGED.iter().enumerate() {
        let mut v = versions.last().unwrap().clone();
        v.version = format!("r{}", k + 1);
        v.effective = first.effective + chrono::Duration::days(60 * (k as i64 + 1));
        let p = v.purposes.iter_mut().find(|p| p.id.as_str() == *purpose).unwrap();
        p.categories.push(CategoryKey::new("user.account.nickname").unwrap());
        versions.push(v);
    }
    PolicyHistory::new(versions).unwrap()
}

fn event(n: u128, change: ConsentChange) -> ConsentEvent {
    let at = "2021-09-01T00:00:00+08:00".parse().unwrap();
    ConsentEvent::new(uuid::Uuid::from_u128(n), at, "u-1", "seed-004", "2021-08-20", change)
}

fn events() -> Vec<ConsentEvent> {
    let grant = |n, purpose: &str, category: &str, qualities| {
        let scope = Scope::new(vec![purpose.into()], vec![CategoryKey::new(category).unwrap()]);
        event(n, ConsentChange::Grant { qualities, scope, expires: None })
    };
    let mut out = vec![
        event(1, ConsentChange::PermissionOn { permission: Permission::Camera }),
        grant(2, "face_verification", "user.biometric.face", ConsentQualities::separate()),
    ];
    for i in 0..20 {
        out.push(grant(100 + i, "usage_statistics", "user.device.device_id", ConsentQualities::explicit()));
    }
    out
}

/// The requests of `benches/engine.rs`, each dated at eight times across
/// the history (2021-10 to 2024-09).
fn requests() -> Vec<Request> {
    let adult = Subject::new("u-1").age(30);
    let cats = |k: &[&str]| k.iter().map(|k| CategoryKey::new(*k).unwrap()).collect::<Vec<_>>();
    let mut out = Vec::new();
    for month in 0..8 {
        let at = ("2021-10-01T10:00:00+08:00".parse::<chrono::DateTime<chrono::FixedOffset>>().unwrap())
            + chrono::Duration::days(150 * month);
        let mut delete = Request::new(Action::Delete, adult.clone(), cats(&["user.financial.transaction"]), at);
        delete.events.transaction_completed = Some("2020-02-29T12:00:00+08:00".parse().unwrap());
        out.extend([
            Request::new(Action::Collect, adult.clone(), cats(&["user.contact.phone_number"]), at)
                .purpose("registration_login"),
            Request::new(Action::Collect, adult.clone(), cats(&["user.biometric.face"]), at)
                .purpose("face_verification"),
            Request::new(
                Action::Share,
                adult.clone(),
                cats(&["user.contact.address", "user.contact.phone_number", "user.financial.transaction"]),
                at,
            )
            .purpose("payment_delivery")
            .recipient("partner.logistics"),
            Request::new(Action::CrossBorder, adult.clone(), cats(&["user.contact.address"]), at)
                .purpose("ordering")
                .recipient("partner.overseas_entity"),
            delete,
        ]);
    }
    out
}

#[inline(never)]
fn one_decision_history(engine: &Engine, req: &Request, ledger: &impl ConsentStore) -> bool {
    let prepared = engine.prepare(req);
    engine.decide(&prepared, ledger).is_permit()
}

#[inline(never)]
fn one_decision_single(engine: &Engine, req: &Request, ledger: &impl ConsentStore) -> bool {
    let prepared = engine.prepare(req);
    engine.decide(&prepared, ledger).is_permit()
}

fn engines() -> (Engine, Engine) {
    let single = Engine::from_json(SEED_004).unwrap();
    let history = Engine::from_history(history()).unwrap();
    (single, history)
}

fn ledgers(engine: &Engine) -> (InMemoryLedger, CompactLedger) {
    let mut memory = InMemoryLedger::new();
    memory.extend(events()).unwrap();
    let mut compact = CompactLedger::new();
    engine.bind_ledger(&mut compact);
    compact.extend(events()).unwrap();
    (memory, compact)
}

/// Both engines give the same verdicts on every request.
fn check(single: &Engine, history: &Engine, requests: &[Request]) {
    let (memory, _) = ledgers(single);
    for r in requests {
        assert_eq!(single.evaluate(r, &memory).verdict, history.evaluate(r, &memory).verdict, "{r:?}");
    }
}

fn profile(single: &Engine, history: &Engine, requests: &[Request]) {
    let in_memory = std::env::var("HISTORY_LEDGER").is_ok_and(|v| v == "in_memory");
    let (single_memory, single_compact) = ledgers(single);
    let (history_memory, history_compact) = ledgers(history);
    let mut permits = 0;
    for _ in 0..1000 {
        for r in requests {
            if in_memory {
                permits += usize::from(one_decision_single(single, black_box(r), &single_memory));
                permits += usize::from(one_decision_history(history, black_box(r), &history_memory));
            } else {
                permits += usize::from(one_decision_single(single, black_box(r), &single_compact));
                permits += usize::from(one_decision_history(history, black_box(r), &history_compact));
            }
        }
    }
    println!("{} decisions each, {permits} permits", 1000 * requests.len());
}

fn main() {
    let (single, history) = engines();
    let requests = requests();
    check(&single, &history, &requests);
    if std::env::var("HISTORY_PROFILE").is_ok() {
        profile(&single, &history, &requests);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("history");
    for (name, engine) in [("single", &single), ("history_20", &history)] {
        let (memory, compact) = ledgers(engine);
        g.bench_function(format!("{name}/in_memory"), |b| {
            b.iter(|| requests.iter().filter(|r| one_decision_single(engine, black_box(r), &memory)).count())
        });
        g.bench_function(format!("{name}/compact_bound"), |b| {
            b.iter(|| requests.iter().filter(|r| one_decision_single(engine, black_box(r), &compact)).count())
        });
    }
    g.finish();
    c.final_summary();
}
