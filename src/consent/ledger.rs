//! The in-memory, append-only consent ledger.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{ConsentChange, ConsentEvent, ConsentQuery, ConsentStatus, ConsentStore, Effect, Grants, Scope};
use crate::error::Error;
use crate::ids::{PurposeId, RecipientId, SubjectId};
use crate::policy::Permission;
use crate::taxonomy::CategoryKey;

/// An append-only, in-memory consent ledger.
///
/// Events are kept per subject in the order they arrived, with the time
/// each was recorded where the caller gave it ([`append_at`](Self::append_at));
/// nothing appended is ever removed or changed. As-of queries go by each
/// event's own time (`at`), ties in arrival order, and count the events at
/// or before the asked time, including those at exactly that time: an event
/// appended late counts from its own time. Appending costs O(1) amortised
/// and a look-up one pass over the subject's events, whatever their order.
///
/// # Example
///
/// ```
/// use privacy_engine::{InMemoryLedger, ConsentChange, ConsentEvent, ConsentQualities, Scope, Uuid};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut ledger = InMemoryLedger::new();
/// let scope = Scope::new(vec!["face_verification".into()], vec!["user.biometric.face".parse()?]);
/// let change = ConsentChange::Grant { qualities: ConsentQualities::separate(), scope, expires: None };
/// let at = "2024-01-01T10:00:00+08:00".parse()?;
/// ledger.append(ConsentEvent::new(Uuid::nil(), at, "u1", "seed-004", "2021-08-20", change))?;
/// assert_eq!(ledger.len(), 1);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct InMemoryLedger {
    subjects: HashMap<SubjectId, Events>,
    ids: std::collections::HashSet<Uuid>,
}

/// A subject's events in arrival order, with a mark of each at the same
/// index, kept apart: a look-up scans the marks and reads an event only when
/// its mark says it may concern the query.
#[derive(Clone, Debug, Default)]
struct Events {
    marks: Vec<Mark>,
    events: Vec<ConsentEvent>,
    /// When each event was recorded, where the caller said.
    recorded: Vec<Option<DateTime<Utc>>>,
}

#[derive(Clone, Copy, Debug)]
struct Mark {
    at: DateTime<Utc>,
    /// A bit for each purpose of the event's scope ([`purpose_bit`]), so
    /// that a look-up passes over most events of other purposes.
    purposes: u64,
}

/// A purpose's bit among 64, from an FNV-1a hash of its name.
fn purpose_bit(purpose: &PurposeId) -> u64 {
    let hash = purpose
        .as_str()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3));
    1 << (hash % 64)
}

