//! The shard-migration model: two replica groups of real [`GroupServer`]s, a scripted
//! controller, and shard clerks ([`ShardClerk`]), explored with every interleaving the
//! [`crate::cluster`] allows (any delivery order, lost messages, crashes of group
//! servers and restarts from what they persisted).
//!
//! **Nodes** ([`ShardNode`]), numbered by [`Topology`]: the servers of group A (gid
//! [`GID_A`]) then of group B ([`GID_B`]), named `server-<gid>-<i>` as in the
//! simulator; then the controller; then the clients. Every transition calls the core:
//! [`GroupServer::raft_request`], [`GroupServer::raft_reply`],
//! [`GroupServer::raft_timer`], [`GroupServer::timer`], [`GroupServer::client_request`],
//! [`GroupServer::ctrler_reply`], [`GroupServer::group_request`],
//! [`GroupServer::group_reply`], [`GroupServer::restore`] on a restart, and
//! [`ShardClerk::start`], [`ShardClerk::on_group_reply`],
//! [`ShardClerk::on_ctrler_reply`], [`ShardClerk::on_timer`] for the clients. Their
//! [`GroupOutput`]s and [`ShardClerkOutput`]s are carried out in order: Raft's
//! `Persist` goes to the server's [`Storage`] (which survives a crash), calls and
//! answers go into the network as [`ShardMsg`]s, timers are set and cancelled.
//!
//! **The controller** is not a replicated controller (that one is checked elsewhere) but
//! a fixed script of configurations ([`ShardModel::script`]): configuration 1 gives
//! shards [`STAYING_SHARD`] and [`MOVING_SHARD`] to group A; configuration 2 moves
//! [`MOVING_SHARD`] to group B (the one configuration change); with three
//! configurations, configuration 3 moves it back to A. The other eight shards belong to
//! no group. Configuration 1 is published at the start and each later one by a local
//! input ([`ShardInput::Publish`]) at any moment. The controller answers a query
//! (`Query(n)`: configuration `n`, or the latest published one if `n` is -1 or not yet
//! published) as the real controller's state machine does; it never crashes, but its
//! requests and answers can be lost.
//!
//! **Calls** follow labrpc: a lost request or reply makes the call fail at its caller
//! ([`Loss::Notify`] puts a [`ShardMsg::Failed`] notice in flight), which the caller
//! handles as its core says (a clerk tries the next server, a group retries a transfer).
//! Raft's own messages are lost silently. An answer addressed to an earlier incarnation
//! of a restarted server is dropped on arrival, as labrpc drops replies to a killed
//! server. A call tag handed to the core ([`CallTag`]) encodes the caller's node id, its
//! incarnation and its own attempt or tag, so the answer finds its way back.
//!
//! **Clients** run a fixed workload on the key [`KEY`] of the moving shard: client `c`'s
//! first operation appends its own one-letter token ([`token`]), its second reads the
//! key. Each starts when its clerk is idle ([`ShardInput::Start`]).
//!
//! **The ghost history** ([`ShardHistory`]) holds a stateright
//! [`LinearizabilityTester`] over the clients' operations (invocations and returns, with
//! [`KvSpec`] as the sequential specification), the acknowledged appends, each group's
//! highest committed index (so that the properties only read a group's state where it
//! is complete, see [`ShardHistory::max_commit`]), which group last served each shard in
//! which configuration, and which groups answered requests on which shards. The
//! properties are in [`crate::shard_properties`].
//!
//! **Bounds**: the cluster's (messages in flight, crashes, drops, duplicates), the
//! highest Raft term, and the most calls (controller queries, transfers, key/value
//! requests) one node makes: the clerks' and groups' retry loops would otherwise go on
//! forever.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use raftlab::kv::Op;
use raftlab::raft::{self, Index, Output, Role, Storage, Term, Timer};
use raftlab::rsm::clerk::ClerkTiming;
use raftlab::rsm::{Reply, Request};
use raftlab::shard::clerk::{ShardClerk, ShardClerkOutput, ShardClerkTimer};
use raftlab::shard::ctrler::CtrlOp;
use raftlab::shard::group::{
    CallTag, GroupBug, GroupCmd, GroupConfig, GroupOutput, GroupRpc, GroupRpcReply, GroupServer,
    GroupTimer, Shard, ShardState,
};
use raftlab::shard::{Gid, NSHARDS, ShardConfig, key2shard};
use stateright::Property;
use stateright::semantics::{ConsistencyTester, LinearizabilityTester, SequentialSpec};

use crate::NodeId;
use crate::cluster::{
    Action, ActionOf, Bounds, ClusterModel, ClusterState, Duplicates, Io, Loss, Node, Observed,
    Protocol, Restarts,
};
use crate::network::Envelope;
use crate::symmetry::{Renumber, Symmetric};

/// Group A's gid: it owns both shards in configuration 1.
pub const GID_A: Gid = 100;
/// Group B's gid: it gains [`MOVING_SHARD`] in configuration 2.
pub const GID_B: Gid = 101;
/// The two groups, by index.
pub const GIDS: [Gid; 2] = [GID_A, GID_B];
/// The key every client works on: `key2shard("1") == 9`, the shard that moves.
pub const KEY: &str = "1";
/// The shard that moves from A to B in configuration 2.
pub const MOVING_SHARD: usize = 9;
/// The shard that stays with A (`key2shard("0") == 8`).
pub const STAYING_SHARD: usize = 8;

/// The one-letter token client `client` appends in its operation `k`: each append of
/// the workload appends a different letter, so a value shows which appends it holds and
/// how many times.
pub fn token(client: usize, k: usize) -> String {
    char::from(b'a' + (2 * client + k) as u8).to_string()
}

/// Client `client`'s operation `k`: first append its token to [`KEY`], then read it.
pub fn workload(client: usize, k: usize) -> Op {
    if k == 0 {
        Op::Append {
            key: KEY.to_string(),
            value: token(client, k),
        }
    } else {
        Op::Get {
            key: KEY.to_string(),
        }
    }
}

/// Where every node of the model is: group servers, then the controller, then clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Topology {
    /// Servers per group.
    pub group_size: usize,
    /// The number of clients.
    pub clients: usize,
}

