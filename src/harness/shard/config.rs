//! The sharded key/value service's test configuration (shardkv/config.go): a
//! controller service of 3 servers, 3 replica groups (gids 100, 101, 102) of `n`
//! servers each, started but not joined, clerks, and the calls the tests make.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use super::world::ShardWorld;
use crate::harness::kv::ck::KvClerk;
use crate::kv::Op;
use crate::shard::ctrler::CtrlOp;
use crate::shard::{Gid, ShardConfig};
use crate::sim::{JoinHandle, Sim, oneshot};

/// The lab's per-test limit, checked at cleanup.
pub const TEST_LIMIT: Duration = Duration::from_secs(120);

/// The number of controller servers.
pub const NCTRLERS: usize = 3;

/// The number of replica groups.
pub const NGROUPS: usize = 3;

/// The test configuration of Lab 5.
#[derive(Clone)]
pub struct ShardKvConfig {
    sim: Sim<ShardWorld>,
    /// Servers per group.
    pub n: usize,
    /// The lab's `maxraftstate` (-1: never snapshot).
    pub maxraftstate: i64,
    mck: usize,
    ops: Rc<Cell<u64>>,
}

/// A shard clerk handle (the lab's `*Clerk` of shardkv).
#[derive(Clone)]
pub struct ShardCk {
    sim: Sim<ShardWorld>,
    slot: usize,
}

impl KvClerk for ShardCk {
    fn run(&self, op: Op) -> impl Future<Output = String> {
        let (tx, rx) = oneshot();
        let slot = self.slot;
        self.sim.with(|k, w| w.clerk_start(k, slot, op, tx));
        rx
    }

    fn now_micros(&self) -> u64 {
        self.sim.now().as_micros() as u64
    }
}

impl ShardKvConfig {
    /// The lab's `make_config(n, unreliable, maxraftstate)`.
    pub fn new(seed: u64, n: usize, unreliable: bool, maxraftstate: i64) -> Self {
        let world = ShardWorld::new(usize::try_from(maxraftstate).ok());
        let sim = Sim::new(seed, world);
        let mck = sim.with(|k, w| {
            w.start_ctrl_service(k, NCTRLERS);
            for gi in 0..NGROUPS {
                w.add_group(100 + gi as Gid, n);
                for i in 0..n {
                    w.start_server(k, gi, i);
                }
            }
            let mck = w.add_admin(k, 0);
            w.net.set_reliable(!unreliable);
            mck
        });
        ShardKvConfig {
            sim,
            n,
            maxraftstate,
            mck,
            ops: Rc::new(Cell::new(0)),
        }
    }

    /// Runs the test body, then checks the time limit (the lab's cleanup).
    pub fn run<F, Fut>(&self, body: F)
    where
        F: FnOnce(ShardKvConfig) -> Fut,
        Fut: Future<Output = ()> + 'static,
    {
        self.sim.run(body(self.clone()));
        if self.sim.now() > TEST_LIMIT {
            panic!("test took longer than 120 seconds");
        }
    }

    /// Runs the simulation for `d`, leaving every task running.
    pub fn advance(&self, d: Duration) {
        self.sim.advance(d);
    }

    /// Drops every task (the clerks' and the test's), leaving the world as it is.
    pub fn stop_tasks(&self) {
        self.sim.stop_tasks();
    }

