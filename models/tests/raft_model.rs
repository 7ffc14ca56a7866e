//! The Raft model: pinned state counts, every property checked on small bounds, every
//! deliberate bug found at a pinned shortest depth, readable traces, and symmetry.

use raftlab::raft::Bug;
use raftlab_models::cluster::{Bounds, ClusterModel, Duplicates, Ignored, Losses, Restarts};
use raftlab_models::network::Envelope;
use raftlab_models::properties::names;
use raftlab_models::raft_model::{RaftModel, RaftMsg};
use raftlab_models::runner::{self, CheckOptions, CheckReport, Outcome, StopWhen, Strategy};
use raftlab_models::trace::render_path;
use stateright::{Model, Representative};

/// Three servers, one term, one-entry logs, two messages in flight, no crashes, no
/// snapshots: the smallest model in which a leader commits.
fn tiny() -> RaftModel {
    RaftModel {
        bounds: Bounds {
            servers: 3,
            max_in_flight: 2,
            max_crashes: 0,
            drops: true,
            duplicates: Duplicates::Off,
        },
        max_term: 1,
        max_log: 1,
        max_append_entries: 256,
        snapshots: false,
        bug: None,
        restarts: Restarts::AtOnce,
        ignored: Ignored::Forget,
        losses: Losses::ForRoom,
        max_heartbeats: None,
        core: Default::default(),
    }
}

/// `tiny` with two terms, a crash and snapshots: every `sometimes` property is
/// reachable.
fn small() -> RaftModel {
    let mut m = tiny();
    m.max_term = 2;
    m.bounds.max_crashes = 1;
    m.snapshots = true;
    m
}

fn run(model: RaftModel, strategy: Strategy, stop: StopWhen) -> CheckReport<RaftModel> {
    run_with(model, strategy, stop, true)
}

fn run_with(
    model: RaftModel,
    strategy: Strategy,
    stop: StopWhen,
    symmetry: bool,
) -> CheckReport<RaftModel> {
    let options = CheckOptions {
        strategy,
        threads: 1,
        symmetry,
        stop,
        shortest: true,
        ..CheckOptions::default()
    };
    runner::check(model.into_model(), &options)
}

/// Pinned every way. With symmetry, BFS and DFS count the same states: a class's
/// representative is its own, whichever member a search meets first. Without it, BFS
/// counts every renaming. Losing messages only to make room halves the counts (563
/// against 1128: no state differs from another only by messages lost for nothing).
/// With unread replies kept and losses at any moment, the counts are those of the
/// unreduced network (7199 without symmetry, as before forgetting; 1267 with it before
/// servers that tie on their key were ordered canonically).
#[test]
fn tiny_state_counts_are_pinned() {
    let counts = [
        (Ignored::Forget, Losses::ForRoom, 563, 3302),
        (Ignored::Forget, Losses::Anytime, 1128, 6656),
        (Ignored::Keep, Losses::Anytime, 1219, 7199),
    ];
    for (ignored, losses, with_symmetry, without) in counts {
        let mut m = tiny();
        m.ignored = ignored;
        m.losses = losses;
        for (strategy, symmetry, count) in [
            (Strategy::Dfs, true, with_symmetry),
            (Strategy::Bfs, true, with_symmetry),
            (Strategy::Bfs, false, without),
        ] {
            let report = run_with(m.clone(), strategy, StopWhen::Exhausted, symmetry);
            report.assert_all_hold();
            assert_eq!(
                report.unique_states,
                count,
                "{ignored:?} {losses:?} {strategy:?} symmetry {symmetry}: {}",
                report.summary()
            );
        }
    }
}

#[test]
fn small_state_count_is_pinned_and_every_property_is_reached() {
    let report = run(small(), Strategy::Dfs, StopWhen::Exhausted);
    report.assert_all_hold();
    // 407,074 before crashed nodes restarted in their crash's step and the rare-event
    // marks were cleared at every step (states with a node down are gone, and a state
    // no longer splits on whether some earlier step installed a snapshot); 256,482
    // before replies that their receivers will never read were forgotten (a state no
    // longer splits on which stale replies are still in flight); 231,749 before
    // servers that tie on their symmetry key were ordered canonically (a class no
    // longer splits on which of its members the search met first); 229,516 before
    // messages were lost only to make room (a state no longer has every subset of
    // its messages in flight beside it).
    assert_eq!(report.unique_states, 118_792, "{}", report.summary());
    let reached: Vec<_> = report
        .properties
        .iter()
        .filter(|p| matches!(p.outcome, Outcome::Reached(_)))
        .map(|p| p.name)
        .collect();
    assert_eq!(
        reached,
        [
            names::LEADER_ELECTED,
            names::COMMITTED_ON_MAJORITY,
            names::SNAPSHOT_INSTALLED,
            names::RESTARTED_APPLIES
        ]
    );
}

