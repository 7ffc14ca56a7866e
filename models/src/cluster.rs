//! A cluster of protocol nodes as a stateright [`Model`]: the network, timers,
//! crashes and restarts, shared by every model of raftlab.
//!
//! A [`ClusterState`] holds, for each node, a [`Slot`] (the node's value and the
//! timers it has set, or `Down` after a crash), what it has persisted (its
//! [`Node::Durable`] state, which survives a crash), the messages in flight (a
//! [`Network`] multiset), the shared environment ([`Node::Env`]: a scripted service
//! every node can read, `()` for most models), the number of crashes so far, and the
//! protocol's ghost history ([`Protocol::Ghost`]) that the properties read. The nodes
//! are the servers, ids `0..servers`, then any other nodes the protocol runs
//! ([`Protocol::nodes`]), such as the clients of a service (which
//! [`Protocol::crashable`] may exempt from crashes).
//!
//! The [`Action`]s of a state are every way the world can go on:
//! - [`Action::Deliver`] any message in flight to its receiver (which must be up), in
//!   any order;
//! - [`Action::Drop`] any message in flight (a protocol may have a loss tell the
//!   caller, see [`Node::lost`]), or, for a protocol that chooses
//!   [`Losses::ForRoom`], only in a step whose sends need the room
//!   ([`Action::MakingRoom`]);
//! - when the network duplicates ([`Duplicates`]): [`Action::DeliverCopy`] (deliver
//!   a message and leave it in flight) and [`Action::DropCopy`] (lose a copy whose
//!   loss notifies, the message staying in flight), or, counting copies,
//!   [`Action::Duplicate`] (one more copy in flight);
//! - [`Action::Fire`] any timer that an up node has set (timers fire once; the node
//!   sets them again if it wants), at any moment unless the protocol bounds it
//!   ([`Protocol::may_fire`]);
//! - [`Action::Crash`] an up node that the protocol lets crash
//!   ([`Protocol::crashable`]): its value and timers are lost, its durable state is
//!   kept; and [`Action::Restart`] a down one from what it persisted (or at once, in
//!   the crash's own step, see [`Protocol::restarts`]);
//! - [`Action::Input`] a local input the protocol offers (a client command, a service
//!   snapshot), see [`Protocol::inputs`].
//!
//! Under [`Losses::ForRoom`] every action is tried when the actions of a state are
//! listed (to see whether it needs room); those that can be taken as they are come
//! with the state they lead to ([`Action::Taken`]), so that it is not made twice.
//!
//! Every transition calls the node's own code ([`Node::on_message`],
//! [`Node::on_timer`], [`Protocol::on_input`], [`Protocol::boot`]); the cluster only
//! carries out the effects the node asks for through its [`Io`]: sends, timers, writes
//! to its durable state, and events for the ghost history.
//!
//! A search can be ended early through the model's [`Halt`] switch: once it is set,
//! no state has any action left, so the checker's threads finish the states they
//! hold and stop (stateright's own time limit does not stop a one-thread search).

use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use stateright::{Model, Property};

use crate::NodeId;
use crate::network::{Envelope, Network};
use crate::symmetry::{Renumber, Symmetric};

/// A protocol node the cluster can drive: a plain value whose handlers carry out the
/// node's effects through an [`Io`].
pub trait Node: Clone + Debug + Eq + Hash + Send + Sync + Symmetric + 'static {
    /// A message between nodes.
    type Msg: Clone + Debug + Eq + Ord + Hash + Send + Sync + Renumber + 'static;
    /// A timer the node can set. Timers must not name nodes (they are not renamed).
    type Timer: Copy + Debug + Eq + Ord + Hash + Send + Sync + 'static;
    /// What the node keeps across a crash.
    type Durable: Clone + Debug + Eq + Hash + Send + Sync + Symmetric + 'static;
    /// Something the node reports for the ghost history (an apply, a snapshot...).
    type Event: Clone + Debug;
    /// A value shared by the whole cluster that every step reads and may change: a
    /// scripted service that answers at once (a model's controller), or `()`. It is part
    /// of the state, survives crashes, and starts as `Default`. It must not name nodes
    /// (symmetry reduction does not rename it).
    type Env: Clone + Debug + Default + Eq + Hash + Send + Sync + 'static;

    /// Whether states may be reduced by renaming servers (see [`crate::symmetry`]).
    /// A protocol whose behaviour depends on the order of server ids (a clerk that
    /// tries servers in turn) says `false`, and its states are never renamed.
    const SYMMETRIC: bool = true;

    /// Handles a message from `from`.
    fn on_message(&mut self, from: NodeId, msg: Self::Msg, io: &mut Io<'_, Self>);

    /// Handles a timer that fired.
    fn on_timer(&mut self, timer: Self::Timer, io: &mut Io<'_, Self>);

    /// Whether this node, and every later state and incarnation of it (restarted from
    /// `durable`, what it persisted), leaves `msg` from `from` unread: delivering it
    /// would change nothing and send nothing, now or ever. A promise: under
    /// [`Ignored::Forget`] the cluster forgets such a message as soon as it is sent or
    /// its receiver's step makes it so. By default nothing is ignored.
    fn ignores(&self, durable: &Self::Durable, from: NodeId, msg: &Self::Msg) -> bool {
        let _ = (durable, from, msg);
        false
    }

    /// What losing this message in flight does (see [`Loss`]). By default a lost
    /// message is simply gone, as Raft's RPCs are (they are sent again anyway).
    fn lost(_envelope: &Envelope<Self::Msg>) -> Loss<Self::Msg> {
        Loss::Silent
    }
}

/// What happens when the network loses a message ([`Action::Drop`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Loss<M> {
    /// It is gone and nobody is told.
    Silent,
    /// It is gone, and this message is put in flight instead to tell the caller, as
    /// labrpc makes a call whose request or reply was lost fail at its caller.
    Notify(Envelope<M>),
    /// It cannot be lost (a failure notice: it stands for the caller's own timeout).
    Never,
}

