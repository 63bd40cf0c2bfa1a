//! A [`CompactLedger`] as bytes and back: what a durable log keeps so that
//! a replica loads without replaying every record.
//!
//! The format, little-endian throughout, version 1:
//!
//! - a header of 52 bytes: the magic `PECLSNAP`, the version (`u32`), the
//!   body's length (`u64`) and the SHA-256 of the body (32 bytes);
//! - the vocabulary, each list a `u32` count then its items in id order:
//!   purposes, categories (parents are not stored: each is found again from
//!   its key, and must come before it), recipients, policy versions (id and
//!   version), descriptions and permissions (as JSON), scopes (the ids of
//!   their purposes and categories, their recipient and description), and
//!   the expiries of grants (a stamp each);
//! - the subjects, a `u64` count, each with its id (a text), its number of
//!   events and how many of them have a recording time (`u32`s), then its
//!   events in arrival order. An event is its kind (the top bit set when a
//!   recording time follows) and detail bytes, its 16-byte id, then LEB128
//!   numbers: its seconds as a zigzag difference from the previous event's,
//!   its nanoseconds, its offset (zigzag), the ids of its scope, policy
//!   version and expiry (each plus one, zero for none), and its recording
//!   time if it has one (seconds as a zigzag difference from the event's,
//!   nanoseconds, offset). About 30 bytes where fixed fields took 62.
//!
//! A text is a `u32` length then UTF-8; a stamp is UTC seconds (`i64`),
//! nanoseconds (`u32`) and the offset in seconds (`i32`). What the ledger
//! derives (each event's purpose bits, whether a subject's events are out of
//! time order, its set of ids, the scopes by name) is derived again, not
//! stored; vocabulary bindings are not kept (bind the ledger again).
//!
//! Decoding treats the bytes as untrusted: every count is bounded by the
//! bytes left, every id an event or a scope holds is checked against what it
//! indexes, and anything else is refused with the offset of the first byte
//! that does not fit. An event id twice within a subject is not looked for
//! (no look-up depends on ids being distinct; `append` keeps refusing the
//! id).

use ring::digest;

use super::{
    Cold, CompactLedger, Events, Hot, ID_SCAN_LIMIT, Interner, Kind, NONE, ScopeIds, Stamp, SubjectKey, purpose_bit,
};
use crate::consent::{ConsentQualities, Described};
use crate::error::Error;
use crate::ids::{PolicyId, PurposeId, RecipientId, SubjectId};
use crate::policy::Permission;
use crate::taxonomy::CategoryKey;

/// The first bytes of every snapshot.
const MAGIC: [u8; 8] = *b"PECLSNAP";
/// The format this module writes and reads.
const VERSION: u32 = 1;
/// Magic, version, body length, SHA-256 of the body.
const HEADER: usize = 8 + 4 + 8 + 32;
/// The fewest bytes an event takes: its kind and detail, its id, and six
/// numbers of a byte at least.
const EVENT_MIN: usize = 2 + 16 + 6;
/// One stamp: seconds, nanoseconds, offset.
const STAMP: usize = 8 + 4 + 4;
/// The bit of an event's kind byte that says it has a recording time.
const RECORDED: u8 = 0x80;
/// The fewest bytes a subject takes: an id's length and a byte of it, two
/// counts, an event (a subject is in the ledger for its events).
const SUBJECT_MIN: usize = 4 + 1 + 4 + 4 + EVENT_MIN;

