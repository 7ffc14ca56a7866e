//! The deterministic simulator: the cores, the lab's network and the test code, all in
//! virtual time on one thread.
//!
//! A [`Sim`] holds a [`Kernel`] (virtual clock, event queue, seeded [`Rng`]) and a
//! *world*: the lab-specific state (nodes, the [`Net`], persisters) that reacts to
//! network and timer events. Test code runs as async tasks on the simulator's executor;
//! it advances time only by awaiting [`Sim::sleep`] or another task, so a whole lab
//! suite runs in seconds and any run is replayed exactly by its seed.
//!
//! The loop of [`Sim::run`]: poll every ready task; then take the next event from the
//! queue, advance the clock to it, and hand it to the world (or wake the task whose
//! sleep ended); repeat until the main task finishes.

mod exec;
mod kernel;
mod net;
mod rng;
pub mod seed;
pub mod trace;
pub mod verbose;

pub use exec::{JoinHandle, Receiver, Sender, oneshot};
pub use kernel::{Event, Kernel, TimerKey};
pub use net::{CallId, DEFAULT_BASE_LATENCY, Net, NetAction, NetEvent};
pub use rng::Rng;
pub use trace::{FailReason, Fate, TraceEvent, TraceRecord};

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use exec::Executor;

use crate::raft::TimeRange;

/// The longest one [`Sim::run`] may take in virtual time: go test's default timeout of
/// ten minutes. A run that is still going then is stuck (a liveness failure, or a test
/// waiting for something that never happens), and fails with its seed instead of
/// running forever.
pub const RUN_LIMIT: Duration = Duration::from_secs(600);

/// The lab-specific part of a simulation: it reacts to network and timer events.
pub trait World {
    /// Handles one event ([`Event::Net`] or [`Event::Timer`]; wake-ups of tasks are the
    /// simulator's own business).
    fn on_event(&mut self, kernel: &mut Kernel, event: Event);
}

/// The kernel and the world, borrowed together.
pub struct Core<W> {
    /// Clock, queue and random numbers.
    pub kernel: Kernel,
    /// The lab-specific state.
    pub world: W,
}

/// A simulation: a cheap handle (clone it into tasks) to the kernel, the world and the
/// executor.
pub struct Sim<W> {
    core: Rc<RefCell<Core<W>>>,
    exec: Rc<Executor>,
}

impl<W> Clone for Sim<W> {
    fn clone(&self) -> Self {
        Sim {
            core: self.core.clone(),
            exec: self.exec.clone(),
        }
    }
}

impl<W: World + 'static> Sim<W> {
    /// A simulation of `world`, with every random choice drawn from `seed`.
    pub fn new(seed: u64, world: W) -> Self {
        Sim {
            core: Rc::new(RefCell::new(Core {
                kernel: Kernel::new(seed),
                world,
            })),
            exec: Rc::new(Executor::default()),
        }
    }

    /// Runs `f` with the kernel and the world. Never hold on across an `.await`.
    pub fn with<R>(&self, f: impl FnOnce(&mut Kernel, &mut W) -> R) -> R {
        let mut core = self.core.borrow_mut();
        let Core { kernel, world } = &mut *core;
        f(kernel, world)
    }

    /// The current virtual time.
    pub fn now(&self) -> Duration {
        self.core.borrow().kernel.now()
    }

    /// Draws from the simulation's random number generator.
    pub fn rng<R>(&self, f: impl FnOnce(&mut Rng) -> R) -> R {
        f(&mut self.core.borrow_mut().kernel.rng)
    }

    /// A future that completes after `d` of virtual time.
    pub fn sleep(&self, d: Duration) -> Sleep<W> {
        Sleep {
            sim: self.clone(),
            until: self.now() + d,
            scheduled: false,
        }
    }

    /// Sleeps `ms` milliseconds of virtual time.
    pub fn sleep_ms(&self, ms: u64) -> Sleep<W> {
        self.sleep(Duration::from_millis(ms))
    }

    /// Starts a task (the lab's `go func() { ... }()`); await the handle for its result.
    pub fn spawn<T: 'static>(&self, fut: impl Future<Output = T> + 'static) -> JoinHandle<T> {
        let (tx, rx) = oneshot();
        self.exec.spawn(async move {
            tx.send(fut.await);
        });
        rx
    }

    /// Runs the simulation until `main` finishes, and returns its result; then drops
    /// every other task (like the end of a Go test). Panics (with the virtual time) if
    /// every task is waiting and no event is left, or if `main` is still running after
    /// [`RUN_LIMIT`] of virtual time.
    pub fn run<T: 'static>(&self, main: impl Future<Output = T> + 'static) -> T {
        /// Drops the tasks when the run ends, also when a check panics: tasks hold
        /// handles to the simulation, and a failed seed must not leak its world into the
        /// next one.
        struct StopTasks<'a>(&'a Executor);
        impl Drop for StopTasks<'_> {
            fn drop(&mut self) {
                self.0.clear();
            }
        }
        let _stop = StopTasks(&self.exec);
        let mut result = self.spawn(main);
        let deadline = self.now() + RUN_LIMIT;
        self.drive(&mut result, Some(deadline))
    }

    /// Runs the simulation for `d` of virtual time, leaving every task in place (so
    /// that a driver can report progress between slices of a long run).
    pub fn advance(&self, d: Duration) {
        let mut done = self.spawn(self.sleep(d));
        self.drive(&mut done, None);
    }

    /// Drops every task.
    pub fn stop_tasks(&self) {
        self.exec.clear();
    }

    fn drive<T>(&self, result: &mut Receiver<T>, deadline: Option<Duration>) -> T {
        let _log = verbose::install(self.core.borrow().kernel.clock());
        loop {
            self.exec.run_ready();
            if let Some(v) = result.try_take() {
                return v;
            }
            if deadline.is_some_and(|d| self.now() > d) {
                self.exec.clear();
                panic!(
                    "still running after {} virtual seconds (go test's timeout): the system is stuck",
                    RUN_LIMIT.as_secs()
                );
            }
            let event = self.core.borrow_mut().kernel.pop();
            match event {
                Some(Event::Wake(w)) => w.wake(),
                Some(event) => {
                    let mut core = self.core.borrow_mut();
                    let Core { kernel, world } = &mut *core;
                    world.on_event(kernel, event);
                }
                None if self.exec.has_ready() => {}
                None => {
                    self.exec.clear();
                    panic!(
                        "simulation stalled at {:?}: every task is waiting and no event is scheduled",
                        self.now()
                    );
                }
            }
        }
    }

    /// The trace hash so far (see [`Kernel::trace_hash`]).
    pub fn trace_hash(&self) -> u64 {
        self.core.borrow().kernel.trace_hash()
    }
}