impl Topology {
    /// The node id of server `i` of group `gi`.
    pub fn server(&self, gi: usize, i: usize) -> NodeId {
        gi * self.group_size + i
    }

    /// The controller's node id.
    pub fn ctrler(&self) -> NodeId {
        GIDS.len() * self.group_size
    }

    /// Client `c`'s node id.
    pub fn client(&self, c: usize) -> NodeId {
        self.ctrler() + 1 + c
    }

    /// The number of nodes.
    pub fn nodes(&self) -> usize {
        self.ctrler() + 1 + self.clients
    }

    /// The group index and server index of a server's node id.
    pub fn group_of(&self, id: NodeId) -> Option<(usize, usize)> {
        (id < self.ctrler()).then(|| (id / self.group_size, id % self.group_size))
    }

    /// The client index of a client's node id.
    pub fn client_of(&self, id: NodeId) -> Option<usize> {
        (id > self.ctrler() && id < self.nodes()).then(|| id - self.ctrler() - 1)
    }

    /// The name of server `i` of group `gi`, as in configurations.
    pub fn name(&self, gi: usize, i: usize) -> String {
        format!("server-{}-{i}", GIDS[gi])
    }

    /// Configuration `num` of the script: 0 (no groups), 1 (shards [`STAYING_SHARD`]
    /// and [`MOVING_SHARD`] to A), 2 ([`MOVING_SHARD`] to B), 3 (back to A). The other
    /// shards belong to no group.
    pub fn config(&self, num: u64) -> ShardConfig {
        let mut c = ShardConfig {
            num,
            ..ShardConfig::default()
        };
        if num == 0 {
            return c;
        }
        let names =
            |gi: usize| -> Vec<String> { (0..self.group_size).map(|i| self.name(gi, i)).collect() };
        c.shards[STAYING_SHARD] = GID_A;
        c.shards[MOVING_SHARD] = if num == 2 { GID_B } else { GID_A };
        c.groups.insert(GID_A, names(0));
        if num >= 2 {
            c.groups.insert(GID_B, names(1));
        }
        c
    }

    /// The node id of a server named in a configuration.
    pub fn resolve(&self, name: &str) -> Option<NodeId> {
        let rest = name.strip_prefix("server-")?;
        let (gid, i) = rest.split_once('-')?;
        let gid: Gid = gid.parse().ok()?;
        let i: usize = i.parse().ok()?;
        let gi = GIDS.iter().position(|&g| g == gid)?;
        (i < self.group_size).then(|| self.server(gi, i))
    }
}

/// A call tag for the core: the caller's node id, its incarnation, and its own attempt
/// or tag.
fn encode_call(from: NodeId, inc: u32, n: u64) -> CallTag {
    ((from as u64) << 48) | ((u64::from(inc) & 0xff) << 40) | (n & ((1 << 40) - 1))
}

fn decode_call(call: CallTag) -> (NodeId, u32, u64) {
    (
        (call >> 48) as NodeId,
        ((call >> 40) & 0xff) as u32,
        call & ((1 << 40) - 1),
    )
}

/// Which call a [`ShardMsg::Failed`] notice fails.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Call {
    /// A clerk's key/value request (its attempt).
    Kv {
        /// The clerk's attempt.
        attempt: u64,
    },
    /// A shard transfer ([`GroupRpc`]) by a group server.
    Transfer {
        /// The caller's incarnation.
        inc: u32,
        /// The server's tag for the call.
        tag: u64,
    },
}

/// A message of the model.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ShardMsg {
    /// A Raft request within a group.
    Raft(raft::Request<GroupCmd>),
    /// A Raft reply within a group.
    RaftReply(raft::Reply),
    /// A clerk's request to a group server.
    Kv {
        /// The clerk's attempt.
        attempt: u64,
        /// The request.
        request: Request<Op>,
    },
    /// A group server's answer to a clerk.
    KvReply {
        /// The clerk's attempt.
        attempt: u64,
        /// The answer.
        reply: Reply<String>,
    },
    /// A shard transfer from one group's leader to another group's server.
    Transfer {
        /// The caller's incarnation.
        inc: u32,
        /// The caller's tag.
        tag: u64,
        /// The request.
        request: GroupRpc,
    },
    /// The answer to a transfer.
    TransferReply {
        /// The caller's incarnation.
        inc: u32,
        /// The caller's tag.
        tag: u64,
        /// The answer.
        reply: GroupRpcReply,
    },
    /// The call failed (its request or its reply was lost), told to the caller.
    Failed(Call),
}

/// A timer of a node of the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ShardTimer {
    /// A group server's Raft timer.
    Raft(Timer),
    /// A group server's own timer.
    Group(GroupTimer),
    /// A clerk's timer.
    Clerk(ShardClerkTimer),
}

/// What a node keeps across a crash: a group server's Raft storage (state and snapshot),
/// how many times the node booted (its incarnation), and, for the model's bound, how
/// many calls it made in all its incarnations.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ShardDurable {
    /// Raft's persisted state and the service snapshot.
    pub storage: Storage<GroupCmd>,
    /// The number of boots so far.
    pub boots: u32,
    /// Calls made so far (controller queries, transfers, key/value requests).
    pub calls: u32,
}

/// A group server in the model: the core and what the driver keeps about it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServerNode {
    /// The core.
    pub server: GroupServer,
    /// Its group's index (0 for A, 1 for B).
    pub gi: usize,
    /// Its incarnation (boots so far).
    pub inc: u32,
    /// Whether this incarnation was restarted after a crash.
    pub restarted: bool,
    topology: Topology,
}

/// The scripted controller, shared by every node ([`Node::Env`]): how far it has
/// published. A query is answered at once from it ([`Published::query`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Published {
    /// The latest published configuration's number.
    pub latest: u64,
}

impl Default for Published {
    /// Configuration 1 is published from the start.
    fn default() -> Self {
        Published { latest: 1 }
    }
}

impl Published {
    /// The answer to `Query(num)`: configuration `num`, or the latest published one if
    /// `num` is -1 or not yet published.
    pub fn query(&self, topology: &Topology, num: i64) -> ShardConfig {
        let n = u64::try_from(num)
            .ok()
            .filter(|&n| n <= self.latest)
            .unwrap_or(self.latest);
        topology.config(n)
    }

