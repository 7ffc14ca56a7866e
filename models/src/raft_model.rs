//! The Raft model: a cluster of [`raftlab::raft::Raft`] nodes, each with a minimal
//! service on top, explored with every interleaving the [`crate::cluster`] allows.
//!
//! Each server is a [`RaftNode`]: the core's `Raft<Cmd>` value and the service's state,
//! the commands it has applied (`applied[k]` is the command at index `k + 1`). Every
//! transition calls the core ([`Raft::handle_request`], [`Raft::handle_reply`],
//! [`Raft::handle_timer`], [`Raft::start`], [`Raft::snapshot_at`], [`Raft::restore`])
//! and carries out its [`Output`]s in order: `Persist` is applied to the node's
//! [`Storage`] (which survives a crash), `Send`/`Reply` go into the network, `SetTimer`
//! and `CancelTimer` change the timers the model may fire, and `Apply` feeds the
//! service.
//!
//! Local inputs ([`RaftInput`]): a client submits a command to a leader whose log is
//! below the bound, and (when snapshots are on) a service snapshots its state at its
//! applied index. The command a leader of term `t` takes is `t` itself, so an entry's
//! command always equals its term and two different entries at one index always carry
//! different commands.
//!
//! The ghost history ([`RaftHistory`]) records the leader of each term, each committed
//! index (its entry's term and the term in which it was first applied), the
//! transition properties a step broke, and the rare events the `sometimes` properties
//! look for. The properties themselves are in [`crate::properties`].

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;

use raftlab::codec;
use raftlab::raft::{AppendOutcome, LogWrite, Persist};
use raftlab::raft::{
    Apply, Bug, Command, Config, Index, Log, Output, Raft, RaftCore, Reply, Request, Storage, Term,
    Timer, log_symmetry_key,
};
use stateright::Property;

use crate::NodeId;
use crate::cluster::{
    Bounds, ClusterModel, ClusterState, Duplicates, HeartbeatCount, Ignored, Io, Losses, Node,
    Observed, Protocol, Restarts,
};
use crate::symmetry::{Renumber, Symmetric, rename};

/// The command type of the model's logs: the term of the leader that took it.
pub type Cmd = u64;

/// A Raft server in the model: the core (raftlab's own unless named) and the commands
/// its service applied.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RaftNode<R = Raft<Cmd>> {
    /// The core.
    pub raft: R,
    /// The service's state: `applied[k]` is the command applied at index `k + 1`.
    pub applied: Vec<Cmd>,
    /// Whether this incarnation was restarted from storage after a crash.
    pub restarted: bool,
    /// How many times its heartbeat timer fired in its current term (counted only
    /// under [`RaftModel::max_heartbeats`]).
    pub heartbeats: HeartbeatCount,
}

/// A message between Raft servers: a request, or the reply to one.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RaftMsg {
    /// A request (RequestVote, AppendEntries, InstallSnapshot).
    Request(Request<Cmd>),
    /// A reply to a request.
    Reply(Reply),
}

/// What a Raft server reports to the ghost history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RaftEvent {
    /// The service applied a committed command.
    Applied {
        /// Its index.
        index: Index,
        /// Its entry's term.
        term: Term,
        /// The command.
        command: Cmd,
    },
    /// The service installed a snapshot from the leader.
    InstalledSnapshot {
        /// The last index it covers.
        index: Index,
        /// The commands it holds, from index 1.
        commands: Vec<Cmd>,
    },
    /// The core handed the service an index that is not the next one.
    OutOfOrder {
        /// The service's last applied index.
        applied: Index,
        /// The index it was handed.
        got: Index,
    },
    /// A snapshot's bytes were not a list of commands.
    BadSnapshot(String),
    /// `Raft::restore` refused what the node had persisted.
    RestoreFailed(String),
}

/// A local input to a Raft server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RaftInput {
    /// A client submits this command (the leader's term) with `Raft::start`.
    Submit(Cmd),
    /// The service snapshots its state at its applied index (`Raft::snapshot_at`).
    Snapshot,
}

/// Bits of [`RaftHistory::violations`]: the transition properties a step broke.
pub mod violation {
    /// Two nodes were leader of one term.
    pub const ELECTION_SAFETY: u16 = 1;
    /// A leader removed or changed an entry of its own log.
    pub const LEADER_APPEND_ONLY: u16 = 1 << 1;
    /// A node applied a command that differs from one applied at the same index.
    pub const STATE_MACHINE_SAFETY: u16 = 1 << 2;
    /// A node applied out of order (a gap, a repeat, or a step back).
    pub const APPLY_ORDER: u16 = 1 << 3;
    /// A node could not be restored from what it persisted.
    pub const PERSISTED_STATE: u16 = 1 << 4;
}

