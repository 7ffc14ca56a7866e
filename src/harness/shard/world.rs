//! The sharded key/value service's world (the event side of shardkv/config.go): the
//! controller services, the replica groups, the shard clerks and the controller clerks
//! the tests use to join and leave groups, on one labrpc network.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::harness::drive::{RaftHost, raft_timer};
use crate::harness::safety::LeaderLog;
use crate::kv::Op;
use crate::raft::{self, Storage};
use crate::rsm::clerk::{ClerkOutput, ClerkTiming};
use crate::rsm::server::{ServerConfig, ServerOutput};
use crate::rsm::{Reply, Request};
use crate::shard::clerk::{ShardClerk, ShardClerkOutput, ShardClerkTimer};
use crate::shard::ctrler::{CtrlOp, CtrlerClerk, CtrlerServer};
use crate::shard::group::{
    GroupCmd, GroupConfig, GroupOutput, GroupRpc, GroupRpcReply, GroupServer, GroupTimer,
};
use crate::shard::{Gid, ShardConfig};
use crate::sim::verbose::as_node_base;
use crate::sim::{CallId, Event, Kernel, Net, NetAction, Sender, TimerKey, Timers, World};

/// Everything that travels on the Lab 5 network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShardRpc {
    /// Raft between controller servers.
    CtrlRaft(raft::Request<Request<CtrlOp>>),
    /// A Raft reply between controller servers.
    CtrlRaftReply(raft::Reply),
    /// Raft within a replica group.
    GroupRaft(raft::Request<GroupCmd>),
    /// A Raft reply within a replica group.
    GroupRaftReply(raft::Reply),
    /// A request to the controller ("ShardCtrler").
    Ctrl(Request<CtrlOp>),
    /// The controller's answer.
    CtrlReply(Reply<Option<ShardConfig>>),
    /// A clerk's key/value request ("ShardKV").
    Kv(Request<Op>),
    /// A group's answer to a clerk.
    KvReply(Reply<String>),
    /// A shard transfer between groups.
    Group(GroupRpc),
    /// Its answer.
    GroupReply(GroupRpcReply),
}

/// A server object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token {
    /// Controller server `node` of controller service `svc`.
    Ctrl {
        /// The service.
        svc: usize,
        /// The server.
        node: usize,
        /// Its incarnation.
        inc: u64,
    },
    /// Server `node` of group `gi`.
    Group {
        /// The group's index.
        gi: usize,
        /// The server.
        node: usize,
        /// Its incarnation.
        inc: u64,
    },
}

/// Who made a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    /// A controller server's Raft.
    CtrlRaft {
        /// The service.
        svc: usize,
        /// The server.
        node: usize,
        /// Its incarnation.
        inc: u64,
        /// The peer called.
        peer: usize,
    },
    /// A group server's Raft.
    GroupRaft {
        /// The group.
        gi: usize,
        /// The server.
        node: usize,
        /// Its incarnation.
        inc: u64,
        /// The peer called.
        peer: usize,
    },
    /// A group server's controller clerk.
    GroupCtrler {
        /// The group.
        gi: usize,
        /// The server.
        node: usize,
        /// Its incarnation.
        inc: u64,
        /// The clerk's attempt.
        attempt: u64,
    },
    /// A group server calling another group.
    GroupGroup {
        /// The group.
        gi: usize,
        /// The server.
        node: usize,
        /// Its incarnation.
        inc: u64,
        /// The server's tag for the call.
        tag: u64,
    },
    /// A shard clerk calling a group.
    Clerk {
        /// The clerk.
        slot: usize,
        /// Its attempt.
        attempt: u64,
    },
    /// A shard clerk's controller clerk.
    ClerkCtrler {
        /// The clerk.
        slot: usize,
        /// Its attempt.
        attempt: u64,
    },
    /// A test's controller clerk (join, leave, query).
    Admin {
        /// The clerk.
        slot: usize,
        /// Its attempt.
        attempt: u64,
    },
}

