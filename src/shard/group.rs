//! The shard group server (ShardKV): a Raft node whose state machine serves the shards
//! its group owns, and moves shards between groups as configurations change.
//!
//! Every change goes through the log, so that every replica makes it at the same point
//! and a crash loses nothing:
//!
//! - [`GroupCmd::Client`]: a Get, Put or Append, executed only if the key's shard is
//!   served here; each shard keeps its own duplicate table, which moves with it.
//! - [`GroupCmd::Config`]: the next configuration (number `current + 1`). The leader
//!   asks the controller for it every [`TICK`] once every shard is settled. Applying it
//!   sets each shard's [`ShardState`]: kept shards stay `Serving`; a shard gained from
//!   another group becomes `Pulling`; a shard lost to another group becomes
//!   `BePulled` (its data kept, no longer served); a shard gained from nobody starts
//!   empty; a shard given to nobody (gid 0) is dropped.
//! - [`GroupCmd::InstallShard`]: the data and duplicate table of a `Pulling` shard,
//!   pulled by the leader from the previous owner with a [`GroupRpc::Pull`]. The shard
//!   is then served (`Gcing`) while the previous owner is told to delete it.
//! - [`GroupCmd::DeleteShard`]: the previous owner, asked by the new owner with a
//!   [`GroupRpc::Delete`], drops a `BePulled` shard (challenge 1: snapshots stay small).
//! - [`GroupCmd::GcDone`]: the new owner learned that the old copy is gone; the shard
//!   is plain `Serving`.
//!
//! A group serves the shards it has while others are still arriving (challenge 2), and
//! moves to the next configuration only when no shard is `Pulling`, `BePulled` or
//! `Gcing`, so configurations are processed one at a time, in order.
//!
//! Clients' requests are answered like those of the Lab 4 server (see
//! [`crate::rsm::server`]): when their own entry is applied, or with `WrongLeader` when
//! leadership or the term changes first; `WrongGroup` when the shard is not served here
//! (checked when the request arrives and again when it is applied).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::ctrler::{CtrlOp, CtrlerClerk};
use super::{Gid, NSHARDS, ShardConfig, key2shard};
use crate::codec::{self, DecodeError};
use crate::kv::Op;
use crate::raft::{self, Apply, Index, NodeId, Output, Raft, RaftError, Term, TimeRange, Timer};
use crate::rsm::clerk::{ClerkOutput, ClerkTiming};
use crate::rsm::{ClientId, Reply, Request};

macro_rules! event {
    ($topic:literal, $me:expr, $($arg:tt)+) => {
        tracing::debug!(target: "raftlab", topic = $topic, node = $me as u64, $($arg)+)
    };
}

/// How often the leader polls the controller and retries shard transfers.
pub const TICK: TimeRange = TimeRange::millis(100, 100);

/// A shard's data and duplicate table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Shard {
    /// Key -> value.
    pub data: BTreeMap<String, String>,
    /// Client -> the highest request number executed on this shard.
    pub sessions: BTreeMap<ClientId, u64>,
}

/// Where a shard stands in this group's current configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ShardState {
    /// Not ours.
    #[default]
    NotOwned,
    /// Ours, served.
    Serving(Shard),
    /// Ours, but its data is still with the previous owner.
    Pulling,
    /// No longer ours; kept until the new owner has it.
    BePulled(Shard),
    /// Ours and served; the previous owner has not yet confirmed deleting its copy.
    Gcing(Shard),
}

impl ShardState {
    fn served(&mut self) -> Option<&mut Shard> {
        match self {
            ShardState::Serving(s) | ShardState::Gcing(s) => Some(s),
            _ => None,
        }
    }

    fn settled(&self) -> bool {
        matches!(self, ShardState::NotOwned | ShardState::Serving(_))
    }
}

