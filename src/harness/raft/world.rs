//! The Raft lab's world: `n` Raft peers on the simulated labrpc network, their
//! persisters, and the harness's appliers that check every apply as it happens.
//!
//! This is the part of the lab's raft/config.go that reacts to events; the part that
//! test code calls (`one`, `check_one_leader`, ...) is in `config.rs`.
//!
//! When the kernel traces (`raftlab sim raft --trace`), the world records what the
//! network cannot see: crashes, restarts, connects and disconnects, clients' `Start`s,
//! timers set and fired, and applies; it labels every end with the two peers it joins
//! and gives the network a short summary of each RPC (see [`describe_rpc`]).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::codec;
use crate::harness::safety::LeaderLog;
use crate::raft::{
    self, AppendOutcome, Apply, Bug, Index, NodeId, Output, Raft, RaftCore, Reply, Request,
    Storage, Term, Timer,
};
use crate::sim::{CallId, Event, Kernel, Net, NetAction, Timers, TraceEvent, World};

/// A command of the Raft tests: the lab's tests submit Go ints and strings.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Cmd {
    /// An integer command.
    Int(i64),
    /// A string command.
    Str(String),
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cmd::Int(i) => write!(f, "{i}"),
            Cmd::Str(s) if s.len() > 40 => write!(f, "{}...({} chars)", &s[..40], s.len()),
            Cmd::Str(s) => f.write_str(s),
        }
    }
}

impl From<i64> for Cmd {
    fn from(v: i64) -> Self {
        Cmd::Int(v)
    }
}

impl From<String> for Cmd {
    fn from(v: String) -> Self {
        Cmd::Str(v)
    }
}

/// What travels on the Raft lab's network: requests and replies of the "Raft" service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RaftRpc {
    /// A request.
    Request(Request<Cmd>),
    /// A reply.
    Reply(Reply),
}

/// A server object: a peer and its incarnation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerToken {
    node: NodeId,
    incarnation: u64,
}

/// Who made a call: a peer's incarnation, calling another peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    node: NodeId,
    incarnation: u64,
    peer: NodeId,
}

/// Which applier reads a peer's applies (the lab's `applier` or `applierSnap`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applier {
    /// Checks commands; ignores snapshots (3A-3C).
    Plain,
    /// Also ingests snapshots and asks Raft for one every 10 entries (3D).
    Snapshot,
}

/// The harness's snapshot: the last included index and every value through it (index
/// 0 holds nothing), as the lab's applierSnap encodes it.
#[derive(Serialize, Deserialize)]
struct HarnessSnapshot {
    last_included_index: Index,
    values: Vec<Option<Cmd>>,
}

/// How often the 3D applier asks for a snapshot: at indices 9, 19, 29, ...
pub const SNAPSHOT_INTERVAL: Index = 10;

/// Statistics gathered while the world runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// How many times a peer became leader.
    pub elections: u64,
    /// The highest committed index any peer applied.
    pub max_index: Index,
}

/// The Raft lab's world, its peers running the Raft core `R` (raftlab's own unless
/// named).
pub struct RaftWorld<R = Raft<Cmd>> {
    pub(crate) n: usize,
    pub(crate) net: Net<RaftRpc, ServerToken, Caller>,
    pub(crate) rafts: Vec<Option<R>>,
    incarnation: Vec<u64>,
    timers: Timers,
    pub(crate) saved: Vec<Storage<Cmd>>,
    pub(crate) endnames: Vec<Vec<String>>,
    pub(crate) connected: Vec<bool>,
    /// Per peer: a copy of each committed value it applied, by index.
    pub(crate) logs: Vec<BTreeMap<Index, Option<Cmd>>>,
    last_applied: Vec<Index>,
    applier: Applier,
    timing: raft::Timing,
    bug: Option<Bug>,
    leaders: LeaderLog,
    pub(crate) stats: Stats,
}

const ELECTION: u32 = 0;
const HEARTBEAT: u32 = 1;

fn timer_id(t: Timer) -> u32 {
    match t {
        Timer::Election => ELECTION,
        Timer::Heartbeat => HEARTBEAT,
    }
}

fn timer_name(t: Timer) -> &'static str {
    match t {
        Timer::Election => "election",
        Timer::Heartbeat => "heartbeat",
    }
}

