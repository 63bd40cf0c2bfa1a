//! Who must re-consent: the subjects whose grants a revision of the policy
//! made lapse, streamed from a [`ConsentHistory`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{ConsentHistory, ConsentQualities, EventView};
use crate::ids::{PolicyId, PurposeId, RecipientId, SubjectId};
use crate::policy::{FreshConsent, Policy};
use crate::taxonomy::{CategoryKey, Sensitivity, Taxonomy};

/// The question "who must consent again after this revision?", asked of a
/// consent store one subject at a time.
///
/// A revision of policy `P` from version `old` to version `new` makes some
/// grants lapse: those its [`FreshConsent`]s name. A subject must be asked
/// again for purpose `p`, category `c` (and recipient `r`) at time `at` when
///
/// - a grant given under `P` at a version the change concerns (`old`, and
///   the earlier versions added with [`given_under`](Self::given_under))
///   is in force at `at` for `p`, `c` and `r`, exactly as
///   [`ConsentStore::has_consent`](crate::ConsentStore::has_consent) reads
///   a history: not lapsed by its expiry, not ended by a later refusal,
///   withdrawal, expiry or revocation (whatever policy that was recorded
///   under); a grant covers the descendants of its category that are no
///   more sensitive in the taxonomy, as the evaluator's do;
/// - a fresh consent for `p` touches `c` (`c` is one of its categories or
///   lies below one; every category when it lists none) and, if it names a
///   recipient, `r` is that recipient;
/// - and no grant given under `P` at `new`, with the qualities the fresh
///   consent asks, is in force for `p`, `c` and `r`: the person already
///   consented to the new version.
///
/// Grants under another policy id, or under a version the change does not
/// concern, are not listed. Each [`Lapsed`] names the widest category the
/// subject must be asked about: the fresh consent's category when the grant
/// covers it, the grant's own when it lies below one, and the parts that
/// remain when some of them were withdrawn or already given again.
///
/// [`scan`](Self::scan) streams the answer: it reads one subject's events
/// at a time, so its memory does not grow with the number of subjects, and
/// yields the subjects in the store's order, the same on every scan of an
/// unchanged store.
///
/// # Example
///
/// A batch job asks everyone whose advertising consent no longer covers
/// their contact data:
///
/// ```
/// use privacy_engine::{
///     ConsentChange, ConsentEvent, ConsentQualities, FreshConsent, InMemoryLedger, Rescan, Scope, Taxonomy, Uuid,
/// };
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut ledger = InMemoryLedger::new();
/// for (n, subject) in ["alice", "bob"].into_iter().enumerate() {
///     let scope = Scope::new(vec!["ads".into()], vec!["user.contact".parse()?]);
///     let change = ConsentChange::Grant { qualities: ConsentQualities::explicit(), scope, expires: None };
///     let at = "2024-01-01T10:00:00Z".parse()?;
///     ledger.append(ConsentEvent::new(Uuid::from_u128(n as u128), at, subject, "app", "1", change))?;
/// }
/// let fresh = vec![
///     FreshConsent::new("ads".into(), ConsentQualities::explicit())
///         .for_categories(vec!["user.contact.phone_number".parse()?]),
/// ];
/// let rescan = Rescan::new(Taxonomy::builtin(), "app", "1", "2", fresh).at("2024-06-01T00:00:00Z".parse()?);
/// let mut asked = Vec::new();
/// for reconsent in rescan.scan(&ledger) {
///     // Here the job would queue a consent request per subject.
///     let lapsed = reconsent.lapsed.first().ok_or("nothing lapsed")?;
///     assert_eq!(lapsed.category.as_str(), "user.contact.phone_number");
///     asked.push(reconsent.subject);
/// }
/// asked.sort();
/// assert_eq!(asked, ["alice".into(), "bob".into()]);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Rescan {
    policy: PolicyId,
    /// The versions whose grants the change concerns.
    concerned: Vec<String>,
    new: String,
    fresh: Vec<FreshConsent>,
    at: DateTime<Utc>,
    taxonomy: Taxonomy,
    /// Each category of the taxonomy's children, for splitting a category
    /// that lapses only in part.
    children: BTreeMap<CategoryKey, Vec<CategoryKey>>,
}

/// A subject who must be asked again, and for what.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reconsent {
    /// Whom to ask.
    pub subject: SubjectId,
    /// What to ask for, sorted by purpose, category, recipient, qualities;
    /// never empty.
    pub lapsed: Vec<Lapsed>,
}

/// A purpose × category (and recipient) whose grant lapsed, and the
/// qualities the new consent must have.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lapsed {
    /// The purpose.
    pub purpose: PurposeId,
    /// The category, with what lies below it that the grant covered.
    pub category: CategoryKey,
    /// The recipient the grant was for, or the one the fresh consent names;
    /// `None` for the controller and every recipient of the purpose.
    pub recipient: Option<RecipientId>,
    /// The qualities the new consent must have.
    pub qualities: ConsentQualities,
}

