//! Fair work hand-out across threads, with cancellation and a deadline.
//!
//! Each partition of a history is a [`Task`] that can be run for a bounded number of
//! search steps (a quantum) and then resumed. A [`Pool`] keeps the unfinished tasks in
//! one round-robin queue: a worker takes the task at the front, runs it for one
//! quantum, and puts it back at the end if it is not finished. So an easy partition
//! finishes after a few quanta however hard its neighbours are, and there are never
//! more running tasks than workers.
//!
//! Before taking a task, a worker stops if the pool is cancelled (a finished task's
//! outcome satisfied the pool's `stop_when` predicate, for example an illegal
//! partition when the caller does not want the rest) or if the [`Clock`] says the time
//! budget is spent. A worker also stops when it finds the queue empty: the tasks that
//! are still unfinished are held by other workers, which put them back and take them
//! again. When every worker has returned, [`Pool::finish`] hands back each task, in
//! its original order, with how it ended.
//!
//! The pool uses the primitives of [`crate::sync`], so loom checks it (see the
//! `loom_tests` module, run with `RUSTFLAGS="--cfg loom"`).

use crate::sync::{AtomicBool, Mutex, Ordering, lock};
use std::collections::VecDeque;

/// A resumable piece of work.
pub(crate) trait Task: Send {
    /// What a finished task produced.
    type Outcome: Send;
    /// Works for at most about `quantum` steps; returns the outcome once finished.
    fn run(&mut self, quantum: u64) -> Option<Self::Outcome>;
}

/// Tells workers when the time budget is spent.
pub(crate) trait Clock: Sync {
    /// True once no new quantum may start.
    fn expired(&self) -> bool;
}

/// How a task ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Finish<O> {
    /// It ran to completion.
    Done(O),
    /// Another task's outcome cancelled the pool first.
    Cancelled,
    /// The clock expired first.
    TimedOut,
}

struct Queue<T: Task> {
    ready: VecDeque<(usize, T)>,
    done: Vec<Option<(T, T::Outcome)>>,
}

/// A round-robin queue of tasks shared by the workers.
pub(crate) struct Pool<T: Task, F> {
    queue: Mutex<Queue<T>>,
    cancelled: AtomicBool,
    timed_out: AtomicBool,
    quantum: u64,
    stop_when: F,
}

impl<T, F> Pool<T, F>
where
    T: Task,
    F: Fn(&T::Outcome) -> bool + Sync,
{
    /// A pool over `tasks`; `stop_when` says which outcomes cancel the others.
    pub(crate) fn new(tasks: Vec<T>, quantum: u64, stop_when: F) -> Self {
        let done = tasks.iter().map(|_| None).collect();
        Pool {
            queue: Mutex::new(Queue {
                ready: tasks.into_iter().enumerate().collect(),
                done,
            }),
            cancelled: AtomicBool::new(false),
            timed_out: AtomicBool::new(false),
            quantum: quantum.max(1),
            stop_when,
        }
    }

    /// One worker's loop; returns when there is nothing left for it to do.
    pub(crate) fn work(&self, clock: &impl Clock) {
        loop {
            if self.cancelled.load(Ordering::Acquire) {
                return;
            }
            if clock.expired() {
                self.timed_out.store(true, Ordering::Release);
                self.cancelled.store(true, Ordering::Release);
                return;
            }
            let Some((index, mut task)) = lock(&self.queue).ready.pop_front() else {
                return;
            };
            match task.run(self.quantum) {
                None => lock(&self.queue).ready.push_back((index, task)),
                Some(outcome) => {
                    let stop = (self.stop_when)(&outcome);
                    lock(&self.queue).done[index] = Some((task, outcome));
                    if stop {
                        self.cancelled.store(true, Ordering::Release);
                    }
                }
            }
        }
    }

    /// Every task, in the original order, with how it ended. Call after every worker
    /// has returned.
    pub(crate) fn finish(self) -> Vec<(T, Finish<T::Outcome>)> {
        let timed_out = self.timed_out.load(Ordering::Acquire);
        let queue = self
            .queue
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut slots: Vec<Option<(T, Finish<T::Outcome>)>> = queue
            .done
            .into_iter()
            .map(|d| d.map(|(task, outcome)| (task, Finish::Done(outcome))))
            .collect();
        for (index, task) in queue.ready {
            let how = if timed_out {
                Finish::TimedOut
            } else {
                Finish::Cancelled
            };
            slots[index] = Some((task, how));
        }
        slots.into_iter().flatten().collect()
    }
}

