//! What a Raft node asks its driver to do, as data.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

use super::config::TimeRange;
use super::log::Entry;
use super::message::{Reply, Request};
use super::{Index, NodeId, Term};

/// The two timers a node may have set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Timer {
    /// Set while a follower or candidate: when it fires, start an election.
    Election,
    /// Set while leader: when it fires, send AppendEntries to every peer.
    Heartbeat,
}

/// What to hand to the service, in order: committed commands, and snapshots installed
/// from a leader.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Apply<C> {
    /// The command committed at `index`.
    Command {
        /// Its log index.
        index: Index,
        /// The term of its entry.
        term: Term,
        /// The command.
        command: C,
    },
    /// A snapshot from the leader replaces the service's state through `index`.
    Snapshot {
        /// The last index it covers.
        index: Index,
        /// The term of that entry.
        term: Term,
        /// The service's snapshot bytes.
        data: Arc<[u8]>,
    },
}

impl<C> Apply<C> {
    /// The index this apply brings the service to.
    pub fn index(&self) -> Index {
        match self {
            Apply::Command { index, .. } | Apply::Snapshot { index, .. } => *index,
        }
    }
}

/// How the log on stable storage changes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LogWrite<C> {
    /// The log did not change.
    Unchanged,
    /// Every entry at `from` and after is replaced by `entries` (a truncation, an
    /// append, or both).
    Suffix {
        /// The first index written.
        from: Index,
        /// The entries from `from` on.
        entries: Vec<Entry<C>>,
    },
    /// The log was compacted into a snapshot: it now starts after `snapshot_index`
    /// (whose entry had `snapshot_term`) and holds `entries`.
    Compacted {
        /// The last index the snapshot covers.
        snapshot_index: Index,
        /// Its term.
        snapshot_term: Term,
        /// Every entry after it.
        entries: Vec<Entry<C>>,
    },
}

/// State to write to stable storage, atomically, before anything after it happens: the
/// term and vote, what changed in the log, and the snapshot if it changed. Applying it
/// to a [`super::Storage`] gives exactly the node's persistent state, so a write costs
/// what changed, not the whole log.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Persist<C> {
    /// The current term.
    pub term: Term,
    /// The vote in that term.
    pub voted_for: Option<NodeId>,
    /// The change to the log.
    pub log: LogWrite<C>,
    /// The new snapshot, when it changed (always together with
    /// [`LogWrite::Compacted`]).
    pub snapshot: Option<Arc<[u8]>>,
}

/// One effect of a step, to be carried out by the driver in the order given.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Output<C> {
    /// Save this state. It comes before every output of the same step.
    Persist(Persist<C>),
    /// Send a request to a peer.
    Send {
        /// The peer.
        to: NodeId,
        /// The request.
        request: Request<C>,
    },
    /// Answer a request from a peer. Each request yields exactly one reply, in the step
    /// that handles it.
    Reply {
        /// The peer that asked.
        to: NodeId,
        /// The answer.
        reply: Reply,
    },
    /// (Re)start a timer: it fires once, after a duration the driver draws from the
    /// range, unless set again or cancelled first.
    SetTimer {
        /// Which timer.
        timer: Timer,
        /// The range to draw its duration from.
        after: TimeRange,
    },
    /// Stop a timer if it is set.
    CancelTimer(Timer),
    /// Hand a committed command or an installed snapshot to the service.
    Apply(Apply<C>),
}
