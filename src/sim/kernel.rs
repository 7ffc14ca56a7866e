//! The discrete-event kernel: a virtual clock, one queue of timed events ordered by
//! (time, sequence number), the seeded random number generator, and a running hash of
//! every event processed (the trace hash that the determinism check compares), and,
//! when a driver asks for it, the full event trace (see [`super::trace`]).

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::task::Waker;
use std::time::Duration;

use super::net::NetEvent;
use super::rng::Rng;
use super::trace::{TraceEvent, TraceRecord};

/// A timer of a node, as the world scheduled it. The world gives each (node, timer) a
/// generation number; a timer event whose generation is no longer current was
/// cancelled or reset, and is ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerKey {
    /// The world's index of the node.
    pub node: usize,
    /// The node's incarnation (a restarted node does not see its old timers).
    pub incarnation: u64,
    /// Which of the node's timers.
    pub timer: u32,
    /// The generation of that timer when it was set.
    pub generation: u64,
}

/// Something that happens at a moment of virtual time.
#[derive(Debug)]
pub enum Event {
    /// A task's sleep is over.
    Wake(Waker),
    /// A step of an RPC in the simulated network.
    Net(NetEvent),
    /// A node's timer fires.
    Timer(TimerKey),
}

impl Event {
    fn digest(&self) -> [u64; 3] {
        match self {
            Event::Wake(_) => [1, 0, 0],
            Event::Net(n) => {
                let (kind, call) = n.digest();
                [2, kind, call]
            }
            Event::Timer(t) => [
                3,
                (t.node as u64) << 32 | u64::from(t.timer),
                t.generation ^ t.incarnation.rotate_left(40),
            ],
        }
    }
}

struct Scheduled {
    at: Duration,
    seq: u64,
    event: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> Ordering {
        // BinaryHeap is a max-heap: the earliest (time, seq) must compare greatest.
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// The kernel of a simulation.
pub struct Kernel {
    seed: u64,
    now: Duration,
    seq: u64,
    queue: BinaryHeap<Scheduled>,
    /// The simulation's only source of randomness.
    pub rng: Rng,
    trace_hash: u64,
    events: u64,
    clock: Arc<AtomicU64>,
    trace: Option<Vec<TraceRecord>>,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

impl Kernel {
    /// A kernel at time zero with the generator seeded by `seed`.
    pub fn new(seed: u64) -> Self {
        Kernel {
            seed,
            now: Duration::ZERO,
            seq: 0,
            queue: BinaryHeap::new(),
            rng: Rng::new(seed),
            trace_hash: FNV_OFFSET,
            events: 0,
            clock: Arc::new(AtomicU64::new(0)),
            trace: None,
        }
    }

    /// The seed the run was started from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The current virtual time.
    pub fn now(&self) -> Duration {
        self.now
    }

    /// A shared view of the clock in microseconds, for log formatting.
    pub fn clock(&self) -> Arc<AtomicU64> {
        self.clock.clone()
    }

    /// Schedules `event` at `now + after`. Events at the same moment happen in the order
    /// they were scheduled.
    pub fn schedule(&mut self, after: Duration, event: Event) {
        self.schedule_at(self.now + after, event);
    }

    /// Schedules `event` at the absolute time `at` (not before now).
    pub fn schedule_at(&mut self, at: Duration, event: Event) {
        self.seq += 1;
        self.queue.push(Scheduled {
            at: at.max(self.now),
            seq: self.seq,
            event,
        });
    }

    /// Takes the next event, advancing the clock to its time.
    pub fn pop(&mut self) -> Option<Event> {
        let s = self.queue.pop()?;
        self.now = s.at;
        self.clock
            .store(s.at.as_micros() as u64, AtomicOrdering::Relaxed);
        self.events += 1;
        let d = s.event.digest();
        self.mix(&[s.at.as_micros() as u64, d[0], d[1], d[2]]);
        Some(s.event)
    }

    /// The time of the next event, if any.
    pub fn peek_time(&self) -> Option<Duration> {
        self.queue.peek().map(|s| s.at)
    }

    /// Mixes more facts into the trace hash (for example the size of a message).
    pub fn mix(&mut self, words: &[u64]) {
        for w in words {
            for b in w.to_le_bytes() {
                self.trace_hash ^= u64::from(b);
                self.trace_hash = self.trace_hash.wrapping_mul(FNV_PRIME);
            }
        }
    }

    /// The hash of every event so far: two runs of one seed must agree on it.
    pub fn trace_hash(&self) -> u64 {
        self.trace_hash
    }

    /// How many events have been processed.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Starts recording the full event trace (see [`super::trace`]).
    pub fn start_tracing(&mut self) {
        self.trace.get_or_insert_with(Vec::new);
    }

    /// Whether the full event trace is being recorded.
    pub fn tracing(&self) -> bool {
        self.trace.is_some()
    }

    /// Records an event of the trace at the current time, at server `node` (if the event
    /// belongs to one). `event` is called only while tracing, so building the record
    /// costs nothing otherwise.
    pub fn trace(&mut self, node: Option<usize>, event: impl FnOnce() -> TraceEvent) {
        if let Some(records) = &mut self.trace {
            records.push(TraceRecord {
                t_us: self.now.as_micros() as u64,
                node: node.map(|n| n as u64),
                event: event(),
            });
        }
    }

    /// Takes the records traced since the last call (tracing goes on).
    pub fn take_trace(&mut self) -> Vec<TraceRecord> {
        self.trace.as_mut().map(std::mem::take).unwrap_or_default()
    }
}
