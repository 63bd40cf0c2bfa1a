//! One line of the JSON-lines interface against the seed-004 engine:
//! `decide_line` answers a decision or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use privacy_engine_fuzz::seed_004_engine;

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else { return };
    if let Ok(decision) = privacy_engine::decide_line(seed_004_engine(), line) {
        let _ = decision.to_json();
    }
});