/// A log entry of a shard group.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum GroupCmd {
    /// A clerk's request.
    Client(Request<Op>),
    /// The next configuration.
    Config(ShardConfig),
    /// A pulled shard arrives.
    InstallShard {
        /// The configuration it arrives in.
        num: u64,
        /// The shard.
        shard: usize,
        /// Its contents.
        contents: Shard,
    },
    /// The new owner has the shard: drop our copy.
    DeleteShard {
        /// The configuration it moved in.
        num: u64,
        /// The shard.
        shard: usize,
    },
    /// The previous owner dropped its copy.
    GcDone {
        /// The configuration it moved in.
        num: u64,
        /// The shard.
        shard: usize,
    },
    /// Nothing: a new leader's first entry, so that entries of earlier terms commit
    /// (Raft commits only by counting entries of the current term) even when no clerk
    /// sends anything, as when every request is turned away while the group waits for
    /// a shard.
    Noop,
}

/// A request from one group's leader to another group's server.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum GroupRpc {
    /// Send me shard `shard` as it was when you entered configuration `num`.
    Pull {
        /// The configuration in which the shard moved.
        num: u64,
        /// The shard.
        shard: usize,
    },
    /// I have shard `shard` of configuration `num`: delete yours.
    Delete {
        /// The configuration in which the shard moved.
        num: u64,
        /// The shard.
        shard: usize,
    },
}

/// The answer to a [`GroupRpc`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum GroupRpcReply {
    /// The shard (answers Pull).
    Shard(Shard),
    /// Deleted, or nothing left to delete (answers Delete).
    Done,
    /// Not yet: ask again later.
    NotReady,
    /// Ask the leader.
    WrongLeader,
}

/// The group's own timers (Raft's come through [`GroupOutput::Raft`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum GroupTimer {
    /// Poll the controller and retry transfers.
    Tick,
    /// The timer of the embedded controller clerk.
    Ctrler,
}

/// A driver's handle for an inbound call, to route the answer back.
pub type CallTag = u64;

/// What the server asks its driver to do.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum GroupOutput {
    /// An output of the Raft node (never an apply).
    Raft(Output<GroupCmd>),
    /// Answer a clerk.
    ClientReply {
        /// The clerk's call.
        call: CallTag,
        /// The answer.
        reply: Reply<String>,
    },
    /// Call controller server `to` (an index into the controller ends).
    CtrlerCall {
        /// The controller server.
        to: usize,
        /// Hand back with the outcome.
        attempt: u64,
        /// The request.
        request: Request<CtrlOp>,
    },
    /// Call another group's server by name.
    GroupCall {
        /// The server's name.
        to: String,
        /// Hand back with the outcome.
        tag: u64,
        /// The request.
        request: GroupRpc,
    },
    /// Answer another group's call.
    GroupReply {
        /// The inbound call.
        call: CallTag,
        /// The answer.
        reply: GroupRpcReply,
    },
    /// (Re)start one of the group's timers.
    SetTimer {
        /// Which.
        timer: GroupTimer,
        /// The range of its duration.
        after: TimeRange,
    },
    /// Stop one of the group's timers.
    CancelTimer(GroupTimer),
}

/// A deliberate bug of the shard group (off unless a test or model turns it on).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum GroupBug {
    /// Serve a gained shard before its data has arrived.
    ServeBeforeArrival,
    /// Drop a lost shard as soon as a pull is answered, before the new owner has
    /// acknowledged it (and answer a later pull with an empty shard).
    DeleteBeforeAck,
    /// Jump to the latest configuration instead of the next one.
    SkipConfigs,
}

/// The server's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GroupConfig {
    /// The Raft node's configuration.
    pub raft: raft::Config,
    /// This group's id.
    pub gid: Gid,
    /// The number of controller servers.
    pub ctrlers: usize,
    /// Snapshot when the persisted Raft state reaches this many bytes (`None`: never).
    pub max_raft_state: Option<usize>,
    /// The deliberate bug, if any.
    pub bug: Option<GroupBug>,
}

/// The replicated state of a group.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GroupState {
    gid: Gid,
    current: ShardConfig,
    previous: ShardConfig,
    shards: [ShardState; NSHARDS],
}

impl GroupState {
    fn new(gid: Gid) -> Self {
        GroupState {
            gid,
            current: ShardConfig::default(),
            previous: ShardConfig::default(),
            shards: Default::default(),
        }
    }

    /// The current configuration.
    pub fn config(&self) -> &ShardConfig {
        &self.current
    }

    /// The state of each shard.
    pub fn shards(&self) -> &[ShardState; NSHARDS] {
        &self.shards
    }