/// A bound on heartbeats per term is a bound like the others: `small` with no
/// heartbeat firing at all (a leader sends when it wins, takes a command or is asked
/// for more) still elects, commits, installs a snapshot and applies after a restart,
/// in a pinned number of states (22,432, against 118,792 unbounded; 55,254 before
/// unread replies were forgotten, 46,125 before tied servers were ordered
/// canonically, 45,555 before messages were lost only to make room).
#[test]
fn heartbeat_bound_is_pinned_and_every_property_is_still_reached() {
    let mut m = small();
    m.max_heartbeats = Some(0);
    let report = run(m, Strategy::Dfs, StopWhen::Exhausted);
    report.assert_all_hold();
    assert_eq!(report.unique_states, 22_432, "{}", report.summary());
    assert!(
        report
            .properties
            .iter()
            .filter(|p| matches!(p.outcome, Outcome::Reached(_)))
            .count()
            == 4,
        "{}",
        report.table()
    );
}

/// Finds `bug` under [`RaftModel::exposing`] with a one-thread BFS (so the path is a
/// shortest one) and checks which property breaks and at what depth.
fn find(bug: Bug, property: &str, depth: usize) {
    find_in(<RaftModel>::exposing(bug), property, depth);
}

/// Finds the model's bug with a one-thread BFS and checks which property breaks and
/// at what depth.
fn find_in(model: RaftModel, property: &str, depth: usize) {
    let name = model.describe();
    let report = run(model, Strategy::Bfs, StopWhen::FirstViolation);
    let violated: Vec<_> = report.violations().map(|p| (p.name, p.depth())).collect();
    assert!(
        violated.contains(&(property, Some(depth))),
        "{name}: expected {property:?} at depth {depth}, got {violated:?}\n{}",
        report.table()
    );
}

#[test]
fn bug_vote_twice() {
    find(Bug::VoteTwice, names::ELECTION_SAFETY, 6);
}

#[test]
fn bug_skip_up_to_date_check() {
    find(Bug::SkipUpToDateCheck, names::LEADER_COMPLETENESS, 10);
}

#[test]
fn bug_forget_to_persist_vote() {
    find(Bug::ForgetToPersistVote, names::PERSISTED_STATE, 2);
}

#[test]
fn bug_accept_stale_append() {
    find(Bug::AcceptStaleAppend, names::SNAPSHOTS_COMMITTED, 14);
}

#[test]
fn bug_truncate_on_match() {
    find(Bug::TruncateOnMatch, names::LEADER_COMPLETENESS, 11);
}

#[test]
fn bug_skip_prev_log_term_check() {
    find(Bug::SkipPrevLogTermCheck, names::STATE_MACHINE_SAFETY, 13);
}

/// 14 when messages are lost at any moment, and 15 when the network also counted
/// copies: its shortest trace duplicates a message and delivers the copy, one step
/// redelivered.
#[test]
fn bug_apply_stale_snapshot() {
    find(Bug::ApplyStaleSnapshot, names::APPLIES_IN_ORDER, 12);
}

/// The one bug whose bounds crash a node: restarting in the crash's step (the
/// default) finds it one step earlier than the unreduced search, whose shortest
/// trace crashes and restarts in two steps; it is the same trace otherwise (12 and
/// 13 steps when messages are lost at any moment).
#[test]
fn bug_commit_all_on_restart() {
    find(Bug::CommitAllOnRestart, names::LEADER_COMPLETENESS, 8);
    let mut later = <RaftModel>::exposing(Bug::CommitAllOnRestart);
    later.restarts = Restarts::Later;
    find_in(later.clone(), names::LEADER_COMPLETENESS, 9);
    later.losses = Losses::Anytime;
    find_in(later, names::LEADER_COMPLETENESS, 13);
}

