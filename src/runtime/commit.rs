//! Group commit: the hand-off between the event loop and the storage writer, and the
//! rule that nothing leaves the process before the state it depends on is durable.
//!
//! The event loop owns the core. When a step outputs a [`Persist`](crate::raft::Persist), the loop
//! [`Queue::submit`]s it and gets its sequence number; it does not wait. Every output
//! that leaves the process afterwards (a message to a peer, an answer to a client) is
//! pushed into the [`Outbox`] with the sequence number of the last record it may depend
//! on: for a message to a peer, the last one submitted so far (it may reveal any state
//! persisted before it); for the answer to a client's command, the record of the step
//! that started the command (its log entry, and every entry before it, is in that record
//! or an earlier one). The writer thread [`Queue::take`]s everything submitted since its
//! last turn as one batch, appends it all and fsyncs once, then reports the batch's last
//! sequence number as durable; the loop hands that to [`Outbox::durable`], which releases
//! the outputs whose records are now durable: outputs that wait for the same record keep
//! the order they were pushed in, and messages to peers (which always wait for the
//! latest record) keep theirs.
//! While the writer is fsyncing, the loop keeps stepping the core and submitting, so the
//! next batch holds every `Persist` of that time: one fsync for many commands.
//!
//! `RUSTFLAGS="--cfg raftlab_loom" cargo test --release --lib runtime::commit` explores
//! the hand-off under loom: whatever the interleaving, no output is released before the
//! disk holds its record, and every record is written exactly once, in order.

use std::collections::VecDeque;

#[cfg(raftlab_loom)]
use loom::sync::{Condvar, Mutex, MutexGuard};
#[cfg(not(raftlab_loom))]
use std::sync::{Condvar, Mutex, MutexGuard};

/// A persist record's place in the order of submission (1, 2, ...); 0 is "nothing".
pub type Seq = u64;

/// The queue of records from the event loop to the writer.
#[derive(Debug)]
pub struct Queue<T> {
    state: Mutex<QueueState<T>>,
    ready: Condvar,
}

#[derive(Debug)]
struct QueueState<T> {
    items: Vec<T>,
    submitted: Seq,
    closed: bool,
}

/// Records taken by the writer in one turn.
#[derive(Debug, PartialEq, Eq)]
pub struct Batch<T> {
    /// The records, in submission order.
    pub items: Vec<T>,
    /// The sequence number of the last one: durable once the batch is synced.
    pub last: Seq,
}

impl<T> Default for Queue<T> {
    fn default() -> Self {
        Queue {
            state: Mutex::new(QueueState {
                items: Vec::new(),
                submitted: 0,
                closed: false,
            }),
            ready: Condvar::new(),
        }
    }
}

impl<T> Queue<T> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a record and returns its sequence number. Never blocks on the disk.
    pub fn submit(&self, item: T) -> Seq {
        let mut s = self.lock();
        s.items.push(item);
        s.submitted += 1;
        let seq = s.submitted;
        drop(s);
        self.ready.notify_one();
        seq
    }

    /// Waits for records and takes them all; `None` once the queue is closed and
    /// empty.
    pub fn take(&self) -> Option<Batch<T>> {
        let mut s = self.lock();
        loop {
            if !s.items.is_empty() {
                let items = std::mem::take(&mut s.items);
                return Some(Batch {
                    items,
                    last: s.submitted,
                });
            }
            if s.closed {
                return None;
            }
            s = match self.ready.wait(s) {
                Ok(g) => g,
                Err(poisoned) => poisoned.into_inner(),
            };
        }
    }

    /// No more records will come: [`Queue::take`] returns what is left, then `None`.
    pub fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }

    fn lock(&self) -> MutexGuard<'_, QueueState<T>> {
        // A writer that panicked holding the lock leaves the queue's data consistent
        // (every change is a single push or take), so the poison is ignored.
        match self.state.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// Outputs waiting for the records they depend on, ordered by that record (and by the
/// order they were pushed in, for the same record).
#[derive(Debug)]
pub struct Outbox<E> {
    waiting: VecDeque<(Seq, E)>,
    durable: Seq,
}

impl<E> Default for Outbox<E> {
    fn default() -> Self {
        Outbox {
            waiting: VecDeque::new(),
            durable: 0,
        }
    }
}

impl<E> Outbox<E> {
    /// An empty outbox; nothing is durable yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// An output that may leave once record `after` is durable. Returns it at once if
    /// its record is durable, else keeps it behind every output waiting for the same or
    /// an earlier record.
    pub fn push(&mut self, after: Seq, e: E) -> Option<E> {
        if after <= self.durable {
            return Some(e);
        }
        let at = self.waiting.partition_point(|(a, _)| *a <= after);
        self.waiting.insert(at, (after, e));
        None
    }