impl Lapsed {
    /// The order of a subject's list.
    fn key(&self) -> (&PurposeId, &CategoryKey, Option<&RecipientId>, u8) {
        (&self.purpose, &self.category, self.recipient.as_ref(), self.qualities.bits())
    }

    /// Whether `self` asks for part of what `other` asks for.
    fn within(&self, other: &Lapsed) -> bool {
        self.purpose == other.purpose
            && self.recipient == other.recipient
            && self.qualities == other.qualities
            && self.category.is_within(&other.category)
    }
}

/// A subject's events at or before the scan's time, in time order, ties in
/// the order recorded.
type Events<'a> = [EventView<'a>];

impl Rescan {
    /// The scan for a revision of policy `policy` from version `old` to
    /// version `new`, whose consent effects are `fresh`, with the taxonomy
    /// of the new version; at the end of time (every event counts, every
    /// expiry has passed) until [`at`](Self::at) sets a time.
    pub fn new(
        taxonomy: Taxonomy,
        policy: impl Into<PolicyId>,
        old: impl Into<String>,
        new: impl Into<String>,
        fresh: Vec<FreshConsent>,
    ) -> Self {
        let mut children: BTreeMap<CategoryKey, Vec<CategoryKey>> = BTreeMap::new();
        for (key, _) in taxonomy.iter() {
            if let Some(parent) = key.parent() {
                children.entry(parent).or_default().push(key.clone());
            }
        }
        Self {
            policy: policy.into(),
            concerned: vec![old.into()],
            new: new.into(),
            fresh,
            at: DateTime::<Utc>::MAX_UTC,
            taxonomy,
            children,
        }
    }

    /// The scan for the revision from `old` to `new` (the id of `new`, the
    /// taxonomy of `new`).
    pub fn between(old: &Policy, new: &Policy, fresh: Vec<FreshConsent>) -> Self {
        Self::new(new.taxonomy(), new.id.clone(), old.version.clone(), new.version.clone(), fresh)
    }

    /// Reads the grants in force at `at` (events at exactly `at` count).
    #[must_use]
    pub fn at(mut self, at: DateTime<Utc>) -> Self {
        self.at = at;
        self
    }

    /// Also lists grants given under `version`: an earlier version whose
    /// grants still counted under `old`.
    #[must_use]
    pub fn given_under(mut self, version: impl Into<String>) -> Self {
        self.concerned.push(version.into());
        self
    }

    /// The subjects of `store` who must be asked again, one at a time.
    pub fn scan<'s, S: ConsentHistory + ?Sized>(&'s self, store: &'s S) -> impl Iterator<Item = Reconsent> + 's {
        let mut events = Vec::new();
        store.subjects().filter_map(move |subject| {
            events.clear();
            events.extend(store.history(&subject).filter(|e| e.at <= self.at));
            // Stable: ties stay in the order recorded.
            events.sort_by_key(|e| e.at);
            let lapsed = self.lapsed(&events);
            (!lapsed.is_empty()).then_some(Reconsent { subject, lapsed })
        })
    }

    /// What one subject must be asked again for; empty for nothing.
    pub fn subject<S: ConsentHistory + ?Sized>(&self, store: &S, subject: &SubjectId) -> Vec<Lapsed> {
        let mut events: Vec<EventView<'_>> = store.history(subject).filter(|e| e.at <= self.at).collect();
        events.sort_by_key(|e| e.at);
        self.lapsed(&events)
    }

    fn lapsed(&self, events: &Events<'_>) -> Vec<Lapsed> {
        let mut candidates = self.candidates(events);
        if candidates.is_empty() {
            return candidates;
        }
        candidates.sort_by(|a, b| a.key().cmp(&b.key()));
        candidates.dedup();
        let mut out = Vec::new();
        for c in candidates {
            self.settle(events, c, &mut out);
        }
        out.sort_by(|a, b| a.key().cmp(&b.key()));
        out.dedup();
        let wider = out.clone();
        out.retain(|l| !wider.iter().any(|w| w.category != l.category && l.within(w)));
        out
    }

    /// What each grant the change concerns would lapse for: the purpose,
    /// the narrower of the grant's and the fresh consent's categories, and
    /// the recipient.
    fn candidates(&self, events: &Events<'_>) -> Vec<Lapsed> {
        let mut out = Vec::new();
        for e in events.iter().filter(|e| self.concerns(e) && self.unexpired(e)) {
            for f in self.fresh.iter().filter(|f| e.scope.purposes.contains(&f.purpose)) {
                let recipient = match (&f.recipient, &e.scope.recipient) {
                    (Some(a), Some(b)) if a != b => continue,
                    (f, g) => f.as_ref().or(g.as_ref()),
                };
                for g in &e.scope.categories {
                    // The narrower of the two; a grant above the category,
                    // even one too little sensitive to cover it whole, may
                    // cover parts of it, which `settle` finds.
                    let lapsing = f
                        .categories
                        .iter()
                        .filter_map(|k| if k.is_within(g) { Some(k) } else { g.is_within(k).then_some(g) });
                    let lapsing: Vec<&CategoryKey> = if f.categories.is_empty() { vec![g] } else { lapsing.collect() };
                    out.extend(lapsing.into_iter().map(|category| Lapsed {
                        purpose: f.purpose.clone(),
                        category: category.clone(),
                        recipient: recipient.cloned(),
                        qualities: f.qualities,
                    }));
                }
            }
        }
        out
    }

