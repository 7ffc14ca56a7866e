//! The memo of configurations already reached: (linearized set, state).
//!
//! The search never needs to look at a configuration twice: from a given set of
//! linearized operations and a given model state, what remains to be done is the
//! same, so if it was reached before it either failed already or is an ancestor of
//! the current configuration (impossible: the set only grows along a path).
//!
//! [`Memo`] is an open-addressing hash table of node numbers. A node stores the
//! configuration's hash, its interned state number (see
//! [`crate::search::states::StateTable`]), and the set in the compact form of
//! [`LinSet`]: the index of the first non-full word and the words of the window,
//! which live in one shared arena.

use crate::hash::mix;
use crate::search::linset::LinSet;

#[derive(Clone, Copy, Debug)]
struct Node {
    hash: u64,
    state: u32,
    lo: u32,
    start: u32,
    len: u32,
}

/// A set of (linearized set, state) configurations.
#[derive(Debug)]
pub(crate) struct Memo {
    slots: Vec<u32>,
    nodes: Vec<Node>,
    words: Vec<u64>,
}

const EMPTY: u32 = u32::MAX;

impl Memo {
    /// An empty memo.
    pub(crate) fn new() -> Memo {
        Memo {
            slots: vec![EMPTY; 1024],
            nodes: Vec::new(),
            words: Vec::new(),
        }
    }

    /// Number of configurations stored.
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Bytes held by the tables.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * 4
            + self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.words.capacity() * 8
    }

    fn key(set: &LinSet, state: u32) -> u64 {
        mix(set.hash() ^ u64::from(state).wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    /// Adds the configuration; returns false if it was already there.
    pub(crate) fn insert(&mut self, set: &LinSet, state: u32) -> bool {
        let hash = Self::key(set, state);
        let window = set.window();
        let lo = set.lo() as u32;
        let mask = self.slots.len() - 1;
        let mut slot = hash as usize & mask;
        loop {
            let n = self.slots[slot];
            if n == EMPTY {
                break;
            }
            let node = self.nodes[n as usize];
            if node.hash == hash
                && node.state == state
                && node.lo == lo
                && node.len as usize == window.len()
                && self.words[node.start as usize..(node.start + node.len) as usize] == *window
            {
                return false;
            }
            slot = (slot + 1) & mask;
        }
        let start = self.words.len() as u32;
        self.words.extend_from_slice(window);
        self.slots[slot] = self.nodes.len() as u32;
        self.nodes.push(Node {
            hash,
            state,
            lo,
            start,
            len: window.len() as u32,
        });
        if self.nodes.len() * 2 > self.slots.len() {
            self.grow();
        }
        true
    }

    fn grow(&mut self) {
        let size = self.slots.len() * 2;
        let mask = size - 1;
        let mut slots = vec![EMPTY; size];
        for (i, node) in self.nodes.iter().enumerate() {
            let mut slot = node.hash as usize & mask;
            while slots[slot] != EMPTY {
                slot = (slot + 1) & mask;
            }
            slots[slot] = i as u32;
        }
        self.slots = slots;
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_configuration_is_new_once() {
        let mut memo = Memo::new();
        let mut set = LinSet::new(300);
        assert!(memo.insert(&set, 0));
        assert!(!memo.insert(&set, 0));
        assert!(memo.insert(&set, 1));
        set.insert(200);
        assert!(memo.insert(&set, 0));
        set.remove(200);
        set.insert(199);
        assert!(memo.insert(&set, 0));
        assert!(!memo.insert(&set, 0));
        assert_eq!(memo.len(), 4);
    }

    #[test]
    fn survives_growth() {
        let mut memo = Memo::new();
        let mut set = LinSet::new(5000);
        for i in 0..5000 {
            set.insert(i);
            assert!(memo.insert(&set, (i % 7) as u32));
        }
        let mut again = LinSet::new(5000);
        for i in 0..5000 {
            again.insert(i);
            assert!(!memo.insert(&again, (i % 7) as u32));
        }
        assert_eq!(memo.len(), 5000);
    }
}