impl CompactLedger {
    /// The ledger as bytes, to keep beside a durable log (see
    /// [`Replica::checkpoint`](crate::Replica::checkpoint)) and load with
    /// [`from_snapshot`](Self::from_snapshot).
    ///
    /// Every event is kept as it arrived, with its recording time; what
    /// [`forget`](Self::forget) dropped is not in it. The bindings to an
    /// engine's vocabulary are not: bind the loaded ledger again
    /// ([`Engine::bind_ledger`](crate::Engine::bind_ledger)).
    ///
    /// # Example
    ///
    /// ```
    /// use privacy_engine::{CompactLedger, ConsentChange, ConsentEvent, Permission, Uuid};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut ledger = CompactLedger::new();
    /// let change = ConsentChange::PermissionOn { permission: Permission::Camera };
    /// let at = "2024-01-01T10:00:00+08:00".parse()?;
    /// ledger.append(ConsentEvent::new(Uuid::nil(), at, "u1", "seed-004", "2021-08-20", change))?;
    /// let back = CompactLedger::from_snapshot(&ledger.to_snapshot())?;
    /// assert!(back.events(&"u1".into()).eq(ledger.events(&"u1".into())));
    /// # Ok(()) }
    /// ```
    pub fn to_snapshot(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + self.snapshot_size());
        out.extend_from_slice(&MAGIC);
        put_u32(&mut out, VERSION);
        out.extend_from_slice(&[0; 8 + 32]);
        self.write_vocabulary(&mut out);
        put_u64(&mut out, self.subjects.len() as u64);
        for (key, events) in &self.subjects {
            write_subject(&mut out, key.as_bytes(), events);
        }
        let body = out.get(HEADER..).unwrap_or_default();
        let length = (body.len() as u64).to_le_bytes();
        let sum = digest::digest(&digest::SHA256, body);
        if let Some(slot) = out.get_mut(12..HEADER) {
            slot.iter_mut().zip(length.iter().chain(sum.as_ref())).for_each(|(s, b)| *s = *b);
        }
        out
    }

    /// A ledger from the bytes [`to_snapshot`](Self::to_snapshot) made.
    ///
    /// # Errors
    ///
    /// An error of kind [`Store`](crate::ErrorKind::Store), with the offset
    /// of the first byte that does not fit, for bytes that are not a
    /// snapshot of this version, are cut short, do not match their checksum
    /// (torn or altered), or hold an id or a count that does not fit the
    /// rest (a record naming a scope, policy version, expiry or category
    /// that is not there, a name twice, a subject twice). Nothing is
    /// trusted: no input makes it panic or build a ledger whose look-ups
    /// could.
    pub fn from_snapshot(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader { bytes, at: 0 };
        if r.take::<8>()? != MAGIC {
            return Err(r.fail(0, "not a consent ledger snapshot"));
        }
        let version = r.u32()?;
        if version != VERSION {
            return Err(r.fail(8, &format!("snapshot version {version} is not supported (only {VERSION})")));
        }
        let length = r.u64()?;
        let sum = r.take::<32>()?;
        if u64::try_from(r.bytes.len()).ok() != Some(length) {
            return Err(r.fail(12, &format!("the body is {} bytes, not {length}", r.bytes.len())));
        }
        if digest::digest(&digest::SHA256, r.bytes).as_ref() != sum {
            return Err(r.fail(20, "the checksum does not match (torn or altered)"));
        }
        let mut ledger = CompactLedger::new();
        let purpose_bits = ledger.read_vocabulary(&mut r)?;
        ledger.read_subjects(&mut r, &purpose_bits)?;
        if !r.bytes.is_empty() {
            return Err(r.fail(r.at, "bytes after the last subject"));
        }
        Ok(ledger)
    }

    /// About how many bytes the body takes, to allocate once.
    fn snapshot_size(&self) -> usize {
        let events: usize = self.subjects.values().map(|e| e.hot.len() * 40 + e.recorded.len() * 12).sum();
        events + self.subjects.len() * 32 + self.expiries.len() * STAMP + 4096
    }

    fn write_vocabulary(&self, out: &mut Vec<u8>) {
        write_list(out, &self.purposes.values, |out, p| put_text(out, p.as_str()));
        write_list(out, &self.categories.values, |out, c| put_text(out, c.as_str()));
        write_list(out, &self.recipients.values, |out, r| put_text(out, r.as_str()));
        write_list(out, &self.policies.values, |out, (id, version)| {
            put_text(out, id.as_str());
            put_text(out, version);
        });
        // Serialising these plain types cannot fail; were it to, the empty
        // text would be refused when read.
        write_list(out, &self.described.values, |out, d| {
            put_text(out, &serde_json::to_string(d).unwrap_or_default());
        });
        write_list(out, &self.permissions, |out, p| put_text(out, &serde_json::to_string(p).unwrap_or_default()));
        write_list(out, &self.scopes.values, |out, s| {
            write_list(out, &s.purposes, |out, p| put_u32(out, *p));
            write_list(out, &s.categories, |out, c| put_u32(out, *c));
            put_u32(out, s.recipient);
            put_u32(out, s.described);
        });
        write_list(out, &self.expiries, |out, e| put_stamp(out, *e));
    }

    /// Reads the vocabulary; returns each scope's purpose bits.
    fn read_vocabulary(&mut self, r: &mut Reader<'_>) -> Result<Vec<u8>, Error> {
        read_interner(r, &mut self.purposes, 4, |r| Ok(PurposeId::from(r.text()?)))?;
        read_interner(r, &mut self.categories, 4, |r| {
            let at = r.at;
            CategoryKey::new(r.text()?).map_err(|_| r.fail(at, "not a category key"))
        })?;
        self.parents = self.read_parents(r)?;
        read_interner(r, &mut self.recipients, 4, |r| Ok(RecipientId::from(r.text()?)))?;
        read_interner(r, &mut self.policies, 8, |r| Ok((PolicyId::from(r.text()?), r.text()?)))?;
        read_interner(r, &mut self.described, 4, |r| r.json::<Described>())?;
        let count = r.count(4)?;
        for _ in 0..count {
            let at = r.at;
            let permission = r.json::<Permission>()?;
            if self.permissions.contains(&permission) || self.permissions.len() > usize::from(u8::MAX) {
                return Err(r.fail(at, "a permission twice, or too many"));
            }
            self.permissions.push(permission);
        }
        let purpose_bits = self.read_scopes(r)?;
        let count = r.count(STAMP)?;
        self.expiries.reserve_exact(count);
        for _ in 0..count {
            let at = r.at;
            self.expiries.push(r.stamp()?.ok_or_else(|| r.fail(at, "an expiry out of range"))?);
        }
        Ok(purpose_bits)
    }

    /// Each category's parent, found from its key: interned, and before it.
    fn read_parents(&self, r: &Reader<'_>) -> Result<Vec<u32>, Error> {
        let parent = |(i, key): (usize, &CategoryKey)| match key.parent() {
            None => Ok(NONE),
            Some(p) => match self.categories.get(&p) {
                Some(id) if usize::try_from(id).is_ok_and(|id| id < i) => Ok(id),
                _ => Err(r.fail(r.at, &format!("category `{key}` comes before its parent or without it"))),
            },
        };
        self.categories.values.iter().enumerate().map(parent).collect()
    }

    /// Reads the scopes, checking every id they hold; returns their purpose
    /// bits.
    fn read_scopes(&mut self, r: &mut Reader<'_>) -> Result<Vec<u8>, Error> {
        let count = r.count(16)?;
        let mut purpose_bits = Vec::with_capacity(count);
        for i in 0..count {
            let at = r.at;
            let ids = |r: &mut Reader<'_>, below: usize| -> Result<Box<[u32]>, Error> {
                let n = r.count(4)?;
                let ids = (0..n).map(|_| r.id(below)).collect::<Result<Box<[u32]>, Error>>()?;
                if ids.is_empty() { Err(r.fail(at, "a scope with no purpose or no category")) } else { Ok(ids) }
            };
            let purposes = ids(r, self.purposes.values.len())?;
            let categories = ids(r, self.categories.values.len())?;
            let recipient = r.optional_id(self.recipients.values.len())?;
            let described = r.optional_id(self.described.values.len())?;
            purpose_bits.push(purposes.iter().fold(0, |bits, p| bits | purpose_bit(*p)));
            let scope = ScopeIds { purposes, categories, recipient, described };
            if usize::try_from(self.scopes.intern(&scope)?).ok() != Some(i) {
                return Err(r.fail(at, "a scope twice"));
            }
            let named = self.rebuild_scope(u32::try_from(i).unwrap_or(NONE));
            self.scope_names.push(named.ok_or_else(|| r.fail(at, "a scope that names nothing"))?);
        }
        Ok(purpose_bits)
    }

    fn read_subjects(&mut self, r: &mut Reader<'_>, purpose_bits: &[u8]) -> Result<(), Error> {
        let at = r.at;
        let count = usize::try_from(r.u64()?)
            .ok()
            .filter(|n| n.checked_mul(SUBJECT_MIN).is_some_and(|b| b <= r.bytes.len()))
            .ok_or_else(|| r.fail(at, "more subjects than bytes"))?;
        self.subjects.reserve(count);
        let check = Check {
            purpose_bits,
            policies: self.policies.values.len(),
            expiries: self.expiries.len(),
            permissions: self.permissions.len(),
        };
        for _ in 0..count {
            let at = r.at;
            let text = std::str::from_utf8(r.slice_of_count(1)?).ok().filter(|t| !t.is_empty());
            let text = text.ok_or_else(|| r.fail(at, "a subject id empty or not in UTF-8"))?;
            let key = SubjectKey::inline(text).unwrap_or_else(|| SubjectKey::Shared(SubjectId::from(text)));
            let events = read_events(r, &check)?;
            if events.hot.is_empty() {
                return Err(r.fail(at, "a subject with no event"));
            }
            self.len = self.len.saturating_add(events.hot.len());
            if self.subjects.insert(key, events).is_some() {
                return Err(r.fail(at, "a subject twice"));
            }
        }
        Ok(())
    }
}

