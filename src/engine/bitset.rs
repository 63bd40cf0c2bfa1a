//! A fixed-size bitset over dense ids.

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BitSet {
    words: Box<[u64]>,
}

impl BitSet {
    pub(crate) fn new(len: usize) -> Self {
        Self { words: vec![0; len.div_ceil(64)].into_boxed_slice() }
    }

    pub(crate) fn insert(&mut self, i: usize) {
        if let Some(w) = self.words.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
    }

    pub(crate) fn contains(&self, i: usize) -> bool {
        self.words.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// The members, in increasing order.
    pub(crate) fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(w, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let bit = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    w * 64 + bit
                })
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::BitSet;

    #[test]
    fn ones_are_the_members_in_order() {
        let mut s = BitSet::new(200);
        for i in [0, 5, 63, 64, 130, 199] {
            s.insert(i);
        }
        assert_eq!(s.ones().collect::<Vec<_>>(), vec![0, 5, 63, 64, 130, 199]);
        assert_eq!(BitSet::new(0).ones().count(), 0);
    }
}