/// The future of [`Sim::sleep`].
pub struct Sleep<W> {
    sim: Sim<W>,
    until: Duration,
    scheduled: bool,
}

impl<W> Future for Sleep<W> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut core = self.sim.core.borrow_mut();
        if core.kernel.now() >= self.until {
            return Poll::Ready(());
        }
        if !self.scheduled {
            let until = self.until;
            core.kernel
                .schedule_at(until, Event::Wake(cx.waker().clone()));
            drop(core);
            self.scheduled = true;
        }
        Poll::Pending
    }
}

/// Set/reset/cancel bookkeeping for nodes' timers. Every set draws a fresh generation
/// number (from one counter, so numbers are never reused) and records it as the current
/// one for its (node, timer); cancelling forgets the entry. A timer event fires only if
/// its generation is still the current one. Memory stays proportional to the timers
/// that are set, not to every node that ever had one.
#[derive(Default, Debug)]
pub struct Timers {
    current: BTreeMap<(usize, u32), u64>,
    next_generation: u64,
}

impl Timers {
    /// (Re)sets timer `timer` of node `node` (incarnation `incarnation`) to fire after a
    /// duration drawn from `range`, and returns that duration.
    pub fn set(
        &mut self,
        k: &mut Kernel,
        node: usize,
        incarnation: u64,
        timer: u32,
        range: TimeRange,
    ) -> Duration {
        self.next_generation += 1;
        let generation = self.next_generation;
        self.current.insert((node, timer), generation);
        let key = TimerKey {
            node,
            incarnation,
            timer,
            generation,
        };
        let after = k.rng.duration_in(range);
        k.schedule(after, Event::Timer(key));
        after
    }

    /// Cancels the timer if set.
    pub fn cancel(&mut self, node: usize, timer: u32) {
        self.current.remove(&(node, timer));
    }

    /// Cancels every timer of a node.
    pub fn cancel_all(&mut self, node: usize) {
        self.current.retain(|&(n, _), _| n != node);
    }

    /// Whether a fired timer is the latest one set for its node and timer; if so it is
    /// no longer set.
    pub fn fire(&mut self, key: &TimerKey) -> bool {
        if self.current.get(&(key.node, key.timer)) == Some(&key.generation) {
            self.current.remove(&(key.node, key.timer));
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Empty;

    impl World for Empty {
        fn on_event(&mut self, _: &mut Kernel, _: Event) {}
    }

    #[test]
    fn a_run_that_never_ends_fails_at_the_run_limit() {
        let sim = Sim::new(1, Empty);
        let sim2 = sim.clone();
        let stuck = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            sim.run(async move {
                loop {
                    sim2.sleep(Duration::from_secs(1)).await;
                }
            })
        }));
        let message = stuck.expect_err("the run should fail");
        let text = message
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(
            text.contains("still running after 600 virtual seconds"),
            "{text}"
        );
        assert!(sim.now() > RUN_LIMIT && sim.now() <= RUN_LIMIT + Duration::from_secs(1));
    }

    #[test]
    fn a_run_that_ends_returns_its_value() {
        let sim = Sim::new(1, Empty);
        let sim2 = sim.clone();
        let v = sim.run(async move {
            sim2.sleep(Duration::from_secs(599)).await;
            7
        });
        assert_eq!(v, 7);
    }
}
