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

//!
//! The key/value model ([`crate::kv_model`]) embeds the same Raft core in its servers and
//! checks the same properties (all but its own state machine safety) through
//! [`RaftHost`] and [`RaftGhost`]: [`raft_safety`] and [`raft_examples`] build them for
//! any such protocol.

use raftlab::raft::{Command, Index, Log, RaftCore, Storage};
use stateright::Property;

use crate::NodeId;
use crate::cluster::{ClusterModel, Node, Protocol, StateOf};
use crate::raft_model::{Cmd, RaftHistory, RaftModel, RaftState, reached, violation};

type M<R> = ClusterModel<RaftModel<R>>;

/// A node that may embed a Raft core (a server), for the Raft properties.
pub trait RaftHost: Node {
    /// The command type of its log.
    type Cmd: Command;

    /// The Raft core it runs.
    type Core: RaftCore<Self::Cmd>;

    /// Its Raft core (`None` for a node that runs no Raft, such as a client).
    fn raft(&self) -> Option<&Self::Core>;

    /// The index through which its service has applied (`None` without Raft).
    fn applied_index(&self) -> Option<Index>;

    /// Its Raft storage, within its durable state.
    fn storage(durable: &Self::Durable) -> &Storage<Self::Cmd>;
}

/// A ghost history that holds a [`RaftHistory`].
pub trait RaftGhost {
    /// The Raft part of the history.
    fn raft_history(&self) -> &RaftHistory;
}

/// A protocol over Raft-hosting nodes with a Raft ghost history: the Raft properties
/// apply to it.
pub trait RaftProtocol: Protocol<Node: RaftHost, Ghost: RaftGhost> {}

impl<P: Protocol<Node: RaftHost, Ghost: RaftGhost>> RaftProtocol for P {}

/// A condition on a state of `P`'s model, as stateright's properties take it.
pub type Condition<P> = fn(&ClusterModel<P>, &StateOf<P>) -> bool;

type CoreOf<P> = <<P as Protocol>::Node as RaftHost>::Core;

/// The up nodes' Raft cores, with their ids.
fn rafts<P: RaftProtocol>(s: &StateOf<P>) -> impl Iterator<Item = (NodeId, &CoreOf<P>)> {
    s.up().filter_map(|(id, n)| n.raft().map(|r| (id, r)))
}

fn history<P: RaftProtocol>(s: &StateOf<P>) -> &RaftHistory {
    s.ghost.raft_history()
}

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
pub fn raft_properties<R: RaftCore<Cmd>>(model: &RaftModel<R>) -> Vec<Property<M<R>>> {
    let mut ps = raft_safety::<RaftModel<R>>(state_machine_safety::<R>);
    ps.extend(raft_examples::<RaftModel<R>>(
        model.snapshots,
        model.bounds.max_crashes > 0,
    ));
    ps
}

/// The `always` Raft properties of `P`, in the table's order, with `P`'s own
/// [`names::STATE_MACHINE_SAFETY`] (which depends on what its services hold).
pub fn raft_safety<P: RaftProtocol>(
    state_machine_safety: Condition<P>,
) -> Vec<Property<ClusterModel<P>>> {
    vec![
        Property::always(names::ELECTION_SAFETY, election_safety::<P>),
        Property::always(names::LEADER_APPEND_ONLY, leader_append_only::<P>),
        Property::always(names::LOG_MATCHING, log_matching::<P>),
        Property::always(names::LEADER_COMPLETENESS, leader_completeness::<P>),
        Property::always(names::STATE_MACHINE_SAFETY, state_machine_safety),
        Property::always(names::APPLIES_IN_ORDER, applies_in_order::<P>),
        Property::always(names::SNAPSHOTS_COMMITTED, snapshots_committed::<P>),
        Property::always(names::PERSISTED_STATE, persisted_state::<P>),
    ]
}

/// The `sometimes` Raft properties of `P`: a leader is elected, an entry commits on a
/// majority, and (when the bounds allow them) a follower installs a snapshot and a
/// restarted node applies.
pub fn raft_examples<P: RaftProtocol>(
    snapshots: bool,
    crashes: bool,
) -> Vec<Property<ClusterModel<P>>> {
    let mut ps = vec![
        Property::sometimes(names::LEADER_ELECTED, leader_elected::<P>),
        Property::sometimes(names::COMMITTED_ON_MAJORITY, committed_on_majority::<P>),
    ];
    if snapshots {
        ps.push(Property::sometimes(
            names::SNAPSHOT_INSTALLED,
            snapshot_installed::<P>,
        ));
    }
    if crashes {
        ps.push(Property::sometimes(
            names::RESTARTED_APPLIES,
            restarted_applies::<P>,
        ));
    }
    ps
}

/// Whether no step has broken the transition property `bit` (of [`violation`]).
pub fn clear<P: RaftProtocol>(s: &StateOf<P>, bit: u16) -> bool {
    history::<P>(s).violations & bit == 0
}

fn election_safety<P: RaftProtocol>(_: &ClusterModel<P>, s: &StateOf<P>) -> bool {
    clear::<P>(s, violation::ELECTION_SAFETY)
}