    fn settled(&self) -> bool {
        self.shards.iter().all(ShardState::settled)
    }

    /// One letter per shard: `-` not ours, `S` serving, `P` pulling, `B` kept for the
    /// new owner, `G` serving while the old copy is deleted.
    fn describe_shards(&self) -> String {
        self.shards
            .iter()
            .map(|s| match s {
                ShardState::NotOwned => '-',
                ShardState::Serving(_) => 'S',
                ShardState::Pulling => 'P',
                ShardState::BePulled(_) => 'B',
                ShardState::Gcing(_) => 'G',
            })
            .collect()
    }

    fn encode(&self) -> Vec<u8> {
        codec::encode(self)
    }

    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        codec::decode("shard group snapshot", bytes)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Pending {
    call: CallTag,
    client: ClientId,
    seq: u64,
    term: Term,
}

/// What a group RPC of ours was about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Transfer {
    Pull,
    Delete,
}

/// A shard group server.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GroupServer {
    raft: Raft<GroupCmd>,
    state: GroupState,
    applied: Index,
    pending: BTreeMap<Index, Pending>,
    max_raft_state: Option<usize>,
    bug: Option<GroupBug>,
    me: NodeId,
    ctrler: CtrlerClerk,
    /// Transfers with a call outstanding, by shard.
    in_flight: BTreeSet<usize>,
    /// For each shard, which server of the other group to try next.
    cursor: [usize; NSHARDS],
    next_tag: u64,
    tags: BTreeMap<u64, (Transfer, usize, u64)>,
}

impl GroupServer {
    /// A server recovered from what it persisted (both empty for a fresh server).
    pub fn restore(
        config: GroupConfig,
        raft_state: &[u8],
        snapshot: &[u8],
    ) -> Result<(Self, Vec<GroupOutput>), RaftError> {
        let state = if snapshot.is_empty() {
            GroupState::new(config.gid)
        } else {
            GroupState::decode(snapshot).map_err(RaftError::Corrupt)?
        };
        let me = config.raft.me;
        let (raft, outputs) = Raft::restore(config.raft, raft_state, snapshot)?;
        // The embedded controller clerk only reads, so its id needs no uniqueness.
        let client = (config.gid << 8) | me as u64;
        let mut server = GroupServer {
            applied: raft.commit_index(),
            raft,
            state,
            pending: BTreeMap::new(),
            max_raft_state: config.max_raft_state,
            bug: config.bug,
            me,
            ctrler: CtrlerClerk::new(client, config.ctrlers, ClerkTiming::default()),
            in_flight: BTreeSet::new(),
            cursor: [0; NSHARDS],
            next_tag: 0,
            tags: BTreeMap::new(),
        };
        let mut out = vec![GroupOutput::SetTimer {
            timer: GroupTimer::Tick,
            after: TICK,
        }];
        server.process(outputs, &mut out);
        Ok((server, out))
    }

    /// The Raft node.
    pub fn raft(&self) -> &Raft<GroupCmd> {
        &self.raft
    }

    /// The replicated state.
    pub fn state(&self) -> &GroupState {
        &self.state
    }

    // ----- Clerks --------------------------------------------------------------------

    /// A clerk's request arrived through call `call`.
    pub fn client_request(&mut self, call: CallTag, request: Request<Op>) -> Vec<GroupOutput> {
        let mut out = Vec::new();
        let shard = key2shard(request.op.key());
        if !self.raft.is_leader() {
            out.push(client_reply(call, Reply::WrongLeader));
            return out;
        }
        if !self.serves(shard) {
            out.push(client_reply(call, Reply::WrongGroup));
            return out;
        }
        let (client, seq) = (request.client, request.seq);
        let (result, outputs) = self.raft.start(GroupCmd::Client(request));
        match result {
            Err(_) => out.push(client_reply(call, Reply::WrongLeader)),
            Ok((index, term)) => {
                let p = Pending {
                    call,
                    client,
                    seq,
                    term,
                };
                if let Some(old) = self.pending.insert(index, p) {
                    out.push(client_reply(old.call, Reply::WrongLeader));
                }
            }
        }
        self.process(outputs, &mut out);
        out
    }

