//! [`RaftCore`]: what every driver (the lab suites, the rsm server, the models, the
//! runtime's peers) uses of a Raft node, as a trait, so that a Raft written by someone
//! else runs under the same suites, model checks and history checks as raftlab's.
//!
//! The contract is the one [`Raft`] keeps (see the module docs of [`crate::raft`]):
//!
//! - every input is a method call that returns the node's effects, as [`Output`]s in the
//!   order the driver must carry them out;
//! - a step that changes the term, the vote or the log starts with one
//!   [`Output::Persist`], and the node restarts with [`RaftCore::restore`] from exactly
//!   the bytes those persists added up to in a [`super::Storage`] (decode them with
//!   [`PersistentState::decode`]);
//! - committed commands and installed snapshots come out as [`Output::Apply`], in index
//!   order, with no gaps or repeats;
//! - each request gets exactly one [`Output::Reply`] to its sender, in the step that
//!   handles it.
//!
//! The messages are raftlab's ([`Request`], [`Reply`]): they are Figure 2's RPCs, field
//! for field, plus the conflict hint of the lab's fast backup. The read-only view
//! ([`RaftCore::term`] through [`RaftCore::snapshot`]) is what the lab's checks and the
//! model's properties read; a node keeps its log in a [`Log`] so that the properties
//! can read it without a copy.

use std::fmt::Debug;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use super::config::Config;
use super::log::Log;
use super::message::{Reply, Request};
use super::node::{Command, Raft, RaftError, Role, StartResult};
use super::output::{Output, Timer};
use super::persist::PersistentState;
use super::{Index, NodeId, Term};

/// A node's role, without the volatile state that goes with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RoleKind {
    /// Follows the leader of its term.
    Follower,
    /// Asks for votes.
    Candidate,
    /// Replicates its log.
    Leader,
}

impl RoleKind {
    /// The role's name as the traces print it.
    pub fn name(self) -> &'static str {
        match self {
            RoleKind::Follower => "follower",
            RoleKind::Candidate => "candidate",
            RoleKind::Leader => "leader",
        }
    }
}

impl Role {
    /// The role without its state.
    pub fn kind(&self) -> RoleKind {
        match self {
            Role::Follower => RoleKind::Follower,
            Role::Candidate { .. } => RoleKind::Candidate,
            Role::Leader { .. } => RoleKind::Leader,
        }
    }
}