fn write_subject(out: &mut Vec<u8>, key: &[u8], events: &Events) {
    put_u32(out, key.len() as u32);
    out.extend_from_slice(key);
    put_u32(out, events.hot.len() as u32);
    put_u32(out, events.recorded.len() as u32);
    let mut recorded = events.recorded.iter().peekable();
    let mut last = 0_i64;
    for (i, (h, c)) in events.hot.iter().zip(&events.cold).enumerate() {
        let stamp = recorded.next_if(|(j, _)| *j == i).map(|(_, s)| *s);
        out.extend_from_slice(&[h.kind as u8 | if stamp.is_some() { RECORDED } else { 0 }, h.detail]);
        out.extend_from_slice(&c.id);
        put_varint(out, zigzag(h.secs.wrapping_sub(last)));
        last = h.secs;
        put_varint(out, u64::from(h.nanos));
        put_varint(out, zigzag(i64::from(c.offset)));
        for id in [h.scope, h.policy, c.expires] {
            put_varint(out, u64::from(id.wrapping_add(1)));
        }
        if let Some(s) = stamp {
            put_varint(out, zigzag(s.secs.wrapping_sub(h.secs)));
            put_varint(out, u64::from(s.nanos));
            put_varint(out, zigzag(i64::from(s.offset)));
        }
    }
}

