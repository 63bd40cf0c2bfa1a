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
    Action, CategoryKey, CompactLedger, ConsentChange, ConsentEvent, ConsentQualities, ConsentQuery, ConsentStore,
    Engine, InMemoryLedger, RecipientId, Request, RetentionPlanner, RetentionRecord, Scope, Subject,
};

const SEED_004: &str = include_str!("../examples/policies/seed-004.json");

fn event(n: u128, subject: &str, at: &str, change: ConsentChange) -> ConsentEvent {
    ConsentEvent::new(uuid::Uuid::from_u128(n), at.parse().unwrap(), subject, "seed-004", "2021-08-20", change)
}

fn grant(n: u128, subject: &str, purpose: &str, category: &str, q: ConsentQualities) -> ConsentEvent {
    event(
        n,
        subject,
        "2024-01-01T00:00:00+08:00",
        ConsentChange::Grant {
            qualities: q,
            scope: Scope::new(vec![purpose.into()], vec![CategoryKey::new(category).unwrap()]),
            expires: None,
        },
    )
}

fn requests() -> Vec<(&'static str, Request)> {
    let at = "2024-05-20T10:00:00+08:00".parse().unwrap();
    let adult = Subject::new("u-1").age(30);
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
    let engine = Engine::from_json(SEED_004).unwrap();
    let ledger = ledger();
    let mut g = c.benchmark_group("seed-004");
    for (name, req) in requests() {
        // Prepared once, as an app that resolves names where the request
        // enters; and the whole of `evaluate`, preparation included.
        let prepared = engine.prepare(&req);
        g.bench_function(name, |b| b.iter(|| black_box(engine.decide(black_box(&prepared), &ledger))));
        g.bench_function(format!("{name}/evaluate"), |b| {
            b.iter(|| black_box(engine.evaluate(black_box(&req), &ledger)))
        });
    }
    g.finish();
}

/// Seed 004 grown to 10,000 rules (7,000 consent requirements, 2,000
/// retention rules, 1,000 exceptions), 1,000 more purposes, 1,000 more
/// recipients and 2,000 more categories.
fn large_policy() -> String {
    let mut p: serde_json::Value = serde_json::from_str(SEED_004).unwrap();
    let cats = p["categories"].as_array_mut().unwrap();
    cats.push(serde_json::json!({"key": "user.synthetic"}));
    for g in 0..20 {
        cats.push(serde_json::json!({"key": format!("user.synthetic.g{g}")}));
        for c in 0..100 {
            cats.push(serde_json::json!({"key": format!("user.synthetic.g{g}.c{c}")}));
        }
    }
    let leaf = |i: usize| format!("user.synthetic.g{}.c{}", i % 20, (i / 20) % 100);
    let purposes = p["purposes"].as_array_mut().unwrap();
    for i in 0..1000 {
        purposes.push(serde_json::json!({
            "id": format!("p{i}"),
            "basis": if i % 2 == 0 { "core" } else { "optional" },
            "categories": [leaf(i), leaf(i + 1), format!("user.synthetic.g{}", i % 20)],
        }));
    }
    let recipients = p["recipients"].as_array_mut().unwrap();
    for i in 0..1000 {
        recipients.push(serde_json::json!({
            "id": format!("r{i}"), "kind": "partner", "region": "CN",
            "agreements": ["confidentiality", "cac_standard_contract"],
            "categories": [format!("user.synthetic.g{}", i % 20)],
            "purposes": [format!("p{i}"), format!("p{}", (i + 1) % 1000)],
            "data_state": "identifiable",
        }));
    }
    let reqs = p["consent_requirements"].as_array_mut().unwrap();
    for i in 0..7000 {
        reqs.push(serde_json::json!({
            "id": format!("q{i}"), "actions": ["collect", "use", "share"],
            "purposes": [format!("p{}", i % 1000)], "categories": [leaf(i)],
            "qualities": ["affirmative", "explicit"],
        }));
    }
    let retention = p["retention"].as_array_mut().unwrap();
    for i in 0..2000 {
        retention.push(serde_json::json!({
            "id": format!("ret{i}"), "categories": [leaf(i)], "trigger": "collected",
            "maximum": "P1Y", "end_action": "delete",
        }));
    }
    for a in p["actions"].as_array_mut().unwrap() {
        if a["action"] == "use" {
            let exc = a["exceptions"].as_array_mut().unwrap();
            for i in 0..1000 {
                exc.push(serde_json::json!({"id": format!("x{i}"), "ground": "law"}));
            }
        }
    }
    p.to_string()
}

