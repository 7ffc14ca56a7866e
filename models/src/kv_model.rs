//! The key/value model: the Lab 4 service ([`raftlab::kv::KvServer`], the generic
//! [`raftlab::rsm::server::Server`] over a [`KvStore`]) and its clerks
//! ([`raftlab::kv::Clerk`]), explored with every interleaving the [`crate::cluster`]
//! allows, with the client history checked for linearizability.
//!
//! The cluster runs `servers` server nodes (ids `0..servers`, named `S0, S1, ...`) and
//! `clients` client nodes after them (named `C0, C1, ...`); every node is a [`KvNode`]:
//!
//! - a server is the core's `Server<KvStore>` value. Raft messages between servers go
//!   to [`Server::raft_request`] and [`Server::raft_reply`], its timers to
//!   [`Server::raft_timer`], and a clerk's call to [`Server::client_request`]. Its
//!   outputs are carried out in order: `Persist` is applied to its [`Storage`] (which
//!   survives a crash), Raft sends and replies and the answers to clerks
//!   (`ClientReply`) go into the network, timers are set and cancelled. A restart is
//!   [`Server::restore`] from what it persisted.
//! - a client is the core's pure clerk (`Clerk<Op, String>`) and how many of its
//!   operations it has started. Its `Send` outputs become [`KvMsg::Call`]s carrying the
//!   clerk's attempt number, which the server's answer ([`KvMsg::Answer`]) carries
//!   back; its one timer (a request timeout or a backoff) is fired by the model. A
//!   lost call or answer is noticed through that timer, which is also how the lab's
//!   failed `Call` reaches a clerk. Clients never crash.
//!
//! Each client runs a small script ([`KvModel::op`]): operation `j` of client `c` is a
//! write (client 0 `Put`s, the others `Append`) when `c + j` is even and a `Get`
//! otherwise, on key `(c + j) % keys`; the value a write carries names its client and
//! operation (`a1` is client 0's first), so a read tells whose writes it saw.
//!
//! The ghost history ([`KvHistory`]) holds stateright's [`LinearizabilityTester`]
//! over a reference map ([`KvSpec`]): an operation is invoked when a client starts it
//! ([`KvInput::Start`]) and returns when its clerk reports `Done` with the value. It
//! also holds the [`RaftHistory`] of the servers' Raft cores (leaders per term, the
//! committed indices, broken transition properties), so the Raft properties of
//! [`crate::properties`] apply unchanged.
//!
//! Properties, `always`:
//! - **linearizable**: the client history so far has a linearization
//!   (`LinearizabilityTester::serialized_history`), with the operations still running
//!   allowed to take effect or not;
//! - the Raft properties: election safety, leader append-only, log matching, leader
//!   completeness, applies in order (a server's applied index is its `commit_index`),
//!   snapshots only committed, persisted state consistent, and **state machine
//!   safety**, here: no index is ever committed with two different terms, and two up
//!   servers that applied the same index hold equal stores (data and sessions).
//!
//! `sometimes`: a leader is elected, an entry commits on a majority, an operation
//! completes, a `Get` returns another client's write, every operation completes, and
//! (when the bounds allow) a follower installs a snapshot and a restarted server
//! applies again.
//!
//! Bounds ([`KvModel`]): the cluster's (servers, messages in flight, crashes, drops,
//! duplicates), the highest term, the longest log (every call a leader takes is an
//! entry), the calls one clerk makes over its script, and three bounds on timing, each
//! a switch: **patient clerks** (a clerk's timer fires only when neither its current
//! call nor the answer to it is in flight: the call was lost, or a server holds it
//! without answering; see [`Protocol::may_fire`]), **heartbeats per term** (how often a
//! leader's heartbeat timer may fire in one term; a leader also replicates when it
//! takes a request and when a reply asks for more), and **taking turns** (a client
//! starts an operation only while no other has one running). Heartbeats multiply the
//! state space most: the CI bounds ([`KvModel::ci`]) have 630,719 states with none and
//! more than 1.6 million with one per term.
//!
//! The deliberate service bug [`ServiceBug::LocalReads`] (a leader answers a `Get`
//! from its own store without going through the log) breaks **linearizable**: a leader
//! that has been deposed, or one elected before it applied a committed write, answers
//! with a stale value after the write returned. [`ServiceBug::ReadBeforeOwnWrite`]
//! (a leader answers a client's `Get` right after that client's own write from the
//! state before the write) breaks it too, with one client making two operations.
//!
//! The model is never reduced by symmetry ([`Node::SYMMETRIC`] is false): a clerk tries
//! the servers in the order of their ids, so a state with the servers renamed is not an
//! equivalent state.

use std::collections::BTreeMap;

use raftlab::kv::store::KvStore;
use raftlab::kv::{self, ClientId, Op};
use raftlab::raft::{self, Bug, Config, Index, Output, Raft, RaftCore, Storage, Term};
use raftlab::rsm::Reply;
use raftlab::rsm::clerk::{ClerkOutput, ClerkTiming};
use raftlab::rsm::server::{CallTag, Outputs, Server, ServerConfig, ServerOutput, ServiceBug};
use stateright::Property;
use stateright::semantics::{LinearizabilityTester, SequentialSpec};

