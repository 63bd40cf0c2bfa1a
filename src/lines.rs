//! The JSON-lines interface (version 3) of `examples/evaluate.rs`, in the
//! library so that every caller reads a line the same way.
//!
//! Version 1 lines (a bare request, or an envelope with `request` and
//! `consents`) are read as before; version 2 adds the rights line, an
//! envelope with `rights` (a rights request), `holdings` and `consents`;
//! version 3 the lifecycle line (`lifecycle`, a lifecycle request, with
//! `holdings`, `consents` and the subject's earlier `events`) and the
//! incident line (`incident` and `at`, docs/lifecycle.md's form).

use std::fmt;

use chrono::{DateTime, FixedOffset};

use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, StringDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::calendar::{BeyondData, for_home_region};
use crate::consent::{ConsentEvent, InMemoryLedger};
use crate::decision::Decision;
use crate::engine::Engine;
use crate::error::{Error, ErrorKind};
use crate::incident::{Incident, IncidentAnswer, IncidentRegime};
use crate::lifecycle::{LifecycleAnswer, LifecycleEvent, LifecycleRequest};
use crate::limits::MAX_CATEGORIES_PER_REQUEST;
use crate::request::{Request, parse_json};
use crate::rights::{Holding, RightsAnswer, RightsRequest};

/// The version of the JSON-lines interface: 2 adds rights lines, 3
/// lifecycle and incident lines; every earlier line is read and answered
/// as before.
pub const LINE_INTERFACE_VERSION: u32 = 3;

/// The fields of an envelope; a line whose first key is one of them is an
/// envelope, any other line a bare request.
const ENVELOPE_FIELDS: &[&str] =
    &["id", "request", "consents", "rights", "holdings", "assume_weekdays", "lifecycle", "events", "incident", "at"];

/// A line, read in one pass: the first key tells an envelope from a bare
/// request, and a bare request is read on from that key.
#[allow(clippy::large_enum_variant, reason = "one per line, taken apart at once")]
enum Line {
    /// A request to decide, with the consent events it is decided on.
    Decide { request: Request, consents: Vec<ConsentEvent> },
    /// A rights request to answer.
    Rights(RightsLine),
    /// A lifecycle request to answer.
    Lifecycle(LifecycleLine),
    /// An incident, and the time its duties are asked for.
    Incident { incident: Incident, at: DateTime<FixedOffset> },
    /// An envelope whose fields do not make a line, and why (reported
    /// after reading, so that the reason is not lost in serde's message).
    Mixed(&'static str),
}

/// A rights line: the request, what is held, the consent events, and what
/// to do beyond the calendar's data.
struct RightsLine {
    request: RightsRequest,
    holdings: Vec<Holding>,
    consents: Vec<ConsentEvent>,
    beyond: BeyondData,
}

/// A lifecycle line: the request, what is held, the consent events, and
/// the subject's earlier lifecycle events.
struct LifecycleLine {
    request: LifecycleRequest,
    holdings: Vec<Holding>,
    consents: Vec<ConsentEvent>,
    events: Vec<LifecycleEvent>,
}

/// The fields of an envelope as read, each at most once.
#[derive(Default)]
struct Envelope {
    request: Option<Request>,
    rights: Option<RightsRequest>,
    lifecycle: Option<LifecycleRequest>,
    incident: Option<Incident>,
    consents: Option<Vec<ConsentEvent>>,
    holdings: Option<Vec<Holding>>,
    events: Option<Vec<LifecycleEvent>>,
    assume_weekdays: Option<bool>,
    at: Option<DateTime<FixedOffset>>,
    id: bool,
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
                Ok(Line::Decide { request, consents: Vec::new() })
            }
        }
    }
}