/// Bits of [`RaftHistory::reached`]: rare events the `sometimes` properties look for,
/// marked by the step that made them (and cleared by the next step).
pub mod reached {
    /// A follower installed a snapshot from the leader.
    pub const SNAPSHOT_INSTALLED: u8 = 1;
    /// A restarted node applied something after its restart.
    pub const RESTARTED_APPLIED: u8 = 1 << 1;
}

/// One committed index, as the history saw it first applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Committed {
    /// The term (and command) of its entry.
    pub term: Term,
    /// The term of the node that first applied it: every leader of this term or a
    /// later one must hold the entry (leader completeness).
    pub commit_term: Term,
}

/// The ghost history of the Raft model.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RaftHistory {
    /// `leaders[t - 1]`: the node that was leader of term `t`, if any was.
    pub leaders: Vec<Option<NodeId>>,
    /// `committed[i - 1]`: index `i`, once some node applied it.
    pub committed: Vec<Committed>,
    /// The transition properties broken so far (bits of [`violation`]).
    pub violations: u16,
    /// The rare events the step into this state made (bits of [`reached`]; cleared at
    /// the start of every step, see [`Protocol::begin_step`], so that reaching a state
    /// through such an event or not does not make two states of it).
    pub reached: u8,
}

/// The Raft model's bounds and switches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaftModel<R = Raft<Cmd>> {
    /// Cluster bounds (servers, messages in flight, crashes, drops, duplicates).
    pub bounds: Bounds,
    /// The highest term explored.
    pub max_term: Term,
    /// The longest log explored (and the most entries a leader takes).
    pub max_log: Index,
    /// The most entries one AppendEntries carries (`Config::max_append_entries`).
    pub max_append_entries: usize,
    /// Whether services take snapshots.
    pub snapshots: bool,
    /// The deliberate bug every node carries, if any.
    pub bug: Option<Bug>,
    /// When a crashed node restarts: in its crash's step (the default), or later.
    pub restarts: Restarts,
    /// Whether replies their receivers leave unread are forgotten at once (the
    /// default, when drops are on) or kept in flight.
    pub ignored: Ignored,
    /// When the network loses messages: only to make room (the default, when drops
    /// are on) or at any moment.
    pub losses: Losses,
    /// The most times a leader's heartbeat timer fires in one term (`None`: no
    /// bound). A leader also sends AppendEntries when it wins, when it takes a
    /// command and when a reply asks for more; the heartbeat is what sends again what
    /// was lost.
    pub max_heartbeats: Option<u8>,
    /// The Raft core the servers run.
    pub core: Core<R>,
}

/// Names the Raft core a model runs (`Core::default()`); it holds no value.
pub struct Core<R>(PhantomData<fn() -> R>);

impl<R> Default for Core<R> {
    fn default() -> Self {
        Core(PhantomData)
    }
}

impl<R> Clone for Core<R> {
    fn clone(&self) -> Self {
        Core::default()
    }
}

impl<R> fmt::Debug for Core<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::any::type_name::<R>())
    }
}

impl<R> PartialEq for Core<R> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<R> Eq for Core<R> {}

/// The state of the Raft model.
pub type RaftState<R = Raft<Cmd>> = ClusterState<RaftNode<R>, RaftHistory>;

impl<R> Default for RaftModel<R> {
    /// The defaults of `raftlab check raft`: three servers, terms up to 3, logs of at
    /// most one entry, two messages in flight, one crash, snapshots, drops and
    /// duplicates on (the largest bounds that finish in about a minute on two
    /// cores).
    fn default() -> Self {
        RaftModel {
            bounds: Bounds {
                servers: 3,
                max_in_flight: 2,
                max_crashes: 1,
                drops: true,
                duplicates: Duplicates::Redeliver,
            },
            max_term: 3,
            max_log: 1,
            max_append_entries: Config::DEFAULT_MAX_APPEND_ENTRIES,
            snapshots: true,
            bug: None,
            restarts: Restarts::AtOnce,
            ignored: Ignored::Forget,
            losses: Losses::ForRoom,
            max_heartbeats: None,
            core: Core::default(),
        }
    }
}