type ShardNet = Net<ShardRpc, Token, Caller>;

// Timer keys: each kind of node has its own range of node numbers.
const GROUP_BASE: usize = 10_000;
const CLERK_BASE: usize = 1_000_000;
const ADMIN_BASE: usize = 2_000_000;
const SLOTS: usize = 64;
const GROUP_TICK: u32 = 2;
const GROUP_CTRLER: u32 = 3;
const CLERK_OWN: u32 = 4;
const CLERK_CTRLER: u32 = 5;
const ADMIN: u32 = 6;

/// One controller service: a Raft group of controller servers.
pub(crate) struct CtrlService {
    pub(crate) names: Vec<String>,
    pub(crate) servers: Vec<Option<CtrlerServer>>,
    inc: Vec<u64>,
    saved: Vec<Storage<Request<CtrlOp>>>,
    endnames: Vec<Vec<String>>,
    leaders: LeaderLog,
}

/// One replica group.
pub(crate) struct Group {
    pub(crate) gid: Gid,
    pub(crate) names: Vec<String>,
    pub(crate) servers: Vec<Option<GroupServer>>,
    inc: Vec<u64>,
    pub(crate) saved: Vec<Storage<GroupCmd>>,
    endnames: Vec<Vec<String>>,
    ctrl_ends: Vec<Vec<String>>,
    /// Per server: the ends it made (the lab's `make_end`) to other servers, by name.
    remote_ends: Vec<BTreeMap<String, String>>,
    leaders: LeaderLog,
}

struct ClerkSlot {
    clerk: ShardClerk,
    ctrl_ends: Vec<String>,
    group_ends: BTreeMap<String, String>,
    waiter: Option<Sender<String>>,
}

struct AdminSlot {
    clerk: CtrlerClerk,
    ends: Vec<String>,
    waiter: Option<Sender<Option<ShardConfig>>>,
}

/// The Lab 5 world.
pub struct ShardWorld {
    pub(crate) net: ShardNet,
    timers: Timers,
    pub(crate) ctrls: Vec<CtrlService>,
    pub(crate) groups: Vec<Group>,
    clerks: Vec<Option<ClerkSlot>>,
    admins: Vec<Option<AdminSlot>>,
    pub(crate) max_raft_state: Option<usize>,
    timing: ClerkTiming,
}

fn ctrl_node(svc: usize, i: usize) -> usize {
    svc * SLOTS + i
}

fn group_node(gi: usize, i: usize) -> usize {
    GROUP_BASE + gi * SLOTS + i
}

impl ShardWorld {
    /// An empty world.
    pub(crate) fn new(max_raft_state: Option<usize>) -> Self {
        ShardWorld {
            net: Net::new(),
            timers: Timers::default(),
            ctrls: Vec::new(),
            groups: Vec::new(),
            clerks: Vec::new(),
            admins: Vec::new(),
            max_raft_state,
            timing: ClerkTiming::default(),
        }
    }

    fn make_end(net: &mut ShardNet, k: &mut Kernel, server: &str, enabled: bool) -> String {
        let name = k.rng.string(20);
        if let Err(e) = net.make_end(&name) {
            panic!("{e}");
        }
        net.connect(k, &name, server);
        net.enable(k, &name, enabled);
        name
    }

    // ----- Controller services -----------------------------------------------------------