use crate::NodeId;
use crate::cluster::{
    Bounds, ClusterModel, ClusterState, Duplicates, HeartbeatCount, Io, Node, Observed, Protocol,
    Restarts,
};
use crate::properties::{self, RaftGhost, RaftHost};
use crate::raft_model::{
    Core, RaftHistory, describe_log, describe_reply, describe_request, reached,
};
use crate::symmetry::{Renumber, Symmetric};

/// A node of the key/value model: a server or a client.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KvNode<R = Raft<kv::Request>> {
    /// A Lab 4 server.
    Server {
        /// The core's value.
        server: Server<KvStore, R>,
        /// Whether this incarnation was restarted from storage after a crash.
        restarted: bool,
        /// How many times its heartbeat timer fired in its current term (counted only
        /// under [`KvModel::max_heartbeats`]).
        heartbeats: HeartbeatCount,
    },
    /// A client.
    Client(KvClient),
}

/// A client: the core's clerk and its progress through its script.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KvClient {
    /// The clerk.
    pub clerk: kv::Clerk,
    /// How many operations of its script it has started.
    pub started: usize,
    /// The number of the clerk's last call (its attempt counter), for the bound on
    /// retries.
    pub attempts: u64,
}

/// A message of the key/value model.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KvMsg {
    /// A Raft request between servers.
    RaftRequest(raft::Request<kv::Request>),
    /// A Raft reply between servers.
    RaftReply(raft::Reply),
    /// A clerk calls a server.
    Call {
        /// The clerk's attempt number, handed back with the answer.
        attempt: u64,
        /// The request.
        request: kv::Request,
    },
    /// A server answers a clerk's call.
    Answer {
        /// The attempt it answers.
        attempt: u64,
        /// The answer.
        reply: kv::Reply,
    },
}

/// The timers of the key/value model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KvTimer {
    /// A server's Raft election timer.
    Election,
    /// A server's Raft heartbeat timer.
    Heartbeat,
    /// A clerk's timer (a request timeout or the end of a backoff).
    Clerk,
}

impl From<raft::Timer> for KvTimer {
    fn from(t: raft::Timer) -> Self {
        match t {
            raft::Timer::Election => KvTimer::Election,
            raft::Timer::Heartbeat => KvTimer::Heartbeat,
        }
    }
}

/// What a node reports to the ghost history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KvEvent {
    /// A client started an operation.
    Invoked(Op),
    /// A client's operation returned this value.
    Returned(String),
    /// A server installed a snapshot from the leader (its applied index moved).
    InstalledSnapshot,
    /// `Server::restore` refused what the server had persisted.
    RestoreFailed(String),
}

/// A local input: a client starts its next operation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KvInput {
    /// Start this operation (the next of the client's script).
    Start(Op),
}

/// The sequential specification of the service: a map from keys to values, where a
/// missing key reads as "".
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct KvSpec(BTreeMap<String, String>);

impl SequentialSpec for KvSpec {
    type Op = Op;
    type Ret = String;

    fn invoke(&mut self, op: &Op) -> String {
        match op {
            Op::Get { key } => self.0.get(key).cloned().unwrap_or_default(),
            Op::Put { key, value } => {
                self.0.insert(key.clone(), value.clone());
                String::new()
            }
            Op::Append { key, value } => {
                self.0.entry(key.clone()).or_default().push_str(value);
                String::new()
            }
            Op::AppendReturningOld { key, value } => {
                let v = self.0.entry(key.clone()).or_default();
                let old = v.clone();
                v.push_str(value);
                old
            }
            Op::AppendReturningLen { key, value } => {
                let v = self.0.entry(key.clone()).or_default();
                v.push_str(value);
                v.len().to_string()
            }
        }
    }
}

/// Bits of [`KvHistory::reached`]: client events the `sometimes` properties look for.
pub mod kv_reached {
    /// An operation returned.
    pub const OP_COMPLETED: u8 = 1;
    /// A `Get` returned a value holding another client's write.
    pub const READ_OTHERS_WRITE: u8 = 1 << 1;
}

/// The ghost history of the key/value model.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KvHistory {
    /// The servers' Raft history.
    pub raft: RaftHistory,
    /// The client history, by client node id.
    pub ops: LinearizabilityTester<NodeId, KvSpec>,
    /// The client events the step into this state made (bits of [`kv_reached`],
    /// cleared at every step like [`RaftHistory::reached`]).
    pub reached: u8,
}

/// A deliberate bug for the key/value model: in the service or in its Raft core.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KvBug {
    /// A bug of the service (`ServerConfig::bug`).
    Service(ServiceBug),
    /// A bug of every server's Raft core (`raft::Config::bug`).
    Raft(Bug),
}

