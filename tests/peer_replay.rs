//! Replays the peer benchmark's 10,000 scenarios (Cedar and Rego on the same
//! 21 privacy rules; `tests/data/peer-bench/`) through the engine with
//! `examples/policies/peer-bench.json`, and checks that every verdict is the
//! one the peer engines agreed on, against both consent ledgers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

#[path = "../benches/peer/scenarios.rs"]
mod scenarios;

use std::collections::BTreeMap;

use privacy_engine::{Decision, Effect, Engine, Policy};

/// Scenarios whose verdict still differs from the peer's.
const KNOWN_MISMATCHES: usize = 0;

fn deny_rules(d: &Decision) -> String {
    let mut rules: Vec<&str> = d.reasons.iter().filter(|r| r.effect == Effect::Deny).map(|r| r.rule.as_str()).collect();
    rules.dedup();
    rules.join(",")
}

#[test]
fn every_peer_verdict_is_ours() {
    let engine = Engine::new(Policy::from_json(scenarios::POLICY).unwrap()).unwrap();
    let replay = scenarios::replay();
    assert_eq!(replay.scenarios.len(), 10_000);
    // The compact ledger bound to the engine, once loaded, and bound to
    // another engine: names found by id, and by name again.
    let mut bound = replay.compact.clone();
    engine.bind_ledger(&mut bound);
    let mut replica = scenarios::replay().replica;
    replica.bind(&engine);
    let mut bound_elsewhere = replay.compact.clone();
    Engine::from_json(scenarios::POLICY).unwrap().bind_ledger(&mut bound_elsewhere);
    assert_eq!(
        replay.keying,
        scenarios::Keying::PerSubject,
        "a subject's consent lists are the same in every scenario"
    );
    let mut mismatches = Vec::new();
    for (s, req) in replay.scenarios.iter().zip(&replay.requests) {
        let ours = engine.evaluate(req, &replay.in_memory);
        let compact = engine.evaluate(req, &replay.compact);
        assert_eq!(ours, compact, "scenario {}: the two ledgers decide differently", s.id);
        assert_eq!(ours, engine.evaluate(req, &bound), "scenario {}: the bound ledger decides differently", s.id);
        assert_eq!(ours, engine.evaluate(req, &bound_elsewhere), "scenario {}: bound elsewhere", s.id);
        assert_eq!(ours, engine.evaluate(req, &replica), "scenario {}: the durable log's replica", s.id);
        if ours.is_permit() != s.expected.permit() {
            mismatches.push((s, ours));
        }
    }
    if mismatches.len() != KNOWN_MISMATCHES {
        // Counted by the peer rule that decided, then by the peer's verdict
        // and rules against the rules that decided ours.
        let mut by_peer_rule: BTreeMap<&str, usize> = BTreeMap::new();
        let mut by_outcome: BTreeMap<String, usize> = BTreeMap::new();
        for (s, ours) in &mismatches {
            if s.expected.reasons.is_empty() {
                *by_peer_rule.entry("(no legal basis)").or_default() += 1;
            }
            for r in &s.expected.reasons {
                *by_peer_rule.entry(r).or_default() += 1;
            }
            let peer = format!("{} {} [{}]", s.action, s.expected.decision, s.expected.reasons.join(","));
            *by_outcome.entry(format!("{peer} / ours: [{}]", deny_rules(ours))).or_default() += 1;
        }
        let mut lines: Vec<String> = by_peer_rule.iter().map(|(k, n)| format!("{n:5}  {k}")).collect();
        lines.push("by outcome:".to_owned());
        let mut outcomes: Vec<(usize, String)> = by_outcome.into_iter().map(|(k, n)| (n, k)).collect();
        outcomes.sort_by(|a, b| b.cmp(a));
        lines.extend(outcomes.iter().map(|(n, k)| format!("{n:5}  {k}")));
        for (s, ours) in mismatches.iter().take(10) {
            eprintln!(
                "scenario {} ({} {} {} for {}): peer {} {:?}; ours {ours}",
                s.id,
                s.action,
                s.item.category,
                s.recipient.kind,
                s.context.purpose,
                s.expected.decision,
                s.expected.reasons
            );
        }
        panic!(
            "{} of 10000 verdicts differ from the peer's (expected {KNOWN_MISMATCHES}):\n{}",
            mismatches.len(),
            lines.join("\n")
        );
    }
}
