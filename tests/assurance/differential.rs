//! The engine against the reference model.

use std::collections::BTreeSet;

use privacy_engine::{ConsentEvent, Decision, Engine, InMemoryLedger, Policy, Request};
use proptest::prelude::*;

use crate::generate;
use crate::reference::{self, Outcome, Why};

/// The engine's decision as the model writes one: everything but the
/// reasons' messages.
pub(crate) fn comparable(d: &Decision) -> Outcome {
    Outcome {
        verdict: d.verdict,
        action: d.action,
        categories: d.categories.iter().map(|c| (c.category.clone(), c.verdict, c.rules.clone())).collect(),
        reasons: d
            .reasons
            .iter()
            .map(|r| Why { rule: r.rule.clone(), effect: r.effect, cites: r.cites.clone() })
            .collect(),
        obligations: d.obligations.clone(),
        unmet: d.unmet.clone(),
    }
}

pub(crate) fn ledger_of(events: &[ConsentEvent]) -> InMemoryLedger {
    let mut ledger = InMemoryLedger::new();
    for e in events {
        ledger.append(e.clone()).unwrap();
    }
    ledger
}

/// Checks one request; on a difference, the message shows both decisions.
pub(crate) fn check(
    engine: &Engine,
    policy: &Policy,
    events: &[ConsentEvent],
    ledger: &InMemoryLedger,
    req: &Request,
) -> Result<(), TestCaseError> {
    let got = engine.evaluate(req, ledger);
    // A compact ledger bound to the engine (after its events, so that the
    // binding translates what is already interned) decides the same.
    let mut bound = privacy_engine::CompactLedger::new();
    bound.extend(events.iter().cloned()).unwrap();
    bound.bind(engine);
    prop_assert_eq!(&engine.evaluate(req, &bound), &got);
    // The ruling, read without rendering, agrees with its rendering.
    let prepared = engine.prepare(req);
    let ruling = engine.decide(&prepared, ledger);
    prop_assert_eq!(ruling.verdict(), got.verdict);
    prop_assert_eq!(ruling.rule_ids().collect::<BTreeSet<_>>(), got.rule_ids().collect::<BTreeSet<_>>());
    let want = reference::decide(policy, events, req);
    let (g, w) = (comparable(&got), want);
    if g != w {
        let mut why = Vec::new();
        if g.verdict != w.verdict {
            why.push("verdict");
        }
        if g.categories != w.categories {
            why.push("categories");
        }
        if g.reasons != w.reasons {
            why.push("reasons");
        }
        if g.obligations != w.obligations {
            why.push("obligations");
        }
        if g.unmet != w.unmet {
            why.push("unmet");
        }
        // The rules on which the two disagree: the document's clauses to
        // read first (docs/policy-format.md decides, not the engine).
        let only_engine: Vec<_> = g.reasons.difference(&w.reasons).map(|r| r.rule.as_str()).collect();
        let only_model: Vec<_> = w.reasons.difference(&g.reasons).map(|r| r.rule.as_str()).collect();
        return Err(TestCaseError::fail(format!(
            "engine and reference differ in {why:?}; reasons only the engine gives: {only_engine:?}, only the \
             model: {only_model:?} (see those rules in docs/policy-format.md)\npolicy: {}\nrequest: {}\nengine:    \
             {}\nreference: {}",
            serde_json::to_string(policy).unwrap(),
            serde_json::to_string(req).unwrap(),
            g.to_json(),
            w.to_json()
        )));
    }
    Ok(())
}

proptest! {
    #![proptest_config(crate::config(module_path!(), crate::differential_cases()))]

    #[test]
    fn engine_agrees_with_reference(
        (policy, events, requests) in generate::case(),
    ) {
        let engine = Engine::new(policy.clone()).unwrap();
        let ledger = ledger_of(&events);
        for req in &requests {
            check(&engine, &policy, &events, &ledger, req)?;
        }
    }
}

/// The engine's built-in taxonomy is the document's table, key for key and
/// level for level (docs/policy-format.md "Built-in taxonomy" decides).
#[test]
fn builtin_taxonomy_is_the_documents() {
    let engine: std::collections::BTreeMap<String, privacy_engine::Sensitivity> =
        privacy_engine::Taxonomy::builtin().iter().map(|(k, info)| (k.as_str().to_owned(), info.sensitivity)).collect();
    assert_eq!(&engine, reference::documented_taxonomy(), "the engine's built-in taxonomy is not the document's table");
}

/// Prints how often each verdict and rule occurs in generated cases (a
/// check on the generators): `cargo test --test assurance coverage -- --ignored --nocapture`.
#[test]
#[ignore = "prints generator coverage"]
fn coverage() {
    use proptest::strategy::ValueTree;
    use std::collections::BTreeMap;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut verdicts: BTreeMap<String, u32> = BTreeMap::new();
    let mut rules: BTreeMap<String, u32> = BTreeMap::new();
    for _ in 0..1000 {
        let (policy, events, reqs) = generate::case().new_tree(&mut runner).unwrap().current();
        let engine = Engine::new(policy).unwrap();
        for req in &reqs {
            let d = engine.evaluate(req, &ledger_of(&events));
            *verdicts.entry(format!("{:?} {}", d.verdict, d.action.as_str())).or_default() += 1;
            for r in d.reasons.iter().map(|r| format!("{:?} {}", r.effect, r.rule)).collect::<BTreeSet<_>>() {
                *rules.entry(r).or_default() += 1;
            }
        }
    }
    println!("{verdicts:#?}\n{rules:#?}");
}