    /// Starts a controller service of `n` servers named "ctlr-<random>", connected, and
    /// returns its index. Its servers are never restarted.
    pub(crate) fn start_ctrl_service(&mut self, k: &mut Kernel, n: usize) -> usize {
        let svc = self.ctrls.len();
        let names: Vec<String> = (0..n)
            .map(|_| format!("ctlr-{}", k.rng.string(20)))
            .collect();
        let endnames: Vec<Vec<String>> = (0..n)
            .map(|_| {
                names
                    .iter()
                    .map(|to| Self::make_end(&mut self.net, k, to, true))
                    .collect()
            })
            .collect();
        self.ctrls.push(CtrlService {
            names,
            servers: (0..n).map(|_| None).collect(),
            inc: vec![0; n],
            saved: vec![Storage::new(); n],
            endnames,
            leaders: LeaderLog::default(),
        });
        for i in 0..n {
            let config = ServerConfig {
                raft: raft::Config::new(i, n),
                max_raft_state: None,
                bug: None,
            };
            let base = self.ctrl_log_base(svc);
            let restored = as_node_base(base, || CtrlerServer::restore(config, &[], &[]));
            let (server, outputs) = match restored {
                Ok(s) => s,
                Err(e) => panic!("controller {i} cannot start: {e}"),
            };
            let c = &mut self.ctrls[svc];
            c.inc[i] += 1;
            c.servers[i] = Some(server);
            let token = Token::Ctrl {
                svc,
                node: i,
                inc: c.inc[i],
            };
            let name = c.names[i].clone();
            self.execute_ctrl(k, svc, i, outputs, None);
            self.net.add_server(k, &name, token);
        }
        svc
    }

    fn execute_ctrl(
        &mut self,
        k: &mut Kernel,
        svc: usize,
        i: usize,
        outputs: Vec<ServerOutput<CtrlOp, Option<ShardConfig>>>,
        raft_call: Option<CallId>,
    ) {
        let c = &mut self.ctrls[svc];
        for o in outputs {
            match o {
                ServerOutput::Raft(o) => {
                    let inc = c.inc[i];
                    let mut host = RaftHost {
                        timer_node: ctrl_node(svc, i),
                        incarnation: inc,
                        ends: &c.endnames[i],
                        storage: &mut c.saved[i],
                        call: raft_call,
                        request: ShardRpc::CtrlRaft,
                        reply: ShardRpc::CtrlRaftReply,
                        caller: |peer| Caller::CtrlRaft {
                            svc,
                            node: i,
                            inc,
                            peer,
                        },
                        _message: std::marker::PhantomData,
                    };
                    host.carry_out(k, &mut self.net, &mut self.timers, o);
                }
                ServerOutput::ClientReply { call, reply } => {
                    self.net.respond(k, call, ShardRpc::CtrlReply(reply));
                }
            }
        }
        if let Some(s) = &c.servers[i] {
            let (term, leader) = s.raft().state();
            c.leaders.observe(i, term, leader);
        }
    }

    // ----- Groups --------------------------------------------------------------------------

    /// Adds a group of `n` servers named "server-<gid>-<i>" (not started).
    pub(crate) fn add_group(&mut self, gid: Gid, n: usize) {
        self.groups.push(Group {
            gid,
            names: (0..n).map(|i| format!("server-{gid}-{i}")).collect(),
            servers: (0..n).map(|_| None).collect(),
            inc: vec![0; n],
            saved: vec![Storage::new(); n],
            endnames: vec![Vec::new(); n],
            ctrl_ends: vec![Vec::new(); n],
            remote_ends: vec![BTreeMap::new(); n],
            leaders: LeaderLog::default(),
        });
    }

