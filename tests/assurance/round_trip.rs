//! Every serialised type survives JSON and back unchanged.

use privacy_engine::{ConsentEvent, Decision, Engine, Policy, Request};
use proptest::prelude::*;

use crate::differential::ledger_of;
use crate::generate;

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(
    value: &T,
) -> Result<(), TestCaseError> {
    let json = serde_json::to_string(value).unwrap();
    let back: T = serde_json::from_str(&json).map_err(|e| TestCaseError::fail(format!("{e}: {json}")))?;
    prop_assert_eq!(&back, value);
    prop_assert_eq!(serde_json::to_string(&back).unwrap(), json);
    Ok(())
}

proptest! {
    #![proptest_config(crate::property_config(module_path!()))]

    #[test]
    fn policies_requests_decisions_and_events_round_trip((policy, events, requests) in generate::case()) {
        round_trip::<Policy>(&policy)?;
        // The policy's own parser (with validation) reads what serde wrote.
        prop_assert_eq!(&Policy::from_json(&serde_json::to_string(&policy).unwrap()).unwrap(), &policy);
        for e in &events {
            round_trip::<ConsentEvent>(e)?;
        }
        let engine = Engine::new(policy).unwrap();
        let ledger = ledger_of(&events);
        for req in &requests {
            round_trip::<Request>(req)?;
            round_trip::<Decision>(&engine.evaluate(req, &ledger))?;
        }
    }
}
