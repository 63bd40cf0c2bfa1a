//! The work of a [`Rescan`]: each subject's events digested to small ids
//! (purposes as bits, categories and recipients numbered as the scan meets
//! them), then the fold of [`Rescan`]'s rules over them.
//!
//! The numbers grow with the vocabulary the store uses (its distinct
//! categories and recipients), never with its subjects; a subject's events
//! are held only while that subject is scanned.

use std::collections::HashMap;

use super::{Lapsed, Rescan};
use crate::consent::history::key;
use crate::consent::{ConsentQualities, EventView, Scope};
use crate::ids::{PurposeId, RecipientId};
use crate::taxonomy::{CategoryKey, Sensitivity};

/// No recipient (on a grant, every recipient), no parent.
const NONE: u32 = u32::MAX;

/// A purpose's bit among the fresh consents' purposes; those past the 63rd
/// share the last bit and are confirmed by name.
fn bit(purpose: usize) -> u64 {
    1 << purpose.min(63)
}

/// The number of categories whose lineage is a bit set.
const MASKED: u32 = 128;

/// The number of scopes [`Scanner::cache`] holds.
const SLOTS: usize = 256;

/// A scope's slot in [`Scanner::cache`], from its address.
#[inline]
fn slot(scope: &Scope) -> usize {
    (std::ptr::from_ref(scope).addr() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(8) as usize % SLOTS
}

/// What an event is to the scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    /// It ends grants.
    End,
    /// A grant under a version the change concerns.
    Concerned,
    /// A grant under the new version.
    Renews,
}

/// A subject's event, digested.
#[derive(Clone, Copy, Debug)]
struct Digest<'s> {
    at: (i64, u32),
    class: Class,
    qualities: ConsentQualities,
    /// The fresh consents' purposes the scope names, as bits.
    purposes: u64,
    recipient: u32,
    /// The scope's categories: a range of [`Scanner::cats`].
    cats: (usize, usize),
    scope: &'s Scope,
}

/// A scope digested once: its purposes as bits, its recipient and
/// categories as numbers.
#[derive(Clone, Debug)]
struct ScopeIds {
    /// The scope's address while the store is borrowed, [`NONE`] as usize
    /// for an empty slot.
    addr: usize,
    purposes: u64,
    recipient: u32,
    cats: Vec<u32>,
}

/// What may lapse: a fresh consent's purpose (its index), a category, a
/// recipient ([`NONE`] for every one) and the qualities asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Item {
    purpose: usize,
    cat: u32,
    recipient: u32,
    qualities: u8,
}

/// A fresh consent, numbered: its purpose's index, its categories (empty
/// for all), its recipient ([`NONE`] for every one), the qualities asked.
#[derive(Clone, Debug)]
struct Fresh {
    purpose: usize,
    cats: Vec<u32>,
    recipient: u32,
    qualities: u8,
}

/// The categories and recipients the scan has met, numbered.
#[derive(Debug, Default)]
struct Vocabulary {
    cat_ids: HashMap<CategoryKey, u32>,
    cats: Vec<CategoryKey>,
    parents: Vec<u32>,
    sensitivity: Vec<Option<Sensitivity>>,
    /// Each category's children in the taxonomy.
    children: Vec<Vec<u32>>,
    /// Each category's ancestors and itself, as bits of their numbers, for
    /// the first [`MASKED`] categories (a later one walks its parents).
    lineage: Vec<u128>,
    /// The least sensitivity of the categories below each one (none when
    /// none is in the taxonomy), once the taxonomy is numbered.
    lowest_below: Vec<Option<Sensitivity>>,
    recipient_ids: HashMap<RecipientId, u32>,
    recipients: Vec<RecipientId>,
}

/// The state of one scan.
#[derive(Debug)]
pub(super) struct Scanner<'r, 's> {
    rescan: &'r Rescan,
    /// The fresh consents' purposes, each once.
    purposes: Vec<PurposeId>,
    /// The fresh consents, numbered.
    fresh: Vec<Fresh>,
    words: Vocabulary,
    /// The scopes last digested, by address (a direct-mapped cache: a
    /// compact store lends one scope for all its events of that scope).
    cache: Vec<ScopeIds>,
    events: Vec<Digest<'s>>,
    cats: Vec<u32>,
    /// The candidates and the lapses of the subject being scanned.
    items: (Vec<Item>, Vec<Item>),
    /// The last few policies and versions met (their addresses and lengths
    /// while the store is borrowed), and their class.
    policies: Vec<Pair>,
}

