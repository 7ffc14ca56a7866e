//! A replicated service: a Raft node whose log holds clerks' requests, and the state
//! machine those requests drive (the Lab 4 key/value server, the shard controller).
//!
//! `client_request` hands the request to Raft's `start`. A follower answers
//! `WrongLeader` at once; the leader remembers the request as pending at the index
//! `start` gave it. When that index is applied, the pending request is answered with the
//! result if the applied entry is the request itself, or with `WrongLeader` if another
//! entry took the index (a new leader overwrote it). A pending request is also answered
//! `WrongLeader` as soon as the node stops being leader or its term changes, and when a
//! snapshot from a leader jumps over its index. Reads go through the log like writes, so
//! a Get sees every write that committed before it.
//!
//! Snapshots: after applying an entry, if the persisted Raft state has reached
//! `max_raft_state` bytes, the server hands Raft a snapshot of the state machine
//! (including its duplicate table), and Raft compacts its log. A restarted server
//! restores the state machine from the snapshot it persisted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Reply, Request, StateMachine};
use crate::raft::{self, Apply, Index, NodeId, Output, Raft, RaftCore, RaftError, Term, Timer};

/// A deliberate bug of the service (off unless a test turns it on).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ServiceBug {
    /// A leader answers a read (a Get, a Query) from its own state without going
    /// through the log (stale reads from a deposed leader).
    LocalReads,
    /// A leader answers a client's read that is that client's very next request after
    /// a write this leader applied and answered, while that write is still the last
    /// entry applied, from the state as it was before the write: the read misses
    /// exactly the client's own write, which had already returned. Only a history in
    /// which the read's call time equals the write's return time can excuse it (the
    /// two then count as concurrent and the read can be ordered first).
    ReadBeforeOwnWrite,
}

impl ServiceBug {
    /// Every service bug.
    pub const ALL: [ServiceBug; 2] = [ServiceBug::LocalReads, ServiceBug::ReadBeforeOwnWrite];

    /// The bug's name, as `RAFTLAB_BUG` and `--bug` take it.
    pub fn name(self) -> &'static str {
        match self {
            ServiceBug::LocalReads => "local-reads",
            ServiceBug::ReadBeforeOwnWrite => "read-before-own-write",
        }
    }

    /// The bug called `name` ([`ServiceBug::name`]), if any.
    pub fn from_name(name: &str) -> Option<ServiceBug> {
        ServiceBug::ALL.into_iter().find(|b| b.name() == name)
    }
}

/// The server's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ServerConfig {
    /// The Raft node's configuration.
    pub raft: raft::Config,
    /// Snapshot when the persisted Raft state reaches this many bytes; `None` (the lab's
    /// -1) never snapshots.
    pub max_raft_state: Option<usize>,
    /// The deliberate bug, if any.
    pub bug: Option<ServiceBug>,
}

/// A driver's handle for a clerk's call, so that the answer can be routed back.
pub type CallTag = u64;

/// What the server asks its driver to do.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ServerOutput<O, R> {
    /// An output of the Raft node (never [`Output::Apply`]: applies are consumed here).
    Raft(Output<Request<O>>),
    /// Answer the clerk's call.
    ClientReply {
        /// The call being answered.
        call: CallTag,
        /// The answer.
        reply: Reply<R>,
    },
}

/// The outputs of a server of state machine `S`.
pub type Outputs<S> = Vec<ServerOutput<<S as StateMachine>::Op, <S as StateMachine>::Output>>;

/// What [`ServiceBug::ReadBeforeOwnWrite`] keeps of the last write a leader applied
/// and answered: whose request it was, its index, and the state machine before it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct BeforeWrite<S> {
    client: u64,
    seq: u64,
    index: Index,
    state: S,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Pending {
    call: CallTag,
    client: u64,
    seq: u64,
    term: Term,
}

/// A server of the replicated state machine `S`, on the Raft core `R` (raftlab's own
/// unless named).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Server<S: StateMachine, R = Raft<Request<<S as StateMachine>::Op>>> {
    raft: R,
    state: S,
    pending: BTreeMap<Index, Pending>,
    max_raft_state: Option<usize>,
    applied: Index,
    bug: Option<ServiceBug>,
    /// Only with [`ServiceBug::ReadBeforeOwnWrite`] (boxed: a whole state machine).
    before_write: Option<Box<BeforeWrite<S>>>,
}

