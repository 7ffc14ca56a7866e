//! The key/value labs' test configurations on the simulator: Lab 2 (kvsrv/config.go),
//! Lab 4 ([`KvraftConfig`], the replicated-service configuration over the key/value
//! store), the clerks' key/value operations, and the recorded histories.

pub mod chaos;
pub mod ck;
pub mod history;
pub mod kvsrv;

use crate::harness::rsm::world::{RsmClerk, RsmConfig};
use crate::kv::store::KvStore;
use crate::raft::{Raft, RaftCore};

/// The command of a Lab 4 server's Raft log: a clerk's request.
pub type KvCmd = crate::rsm::Request<crate::kv::Op>;

/// The Lab 4 test configuration, its servers on the Raft core `R` (raftlab's own
/// unless named).
pub type KvraftConfig<R = Raft<KvCmd>> = RsmConfig<KvStore, R>;

/// A Lab 4 clerk handle.
pub type KvraftClerk<R = Raft<KvCmd>> = RsmClerk<KvStore, R>;

pub use crate::harness::rsm::world::RsmOptions as KvraftOptions;

mod lab;
pub mod suite;

pub use lab::KvLab;

use std::future::Future;
use std::time::Duration;

use crate::sim::JoinHandle;

impl<R: RaftCore<KvCmd>> KvLab for KvraftConfig<R> {
    type Clerk = KvraftClerk<R>;
    type Task<T: 'static> = JoinHandle<T>;

    fn n(&self) -> usize {
        self.n
    }

    async fn sleep(&self, d: Duration) {
        RsmConfig::sleep(self, d).await;
    }

    fn now(&self) -> Duration {
        RsmConfig::now(self)
    }

    fn rand_below(&self, n: u64) -> u64 {
        RsmConfig::rand_below(self, n)
    }

    fn seed(&self) -> u64 {
        RsmConfig::seed(self)
    }

    fn spawn<T: 'static>(&self, fut: impl Future<Output = T> + 'static) -> JoinHandle<T> {
        RsmConfig::spawn(self, fut)
    }

    fn op(&self) {
        RsmConfig::op(self);
    }

    fn begin(&self, description: &str) {
        RsmConfig::begin(self, description);
    }

    fn end(&self) {
        RsmConfig::end(self);
    }

    fn partition(&self, p1: &[usize], p2: &[usize]) {
        RsmConfig::partition(self, p1, p2);
    }

    fn connect_all(&self) {
        RsmConfig::connect_all(self);
    }

    fn shutdown_server(&self, i: usize) {
        RsmConfig::shutdown_server(self, i);
    }

    fn start_server(&self, i: usize) {
        RsmConfig::start_server(self, i);
    }

    fn make_client(&self, to: &[usize]) -> KvraftClerk<R> {
        RsmConfig::make_client(self, to)
    }

    fn delete_client(&self, ck: &KvraftClerk<R>) {
        RsmConfig::delete_client(self, ck);
    }

    fn log_size(&self) -> usize {
        RsmConfig::log_size(self)
    }

    fn snapshot_size(&self) -> usize {
        RsmConfig::snapshot_size(self)
    }
}