/// A policy id and version by address and length, and their class.
type Pair = ((usize, usize), (usize, usize), Option<Class>);

impl<'r, 's> Scanner<'r, 's> {
    pub(super) fn new(rescan: &'r Rescan) -> Self {
        let mut purposes: Vec<PurposeId> = Vec::new();
        let mut words = Vocabulary::default();
        for (key, _) in rescan.taxonomy.iter() {
            words.category(rescan, key);
        }
        words.lowest_below();
        let mut fresh = Vec::new();
        for f in &rescan.fresh {
            let p = purposes.iter().position(|p| p == &f.purpose).unwrap_or_else(|| {
                purposes.push(f.purpose.clone());
                purposes.len() - 1
            });
            let cats = f.categories.iter().map(|c| words.category(rescan, c)).collect();
            let recipient = f.recipient.as_ref().map_or(NONE, |r| words.recipient(r));
            fresh.push(Fresh { purpose: p, cats, recipient, qualities: f.qualities.bits() });
        }
        let empty = ScopeIds { addr: usize::MAX, purposes: 0, recipient: NONE, cats: Vec::new() };
        Self {
            rescan,
            purposes,
            fresh,
            words,
            cache: vec![empty; SLOTS],
            events: Vec::new(),
            cats: Vec::new(),
            policies: Vec::new(),
            items: (Vec::new(), Vec::new()),
        }
    }

    /// What the subject whose events are `history` must be asked again for.
    pub(super) fn subject(&mut self, history: impl Iterator<Item = EventView<'s>>) -> Vec<Lapsed> {
        self.digest(history);
        if !self.events.iter().any(|e| e.class == Class::Concerned) {
            return Vec::new();
        }
        // Stable: ties stay in the order recorded. Most histories are
        // recorded in time order already.
        if !self.events.is_sorted_by_key(|e| e.at) {
            self.events.sort_by_key(|e| e.at);
        }
        // The buffers are reused from subject to subject.
        let (mut candidates, mut out) = std::mem::take(&mut self.items);
        out.clear();
        self.candidates(&mut candidates);
        candidates.sort_unstable();
        candidates.dedup();
        // A category is numbered after its parent, so a wider candidate
        // comes first; one within a lapse already found adds nothing.
        for c in candidates.drain(..) {
            if !out.iter().any(|w| self.part_of(&c, w)) {
                self.settle(c, None, &mut out);
            }
        }
        let lapsed = self.output(&mut out);
        self.items = (candidates, out);
        lapsed
    }

    /// The lapses `out` names, each once and the widest only, sorted as
    /// [`Reconsent::lapsed`](super::Reconsent::lapsed) says.
    fn output(&self, out: &mut Vec<Item>) -> Vec<Lapsed> {
        out.sort_unstable();
        out.dedup();
        // An item within another's category (same purpose, recipient and
        // qualities) is part of it: its ancestors are looked up in the
        // sorted list.
        let widest = out
            .iter()
            .filter(|l| !self.words.ancestors(l.cat).any(|a| out.binary_search(&Item { cat: a, ..**l }).is_ok()));
        let mut lapsed: Vec<Lapsed> = widest.filter_map(|i| self.named(*i)).collect();
        lapsed.sort_by(|a, b| a.key().cmp(&b.key()));
        lapsed
    }

