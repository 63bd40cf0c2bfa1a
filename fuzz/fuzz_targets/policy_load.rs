//! Policy documents from untrusted bytes: `Policy::from_json` never panics,
//! and a policy it accepts compiles (or is refused) and lists its
//! diagnostics without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use privacy_engine::{Engine, Policy};

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else { return };
    if let Ok(policy) = Policy::from_json(json) {
        let _ = policy.diagnostics();
        let _ = Engine::new(policy);
    }
});
