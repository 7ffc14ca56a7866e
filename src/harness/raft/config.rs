//! The Raft lab's test configuration (raft/config.go): the calls test code makes.
//!
//! A [`Config`] is a cheap handle; clone it into spawned tasks. It implements
//! [`RaftLab`], the calls every driver's test bodies make (methods that wait in the
//! lab, such as `one`, `wait` and `check_one_leader`, advance virtual time only); what
//! only the simulator can do (exact byte counts, the persisted log's size, the
//! unreliable network and long reordering, the trace) are its own methods.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use super::lab::{RaftLab, Summary};
use super::world::{Applier, Cmd, RaftWorld, Stats};
use crate::raft::{Bug, Index, NodeId, Raft, RaftCore, Term, Timing};
use crate::sim::{JoinHandle, Kernel, Sim, TraceEvent, TraceRecord};

/// The lab's per-test limit (checked at `end` and `cleanup`, in virtual time).
pub const TEST_LIMIT: Duration = Duration::from_secs(120);

/// How a configuration is built, beyond the lab's (n, unreliable, snapshot).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The peers' timer ranges.
    pub timing: Timing,
    /// A deliberate bug every peer carries.
    pub bug: Option<Bug>,
    /// The base latency of every delivery on the network.
    pub base_latency: Duration,
    /// Record the full event trace from the start (take it with
    /// [`Config::take_trace`]).
    pub trace: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timing: Timing::default(),
            bug: None,
            base_latency: crate::sim::DEFAULT_BASE_LATENCY,
            trace: false,
        }
    }
}

#[derive(Default)]
struct Begin {
    t0: Duration,
    rpcs0: u64,
    bytes0: u64,
    max_index0: Index,
}

/// The test configuration of the Raft lab, its peers running the Raft core `R`
/// (raftlab's own unless named).
pub struct Config<R = Raft<Cmd>> {
    sim: Sim<RaftWorld<R>>,
    /// The number of peers.
    pub n: usize,
    begin: Rc<RefCell<Begin>>,
}

impl<R> Clone for Config<R> {
    fn clone(&self) -> Self {
        Config {
            sim: self.sim.clone(),
            n: self.n,
            begin: self.begin.clone(),
        }
    }
}

impl Config {
    /// The lab's `make_config(n, unreliable, snapshot)` with raftlab's Raft: see
    /// [`Config::make`].
    pub fn new(seed: u64, n: usize, unreliable: bool, snapshot: bool, options: Options) -> Self {
        Config::make(seed, n, unreliable, snapshot, options)
    }
}

impl<R: RaftCore<Cmd>> Config<R> {
    /// The lab's `make_config(n, unreliable, snapshot)`, every peer running the core
    /// `R`, with every random choice drawn from `seed`: all peers started and
    /// connected, long delays on.
    pub fn make(seed: u64, n: usize, unreliable: bool, snapshot: bool, options: Options) -> Self {
        let applier = if snapshot {
            Applier::Snapshot
        } else {
            Applier::Plain
        };
        let mut world = RaftWorld::new(n, applier, options.timing, options.bug);
        world.net.set_reliable(!unreliable);
        world.net.set_long_delays(true);
        world.net.set_base_latency(options.base_latency);
        let cfg = Config {
            sim: Sim::new(seed, world),
            n,
            begin: Rc::new(RefCell::new(Begin::default())),
        };
        cfg.with(|k, w| {
            if options.trace {
                k.start_tracing();
            }
            for i in 0..n {
                w.start1(k, i);
            }
            for i in 0..n {
                w.connect(k, i);
            }
        });
        cfg
    }

    /// Runs the test body in the simulation until it returns, then cleans up. Returns
    /// the simulation's trace hash.
    pub fn run<F, Fut>(&self, body: F) -> u64
    where
        F: FnOnce(Config<R>) -> Fut,
        Fut: Future<Output = ()> + 'static,
    {
        self.sim.run(body(self.clone()));
        self.cleanup();
        self.sim.trace_hash()
    }

    /// Runs the simulation for `d` of virtual time, leaving every task running.
    pub fn advance(&self, d: Duration) {
        self.sim.advance(d);
    }

    /// Runs `main` to its end, stops every other task and cleans up (kills every peer).
    pub fn run_to_end<T: 'static>(&self, main: impl Future<Output = T> + 'static) -> T {
        let out = self.sim.run(main);
        self.with(|k, w| {
            for i in 0..w.n {
                w.crash1(k, i);
            }
        });
        out
    }

    fn with<T>(&self, f: impl FnOnce(&mut Kernel, &mut RaftWorld<R>) -> T) -> T {
        self.sim.with(f)
    }

    // ----- Lifecycle and network ---------------------------------------------------------

    /// `net.LongReordering(yes)`.
    pub fn set_long_reordering(&self, yes: bool) {
        self.with(|k, w| {
            let before = network(w);
            w.net.set_long_reordering(yes);
            trace_network(k, w, before);
        });
    }

    /// The events traced since the last call (none unless [`Options::trace`] was set).
    pub fn take_trace(&self) -> Vec<TraceRecord> {
        self.with(|k, _| k.take_trace())
    }

    /// The deliberate bug in each running peer's configuration, read from the peers
    /// themselves (see [`crate::harness::bugs::confirm`]).
    pub fn bugs(&self) -> Vec<Option<Bug>> {
        self.with(|_, w| w.rafts.iter().flatten().map(|r| r.config().bug).collect())
    }

    // ----- Counting ---------------------------------------------------------------------

    /// What the world has counted so far.
    pub fn stats(&self) -> Stats {
        self.with(|_, w| w.stats.clone())
    }

    fn check_timeout(&self) {
        if self.now() > TEST_LIMIT {
            panic!("test took longer than 120 seconds");
        }
    }

    /// `cleanup()`: kills every peer and checks the time limit.
    pub fn cleanup(&self) {
        self.with(|k, w| {
            for i in 0..w.n {
                w.crash1(k, i);
            }
        });
        self.check_timeout();
    }
}