/// Every state of `model` (no symmetry reduction), by a breadth-first walk of its
/// own: the states, and what they hold besides the messages in flight (the servers,
/// their durable state, the crashes and the ghost history).
#[allow(clippy::type_complexity)]
fn every_state(
    model: RaftModel,
) -> (
    std::collections::HashSet<raftlab_models::raft_model::RaftState>,
    std::collections::HashSet<u64>,
) {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let model: ClusterModel<RaftModel> = model.into_model();
    let mut seen = std::collections::HashSet::new();
    let mut servers = std::collections::HashSet::new();
    let mut queue: std::collections::VecDeque<_> = model.init_states().into();
    while let Some(state) = queue.pop_front() {
        if !model.within_boundary(&state) || !seen.insert(state.clone()) {
            continue;
        }
        let mut h = DefaultHasher::new();
        (&state.slots, &state.durable, state.crashes, &state.ghost).hash(&mut h);
        servers.insert(h.finish());
        queue.extend(model.next_states(&state));
    }
    (seen, servers)
}

/// The simulation behind losing only for room, checked exhaustively on small bounds
/// (one term with a crash and redelivery, and two terms): the reduced search reaches
/// exactly the server states (servers, durable state, crashes, ghost history) the
/// unreduced one reaches, and each of its states is one the unreduced search reaches
/// too (messages in flight included), in fewer states.
#[test]
fn losing_only_for_room_reaches_every_server_state() {
    let mut crash = tiny();
    crash.bounds.max_crashes = 1;
    crash.bounds.duplicates = Duplicates::Redeliver;
    let mut terms = tiny();
    terms.max_term = 2;
    for (m, states) in [(crash, (107_585, 56_269)), (terms, (82_749, 41_559))] {
        let mut anytime = m.clone();
        anytime.losses = Losses::Anytime;
        let (all, servers) = every_state(anytime);
        let (reduced, reduced_servers) = every_state(m);
        let missing = servers.difference(&reduced_servers).count();
        assert_eq!(missing, 0, "server states the reduced search misses");
        assert_eq!(reduced_servers.len(), servers.len());
        assert!(
            reduced.is_subset(&all),
            "a reduced state the unreduced search lacks"
        );
        assert_eq!((all.len(), reduced.len()), states);
    }
}

/// `exposing(bug)` with messages lost at any moment, the unreduced network the other
/// reductions' tests compare against (each reduction is tested on its own).
fn exposing_anytime(bug: Bug) -> RaftModel {
    let mut m = <RaftModel>::exposing(bug);
    m.losses = Losses::Anytime;
    m
}

/// Losing messages only to make room is sound for every bug: under each bug's own
/// bounds the reduced search (the default) finds the same property broken as the
/// one that loses any message at any moment, never deeper (a step and the losses
/// that make its room are one step, and a loss that makes no room is no step): the
/// pinned shortest depths, unreduced then reduced.
#[test]
fn losing_only_for_room_finds_every_bug_no_deeper() {
    let bugs = [
        (Bug::VoteTwice, names::ELECTION_SAFETY, 10, 6),
        (Bug::SkipUpToDateCheck, names::LEADER_COMPLETENESS, 14, 10),
        (Bug::ForgetToPersistVote, names::PERSISTED_STATE, 2, 2),
        (Bug::AcceptStaleAppend, names::SNAPSHOTS_COMMITTED, 19, 14),
        (Bug::TruncateOnMatch, names::LEADER_COMPLETENESS, 15, 11),
        (
            Bug::SkipPrevLogTermCheck,
            names::STATE_MACHINE_SAFETY,
            20,
            13,
        ),
        (Bug::ApplyStaleSnapshot, names::APPLIES_IN_ORDER, 14, 12),
        (Bug::CommitAllOnRestart, names::LEADER_COMPLETENESS, 12, 8),
    ];
    for (bug, property, anytime, for_room) in bugs {
        assert!(for_room <= anytime);
        find_in(exposing_anytime(bug), property, anytime);
        for ignored in [Ignored::Forget, Ignored::Keep] {
            let mut m = <RaftModel>::exposing(bug);
            assert_eq!(m.losses, Losses::ForRoom);
            m.ignored = ignored;
            find_in(m, property, for_room);
        }
    }
}

