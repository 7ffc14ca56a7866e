//! The Raft paper's rules, one test each (Ongaro and Ousterhout, "In Search of an
//! Understandable Consensus Algorithm", extended version: Figure 2, sections 5.1-5.4
//! and 7, Figure 13).
//!
//! Each test puts one node in a role with a hand-made persistent state, hands it
//! hand-made messages, and compares its outputs with the exact outputs the rule asks
//! for: the persist record first (Figure 2: persistent state is updated on stable
//! storage before responding to RPCs), then every message with every field. Most tests
//! compare every output; where a rule is about messages alone, the step's timer outputs
//! are left out ([`msgs`]) or compared on their own ([`timers`]), so that a test of a
//! message rule does not also pin when a timer happens to be restarted.
//!
//! Conventions: the node under test is S1 ([`ME`]); the command of the entry at index
//! `i` is `i`, so an entry is known by its index and term alone; snapshots carry the
//! bytes [`SNAPSHOT`].
//!
//! - this file: the rules for all servers (section 5.1, Figure 2 "Rules for Servers").
//! - [`election`]: followers and candidates (5.2), RequestVote (5.2, 5.4.1).
//! - [`replication`]: leaders (5.3), AppendEntries (5.3), the commit rule (5.4.2).
//! - [`snapshot`]: InstallSnapshot (section 7, Figure 13).
//! - [`persistence`]: persistent state before every response (Figure 2).

mod election;
mod persistence;
mod replication;
mod snapshot;

use std::sync::Arc;

use super::*;

type Node = Raft<u64>;
type Out = Output<u64>;

/// The node under test: S1, so that neither 0 nor the last id is special.
const ME: NodeId = 1;

/// The bytes of every snapshot in these tests.
const SNAPSHOT: &[u8] = b"snapshot";

// ----- Logs -----------------------------------------------------------------------------

/// The entry at `index` of term `term` (its command is its index).
fn e(term: Term, index: Index) -> Entry<u64> {
    Entry {
        term,
        command: index,
    }
}

/// Entries of terms `terms` from index `first` on.
fn entries(first: Index, terms: &[Term]) -> Vec<Entry<u64>> {
    terms
        .iter()
        .enumerate()
        .map(|(k, &t)| e(t, first + k as Index))
        .collect()
}

/// A log whose entries, from index 1, have terms `terms`.
fn log(terms: &[Term]) -> Log<u64> {
    compacted(0, 0, terms)
}

/// A log compacted through `snapshot_index` (of `snapshot_term`), then entries of
/// `terms`.
fn compacted(snapshot_index: Index, snapshot_term: Term, terms: &[Term]) -> Log<u64> {
    let mut log = Log::default();
    log.compact_to(snapshot_index, snapshot_term);
    for entry in entries(snapshot_index + 1, terms) {
        log.push(entry);
    }
    log
}

/// The terms of a log's retained entries.
fn terms(node: &Node) -> Vec<Term> {
    node.log().entries().iter().map(|e| e.term).collect()
}

// ----- Nodes in a role ------------------------------------------------------------------

/// A role a rule applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum As {
    Follower,
    Candidate,
    Leader,
}

const ROLES: [As; 3] = [As::Follower, As::Candidate, As::Leader];

/// Node `me` of `peers`, restarted from this persistent state (a follower). A compacted
/// log comes with the snapshot [`SNAPSHOT`].
fn restored_as(
    me: NodeId,
    peers: usize,
    term: Term,
    voted_for: Option<NodeId>,
    log: Log<u64>,
) -> Node {
    let snapshot = if log.snapshot_index() > 0 {
        SNAPSHOT
    } else {
        &[]
    };
    let state = PersistentState {
        term,
        voted_for,
        log,
    };
    let (node, _) = Node::restore(Config::new(me, peers), &state.encode(), snapshot)
        .expect("a hand-made state restores");
    node
}

/// S1 of `peers`, restarted in `term` with this vote and log: a follower.
fn restored(peers: usize, term: Term, voted_for: Option<NodeId>, log: Log<u64>) -> Node {
    restored_as(ME, peers, term, voted_for, log)
}

/// S1 of `peers` as a follower of `term` that has not voted.
fn follower(peers: usize, term: Term, log: Log<u64>) -> Node {
    restored(peers, term, None, log)
}

/// S1 of `peers` as a candidate of `term` (restored in `term - 1`, then its election
/// timer fired): it voted for itself and sent its RequestVotes.
fn candidate(peers: usize, term: Term, log: Log<u64>) -> Node {
    let mut node = restored(peers, term - 1, None, log);
    node.handle_timer(Timer::Election);
    assert_eq!((node.term(), node.voted_for()), (term, Some(ME)));
    node
}

