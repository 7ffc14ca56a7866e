//! Interned model states and a cache of model steps.
//!
//! The search refers to states by number. [`StateTable::intern`] stores each distinct
//! state once and returns its number; [`StateTable::step`] remembers the result of
//! `Model::step` for each (state number, operation) pair, so that a step the search
//! retries after backtracking costs one table lookup instead of a model call (for the
//! key/value model, an append allocates a new string).

use crate::hash::{FastBuild, hash_one, mix};
use crate::model::Model;
use std::collections::HashMap;

const ILLEGAL: u32 = u32::MAX;
const EMPTY: u32 = u32::MAX;

/// Distinct states by number, with a step cache.
pub(crate) struct StateTable<S> {
    states: Vec<S>,
    hashes: Vec<u64>,
    slots: Vec<u32>,
    steps: HashMap<u64, u32, FastBuild>,
}

impl<S: Clone + Eq + std::hash::Hash> StateTable<S> {
    /// An empty table.
    pub(crate) fn new() -> Self {
        StateTable {
            states: Vec::new(),
            hashes: Vec::new(),
            slots: vec![EMPTY; 64],
            steps: HashMap::with_hasher(FastBuild),
        }
    }

    /// The state numbered `id`.
    #[inline]
    pub(crate) fn get(&self, id: u32) -> &S {
        &self.states[id as usize]
    }

    /// Number of distinct states seen.
    pub(crate) fn len(&self) -> usize {
        self.states.len()
    }

    /// Bytes held by the tables, not counting what the states own.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.states.capacity() * std::mem::size_of::<S>()
            + self.hashes.capacity() * 8
            + self.slots.capacity() * 4
            + self.steps.capacity() * 16
    }

    /// The number of `state`, adding it if new.
    pub(crate) fn intern(&mut self, state: S) -> u32 {
        let hash = mix(hash_one(&state));
        let mask = self.slots.len() - 1;
        let mut slot = hash as usize & mask;
        loop {
            let n = self.slots[slot];
            if n == EMPTY {
                break;
            }
            if self.hashes[n as usize] == hash && self.states[n as usize] == state {
                return n;
            }
            slot = (slot + 1) & mask;
        }
        let id = self.states.len() as u32;
        self.slots[slot] = id;
        self.states.push(state);
        self.hashes.push(hash);
        if self.states.len() * 2 > self.slots.len() {
            let size = self.slots.len() * 2;
            let mask = size - 1;
            let mut slots = vec![EMPTY; size];
            for (i, &h) in self.hashes.iter().enumerate() {
                let mut slot = h as usize & mask;
                while slots[slot] != EMPTY {
                    slot = (slot + 1) & mask;
                }
                slots[slot] = i as u32;
            }
            self.slots = slots;
        }
        id
    }

    /// The number of the state after operation `op` (with `input`/`output`) from state
    /// `state`, or `None` when the model rejects it. Each pair is asked once.
    #[inline]
    pub(crate) fn step<M: Model<State = S>>(
        &mut self,
        model: &M,
        state: u32,
        op: u32,
        input: &M::Input,
        output: &M::Output,
    ) -> Option<u32> {
        let key = (u64::from(state) << 32) | u64::from(op);
        if let Some(&next) = self.steps.get(&key) {
            return (next != ILLEGAL).then_some(next);
        }
        let next = model
            .step(self.get(state), input, output)
            .map(|s| self.intern(s));
        self.steps.insert(key, next.unwrap_or(ILLEGAL));
        next
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn equal_states_share_a_number() {
        let mut t = StateTable::new();
        let a = t.intern("a".to_string());
        let b = t.intern("b".to_string());
        assert_ne!(a, b);
        assert_eq!(t.intern("a".to_string()), a);
        for i in 0..1000 {
            t.intern(format!("s{i}"));
        }
        assert_eq!(t.intern("b".to_string()), b);
        assert_eq!(t.get(b), "b");
        assert_eq!(t.len(), 1002);
    }
}
