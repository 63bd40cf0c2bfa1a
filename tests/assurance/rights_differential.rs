//! The engine's answers to rights requests against the reference model
//! (`rights_model`): on every rights vector, and on generated requests over
//! the seed policies 001, 003 and 004 (random rights, categories, holdings,
//! events, grounds, identity, consents and dates), the two give the same
//! answer (outcome, items, duties, deadline, unavailable purposes). The
//! generated requests also go through the JSON-lines interface (a rights
//! line, version 2), which must give the typed API's answer.

use std::sync::OnceLock;

use chrono::{DateTime, Duration, FixedOffset, TimeZone};
use privacy_engine::{
    BeyondData, ConsentEvent, Engine, Holding, InMemoryLedger, LineOutput, Policy, RightsRequest, answer_line,
};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::rights_model::{self, RightsCase};
use crate::rights_vectors::{rights_line, rights_vectors};

/// The seed policies the requests are generated over, with their engines.
fn seeds() -> &'static [(Policy, Engine)] {
    static SEEDS: OnceLock<Vec<(Policy, Engine)>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        ["001", "003", "004"]
            .iter()
            .map(|s| {
                let path = format!("{}/examples/policies/seed-{s}.json", env!("CARGO_MANIFEST_DIR"));
                let policy = Policy::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
                (policy.clone(), Engine::new(policy).unwrap())
            })
            .collect()
    })
}

/// A small deterministic generator: the case is built from one seed, so
/// that a failure prints the seed and the case.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        // SplitMix64.
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub(crate) fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
    pub(crate) fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    pub(crate) fn some<T: Clone>(&mut self, xs: &[T], max: usize) -> Vec<T> {
        let n = self.below(max + 1);
        let mut out: Vec<T> = Vec::new();
        for _ in 0..n {
            out.push(self.pick(xs).clone());
        }
        out
    }
}

/// A time within `days` either side of `around`, on the hour.
pub(crate) fn time_near(rng: &mut Rng, around: DateTime<FixedOffset>, days: i64) -> String {
    let hours = rng.below((days * 48) as usize) as i64 - days * 24;
    (around + Duration::hours(hours)).to_rfc3339()
}

/// One generated rights case: the seed's index, consents, holdings, the
/// request and whether weekdays are assumed past the calendar's data.
#[derive(Debug)]
struct Generated {
    seed: usize,
    consents: Vec<ConsentEvent>,
    holdings: Vec<Holding>,
    request: RightsRequest,
    assume_weekdays: bool,
}

impl Generated {
    /// The engine's and the model's answers (see [`both`]).
    fn answers(&self) -> (Value, Value) {
        let (policy, engine) = &seeds()[self.seed];
        let case = RightsCase {
            policy,
            consents: &self.consents,
            holdings: &self.holdings,
            request: &self.request,
            assume_weekdays: self.assume_weekdays,
        };
        both(policy, engine, &case)
    }
}

