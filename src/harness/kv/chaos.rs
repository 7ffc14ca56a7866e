//! `raftlab sim kv`: the Lab 4 service in the simulator under a random workload and
//! random faults, with every client operation recorded for the linearizability check.
//!
//! Clients pick one of a few keys at random and append (half the time), put (a tenth of
//! the rest) or get. A chaos task, when enabled, partitions the servers at random,
//! shuts servers down and restarts them, and switches the network between reliable and
//! unreliable. At the end the cluster is healed, the clients finish their last
//! operation, and the caller checks the recorded history.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use super::ck::KvClerk;
use super::history::History;
use super::{KvraftConfig, KvraftOptions};
use crate::kv::Op;
use crate::sim::JoinHandle;

/// What the run does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KvChaosOptions {
    /// The seed of every random choice.
    pub seed: u64,
    /// Servers in the Raft group.
    pub servers: usize,
    /// Concurrent clients.
    pub clients: usize,
    /// Keys the clients share.
    pub keys: usize,
    /// Virtual duration of the workload.
    pub duration: Duration,
    /// Snapshot when the Raft state reaches this many bytes (-1: never).
    pub maxraftstate: i64,
    /// Switch the network to unreliable for periods.
    pub unreliable: bool,
    /// Shut servers down and restart them.
    pub crashes: bool,
    /// Partition the servers.
    pub partitions: bool,
}

impl Default for KvChaosOptions {
    fn default() -> Self {
        KvChaosOptions {
            seed: 1,
            servers: 5,
            clients: 5,
            keys: 5,
            duration: Duration::from_secs(30),
            maxraftstate: 1000,
            unreliable: false,
            crashes: false,
            partitions: false,
        }
    }
}

/// How much chaos there was.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KvChaosCounts {
    /// Random partitions applied.
    pub partitions: u64,
    /// Servers shut down (and later restarted).
    pub crashes: u64,
    /// Periods of unreliable network.
    pub unreliable_periods: u64,
}

/// The figures of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct KvProgress {
    /// Virtual time so far.
    pub virtual_time: Duration,
    /// Operations completed.
    pub ops: usize,
    /// RPCs sent.
    pub rpcs: u64,
    /// Bytes sent.
    pub bytes: u64,
    /// Leaders elected.
    pub elections: u64,
    /// The largest persisted Raft state.
    pub max_raft_state: usize,
    /// The largest snapshot.
    pub max_snapshot: usize,
}

/// A run in progress.
pub struct KvChaosRun {
    cfg: KvraftConfig,
    options: KvChaosOptions,
    history: History,
    stop: Rc<Cell<bool>>,
    clients: Vec<JoinHandle<()>>,
    chaos: Option<JoinHandle<KvChaosCounts>>,
}

impl KvChaosRun {
    /// Builds the cluster and starts the clients (and the chaos, if any).
    pub fn start(options: KvChaosOptions) -> Self {
        let cfg = KvraftConfig::new(
            options.seed,
            options.servers,
            false,
            options.maxraftstate,
            KvraftOptions::default(),
        );
        let history = History::new();
        let stop = Rc::new(Cell::new(false));
        let clients = (0..options.clients)
            .map(|cli| {
                let task = client(
                    cfg.clone(),
                    cli,
                    options.keys,
                    history.clone(),
                    stop.clone(),
                );
                cfg.spawn(task)
            })
            .collect();
        let chaos = Some(cfg.spawn(chaos(cfg.clone(), options.clone(), stop.clone())));
        KvChaosRun {
            cfg,
            options,
            history,
            stop,
            clients,
            chaos,
        }
    }

    /// Runs `d` more of virtual time.
    pub fn advance(&self, d: Duration) {
        self.cfg.advance(d);
    }

    /// Whether the workload's time is up.
    pub fn done(&self) -> bool {
        self.cfg.now() >= self.options.duration
    }

    /// The figures so far.
    pub fn progress(&self) -> KvProgress {
        KvProgress {
            virtual_time: self.cfg.now(),
            ops: self.history.len(),
            rpcs: self.cfg.rpc_total(),
            bytes: self.cfg.bytes_total(),
            elections: self.cfg.elections(),
            max_raft_state: self.cfg.log_size(),
            max_snapshot: self.cfg.snapshot_size(),
        }
    }

    /// Stops the chaos, heals the cluster, lets every client finish its operation,
    /// and returns the figures, the chaos counts and the history.
    pub fn finish(mut self) -> (KvProgress, KvChaosCounts, History) {
        let cfg = self.cfg.clone();
        let stop = self.stop.clone();
        let clients = std::mem::take(&mut self.clients);
        let chaos = self.chaos.take();
        let counts = cfg.clone().run_to_end(async move {
            stop.set(true);
            let counts = match chaos {
                Some(c) => c.await,
                None => KvChaosCounts::default(),
            };
            cfg.connect_all();
            for c in clients {
                c.await;
            }
            counts
        });
        (self.progress(), counts, self.history)
    }
}

/// A client: random appends, puts and gets on the shared keys until told to stop.
async fn client(cfg: KvraftConfig, cli: usize, keys: usize, log: History, stop: Rc<Cell<bool>>) {
    let ck = cfg.make_client(&cfg.all());
    let mut j = 0;
    while !stop.get() {
        let key = cfg.rand_below(keys as u64).to_string();
        let value = format!("x {cli} {j} y");
        j += 1;
        let op = if cfg.rand_below(2) == 0 {
            Op::Append { key, value }
        } else if cfg.rand_below(10) == 0 {
            Op::Put { key, value }
        } else {
            Op::Get { key }
        };
        ck.recorded(op, Some(&log), cli + 1).await;
    }
    cfg.delete_client(&ck);
}

/// The chaos: every second or so, one random partition, crash or network change; a
/// shut-down server is restarted at the next turn.
async fn chaos(cfg: KvraftConfig, o: KvChaosOptions, stop: Rc<Cell<bool>>) -> KvChaosCounts {
    let mut counts = KvChaosCounts::default();
    let mut down: Option<usize> = None;
    while !stop.get() {
        let pause = 800 + cfg.rand_below(400);
        cfg.sleep(Duration::from_millis(pause)).await;
        if stop.get() {
            break;
        }
        if let Some(i) = down.take() {
            cfg.start_server(i);
            cfg.connect_all();
            continue;
        }
        match cfg.rand_below(3) {
            0 if o.partitions => {
                let side: Vec<u64> = (0..cfg.n).map(|_| cfg.rand_below(2)).collect();
                let pick = |s| (0..cfg.n).filter(|&j| side[j] == s).collect::<Vec<_>>();
                cfg.partition(&pick(0), &pick(1));
                counts.partitions += 1;
            }
            1 if o.crashes => {
                let i = cfg.rand_below(cfg.n as u64) as usize;
                cfg.shutdown_server(i);
                down = Some(i);
                counts.crashes += 1;
            }
            2 if o.unreliable => {
                let unreliable = cfg.rand_below(2) == 0;
                counts.unreliable_periods += u64::from(unreliable);
                cfg.set_unreliable(unreliable);
            }
            _ => cfg.connect_all(),
        }
    }
    if let Some(i) = down {
        cfg.start_server(i);
    }
    cfg.set_unreliable(false);
    counts
}
