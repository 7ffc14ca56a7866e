//! What a Raft node asks its driver to do, as data.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

use super::config::TimeRange;
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

/// State to write to stable storage, atomically, before anything after it happens.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Persist {
    /// The encoded [`super::PersistentState`]: term, vote and log.
    pub raft_state: Vec<u8>,
    /// The current snapshot (empty when there is none). It is always passed, because a
    /// save replaces both.
    pub snapshot: Arc<[u8]>,
}

/// One effect of a step, to be carried out by the driver in the order given.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Output<C> {
    /// Save this state. It comes before every output of the same step.
    Persist(Persist),
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
