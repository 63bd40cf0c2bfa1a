//! How a record becomes a row of `records` and back, with the subject in
//! clear or sealed.

use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::consent::ConsentEvent;
use crate::durable::{ErasureReason, LogEntry, LogRecord, SubjectSeal};
use crate::error::Error;
use crate::ids::SubjectId;

/// The `kind` of a consent event's row.
pub(crate) const CONSENT: &str = "consent";
/// The `kind` of an erasure's row.
pub(crate) const ERASURE: &str = "erasure";
/// The `kind` of an erased event's place.
pub(crate) const REMOVED: &str = "removed";

/// The columns every read of `records` selects, in this order.
pub(crate) const COLUMNS: &str = "seq, kind, subject, sealed, recorded, body";

/// The subject a sealed row's event JSON holds in place of the id.
const SEALED_SUBJECT: &str = "~";

/// How a store keeps subject ids: in clear, or as a pseudonym and a seal.
#[derive(Debug)]
pub(crate) struct Subjects {
    seal: Option<SubjectSeal>,
}

/// What a row of `records` holds about a subject.
pub(crate) struct SubjectColumns {
    /// The `subject` column: the id, or its pseudonym.
    pub(crate) key: String,
    /// The `sealed` column.
    pub(crate) sealed: Option<Vec<u8>>,
}

/// The body of an erasure's row.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ErasureBody {
    at: DateTime<Utc>,
    reason: ErasureReason,
}

impl Subjects {
    pub(crate) fn new(seal: Option<SubjectSeal>) -> Self {
        Self { seal }
    }

    /// What the `meta` table records: `plain`, or `sealed:<key id>`.
    pub(crate) fn mode(&self) -> String {
        self.seal.as_ref().map_or_else(|| "plain".to_owned(), |s| format!("sealed:{}", s.key_id()))
    }

    /// Whether ids are sealed.
    pub(crate) fn sealed(&self) -> bool {
        self.seal.is_some()
    }

    /// The `subject` column a row of `subject` has.
    pub(crate) fn key(&self, subject: &SubjectId) -> String {
        self.seal.as_ref().map_or_else(|| subject.as_str().to_owned(), |s| s.lookup(subject))
    }

    /// The columns a new row of `subject` gets.
    pub(crate) fn columns(&self, subject: &SubjectId) -> Result<SubjectColumns, Error> {
        let sealed = self.seal.as_ref().map(|s| s.seal(subject)).transpose()?;
        Ok(SubjectColumns { key: self.key(subject), sealed })
    }

    /// The subject a row's columns name.
    pub(crate) fn open(&self, key: String, sealed: Option<&[u8]>) -> Result<SubjectId, Error> {
        match (&self.seal, sealed) {
            (None, None) => Ok(SubjectId::from(key)),
            (Some(seal), Some(sealed)) => seal.open(sealed, &key),
            (None, Some(_)) | (Some(_), None) => {
                Err(Error::store("a row's subject is sealed where the store is plain, or the reverse".to_owned()))
            }
        }
    }

    /// The `body` of `event`'s row: its JSON, with the subject left out
    /// when sealed.
    pub(crate) fn event_body(&self, event: &ConsentEvent) -> Result<String, Error> {
        let json = if self.sealed() {
            let mut stored = event.clone();
            stored.subject = SubjectId::from(SEALED_SUBJECT);
            serde_json::to_string(&stored)
        } else {
            serde_json::to_string(event)
        };
        json.map_err(|e| Error::store(format!("cannot serialise consent event `{}`: {e}", event.id)))
    }
}

/// The `body` of an erasure's row.
pub(crate) fn erasure_body(at: DateTime<Utc>, reason: ErasureReason) -> Result<String, Error> {
    serde_json::to_string(&ErasureBody { at, reason })
        .map_err(|e| Error::store(format!("cannot serialise an erasure: {e}")))
}

/// `at` as the `recorded` column keeps it.
pub(crate) fn time_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// One row of `records` as read, in [`COLUMNS`] order.
pub(crate) struct Row {
    pub(crate) seq: i64,
    pub(crate) kind: String,
    pub(crate) subject: Option<String>,
    pub(crate) sealed: Option<Vec<u8>>,
    pub(crate) recorded: Option<String>,
    pub(crate) body: Option<String>,
}

impl Row {
    /// Reads a row selected with [`COLUMNS`].
    pub(crate) fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            seq: r.get(0)?,
            kind: r.get(1)?,
            subject: r.get(2)?,
            sealed: r.get(3)?,
            recorded: r.get(4)?,
            body: r.get(5)?,
        })
    }

    /// The entry the row holds. The message of an error names the seq
    /// only, never a value of the row.
    pub(crate) fn decode(self, subjects: &Subjects, path: &Path) -> Result<LogEntry, Error> {
        let bad =
            |what: &str| Error::store(format!("record {} of consent store `{}` {what}", self.seq, path.display()));
        let seq = u64::try_from(self.seq).map_err(|_| bad("has no valid seq"))?;
        let record = match self.kind.as_str() {
            REMOVED => LogRecord::Removed,
            CONSENT | ERASURE => {
                let subject = self.subject.ok_or_else(|| bad("names no subject"))?;
                let subject = subjects
                    .open(subject, self.sealed.as_deref())
                    .map_err(|_| bad("has a subject that does not open"))?;
                let body = self.body.ok_or_else(|| bad("has no body"))?;
                if self.kind == ERASURE {
                    let ErasureBody { at, reason } =
                        serde_json::from_str(&body).map_err(|_| bad("is not an erasure"))?;
                    LogRecord::Erasure { subject, at, reason }
                } else {
                    let mut event: ConsentEvent =
                        serde_json::from_str(&body).map_err(|_| bad("is not a consent event"))?;
                    event.subject = subject;
                    let recorded = self.recorded.ok_or_else(|| bad("has no time recorded"))?;
                    let recorded = recorded.parse().map_err(|_| bad("has a malformed time recorded"))?;
                    LogRecord::Consent { event, recorded }
                }
            }
            _ => return Err(bad("is of a kind this version of the crate does not know")),
        };
        Ok(LogEntry { seq, record })
    }
}