/// A Raft node as a pure state machine: inputs in, [`Output`]s out.
///
/// `Clone`, `Eq` and `Hash` are for the model checker, which keeps nodes in its states;
/// `Debug` is for its counterexamples. Two nodes that would behave the same from here on
/// should compare equal (leave out of `Eq` and `Hash` whatever never changes, such as
/// the configuration, if it costs time).
pub trait RaftCore<C: Command>: Clone + Debug + Eq + Hash + Send + Sync + Sized + 'static {
    /// Whether [`RaftCore::renumbered`] renames nodes (so the model checker may treat
    /// states that differ only by a permutation of server ids as one).
    const SYMMETRIC: bool = false;

    /// A node recovered from what it persisted: `raft_state` as its persists left it
    /// (empty for a fresh node) and the snapshot saved with it; and its first outputs
    /// (at least the election timer).
    fn restore(
        config: Config,
        raft_state: &[u8],
        snapshot: &[u8],
    ) -> Result<(Self, Vec<Output<C>>), RaftError>;

    /// A request from peer `from` (RequestVote, AppendEntries, InstallSnapshot). The
    /// outputs hold exactly one [`Output::Reply`] to `from`.
    fn handle_request(&mut self, from: NodeId, request: Request<C>) -> Vec<Output<C>>;

    /// A reply from peer `from` to a request this node sent. Stale, duplicated and
    /// reordered replies must be recognized.
    fn handle_reply(&mut self, from: NodeId, reply: Reply) -> Vec<Output<C>>;

    /// A timer this node set has fired (a model checker may fire any timer that is set,
    /// at any time).
    fn handle_timer(&mut self, timer: Timer) -> Vec<Output<C>>;

    /// The lab's `Start(command)`: on the leader, append and replicate `command`; the
    /// index and term it will have if it commits, or the refusal of a non-leader.
    fn start(&mut self, command: C) -> (StartResult, Vec<Output<C>>);

    /// The lab's `Snapshot(index, data)`: the service has snapshotted its state through
    /// `index`, which it has applied; compact the log through there.
    fn snapshot_at(&mut self, index: Index, data: Vec<u8>) -> Vec<Output<C>>;

    // ----- The read-only view -----------------------------------------------------------

    /// The configuration the node was made with.
    fn config(&self) -> &Config;

    /// The current term.
    fn term(&self) -> Term;

    /// The candidate voted for in the current term.
    fn voted_for(&self) -> Option<NodeId>;

    /// The role.
    fn role(&self) -> RoleKind;

    /// The log, with its compacted prefix's index and term.
    fn log(&self) -> &Log<C>;

    /// The index through which entries are committed (and, since commits are applied in
    /// the step that makes them, applied).
    fn commit_index(&self) -> Index;

    /// The current snapshot's bytes (empty when there is none).
    fn snapshot(&self) -> &Arc<[u8]>;

    /// The leader of the current term, if the node knows it (a hint for traces and
    /// clerks; `None` is always allowed).
    fn leader(&self) -> Option<NodeId> {
        None
    }

    /// Whether the node believes it leads its term.
    fn is_leader(&self) -> bool {
        self.role() == RoleKind::Leader
    }

    /// The lab's `GetState()`.
    fn state(&self) -> (Term, bool) {
        (self.term(), self.is_leader())
    }

    /// The persistent state as it stands: what the persists so far must add up to.
    fn persistent_state(&self) -> PersistentState<C> {
        PersistentState {
            term: self.term(),
            voted_for: self.voted_for(),
            log: self.log().clone(),
        }
    }

    /// The size in bytes of the persisted Raft state (the lab's `RaftStateSize()`, which
    /// a service compares with its `maxraftstate` to decide when to snapshot).
    fn persisted_size(&self) -> usize {
        self.persistent_state().encoded_len()
    }

    /// The node with every node id in it renamed by `map` (`map[old] = new`), for the
    /// model checker's symmetry reduction; `None` when the node does not rename (then
    /// [`RaftCore::SYMMETRIC`] must be false).
    fn renumbered(&self, map: &[NodeId]) -> Option<Self> {
        let _ = map;
        None
    }

    /// Feeds `h` a description of `self.renumbered(map)` (a function of that value
    /// alone), for the model checker's fingerprints of symmetry classes. The default
    /// builds the renamed node and hashes it (or hashes the node itself when it does
    /// not rename); raftlab's Raft hashes its renamed fields in place.
    fn hash_renumbered<H: Hasher>(&self, map: &[NodeId], h: &mut H) {
        match self.renumbered(map) {
            Some(renamed) => renamed.hash(h),
            None => self.hash(h),
        }
    }

    /// Whether this node leaves `reply` from `from` unread, now and in every later state
    /// of it and of its later incarnations (restarted from what it persisted): a promise
    /// the model checker relies on to forget such a reply at once instead of keeping
    /// it in flight (see `raftlab_models::cluster::Node::ignores`). The default,
    /// `false`, promises nothing and reduces nothing. raftlab's Raft promises it for a
    /// reply of an older term, and of its own term when its role cannot use it (a
    /// vote it does not count, an append reply to a follower).
    fn ignores_reply(&self, from: NodeId, reply: &Reply) -> bool {
        let _ = (from, reply);
        false
    }

    /// The role in a trace line: `follower `, `candidate`, `LEADER` (raftlab's Raft adds
    /// the votes it holds and the leader's match indices).
    fn describe_role(&self) -> String {
        match self.role() {
            RoleKind::Follower => "follower ".into(),
            RoleKind::Candidate => "candidate".into(),
            RoleKind::Leader => "LEADER".into(),
        }
    }

    /// The role's part of [`RaftCore::symmetry_key`]: a finer key leaves fewer ties, so
    /// more renamings of a state reach the same representative (raftlab's Raft counts a
    /// candidate's votes).
    fn role_key(&self) -> u64 {
        self.role() as u64
    }

    /// Pushes what orders this node among renamings of a state (symmetry reduction):
    /// values that renaming leaves alone.
    fn symmetry_key(&self, key: &mut Vec<u64>) {
        key.push(self.term());
        key.push(self.role_key());
        key.push(u64::from(self.voted_for().is_some()));
        key.push(u64::from(self.leader().is_some()));
        key.push(self.commit_index());
        log_symmetry_key(self.log(), key);
    }
}