impl KvBug {
    /// The bug's name on the command line: a service bug's (`local-reads`,
    /// `read-before-own-write`) or a Raft bug's.
    pub fn name(self) -> &'static str {
        match self {
            KvBug::Service(b) => b.name(),
            KvBug::Raft(b) => b.name(),
        }
    }

    /// The bug called `name`, if any.
    pub fn from_name(name: &str) -> Option<KvBug> {
        if let Some(b) = ServiceBug::from_name(name) {
            return Some(KvBug::Service(b));
        }
        Bug::from_name(name).map(KvBug::Raft)
    }

    /// Every bug's name.
    pub fn names() -> Vec<&'static str> {
        let mut names: Vec<&'static str> = ServiceBug::ALL.map(ServiceBug::name).to_vec();
        names.extend(Bug::ALL.map(|b| b.name()));
        names
    }
}

/// The key/value model's bounds and switches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KvModel<R = Raft<kv::Request>> {
    /// Cluster bounds: `servers` counts the key/value servers only.
    pub bounds: Bounds,
    /// The number of clients.
    pub clients: usize,
    /// The operations each client runs, one after the other.
    pub ops: usize,
    /// The number of keys the scripts use.
    pub keys: usize,
    /// The highest term explored.
    pub max_term: Term,
    /// The longest Raft log explored (retries and reads take entries too).
    pub max_log: Index,
    /// The most calls one clerk makes over its whole script (first tries and retries).
    pub max_calls: u64,
    /// Whether servers snapshot (after every apply: `max_raft_state` of one byte).
    pub snapshots: bool,
    /// Whether a clerk's timer fires only when its current call is not in flight and
    /// not answered in flight (it was lost, or a server holds it without answering),
    /// as labrpc's `Call` fails only when the request or the reply is lost. Off, a
    /// clerk may also time out while its call or answer is still on its way.
    pub patient_clerks: bool,
    /// Whether clients' operations may overlap in time. Off, a client starts an
    /// operation only while no other client has one running (clients take turns, in
    /// any order), which still checks that each operation sees the ones before it.
    pub overlap: bool,
    /// The most times a leader's heartbeat timer fires in one term (`None`: no
    /// limit). A leader also sends AppendEntries when it takes a request and when a
    /// reply asks for more, so with 0 replication still works; only a lost
    /// AppendEntries is then never sent again.
    pub max_heartbeats: Option<u8>,
    /// The deliberate bug every server carries, if any.
    pub bug: Option<KvBug>,
    /// The Raft core the servers run.
    pub core: Core<R>,
}

/// The state of the key/value model.
pub type KvState<R = Raft<kv::Request>> = ClusterState<KvNode<R>, KvHistory>;

impl<R> Default for KvModel<R> {
    /// The defaults of `raftlab check kv`: three servers, two clients with one
    /// operation each (client 0 puts, client 1 gets) on one key, overlapping freely;
    /// terms up to 2, logs of at most two entries, two calls per clerk (patient), two
    /// messages in flight, no heartbeats, drops on, no crashes, no duplicates, no
    /// snapshots. About 2.5 million states.
    fn default() -> Self {
        KvModel {
            bounds: Bounds {
                servers: 3,
                max_in_flight: 2,
                max_crashes: 0,
                drops: true,
                duplicates: Duplicates::Off,
            },
            clients: 2,
            ops: 1,
            keys: 1,
            max_term: 2,
            max_log: 2,
            max_calls: 2,
            snapshots: false,
            patient_clerks: true,
            overlap: true,
            max_heartbeats: Some(0),
            bug: None,
            core: Core::default(),
        }
    }
}

impl<R: RaftCore<kv::Request>> KvModel<R> {
    /// The stateright model of these bounds.
    pub fn into_model(self) -> ClusterModel<Self> {
        ClusterModel::new(self)
    }

