//! Lab 5 as pure cores: the shard controller ([`ctrler`]), which keeps the sequence of
//! configurations (which group serves which shard), the pure rebalancing function it
//! uses ([`rebalance`]), the shard group server ([`group`]) that serves the shards its
//! configuration gives it and moves shards between groups, and its clerk ([`clerk`]).

pub mod clerk;
pub mod ctrler;
pub mod group;
pub mod rebalance;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The number of shards.
pub const NSHARDS: usize = 10;

/// A replica group's id. Gid 0 is invalid: shards on it belong to no group.
pub type Gid = u64;

/// The lab's `key2shard`: the first byte of the key mod 10 (shard 0 for "").
pub fn key2shard(key: &str) -> usize {
    key.as_bytes().first().map_or(0, |&b| b as usize % NSHARDS)
}

/// A configuration: which group serves each shard, and the servers of each group.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ShardConfig {
    /// The configuration number (0 for the initial, empty one).
    pub num: u64,
    /// Shard -> gid.
    pub shards: [Gid; NSHARDS],
    /// Gid -> server names.
    pub groups: BTreeMap<Gid, Vec<String>>,
}

impl ShardConfig {
    /// The servers of the group that serves `shard`, if any.
    pub fn servers_of_shard(&self, shard: usize) -> Option<&[String]> {
        let gid = *self.shards.get(shard)?;
        self.groups.get(&gid).map(Vec::as_slice)
    }

    /// How many shards each group serves (groups with none included).
    pub fn counts(&self) -> BTreeMap<Gid, usize> {
        let mut counts: BTreeMap<Gid, usize> = self.groups.keys().map(|&g| (g, 0)).collect();
        for g in self.shards {
            if let Some(c) = counts.get_mut(&g) {
                *c += 1;
            }
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_0_to_9_cover_every_shard() {
        let shards: Vec<usize> = (0..10).map(|i| key2shard(&i.to_string())).collect();
        assert_eq!(shards, vec![8, 9, 0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(key2shard(""), 0);
    }
}
