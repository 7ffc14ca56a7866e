//! The Raft lab's test configuration (raft/config.go): the calls test code makes.
//!
//! A [`Config`] is a cheap handle; clone it into spawned tasks. Methods that wait in the
//! lab (`one`, `wait`, `check_one_leader`) are async and advance virtual time only.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use super::world::{Applier, Cmd, RaftWorld, Stats};
use crate::raft::{Bug, Index, NodeId, Term, Timing};
use crate::sim::{JoinHandle, Kernel, Sim, TraceEvent, TraceRecord};

/// The lab's `RaftElectionTimeout`.
pub const ELECTION_TIMEOUT: Duration = Duration::from_secs(1);

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

/// What `end()` reports: the figures of the lab's "Passed" line.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Virtual seconds since `begin`.
    pub seconds: f64,
    /// Number of peers.
    pub peers: usize,
    /// RPCs sent since `begin`.
    pub rpcs: u64,
    /// Bytes (requests plus delivered replies) since `begin`.
    pub bytes: u64,
    /// Commands agreed since `begin` (growth of the highest committed index).
    pub commands: Index,
}

impl Summary {
    /// The lab's line: `  ... Passed --   3.0  3  112   30226    0`.
    pub fn passed_line(&self) -> String {
        format!(
            "  ... Passed --  {:4.1}  {} {:4} {:7} {:4}",
            self.seconds, self.peers, self.rpcs, self.bytes, self.commands
        )
    }
}

#[derive(Default)]
struct Begin {
    t0: Duration,
    rpcs0: u64,
    bytes0: u64,
    max_index0: Index,
}

/// The test configuration of the Raft lab.
#[derive(Clone)]
pub struct Config {
    sim: Sim<RaftWorld>,
    /// The number of peers.
    pub n: usize,
    begin: Rc<RefCell<Begin>>,
}

/// Result of [`Config::wait`] when some peer moved past the start term (the lab's -1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TermMoved;

impl Config {
    /// The lab's `make_config(n, unreliable, snapshot)`, with every random choice drawn
    /// from `seed`: all peers started and connected, long delays on.
    pub fn new(seed: u64, n: usize, unreliable: bool, snapshot: bool, options: Options) -> Self {
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
        F: FnOnce(Config) -> Fut,
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

    fn with<R>(&self, f: impl FnOnce(&mut Kernel, &mut RaftWorld) -> R) -> R {
        self.sim.with(f)
    }

    // ----- Time, randomness, tasks ------------------------------------------------------

    /// Sleeps in virtual time.
    pub async fn sleep(&self, d: Duration) {
        self.sim.sleep(d).await;
    }

    /// Sleeps `ms` milliseconds of virtual time.
    pub async fn sleep_ms(&self, ms: u64) {
        self.sim.sleep_ms(ms).await;
    }

    /// The virtual time.
    pub fn now(&self) -> Duration {
        self.sim.now()
    }

    /// Go's `rand.Int()`, from the simulation's seeded generator.
    pub fn rand(&self) -> i64 {
        self.sim.rng(|r| r.int63())
    }

    /// A uniform value in `0..n`.
    pub fn rand_below(&self, n: u64) -> u64 {
        self.sim.rng(|r| r.below(n))
    }

    /// A string of `len` random characters (the lab's `randstring`).
    pub fn rand_string(&self, len: usize) -> String {
        self.sim.rng(|r| r.string(len))
    }

    /// Starts a task (`go func() { ... }()`).
    pub fn spawn<T: 'static>(&self, fut: impl Future<Output = T> + 'static) -> JoinHandle<T> {
        self.sim.spawn(fut)
    }

    // ----- Lifecycle and network ---------------------------------------------------------

    /// `crash1(i)`.
    pub fn crash1(&self, i: NodeId) {
        self.with(|k, w| w.crash1(k, i));
    }

    /// `start1(i, applier)` (the applier is the one the configuration was made with).
    pub fn start1(&self, i: NodeId) {
        self.with(|k, w| w.start1(k, i));
    }