/// Reads an envelope on from its first key, refusing unknown and duplicate
/// fields.
fn envelope<'de, A: MapAccess<'de>>(first: String, mut map: A) -> Result<Line, A::Error> {
    let mut e = Envelope::default();
    let mut key = Some(first);
    while let Some(k) = key {
        let duplicate = match k.as_str() {
            "request" => e.request.replace(map.next_value::<Request>()?).is_some(),
            "rights" => e.rights.replace(map.next_value::<RightsRequest>()?).is_some(),
            "consents" => e.consents.replace(map.next_value::<ConsentEvents>()?.0).is_some(),
            "holdings" => e.holdings.replace(map.next_value::<Vec<Holding>>()?).is_some(),
            "assume_weekdays" => e.assume_weekdays.replace(map.next_value::<bool>()?).is_some(),
            "lifecycle" => e.lifecycle.replace(map.next_value::<LifecycleRequest>()?).is_some(),
            "events" => e.events.replace(map.next_value::<LifecycleEvents>()?.0).is_some(),
            "incident" => e.incident.replace(map.next_value::<Incident>()?).is_some(),
            "at" => e.at.replace(map.next_value::<Time>()?.0).is_some(),
            "id" => std::mem::replace(&mut e.id, map.next_value::<IgnoredAny>().map(|_| true)?),
            other => return Err(de::Error::unknown_field(other, ENVELOPE_FIELDS)),
        };
        if duplicate {
            return Err(de::Error::custom(format_args!("duplicate field `{k}`")));
        }
        key = map.next_key()?;
    }
    e.into_line()
}

impl Envelope {
    /// The line the fields make: one of a request, a rights, a lifecycle
    /// and an incident line, each with only its own fields.
    fn into_line<E: de::Error>(self) -> Result<Line, E> {
        let kinds = [self.request.is_some(), self.rights.is_some(), self.lifecycle.is_some(), self.incident.is_some()];
        if kinds.iter().filter(|k| **k).count() > 1 {
            return Ok(Line::Mixed("a line holds one of `request`, `rights`, `lifecycle` and `incident`"));
        }
        let held = [
            self.consents.is_some(),
            self.holdings.is_some(),
            self.events.is_some(),
            self.assume_weekdays.is_some(),
            self.at.is_some(),
        ];
        // Which of the fields above each kind of line may hold.
        let allowed = |fields: [bool; 5]| held.iter().zip(fields).all(|(h, a)| !h || a);
        let consents = self.consents.unwrap_or_default();
        let holdings = self.holdings.unwrap_or_default();
        if let Some(request) = self.request {
            return Ok(if allowed([true, false, false, false, false]) {
                Line::Decide { request, consents }
            } else {
                Line::Mixed("a request line holds only `request`, `consents` and `id`")
            });
        }
        if let Some(request) = self.rights {
            if !allowed([true, true, false, true, false]) {
                return Ok(Line::Mixed(
                    "a rights line holds only `rights`, `holdings`, `consents`, `assume_weekdays` and `id`",
                ));
            }
            let beyond = match self.assume_weekdays {
                Some(true) => BeyondData::AssumeWeekdays,
                _ => BeyondData::Refuse,
            };
            return Ok(Line::Rights(RightsLine { request, holdings, consents, beyond }));
        }
        if let Some(request) = self.lifecycle {
            if !allowed([true, true, true, false, false]) {
                return Ok(Line::Mixed(
                    "a lifecycle line holds only `lifecycle`, `holdings`, `consents`, `events` and `id`",
                ));
            }
            let events = self.events.unwrap_or_default();
            return Ok(Line::Lifecycle(LifecycleLine { request, holdings, consents, events }));
        }
        if let Some(incident) = self.incident {
            if !allowed([false, false, false, false, true]) {
                return Ok(Line::Mixed("an incident line holds only `incident`, `at` and `id`"));
            }
            return self.at.map(|at| Line::Incident { incident, at }).ok_or_else(|| E::missing_field("at"));
        }
        Err(E::missing_field("request"))
    }
}

/// A line's lifecycle events, at most
/// [`MAX_CONSENT_EVENTS_PER_LINE`](crate::MAX_CONSENT_EVENTS_PER_LINE).
struct LifecycleEvents(Vec<LifecycleEvent>);