/// S1 of `peers` as the leader of `term`, just elected: its first AppendEntries to
/// every peer are still unanswered.
fn new_leader(peers: usize, term: Term, log: Log<u64>) -> Node {
    let mut node = candidate(peers, term, log);
    for peer in (0..peers).filter(|&p| p != ME) {
        if node.is_leader() {
            break;
        }
        node.handle_reply(peer, vote(term, true));
    }
    assert!(node.is_leader());
    node
}

/// S1 of `peers` as the leader of `term` whose first AppendEntries every peer has
/// answered: they all hold its whole log, and no request is in flight.
fn leader(peers: usize, term: Term, log: Log<u64>) -> Node {
    let mut node = new_leader(peers, term, log);
    let last = node.log().last_index();
    for peer in (0..peers).filter(|&p| p != ME) {
        node.handle_reply(peer, ae_ok(term, last));
    }
    node
}

/// S1 of `peers` in `role`, in `term`, with `log`.
fn node_as(role: As, peers: usize, term: Term, log: Log<u64>) -> Node {
    match role {
        As::Follower => follower(peers, term, log),
        As::Candidate => candidate(peers, term, log),
        As::Leader => leader(peers, term, log),
    }
}

/// Which role a node is in.
fn role_of(node: &Node) -> As {
    match node.role() {
        Role::Follower => As::Follower,
        Role::Candidate { .. } => As::Candidate,
        Role::Leader { .. } => As::Leader,
    }
}

/// A leader's `(next_index, match_index, in_flight)`.
fn leader_state(node: &Node) -> (Vec<Index>, Vec<Index>, Vec<NodeId>) {
    let Role::Leader {
        next_index,
        match_index,
        in_flight,
    } = node.role()
    else {
        panic!("S{} is not leader: {:?}", node.me(), node.role());
    };
    (
        next_index.clone(),
        match_index.clone(),
        in_flight.iter().collect(),
    )
}

// ----- Messages -------------------------------------------------------------------------

/// RequestVote of `candidate` in `term`, whose last entry is `(index, term)`.
fn rv(term: Term, candidate: NodeId, last: (Index, Term)) -> Request<u64> {
    Request::RequestVote(RequestVote {
        term,
        candidate,
        last_log_index: last.0,
        last_log_term: last.1,
    })
}

/// AppendEntries of `leader` in `term` after the entry `prev = (index, term)`.
fn ae(
    term: Term,
    leader: NodeId,
    prev: (Index, Term),
    entries: Vec<Entry<u64>>,
    leader_commit: Index,
) -> Request<u64> {
    Request::AppendEntries(AppendEntries {
        term,
        leader,
        prev_log_index: prev.0,
        prev_log_term: prev.1,
        entries,
        leader_commit,
    })
}

/// InstallSnapshot of `leader` in `term` through the entry `last = (index, term)`.
fn is(term: Term, leader: NodeId, last: (Index, Term)) -> Request<u64> {
    Request::InstallSnapshot(InstallSnapshot {
        term,
        leader,
        last_included_index: last.0,
        last_included_term: last.1,
        data: Arc::from(SNAPSHOT),
    })
}

fn vote(term: Term, granted: bool) -> Reply {
    Reply::RequestVote(VoteReply { term, granted })
}

fn ae_ok(term: Term, match_index: Index) -> Reply {
    Reply::AppendEntries(AppendReply {
        term,
        outcome: AppendOutcome::Success { match_index },
    })
}

fn ae_mismatch(term: Term, conflict_term: Option<Term>, first_index: Index) -> Reply {
    Reply::AppendEntries(AppendReply {
        term,
        outcome: AppendOutcome::Mismatch {
            conflict_term,
            first_index,
        },
    })
}

fn ae_stale(term: Term) -> Reply {
    Reply::AppendEntries(AppendReply {
        term,
        outcome: AppendOutcome::Stale,
    })
}

fn is_reply(term: Term, match_index: Option<Index>) -> Reply {
    Reply::InstallSnapshot(SnapshotReply { term, match_index })
}

// ----- Outputs --------------------------------------------------------------------------

/// The persist record of term, vote and log change (no new snapshot).
fn persist(term: Term, voted_for: Option<NodeId>, log: LogWrite<u64>) -> Out {
    Output::Persist(Persist {
        term,
        voted_for,
        log,
        snapshot: None,
    })
}

