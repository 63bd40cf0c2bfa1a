//! The test-vector suite: every `tests/vectors/<profile>/*.json` file is one
//! case (policy profile + consent history + request → expected decision).
//! A new case is a new file; see `tests/vectors/README.md`.
//!
//! Each case is decided twice: through the typed API, and through the
//! JSON-lines interface of `examples/evaluate.rs` (`decide_line`), and the
//! two must give the same JSON.
//!
//! The rights vectors (`tests/vectors/rights/<seed>/*.json`) are answered
//! three ways: by `Engine::answer`, by the JSON-lines interface (a rights
//! line, version 2: the same answer) and by the reference model of
//! `tests/assurance/rights_model.rs`; each must give the expected answer.
//!
//! The lifecycle vectors (`tests/vectors/lifecycle/<seed>/*.json`:
//! cancellation, termination, inactivity, reactivation and incidents) are
//! answered by `Engine::lifecycle` or `Engine::incident`, by the
//! JSON-lines interface (a lifecycle or incident line, version 3: the same
//! answer) and by the reference model of
//! `tests/assurance/lifecycle_model.rs`; each must give the expected answer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;

use std::collections::BTreeSet;

use privacy_engine::{
    CompactLedger, ConsentEvent, Decision, Engine, InMemoryLedger, LineOutput, Policy, PolicyHistory, Request,
    answer_line, decide_line,
};
use serde::Deserialize;
use serde_json::Value;

#[allow(dead_code)]
#[path = "assurance/lifecycle_model.rs"]
mod lifecycle_model;
#[allow(dead_code)]
#[path = "assurance/lifecycle_vectors.rs"]
mod lifecycle_vectors;
#[allow(dead_code, unused_imports)]
#[path = "assurance/reference.rs"]
mod reference;
#[allow(dead_code)]
#[path = "assurance/rights_model.rs"]
mod rights_model;
#[path = "assurance/rights_vectors.rs"]
mod rights_vectors;

use rights_vectors::{files, rights_line, rights_vectors};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Vector {
    description: String,
    clause: String,
    policy: Profile,
    #[serde(default)]
    consents: Vec<ConsentEvent>,
    request: Value,
    expected: Expected,
}

/// A policy profile, or a history of versions (oldest first), each named
/// as a file of `examples/policies/` or `tests/data/histories/`.
#[derive(Deserialize)]
#[serde(untagged)]
enum Profile {
    One(String),
    History(Vec<String>),
}

impl Profile {
    /// The name the engine is cached under and counted by.
    fn name(&self) -> String {
        match self {
            Profile::One(name) => name.clone(),
            Profile::History(names) => names.join("+"),
        }
    }