impl<R: RaftCore<Cmd>> RaftModel<R> {
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
        if self.max_term == 0 {
            return Err("--max-term 0: no election could ever start".into());
        }
        if self.max_term > 255 {
            return Err(format!("--max-term {}: at most 255", self.max_term));
        }
        if self.max_log > 255 {
            return Err(format!("--max-log {}: at most 255", self.max_log));
        }
        if self.max_append_entries == 0 {
            return Err("--max-append-entries 0: a leader could never send an entry".into());
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
        if self.bounds.max_in_flight == 0 {
            return Err("--max-in-flight 0: no message could ever be sent".into());
        }
        Ok(())
    }

    /// Small bounds under which `bug` breaks a property, found by experiment: the
    /// smallest terms, logs and messages in flight that the bug's shortest
    /// counterexample needs, with every switch it does not need turned off (so that a
    /// breadth-first search reaches it quickly). The tests pin the depth found under
    /// these bounds. [`Bug::CommitBeyondMatch`] is never reached under them (nor under
    /// any bounds tried, see the README).
    pub fn exposing(bug: Bug) -> Self {
        let mut m = RaftModel {
            bounds: Bounds {
                servers: 3,
                max_in_flight: 2,
                max_crashes: 0,
                drops: true,
                duplicates: Duplicates::Off,
            },
            max_term: 2,
            max_log: 1,
            max_append_entries: Config::DEFAULT_MAX_APPEND_ENTRIES,
            snapshots: false,
            bug: Some(bug),
            restarts: Restarts::AtOnce,
            ignored: Ignored::Forget,
            losses: Losses::ForRoom,
            max_heartbeats: None,
            core: Core::default(),
        };
        match bug {
            Bug::VoteTwice | Bug::ForgetToPersistVote => m.max_term = 1,
            Bug::SkipUpToDateCheck | Bug::SkipPrevLogTermCheck => {}
            Bug::AcceptStaleAppend => m.snapshots = true,
            Bug::CommitOldTermByCount => m.max_term = 4,
            Bug::TruncateOnMatch => m.bounds.max_in_flight = 3,
            Bug::CommitBeyondMatch => {
                m.max_log = 2;
                m.max_append_entries = 1;
            }
            Bug::ApplyStaleSnapshot => {
                m.snapshots = true;
                m.bounds.duplicates = Duplicates::Redeliver;
            }
            Bug::CommitAllOnRestart => m.bounds.max_crashes = 1,
        }
        m
    }

    /// The bounds in one line, as `raftlab check raft` prints them.
    pub fn describe(&self) -> String {
        let on = |b: bool| if b { "on" } else { "off" };
        format!(
            "{} servers, terms <= {}, logs <= {}, <= {} entries per append, {} heartbeats per term, <= {} in flight, <= {} crashes ({}), snapshots {}, drops {}, duplicates {}{}{}, bug {}",
            self.bounds.servers,
            self.max_term,
            self.max_log,
            self.max_append_entries,
            self.max_heartbeats
                .map_or("any".to_string(), |h| format!("<= {h}")),
            self.bounds.max_in_flight,
            self.bounds.max_crashes,
            self.restarts.describe(),
            on(self.snapshots),
            on(self.bounds.drops),
            self.bounds.duplicates.describe(),
            match (self.ignored, self.bounds.drops) {
                (Ignored::Keep, true) => format!(", {}", self.ignored.describe()),
                _ => String::new(),
            },
            match (self.losses, self.bounds.drops) {
                (Losses::Anytime, true) => format!(", {}", self.losses.describe()),
                _ => String::new(),
            },
            self.bug
                .map_or("none".to_string(), |b| b.name().to_string())
        )
    }

    fn config(&self, id: NodeId) -> Config {
        let mut config = Config::new(id, self.bounds.servers).with_bug(self.bug);
        config.max_append_entries = self.max_append_entries;
        config
    }
}

