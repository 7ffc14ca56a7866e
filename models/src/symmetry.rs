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

use std::hash::{BuildHasher, Hash, Hasher};
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

/// The most orders of tied servers [`ClusterState::canonical_map`] compares (5 servers
/// that all tie have 120); past it, tied servers keep their order.
const MAX_TIE_ORDERS: usize = 120;

impl<N: Node, G: Renumber + Hash + Clone> ClusterState<N, G> {
    /// The permutation that renames this state into its class's representative:
    /// `map[old] = new`. It orders the servers by their keys; servers whose keys tie
    /// are ordered the way that gives the renamed state the least hash (of
    /// [`ClusterState::hash_renumbered_state`] under a fixed hasher). Every renaming
    /// of a state has the same renamed candidates, so the choice is the class's own:
    /// two states of one class get one representative, whichever a search meets
    /// first and on whichever thread (past [`MAX_TIE_ORDERS`] orders, tied servers keep
    /// their order instead, which is sound but splits some classes).
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
        let key = |id: NodeId| &keys[bounds[id].0..bounds[id].1];
        let mut order: Vec<NodeId> = (0..n).collect();
        order.sort_by(|&a, &b| key(a).cmp(key(b)).then(a.cmp(&b)));
        // The runs of tied servers, and how many orders they make.
        let mut ties = Vec::new();
        let mut orders = 1usize;
        let mut start = 0;
        for k in 1..=n {
            if k == n || key(order[k]) != key(order[start]) {
                if k - start > 1 {
                    ties.push((start, k));
                    orders = (2..=k - start).fold(orders, |o, f| o.saturating_mul(f));
                }
                start = k;
            }
        }
        if ties.is_empty() || orders > MAX_TIE_ORDERS {
            return map_of(&order);
        }
        let mut best: Option<(u64, Vec<NodeId>)> = None;
        each_order(&mut order, &ties, &mut |order| {
            let map = map_of(order);
            let mut h = sub_hasher();
            self.hash_renumbered_state(&map, &mut h);
            let candidate = (h.finish(), map);
            if best.as_ref().is_none_or(|b| candidate < *b) {
                best = Some(candidate);
            }
        });
        best.map(|(_, map)| map).unwrap_or_else(|| map_of(&order))
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
                let mut one = sub_hasher();
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

/// A hasher for the parts of a fingerprint (a server, a message, a candidate order of
/// tied servers): aHash with fixed keys, so that every run and thread hashes alike.
fn sub_hasher() -> ahash::AHasher {
    ahash::RandomState::with_seeds(
        0x243f_6a88_85a3_08d3,
        0x1319_8a2e_0370_7344,
        0xa409_3822_299f_31d0,
        0x082e_fa98_ec4e_6c89,
    )
    .build_hasher()
}

/// The map (`map[old] = new`) that puts server `order[k]` in place `k`.
fn map_of(order: &[NodeId]) -> Vec<NodeId> {
    let mut map = vec![0; order.len()];
    for (new, &old) in order.iter().enumerate() {
        map[old] = new;
    }
    map
}

/// Calls `f` with every order of `order` that permutes only within the runs `ties`
/// (`[start, end)` ranges), and leaves `order` as it was.
fn each_order(order: &mut [NodeId], ties: &[(usize, usize)], f: &mut impl FnMut(&[NodeId])) {
    let Some((&(start, end), rest)) = ties.split_first() else {
        return f(order);
    };
    permute(order, start, end, rest, f);
}

/// Every order of `order[at..end]` (by swapping each candidate into place `at` in
/// turn), each followed by every order of the remaining runs.
fn permute(
    order: &mut [NodeId],
    at: usize,
    end: usize,
    rest: &[(usize, usize)],
    f: &mut impl FnMut(&[NodeId]),
) {
    if at + 1 >= end {
        return each_order(order, rest, f);
    }
    for k in at..end {
        order.swap(at, k);
        permute(order, at + 1, end, rest, f);
        order.swap(at, k);
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

impl<N: Node, G: Renumber + Hash + Clone> Representative for ClusterState<N, G> {
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
