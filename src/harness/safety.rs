//! Election Safety, watched by every world after every step of every Raft node: no two
//! nodes lead the same term.

use std::collections::BTreeMap;

use crate::raft::Term;

/// The leader seen for each term.
#[derive(Clone, Debug, Default)]
pub struct LeaderLog {
    leader_of_term: BTreeMap<Term, usize>,
    elections: u64,
}

impl LeaderLog {
    /// Notes that `node` is (or is not) leader of `term` after a step; panics with the
    /// lab-style message if another node led that term.
    pub fn observe(&mut self, node: usize, term: Term, is_leader: bool) {
        if !is_leader {
            return;
        }
        match self.leader_of_term.get(&term) {
            Some(&l) if l != node => panic!("term {term} has two leaders: {l} and {node}"),
            Some(_) => {}
            None => {
                self.leader_of_term.insert(term, node);
                self.elections += 1;
            }
        }
    }

    /// How many terms had a leader.
    pub fn elections(&self) -> u64 {
        self.elections
    }
}
