//! The consent events of an envelope line of the JSON-lines interface: the
//! input is the inside of the `consents` array of an envelope around a
//! fixed seed-004 request that needs separate consent (face verification).
//! `decide_line` answers a decision or an error, never a panic, and a
//! decision's JSON stays small: the request is fixed, so however many
//! events the line carries, the output is bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use privacy_engine_fuzz::seed_004_engine;

const REQUEST: &str = r#"{"action":"collect","subject":{"id":"u-2","age":30},"categories":["user.biometric.face"],"purpose":"face_verification","at":"2024-05-01T10:00:00+08:00"}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(events) = std::str::from_utf8(data) else { return };
    let line = format!(r#"{{"request":{REQUEST},"consents":[{events}]}}"#);
    if let Ok(decision) = privacy_engine::decide_line(seed_004_engine(), &line) {
        let json = decision.to_json();
        assert!(json.len() < 16 * 1024 + 4 * events.len(), "a decision of {} bytes", json.len());
    }
});