    /// Adds `c` to `out` if it lapses whole; else, when an event below its
    /// category may have kept or ended part of it, the parts that lapse.
    fn settle(&self, events: &Events<'_>, c: Lapsed, out: &mut Vec<Lapsed>) {
        if self.lapses(events, &c) {
            out.push(c);
            return;
        }
        let about = || events.iter().filter(|e| e.scope.purposes.contains(&c.purpose));
        // A general grant ended or given again for one recipient may still
        // lapse for another.
        if c.recipient.is_none() {
            let mut named: Vec<&RecipientId> = about().filter_map(|e| e.scope.recipient.as_ref()).collect();
            named.sort();
            named.dedup();
            for r in named {
                self.settle(events, Lapsed { recipient: Some(r.clone()), ..c.clone() }, out);
            }
        }
        // An event below the category, or a grant above it that does not
        // cover it (the category is more sensitive), may leave parts that
        // lapse.
        let split = about().any(|e| {
            e.scope.categories.iter().any(|k| {
                k != &c.category
                    && (k.is_within(&c.category)
                        || (self.concerns(e) && c.category.is_within(k) && !self.covers(k, &c.category)))
            })
        });
        let children = self.children.get(&c.category).filter(|_| split);
        for child in children.into_iter().flatten() {
            self.settle(events, Lapsed { category: child.clone(), ..c.clone() }, out);
        }
    }

    /// Whether `c` lapses whole: a grant the change concerns is in force
    /// for it, and none given under the new version with the qualities
    /// asked.
    fn lapses(&self, events: &Events<'_>, c: &Lapsed) -> bool {
        let last_end = events.iter().rposition(|e| !e.is_grant() && self.ends(e, c));
        let after = events.get(last_end.map_or(0, |end| end + 1)..).unwrap_or_default();
        let mut lapses = false;
        for e in after.iter().filter(|e| self.unexpired(e) && self.grants(e, c)) {
            if self.renews(e) && e.qualities.is_some_and(|q| q.contains(c.qualities)) {
                return false;
            }
            lapses |= self.concerns(e);
        }
        lapses
    }

    /// Whether the grant `e` is in the subject's history a grant for the
    /// question `c`: its purpose, a category that covers `c`'s, its
    /// recipient.
    fn grants(&self, e: &EventView<'_>, c: &Lapsed) -> bool {
        e.is_grant()
            && e.scope.purposes.contains(&c.purpose)
            && e.scope.categories.iter().any(|g| self.covers(g, &c.category))
            && e.scope.recipient.as_ref().is_none_or(|r| c.recipient.as_ref() == Some(r))
    }

    /// Whether the ending event `e` ends the grants for `c`: its purpose, a
    /// category above or below `c`'s, every recipient or `c`'s.
    fn ends(&self, e: &EventView<'_>, c: &Lapsed) -> bool {
        e.scope.purposes.contains(&c.purpose)
            && e.scope.categories.iter().any(|k| k.is_within(&c.category) || c.category.is_within(k))
            && e.scope.recipient.as_ref().is_none_or(|r| c.recipient.as_ref() == Some(r))
    }

    /// Whether a grant on `grant` covers `category`: the same key, or an
    /// ancestor at least as sensitive in the taxonomy.
    fn covers(&self, grant: &CategoryKey, category: &CategoryKey) -> bool {
        grant == category
            || (category.is_within(grant)
                && self.sensitivity(grant).zip(self.sensitivity(category)).is_some_and(|(g, c)| g >= c))
    }

    fn sensitivity(&self, key: &CategoryKey) -> Option<Sensitivity> {
        self.taxonomy.get(key).map(|i| i.sensitivity)
    }

    /// Whether `e` was given under the policy at a version the change
    /// concerns.
    fn concerns(&self, e: &EventView<'_>) -> bool {
        e.is_grant() && e.policy_id == &self.policy && self.concerned.iter().any(|v| v == e.policy_version)
    }

    /// Whether `e` was given under the new version.
    fn renews(&self, e: &EventView<'_>) -> bool {
        e.is_grant() && e.policy_id == &self.policy && e.policy_version == self.new
    }

    fn unexpired(&self, e: &EventView<'_>) -> bool {
        e.expires.is_none_or(|x| x > self.at)
    }
}