    /// Checks the bounds, naming the one that makes no sense.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=7).contains(&self.bounds.servers) {
            return Err(format!(
                "--servers {}: the model runs 1 to 7 servers",
                self.bounds.servers
            ));
        }
        if !(1..=4).contains(&self.clients) {
            return Err(format!(
                "--clients {}: the model runs 1 to 4 clients",
                self.clients
            ));
        }
        if !(1..=4).contains(&self.ops) {
            return Err(format!(
                "--ops {}: each client runs 1 to 4 operations",
                self.ops
            ));
        }
        if !(1..=4).contains(&self.keys) {
            return Err(format!("--keys {}: the scripts use 1 to 4 keys", self.keys));
        }
        if self.max_term == 0 {
            return Err("--max-term 0: no election could ever start".into());
        }
        if self.max_term > 255 {
            return Err(format!("--max-term {}: at most 255", self.max_term));
        }
        if self.max_log == 0 {
            return Err("--max-log 0: no request could ever commit".into());
        }
        if self.max_log > 255 {
            return Err(format!("--max-log {}: at most 255", self.max_log));
        }
        if self.max_calls == 0 {
            return Err("--max-calls 0: no clerk could ever call a server".into());
        }
        if self.bounds.max_in_flight > 255 {
            return Err(format!(
                "--max-in-flight {}: at most 255",
                self.bounds.max_in_flight
            ));
        }
        if self.bounds.max_crashes > 255 {
            return Err(format!(
                "--crashes {}: at most 255",
                self.bounds.max_crashes
            ));
        }
        if self.max_calls > 255 {
            return Err(format!("--max-calls {}: at most 255", self.max_calls));
        }
        if self.bounds.max_in_flight == 0 {
            return Err("--max-in-flight 0: no message could ever be sent".into());
        }
        Ok(())
    }

    /// The bounds in one line, as `raftlab check kv` prints them.
    pub fn describe(&self) -> String {
        let on = |b: bool| if b { "on" } else { "off" };
        format!(
            "{} servers, {} clients x {} op{} on {} key{} ({}), terms <= {}, logs <= {}, <= {} calls per clerk ({}), <= {} heartbeats per term, <= {} in flight, <= {} crashes, snapshots {}, drops {}, duplicates {}, bug {}",
            self.bounds.servers,
            self.clients,
            self.ops,
            if self.ops == 1 { "" } else { "s" },
            self.keys,
            if self.keys == 1 { "" } else { "s" },
            if self.overlap {
                "overlapping"
            } else {
                "taking turns"
            },
            self.max_term,
            self.max_log,
            self.max_calls,
            if self.patient_clerks {
                "patient"
            } else {
                "impatient"
            },
            self.max_heartbeats
                .map_or("any".to_string(), |h| h.to_string()),
            self.bounds.max_in_flight,
            self.bounds.max_crashes,
            on(self.snapshots),
            on(self.bounds.drops),
            self.bounds.duplicates.describe(),
            self.bug.map_or("none", KvBug::name)
        )
    }

    /// The bounds of the CI test: the defaults with clients taking turns (client 0's
    /// Put and client 1's Get, in either order), about 600 000 states.
    pub fn ci() -> Self {
        KvModel {
            overlap: false,
            ..KvModel::default()
        }
    }

    /// Small bounds under which `bug` breaks a property: the [`KvModel::ci`] bounds
    /// (under which nothing breaks without a bug) with the bug on. For
    /// [`ServiceBug::LocalReads`] the shortest counterexample needs two leaders: the
    /// write commits under one, the read is answered by the other from a store that
    /// lacks it. [`ServiceBug::ReadBeforeOwnWrite`] needs a client's write followed by
    /// its own read, so its bounds are one client with two operations (a `Put`, then a
    /// `Get` of the same key). Raft bugs break the Raft properties here as in the Raft
    /// model (whose `RaftModel::exposing` bounds are the ones tuned to each).
    pub fn exposing(bug: KvBug) -> Self {
        let ci = Self::ci();
        let (clients, ops) = match bug {
            KvBug::Service(ServiceBug::ReadBeforeOwnWrite) => (1, 2),
            _ => (ci.clients, ci.ops),
        };
        KvModel {
            bug: Some(bug),
            clients,
            ops,
            ..ci
        }
    }

    /// The name of the client whose node id is `id`.
    fn client_index(&self, id: NodeId) -> usize {
        id.saturating_sub(self.bounds.servers)
    }

    /// Operation `j` of client `c`'s script.
    pub fn op(&self, c: usize, j: usize) -> Op {
        let key = format!("k{}", (c + j) % self.keys.max(1));
        if (c + j) % 2 == 1 {
            return Op::Get { key };
        }
        let value = format!("{}{}", client_letter(c), j + 1);
        if c == 0 {
            Op::Put { key, value }
        } else {
            Op::Append { key, value }
        }
    }

    /// The keys the scripts use.
    pub fn key_names(&self) -> Vec<String> {
        (0..self.keys.max(1)).map(|k| format!("k{k}")).collect()
    }

    fn server_config(&self, id: NodeId) -> ServerConfig {
        let raft_bug = match self.bug {
            Some(KvBug::Raft(b)) => Some(b),
            _ => None,
        };
        let service_bug = match self.bug {
            Some(KvBug::Service(b)) => Some(b),
            _ => None,
        };
        ServerConfig {
            raft: Config::new(id, self.bounds.servers).with_bug(raft_bug),
            max_raft_state: self.snapshots.then_some(1),
            bug: service_bug,
        }
    }
}

/// The letter that names client `c` in the values it writes (`a`, `b`, ...).
fn client_letter(c: usize) -> char {
    char::from(b'a' + (c % 26) as u8)
}

/// The call tag under which a server knows a clerk's call: the client's node id and
/// the attempt number.
fn call_tag(client: NodeId, attempt: u64) -> CallTag {
    ((client as u64) << 32) | (attempt & 0xffff_ffff)
}

fn call_of(tag: CallTag) -> (NodeId, u64) {
    ((tag >> 32) as NodeId, tag & 0xffff_ffff)
}

impl<R: RaftCore<kv::Request>> KvNode<R> {
    /// The server, if this node is one.
    pub fn server(&self) -> Option<&Server<KvStore, R>> {
        match self {
            KvNode::Server { server, .. } => Some(server),
            KvNode::Client(_) => None,
        }
    }

    /// The client, if this node is one.
    pub fn client(&self) -> Option<&KvClient> {
        match self {
            KvNode::Client(c) => Some(c),
            KvNode::Server { .. } => None,
        }
    }
}

