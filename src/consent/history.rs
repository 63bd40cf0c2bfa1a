//! The walk a batch job takes through a consent store: its subjects, and
//! each subject's grants and the events that end them.

use std::borrow::Cow;

use chrono::{DateTime, Utc};

use super::{ConsentChange, ConsentEvent, ConsentQualities, Scope};
use crate::ids::{PolicyId, SubjectId};

/// A consent store that a batch job can walk: every subject, then each
/// subject's grants and ending events. The re-consent scan
/// ([`Rescan`](crate::Rescan)) reads a store through it.
///
/// It is a trait beside [`ConsentStore`](crate::ConsentStore), not a part
/// of it: the evaluator asks one subject at a time and never lists, and a
/// store that serves decisions only need not offer a walk. Both traits
/// speak in names ([`SubjectId`], [`Scope`], [`PolicyId`]), never in the
/// engine's dense ids, so a store outside the crate implements them from
/// what it holds.
///
/// The walk is streamed: [`subjects`](Self::subjects) yields one subject at
/// a time and [`history`](Self::history) one event at a time, so that a
/// scan holds one subject's events, whatever the number of subjects. Reads
/// cannot fail, as with `ConsentStore`: a durable store answers from the
/// copy it keeps in memory for decisions, and reports a failure when it
/// loads or appends.
///
/// # Example
///
/// ```
/// use privacy_engine::{ConsentChange, ConsentEvent, ConsentHistory, ConsentQualities, InMemoryLedger, Scope, Uuid};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut ledger = InMemoryLedger::new();
/// let scope = Scope::new(vec!["ads".into()], vec!["user.contact".parse()?]);
/// let change = ConsentChange::Grant { qualities: ConsentQualities::explicit(), scope, expires: None };
/// ledger.append(ConsentEvent::new(Uuid::nil(), "2024-01-01T10:00:00Z".parse()?, "u1", "app", "1", change))?;
/// for subject in ledger.subjects() {
///     for event in ledger.history(&subject) {
///         assert_eq!(event.policy_version, "1");
///         assert_eq!(event.at().to_rfc3339(), "2024-01-01T10:00:00+00:00");
///         assert!(event.qualities.is_some()); // a grant
///     }
/// }
/// # Ok(()) }
/// ```
pub trait ConsentHistory {
    /// Every subject with at least one event, each once, in an order the
    /// store chooses and keeps while it is not appended to.
    fn subjects(&self) -> impl Iterator<Item = SubjectId> + '_;

    /// The subject's grants and ending events (not its permission switches),
    /// in the order they were recorded: the scan orders them by time, ties
    /// in this order, as the look-ups of [`ConsentStore`](crate::ConsentStore)
    /// do.
    fn history<'a>(&'a self, subject: &SubjectId) -> impl Iterator<Item = EventView<'a>> + 'a;

    /// Every subject with its history, in the order of
    /// [`subjects`](Self::subjects): the walk of a whole store. The default
    /// looks each subject up; a store that can walk its own storage in one
    /// pass, lending each id without copying it, overrides it.
    fn histories(&self) -> impl Iterator<Item = (Cow<'_, str>, impl Iterator<Item = EventView<'_>>)> + '_ {
        self.subjects().map(|subject| {
            let events = self.history(&subject).collect::<Vec<_>>().into_iter();
            (Cow::Owned(subject.as_str().to_owned()), events)
        })
    }
}

impl<S: ConsentHistory + ?Sized> ConsentHistory for &S {
    fn subjects(&self) -> impl Iterator<Item = SubjectId> + '_ {
        (**self).subjects()
    }

    fn history<'a>(&'a self, subject: &SubjectId) -> impl Iterator<Item = EventView<'a>> + 'a {
        (**self).history(subject)
    }

    fn histories(&self) -> impl Iterator<Item = (Cow<'_, str>, impl Iterator<Item = EventView<'_>>)> + '_ {
        (**self).histories()
    }
}

/// A [`ConsentHistory`] that can be used as a trait object:
/// `ConsentHistory` returns `impl Iterator`, so a service that picks its
/// store at run time (a `Box<dyn DynConsentHistory>` holding a SQLite or a
/// PostgreSQL replica, say) walks it through this trait instead. Every
/// `ConsentHistory` is one, and `dyn DynConsentHistory` is a
/// `ConsentHistory` again, so [`Rescan::scan`](crate::Rescan::scan) takes
/// it as it is. The walk is the store's own; each iterator is boxed, which
/// costs an allocation per subject walked.
///
/// # Example
///
/// ```
/// use privacy_engine::{CompactLedger, DynConsentHistory, InMemoryLedger, Rescan, Taxonomy};
/// let stores: Vec<Box<dyn DynConsentHistory>> = vec![Box::new(InMemoryLedger::new()), Box::new(CompactLedger::new())];
/// let rescan = Rescan::new(Taxonomy::builtin(), "app", "1", "2", Vec::new());
/// for store in &stores {
///     assert_eq!(rescan.scan(store.as_ref()).count(), 0);
/// }
/// ```
pub trait DynConsentHistory {
    /// [`ConsentHistory::subjects`], boxed.
    fn subjects_dyn(&self) -> Box<dyn Iterator<Item = SubjectId> + '_>;

