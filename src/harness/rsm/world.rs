//! The test configuration of a replicated service (kvraft/config.go, and
//! shardctrler/config.go, which is the same): `n` servers of a [`StateMachine`] on
//! Raft, each registered under its index with the service's and the "Raft" services,
//! clerks with shuffled ends to every server, partitions, and shutdown/restart from
//! persisters.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use super::clerks::{CLERK_TIMER, Ck, ClerkParts, ClerkWorld, Clerks, RsmNet};
use super::rpc::{Caller, RsmRpc, ServerToken};
use crate::harness::drive::{RaftHost, raft_timer};
use crate::harness::safety::LeaderLog;
use crate::raft::{self, Bug, Raft, RaftCore, Storage};
use crate::rsm::clerk::ClerkTiming;
use crate::rsm::server::{Outputs, Server, ServerConfig, ServerOutput, ServiceBug};
use crate::rsm::{Request, StateMachine};
use crate::sim::{CallId, Event, JoinHandle, Kernel, Net, NetAction, Sim, Timers, World};

/// The lab's per-test limit, in virtual time.
pub const TEST_LIMIT: Duration = Duration::from_secs(120);

/// The world of a replicated service, its servers on the Raft core `R` (raftlab's own
/// unless named).
pub struct RsmWorld<S: StateMachine, R = Raft<Request<<S as StateMachine>::Op>>> {
    n: usize,
    net: RsmNet<S::Op, S::Output>,
    servers: Vec<Option<Server<S, R>>>,
    incarnation: Vec<u64>,
    timers: Timers,
    saved: Vec<Storage<Request<S::Op>>>,
    endnames: Vec<Vec<String>>,
    clerks: Clerks<S::Op, S::Output>,
    /// Each clerk's ends, by server index (the clerk itself sees them shuffled).
    clerk_ends: BTreeMap<usize, Vec<String>>,
    max_raft_state: Option<usize>,
    raft_bug: Option<Bug>,
    service_bug: Option<ServiceBug>,
    leaders: LeaderLog,
}

impl<S: StateMachine + 'static, R: RaftCore<Request<S::Op>>> ClerkWorld for RsmWorld<S, R> {
    type Op = S::Op;
    type Output = S::Output;

    fn clerk_parts(&mut self) -> ClerkParts<'_, Self::Op, Self::Output> {
        (&mut self.net, &mut self.clerks)
    }
}

impl<S: StateMachine, R: RaftCore<Request<S::Op>>> RsmWorld<S, R> {
    fn server_name(i: usize) -> String {
        i.to_string()
    }

    fn alive(&self, node: usize, incarnation: u64) -> bool {
        self.servers[node].is_some() && self.incarnation[node] == incarnation
    }

    /// Carries out server `i`'s outputs; `raft_call` is the Raft RPC being answered.
    fn execute(
        &mut self,
        k: &mut Kernel,
        i: usize,
        outputs: Outputs<S>,
        raft_call: Option<CallId>,
    ) {
        for o in outputs {
            match o {
                ServerOutput::Raft(o) => {
                    let incarnation = self.incarnation[i];
                    let mut host = RaftHost {
                        timer_node: i,
                        incarnation,
                        ends: &self.endnames[i],
                        storage: &mut self.saved[i],
                        call: raft_call,
                        request: RsmRpc::Raft,
                        reply: RsmRpc::RaftReply,
                        caller: |peer| Caller::Server {
                            node: i,
                            incarnation,
                            peer,
                        },
                        _message: std::marker::PhantomData,
                    };
                    host.carry_out(k, &mut self.net, &mut self.timers, o);
                }
                ServerOutput::ClientReply { call, reply } => {
                    self.net.respond(k, call, RsmRpc::ClerkReply(reply));
                }
            }
        }
        if let Some(s) = &self.servers[i] {
            let (term, leader) = s.raft().state();
            self.leaders.observe(i, term, leader);
        }
    }

    fn shutdown_server(&mut self, k: &mut Kernel, i: usize) {
        let all: Vec<usize> = (0..self.n).collect();
        self.disconnect(k, i, &all);
        self.net.delete_server(k, &Self::server_name(i));
        self.saved[i] = self.saved[i].copy();
        if self.servers[i].take().is_some() {
            self.incarnation[i] += 1;
            self.timers.cancel_all(i);
        }
    }