impl InMemoryLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an event recorded now, at `recorded`: the service's own
    /// clock when the event reached it (the crate reads no clock).
    ///
    /// # Errors
    ///
    /// As [`append`](Self::append), and refuses an event dated more than
    /// [`CONSENT_HORIZON`](crate::CONSENT_HORIZON) (400 days) before
    /// `recorded` or more than [`CONSENT_SKEW`](crate::CONSENT_SKEW)
    /// (5 minutes) after it.
    pub fn append_at(&mut self, event: ConsentEvent, recorded: DateTime<Utc>) -> Result<(), Error> {
        self.check(&event)?;
        super::check_recorded(&event, recorded)?;
        self.push(event, Some(recorded));
        Ok(())
    }

    /// Appends an event whose recording time is not known here: one loaded
    /// back from a store that checked it when it was recorded, or a history
    /// handed in whole. Its time is taken as it is, with no horizon and no
    /// skew check; use [`append_at`](Self::append_at) for an event being
    /// recorded now.
    ///
    /// # Errors
    ///
    /// Refuses (and records nothing) an event whose id is already in the
    /// ledger, a grant whose qualities are incoherent (separate but not
    /// explicit, explicit but not affirmative), or a scope with no purpose or
    /// no category.
    pub fn append(&mut self, event: ConsentEvent) -> Result<(), Error> {
        self.check(&event)?;
        self.push(event, None);
        Ok(())
    }

    fn check(&self, event: &ConsentEvent) -> Result<(), Error> {
        if self.ids.contains(&event.id) {
            return Err(Error::ledger(format!("duplicate consent event id `{}`", event.id)));
        }
        super::check_event(event)
    }

    fn push(&mut self, event: ConsentEvent, recorded: Option<DateTime<Utc>>) {
        let at = event.at.with_timezone(&Utc);
        self.ids.insert(event.id);
        let events = self.subjects.entry(event.subject.clone()).or_default();
        let purposes = event.change.scope().map_or(0, |s| s.purposes.iter().fold(0, |bits, p| bits | purpose_bit(p)));
        events.marks.push(Mark { at, purposes });
        events.events.push(event);
        events.recorded.push(recorded);
    }

    /// Appends every event, stopping at the first one refused.
    ///
    /// # Errors
    ///
    /// As [`append`](Self::append); the events before the refused one stay.
    pub fn extend(&mut self, events: impl IntoIterator<Item = ConsentEvent>) -> Result<(), Error> {
        events.into_iter().try_for_each(|e| self.append(e))
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the ledger is empty.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// A subject's events, in time order (ties in arrival order).
    pub fn events(&self, subject: &SubjectId) -> impl Iterator<Item = &ConsentEvent> {
        let mut events: Vec<&ConsentEvent> =
            self.subjects.get(subject).map(|e| e.events.iter().collect()).unwrap_or_default();
        // A stable sort: ties stay in arrival order.
        events.sort_by_key(|e| e.at.with_timezone(&Utc));
        events.into_iter()
    }

    /// A subject's events in the order they arrived, each with the time it
    /// was recorded where [`append_at`](Self::append_at) was told.
    pub fn arrivals(&self, subject: &SubjectId) -> impl Iterator<Item = (&ConsentEvent, Option<DateTime<Utc>>)> {
        self.subjects.get(subject).into_iter().flat_map(|e| e.events.iter().zip(e.recorded.iter().copied()))
    }

    /// The DPV status of the consent for `purpose` × `category` (and
    /// recipient) at `at`: the state the latest relevant event at or before
    /// `at` left it in. A grant counts on the exact category or on any
    /// ancestor, whatever its sensitivity: the status describes the consent
    /// record, while [`ConsentStore::has_consent`] decides whether a grant
    /// covers the category (only the ancestors in `covering` do).
    pub fn status(
        &self,
        subject: &SubjectId,
        purpose: &PurposeId,
        category: &CategoryKey,
        recipient: Option<&RecipientId>,
        at: DateTime<Utc>,
    ) -> ConsentStatus {
        // The latest relevant event (by time, then arrival) sets the
        // status; a grant renews when an earlier one was relevant too.
        let mut grants = 0_usize;
        let relevant = self.as_of(subject, at).filter(|(_, event)| {
            let Some(scope) = event.change.scope() else {
                return false;
            };
            if !scope.purposes.contains(purpose) || !recipient_matches(scope, recipient) {
                return false;
            }
            match &event.change {
                ConsentChange::Grant { .. } => {
                    let covers = scope.categories.iter().any(|c| category.is_within(c));
                    grants += usize::from(covers);
                    covers
                }
                _ => scope.categories.iter().any(|c| related(c, category)),
            }
        });
        let latest = relevant.max_by_key(|(key, _)| *key).map(|(_, event)| event);
        match latest.map(|e| &e.change) {
            Some(ConsentChange::Grant { expires, .. }) => super::grant_status(grants > 1, expires.as_ref(), at),
            Some(other) => other.status().unwrap_or(ConsentStatus::Unknown),
            None => ConsentStatus::Unknown,
        }
    }

    /// The subject's events at or before `at`, in arrival order, each with
    /// its key: its time, then its arrival.
    fn as_of(
        &self,
        subject: &SubjectId,
        at: DateTime<Utc>,
    ) -> impl Iterator<Item = ((DateTime<Utc>, usize), &ConsentEvent)> {
        self.subjects.get(subject).into_iter().flat_map(move |e| {
            let keyed = e.marks.iter().zip(&e.events).enumerate();
            keyed.filter(move |(_, (m, _))| m.at <= at).map(|(i, (m, event))| ((m.at, i), event))
        })
    }
}

/// Whether an ending event on `ended` touches `category`: the same key, an
/// ancestor, or a descendant.
fn related(ended: &CategoryKey, category: &CategoryKey) -> bool {
    category.is_within(ended) || ended.is_within(category)
}

fn recipient_matches(scope: &Scope, recipient: Option<&RecipientId>) -> bool {
    match (&scope.recipient, recipient) {
        (None, _) => true,
        (Some(r), Some(q)) => r == q,
        (Some(_), None) => false,
    }
}

impl ConsentStore for InMemoryLedger {
    fn has_consent(&self, q: &ConsentQuery<'_>) -> bool {
        self.grants(q).any(q.required, q.excluded)
    }