impl<'de> Deserialize<'de> for LifecycleEvents {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::limits::lifecycle_events(deserializer).map(LifecycleEvents)
    }
}

/// An RFC 3339 time, read as every time of a request is.
struct Time(DateTime<FixedOffset>);

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::timestamp::deserialize(deserializer).map(Time)
    }
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

/// What one line of the JSON-lines interface gives: a decision for a
/// request line, an answer for a rights, a lifecycle or an incident line.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LineOutput {
    /// The decision on a request (a bare request or a `request` envelope).
    Decision(Decision),
    /// The answer to a rights request (a `rights` envelope).
    Answer(Box<RightsAnswer>),
    /// The answer to a lifecycle request (a `lifecycle` envelope).
    Lifecycle(Box<LifecycleAnswer>),
    /// The duties an incident brings (an `incident` envelope).
    Incident(Box<IncidentAnswer>),
}

impl LineOutput {
    /// The output as one line of JSON: the decision, or the answer.
    pub fn to_json(&self) -> String {
        let answer = match self {
            Self::Decision(decision) => return decision.to_json(),
            Self::Answer(answer) => serde_json::to_string(answer),
            Self::Lifecycle(answer) => serde_json::to_string(answer),
            Self::Incident(answer) => serde_json::to_string(answer),
        };
        answer.unwrap_or_else(|_| String::from("{\"error\":\"unserialisable answer\"}"))
    }
}

/// Decides one line of the JSON-lines interface: a bare request object, or
/// an envelope `{"request": {...}, "consents": [event, ...]}` whose consent
/// events make the line self-contained (an optional `id` is ignored).
///
/// The line is read in one pass, as [`Request::from_json`] reads a request:
/// duplicate keys are refused on every level. A rights line is answered by
/// [`answer_line`], not here.
///
/// # Errors
///
/// An error of kind [`Request`](crate::ErrorKind::Request) with the JSON
/// pointer of the field at fault in [`Error::path`] (e.g.
/// `/consents/0/at`), or of kind [`Ledger`](crate::ErrorKind::Ledger) for
/// an event the ledger refuses; never a value from the line. A rights line
/// is an error of kind [`Request`](crate::ErrorKind::Request).
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
    match read(line)? {
        Line::Decide { request, consents } => Ok(engine.evaluate(&request, &ledger(consents)?)),
        _ => Err(Error::request(
            "a rights, lifecycle or incident line is answered, not decided: read it with `answer_line`".to_owned(),
        )),
    }
}