    /// `connect(i)`.
    pub fn connect(&self, i: NodeId) {
        self.with(|k, w| w.connect(k, i));
    }

    /// `disconnect(i)`.
    pub fn disconnect(&self, i: NodeId) {
        self.with(|k, w| w.disconnect(k, i));
    }

    /// Whether peer `i` is connected.
    pub fn is_connected(&self, i: NodeId) -> bool {
        self.with(|_, w| w.connected[i])
    }

    /// Whether peer `i` is running (not crashed).
    pub fn is_alive(&self, i: NodeId) -> bool {
        self.with(|_, w| w.rafts[i].is_some())
    }

    /// `setunreliable(unrel)`.
    pub fn set_unreliable(&self, unreliable: bool) {
        self.with(|k, w| {
            let before = network(w);
            w.net.set_reliable(!unreliable);
            trace_network(k, w, before);
        });
    }

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

    /// `rafts[i].Start(cmd)`: `Some((index, term))` if peer `i` is alive and accepts.
    pub fn start(&self, i: NodeId, cmd: impl Into<Cmd>) -> Option<(Index, Term)> {
        let cmd = cmd.into();
        self.with(|k, w| w.start(k, i, cmd))
    }

    /// The deliberate bug in each running peer's configuration, read from the peers
    /// themselves (see [`crate::harness::bugs::confirm`]).
    pub fn bugs(&self) -> Vec<Option<Bug>> {
        self.with(|_, w| w.rafts.iter().flatten().map(|r| r.config().bug).collect())
    }

    /// `rafts[i].GetState()`, or `None` if peer `i` is crashed.
    pub fn get_state(&self, i: NodeId) -> Option<(Term, bool)> {
        self.with(|_, w| w.rafts[i].as_ref().map(|r| r.state()))
    }

    // ----- Counting ---------------------------------------------------------------------

    /// `rpcCount(i)`: requests delivered to peer `i`'s current instance.
    pub fn rpc_count(&self, i: NodeId) -> u64 {
        self.with(|_, w| w.net.count(&RaftWorld::server_name(i)))
    }

    /// `rpcTotal()`.
    pub fn rpc_total(&self) -> u64 {
        self.with(|_, w| w.net.total_count())
    }

    /// `bytesTotal()`.
    pub fn bytes_total(&self) -> u64 {
        self.with(|_, w| w.net.total_bytes())
    }

    /// `LogSize()`: the largest persisted Raft state.
    pub fn log_size(&self) -> usize {
        self.with(|_, w| {
            w.saved
                .iter()
                .map(|p| p.raft_state_size())
                .max()
                .unwrap_or(0)
        })
    }

    /// What the world has counted so far.
    pub fn stats(&self) -> Stats {
        self.with(|_, w| w.stats.clone())
    }

    // ----- Checks -------------------------------------------------------------------------

    /// `checkOneLeader()`: waits for exactly one leader among the connected peers (of
    /// the highest term that has one) and returns it.
    pub async fn check_one_leader(&self) -> NodeId {
        for _ in 0..10 {
            let ms = 450 + self.rand_below(100);
            self.sleep_ms(ms).await;
            let leaders = self.with(|_, w| {
                let mut by_term = std::collections::BTreeMap::<Term, Vec<NodeId>>::new();
                for i in 0..w.n {
                    if w.connected[i]
                        && let Some(rf) = &w.rafts[i]
                        && rf.is_leader()
                    {
                        by_term.entry(rf.term()).or_default().push(i);
                    }
                }
                by_term
            });
            for (term, ls) in &leaders {
                if ls.len() > 1 {
                    panic!("term {term} has {} (>1) leaders", ls.len());
                }
            }
            if let Some((_, ls)) = leaders.iter().next_back() {
                return ls[0];
            }
        }
        panic!("expected one leader, got none");
    }