    /// The controller's answer to a query request (only queries are ever sent).
    fn answer(&self, topology: &Topology, request: &Request<CtrlOp>) -> Option<ShardConfig> {
        match request.op {
            CtrlOp::Query { num } => Some(self.query(topology, num)),
            _ => None,
        }
    }
}

/// The controller node: it only takes the [`ShardInput::Publish`] input (and shows how
/// far it has published in traces); queries are answered from [`Published`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CtrlerNode {
    /// The latest published configuration's number (equal to [`Published::latest`]).
    pub published: u64,
}

/// A client in the model: the clerk and its place in the workload.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientNode {
    /// The core.
    pub clerk: ShardClerk,
    /// Its index among the clients.
    pub index: usize,
    /// The operation running, if any.
    pub op: Option<Op>,
    /// How many operations it started.
    pub started: usize,
    topology: Topology,
}

/// A node of the model.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ShardNode {
    /// A group server.
    Server(Box<ServerNode>),
    /// The controller.
    Ctrler(CtrlerNode),
    /// A client.
    Client(Box<ClientNode>),
}

/// What a step reports to the ghost history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShardEvent {
    /// A client invoked an operation.
    Invoke {
        /// The client.
        client: usize,
        /// The operation.
        op: Op,
    },
    /// A client's operation returned.
    Return {
        /// The client.
        client: usize,
        /// The operation.
        op: Op,
        /// Its result ("" for a write).
        value: String,
    },
    /// A client's operation on `shard` completed with the answer of a server of group
    /// `gid`.
    Served {
        /// The shard.
        shard: usize,
        /// The group.
        gid: Gid,
    },
    /// A group server answered a client's request with a result.
    Answered {
        /// Whether the server was restarted after a crash.
        restarted: bool,
    },
    /// `GroupServer::restore` refused what the server had persisted.
    RestoreFailed(String),
}

/// A local input of the model.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ShardInput {
    /// The controller publishes its next configuration.
    Publish,
    /// A client starts this operation.
    Start(Op),
}

/// The sequential specification of the clients' key/value map, for stateright's
/// [`LinearizabilityTester`]: operations are the core's [`Op`]s, results the strings a
/// clerk returns (a Get's value, "" for a write).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct KvSpec {
    map: BTreeMap<String, String>,
}

impl SequentialSpec for KvSpec {
    type Op = Op;
    type Ret = String;

    fn invoke(&mut self, op: &Op) -> String {
        match op {
            Op::Get { key } => self.map.get(key).cloned().unwrap_or_default(),
            Op::Put { key, value } => {
                self.map.insert(key.clone(), value.clone());
                String::new()
            }
            Op::Append { key, value } => {
                self.map.entry(key.clone()).or_default().push_str(value);
                String::new()
            }
            Op::AppendReturningOld { key, value } => {
                let entry = self.map.entry(key.clone()).or_default();
                let old = entry.clone();
                entry.push_str(value);
                old
            }
            Op::AppendReturningLen { key, value } => {
                let entry = self.map.entry(key.clone()).or_default();
                entry.push_str(value);
                entry.len().to_string()
            }
        }
    }
}

/// Bits of [`ShardHistory::violations`].
pub mod violation {
    /// A group served a shard in a configuration in which, or after one in which,
    /// another group had served it.
    pub const TWO_OWNERS: u8 = 1;
    /// A server could not be restored from what it persisted.
    pub const RESTORE: u8 = 1 << 1;
}

/// Bits of [`ShardHistory::reached`].
pub mod reached {
    /// A server restarted after a crash answered a client's request.
    pub const RESTARTED_SERVED: u8 = 1;
}

/// The ghost history of the shard model.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ShardHistory {
    /// The clients' operations, for the linearizability property.
    pub tester: LinearizabilityTester<usize, KvSpec>,
    /// Acknowledged appends: (key, token).
    pub acked: BTreeSet<(String, String)>,
    /// For each group, the highest index any of its servers committed. A server whose
    /// commit index equals it has applied every entry the group committed: its state is
    /// the group's state. Others (a follower behind, a restarted server that has not
    /// caught up yet) hold an older state, which the properties do not read.
    pub max_commit: [Index; 2],
    /// For each shard, the latest configuration in which a group's state served it,
    /// and that group.
    pub latest_owner: BTreeMap<usize, (u64, Gid)>,
    /// (shard, gid): the group answered a client's request on the shard.
    pub served_by: BTreeSet<(usize, Gid)>,
    /// The properties broken so far (bits of [`violation`]).
    pub violations: u8,
    /// Rare events seen so far (bits of [`reached`]).
    pub reached: u8,
}

impl ShardHistory {
    fn new() -> Self {
        ShardHistory {
            tester: LinearizabilityTester::new(KvSpec::default()),
            acked: BTreeSet::new(),
            max_commit: [0; 2],
            latest_owner: BTreeMap::new(),
            served_by: BTreeSet::new(),
            violations: 0,
            reached: 0,
        }
    }

    /// Records that group `gid`'s state serves `shard` in configuration `num`.
    fn owner(&mut self, shard: usize, num: u64, gid: Gid) {
        match self.latest_owner.get(&shard) {
            Some(&(m, g)) if g != gid && m >= num => self.violations |= violation::TWO_OWNERS,
            Some(&(m, _)) if m >= num => {}
            _ => {
                self.latest_owner.insert(shard, (num, gid));
            }
        }
    }
}

/// The shard model's bounds and switches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardModel {
    /// Cluster bounds; `servers` must be [`Topology::nodes`] (see [`ShardModel::new`]).
    pub bounds: Bounds,
    /// Servers per group.
    pub group_size: usize,
    /// Clients.
    pub clients: usize,
    /// Operations per client (1: the append; 2: the append, then a read).
    pub ops: usize,
    /// Configurations after configuration 0: 2 (one move) or 3 (the shard moves back).
    pub configs: usize,
    /// The most calls one node makes (queries, transfers, requests; retries counted).
    pub max_calls: u32,
    /// The highest Raft term explored.
    pub max_term: Term,
    /// Servers snapshot when their persisted Raft state reaches this many bytes.
    pub max_raft_state: Option<usize>,
    /// The deliberate bug every group server carries, if any.
    pub bug: Option<GroupBug>,
}

