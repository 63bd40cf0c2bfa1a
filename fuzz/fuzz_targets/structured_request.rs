//! Requests built field by field (undeclared ids, junk, ages 0..=255,
//! birth dates and times at chrono's ends) against the seed-004 engine and
//! a generated consent history: `evaluate` never panics, every list of the
//! decision is sorted and free of duplicates, the same inputs give the
//! same bytes, and the JSON reads back as the same decision.
#![no_main]

use libfuzzer_sys::fuzz_target;
use privacy_engine::{Decision, InMemoryLedger};
use privacy_engine_fuzz::{ArbRequest, assert_canonical, seed_004_engine};

fuzz_target!(|input: ArbRequest| {
    let request = input.request();
    let mut ledger = InMemoryLedger::new();
    for e in input.consents.iter().take(8) {
        let _ = ledger.append(e.get());
    }
    let engine = seed_004_engine();
    let decision = engine.evaluate(&request, &ledger);
    assert_canonical(&decision);
    let json = decision.to_json();
    assert_eq!(json, engine.evaluate(&request, &ledger).to_json(), "same inputs, different bytes");
    let back: Decision = serde_json::from_str(&json).expect("a decision's JSON reads back");
    assert_eq!(back, decision, "a decision's JSON reads back as another decision");
});