    fn grants(&self, q: &ConsentQuery<'_>) -> Grants {
        let Some(e) = self.subjects.get(q.subject) else {
            return Grants::NONE;
        };
        let bit = purpose_bit(q.purpose);
        // Skip another purpose's event, a permission switch, or a later one.
        let effects = e.marks.iter().zip(&e.events).enumerate();
        let effects = effects.filter(move |(_, (mark, _))| mark.purposes & bit != 0 && mark.at <= q.at);
        let effects = effects.filter_map(|(i, (mark, event))| effect(event, q).map(|e| ((mark.at, i), e)));
        super::in_force(effects)
    }

    fn permission_on(&self, subject: &SubjectId, permission: Permission, at: DateTime<Utc>) -> bool {
        let switches = self.as_of(subject, at).filter_map(|(key, event)| match &event.change {
            ConsentChange::PermissionOn { permission: p } if *p == permission => Some((key, true)),
            ConsentChange::PermissionOff { permission: p } if *p == permission => Some((key, false)),
            _ => None,
        });
        switches.max_by_key(|(key, _)| *key).is_some_and(|(_, on)| on)
    }
}

impl super::ConsentHistory for InMemoryLedger {
    /// The subjects in the order of the ledger's map, the same on every
    /// walk while nothing is appended.
    fn subjects(&self) -> impl Iterator<Item = SubjectId> + '_ {
        self.subjects.keys().cloned()
    }

    fn history<'a>(&'a self, subject: &SubjectId) -> impl Iterator<Item = super::EventView<'a>> + 'a {
        self.subjects.get(subject).into_iter().flat_map(|e| e.events.iter().filter_map(super::EventView::of))
    }

    fn histories(
        &self,
    ) -> impl Iterator<Item = (std::borrow::Cow<'_, str>, impl Iterator<Item = super::EventView<'_>>)> + '_ {
        self.subjects.iter().map(|(id, e)| (id.as_str().into(), e.events.iter().filter_map(super::EventView::of)))
    }
}

/// What `event`, at or before the query's time, means for the query:
/// `None` when it neither grants nor ends.
fn effect(event: &ConsentEvent, q: &ConsentQuery<'_>) -> Option<Effect> {
    let scope = event.change.scope()?;
    if !scope.purposes.contains(q.purpose) {
        return None;
    }
    match &event.change {
        ConsentChange::Grant { qualities, expires, .. } => {
            let covers = scope.categories.iter().any(|c| c == q.category || q.covering.contains(c));
            let lapsed = expires.is_some_and(|e| e.with_timezone(&Utc) <= q.at);
            let counts = q.counts_grant_of(&event.policy_id, &event.policy_version);
            let answers = covers
                && recipient_matches(scope, q.recipient)
                && !lapsed
                && counts
                && super::describes(|| scope.described.as_ref(), q);
            answers.then_some(Effect::Grant(*qualities))
        }
        _ => {
            // An ending event for one recipient ends every grant as far as
            // that recipient is concerned, general ones too.
            let to_query = scope.recipient.as_ref().is_none_or(|r| q.recipient == Some(r));
            (to_query && scope.categories.iter().any(|c| related(c, q.category))).then_some(Effect::End)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::ConsentQualities;

    fn ev(n: u128, at: &str, change: ConsentChange) -> ConsentEvent {
        ConsentEvent {
            id: Uuid::from_u128(n),
            at: at.parse().unwrap(),
            subject: "s".into(),
            policy_id: "p".into(),
            policy_version: "1".into(),
            change,
        }
    }

    fn scope(cat: &str) -> Scope {
        Scope::new(vec!["ads".into()], vec![CategoryKey::new(cat).unwrap()])
    }

    #[test]
    fn out_of_order_appends_are_sorted_by_time_then_append_order() {
        let mut l = InMemoryLedger::new();
        l.append(ev(1, "2024-01-02T00:00:00Z", ConsentChange::Withdraw { scope: scope("user") })).unwrap();
        l.append(ev(
            2,
            "2024-01-01T00:00:00Z",
            ConsentChange::Grant { qualities: ConsentQualities::explicit(), scope: scope("user"), expires: None },
        ))
        .unwrap();
        let ids: Vec<u128> = l.events(&"s".into()).map(|e| e.id.as_u128()).collect();
        assert_eq!(ids, vec![2, 1]);
        assert!(l.append(ev(2, "2024-01-03T00:00:00Z", ConsentChange::Withdraw { scope: scope("user") })).is_err());
        assert_eq!(l.len(), 2);
    }
}