/// A one-line summary of an RPC, for the event trace: `RV T3 last 12/T2`,
/// `AE T3 prev 12/T2 +5 commit 10`, `IS T3 through 19/T2 (812 B)`, and for replies
/// `vote T3 granted`, `T3 ok match 17`, `T3 conflict T2 from 7`, `T3 snapshot match 19`.
pub fn describe_rpc(rpc: &RaftRpc) -> String {
    match rpc {
        RaftRpc::Request(Request::RequestVote(a)) => format!(
            "RV T{} last {}/T{}",
            a.term, a.last_log_index, a.last_log_term
        ),
        RaftRpc::Request(Request::AppendEntries(a)) => format!(
            "AE T{} prev {}/T{} +{} commit {}",
            a.term,
            a.prev_log_index,
            a.prev_log_term,
            a.entries.len(),
            a.leader_commit
        ),
        RaftRpc::Request(Request::InstallSnapshot(a)) => format!(
            "IS T{} through {}/T{} ({} B)",
            a.term,
            a.last_included_index,
            a.last_included_term,
            a.data.len()
        ),
        RaftRpc::Reply(Reply::RequestVote(r)) => format!(
            "vote T{} {}",
            r.term,
            if r.granted { "granted" } else { "refused" }
        ),
        RaftRpc::Reply(Reply::AppendEntries(r)) => match &r.outcome {
            AppendOutcome::Stale => format!("T{} stale", r.term),
            AppendOutcome::Success { match_index } => format!("T{} ok match {match_index}", r.term),
            AppendOutcome::Mismatch {
                conflict_term: Some(t),
                first_index,
            } => format!("T{} conflict T{t} from {first_index}", r.term),
            AppendOutcome::Mismatch {
                conflict_term: None,
                first_index,
            } => format!("T{} short, next {first_index}", r.term),
        },
        RaftRpc::Reply(Reply::InstallSnapshot(r)) => match r.match_index {
            Some(m) => format!("T{} snapshot match {m}", r.term),
            None => format!("T{} snapshot stale", r.term),
        },
    }
}

impl<R: RaftCore<Cmd>> RaftWorld<R> {
    /// A world of `n` peers, none started yet.
    pub fn new(n: usize, applier: Applier, timing: raft::Timing, bug: Option<Bug>) -> Self {
        let mut net = Net::new();
        net.set_describe(describe_rpc);
        RaftWorld {
            n,
            net,
            rafts: (0..n).map(|_| None).collect(),
            incarnation: vec![0; n],
            timers: Timers::default(),
            saved: vec![Storage::new(); n],
            endnames: vec![Vec::new(); n],
            connected: vec![false; n],
            logs: vec![BTreeMap::new(); n],
            last_applied: vec![0; n],
            applier,
            timing,
            bug,
            leaders: LeaderLog::default(),
            stats: Stats::default(),
        }
    }

    /// The labrpc server name of peer `i`.
    pub fn server_name(i: NodeId) -> String {
        i.to_string()
    }

    // ----- Lifecycle (crash1, start1, connect, disconnect) -----------------------------

    /// The lab's `crash1(i)`: cut the peer off, deregister it, fork its persister and
    /// drop the running instance; only what it persisted survives.
    pub fn crash1(&mut self, k: &mut Kernel, i: NodeId) {
        self.disconnect(k, i);
        self.net.delete_server(k, &Self::server_name(i));
        self.saved[i] = self.saved[i].copy();
        if self.rafts[i].take().is_some() {
            self.incarnation[i] += 1;
            self.timers.cancel_all(i);
            k.trace(Some(i), || TraceEvent::Crash);
        }
        // A brand-new persister holding the copied state (the lab's crash1 does this
        // too, so that the old instance can never write to the new one's).
        self.saved[i] = self.saved[i].copy();
    }

    /// The lab's `start1(i)`: (crash and) start peer `i` from its persisted state, with
    /// fresh outgoing ends that are connected but not enabled.
    pub fn start1(&mut self, k: &mut Kernel, i: NodeId) {
        self.crash1(k, i);
        self.endnames[i] = (0..self.n)
            .map(|j| {
                let name = k.rng.string(20);
                if let Err(e) = self.net.make_end(&name) {
                    panic!("{e}");
                }
                self.net.label_end(&name, Some(i), Some(j));
                self.net.connect(k, &name, &Self::server_name(j));
                name
            })
            .collect();
        self.last_applied[i] = 0;
        self.saved[i] = self.saved[i].copy();
        let snapshot = self.saved[i].snapshot().to_vec();
        if !snapshot.is_empty()
            && let Some(e) = self.ingest_snap(i, &snapshot, None)
        {
            panic!("{e}");
        }
        let config = raft::Config {
            timing: self.timing,
            bug: self.bug,
            ..raft::Config::new(i, self.n)
        };
        let state = self.saved[i].raft_state();
        let (rf, outputs) = match R::restore(config, &state, &snapshot) {
            Ok(r) => r,
            Err(e) => panic!("server {i} cannot restart: {e}"),
        };
        self.incarnation[i] += 1;
        let incarnation = self.incarnation[i];
        k.trace(Some(i), || TraceEvent::Restart { incarnation });
        self.rafts[i] = Some(rf);
        self.execute(k, i, outputs, None);
        let token = ServerToken {
            node: i,
            incarnation: self.incarnation[i],
        };
        self.net.add_server(k, &Self::server_name(i), token);
    }