/// What a node step can do to the world: write its durable state, send, set and
/// cancel timers, and report events.
pub struct Io<'a, N: Node> {
    me: NodeId,
    env: &'a mut N::Env,
    durable: &'a mut N::Durable,
    timers: &'a mut Vec<N::Timer>,
    sends: Vec<(NodeId, N::Msg)>,
    events: Vec<N::Event>,
}

impl<'a, N: Node> Io<'a, N> {
    /// The node this step runs on.
    pub fn me(&self) -> NodeId {
        self.me
    }

    /// The cluster's shared environment, to read.
    pub fn env(&self) -> &N::Env {
        self.env
    }

    /// The cluster's shared environment, to change.
    pub fn env_mut(&mut self) -> &mut N::Env {
        self.env
    }

    /// The node's durable state, to write to (a write is durable at once).
    pub fn durable(&mut self) -> &mut N::Durable {
        self.durable
    }

    /// The node's durable state, to read.
    pub fn durable_ref(&self) -> &N::Durable {
        self.durable
    }

    /// Sends `msg` to `to`.
    pub fn send(&mut self, to: NodeId, msg: N::Msg) {
        self.sends.push((to, msg));
    }

    /// Sets (or re-sets) a timer.
    pub fn set_timer(&mut self, timer: N::Timer) {
        if let Err(k) = self.timers.binary_search(&timer) {
            self.timers.insert(k, timer);
        }
    }

    /// Cancels a timer if it is set.
    pub fn cancel_timer(&mut self, timer: N::Timer) {
        if let Ok(k) = self.timers.binary_search(&timer) {
            self.timers.remove(k);
        }
    }

    /// Reports an event to the ghost history.
    pub fn event(&mut self, event: N::Event) {
        self.events.push(event);
    }
}

/// One server of the cluster.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Slot<N: Node> {
    /// Running.
    Up {
        /// The node's value.
        node: N,
        /// The timers it has set, sorted.
        timers: Vec<N::Timer>,
    },
    /// Crashed: only its durable state remains.
    Down,
}

impl<N: Node> Slot<N> {
    /// The node, if it is up.
    pub fn node(&self) -> Option<&N> {
        match self {
            Slot::Up { node, .. } => Some(node),
            Slot::Down => None,
        }
    }
}

/// The state of a cluster model.
///
/// Each server's slot and durable state sit behind an [`Arc`]: a step changes one
/// server, so the successor shares every other server's values with its parent
/// instead of copying them (a state's clone is a few reference counts, and only the
/// server that steps is copied, once, by [`Arc::make_mut`]). Equality and hashing look
/// through the `Arc`s, so sharing changes no state's identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterState<N: Node, G> {
    /// Each server, by id.
    pub slots: Vec<Arc<Slot<N>>>,
    /// What each server has persisted, by id.
    pub durable: Vec<Arc<N::Durable>>,
    /// The messages in flight.
    pub network: Network<N::Msg>,
    /// The shared environment ([`Node::Env`]).
    pub env: N::Env,
    /// How many crashes happened so far.
    pub crashes: u32,
    /// The protocol's ghost history, for the properties.
    pub ghost: G,
    /// Whether the state hashes as its representative under symmetry (see
    /// [`ClusterState::hash_canonical`]): set in every state of a search with symmetry
    /// reduction, so that the checker's fingerprints are those of symmetry classes.
    pub canonical: bool,
}

impl<N: Node, G> ClusterState<N, G> {
    /// The up nodes with their ids.
    pub fn up(&self) -> impl Iterator<Item = (NodeId, &N)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.node().map(|n| (i, n)))
    }

    /// The slot of node `id`, if there is one.
    pub fn slot(&self, id: NodeId) -> Option<&Slot<N>> {
        self.slots.get(id).map(|s| &**s)
    }
}

/// A way the world goes on from a state.
///
/// The message actions share their envelope with the network that holds it (an
/// action is made for every message of every state, so it must not copy one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action<N: Node, I, G> {
    /// Deliver one copy of this message to its receiver.
    Deliver(Arc<Envelope<N::Msg>>),
    /// Lose one copy of this message.
    Drop(Arc<Envelope<N::Msg>>),
    /// Deliver a copy of this message, leaving it in flight (the network duplicated
    /// it; [`Duplicates::Redeliver`]).
    DeliverCopy(Arc<Envelope<N::Msg>>),
    /// Lose a copy of this message, whose loss notifies, leaving it in flight
    /// ([`Duplicates::Redeliver`]).
    DropCopy(Arc<Envelope<N::Msg>>),
    /// Put one more copy of this message in flight ([`Duplicates::Copies`]).
    Duplicate(Arc<Envelope<N::Msg>>),
    /// Fire a timer that the node has set.
    Fire(NodeId, N::Timer),
    /// Crash a node.
    Crash(NodeId),
    /// Restart a crashed node from what it persisted.
    Restart(NodeId),
    /// A local input to a node (from its client or its service).
    Input(NodeId, I),
    /// Lose these messages, then take this step, which needs their room
    /// ([`Losses::ForRoom`]).
    MakingRoom(Box<Action<N, I, G>>, Vec<Arc<Envelope<N::Msg>>>),
    /// This action, with the state it leads to, found when the actions were listed
    /// (under [`Losses::ForRoom`] every action is tried then, to see whether it needs
    /// room; the state found is kept rather than made again).
    Taken(Box<Action<N, I, G>>, Box<ClusterState<N, G>>),
}

/// The bounds every cluster model has; each protocol adds its own (terms, log length)
/// in [`Protocol::within_bounds`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// The number of servers.
    pub servers: usize,
    /// The most messages in flight (copies counted); states with more are not
    /// explored.
    pub max_in_flight: usize,
    /// The most crashes in one run.
    pub max_crashes: u32,
    /// Whether the network may lose messages.
    pub drops: bool,
    /// Whether and how the network duplicates messages.
    pub duplicates: Duplicates,
}