impl<S: StateMachine, R: RaftCore<Request<S::Op>>> Server<S, R> {
    /// A server recovered from what it persisted (both empty for a fresh server).
    pub fn restore(
        config: ServerConfig,
        raft_state: &[u8],
        snapshot: &[u8],
    ) -> Result<(Self, Outputs<S>), RaftError> {
        let state = if snapshot.is_empty() {
            S::default()
        } else {
            S::decode(snapshot).map_err(RaftError::Corrupt)?
        };
        let (raft, outputs) = R::restore(config.raft, raft_state, snapshot)?;
        let applied = raft.commit_index();
        let mut server = Server {
            raft,
            state,
            pending: BTreeMap::new(),
            max_raft_state: config.max_raft_state,
            applied,
            bug: config.bug,
            before_write: None,
        };
        let mut out = Vec::new();
        server.process(outputs, &mut out);
        Ok((server, out))
    }

    /// The Raft node.
    pub fn raft(&self) -> &R {
        &self.raft
    }

    /// The deliberate service bug this server carries, if any.
    pub fn bug(&self) -> Option<ServiceBug> {
        self.bug
    }

    /// The state machine.
    pub fn state(&self) -> &S {
        &self.state
    }

    /// The index of the last applied entry.
    pub fn applied(&self) -> Index {
        self.applied
    }

    /// How many clerk requests await their entry.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// A clerk's request arrived through call `call`.
    pub fn client_request(&mut self, call: CallTag, request: Request<S::Op>) -> Outputs<S> {
        let mut out = Vec::new();
        if self.bug == Some(ServiceBug::LocalReads)
            && self.raft.is_leader()
            && let Some(value) = self.state.read(&request.op)
        {
            out.push(ServerOutput::ClientReply {
                call,
                reply: Reply::Ok(value),
            });
            return out;
        }
        if self.bug == Some(ServiceBug::ReadBeforeOwnWrite)
            && self.raft.is_leader()
            && let Some(b) = &self.before_write
            && (b.client, b.seq + 1, b.index) == (request.client, request.seq, self.applied)
            && let Some(value) = b.state.read(&request.op)
        {
            out.push(ServerOutput::ClientReply {
                call,
                reply: Reply::Ok(value),
            });
            return out;
        }
        let (client, seq) = (request.client, request.seq);
        let (result, outputs) = self.raft.start(request);
        match result {
            Err(_) => out.push(ServerOutput::ClientReply {
                call,
                reply: Reply::WrongLeader,
            }),
            Ok((index, term)) => {
                let p = Pending {
                    call,
                    client,
                    seq,
                    term,
                };
                if let Some(old) = self.pending.insert(index, p) {
                    out.push(ServerOutput::ClientReply {
                        call: old.call,
                        reply: Reply::WrongLeader,
                    });
                }
            }
        }
        self.process(outputs, &mut out);
        out
    }

    /// Starts `op` on this server's Raft for no clerk: the lab's `rf.Start(cmd)`, called
    /// by a test on the server it chose. The entry is `Request { client: 0, seq: 0, op }`
    /// (no clerk numbers a request 0: clerks count from 1), nobody waits for it, and its
    /// result when applied is dropped; so this suits a state machine that ignores
    /// `client` and `seq` (a store with duplicate detection would count `(0, 0)` as a
    /// client of its own). Returns the entry's `(index, term)` if this server leads and
    /// appended it, `None` if not (with no outputs then). A clerk's request still waiting
    /// at that index (possible only for an index a past leadership gave out) is answered
    /// `WrongLeader`, as [`Server::client_request`] does.
    pub fn start_unowned(&mut self, op: S::Op) -> (Option<(Index, Term)>, Outputs<S>) {
        let request = Request {
            client: 0,
            seq: 0,
            op,
        };
        let mut out = Vec::new();
        let (result, outputs) = self.raft.start(request);
        let started = result.ok();
        if let Some((index, _)) = started
            && let Some(old) = self.pending.remove(&index)
        {
            out.push(ServerOutput::ClientReply {
                call: old.call,
                reply: Reply::WrongLeader,
            });
        }
        self.process(outputs, &mut out);
        (started, out)
    }

