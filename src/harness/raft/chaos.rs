//! `raftlab sim raft`: a long randomized run of a Raft cluster under partitions,
//! crashes and unreliable periods, with the lab harness checking every apply.
//!
//! Clients submit commands all along (like the churn test's clients: `start` on every
//! live peer, then watch whether the value commits). A chaos task disconnects and
//! reconnects peers, crashes and restarts them, and switches the network between
//! reliable and unreliable (with long reordering). The world checks, at every step,
//! that no two peers lead one term, that committed values agree across peers and that
//! every peer applies in order. At the end the cluster is healed, must commit a new
//! command on every peer, and every value a client saw committed must be in the log.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use super::config::{Config, Options};
use super::lab::RaftLab;
use super::world::Cmd;
use crate::raft::{Bug, Raft, RaftCore};
use crate::sim::{JoinHandle, TraceRecord};

/// What the run does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChaosOptions {
    /// The seed of every random choice.
    pub seed: u64,
    /// Cluster size.
    pub servers: usize,
    /// Concurrent clients.
    pub clients: usize,
    /// Virtual duration of the chaos phase.
    pub duration: Duration,
    /// Disconnect and reconnect peers.
    pub partitions: bool,
    /// Crash and restart peers.
    pub crashes: bool,
    /// Switch the network to unreliable (and long reordering) for periods.
    pub unreliable: bool,
    /// Peers snapshot every 10 entries (the 3D applier).
    pub snapshots: bool,
    /// A deliberate bug every peer carries.
    pub bug: Option<Bug>,
    /// Record the full event trace (take it with [`ChaosRun::take_trace`]).
    pub trace: bool,
}

impl Default for ChaosOptions {
    fn default() -> Self {
        ChaosOptions {
            seed: 1,
            servers: 5,
            clients: 3,
            duration: Duration::from_secs(60),
            partitions: true,
            crashes: true,
            unreliable: true,
            snapshots: false,
            bug: None,
            trace: false,
        }
    }
}

/// How much chaos there was.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChaosCounts {
    /// Peers disconnected.
    pub disconnects: u64,
    /// Peers crashed.
    pub crashes: u64,
    /// Peers restarted.
    pub restarts: u64,
    /// Periods of unreliable network.
    pub unreliable_periods: u64,
}

/// Progress of a run, between slices.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    /// Virtual time so far.
    pub virtual_time: Duration,
    /// Leaders elected so far.
    pub elections: u64,
    /// The highest committed index.
    pub commits: u64,
    /// RPCs sent.
    pub rpcs: u64,
    /// Bytes sent.
    pub bytes: u64,
}

/// The end of a run that kept every safety property.
#[derive(Clone, Debug, PartialEq)]
pub struct ChaosReport {
    /// The figures at the end.
    pub progress: Progress,
    /// The chaos injected.
    pub chaos: ChaosCounts,
    /// Values clients saw committed (all found in the final log).
    pub client_commits: usize,
    /// The index of the final command committed on every peer after healing.
    pub final_index: u64,
}

/// A run in progress, its peers running the core `R` (raftlab's Raft unless named).
pub struct ChaosRun<R = Raft<Cmd>> {
    cfg: Config<R>,
    options: ChaosOptions,
    stop: Rc<Cell<bool>>,
    clients: Vec<JoinHandle<Vec<i64>>>,
    chaos: Option<JoinHandle<ChaosCounts>>,
}

impl ChaosRun {
    /// Builds a cluster of raftlab's Raft and starts the clients and the chaos.
    pub fn start(options: ChaosOptions) -> Self {
        ChaosRun::start_core(options)
    }
}

impl<R: RaftCore<Cmd>> ChaosRun<R> {
    /// Builds the cluster, every peer running the core `R`, and starts the clients and
    /// the chaos.
    pub fn start_core(options: ChaosOptions) -> Self {
        let cfg = Config::make(
            options.seed,
            options.servers,
            false,
            options.snapshots,
            Options {
                bug: options.bug,
                trace: options.trace,
                ..Options::default()
            },
        );
        let stop = Rc::new(Cell::new(false));
        let clients = (0..options.clients)
            .map(|me| cfg.spawn(client(cfg.clone(), me as u64, stop.clone())))
            .collect();
        let chaos = Some(cfg.spawn(chaos(cfg.clone(), options.clone(), stop.clone())));
        ChaosRun {
            cfg,
            options,
            stop,
            clients,
            chaos,
        }
    }

    /// Runs `d` more of virtual time. A safety violation panics with its message.
    pub fn advance(&self, d: Duration) {
        self.cfg.advance(d);
    }

    /// Whether the chaos phase is over.
    pub fn done(&self) -> bool {
        self.cfg.now() >= self.options.duration
    }

    /// The figures so far.
    pub fn progress(&self) -> Progress {
        let stats = self.cfg.stats();
        Progress {
            virtual_time: self.cfg.now(),
            elections: stats.elections,
            commits: stats.max_index,
            rpcs: self.cfg.rpc_total(),
            bytes: self.cfg.bytes_total(),
        }
    }