    /// The lab's `StartServer(gi, i)`: fresh, enabled ends to its peers and to the
    /// controllers, state from its persister.
    pub(crate) fn start_server(&mut self, k: &mut Kernel, gi: usize, i: usize) {
        let ctrl_names = self.ctrls[0].names.clone();
        let g = &mut self.groups[gi];
        let n = g.names.len();
        g.endnames[i] = g
            .names
            .iter()
            .map(|to| Self::make_end(&mut self.net, k, to, true))
            .collect();
        g.ctrl_ends[i] = ctrl_names
            .iter()
            .map(|to| Self::make_end(&mut self.net, k, to, true))
            .collect();
        g.remote_ends[i].clear();
        g.saved[i] = g.saved[i].copy();
        let config = GroupConfig {
            raft: raft::Config::new(i, n),
            gid: g.gid,
            ctrlers: ctrl_names.len(),
            max_raft_state: self.max_raft_state,
            bug: None,
        };
        let state = g.saved[i].raft_state();
        let snapshot = g.saved[i].snapshot().to_vec();
        let base = self.group_log_base(gi);
        let restored = as_node_base(base, || GroupServer::restore(config, &state, &snapshot));
        let g = &mut self.groups[gi];
        let (server, outputs) = match restored {
            Ok(s) => s,
            Err(e) => panic!("server {} cannot start: {e}", g.names[i]),
        };
        g.inc[i] += 1;
        g.servers[i] = Some(server);
        let token = Token::Group {
            gi,
            node: i,
            inc: g.inc[i],
        };
        let name = g.names[i].clone();
        self.execute_group(k, gi, i, outputs, None);
        self.net.add_server(k, &name, token);
    }

    /// The lab's `ShutdownServer(gi, i)`: disable its ends to its peers and to the
    /// controllers, deregister it, fork its persister, kill it. (Ends it made to other
    /// groups stay enabled: killing it is what stops them.)
    pub(crate) fn shutdown_server(&mut self, k: &mut Kernel, gi: usize, i: usize) {
        let g = &mut self.groups[gi];
        for e in g.endnames[i].iter().chain(&g.ctrl_ends[i]) {
            self.net.enable(k, e, false);
        }
        self.net.delete_server(k, &g.names[i]);
        g.saved[i] = g.saved[i].copy();
        if g.servers[i].take().is_some() {
            g.inc[i] += 1;
            self.timers.cancel_all(group_node(gi, i));
        }
    }

    fn execute_group(
        &mut self,
        k: &mut Kernel,
        gi: usize,
        i: usize,
        outputs: Vec<GroupOutput>,
        raft_call: Option<CallId>,
    ) {
        let node = group_node(gi, i);
        for o in outputs {
            let g = &mut self.groups[gi];
            let inc = g.inc[i];
            match o {
                GroupOutput::Raft(o) => {
                    let mut host = RaftHost {
                        timer_node: node,
                        incarnation: inc,
                        ends: &g.endnames[i],
                        storage: &mut g.saved[i],
                        call: raft_call,
                        request: ShardRpc::GroupRaft,
                        reply: ShardRpc::GroupRaftReply,
                        caller: |peer| Caller::GroupRaft {
                            gi,
                            node: i,
                            inc,
                            peer,
                        },
                        _message: std::marker::PhantomData,
                    };
                    host.carry_out(k, &mut self.net, &mut self.timers, o);
                }
                GroupOutput::ClientReply { call, reply } => {
                    self.net.respond(k, call, ShardRpc::KvReply(reply));
                }
                GroupOutput::CtrlerCall {
                    to,
                    attempt,
                    request,
                } => {
                    if let Some(end) = g.ctrl_ends[i].get(to).cloned() {
                        let caller = Caller::GroupCtrler {
                            gi,
                            node: i,
                            inc,
                            attempt,
                        };
                        self.net.call(k, &end, caller, ShardRpc::Ctrl(request));
                    }
                }
                GroupOutput::GroupCall { to, tag, request } => {
                    let end = match g.remote_ends[i].get(&to) {
                        Some(e) => e.clone(),
                        None => {
                            let e = Self::make_end(&mut self.net, k, &to, true);
                            self.groups[gi].remote_ends[i].insert(to, e.clone());
                            e
                        }
                    };
                    let caller = Caller::GroupGroup {
                        gi,
                        node: i,
                        inc,
                        tag,
                    };
                    self.net.call(k, &end, caller, ShardRpc::Group(request));
                }
                GroupOutput::GroupReply { call, reply } => {
                    self.net.respond(k, call, ShardRpc::GroupReply(reply));
                }
                GroupOutput::SetTimer { timer, after } => {
                    let id = match timer {
                        GroupTimer::Tick => GROUP_TICK,
                        GroupTimer::Ctrler => GROUP_CTRLER,
                    };
                    self.timers.set(k, node, inc, id, after);
                }
                GroupOutput::CancelTimer(timer) => {
                    let id = match timer {
                        GroupTimer::Tick => GROUP_TICK,
                        GroupTimer::Ctrler => GROUP_CTRLER,
                    };
                    self.timers.cancel(node, id);
                }
            }
        }
        let g = &mut self.groups[gi];
        if let Some(s) = &g.servers[i] {
            let (term, leader) = s.raft().state();
            g.leaders.observe(i, term, leader);
        }
    }