/// What an event's ids must be below.
struct Check<'v> {
    purpose_bits: &'v [u8],
    policies: usize,
    expiries: usize,
    permissions: usize,
}

/// Reads one subject's events, checking each.
fn read_events(r: &mut Reader<'_>, check: &Check<'_>) -> Result<Events, Error> {
    let at = r.at;
    let n = r.u32()? as usize;
    let stamps = r.u32()? as usize;
    if n.checked_mul(EVENT_MIN).is_none_or(|b| b > r.bytes.len()) || stamps > n {
        return Err(r.fail(at, "more events than bytes"));
    }
    let mut events = Events {
        hot: Vec::with_capacity(n),
        cold: Vec::with_capacity(n),
        recorded: Vec::with_capacity(stamps),
        unordered: false,
        ids: None,
    };
    let mut c = Cursor { bytes: r.bytes, at: 0, secs: 0 };
    let mut last = (i64::MIN, 0);
    for i in 0..n {
        let start = c.at;
        let (hot, cold, recorded) =
            read_event(&mut c, check).ok_or_else(|| r.fail(r.at + start, "an event that does not fit"))?;
        if let Some(stamp) = recorded {
            events.recorded.push((i, stamp));
        }
        events.unordered |= (hot.secs, hot.nanos) < last;
        last = (hot.secs, hot.nanos);
        events.hot.push(hot);
        events.cold.push(cold);
    }
    if events.recorded.len() != stamps {
        return Err(r.fail(at, "a count of recording times that does not match the events"));
    }
    r.slice(Some(c.at))?;
    if n > ID_SCAN_LIMIT {
        events.ids = Some(Box::new(events.cold.iter().map(|c| c.id).collect()));
    }
    Ok(events)
}

