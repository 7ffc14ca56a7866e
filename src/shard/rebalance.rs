//! Rebalancing: which group serves which shard after a Join or a Leave.
//!
//! [`rebalance`] is a pure function of the previous assignment and the set of groups.
//! With `n` groups, every group ends with `NSHARDS / n` shards or one more; the
//! `NSHARDS % n` groups that get one more are those that already serve the most shards
//! (ties: smaller gid first), which makes the number of moved shards the smallest
//! possible. Shards move only if their group left (or never existed: gid 0), or if
//! their group has more than its target (it gives up its highest-numbered shards).
//! The freed shards, lowest-numbered first, go to the groups below their target, in
//! gid order. Everything iterates over sorted collections, so every replica computes
//! the same configuration.
//!
//! Worked cases (shards 0-9; moved = shards whose group changed):
//!
//! | before                          | groups      | after                           | moved |
//! |---------------------------------|-------------|---------------------------------|-------|
//! | 0 0 0 0 0 0 0 0 0 0             | {1}         | 1 1 1 1 1 1 1 1 1 1             | 10    |
//! | 1 1 1 1 1 1 1 1 1 1             | {1,2}       | 1 1 1 1 1 2 2 2 2 2             | 5     |
//! | 1 1 1 1 1 2 2 2 2 2             | {1,2,3}     | 1 1 1 1 3 2 2 2 3 3             | 3     |
//! | 1 1 1 1 3 2 2 2 3 3             | {2,3}       | 2 2 3 3 3 2 2 2 3 3             | 4     |
//! | 1 1 1 1 1 2 2 2 2 2             | {2}         | 2 2 2 2 2 2 2 2 2 2             | 5     |
//! | 1 1 2 2 3 3 4 4 5 5             | {1..5, 6}   | 1 1 2 2 3 3 4 4 5 6             | 1     |
//! | 1 2 3 4 5 6 7 8 9 10            | {1..10, 11} | 1 2 3 4 5 6 7 8 9 10            | 0     |
//! | 1 1 1 1 1 2 2 2 2 2             | {}          | 0 0 0 0 0 0 0 0 0 0             | 10    |
//!
//! (The table is checked by a unit test.)

use std::collections::{BTreeMap, BTreeSet};

use super::{Gid, NSHARDS};

/// The new assignment of shards to `groups`, moving as few shards as possible from
/// `shards`. With no groups, every shard goes to gid 0.
pub fn rebalance(shards: &[Gid; NSHARDS], groups: &BTreeSet<Gid>) -> [Gid; NSHARDS] {
    let groups: BTreeSet<Gid> = groups.iter().copied().filter(|&g| g != 0).collect();
    if groups.is_empty() {
        return [0; NSHARDS];
    }
    let mut owned: BTreeMap<Gid, Vec<usize>> = groups.iter().map(|&g| (g, Vec::new())).collect();
    let mut pool: Vec<usize> = Vec::new();
    for (shard, gid) in shards.iter().enumerate() {
        match owned.get_mut(gid) {
            Some(list) => list.push(shard),
            None => pool.push(shard),
        }
    }
    let targets = targets(&owned);
    for (gid, list) in owned.iter_mut() {
        let target = targets[gid];
        while list.len() > target {
            if let Some(shard) = list.pop() {
                pool.push(shard);
            }
        }
    }
    pool.sort_unstable();
    let mut pool = pool.into_iter();
    let mut out = [0; NSHARDS];
    for (gid, list) in owned.iter_mut() {
        while list.len() < targets[gid] {
            match pool.next() {
                Some(shard) => list.push(shard),
                None => break,
            }
        }
        for &shard in list.iter() {
            out[shard] = *gid;
        }
    }
    out
}

/// Each group's target: `NSHARDS / n`, plus one for the `NSHARDS % n` groups that
/// serve the most shards now (ties broken by smaller gid).
fn targets(owned: &BTreeMap<Gid, Vec<usize>>) -> BTreeMap<Gid, usize> {
    let n = owned.len();
    let (base, extra) = (NSHARDS / n, NSHARDS % n);
    let mut order: Vec<(usize, Gid)> = owned.iter().map(|(&g, l)| (l.len(), g)).collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    order
        .into_iter()
        .enumerate()
        .map(|(rank, (_, g))| (g, base + usize::from(rank < extra)))
        .collect()
}