/// The persist record of an installed or taken snapshot.
fn persist_compacted(
    term: Term,
    voted_for: Option<NodeId>,
    snapshot: (Index, Term),
    entries: Vec<Entry<u64>>,
) -> Out {
    Output::Persist(Persist {
        term,
        voted_for,
        log: LogWrite::Compacted {
            snapshot_index: snapshot.0,
            snapshot_term: snapshot.1,
            entries,
        },
        snapshot: Some(Arc::from(SNAPSHOT)),
    })
}

fn suffix(from: Index, entries: Vec<Entry<u64>>) -> LogWrite<u64> {
    LogWrite::Suffix { from, entries }
}

fn send(to: NodeId, request: Request<u64>) -> Out {
    Output::Send { to, request }
}

fn reply(to: NodeId, reply: Reply) -> Out {
    Output::Reply { to, reply }
}

/// The apply of the command at `index` (of term `term`).
fn apply(index: Index, term: Term) -> Out {
    Output::Apply(Apply::Command {
        index,
        term,
        command: index,
    })
}

fn apply_snapshot(index: Index, term: Term) -> Out {
    Output::Apply(Apply::Snapshot {
        index,
        term,
        data: Arc::from(SNAPSHOT),
    })
}

fn set_election_timer() -> Out {
    Output::SetTimer {
        timer: Timer::Election,
        after: Timing::default().election,
    }
}

fn set_heartbeat_timer() -> Out {
    Output::SetTimer {
        timer: Timer::Heartbeat,
        after: Timing::default().heartbeat,
    }
}

fn is_timer(o: &Out) -> bool {
    matches!(o, Output::SetTimer { .. } | Output::CancelTimer(_))
}

/// The outputs of a step without its timer outputs, after checking the rule every
/// step keeps: at most one persist record, and it comes first.
fn msgs(out: &[Out]) -> Vec<Out> {
    let persists = out
        .iter()
        .filter(|o| matches!(o, Output::Persist(_)))
        .count();
    assert!(persists <= 1, "more than one persist record: {out:?}");
    if persists == 1 {
        assert!(
            matches!(out[0], Output::Persist(_)),
            "persist not first: {out:?}"
        );
    }
    out.iter().filter(|o| !is_timer(o)).cloned().collect()
}

/// The timer outputs of a step, in order.
fn timers(out: &[Out]) -> Vec<Out> {
    out.iter().filter(|o| is_timer(o)).cloned().collect()
}

// ----- All servers (section 5.1; Figure 2, "Rules for Servers: All Servers") -----------

/// Figure 2, all servers: "If RPC request or response contains term T > currentTerm:
/// set currentTerm = T, convert to follower" (section 5.1). The new term is persisted,
/// with no vote, before the reply; a leader stops its heartbeats and starts waiting
/// for a leader. Here for requests of each RPC, in each role.
#[test]
fn all_servers_adopt_a_higher_term_from_a_request() {
    for role in ROLES {
        // S0 in term 3: a RequestVote whose log is behind (so no vote follows), a
        // heartbeat that matches, a snapshot that covers more than the log.
        let cases: [(Request<u64>, Vec<Out>, Option<NodeId>); 3] = [
            (
                rv(3, 0, (1, 1)),
                vec![
                    persist(3, None, LogWrite::Unchanged),
                    reply(0, vote(3, false)),
                ],
                None,
            ),
            (
                ae(3, 0, (2, 1), vec![], 0),
                vec![persist(3, None, LogWrite::Unchanged), reply(0, ae_ok(3, 2))],
                Some(0),
            ),
            (
                is(3, 0, (5, 2)),
                vec![
                    persist_compacted(3, None, (5, 2), vec![]),
                    apply_snapshot(5, 2),
                    reply(0, is_reply(3, Some(5))),
                ],
                Some(0),
            ),
        ];
        for (request, want, leader) in cases {
            let mut node = node_as(role, 3, 2, log(&[1, 1]));
            let out = node.handle_request(0, request.clone());
            assert_eq!(msgs(&out), want, "{role:?} given {request:?}");
            assert_eq!(role_of(&node), As::Follower, "{role:?} given {request:?}");
            assert_eq!((node.term(), node.voted_for()), (3, None));
            assert_eq!(node.leader(), leader);
            if role == As::Leader {
                assert_eq!(
                    timers(&out)[..2],
                    [Output::CancelTimer(Timer::Heartbeat), set_election_timer()],
                    "a deposed leader waits for a leader again"
                );
            }
        }
    }
}