/// The state of the shard model.
pub type ShardModelState = ClusterState<ShardNode, ShardHistory>;

/// The names of the group bugs on the command line, in [`GroupBug`] order.
pub const BUG_NAMES: [(&str, GroupBug); 3] = [
    ("serve-before-arrival", GroupBug::ServeBeforeArrival),
    ("delete-before-ack", GroupBug::DeleteBeforeAck),
    ("skip-configs", GroupBug::SkipConfigs),
];

/// The command-line name of a group bug.
pub fn bug_name(bug: GroupBug) -> &'static str {
    BUG_NAMES
        .iter()
        .find(|(_, b)| *b == bug)
        .map_or("?", |(n, _)| n)
}

/// The group bug with this command-line name.
pub fn parse_bug(name: &str) -> Result<GroupBug, String> {
    BUG_NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, b)| *b)
        .ok_or_else(|| {
            format!(
                "no bug named {name:?}; known: {}",
                BUG_NAMES.map(|(n, _)| n).join(", ")
            )
        })
}

impl Default for ShardModel {
    /// The defaults of `raftlab check shardkv`: groups of one server, one client
    /// appending then reading, one move, one crash, drops on.
    fn default() -> Self {
        ShardModel::new(1, 1)
    }
}

impl ShardModel {
    /// The default bounds with `group_size` servers per group and `clients` clients.
    pub fn new(group_size: usize, clients: usize) -> Self {
        let mut m = ShardModel {
            bounds: Bounds {
                servers: 0,
                max_in_flight: 3,
                max_crashes: 1,
                drops: true,
                duplicates: Duplicates::Off,
            },
            group_size,
            clients,
            ops: 2,
            configs: 2,
            max_calls: 10,
            max_term: 3,
            max_raft_state: None,
            bug: None,
        };
        m.bounds.servers = m.topology().nodes();
        m
    }

    /// Small bounds under which `bug` breaks a property, found by experiment: the
    /// smallest ones the bug's shortest counterexample needs, so that a breadth-first
    /// search reaches it quickly. The tests pin the depth found under them.
    pub fn exposing(bug: GroupBug) -> ShardModel {
        let mut m = ShardModel::new(1, 1);
        m.bug = Some(bug);
        m.ops = 1;
        m.bounds.max_crashes = 0;
        m.bounds.max_in_flight = 2;
        // Only a lost answer to a pull makes the new owner pull again, from a group
        // that already deleted the shard.
        m.bounds.drops = bug == GroupBug::DeleteBeforeAck;
        m
    }

    /// Where the nodes are.
    pub fn topology(&self) -> Topology {
        Topology {
            group_size: self.group_size,
            clients: self.clients,
        }
    }

    /// The stateright model of these bounds.
    pub fn into_model(self) -> ClusterModel<ShardModel> {
        ClusterModel::new(self)
    }

    /// Checks the bounds, naming the one that makes no sense.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=3).contains(&self.group_size) {
            return Err(format!(
                "--group-size {}: the model runs groups of 1 to 3 servers",
                self.group_size
            ));
        }
        if !(1..=2).contains(&self.clients) {
            return Err(format!(
                "--clients {}: the model runs 1 or 2 clients",
                self.clients
            ));
        }
        if !(1..=2).contains(&self.ops) {
            return Err(format!(
                "--ops {}: each client appends (1) and then reads (2)",
                self.ops
            ));
        }
        if !(2..=3).contains(&self.configs) {
            return Err(format!(
                "--configs {}: 2 (the shard moves to B) or 3 (and back to A)",
                self.configs
            ));
        }
        if self.max_term == 0 {
            return Err("--max-term 0: no group could ever elect a leader".into());
        }
        if self.max_calls == 0 {
            return Err("--max-calls 0: no node could ever call another".into());
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
        if self.max_term > 255 {
            return Err(format!("--max-term {}: at most 255", self.max_term));
        }
        if self.bounds.max_in_flight == 0 {
            return Err("--max-in-flight 0: no message could ever be sent".into());
        }
        if self.bounds.servers != self.topology().nodes() {
            return Err(format!(
                "{} nodes in the cluster bounds, but the topology has {}",
                self.bounds.servers,
                self.topology().nodes()
            ));
        }
        Ok(())
    }

    /// The controller's configurations, index = number: 0 (no groups), 1 (both shards
    /// to A), 2 ([`MOVING_SHARD`] to B), and with three configurations 3 (back to A).
    pub fn script(&self) -> Vec<ShardConfig> {
        let topology = self.topology();
        (0..=self.configs as u64)
            .map(|n| topology.config(n))
            .collect()
    }

    fn group_config(&self, gi: usize, i: usize) -> GroupConfig {
        GroupConfig {
            raft: raft::Config::new(i, self.group_size),
            gid: GIDS[gi],
            ctrlers: 1,
            max_raft_state: self.max_raft_state,
            bug: self.bug,
        }
    }
}

// ----- Carrying out the cores' outputs -------------------------------------------------

impl ServerNode {
    fn base(&self) -> NodeId {
        self.topology.server(self.gi, 0)
    }