impl<R: RaftCore<Cmd>> RaftLab for Config<R> {
    type Task<T: 'static> = JoinHandle<T>;

    fn n(&self) -> usize {
        self.n
    }

    async fn sleep(&self, d: Duration) {
        self.sim.sleep(d).await;
    }

    fn now(&self) -> Duration {
        self.sim.now()
    }

    fn rand(&self) -> i64 {
        self.sim.rng(|r| r.int63())
    }

    fn rand_below(&self, n: u64) -> u64 {
        self.sim.rng(|r| r.below(n))
    }

    fn rand_string(&self, len: usize) -> String {
        self.sim.rng(|r| r.string(len))
    }

    fn spawn<T: 'static>(&self, fut: impl Future<Output = T> + 'static) -> JoinHandle<T> {
        self.sim.spawn(fut)
    }

    fn crash1(&self, i: NodeId) {
        self.with(|k, w| w.crash1(k, i));
    }

    fn start1(&self, i: NodeId) {
        self.with(|k, w| w.start1(k, i));
    }

    fn connect(&self, i: NodeId) {
        self.with(|k, w| w.connect(k, i));
    }

    fn disconnect(&self, i: NodeId) {
        self.with(|k, w| w.disconnect(k, i));
    }

    fn is_connected(&self, i: NodeId) -> bool {
        self.with(|_, w| w.connected[i])
    }

    async fn start(&self, i: NodeId, cmd: impl Into<Cmd>) -> Option<(Index, Term)> {
        let cmd = cmd.into();
        self.with(|k, w| w.start(k, i, cmd))
    }

    async fn states(&self) -> Vec<Option<(Term, bool)>> {
        self.with(|_, w| {
            w.rafts
                .iter()
                .map(|r| r.as_ref().map(|r| r.state()))
                .collect()
        })
    }

    async fn get_state(&self, i: NodeId) -> Option<(Term, bool)> {
        self.with(|_, w| w.rafts[i].as_ref().map(|r| r.state()))
    }

    fn n_committed(&self, index: Index) -> (usize, Option<Cmd>) {
        self.with(|_, w| {
            let mut count = 0;
            let mut cmd: Option<Option<Cmd>> = None;
            for log in &w.logs {
                if let Some(v) = log.get(&index) {
                    if let Some(c) = &cmd
                        && c != v
                    {
                        panic!(
                            "committed values do not match: index {index}, {}, {}",
                            show(c),
                            show(v)
                        );
                    }
                    count += 1;
                    cmd = Some(v.clone());
                }
            }
            (count, cmd.flatten())
        })
    }

    fn is_alive(&self, i: NodeId) -> bool {
        self.with(|_, w| w.rafts[i].is_some())
    }

    fn set_unreliable(&self, unreliable: bool) {
        self.with(|k, w| {
            let before = network(w);
            w.net.set_reliable(!unreliable);
            trace_network(k, w, before);
        });
    }

    fn bytes_total(&self) -> u64 {
        self.with(|_, w| w.net.total_bytes())
    }

    fn log_size(&self) -> usize {
        self.with(|_, w| {
            w.saved
                .iter()
                .map(|p| p.raft_state_size())
                .max()
                .unwrap_or(0)
        })
    }

    fn rpc_count(&self, i: NodeId) -> u64 {
        self.with(|_, w| w.net.count(&RaftWorld::<R>::server_name(i)))
    }

    fn rpc_total(&self) -> u64 {
        self.with(|_, w| w.net.total_count())
    }

    fn begin(&self, description: &str) {
        println!("{description} ...");
        let (rpcs0, bytes0, max_index0) =
            self.with(|_, w| (w.net.total_count(), w.net.total_bytes(), w.stats.max_index));
        *self.begin.borrow_mut() = Begin {
            t0: self.now(),
            rpcs0,
            bytes0,
            max_index0,
        };
    }

    fn end(&self) -> Summary {
        self.check_timeout();
        let b = self.begin.borrow();
        let summary = self.with(|k, w| Summary {
            seconds: (k.now() - b.t0).as_secs_f64(),
            peers: w.n,
            rpcs: w.net.total_count() - b.rpcs0,
            bytes: w.net.total_bytes() - b.bytes0,
            commands: w.stats.max_index - b.max_index0,
        });
        println!("{}", summary.passed_line());
        summary
    }
}

/// The network's settings: (reliable, long reordering).
fn network<R>(w: &RaftWorld<R>) -> (bool, bool) {
    (w.net.reliable(), w.net.long_reordering())
}

/// Traces the network's settings if they changed.
fn trace_network<R>(k: &mut Kernel, w: &RaftWorld<R>, before: (bool, bool)) {
    let (reliable, long_reordering) = network(w);
    if (reliable, long_reordering) != before {
        k.trace(None, || TraceEvent::Network {
            reliable,
            long_reordering,
        });
    }
}

fn show(v: &Option<Cmd>) -> String {
    v.as_ref()
        .map_or_else(|| "<nil>".to_string(), Cmd::to_string)
}
