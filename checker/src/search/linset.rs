//! The set of operations linearized so far, with an incremental hash.
//!
//! A [`LinSet`] is a bitset over a partition's operations (numbered in the order of
//! their calls). A word is "full" when it holds every operation it can hold (the
//! last word holds fewer than 64). Besides the words it maintains:
//!
//! - `hash`: the XOR of a random key per member (a Zobrist hash), updated in O(1) by
//!   [`LinSet::insert`] and [`LinSet::remove`];
//! - a window `lo..hi` of words: every word before `lo` is full and every word from
//!   `hi` on is empty. Because operations are numbered by call and the search
//!   linearizes early operations first, the window is narrow (about the number of
//!   operations in flight at once), and [`crate::search::memo::Memo`] stores only
//!   `(lo, words[lo..hi])` per configuration.

use crate::hash::splitmix64;

/// A set of operation numbers with an incremental hash and a narrow window.
#[derive(Clone, Debug)]
pub(crate) struct LinSet {
    words: Vec<u64>,
    last_full: u64,
    keys: Vec<u64>,
    hash: u64,
    lo: usize,
    hi: usize,
}

impl LinSet {
    /// The empty set over operations `0..len`.
    pub(crate) fn new(len: usize) -> LinSet {
        let words = vec![0u64; len.div_ceil(64)];
        let last_full = if len % 64 == 0 {
            !0
        } else {
            (1u64 << (len % 64)) - 1
        };
        let keys = (0..len as u64).map(splitmix64).collect();
        LinSet {
            words,
            last_full,
            keys,
            hash: 0,
            lo: 0,
            hi: 0,
        }
    }

    #[inline]
    fn is_full(&self, w: usize) -> bool {
        let full = if w + 1 == self.words.len() {
            self.last_full
        } else {
            !0
        };
        self.words[w] == full
    }

    fn normalize_hi(&mut self) {
        while self.hi > self.lo && self.words[self.hi - 1] == 0 {
            self.hi -= 1;
        }
    }

    /// Adds operation `i` (not a member).
    #[inline]
    pub(crate) fn insert(&mut self, i: usize) {
        let w = i / 64;
        self.words[w] |= 1u64 << (i % 64);
        self.hash ^= self.keys[i];
        if w >= self.hi {
            self.hi = w + 1;
        }
        while self.lo < self.words.len() && self.is_full(self.lo) {
            self.lo += 1;
        }
        if self.hi < self.lo {
            self.hi = self.lo;
        }
    }

    /// Removes operation `i` (a member).
    #[inline]
    pub(crate) fn remove(&mut self, i: usize) {
        let w = i / 64;
        self.words[w] &= !(1u64 << (i % 64));
        self.hash ^= self.keys[i];
        if w < self.lo {
            self.lo = w;
        }
        if self.hi < w + 1 {
            self.hi = w + 1;
        }
        self.normalize_hi();
    }

    /// Whether operation `i` is a member.
    #[cfg(test)]
    pub(crate) fn contains(&self, i: usize) -> bool {
        self.words[i / 64] & (1u64 << (i % 64)) != 0
    }

    /// The incremental hash of the members.
    #[inline]
    pub(crate) fn hash(&self) -> u64 {
        self.hash
    }

    /// The first word that is not full.
    #[inline]
    pub(crate) fn lo(&self) -> usize {
        self.lo
    }

    /// The words between the full prefix and the empty suffix.
    #[inline]
    pub(crate) fn window(&self) -> &[u64] {
        &self.words[self.lo..self.hi]
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn window_and_hash_follow_inserts_and_removes() {
        let mut s = LinSet::new(130);
        assert_eq!((s.lo(), s.window().len()), (0, 0));
        let empty_hash = s.hash();
        for i in 0..64 {
            s.insert(i);
        }
        assert_eq!(s.lo(), 1);
        assert!(s.window().is_empty());
        s.insert(100);
        assert_eq!((s.lo(), s.window()), (1, &[1u64 << 36][..]));
        s.remove(3);
        assert_eq!(s.lo(), 0);
        assert_eq!(s.window().len(), 2);
        assert!(!s.contains(3) && s.contains(4) && s.contains(100));
        for i in 64..130 {
            if i != 100 {
                s.insert(i);
            }
        }
        s.insert(3);
        assert_eq!(s.lo(), 3, "every word is full");
        for i in 0..130 {
            s.remove(i);
        }
        assert_eq!(s.hash(), empty_hash);
        assert_eq!((s.lo(), s.window().len()), (0, 0));
    }

    #[test]
    fn equal_sets_built_in_different_orders_agree() {
        let mut a = LinSet::new(200);
        let mut b = LinSet::new(200);
        for i in [5, 70, 199, 64, 0] {
            a.insert(i);
        }
        for i in [0, 64, 199, 5, 70, 150] {
            b.insert(i);
        }
        b.remove(150);
        assert_eq!(a.hash(), b.hash());
        assert_eq!((a.lo(), a.window()), (b.lo(), b.window()));
    }
}
