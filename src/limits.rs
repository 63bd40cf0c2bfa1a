//! The limits on input, in one place: values no real service meets, so that
//! a crafted request, line or policy is refused (or denied) at a bounded
//! cost instead of being decided at any cost.
//!
//! A request read from JSON ([`Request::from_json`], [`decide_line`]) over a
//! limit is an error of kind [`Request`](crate::ErrorKind::Request) with the
//! path of the field at fault; a request built in code ([`Request::new`]),
//! which cannot fail, is denied by the engine with `builtin.over_limit` and
//! a reason that names the limit, so the two paths agree. A policy over a
//! limit is refused when it loads.
//!
//! [`Request::from_json`]: crate::Request::from_json
//! [`Request::new`]: crate::Request::new
//! [`decide_line`]: crate::decide_line

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};

use crate::request::Request;

/// The longest request document ([`Request::from_json`](crate::Request::from_json))
/// or line of the JSON-lines interface ([`decide_line`](crate::decide_line)),
/// in bytes: 4 MiB, room for [`MAX_CONSENT_EVENTS_PER_LINE`] events of some
/// 300 bytes each and [`MAX_CATEGORIES_PER_REQUEST`] categories, and some
/// thousand times a large real line.
pub const MAX_LINE_BYTES: usize = 4 << 20;

/// The most data categories one request names: 1,024, some ten times the
/// categories a whole policy usually declares.
pub const MAX_CATEGORIES_PER_REQUEST: usize = 1024;

/// The most consent events one line of the JSON-lines interface carries:
/// 10,000, years of a busy subject's history.
pub const MAX_CONSENT_EVENTS_PER_LINE: usize = 10_000;

/// The largest policy document [`Policy::from_json`](crate::Policy::from_json)
/// reads, in bytes: 64 MiB, twice the 34.6 MB of the largest policy the
/// benchmarks load (20,000 categories, 40,000 purposes).
pub const MAX_POLICY_BYTES: usize = 64 << 20;

/// The longest id, in bytes: a subject id, and a purpose or recipient id in
/// a request or a policy, and the id of a policy rule: 256.
pub const MAX_ID_BYTES: usize = 256;

/// The longest data category key, in bytes (checked by
/// [`CategoryKey::new`](crate::CategoryKey::new)): 200.
pub const MAX_CATEGORY_KEY_BYTES: usize = 200;

/// The deepest nesting of arrays and objects a JSON document may have: 128,
/// serde_json's own recursion limit, which every document is read with
/// (no document of the format nests deeper than 6).
pub const MAX_JSON_DEPTH: usize = 128;

/// The message for a document over [`MAX_LINE_BYTES`] or
/// [`MAX_POLICY_BYTES`], `None` if it is within `max`.
pub(crate) fn oversized(what: &str, len: usize, max: usize) -> Option<String> {
    (len > max).then(|| format!("the {what} is longer than the limit of {max} bytes"))
}

/// The message for an id over [`MAX_ID_BYTES`], `None` if it fits.
pub(crate) fn id_too_long(what: &str, id: &str) -> Option<String> {
    (id.len() > MAX_ID_BYTES).then(|| format!("{what} is longer than the limit of {MAX_ID_BYTES} bytes"))
}

/// The first limit a request built in code exceeds, as a reason's message;
/// `None` if it is within every limit. The engine denies such a request.
pub(crate) fn request_exceeds(req: &Request) -> Option<String> {
    let n = req.categories.len();
    if n > MAX_CATEGORIES_PER_REQUEST {
        return Some(format!("the request names {n} categories, over the limit of {MAX_CATEGORIES_PER_REQUEST}"));
    }
    id_too_long("the subject id", req.subject.id.as_str())
        .or_else(|| req.purpose.as_ref().and_then(|p| id_too_long("the purpose id", p.as_str())))
        .or_else(|| req.recipient.as_ref().and_then(|r| id_too_long("the recipient id", r.as_str())))
}

/// Deserialises a request's categories: at most
/// [`MAX_CATEGORIES_PER_REQUEST`].
pub(crate) fn categories<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    bounded(d, MAX_CATEGORIES_PER_REQUEST, "categories")
}

/// Deserialises a line's consent events: at most
/// [`MAX_CONSENT_EVENTS_PER_LINE`].
pub(crate) fn consent_events<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    bounded(d, MAX_CONSENT_EVENTS_PER_LINE, "consent events")
}

/// Deserialises a line's lifecycle events: at most
/// [`MAX_CONSENT_EVENTS_PER_LINE`], as its consent events.
pub(crate) fn lifecycle_events<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    bounded(d, MAX_CONSENT_EVENTS_PER_LINE, "lifecycle events")
}

/// Deserialises an optional id of a request: at most [`MAX_ID_BYTES`].
pub(crate) fn optional_id<'de, D: Deserializer<'de>, T: From<String>>(d: D) -> Result<Option<T>, D::Error> {
    let id = Option::<String>::deserialize(d)?;
    match id.as_deref().and_then(|id| id_too_long("the id", id)) {
        Some(message) => Err(de::Error::custom(message)),
        None => Ok(id.map(T::from)),
    }
}

/// Reads an array of at most `max` items, stopping at the first item over.
fn bounded<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
    max: usize,
    what: &'static str,
) -> Result<Vec<T>, D::Error> {
    d.deserialize_seq(Bounded { max, what, item: PhantomData })
}

struct Bounded<T> {
    max: usize,
    what: &'static str,
    item: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Bounded<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an array of at most {} {}", self.max, self.what)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(self.max));
        while let Some(item) = seq.next_element()? {
            if out.len() == self.max {
                return Err(de::Error::custom(format_args!("more than {} {}, the limit", self.max, self.what)));
            }
            out.push(item);
        }
        Ok(out)
    }
}