/// How the network duplicates messages.
///
/// [`Duplicates::Redeliver`] is the reduced form of [`Duplicates::Copies`]: it reaches
/// every server state that counting copies reaches (and more: a copy takes no room
/// in flight). The proof is a simulation that keeps the redelivering network equal
/// to the set of envelopes the copying one holds: making a copy changes no set; a
/// delivery or loss of one copy among several is a `DeliverCopy` or `DropCopy`, of
/// the last copy a `Deliver` or `Drop`; a send adds to both; and the set is never
/// larger than the multiset, so no bound on messages in flight cuts the simulation
/// short. The properties read servers, durable state and the ghost history, and a
/// protocol's [`Protocol::may_fire`] at most whether a message is in flight, never
/// how many copies are, so none can tell the two apart. What it saves is
/// every state that differs from another only in how many copies of a message are
/// in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Duplicates {
    /// The network never duplicates a message.
    Off,
    /// Any message in flight may be delivered, or lost with a notice, any number of
    /// times: the network holds each distinct envelope once, and a delivery may
    /// leave it in flight ([`Action::DeliverCopy`], [`Action::DropCopy`]).
    #[default]
    Redeliver,
    /// The network makes copies ([`Action::Duplicate`], within the bound on messages
    /// in flight), and each copy is delivered or lost once: the unreduced form.
    Copies,
}

impl Duplicates {
    /// How `raftlab check` prints it: `off`, `on`, or `on (counted copies)`.
    pub fn describe(self) -> &'static str {
        match self {
            Duplicates::Off => "off",
            Duplicates::Redeliver => "on",
            Duplicates::Copies => "on (counted copies)",
        }
    }
}

/// When a crashed node comes back (see [`Protocol::restarts`]; at once only for a
/// protocol whose boot only sets timers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Restarts {
    /// In its crash's own step: no state has the node down (the reduced search; it
    /// reaches every state of [`Restarts::Later`] that has no node down, and a trace's
    /// crash and restart are one step).
    #[default]
    AtOnce,
    /// In a step of its own, any time after the crash (the unreduced search).
    Later,
}

impl Restarts {
    /// How `raftlab check` prints it.
    pub fn describe(self) -> &'static str {
        match self {
            Restarts::AtOnce => "restart at once",
            Restarts::Later => "restart later",
        }
    }
}

/// What the network does with a message its receiver has promised to leave unread
/// ([`Node::ignores`]): a stale reply, say.
///
/// [`Ignored::Forget`] is exact for every property that does not read the network
/// (none does), when the network may lose messages: such a message can only be
/// delivered (which changes nothing) or lost, so states that differ only in which of
/// them are in flight reach the same servers, and the one with none of them reaches
/// the most (they take room under the bound on messages in flight). The reduced
/// search forgets them in the step that makes them unread; every state it reaches is
/// reached by the unreduced one, by losing each such message just before that step (or,
/// for one that is sent unread, just after it: the step's own state, with the message
/// still in flight, must be within the bound, and is checked to be). And every state
/// the unreduced search reaches is, up to messages in flight that will never be read,
/// one the reduced search reaches. Without losses ([`Bounds::drops`] off) forgetting
/// would free room that the unreduced network cannot free in time, so nothing is
/// forgotten.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Ignored {
    /// Forget it at once (the reduced search).
    #[default]
    Forget,
    /// Keep it in flight until it is delivered or lost (the unreduced search).
    Keep,
}

impl Ignored {
    /// How `raftlab check` prints it.
    pub fn describe(self) -> &'static str {
        match self {
            Ignored::Forget => "unread replies forgotten",
            Ignored::Keep => "unread replies kept",
        }
    }
}

/// When the network loses a message whose loss nobody is told of ([`Loss::Silent`]).
///
/// [`Losses::ForRoom`] is the reduced form of [`Losses::Anytime`], for a protocol
/// whose properties and [`Protocol::may_fire`] do not read the network (a protocol
/// says so by choosing it). Nodes never read the network either: a step sees only
/// its own message or timer. So a message more in flight takes nothing away from
/// what the servers can do but room under the bound on messages in flight, and a
/// loss that makes no room for a step can as well be left out (the message is just
/// never delivered). The reduced network therefore loses messages only in the step
/// that needs their room ([`Action::MakingRoom`]: exactly as many as the step's
/// sends pass the bound by), and a message that may be delivered again
/// ([`Duplicates::Redeliver`]) is never taken out by its delivery
/// ([`Action::DeliverCopy`] only), since the copy left behind is lost when its room
/// is needed.
///
/// Every reduced run is an unreduced one (a step that makes room is the losses, then
/// the step), so the reduced search reaches no state the unreduced one does not. The
/// other way is a simulation that keeps the servers, their durable state, the ghost
/// history and the crashes equal, and the reduced network a superset of the
/// unreduced one: an unreduced loss is no reduced step; a delivery that takes its
/// message out is one that leaves it in flight (or takes it out too); every other
/// step is the same step, and what it forgets ([`Ignored::Forget`] reads only the
/// receiver) is forgotten in both. Where the unreduced step's network is within the
/// bound and the reduced one's would not be, the surplus is made of messages the
/// unreduced network does not hold, and the reduced step loses them first. So every
/// state of the servers the unreduced search reaches, the reduced one reaches too,
/// with at least the same messages in flight; and no property reads the messages.
/// Losses with a notice ([`Loss::Notify`]) stay steps of their own either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Losses {
    /// Only in a step that needs the room (the reduced search).
    ForRoom,
    /// Any message at any moment (the unreduced search, and the default of a
    /// protocol).
    #[default]
    Anytime,
}

impl Losses {
    /// How `raftlab check` prints it.
    pub fn describe(self) -> &'static str {
        match self {
            Losses::ForRoom => "losses only for room",
            Losses::Anytime => "losses at any moment",
        }
    }
}

/// How many times a server's heartbeat timer fired in its current term, for a model
/// that bounds heartbeats per term. It counts only under a bound (made with `None`
/// it stays empty), so that a count nothing reads splits no states.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct HeartbeatCount(Option<u8>);

