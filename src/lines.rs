//! The JSON-lines interface (version 1) of `examples/evaluate.rs`, in the
//! library so that every caller reads a line the same way.

use serde::Deserialize;

use crate::consent::{ConsentEvent, InMemoryLedger};
use crate::decision::Decision;
use crate::engine::Engine;
use crate::error::Error;
use crate::request::Request;

/// The version of the JSON-lines interface.
pub const LINE_INTERFACE_VERSION: u32 = 1;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    #[serde(default, rename = "id")]
    _id: Option<serde_json::Value>,
    request: serde_json::Value,
    #[serde(default)]
    consents: Vec<serde_json::Value>,
}

/// Decides one line of the JSON-lines interface: a bare request object, or
/// an envelope `{"request": {...}, "consents": [event, ...]}` whose consent
/// events make the line self-contained (an optional `id` is ignored).
///
/// # Errors
///
/// An error of kind [`Request`](crate::ErrorKind::Request) or
/// [`Ledger`](crate::ErrorKind::Ledger) naming the field at fault, never a
/// value from the line.
///
/// # Example
///
/// ```
/// # use privacy_engine::*;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let engine = Engine::new(Policy::from_json(include_str!("../examples/policies/seed-004.json"))?)?;
/// let line = r#"{"action":"collect","subject":{"id":"u","age":30},"categories":["user.contact.phone_number"],"purpose":"registration_login","at":"2024-05-01T10:00:00+08:00"}"#;
/// assert!(decide_line(&engine, line)?.is_permit());
/// assert!(decide_line(&engine, "{").is_err());
/// # Ok(()) }
/// ```
pub fn decide_line(engine: &Engine, line: &str) -> Result<Decision, Error> {
    let value: serde_json::Value = serde_json::from_str(line)
        .map_err(|e| Error::request(format!("line is not valid JSON: column {}", e.column())))?;
    let is_envelope = value.get("request").is_some();
    let (request, consents) = if is_envelope {
        let env: Envelope = serde_json::from_value(value).map_err(|_| {
            Error::request("the line's envelope has fields other than `request`, `consents` and `id`".to_owned())
        })?;
        (env.request, env.consents)
    } else {
        (value, Vec::new())
    };
    let request = Request::from_json(&request.to_string())?;
    let mut ledger = InMemoryLedger::new();
    for (j, event) in consents.into_iter().enumerate() {
        let event: ConsentEvent = serde_json::from_value(event)
            .map_err(|_| Error::ledger(format!("consent event {j} does not fit the consent event format")))?;
        ledger.append(event)?;
    }
    Ok(engine.evaluate(&request, &ledger))
}
