//! Stable storage of a Raft node: what its [`Persist`] outputs add up to.
//!
//! A driver keeps one [`Storage`] per node and applies every [`Output::Persist`] to it,
//! in order. [`Storage::raft_state`] gives the bytes [`Raft::restore`] reads after a
//! crash (the lab's `ReadRaftState`), and [`Storage::raft_state_size`] their length
//! (the lab's `RaftStateSize`), kept up to date without encoding anything.
//!
//! [`Output::Persist`]: super::Output::Persist
//! [`Raft::restore`]: super::Raft::restore

use std::sync::Arc;

use serde::Serialize;

use super::log::Log;
use super::output::{LogWrite, Persist};
use super::persist::PersistentState;
use super::{Index, Term};

/// A node's stable storage: its persistent state and its snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Storage<C> {
    state: PersistentState<C>,
    snapshot: Arc<[u8]>,
}

impl<C> Default for Storage<C> {
    fn default() -> Self {
        Storage {
            state: PersistentState {
                term: 0,
                voted_for: None,
                log: Log::default(),
            },
            snapshot: Arc::from(&[][..]),
        }
    }
}

impl<C: Clone + Serialize + serde::de::DeserializeOwned> Storage<C> {
    /// Empty storage (a node that never persisted anything).
    pub fn new() -> Self {
        Self::default()
    }

    /// The lab's `Persister.Copy()`: storage with the same contents.
    pub fn copy(&self) -> Self {
        self.clone()
    }

    /// Applies one persist record, atomically.
    pub fn apply(&mut self, p: Persist<C>) {
        self.state.term = p.term;
        self.state.voted_for = p.voted_for;
        match p.log {
            LogWrite::Unchanged => {}
            LogWrite::Suffix { from, entries } => {
                self.state
                    .log
                    .truncate_from(from.max(self.state.log.snapshot_index() + 1));
                for e in entries {
                    self.state.log.push(e);
                }
            }
            LogWrite::Compacted {
                snapshot_index,
                snapshot_term,
                entries,
            } => {
                let mut log = Log::default();
                log.compact_to(snapshot_index, snapshot_term);
                for e in entries {
                    log.push(e);
                }
                self.state.log = log;
            }
        }
        if let Some(s) = p.snapshot {
            self.snapshot = s;
        }
    }

    /// The persistent state.
    pub fn state(&self) -> &PersistentState<C> {
        &self.state
    }

    /// The encoded persistent state (empty if nothing was ever persisted), as
    /// [`super::Raft::restore`] reads it.
    pub fn raft_state(&self) -> Vec<u8> {
        if self.is_empty() {
            Vec::new()
        } else {
            self.state.encode()
        }
    }

    /// The length of [`Storage::raft_state`], without encoding it.
    pub fn raft_state_size(&self) -> usize {
        if self.is_empty() {
            0
        } else {
            self.state.encoded_len()
        }
    }

    /// The snapshot (empty if none).
    pub fn snapshot(&self) -> &Arc<[u8]> {
        &self.snapshot
    }

    /// The snapshot's length.
    pub fn snapshot_size(&self) -> usize {
        self.snapshot.len()
    }

    /// The last index the snapshot covers.
    pub fn snapshot_index(&self) -> Index {
        self.state.log.snapshot_index()
    }

    /// The persisted term.
    pub fn term(&self) -> Term {
        self.state.term
    }

    fn is_empty(&self) -> bool {
        self.state.term == 0
            && self.state.voted_for.is_none()
            && self.state.log.last_index() == 0
            && self.snapshot.is_empty()
    }
}