    fn serves(&self, shard: usize) -> bool {
        match &self.state.shards[shard] {
            ShardState::Serving(_) | ShardState::Gcing(_) => true,
            ShardState::Pulling => self.bug == Some(GroupBug::ServeBeforeArrival),
            _ => false,
        }
    }

    // ----- Raft ----------------------------------------------------------------------

    /// A Raft request from peer `from`.
    pub fn raft_request(
        &mut self,
        from: NodeId,
        request: raft::Request<GroupCmd>,
    ) -> Vec<GroupOutput> {
        let outputs = self.raft.handle_request(from, request);
        self.run(outputs)
    }

    /// A Raft reply from peer `from`.
    pub fn raft_reply(&mut self, from: NodeId, reply: raft::Reply) -> Vec<GroupOutput> {
        let outputs = self.raft.handle_reply(from, reply);
        self.run(outputs)
    }

    /// A Raft timer fired.
    pub fn raft_timer(&mut self, timer: Timer) -> Vec<GroupOutput> {
        let outputs = self.raft.handle_timer(timer);
        self.run(outputs)
    }

    // ----- The group's timers and calls -----------------------------------------------

    /// One of the group's timers fired.
    pub fn timer(&mut self, timer: GroupTimer) -> Vec<GroupOutput> {
        let mut out = Vec::new();
        match timer {
            GroupTimer::Tick => {
                out.push(GroupOutput::SetTimer {
                    timer: GroupTimer::Tick,
                    after: TICK,
                });
                if self.raft.is_leader() {
                    self.commit_earlier_terms(&mut out);
                    self.poll_config(&mut out);
                    self.send_transfers(&mut out);
                }
            }
            GroupTimer::Ctrler => {
                let outputs = self.ctrler.on_timer();
                self.ctrler_outputs(outputs, &mut out);
            }
        }
        out
    }

    /// A leader whose log ends with an entry of an earlier term proposes a
    /// [`GroupCmd::Noop`], so that those entries commit and get applied. Without it, a
    /// group restarted in the middle of a shard move can stay at the configuration its
    /// snapshot holds: it waits for a shard's new owner, which waits for it.
    fn commit_earlier_terms(&mut self, out: &mut Vec<GroupOutput>) {
        let log = self.raft.log();
        if log.last_index() > self.raft.commit_index() && log.last_term() < self.raft.term() {
            event!(
                "SHRD",
                self.me,
                "G{} leader proposes a no-op",
                self.state.gid
            );
            self.propose(GroupCmd::Noop, out);
        }
    }

    fn poll_config(&mut self, out: &mut Vec<GroupOutput>) {
        if self.ctrler.busy() || (!self.state.settled() && self.bug != Some(GroupBug::SkipConfigs))
        {
            return;
        }
        let num = if self.bug == Some(GroupBug::SkipConfigs) {
            -1
        } else {
            self.state.current.num as i64 + 1
        };
        if let Ok(outputs) = self.ctrler.start(CtrlOp::Query { num }) {
            self.ctrler_outputs(outputs, out);
        }
    }

    fn send_transfers(&mut self, out: &mut Vec<GroupOutput>) {
        let num = self.state.current.num;
        for shard in 0..NSHARDS {
            let kind = match self.state.shards[shard] {
                ShardState::Pulling => Transfer::Pull,
                ShardState::Gcing(_) => Transfer::Delete,
                _ => continue,
            };
            if self.in_flight.contains(&shard) {
                continue;
            }
            let Some(servers) = self.state.previous.servers_of_shard(shard) else {
                continue;
            };
            if servers.is_empty() {
                continue;
            }
            let to = servers[self.cursor[shard] % servers.len()].clone();
            self.next_tag += 1;
            self.tags.insert(self.next_tag, (kind, shard, num));
            self.in_flight.insert(shard);
            let request = match kind {
                Transfer::Pull => GroupRpc::Pull { num, shard },
                Transfer::Delete => GroupRpc::Delete { num, shard },
            };
            event!(
                "SHRD",
                self.me,
                "G{} #{} {:?} shard {shard} of config {num} from {to}",
                self.state.gid,
                self.next_tag,
                kind
            );
            out.push(GroupOutput::GroupCall {
                to,
                tag: self.next_tag,
                request,
            });
        }
    }