    /// Keeps the events the scan reads: at or before its time, grants
    /// under the versions concerned or the new one that have not lapsed,
    /// and ending events, each about a fresh consent's purpose.
    fn digest(&mut self, history: impl Iterator<Item = EventView<'s>>) {
        self.events.clear();
        self.cats.clear();
        let r = self.rescan;
        let at = key(r.at);
        for e in history.filter(|e| e.time() <= at) {
            let slot = slot(e.scope);
            if self.cache.get(slot).is_none_or(|c| c.addr != std::ptr::from_ref(e.scope).addr()) {
                let ids = self.scope_ids(e.scope);
                if let Some(s) = self.cache.get_mut(slot) {
                    *s = ids;
                }
            }
            if self.cache.get(slot).is_none_or(|ids| ids.purposes == 0) {
                continue;
            }
            let class = match e.qualities {
                None => Class::End,
                Some(_) if e.expires.is_some_and(|x| x <= r.at) => continue,
                Some(_) => match self.class(&e) {
                    Some(class) => class,
                    None => continue,
                },
            };
            let Some(ids) = self.cache.get(slot) else { continue };
            let start = self.cats.len();
            self.cats.extend_from_slice(&ids.cats);
            let qualities = e.qualities.unwrap_or(ConsentQualities::empty());
            let (purposes, recipient, cats) = (ids.purposes, ids.recipient, (start, self.cats.len()));
            self.events.push(Digest { at: e.time(), class, qualities, purposes, recipient, cats, scope: e.scope });
        }
    }

    /// A grant's class by its policy and version, remembered for the last
    /// few pairs met (a compact store lends the same two for all its grants
    /// under a version); `None` for a grant the scan does not read.
    #[inline]
    fn class(&mut self, e: &EventView<'s>) -> Option<Class> {
        let pair = (e.policy_id.as_str().as_ptr().addr(), e.policy_version.as_ptr().addr());
        let lens = (e.policy_id.as_str().len(), e.policy_version.len());
        if let Some((_, _, class)) = self.policies.iter().find(|(p, l, _)| (*p, *l) == (pair, lens)) {
            return *class;
        }
        let r = self.rescan;
        let class = if e.policy_id != &r.policy {
            None
        } else if r.concerned.iter().any(|v| v == e.policy_version) {
            Some(Class::Concerned)
        } else {
            (e.policy_version == r.new).then_some(Class::Renews)
        };
        if self.policies.len() == 8 {
            self.policies.clear();
        }
        self.policies.push((pair, lens, class));
        class
    }

    fn scope_ids(&mut self, scope: &Scope) -> ScopeIds {
        let mut purposes = 0;
        for p in &scope.purposes {
            if let Some(i) = self.purposes.iter().position(|q| q == p) {
                purposes |= bit(i);
            }
        }
        let (mut recipient, mut cats) = (NONE, Vec::new());
        if purposes != 0 {
            recipient = scope.recipient.as_ref().map_or(NONE, |r| self.words.recipient(r));
            cats = scope.categories.iter().map(|c| self.words.category(self.rescan, c)).collect();
        }
        ScopeIds { addr: std::ptr::from_ref(scope).addr(), purposes, recipient, cats }
    }

    /// What each grant the change concerns would lapse for: the purpose,
    /// the narrower of the grant's and the fresh consent's categories (a
    /// grant above the category, even one too little sensitive to cover it
    /// whole, may cover parts of it, which `settle` finds), the recipient.
    fn candidates(&self, out: &mut Vec<Item>) {
        for e in self.events.iter().filter(|e| e.class == Class::Concerned) {
            for f in self.fresh.iter().filter(|f| self.names(e, f.purpose)) {
                let recipient = match (f.recipient, e.recipient) {
                    (a, b) if a != NONE && b != NONE && a != b => continue,
                    (NONE, b) => b,
                    (a, _) => a,
                };
                let item = |cat| Item { purpose: f.purpose, cat, recipient, qualities: f.qualities };
                for &g in self.cats_of(e) {
                    if f.cats.is_empty() {
                        out.push(item(g));
                    }
                    for &k in &f.cats {
                        if self.words.within(k, g) {
                            out.push(item(k));
                        } else if self.words.within(g, k) {
                            out.push(item(g));
                        }
                    }
                }
            }
        }
    }

