//! The shard controller's state machine: the list of configurations, changed by Join,
//! Leave and Move, read by Query. Replicated with Raft by the generic server
//! ([`CtrlerServer`]), exactly as the Lab 4 key/value store is.
//!
//! Configuration 0 has no groups and assigns every shard to gid 0. Each Join, Leave or
//! Move appends exactly one configuration, numbered one more than the last:
//! - Join adds groups (a gid that already exists gets its new server list) and
//!   rebalances ([`rebalance`]);
//! - Leave removes groups and rebalances, which moves only their shards;
//! - Move gives one shard to one group, without rebalancing.
//!
//! Query(n) returns configuration n, or the latest one if n is -1 or past the end.
//! Writes are executed at most once per `(client, seq)`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::rebalance::rebalance;
use super::{Gid, NSHARDS, ShardConfig};
use crate::codec::{self, DecodeError};
use crate::rsm::{ClientId, Request, StateMachine};

/// An operation on the controller.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CtrlOp {
    /// Add groups (gid -> server names) and rebalance.
    Join {
        /// The new groups.
        servers: BTreeMap<Gid, Vec<String>>,
    },
    /// Remove groups and give their shards to the others.
    Leave {
        /// The departing groups.
        gids: Vec<Gid>,
    },
    /// Give one shard to one group.
    Move {
        /// The shard.
        shard: usize,
        /// The group.
        gid: Gid,
    },
    /// Read configuration `num` (-1 or past the end: the latest).
    Query {
        /// The configuration number.
        num: i64,
    },
}

/// The controller's state: every configuration, and the clients' last writes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Configs {
    configs: Vec<ShardConfig>,
    sessions: BTreeMap<ClientId, u64>,
}

impl Default for Configs {
    fn default() -> Self {
        Configs {
            configs: vec![ShardConfig::default()],
            sessions: BTreeMap::new(),
        }
    }
}

impl Configs {
    /// The latest configuration.
    pub fn latest(&self) -> &ShardConfig {
        // There is always configuration 0.
        &self.configs[self.configs.len() - 1]
    }

    /// Configuration `num`, or the latest if `num` is negative or past the end.
    pub fn query(&self, num: i64) -> &ShardConfig {
        usize::try_from(num)
            .ok()
            .and_then(|n| self.configs.get(n))
            .unwrap_or_else(|| self.latest())
    }

    /// How many configurations exist (the latest number + 1).
    pub fn len(&self) -> usize {
        self.configs.len()
    }

    /// Never true: configuration 0 always exists.
    pub fn is_empty(&self) -> bool {
        false
    }

    fn next(&mut self, change: impl FnOnce(&mut ShardConfig)) {
        let mut c = self.latest().clone();
        c.num += 1;
        change(&mut c);
        self.configs.push(c);
    }
}

fn rebalanced(c: &mut ShardConfig) {
    let groups: BTreeSet<Gid> = c.groups.keys().copied().collect();
    c.shards = rebalance(&c.shards, &groups);
}

impl StateMachine for Configs {
    type Op = CtrlOp;
    type Output = Option<ShardConfig>;

    fn apply(&mut self, request: Request<CtrlOp>) -> Option<ShardConfig> {
        if let CtrlOp::Query { num } = request.op {
            return Some(self.query(num).clone());
        }
        if self
            .sessions
            .get(&request.client)
            .is_some_and(|&s| request.seq <= s)
        {
            return None;
        }
        self.sessions.insert(request.client, request.seq);
        match request.op {
            CtrlOp::Join { servers } => self.next(|c| {
                c.groups
                    .extend(servers.into_iter().filter(|(g, _)| *g != 0));
                rebalanced(c);
            }),
            CtrlOp::Leave { gids } => self.next(|c| {
                for g in gids {
                    c.groups.remove(&g);
                }
                rebalanced(c);
            }),
            CtrlOp::Move { shard, gid } => self.next(|c| {
                if shard < NSHARDS {
                    c.shards[shard] = gid;
                }
            }),
            CtrlOp::Query { .. } => {}
        }
        None
    }

    fn read(&self, op: &CtrlOp) -> Option<Option<ShardConfig>> {
        match op {
            CtrlOp::Query { num } => Some(Some(self.query(*num).clone())),
            _ => None,
        }
    }

    fn encode(&self) -> Vec<u8> {
        codec::encode(self)
    }

    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        codec::decode("shard controller snapshot", bytes)
    }
}

/// The shard controller's server: the replicated server over [`Configs`].
pub type CtrlerServer = crate::rsm::server::Server<Configs>;

/// The shard controller's clerk.
pub type CtrlerClerk = crate::rsm::clerk::Clerk<CtrlOp, Option<ShardConfig>>;

#[cfg(test)]
mod tests {
    use super::*;

    fn req(client: ClientId, seq: u64, op: CtrlOp) -> Request<CtrlOp> {
        Request { client, seq, op }
    }

    fn join(gid: Gid) -> CtrlOp {
        CtrlOp::Join {
            servers: [(gid, vec![format!("s{gid}a"), format!("s{gid}b")])].into(),
        }
    }

    #[test]
    fn one_configuration_per_change_and_queries() {
        let mut c = Configs::default();
        c.apply(req(1, 1, join(1)));
        c.apply(req(1, 1, join(1))); // a retry: no new configuration
        c.apply(req(1, 2, join(2)));
        assert_eq!(c.len(), 3);
        assert_eq!(c.latest().counts(), [(1, 5), (2, 5)].into());
        c.apply(req(1, 3, CtrlOp::Move { shard: 0, gid: 2 }));
        assert_eq!(c.latest().shards[0], 2);
        assert_eq!(c.latest().num, 3);
        c.apply(req(1, 4, CtrlOp::Leave { gids: vec![1] }));
        assert_eq!(c.latest().shards, [2; NSHARDS]);
        let q = |n| {
            c.clone()
                .apply(req(9, 1, CtrlOp::Query { num: n }))
                .unwrap()
        };
        assert_eq!(q(0), ShardConfig::default());
        assert_eq!(q(-1).num, 4);
        assert_eq!(q(99).num, 4);
        assert_eq!(q(1).groups.len(), 1);
        let back = Configs::decode(&c.encode()).unwrap();
        assert_eq!(back, c);
    }
}
