//! The unreachable-rule check against the engine: every witness that
//! `Policy::witnesses` gives for a seed policy is decided by its rule (an
//! action rule, exception, `named_in_consent` rule, retention rule, consent
//! requirement or minors rule cited among the reasons, a recipient's
//! request permitted), every rule of every seed file is either witnessed or
//! warned `unreachable-rule`, and every seed policy keeps its unreachable
//! rules at zero, or acknowledged with a reason.

use std::collections::BTreeSet;

use privacy_engine::{DiagnosticCode, Engine, InMemoryLedger, Policy, Severity, Verdict};
use serde_json::Value;

/// Every policy file of `examples/policies/`, with its name.
const SEEDS: [(&str, &str); 6] = [
    ("seed-001", include_str!("../../examples/policies/seed-001.json")),
    ("seed-002", include_str!("../../examples/policies/seed-002.json")),
    ("seed-003", include_str!("../../examples/policies/seed-003.json")),
    ("seed-004", include_str!("../../examples/policies/seed-004.json")),
    ("seed-004-v2", include_str!("../../examples/policies/seed-004-v2.json")),
    ("peer-bench", include_str!("../../examples/policies/peer-bench.json")),
];

/// At most this many unreachable rules other than action rules a seed file
/// may acknowledge.
const MAX_ACKNOWLEDGED: usize = 3;

/// At most this many unreachable action rules a seed file may acknowledge
/// (a cross-border rule with no recipient it can reach).
const MAX_ACKNOWLEDGED_ACTION_RULES: usize = 1;

/// Whether a diagnostic's path is an action rule's own (`/actions/i`).
fn is_action_rule(path: &str) -> bool {
    path.strip_prefix("/actions/").is_some_and(|rest| !rest.contains('/'))
}