    /// Adds `c` to `out` if it lapses whole; else the parts of it that
    /// lapse, where an event may have kept or ended a part.
    /// `lapses`: whether `c` lapses whole, if already known.
    fn settle(&self, c: Item, lapses: Option<bool>, out: &mut Vec<Item>) {
        if lapses.unwrap_or_else(|| self.lapses(c)) {
            out.push(c);
            return;
        }
        // A general grant ended or given again for one recipient may still
        // lapse for another.
        if c.recipient == NONE {
            // Each recipient once, in the order met (the lapses are sorted
            // at the end); no list is made.
            let about = || self.about(c).map(|e| e.recipient);
            for (i, recipient) in about().enumerate() {
                if recipient != NONE && !about().take(i).any(|r| r == recipient) {
                    self.settle(Item { recipient, ..c }, None, out);
                }
            }
        }
        // An event below the category, or a grant above it that does not
        // cover it (the category is more sensitive), may leave parts that
        // lapse.
        let w = &self.words;
        let split = self.about(c).any(|e| {
            self.cats_of(e).iter().any(|&k| {
                k != c.cat
                    && (w.within(k, c.cat)
                        || (e.class == Class::Concerned
                            && w.within(c.cat, k)
                            && !w.covers(k, c.cat)
                            && w.covers_some_below(k, c.cat)))
            })
        });
        if split {
            self.settle_children(c, out);
        }
    }

    /// Settles each child of `c`'s category. A child no event about the
    /// purpose names, at or below it, is reached only by the events above
    /// `c`, so whether it lapses whole turns on its sensitivity alone:
    /// asked once per sensitivity.
    fn settle_children(&self, c: Item, out: &mut Vec<Item>) {
        let w = &self.words;
        let Some(children) = w.children.get(c.cat as usize) else { return };
        // The categories at or above some event's: a bit set when every
        // category is masked.
        let touched = (w.cats.len() <= MASKED as usize).then(|| {
            let cats = self.about(c).flat_map(|e| self.cats_of(e));
            cats.fold(0u128, |m, &k| m | w.lineage.get(k as usize).copied().unwrap_or(0))
        });
        let mut whole: [Option<bool>; 3] = [None; 3];
        for &cat in children {
            let child = Item { cat, ..c };
            let alone = touched.is_some_and(|m| cat < MASKED && m & 1 << cat == 0);
            let memo = w.sensitivity.get(cat as usize).copied().flatten().filter(|_| alone).map(|s| s as usize);
            let lapses =
                memo.and_then(|i| whole.get_mut(i)).map(|slot| *slot.get_or_insert_with(|| self.lapses(child)));
            self.settle(child, lapses, out);
        }
    }

    /// Whether `c` lapses whole: a grant the change concerns is in force
    /// for it, and none given under the new version with the qualities
    /// asked.
    fn lapses(&self, c: Item) -> bool {
        let w = &self.words;
        let asked = ConsentQualities::from_bits_retain(c.qualities);
        let mut lapses = false;
        // From the latest back to the latest event that ends `c`: the
        // grants after it are those in force.
        for e in self.events.iter().rev() {
            if !self.names(e, c.purpose) || (e.recipient != NONE && e.recipient != c.recipient) {
                continue;
            }
            let cats = self.cats_of(e);
            if e.class == Class::End {
                if cats.iter().any(|&k| w.within(k, c.cat) || w.within(c.cat, k)) {
                    break;
                }
            } else if cats.iter().any(|&g| w.covers(g, c.cat)) {
                if e.class == Class::Renews && e.qualities.contains(asked) {
                    return false;
                }
                lapses |= e.class == Class::Concerned;
            }
        }
        lapses
    }

    /// The subject's events about `c`'s purpose.
    fn about(&self, c: Item) -> impl Iterator<Item = &Digest<'s>> {
        self.events.iter().filter(move |e| self.names(e, c.purpose))
    }

    /// Whether the event's scope names the fresh consents' purpose `p`.
    fn names(&self, e: &Digest<'_>, p: usize) -> bool {
        e.purposes & bit(p) != 0 && (p < 63 || self.purposes.get(p).is_some_and(|name| e.scope.purposes.contains(name)))
    }

    fn cats_of(&self, e: &Digest<'_>) -> &[u32] {
        self.cats.get(e.cats.0..e.cats.1).unwrap_or_default()
    }

    /// Whether `l` asks for part of what `w` asks for.
    fn part_of(&self, l: &Item, w: &Item) -> bool {
        (l.purpose, l.recipient, l.qualities) == (w.purpose, w.recipient, w.qualities)
            && self.words.within(l.cat, w.cat)
    }

    fn named(&self, i: Item) -> Option<Lapsed> {
        let recipient = match i.recipient {
            NONE => None,
            r => Some(self.words.recipients.get(r as usize)?.clone()),
        };
        Some(Lapsed {
            purpose: self.purposes.get(i.purpose)?.clone(),
            category: self.words.cats.get(i.cat as usize)?.clone(),
            recipient,
            qualities: ConsentQualities::from_bits_retain(i.qualities),
        })
    }
}

