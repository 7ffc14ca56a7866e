//! The shard controller clerk's operations (the lab's `Join`, `Leave`, `Move`,
//! `Query`) on a clerk handle.

use std::collections::BTreeMap;

use crate::harness::rsm::clerks::{Ck, ClerkWorld};
use crate::shard::ctrler::CtrlOp;
use crate::shard::{Gid, ShardConfig};

impl<W: ClerkWorld<Op = CtrlOp, Output = Option<ShardConfig>>> Ck<W> {
    /// `ck.Join(servers)`.
    pub async fn join(&self, servers: BTreeMap<Gid, Vec<String>>) {
        self.op(CtrlOp::Join { servers }).await;
    }

    /// `ck.Leave(gids)`.
    pub async fn leave(&self, gids: Vec<Gid>) {
        self.op(CtrlOp::Leave { gids }).await;
    }

    /// `ck.Move(shard, gid)`.
    pub async fn move_shard(&self, shard: usize, gid: Gid) {
        self.op(CtrlOp::Move { shard, gid }).await;
    }

    /// `ck.Query(num)`.
    pub async fn query(&self, num: i64) -> ShardConfig {
        self.op(CtrlOp::Query { num }).await.unwrap_or_default()
    }
}