#[test]
fn every_witness_is_decided_by_its_rule() {
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut new_kinds = std::collections::BTreeMap::<&str, usize>::new();
    for (name, text) in SEEDS {
        let policy = Policy::from_json(text).unwrap();
        let witnesses = policy.witnesses();
        let engine = Engine::new(policy).unwrap();
        for w in witnesses {
            let mut ledger = InMemoryLedger::new();
            for e in &w.consents {
                ledger.append(e.clone()).unwrap();
            }
            let d = engine.evaluate(&w.request, &ledger);
            let reached = if w.kind == "recipient" {
                d.verdict == Verdict::Permit
                    && w.request.recipient.as_ref().map(|r| r.as_str()) == Some(w.rule.as_str())
            } else {
                d.reasons.iter().any(|r| r.rule == w.rule)
            };
            checked += 1;
            if matches!(w.kind, "action rule" | "named in consent") {
                *new_kinds.entry(w.kind).or_default() += 1;
            }
            if !reached {
                failures.push(format!("{name} {} `{}` at {}: witness not decided by it:\n{d}", w.kind, w.rule, w.path));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(checked > 200, "only {checked} witnesses");
    assert!(new_kinds.get("action rule").is_some_and(|n| *n >= 30), "{new_kinds:?}");
    assert!(new_kinds.get("named in consent").is_some_and(|n| *n >= 3), "{new_kinds:?}");
}

#[test]
fn seed_files_have_no_unacknowledged_unreachable_rules() {
    for (name, text) in SEEDS {
        let d = Policy::from_json(text).unwrap().diagnostics();
        let unreachable: Vec<_> =
            d.iter().filter(|d| d.code == DiagnosticCode::UnreachableRule && d.severity == Severity::Warning).collect();
        let open: Vec<String> = unreachable.iter().filter(|d| !d.acknowledged).map(|d| d.to_string()).collect();
        assert!(open.is_empty(), "{name}: {}", open.join("\n"));
        let actions = unreachable.iter().filter(|d| is_action_rule(&d.path)).count();
        let others = unreachable.len() - actions;
        assert!(others <= MAX_ACKNOWLEDGED, "{name}: {others} acknowledged unreachable rules");
        assert!(actions <= MAX_ACKNOWLEDGED_ACTION_RULES, "{name}: {actions} acknowledged unreachable action rules");
    }
}

/// Prints the unreachable rules of each seed file (`--nocapture`), for the
/// closing note's counts.
#[test]
fn unreachable_counts() {
    for (name, text) in SEEDS {
        let d = Policy::from_json(text).unwrap().diagnostics();
        let list: Vec<String> =
            d.iter().filter(|d| d.code == DiagnosticCode::UnreachableRule).map(|d| d.to_string()).collect();
        println!("{name}: {} unreachable\n  {}", list.len(), list.join("\n  "));
        let mut kinds = std::collections::BTreeMap::<&str, usize>::new();
        for w in Policy::from_json(text).unwrap().witnesses() {
            *kinds.entry(w.kind).or_default() += 1;
        }
        println!("{name}: witnesses {kinds:?}");
    }
}

/// The path of every rule the check covers, read from the document itself
/// (not from the check): action rules and their exceptions, recipients,
/// `named_in_consent` rules, consent requirements, retention rules and
/// minors rules.
fn rule_paths(text: &str) -> BTreeSet<String> {
    let doc: Value = serde_json::from_str(text).unwrap();
    let len = |v: &Value| v.as_array().map_or(0, Vec::len);
    let mut paths = BTreeSet::new();
    for list in ["actions", "recipients", "named_in_consent", "consent_requirements", "retention"] {
        paths.extend((0..len(&doc[list])).map(|i| format!("/{list}/{i}")));
    }
    paths.extend((0..len(&doc["minors"]["rules"])).map(|i| format!("/minors/rules/{i}")));
    for (i, a) in doc["actions"].as_array().into_iter().flatten().enumerate() {
        paths.extend((0..len(&a["exceptions"])).map(|j| format!("/actions/{i}/exceptions/{j}")));
    }
    paths
}

/// Every rule of every seed file is either witnessed, and its witness
/// decided citing it, or warned `unreachable-rule` (then acknowledged, by
/// the test above): none is left in neither, none in both.
#[test]
fn every_rule_is_witnessed_or_warned() {
    let mut failures = Vec::new();
    for (name, text) in SEEDS {
        let policy = Policy::from_json(text).unwrap();
        let diagnostics = policy.diagnostics();
        let unreachable: Vec<_> = diagnostics.iter().filter(|d| d.code == DiagnosticCode::UnreachableRule).collect();
        let warned: BTreeSet<&str> = unreachable.iter().map(|d| d.path.as_str()).collect();
        let acknowledged = unreachable.iter().filter(|d| d.acknowledged).count();
        // An exception on a ground without PIPL basis that the policy does
        // not acknowledge is warned by `ground-without-pipl-basis` instead.
        let unbased: BTreeSet<&str> = diagnostics
            .iter()
            .filter(|d| d.code == DiagnosticCode::GroundWithoutPiplBasis && !d.acknowledged)
            .map(|d| d.path.as_str())
            .collect();
        let witnesses = policy.witnesses();
        let engine = Engine::new(policy).unwrap();
        let mut witnessed = BTreeSet::new();
        for w in &witnesses {
            let mut ledger = InMemoryLedger::new();
            for e in &w.consents {
                ledger.append(e.clone()).unwrap();
            }
            let d = engine.evaluate(&w.request, &ledger);
            let cited = if w.kind == "recipient" {
                d.verdict == Verdict::Permit
            } else {
                d.reasons.iter().any(|r| r.rule == w.rule)
            };
            if cited {
                witnessed.insert(w.path.as_str());
            }
        }
        let rules = rule_paths(text);
        for path in &rules {
            let (w, u) = (witnessed.contains(path.as_str()), warned.contains(path.as_str()));
            if w == u && !unbased.contains(path.as_str()) {
                let state = if w { "both witnessed and warned" } else { "neither witnessed nor warned" };
                failures.push(format!("{name}: rule at {path} is {state}"));
            }
        }
        println!(
            "{name}: {} rules: {} witnessed, {} warned ({acknowledged} acknowledged), {} warned as without PIPL basis",
            rules.len(),
            witnessed.len(),
            warned.len(),
            unbased.len()
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
