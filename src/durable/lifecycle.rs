//! How a durable store keeps a lifecycle event: one row per event, its
//! body the event's JSON without the id and the subject (which the row's
//! own columns hold, the subject in clear or sealed as the consent records
//! keep it). The rules of the events are `lifecycle::check_event`'s.

use serde_json::Value;
use uuid::Uuid;

use crate::error::Error;
use crate::ids::SubjectId;
use crate::lifecycle::LifecycleEvent;

/// The body a store keeps for `event`: its JSON without `id` and
/// `subject`.
pub(crate) fn event_body(event: &LifecycleEvent) -> Result<String, Error> {
    let refuse = |_| Error::store(format!("cannot encode lifecycle event `{}`", event.id));
    let mut value = serde_json::to_value(event).map_err(refuse)?;
    if let Some(object) = value.as_object_mut() {
        object.remove("id");
        object.remove("subject");
    }
    serde_json::to_string(&value).map_err(refuse)
}

/// The event `id` of `subject` a stored `body` holds. The error names the
/// event, never a value of the row.
pub(crate) fn event_from_body(id: Uuid, subject: &SubjectId, body: &str) -> Result<LifecycleEvent, Error> {
    let refuse = || Error::store(format!("lifecycle event `{id}` cannot be decoded"));
    let mut value: Value = serde_json::from_str(body).map_err(|_| refuse())?;
    let object = value.as_object_mut().ok_or_else(refuse)?;
    object.insert("id".to_owned(), id.to_string().into());
    object.insert("subject".to_owned(), subject.as_str().into());
    serde_json::from_value(value).map_err(|_| refuse())
}
