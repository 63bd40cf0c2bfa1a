//! The engine's maps from policy ids to dense ids.

/// FNV-1a, for the engine's maps from policy ids to dense ids. The keys come
/// from the policy (trusted, fixed when the engine is compiled); requests
/// only look up, so a request cannot grow a map or provoke collisions that
/// matter.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// A map keyed by policy ids, hashed with [`Fnv`].
pub(crate) type IdMap<K, V> = std::collections::HashMap<K, V, std::hash::BuildHasherDefault<Fnv>>;