    fn start_server(&mut self, k: &mut Kernel, i: usize) {
        self.endnames[i] = (0..self.n)
            .map(|j| {
                let name = k.rng.string(20);
                if let Err(e) = self.net.make_end(&name) {
                    panic!("{e}");
                }
                self.net.connect(k, &name, &Self::server_name(j));
                name
            })
            .collect();
        self.saved[i] = self.saved[i].copy();
        let config = ServerConfig {
            raft: raft::Config::new(i, self.n).with_bug(self.raft_bug),
            max_raft_state: self.max_raft_state,
            bug: self.service_bug,
        };
        let state = self.saved[i].raft_state();
        let snapshot = self.saved[i].snapshot().to_vec();
        let (server, outputs) = match Server::<S, R>::restore(config, &state, &snapshot) {
            Ok(s) => s,
            Err(e) => panic!("server {i} cannot start: {e}"),
        };
        self.incarnation[i] += 1;
        self.servers[i] = Some(server);
        self.execute(k, i, outputs, None);
        let token = ServerToken {
            node: i,
            incarnation: self.incarnation[i],
        };
        self.net.add_server(k, &Self::server_name(i), token);
    }

    fn connect(&mut self, k: &mut Kernel, i: usize, to: &[usize]) {
        for &j in to {
            if let Some(e) = self.endnames[i].get(j) {
                self.net.enable(k, e, true);
            }
        }
        for &j in to {
            if let Some(e) = self.endnames[j].get(i) {
                self.net.enable(k, e, true);
            }
        }
    }

    fn disconnect(&mut self, k: &mut Kernel, i: usize, from: &[usize]) {
        for &j in from {
            if let Some(e) = self.endnames[i].get(j) {
                self.net.enable(k, e, false);
            }
        }
        for &j in from {
            if let Some(e) = self.endnames[j].get(i) {
                self.net.enable(k, e, false);
            }
        }
    }
}

impl<S: StateMachine, R: RaftCore<Request<S::Op>>> World for RsmWorld<S, R> {
    fn on_event(&mut self, k: &mut Kernel, event: Event) {
        match event {
            Event::Net(e) => match self.net.on_event(k, e) {
                Some(NetAction::Request {
                    server,
                    call,
                    caller,
                    request,
                }) => {
                    if !self.alive(server.node, server.incarnation) {
                        return;
                    }
                    let Some(s) = self.servers[server.node].as_mut() else {
                        return;
                    };
                    match (request, caller) {
                        (RsmRpc::Raft(r), Caller::Server { node: from, .. }) => {
                            let outputs = s.raft_request(from, r);
                            self.execute(k, server.node, outputs, Some(call));
                        }
                        (RsmRpc::Clerk(r), _) => {
                            let outputs = s.client_request(call, r);
                            self.execute(k, server.node, outputs, None);
                        }
                        _ => {}
                    }
                }
                Some(NetAction::Reply { caller, reply, .. }) => match (caller, reply) {
                    (
                        Caller::Server {
                            node,
                            incarnation,
                            peer,
                        },
                        RsmRpc::RaftReply(r),
                    ) => {
                        if self.alive(node, incarnation)
                            && let Some(s) = self.servers[node].as_mut()
                        {
                            let outputs = s.raft_reply(peer, r);
                            self.execute(k, node, outputs, None);
                        }
                    }
                    (Caller::Clerk { clerk, attempt }, RsmRpc::ClerkReply(r)) => {
                        self.clerks
                            .on_reply(k, &mut self.net, clerk, attempt, Some(r));
                    }
                    _ => {}
                },
                Some(NetAction::Failed {
                    caller: Caller::Clerk { clerk, attempt },
                    ..
                }) => self.clerks.on_reply(k, &mut self.net, clerk, attempt, None),
                Some(NetAction::Failed { .. }) | None => {}
            },
            Event::Timer(key) if key.timer == CLERK_TIMER => {
                self.clerks.on_timer(k, &mut self.net, key);
            }
            Event::Timer(key) => {
                if !self.alive(key.node, key.incarnation) || !self.timers.fire(&key) {
                    return;
                }
                let Some(timer) = raft_timer(key.timer) else {
                    return;
                };
                if let Some(s) = self.servers[key.node].as_mut() {
                    let outputs = s.raft_timer(timer);
                    self.execute(k, key.node, outputs, None);
                }
            }
            Event::Wake(w) => w.wake(),
        }
    }
}

