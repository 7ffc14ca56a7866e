//! The properties of the Raft model, in the core's own terms.
//!
//! `always` (a counterexample is a bug):
//! - **election safety**: at most one node is leader of a term, ever (the ghost
//!   history remembers the leader of each term, so a crashed leader still counts);
//! - **leader append-only**: a leader never removes or changes an entry of its own log
//!   while it stays leader of its term (checked on every step of every leader);
//! - **log matching**: if two up nodes' logs hold an entry with the same index and term,
//!   they hold the same entries at every index before it;
//! - **leader completeness**: every leader of term `t` holds every entry that was
//!   committed in a term `<= t` (or has compacted it into its snapshot);
//! - **state machine safety**: no two nodes ever apply different commands at one index,
//!   and every service's state is the committed prefix;
//! - **applies in order**: each service receives indices in order with no gaps, repeats
//!   or steps back, and its applied index equals the core's `commit_index`;
//! - **snapshots only committed**: no snapshot (in a node or in its storage) covers an
//!   index that was not committed, or holds a different term there;
//! - **persisted state consistent**: after every step, a node's
//!   `Raft::persistent_state` and snapshot equal what its `Persist` outputs added up to
//!   in its `Storage`, and a restart restores from those bytes without error.
//!
//! `sometimes` (an example shows the bounds reach far enough for the `always`
//! properties to mean something): a leader is elected; an entry is committed on a
//! majority; a follower installs a snapshot from the leader (with snapshots on); a
//! restarted node applies again (with crashes allowed).

use raftlab::raft::{Index, Log};
use stateright::Property;

use crate::cluster::ClusterModel;
use crate::raft_model::{Cmd, RaftModel, RaftState, reached, violation};

type M = ClusterModel<RaftModel>;

/// The names of the Raft model's properties, as the check's table prints them.
pub mod names {
    /// At most one leader per term.
    pub const ELECTION_SAFETY: &str = "election safety";
    /// Leaders only append.
    pub const LEADER_APPEND_ONLY: &str = "leader append-only";
    /// Same index and term, same prefix.
    pub const LOG_MATCHING: &str = "log matching";
    /// Committed entries are in every later leader's log.
    pub const LEADER_COMPLETENESS: &str = "leader completeness";
    /// No two different commands applied at one index.
    pub const STATE_MACHINE_SAFETY: &str = "state machine safety";
    /// Applies in order, no gaps.
    pub const APPLIES_IN_ORDER: &str = "applies in order";
    /// Snapshots cover only committed entries.
    pub const SNAPSHOTS_COMMITTED: &str = "snapshots only committed";
    /// Persisted state matches the node and restores.
    pub const PERSISTED_STATE: &str = "persisted state consistent";
    /// Some leader gets elected.
    pub const LEADER_ELECTED: &str = "a leader is elected";
    /// Some entry is committed and stored on a majority.
    pub const COMMITTED_ON_MAJORITY: &str = "an entry commits on a majority";
    /// Some follower installs a snapshot.
    pub const SNAPSHOT_INSTALLED: &str = "a follower installs a snapshot";
    /// Some restarted node applies.
    pub const RESTARTED_APPLIES: &str = "a restarted node rejoins and applies";
}

/// The properties checked for `model`'s bounds: the `sometimes` properties that its
/// switches make unreachable (snapshots off, no crashes) are left out.
pub fn raft_properties(model: &RaftModel) -> Vec<Property<M>> {
    let mut ps = vec![
        Property::always(names::ELECTION_SAFETY, election_safety),
        Property::always(names::LEADER_APPEND_ONLY, leader_append_only),
        Property::always(names::LOG_MATCHING, log_matching),
        Property::always(names::LEADER_COMPLETENESS, leader_completeness),
        Property::always(names::STATE_MACHINE_SAFETY, state_machine_safety),
        Property::always(names::APPLIES_IN_ORDER, applies_in_order),
        Property::always(names::SNAPSHOTS_COMMITTED, snapshots_committed),
        Property::always(names::PERSISTED_STATE, persisted_state),
        Property::sometimes(names::LEADER_ELECTED, leader_elected),
        Property::sometimes(names::COMMITTED_ON_MAJORITY, committed_on_majority),
    ];
    if model.snapshots {
        ps.push(Property::sometimes(
            names::SNAPSHOT_INSTALLED,
            snapshot_installed,
        ));
    }
    if model.bounds.max_crashes > 0 {
        ps.push(Property::sometimes(
            names::RESTARTED_APPLIES,
            restarted_applies,
        ));
    }
    ps
}

