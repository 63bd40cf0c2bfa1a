//! Who must re-consent: the subjects whose grants a revision of the policy
//! made lapse, streamed from a [`ConsentHistory`]. The question and its
//! answer are here; the work of a scan, in this crate's own small ids, is
//! in `scanner.rs`.

mod scanner;

use chrono::{DateTime, Utc};

use super::{ConsentHistory, ConsentQualities};
use crate::ids::{PolicyId, PurposeId, RecipientId, SubjectId};
use crate::policy::{FreshConsent, Policy};
use crate::taxonomy::{CategoryKey, Taxonomy};

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
}

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
        Self {
            policy: policy.into(),
            concerned: vec![old.into()],
            new: new.into(),
            fresh,
            at: DateTime::<Utc>::MAX_UTC,
            taxonomy,
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
        let mut scanner = scanner::Scanner::new(self);
        store.histories().filter_map(move |(subject, history)| {
            let lapsed = scanner.subject(history);
            (!lapsed.is_empty()).then(|| Reconsent { subject: SubjectId::from(subject.as_ref()), lapsed })
        })
    }

    /// What one subject must be asked again for; empty for nothing.
    pub fn subject<S: ConsentHistory + ?Sized>(&self, store: &S, subject: &SubjectId) -> Vec<Lapsed> {
        scanner::Scanner::new(self).subject(store.history(subject))
    }
}