/// Answers one line of the JSON-lines interface, version 3: every line
/// [`decide_line`] decides gives its [`LineOutput::Decision`], and a rights
/// line `{"rights": RightsRequest, "holdings": [Holding, ...], "consents":
/// [event, ...], "assume_weekdays": false}` (all but `rights` optional; an
/// `id` is ignored) gives the [`Engine::answer`] to it as
/// [`LineOutput::Answer`]. A lifecycle line `{"lifecycle":
/// LifecycleRequest, "holdings": [...], "consents": [...], "events":
/// [LifecycleEvent, ...]}` gives [`Engine::lifecycle`]'s answer as
/// [`LineOutput::Lifecycle`]; an incident line `{"incident": Incident,
/// "at": time}` gives [`Engine::incident`]'s under
/// [`IncidentRegime::pipl`] as [`LineOutput::Incident`]. A line holds one
/// kind and only its kind's fields.
///
/// The deadline is counted on the calendar of the policy's home region
/// (`CN`: [`ChinaCalendar`](crate::ChinaCalendar)); for a region the
/// library has no calendar for, on [`WeekdayCalendar`](crate::WeekdayCalendar)
/// with the assumption [`NoCalendarForRegion`](crate::Assumption::NoCalendarForRegion)
/// in the deadline. A deadline past the calendar's data is left out with
/// its reason in `deadline_error`, unless `assume_weekdays` is true: then
/// weekdays are counted beyond the data, and the deadline says so.
///
/// # Errors
///
/// As [`decide_line`]; a rights line with more than
/// [`MAX_CATEGORIES_PER_REQUEST`](crate::MAX_CATEGORIES_PER_REQUEST)
/// holdings is an error of kind [`Request`](crate::ErrorKind::Request) at
/// `/holdings`.
///
/// # Example
///
/// ```
/// # use privacy_engine::*;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let engine = Engine::from_json(include_str!("../examples/policies/seed-004.json"))?;
/// let line = r#"{"rights":{"case":"6f9619ff-8b86-d011-b42d-00c04fc964ff","subject":"u","right":{"kind":"access"},
///   "received":"2025-09-25T10:00:00+08:00","at":"2025-09-25T10:00:00+08:00","identity":"verified"},
///   "holdings":[{"category":"user.contact.phone_number","origin":"provided","purposes":["registration_login"]}]}"#;
/// let LineOutput::Answer(answer) = answer_line(&engine, line)? else { return Err("not an answer".into()) };
/// assert_eq!(answer.outcome, AnswerOutcome::Accepted);
/// assert_eq!(answer.deadline.map(|d| d.date.to_string()).as_deref(), Some("2025-10-22"));
/// # Ok(()) }
/// ```
pub fn answer_line(engine: &Engine, line: &str) -> Result<LineOutput, Error> {
    match read(line)? {
        Line::Decide { request, consents } => Ok(LineOutput::Decision(engine.evaluate(&request, &ledger(consents)?))),
        Line::Rights(rights) => answer(engine, rights).map(|a| LineOutput::Answer(Box::new(a))),
        Line::Lifecycle(line) => lifecycle(engine, line).map(|a| LineOutput::Lifecycle(Box::new(a))),
        Line::Incident { incident, at } => {
            Ok(LineOutput::Incident(Box::new(engine.incident(&incident, at, &IncidentRegime::pipl()))))
        }
        Line::Mixed(why) => Err(Error::request(why.to_owned())),
    }
}

/// Reads a line, refusing an envelope whose fields do not make one.
fn read(line: &str) -> Result<Line, Error> {
    match parse_json(line, "line")? {
        Line::Mixed(why) => Err(Error::request(why.to_owned())),
        line => Ok(line),
    }
}

/// Refuses more holdings than a line may hold.
fn check_holdings(holdings: &[Holding]) -> Result<(), Error> {
    if holdings.len() > MAX_CATEGORIES_PER_REQUEST {
        let message =
            format!("the line holds {} holdings, over the limit of {MAX_CATEGORIES_PER_REQUEST}", holdings.len());
        return Err(Error::over_limit(ErrorKind::Request, "/holdings".to_owned(), message));
    }
    Ok(())
}

/// The answer to a lifecycle line.
fn lifecycle(engine: &Engine, line: LifecycleLine) -> Result<LifecycleAnswer, Error> {
    let LifecycleLine { request, holdings, consents, events } = line;
    check_holdings(&holdings)?;
    Ok(engine.lifecycle(&request, &holdings, &events, &ledger(consents)?))
}

/// The answer to a rights line, on the home region's calendar.
fn answer(engine: &Engine, line: RightsLine) -> Result<RightsAnswer, Error> {
    let RightsLine { request, holdings, consents, beyond } = line;
    check_holdings(&holdings)?;
    let (calendar, assumption) = for_home_region(&engine.policy().settings.home_region);
    let mut answer = engine.answer(&request, &holdings, &ledger(consents)?, calendar, beyond);
    if let (Some(due), Some(assumption)) = (answer.deadline.as_mut(), assumption) {
        due.assumptions.insert(0, assumption);
    }
    Ok(answer)
}

/// A ledger of a line's consent events.
fn ledger(consents: Vec<ConsentEvent>) -> Result<InMemoryLedger, Error> {
    let mut ledger = InMemoryLedger::new();
    for event in consents {
        // A history handed in whole, as of the request's time: no horizon
        // or skew (see `InMemoryLedger::append`); events after the request's
        // time are kept and do not count.
        ledger.append(event)?;
    }
    Ok(ledger)
}