    fn engine(&self, root: &Path) -> Engine {
        let load = |name: &str| {
            let file = ["examples/policies", "tests/data/histories"]
                .iter()
                .map(|dir| root.join(dir).join(format!("{name}.json")))
                .find(|f| f.exists())
                .unwrap_or_else(|| panic!("no policy file `{name}`"));
            Policy::from_json(&std::fs::read_to_string(&file).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
        };
        match self {
            Profile::One(name) => Engine::new(load(name)).unwrap(),
            Profile::History(names) => {
                let versions = names.iter().map(|n| load(n)).collect();
                Engine::from_history(PolicyHistory::new(versions).unwrap()).unwrap()
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    verdict: String,
    /// The version the decision was made under; `""` for none in force.
    #[serde(default)]
    policy_version: Option<String>,
    #[serde(default)]
    categories: Option<BTreeMap<String, String>>,
    #[serde(default)]
    rules: Option<Vec<String>>,
    #[serde(default)]
    obligations: Option<Vec<Value>>,
    #[serde(default)]
    unmet: Option<Vec<Value>>,
    #[serde(default)]
    not_liftable: Option<bool>,
}

/// Where the rights vectors are (a harness of their own, below).
const RIGHTS: &str = rights_vectors::RIGHTS;

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

/// The differences between a decision and what the vector expects.
fn check(v: &Vector, d: &Decision) -> Vec<String> {
    let mut problems = Vec::new();
    let json: Value = serde_json::to_value(d).unwrap();
    if json["verdict"] != v.expected.verdict {
        problems.push(format!("verdict: expected {}, got {}", v.expected.verdict, json["verdict"]));
    }
    if let Some(version) = &v.expected.policy_version
        && d.policy_version.as_deref().unwrap_or("") != version
    {
        problems.push(format!("policy_version: expected {version:?}, got {:?}", d.policy_version));
    }
    if let Some(cats) = &v.expected.categories {
        let got: BTreeMap<String, String> = d
            .categories
            .iter()
            .map(|c| (c.category.to_string(), serde_json::to_value(c.verdict).unwrap().as_str().unwrap().to_owned()))
            .collect();
        if &got != cats {
            problems.push(format!("categories: expected {cats:?}, got {got:?}"));
        }
    }
    if let Some(rules) = &v.expected.rules {
        let got = sorted(d.rule_ids().map(|r| r.to_string()).collect());
        if got != sorted(rules.clone()) {
            problems.push(format!("rules: expected {:?}, got {got:?}", sorted(rules.clone())));
        }
    }
    if let Some(obl) = &v.expected.obligations
        && json["obligations"] != Value::Array(obl.clone())
    {
        problems.push(format!("obligations: expected {}, got {}", Value::Array(obl.clone()), json["obligations"]));
    }
    if let Some(unmet) = &v.expected.unmet
        && json["unmet"] != Value::Array(unmet.clone())
    {
        problems.push(format!("unmet: expected {}, got {}", Value::Array(unmet.clone()), json["unmet"]));
    }
    if let Some(final_) = v.expected.not_liftable
        && d.not_liftable != final_
    {
        problems.push(format!("not_liftable: expected {final_}, got {}", d.not_liftable));
    }
    problems
}

#[test]
fn every_vector_holds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    files(&root.join("tests/vectors"), &mut paths);
    paths.retain(|p| !p.starts_with(root.join(RIGHTS)) && !p.starts_with(root.join(lifecycle_vectors::LIFECYCLE)));
    let mut engines: BTreeMap<String, Engine> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut per_profile: BTreeMap<String, usize> = BTreeMap::new();
    for path in &paths {
        let name = path.strip_prefix(root).unwrap().display().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        let v: Vector = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{name}: unreadable vector: {e}"));
                continue;
            }
        };
        assert!(!v.description.is_empty() && !v.clause.is_empty(), "{name}: a vector names its clause");
        let engine = engines.entry(v.policy.name()).or_insert_with(|| v.policy.engine(root));
        *per_profile.entry(v.policy.name()).or_default() += 1;
        let request = match Request::from_json(&v.request.to_string()) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{name}: request does not parse: {e}"));
                continue;
            }
        };
        let mut ledger = InMemoryLedger::new();
        ledger.extend(v.consents.iter().cloned()).unwrap();
        let decision = engine.evaluate(&request, &ledger);
        for p in check(&v, &decision) {
            failures.push(format!("{name} ({}): {p}", v.clause));
        }
        // Prepared once, decided against both ledgers: the same decision.
        let prepared = engine.prepare(&request);
        let mut compact = CompactLedger::new();
        compact.extend(v.consents.iter().cloned()).unwrap();
        let ruling = engine.decide(&prepared, &compact);
        // Bound to the engine before its events come: names found by id.
        let mut bound = CompactLedger::new();
        engine.bind_ledger(&mut bound);
        bound.extend(v.consents.iter().cloned()).unwrap();
        if engine.decide(&prepared, &ledger).to_decision() != decision
            || ruling.to_decision() != decision
            || engine.decide(&prepared, &bound).to_decision() != decision
        {
            failures.push(format!(
                "{name}: the prepared request or the compact ledger (bound or not) gives a different decision"
            ));
        }
        // The ruling answers the verdict and the deciding rules without
        // rendering.
        let ids = |it: &mut dyn Iterator<Item = &privacy_engine::RuleId>| it.cloned().collect::<BTreeSet<_>>();
        if ruling.verdict() != decision.verdict || ids(&mut ruling.rule_ids()) != ids(&mut decision.rule_ids()) {
            failures.push(format!("{name}: the ruling's verdict or rule ids differ from the decision's"));
        }
        // The same case through the JSON-lines interface gives the same JSON.
        let line = serde_json::json!({"request": v.request, "consents": v.consents}).to_string();
        let via_line = decide_line(engine, &line).unwrap();
        if via_line.to_json() != decision.to_json() {
            failures.push(format!("{name}: the JSON-lines interface gives a different decision"));
        }
    }
    eprintln!("{} vectors: {per_profile:?}", paths.len());
    assert!(!paths.is_empty(), "no vectors found");
    assert!(failures.is_empty(), "{} of {} vectors fail:\n{}", failures.len(), paths.len(), failures.join("\n"));
}