fn bench_large(c: &mut Criterion) {
    let text = large_policy();
    let engine = Engine::from_json(&text).unwrap();
    let ledger = ledger();
    let mut g = c.benchmark_group("policy-10k-rules");
    for (name, req) in requests() {
        // Prepared once, as an app that resolves names where the request
        // enters; and the whole of `evaluate`, preparation included.
        let prepared = engine.prepare(&req);
        g.bench_function(name, |b| b.iter(|| black_box(engine.decide(black_box(&prepared), &ledger))));
        g.bench_function(format!("{name}/evaluate"), |b| {
            b.iter(|| black_box(engine.evaluate(black_box(&req), &ledger)))
        });
    }
    g.sample_size(10);
    g.bench_function("load", |b| b.iter(|| Engine::from_json(black_box(&text)).unwrap()));
    g.finish();
}

/// The policy of issue 13's load attack, regenerated: 20,000 categories,
/// 40,000 purposes of 20 categories each, 10,000 recipients and 5,000
/// retention rules (about 35 MB).
fn huge_policy() -> String {
    let mut p: serde_json::Value = serde_json::from_str(SEED_004).unwrap();
    let cats = p["categories"].as_array_mut().unwrap();
    cats.push(serde_json::json!({"key": "user.huge"}));
    for g in 0..200 {
        cats.push(serde_json::json!({"key": format!("user.huge.g{g}")}));
        for c in 0..100 {
            cats.push(serde_json::json!({"key": format!("user.huge.g{g}.c{c}"), "description": "generated"}));
        }
    }
    let leaf = |i: usize| format!("user.huge.g{}.c{}", i % 200, (i / 200) % 100);
    let purposes = p["purposes"].as_array_mut().unwrap();
    for i in 0..40_000 {
        let categories: Vec<String> = (0..20).map(|j| leaf(i * 20 + j)).collect();
        purposes.push(serde_json::json!({
            "id": format!("purpose-{i}"),
            "basis": if i % 2 == 0 { "core" } else { "optional" },
            "categories": categories,
        }));
    }
    let recipients = p["recipients"].as_array_mut().unwrap();
    for i in 0..10_000 {
        recipients.push(serde_json::json!({
            "id": format!("recipient-{i}"), "kind": "partner", "region": "CN",
            "agreements": ["confidentiality", "cac_standard_contract"],
            "categories": [format!("user.huge.g{}", i % 200), leaf(i)],
            "purposes": [format!("purpose-{}", i * 4), format!("purpose-{}", i * 4 + 1)],
            "data_state": "identifiable",
        }));
    }
    let retention = p["retention"].as_array_mut().unwrap();
    for i in 0..5_000 {
        retention.push(serde_json::json!({
            "id": format!("retention-{i}"),
            "categories": [format!("user.huge.g{}", i % 200), leaf(i)],
            "purposes": [format!("purpose-{}", i * 8)],
            "trigger": "collected", "maximum": "P1Y", "end_action": "delete",
        }));
    }
    p.to_string()
}

/// Peak resident set size in bytes since [`reset_peak_rss`] (Linux only; 0
/// elsewhere).
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().strip_suffix(" kB"));
    kb.and_then(|v| v.trim().parse::<u64>().ok()).map_or(0, |kb| kb * 1024)
}

/// Starts a new peak for [`peak_rss`].
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Issue 13's load target: the huge policy loads in at most 2 s and
/// 500 MB.
fn bench_huge(c: &mut Criterion) {
    let text = huge_policy();
    let before = rss();
    reset_peak_rss();
    let start = std::time::Instant::now();
    let engine = Engine::from_json(&text).unwrap();
    let took = start.elapsed();
    let peak = peak_rss().saturating_sub(before);
    eprintln!(
        "huge policy: {} MB of JSON loaded in {took:.2?}, peak {} MB above the text",
        text.len() >> 20,
        peak >> 20
    );
    drop(engine);
    let mut g = c.benchmark_group("policy-huge");
    g.sample_size(10);
    g.bench_function("load", |b| b.iter(|| Engine::from_json(black_box(&text)).unwrap()));
    g.finish();
}