fn clear(s: &RaftState, bit: u16) -> bool {
    s.ghost.violations & bit == 0
}

fn election_safety(_: &M, s: &RaftState) -> bool {
    clear(s, violation::ELECTION_SAFETY)
}

fn leader_append_only(_: &M, s: &RaftState) -> bool {
    clear(s, violation::LEADER_APPEND_ONLY)
}

/// Whether two logs agree at every index up to the last one where they hold the same
/// term (indices either has compacted are skipped; the snapshot's own index counts).
fn logs_match(a: &Log<Cmd>, b: &Log<Cmd>) -> bool {
    let lo = a.snapshot_index().max(b.snapshot_index());
    let hi = a.last_index().min(b.last_index());
    let Some(last_same) = (lo..=hi).rev().find(|&i| a.term_at(i) == b.term_at(i)) else {
        return true;
    };
    (lo..=last_same).all(|i| a.term_at(i) == b.term_at(i))
}

fn log_matching(_: &M, s: &RaftState) -> bool {
    let nodes: Vec<_> = s.up().map(|(_, n)| n.raft.log()).collect();
    nodes
        .iter()
        .enumerate()
        .all(|(k, a)| nodes[k + 1..].iter().all(|b| logs_match(a, b)))
}

/// Whether `log` holds committed index `i` with term `term` (or compacted it away).
fn holds(log: &Log<Cmd>, i: Index, term: u64) -> bool {
    i <= log.snapshot_index() || log.term_at(i) == Some(term)
}

fn leader_completeness(_: &M, s: &RaftState) -> bool {
    s.up().filter(|(_, n)| n.raft.is_leader()).all(|(_, n)| {
        s.ghost.committed.iter().enumerate().all(|(k, c)| {
            c.commit_term > n.raft.term() || holds(n.raft.log(), k as Index + 1, c.term)
        })
    })
}

fn state_machine_safety(_: &M, s: &RaftState) -> bool {
    clear(s, violation::STATE_MACHINE_SAFETY)
        && s.up().all(|(_, n)| {
            n.applied
                .iter()
                .zip(&s.ghost.committed)
                .all(|(&a, c)| a == c.term)
        })
}

fn applies_in_order(_: &M, s: &RaftState) -> bool {
    clear(s, violation::APPLY_ORDER)
        && s.up()
            .all(|(_, n)| n.applied.len() as Index == n.raft.commit_index())
}

/// Whether a snapshot through `index` with last term `term` covers only committed
/// entries.
fn snapshot_committed(s: &RaftState, index: Index, term: u64) -> bool {
    index == 0
        || s.ghost
            .committed
            .get(index as usize - 1)
            .is_some_and(|c| c.term == term)
}

fn snapshots_committed(_: &M, s: &RaftState) -> bool {
    s.up().all(|(_, n)| {
        snapshot_committed(
            s,
            n.raft.log().snapshot_index(),
            n.raft.log().snapshot_term(),
        )
    }) && s.durable.iter().all(|d| {
        let log = &d.state().log;
        snapshot_committed(s, log.snapshot_index(), log.snapshot_term())
    })
}

fn persisted_state(_: &M, s: &RaftState) -> bool {
    clear(s, violation::PERSISTED_STATE)
        && s.up().all(|(id, n)| {
            let (d, r) = (&s.durable[id], &n.raft);
            let p = d.state();
            p.term == r.term()
                && p.voted_for == r.voted_for()
                && p.log == *r.log()
                && d.snapshot() == r.snapshot()
        })
}

fn leader_elected(_: &M, s: &RaftState) -> bool {
    s.up().any(|(_, n)| n.raft.is_leader())
}

fn committed_on_majority(_: &M, s: &RaftState) -> bool {
    let majority = s.slots.len() / 2 + 1;
    s.ghost.committed.iter().enumerate().any(|(k, c)| {
        s.up()
            .filter(|(_, n)| holds(n.raft.log(), k as Index + 1, c.term))
            .count()
            >= majority
    })
}

fn snapshot_installed(_: &M, s: &RaftState) -> bool {
    s.ghost.reached & reached::SNAPSHOT_INSTALLED != 0
}

fn restarted_applies(_: &M, s: &RaftState) -> bool {
    s.ghost.reached & reached::RESTARTED_APPLIED != 0
}