#[test]
fn every_profile_loads_with_every_warning_acknowledged() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/policies");
    let mut paths = Vec::new();
    files(&dir, &mut paths);
    assert!(paths.len() >= 4, "the four seed profiles are there");
    for p in paths {
        let policy =
            Policy::from_json(&std::fs::read_to_string(&p).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let open = policy.unacknowledged_warnings();
        assert!(open.is_empty(), "{}: {open:#?}", p.display());
        assert!(!policy.notes.is_empty(), "{}: a profile records its readings in `notes`", p.display());
    }
}

#[test]
fn every_rights_vector_holds() {
    let vectors = rights_vectors();
    let mut failures = Vec::new();
    let mut per_seed: BTreeMap<String, usize> = BTreeMap::new();
    let mut per_right: BTreeMap<String, usize> = BTreeMap::new();
    for (name, v, policy) in &vectors {
        *per_seed.entry(v.policy.clone()).or_default() += 1;
        let kind = serde_json::to_value(&v.request.right).unwrap()["kind"].as_str().unwrap().to_owned();
        *per_right.entry(kind).or_default() += 1;
        let case = rights_model::RightsCase {
            policy,
            consents: &v.consents,
            holdings: &v.holdings,
            request: &v.request,
            assume_weekdays: v.assume_weekdays,
        };
        let model = rights_model::answer(&case);
        for p in rights_model::differences(&v.expected, &model) {
            failures.push(format!("{name} ({}): reference model: {p}", v.clause));
        }
        let engine = Engine::new(policy.clone()).unwrap();
        let typed = v.engine_answer(&engine, policy);
        for p in rights_model::differences(&v.expected, &rights_model::comparable(&typed)) {
            failures.push(format!("{name} ({}): engine: {p}", v.clause));
        }
        // The same request as a rights line of the JSON-lines interface
        // gives the same answer.
        match answer_line(&engine, &rights_line(&v.request, &v.holdings, &v.consents, v.assume_weekdays)) {
            Ok(LineOutput::Answer(a)) if *a == typed => {}
            Ok(other) => failures.push(format!("{name}: the JSON-lines interface answers {}", other.to_json())),
            Err(e) => failures.push(format!("{name}: the JSON-lines interface refuses the line: {e}")),
        }
    }
    eprintln!("{} rights vectors: {per_seed:?}; {per_right:?}", vectors.len());
    assert!(vectors.len() >= 40, "at least 40 rights vectors");
    assert!(
        failures.is_empty(),
        "{} of {} rights vectors fail:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}

#[test]
fn every_lifecycle_vector_holds() {
    let vectors = lifecycle_vectors::lifecycle_vectors();
    let mut failures = Vec::new();
    let mut per_seed: BTreeMap<String, usize> = BTreeMap::new();
    let mut per_kind: BTreeMap<String, usize> = BTreeMap::new();
    for l in &vectors {
        let v = &l.vector;
        *per_seed.entry(l.name.split('/').next().unwrap().to_owned()).or_default() += 1;
        *per_kind.entry(v.kind()).or_default() += 1;
        let case = lifecycle_model::LifecycleCase {
            policy: &l.policy,
            doc: &l.doc,
            consents: &v.consents,
            holdings: &v.holdings,
            events: &v.events,
            request: &v.request,
        };
        let model = lifecycle_model::answer(&case);
        for p in lifecycle_model::differences(&v.expected, &model) {
            failures.push(format!("{} ({}): reference model: {p}", l.name, v.clause));
        }
        let engine = Engine::new(l.policy.clone()).unwrap();
        let answer = v.engine_answer(&engine);
        for p in lifecycle_model::differences(&v.expected, &lifecycle_model::comparable(&answer)) {
            failures.push(format!("{} ({}): engine: {p}", l.name, v.clause));
        }
        // The same case as a line of the JSON-lines interface (version 3)
        // gives the same answer.
        match v.line_answer(&engine) {
            Ok(a) if a == answer => {}
            Ok(a) => failures.push(format!("{}: the JSON-lines interface answers {a}", l.name)),
            Err(e) => failures.push(format!("{}: {e}", l.name)),
        }
    }
    eprintln!("{} lifecycle vectors: {per_seed:?}; {per_kind:?}", vectors.len());
    assert!(vectors.len() >= 30, "at least 30 lifecycle vectors");
    assert!(
        failures.is_empty(),
        "{} of {} lifecycle vectors fail:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}