    fn carry_out(&mut self, outputs: Vec<GroupOutput>, io: &mut Io<'_, ShardNode>) {
        let base = self.base();
        let mut queue: VecDeque<GroupOutput> = outputs.into();
        while let Some(output) = queue.pop_front() {
            match output {
                GroupOutput::Raft(o) => match o {
                    Output::Persist(p) => io.durable().storage.apply(p),
                    Output::Send { to, request } => io.send(base + to, ShardMsg::Raft(request)),
                    Output::Reply { to, reply } => io.send(base + to, ShardMsg::RaftReply(reply)),
                    Output::SetTimer { timer, .. } => io.set_timer(ShardTimer::Raft(timer)),
                    Output::CancelTimer(timer) => io.cancel_timer(ShardTimer::Raft(timer)),
                    // The group server consumes its applies; none reach the driver.
                    Output::Apply(_) => {}
                },
                GroupOutput::ClientReply { call, reply } => {
                    if matches!(reply, Reply::Ok(_)) {
                        io.event(ShardEvent::Answered {
                            restarted: self.restarted,
                        });
                    }
                    let (to, _, attempt) = decode_call(call);
                    io.send(to, ShardMsg::KvReply { attempt, reply });
                }
                GroupOutput::CtrlerCall {
                    attempt, request, ..
                } => {
                    // The scripted controller answers at once; what the answer makes
                    // the server do comes after this step's other outputs.
                    io.durable().calls += 1;
                    let answer = io.env().answer(&self.topology, &request);
                    let more = self.server.ctrler_reply(attempt, Some(Reply::Ok(answer)));
                    queue.extend(more);
                }
                GroupOutput::GroupCall { to, tag, request } => {
                    io.durable().calls += 1;
                    let msg = ShardMsg::Transfer {
                        inc: self.inc,
                        tag,
                        request,
                    };
                    match self.topology.resolve(&to) {
                        Some(id) => io.send(id, msg),
                        None => {
                            let me = io.me();
                            io.send(me, ShardMsg::Failed(Call::Transfer { inc: self.inc, tag }));
                        }
                    }
                }
                GroupOutput::GroupReply { call, reply } => {
                    let (to, inc, tag) = decode_call(call);
                    io.send(to, ShardMsg::TransferReply { inc, tag, reply });
                }
                GroupOutput::SetTimer { timer, .. } => io.set_timer(ShardTimer::Group(timer)),
                GroupOutput::CancelTimer(timer) => io.cancel_timer(ShardTimer::Group(timer)),
            }
        }
    }

    /// Whether a tick would do nothing but poll the controller and find no
    /// configuration to propose (or nothing at all). Such a tick only moves the embedded
    /// controller clerk's request counters, which nothing else reads: taking it is a
    /// stutter step, but a new state each time. The model does not take it (the timer
    /// stays set), as if the tick came later; found by running the tick on a copy.
    fn idle_tick(&self, env: &Published) -> bool {
        if !self.server.raft().is_leader() {
            // A follower's tick only sets the timer again.
            return true;
        }
        let mut probe = self.server.clone();
        let only_timers = |outputs: &[GroupOutput]| {
            outputs.iter().all(|o| {
                matches!(
                    o,
                    GroupOutput::SetTimer { .. } | GroupOutput::CancelTimer(_)
                )
            })
        };
        let outputs = probe.timer(GroupTimer::Tick);
        for output in outputs {
            match output {
                GroupOutput::SetTimer { .. } | GroupOutput::CancelTimer(_) => {}
                GroupOutput::CtrlerCall {
                    attempt, request, ..
                } => {
                    let answer = env.answer(&self.topology, &request);
                    if !only_timers(&probe.ctrler_reply(attempt, Some(Reply::Ok(answer)))) {
                        return false;
                    }
                }
                _ => return false,
            }
        }
        true
    }

    fn on_message(&mut self, from: NodeId, msg: ShardMsg, io: &mut Io<'_, ShardNode>) {
        let base = self.base();
        let peer = from.wrapping_sub(base);
        let outputs = match msg {
            ShardMsg::Raft(r) if peer < self.topology.group_size => {
                self.server.raft_request(peer, r)
            }
            ShardMsg::RaftReply(r) if peer < self.topology.group_size => {
                self.server.raft_reply(peer, r)
            }
            ShardMsg::Kv { attempt, request } => self
                .server
                .client_request(encode_call(from, 0, attempt), request),
            ShardMsg::Transfer { inc, tag, request } => self
                .server
                .group_request(encode_call(from, inc, tag), request),
            ShardMsg::TransferReply { inc, tag, reply } if inc == self.inc => {
                self.server.group_reply(tag, Some(reply))
            }
            ShardMsg::Failed(Call::Transfer { inc, tag }) if inc == self.inc => {
                self.server.group_reply(tag, None)
            }
            // An answer to an earlier incarnation, or a message this node never takes.
            _ => Vec::new(),
        };
        self.carry_out(outputs, io);
    }
}

impl ClientNode {
    fn carry_out(&mut self, outputs: Vec<ShardClerkOutput>, io: &mut Io<'_, ShardNode>) {
        let mut queue: VecDeque<ShardClerkOutput> = outputs.into();
        while let Some(output) = queue.pop_front() {
            match output {
                ShardClerkOutput::SendGroup {
                    server,
                    attempt,
                    request,
                } => {
                    io.durable().calls += 1;
                    match self.topology.resolve(&server) {
                        Some(id) => io.send(id, ShardMsg::Kv { attempt, request }),
                        None => {
                            let me = io.me();
                            io.send(me, ShardMsg::Failed(Call::Kv { attempt }));
                        }
                    }
                }
                ShardClerkOutput::SendCtrler {
                    attempt, request, ..
                } => {
                    io.durable().calls += 1;
                    let answer = io.env().answer(&self.topology, &request);
                    let more = self.clerk.on_ctrler_reply(attempt, Some(Reply::Ok(answer)));
                    queue.extend(more);
                }
                ShardClerkOutput::SetTimer { timer, .. } => io.set_timer(ShardTimer::Clerk(timer)),
                ShardClerkOutput::CancelTimer(timer) => io.cancel_timer(ShardTimer::Clerk(timer)),
                ShardClerkOutput::Done(value) => {
                    if let Some(op) = self.op.take() {
                        io.event(ShardEvent::Return {
                            client: self.index,
                            op,
                            value,
                        });
                    }
                }
            }
        }
    }

    fn on_message(&mut self, from: NodeId, msg: ShardMsg, io: &mut Io<'_, ShardNode>) {
        let outputs = match msg {
            ShardMsg::KvReply { attempt, reply } => {
                let ok = matches!(reply, Reply::Ok(_));
                let outputs = self.clerk.on_group_reply(attempt, Some(reply));
                let done = outputs
                    .iter()
                    .any(|o| matches!(o, ShardClerkOutput::Done(_)));
                if ok
                    && done
                    && let (Some(op), Some((gi, _))) = (&self.op, self.topology.group_of(from))
                {
                    io.event(ShardEvent::Served {
                        shard: key2shard(op.key()),
                        gid: GIDS[gi],
                    });
                }
                outputs
            }
            ShardMsg::Failed(Call::Kv { attempt }) => self.clerk.on_group_reply(attempt, None),
            _ => Vec::new(),
        };
        self.carry_out(outputs, io);
    }
}

