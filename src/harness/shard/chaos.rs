//! `raftlab sim shardkv`: the sharded key/value service in the simulator (the controller
//! and three replica groups) under a random workload, configuration changes and faults,
//! with every client operation recorded for the linearizability check.
//!
//! Clients pick one of the keys at random and append (half the time), put (a tenth of
//! the rest) or get, like the lab's "unreliable 3" workers. A chaos task, every second
//! or so, makes one change: a Join of a group that is not in the configuration, a Leave
//! of one that is (never the last one), a shutdown of one group server (restarted at
//! the next turn), a shutdown of a whole group (restarted at the next turn), or a
//! switch of the network between reliable and unreliable. At the end every server is
//! up, the network reliable, and the clients finish their last operation.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use super::config::{NGROUPS, ShardKvConfig};
use crate::harness::kv::ck::KvClerk;
use crate::harness::kv::history::History;
use crate::kv::Op;
use crate::sim::JoinHandle;

/// What the run does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardChaosOptions {
    /// The seed of every random choice.
    pub seed: u64,
    /// Servers per replica group.
    pub servers: usize,
    /// Concurrent clients.
    pub clients: usize,
    /// Keys the clients share ("0", "1", ...: one per shard up to 10).
    pub keys: usize,
    /// Virtual duration of the workload.
    pub duration: Duration,
    /// Snapshot when the Raft state reaches this many bytes (-1: never).
    pub maxraftstate: i64,
    /// Join and leave groups.
    pub reconfigure: bool,
    /// Shut servers (and whole groups) down and restart them.
    pub crashes: bool,
    /// Switch the network to unreliable for periods.
    pub unreliable: bool,
}

impl Default for ShardChaosOptions {
    fn default() -> Self {
        ShardChaosOptions {
            seed: 1,
            servers: 3,
            clients: 5,
            keys: 10,
            duration: Duration::from_secs(30),
            maxraftstate: 1000,
            reconfigure: true,
            crashes: false,
            unreliable: false,
        }
    }
}

/// How much chaos there was.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShardChaosCounts {
    /// Joins made.
    pub joins: u64,
    /// Leaves made.
    pub leaves: u64,
    /// Single servers shut down (and later restarted).
    pub crashes: u64,
    /// Whole groups shut down (and later restarted).
    pub group_crashes: u64,
    /// Periods of unreliable network.
    pub unreliable_periods: u64,
}

/// The figures of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct ShardProgress {
    /// Virtual time so far.
    pub virtual_time: Duration,
    /// Operations completed.
    pub ops: usize,
    /// RPCs sent.
    pub rpcs: u64,
    /// Bytes sent.
    pub bytes: u64,
    /// The largest persisted Raft state of a group server.
    pub max_raft_state: usize,
    /// The largest snapshot of a group server.
    pub max_snapshot: usize,
    /// The sum of Raft state and snapshot over every group server (challenge 1's
    /// measure).
    pub total_storage: usize,
}

/// A run in progress.
pub struct ShardChaosRun {
    cfg: ShardKvConfig,
    options: ShardChaosOptions,
    history: History,
    stop: Rc<Cell<bool>>,
    workload: Option<JoinHandle<ShardChaosCounts>>,
}