/// Restarting at once is sound for every bug: with a crash allowed beside each bug's
/// own bounds, the reduced and the unreduced searches find the same property broken
/// at the same shortest depth (none of these bugs needs a crash, so a shortest trace
/// has none; a trace that did would be one step shorter reduced, as above).
#[test]
fn restart_at_once_finds_every_bug_at_the_unreduced_depth() {
    let bugs = [
        (Bug::VoteTwice, names::ELECTION_SAFETY, 10),
        (Bug::SkipUpToDateCheck, names::LEADER_COMPLETENESS, 14),
        (Bug::ForgetToPersistVote, names::PERSISTED_STATE, 2),
        (Bug::TruncateOnMatch, names::LEADER_COMPLETENESS, 15),
        (Bug::ApplyStaleSnapshot, names::APPLIES_IN_ORDER, 14),
    ];
    for (bug, property, depth) in bugs {
        for restarts in [Restarts::AtOnce, Restarts::Later] {
            let mut m = exposing_anytime(bug);
            m.bounds.max_crashes = 1;
            m.restarts = restarts;
            find_in(m, property, depth);
        }
    }
}

/// Redelivering is sound for every bug: with duplicates on beside each bug's own
/// bounds, a search that may deliver any message again ([`Duplicates::Redeliver`],
/// the default) and one that makes counted copies ([`Duplicates::Copies`]) find the
/// same property broken, at the depth pinned for each (redelivering is never deeper:
/// a copy and its delivery are one step).
#[test]
fn redelivery_finds_every_bug_no_deeper_than_copies() {
    let bugs = [
        (Bug::VoteTwice, names::ELECTION_SAFETY, 10, 10),
        (Bug::SkipUpToDateCheck, names::LEADER_COMPLETENESS, 14, 14),
        (Bug::ForgetToPersistVote, names::PERSISTED_STATE, 2, 2),
        (Bug::TruncateOnMatch, names::LEADER_COMPLETENESS, 15, 15),
        (Bug::ApplyStaleSnapshot, names::APPLIES_IN_ORDER, 14, 15),
    ];
    for (bug, property, redelivered, copied) in bugs {
        for (duplicates, depth) in [
            (Duplicates::Redeliver, redelivered),
            (Duplicates::Copies, copied),
        ] {
            let mut m = exposing_anytime(bug);
            m.bounds.duplicates = duplicates;
            find_in(m, property, depth);
        }
        assert!(redelivered <= copied);
    }
}

/// Forgetting unread replies is sound for every bug: under each bug's own bounds
/// (drops on, so the reduction applies), the search that forgets the replies its
/// receivers promise never to read (the default) and the one that keeps them in flight
/// find the same property broken, at the same shortest depth for these (forgetting
/// takes no step; it is shallower only where the unreduced trace must lose a stale
/// reply to make room in flight, as for the Figure 8 bug below).
#[test]
fn forgetting_unread_replies_finds_every_bug_at_the_unreduced_depth() {
    let bugs = [
        (Bug::VoteTwice, names::ELECTION_SAFETY, 10),
        (Bug::SkipUpToDateCheck, names::LEADER_COMPLETENESS, 14),
        (Bug::ForgetToPersistVote, names::PERSISTED_STATE, 2),
        (Bug::AcceptStaleAppend, names::SNAPSHOTS_COMMITTED, 19),
        (Bug::TruncateOnMatch, names::LEADER_COMPLETENESS, 15),
        (Bug::SkipPrevLogTermCheck, names::STATE_MACHINE_SAFETY, 20),
        (Bug::ApplyStaleSnapshot, names::APPLIES_IN_ORDER, 14),
        (Bug::CommitAllOnRestart, names::LEADER_COMPLETENESS, 12),
    ];
    for (bug, property, depth) in bugs {
        let mut kept = exposing_anytime(bug);
        assert!(kept.bounds.drops && kept.ignored == Ignored::Forget);
        kept.ignored = Ignored::Keep;
        find_in(kept.clone(), property, depth);
        kept.ignored = Ignored::Forget;
        find_in(kept, property, depth);
    }
}