/// A clerk handle of a replicated service.
pub type RsmClerk<S, R = Raft<Request<<S as StateMachine>::Op>>> = Ck<RsmWorld<S, R>>;

/// Options beyond the lab's (n, unreliable, maxraftstate).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RsmOptions {
    /// A deliberate Raft bug in every server.
    pub raft_bug: Option<Bug>,
    /// A deliberate service bug in every server.
    pub service_bug: Option<ServiceBug>,
}

/// The test configuration of a replicated service, its servers on the Raft core `R`
/// (raftlab's own unless named).
pub struct RsmConfig<S: StateMachine, R = Raft<Request<<S as StateMachine>::Op>>> {
    sim: Sim<RsmWorld<S, R>>,
    /// The number of servers.
    pub n: usize,
    /// The lab's `maxraftstate` (-1: never snapshot).
    pub maxraftstate: i64,
    ops: Rc<Cell<u64>>,
    begin: Rc<RefCell<(Duration, u64)>>,
}

impl<S: StateMachine, R> Clone for RsmConfig<S, R> {
    fn clone(&self) -> Self {
        RsmConfig {
            sim: self.sim.clone(),
            n: self.n,
            maxraftstate: self.maxraftstate,
            ops: self.ops.clone(),
            begin: self.begin.clone(),
        }
    }
}

impl<S: StateMachine + 'static> RsmConfig<S> {
    /// The lab's `make_config(n, unreliable, maxraftstate)` with raftlab's Raft: see
    /// [`RsmConfig::make`].
    pub fn new(
        seed: u64,
        n: usize,
        unreliable: bool,
        maxraftstate: i64,
        options: RsmOptions,
    ) -> Self {
        RsmConfig::make(seed, n, unreliable, maxraftstate, options)
    }
}

