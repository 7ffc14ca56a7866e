//! The clerks of a replicated service's world: their pure cores, their ends, and the
//! tasks waiting for their operations.

use crate::rsm::clerk::{Clerk, ClerkOutput, ClerkTiming};
use crate::rsm::{ClientId, Reply};
use crate::sim::{Kernel, Net, Sender, TimerKey, Timers};

use super::rpc::{Caller, RsmRpc, ServerToken};

/// The timer id of a clerk's one timer (server timers use ids below it).
pub const CLERK_TIMER: u32 = 100;

/// One clerk: its core, its ends (one per server, in the clerk's own order) and the
/// task awaiting its current operation.
struct Slot<O, R> {
    clerk: Clerk<O, R>,
    ends: Vec<String>,
    waiter: Option<Sender<R>>,
}

/// The clerks of a world, by slot number.
pub struct Clerks<O, R> {
    slots: Vec<Option<Slot<O, R>>>,
    timers: Timers,
    timing: ClerkTiming,
}

/// The network of a replicated service's world.
pub type RsmNet<O, R> = Net<RsmRpc<O, R>, ServerToken, Caller>;

/// The network type of the key/value worlds.
pub type KvNet = RsmNet<crate::kv::Op, String>;

impl<O, R> Clerks<O, R>
where
    O: Clone + std::fmt::Debug + serde::Serialize,
    R: Clone + std::fmt::Debug + serde::Serialize,
{
    /// No clerks yet; new ones get `timing`.
    pub fn new(timing: ClerkTiming) -> Self {
        Clerks {
            slots: Vec::new(),
            timers: Timers::default(),
            timing,
        }
    }

    /// Adds a clerk with the given id whose server `i` is reached through `ends[i]`.
    pub fn add(&mut self, client: ClientId, ends: Vec<String>) -> usize {
        let clerk = Clerk::new(client, ends.len(), self.timing);
        self.slots.push(Some(Slot {
            clerk,
            ends,
            waiter: None,
        }));
        self.slots.len() - 1
    }

    /// The ends of a clerk.
    pub fn ends(&self, ck: usize) -> &[String] {
        self.slots
            .get(ck)
            .and_then(Option::as_ref)
            .map_or(&[], |s| &s.ends)
    }

    /// Removes a clerk; returns its ends (to delete them from the network).
    pub fn remove(&mut self, ck: usize) -> Vec<String> {
        self.timers.cancel(ck, CLERK_TIMER);
        self.slots
            .get_mut(ck)
            .and_then(Option::take)
            .map(|s| s.ends)
            .unwrap_or_default()
    }

    /// Starts an operation on clerk `ck`; `done` receives its result.
    pub fn start(
        &mut self,
        k: &mut Kernel,
        net: &mut RsmNet<O, R>,
        ck: usize,
        op: O,
        done: Sender<R>,
    ) {
        let Some(slot) = self.slots.get_mut(ck).and_then(Option::as_mut) else {
            panic!("clerk {ck} was deleted");
        };
        let outputs = match slot.clerk.start(op) {
            Ok(o) => o,
            Err(_) => panic!("clerk {ck} is already running an operation"),
        };
        slot.waiter = Some(done);
        self.execute(k, net, ck, outputs);
    }

    /// The outcome of a clerk's call.
    pub fn on_reply(
        &mut self,
        k: &mut Kernel,
        net: &mut RsmNet<O, R>,
        ck: usize,
        attempt: u64,
        reply: Option<Reply<R>>,
    ) {
        let Some(slot) = self.slots.get_mut(ck).and_then(Option::as_mut) else {
            return;
        };
        let outputs = match reply {
            Some(r) => slot.clerk.on_reply(attempt, r),
            None => slot.clerk.on_failure(attempt),
        };
        self.execute(k, net, ck, outputs);
    }

    /// A clerk timer fired.
    pub fn on_timer(&mut self, k: &mut Kernel, net: &mut RsmNet<O, R>, key: TimerKey) {
        if !self.timers.fire(&key) {
            return;
        }
        let Some(slot) = self.slots.get_mut(key.node).and_then(Option::as_mut) else {
            return;
        };
        let outputs = slot.clerk.on_timer();
        self.execute(k, net, key.node, outputs);
    }

    fn execute(
        &mut self,
        k: &mut Kernel,
        net: &mut RsmNet<O, R>,
        ck: usize,
        outputs: Vec<ClerkOutput<O, R>>,
    ) {
        for o in outputs {
            match o {
                ClerkOutput::Send {
                    to,
                    attempt,
                    request,
                } => {
                    let Some(slot) = self.slots.get(ck).and_then(Option::as_ref) else {
                        return;
                    };
                    let caller = Caller::Clerk { clerk: ck, attempt };
                    net.call(k, &slot.ends[to], caller, RsmRpc::Clerk(request));
                }
                ClerkOutput::SetTimer(range) => {
                    self.timers.set(k, ck, 0, CLERK_TIMER, range);
                }
                ClerkOutput::CancelTimer => self.timers.cancel(ck, CLERK_TIMER),
                ClerkOutput::Done(value) => {
                    if let Some(w) = self
                        .slots
                        .get_mut(ck)
                        .and_then(Option::as_mut)
                        .and_then(|s| s.waiter.take())
                    {
                        w.send(value);
                    }
                }
            }
        }
    }
}

/// The network and the clerks of a world, borrowed together.
pub type ClerkParts<'a, O, R> = (&'a mut RsmNet<O, R>, &'a mut Clerks<O, R>);

/// A world that hosts clerks on a replicated service's network.
pub trait ClerkWorld: crate::sim::World + 'static {
    /// The service's operations.
    type Op: Clone + std::fmt::Debug + serde::Serialize + 'static;
    /// The service's results.
    type Output: Clone + std::fmt::Debug + serde::Serialize + 'static;

    /// The network and the clerks, borrowed together.
    fn clerk_parts(&mut self) -> ClerkParts<'_, Self::Op, Self::Output>;
}

/// A test's handle to one clerk: the lab's `*Clerk`.
pub struct Ck<W> {
    sim: crate::sim::Sim<W>,
    slot: usize,
}

impl<W> Clone for Ck<W> {
    fn clone(&self) -> Self {
        Ck {
            sim: self.sim.clone(),
            slot: self.slot,
        }
    }
}

impl<W: ClerkWorld> Ck<W> {
    /// A handle to clerk `slot` of the simulation.
    pub fn new(sim: crate::sim::Sim<W>, slot: usize) -> Self {
        Ck { sim, slot }
    }

    /// The clerk's slot in its world.
    pub fn slot(&self) -> usize {
        self.slot
    }

    /// The simulation the clerk lives in.
    pub fn sim(&self) -> &crate::sim::Sim<W> {
        &self.sim
    }

    /// Runs one operation to completion (the clerk retries until a server answers).
    pub async fn op(&self, op: W::Op) -> W::Output {
        let (tx, rx) = crate::sim::oneshot();
        let slot = self.slot;
        self.sim.with(|k, w| {
            let (net, clerks) = w.clerk_parts();
            clerks.start(k, net, slot, op, tx);
        });
        rx.await
    }
}