impl Node for ShardNode {
    /// Servers are named in the configurations the controller publishes, so renaming
    /// them does not give an equivalent state.
    const SYMMETRIC: bool = false;
    type Msg = ShardMsg;
    type Timer = ShardTimer;
    type Durable = ShardDurable;
    type Event = ShardEvent;
    type Env = Published;

    fn on_message(&mut self, from: NodeId, msg: ShardMsg, io: &mut Io<'_, Self>) {
        match self {
            ShardNode::Server(s) => s.on_message(from, msg, io),
            ShardNode::Client(c) => c.on_message(from, msg, io),
            ShardNode::Ctrler(_) => {}
        }
    }

    fn on_timer(&mut self, timer: ShardTimer, io: &mut Io<'_, Self>) {
        match (self, timer) {
            (ShardNode::Server(s), ShardTimer::Raft(t)) => {
                let outputs = s.server.raft_timer(t);
                s.carry_out(outputs, io);
            }
            (ShardNode::Server(s), ShardTimer::Group(GroupTimer::Tick))
                if s.idle_tick(io.env()) =>
            {
                // Nothing but a poll that finds no new configuration: the same as the
                // tick not firing yet (see `ServerNode::idle_tick`).
                io.set_timer(timer);
            }
            (ShardNode::Server(s), ShardTimer::Group(t)) => {
                let outputs = s.server.timer(t);
                s.carry_out(outputs, io);
            }
            (ShardNode::Client(c), ShardTimer::Clerk(t)) => {
                let outputs = c.clerk.on_timer(t);
                c.carry_out(outputs, io);
            }
            _ => {}
        }
    }

    fn lost(envelope: &Envelope<ShardMsg>) -> Loss<ShardMsg> {
        let Envelope { from, to, msg } = envelope;
        // A lost request fails at its sender, a lost reply at its receiver.
        let (caller, call) = match msg {
            ShardMsg::Raft(_) | ShardMsg::RaftReply(_) => return Loss::Silent,
            ShardMsg::Failed(_) => return Loss::Never,
            ShardMsg::Kv { attempt, .. } => (*from, Call::Kv { attempt: *attempt }),
            ShardMsg::KvReply { attempt, .. } => (*to, Call::Kv { attempt: *attempt }),
            ShardMsg::Transfer { inc, tag, .. } => (
                *from,
                Call::Transfer {
                    inc: *inc,
                    tag: *tag,
                },
            ),
            ShardMsg::TransferReply { inc, tag, .. } => (
                *to,
                Call::Transfer {
                    inc: *inc,
                    tag: *tag,
                },
            ),
        };
        // The notice comes "from" the callee, so a lost request and a lost reply of one
        // call give the same notice.
        let callee = if caller == *from { *to } else { *from };
        Loss::Notify(Envelope {
            from: callee,
            to: caller,
            msg: ShardMsg::Failed(call),
        })
    }
}

// ----- Symmetry (not used) -------------------------------------------------------------
//
// The servers of this model are not interchangeable: configurations name them, and a
// group tries them in order. `raftlab check shardkv` never turns symmetry reduction on;
// these identity implementations only satisfy the cluster's trait bounds.

impl Renumber for ShardNode {
    fn renumber(&self, _map: &[NodeId]) -> Self {
        self.clone()
    }
}

impl Symmetric for ShardNode {
    fn symmetry_key(&self, _key: &mut Vec<u64>) {}
}

impl Renumber for ShardDurable {
    fn renumber(&self, _map: &[NodeId]) -> Self {
        self.clone()
    }
}

impl Symmetric for ShardDurable {
    fn symmetry_key(&self, _key: &mut Vec<u64>) {}
}

impl Renumber for ShardMsg {
    fn renumber(&self, _map: &[NodeId]) -> Self {
        self.clone()
    }
}

impl Renumber for ShardHistory {
    fn renumber(&self, _map: &[NodeId]) -> Self {
        self.clone()
    }
}

// ----- The protocol ----------------------------------------------------------------------

/// Whether a shard state is served (its data answers clients).
pub fn served(state: &ShardState) -> Option<&Shard> {
    match state {
        ShardState::Serving(s) | ShardState::Gcing(s) => Some(s),
        _ => None,
    }
}

/// The data a shard state holds, served or kept for the new owner.
pub fn held(state: &ShardState) -> Option<&Shard> {
    match state {
        ShardState::Serving(s) | ShardState::Gcing(s) | ShardState::BePulled(s) => Some(s),
        _ => None,
    }
}

impl Protocol for ShardModel {
    type Node = ShardNode;
    type Input = ShardInput;
    type Ghost = ShardHistory;

    fn bounds(&self) -> &Bounds {
        &self.bounds
    }

    fn fresh_durable(&self, _id: NodeId) -> ShardDurable {
        ShardDurable::default()
    }

    fn fresh_ghost(&self) -> ShardHistory {
        ShardHistory::new()
    }

    fn crashable(&self, id: NodeId) -> bool {
        self.topology().group_of(id).is_some()
    }

    /// `GroupServer::restore` only sets timers, so a server restarts in its crash's
    /// step (see [`Protocol::restarts`]).
    fn restarts(&self) -> Restarts {
        Restarts::AtOnce
    }

    fn boot(&self, id: NodeId, restart: bool, io: &mut Io<'_, ShardNode>) -> Option<ShardNode> {
        let topology = self.topology();
        if let Some((gi, i)) = topology.group_of(id) {
            io.durable().boots += 1;
            let inc = io.durable_ref().boots;
            let storage = &io.durable_ref().storage;
            let state = storage.raft_state();
            let snapshot = storage.snapshot().clone();
            let (server, outputs) =
                match GroupServer::restore(self.group_config(gi, i), &state, &snapshot) {
                    Ok(r) => r,
                    Err(e) => {
                        io.event(ShardEvent::RestoreFailed(e.to_string()));
                        return None;
                    }
                };
            let mut node = ServerNode {
                server,
                gi,
                inc,
                restarted: restart,
                topology,
            };
            node.carry_out(outputs, io);
            return Some(ShardNode::Server(Box::new(node)));
        }
        if let Some(c) = topology.client_of(id) {
            return Some(ShardNode::Client(Box::new(ClientNode {
                clerk: ShardClerk::new(c as u64 + 1, 1, ClerkTiming::default()),
                index: c,
                op: None,
                started: 0,
                topology,
            })));
        }
        Some(ShardNode::Ctrler(CtrlerNode {
            published: io.env().latest,
        }))
    }

