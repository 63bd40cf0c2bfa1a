//! Criterion benchmarks of the evaluator, the policy load, the consent
//! ledger and the retention planner.
//!
//! Run with `cargo bench --bench engine`; the README reports the medians.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::field_reassign_with_default,
    missing_docs
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use privacy_engine::{
    Action, CategoryKey, ConsentChange, ConsentEvent, ConsentQualities, ConsentQuery, ConsentStore, Engine,
    InMemoryLedger, Policy, RecipientId, Request, RetentionPlanner, RetentionRecord, Scope, Subject,
};

const SEED_004: &str = include_str!("../examples/policies/seed-004.json");

fn event(n: u128, subject: &str, at: &str, change: ConsentChange) -> ConsentEvent {
    ConsentEvent {
        id: uuid::Uuid::from_u128(n),
        at: at.parse().unwrap(),
        subject: subject.into(),
        policy_id: "seed-004".into(),
        policy_version: "2021-08-20".into(),
        change,
    }
}

fn grant(n: u128, subject: &str, purpose: &str, category: &str, q: ConsentQualities) -> ConsentEvent {
    event(
        n,
        subject,
        "2024-01-01T00:00:00+08:00",
        ConsentChange::Grant {
            qualities: q,
            scope: Scope {
                purposes: vec![purpose.into()],
                categories: vec![CategoryKey::new(category).unwrap()],
                recipient: None,
            },
            expires: None,
        },
    )
}

fn requests() -> Vec<(&'static str, Request)> {
    let at = "2024-05-20T10:00:00+08:00".parse().unwrap();
    let adult = Subject { age: Some(30), ..Subject::new("u-1") };
    let cats = |k: &[&str]| k.iter().map(|k| CategoryKey::new(*k).unwrap()).collect::<Vec<_>>();
    let mut delete = Request::new(Action::Delete, adult.clone(), cats(&["user.financial.transaction"]), at);
    delete.events.transaction_completed = Some("2020-02-29T12:00:00+08:00".parse().unwrap());
    vec![
        (
            "collect_single_category",
            Request::new(Action::Collect, adult.clone(), cats(&["user.contact.phone_number"]), at)
                .purpose("registration_login"),
        ),
        (
            "collect_with_separate_consent",
            Request::new(Action::Collect, adult.clone(), cats(&["user.biometric.face"]), at)
                .purpose("face_verification"),
        ),
        (
            "share_multi_category",
            Request::new(
                Action::Share,
                adult.clone(),
                cats(&["user.contact.address", "user.contact.phone_number", "user.financial.transaction"]),
                at,
            )
            .purpose("payment_delivery")
            .recipient("partner.logistics"),
        ),
        (
            "cross_border",
            Request::new(Action::CrossBorder, adult.clone(), cats(&["user.contact.address"]), at)
                .purpose("ordering")
                .recipient("partner.overseas_entity"),
        ),
        ("delete_with_retention", delete),
    ]
}

fn ledger() -> InMemoryLedger {
    let mut l = InMemoryLedger::new();
    l.append(grant(1, "u-1", "face_verification", "user.biometric.face", ConsentQualities::separate())).unwrap();
    l.append(event(
        2,
        "u-1",
        "2024-01-01T00:00:00+08:00",
        ConsentChange::PermissionOn { permission: privacy_engine::Permission::Camera },
    ))
    .unwrap();
    for i in 0..20 {
        l.append(grant(100 + i, "u-1", "usage_statistics", "user.device.device_id", ConsentQualities::explicit()))
            .unwrap();
    }
    l
}

fn bench_decisions(c: &mut Criterion) {
    let engine = Engine::new(Policy::from_json(SEED_004).unwrap()).unwrap();
    let ledger = ledger();
    let mut g = c.benchmark_group("seed-004");
    for (name, req) in requests() {
        g.bench_function(name, |b| b.iter(|| black_box(engine.evaluate(black_box(&req), &ledger))));
    }
    g.finish();
}

fn bench_load(c: &mut Criterion) {
    c.bench_function("policy_load/seed-004", |b| {
        b.iter(|| Engine::new(Policy::from_json(black_box(SEED_004)).unwrap()).unwrap())
    });
}

fn bench_ledger(c: &mut Criterion) {
    let subjects = 100_000u32;
    let mut l = InMemoryLedger::new();
    let mut n = 0u128;
    for s in 0..subjects {
        let subject = format!("s{s}");
        for e in 0..20u32 {
            n += 1;
            let purpose = ["ads", "stats", "search", "location"][(e % 4) as usize];
            l.append(grant(n, &subject, purpose, "user.device.device_id.imei", ConsentQualities::explicit())).unwrap();
        }
    }
    let subject = "s4242".into();
    let purpose = "stats".into();
    let category = CategoryKey::new("user.device.device_id.imei").unwrap();
    let covering = [CategoryKey::new("user.device.device_id").unwrap()];
    let at = "2024-05-20T10:00:00+08:00".parse::<chrono::DateTime<chrono::FixedOffset>>().unwrap().to_utc();
    let recipient: Option<&RecipientId> = None;
    c.bench_function("ledger/as_of_lookup_100k_subjects_x20", |b| {
        b.iter(|| {
            black_box(l.has_consent(&ConsentQuery {
                subject: &subject,
                purpose: &purpose,
                category: &category,
                covering: &covering,
                recipient,
                required: ConsentQualities::explicit(),
                at,
            }))
        })
    });
}

fn bench_sweep(c: &mut Criterion) {
    let engine = Engine::new(Policy::from_json(SEED_004).unwrap()).unwrap();
    let keys = ["user.financial.transaction", "user.biometric.face", "user.contact.phone_number", "user.device.model"];
    let records: Vec<RetentionRecord> = (0..100_000)
        .map(|i| {
            let mut events = privacy_engine::RecordEvents::default();
            events.collected = Some("2021-03-01T00:00:00+08:00".parse().unwrap());
            if i % 3 == 0 {
                events.transaction_completed = Some("2021-03-01T00:00:00+08:00".parse().unwrap());
            }
            if i % 5 == 0 {
                events.account_cancelled = Some("2022-03-01T00:00:00+08:00".parse().unwrap());
            }
            RetentionRecord {
                subject: format!("s{i}").into(),
                category: CategoryKey::new(keys[i % keys.len()]).unwrap(),
                purpose: None,
                events,
            }
        })
        .collect();
    let at = "2024-05-20T10:00:00+08:00".parse().unwrap();
    let planner = RetentionPlanner::new(&engine);
    let mut g = c.benchmark_group("retention");
    g.sample_size(10);
    g.bench_function("sweep_100k_records", |b| b.iter(|| black_box(planner.due(&records, at))));
    g.finish();
}

criterion_group!(benches, bench_decisions, bench_load, bench_ledger, bench_sweep);
criterion_main!(benches);