    /// The first log id of group `gi`'s servers: groups are numbered first, one
    /// after another (`S0`.. for the first group), then the controllers.
    fn group_log_base(&self, gi: usize) -> u64 {
        self.groups[..gi].iter().map(|g| g.names.len() as u64).sum()
    }

    /// The first log id of controller service `svc`'s servers, after every group's.
    fn ctrl_log_base(&self, svc: usize) -> u64 {
        let groups: u64 = self.groups.iter().map(|g| g.names.len() as u64).sum();
        groups
            + self.ctrls[..svc]
                .iter()
                .map(|c| c.names.len() as u64)
                .sum::<u64>()
    }

    fn group_alive(&self, gi: usize, i: usize, inc: u64) -> bool {
        let g = &self.groups[gi];
        g.servers[i].is_some() && g.inc[i] == inc
    }

    fn ctrl_alive(&self, svc: usize, i: usize, inc: u64) -> bool {
        let c = &self.ctrls[svc];
        c.servers[i].is_some() && c.inc[i] == inc
    }

    // ----- Clerks ---------------------------------------------------------------------------

    /// A shard clerk whose controller ends lead to controller service `svc`.
    pub(crate) fn add_clerk(&mut self, k: &mut Kernel, svc: usize) -> usize {
        let names = self.ctrls[svc].names.clone();
        let ctrl_ends: Vec<String> = names
            .iter()
            .map(|to| Self::make_end(&mut self.net, k, to, true))
            .collect();
        let client = k.rng.int63() as u64;
        self.clerks.push(Some(ClerkSlot {
            clerk: ShardClerk::new(client, ctrl_ends.len(), self.timing),
            ctrl_ends,
            group_ends: BTreeMap::new(),
            waiter: None,
        }));
        self.clerks.len() - 1
    }

    /// Starts an operation on shard clerk `slot`.
    pub(crate) fn clerk_start(
        &mut self,
        k: &mut Kernel,
        slot: usize,
        op: Op,
        done: Sender<String>,
    ) {
        let Some(c) = self.clerks.get_mut(slot).and_then(Option::as_mut) else {
            panic!("clerk {slot} was deleted");
        };
        let outputs = match c.clerk.start(op) {
            Ok(o) => o,
            Err(_) => panic!("clerk {slot} is already running an operation"),
        };
        c.waiter = Some(done);
        self.execute_clerk(k, slot, outputs);
    }