impl<R: RaftCore<Cmd>> RaftNode<R> {
    /// Carries out the core's outputs, in order.
    fn carry_out(&mut self, outputs: Vec<Output<Cmd>>, io: &mut Io<'_, Self>) {
        for output in outputs {
            match output {
                Output::Persist(p) => io.durable().apply(p),
                Output::Send { to, request } => io.send(to, RaftMsg::Request(request)),
                Output::Reply { to, reply } => io.send(to, RaftMsg::Reply(reply)),
                Output::SetTimer { timer, .. } => io.set_timer(timer),
                Output::CancelTimer(timer) => io.cancel_timer(timer),
                Output::Apply(Apply::Command {
                    index,
                    term,
                    command,
                }) => {
                    let applied = self.applied.len() as Index;
                    if index != applied + 1 {
                        io.event(RaftEvent::OutOfOrder {
                            applied,
                            got: index,
                        });
                        self.applied.truncate(index.saturating_sub(1) as usize);
                    }
                    if self.applied.len() as Index + 1 == index {
                        self.applied.push(command);
                    }
                    io.event(RaftEvent::Applied {
                        index,
                        term,
                        command,
                    });
                }
                Output::Apply(Apply::Snapshot { index, data, .. }) => {
                    let applied = self.applied.len() as Index;
                    if index <= applied {
                        io.event(RaftEvent::OutOfOrder {
                            applied,
                            got: index,
                        });
                    }
                    match decode_service(&data) {
                        Ok(commands) => {
                            self.applied = commands.clone();
                            io.event(RaftEvent::InstalledSnapshot { index, commands });
                        }
                        Err(e) => io.event(RaftEvent::BadSnapshot(e)),
                    }
                }
            }
        }
    }
}

/// The service's snapshot: its applied commands, encoded with raftlab's codec.
fn encode_service(applied: &[Cmd]) -> Vec<u8> {
    codec::encode(applied)
}

fn decode_service(data: &[u8]) -> Result<Vec<Cmd>, String> {
    if data.is_empty() {
        return Ok(Vec::new());
    }
    codec::decode::<Vec<Cmd>>("service snapshot", data).map_err(|e| e.to_string())
}

impl<R: RaftCore<Cmd>> Node for RaftNode<R> {
    const SYMMETRIC: bool = R::SYMMETRIC;

    type Msg = RaftMsg;
    type Timer = Timer;
    type Durable = Storage<Cmd>;
    type Event = RaftEvent;
    type Env = ();

    fn on_message(&mut self, from: NodeId, msg: RaftMsg, io: &mut Io<'_, Self>) {
        let term = self.raft.term();
        let outputs = match msg {
            RaftMsg::Request(r) => self.raft.handle_request(from, r),
            RaftMsg::Reply(r) => self.raft.handle_reply(from, r),
        };
        self.carry_out(outputs, io);
        self.heartbeats.stepped(term, self.raft.term());
    }

    /// A reply the core promises never to read ([`RaftCore::ignores_reply`]), if the
    /// promise survives a restart: its term is below the persisted one, or equal to
    /// both the persisted and the current term (a core that failed to persist its
    /// term would come back in an older one, where the reply may be read).
    fn ignores(&self, durable: &Storage<Cmd>, from: NodeId, msg: &RaftMsg) -> bool {
        let RaftMsg::Reply(reply) = msg else {
            return false;
        };
        let persisted = durable.state().term;
        let term = reply.term();
        (term < persisted || (term == persisted && self.raft.term() == persisted))
            && self.raft.ignores_reply(from, reply)
    }

    fn on_timer(&mut self, timer: Timer, io: &mut Io<'_, Self>) {
        let term = self.raft.term();
        if timer == Timer::Heartbeat {
            self.heartbeats.fired();
        }
        let outputs = self.raft.handle_timer(timer);
        self.carry_out(outputs, io);
        self.heartbeats.stepped(term, self.raft.term());
    }
}

impl<R: RaftCore<Cmd>> crate::properties::RaftHost for RaftNode<R> {
    type Cmd = Cmd;
    type Core = R;

    fn raft(&self) -> Option<&R> {
        Some(&self.raft)
    }

    fn applied_index(&self) -> Option<Index> {
        Some(self.applied.len() as Index)
    }

    fn storage(durable: &Storage<Cmd>) -> &Storage<Cmd> {
        durable
    }
}

impl crate::properties::RaftGhost for RaftHistory {
    fn raft_history(&self) -> &RaftHistory {
        self
    }
}

// ----- Symmetry ----------------------------------------------------------------------

impl<R: RaftCore<Cmd>> Renumber for RaftNode<R> {
    fn renumber(&self, map: &[NodeId]) -> Self {
        RaftNode {
            raft: self.raft.renumbered(map).unwrap_or_else(|| {
                // Keeping the node as it was would make a state that is no renaming
                // of the one it stands for: a core that says it renames must.
                panic!(
                    "{}: SYMMETRIC is true, but renumbered({map:?}) gave None",
                    std::any::type_name::<R>()
                )
            }),
            applied: self.applied.clone(),
            restarted: self.restarted,
            heartbeats: self.heartbeats,
        }
    }