fn generate(seed: u64) -> Generated {
    let mut rng = Rng(seed);
    let which = rng.below(seeds().len());
    let policy = &seeds()[which].0;
    let doc = serde_json::to_value(policy).unwrap();
    let purposes = doc["purposes"].as_array().unwrap();
    let ids: Vec<Value> = purposes.iter().map(|p| p["id"].clone()).collect();
    let keys: Vec<String> = purposes
        .iter()
        .flat_map(|p| p["categories"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()))
        .collect();
    let recipients: Vec<Value> = doc["recipients"].as_array().unwrap().iter().map(|r| r["id"].clone()).collect();
    // Received from 2025-01-01 to 2026-12-31 (past the data's end too).
    let zone = FixedOffset::east_opt(8 * 3600).unwrap();
    let start = zone.with_ymd_and_hms(2025, 1, 1, 9, 0, 0).unwrap();
    let received = start + Duration::hours(rng.below(730 * 24) as i64);
    let at = received + Duration::hours(rng.below(240) as i64);
    let mut holdings = Vec::new();
    let mut held: Vec<String> = Vec::new();
    for _ in 0..rng.below(5) {
        let key = rng.pick(&keys).clone();
        if held.contains(&key) {
            continue;
        }
        let listing: Vec<Value> = purposes
            .iter()
            .filter(|p| p["categories"].as_array().unwrap().iter().any(|c| within(&key, c.as_str().unwrap())))
            .map(|p| p["id"].clone())
            .collect();
        let mut events = serde_json::Map::new();
        // Minimums run for years from collection and transactions; the
        // grounds hold from a cancellation or fulfilment near the request.
        for (event, days) in [
            ("collected", 1200),
            ("transaction_completed", 1200),
            ("account_cancelled", 200),
            ("purpose_fulfilled", 200),
        ] {
            if rng.one_in(3) {
                events.insert(event.into(), json!(time_near(&mut rng, at, days)));
            }
        }
        if rng.one_in(8) {
            events.insert("retain_until".into(), json!(time_near(&mut rng, at, 200)));
        }
        if rng.one_in(6) {
            let mut hold = json!({"since": time_near(&mut rng, at, 60)});
            if rng.one_in(2) {
                hold["until"] = json!(time_near(&mut rng, at, 400));
            }
            events.insert("legal_hold".into(), hold);
        }
        let mut ps = rng.some(&listing, 2);
        ps.dedup();
        let mut rs = rng.some(&recipients, 2);
        rs.dedup();
        holdings.push(json!({
            "category": key,
            "origin": rng.pick(&["provided", "observed", "derived", "third_party"]),
            "purposes": ps,
            "recipients": rs,
            "events": events,
            "others_data": rng.one_in(5),
        }));
        held.push(key);
    }
    // Consents: grants (some withdrawn or refused later) for the held
    // categories' purposes, on the category itself.
    let mut consents = Vec::new();
    for (n, h) in holdings.iter().enumerate() {
        for p in h["purposes"].as_array().unwrap() {
            if rng.one_in(2) {
                continue;
            }
            let scope = json!({"purposes": [p], "categories": [h["category"]]});
            let event = |id: usize, change: Value, rng: &mut Rng| {
                json!({"id": format!("00000000-0000-4000-8000-{id:012}"), "at": time_near(rng, at, 300),
                       "subject": "u-1", "policy_id": policy.id, "policy_version": policy.version, "change": change})
            };
            let grant = event(
                consents.len() * 10 + n,
                json!({"type": "grant", "qualities": ["affirmative"], "scope": scope}),
                &mut rng,
            );
            consents.push(grant);
            if rng.one_in(2) {
                let end = *rng.pick(&["withdraw", "refuse", "expire"]);
                let ending = event(consents.len() * 10 + n, json!({"type": end, "scope": scope}), &mut rng);
                consents.push(ending);
            }
        }
    }
    let grounds = [
        "purpose_achieved",
        "service_stopped",
        "retention_expired",
        "consent_withdrawn",
        "unlawful",
        "against_agreement",
        "account_cancelled",
    ];
    let targets = ["personalised_recommendations", "marketing", "profiling", "programmatic_advertising", "processing"];
    let mut gs = rng.some(&grounds, 3);
    gs.sort_unstable();
    gs.dedup();
    let right = match rng.below(10) {
        0 => json!({"kind": "access"}),
        1 => json!({"kind": "copy"}),
        2 => json!({"kind": "portability"}),
        3 => json!({"kind": "correction"}),
        4 | 5 => json!({"kind": "deletion", "grounds": gs}),
        6 => json!({"kind": "restriction"}),
        7 => json!({"kind": "objection", "target": if rng.one_in(2) { "processing" } else { rng.pick(&targets) }}),
        8 => json!({"kind": "explanation", "automated_decision": rng.one_in(2)}),
        k => {
            let mut ps = rng.some(&ids, 3);
            ps.dedup();
            json!({"kind": if k == 9 && rng.one_in(2) { "withdrawal" } else { "refuse_optional" }, "purposes": ps})
        }
    };
    let asked: Vec<String> = if rng.one_in(2) {
        Vec::new()
    } else {
        let parents: Vec<String> = keys.iter().filter_map(|k| k.rfind('.').map(|i| k[..i].to_owned())).collect();
        let mut a = rng.some(&[held.clone(), parents, keys.clone()].concat(), 2);
        a.sort();
        a.dedup();
        a
    };
    let request = json!({
        "case": "00000000-0000-4000-8000-000000000001", "subject": "u-1", "right": right, "categories": asked,
        "received": received.to_rfc3339(), "at": at.to_rfc3339(),
        "identity": if rng.one_in(4) { "unverified" } else { "verified" },
    });
    Generated {
        seed: which,
        consents: consents.into_iter().map(|c| serde_json::from_value(c).unwrap()).collect(),
        holdings: holdings.into_iter().map(|h| serde_json::from_value(h).unwrap()).collect(),
        request: serde_json::from_value(request).unwrap(),
        assume_weekdays: rng.one_in(2),
    }
}