    /// Runs `main` to its end and stops every other task.
    pub fn run_to_end<T: 'static>(&self, main: impl Future<Output = T> + 'static) -> T {
        self.sim.run(main)
    }

    /// The gid of group `gi`.
    pub fn gid(&self, gi: usize) -> Gid {
        100 + gi as Gid
    }

    // ----- Clerks and the controller -----------------------------------------------------

    /// `makeClient(cfg.ctl)`: a clerk that asks the main controller.
    pub fn make_client(&self) -> ShardCk {
        self.make_client_ctl(0)
    }

    /// A clerk that asks controller service `svc`.
    pub fn make_client_ctl(&self, svc: usize) -> ShardCk {
        let slot = self.sim.with(|k, w| w.add_clerk(k, svc));
        ShardCk {
            sim: self.sim.clone(),
            slot,
        }
    }

    /// Starts another controller service (the rejection test's `ctl1`); returns it.
    pub fn start_ctrler_service(&self) -> usize {
        self.sim.with(|k, w| w.start_ctrl_service(k, NCTRLERS))
    }

    async fn admin(&self, svc: usize, op: CtrlOp) -> Option<ShardConfig> {
        let slot = if svc == 0 {
            self.mck
        } else {
            self.sim.with(|k, w| w.add_admin(k, svc))
        };
        let (tx, rx) = oneshot();
        self.sim.with(|k, w| w.admin_start(k, slot, op, tx));
        rx.await
    }

    fn servers_of(&self, gi: usize) -> (Gid, Vec<String>) {
        self.sim
            .with(|_, w| (w.groups[gi].gid, w.groups[gi].names.clone()))
    }

    /// `join(gi)`.
    pub async fn join(&self, gi: usize) {
        self.joinm(&[gi]).await;
    }

    /// `joinm(gis)`: one Join of several groups.
    pub async fn joinm(&self, gis: &[usize]) {
        self.ctljoinm(gis, 0).await;
    }

    /// `ctljoin(gi, ctl)`: Join on controller service `svc`.
    pub async fn ctljoin(&self, gi: usize, svc: usize) {
        self.ctljoinm(&[gi], svc).await;
    }

    async fn ctljoinm(&self, gis: &[usize], svc: usize) {
        let servers: BTreeMap<Gid, Vec<String>> =
            gis.iter().map(|&gi| self.servers_of(gi)).collect();
        self.admin(svc, CtrlOp::Join { servers }).await;
    }

    /// `leave(gi)`.
    pub async fn leave(&self, gi: usize) {
        self.leavem(&[gi]).await;
    }

    /// `leavem(gis)`: one Leave of several groups.
    pub async fn leavem(&self, gis: &[usize]) {
        let gids = gis.iter().map(|&gi| self.gid(gi)).collect();
        self.admin(0, CtrlOp::Leave { gids }).await;
    }

    /// `cfg.mck.Query(-1)`.
    pub async fn query(&self) -> ShardConfig {
        self.admin(0, CtrlOp::Query { num: -1 })
            .await
            .unwrap_or_default()
    }

    // ----- Servers --------------------------------------------------------------------------

    /// `ShutdownServer(gi, i)`.
    pub fn shutdown_server(&self, gi: usize, i: usize) {
        self.sim.with(|k, w| w.shutdown_server(k, gi, i));
    }

    /// `StartServer(gi, i)`.
    pub fn start_server(&self, gi: usize, i: usize) {
        self.sim.with(|k, w| w.start_server(k, gi, i));
    }

    /// `ShutdownGroup(gi)`.
    pub fn shutdown_group(&self, gi: usize) {
        for i in 0..self.n {
            self.shutdown_server(gi, i);
        }
    }

    /// `StartGroup(gi)`.
    pub fn start_group(&self, gi: usize) {
        for i in 0..self.n {
            self.start_server(gi, i);
        }
    }

    /// `checklogs()`: with snapshots, no Raft state above 8 x maxraftstate; without,
    /// no snapshot at all.
    pub fn checklogs(&self) {
        let max = self.maxraftstate;
        self.sim.with(|_, w| {
            for g in &w.groups {
                for s in &g.saved {
                    let raft = s.raft_state_size() as i64;
                    if max >= 0 && raft > 8 * max {
                        panic!("persister.RaftStateSize() {raft}, but maxraftstate {max}");
                    }
                    if max < 0 && s.snapshot_size() > 0 {
                        panic!("maxraftstate is -1, but snapshot is non-empty!");
                    }
                }
            }
        });
    }

    /// The sum over every group server of its Raft state and snapshot sizes (the
    /// shard-deletion challenge's measure).
    pub fn total_storage(&self) -> usize {
        self.sim.with(|_, w| {
            w.groups
                .iter()
                .flat_map(|g| &g.saved)
                .map(|s| s.raft_state_size() + s.snapshot_size())
                .sum()
        })
    }

    /// The largest persisted Raft state and the largest snapshot of any group server.
    pub fn largest_storage(&self) -> (usize, usize) {
        self.sim.with(|_, w| {
            let saved = w.groups.iter().flat_map(|g| &g.saved);
            saved.fold((0, 0), |(r, s), p| {
                (r.max(p.raft_state_size()), s.max(p.snapshot_size()))
            })
        })
    }

    /// Makes the network reliable or not.
    pub fn set_unreliable(&self, unreliable: bool) {
        self.sim.with(|_, w| w.net.set_reliable(!unreliable));
    }

    // ----- Time, randomness, tasks, counting ----------------------------------------------

    /// Sleeps in virtual time.
    pub async fn sleep(&self, d: Duration) {
        self.sim.sleep(d).await;
    }

    /// Sleeps `ms` milliseconds of virtual time.
    pub async fn sleep_ms(&self, ms: u64) {
        self.sim.sleep_ms(ms).await;
    }

    /// Starts a task.
    pub fn spawn<T: 'static>(&self, fut: impl Future<Output = T> + 'static) -> JoinHandle<T> {
        self.sim.spawn(fut)
    }

    /// The virtual time.
    pub fn now(&self) -> Duration {
        self.sim.now()
    }

    /// A uniform value in `0..n`.
    pub fn rand_below(&self, n: u64) -> u64 {
        self.sim.rng(|r| r.below(n))
    }

    /// `randstring(n)`.
    pub fn rand_string(&self, n: usize) -> String {
        self.sim.rng(|r| r.string(n))
    }

    /// The seed of the run.
    pub fn seed(&self) -> u64 {
        self.sim.with(|k, _| k.seed())
    }

    /// RPCs sent so far.
    pub fn rpc_total(&self) -> u64 {
        self.sim.with(|_, w| w.net.total_count())
    }

    /// Bytes sent so far.
    pub fn bytes_total(&self) -> u64 {
        self.sim.with(|_, w| w.net.total_bytes())
    }

    /// Counts one operation (for summaries).
    pub fn op(&self) {
        self.ops.set(self.ops.get() + 1);
    }

    /// Operations counted.
    pub fn ops(&self) -> u64 {
        self.ops.get()
    }
}
