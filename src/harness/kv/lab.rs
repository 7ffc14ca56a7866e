//! What a Lab 4 (kvraft) test body needs of its world: the calls of the lab's
//! kvraft/config.go that `GenericTest` makes, as a trait with two implementations, the
//! simulator's [`KvraftConfig`](super::KvraftConfig) and the real runtime's
//! `harness::real::RealKv` (`raftlab serve` processes, clerks over the Redis protocol).

use std::future::Future;
use std::time::Duration;

use super::ck::KvClerk;

/// The kvraft lab's world, as test bodies see it.
pub trait KvLab: Clone + 'static {
    /// A clerk of this world.
    type Clerk: KvClerk + 'static;
    /// A spawned task; awaiting it gives the task's result.
    type Task<T: 'static>: Future<Output = T>;

    /// The number of servers.
    fn n(&self) -> usize;

    /// `All()`: every server index.
    fn all(&self) -> Vec<usize> {
        (0..self.n()).collect()
    }

    /// Sleeps for `d` (virtual or real time, as the driver keeps it).
    fn sleep(&self, d: Duration) -> impl Future<Output = ()>;

    /// The time since the configuration was made.
    fn now(&self) -> Duration;

    /// A uniform value in `0..n`, from the test's seeded generator.
    fn rand_below(&self, n: u64) -> u64;

    /// The test's seed.
    fn seed(&self) -> u64;

    /// Starts a task (`go func() { ... }()`).
    fn spawn<T: 'static>(&self, fut: impl Future<Output = T> + 'static) -> Self::Task<T>;

    /// `op()`: counts one clerk operation made through the test's wrappers.
    fn op(&self);

    /// `begin(description)`: prints "description ..." and starts the statistics.
    fn begin(&self, description: &str);

    /// `end()`: checks the time limit and prints the lab's "Passed" line.
    fn end(&self);

    /// `partition(p1, p2)`: servers talk only within their side (clerks reach all).
    fn partition(&self, p1: &[usize], p2: &[usize]);

    /// `ConnectAll()`.
    fn connect_all(&self);

    /// `ShutdownServer(i)`: server `i` stops; what it persisted survives.
    fn shutdown_server(&self, i: usize);

    /// `StartServer(i)`: server `i` starts from what it persisted.
    fn start_server(&self, i: usize);

    /// `makeClient(to)`: a clerk that can reach the servers in `to`.
    fn make_client(&self, to: &[usize]) -> Self::Clerk;

    /// `deleteClient(ck)`.
    fn delete_client(&self, ck: &Self::Clerk);

    /// `LogSize()`: the largest persisted Raft state, in bytes.
    fn log_size(&self) -> usize;

    /// `SnapshotSize()`: the largest persisted snapshot, in bytes.
    fn snapshot_size(&self) -> usize;
}
