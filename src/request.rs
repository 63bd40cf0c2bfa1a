//! What an app asks the engine: an action on categories, for a purpose, to a
//! recipient, at a time, for a subject.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind};
use crate::ids::{PurposeId, RecipientId, SubjectId};
use crate::limits;
use crate::policy::{Action, DataState, Evidence, Ground, pointer};
use crate::taxonomy::CategoryKey;

/// The oldest age a decision accepts: a stated age above it, or a birth
/// date that gives one, is denied with `builtin.invalid_age` (the engine
/// checks it once, whichever way the request was made).
pub const MAX_AGE: u8 = 150;

/// A request for a decision.
///
/// # Example
///
/// ```
/// use privacy_engine::{Action, Request};
/// let req = Request::from_json(r#"{
///     "action": "collect",
///     "subject": {"id": "u-1", "age": 30},
///     "categories": ["user.contact.phone_number"],
///     "purpose": "registration",
///     "at": "2024-05-01T10:00:00+08:00"
/// }"#)?;
/// assert_eq!(req.action, Action::Collect);
/// # Ok::<(), privacy_engine::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Request {
    /// What the app wants to do.
    pub action: Action,
    /// Whom the data is about.
    pub subject: Subject,
    /// The categories concerned; the request is permitted only if every one
    /// is. At most [`MAX_CATEGORIES_PER_REQUEST`](crate::MAX_CATEGORIES_PER_REQUEST).
    #[serde(deserialize_with = "crate::limits::categories")]
    pub categories: Vec<CategoryKey>,
    /// The purpose. Needed by every action but retain, delete and anonymise.
    #[serde(default, deserialize_with = "crate::limits::optional_id", skip_serializing_if = "Option::is_none")]
    pub purpose: Option<PurposeId>,
    /// The recipient, for share, entrust, transfer and cross-border (and a
    /// disclosure to a named party).
    #[serde(default, deserialize_with = "crate::limits::optional_id", skip_serializing_if = "Option::is_none")]
    pub recipient: Option<RecipientId>,
    /// The state the data is in.
    #[serde(default = "identifiable", skip_serializing_if = "is_identifiable")]
    pub data_state: DataState,
    /// Whether non-personal data is linked to an identity (it is then
    /// personal data for as long as it stays linked).
    #[serde(default, skip_serializing_if = "is_false")]
    pub linked_to_identity: bool,
    /// A ground claimed for processing without consent, with its evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<ClaimedException>,
    /// Where the data goes, for a cross-border transfer (defaults to the
    /// recipient's region).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_region: Option<String>,
    /// When the processing happens.
    #[serde(deserialize_with = "crate::timestamp::deserialize")]
    pub at: DateTime<FixedOffset>,
    /// The events retention runs from.
    #[serde(default, skip_serializing_if = "RecordEvents::is_empty")]
    pub events: RecordEvents,
}

fn identifiable() -> DataState {
    DataState::Identifiable
}

fn is_identifiable(s: &DataState) -> bool {
    *s == DataState::Identifiable
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The data subject as the request describes them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Subject {
    /// An opaque id chosen by the caller: not empty or blank, and free of
    /// control characters.
    #[serde(deserialize_with = "subject_id")]
    pub id: SubjectId,
    /// The stated age in years.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age: Option<u8>,
    /// The birth date; when given, it overrides the stated age.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<NaiveDate>,
    /// Where the subject is, e.g. `CN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Whether the age comes from a real-name verification.
    #[serde(default, skip_serializing_if = "is_false")]
    pub real_name_verified: bool,
}

impl Subject {
    /// A subject known only by id (age unknown).
    pub fn new(id: impl Into<SubjectId>) -> Self {
        Self { id: id.into(), age: None, birth_date: None, region: None, real_name_verified: false }
    }

    /// Sets the stated age in years.
    pub fn age(mut self, age: u8) -> Self {
        self.age = Some(age);
        self
    }

    /// Sets the birth date, which overrides the stated age.
    pub fn birth_date(mut self, date: NaiveDate) -> Self {
        self.birth_date = Some(date);
        self
    }

    /// Sets where the subject is, e.g. `CN`.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Sets whether the age comes from a real-name verification.
    pub fn real_name_verified(mut self, verified: bool) -> Self {
        self.real_name_verified = verified;
        self
    }
}

impl ClaimedException {
    /// A ground claimed with the evidence in hand.
    pub fn new(ground: Ground, evidence: Vec<Evidence>) -> Self {
        Self { ground, evidence }
    }
}

impl LegalHold {
    /// A hold from `since`, until `until` if known.
    pub fn new(since: DateTime<FixedOffset>, until: Option<DateTime<FixedOffset>>) -> Self {
        Self { since, until }
    }
}

/// A ground claimed for processing without consent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ClaimedException {
    /// The ground.
    pub ground: Ground,
    /// The evidence in hand.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
}