fn bench_load(c: &mut Criterion) {
    c.bench_function("policy_load/seed-004", |b| b.iter(|| Engine::from_json(black_box(SEED_004)).unwrap()));
}

/// Resident set size in bytes, from /proc (Linux only; 0 elsewhere).
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()))
        .map_or(0, |pages| pages * 4096)
}

fn bench_ledger(c: &mut Criterion) {
    // LEDGER_SUBJECTS=1000000 for the 1 M figure in the README (about 5 GB).
    let subjects: u32 = std::env::var("LEDGER_SUBJECTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let load = |append: &mut dyn FnMut(ConsentEvent)| {
        let mut n = 0u128;
        for s in 0..subjects {
            let subject = format!("s{s}");
            for e in 0..20u32 {
                n += 1;
                let purpose = ["ads", "stats", "search", "location"][(e % 4) as usize];
                append(grant(n, &subject, purpose, "user.device.device_id.imei", ConsentQualities::explicit()));
            }
        }
    };
    let per_event = |before: u64, after: u64| after.saturating_sub(before) / (u64::from(subjects) * 20);
    // The compact ledger first, so that each RSS delta is its own.
    let before = rss();
    let mut compact = CompactLedger::new();
    load(&mut |e| compact.append(e).unwrap());
    let after = rss();
    eprintln!("compact ledger: {subjects} subjects x 20 events, {} bytes per event (RSS)", per_event(before, after));
    let before = rss();
    let mut l = InMemoryLedger::new();
    load(&mut |e| l.append(e).unwrap());
    let after = rss();
    eprintln!("ledger: {subjects} subjects x 20 events, {} bytes per event (RSS)", per_event(before, after));
    let subject = "s4242".into();
    let purpose = "stats".into();
    let category = CategoryKey::new("user.device.device_id.imei").unwrap();
    let covering = [CategoryKey::new("user.device.device_id").unwrap()];
    let at = "2024-05-20T10:00:00+08:00".parse::<chrono::DateTime<chrono::FixedOffset>>().unwrap().to_utc();
    let recipient: Option<&RecipientId> = None;
    let mut query =
        ConsentQuery::new(&subject, &purpose, &category, at).covering(&covering).required(ConsentQualities::explicit());
    query.recipient = recipient;
    c.bench_function("ledger/as_of_lookup", |b| b.iter(|| black_box(l.has_consent(black_box(&query)))));
    c.bench_function("ledger/compact_as_of_lookup", |b| b.iter(|| black_box(compact.has_consent(black_box(&query)))));
}

fn bench_sweep(c: &mut Criterion) {
    let engine = Engine::from_json(SEED_004).unwrap();
    let keys = ["user.financial.transaction", "user.biometric.face", "user.contact.phone_number", "user.device.model"];
    let records: Vec<RetentionRecord> = (0..1_000_000)
        .map(|i| {
            let mut events = privacy_engine::RecordEvents::default();
            events.collected = Some("2021-03-01T00:00:00+08:00".parse().unwrap());
            if i % 3 == 0 {
                events.transaction_completed = Some("2021-03-01T00:00:00+08:00".parse().unwrap());
            }
            if i % 5 == 0 {
                events.account_cancelled = Some("2022-03-01T00:00:00+08:00".parse().unwrap());
            }
            let mut record = RetentionRecord::new(format!("s{i}"), CategoryKey::new(keys[i % keys.len()]).unwrap());
            record.events = events;
            record
        })
        .collect();
    let at = "2024-05-20T10:00:00+08:00".parse().unwrap();
    let planner = RetentionPlanner::new(&engine);
    let mut g = c.benchmark_group("retention");
    g.sample_size(10);
    g.bench_function("sweep_1m_records", |b| b.iter(|| black_box(planner.due(&records, at))));
    g.finish();
}

criterion_group!(benches, bench_huge, bench_decisions, bench_large, bench_load, bench_ledger, bench_sweep);
criterion_main!(benches);
