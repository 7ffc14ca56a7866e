//! Symmetry reduction over server ids.
//!
//! Servers of a cluster are interchangeable: a state and the same state with the
//! servers' ids permuted (every id renamed, in every node, message and ghost record)
//! behave alike, and satisfy the same properties (which never single out an id). A
//! class's representative ([`ClusterState::representative`]) sorts the servers by a
//! key that does not mention ids ([`Symmetric::symmetry_key`]) and renames them in
//! that order ([`ClusterState::canonical_map`]). Servers with equal keys keep their
//! relative order, so the representative is not always the smallest of its class; that
//! costs some reduction, never soundness (a representative is always a renaming of the
//! state).
//!
//! The checkers keep one state per class by fingerprint, without building any
//! representative: a state of a search with symmetry ([`ClusterState::canonical`])
//! hashes as its representative would ([`ClusterState::hash_canonical`]), each part
//! feeding the hasher its renamed fields in place ([`Renumber::hash_renumbered`]),
//! the messages in flight as a sorted list of their renamed hashes. So the checker's
//! visited set, which holds fingerprints, holds classes. `hash_renumbered` of a value
//! under a map must be a function of the renamed value alone; the default builds it
//! and hashes it, and the Raft model's node, storage, message and ghost types (and
//! raftlab's Raft, `Raft::hash_renumbered`) hash their fields renamed.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use stateright::Representative;

use crate::NodeId;
use crate::cluster::{ClusterState, Node, Slot};
use crate::network::Envelope;

/// A value that can be renamed under a permutation of server ids.
pub trait Renumber {
    /// The same value with every server id `i` replaced by `map[i]`.
    fn renumber(&self, map: &[NodeId]) -> Self;

    /// Feeds `h` a description of `self.renumber(map)`, a function of that value alone
    /// (equal renamed values feed equal bytes), without building it if the type can.
    /// The default builds it and hashes it; the types every state of the Raft model
    /// holds hash their renamed fields in place.
    fn hash_renumbered<H: Hasher>(&self, map: &[NodeId], h: &mut H)
    where
        Self: Hash + Sized,
    {
        self.renumber(map).hash(h)
    }
}

/// A per-server value that can also say what it is without naming ids.
pub trait Symmetric: Renumber {
    /// Appends a description of the value that does not depend on server ids (and
    /// that distinguishes as many values as is cheap). Servers are ordered by it.
    fn symmetry_key(&self, key: &mut Vec<u64>);
}

impl<M: Renumber + Hash> Renumber for Envelope<M> {
    fn renumber(&self, map: &[NodeId]) -> Self {
        Envelope {
            from: rename(map, self.from),
            to: rename(map, self.to),
            msg: self.msg.renumber(map),
        }
    }

    fn hash_renumbered<H: Hasher>(&self, map: &[NodeId], h: &mut H) {
        rename(map, self.from).hash(h);
        rename(map, self.to).hash(h);
        self.msg.hash_renumbered(map, h);
    }
}

/// `map[id]`, or `id` itself if it is outside the map.
pub fn rename(map: &[NodeId], id: NodeId) -> NodeId {
    map.get(id).copied().unwrap_or(id)
}

impl<N: Node> Slot<N> {
    fn symmetry_key(&self, key: &mut Vec<u64>) {
        match self {
            Slot::Up { node, timers } => {
                key.push(1);
                node.symmetry_key(key);
                key.push(timers.len() as u64);
            }
            Slot::Down => key.push(0),
        }
    }
}

impl<N: Node, G: Renumber + Clone> ClusterState<N, G> {
    /// The permutation that orders the servers by their keys: `map[old] = new`.
    pub fn canonical_map(&self) -> Vec<NodeId> {
        // Every server's key goes into one buffer (one allocation for the whole state:
        // this runs for every successor the search makes).
        let n = self.slots.len();
        let mut keys: Vec<u64> = Vec::with_capacity(32 * n);
        let mut bounds: Vec<(usize, usize)> = Vec::with_capacity(n);
        for id in 0..n {
            let start = keys.len();
            self.slots[id].symmetry_key(&mut keys);
            self.durable[id].symmetry_key(&mut keys);
            bounds.push((start, keys.len()));
        }
        let mut order: Vec<NodeId> = (0..n).collect();
        order.sort_by(|&a, &b| {
            let key = |id: NodeId| &keys[bounds[id].0..bounds[id].1];
            key(a).cmp(key(b)).then(a.cmp(&b))
        });
        let mut map = vec![0; n];
        for (new, old) in order.into_iter().enumerate() {
            map[old] = new;
        }
        map
    }