    /// The lab's `connect(i)`: enable the links between `i` and every connected peer.
    pub fn connect(&mut self, k: &mut Kernel, i: NodeId) {
        if !self.connected[i] {
            k.trace(Some(i), || TraceEvent::Connect);
        }
        self.connected[i] = true;
        for j in 0..self.n {
            if self.connected[j] {
                if let Some(e) = self.endnames[i].get(j) {
                    self.net.enable(k, e, true);
                }
                if let Some(e) = self.endnames[j].get(i) {
                    self.net.enable(k, e, true);
                }
            }
        }
    }

    /// The lab's `disconnect(i)`: disable every link to and from `i`.
    pub fn disconnect(&mut self, k: &mut Kernel, i: NodeId) {
        if self.connected[i] {
            k.trace(Some(i), || TraceEvent::Disconnect);
        }
        self.connected[i] = false;
        for j in 0..self.n {
            if let Some(e) = self.endnames[i].get(j) {
                self.net.enable(k, e, false);
            }
            if let Some(e) = self.endnames[j].get(i) {
                self.net.enable(k, e, false);
            }
        }
    }

    /// `rf.Start(cmd)` on peer `i`: `Some((index, term))` if it is alive and leader.
    pub fn start(&mut self, k: &mut Kernel, i: NodeId, cmd: Cmd) -> Option<(Index, Term)> {
        let rf = self.rafts[i].as_mut()?;
        let shown = k.tracing().then(|| cmd.to_string());
        let (result, outputs) = rf.start(cmd);
        let accepted = result.as_ref().ok().copied();
        k.trace(Some(i), || TraceEvent::Start {
            cmd: shown.unwrap_or_default(),
            index: accepted.map(|(index, _)| index),
            term: accepted.map(|(_, term)| term),
        });
        self.execute(k, i, outputs, None);
        result.ok()
    }

    // ----- Driving the peers -----------------------------------------------------------

    fn alive(&self, node: NodeId, incarnation: u64) -> bool {
        self.rafts[node].is_some() && self.incarnation[node] == incarnation
    }

    /// Carries out a peer's outputs in order. `call` is the RPC being answered, if any.
    fn execute(
        &mut self,
        k: &mut Kernel,
        i: NodeId,
        outputs: Vec<Output<Cmd>>,
        call: Option<CallId>,
    ) {
        for o in outputs {
            match o {
                Output::Persist(p) => self.saved[i].apply(p),
                Output::Send { to, request } => {
                    let caller = Caller {
                        node: i,
                        incarnation: self.incarnation[i],
                        peer: to,
                    };
                    let end = self.endnames[i][to].clone();
                    self.net.call(k, &end, caller, RaftRpc::Request(request));
                }
                Output::Reply { reply, .. } => {
                    if let Some(c) = call {
                        self.net.respond(k, c, RaftRpc::Reply(reply));
                    }
                }
                Output::SetTimer { timer, after } => {
                    let after = self
                        .timers
                        .set(k, i, self.incarnation[i], timer_id(timer), after);
                    k.trace(Some(i), || TraceEvent::TimerSet {
                        timer: timer_name(timer).to_string(),
                        after_us: after.as_micros() as u64,
                    });
                }
                Output::CancelTimer(timer) => self.timers.cancel(i, timer_id(timer)),
                Output::Apply(a) => self.apply(k, i, a),
            }
        }
        self.note_leadership(i);
    }

    /// Election Safety, checked after every step: no two peers lead the same term.
    fn note_leadership(&mut self, i: NodeId) {
        if let Some(rf) = &self.rafts[i] {
            self.leaders.observe(i, rf.term(), rf.is_leader());
            self.stats.elections = self.leaders.elections();
        }
    }

    // ----- The appliers ----------------------------------------------------------------