/// Carries out a server's outputs, in order.
fn carry_out_server<R: RaftCore<kv::Request>>(
    outputs: Outputs<KvStore>,
    io: &mut Io<'_, KvNode<R>>,
) {
    for output in outputs {
        match output {
            ServerOutput::Raft(Output::Persist(p)) => io.durable().apply(p),
            ServerOutput::Raft(Output::Send { to, request }) => {
                io.send(to, KvMsg::RaftRequest(request))
            }
            ServerOutput::Raft(Output::Reply { to, reply }) => io.send(to, KvMsg::RaftReply(reply)),
            ServerOutput::Raft(Output::SetTimer { timer, .. }) => io.set_timer(timer.into()),
            ServerOutput::Raft(Output::CancelTimer(timer)) => io.cancel_timer(timer.into()),
            // The server consumes its applies; none reach its driver.
            ServerOutput::Raft(Output::Apply(_)) => {}
            ServerOutput::ClientReply { call, reply } => {
                let (client, attempt) = call_of(call);
                io.send(client, KvMsg::Answer { attempt, reply });
            }
        }
    }
}

impl KvClient {
    /// Carries out the clerk's outputs, in order.
    fn carry_out<R: RaftCore<kv::Request>>(
        &mut self,
        outputs: Vec<ClerkOutput<Op, String>>,
        io: &mut Io<'_, KvNode<R>>,
    ) {
        for output in outputs {
            match output {
                ClerkOutput::Send {
                    to,
                    attempt,
                    request,
                } => {
                    self.attempts = attempt;
                    io.send(to, KvMsg::Call { attempt, request });
                }
                ClerkOutput::SetTimer(_) => io.set_timer(KvTimer::Clerk),
                ClerkOutput::CancelTimer => io.cancel_timer(KvTimer::Clerk),
                ClerkOutput::Done(value) => io.event(KvEvent::Returned(value)),
            }
        }
    }
}

impl<R: RaftCore<kv::Request>> Node for KvNode<R> {
    type Env = ();
    type Msg = KvMsg;
    type Timer = KvTimer;
    type Durable = Storage<kv::Request>;
    type Event = KvEvent;

    const SYMMETRIC: bool = false;

    fn on_message(&mut self, from: NodeId, msg: KvMsg, io: &mut Io<'_, Self>) {
        let term = self.term();
        self.on_message_inner(from, msg, io);
        self.count_term(term);
    }

    fn on_timer(&mut self, timer: KvTimer, io: &mut Io<'_, Self>) {
        let term = self.term();
        if timer == KvTimer::Heartbeat
            && let KvNode::Server { heartbeats, .. } = self
        {
            heartbeats.fired();
        }
        self.on_timer_inner(timer, io);
        self.count_term(term);
    }
}

impl<R: RaftCore<kv::Request>> KvNode<R> {
    /// The server's current term (0 for a client).
    fn term(&self) -> Term {
        self.server().map_or(0, |s| s.raft().term())
    }

    /// Starts counting heartbeats again if the term changed from `before`.
    fn count_term(&mut self, before: Term) {
        let term = self.term();
        if let KvNode::Server { heartbeats, .. } = self {
            heartbeats.stepped(before, term);
        }
    }

    fn on_message_inner(&mut self, from: NodeId, msg: KvMsg, io: &mut Io<'_, Self>) {
        match (self, msg) {
            (KvNode::Server { server, .. }, KvMsg::RaftRequest(r)) => {
                let snapshot = matches!(r, raft::Request::InstallSnapshot(_));
                let applied = server.applied();
                carry_out_server(server.raft_request(from, r), io);
                if snapshot && server.applied() > applied {
                    io.event(KvEvent::InstalledSnapshot);
                }
            }
            (KvNode::Server { server, .. }, KvMsg::RaftReply(r)) => {
                carry_out_server(server.raft_reply(from, r), io)
            }
            (KvNode::Server { server, .. }, KvMsg::Call { attempt, request }) => {
                carry_out_server(server.client_request(call_tag(from, attempt), request), io)
            }
            (KvNode::Client(c), KvMsg::Answer { attempt, reply }) => {
                let outputs = c.clerk.on_reply(attempt, reply);
                c.carry_out(outputs, io);
            }
            // Nothing sends these; a node ignores a message not meant for its kind.
            (KvNode::Server { .. }, KvMsg::Answer { .. })
            | (
                KvNode::Client(_),
                KvMsg::RaftRequest(_) | KvMsg::RaftReply(_) | KvMsg::Call { .. },
            ) => {}
        }
    }

    fn on_timer_inner(&mut self, timer: KvTimer, io: &mut Io<'_, Self>) {
        match (self, timer) {
            (KvNode::Server { server, .. }, KvTimer::Election) => {
                carry_out_server(server.raft_timer(raft::Timer::Election), io)
            }
            (KvNode::Server { server, .. }, KvTimer::Heartbeat) => {
                carry_out_server(server.raft_timer(raft::Timer::Heartbeat), io)
            }
            (KvNode::Client(c), KvTimer::Clerk) => {
                let outputs = c.clerk.on_timer();
                c.carry_out(outputs, io);
            }
            (KvNode::Server { .. }, KvTimer::Clerk)
            | (KvNode::Client(_), KvTimer::Election | KvTimer::Heartbeat) => {}
        }
    }
}

impl<R: RaftCore<kv::Request>> RaftHost for KvNode<R> {
    type Cmd = kv::Request;
    type Core = R;