/// How many shards changed group between two assignments.
pub fn moved(before: &[Gid; NSHARDS], after: &[Gid; NSHARDS]) -> usize {
    before.iter().zip(after).filter(|(a, b)| a != b).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn set(gids: &[Gid]) -> BTreeSet<Gid> {
        gids.iter().copied().collect()
    }

    #[test]
    fn worked_cases_of_the_module_docs() {
        type Case = ([Gid; 10], Vec<Gid>, [Gid; 10], usize);
        let cases: [Case; 8] = [
            ([0; 10], vec![1], [1; 10], 10),
            ([1; 10], vec![1, 2], [1, 1, 1, 1, 1, 2, 2, 2, 2, 2], 5),
            (
                [1, 1, 1, 1, 1, 2, 2, 2, 2, 2],
                vec![1, 2, 3],
                [1, 1, 1, 1, 3, 2, 2, 2, 3, 3],
                3,
            ),
            (
                [1, 1, 1, 1, 3, 2, 2, 2, 3, 3],
                vec![2, 3],
                [2, 2, 3, 3, 3, 2, 2, 2, 3, 3],
                4,
            ),
            ([1, 1, 1, 1, 1, 2, 2, 2, 2, 2], vec![2], [2; 10], 5),
            (
                [1, 1, 2, 2, 3, 3, 4, 4, 5, 5],
                vec![1, 2, 3, 4, 5, 6],
                [1, 1, 2, 2, 3, 3, 4, 4, 5, 6],
                1,
            ),
            (
                [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
                (1..=11).collect(),
                [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
                0,
            ),
            ([1, 1, 1, 1, 1, 2, 2, 2, 2, 2], vec![], [0; 10], 10),
        ];
        for (before, groups, after, n) in cases {
            let got = rebalance(&before, &set(&groups));
            assert_eq!(got, after, "{before:?} with groups {groups:?}");
            assert_eq!(moved(&before, &got), n);
        }
    }

    /// The fewest moves any balanced assignment needs, by brute force over which
    /// groups get the extra shard.
    fn fewest_moves(before: &[Gid; NSHARDS], groups: &BTreeSet<Gid>) -> usize {
        if groups.is_empty() {
            return before.iter().filter(|&&g| g != 0).count();
        }
        let gids: Vec<Gid> = groups.iter().copied().collect();
        let n = gids.len();
        let (base, extra) = (NSHARDS / n, NSHARDS % n);
        let count = |g: Gid| before.iter().filter(|&&x| x == g).count();
        let orphans = before.iter().filter(|g| !groups.contains(g)).count();
        let mut best = usize::MAX;
        for mask in 0u32..(1 << n) {
            if mask.count_ones() as usize != extra {
                continue;
            }
            let excess: usize = gids
                .iter()
                .enumerate()
                .map(|(i, &g)| {
                    let t = base + usize::from(mask & (1 << i) != 0);
                    count(g).saturating_sub(t)
                })
                .sum();
            best = best.min(orphans + excess);
        }
        best
    }

    fn check_balanced(after: &[Gid; NSHARDS], groups: &BTreeSet<Gid>) {
        if groups.is_empty() {
            assert_eq!(after, &[0; NSHARDS]);
            return;
        }
        let counts: Vec<usize> = groups
            .iter()
            .map(|g| after.iter().filter(|x| *x == g).count())
            .collect();
        let (lo, hi) = (NSHARDS / groups.len(), NSHARDS.div_ceil(groups.len()));
        assert!(counts.iter().all(|&c| c >= lo && c <= hi), "{counts:?}");
        assert!(after.iter().all(|g| groups.contains(g)), "{after:?}");
    }

    proptest! {
        /// Over random sequences of joins and leaves (of up to 12 groups): always
        /// balanced, always the fewest moves, and the same answer every time.
        #[test]
        fn balanced_minimal_and_deterministic(
            steps in proptest::collection::vec((any::<bool>(), 1u64..13), 1..40)
        ) {
            let mut groups = BTreeSet::new();
            let mut shards = [0; NSHARDS];
            for (join, gid) in steps {
                if join {
                    groups.insert(gid);
                } else {
                    groups.remove(&gid);
                }
                if groups.len() > 12 {
                    continue;
                }
                let after = rebalance(&shards, &groups);
                check_balanced(&after, &groups);
                prop_assert_eq!(moved(&shards, &after), fewest_moves(&shards, &groups));
                prop_assert_eq!(rebalance(&shards, &groups), after);
                shards = after;
            }
        }
    }
}