impl<S: StateMachine + 'static, R: RaftCore<Request<S::Op>>> RsmConfig<S, R> {
    /// The lab's `make_config(n, unreliable, maxraftstate)`, every server on the Raft
    /// core `R`: start every server, connect them all, then set the network's
    /// reliability.
    pub fn make(
        seed: u64,
        n: usize,
        unreliable: bool,
        maxraftstate: i64,
        options: RsmOptions,
    ) -> Self {
        let world = RsmWorld {
            n,
            net: Net::new(),
            servers: (0..n).map(|_| None).collect(),
            incarnation: vec![0; n],
            timers: Timers::default(),
            saved: vec![Storage::new(); n],
            endnames: vec![Vec::new(); n],
            clerks: Clerks::new(ClerkTiming::default()),
            clerk_ends: BTreeMap::new(),
            max_raft_state: usize::try_from(maxraftstate).ok(),
            raft_bug: options.raft_bug,
            service_bug: options.service_bug,
            leaders: LeaderLog::default(),
        };
        let cfg = RsmConfig {
            sim: Sim::new(seed, world),
            n,
            maxraftstate,
            ops: Rc::new(Cell::new(0)),
            begin: Rc::new(RefCell::new((Duration::ZERO, 0))),
        };
        cfg.sim.with(|k, w| {
            for i in 0..n {
                w.start_server(k, i);
            }
        });
        cfg.connect_all();
        cfg.sim.with(|_, w| w.net.set_reliable(!unreliable));
        cfg
    }

    /// Runs the test body, then cleans up and checks the time limit.
    pub fn run<F, Fut>(&self, body: F)
    where
        F: FnOnce(RsmConfig<S, R>) -> Fut,
        Fut: Future<Output = ()> + 'static,
    {
        self.sim.run(body(self.clone()));
        self.cleanup();
    }

    /// Runs `main` to its end and shuts every server down, without the lab's time
    /// limit: for runs whose length the caller chose (`raftlab sim kv`).
    pub fn run_to_end<T: 'static>(&self, main: impl Future<Output = T> + 'static) -> T {
        let out = self.sim.run(main);
        self.shutdown_all();
        out
    }

    /// Runs the simulation for `d`, leaving every task running.
    pub fn advance(&self, d: Duration) {
        self.sim.advance(d);
    }

    fn cleanup(&self) {
        self.shutdown_all();
        self.check_timeout();
    }

    fn shutdown_all(&self) {
        self.sim.with(|k, w| {
            for i in 0..w.n {
                w.shutdown_server(k, i);
            }
        });
    }

    /// The deliberate bugs of each running server, read from the servers themselves:
    /// its Raft configuration's, and its service's (see
    /// [`crate::harness::bugs::confirm`]).
    pub fn bugs(&self) -> (Vec<Option<Bug>>, Vec<Option<ServiceBug>>) {
        self.sim.with(|_, w| {
            w.servers
                .iter()
                .flatten()
                .map(|s| (s.raft().config().bug, s.bug()))
                .unzip()
        })
    }

    /// Makes the network reliable or not.
    pub fn set_unreliable(&self, unreliable: bool) {
        self.sim.with(|_, w| w.net.set_reliable(!unreliable));
    }

    /// `All()`: every server index.
    pub fn all(&self) -> Vec<usize> {
        (0..self.n).collect()
    }

    /// `ShutdownServer(i)`.
    pub fn shutdown_server(&self, i: usize) {
        self.sim.with(|k, w| w.shutdown_server(k, i));
    }

    /// `StartServer(i)` (call `shutdown_server` first to restart a running server).
    pub fn start_server(&self, i: usize) {
        self.sim.with(|k, w| w.start_server(k, i));
    }

    /// `connect(i, to)`.
    pub fn connect(&self, i: usize, to: &[usize]) {
        self.sim.with(|k, w| w.connect(k, i, to));
    }

    /// `disconnect(i, from)`.
    pub fn disconnect(&self, i: usize, from: &[usize]) {
        self.sim.with(|k, w| w.disconnect(k, i, from));
    }

    /// `ConnectAll()`.
    pub fn connect_all(&self) {
        let all = self.all();
        self.sim.with(|k, w| {
            for i in 0..w.n {
                w.connect(k, i, &all);
            }
        });
    }

    /// `partition(p1, p2)`: servers talk only within their side (clerk links stay).
    pub fn partition(&self, p1: &[usize], p2: &[usize]) {
        self.sim.with(|k, w| {
            for &i in p1 {
                w.disconnect(k, i, p2);
                w.connect(k, i, p1);
            }
            for &i in p2 {
                w.disconnect(k, i, p1);
                w.connect(k, i, p2);
            }
        });
    }

    /// `makeClient(to)`: a clerk with ends to every server (handed to it shuffled),
    /// enabled only for the servers in `to`.
    pub fn make_client(&self, to: &[usize]) -> RsmClerk<S, R> {
        let slot = self.sim.with(|k, w| {
            let ends: Vec<String> = (0..w.n)
                .map(|j| {
                    let name = k.rng.string(20);
                    if let Err(e) = w.net.make_end(&name) {
                        panic!("{e}");
                    }
                    w.net.connect(k, &name, &RsmWorld::<S, R>::server_name(j));
                    name
                })
                .collect();
            let mut shuffled = ends.clone();
            for i in (1..shuffled.len()).rev() {
                let j = k.rng.index(i + 1);
                shuffled.swap(i, j);
            }
            let client = k.rng.int63() as u64;
            let slot = w.clerks.add(client, shuffled);
            w.clerk_ends.insert(slot, ends);
            slot
        });
        self.set_client_links(slot, to, true);
        Ck::new(self.sim.clone(), slot)
    }

    /// `deleteClient(ck)`.
    pub fn delete_client(&self, ck: &RsmClerk<S, R>) {
        self.sim.with(|k, w| {
            w.clerks.remove(ck.slot());
            for e in w.clerk_ends.remove(&ck.slot()).unwrap_or_default() {
                w.net.delete_end(k, &e);
            }
        });
    }

    fn set_client_links(&self, slot: usize, servers: &[usize], enabled: bool) {
        self.sim.with(|k, w| {
            let ends = w.clerk_ends.get(&slot).cloned().unwrap_or_default();
            for &j in servers {
                if let Some(e) = ends.get(j) {
                    w.net.enable(k, e, enabled);
                }
            }
        });
    }

    /// `ConnectClient(ck, to)`.
    pub fn connect_client(&self, ck: &RsmClerk<S, R>, to: &[usize]) {
        self.set_client_links(ck.slot(), to, true);
    }

    /// `DisconnectClient(ck, from)`.
    pub fn disconnect_client(&self, ck: &RsmClerk<S, R>, from: &[usize]) {
        self.set_client_links(ck.slot(), from, false);
    }

    /// `Leader()`: the first server whose Raft claims leadership.
    pub fn leader(&self) -> Option<usize> {
        self.sim.with(|_, w| {
            (0..w.n).find(|&i| w.servers[i].as_ref().is_some_and(|s| s.raft().is_leader()))
        })
    }

    /// `make_partition()`: p1 holds n/2+1 servers that are not the leader; p2 the rest,
    /// with the leader last.
    pub fn make_partition(&self) -> (Vec<usize>, Vec<usize>) {
        let l = self.leader().unwrap_or(0);
        let others: Vec<usize> = (0..self.n).filter(|&i| i != l).collect();
        let p1: Vec<usize> = others[..self.n / 2 + 1].to_vec();
        let mut p2: Vec<usize> = others[self.n / 2 + 1..].to_vec();
        p2.push(l);
        (p1, p2)
    }

    /// `LogSize()`: the largest persisted Raft state.
    pub fn log_size(&self) -> usize {
        self.sim.with(|_, w| {
            w.saved
                .iter()
                .map(|p| p.raft_state_size())
                .max()
                .unwrap_or(0)
        })
    }

    /// `SnapshotSize()`: the largest persisted snapshot.
    pub fn snapshot_size(&self) -> usize {
        self.sim
            .with(|_, w| w.saved.iter().map(|p| p.snapshot_size()).max().unwrap_or(0))
    }

    /// Leaders elected so far.
    pub fn elections(&self) -> u64 {
        self.sim.with(|_, w| w.leaders.elections())
    }

    /// Sleeps in virtual time.
    pub async fn sleep(&self, d: Duration) {
        self.sim.sleep(d).await;
    }

    /// Starts a task.
    pub fn spawn<T: 'static>(&self, fut: impl Future<Output = T> + 'static) -> JoinHandle<T> {
        self.sim.spawn(fut)
    }

    /// The virtual time.
    pub fn now(&self) -> Duration {
        self.sim.now()
    }

    /// Draws from the seeded generator.
    pub fn rand_below(&self, n: u64) -> u64 {
        self.sim.rng(|r| r.below(n))
    }

    /// The seed of the run.
    pub fn seed(&self) -> u64 {
        self.sim.with(|k, _| k.seed())
    }

    /// `op()`: counts one clerk operation made through the test's wrappers.
    pub fn op(&self) {
        self.ops.set(self.ops.get() + 1);
    }

    /// Operations counted since `begin`.
    pub fn ops(&self) -> u64 {
        self.ops.get()
    }

    /// `rpcTotal()`.
    pub fn rpc_total(&self) -> u64 {
        self.sim.with(|_, w| w.net.total_count())
    }

    /// The network's total bytes.
    pub fn bytes_total(&self) -> u64 {
        self.sim.with(|_, w| w.net.total_bytes())
    }

    /// `begin(description)`.
    pub fn begin(&self, description: &str) {
        println!("{description} ...");
        *self.begin.borrow_mut() = (self.sim.now(), self.rpc_total());
        self.ops.set(0);
    }

    /// `end()`: prints `  ... Passed --  %4.1f  %d %5d %4d`.
    pub fn end(&self) {
        self.check_timeout();
        let (t0, rpcs0) = *self.begin.borrow();
        let t = (self.sim.now() - t0).as_secs_f64();
        let nrpc = self.rpc_total() - rpcs0;
        println!(
            "  ... Passed --  {t:4.1}  {} {nrpc:5} {:4}",
            self.n,
            self.ops.get()
        );
    }

    fn check_timeout(&self) {
        if self.sim.now() > TEST_LIMIT {
            panic!("test took longer than 120 seconds");
        }
    }
}