    /// The state with its servers renamed by `map` (`map[old] = new`).
    pub fn renumbered(&self, map: &[NodeId]) -> Self {
        let n = self.slots.len();
        let mut slots = self.slots.clone();
        let mut durable = self.durable.clone();
        for old in 0..n {
            let new = map[old];
            slots[new] = Arc::new(match &*self.slots[old] {
                Slot::Up { node, timers } => Slot::Up {
                    node: node.renumber(map),
                    timers: timers.clone(),
                },
                Slot::Down => Slot::Down,
            });
            durable[new] = Arc::new(self.durable[old].renumber(map));
        }
        ClusterState {
            slots,
            durable,
            network: self.network.map(|e| e.renumber(map)),
            env: self.env.clone(),
            crashes: self.crashes,
            ghost: self.ghost.renumber(map),
            canonical: self.canonical,
        }
    }
}

impl<N: Node, G: Renumber + Hash + Clone> ClusterState<N, G> {
    /// Feeds `h` a description of this state's representative (the state renamed by
    /// [`ClusterState::canonical_map`]) without building it: what a state hashes to
    /// when [`ClusterState::canonical`] is set, so that the checker's fingerprint of a
    /// state is its class's (symmetry reduction at the cost of hashing, instead of a
    /// renamed copy of every successor).
    pub fn hash_canonical<H: Hasher>(&self, h: &mut H) {
        let map = self.canonical_map();
        self.hash_renumbered_state(&map, h);
    }

    /// Feeds `h` a description of `self.renumbered(map)`: a function of that state
    /// alone (the servers in their new order, each renamed, the messages in flight as
    /// a sorted list of the hashes of renamed envelopes, so that no order of sending
    /// shows), built without renaming anything.
    pub fn hash_renumbered_state<H: Hasher>(&self, map: &[NodeId], h: &mut H) {
        let n = self.slots.len();
        let mut order = vec![0; n];
        for (old, &new) in map.iter().enumerate() {
            order[new] = old;
        }
        n.hash(h);
        for old in order {
            match &*self.slots[old] {
                Slot::Up { node, timers } => {
                    1u8.hash(h);
                    node.hash_renumbered(map, h);
                    timers.hash(h);
                }
                Slot::Down => 0u8.hash(h),
            }
            self.durable[old].hash_renumbered(map, h);
        }
        let mut messages: Vec<(u64, u32)> = self
            .network
            .iter()
            .map(|(e, copies)| {
                let mut one = DefaultHasher::new();
                e.hash_renumbered(map, &mut one);
                (one.finish(), copies)
            })
            .collect();
        messages.sort_unstable();
        messages.hash(h);
        self.env.hash(h);
        self.crashes.hash(h);
        self.ghost.hash_renumbered(map, h);
    }
}

/// A state hashes as its representative when [`ClusterState::canonical`] is set (and
/// the nodes are symmetric), and as itself otherwise. Equal states hash alike either
/// way, as `Hash` asks.
impl<N: Node, G: Renumber + Hash + Clone> Hash for ClusterState<N, G> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        if self.canonical && N::SYMMETRIC {
            return self.hash_canonical(h);
        }
        // Destructured, so that a field added later is not silently left out.
        let ClusterState {
            slots,
            durable,
            network,
            env,
            crashes,
            ghost,
            canonical,
        } = self;
        slots.hash(h);
        durable.hash(h);
        network.hash(h);
        env.hash(h);
        crashes.hash(h);
        ghost.hash(h);
        canonical.hash(h);
    }
}

impl<N: Node, G: Renumber + Clone> Representative for ClusterState<N, G> {
    fn representative(&self) -> Self {
        if !N::SYMMETRIC {
            return self.clone();
        }
        let map = self.canonical_map();
        if map.iter().enumerate().all(|(i, &m)| i == m) {
            return self.clone();
        }
        self.renumbered(&map)
    }
}
