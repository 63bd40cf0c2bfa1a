//! Which subjects an incident affects: those holding an involved category,
//! from the caller's index and the consent stores.

use std::collections::HashSet;

use super::request::Incident;
use crate::consent::ConsentHistory;
use crate::ids::SubjectId;
use crate::taxonomy::CategoryKey;

/// The caller's index of who holds what: for each category, the subjects
/// whose data of that category the controller holds.
///
/// ```
/// use std::collections::BTreeMap;
/// use privacy_engine::{CategoryKey, HoldingsIndex, SubjectId};
///
/// struct Index(BTreeMap<CategoryKey, Vec<SubjectId>>);
///
/// impl HoldingsIndex for Index {
///     fn categories(&self) -> impl Iterator<Item = &CategoryKey> + '_ {
///         self.0.keys()
///     }
///     fn holders(&self, category: &CategoryKey) -> impl Iterator<Item = &SubjectId> + '_ {
///         self.0.get(category).into_iter().flatten()
///     }
/// }
/// ```
pub trait HoldingsIndex {
    /// Every category some subject's data is held under, each once.
    fn categories(&self) -> impl Iterator<Item = &CategoryKey> + '_;

    /// The subjects whose data of exactly `category` is held, each once.
    fn holders(&self, category: &CategoryKey) -> impl Iterator<Item = &SubjectId> + '_;
}

impl<H: HoldingsIndex + ?Sized> HoldingsIndex for &H {
    fn categories(&self) -> impl Iterator<Item = &CategoryKey> + '_ {
        (**self).categories()
    }

    fn holders(&self, category: &CategoryKey) -> impl Iterator<Item = &SubjectId> + '_ {
        (**self).holders(category)
    }
}

/// The subjects `incident` affects, each once, streamed: first those the
/// index says hold an involved category (an involved category covers its
/// descendants; a held broader category counts too, see
/// [`Incident::involves`]), then those of `consents` not yet listed with a
/// grant, in force or not, whose scope names an involved category (data
/// may have been collected under it). Beyond each id, it keeps one set of
/// the index's subjects, borrowed from the index and sized up front for
/// the incident's `subjects` estimate.
///
/// ```
/// use privacy_engine::{ConsentChange, ConsentEvent, ConsentQualities, InMemoryLedger, Incident, Scope, Uuid, affected};
/// # use std::collections::BTreeMap;
/// # use privacy_engine::{CategoryKey, HoldingsIndex, SubjectId};
/// # struct Index(BTreeMap<CategoryKey, Vec<SubjectId>>);
/// # impl HoldingsIndex for Index {
/// #     fn categories(&self) -> impl Iterator<Item = &CategoryKey> + '_ { self.0.keys() }
/// #     fn holders(&self, c: &CategoryKey) -> impl Iterator<Item = &SubjectId> + '_ { self.0.get(c).into_iter().flatten() }
/// # }
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let index = Index(BTreeMap::from([("user.contact.email".parse()?, vec!["u1".into(), "u2".into()])]));
/// let mut ledger = InMemoryLedger::new();
/// let scope = Scope::new(vec!["ads".into()], vec!["user.contact".parse()?]);
/// let grant = ConsentChange::Grant { qualities: ConsentQualities::explicit(), scope, expires: None };
/// ledger.append(ConsentEvent::new(Uuid::nil(), "2024-01-01T10:00:00Z".parse()?, "u3", "app", "1", grant))?;
/// let incident = Incident::new(vec!["user.contact".parse()?], 3, "2024-05-01T10:00:00Z".parse()?);
/// let ids: Vec<String> = affected(&incident, &index, &ledger).map(|s| s.to_string()).collect();
/// assert_eq!(ids, ["u1", "u2", "u3"]);
/// # Ok(()) }
/// ```
pub fn affected<'a>(
    incident: &'a Incident,
    index: &'a impl HoldingsIndex,
    consents: &'a impl ConsentHistory,
) -> impl Iterator<Item = SubjectId> + 'a {
    // Sized for the controller's estimate of the affected subjects (at
    // most 16 M entries up front), so that the set seldom grows.
    let estimate = usize::try_from(incident.subjects).unwrap_or(usize::MAX).min(1 << 24);
    let mut seen: HashSet<&'a str> = HashSet::with_capacity(estimate);
    let mut held = index.categories().filter(|c| incident.involves(c)).flat_map(|c| index.holders(c));
    let mut granted = consents.histories();
    let mut held_done = false;
    std::iter::from_fn(move || {
        if !held_done {
            for subject in held.by_ref() {
                if seen.insert(subject.as_str()) {
                    return Some(subject.clone());
                }
            }
            held_done = true;
        }
        for (subject, mut events) in granted.by_ref() {
            // The grants first: they are cheaper to read than the set.
            let named = events.any(|e| e.is_grant() && e.scope.categories.iter().any(|c| incident.involves(c)));
            if named && !seen.contains(subject.as_ref()) {
                return Some(SubjectId::from(subject.as_ref()));
            }
        }
        None
    })
}
