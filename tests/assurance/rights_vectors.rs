//! The rights vectors (`tests/vectors/rights/<seed>/*.json`, form in
//! `tests/vectors/README.md`), read for the vectors' harness and the
//! differential test.

use std::path::{Path, PathBuf};

use privacy_engine::{BeyondData, ConsentEvent, Engine, InMemoryLedger, Policy, RightsAnswer};
use serde::Deserialize;
use serde_json::Value;

/// Where the rights vectors are, from the crate's root.
pub(crate) const RIGHTS: &str = "tests/vectors/rights";

/// The `.json` files under `dir`, in path order.
pub(crate) fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

/// A rights vector: a policy, consents, holdings and a rights request, with
/// the expected answer (see `tests/vectors/README.md`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RightsVector {
    pub(crate) description: String,
    pub(crate) clause: String,
    pub(crate) policy: String,
    #[serde(default)]
    pub(crate) consents: Vec<ConsentEvent>,
    #[serde(default)]
    pub(crate) holdings: Vec<privacy_engine::Holding>,
    pub(crate) request: privacy_engine::RightsRequest,
    #[serde(default)]
    pub(crate) assume_weekdays: bool,
    pub(crate) expected: Value,
}

/// The rights vectors, each read and checked for its form.
pub(crate) fn rights_vectors() -> Vec<(String, RightsVector, Policy)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    files(&root.join(RIGHTS), &mut paths);
    paths
        .iter()
        .map(|path| {
            let name = path.strip_prefix(root.join(RIGHTS)).unwrap().display().to_string();
            let v: RightsVector = serde_json::from_str(&std::fs::read_to_string(path).unwrap())
                .unwrap_or_else(|e| panic!("{name}: unreadable vector: {e}"));
            assert!(!v.description.is_empty() && !v.clause.is_empty(), "{name}: a vector names its clause");
            let fields = ["outcome", "items", "duties", "deadline", "unavailable"];
            let expected = v.expected.as_object().unwrap_or_else(|| panic!("{name}: `expected` is an object"));
            assert!(expected.contains_key("outcome"), "{name}: `expected.outcome` is required");
            assert!(expected.keys().all(|k| fields.contains(&k.as_str())), "{name}: unknown field in `expected`");
            let file = root.join("examples/policies").join(format!("{}.json", v.policy));
            let policy = Policy::from_json(&std::fs::read_to_string(&file).unwrap()).unwrap();
            (name, v, policy)
        })
        .collect()
}

impl RightsVector {
    /// The engine's answer, on the policy's home region's calendar, with
    /// the vector's consents in an in-memory ledger.
    pub(crate) fn engine_answer(&self, engine: &Engine, policy: &Policy) -> RightsAnswer {
        let calendar = privacy_engine::calendar_for_region(&policy.settings.home_region).unwrap();
        let beyond = if self.assume_weekdays { BeyondData::AssumeWeekdays } else { BeyondData::Refuse };
        let mut ledger = InMemoryLedger::new();
        ledger.extend(self.consents.iter().cloned()).unwrap();
        engine.answer(&self.request, &self.holdings, &ledger, calendar, beyond)
    }
}

/// A rights line of the JSON-lines interface (version 2).
pub(crate) fn rights_line(
    request: &privacy_engine::RightsRequest,
    holdings: &[privacy_engine::Holding],
    consents: &[ConsentEvent],
    assume_weekdays: bool,
) -> String {
    serde_json::json!({
        "rights": request,
        "holdings": holdings,
        "consents": consents,
        "assume_weekdays": assume_weekdays,
    })
    .to_string()
}
