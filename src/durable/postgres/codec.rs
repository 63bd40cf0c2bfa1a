//! How a log record becomes a row of `consent_log` and back: the record's
//! JSON without its subject, and the subject in its own columns, in clear
//! or as a keyed pseudonym with the id sealed.

use postgres::Row;
use serde_json::{Map, Value};

use super::schema::db;
use crate::durable::{LogEntry, LogRecord, SubjectSeal};
use crate::error::Error;
use crate::ids::SubjectId;

/// The columns a read selects, in the order [`decode`] reads them.
pub(crate) const COLUMNS: &str = "seq, kind, subject, sealed, body";

/// How the store keeps subject ids.
#[derive(Debug)]
pub(crate) enum Subjects {
    /// In clear, in the `subject` column.
    Clear,
    /// As a keyed pseudonym in `subject` and the id sealed in `sealed`.
    Sealed(Box<SubjectSeal>),
}

impl Subjects {
    /// What the store's settings call this mode: `clear`, or `sealed:`
    /// and the key's id.
    pub(crate) fn mode(&self) -> String {
        match self {
            Self::Clear => "clear".to_owned(),
            Self::Sealed(seal) => format!("sealed:{}", seal.key_id()),
        }
    }

    /// The value of the `subject` column for `subject`: what its rows are
    /// found by.
    pub(crate) fn key(&self, subject: &SubjectId) -> String {
        match self {
            Self::Clear => subject.as_str().to_owned(),
            Self::Sealed(seal) => seal.lookup(subject),
        }
    }

    /// The value of the `sealed` column for `subject`.
    pub(crate) fn sealed(&self, subject: &SubjectId) -> Result<Option<Vec<u8>>, Error> {
        match self {
            Self::Clear => Ok(None),
            Self::Sealed(seal) => seal.seal(subject).map(Some),
        }
    }

    /// The subject id of a row from its `subject` and `sealed` columns.
    pub(crate) fn open(&self, key: &str, sealed: Option<&[u8]>) -> Result<SubjectId, Error> {
        match (self, sealed) {
            (Self::Clear, None) => Ok(SubjectId::from(key)),
            (Self::Sealed(seal), Some(sealed)) => seal.open(sealed, key),
            (Self::Clear, Some(_)) => Err(Error::store("a row holds a sealed subject id in a clear store".to_owned())),
            (Self::Sealed(_), None) => {
                Err(Error::store("a row holds no sealed subject id in a sealed store".to_owned()))
            }
        }
    }
}

/// The kind column of a record.
pub(crate) fn kind(record: &LogRecord) -> &'static str {
    match record {
        LogRecord::Consent { .. } => "consent",
        LogRecord::Erasure { .. } => "erasure",
        LogRecord::Removed => "removed",
    }
}

/// The record's subject and its JSON with the subject taken out (`None`
/// for a record about no one, which has no body either).
pub(crate) fn encode(record: &LogRecord) -> Result<Option<(&SubjectId, String)>, Error> {
    let subject = match record {
        LogRecord::Consent { event, .. } => &event.subject,
        LogRecord::Erasure { subject, .. } => subject,
        LogRecord::Removed => return Ok(None),
    };
    let refuse = |_| Error::store("cannot encode a log record".to_owned());
    let mut value = serde_json::to_value(record).map_err(refuse)?;
    if let Some(object) = subject_holder(&mut value) {
        object.remove("subject");
    }
    let body = serde_json::to_string(&value).map_err(refuse)?;
    Ok(Some((subject, body)))
}

/// The object of a record's JSON that holds its subject.
fn subject_holder(value: &mut Value) -> Option<&mut Map<String, Value>> {
    let kind = value.get("kind").and_then(Value::as_str).map(str::to_owned);
    let object = value.as_object_mut()?;
    match kind.as_deref() {
        Some("consent") => object.get_mut("event").and_then(Value::as_object_mut),
        _ => Some(object),
    }
}

/// A row read with [`COLUMNS`] as a log entry.
pub(crate) fn decode(row: &Row, subjects: &Subjects) -> Result<LogEntry, Error> {
    let col = |e: postgres::Error| db("cannot read a log record", e);
    let seq: i64 = row.try_get(0).map_err(col)?;
    let seq = u64::try_from(seq).map_err(|_| Error::store(format!("the log holds a record numbered {seq}")))?;
    let kind: &str = row.try_get(1).map_err(col)?;
    let body: Option<&str> = row.try_get(4).map_err(col)?;
    let refuse = || Error::store(format!("record {seq} of the log cannot be decoded"));
    let record = match (kind, body) {
        ("removed", _) => LogRecord::Removed,
        (_, Some(body)) => {
            let key: &str = row.try_get(2).map_err(col)?;
            let sealed: Option<&[u8]> = row.try_get(3).map_err(col)?;
            let subject = subjects.open(key, sealed)?;
            let mut value: Value = serde_json::from_str(body).map_err(|_| refuse())?;
            subject_holder(&mut value).ok_or_else(refuse)?.insert("subject".to_owned(), subject.as_str().into());
            serde_json::from_value::<LogRecord>(value).map_err(|_| refuse())?
        }
        (_, None) => return Err(refuse()),
    };
    if self::kind(&record) != kind {
        return Err(refuse());
    }
    Ok(LogEntry { seq, record })
}
