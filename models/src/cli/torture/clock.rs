//! The history's clock: monotonic, and strictly increasing across every thread.
//!
//! Each stamp is the nanoseconds since the run began ([`Instant`], never adjusted), or
//! one more than the last stamp given out if that is later. Stamps are handed out by
//! one atomic compare-and-swap, so no two events share a stamp, and an event stamped
//! after another (in real time) gets the larger stamp. In particular a call issued
//! after some return was stamped is strictly later than that return: the checker,
//! which reads equal times as concurrent, sees the two operations in their real order.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

/// A strictly increasing monotonic clock, shared by the run's threads.
#[derive(Debug)]
pub struct Clock {
    origin: Instant,
    last: AtomicI64,
}

impl Clock {
    /// A clock whose stamps count from now.
    pub fn new() -> Clock {
        Clock {
            origin: Instant::now(),
            last: AtomicI64::new(-1),
        }
    }

    /// The next stamp: later than every stamp handed out before, and no earlier than
    /// the nanoseconds elapsed since the clock was made.
    pub fn stamp(&self) -> i64 {
        let now = i64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(i64::MAX - 1);
        let mut prev = self.last.load(Ordering::SeqCst);
        loop {
            let next = now.max(prev + 1);
            match self
                .last
                .compare_exchange(prev, next, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return next,
                Err(seen) => prev = seen,
            }
        }
    }

    /// The time since the clock was made.
    pub fn elapsed(&self) -> Duration {
        self.origin.elapsed()
    }

    /// A stamp as the time since the clock was made.
    pub fn at(stamp: i64) -> Duration {
        Duration::from_nanos(u64::try_from(stamp).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn stamps_are_unique_and_increase_on_every_thread() {
        let clock = Arc::new(Clock::new());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let c = clock.clone();
                std::thread::spawn(move || (0..20_000).map(|_| c.stamp()).collect::<Vec<_>>())
            })
            .collect();
        let mut all = Vec::new();
        for t in threads {
            let v = t.join().unwrap();
            assert!(v.windows(2).all(|w| w[0] < w[1]), "increasing per thread");
            all.extend(v);
        }
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "no stamp given twice");
    }

    #[test]
    fn a_stamp_taken_after_another_is_larger_even_within_a_nanosecond() {
        let clock = Clock::new();
        let a = clock.stamp();
        let b = clock.stamp();
        assert!(b > a);
        std::thread::sleep(Duration::from_millis(2));
        let c = clock.stamp();
        assert!(c - b >= 2_000_000, "follows real time: {a} {b} {c}");
        assert!(Clock::at(c) >= Duration::from_millis(2));
    }
}
