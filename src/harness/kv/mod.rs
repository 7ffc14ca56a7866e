//! The key/value labs' test configurations on the simulator: Lab 2 (kvsrv/config.go),
//! Lab 4 ([`KvraftConfig`], the replicated-service configuration over the key/value
//! store), the clerks' key/value operations, and the recorded histories.

pub mod chaos;
pub mod ck;
pub mod history;
pub mod kvsrv;

use crate::harness::rsm::world::{RsmClerk, RsmConfig};
use crate::kv::store::KvStore;

/// The Lab 4 test configuration.
pub type KvraftConfig = RsmConfig<KvStore>;

/// A Lab 4 clerk handle.
pub type KvraftClerk = RsmClerk<KvStore>;

pub use crate::harness::rsm::world::RsmOptions as KvraftOptions;

mod lab;
pub mod suite;

pub use lab::KvLab;

use std::future::Future;
use std::time::Duration;

use crate::sim::JoinHandle;

impl KvLab for KvraftConfig {
    type Clerk = KvraftClerk;
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

    fn make_client(&self, to: &[usize]) -> KvraftClerk {
        RsmConfig::make_client(self, to)
    }

    fn delete_client(&self, ck: &KvraftClerk) {
        RsmConfig::delete_client(self, ck);
    }

    fn log_size(&self) -> usize {
        RsmConfig::log_size(self)
    }

    fn snapshot_size(&self) -> usize {
        RsmConfig::snapshot_size(self)
    }
}