/// One event and its recording time if it has one; `None` if it is cut
/// short or does not fit the vocabulary.
#[inline]
fn read_event(c: &mut Cursor<'_>, check: &Check<'_>) -> Option<(Hot, Cold, Option<Stamp>)> {
    let [flags, detail] = c.take::<2>()?;
    let id = c.take::<16>()?;
    c.secs = c.secs.wrapping_add(unzigzag(c.varint()?));
    let (secs, nanos, offset) = (c.secs, c.narrow()?, c.offset()?);
    let [scope, policy, expires] = [c.id()?, c.id()?, c.id()?];
    let recorded = match flags & RECORDED {
        0 => None,
        _ => Some(Stamp { secs: secs.wrapping_add(unzigzag(c.varint()?)), nanos: c.narrow()?, offset: c.offset()? }),
    };
    if !Stamp::fits(secs, nanos, offset) || recorded.is_some_and(|s| !Stamp::fits(s.secs, s.nanos, s.offset)) {
        return None;
    }
    let kind = kind(flags & !RECORDED)?;
    let below = |id: u32, n: usize| usize::try_from(id).is_ok_and(|i| i < n);
    let purpose_bits = match kind {
        Kind::PermissionOn | Kind::PermissionOff => {
            (scope == NONE && below(u32::from(detail), check.permissions)).then_some(0)?
        }
        _ => check.purpose_bits.get(usize::try_from(scope).ok()?).copied()?,
    };
    let coherent = match kind {
        Kind::Grant => ConsentQualities::from_bits(detail).is_some_and(ConsentQualities::is_coherent),
        Kind::PermissionOn | Kind::PermissionOff => true,
        _ => detail == 0,
    };
    let expiry_fits = match kind {
        Kind::Grant => expires == NONE || below(expires, check.expiries),
        _ => expires == NONE,
    };
    if !coherent || !expiry_fits || !below(policy, check.policies) {
        return None;
    }
    let hot = Hot { secs, nanos, scope, policy, purpose_bits, kind, detail, lapses: expires != NONE };
    Some((hot, Cold { id, offset, expires }, recorded))
}

/// Reads a subject's events: the bytes left, the offset into them, and the
/// last event's seconds (each event's are a difference from them).
struct Cursor<'b> {
    bytes: &'b [u8],
    at: usize,
    secs: i64,
}