/// The promise behind forgetting, checked on every state (no symmetry reduction) of
/// `tiny` with two terms and a crash, unread replies kept: a reply in flight that its receiver says it will never read changes
/// nothing when delivered (the receiver's value, its durable state and the rest of
/// the network stay as they are), and every step from that state leaves it unread.
#[test]
fn an_unread_reply_stays_unread_and_delivering_it_changes_nothing() {
    use raftlab_models::cluster::{Action, Node, Slot};
    use std::collections::{HashSet, VecDeque};
    let mut m = tiny();
    m.max_term = 2;
    m.bounds.max_crashes = 1;
    m.ignored = Ignored::Keep;
    m.losses = Losses::Anytime;
    let model: ClusterModel<RaftModel> = m.into_model();
    let unread = |state: &raftlab_models::raft_model::RaftState, e: &Envelope<RaftMsg>| match state
        .slot(e.to)
    {
        Some(Slot::Up { node, .. }) => node.ignores(&state.durable[e.to], e.from, &e.msg),
        _ => false,
    };
    let mut seen = HashSet::new();
    let mut queue: VecDeque<_> = model.init_states().into();
    let (mut states, mut checked) = (0, 0);
    while let Some(state) = queue.pop_front() {
        if !seen.insert(state.clone()) {
            continue;
        }
        states += 1;
        let unread_now: Vec<Envelope<RaftMsg>> = state
            .network
            .iter()
            .filter(|(e, _)| unread(&state, e))
            .map(|(e, _)| e.clone())
            .collect();
        for e in &unread_now {
            checked += 1;
            let after = model
                .next_state(&state, Action::Deliver(std::sync::Arc::new(e.clone())))
                .expect("the receiver is up");
            let mut expected = state.network.clone();
            assert!(expected.take(e));
            assert_eq!(after.network, expected, "delivering {e:?} sent something");
            assert_eq!(after.slots[e.to], state.slots[e.to], "delivering {e:?}");
            assert_eq!(after.durable[e.to], state.durable[e.to], "delivering {e:?}");
        }
        let mut actions = Vec::new();
        model.actions(&state, &mut actions);
        for action in actions {
            let Some(next) = model.next_state(&state, action.clone()) else {
                continue;
            };
            for e in &unread_now {
                if next.network.count(e) > 0 {
                    assert!(unread(&next, e), "{e:?} is read again after {action:?}");
                }
            }
            if model.within_boundary(&next) {
                queue.push_back(next);
            }
        }
    }
    assert_eq!(states, 574_119);
    assert!(checked > 10_000, "only {checked} unread replies met");
}

/// A state's canonical fingerprint is its representative's: hashing a state as its
/// class (what the checker's fingerprints are under symmetry) feeds the same bytes as
/// hashing its renamed copy, and hashing any renaming of a state feeds the bytes of
/// that renamed copy, for every state along a walk through `small` (with messages
/// lost at any moment, whose walks meet more shapes of the network).
#[test]
fn canonical_fingerprint_is_the_representatives() {
    use std::hash::{DefaultHasher, Hasher};
    let mut m = small();
    m.losses = Losses::Anytime;
    let model: ClusterModel<RaftModel> = m.into_model();
    let identity = [0, 1, 2];
    let fp = |f: &dyn Fn(&mut DefaultHasher)| {
        let mut h = DefaultHasher::new();
        f(&mut h);
        h.finish()
    };
    let mut state = model.init_states().remove(0);
    let mut distinct = std::collections::BTreeSet::new();
    let mut renamed = 0;
    // A fixed pseudo-random walk (a linear congruential generator).
    let mut seed: u64 = 1;
    for step in 0..2000 {
        let rep = state.representative();
        let canonical = fp(&|h| state.hash_canonical(h));
        assert_eq!(canonical, fp(&|h| rep.hash_renumbered_state(&identity, h)));
        assert_eq!(canonical, fp(&|h| rep.hash_canonical(h)));
        for perm in [
            [0, 1, 2],
            [0, 2, 1],
            [1, 0, 2],
            [1, 2, 0],
            [2, 0, 1],
            [2, 1, 0],
        ] {
            assert_eq!(
                fp(&|h| state.hash_renumbered_state(&perm, h)),
                fp(&|h| state.renumbered(&perm).hash_renumbered_state(&identity, h)),
                "step {step}, map {perm:?}"
            );
        }
        distinct.insert(canonical);
        if rep != state {
            renamed += 1;
        }
        let mut actions = Vec::new();
        model.actions(&state, &mut actions);
        let successors: Vec<_> = actions
            .into_iter()
            .filter_map(|a| model.next_state(&state, a))
            .filter(|next| model.within_boundary(next))
            .collect();
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        // Walks of 40 steps, each from the beginning (a longer one runs into the
        // bounds and circles there).
        state = match successors.len() {
            _ if step % 40 == 39 => model.init_states().remove(0),
            0 => model.init_states().remove(0),
            n => successors[(seed >> 33) as usize % n].clone(),
        };
    }
    assert!(distinct.len() > 1000, "{} distinct states", distinct.len());
    assert!(
        renamed > 500,
        "{renamed} states not their own representative"
    );
}

