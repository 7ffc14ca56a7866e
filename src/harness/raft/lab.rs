//! What a Raft lab test body needs of its world: the calls of the lab's raft/config.go,
//! as a trait with two implementations, the simulator's [`super::Config`] (virtual
//! time, the labrpc network) and the real runtime's `harness::real::RealRaft` (real
//! `raftlab serve` processes, peer traffic through fault proxies, real sleeps).
//!
//! A driver gives the primitives: time, randomness, tasks, `crash1`/`start1`,
//! `connect`/`disconnect`, `rf.Start`/`rf.GetState` on one peer, and what each peer's
//! applier has seen (`n_committed`). The lab's checks that are built from them
//! (`checkOneLeader`, `checkTerms`, `checkNoLeader`, `wait`, `one`) are provided
//! methods here, written once, so a test body written against [`RaftLab`] runs the same
//! checks on every driver.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use super::world::Cmd;
use crate::raft::{Index, NodeId, Term};

/// The lab's `RaftElectionTimeout`.
pub const ELECTION_TIMEOUT: Duration = Duration::from_secs(1);

/// Result of [`RaftLab::wait`] when some peer moved past the start term (the lab's -1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TermMoved;

/// What `end()` reports: the figures of the lab's "Passed" line.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Seconds since `begin` (virtual on the simulator, real on the runtime).
    pub seconds: f64,
    /// Number of peers.
    pub peers: usize,
    /// RPCs sent since `begin` (on the runtime: peer frames forwarded by the proxies).
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