    fn hash_renumbered<H: Hasher>(&self, map: &[NodeId], h: &mut H) {
        let RaftNode {
            raft,
            applied,
            restarted,
            heartbeats,
        } = self;
        raft.hash_renumbered(map, h);
        applied.hash(h);
        restarted.hash(h);
        heartbeats.hash(h);
    }
}

impl<R: RaftCore<Cmd>> Symmetric for RaftNode<R> {
    fn symmetry_key(&self, key: &mut Vec<u64>) {
        self.raft.symmetry_key(key);
        key.push(u64::from(self.restarted));
        key.push(self.heartbeats.key());
    }
}

impl Renumber for Storage<Cmd> {
    fn renumber(&self, map: &[NodeId]) -> Self {
        let state = self.state();
        if state.voted_for.is_none() {
            return self.clone();
        }
        let mut renamed = Storage::new();
        renamed.apply(Persist {
            term: state.term,
            voted_for: state.voted_for.map(|v| rename(map, v)),
            log: LogWrite::Compacted {
                snapshot_index: state.log.snapshot_index(),
                snapshot_term: state.log.snapshot_term(),
                entries: state.log.entries().to_vec(),
            },
            snapshot: Some(self.snapshot().clone()),
        });
        renamed
    }

    fn hash_renumbered<H: Hasher>(&self, map: &[NodeId], h: &mut H) {
        let state = self.state();
        state.term.hash(h);
        state.voted_for.map(|v| rename(map, v)).hash(h);
        state.log.hash(h);
        self.snapshot().hash(h);
    }
}

impl Symmetric for Storage<Cmd> {
    fn symmetry_key(&self, key: &mut Vec<u64>) {
        let s = self.state();
        key.push(s.term);
        key.push(u64::from(s.voted_for.is_some()));
        log_symmetry_key(&s.log, key);
    }
}

impl Renumber for RaftMsg {
    fn renumber(&self, map: &[NodeId]) -> Self {
        match self {
            RaftMsg::Request(Request::RequestVote(a)) => {
                let mut a = a.clone();
                a.candidate = rename(map, a.candidate);
                RaftMsg::Request(Request::RequestVote(a))
            }
            RaftMsg::Request(Request::AppendEntries(a)) => {
                let mut a = a.clone();
                a.leader = rename(map, a.leader);
                RaftMsg::Request(Request::AppendEntries(a))
            }
            RaftMsg::Request(Request::InstallSnapshot(a)) => {
                let mut a = a.clone();
                a.leader = rename(map, a.leader);
                RaftMsg::Request(Request::InstallSnapshot(a))
            }
            RaftMsg::Reply(r) => RaftMsg::Reply(r.clone()),
        }
    }

    fn hash_renumbered<H: Hasher>(&self, map: &[NodeId], h: &mut H) {
        match self {
            RaftMsg::Request(Request::RequestVote(a)) => {
                0u8.hash(h);
                a.term.hash(h);
                rename(map, a.candidate).hash(h);
                a.last_log_index.hash(h);
                a.last_log_term.hash(h);
            }
            RaftMsg::Request(Request::AppendEntries(a)) => {
                1u8.hash(h);
                a.term.hash(h);
                rename(map, a.leader).hash(h);
                a.prev_log_index.hash(h);
                a.prev_log_term.hash(h);
                a.entries.hash(h);
                a.leader_commit.hash(h);
            }
            RaftMsg::Request(Request::InstallSnapshot(a)) => {
                2u8.hash(h);
                a.term.hash(h);
                rename(map, a.leader).hash(h);
                a.last_included_index.hash(h);
                a.last_included_term.hash(h);
                a.data.hash(h);
            }
            RaftMsg::Reply(r) => {
                3u8.hash(h);
                r.hash(h);
            }
        }
    }
}

impl Renumber for RaftHistory {
    fn renumber(&self, map: &[NodeId]) -> Self {
        RaftHistory {
            leaders: self
                .leaders
                .iter()
                .map(|l| l.map(|l| rename(map, l)))
                .collect(),
            committed: self.committed.clone(),
            violations: self.violations,
            reached: self.reached,
        }
    }