impl HeartbeatCount {
    /// A count for a server booted under `bound` (`None`: no bound, nothing counted).
    pub fn new(bound: Option<u8>) -> Self {
        HeartbeatCount(bound.map(|_| 0))
    }

    /// The heartbeat timer fired.
    pub fn fired(&mut self) {
        if let Some(n) = &mut self.0 {
            *n = n.saturating_add(1);
        }
    }

    /// A step moved the server from term `before` to term `after`: a new term counts
    /// from zero.
    pub fn stepped(&mut self, before: u64, after: u64) {
        if before != after
            && let Some(n) = &mut self.0
        {
            *n = 0;
        }
    }

    /// Whether the heartbeat timer may fire again under `bound`.
    pub fn below(self, bound: Option<u8>) -> bool {
        bound.is_none_or(|max| self.0.is_some_and(|n| n < max))
    }

    /// The count as a symmetry key (0 when nothing is counted).
    pub fn key(self) -> u64 {
        self.0.map_or(0, |n| u64::from(n) + 1)
    }
}

/// What one step did to one node, for [`Protocol::observe`].
pub struct Observed<'a, N: Node> {
    /// The node.
    pub id: NodeId,
    /// Its value before the step (`None` if it was down).
    pub before: Option<&'a N>,
    /// Its value after the step (`None` if it is down).
    pub after: Option<&'a N>,
    /// Whether this step restarted the node.
    pub restarted: bool,
    /// Its durable state after the step.
    pub durable: &'a N::Durable,
    /// The events it reported, in order.
    pub events: &'a [N::Event],
}

