//! The JSON-lines interface (version 1) of `examples/evaluate.rs`, in the
//! library so that every caller reads a line the same way.

use std::fmt;

use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, StringDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::consent::{ConsentEvent, InMemoryLedger};
use crate::decision::Decision;
use crate::engine::Engine;
use crate::error::Error;
use crate::request::{Request, parse_json};

/// The version of the JSON-lines interface.
pub const LINE_INTERFACE_VERSION: u32 = 1;

/// The fields of an envelope; a line whose first key is one of them is an
/// envelope, any other line a bare request.
const ENVELOPE_FIELDS: &[&str] = &["id", "request", "consents"];

/// A line, read in one pass: the first key tells an envelope from a bare
/// request, and a bare request is read on from that key.
struct Line {
    request: Request,
    consents: Vec<ConsentEvent>,
}

impl<'de> Deserialize<'de> for Line {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(LineVisitor)
    }
}

struct LineVisitor;

impl<'de> Visitor<'de> for LineVisitor {
    type Value = Line;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a request or an envelope object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Line, A::Error> {
        let first: Option<String> = map.next_key()?;
        match first {
            Some(key) if ENVELOPE_FIELDS.contains(&key.as_str()) => envelope(key, map),
            first => {
                let request = Request::deserialize(MapAccessDeserializer::new(Replay { first, rest: map }))?;
                Ok(Line { request, consents: Vec::new() })
            }
        }
    }
}

/// Reads an envelope on from its first key, refusing unknown and duplicate
/// fields.
fn envelope<'de, A: MapAccess<'de>>(first: String, mut map: A) -> Result<Line, A::Error> {
    let (mut request, mut consents, mut id) = (None, None, false);
    let mut key = Some(first);
    while let Some(k) = key {
        let duplicate = match k.as_str() {
            "request" => request.replace(map.next_value::<Request>()?).is_some(),
            "consents" => consents.replace(map.next_value::<ConsentEvents>()?.0).is_some(),
            "id" => std::mem::replace(&mut id, map.next_value::<IgnoredAny>().map(|_| true)?),
            other => return Err(de::Error::unknown_field(other, ENVELOPE_FIELDS)),
        };
        if duplicate {
            return Err(de::Error::custom(format_args!("duplicate field `{k}`")));
        }
        key = map.next_key()?;
    }
    let request = request.ok_or_else(|| de::Error::missing_field("request"))?;
    Ok(Line { request, consents: consents.unwrap_or_default() })
}

/// A line's consent events, at most
/// [`MAX_CONSENT_EVENTS_PER_LINE`](crate::MAX_CONSENT_EVENTS_PER_LINE).
struct ConsentEvents(Vec<ConsentEvent>);

impl<'de> Deserialize<'de> for ConsentEvents {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::limits::consent_events(deserializer).map(ConsentEvents)
    }
}

/// A map whose first key has been read already: hands that key out again,
/// then the rest.
struct Replay<A> {
    first: Option<String>,
    rest: A,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Replay<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        match self.first.take() {
            Some(key) => seed.deserialize(StringDeserializer::new(key)).map(Some),
            None => self.rest.next_key_seed(seed),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.rest.next_value_seed(seed)
    }
}

/// Decides one line of the JSON-lines interface: a bare request object, or
/// an envelope `{"request": {...}, "consents": [event, ...]}` whose consent
/// events make the line self-contained (an optional `id` is ignored).
///
/// The line is read in one pass, as [`Request::from_json`] reads a request:
/// duplicate keys are refused on every level.
///
/// # Errors
///
/// An error of kind [`Request`](crate::ErrorKind::Request) with the JSON
/// pointer of the field at fault in [`Error::path`] (e.g.
/// `/consents/0/at`), or of kind [`Ledger`](crate::ErrorKind::Ledger) for
/// an event the ledger refuses; never a value from the line.
///
/// # Example
///
/// ```
/// # use privacy_engine::*;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let engine = Engine::from_json(include_str!("../examples/policies/seed-004.json"))?;
/// let line = r#"{"action":"collect","subject":{"id":"u","age":30},"categories":["user.contact.phone_number"],"purpose":"registration_login","at":"2024-05-01T10:00:00+08:00"}"#;
/// assert!(decide_line(&engine, line)?.is_permit());
/// assert!(decide_line(&engine, "{").is_err());
/// # Ok(()) }
/// ```
pub fn decide_line(engine: &Engine, line: &str) -> Result<Decision, Error> {
    let Line { request, consents } = parse_json(line, "line")?;
    let mut ledger = InMemoryLedger::new();
    for event in consents {
        // A history handed in whole, as of the request's time: no horizon
        // or skew (see `InMemoryLedger::append`); events after the request's
        // time are kept and do not count.
        ledger.append(event)?;
    }
    Ok(engine.evaluate(&request, &ledger))
}