    /// A Raft request from peer `from`.
    pub fn raft_request(
        &mut self,
        from: NodeId,
        request: raft::Request<Request<S::Op>>,
    ) -> Outputs<S> {
        let outputs = self.raft.handle_request(from, request);
        self.run(outputs)
    }

    /// A Raft reply from peer `from`.
    pub fn raft_reply(&mut self, from: NodeId, reply: raft::Reply) -> Outputs<S> {
        let outputs = self.raft.handle_reply(from, reply);
        self.run(outputs)
    }

    /// A Raft timer fired.
    pub fn raft_timer(&mut self, timer: Timer) -> Outputs<S> {
        let outputs = self.raft.handle_timer(timer);
        self.run(outputs)
    }

    fn run(&mut self, outputs: Vec<Output<Request<S::Op>>>) -> Outputs<S> {
        let mut out = Vec::new();
        self.process(outputs, &mut out);
        out
    }

    /// Passes Raft's outputs on, consuming the applies, then fails the pending requests
    /// that can no longer commit under this leader.
    fn process(&mut self, outputs: Vec<Output<Request<S::Op>>>, out: &mut Outputs<S>) {
        for o in outputs {
            match o {
                Output::Apply(a) => self.apply(a, out),
                other => out.push(ServerOutput::Raft(other)),
            }
        }
        let (term, leader) = self.raft.state();
        if !self.pending.is_empty() && (!leader || self.pending.values().any(|p| p.term != term)) {
            let lost: Vec<Index> = self
                .pending
                .iter()
                .filter(|(_, p)| !leader || p.term != term)
                .map(|(&i, _)| i)
                .collect();
            for i in lost {
                if let Some(p) = self.pending.remove(&i) {
                    out.push(ServerOutput::ClientReply {
                        call: p.call,
                        reply: Reply::WrongLeader,
                    });
                }
            }
        }
    }

    fn apply(&mut self, a: Apply<Request<S::Op>>, out: &mut Outputs<S>) {
        match a {
            Apply::Command { index, command, .. } => {
                if index <= self.applied {
                    return;
                }
                let (client, seq) = (command.client, command.seq);
                let answered_here = self
                    .pending
                    .get(&index)
                    .is_some_and(|p| (p.client, p.seq) == (client, seq));
                self.before_write = (self.bug == Some(ServiceBug::ReadBeforeOwnWrite)
                    && answered_here
                    && self.state.read(&command.op).is_none())
                .then(|| {
                    Box::new(BeforeWrite {
                        client,
                        seq,
                        index,
                        state: self.state.clone(),
                    })
                });
                let result = self.state.apply(command);
                self.applied = index;
                if let Some(p) = self.pending.remove(&index) {
                    let reply = if (p.client, p.seq) == (client, seq) {
                        Reply::Ok(result)
                    } else {
                        Reply::WrongLeader
                    };
                    out.push(ServerOutput::ClientReply {
                        call: p.call,
                        reply,
                    });
                }
                self.maybe_snapshot(out);
            }
            Apply::Snapshot { index, data, .. } => {
                match S::decode(&data) {
                    Ok(state) => self.state = state,
                    Err(e) => {
                        tracing::warn!(target: "raftlab", topic = "SNAP", node = self.raft.config().me as u64,
                            "ignoring an undecodable snapshot through {index}: {e}");
                        return;
                    }
                }
                self.applied = index;
                let skipped: Vec<Index> = self.pending.range(..=index).map(|(&i, _)| i).collect();
                for i in skipped {
                    if let Some(p) = self.pending.remove(&i) {
                        out.push(ServerOutput::ClientReply {
                            call: p.call,
                            reply: Reply::WrongLeader,
                        });
                    }
                }
            }
        }
    }

    fn maybe_snapshot(&mut self, out: &mut Outputs<S>) {
        let Some(max) = self.max_raft_state else {
            return;
        };
        if self.raft.persisted_size() < max || self.applied <= self.raft.log().snapshot_index() {
            return;
        }
        let data = self.state.encode();
        let outputs = self.raft.snapshot_at(self.applied, data);
        out.extend(outputs.into_iter().map(ServerOutput::Raft));
    }
}