    fn apply(&mut self, k: &mut Kernel, i: NodeId, a: Apply<Cmd>) {
        k.trace(Some(i), || match &a {
            Apply::Command { index, command, .. } => TraceEvent::Apply {
                index: *index,
                cmd: command.to_string(),
            },
            Apply::Snapshot { index, .. } => TraceEvent::ApplySnapshot { index: *index },
        });
        let err = match (a, self.applier) {
            (Apply::Command { index, command, .. }, Applier::Plain) => {
                let (mut err, prevok) = self.check_logs(i, index, command);
                if index > 1 && !prevok {
                    err = Some(format!("server {i} apply out of order {index}"));
                }
                err
            }
            (Apply::Snapshot { .. }, Applier::Plain) => None,
            (Apply::Command { index, command, .. }, Applier::Snapshot) => {
                let mut err = None;
                if index != self.last_applied[i] + 1 {
                    err = Some(format!(
                        "server {i} apply out of order, expected index {}, got {index}",
                        self.last_applied[i] + 1
                    ));
                }
                if err.is_none() {
                    let (e, prevok) = self.check_logs(i, index, command);
                    err = e;
                    if index > 1 && !prevok {
                        err = Some(format!("server {i} apply out of order {index}"));
                    }
                }
                self.last_applied[i] = index;
                if err.is_none() && (index + 1) % SNAPSHOT_INTERVAL == 0 {
                    self.take_snapshot(k, i, index);
                }
                err
            }
            (Apply::Snapshot { index, data, .. }, Applier::Snapshot) => {
                self.ingest_snap(i, &data, Some(index))
            }
        };
        if let Some(e) = err {
            panic!("apply error: {e}");
        }
    }

    /// The lab's `checkLogs`: the value must agree with what any peer applied at that
    /// index. Returns the error, and whether this peer had applied `index - 1`.
    fn check_logs(&mut self, i: NodeId, index: Index, v: Cmd) -> (Option<String>, bool) {
        let mut err = None;
        for (j, log) in self.logs.iter().enumerate() {
            if let Some(old) = log.get(&index)
                && old.as_ref() != Some(&v)
            {
                err = Some(format!(
                    "commit index={index} server={i} {v} != server={j} {}",
                    old.as_ref().map_or("<nil>".to_string(), Cmd::to_string)
                ));
            }
        }
        let prevok = index > 0 && self.logs[i].contains_key(&(index - 1));
        self.logs[i].insert(index, Some(v));
        self.stats.max_index = self.stats.max_index.max(index);
        (err, prevok)
    }

    fn take_snapshot(&mut self, k: &mut Kernel, i: NodeId, index: Index) {
        let values = (0..=index)
            .map(|j| self.logs[i].get(&j).cloned().flatten())
            .collect();
        let data = codec::encode(&HarnessSnapshot {
            last_included_index: index,
            values,
        });
        if let Some(rf) = self.rafts[i].as_mut() {
            let outputs = rf.snapshot_at(index, data);
            self.execute(k, i, outputs, None);
        }
    }

    /// The lab's `ingestSnap`: replace the peer's copy of the log with the snapshot's.
    fn ingest_snap(&mut self, i: NodeId, data: &[u8], index: Option<Index>) -> Option<String> {
        let snap: HarnessSnapshot = match codec::decode("harness snapshot", data) {
            Ok(s) => s,
            Err(e) => panic!("snapshot decode error: {e}"),
        };
        if let Some(index) = index
            && index != snap.last_included_index
        {
            return Some(format!("server {i} snapshot doesn't match m.SnapshotIndex"));
        }
        self.logs[i] = snap
            .values
            .into_iter()
            .enumerate()
            .map(|(j, v)| (j as Index, v))
            .collect();
        self.last_applied[i] = snap.last_included_index;
        None
    }
}

impl<R: RaftCore<Cmd>> World for RaftWorld<R> {
    fn on_event(&mut self, k: &mut Kernel, event: Event) {
        match event {
            Event::Net(e) => match self.net.on_event(k, e) {
                Some(NetAction::Request {
                    server,
                    call,
                    caller,
                    request: RaftRpc::Request(request),
                }) => {
                    if let Some(rf) = self.rafts[server.node].as_mut()
                        && self.incarnation[server.node] == server.incarnation
                    {
                        let outputs = rf.handle_request(caller.node, request);
                        self.execute(k, server.node, outputs, Some(call));
                    }
                }
                Some(NetAction::Reply {
                    caller,
                    reply: RaftRpc::Reply(reply),
                    ..
                }) => {
                    if self.alive(caller.node, caller.incarnation)
                        && let Some(rf) = self.rafts[caller.node].as_mut()
                    {
                        let outputs = rf.handle_reply(caller.peer, reply);
                        self.execute(k, caller.node, outputs, None);
                    }
                }
                // A request that is a reply, or a reply that is a request, cannot be made
                // by this world; failed calls need no action from Raft.
                Some(_) | None => {}
            },
            Event::Timer(key) => {
                if !self.alive(key.node, key.incarnation) || !self.timers.fire(&key) {
                    return;
                }
                let timer = if key.timer == ELECTION {
                    Timer::Election
                } else {
                    Timer::Heartbeat
                };
                k.trace(Some(key.node), || TraceEvent::Timer {
                    timer: timer_name(timer).to_string(),
                });
                if let Some(rf) = self.rafts[key.node].as_mut() {
                    let outputs = rf.handle_timer(timer);
                    self.execute(k, key.node, outputs, None);
                }
            }
            Event::Wake(w) => w.wake(),
        }
    }
}