/// The times of the events retention periods run from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RecordEvents {
    /// When the data was collected.
    #[serde(
        default,
        deserialize_with = "crate::timestamp::deserialize_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub collected: Option<DateTime<FixedOffset>>,
    /// When the transaction completed.
    #[serde(
        default,
        deserialize_with = "crate::timestamp::deserialize_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub transaction_completed: Option<DateTime<FixedOffset>>,
    /// When the account was cancelled.
    #[serde(
        default,
        deserialize_with = "crate::timestamp::deserialize_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub account_cancelled: Option<DateTime<FixedOffset>>,
    /// When the data was last used.
    #[serde(
        default,
        deserialize_with = "crate::timestamp::deserialize_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_used: Option<DateTime<FixedOffset>>,
    /// When the purpose was fulfilled.
    #[serde(
        default,
        deserialize_with = "crate::timestamp::deserialize_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub purpose_fulfilled: Option<DateTime<FixedOffset>>,
    /// A legal hold on the data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_hold: Option<LegalHold>,
    /// A deadline set outside the policy (a contract, an order) until which
    /// the data must be kept: deleting or anonymising it earlier is denied.
    /// Compared with the request's time to the second, not rounded to a
    /// calendar day as retention periods are.
    #[serde(
        default,
        deserialize_with = "crate::timestamp::deserialize_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub retain_until: Option<DateTime<FixedOffset>>,
}

impl RecordEvents {
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The time of a trigger event, if it happened.
    pub fn time_of(&self, trigger: crate::policy::Trigger) -> Option<DateTime<FixedOffset>> {
        use crate::policy::Trigger as T;
        match trigger {
            T::Collected => self.collected,
            T::TransactionCompleted => self.transaction_completed,
            T::AccountCancelled => self.account_cancelled,
            T::LastUsed => self.last_used,
            T::PurposeFulfilled => self.purpose_fulfilled,
        }
    }
}

/// A legal hold: while it lasts, only storage and security are permitted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct LegalHold {
    /// When it started.
    #[serde(deserialize_with = "crate::timestamp::deserialize")]
    pub since: DateTime<FixedOffset>,
    /// When it ends, if known.
    #[serde(
        default,
        deserialize_with = "crate::timestamp::deserialize_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub until: Option<DateTime<FixedOffset>>,
}

impl Request {
    /// A request with the given action, subject, categories and time; the
    /// other fields empty.
    pub fn new(action: Action, subject: Subject, categories: Vec<CategoryKey>, at: DateTime<FixedOffset>) -> Self {
        Self {
            action,
            subject,
            categories,
            purpose: None,
            recipient: None,
            data_state: DataState::Identifiable,
            linked_to_identity: false,
            exception: None,
            destination_region: None,
            at,
            events: RecordEvents::default(),
        }
    }

    /// Sets the purpose.
    pub fn purpose(mut self, purpose: impl Into<PurposeId>) -> Self {
        self.purpose = Some(purpose.into());
        self
    }

    /// Sets the recipient.
    pub fn recipient(mut self, recipient: impl Into<RecipientId>) -> Self {
        self.recipient = Some(recipient.into());
        self
    }

    /// Sets the state the data is in.
    pub fn data_state(mut self, state: DataState) -> Self {
        self.data_state = state;
        self
    }

    /// Sets whether non-personal data is linked to an identity.
    pub fn linked_to_identity(mut self, linked: bool) -> Self {
        self.linked_to_identity = linked;
        self
    }

    /// Claims a ground for processing without consent.
    pub fn exception(mut self, exception: ClaimedException) -> Self {
        self.exception = Some(exception);
        self
    }

    /// Sets where the data goes, for a cross-border transfer.
    pub fn destination_region(mut self, region: impl Into<String>) -> Self {
        self.destination_region = Some(region.into());
        self
    }

    /// Sets the events retention runs from.
    pub fn events(mut self, events: RecordEvents) -> Self {
        self.events = events;
        self
    }

    /// Parses a request from JSON.
    ///
    /// # Errors
    ///
    /// An error of kind [`Request`](crate::ErrorKind::Request) with the path
    /// of the field at fault. The message never repeats a value from the
    /// request (a birth date, an id): it names the field and what was
    /// expected.
    pub fn from_json(json: &str) -> Result<Request, Error> {
        parse_json(json, "request")
    }
}

/// Parses `json`, a whole document of one request (`what` names it in
/// errors: `request`, `line`), the one way every request is read: one pass,
/// duplicate keys refused (every struct of the format refuses them), nothing
/// after the value. An error has the JSON pointer of the field at fault.
///
/// # Errors
///
/// An error of kind [`Request`](crate::ErrorKind::Request).
pub(crate) fn parse_json<T: DeserializeOwned>(json: &str, what: &str) -> Result<T, Error> {
    if let Some(message) = limits::oversized(what, json.len(), limits::MAX_LINE_BYTES) {
        return Err(Error::over_limit(ErrorKind::Request, String::new(), message));
    }
    let de = &mut serde_json::Deserializer::from_str(json);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = pointer(e.path());
        Error::request_format(what, path, e.into_inner())
    })?;
    de.end().map_err(|e| Error::request_format(what, String::new(), e))?;
    Ok(value)
}

/// Deserialises a subject id, the one reading of it in a request and a
/// consent event: not empty or blank, no control character (a NUL, a line
/// break), at most [`MAX_ID_BYTES`](crate::MAX_ID_BYTES).
pub(crate) fn subject_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SubjectId, D::Error> {
    let id = String::deserialize(d)?;
    if id.trim().is_empty() || id.chars().any(char::is_control) {
        return Err(serde::de::Error::custom("a subject id must not be empty or blank, nor hold a control character"));
    }
    if let Some(message) = limits::id_too_long("the subject id", &id) {
        return Err(serde::de::Error::custom(message));
    }
    Ok(SubjectId::from(id))
}