impl Cursor<'_> {
    #[inline(always)]
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let bytes = self.bytes.get(self.at..)?.first_chunk::<N>()?;
        self.at += N;
        Some(*bytes)
    }

    /// An unsigned LEB128 number of up to 64 bits.
    #[inline(always)]
    fn varint(&mut self) -> Option<u64> {
        let mut value = 0;
        for shift in (0..64).step_by(7) {
            let byte = *self.bytes.get(self.at)?;
            self.at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    fn narrow(&mut self) -> Option<u32> {
        u32::try_from(self.varint()?).ok()
    }

    fn offset(&mut self) -> Option<i32> {
        i32::try_from(unzigzag(self.varint()?)).ok()
    }

    /// An id written plus one, so that [`NONE`] is a zero.
    fn id(&mut self) -> Option<u32> {
        Some(self.narrow()?.wrapping_sub(1))
    }
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

fn unzigzag(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

fn kind(byte: u8) -> Option<Kind> {
    [Kind::Grant, Kind::Refuse, Kind::Withdraw, Kind::Expire, Kind::Revoke, Kind::PermissionOn, Kind::PermissionOff]
        .into_iter()
        .find(|k| *k as u8 == byte)
}

fn read_stamp(bytes: &[u8]) -> Option<Stamp> {
    let bytes = <&[u8; STAMP]>::try_from(bytes).ok()?;
    let [s0, s1, s2, s3, s4, s5, s6, s7, n0, n1, n2, n3, o0, o1, o2, o3] = *bytes;
    let stamp = Stamp {
        secs: i64::from_le_bytes([s0, s1, s2, s3, s4, s5, s6, s7]),
        nanos: u32::from_le_bytes([n0, n1, n2, n3]),
        offset: i32::from_le_bytes([o0, o1, o2, o3]),
    };
    Stamp::fits(stamp.secs, stamp.nanos, stamp.offset).then_some(stamp)
}

impl Stamp {
    /// Whether a stamp [decodes](Stamp::decode): at once for the times of
    /// this era and many after, by asking chrono for the rest.
    #[inline]
    fn fits(secs: i64, nanos: u32, offset: i32) -> bool {
        // Far inside chrono's range (years ±262,000), whatever the offset.
        const SAFE: i64 = 8_000_000_000_000;
        let plain = nanos < 1_000_000_000 && offset.unsigned_abs() < 86_400 && secs.unsigned_abs() < SAFE as u64;
        plain || Stamp { secs, nanos, offset }.decode().is_some()
    }
}

fn write_list<T>(out: &mut Vec<u8>, items: &[T], mut each: impl FnMut(&mut Vec<u8>, &T)) {
    put_u32(out, items.len() as u32);
    for item in items {
        each(out, item);
    }
}

/// Reads an interner's values in id order, refusing a value twice.
fn read_interner<T: Clone + Eq + std::hash::Hash>(
    r: &mut Reader<'_>,
    interner: &mut Interner<T>,
    least: usize,
    mut read: impl FnMut(&mut Reader<'_>) -> Result<T, Error>,
) -> Result<(), Error> {
    let count = r.count(least)?;
    for i in 0..count {
        let at = r.at;
        let value = read(r)?;
        if usize::try_from(interner.intern(&value)?).ok() != Some(i) {
            return Err(r.fail(at, "a name twice"));
        }
    }
    Ok(())
}

fn put_u32(out: &mut Vec<u8>, n: u32) {
    out.extend_from_slice(&n.to_le_bytes());
}

fn put_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(&n.to_le_bytes());
}

fn put_text(out: &mut Vec<u8>, text: &str) {
    put_u32(out, text.len() as u32);
    out.extend_from_slice(text.as_bytes());
}

fn put_stamp(out: &mut Vec<u8>, s: Stamp) {
    put_u64(out, s.secs as u64);
    put_u32(out, s.nanos);
    put_u32(out, s.offset as u32);
}

/// The bytes not yet read, and the offset of the first of them.
struct Reader<'b> {
    bytes: &'b [u8],
    at: usize,
}

impl<'b> Reader<'b> {
    fn fail(&self, at: usize, what: &str) -> Error {
        Error::store(format!("consent ledger snapshot refused at byte {at}: {what}"))
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let (head, rest) = self.bytes.split_first_chunk::<N>().ok_or_else(|| self.fail(self.at, "cut short"))?;
        self.bytes = rest;
        self.at += N;
        Ok(*head)
    }

    /// The next `len` bytes; `None` (an overflow) is cut short too.
    fn slice(&mut self, len: Option<usize>) -> Result<&'b [u8], Error> {
        let split = len.and_then(|len| self.bytes.split_at_checked(len));
        let (head, rest) = split.ok_or_else(|| self.fail(self.at, "cut short"))?;
        self.bytes = rest;
        self.at += head.len();
        Ok(head)
    }

    /// A `u32` length, then that many bytes times `size`.
    fn slice_of_count(&mut self, size: usize) -> Result<&'b [u8], Error> {
        let n = self.u32()? as usize;
        self.slice(n.checked_mul(size))
    }

    fn u32(&mut self) -> Result<u32, Error> {
        self.take().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Result<u64, Error> {
        self.take().map(u64::from_le_bytes)
    }

    /// A `u32` count of items of at least `least` bytes each, no more than
    /// the bytes left could hold.
    fn count(&mut self, least: usize) -> Result<usize, Error> {
        let at = self.at;
        let n = self.u32()? as usize;
        match n.checked_mul(least) {
            Some(b) if b <= self.bytes.len() => Ok(n),
            _ => Err(self.fail(at, "a count larger than the bytes left")),
        }
    }

    /// An id below `n`.
    fn id(&mut self, n: usize) -> Result<u32, Error> {
        let at = self.at;
        let id = self.u32()?;
        if usize::try_from(id).is_ok_and(|i| i < n) { Ok(id) } else { Err(self.fail(at, "an id out of range")) }
    }

    /// An id below `n`, or [`NONE`].
    fn optional_id(&mut self, n: usize) -> Result<u32, Error> {
        let at = self.at;
        let id = self.u32()?;
        if id == NONE || usize::try_from(id).is_ok_and(|i| i < n) {
            Ok(id)
        } else {
            Err(self.fail(at, "an id out of range"))
        }
    }

    fn text(&mut self) -> Result<String, Error> {
        let at = self.at;
        let bytes = self.slice_of_count(1)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| self.fail(at, "a text not in UTF-8"))
    }

    fn json<T: serde::de::DeserializeOwned>(&mut self) -> Result<T, Error> {
        let at = self.at;
        let bytes = self.slice_of_count(1)?;
        serde_json::from_slice(bytes).map_err(|_| self.fail(at, "a value that does not parse"))
    }

    /// A stamp; `None` if its time is out of range.
    fn stamp(&mut self) -> Result<Option<Stamp>, Error> {
        Ok(read_stamp(&self.take::<STAMP>()?))
    }
}

#[cfg(test)]
mod tests;