    fn hash_renumbered<H: Hasher>(&self, map: &[NodeId], h: &mut H) {
        let RaftHistory {
            leaders,
            committed,
            violations,
            reached,
        } = self;
        leaders.len().hash(h);
        for l in leaders {
            l.map(|l| rename(map, l)).hash(h);
        }
        committed.hash(h);
        violations.hash(h);
        reached.hash(h);
    }
}

// ----- The ghost history -------------------------------------------------------------

impl RaftHistory {
    /// Records that index `index` (1-based) was applied with entry term `term` by a
    /// node in term `node_term`; a different term than recorded breaks state machine
    /// safety.
    fn applied(&mut self, index: Index, term: Term, node_term: Term) {
        let k = index.saturating_sub(1) as usize;
        if index == 0 {
            return;
        }
        match self.committed.get(k) {
            Some(c) if c.term != term => self.violations |= violation::STATE_MACHINE_SAFETY,
            Some(_) => {}
            None if k == self.committed.len() => self.committed.push(Committed {
                term,
                commit_term: node_term,
            }),
            // Applied past anything applied before: a gap.
            None => self.violations |= violation::APPLY_ORDER,
        }
    }

    /// Records a step of node `id` whose Raft core was `before` and is `after`
    /// (`None` when down): the leader of its term, and whether a leader that stayed
    /// leader of its term kept every entry of its log (leader append-only).
    pub fn observe_leader<C: Command, R: RaftCore<C>>(
        &mut self,
        id: NodeId,
        before: Option<&R>,
        after: Option<&R>,
    ) {
        let Some(after) = after else {
            return;
        };
        if after.is_leader() {
            self.saw_leader(id, after.term());
        }
        if let Some(before) = before
            && before.is_leader()
            && after.is_leader()
            && before.term() == after.term()
            && !extends(after.log(), before.log())
        {
            self.violations |= violation::LEADER_APPEND_ONLY;
        }
    }

    /// Records the indices that a node's Raft core `after` has committed (for a
    /// service that does not report its applies one by one): every index up to its
    /// `commit_index` is committed with the term its log holds there. An index its
    /// snapshot has compacted away takes its term from the log the node had `before`
    /// the step, but only if that log agrees with the snapshot's last entry (so, by log
    /// matching, on every index before it; a log whose stale entries a leader's
    /// snapshot replaced does not). An index committed before with a different term
    /// breaks state machine safety. Indices whose term neither log tells (committed
    /// and compacted in one step) are recorded once a node shows them.
    pub fn observe_commits<C: Command, R: RaftCore<C>>(&mut self, before: Option<&R>, after: &R) {
        let log = after.log();
        let before =
            before.filter(|b| b.log().term_at(log.snapshot_index()) == Some(log.snapshot_term()));
        let term_at = |i: Index| {
            log.term_at(i)
                .or_else(|| before.and_then(|b| b.log().term_at(i)))
        };
        for i in 1..=after.commit_index() {
            let k = (i - 1) as usize;
            let Some(term) = term_at(i) else {
                if k >= self.committed.len() {
                    return;
                }
                continue;
            };
            match self.committed.get(k) {
                Some(c) if c.term != term => self.violations |= violation::STATE_MACHINE_SAFETY,
                Some(_) => {}
                None if k == self.committed.len() => self.committed.push(Committed {
                    term,
                    commit_term: after.term(),
                }),
                None => return,
            }
        }
    }

    fn saw_leader(&mut self, id: NodeId, term: Term) {
        if term == 0 {
            return;
        }
        let k = (term - 1) as usize;
        if self.leaders.len() <= k {
            self.leaders.resize(k + 1, None);
        }
        match self.leaders[k] {
            None => self.leaders[k] = Some(id),
            Some(l) if l != id => self.violations |= violation::ELECTION_SAFETY,
            Some(_) => {}
        }
    }
}

/// Whether the log `after` still holds every entry of `before` (entries it compacted
/// away count as held).
fn extends<C: Command>(after: &Log<C>, before: &Log<C>) -> bool {
    if after.last_index() < before.last_index() {
        return false;
    }
    let from = after.snapshot_index().max(before.snapshot_index()) + 1;
    (from..=before.last_index()).all(|i| after.term_at(i) == before.term_at(i))
}

impl<R: RaftCore<Cmd>> Protocol for RaftModel<R> {
    type Node = RaftNode<R>;
    type Input = RaftInput;
    type Ghost = RaftHistory;

    fn bounds(&self) -> &Bounds {
        &self.bounds
    }