/// Pushes what orders a log among renamings of a state: its compacted prefix, its
/// length and its entries' terms (commands are never renamed, so they need no key).
pub fn log_symmetry_key<C: Command>(log: &Log<C>, key: &mut Vec<u64>) {
    key.push(log.snapshot_index());
    key.push(log.snapshot_term());
    key.push(log.entries().len() as u64);
    key.extend(log.entries().iter().map(|e| e.term));
}

impl<C: Command + Send + Sync + 'static> RaftCore<C> for Raft<C> {
    const SYMMETRIC: bool = true;

    fn restore(
        config: Config,
        raft_state: &[u8],
        snapshot: &[u8],
    ) -> Result<(Self, Vec<Output<C>>), RaftError> {
        Raft::restore(config, raft_state, snapshot)
    }

    fn handle_request(&mut self, from: NodeId, request: Request<C>) -> Vec<Output<C>> {
        Raft::handle_request(self, from, request)
    }

    fn handle_reply(&mut self, from: NodeId, reply: Reply) -> Vec<Output<C>> {
        Raft::handle_reply(self, from, reply)
    }

    fn handle_timer(&mut self, timer: Timer) -> Vec<Output<C>> {
        Raft::handle_timer(self, timer)
    }

    fn start(&mut self, command: C) -> (StartResult, Vec<Output<C>>) {
        Raft::start(self, command)
    }

    fn snapshot_at(&mut self, index: Index, data: Vec<u8>) -> Vec<Output<C>> {
        Raft::snapshot_at(self, index, data)
    }

    fn config(&self) -> &Config {
        Raft::config(self)
    }

    fn term(&self) -> Term {
        Raft::term(self)
    }

    fn voted_for(&self) -> Option<NodeId> {
        Raft::voted_for(self)
    }

    fn role(&self) -> RoleKind {
        Raft::role(self).kind()
    }

    fn log(&self) -> &Log<C> {
        Raft::log(self)
    }

    fn commit_index(&self) -> Index {
        Raft::commit_index(self)
    }

    fn snapshot(&self) -> &Arc<[u8]> {
        Raft::snapshot(self)
    }

    fn leader(&self) -> Option<NodeId> {
        Raft::leader(self)
    }

    fn persistent_state(&self) -> PersistentState<C> {
        Raft::persistent_state(self)
    }

    fn persisted_size(&self) -> usize {
        Raft::persisted_size(self)
    }

    fn renumbered(&self, map: &[NodeId]) -> Option<Self> {
        Raft::renumbered(self, map)
    }

    fn ignores_reply(&self, from: NodeId, reply: &Reply) -> bool {
        Raft::ignores_reply(self, from, reply)
    }

    fn hash_renumbered<H: Hasher>(&self, map: &[NodeId], h: &mut H) {
        Raft::hash_renumbered(self, map, h)
    }

    fn describe_role(&self) -> String {
        match Raft::role(self) {
            Role::Follower => "follower ".to_string(),
            Role::Candidate { votes } => format!(
                "candidate{{{}}}",
                votes
                    .iter()
                    .map(|v| format!("S{v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            Role::Leader { match_index, .. } => format!("LEADER match{match_index:?}"),
        }
    }

    fn role_key(&self) -> u64 {
        match Raft::role(self) {
            Role::Follower => 0,
            Role::Candidate { votes } => 1 + votes.len() as u64,
            Role::Leader { .. } => 100,
        }
    }
}
