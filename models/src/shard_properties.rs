//! The properties of the shard-migration model ([`crate::shard_model`]), in the core's
//! own terms.
//!
//! A group's state is read only where it is complete: from an up server whose commit
//! index equals the highest index its group ever committed
//! ([`ShardHistory::max_commit`](crate::shard_model::ShardHistory::max_commit)). That server has applied every entry the group
//! committed, so its [`GroupState`] is the group's; a follower behind, or a server
//! restarted from an older snapshot that has not yet caught up, is skipped (it serves
//! nothing until it has: its own requests are ordered after what it missed). Such a
//! state *serves* a shard when the shard is `Serving` or `Gcing` there.
//!
//! `always` (a counterexample is a bug):
//! - **no shard served by two groups in one configuration**: no two groups' states
//!   serve one shard at the same time; and, over the whole run, once a group's state
//!   has served a shard in configuration `n`, no other group's state serves it in a
//!   configuration `<= n` (the ghost keeps the latest owner of each shard,
//!   [`ShardHistory::latest_owner`](crate::shard_model::ShardHistory::latest_owner));
//! - **no acknowledged write is lost across a move**: every append a client saw
//!   acknowledged is in the value of its key in every group state that serves the
//!   key's shard;
//! - **no write applies twice**: in every copy of a shard any up server holds (served,
//!   kept for the new owner, or being garbage-collected; complete or not), no append's
//!   token appears twice in a value;
//! - **the client history is linearizable**: stateright's [`LinearizabilityTester`]
//!   finds a sequential order of the clients' operations, consistent with real time,
//!   that [`KvSpec`] (a map with Get, Put and Append) accepts;
//! - **servers restore what they persisted**: `GroupServer::restore` never refuses a
//!   crashed server's storage.
//!
//! `sometimes` (so the `always` properties cannot pass vacuously):
//! - **a shard moves and its new owner serves it**: client requests on one shard were
//!   answered by two different groups;
//! - **a restarted server serves a client** (with crashes allowed).
//!
//! [`LinearizabilityTester`]: stateright::semantics::LinearizabilityTester

use raftlab::shard::Gid;
use raftlab::shard::group::GroupState;
use raftlab::shard::key2shard;
use stateright::Property;
use stateright::semantics::ConsistencyTester;

use crate::cluster::ClusterModel;
use crate::shard_model::{
    GIDS, KvSpec, ShardModel, ShardModelState, ShardNode, held, reached, served, violation,
};

type M = ClusterModel<ShardModel>;

/// The names of the shard model's properties, as the check's table prints them.
pub mod names {
    /// One group per shard and configuration, and configurations in order.
    pub const ONE_OWNER: &str = "no shard served by two groups in one configuration";
    /// Acknowledged appends survive moves.
    pub const ACKED_KEPT: &str = "no acknowledged write is lost across a move";
    /// No append applied twice.
    pub const APPLIED_ONCE: &str = "no write applies twice";
    /// The clients' history is linearizable.
    pub const LINEARIZABLE: &str = "the client history is linearizable";
    /// Restores never fail.
    pub const RESTORES: &str = "servers restore what they persisted";
    /// A shard moved and its new owner served it.
    pub const MOVED_AND_SERVED: &str = "a shard moves and its new owner serves it";
    /// A restarted server answered a client.
    pub const RESTARTED_SERVES: &str = "a restarted server serves a client";
}

/// The properties checked for `model`'s bounds: the `sometimes` property that needs a
/// crash is left out when crashes are off.
pub fn shard_properties(model: &ShardModel) -> Vec<Property<M>> {
    let mut ps = vec![
        Property::always(names::ONE_OWNER, one_owner),
        Property::always(names::ACKED_KEPT, acked_kept),
        Property::always(names::APPLIED_ONCE, applied_once),
        Property::always(names::LINEARIZABLE, linearizable),
        Property::always(names::RESTORES, restores),
        Property::sometimes(names::MOVED_AND_SERVED, moved_and_served),
    ];
    if model.bounds.max_crashes > 0 {
        ps.push(Property::sometimes(
            names::RESTARTED_SERVES,
            restarted_serves,
        ));
    }
    ps
}

/// Group `gi`'s state, if an up server holds all of it (see the module docs).
pub fn group_state(s: &ShardModelState, gi: usize) -> Option<&GroupState> {
    s.up().find_map(|(_, n)| match n {
        ShardNode::Server(x)
            if x.gi == gi && x.server.raft().commit_index() == s.ghost.max_commit[gi] =>
        {
            Some(x.server.state())
        }
        _ => None,
    })
}

/// The complete group states, with their gids.
fn group_states(s: &ShardModelState) -> impl Iterator<Item = (Gid, &GroupState)> {
    (0..GIDS.len()).filter_map(|gi| group_state(s, gi).map(|st| (GIDS[gi], st)))
}

fn one_owner(_: &M, s: &ShardModelState) -> bool {
    if s.ghost.violations & violation::TWO_OWNERS != 0 {
        return false;
    }
    let states: Vec<(Gid, &GroupState)> = group_states(s).collect();
    states.iter().enumerate().all(|(k, (_, a))| {
        states[k + 1..].iter().all(|(_, b)| {
            a.shards()
                .iter()
                .zip(b.shards())
                .all(|(x, y)| served(x).is_none() || served(y).is_none())
        })
    })
}

fn acked_kept(_: &M, s: &ShardModelState) -> bool {
    group_states(s).all(|(_, st)| {
        s.ghost.acked.iter().all(|(key, token)| {
            served(&st.shards()[key2shard(key)]).is_none_or(|shard| {
                shard
                    .data
                    .get(key)
                    .is_some_and(|v| v.contains(token.as_str()))
            })
        })
    })
}

/// Whether no character appears twice in `value` (each append adds its own letter).
fn no_repeats(value: &str) -> bool {
    let mut seen = [false; 256];
    value
        .bytes()
        .all(|b| !std::mem::replace(&mut seen[b as usize], true))
}

fn applied_once(_: &M, s: &ShardModelState) -> bool {
    s.up().all(|(_, n)| match n {
        ShardNode::Server(x) => x
            .server
            .state()
            .shards()
            .iter()
            .filter_map(held)
            .all(|shard| shard.data.values().all(|v| no_repeats(v))),
        _ => true,
    })
}

fn linearizable(_: &M, s: &ShardModelState) -> bool {
    ConsistencyTester::<usize, KvSpec>::is_consistent(&s.ghost.tester)
}

fn restores(_: &M, s: &ShardModelState) -> bool {
    s.ghost.violations & violation::RESTORE == 0
}

fn moved_and_served(_: &M, s: &ShardModelState) -> bool {
    let served_by = &s.ghost.served_by;
    served_by
        .iter()
        .any(|&(shard, gid)| served_by.iter().any(|&(sh, g)| sh == shard && g != gid))
}

fn restarted_serves(_: &M, s: &ShardModelState) -> bool {
    s.ghost.reached & reached::RESTARTED_SERVED != 0
}