/// Figure 2, all servers: the same rule for a response carrying a higher term: persist
/// the term with no vote, become a follower that knows no leader (section 5.1).
#[test]
fn all_servers_adopt_a_higher_term_from_a_reply() {
    for role in ROLES {
        for r in [vote(3, false), ae_stale(3), is_reply(3, None)] {
            let mut node = node_as(role, 3, 2, log(&[1, 1]));
            let out = node.handle_reply(0, r.clone());
            assert_eq!(
                msgs(&out),
                vec![persist(3, None, LogWrite::Unchanged)],
                "{role:?} given {r:?}"
            );
            assert_eq!(role_of(&node), As::Follower);
            assert_eq!(
                (node.term(), node.voted_for(), node.leader()),
                (3, None, None)
            );
            let want_timers = if role == As::Leader {
                vec![Output::CancelTimer(Timer::Heartbeat), set_election_timer()]
            } else {
                vec![]
            };
            assert_eq!(timers(&out), want_timers, "{role:?} given {r:?}");
        }
    }
}

/// Receiver rule 1 of each RPC (Figure 2 RequestVote and AppendEntries, Figure 13
/// InstallSnapshot): "Reply false if term < currentTerm" (section 5.1: a server rejects
/// a request with a stale term). The reply carries the current term so that the
/// sender learns it; nothing else happens, in any role: no persist, no timer, no
/// change at all.
#[test]
fn all_servers_reject_a_request_of_a_stale_term() {
    for role in ROLES {
        let cases = [
            (rv(2, 0, (9, 2)), vote(3, false)),
            (ae(2, 0, (2, 1), entries(3, &[2]), 3), ae_stale(3)),
            (is(2, 0, (5, 2)), is_reply(3, None)),
        ];
        for (request, answer) in cases {
            let mut node = node_as(role, 3, 3, log(&[1, 1]));
            let before = node.clone();
            let out = node.handle_request(0, request.clone());
            assert_eq!(out, vec![reply(0, answer)], "{role:?} given {request:?}");
            assert_eq!(node, before, "{role:?} changed on {request:?}");
        }
    }
}

/// Section 5.1: a server ignores a response of an older term (its request belongs to
/// a term that is over): no vote counted, no index moved, no output.
#[test]
fn all_servers_ignore_replies_of_a_stale_term() {
    for role in ROLES {
        for r in [
            vote(2, true),
            ae_ok(2, 2),
            ae_mismatch(2, None, 1),
            ae_stale(2),
            is_reply(2, Some(2)),
        ] {
            let mut node = node_as(role, 3, 3, log(&[1, 1]));
            let before = node.clone();
            let out = node.handle_reply(0, r.clone());
            assert_eq!(out, vec![], "{role:?} given {r:?}");
            assert_eq!(node, before, "{role:?} changed on {r:?}");
        }
    }
}

/// Figure 2, all servers: "If commitIndex > lastApplied: increment lastApplied, apply
/// log[lastApplied] to state machine". Here both happen in the step that commits: every
/// newly committed entry is applied, in index order, before the reply.
#[test]
fn all_servers_apply_committed_entries_in_order() {
    let mut node = follower(3, 1, log(&[1, 1, 1]));
    let out = node.handle_request(0, ae(1, 0, (3, 1), vec![], 3));
    assert_eq!(
        msgs(&out),
        vec![apply(1, 1), apply(2, 1), apply(3, 1), reply(0, ae_ok(1, 3))]
    );
    assert_eq!(node.commit_index(), 3);
    // An older commit index applies nothing again.
    let out = node.handle_request(0, ae(1, 0, (3, 1), vec![], 2));
    assert_eq!(msgs(&out), vec![reply(0, ae_ok(1, 3))]);
    assert_eq!(node.commit_index(), 3);
}

/// Figure 2, followers: "Respond to RPCs from candidates and leaders". Every request,
/// whatever its fate, gets exactly one reply, to its sender, and it is the step's last
/// message.
#[test]
fn all_servers_answer_every_request_once() {
    for role in ROLES {
        for request in [
            rv(1, 2, (0, 0)),
            rv(4, 2, (9, 3)),
            ae(2, 2, (7, 2), vec![], 0),
            ae(4, 2, (0, 0), entries(1, &[4]), 0),
            is(1, 2, (1, 1)),
            is(4, 2, (1, 1)),
        ] {
            let mut node = node_as(role, 3, 2, log(&[1, 1]));
            let out = node.handle_request(2, request.clone());
            let replies: Vec<_> = out
                .iter()
                .filter(|o| matches!(o, Output::Reply { .. }))
                .collect();
            assert_eq!(replies.len(), 1, "{role:?} given {request:?}: {out:?}");
            assert!(matches!(out.last(), Some(Output::Reply { to: 2, .. })));
        }
    }
}