fn leader_append_only<P: RaftProtocol>(_: &ClusterModel<P>, s: &StateOf<P>) -> bool {
    clear::<P>(s, violation::LEADER_APPEND_ONLY)
}

/// Whether two logs agree at every index up to the last one where they hold the same
/// term (indices either has compacted are skipped; the snapshot's own index counts).
fn logs_match<C: Command>(a: &Log<C>, b: &Log<C>) -> bool {
    let lo = a.snapshot_index().max(b.snapshot_index());
    let hi = a.last_index().min(b.last_index());
    let Some(last_same) = (lo..=hi).rev().find(|&i| a.term_at(i) == b.term_at(i)) else {
        return true;
    };
    (lo..=last_same).all(|i| a.term_at(i) == b.term_at(i))
}

fn log_matching<P: RaftProtocol>(_: &ClusterModel<P>, s: &StateOf<P>) -> bool {
    let logs: Vec<_> = rafts::<P>(s).map(|(_, r)| r.log()).collect();
    logs.iter()
        .enumerate()
        .all(|(k, a)| logs[k + 1..].iter().all(|b| logs_match(a, b)))
}

/// Whether `log` holds committed index `i` with term `term` (or compacted it away).
fn holds<C: Command>(log: &Log<C>, i: Index, term: u64) -> bool {
    i <= log.snapshot_index() || log.term_at(i) == Some(term)
}

fn leader_completeness<P: RaftProtocol>(_: &ClusterModel<P>, s: &StateOf<P>) -> bool {
    let committed = &history::<P>(s).committed;
    rafts::<P>(s).filter(|(_, r)| r.is_leader()).all(|(_, r)| {
        committed
            .iter()
            .enumerate()
            .all(|(k, c)| c.commit_term > r.term() || holds(r.log(), k as Index + 1, c.term))
    })
}

/// The Raft model's state machine safety: no two nodes ever applied different commands
/// at one index, and every service's state is the committed prefix.
fn state_machine_safety<R: RaftCore<Cmd>>(_: &M<R>, s: &RaftState<R>) -> bool {
    clear::<RaftModel<R>>(s, violation::STATE_MACHINE_SAFETY)
        && s.up().all(|(_, n)| {
            n.applied
                .iter()
                .zip(&s.ghost.committed)
                .all(|(&a, c)| a == c.term)
        })
}

fn applies_in_order<P: RaftProtocol>(_: &ClusterModel<P>, s: &StateOf<P>) -> bool {
    clear::<P>(s, violation::APPLY_ORDER)
        && s.up().all(|(_, n)| match (n.raft(), n.applied_index()) {
            (Some(r), Some(applied)) => applied == r.commit_index(),
            _ => true,
        })
}

/// Whether a snapshot through `index` with last term `term` covers only committed
/// entries.
fn snapshot_committed(h: &RaftHistory, index: Index, term: u64) -> bool {
    index == 0
        || h.committed
            .get(index as usize - 1)
            .is_some_and(|c| c.term == term)
}

fn snapshots_committed<P: RaftProtocol>(_: &ClusterModel<P>, s: &StateOf<P>) -> bool {
    let h = history::<P>(s);
    rafts::<P>(s)
        .all(|(_, r)| snapshot_committed(h, r.log().snapshot_index(), r.log().snapshot_term()))
        && s.durable.iter().all(|d| {
            let log = &P::Node::storage(d).state().log;
            snapshot_committed(h, log.snapshot_index(), log.snapshot_term())
        })
}

fn persisted_state<P: RaftProtocol>(_: &ClusterModel<P>, s: &StateOf<P>) -> bool {
    clear::<P>(s, violation::PERSISTED_STATE)
        && rafts::<P>(s).all(|(id, r)| {
            let d = P::Node::storage(&s.durable[id]);
            let p = d.state();
            p.term == r.term()
                && p.voted_for == r.voted_for()
                && p.log == *r.log()
                && d.snapshot() == r.snapshot()
        })
}

fn leader_elected<P: RaftProtocol>(_: &ClusterModel<P>, s: &StateOf<P>) -> bool {
    rafts::<P>(s).any(|(_, r)| r.is_leader())
}

fn committed_on_majority<P: RaftProtocol>(_: &ClusterModel<P>, s: &StateOf<P>) -> bool {
    let majority = rafts::<P>(s)
        .next()
        .map_or(usize::MAX, |(_, r)| r.config().majority());
    history::<P>(s).committed.iter().enumerate().any(|(k, c)| {
        rafts::<P>(s)
            .filter(|(_, r)| holds(r.log(), k as Index + 1, c.term))
            .count()
            >= majority
    })
}

fn snapshot_installed<P: RaftProtocol>(_: &ClusterModel<P>, s: &StateOf<P>) -> bool {
    history::<P>(s).reached & reached::SNAPSHOT_INSTALLED != 0
}

fn restarted_applies<P: RaftProtocol>(_: &ClusterModel<P>, s: &StateOf<P>) -> bool {
    history::<P>(s).reached & reached::RESTARTED_APPLIED != 0
}
