//! How a durable store keeps a rights-request case: one row per step, its
//! body the step's JSON without the case and the subject (which the case's
//! own row holds, the subject in clear or sealed as the consent records
//! keep it). The rules of the steps are `rights::check_step`'s.

use serde_json::Value;

use crate::error::Error;
use crate::ids::SubjectId;
use crate::rights::{CaseEvent, CaseId};

/// The body a store keeps for `step`: its JSON without `case` and
/// `subject`.
pub(crate) fn step_body(step: &CaseEvent) -> Result<String, Error> {
    let refuse = |_| Error::store(format!("cannot encode a step of case `{}`", step.case.0));
    let mut value = serde_json::to_value(step).map_err(refuse)?;
    if let Some(object) = value.as_object_mut() {
        object.remove("case");
        object.remove("subject");
    }
    serde_json::to_string(&value).map_err(refuse)
}

/// The step a stored `body` of case `case` of `subject` holds. The error
/// names the case, never a value of the row.
pub(crate) fn step_from_body(case: CaseId, subject: &SubjectId, body: &str) -> Result<CaseEvent, Error> {
    let refuse = || Error::store(format!("a step of case `{}` cannot be decoded", case.0));
    let mut value: Value = serde_json::from_str(body).map_err(|_| refuse())?;
    let object = value.as_object_mut().ok_or_else(refuse)?;
    object.insert("case".to_owned(), case.0.to_string().into());
    object.insert("subject".to_owned(), subject.as_str().into());
    serde_json::from_value(value).map_err(|_| refuse())
}