    /// The prefix: every message in flight is delivered, in order; each group without
    /// a leader fires its first server's election timer; then group A's leader ticks
    /// until A is in configuration 1. Group B stays in configuration 0, so that it may
    /// still skip configuration 1 (with [`GroupBug::SkipConfigs`]).
    fn setup(&self, state: &ShardModelState) -> Option<ActionOf<Self>> {
        if let Some((e, _)) = state.network.iter_shared().next() {
            return Some(Action::Deliver(std::sync::Arc::clone(e)));
        }
        let topology = self.topology();
        let leader = |gi: usize| {
            state.up().find_map(|(id, n)| match n {
                ShardNode::Server(s) if s.gi == gi && s.server.raft().is_leader() => Some((id, s)),
                _ => None,
            })
        };
        for gi in 0..GIDS.len() {
            if leader(gi).is_none() {
                return Some(Action::Fire(
                    topology.server(gi, 0),
                    ShardTimer::Raft(Timer::Election),
                ));
            }
        }
        match leader(0) {
            Some((id, s)) if s.server.state().config().num == 0 => {
                Some(Action::Fire(id, ShardTimer::Group(GroupTimer::Tick)))
            }
            _ => None,
        }
    }

    fn inputs(
        &self,
        _state: &ShardModelState,
        _id: NodeId,
        node: &ShardNode,
        out: &mut Vec<ShardInput>,
    ) {
        match node {
            ShardNode::Ctrler(c) if c.published < self.configs as u64 => {
                out.push(ShardInput::Publish)
            }
            ShardNode::Client(c) if !c.clerk.busy() && c.started < self.ops => {
                out.push(ShardInput::Start(workload(c.index, c.started)))
            }
            _ => {}
        }
    }

    fn on_input(&self, node: &mut ShardNode, input: ShardInput, io: &mut Io<'_, ShardNode>) {
        match (node, input) {
            (ShardNode::Ctrler(c), ShardInput::Publish) => {
                c.published += 1;
                io.env_mut().latest = c.published;
            }
            (ShardNode::Client(c), ShardInput::Start(op)) => {
                if let Ok(outputs) = c.clerk.start(op.clone()) {
                    c.started += 1;
                    c.op = Some(op.clone());
                    io.event(ShardEvent::Invoke {
                        client: c.index,
                        op,
                    });
                    c.carry_out(outputs, io);
                }
            }
            _ => {}
        }
    }

    fn observe(&self, ghost: &mut ShardHistory, step: &Observed<'_, ShardNode>) {
        if let Some(ShardNode::Server(s)) = step.after {
            let commit = s.server.raft().commit_index();
            let max = &mut ghost.max_commit[s.gi];
            *max = (*max).max(commit);
            if commit == *max {
                let state = s.server.state();
                let num = state.config().num;
                for (shard, st) in state.shards().iter().enumerate() {
                    if served(st).is_some() {
                        ghost.owner(shard, num, GIDS[s.gi]);
                    }
                }
            }
        }
        for event in step.events {
            match event {
                ShardEvent::Invoke { client, op } => {
                    let _ = ghost.tester.on_invoke(*client, op.clone());
                }
                ShardEvent::Return { client, op, value } => {
                    let _ = ghost.tester.on_return(*client, value.clone());
                    if let Op::Append { key, value } = op {
                        ghost.acked.insert((key.clone(), value.clone()));
                    }
                }
                ShardEvent::Served { shard, gid } => {
                    ghost.served_by.insert((*shard, *gid));
                }
                ShardEvent::Answered { restarted } => {
                    if *restarted {
                        ghost.reached |= reached::RESTARTED_SERVED;
                    }
                }
                ShardEvent::RestoreFailed(_) => ghost.violations |= violation::RESTORE,
            }
        }
    }

    fn within_bounds(&self, state: &ShardModelState) -> bool {
        state.durable.iter().map(|d| d.calls).sum::<u32>() <= self.max_calls
            && state.up().all(|(_, n)| match n {
                ShardNode::Server(s) => s.server.raft().term() <= self.max_term,
                _ => true,
            })
    }

    fn properties(&self) -> Vec<Property<ClusterModel<Self>>> {
        crate::shard_properties::shard_properties(self)
    }

    fn describe_msg(&self, msg: &ShardMsg) -> String {
        describe_msg(msg)
    }

    fn describe_input(&self, input: &ShardInput) -> String {
        match input {
            ShardInput::Publish => "controller publishes its next configuration on".into(),
            ShardInput::Start(op) => format!("client starts {} on", describe_op(op)),
        }
    }

    fn describe_node(&self, node: &ShardNode) -> String {
        match node {
            ShardNode::Server(s) => {
                let r = s.server.raft();
                let role = match r.role() {
                    Role::Follower => "follower",
                    Role::Candidate { .. } => "candidate",
                    Role::Leader { .. } => "LEADER",
                };
                let state = s.server.state();
                format!(
                    "G{} T{} {role} log {} commit {} config {} shards {}{}",
                    GIDS[s.gi],
                    r.term(),
                    describe_log(r.log()),
                    r.commit_index(),
                    state.config().num,
                    describe_shards(state.shards()),
                    if s.restarted { " (restarted)" } else { "" }
                )
            }
            ShardNode::Ctrler(c) => format!(
                "controller: configurations 1..={} of {} published",
                c.published, self.configs
            ),
            ShardNode::Client(c) => format!(
                "client {}: {}, config {}, {} started",
                c.index,
                c.op.as_ref().map_or("idle".to_string(), |op| format!(
                    "running {}",
                    describe_op(op)
                )),
                c.clerk.config().num,
                c.started,
            ),
        }
    }

