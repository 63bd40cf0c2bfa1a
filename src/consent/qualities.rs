//! The qualities a consent grant has, as flags.

use std::fmt;

use bitflags::bitflags;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

bitflags! {
    /// The qualities of a consent grant, or those a requirement needs.
    ///
    /// Consent is not one scale: a grant records which qualities it has, and
    /// satisfies a requirement only if it has all the qualities the
    /// requirement names. Accepting the policy by using the service is a
    /// grant with no quality at all ([`ConsentQualities::IMPLIED`]), so it
    /// never satisfies a requirement for affirmative, explicit or separate
    /// consent.
    ///
    /// In JSON the flags are a list of names:
    /// `["affirmative", "explicit", "separate"]`.
    ///
    /// # Example
    ///
    /// ```
    /// use privacy_engine::ConsentQualities;
    /// let needed = ConsentQualities::separate();
    /// assert!(!ConsentQualities::IMPLIED.satisfies(needed));
    /// assert!(!ConsentQualities::explicit().satisfies(needed));
    /// assert!(ConsentQualities::separate().satisfies(needed));
    /// ```
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub struct ConsentQualities: u8 {
        /// Given by an affirmative act, not by mere continued use.
        const AFFIRMATIVE = 1;
        /// Express or explicit (明示同意, GDPR art. 9 explicit consent).
        const EXPLICIT = 1 << 1;
        /// Separate: given for this specific processing, unbundled from the
        /// policy (PIPL 单独同意).
        const SEPARATE = 1 << 2;
        /// Written.
        const WRITTEN = 1 << 3;
        /// Given by the subject's guardian.
        const GUARDIAN = 1 << 4;
    }
}

const NAMES: [(&str, ConsentQualities); 5] = [
    ("affirmative", ConsentQualities::AFFIRMATIVE),
    ("explicit", ConsentQualities::EXPLICIT),
    ("separate", ConsentQualities::SEPARATE),
    ("written", ConsentQualities::WRITTEN),
    ("guardian", ConsentQualities::GUARDIAN),
];

impl ConsentQualities {
    /// Acceptance of the policy by using the service: no quality.
    pub const IMPLIED: Self = Self::empty();

    /// An affirmative act, such as ticking a box.
    pub fn affirmative() -> Self {
        Self::AFFIRMATIVE
    }

    /// Explicit consent (affirmative and explicit).
    pub fn explicit() -> Self {
        Self::AFFIRMATIVE | Self::EXPLICIT
    }

    /// Separate consent (affirmative, explicit and separate).
    pub fn separate() -> Self {
        Self::AFFIRMATIVE | Self::EXPLICIT | Self::SEPARATE
    }

    /// Whether a grant with these qualities satisfies a requirement for
    /// `required`: it must have every one of them.
    pub fn satisfies(self, required: Self) -> bool {
        self.contains(required)
    }

    /// Whether the combination is coherent: separate consent is explicit,
    /// and explicit, separate and written consent are affirmative.
    pub fn is_coherent(self) -> bool {
        let needs_affirmative = Self::EXPLICIT | Self::SEPARATE | Self::WRITTEN;
        (!self.intersects(needs_affirmative) || self.contains(Self::AFFIRMATIVE))
            && (!self.contains(Self::SEPARATE) || self.contains(Self::EXPLICIT))
    }

    /// The names of the set flags, in order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        NAMES.iter().filter(move |(_, f)| self.contains(*f)).map(|(n, _)| *n)
    }
}

impl fmt::Display for ConsentQualities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("implied");
        }
        for (i, n) in self.names().enumerate() {
            if i > 0 {
                f.write_str("+")?;
            }
            f.write_str(n)?;
        }
        Ok(())
    }
}

impl Serialize for ConsentQualities {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        for n in self.names() {
            seq.serialize_element(n)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for ConsentQualities {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ConsentQualities;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of consent qualities")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut q = ConsentQualities::empty();
                while let Some(name) = seq.next_element::<String>()? {
                    match NAMES.iter().find(|(n, _)| *n == name) {
                        Some((_, f)) => q |= *f,
                        None => {
                            return Err(de::Error::unknown_variant(
                                &name,
                                &["affirmative", "explicit", "separate", "written", "guardian"],
                            ));
                        }
                    }
                }
                Ok(q)
            }
        }
        deserializer.deserialize_seq(V)
    }
}

/// The kinds of consent in force for one scope: the set of the quality
/// combinations of the grants in force, so that any requirement can be
/// checked against it without asking the store again.
///
/// ```
/// use privacy_engine::{ConsentQualities as Q, Grants};
/// let mut g = Grants::NONE;
/// g.insert(Q::affirmative());
/// assert!(g.any(Q::AFFIRMATIVE, Q::empty()));
/// assert!(!g.any(Q::separate(), Q::empty()));
/// // An ordinary grant, but not one that carries no `affirmative` quality.
/// assert!(!g.any(Q::empty(), Q::AFFIRMATIVE));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Grants(u32);

impl Grants {
    /// No grant in force.
    pub const NONE: Grants = Grants(0);

    /// Adds a grant with these qualities.
    pub fn insert(&mut self, qualities: ConsentQualities) {
        self.0 |= 1 << (qualities.bits() & 31);
    }

    /// Whether some grant has every quality of `required` and none of
    /// `excluded`.
    pub fn any(self, required: ConsentQualities, excluded: ConsentQualities) -> bool {
        let mut rest = self.0;
        while rest != 0 {
            let q = ConsentQualities::from_bits_retain(rest.trailing_zeros() as u8);
            if q.contains(required) && !q.intersects(excluded) {
                return true;
            }
            rest &= rest - 1;
        }
        false
    }

    /// Whether no grant is in force.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}
