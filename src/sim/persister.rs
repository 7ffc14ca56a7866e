//! The lab's Persister: Raft state and snapshot bytes, saved together, with the copy
//! semantics the crash model relies on (lab-suite.md section 3).

use std::sync::Arc;

/// Durable storage of one server: its Raft state and its service's snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Persister {
    raft_state: Arc<[u8]>,
    snapshot: Arc<[u8]>,
}

impl Persister {
    /// An empty persister.
    pub fn new() -> Self {
        Self::default()
    }

    /// `Copy()`: a new persister with the same contents. The bytes are shared, which is
    /// safe because they are never changed in place.
    pub fn copy(&self) -> Persister {
        self.clone()
    }

    /// `Save(raftstate, snapshot)`: replaces both, atomically. An empty snapshot clears
    /// the stored one, so the caller must always pass its current snapshot.
    pub fn save(&mut self, raft_state: &[u8], snapshot: Arc<[u8]>) {
        self.raft_state = Arc::from(raft_state);
        self.snapshot = snapshot;
    }

    /// `ReadRaftState()`: a copy of the Raft state (empty if none was saved).
    pub fn read_raft_state(&self) -> Vec<u8> {
        self.raft_state.to_vec()
    }

    /// `ReadSnapshot()`: a copy of the snapshot (empty if none was saved).
    pub fn read_snapshot(&self) -> Vec<u8> {
        self.snapshot.to_vec()
    }

    /// The snapshot, shared rather than copied.
    pub fn snapshot(&self) -> &Arc<[u8]> {
        &self.snapshot
    }

    /// `RaftStateSize()`.
    pub fn raft_state_size(&self) -> usize {
        self.raft_state.len()
    }

    /// `SnapshotSize()`.
    pub fn snapshot_size(&self) -> usize {
        self.snapshot.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_independent_and_save_replaces_both() {
        let mut p = Persister::new();
        assert_eq!(p.read_raft_state(), Vec::<u8>::new());
        p.save(&[1, 2], Arc::from(&[9u8][..]));
        let mut fork = p.copy();
        fork.save(&[3], Arc::from(&[][..]));
        assert_eq!(p.read_raft_state(), vec![1, 2]);
        assert_eq!(p.snapshot_size(), 1);
        assert_eq!(fork.raft_state_size(), 1);
        assert_eq!(
            fork.snapshot_size(),
            0,
            "an empty snapshot clears the stored one"
        );
    }
}