impl Vocabulary {
    /// The number of `key`, numbering it and its ancestors if new.
    fn category(&mut self, rescan: &Rescan, key: &CategoryKey) -> u32 {
        if let Some(id) = self.cat_ids.get(key) {
            return *id;
        }
        let parent = key.parent().map_or(NONE, |p| self.category(rescan, &p));
        let id = u32::try_from(self.cats.len()).unwrap_or(NONE);
        self.cat_ids.insert(key.clone(), id);
        self.cats.push(key.clone());
        self.parents.push(parent);
        let inherited = if parent < MASKED { self.lineage.get(parent as usize).copied().unwrap_or(0) } else { 0 };
        self.lineage.push(if id < MASKED { inherited | 1 << id } else { 0 });
        let sensitivity = rescan.taxonomy.get(key).map(|i| i.sensitivity);
        self.sensitivity.push(sensitivity);
        self.children.push(Vec::new());
        if let Some(siblings) = self.children.get_mut(parent as usize).filter(|_| sensitivity.is_some()) {
            siblings.push(id);
        }
        id
    }

    fn recipient(&mut self, r: &RecipientId) -> u32 {
        if let Some(id) = self.recipient_ids.get(r) {
            return *id;
        }
        let id = u32::try_from(self.recipients.len()).unwrap_or(NONE);
        self.recipient_ids.insert(r.clone(), id);
        self.recipients.push(r.clone());
        id
    }

    /// The ancestors of category `c`, nearest first.
    fn ancestors(&self, c: u32) -> impl Iterator<Item = u32> + '_ {
        let parent = |c: &u32| Some(self.parents.get(*c as usize).copied().unwrap_or(NONE)).filter(|p| *p != NONE);
        std::iter::successors(parent(&c), parent)
    }

    /// Whether category `a` is `b` or lies below it.
    #[inline]
    fn within(&self, mut a: u32, b: u32) -> bool {
        if a < MASKED && b < MASKED {
            return self.lineage.get(a as usize).is_some_and(|l| l & 1 << b != 0);
        }
        while a != NONE {
            if a == b {
                return true;
            }
            a = self.parents.get(a as usize).copied().unwrap_or(NONE);
        }
        false
    }

    /// Numbers, for each category, the least sensitivity below it.
    fn lowest_below(&mut self) {
        let mut lowest = vec![None; self.cats.len()];
        // A category is numbered after its parent: children come later.
        for c in (0..self.cats.len()).rev() {
            let children = self.children.get(c).map_or(&[][..], Vec::as_slice);
            let below = children.iter().filter_map(|&k| {
                let own = self.sensitivity.get(k as usize).copied().flatten();
                let deeper = lowest.get(k as usize).copied().flatten();
                own.into_iter().chain(deeper).min()
            });
            let min = below.min();
            if let Some(slot) = lowest.get_mut(c) {
                *slot = min;
            }
        }
        self.lowest_below = lowest;
    }

    /// Whether a grant on `grant`, above `category`, covers some category
    /// below `category` (one no more sensitive than the grant).
    fn covers_some_below(&self, grant: u32, category: u32) -> bool {
        let sensitivity = self.sensitivity.get(grant as usize).copied().flatten();
        let lowest = self.lowest_below.get(category as usize).copied().flatten();
        sensitivity.zip(lowest).is_some_and(|(g, l)| g >= l)
    }

    /// Whether a grant on `grant` covers `category`: the same key, or an
    /// ancestor at least as sensitive in the taxonomy.
    fn covers(&self, grant: u32, category: u32) -> bool {
        let sensitivity = |c: u32| self.sensitivity.get(c as usize).copied().flatten();
        grant == category
            || (self.within(category, grant)
                && sensitivity(grant).zip(sensitivity(category)).is_some_and(|(g, c)| g >= c))
    }
}