    /// The events traced since the last call (none unless [`ChaosOptions::trace`] is
    /// set). Take them between slices to write a long trace as it grows; after a
    /// safety violation (a panic out of [`ChaosRun::advance`] or [`ChaosRun::finish`])
    /// they hold the events up to it.
    pub fn take_trace(&self) -> Vec<TraceRecord> {
        self.cfg.take_trace()
    }

    /// Stops the chaos, heals the cluster, and checks that it makes progress and kept
    /// every value a client saw committed. (It takes `&mut self`, not `self`, so that
    /// the run is still there to give its trace after a violation.)
    pub fn finish(&mut self) -> ChaosReport {
        let cfg = self.cfg.clone();
        let stop = self.stop.clone();
        let clients = std::mem::take(&mut self.clients);
        let chaos = self.chaos.take();
        let (counts, client_commits, final_index) = cfg.clone().run_to_end(async move {
            stop.set(true);
            let counts = match chaos {
                Some(c) => c.await,
                None => ChaosCounts::default(),
            };
            cfg.set_unreliable(false);
            cfg.set_long_reordering(false);
            for i in 0..cfg.n {
                if !cfg.is_alive(i) {
                    cfg.start1(i);
                }
                cfg.connect(i);
            }
            let mut values = Vec::new();
            for c in clients {
                values.extend(c.await);
            }
            cfg.sleep(Duration::from_secs(1)).await;
            let last = cfg.one(cfg.rand(), cfg.n, true).await;
            let mut committed = std::collections::BTreeSet::new();
            for index in 1..=last {
                if let Ok(Some(Cmd::Int(v))) = cfg.wait(index, cfg.n, None).await {
                    committed.insert(v);
                }
            }
            for v in &values {
                if !committed.contains(v) {
                    panic!("value {v} was seen committed by a client but is not in the final log");
                }
            }
            (counts, values.len(), last)
        });
        ChaosReport {
            progress: self.progress(),
            chaos: counts,
            client_commits,
            final_index,
        }
    }
}

/// A client: `start` a fresh value on every live peer, then watch whether it commits.
async fn client<R: RaftCore<Cmd>>(cfg: Config<R>, me: u64, stop: Rc<Cell<bool>>) -> Vec<i64> {
    let mut values = Vec::new();
    while !stop.get() {
        let x = cfg.rand();
        let mut index = None;
        for i in 0..cfg.n {
            if let Some((index1, _)) = cfg.start(i, x).await {
                index = Some(index1);
            }
        }
        match index {
            Some(index) => {
                for (looks, to) in [10, 20, 50, 100, 200].into_iter().enumerate() {
                    let (nd, cmd) = cfg.n_committed(index);
                    if nd > 0 {
                        if cmd == Some(Cmd::Int(x)) {
                            values.push(x);
                            // Committed at the first look (a one-peer cluster commits
                            // as it starts): wait a little, or virtual time would
                            // never move on.
                            if looks == 0 {
                                cfg.sleep_ms(1).await;
                            }
                        }
                        break;
                    }
                    cfg.sleep_ms(to).await;
                }
            }
            None => cfg.sleep_ms(79 + me * 17).await,
        }
    }
    values
}

/// The chaos: every 0.3-1.5 s, one random disturbance or repair.
async fn chaos<R: RaftCore<Cmd>>(
    cfg: Config<R>,
    o: ChaosOptions,
    stop: Rc<Cell<bool>>,
) -> ChaosCounts {
    let mut counts = ChaosCounts::default();
    let n = cfg.n as u64;
    while !stop.get() {
        let pause = 300 + cfg.rand_below(1200);
        cfg.sleep_ms(pause).await;
        if stop.get() {
            break;
        }
        let i = cfg.rand_below(n) as usize;
        match cfg.rand_below(6) {
            0 if o.partitions => {
                cfg.disconnect(i);
                counts.disconnects += 1;
            }
            1 if o.partitions && cfg.is_alive(i) => cfg.connect(i),
            2 if o.crashes && cfg.is_alive(i) => {
                cfg.crash1(i);
                counts.crashes += 1;
            }
            3 if o.crashes && !cfg.is_alive(i) => {
                cfg.start1(i);
                cfg.connect(i);
                counts.restarts += 1;
            }
            4 if o.unreliable => {
                let unreliable = cfg.rand_below(2) == 0;
                if unreliable {
                    counts.unreliable_periods += 1;
                }
                cfg.set_unreliable(unreliable);
                cfg.set_long_reordering(unreliable && cfg.rand_below(3) == 0);
            }
            _ => {
                // Repair: bring back one peer that is down or cut off.
                if !cfg.is_alive(i) {
                    cfg.start1(i);
                    counts.restarts += 1;
                }
                cfg.connect(i);
            }
        }
    }
    counts
}
