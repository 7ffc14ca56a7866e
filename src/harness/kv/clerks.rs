//! The clerks of a key/value world: their pure cores, their ends, and the tasks waiting
//! for their operations.

use crate::kv::Clerk;
use crate::kv::{ClientId, Op, Reply};
use crate::rsm::clerk::{ClerkOutput, ClerkTiming};
use crate::sim::{Kernel, Net, Sender, TimerKey, Timers};

use super::history::{History, KvOp, KvOperation};
use super::rpc::{Caller, KvRpc, ServerToken};

/// The timer id of a clerk's one timer (server timers use ids below it).
pub const CLERK_TIMER: u32 = 100;

/// One clerk: its core, its ends (one per server, in the clerk's own order) and the
/// task awaiting its current operation.
struct Slot {
    clerk: Clerk,
    ends: Vec<String>,
    waiter: Option<Sender<String>>,
}

/// The clerks of a world, by slot number.
#[derive(Default)]
pub struct Clerks {
    slots: Vec<Option<Slot>>,
    timers: Timers,
    timing: ClerkTiming,
}

/// The network type of the key/value worlds.
pub type KvNet = Net<KvRpc, ServerToken, Caller>;

impl Clerks {
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
        net: &mut KvNet,
        ck: usize,
        op: Op,
        done: Sender<String>,
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
        net: &mut KvNet,
        ck: usize,
        attempt: u64,
        reply: Option<Reply>,
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
    pub fn on_timer(&mut self, k: &mut Kernel, net: &mut KvNet, key: TimerKey) {
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
        net: &mut KvNet,
        ck: usize,
        outputs: Vec<ClerkOutput<Op, String>>,
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
                    net.call(k, &slot.ends[to], caller, KvRpc::Clerk(request));
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

/// A world that hosts clerks on a key/value network.
pub trait ClerkWorld: crate::sim::World + 'static {
    /// The network and the clerks, borrowed together.
    fn clerk_parts(&mut self) -> (&mut KvNet, &mut Clerks);
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

    /// Runs one operation to completion (the clerk retries until a server answers).
    pub async fn op(&self, op: Op) -> String {
        let (tx, rx) = crate::sim::oneshot();
        let slot = self.slot;
        self.sim.with(|k, w| {
            let (net, clerks) = w.clerk_parts();
            clerks.start(k, net, slot, op, tx);
        });
        rx.await
    }

    /// Runs one operation and, if `log` is given, records it as client `cli` did it,
    /// with its call and return times (the lab's test wrappers `Get`, `Put`, `Append`).
    pub async fn recorded(&self, op: Op, log: Option<&History>, cli: usize) -> String {
        let call = self.sim.now().as_micros() as u64;
        let (kind, key, value) = match &op {
            Op::Get { key } => (KvOp::Get, key.clone(), String::new()),
            Op::Put { key, value } => (KvOp::Put, key.clone(), value.clone()),
            Op::Append { key, value } => (KvOp::Append, key.clone(), value.clone()),
            Op::AppendReturningOld { key, value } => (KvOp::AppendOld, key.clone(), value.clone()),
        };
        let output = self.op(op).await;
        if let Some(log) = log {
            let ret = self.sim.now().as_micros() as u64;
            log.push(KvOperation::new(
                cli as u64,
                kind,
                key,
                value,
                output.clone(),
                call,
                ret,
            ));
        }
        output
    }

    /// `ck.Get(key)`.
    pub async fn get(&self, key: &str) -> String {
        self.op(Op::Get { key: key.into() }).await
    }

    /// `ck.Put(key, value)`.
    pub async fn put(&self, key: &str, value: &str) {
        self.op(Op::Put {
            key: key.into(),
            value: value.into(),
        })
        .await;
    }

    /// `ck.Append(key, value)` of Lab 4 (no result).
    pub async fn append(&self, key: &str, value: &str) {
        self.op(Op::Append {
            key: key.into(),
            value: value.into(),
        })
        .await;
    }

    /// `ck.Append(key, value)` of Lab 2: returns the value before the append.
    pub async fn append_returning_old(&self, key: &str, value: &str) -> String {
        self.op(Op::AppendReturningOld {
            key: key.into(),
            value: value.into(),
        })
        .await
    }
}