    /// The answer to our group call `tag` (`None`: the call failed).
    pub fn group_reply(&mut self, tag: u64, reply: Option<GroupRpcReply>) -> Vec<GroupOutput> {
        let mut out = Vec::new();
        let Some((kind, shard, num)) = self.tags.remove(&tag) else {
            return out;
        };
        self.in_flight.remove(&shard);
        let current = num == self.state.current.num;
        event!(
            "SHRD",
            self.me,
            "G{} #{tag} {kind:?} shard {shard} of config {num}: {}",
            self.state.gid,
            match &reply {
                None => "call failed",
                Some(GroupRpcReply::Shard(_)) => "shard received",
                Some(GroupRpcReply::Done) => "done",
                Some(GroupRpcReply::NotReady) => "not ready",
                Some(GroupRpcReply::WrongLeader) => "wrong leader",
            }
        );
        match (kind, reply) {
            (Transfer::Pull, Some(GroupRpcReply::Shard(contents))) => {
                if current && matches!(self.state.shards[shard], ShardState::Pulling) {
                    self.propose(
                        GroupCmd::InstallShard {
                            num,
                            shard,
                            contents,
                        },
                        &mut out,
                    );
                }
            }
            (Transfer::Delete, Some(GroupRpcReply::Done)) => {
                if current && matches!(self.state.shards[shard], ShardState::Gcing(_)) {
                    self.propose(GroupCmd::GcDone { num, shard }, &mut out);
                }
            }
            (_, Some(GroupRpcReply::NotReady)) => {}
            _ => {
                // A failed call or a follower: try the next server at once rather than
                // at the next tick, so that a lost message costs a round trip, not a
                // tick per server of the other group.
                self.cursor[shard] = self.cursor[shard].wrapping_add(1);
                if current && self.raft.is_leader() {
                    self.send_transfers(&mut out);
                }
            }
        }
        out
    }

    /// Another group's call arrived through `call`.
    pub fn group_request(&mut self, call: CallTag, request: GroupRpc) -> Vec<GroupOutput> {
        let mut out = Vec::new();
        if !self.raft.is_leader() {
            out.push(group_reply(call, GroupRpcReply::WrongLeader));
            return out;
        }
        let current = self.state.current.num;
        let reply = match request {
            GroupRpc::Pull { num, shard } if num == current && shard < NSHARDS => {
                let eager = self.bug == Some(GroupBug::DeleteBeforeAck);
                match &self.state.shards[shard] {
                    ShardState::BePulled(s) => {
                        let contents = s.clone();
                        if eager {
                            self.propose(GroupCmd::DeleteShard { num, shard }, &mut out);
                        }
                        GroupRpcReply::Shard(contents)
                    }
                    ShardState::NotOwned if eager => GroupRpcReply::Shard(Shard::default()),
                    _ => GroupRpcReply::NotReady,
                }
            }
            GroupRpc::Pull { .. } => GroupRpcReply::NotReady,
            GroupRpc::Delete { num, .. } if num < current => GroupRpcReply::Done,
            GroupRpc::Delete { num, shard } if num == current && shard < NSHARDS => {
                match &self.state.shards[shard] {
                    ShardState::BePulled(_) => {
                        self.propose(GroupCmd::DeleteShard { num, shard }, &mut out);
                        GroupRpcReply::NotReady
                    }
                    ShardState::NotOwned => GroupRpcReply::Done,
                    _ => GroupRpcReply::NotReady,
                }
            }
            GroupRpc::Delete { .. } => GroupRpcReply::NotReady,
        };
        out.push(group_reply(call, reply));
        out
    }

    /// The answer to our controller call `attempt` (`None`: the call failed).
    pub fn ctrler_reply(
        &mut self,
        attempt: u64,
        reply: Option<Reply<Option<ShardConfig>>>,
    ) -> Vec<GroupOutput> {
        let mut out = Vec::new();
        let outputs = match reply {
            Some(r) => self.ctrler.on_reply(attempt, r),
            None => self.ctrler.on_failure(attempt),
        };
        self.ctrler_outputs(outputs, &mut out);
        out
    }