    fn fresh_durable(&self, _id: NodeId) -> Storage<Cmd> {
        Storage::new()
    }

    fn fresh_ghost(&self) -> RaftHistory {
        RaftHistory::default()
    }

    fn begin_step(&self, ghost: &mut RaftHistory) {
        ghost.reached = 0;
    }

    /// `Raft::restore` only sets the election timer (and, under
    /// `Bug::CommitAllOnRestart`, applies), so a node restarts in its crash's step: a
    /// node down for a while behaves as one restarted at once whose timers have not
    /// fired and whose messages wait in flight, and the model explores those too (see
    /// [`Protocol::restarts`]). No state has a node down, unless
    /// [`RaftModel::restarts`] is [`Restarts::Later`].
    fn restarts(&self) -> Restarts {
        self.restarts
    }

    /// A reply the core promises to leave unread ([`RaftCore::ignores_reply`]) is
    /// forgotten unless [`RaftModel::ignored`] keeps it.
    fn ignored(&self) -> Ignored {
        self.ignored
    }

    /// Neither the properties nor [`Protocol::may_fire`] read the network, so
    /// messages are lost only to make room unless [`RaftModel::losses`] says otherwise.
    fn losses(&self) -> Losses {
        self.losses
    }

    fn boot(&self, id: NodeId, restart: bool, io: &mut Io<'_, RaftNode<R>>) -> Option<RaftNode<R>> {
        let storage = io.durable_ref();
        let state = storage.raft_state();
        let snapshot: Arc<[u8]> = storage.snapshot().clone();
        let (raft, outputs) = match R::restore(self.config(id), &state, &snapshot) {
            Ok(r) => r,
            Err(e) => {
                io.event(RaftEvent::RestoreFailed(e.to_string()));
                return None;
            }
        };
        let applied = match decode_service(&snapshot) {
            Ok(a) => a,
            Err(e) => {
                io.event(RaftEvent::BadSnapshot(e));
                Vec::new()
            }
        };
        let mut node = RaftNode {
            raft,
            applied,
            restarted: restart,
            heartbeats: HeartbeatCount::new(self.max_heartbeats),
        };
        node.carry_out(outputs, io);
        Some(node)
    }

    fn may_fire(&self, state: &RaftState<R>, id: NodeId, timer: &Timer) -> bool {
        *timer != Timer::Heartbeat
            || state
                .slot(id)
                .and_then(|s| s.node())
                .is_some_and(|n| n.heartbeats.below(self.max_heartbeats))
    }

    fn inputs(
        &self,
        _state: &RaftState<R>,
        _id: NodeId,
        node: &RaftNode<R>,
        out: &mut Vec<RaftInput>,
    ) {
        let r = &node.raft;
        if r.is_leader() && r.log().last_index() < self.max_log {
            out.push(RaftInput::Submit(r.term()));
        }
        if self.snapshots && node.applied.len() as Index > r.log().snapshot_index() {
            out.push(RaftInput::Snapshot);
        }
    }

    fn on_input(&self, node: &mut RaftNode<R>, input: RaftInput, io: &mut Io<'_, RaftNode<R>>) {
        let outputs = match input {
            RaftInput::Submit(command) => node.raft.start(command).1,
            RaftInput::Snapshot => {
                let index = node.applied.len() as Index;
                node.raft.snapshot_at(index, encode_service(&node.applied))
            }
        };
        node.carry_out(outputs, io);
    }

    fn observe(&self, ghost: &mut RaftHistory, step: &Observed<'_, RaftNode<R>>) {
        ghost.observe_leader(
            step.id,
            step.before.map(|n| &n.raft),
            step.after.map(|n| &n.raft),
        );
        let node_term = step.after.map_or(0, |n| n.raft.term());
        let restarted = step.after.is_some_and(|n| n.restarted);
        for event in step.events {
            match event {
                RaftEvent::Applied { index, term, .. } => {
                    ghost.applied(*index, *term, node_term);
                    if restarted {
                        ghost.reached |= reached::RESTARTED_APPLIED;
                    }
                }
                RaftEvent::InstalledSnapshot { commands, .. } => {
                    for (k, &c) in commands.iter().enumerate() {
                        ghost.applied(k as Index + 1, c, node_term);
                    }
                    ghost.reached |= reached::SNAPSHOT_INSTALLED;
                    if restarted {
                        ghost.reached |= reached::RESTARTED_APPLIED;
                    }
                }
                RaftEvent::OutOfOrder { .. } => ghost.violations |= violation::APPLY_ORDER,
                RaftEvent::BadSnapshot(_) | RaftEvent::RestoreFailed(_) => {
                    ghost.violations |= violation::PERSISTED_STATE
                }
            }
        }
    }