    fn execute_clerk(&mut self, k: &mut Kernel, slot: usize, outputs: Vec<ShardClerkOutput>) {
        let node = CLERK_BASE + slot;
        for o in outputs {
            let Some(c) = self.clerks.get_mut(slot).and_then(Option::as_mut) else {
                return;
            };
            match o {
                ShardClerkOutput::SendGroup {
                    server,
                    attempt,
                    request,
                } => {
                    let end = match c.group_ends.get(&server) {
                        Some(e) => e.clone(),
                        None => {
                            let e = Self::make_end(&mut self.net, k, &server, true);
                            c.group_ends.insert(server, e.clone());
                            e
                        }
                    };
                    let caller = Caller::Clerk { slot, attempt };
                    self.net.call(k, &end, caller, ShardRpc::Kv(request));
                }
                ShardClerkOutput::SendCtrler {
                    to,
                    attempt,
                    request,
                } => {
                    if let Some(end) = c.ctrl_ends.get(to).cloned() {
                        let caller = Caller::ClerkCtrler { slot, attempt };
                        self.net.call(k, &end, caller, ShardRpc::Ctrl(request));
                    }
                }
                ShardClerkOutput::SetTimer { timer, after } => {
                    let id = match timer {
                        ShardClerkTimer::Own => CLERK_OWN,
                        ShardClerkTimer::Ctrler => CLERK_CTRLER,
                    };
                    self.timers.set(k, node, 0, id, after);
                }
                ShardClerkOutput::CancelTimer(timer) => {
                    let id = match timer {
                        ShardClerkTimer::Own => CLERK_OWN,
                        ShardClerkTimer::Ctrler => CLERK_CTRLER,
                    };
                    self.timers.cancel(node, id);
                }
                ShardClerkOutput::Done(value) => {
                    if let Some(w) = c.waiter.take() {
                        w.send(value);
                    }
                }
            }
        }
    }

    /// A controller clerk for the test (join, leave, query) on service `svc`.
    pub(crate) fn add_admin(&mut self, k: &mut Kernel, svc: usize) -> usize {
        let names = self.ctrls[svc].names.clone();
        let ends: Vec<String> = names
            .iter()
            .map(|to| Self::make_end(&mut self.net, k, to, true))
            .collect();
        let client = k.rng.int63() as u64;
        self.admins.push(Some(AdminSlot {
            clerk: CtrlerClerk::new(client, ends.len(), self.timing),
            ends,
            waiter: None,
        }));
        self.admins.len() - 1
    }

    /// Starts an operation on controller clerk `slot`.
    pub(crate) fn admin_start(
        &mut self,
        k: &mut Kernel,
        slot: usize,
        op: CtrlOp,
        done: Sender<Option<ShardConfig>>,
    ) {
        let Some(a) = self.admins.get_mut(slot).and_then(Option::as_mut) else {
            panic!("controller clerk {slot} was deleted");
        };
        let outputs = match a.clerk.start(op) {
            Ok(o) => o,
            Err(_) => panic!("controller clerk {slot} is already running an operation"),
        };
        a.waiter = Some(done);
        self.execute_admin(k, slot, outputs);
    }

    fn execute_admin(
        &mut self,
        k: &mut Kernel,
        slot: usize,
        outputs: Vec<ClerkOutput<CtrlOp, Option<ShardConfig>>>,
    ) {
        let node = ADMIN_BASE + slot;
        for o in outputs {
            let Some(a) = self.admins.get_mut(slot).and_then(Option::as_mut) else {
                return;
            };
            match o {
                ClerkOutput::Send {
                    to,
                    attempt,
                    request,
                } => {
                    let caller = Caller::Admin { slot, attempt };
                    let end = a.ends[to].clone();
                    self.net.call(k, &end, caller, ShardRpc::Ctrl(request));
                }
                ClerkOutput::SetTimer(after) => {
                    self.timers.set(k, node, 0, ADMIN, after);
                }
                ClerkOutput::CancelTimer => self.timers.cancel(node, ADMIN),
                ClerkOutput::Done(config) => {
                    if let Some(w) = a.waiter.take() {
                        w.send(config);
                    }
                }
            }
        }
    }

    // ----- Events ---------------------------------------------------------------------------