/// Whether the dotted key `key` is `of` or below it.
pub(crate) fn within(key: &str, of: &str) -> bool {
    key == of || key.strip_prefix(of).is_some_and(|rest| rest.starts_with('.'))
}

/// The engine's and the model's answers to one case; the engine's answer
/// through the JSON-lines interface is the same as through the typed API.
fn both(policy: &Policy, engine: &Engine, case: &RightsCase<'_>) -> (Value, Value) {
    let calendar = privacy_engine::calendar_for_region(&policy.settings.home_region).unwrap();
    let beyond = if case.assume_weekdays { BeyondData::AssumeWeekdays } else { BeyondData::Refuse };
    let mut ledger = InMemoryLedger::new();
    ledger.extend(case.consents.iter().cloned()).unwrap();
    let got = engine.answer(case.request, case.holdings, &ledger, calendar, beyond);
    let line = rights_line(case.request, case.holdings, case.consents, case.assume_weekdays);
    match answer_line(engine, &line).unwrap() {
        LineOutput::Answer(a) => assert_eq!(*a, got, "the JSON-lines interface answers otherwise: {line}"),
        other => panic!("a rights line gives {}", other.to_json()),
    }
    (rights_model::comparable(&got), rights_model::answer(case))
}

proptest! {
    #![proptest_config(crate::config(module_path!(), crate::differential_cases()))]

    /// Generated rights requests over the seed policies.
    #[test]
    fn engine_answers_as_the_reference(seed in any::<u64>()) {
        let g = generate(seed);
        let (got, model) = g.answers();
        prop_assert_eq!(&got, &model, "seed-{} case {:#?}", ["001", "003", "004"][g.seed], g);
    }
}

/// Every rights vector: the engine's answer is the model's, field for field
/// (not only on the fields the vector lists), and the expected one.
#[test]
fn engine_answers_every_rights_vector_as_the_reference() {
    let vectors = rights_vectors();
    for (name, v, policy) in &vectors {
        let case = RightsCase {
            policy,
            consents: &v.consents,
            holdings: &v.holdings,
            request: &v.request,
            assume_weekdays: v.assume_weekdays,
        };
        let (got, model) = (
            rights_model::comparable(&v.engine_answer(&Engine::new(policy.clone()).unwrap(), policy)),
            rights_model::answer(&case),
        );
        assert_eq!(got, model, "{name}: the engine and the reference model differ");
        assert_eq!(rights_model::differences(&v.expected, &model), Vec::<String>::new(), "{name}");
    }
    println!("assurance: rights vectors: {} compared", vectors.len());
}

/// Prints how often each right meets each outcome, item outcome and ground
/// in generated cases (a check on the generator):
/// `cargo test --test assurance rights_coverage -- --ignored --nocapture`.
#[test]
#[ignore = "prints generator coverage"]
fn rights_coverage() {
    use std::collections::BTreeMap;
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    for seed in 0..2000 {
        let g = generate(seed);
        let (got, _) = g.answers();
        let right = serde_json::to_value(&g.request.right).unwrap()["kind"].as_str().unwrap().to_owned();
        *seen.entry(format!("{right} {}", got["outcome"])).or_default() += 1;
        for i in got["items"].as_array().unwrap() {
            *seen
                .entry(format!("item {} {} {}", i["outcome"], i["ground"], i["delete_on"].is_string()))
                .or_default() += 1;
        }
        *seen.entry(format!("deadline {}", got["deadline"].is_string())).or_default() += 1;
    }
    println!("{seen:#?}");
}
