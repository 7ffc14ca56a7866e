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
//!
//! A memo made [`Memo::with_blame`] also keeps, per configuration, a number the
//! search sets once the configuration is known dead: the component its death is
//! blamed on (see the `search` module's component search).

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
    /// Per node, the component blamed for its death (with blame only).
    blames: Option<Vec<u32>>,
}

const EMPTY: u32 = u32::MAX;

impl Memo {
    /// An empty memo.
    pub(crate) fn new() -> Memo {
        Memo {
            slots: vec![EMPTY; 1024],
            nodes: Vec::new(),
            words: Vec::new(),
            blames: None,
        }
    }

    /// An empty memo that also keeps a blame per configuration.
    pub(crate) fn with_blame() -> Memo {
        Memo {
            blames: Some(Vec::new()),
            ..Memo::new()
        }
    }

    /// The blame recorded for node `node` ([`Memo::set_blame`]; 0 if none was).
    pub(crate) fn blame(&self, node: u32) -> u32 {
        self.blames.as_ref().map_or(0, |b| b[node as usize])
    }

    /// Records the blame of node `node` (a memo made [`Memo::with_blame`]).
    pub(crate) fn set_blame(&mut self, node: u32, blame: u32) {
        if let Some(b) = &mut self.blames {
            b[node as usize] = blame;
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
            + self.blames.as_ref().map_or(0, |b| b.capacity() * 4)
    }

    fn key(set: &LinSet, state: u32) -> u64 {
        mix(set.hash() ^ u64::from(state).wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    /// The node holding the configuration, if any; else the slot where it would go.
    fn find(&self, set: &LinSet, state: u32, hash: u64) -> Result<u32, usize> {
        let window = set.window();
        let lo = set.lo() as u32;
        let mask = self.slots.len() - 1;
        let mut slot = hash as usize & mask;
        loop {
            let n = self.slots[slot];
            if n == EMPTY {
                return Err(slot);
            }
            let node = self.nodes[n as usize];
            if node.hash == hash
                && node.state == state
                && node.lo == lo
                && node.len as usize == window.len()
                && self.words[node.start as usize..(node.start + node.len) as usize] == *window
            {
                return Ok(n);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Whether the configuration is there.
    pub(crate) fn contains(&self, set: &LinSet, state: u32) -> bool {
        self.find(set, state, Self::key(set, state)).is_ok()
    }

    /// Adds the configuration: `Ok(node)` with its new node number, or `Err(node)`
    /// with the number of the node that already holds it.
    pub(crate) fn insert(&mut self, set: &LinSet, state: u32) -> Result<u32, u32> {
        let hash = Self::key(set, state);
        let slot = match self.find(set, state, hash) {
            Ok(n) => return Err(n),
            Err(slot) => slot,
        };
        let window = set.window();
        let start = self.words.len() as u32;
        self.words.extend_from_slice(window);
        let id = self.nodes.len() as u32;
        self.slots[slot] = id;
        self.nodes.push(Node {
            hash,
            state,
            lo: set.lo() as u32,
            start,
            len: window.len() as u32,
        });
        if let Some(b) = &mut self.blames {
            b.push(0);
        }
        if self.nodes.len() * 2 > self.slots.len() {
            self.grow();
        }
        Ok(id)
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
        assert_eq!(memo.insert(&set, 0), Ok(0));
        assert_eq!(memo.insert(&set, 0), Err(0));
        assert_eq!(memo.insert(&set, 1), Ok(1));
        set.insert(200);
        assert!(!memo.contains(&set, 0));
        assert_eq!(memo.insert(&set, 0), Ok(2));
        assert!(memo.contains(&set, 0));
        set.remove(200);
        set.insert(199);
        assert!(memo.insert(&set, 0).is_ok());
        assert_eq!(memo.insert(&set, 0), Err(3));
        assert_eq!(memo.len(), 4);
    }

    #[test]
    fn survives_growth() {
        let mut memo = Memo::new();
        let mut set = LinSet::new(5000);
        for i in 0..5000 {
            set.insert(i);
            assert!(memo.insert(&set, (i % 7) as u32).is_ok());
        }
        let mut again = LinSet::new(5000);
        for i in 0..5000 {
            again.insert(i);
            assert!(memo.insert(&again, (i % 7) as u32).is_err());
        }
        assert_eq!(memo.len(), 5000);
    }

    #[test]
    fn blames_stay_with_their_configuration() {
        let mut memo = Memo::with_blame();
        let mut set = LinSet::new(100);
        let mut nodes = Vec::new();
        for i in 0..100 {
            set.insert(i);
            let n = memo.insert(&set, 0).unwrap();
            memo.set_blame(n, (i % 5) as u32);
            nodes.push(n);
        }
        let mut again = LinSet::new(100);
        for (i, &node) in nodes.iter().enumerate() {
            again.insert(i);
            let n = memo.insert(&again, 0).unwrap_err();
            assert_eq!(n, node);
            assert_eq!(memo.blame(n), (i % 5) as u32);
        }
        assert_eq!(
            Memo::new().blame(0),
            0,
            "a memo without blame blames nothing"
        );
    }
}
