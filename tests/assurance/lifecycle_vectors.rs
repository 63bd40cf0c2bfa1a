//! The lifecycle vectors (`tests/vectors/lifecycle/<seed>/*.json`, form in
//! `tests/vectors/README.md`), read for the vectors' harness and the
//! differential test.

use std::path::Path;

use privacy_engine::{
    ConsentEvent, Engine, Holding, InMemoryLedger, IncidentRegime, IncidentRequest, LifecycleEvent, LifecycleRequest,
    LineOutput, Policy, answer_line,
};
use serde::Deserialize;
use serde_json::Value;

use crate::rights_vectors::files;

/// Where the lifecycle vectors are, from the crate's root.
pub(crate) const LIFECYCLE: &str = "tests/vectors/lifecycle";

/// A lifecycle vector: a policy, consents, holdings, earlier lifecycle
/// events and a lifecycle or incident request, with the expected answer.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LifecycleVector {
    pub(crate) description: String,
    pub(crate) clause: String,
    /// `seed-004`, or a path under `tests/data/` for a test policy.
    pub(crate) policy: String,
    #[serde(default)]
    pub(crate) consents: Vec<ConsentEvent>,
    #[serde(default)]
    pub(crate) holdings: Vec<Holding>,
    #[serde(default)]
    pub(crate) events: Vec<LifecycleEvent>,
    pub(crate) request: Value,
    pub(crate) expected: Value,
}

impl LifecycleVector {
    /// Whether the request is an incident (else a lifecycle request).
    pub(crate) fn is_incident(&self) -> bool {
        self.request.get("incident").is_some()
    }

    /// The engine's answer as JSON: `Engine::incident` under PIPL's regime
    /// for an incident, `Engine::lifecycle` with the vector's holdings,
    /// events and consents (in an in-memory ledger) otherwise.
    pub(crate) fn engine_answer(&self, engine: &Engine) -> Value {
        if self.is_incident() {
            let r: IncidentRequest = serde_json::from_value(self.request.clone()).unwrap();
            return serde_json::to_value(engine.incident(&r.incident, r.at, &IncidentRegime::pipl())).unwrap();
        }
        let r: LifecycleRequest = serde_json::from_value(self.request.clone()).unwrap();
        let mut ledger = InMemoryLedger::new();
        ledger.extend(self.consents.iter().cloned()).unwrap();
        serde_json::to_value(engine.lifecycle(&r, &self.holdings, &self.events, &ledger)).unwrap()
    }

    /// The case as a line of the JSON-lines interface (version 3): an
    /// incident line is the incident request itself; a lifecycle line
    /// carries the request, the holdings, the consents and the events.
    pub(crate) fn line(&self) -> String {
        if self.is_incident() {
            return self.request.to_string();
        }
        serde_json::json!({
            "lifecycle": self.request, "holdings": self.holdings, "consents": self.consents, "events": self.events,
        })
        .to_string()
    }

    /// The answer of the JSON-lines interface to [`Self::line`], as JSON;
    /// an error names what it gave instead.
    pub(crate) fn line_answer(&self, engine: &Engine) -> Result<Value, String> {
        match answer_line(engine, &self.line()) {
            Ok(LineOutput::Lifecycle(a)) => Ok(serde_json::to_value(a).unwrap()),
            Ok(LineOutput::Incident(a)) => Ok(serde_json::to_value(a).unwrap()),
            Ok(other) => Err(format!("the JSON-lines interface answers {}", other.to_json())),
            Err(e) => Err(format!("the JSON-lines interface refuses the line: {e}")),
        }
    }

    /// The kind the vector is counted under: `cancel`, `terminate`,
    /// `inactive`, `reactivate` or `incident`.
    pub(crate) fn kind(&self) -> String {
        if self.is_incident() { "incident".to_owned() } else { self.request["lifecycle"].as_str().unwrap().to_owned() }
    }
}

/// A lifecycle vector with its policy, as the crate reads it and as its
/// JSON document.
pub(crate) struct Loaded {
    pub(crate) name: String,
    pub(crate) vector: LifecycleVector,
    pub(crate) policy: Policy,
    pub(crate) doc: Value,
}

/// The file of a vector's `policy`: a seed profile of `examples/policies/`
/// or a test policy under `tests/data/`.
pub(crate) fn policy_file(root: &Path, policy: &str) -> std::path::PathBuf {
    let seed = root.join("examples/policies").join(format!("{policy}.json"));
    if seed.exists() { seed } else { root.join("tests/data").join(policy) }
}

/// The lifecycle vectors, each read and checked for its form.
pub(crate) fn lifecycle_vectors() -> Vec<Loaded> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    files(&root.join(LIFECYCLE), &mut paths);
    paths
        .iter()
        .map(|path| {
            let name = path.strip_prefix(root.join(LIFECYCLE)).unwrap().display().to_string();
            let vector: LifecycleVector = serde_json::from_str(&std::fs::read_to_string(path).unwrap())
                .unwrap_or_else(|e| panic!("{name}: unreadable vector: {e}"));
            assert!(!vector.description.is_empty() && !vector.clause.is_empty(), "{name}: a vector names its clause");
            let expected = vector.expected.as_object().unwrap_or_else(|| panic!("{name}: `expected` is an object"));
            let (required, fields): (&str, &[&str]) = if vector.is_incident() {
                ("duties", &["duties", "contents", "skipped"])
            } else {
                (
                    "outcome",
                    &[
                        "outcome",
                        "before",
                        "immediate",
                        "categories",
                        "end_consents",
                        "ask_again",
                        "notice_short_by_days",
                        "reason",
                    ],
                )
            };
            assert!(expected.contains_key(required), "{name}: `expected.{required}` is required");
            assert!(expected.keys().all(|k| fields.contains(&k.as_str())), "{name}: unknown field in `expected`");
            let text = std::fs::read_to_string(policy_file(root, &vector.policy)).unwrap();
            let policy = Policy::from_json(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let doc = serde_json::from_str(&text).unwrap();
            Loaded { name, vector, policy, doc }
        })
        .collect()
}