/// The Raft lab's world, as test bodies see it.
pub trait RaftLab: Clone + 'static {
    /// A spawned task; awaiting it gives the task's result.
    type Task<T: 'static>: Future<Output = T>;

    /// The number of peers.
    fn n(&self) -> usize;

    // ----- Time, randomness, tasks ------------------------------------------------------

    /// Sleeps for `d` (virtual or real time, as the driver keeps it).
    fn sleep(&self, d: Duration) -> impl Future<Output = ()>;

    /// Sleeps `ms` milliseconds.
    fn sleep_ms(&self, ms: u64) -> impl Future<Output = ()> {
        self.sleep(Duration::from_millis(ms))
    }

    /// The time since the configuration was made.
    fn now(&self) -> Duration;

    /// Go's `rand.Int()`, from the test's seeded generator.
    fn rand(&self) -> i64;

    /// A uniform value in `0..n`, from the test's seeded generator.
    fn rand_below(&self, n: u64) -> u64;

    /// A string of `len` random characters (the lab's `randstring`).
    fn rand_string(&self, len: usize) -> String;

    /// Starts a task (`go func() { ... }()`).
    fn spawn<T: 'static>(&self, fut: impl Future<Output = T> + 'static) -> Self::Task<T>;

    // ----- Lifecycle and network ---------------------------------------------------------

    /// `crash1(i)`: peer `i` stops at once; only what it persisted survives.
    fn crash1(&self, i: NodeId);

    /// `start1(i, applier)`: (crash and) start peer `i` from what it persisted,
    /// disconnected.
    fn start1(&self, i: NodeId);

    /// `connect(i)`: peer `i` reaches, and is reached by, every connected peer.
    fn connect(&self, i: NodeId);

    /// `disconnect(i)`: nothing reaches peer `i`, and nothing it sends arrives.
    fn disconnect(&self, i: NodeId);

    /// Whether peer `i` is connected.
    fn is_connected(&self, i: NodeId) -> bool;

    /// Whether peer `i` is running (not crashed).
    fn is_alive(&self, i: NodeId) -> bool;

    /// `setunreliable(unrel)`: requests and replies dropped now and then, and delayed.
    fn set_unreliable(&self, unreliable: bool);

    /// `rafts[i].Start(cmd)`: `Some((index, term))` if peer `i` is alive and accepts.
    fn start(&self, i: NodeId, cmd: impl Into<Cmd>) -> impl Future<Output = Option<(Index, Term)>>;

    /// `rafts[i].GetState()` for every peer (`None` for one that is crashed).
    fn states(&self) -> impl Future<Output = Vec<Option<(Term, bool)>>>;

    /// `rafts[i].GetState()`, or `None` if peer `i` is crashed.
    fn get_state(&self, i: NodeId) -> impl Future<Output = Option<(Term, bool)>> {
        async move { self.states().await.get(i).copied().flatten() }
    }

    // ----- What the appliers saw, and counting -------------------------------------------

    /// `nCommitted(index)`: how many peers' appliers have seen `index`, and the value
    /// they agree on. A driver checks every apply as it sees it (the lab's `checkLogs`:
    /// the same value at an index on every peer, in order; what a peer applied is kept
    /// across its restarts, as the lab's `cfg.logs` is) and fails the test on a
    /// mismatch.
    fn n_committed(&self, index: Index) -> (usize, Option<Cmd>);

    /// `rpcCount(i)`: requests delivered to peer `i`.
    fn rpc_count(&self, i: NodeId) -> u64;

    /// `rpcTotal()`.
    fn rpc_total(&self) -> u64;

    /// `bytesTotal()`: bytes of requests and delivered replies.
    fn bytes_total(&self) -> u64;

    /// `LogSize()`: the largest persisted Raft state, in bytes.
    fn log_size(&self) -> usize;

    /// `begin(description)`: prints "description ..." and starts the statistics.
    fn begin(&self, description: &str);

    /// `end()`: checks the time limit and prints the lab's "Passed" line.
    fn end(&self) -> Summary;

    // ----- The lab's checks, written once -------------------------------------------------

    /// `checkOneLeader()`: waits for exactly one leader among the connected peers (of
    /// the highest term that has one) and returns it.
    fn check_one_leader(&self) -> impl Future<Output = NodeId> {
        async move {
            for _ in 0..10 {
                let ms = 450 + self.rand_below(100);
                self.sleep_ms(ms).await;
                let states = self.states().await;
                let mut by_term = BTreeMap::<Term, Vec<NodeId>>::new();
                for (i, s) in states.iter().enumerate() {
                    if let Some((term, true)) = s
                        && self.is_connected(i)
                    {
                        by_term.entry(*term).or_default().push(i);
                    }
                }
                for (term, ls) in &by_term {
                    if ls.len() > 1 {
                        panic!("term {term} has {} (>1) leaders", ls.len());
                    }
                }
                if let Some((_, ls)) = by_term.iter().next_back() {
                    return ls[0];
                }
            }
            panic!("expected one leader, got none");
        }
    }

    /// `checkTerms()`: every connected peer reports the same term, which is returned.
    fn check_terms(&self) -> impl Future<Output = Option<Term>> {
        async move {
            let mut term = None;
            for (i, s) in self.states().await.into_iter().enumerate() {
                if let Some((t, _)) = s
                    && self.is_connected(i)
                {
                    match term {
                        None => term = Some(t),
                        Some(t0) if t0 != t => panic!("servers disagree on term"),
                        Some(_) => {}
                    }
                }
            }
            term
        }
    }

    /// `checkNoLeader()`: no connected peer thinks it is leader.
    fn check_no_leader(&self) -> impl Future<Output = ()> {
        async move {
            for (i, s) in self.states().await.into_iter().enumerate() {
                if let Some((_, true)) = s
                    && self.is_connected(i)
                {
                    panic!(
                        "expected no leader among connected servers, but {i} claims to be leader"
                    );
                }
            }
        }
    }

    /// `wait(index, n, startTerm)`: waits (with backoff) for `n` peers to apply `index`
    /// and returns the value; `Err(TermMoved)` if some peer's term passed `start_term`.
    fn wait(
        &self,
        index: Index,
        n: usize,
        start_term: Option<Term>,
    ) -> impl Future<Output = Result<Option<Cmd>, TermMoved>> {
        async move {
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
                    let moved = self
                        .states()
                        .await
                        .iter()
                        .flatten()
                        .any(|&(t, _)| t > start);
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
    }

    /// `one(cmd, expectedServers, retry)`: submits `cmd` to whichever peer accepts it
    /// and waits for `expected` peers to commit it; returns its index.
    fn one(
        &self,
        cmd: impl Into<Cmd>,
        expected: usize,
        retry: bool,
    ) -> impl Future<Output = Index> {
        let cmd = cmd.into();
        async move {
            let t0 = self.now();
            let mut starts = 0;
            while self.now() - t0 < Duration::from_secs(10) {
                let mut index = None;
                for _ in 0..self.n() {
                    starts = (starts + 1) % self.n();
                    if self.is_connected(starts)
                        && let Some((i, _)) = self.start(starts, cmd.clone()).await
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
    }
}