    fn ctrler_outputs(
        &mut self,
        outputs: Vec<ClerkOutput<CtrlOp, Option<ShardConfig>>>,
        out: &mut Vec<GroupOutput>,
    ) {
        for o in outputs {
            match o {
                ClerkOutput::Send {
                    to,
                    attempt,
                    request,
                } => out.push(GroupOutput::CtrlerCall {
                    to,
                    attempt,
                    request,
                }),
                ClerkOutput::SetTimer(after) => out.push(GroupOutput::SetTimer {
                    timer: GroupTimer::Ctrler,
                    after,
                }),
                ClerkOutput::CancelTimer => out.push(GroupOutput::CancelTimer(GroupTimer::Ctrler)),
                ClerkOutput::Done(Some(config)) => {
                    let next = config.num == self.state.current.num + 1
                        || (self.bug == Some(GroupBug::SkipConfigs)
                            && config.num > self.state.current.num);
                    if next && self.raft.is_leader() {
                        self.propose(GroupCmd::Config(config), out);
                    }
                }
                ClerkOutput::Done(None) => {}
            }
        }
    }

    fn propose(&mut self, cmd: GroupCmd, out: &mut Vec<GroupOutput>) {
        let (_, outputs) = self.raft.start(cmd);
        self.process(outputs, out);
    }

    // ----- Applying the log ---------------------------------------------------------

    fn run(&mut self, outputs: Vec<Output<GroupCmd>>) -> Vec<GroupOutput> {
        let mut out = Vec::new();
        self.process(outputs, &mut out);
        out
    }

    fn process(&mut self, outputs: Vec<Output<GroupCmd>>, out: &mut Vec<GroupOutput>) {
        for o in outputs {
            match o {
                Output::Apply(a) => self.apply(a, out),
                other => out.push(GroupOutput::Raft(other)),
            }
        }
        let (term, leader) = self.raft.state();
        let lost: Vec<Index> = self
            .pending
            .iter()
            .filter(|(_, p)| !leader || p.term != term)
            .map(|(&i, _)| i)
            .collect();
        for i in lost {
            if let Some(p) = self.pending.remove(&i) {
                out.push(client_reply(p.call, Reply::WrongLeader));
            }
        }
        if !leader {
            self.in_flight.clear();
        }
    }

    fn apply(&mut self, a: Apply<GroupCmd>, out: &mut Vec<GroupOutput>) {
        match a {
            Apply::Command { index, command, .. } => {
                if index <= self.applied {
                    return;
                }
                self.applied = index;
                match command {
                    GroupCmd::Client(request) => {
                        let (client, seq) = (request.client, request.seq);
                        let reply = self.apply_client(request);
                        if let Some(p) = self.pending.remove(&index) {
                            let reply = if (p.client, p.seq) == (client, seq) {
                                reply
                            } else {
                                Reply::WrongLeader
                            };
                            out.push(client_reply(p.call, reply));
                        }
                    }
                    GroupCmd::Config(config) => self.apply_config(config),
                    GroupCmd::Noop => {}
                    GroupCmd::InstallShard {
                        num,
                        shard,
                        contents,
                    } => {
                        if num == self.state.current.num
                            && shard < NSHARDS
                            && matches!(self.state.shards[shard], ShardState::Pulling)
                        {
                            event!(
                                "SHRD",
                                self.me,
                                "G{} installs shard {shard} in config {num}",
                                self.state.gid
                            );
                            self.state.shards[shard] = ShardState::Gcing(contents);
                        }
                    }
                    GroupCmd::DeleteShard { num, shard } => {
                        if num == self.state.current.num
                            && shard < NSHARDS
                            && matches!(self.state.shards[shard], ShardState::BePulled(_))
                        {
                            event!(
                                "SHRD",
                                self.me,
                                "G{} deletes shard {shard} of config {num}",
                                self.state.gid
                            );
                            self.state.shards[shard] = ShardState::NotOwned;
                        }
                    }
                    GroupCmd::GcDone { num, shard } => {
                        if num == self.state.current.num
                            && shard < NSHARDS
                            && let ShardState::Gcing(s) = &mut self.state.shards[shard]
                        {
                            let s = std::mem::take(s);
                            event!(
                                "SHRD",
                                self.me,
                                "G{} serves shard {shard} (old copy gone)",
                                self.state.gid
                            );
                            self.state.shards[shard] = ShardState::Serving(s);
                        }
                    }
                }
                self.maybe_snapshot(out);
            }
            Apply::Snapshot { index, data, .. } => {
                match GroupState::decode(&data) {
                    Ok(state) => self.state = state,
                    Err(e) => {
                        tracing::warn!(target: "raftlab", topic = "SNAP", node = self.me as u64,
                            "ignoring an undecodable snapshot through {index}: {e}");
                        return;
                    }
                }
                self.applied = index;
                let skipped: Vec<Index> = self.pending.range(..=index).map(|(&i, _)| i).collect();
                for i in skipped {
                    if let Some(p) = self.pending.remove(&i) {
                        out.push(client_reply(p.call, Reply::WrongLeader));
                    }
                }
            }
        }
    }