/// Runs `tasks` on `threads` workers (the calling thread is one of them) and returns
/// them in order with how each ended.
#[cfg(not(loom))]
pub(crate) fn run<T, F>(
    tasks: Vec<T>,
    threads: usize,
    quantum: u64,
    clock: &impl Clock,
    stop_when: F,
) -> Vec<(T, Finish<T::Outcome>)>
where
    T: Task,
    F: Fn(&T::Outcome) -> bool + Sync,
{
    let workers = threads.clamp(1, tasks.len().max(1));
    let pool = Pool::new(tasks, quantum, stop_when);
    std::thread::scope(|scope| {
        for _ in 1..workers {
            scope.spawn(|| pool.work(clock));
        }
        pool.work(clock);
    });
    pool.finish()
}

/// Under loom the pool is only exercised by its own loom tests; this stand-in keeps
/// the crate compiling by running every task on the calling thread.
#[cfg(loom)]
pub(crate) fn run<T, F>(
    tasks: Vec<T>,
    _threads: usize,
    quantum: u64,
    clock: &impl Clock,
    stop_when: F,
) -> Vec<(T, Finish<T::Outcome>)>
where
    T: Task,
    F: Fn(&T::Outcome) -> bool + Sync,
{
    let pool = Pool::new(tasks, quantum, stop_when);
    pool.work(clock);
    pool.finish()
}

/// A clock with an optional deadline on the monotonic wall clock.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline(pub(crate) Option<std::time::Instant>);