    fn on_request(
        &mut self,
        k: &mut Kernel,
        server: Token,
        call: CallId,
        caller: Caller,
        request: ShardRpc,
    ) {
        match server {
            Token::Ctrl { svc, node, inc } => {
                if !self.ctrl_alive(svc, node, inc) {
                    return;
                }
                let base = self.ctrl_log_base(svc);
                let Some(s) = self.ctrls[svc].servers[node].as_mut() else {
                    return;
                };
                match (request, caller) {
                    (ShardRpc::CtrlRaft(r), Caller::CtrlRaft { node: from, .. }) => {
                        let outputs = as_node_base(base, || s.raft_request(from, r));
                        self.execute_ctrl(k, svc, node, outputs, Some(call));
                    }
                    (ShardRpc::Ctrl(r), _) => {
                        let outputs = as_node_base(base, || s.client_request(call, r));
                        self.execute_ctrl(k, svc, node, outputs, None);
                    }
                    _ => {}
                }
            }
            Token::Group { gi, node, inc } => {
                if !self.group_alive(gi, node, inc) {
                    return;
                }
                let base = self.group_log_base(gi);
                let Some(s) = self.groups[gi].servers[node].as_mut() else {
                    return;
                };
                let (outputs, raft_call) = as_node_base(base, || match (request, caller) {
                    (ShardRpc::GroupRaft(r), Caller::GroupRaft { node: from, .. }) => {
                        Some((s.raft_request(from, r), Some(call)))
                    }
                    (ShardRpc::Kv(r), _) => Some((s.client_request(call, r), None)),
                    (ShardRpc::Group(r), _) => Some((s.group_request(call, r), None)),
                    _ => None,
                })
                .unwrap_or_default();
                self.execute_group(k, gi, node, outputs, raft_call);
            }
        }
    }

    fn on_outcome(&mut self, k: &mut Kernel, caller: Caller, reply: Option<ShardRpc>) {
        match caller {
            Caller::CtrlRaft {
                svc,
                node,
                inc,
                peer,
            } => {
                let base = self.ctrl_log_base(svc);
                if let Some(ShardRpc::CtrlRaftReply(r)) = reply
                    && self.ctrl_alive(svc, node, inc)
                    && let Some(s) = self.ctrls[svc].servers[node].as_mut()
                {
                    let outputs = as_node_base(base, || s.raft_reply(peer, r));
                    self.execute_ctrl(k, svc, node, outputs, None);
                }
            }
            Caller::GroupRaft {
                gi,
                node,
                inc,
                peer,
            } => {
                let base = self.group_log_base(gi);
                if let Some(ShardRpc::GroupRaftReply(r)) = reply
                    && self.group_alive(gi, node, inc)
                    && let Some(s) = self.groups[gi].servers[node].as_mut()
                {
                    let outputs = as_node_base(base, || s.raft_reply(peer, r));
                    self.execute_group(k, gi, node, outputs, None);
                }
            }
            Caller::GroupCtrler {
                gi,
                node,
                inc,
                attempt,
            } => {
                let base = self.group_log_base(gi);
                if self.group_alive(gi, node, inc)
                    && let Some(s) = self.groups[gi].servers[node].as_mut()
                {
                    let r = match reply {
                        Some(ShardRpc::CtrlReply(r)) => Some(r),
                        _ => None,
                    };
                    let outputs = as_node_base(base, || s.ctrler_reply(attempt, r));
                    self.execute_group(k, gi, node, outputs, None);
                }
            }
            Caller::GroupGroup { gi, node, inc, tag } => {
                let base = self.group_log_base(gi);
                if self.group_alive(gi, node, inc)
                    && let Some(s) = self.groups[gi].servers[node].as_mut()
                {
                    let r = match reply {
                        Some(ShardRpc::GroupReply(r)) => Some(r),
                        _ => None,
                    };
                    let outputs = as_node_base(base, || s.group_reply(tag, r));
                    self.execute_group(k, gi, node, outputs, None);
                }
            }
            Caller::Clerk { slot, attempt } => {
                if let Some(c) = self.clerks.get_mut(slot).and_then(Option::as_mut) {
                    let r = match reply {
                        Some(ShardRpc::KvReply(r)) => Some(r),
                        _ => None,
                    };
                    let outputs = c.clerk.on_group_reply(attempt, r);
                    self.execute_clerk(k, slot, outputs);
                }
            }
            Caller::ClerkCtrler { slot, attempt } => {
                if let Some(c) = self.clerks.get_mut(slot).and_then(Option::as_mut) {
                    let r = match reply {
                        Some(ShardRpc::CtrlReply(r)) => Some(r),
                        _ => None,
                    };
                    let outputs = c.clerk.on_ctrler_reply(attempt, r);
                    self.execute_clerk(k, slot, outputs);
                }
            }
            Caller::Admin { slot, attempt } => {
                if let Some(a) = self.admins.get_mut(slot).and_then(Option::as_mut) {
                    let outputs = match reply {
                        Some(ShardRpc::CtrlReply(r)) => a.clerk.on_reply(attempt, r),
                        _ => a.clerk.on_failure(attempt),
                    };
                    self.execute_admin(k, slot, outputs);
                }
            }
        }
    }