/// The Figure 8 bug needs four terms. Its shortest counterexample is 20 steps, with
/// unread replies forgotten or kept (the steps that need room lose what is in the way
/// of their sends). With messages lost at any moment it is 27 steps, and 29 with
/// unread replies kept: that trace loses two stale replies to make room in flight,
/// which the reduced search forgot as they went stale. (A one-thread BFS without
/// symmetry took over a minute; with it, seconds.)
#[test]
fn bug_commit_old_term_by_count() {
    find(Bug::CommitOldTermByCount, names::LEADER_COMPLETENESS, 20);
    let mut kept = <RaftModel>::exposing(Bug::CommitOldTermByCount);
    kept.ignored = Ignored::Keep;
    find_in(kept.clone(), names::LEADER_COMPLETENESS, 20);
    find_in(
        exposing_anytime(Bug::CommitOldTermByCount),
        names::LEADER_COMPLETENESS,
        27,
    );
    kept.losses = Losses::Anytime;
    find_in(kept, names::LEADER_COMPLETENESS, 29);
}

/// The bug only matters when a follower holds stale entries past what an
/// AppendEntries carried, and this core's leader never sends such a request (see the
/// README): an exhaustive search of its bounds finds nothing.
#[test]
fn bug_commit_beyond_match_is_not_reachable_in_small_bounds() {
    let report = run(
        <RaftModel>::exposing(Bug::CommitBeyondMatch),
        Strategy::Dfs,
        StopWhen::FirstViolation,
    );
    assert!(report.exhaustive, "{}", report.summary());
    assert_eq!(report.violations().count(), 0, "{}", report.table());
}

#[test]
fn counterexample_trace_is_readable() {
    let model = <RaftModel>::exposing(Bug::VoteTwice).into_model();
    let options = CheckOptions {
        strategy: Strategy::Bfs,
        stop: StopWhen::FirstViolation,
        ..CheckOptions::default()
    };
    let report = runner::check(model.clone(), &options);
    let Some(Outcome::Violated(path)) = report
        .property(names::ELECTION_SAFETY)
        .map(|p| p.outcome.clone())
    else {
        panic!("no counterexample:\n{}", report.table());
    };
    let trace = render_path(&model, &path);
    assert!(trace.contains("  0. initial state"), "{trace}");
    assert!(trace.contains("  1. fire election timer S"), "{trace}");
    assert!(trace.contains("RequestVote T1 last 0/T0"), "{trace}");
    assert!(trace.contains("VoteReply T1 granted"), "{trace}");
    assert!(trace.matches("LEADER").count() >= 2, "{trace}");
    let text = report.traces(&model);
    assert!(
        text.contains("Counterexample to \"election safety\""),
        "{text}"
    );
}

#[test]
fn representative_is_a_renaming_with_the_same_properties() {
    let model: ClusterModel<RaftModel> = small().into_model();
    let properties = model.properties();
    // Walk a fixed path and check every state on it.
    let mut state = model.init_states().remove(0);
    for step in 0..40 {
        let rep = state.representative();
        assert_eq!(state.renumbered(&state.canonical_map()), rep);
        assert_eq!(rep.representative(), rep, "a representative is its own");
        for p in &properties {
            assert_eq!(
                (p.condition)(&model, &state),
                (p.condition)(&model, &rep),
                "{}",
                p.name
            );
        }
        for (perm, inverse) in [([1, 2, 0], [2, 0, 1]), ([2, 1, 0], [2, 1, 0])] {
            assert_eq!(state.renumbered(&perm).renumbered(&inverse), state);
        }
        let mut actions = Vec::new();
        model.actions(&state, &mut actions);
        let n = actions.len();
        let Some(next) = actions
            .into_iter()
            .nth((step * 7) % n.max(1))
            .and_then(|a| model.next_state(&state, a))
        else {
            break;
        };
        if model.within_boundary(&next) {
            state = next;
        }
    }
}