/// A protocol to model-check on a cluster: how to boot its nodes, which local inputs
/// they take, what the ghost history records, which states are in bounds, and which
/// properties must hold.
pub trait Protocol: Clone + Send + Sync + 'static {
    /// The node.
    type Node: Node;
    /// A local input (a client command, a service snapshot).
    type Input: Clone + Debug + Eq + Hash + Send + Sync + 'static;
    /// The ghost history the properties read. It is part of the state, so keep it
    /// small.
    type Ghost: Clone + Debug + Eq + Hash + Send + Sync + Renumber + 'static;

    /// The cluster-wide bounds.
    fn bounds(&self) -> &Bounds;

    /// The number of nodes in the cluster: the servers, then any other nodes the
    /// protocol runs (clients), ids `0..nodes()`.
    fn nodes(&self) -> usize {
        self.bounds().servers
    }

    /// Whether node `id` may crash (by default every node may; a model keeps its clients
    /// or a scripted service up).
    fn crashable(&self, _id: NodeId) -> bool {
        true
    }

    /// The name of node `id` in traces (`S0`, or `C0` for a client).
    fn node_name(&self, id: NodeId) -> String {
        format!("S{id}")
    }

    /// The durable state of a server that never ran.
    fn fresh_durable(&self, id: NodeId) -> <Self::Node as Node>::Durable;

    /// When a crashed node restarts. [`Restarts::AtOnce`]: in the same step (from what
    /// it persisted), so that no node is ever down. That loses nothing when booting only
    /// sets timers: a node down for a while behaves like one restarted at once that does
    /// nothing until then (its timers do not fire, its messages wait in flight or are
    /// lost), and the model explores that too. By default ([`Restarts::Later`]) a
    /// crashed node stays down until an [`Action::Restart`].
    fn restarts(&self) -> Restarts {
        Restarts::Later
    }

    /// Whether messages that their receivers promise to leave unread are forgotten
    /// ([`Ignored::Forget`], applied only when the network loses messages) or kept. By
    /// default they are kept.
    fn ignored(&self) -> Ignored {
        Ignored::Keep
    }

    /// When the network loses messages whose loss nobody is told of (see [`Losses`];
    /// applied only when the network loses messages and does not count copies). By
    /// default at any moment: a protocol whose properties or [`Protocol::may_fire`]
    /// read the network must keep that.
    fn losses(&self) -> Losses {
        Losses::Anytime
    }

    /// The ghost history at the start.
    fn fresh_ghost(&self) -> Self::Ghost;

    /// Called on the ghost history at the start of every step, before anything of the
    /// step is observed. A history that marks rare events for `sometimes` properties
    /// clears its marks here, so that a mark says what the step into this state did
    /// rather than what some earlier step did: a sticky mark would split every later
    /// state in two (reached through the event or not), a mark of the last step splits
    /// only the states the event leads to directly. By default nothing is cleared.
    fn begin_step(&self, _ghost: &mut Self::Ghost) {}

    /// Boots node `id` from `io`'s durable state (fresh at the start, what it persisted
    /// on a restart). `None` (with an event saying why) if it cannot boot.
    fn boot(&self, id: NodeId, restart: bool, io: &mut Io<'_, Self::Node>) -> Option<Self::Node>;

    /// Whether timer `timer` of node `id` (up, with the timer set) may fire in `state`.
    /// By default every set timer may fire at any moment; a protocol narrows this only
    /// as a stated bound (a clerk that times out only once its call was lost, say).
    fn may_fire(
        &self,
        _state: &ClusterState<Self::Node, Self::Ghost>,
        _id: NodeId,
        _timer: &<Self::Node as Node>::Timer,
    ) -> bool {
        true
    }

    /// The next action of the fixed prefix every run starts with, taken from the booted
    /// state until this says `None` (the default: no prefix). A model uses it to start
    /// where its interesting part begins (say, once every group has a leader) without
    /// exploring every interleaving of getting there; the prefix runs the nodes' own
    /// code like any other step. Traces start after it.
    fn setup(&self, _state: &ClusterState<Self::Node, Self::Ghost>) -> Option<ActionOf<Self>> {
        None
    }

    /// The local inputs node `id` (up) takes in `state`, in a deterministic order.
    fn inputs(
        &self,
        state: &ClusterState<Self::Node, Self::Ghost>,
        id: NodeId,
        node: &Self::Node,
        out: &mut Vec<Self::Input>,
    );

    /// Gives a local input to a node.
    fn on_input(&self, node: &mut Self::Node, input: Self::Input, io: &mut Io<'_, Self::Node>);

    /// Records what a step did in the ghost history.
    fn observe(&self, ghost: &mut Self::Ghost, step: &Observed<'_, Self::Node>);

    /// Whether a state is inside the protocol's own bounds (for example terms and log
    /// lengths). States outside are neither checked nor explored.
    fn within_bounds(&self, state: &ClusterState<Self::Node, Self::Ghost>) -> bool;

    /// The properties to check.
    fn properties(&self) -> Vec<Property<ClusterModel<Self>>>;

    /// A one-line description of a message ("AppendEntries T2 prev 1/1 +1 commit 1").
    fn describe_msg(&self, msg: &<Self::Node as Node>::Msg) -> String;

    /// A one-line description of a local input.
    fn describe_input(&self, input: &Self::Input) -> String;

    /// A one-line description of an up node (term, role, log...).
    fn describe_node(&self, node: &Self::Node) -> String;

    /// A one-line description of what a down node has persisted.
    fn describe_durable(&self, durable: &<Self::Node as Node>::Durable) -> String;

    /// The name of a timer in a trace ("election timer").
    fn describe_timer(&self, timer: &<Self::Node as Node>::Timer) -> String {
        format!("{timer:?} timer")
    }
}

/// Every way of choosing `k` of `items`, in order (none if there are fewer than `k`,
/// or if `k` is 0: a step that needs no room loses nothing).
fn subsets<T: Clone>(items: &[&T], k: usize) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    let mut pick: Vec<usize> = (0..k).collect();
    if k == 0 || k > items.len() {
        return out;
    }
    loop {
        out.push(pick.iter().map(|&i| items[i].clone()).collect());
        // The rightmost index that can still move right, moved, and the rest after it.
        let Some(i) = (0..k).rev().find(|&i| pick[i] < items.len() - k + i) else {
            return out;
        };
        pick[i] += 1;
        for j in i + 1..k {
            pick[j] = pick[j - 1] + 1;
        }
    }
}

/// The most steps [`Protocol::setup`] may take (a guard against a prefix that never
/// ends).
const MAX_SETUP_STEPS: usize = 1000;

/// The stateright model of a [`Protocol`] on a cluster.
#[derive(Clone, Debug)]
pub struct ClusterModel<P> {
    /// The protocol and its bounds.
    pub protocol: P,
    /// Set to end a search early (shared by the model's clones).
    halt: Halt,
    /// Whether its states hash as their symmetry class (see
    /// [`ClusterState::canonical`]).
    canonical: bool,
    /// Whether it lists only actions that can be taken (see
    /// [`ClusterModel::for_random_walks`]).
    takeable_only: bool,
}

/// The switch that ends a search of a [`ClusterModel`] early: while it is set, the
/// model offers no actions, so a search drains the states it has and stops. Clear it
/// again before rebuilding paths from the checker's discoveries (which replays
/// actions).
#[derive(Clone, Debug, Default)]
pub struct Halt(Arc<AtomicBool>);

impl Halt {
    /// Sets or clears the switch.
    pub fn set(&self, on: bool) {
        self.0.store(on, Ordering::SeqCst);
    }

    /// Whether the switch is set.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// The state of a [`ClusterModel`].
pub type StateOf<P> = ClusterState<<P as Protocol>::Node, <P as Protocol>::Ghost>;
/// The action of a [`ClusterModel`].
pub type ActionOf<P> =
    Action<<P as Protocol>::Node, <P as Protocol>::Input, <P as Protocol>::Ghost>;

impl<P: Protocol> ClusterModel<P> {
    /// The model of `protocol`.
    pub fn new(protocol: P) -> Self {
        ClusterModel {
            protocol,
            halt: Halt::default(),
            canonical: false,
            takeable_only: false,
        }
    }

    /// The model whose states hash as their symmetry class (their representative, see
    /// [`ClusterState::hash_canonical`]) when `on`: a search that keeps one state per
    /// fingerprint then keeps one per class, without renaming any state. Only for
    /// nodes that are [`Node::SYMMETRIC`]; others hash as themselves.
    pub fn with_symmetry(mut self, on: bool) -> Self {
        self.canonical = on;
        self
    }

    /// The model that lists only the actions that can be taken from a state (each is
    /// tried first) when `on`, for stateright's random walks: a walk records its path
    /// as the indices of the actions it tried, including one that could not be taken,
    /// and rebuilds a different path from them (or none). An exhaustive search does not
    /// need it (it records only the actions it took).
    pub fn for_random_walks(mut self, on: bool) -> Self {
        self.takeable_only = on;
        self
    }

    /// The switch that ends a search of this model (and of its clones) early.
    pub fn halt(&self) -> &Halt {
        &self.halt
    }

    /// Puts a message in flight: one more copy, or (when any message may be delivered
    /// again) the message once.
    fn put(
        &self,
        network: &mut Network<<P::Node as Node>::Msg>,
        e: Envelope<<P::Node as Node>::Msg>,
    ) {
        match self.protocol.bounds().duplicates {
            Duplicates::Redeliver => network.send_once(e),
            Duplicates::Off | Duplicates::Copies => network.send(e),
        }
    }

    /// Runs one step on node `id` (which must be up): `f` gets the node and its I/O;
    /// the cluster then carries out the sends and tells the ghost history.
    fn step(
        &self,
        state: &mut StateOf<P>,
        id: NodeId,
        surplus: &mut usize,
        f: impl FnOnce(&mut P::Node, &mut Io<'_, P::Node>),
    ) -> bool {
        let Some(shared) = state.slots.get_mut(id) else {
            return false;
        };
        let parent = Arc::clone(shared);
        let Slot::Up { node, timers } = Arc::make_mut(shared) else {
            return false;
        };
        let Some(before) = parent.node() else {
            return false;
        };
        let mut io = Io {
            me: id,
            env: &mut state.env,
            durable: Arc::make_mut(&mut state.durable[id]),
            timers,
            sends: Vec::new(),
            events: Vec::new(),
        };
        f(node, &mut io);
        let Io { sends, events, .. } = io;
        self.protocol.observe(
            &mut state.ghost,
            &Observed {
                id,
                before: Some(before),
                after: Some(node),
                restarted: false,
                durable: &state.durable[id],
                events: &events,
            },
        );
        self.deliver_sends(state, id, sends, surplus)
    }

    /// Whether messages that their receivers leave unread are forgotten (see
    /// [`Ignored`]).
    fn forgets(&self) -> bool {
        self.protocol.ignored() == Ignored::Forget && self.protocol.bounds().drops
    }

    /// Whether messages are lost only to make room (see [`Losses::ForRoom`]).
    fn drops_for_room(&self) -> bool {
        let bounds = self.protocol.bounds();
        self.protocol.losses() == Losses::ForRoom
            && bounds.drops
            && bounds.duplicates != Duplicates::Copies
    }

    /// Whether the receiver of `e` (up) has promised to leave it unread, and the
    /// network could lose it silently.
    fn unread(
        slots: &[Arc<Slot<P::Node>>],
        durable: &[Arc<<P::Node as Node>::Durable>],
        e: &Envelope<<P::Node as Node>::Msg>,
    ) -> bool {
        match slots.get(e.to).map(|s| &**s) {
            Some(Slot::Up { node, .. }) => {
                matches!(P::Node::lost(e), Loss::Silent)
                    && node.ignores(&durable[e.to], e.from, &e.msg)
            }
            _ => false,
        }
    }

    /// Ends a step of node `id` (up, or just booted) that sent `sends`: puts them in
    /// flight. Under [`Ignored::Forget`], first forgets what the step made `id` leave
    /// unread, then checks the bound on messages in flight with every send counted,
    /// then forgets the sends that their receivers leave unread. `false` if the bound
    /// was passed (the step is then not taken), with `surplus` set to how many
    /// messages it was passed by when that is checked here (under
    /// [`Ignored::Forget`] or [`Losses::ForRoom`]; otherwise
    /// [`Model::within_boundary`] checks the bound).
    fn deliver_sends(
        &self,
        state: &mut StateOf<P>,
        id: NodeId,
        sends: Vec<(NodeId, <P::Node as Node>::Msg)>,
        surplus: &mut usize,
    ) -> bool {
        let forget = self.forgets();
        let ClusterState {
            slots,
            durable,
            network,
            ..
        } = state;
        if forget {
            network.retain(|e| e.to != id || !Self::unread(slots, durable, e));
        }
        for (to, msg) in sends {
            self.put(network, Envelope { from: id, to, msg });
        }
        if !self.fits(network, forget, surplus) {
            return false;
        }
        if forget {
            network.retain(|e| e.from != id || !Self::unread(slots, durable, e));
        }
        true
    }

    /// Under [`Losses::ForRoom`]: replaces each of `actions` whose sends pass the bound
    /// on messages in flight by the ways of taking it after losing just enough of the
    /// messages in flight before it ([`Action::MakingRoom`]).
    fn make_room(&self, state: &StateOf<P>, actions: &mut Vec<ActionOf<P>>) {
        let losable: Vec<&Arc<Envelope<<P::Node as Node>::Msg>>> = state
            .network
            .iter_shared()
            .map(|(e, _)| e)
            .filter(|e| matches!(P::Node::lost(e), Loss::Silent))
            .collect();
        if losable.is_empty() {
            return;
        }
        let mut out = Vec::with_capacity(actions.len());
        for action in actions.drain(..) {
            let mut surplus = 0;
            if let Some(next) = self.apply(state, action.clone(), &mut surplus) {
                out.push(Action::Taken(Box::new(action), Box::new(next)));
                continue;
            }
            if surplus == 0 {
                continue;
            }
            let Action::DeliverCopy(e) = &action else {
                for lost in subsets(&losable, surplus) {
                    out.push(Action::MakingRoom(Box::new(action.clone()), lost));
                }
                continue;
            };
            // The delivered message is lost with the rest (it is then delivered
            // once), or stays in flight and the room is made of others.
            let others: Vec<_> = losable.iter().copied().filter(|o| *o != e).collect();
            let consume = Action::Deliver(Arc::clone(e));
            if surplus == 1 {
                out.push(consume);
            } else {
                for lost in subsets(&others, surplus - 1) {
                    out.push(Action::MakingRoom(Box::new(consume.clone()), lost));
                }
            }
            for lost in subsets(&others, surplus) {
                out.push(Action::MakingRoom(Box::new(action.clone()), lost));
            }
        }
        *actions = out;
    }

    /// The state after `action` from `last`, `None` if the action cannot be taken
    /// there (see [`ClusterModel::act`]).
    fn apply(
        &self,
        last: &StateOf<P>,
        action: ActionOf<P>,
        surplus: &mut usize,
    ) -> Option<StateOf<P>> {
        let mut state = last.clone();
        self.protocol.begin_step(&mut state.ghost);
        self.act(&mut state, action, surplus).then_some(state)
    }

    /// Takes `action` in `state`; `false` if it cannot be taken there (its message is
    /// not in flight, its node is not up, or what it sends passes the bound on
    /// messages in flight by `surplus`, see [`ClusterModel::deliver_sends`]).
    fn act(&self, state: &mut StateOf<P>, action: ActionOf<P>, surplus: &mut usize) -> bool {
        match action {
            Action::Deliver(e) => {
                if !state.network.take(&e) {
                    return false;
                }
                let Envelope { from, to, msg } = Arc::unwrap_or_clone(e);
                if !self.step(state, to, surplus, |n, io| n.on_message(from, msg, io)) {
                    return false;
                }
            }
            Action::Drop(e) => {
                let notice = match P::Node::lost(&e) {
                    Loss::Silent => None,
                    Loss::Notify(notice) => Some(notice),
                    Loss::Never => return false,
                };
                if !state.network.take(&e) {
                    return false;
                }
                if let Some(notice) = notice {
                    self.put(&mut state.network, notice);
                }
            }
            Action::DeliverCopy(e) => {
                if state.network.count(&e) == 0 {
                    return false;
                }
                let Envelope { from, to, msg } = (*e).clone();
                if !self.step(state, to, surplus, |n, io| n.on_message(from, msg, io)) {
                    return false;
                }
            }
            Action::DropCopy(e) => {
                let Loss::Notify(notice) = P::Node::lost(&e) else {
                    return false;
                };
                if state.network.count(&e) == 0 {
                    return false;
                }
                self.put(&mut state.network, notice);
                if !self.fits(&state.network, true, surplus) {
                    return false;
                }
            }
            Action::Duplicate(e) => {
                if state.network.count(&e) == 0 {
                    return false;
                }
                state.network.send_shared(e);
            }
            Action::Fire(id, timer) => {
                let fired = match state.slot(id) {
                    Some(Slot::Up { timers, .. }) => timers.binary_search(&timer).is_ok(),
                    _ => false,
                };
                if fired && let Slot::Up { timers, .. } = Arc::make_mut(&mut state.slots[id]) {
                    timers.retain(|t| *t != timer);
                }
                if !fired || !self.step(state, id, surplus, |n, io| n.on_timer(timer, io)) {
                    return false;
                }
            }
            Action::Crash(id) => {
                let parent = match state.slots.get(id) {
                    Some(slot) if slot.node().is_some() => Arc::clone(slot),
                    _ => return false,
                };
                if !self.protocol.crashable(id) {
                    return false;
                }
                let before = parent.node();
                state.slots[id] = Arc::new(Slot::Down);
                state.crashes += 1;
                self.protocol.observe(
                    &mut state.ghost,
                    &Observed {
                        id,
                        before,
                        after: None,
                        restarted: false,
                        durable: &state.durable[id],
                        events: &[],
                    },
                );
                if self.protocol.restarts() == Restarts::AtOnce
                    && !self.boot(state, id, true, surplus)
                {
                    return false;
                }
            }
            Action::Restart(id) => {
                if !matches!(state.slot(id), Some(Slot::Down)) {
                    return false;
                }
                if !self.boot(state, id, true, surplus) {
                    return false;
                }
            }
            Action::Input(id, input) => {
                let protocol = &self.protocol;
                if !self.step(state, id, surplus, |n, io| protocol.on_input(n, input, io)) {
                    return false;
                }
            }
            Action::MakingRoom(step, lost) => {
                for e in &lost {
                    if !matches!(P::Node::lost(e), Loss::Silent) || !state.network.take(e) {
                        return false;
                    }
                }
                return self.act(state, *step, surplus);
            }
            Action::Taken(action, _) => return self.act(state, *action, surplus),
        }
        true
    }

    /// Whether `network` is within the bound on messages in flight, where that is
    /// checked in the step itself (when `checked`, or under [`Losses::ForRoom`]:
    /// otherwise [`Model::within_boundary`] checks it); if not, `surplus` is set to how
    /// many messages it passes the bound by.
    fn fits(
        &self,
        network: &Network<<P::Node as Node>::Msg>,
        checked: bool,
        surplus: &mut usize,
    ) -> bool {
        let max = self.protocol.bounds().max_in_flight;
        if network.len() > max && (checked || self.drops_for_room()) {
            *surplus = network.len() - max;
            return false;
        }
        true
    }

    /// Boots node `id` (fresh or restarted) into `state`; `false` if what it sent passed
    /// the bound on messages in flight (see [`ClusterModel::deliver_sends`]).
    fn boot(&self, state: &mut StateOf<P>, id: NodeId, restart: bool, surplus: &mut usize) -> bool {
        let mut timers = Vec::new();
        let mut io = Io {
            me: id,
            env: &mut state.env,
            durable: Arc::make_mut(&mut state.durable[id]),
            timers: &mut timers,
            sends: Vec::new(),
            events: Vec::new(),
        };
        let node = self.protocol.boot(id, restart, &mut io);
        let Io { sends, events, .. } = io;
        self.protocol.observe(
            &mut state.ghost,
            &Observed {
                id,
                before: None,
                after: node.as_ref(),
                restarted: restart,
                durable: &state.durable[id],
                events: &events,
            },
        );
        state.slots[id] = Arc::new(match node {
            Some(node) => Slot::Up { node, timers },
            None => Slot::Down,
        });
        self.deliver_sends(state, id, sends, surplus)
    }

    /// A one-line description of an action, as traces print it.
    pub fn describe_action(&self, action: &ActionOf<P>) -> String {
        let p = &self.protocol;
        let name = |id: NodeId| p.node_name(id);
        match action {
            Action::Deliver(e) => self.describe_envelope(e),
            Action::Drop(e) => format!("drop {}", self.describe_envelope(e)),
            Action::DeliverCopy(e) => {
                format!("{} (a copy stays in flight)", self.describe_envelope(e))
            }
            Action::DropCopy(e) => format!(
                "drop a copy of {} (a copy stays in flight)",
                self.describe_envelope(e)
            ),
            Action::Duplicate(e) => format!("duplicate {}", self.describe_envelope(e)),
            Action::Fire(id, t) => format!("fire {} {}", p.describe_timer(t), name(*id)),
            Action::Crash(id) => format!("crash {}", name(*id)),
            Action::Restart(id) => format!("restart {}", name(*id)),
            Action::Input(id, i) => format!("{} {}", p.describe_input(i), name(*id)),
            Action::MakingRoom(step, lost) => {
                let lost: Vec<String> = lost.iter().map(|e| self.describe_envelope(e)).collect();
                format!(
                    "{}, losing {} to make room",
                    self.describe_action(step),
                    lost.join(" and ")
                )
            }
            Action::Taken(action, _) => self.describe_action(action),
        }
    }

    /// A message in flight on one line: `S0 -> S1 RequestVote T1 last 0/T0`.
    pub fn describe_envelope(&self, e: &Envelope<<P::Node as Node>::Msg>) -> String {
        let p = &self.protocol;
        format!(
            "{} -> {} {}",
            p.node_name(e.from),
            p.node_name(e.to),
            p.describe_msg(&e.msg)
        )
    }

    /// One line per server describing it in `state`.
    pub fn describe_servers(&self, state: &StateOf<P>) -> Vec<String> {
        state
            .slots
            .iter()
            .enumerate()
            .map(|(id, slot)| match &**slot {
                Slot::Up { node, .. } => format!(
                    "{} {}",
                    self.protocol.node_name(id),
                    self.protocol.describe_node(node)
                ),
                Slot::Down => format!(
                    "{} DOWN, persisted {}",
                    self.protocol.node_name(id),
                    self.protocol.describe_durable(&state.durable[id])
                ),
            })
            .collect()
    }
}

impl<P: Protocol> Model for ClusterModel<P> {
    type State = StateOf<P>;
    type Action = ActionOf<P>;

    fn init_states(&self) -> Vec<Self::State> {
        let n = self.protocol.nodes();
        // Every slot starts as the one shared `Down`; booting replaces each
        // with a server of its own, so sharing the placeholder is intended.
        let down = Arc::new(Slot::Down);
        let mut state = ClusterState {
            slots: vec![down; n],
            durable: (0..n)
                .map(|i| Arc::new(self.protocol.fresh_durable(i)))
                .collect(),
            network: Network::new(),
            env: Default::default(),
            crashes: 0,
            ghost: self.protocol.fresh_ghost(),
            canonical: self.canonical,
        };
        for id in 0..n {
            // A boot whose sends pass the bound leaves the state outside it.
            let _ = self.boot(&mut state, id, false, &mut 0);
        }
        for _ in 0..MAX_SETUP_STEPS {
            let Some(action) = self.protocol.setup(&state) else {
                break;
            };
            match self.next_state(&state, action) {
                Some(next) => state = next,
                None => break,
            }
        }
        vec![state]
    }

    fn actions(&self, state: &Self::State, actions: &mut Vec<Self::Action>) {
        if self.halt.is_set() {
            return;
        }
        let bounds = self.protocol.bounds();
        let for_room = self.drops_for_room();
        let redeliver = bounds.duplicates == Duplicates::Redeliver;
        for (e, _) in state.network.iter_shared() {
            if matches!(state.slot(e.to), Some(Slot::Up { .. })) {
                let silent = matches!(P::Node::lost(e), Loss::Silent);
                if !(for_room && redeliver && silent) {
                    actions.push(Action::Deliver(Arc::clone(e)));
                }
                if redeliver {
                    actions.push(Action::DeliverCopy(Arc::clone(e)));
                }
            }
        }
        if bounds.drops {
            for (e, _) in state.network.iter_shared() {
                match P::Node::lost(e) {
                    Loss::Never => {}
                    Loss::Silent if for_room => {}
                    Loss::Silent => actions.push(Action::Drop(Arc::clone(e))),
                    Loss::Notify(_) => {
                        actions.push(Action::Drop(Arc::clone(e)));
                        if redeliver {
                            actions.push(Action::DropCopy(Arc::clone(e)));
                        }
                    }
                }
            }
        }
        if bounds.duplicates == Duplicates::Copies && state.network.len() < bounds.max_in_flight {
            for (e, _) in state.network.iter_shared() {
                actions.push(Action::Duplicate(Arc::clone(e)));
            }
        }
        for (id, slot) in state.slots.iter().enumerate() {
            if let Slot::Up { timers, .. } = &**slot {
                for &t in timers {
                    if self.protocol.may_fire(state, id, &t) {
                        actions.push(Action::Fire(id, t));
                    }
                }
            }
        }
        let mut inputs = Vec::new();
        for (id, node) in state.up() {
            self.protocol.inputs(state, id, node, &mut inputs);
            actions.extend(inputs.drain(..).map(|i| Action::Input(id, i)));
        }
        for (id, slot) in state.slots.iter().enumerate() {
            match &**slot {
                Slot::Up { .. }
                    if state.crashes < bounds.max_crashes && self.protocol.crashable(id) =>
                {
                    actions.push(Action::Crash(id))
                }
                Slot::Down => actions.push(Action::Restart(id)),
                Slot::Up { .. } => {}
            }
        }
        if for_room {
            self.make_room(state, actions);
        }
        if self.takeable_only {
            actions.retain(|a| self.apply(state, a.clone(), &mut 0).is_some());
        }
    }

    fn next_state(&self, last: &Self::State, action: Self::Action) -> Option<Self::State> {
        match action {
            Action::Taken(_, next) => Some(*next),
            action => self.apply(last, action, &mut 0),
        }
    }

    fn properties(&self) -> Vec<Property<Self>> {
        self.protocol.properties()
    }

    fn within_boundary(&self, state: &Self::State) -> bool {
        state.network.len() <= self.protocol.bounds().max_in_flight
            && self.protocol.within_bounds(state)
    }

    fn format_action(&self, action: &Self::Action) -> String {
        self.describe_action(action)
    }

    fn format_step(&self, last: &Self::State, action: Self::Action) -> Option<String> {
        let next = self.next_state(last, action)?;
        let mut out = self.describe_servers(&next).join("\n");
        out.push_str(&format!("\nin flight: {}", next.network.len()));
        for (e, n) in next.network.iter() {
            let copies = if n > 1 {
                format!(" (x{n})")
            } else {
                String::new()
            };
            out.push_str(&format!("\n  {}{copies}", self.describe_envelope(e)));
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::subsets;

    #[test]
    fn subsets_are_every_choice_in_order() {
        let items = ['a', 'b', 'c', 'd'];
        let refs: Vec<&char> = items.iter().collect();
        let names = |k| -> Vec<String> {
            subsets(&refs, k)
                .into_iter()
                .map(|s| s.into_iter().collect())
                .collect()
        };
        assert_eq!(names(1), ["a", "b", "c", "d"]);
        assert_eq!(names(2), ["ab", "ac", "ad", "bc", "bd", "cd"]);
        assert_eq!(names(3), ["abc", "abd", "acd", "bcd"]);
        assert_eq!(names(4), ["abcd"]);
        assert!(names(5).is_empty());
        assert!(names(0).is_empty());
    }
}
