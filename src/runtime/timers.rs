//! Wall-clock timers: the deadlines of the core's timers and the clerks' timers, and the
//! durations drawn for them from the ranges the cores name.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use rand::Rng;

use crate::raft::TimeRange;

/// The set deadlines, one per key; setting a key again replaces its deadline.
#[derive(Debug)]
pub struct Timers<K> {
    by_key: BTreeMap<K, Instant>,
    by_time: BTreeSet<(Instant, K)>,
}

impl<K> Default for Timers<K> {
    fn default() -> Self {
        Timers {
            by_key: BTreeMap::new(),
            by_time: BTreeSet::new(),
        }
    }
}

impl<K: Ord + Copy> Timers<K> {
    /// No timers set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets (or resets) `key` to fire at `at`.
    pub fn set(&mut self, key: K, at: Instant) {
        self.cancel(key);
        self.by_key.insert(key, at);
        self.by_time.insert((at, key));
    }

    /// Stops `key` if it is set.
    pub fn cancel(&mut self, key: K) {
        if let Some(at) = self.by_key.remove(&key) {
            self.by_time.remove(&(at, key));
        }
    }

    /// When `key` fires, if it is set.
    pub fn deadline(&self, key: &K) -> Option<Instant> {
        self.by_key.get(key).copied()
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<Instant> {
        self.by_time.first().map(|&(at, _)| at)
    }

    /// Removes and returns the keys due at `now`, earliest first.
    pub fn due(&mut self, now: Instant) -> Vec<K> {
        let mut out = Vec::new();
        while let Some(&(at, key)) = self.by_time.first() {
            if at > now {
                break;
            }
            self.by_time.remove(&(at, key));
            self.by_key.remove(&key);
            out.push(key);
        }
        out
    }

    /// How many timers are set.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether no timer is set.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

/// A duration drawn uniformly from `[min, max)` (exactly `min` when they are equal).
pub fn draw(rng: &mut impl Rng, range: TimeRange) -> Duration {
    if range.max <= range.min {
        return range.min;
    }
    let span = (range.max - range.min).as_micros() as u64;
    range.min + Duration::from_micros(rng.random_range(0..span))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn fires_in_deadline_order_and_resets_replace() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut t = Timers::new();
        t.set('a', ms(30));
        t.set('b', ms(10));
        t.set('c', ms(20));
        t.set('a', ms(5));
        t.cancel('c');
        assert_eq!(t.next(), Some(ms(5)));
        assert_eq!(t.due(ms(10)), vec!['a', 'b']);
        assert!(t.is_empty());
    }

    #[test]
    fn draws_within_the_range() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let r = TimeRange::millis(300, 600);
        for _ in 0..1000 {
            let d = draw(&mut rng, r);
            assert!(d >= r.min && d < r.max, "{d:?}");
        }
        assert_eq!(
            draw(&mut rng, TimeRange::millis(100, 100)),
            Duration::from_millis(100)
        );
    }
}