    fn on_timer(&mut self, k: &mut Kernel, key: TimerKey) {
        if !self.timers.fire(&key) {
            return;
        }
        let n = key.node;
        if n >= ADMIN_BASE {
            let slot = n - ADMIN_BASE;
            if let Some(a) = self.admins.get_mut(slot).and_then(Option::as_mut) {
                let outputs = a.clerk.on_timer();
                self.execute_admin(k, slot, outputs);
            }
        } else if n >= CLERK_BASE {
            let slot = n - CLERK_BASE;
            let timer = if key.timer == CLERK_OWN {
                ShardClerkTimer::Own
            } else {
                ShardClerkTimer::Ctrler
            };
            if let Some(c) = self.clerks.get_mut(slot).and_then(Option::as_mut) {
                let outputs = c.clerk.on_timer(timer);
                self.execute_clerk(k, slot, outputs);
            }
        } else if n >= GROUP_BASE {
            let (gi, i) = ((n - GROUP_BASE) / SLOTS, (n - GROUP_BASE) % SLOTS);
            if !self.group_alive(gi, i, key.incarnation) {
                return;
            }
            let base = self.group_log_base(gi);
            let Some(s) = self.groups[gi].servers[i].as_mut() else {
                return;
            };
            let outputs = as_node_base(base, || match (raft_timer(key.timer), key.timer) {
                (Some(t), _) => s.raft_timer(t),
                (None, GROUP_TICK) => s.timer(GroupTimer::Tick),
                (None, _) => s.timer(GroupTimer::Ctrler),
            });
            self.execute_group(k, gi, i, outputs, None);
        } else {
            let (svc, i) = (n / SLOTS, n % SLOTS);
            if !self.ctrl_alive(svc, i, key.incarnation) {
                return;
            }
            let base = self.ctrl_log_base(svc);
            let (Some(t), Some(s)) = (raft_timer(key.timer), self.ctrls[svc].servers[i].as_mut())
            else {
                return;
            };
            let outputs = as_node_base(base, || s.raft_timer(t));
            self.execute_ctrl(k, svc, i, outputs, None);
        }
    }
}

impl World for ShardWorld {
    fn on_event(&mut self, k: &mut Kernel, event: Event) {
        match event {
            Event::Net(e) => match self.net.on_event(k, e) {
                Some(NetAction::Request {
                    server,
                    call,
                    caller,
                    request,
                }) => self.on_request(k, server, call, caller, request),
                Some(NetAction::Reply { caller, reply, .. }) => {
                    self.on_outcome(k, caller, Some(reply));
                }
                Some(NetAction::Failed { caller, .. }) => self.on_outcome(k, caller, None),
                None => {}
            },
            Event::Timer(key) => self.on_timer(k, key),
            Event::Wake(w) => w.wake(),
        }
    }
}