    /// [`ConsentHistory::history`], boxed.
    fn history_dyn<'a>(&'a self, subject: &SubjectId) -> Box<dyn Iterator<Item = EventView<'a>> + 'a>;

    /// [`ConsentHistory::histories`], boxed.
    fn histories_dyn(&self) -> Box<dyn Iterator<Item = (Cow<'_, str>, BoxedEvents<'_>)> + '_>;
}

/// A subject's events, boxed, as [`DynConsentHistory`] lends them.
pub type BoxedEvents<'a> = Box<dyn Iterator<Item = EventView<'a>> + 'a>;

impl<S: ConsentHistory> DynConsentHistory for S {
    fn subjects_dyn(&self) -> Box<dyn Iterator<Item = SubjectId> + '_> {
        Box::new(self.subjects())
    }

    fn history_dyn<'a>(&'a self, subject: &SubjectId) -> Box<dyn Iterator<Item = EventView<'a>> + 'a> {
        Box::new(self.history(subject))
    }

    fn histories_dyn(&self) -> Box<dyn Iterator<Item = (Cow<'_, str>, BoxedEvents<'_>)> + '_> {
        Box::new(self.histories().map(|(subject, events)| (subject, Box::new(events) as BoxedEvents<'_>)))
    }
}

/// `ConsentHistory` for a `DynConsentHistory` trait object, with or without
/// `Send + Sync`.
macro_rules! walk_dyn {
    ($($object:ty),+) => {$(
        impl ConsentHistory for $object {
            fn subjects(&self) -> impl Iterator<Item = SubjectId> + '_ {
                self.subjects_dyn()
            }

            fn history<'a>(&'a self, subject: &SubjectId) -> impl Iterator<Item = EventView<'a>> + 'a {
                self.history_dyn(subject)
            }

            fn histories(&self) -> impl Iterator<Item = (Cow<'_, str>, impl Iterator<Item = EventView<'_>>)> + '_ {
                self.histories_dyn()
            }
        }
    )+};
}

walk_dyn!(dyn DynConsentHistory + '_, dyn DynConsentHistory + Send + Sync + '_);

/// A grant or an ending event as a [`ConsentHistory`] lends it: borrowed
/// from the store, nothing copied.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct EventView<'a> {
    /// When it happened, as UTC seconds and nanoseconds ([`at`](Self::at)):
    /// a scan compares and orders times without building a calendar date.
    time: (i64, u32),
    /// The policy it was given under.
    pub policy_id: &'a PolicyId,
    /// The version of that policy.
    pub policy_version: &'a str,
    /// What it is about.
    pub scope: &'a Scope,
    /// A grant's qualities; `None` for an event that ends grants (a refusal,
    /// a withdrawal, an expiry, a revocation).
    pub qualities: Option<ConsentQualities>,
    /// When a grant lapses by itself, if it does.
    pub expires: Option<DateTime<Utc>>,
}

impl<'a> EventView<'a> {
    /// A grant of `qualities` on `scope`, lapsing at `expires` if set.
    pub fn grant(
        at: DateTime<Utc>,
        policy: (&'a PolicyId, &'a str),
        scope: &'a Scope,
        qualities: ConsentQualities,
        expires: Option<DateTime<Utc>>,
    ) -> Self {
        Self::made(key(at), policy, scope, Some(qualities), expires)
    }

    /// An event that ends the grants of `scope`.
    pub fn ending(at: DateTime<Utc>, policy: (&'a PolicyId, &'a str), scope: &'a Scope) -> Self {
        Self::made(key(at), policy, scope, None, None)
    }

    /// A grant (with `qualities`) or an ending event (without) at `time`,
    /// UTC seconds and nanoseconds, for a ledger of this crate that keeps
    /// them so.
    #[inline]
    pub(crate) fn made(
        time: (i64, u32),
        policy: (&'a PolicyId, &'a str),
        scope: &'a Scope,
        qualities: Option<ConsentQualities>,
        expires: Option<DateTime<Utc>>,
    ) -> Self {
        Self { time, policy_id: policy.0, policy_version: policy.1, scope, qualities, expires }
    }

    /// When it happened.
    pub fn at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.time.0, self.time.1).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// When it happened, as UTC seconds and nanoseconds: orders like
    /// [`at`](Self::at).
    #[inline]
    pub(crate) fn time(&self) -> (i64, u32) {
        self.time
    }

    /// The view of a stored event; `None` for a permission switch.
    #[inline]
    pub fn of(event: &'a ConsentEvent) -> Option<Self> {
        let at = event.at.with_timezone(&Utc);
        let policy = (&event.policy_id, event.policy_version.as_str());
        match &event.change {
            ConsentChange::Grant { qualities, scope, expires } => {
                Some(Self::grant(at, policy, scope, *qualities, expires.map(|e| e.with_timezone(&Utc))))
            }
            other => other.scope().map(|scope| Self::ending(at, policy, scope)),
        }
    }

    /// Whether the event is a grant.
    pub fn is_grant(&self) -> bool {
        self.qualities.is_some()
    }
}

/// A time as UTC seconds and nanoseconds, which order like the time.
#[inline]
pub(crate) fn key(at: DateTime<Utc>) -> (i64, u32) {
    (at.timestamp(), at.timestamp_subsec_nanos())
}