    fn apply_client(&mut self, request: Request<Op>) -> Reply<String> {
        let shard_index = key2shard(request.op.key());
        let pulling = matches!(self.state.shards[shard_index], ShardState::Pulling);
        if pulling && self.bug == Some(GroupBug::ServeBeforeArrival) {
            self.state.shards[shard_index] = ShardState::Serving(Shard::default());
        }
        let Some(shard) = self.state.shards[shard_index].served() else {
            return Reply::WrongGroup;
        };
        let write = request.op.is_write();
        if write
            && shard
                .sessions
                .get(&request.client)
                .is_some_and(|&s| request.seq <= s)
        {
            return Reply::Ok(String::new());
        }
        let value = match request.op {
            Op::Get { key } => shard.data.get(&key).cloned().unwrap_or_default(),
            Op::Put { key, value } => {
                shard.data.insert(key, value);
                String::new()
            }
            Op::Append { key, value } | Op::AppendReturningOld { key, value } => {
                shard.data.entry(key).or_default().push_str(&value);
                String::new()
            }
            Op::AppendReturningLen { key, value } => {
                let v = shard.data.entry(key).or_default();
                v.push_str(&value);
                v.len().to_string()
            }
        };
        if write {
            shard.sessions.insert(request.client, request.seq);
        }
        Reply::Ok(value)
    }

    fn apply_config(&mut self, config: ShardConfig) {
        let skip = self.bug == Some(GroupBug::SkipConfigs);
        if config.num != self.state.current.num + 1
            && !(skip && config.num > self.state.current.num)
        {
            return;
        }
        let gid = self.state.gid;
        for shard in 0..NSHARDS {
            let old = self.state.current.shards[shard];
            let new = config.shards[shard];
            let state = std::mem::take(&mut self.state.shards[shard]);
            self.state.shards[shard] = match (old == gid, new == gid) {
                (true, true) => state,
                (false, true) if old == 0 => ShardState::Serving(Shard::default()),
                (false, true) => ShardState::Pulling,
                (true, false) if new == 0 => ShardState::NotOwned,
                (true, false) => match state {
                    ShardState::Serving(s) | ShardState::Gcing(s) | ShardState::BePulled(s) => {
                        ShardState::BePulled(s)
                    }
                    // Owned but not yet arrived: nothing to hand over.
                    ShardState::Pulling | ShardState::NotOwned => ShardState::NotOwned,
                },
                (false, false) => state,
            };
        }
        self.state.previous = std::mem::replace(&mut self.state.current, config);
        self.cursor = [0; NSHARDS];
        event!(
            "CONF",
            self.me,
            "G{} enters config {}: {}",
            gid,
            self.state.current.num,
            self.state.describe_shards()
        );
    }

    fn maybe_snapshot(&mut self, out: &mut Vec<GroupOutput>) {
        let Some(max) = self.max_raft_state else {
            return;
        };
        if self.raft.persisted_size() < max || self.applied <= self.raft.log().snapshot_index() {
            return;
        }
        let data = self.state.encode();
        let outputs = self.raft.snapshot_at(self.applied, data);
        out.extend(outputs.into_iter().map(GroupOutput::Raft));
    }
}

fn client_reply(call: CallTag, reply: Reply<String>) -> GroupOutput {
    GroupOutput::ClientReply { call, reply }
}

fn group_reply(call: CallTag, reply: GroupRpcReply) -> GroupOutput {
    GroupOutput::GroupReply { call, reply }
}