impl ShardChaosRun {
    /// Builds the controller and the groups, and starts the workload: join group 0,
    /// put every key once (as client 0 of the history), then the clients and the chaos.
    pub fn start(options: ShardChaosOptions) -> Self {
        let cfg = ShardKvConfig::new(options.seed, options.servers, false, options.maxraftstate);
        let history = History::new();
        let stop = Rc::new(Cell::new(false));
        let workload = cfg.spawn(workload(
            cfg.clone(),
            options.clone(),
            history.clone(),
            stop.clone(),
        ));
        ShardChaosRun {
            cfg,
            options,
            history,
            stop,
            workload: Some(workload),
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
    pub fn progress(&self) -> ShardProgress {
        let (max_raft_state, max_snapshot) = self.cfg.largest_storage();
        ShardProgress {
            virtual_time: self.cfg.now(),
            ops: self.history.len(),
            rpcs: self.cfg.rpc_total(),
            bytes: self.cfg.bytes_total(),
            max_raft_state,
            max_snapshot,
            total_storage: self.cfg.total_storage(),
        }
    }

    /// Stops the chaos, restarts every server, makes the network reliable, and lets
    /// every client finish its operation, for at most [`FINISH_LIMIT`] of virtual
    /// time. Returns the figures, the chaos counts and the history, or [`Stalled`] if
    /// the clients did not finish (a liveness failure: the healed service must serve
    /// them).
    pub fn finish(mut self) -> Result<ShardChaosEnd, Stalled> {
        self.stop.set(true);
        let mut workload = self.workload.take();
        let deadline = self.cfg.now() + FINISH_LIMIT;
        while self.cfg.now() < deadline {
            if let Some(counts) = workload.as_mut().and_then(|w| w.try_take()) {
                return Ok(ShardChaosEnd {
                    progress: self.progress(),
                    counts,
                    history: self.history.clone(),
                });
            }
            self.cfg.advance(Duration::from_millis(100));
        }
        self.cfg.stop_tasks();
        Err(Stalled {
            progress: self.progress(),
            history: self.history.clone(),
        })
    }
}

/// How long the clients have, once the chaos stops and everything is healed, to finish
/// their last operation.
pub const FINISH_LIMIT: Duration = Duration::from_secs(60);

/// The end of a run.
pub struct ShardChaosEnd {
    /// The final figures.
    pub progress: ShardProgress,
    /// How much chaos there was.
    pub counts: ShardChaosCounts,
    /// Every completed operation.
    pub history: History,
}

/// The clients did not finish within [`FINISH_LIMIT`] after the service was healed.
pub struct Stalled {
    /// The figures when the run gave up.
    pub progress: ShardProgress,
    /// The operations that did complete.
    pub history: History,
}

/// The whole workload: the first configuration and the initial puts, then the clients
/// and the chaos until told to stop; returns once every client has finished.
async fn workload(
    cfg: ShardKvConfig,
    o: ShardChaosOptions,
    history: History,
    stop: Rc<Cell<bool>>,
) -> ShardChaosCounts {
    let keys: Vec<String> = (0..o.keys).map(|i| i.to_string()).collect();
    cfg.join(0).await;
    let ck = cfg.make_client();
    for key in &keys {
        let value = cfg.rand_string(5);
        ck.recorded(
            Op::Put {
                key: key.clone(),
                value,
            },
            Some(&history),
            0,
        )
        .await;
    }
    let clients: Vec<JoinHandle<()>> = (1..=o.clients)
        .map(|cli| {
            let task = client(
                cfg.clone(),
                cli,
                keys.clone(),
                history.clone(),
                stop.clone(),
            );
            cfg.spawn(task)
        })
        .collect();
    let counts = chaos(cfg.clone(), o, stop).await;
    for c in clients {
        c.await;
    }
    counts
}

/// A client: random appends, puts and gets on the shared keys until told to stop.
async fn client(
    cfg: ShardKvConfig,
    cli: usize,
    keys: Vec<String>,
    log: History,
    stop: Rc<Cell<bool>>,
) {
    let ck = cfg.make_client();
    let mut j = 0;
    while !stop.get() {
        let key = keys[cfg.rand_below(keys.len() as u64) as usize].clone();
        let value = format!("x {cli} {j} y");
        j += 1;
        let op = if cfg.rand_below(2) == 0 {
            Op::Append { key, value }
        } else if cfg.rand_below(10) == 0 {
            Op::Put { key, value }
        } else {
            Op::Get { key }
        };
        ck.recorded(op, Some(&log), cli).await;
    }
}

/// What is down, to be restarted at the next turn.
enum Down {
    Server(usize, usize),
    Group(usize),
}

/// The chaos: every second or so, one configuration change, crash or network change;
/// whatever was shut down is restarted at the next turn.
async fn chaos(cfg: ShardKvConfig, o: ShardChaosOptions, stop: Rc<Cell<bool>>) -> ShardChaosCounts {
    let mut counts = ShardChaosCounts::default();
    let mut joined = [true, false, false];
    let mut down: Option<Down> = None;
    while !stop.get() {
        let pause = 800 + cfg.rand_below(400);
        cfg.sleep(Duration::from_millis(pause)).await;
        if stop.get() {
            break;
        }
        match down.take() {
            Some(Down::Server(gi, i)) => {
                cfg.start_server(gi, i);
                continue;
            }
            Some(Down::Group(gi)) => {
                cfg.start_group(gi);
                continue;
            }
            None => {}
        }
        match cfg.rand_below(5) {
            0 | 1 if o.reconfigure => {
                let gi = cfg.rand_below(NGROUPS as u64) as usize;
                let members = joined.iter().filter(|&&j| j).count();
                if !joined[gi] {
                    cfg.join(gi).await;
                    joined[gi] = true;
                    counts.joins += 1;
                } else if members > 1 {
                    cfg.leave(gi).await;
                    joined[gi] = false;
                    counts.leaves += 1;
                }
            }
            2 if o.crashes => {
                let gi = cfg.rand_below(NGROUPS as u64) as usize;
                let i = cfg.rand_below(o.servers as u64) as usize;
                cfg.shutdown_server(gi, i);
                down = Some(Down::Server(gi, i));
                counts.crashes += 1;
            }
            3 if o.crashes => {
                let gi = cfg.rand_below(NGROUPS as u64) as usize;
                cfg.shutdown_group(gi);
                down = Some(Down::Group(gi));
                counts.group_crashes += 1;
            }
            4 if o.unreliable => {
                let unreliable = cfg.rand_below(2) == 0;
                counts.unreliable_periods += u64::from(unreliable);
                cfg.set_unreliable(unreliable);
            }
            _ => {}
        }
    }
    match down {
        Some(Down::Server(gi, i)) => cfg.start_server(gi, i),
        Some(Down::Group(gi)) => cfg.start_group(gi),
        None => {}
    }
    cfg.set_unreliable(false);
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use raftlab_checker::kv::{LabCheck, check_history};

    /// Seed 2 restarts group 102 in the middle of a shard move; before group leaders
    /// proposed a no-op, the group came back at the configuration of its snapshot,
    /// never committed the rest of its log, and every group waited for another.
    #[test]
    fn a_group_restarted_mid_move_catches_up_and_the_history_is_linearizable() {
        let run = ShardChaosRun::start(ShardChaosOptions {
            seed: 2,
            duration: Duration::from_secs(60),
            crashes: true,
            unreliable: true,
            ..ShardChaosOptions::default()
        });
        while !run.done() {
            run.advance(Duration::from_secs(1));
        }
        let Ok(end) = run.finish() else {
            panic!("the clients did not finish after the service was healed");
        };
        assert!(end.counts.group_crashes > 0 && end.counts.joins > 0);
        assert!(
            end.history.len() > 10_000,
            "{} operations",
            end.history.len()
        );
        let check = check_history(&end.history.ops(), Duration::from_secs(30));
        assert!(
            matches!(check, LabCheck::Ok),
            "the history is not linearizable"
        );
    }
}