    fn within_bounds(&self, state: &RaftState<R>) -> bool {
        state.up().all(|(_, n)| {
            n.raft.term() <= self.max_term && n.raft.log().last_index() <= self.max_log
        })
    }

    fn properties(&self) -> Vec<Property<ClusterModel<Self>>> {
        crate::properties::raft_properties(self)
    }

    fn describe_msg(&self, msg: &RaftMsg) -> String {
        describe_msg(msg)
    }

    fn describe_input(&self, input: &RaftInput) -> String {
        match input {
            RaftInput::Submit(c) => format!("client submits command {c} to"),
            RaftInput::Snapshot => "service snapshots at its applied index on".into(),
        }
    }

    fn describe_node(&self, node: &RaftNode<R>) -> String {
        let r = &node.raft;
        let role = r.describe_role();
        let vote = r.voted_for().map_or("-".to_string(), |v| format!("S{v}"));
        format!(
            "T{} {role} vote {vote} log {} commit {} applied {:?}{}",
            r.term(),
            describe_log(r.log()),
            r.commit_index(),
            node.applied,
            if node.restarted { " (restarted)" } else { "" }
        )
    }

    fn describe_durable(&self, storage: &Storage<Cmd>) -> String {
        let s = storage.state();
        let vote = s.voted_for.map_or("-".to_string(), |v| format!("S{v}"));
        format!("T{} vote {vote} log {}", s.term, describe_log(&s.log))
    }

    fn describe_timer(&self, timer: &Timer) -> String {
        match timer {
            Timer::Election => "election timer".into(),
            Timer::Heartbeat => "heartbeat timer".into(),
        }
    }
}

/// A log as its entries' terms, with the snapshot in front: `[snap 1/T1 | T2 T2]`.
pub fn describe_log<C: Command>(log: &Log<C>) -> String {
    let entries: Vec<String> = log
        .entries()
        .iter()
        .map(|e| format!("T{}", e.term))
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

/// A message on one line: `AppendEntries T2 prev 1/T1 +[T2] commit 1`.
pub fn describe_msg(msg: &RaftMsg) -> String {
    match msg {
        RaftMsg::Request(r) => describe_request(r),
        RaftMsg::Reply(r) => describe_reply(r),
    }
}

/// A Raft request on one line (entries by their terms, whatever their commands).
pub fn describe_request<C: Command>(request: &Request<C>) -> String {
    match request {
        Request::RequestVote(a) => format!(
            "RequestVote T{} last {}/T{}",
            a.term, a.last_log_index, a.last_log_term
        ),
        Request::AppendEntries(a) => {
            let entries: Vec<String> = a.entries.iter().map(|e| format!("T{}", e.term)).collect();
            format!(
                "AppendEntries T{} prev {}/T{} +{} [{}] commit {}",
                a.term,
                a.prev_log_index,
                a.prev_log_term,
                a.entries.len(),
                entries.join(" "),
                a.leader_commit
            )
        }
        Request::InstallSnapshot(a) => format!(
            "InstallSnapshot T{} through {}/T{}",
            a.term, a.last_included_index, a.last_included_term
        ),
    }
}

/// A Raft reply on one line.
pub fn describe_reply(reply: &Reply) -> String {
    match reply {
        Reply::RequestVote(r) => format!(
            "VoteReply T{} {}",
            r.term,
            if r.granted { "granted" } else { "refused" }
        ),
        Reply::AppendEntries(r) => match &r.outcome {
            AppendOutcome::Stale => format!("AppendReply T{} stale", r.term),
            AppendOutcome::Success { match_index } => {
                format!("AppendReply T{} ok match {match_index}", r.term)
            }
            AppendOutcome::Mismatch {
                conflict_term,
                first_index,
            } => format!(
                "AppendReply T{} mismatch conflict {} first {first_index}",
                r.term,
                conflict_term.map_or("none".to_string(), |t| format!("T{t}"))
            ),
        },
        Reply::InstallSnapshot(r) => match r.match_index {
            Some(m) => format!("SnapshotReply T{} match {m}", r.term),
            None => format!("SnapshotReply T{} stale", r.term),
        },
    }
}