    fn raft(&self) -> Option<&R> {
        self.server().map(Server::raft)
    }

    fn applied_index(&self) -> Option<Index> {
        self.server().map(Server::applied)
    }

    fn storage(durable: &Storage<kv::Request>) -> &Storage<kv::Request> {
        durable
    }
}

impl RaftGhost for KvHistory {
    fn raft_history(&self) -> &RaftHistory {
        &self.raft
    }
}

// ----- Symmetry: none ----------------------------------------------------------------
//
// The key/value model is never reduced by symmetry (`KvNode::SYMMETRIC` is false): a
// clerk tries servers in the order of their ids, so renaming servers does not give an
// equivalent state. States are never renamed, and these impls, which the cluster's
// traits require, are the identity.

impl<R: RaftCore<kv::Request>> Renumber for KvNode<R> {
    fn renumber(&self, _map: &[NodeId]) -> Self {
        self.clone()
    }
}

impl<R: RaftCore<kv::Request>> Symmetric for KvNode<R> {
    fn symmetry_key(&self, _key: &mut Vec<u64>) {}
}

impl Renumber for Storage<kv::Request> {
    fn renumber(&self, _map: &[NodeId]) -> Self {
        self.clone()
    }
}

impl Symmetric for Storage<kv::Request> {
    fn symmetry_key(&self, _key: &mut Vec<u64>) {}
}

impl Renumber for KvMsg {
    fn renumber(&self, _map: &[NodeId]) -> Self {
        self.clone()
    }
}

impl Renumber for KvHistory {
    fn renumber(&self, _map: &[NodeId]) -> Self {
        self.clone()
    }
}

// ----- The protocol ------------------------------------------------------------------

impl<R: RaftCore<kv::Request>> Protocol for KvModel<R> {
    type Node = KvNode<R>;
    type Input = KvInput;
    type Ghost = KvHistory;

    fn bounds(&self) -> &Bounds {
        &self.bounds
    }

    fn nodes(&self) -> usize {
        self.bounds.servers + self.clients
    }

    fn crashable(&self, id: NodeId) -> bool {
        id < self.bounds.servers
    }

    fn node_name(&self, id: NodeId) -> String {
        if id < self.bounds.servers {
            format!("S{id}")
        } else {
            format!("C{}", self.client_index(id))
        }
    }

    fn fresh_durable(&self, _id: NodeId) -> Storage<kv::Request> {
        Storage::new()
    }

    fn fresh_ghost(&self) -> KvHistory {
        KvHistory {
            raft: RaftHistory::default(),
            ops: LinearizabilityTester::new(KvSpec::default()),
            reached: 0,
        }
    }

    fn begin_step(&self, ghost: &mut KvHistory) {
        ghost.reached = 0;
        ghost.raft.reached = 0;
    }

    /// `Server::restore` only sets the election timer, so a server restarts in its
    /// crash's step (see [`Protocol::restarts`]).
    fn restarts(&self) -> Restarts {
        Restarts::AtOnce
    }

    fn boot(&self, id: NodeId, restart: bool, io: &mut Io<'_, KvNode<R>>) -> Option<KvNode<R>> {
        if id >= self.bounds.servers {
            let clerk = kv::Clerk::new(id as ClientId, self.bounds.servers, ClerkTiming::default());
            return Some(KvNode::Client(KvClient {
                clerk,
                started: 0,
                attempts: 0,
            }));
        }
        let storage = io.durable_ref();
        let (server, outputs) = match Server::<KvStore, R>::restore(
            self.server_config(id),
            &storage.raft_state(),
            storage.snapshot(),
        ) {
            Ok(r) => r,
            Err(e) => {
                io.event(KvEvent::RestoreFailed(e.to_string()));
                return None;
            }
        };
        carry_out_server(outputs, io);
        Some(KvNode::Server {
            server,
            restarted: restart,
            heartbeats: HeartbeatCount::new(self.max_heartbeats),
        })
    }

    fn may_fire(&self, state: &KvState<R>, id: NodeId, timer: &KvTimer) -> bool {
        if *timer == KvTimer::Heartbeat {
            return state.slot(id).and_then(|s| s.node()).is_some_and(|n| {
                matches!(n, KvNode::Server { heartbeats, .. } if heartbeats.below(self.max_heartbeats))
            });
        }
        if !self.patient_clerks || *timer != KvTimer::Clerk {
            return true;
        }
        let Some(c) = state
            .slots
            .get(id)
            .and_then(|s| s.node())
            .and_then(KvNode::client)
        else {
            return true;
        };
        !state.network.iter().any(|(e, _)| match &e.msg {
            KvMsg::Call { attempt, .. } => e.from == id && *attempt == c.attempts,
            KvMsg::Answer { attempt, .. } => e.to == id && *attempt == c.attempts,
            _ => false,
        })
    }

    fn inputs(&self, state: &KvState<R>, id: NodeId, node: &KvNode<R>, out: &mut Vec<KvInput>) {
        if let KvNode::Client(c) = node
            && !c.clerk.busy()
            && c.started < self.ops
            && (self.overlap
                || !state
                    .up()
                    .any(|(_, n)| n.client().is_some_and(|c| c.clerk.busy())))
        {
            out.push(KvInput::Start(self.op(self.client_index(id), c.started)));
        }
    }