    /// Records through `seq` are durable: the outputs that may leave now, in order.
    pub fn durable(&mut self, seq: Seq) -> Vec<E> {
        self.durable = self.durable.max(seq);
        let mut out = Vec::new();
        while let Some((after, _)) = self.waiting.front() {
            if *after > self.durable {
                break;
            }
            if let Some((_, e)) = self.waiting.pop_front() {
                out.push(e);
            }
        }
        out
    }

    /// The highest record known durable.
    pub fn durable_seq(&self) -> Seq {
        self.durable
    }

    /// How many outputs are waiting.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }
}

#[cfg(all(test, not(raftlab_loom)))]
mod tests {
    use super::*;

    #[test]
    fn outputs_wait_for_their_record_and_keep_their_order() {
        let mut o = Outbox::new();
        assert_eq!(o.push(0, "before any persist"), Some("before any persist"));
        assert_eq!(o.push(1, "a"), None);
        assert_eq!(o.push(1, "b"), None);
        assert_eq!(o.push(3, "c"), None);
        assert_eq!(o.push(2, "d"), None);
        assert_eq!(o.push(3, "e"), None);
        assert_eq!(o.durable(1), vec!["a", "b"]);
        // Record 1 is durable: an output that needs only it leaves at once, even though
        // outputs that need later records are waiting.
        assert_eq!(o.push(1, "f"), Some("f"));
        assert_eq!(o.durable(2), vec!["d"]);
        assert_eq!(o.durable(3), vec!["c", "e"], "same record: pushed order");
        assert_eq!(o.push(3, "g"), Some("g"));
        assert_eq!(
            o.durable(2),
            Vec::<&str>::new(),
            "the watermark never goes back"
        );
        assert_eq!(o.durable_seq(), 3);
        assert_eq!(o.waiting(), 0);
    }

    #[test]
    fn a_batch_takes_everything_submitted() {
        let q = Queue::new();
        assert_eq!(q.submit('a'), 1);
        assert_eq!(q.submit('b'), 2);
        assert_eq!(
            q.take(),
            Some(Batch {
                items: vec!['a', 'b'],
                last: 2
            })
        );
        assert_eq!(q.submit('c'), 3);
        q.close();
        assert_eq!(
            q.take(),
            Some(Batch {
                items: vec!['c'],
                last: 3
            })
        );
        assert_eq!(q.take(), None);
    }
}

#[cfg(all(test, raftlab_loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use loom::sync::atomic::{AtomicU64, Ordering};

    /// The event loop submits records and pushes outputs that depend on them; the
    /// writer takes batches, "writes" them to a disk and publishes the durable
    /// watermark, which the loop reads to release outputs. Every released output's
    /// record must be on the disk.
    #[test]
    fn nothing_is_released_before_its_record_is_on_disk() {
        loom::model(|| {
            let queue = Arc::new(Queue::<u64>::new());
            let disk = Arc::new(loom::sync::Mutex::new(Vec::<u64>::new()));
            let durable = Arc::new(AtomicU64::new(0));
            let writer = {
                let (queue, disk, durable) = (queue.clone(), disk.clone(), durable.clone());
                loom::thread::spawn(move || {
                    while let Some(batch) = queue.take() {
                        disk.lock().unwrap().extend(batch.items);
                        // The fsync is done: publish.
                        durable.store(batch.last, Ordering::Release);
                    }
                })
            };
            let mut outbox = Outbox::new();
            let mut released = Vec::new();
            let check = |out: Vec<u64>, released: &mut Vec<u64>| {
                let on_disk = disk.lock().unwrap().clone();
                for needs in out {
                    assert!(
                        on_disk.contains(&needs),
                        "output depending on record {needs} left before the disk had it"
                    );
                    released.push(needs);
                }
            };
            for record in 1..=2u64 {
                let seq = queue.submit(record);
                assert_eq!(seq, record);
                if let Some(e) = outbox.push(seq, record) {
                    check(vec![e], &mut released);
                }
                let d = durable.load(Ordering::Acquire);
                let out = outbox.durable(d);
                check(out, &mut released);
            }
            queue.close();
            writer.join().unwrap();
            let out = outbox.durable(durable.load(Ordering::Acquire));
            check(out, &mut released);
            assert_eq!(released, vec![1, 2], "every output leaves once, in order");
            assert_eq!(
                *disk.lock().unwrap(),
                vec![1, 2],
                "records written once, in order"
            );
        });
    }
}