impl Clock for Deadline {
    fn expired(&self) -> bool {
        self.0.is_some_and(|d| std::time::Instant::now() >= d)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Finishes with `outcome` after `runs` quanta; `runs == usize::MAX` never does.
    struct Countdown {
        runs: usize,
        outcome: u32,
        log: &'static AtomicUsize,
    }

    impl Task for Countdown {
        type Outcome = u32;
        fn run(&mut self, _quantum: u64) -> Option<u32> {
            self.log.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if self.runs == usize::MAX {
                return None;
            }
            self.runs = self.runs.saturating_sub(1);
            (self.runs == 0).then_some(self.outcome)
        }
    }

    fn never() -> Deadline {
        Deadline(None)
    }

    #[test]
    fn every_task_finishes_and_comes_back_in_order() {
        static LOG: AtomicUsize = AtomicUsize::new(0);
        for threads in [1, 2, 4] {
            let tasks = (0..7)
                .map(|i| Countdown {
                    runs: 1 + (i * 3) % 5,
                    outcome: i as u32 * 10,
                    log: &LOG,
                })
                .collect();
            let out = run(tasks, threads, 1, &never(), |_| false);
            let outcomes: Vec<_> = out.into_iter().map(|(_, f)| f).collect();
            let want: Vec<_> = (0..7).map(|i| Finish::Done(i * 10)).collect();
            assert_eq!(outcomes, want);
        }
    }

    #[test]
    fn one_worker_still_finishes_an_easy_task_queued_behind_an_endless_one() {
        static LOG: AtomicUsize = AtomicUsize::new(0);
        let tasks = vec![
            Countdown {
                runs: usize::MAX,
                outcome: 0,
                log: &LOG,
            },
            Countdown {
                runs: 3,
                outcome: 7,
                log: &LOG,
            },
        ];
        let out = run(tasks, 1, 1, &never(), |&o| o == 7);
        assert_eq!(out[0].1, Finish::Cancelled);
        assert_eq!(out[1].1, Finish::Done(7));
        // Round robin: the endless task ran once per quantum of the easy one.
        assert_eq!(out[0].0.log.load(std::sync::atomic::Ordering::Relaxed), 6);
    }

    #[test]
    fn an_expired_clock_times_out_whatever_is_left() {
        static LOG: AtomicUsize = AtomicUsize::new(0);
        let tasks = vec![Countdown {
            runs: usize::MAX,
            outcome: 0,
            log: &LOG,
        }];
        let past = Deadline(Some(std::time::Instant::now()));
        let out = run(tasks, 2, 1, &past, |_| false);
        assert_eq!(out[0].1, Finish::TimedOut);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use loom::sync::atomic::AtomicBool as LoomBool;

    /// Finishes after `runs` quanta, or never when `runs` is `None`.
    struct Job {
        runs: Option<u32>,
        outcome: u32,
    }

    impl Task for Job {
        type Outcome = u32;
        fn run(&mut self, _quantum: u64) -> Option<u32> {
            match &mut self.runs {
                None => {
                    loom::thread::yield_now();
                    None
                }
                Some(n) => {
                    *n -= 1;
                    if *n == 0 {
                        Some(self.outcome)
                    } else {
                        loom::thread::yield_now();
                        None
                    }
                }
            }
        }
    }

    struct Flag(Arc<LoomBool>);

    impl Clock for Flag {
        fn expired(&self) -> bool {
            self.0.load(Ordering::Acquire)
        }
    }

    fn two_workers<F>(pool: Pool<Job, F>, clock: Arc<LoomBool>) -> Vec<(Job, Finish<u32>)>
    where
        F: Fn(&u32) -> bool + Sync + Send + 'static,
    {
        let pool = Arc::new(pool);
        let other = {
            let pool = pool.clone();
            let clock = clock.clone();
            loom::thread::spawn(move || pool.work(&Flag(clock)))
        };
        pool.work(&Flag(clock));
        other.join().unwrap();
        match Arc::try_unwrap(pool) {
            Ok(pool) => pool.finish(),
            Err(_) => panic!("a worker still holds the pool"),
        }
    }

    #[test]
    fn loom_every_task_is_finished_exactly_once() {
        loom::model(|| {
            let jobs = vec![
                Job {
                    runs: Some(2),
                    outcome: 1,
                },
                Job {
                    runs: Some(1),
                    outcome: 2,
                },
                Job {
                    runs: Some(2),
                    outcome: 3,
                },
            ];
            let out = two_workers(
                Pool::new(jobs, 1, |_| false),
                Arc::new(LoomBool::new(false)),
            );
            let got: Vec<_> = out.into_iter().map(|(_, f)| f).collect();
            assert_eq!(got, vec![Finish::Done(1), Finish::Done(2), Finish::Done(3)]);
        });
    }

    #[test]
    fn loom_a_stopping_outcome_cancels_an_endless_task() {
        loom::model(|| {
            let jobs = vec![
                Job {
                    runs: None,
                    outcome: 0,
                },
                Job {
                    runs: Some(1),
                    outcome: 9,
                },
            ];
            let out = two_workers(
                Pool::new(jobs, 1, |&o| o == 9),
                Arc::new(LoomBool::new(false)),
            );
            assert_eq!(out.len(), 2);
            assert_eq!(out[0].1, Finish::Cancelled);
            assert_eq!(out[1].1, Finish::Done(9));
        });
    }

    /// A clock that expires after a number of looks at it.
    struct Countdown(loom::sync::atomic::AtomicUsize);

    impl Clock for Countdown {
        fn expired(&self) -> bool {
            self.0.fetch_sub(1, Ordering::AcqRel) <= 1
        }
    }

    #[test]
    fn loom_the_deadline_stops_endless_tasks() {
        loom::model(|| {
            let clock = Arc::new(Countdown(loom::sync::atomic::AtomicUsize::new(3)));
            let jobs = vec![
                Job {
                    runs: None,
                    outcome: 0,
                },
                Job {
                    runs: None,
                    outcome: 0,
                },
            ];
            let pool = Arc::new(Pool::new(jobs, 1, |_: &u32| false));
            let other = {
                let (pool, clock) = (pool.clone(), clock.clone());
                loom::thread::spawn(move || pool.work(&*clock))
            };
            pool.work(&*clock);
            other.join().unwrap();
            let pool = match Arc::try_unwrap(pool) {
                Ok(pool) => pool,
                Err(_) => panic!("a worker still holds the pool"),
            };
            let out = pool.finish();
            assert_eq!(out.len(), 2);
            assert!(out.iter().all(|(_, f)| *f == Finish::TimedOut));
        });
    }
}