    fn describe_durable(&self, d: &ShardDurable) -> String {
        let s = d.storage.state();
        format!(
            "T{} log {}, snapshot {} bytes, {} boots",
            s.term,
            describe_log(&s.log),
            d.storage.snapshot().len(),
            d.boots
        )
    }

    fn describe_timer(&self, timer: &ShardTimer) -> String {
        match timer {
            ShardTimer::Raft(Timer::Election) => "election timer".into(),
            ShardTimer::Raft(Timer::Heartbeat) => "heartbeat timer".into(),
            ShardTimer::Group(GroupTimer::Tick) => "tick (poll, transfers)".into(),
            ShardTimer::Group(GroupTimer::Ctrler) => "controller-query timeout".into(),
            ShardTimer::Clerk(ShardClerkTimer::Own) => "clerk timeout/backoff".into(),
            ShardTimer::Clerk(ShardClerkTimer::Ctrler) => "clerk controller-query timeout".into(),
        }
    }
}

// ----- Descriptions ------------------------------------------------------------------------

/// An operation on one line: `Append("1", "a")`, `Get("1")`.
pub fn describe_op(op: &Op) -> String {
    match op {
        Op::Get { key } => format!("Get({key:?})"),
        Op::Put { key, value } => format!("Put({key:?}, {value:?})"),
        Op::Append { key, value } => format!("Append({key:?}, {value:?})"),
        Op::AppendReturningOld { key, value } => format!("AppendReturningOld({key:?}, {value:?})"),
        Op::AppendReturningLen { key, value } => format!("AppendReturningLen({key:?}, {value:?})"),
    }
}

fn describe_shard(s: &Shard) -> String {
    let data: Vec<String> = s.data.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", data.join(","))
}

/// The shards a group holds: `9:Serving{1="a"}` per shard that is not `NotOwned`.
pub fn describe_shards(shards: &[ShardState; NSHARDS]) -> String {
    let parts: Vec<String> = shards
        .iter()
        .enumerate()
        .filter_map(|(k, s)| match s {
            ShardState::NotOwned => None,
            ShardState::Serving(d) => Some(format!("{k}:Serving{}", describe_shard(d))),
            ShardState::Pulling => Some(format!("{k}:Pulling")),
            ShardState::BePulled(d) => Some(format!("{k}:BePulled{}", describe_shard(d))),
            ShardState::Gcing(d) => Some(format!("{k}:Gcing{}", describe_shard(d))),
        })
        .collect();
    format!("[{}]", parts.join(" "))
}

fn describe_cmd(cmd: &GroupCmd) -> String {
    match cmd {
        GroupCmd::Client(r) => describe_op(&r.op),
        GroupCmd::Config(c) => format!("Config{}", c.num),
        GroupCmd::InstallShard { num, shard, .. } => format!("Install{shard}@{num}"),
        GroupCmd::DeleteShard { num, shard } => format!("Delete{shard}@{num}"),
        GroupCmd::GcDone { num, shard } => format!("GcDone{shard}@{num}"),
        GroupCmd::Noop => "Noop".into(),
    }
}

/// A group's log: `[snap 2/T1 | T1:Config2 T1:Append("1", "a")]`.
pub fn describe_log(log: &raft::Log<GroupCmd>) -> String {
    let entries: Vec<String> = log
        .entries()
        .iter()
        .map(|e| format!("T{}:{}", e.term, describe_cmd(&e.command)))
        .collect();
    if log.snapshot_index() > 0 {
        format!(
            "[snap {}/T{} | {}]",
            log.snapshot_index(),
            log.snapshot_term(),
            entries.join(" ")
        )
    } else {
        format!("[{}]", entries.join(" "))
    }
}

fn describe_reply<R: std::fmt::Debug>(reply: &Reply<R>) -> String {
    match reply {
        Reply::Ok(v) => format!("Ok({v:?})"),
        Reply::WrongLeader => "WrongLeader".into(),
        Reply::WrongGroup => "WrongGroup".into(),
    }
}

/// A message on one line.
pub fn describe_msg(msg: &ShardMsg) -> String {
    match msg {
        ShardMsg::Raft(raft::Request::RequestVote(a)) => format!(
            "RequestVote T{} last {}/T{}",
            a.term, a.last_log_index, a.last_log_term
        ),
        ShardMsg::Raft(raft::Request::AppendEntries(a)) => {
            let entries: Vec<String> = a
                .entries
                .iter()
                .map(|e| format!("T{}:{}", e.term, describe_cmd(&e.command)))
                .collect();
            format!(
                "AppendEntries T{} prev {}/T{} +[{}] commit {}",
                a.term,
                a.prev_log_index,
                a.prev_log_term,
                entries.join(" "),
                a.leader_commit
            )
        }
        ShardMsg::Raft(raft::Request::InstallSnapshot(a)) => format!(
            "InstallSnapshot T{} through {}/T{}",
            a.term, a.last_included_index, a.last_included_term
        ),
        ShardMsg::RaftReply(r) => {
            crate::raft_model::describe_msg(&crate::raft_model::RaftMsg::Reply(r.clone()))
        }
        ShardMsg::Kv { attempt, request } => format!(
            "Kv #{attempt} {} (client {} seq {})",
            describe_op(&request.op),
            request.client,
            request.seq
        ),
        ShardMsg::KvReply { attempt, reply } => {
            format!("KvReply #{attempt} {}", describe_reply(reply))
        }
        ShardMsg::Transfer { tag, request, .. } => match request {
            GroupRpc::Pull { num, shard } => format!("Pull shard {shard} of config {num} #{tag}"),
            GroupRpc::Delete { num, shard } => {
                format!("Delete shard {shard} of config {num} #{tag}")
            }
        },
        ShardMsg::TransferReply { tag, reply, .. } => match reply {
            GroupRpcReply::Shard(s) => format!("Shard{} #{tag}", describe_shard(s)),
            other => format!("{other:?} #{tag}"),
        },
        ShardMsg::Failed(call) => match call {
            Call::Kv { attempt } => format!("call failed: Kv #{attempt}"),
            Call::Transfer { tag, .. } => format!("call failed: transfer #{tag}"),
        },
    }
}