    fn on_input(&self, node: &mut KvNode<R>, input: KvInput, io: &mut Io<'_, KvNode<R>>) {
        let (KvNode::Client(c), KvInput::Start(op)) = (node, input) else {
            return;
        };
        if let Ok(outputs) = c.clerk.start(op.clone()) {
            c.started += 1;
            io.event(KvEvent::Invoked(op));
            c.carry_out(outputs, io);
        }
    }

    fn observe(&self, ghost: &mut KvHistory, step: &Observed<'_, KvNode<R>>) {
        let before = step.before.and_then(KvNode::server);
        let after = step.after.and_then(KvNode::server);
        if step.id < self.bounds.servers {
            ghost
                .raft
                .observe_leader(step.id, before.map(Server::raft), after.map(Server::raft));
            if let Some(a) = after {
                ghost
                    .raft
                    .observe_commits(before.map(Server::raft), a.raft());
                if let Some(b) = before {
                    let restarted = matches!(
                        step.after,
                        Some(KvNode::Server {
                            restarted: true,
                            ..
                        })
                    );
                    if restarted && a.applied() > b.applied() {
                        ghost.raft.reached |= reached::RESTARTED_APPLIED;
                    }
                }
            }
        }
        for event in step.events {
            match event {
                KvEvent::Invoked(op) => {
                    // An error marks the history invalid, which `linearizable` reports.
                    let _ = stateright::semantics::ConsistencyTester::on_invoke(
                        &mut ghost.ops,
                        step.id,
                        op.clone(),
                    );
                }
                KvEvent::Returned(value) => {
                    let _ = stateright::semantics::ConsistencyTester::on_return(
                        &mut ghost.ops,
                        step.id,
                        value.clone(),
                    );
                    ghost.reached |= kv_reached::OP_COMPLETED;
                    let c = self.client_index(step.id);
                    let op = step
                        .after
                        .and_then(KvNode::client)
                        .map(|k| self.op(c, k.started.saturating_sub(1)));
                    if matches!(op, Some(Op::Get { .. }))
                        && value
                            .chars()
                            .any(|ch| ch.is_ascii_lowercase() && ch != client_letter(c))
                    {
                        ghost.reached |= kv_reached::READ_OTHERS_WRITE;
                    }
                }
                KvEvent::InstalledSnapshot => ghost.raft.reached |= reached::SNAPSHOT_INSTALLED,
                KvEvent::RestoreFailed(_) => {
                    ghost.raft.violations |= crate::raft_model::violation::PERSISTED_STATE
                }
            }
        }
    }

    fn within_bounds(&self, state: &KvState<R>) -> bool {
        state.up().all(|(_, n)| match n {
            KvNode::Server { server, .. } => {
                let r = server.raft();
                r.term() <= self.max_term && r.log().last_index() <= self.max_log
            }
            KvNode::Client(c) => c.attempts <= self.max_calls,
        })
    }

    fn properties(&self) -> Vec<Property<ClusterModel<Self>>> {
        kv_properties(self)
    }

    fn describe_msg(&self, msg: &KvMsg) -> String {
        match msg {
            KvMsg::RaftRequest(r) => describe_request(r),
            KvMsg::RaftReply(r) => describe_reply(r),
            KvMsg::Call { attempt, request } => format!(
                "call #{attempt} {} ({} seq {})",
                describe_op(&request.op),
                usize::try_from(request.client).map_or_else(
                    |_| format!("client {}", request.client),
                    |c| self.node_name(c)
                ),
                request.seq
            ),
            KvMsg::Answer { attempt, reply } => format!(
                "answer #{attempt} {}",
                match reply {
                    Reply::Ok(v) => format!("Ok {v:?}"),
                    Reply::WrongLeader => "WrongLeader".into(),
                    Reply::WrongGroup => "WrongGroup".into(),
                }
            ),
        }
    }

    fn describe_input(&self, input: &KvInput) -> String {
        match input {
            KvInput::Start(op) => format!("invoke {} on", describe_op(op)),
        }
    }

    fn describe_node(&self, node: &KvNode<R>) -> String {
        match node {
            KvNode::Server {
                server, restarted, ..
            } => {
                let r = server.raft();
                let role = r.describe_role();
                let vote = r.voted_for().map_or("-".to_string(), |v| format!("S{v}"));
                format!(
                    "T{} {role} vote {vote} log {} commit {} applied {} kv {} pending {}{}",
                    r.term(),
                    describe_log(r.log()),
                    r.commit_index(),
                    server.applied(),
                    self.describe_store(server.state()),
                    server.pending(),
                    if *restarted { " (restarted)" } else { "" }
                )
            }
            KvNode::Client(c) => {
                let state = if c.clerk.busy() {
                    format!(
                        "running {} with S{}",
                        describe_op(&self.op(self.client_index_of(c), c.started.saturating_sub(1))),
                        c.clerk.leader()
                    )
                } else {
                    format!("idle, tries S{} first", c.clerk.leader())
                };
                format!(
                    "clerk: {}/{} ops started, {state}, {} calls made",
                    c.started, self.ops, c.attempts
                )
            }
        }
    }