    /// `checkTerms()`: every connected peer reports the same term, which is returned.
    pub fn check_terms(&self) -> Option<Term> {
        self.with(|_, w| {
            let mut term = None;
            for i in 0..w.n {
                if w.connected[i]
                    && let Some(rf) = &w.rafts[i]
                {
                    match term {
                        None => term = Some(rf.term()),
                        Some(t) if t != rf.term() => panic!("servers disagree on term"),
                        Some(_) => {}
                    }
                }
            }
            term
        })
    }

    /// `checkNoLeader()`: no connected peer thinks it is leader.
    pub fn check_no_leader(&self) {
        self.with(|_, w| {
            for i in 0..w.n {
                if w.connected[i]
                    && let Some(rf) = &w.rafts[i]
                    && rf.is_leader()
                {
                    panic!(
                        "expected no leader among connected servers, but {i} claims to be leader"
                    );
                }
            }
        });
    }

    /// `nCommitted(index)`: how many peers applied `index`, and the value they agree on.
    pub fn n_committed(&self, index: Index) -> (usize, Option<Cmd>) {
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

    /// `wait(index, n, startTerm)`: waits (with backoff) for `n` peers to apply `index`
    /// and returns the value; `Err(TermMoved)` if some peer's term passed `start_term`.
    pub async fn wait(
        &self,
        index: Index,
        n: usize,
        start_term: Option<Term>,
    ) -> Result<Option<Cmd>, TermMoved> {
        let mut to = Duration::from_millis(10);
        for _ in 0..30 {
            let (nd, _) = self.n_committed(index);
            if nd >= n {
                break;
            }
            self.sleep(to).await;
            if to < Duration::from_secs(1) {
                to *= 2;
            }
            if let Some(start) = start_term {
                let moved = self.with(|_, w| w.rafts.iter().flatten().any(|r| r.term() > start));
                if moved {
                    return Err(TermMoved);
                }
            }
        }
        let (nd, cmd) = self.n_committed(index);
        if nd < n {
            panic!("only {nd} decided for index {index}; wanted {n}");
        }
        Ok(cmd)
    }

    /// `one(cmd, expectedServers, retry)`: submits `cmd` to whichever peer accepts it
    /// and waits for `expected` peers to commit it; returns its index.
    pub async fn one(&self, cmd: impl Into<Cmd>, expected: usize, retry: bool) -> Index {
        let cmd = cmd.into();
        let t0 = self.now();
        let mut starts = 0;
        while self.now() - t0 < Duration::from_secs(10) {
            let mut index = None;
            for _ in 0..self.n {
                starts = (starts + 1) % self.n;
                if self.is_connected(starts)
                    && let Some((i, _)) = self.start(starts, cmd.clone())
                {
                    index = Some(i);
                    break;
                }
            }
            match index {
                Some(index) => {
                    let t1 = self.now();
                    while self.now() - t1 < Duration::from_secs(2) {
                        let (nd, cmd1) = self.n_committed(index);
                        if nd > 0 && nd >= expected && cmd1.as_ref() == Some(&cmd) {
                            return index;
                        }
                        self.sleep_ms(20).await;
                    }
                    if !retry {
                        panic!("one({cmd}) failed to reach agreement");
                    }
                }
                None => self.sleep_ms(50).await,
            }
        }
        panic!("one({cmd}) failed to reach agreement");
    }

    // ----- begin / end ----------------------------------------------------------------------

    /// `begin(description)`: prints "description ..." and starts the statistics.
    pub fn begin(&self, description: &str) {
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

    /// `end()`: checks the time limit and prints the lab's "Passed" line.
    pub fn end(&self) -> Summary {
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

/// The network's settings: (reliable, long reordering).
fn network(w: &RaftWorld) -> (bool, bool) {
    (w.net.reliable(), w.net.long_reordering())
}

/// Traces the network's settings if they changed.
fn trace_network(k: &mut Kernel, w: &RaftWorld, before: (bool, bool)) {
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