    fn describe_durable(&self, storage: &Storage<kv::Request>) -> String {
        let s = storage.state();
        let vote = s.voted_for.map_or("-".to_string(), |v| format!("S{v}"));
        format!("T{} vote {vote} log {}", s.term, describe_log(&s.log))
    }

    fn describe_timer(&self, timer: &KvTimer) -> String {
        match timer {
            KvTimer::Election => "election timer".into(),
            KvTimer::Heartbeat => "heartbeat timer".into(),
            KvTimer::Clerk => "clerk timer".into(),
        }
    }
}

impl<R: RaftCore<kv::Request>> KvModel<R> {
    fn client_index_of(&self, c: &KvClient) -> usize {
        self.client_index(c.clerk.client() as NodeId)
    }

    /// A store's keys and values: `{k0="a1"}`.
    fn describe_store(&self, store: &KvStore) -> String {
        let pairs: Vec<String> = self
            .key_names()
            .into_iter()
            .filter_map(|k| store.get(&k).map(|v| format!("{k}={v:?}")))
            .collect();
        format!("{{{}}}", pairs.join(" "))
    }
}

/// An operation on one line: `Put k0 "a1"`, `Get k0`.
pub fn describe_op(op: &Op) -> String {
    match op {
        Op::Get { key } => format!("Get {key}"),
        Op::Put { key, value } => format!("Put {key} {value:?}"),
        Op::Append { key, value } => format!("Append {key} {value:?}"),
        Op::AppendReturningOld { key, value } => format!("AppendReturningOld {key} {value:?}"),
        Op::AppendReturningLen { key, value } => format!("AppendReturningLen {key} {value:?}"),
    }
}

// ----- Properties --------------------------------------------------------------------

type M<R> = ClusterModel<KvModel<R>>;

/// The names of the key/value model's own properties, as the check's table prints them
/// (the Raft properties keep their names, [`crate::properties::names`]).
pub mod names {
    /// The client history is linearizable.
    pub const LINEARIZABLE: &str = "linearizable";
    /// Some operation returns.
    pub const OP_COMPLETED: &str = "an operation completes";
    /// Some Get returns another client's write.
    pub const READ_OTHERS_WRITE: &str = "a Get returns another client's write";
    /// Every client finishes its script.
    pub const ALL_COMPLETED: &str = "every operation completes";
}

/// The properties checked for `model`'s bounds: linearizability, the Raft properties
/// over the servers' cores, and the `sometimes` properties its switches can reach.
pub fn kv_properties<R: RaftCore<kv::Request>>(model: &KvModel<R>) -> Vec<Property<M<R>>> {
    let mut ps = vec![Property::always(names::LINEARIZABLE, linearizable::<R>)];
    ps.extend(properties::raft_safety::<KvModel<R>>(
        state_machine_safety::<R>,
    ));
    ps.extend(properties::raft_examples::<KvModel<R>>(
        model.snapshots,
        model.bounds.max_crashes > 0,
    ));
    ps.push(Property::sometimes(names::OP_COMPLETED, op_completed::<R>));
    if (0..model.clients).any(|c| (0..model.ops).any(|j| matches!(model.op(c, j), Op::Get { .. })))
        && model.clients > 1
    {
        ps.push(Property::sometimes(
            names::READ_OTHERS_WRITE,
            read_others_write::<R>,
        ));
    }
    ps.push(Property::sometimes(
        names::ALL_COMPLETED,
        all_completed::<R>,
    ));
    ps
}

fn linearizable<R: RaftCore<kv::Request>>(_: &M<R>, s: &KvState<R>) -> bool {
    s.ghost.ops.serialized_history().is_some()
}

/// No index was committed with two terms, and two up servers that applied the same
/// index hold the same store.
fn state_machine_safety<R: RaftCore<kv::Request>>(_: &M<R>, s: &KvState<R>) -> bool {
    let servers: Vec<&Server<KvStore, R>> = s.up().filter_map(|(_, n)| n.server()).collect();
    properties::clear::<KvModel<R>>(s, crate::raft_model::violation::STATE_MACHINE_SAFETY)
        && servers.iter().enumerate().all(|(k, a)| {
            servers[k + 1..]
                .iter()
                .all(|b| a.applied() != b.applied() || a.state() == b.state())
        })
}

fn op_completed<R: RaftCore<kv::Request>>(_: &M<R>, s: &KvState<R>) -> bool {
    s.ghost.reached & kv_reached::OP_COMPLETED != 0
}

fn read_others_write<R: RaftCore<kv::Request>>(_: &M<R>, s: &KvState<R>) -> bool {
    s.ghost.reached & kv_reached::READ_OTHERS_WRITE != 0
}

fn all_completed<R: RaftCore<kv::Request>>(m: &M<R>, s: &KvState<R>) -> bool {
    s.up().all(|(_, n)| match n {
        KvNode::Client(c) => c.started == m.protocol.ops && !c.clerk.busy(),
        KvNode::Server { .. } => true,
    })
}
