//! Log replication: the leader's rules (Figure 2 "Rules for Servers: Leaders", section
//! 5.3), the AppendEntries RPC's receiver (Figure 2), and the commit rule (sections
//! 5.3 and 5.4.2, Figure 8).

use super::*;

/// Figure 2, leaders: the initial heartbeats are repeated "during idle periods to
/// prevent election timeouts" (section 5.2): on the heartbeat timer, one
/// AppendEntries to every other server, after the entry it is known to need next,
/// with the leader's commit index; then the timer is set again.
#[test]
fn a_leader_sends_heartbeats_when_its_timer_fires() {
    let mut node = leader(3, 2, log(&[1, 1]));
    let out = node.handle_timer(Timer::Heartbeat);
    assert_eq!(
        out,
        vec![
            send(0, ae(2, ME, (2, 1), vec![], 0)),
            send(2, ae(2, ME, (2, 1), vec![], 0)),
            set_heartbeat_timer(),
        ]
    );
}

/// Figure 2, leaders: "If command received from client: append entry to local log"
/// and section 5.3: "then issues AppendEntries RPCs in parallel to each of the other
/// servers", each naming the entry just before the new ones (prevLogIndex,
/// prevLogTerm) and carrying the commit index. The new entry is persisted before any
/// AppendEntries carries it. `start` answers the index and term the entry will have.
#[test]
fn a_leader_appends_a_command_and_replicates_it_at_once() {
    let mut node = leader(3, 2, log(&[1, 1]));
    let (r, out) = node.start(3);
    assert_eq!(r, Ok((3, 2)));
    assert_eq!(
        out,
        vec![
            persist(2, Some(ME), suffix(3, entries(3, &[2]))),
            send(0, ae(2, ME, (2, 1), entries(3, &[2]), 0)),
            send(2, ae(2, ME, (2, 1), entries(3, &[2]), 0)),
        ]
    );
    assert_eq!(terms(&node), vec![1, 1, 2]);
    // Pipelined: the next request to each peer starts after what is in flight.
    assert_eq!(
        leader_state(&node),
        (vec![4, 3, 4], vec![2, 3, 2], vec![0, 2])
    );
}

/// Only the leader appends (section 5.1: clients talk to the leader): `start` on a
/// follower or a candidate is refused with the term and the leader it knows, and
/// changes nothing.
#[test]
fn only_the_leader_accepts_commands() {
    for role in [As::Follower, As::Candidate] {
        let mut node = node_as(role, 3, 2, log(&[1, 1]));
        let before = node.clone();
        let (r, out) = node.start(3);
        assert_eq!(
            r,
            Err(NotLeader {
                term: 2,
                leader: None
            }),
            "{role:?}"
        );
        assert_eq!(out, vec![]);
        assert_eq!(node, before);
    }
    let mut node = follower(3, 2, log(&[1, 1]));
    node.handle_request(0, ae(2, 0, (2, 1), vec![], 0));
    assert_eq!(
        node.start(3).0,
        Err(NotLeader {
            term: 2,
            leader: Some(0)
        })
    );
}

/// Figure 2, leaders: "If last log index >= nextIndex for a follower: send
/// AppendEntries RPC with log entries starting at nextIndex", at most
/// `max_append_entries` of them per request, the rest on its answer.
#[test]
fn a_leader_sends_the_entries_from_next_index() {
    let state = PersistentState {
        term: 2,
        voted_for: None,
        log: log(&[1, 1, 2, 2]),
    };
    let config = Config {
        max_append_entries: 2,
        ..Config::new(ME, 3)
    };
    let (mut node, _) = Node::restore(config, &state.encode(), &[]).unwrap();
    node.handle_timer(Timer::Election);
    node.handle_reply(0, vote(3, true));
    assert!(node.is_leader());
    // S0 has only the first entry: it gets entries 2 and 3, then 4.
    let out = node.handle_reply(0, ae_mismatch(3, None, 2));
    assert_eq!(
        out,
        vec![send(0, ae(3, ME, (1, 1), entries(2, &[1, 2]), 0))]
    );
    let out = node.handle_reply(0, ae_ok(3, 3));
    assert_eq!(out, vec![send(0, ae(3, ME, (3, 2), entries(4, &[2]), 0))]);
    let out = node.handle_reply(0, ae_ok(3, 4));
    assert_eq!(
        out,
        vec![],
        "S0 has everything: nothing more until the heartbeat"
    );
}

/// Figure 2, leaders: "If successful: update nextIndex and matchIndex for follower".
/// `match_index` only grows (a duplicated or reordered older answer does not lower
/// it) and never exceeds the leader's log (a hostile answer is capped).
#[test]
fn a_leader_updates_next_and_match_index_on_success() {
    let mut node = leader(3, 2, log(&[1, 1]));
    assert_eq!(node.start(3).0, Ok((3, 2)));
    node.handle_reply(0, ae_ok(2, 3));
    assert_eq!(leader_state(&node), (vec![4, 3, 4], vec![3, 3, 2], vec![2]));
    node.handle_reply(0, ae_ok(2, 2));
    assert_eq!(leader_state(&node), (vec![4, 3, 4], vec![3, 3, 2], vec![2]));
    node.handle_reply(2, ae_ok(2, 99));
    assert_eq!(leader_state(&node), (vec![4, 3, 4], vec![3, 3, 3], vec![]));
}

/// Figure 2, leaders: "If AppendEntries fails because of log inconsistency: decrement
/// nextIndex and retry", with section 5.3's optimization (the lab's fast backup): the
/// follower names the term of its conflicting entry and the first index it holds of
/// that term, so the leader skips the whole term at once: to after its own last entry
/// of that term if it has one, else to that first index; with no conflicting entry,
/// to the end of the follower's log. The retry goes out in the same step.
#[test]
fn a_leader_backs_up_next_index_on_a_mismatch_by_the_hint() {
    // The leader of term 4 holds terms [1, 1, 3, 3]. (the hint, the retry)
    let cases = [
        // The follower's log ends at 2.
        (
            ae_mismatch(4, None, 3),
            ae(4, ME, (2, 1), entries(3, &[3, 3]), 0),
        ),
        // The follower holds term 1 at 4 (from index 1): the leader's term 1 ends at 2.
        (
            ae_mismatch(4, Some(1), 1),
            ae(4, ME, (2, 1), entries(3, &[3, 3]), 0),
        ),
        // The follower holds term 2 from index 2: the leader has no term 2.
        (
            ae_mismatch(4, Some(2), 2),
            ae(4, ME, (1, 1), entries(2, &[1, 3, 3]), 0),
        ),
        // The follower's log is empty.
        (
            ae_mismatch(4, None, 1),
            ae(4, ME, (0, 0), entries(1, &[1, 1, 3, 3]), 0),
        ),
        // A hint past the leader's log (hostile) is capped at its end.
        (ae_mismatch(4, None, 9), ae(4, ME, (4, 3), vec![], 0)),
    ];
    for (hint, retry) in cases {
        let mut node = new_leader(3, 4, log(&[1, 1, 3, 3]));
        let out = node.handle_reply(0, hint.clone());
        assert_eq!(out, vec![send(0, retry)], "given {hint:?}");
        assert!(leader_state(&node).2.contains(&0), "the retry is in flight");
    }
}

/// AppendEntries receiver rule 2 (Figure 2): "Reply false if log doesn't contain an
/// entry at prevLogIndex whose term matches prevLogTerm", with the hint of the fast
/// backup: the conflicting entry's term and the first index of that term the follower
/// still holds (never an index inside its snapshot), or, when the log is too short, no
/// term and the index after its last entry. The log is left as it is.
#[test]
fn append_entries_receiver_refuses_a_log_that_does_not_match() {
    // (the follower's log, the leader's prev entry, the hint)
    let cases = [
        (log(&[1, 1, 2, 2, 2]), (5, 3), (Some(2), 3)),
        (log(&[1, 1, 2, 2, 2]), (3, 1), (Some(2), 3)),
        (log(&[2, 2, 2]), (3, 3), (Some(2), 1)),
        (log(&[1, 1]), (5, 3), (None, 3)),
        (log(&[]), (1, 1), (None, 1)),
        // The run of term 2 goes on into the snapshot through 2: the hint is 3.
        (compacted(2, 2, &[2, 2]), (4, 3), (Some(2), 3)),
        (compacted(2, 1, &[3, 3]), (4, 4), (Some(3), 3)),
        (compacted(2, 1, &[]), (4, 4), (None, 3)),
    ];
    for (log, prev, (conflict_term, first_index)) in cases {
        let mut node = follower(3, 4, log.clone());
        let out = node.handle_request(0, ae(4, 0, prev, entries(prev.0 + 1, &[4]), 0));
        assert_eq!(
            msgs(&out),
            vec![reply(0, ae_mismatch(4, conflict_term, first_index))],
            "log {log:?}, prev {prev:?}"
        );
        assert_eq!(node.log(), &log);
    }
}

/// The fast backup end to end: a follower whose log diverges for a whole term is
/// brought in line in two round trips, not one per entry (section 5.3).
#[test]
fn a_diverging_follower_catches_up_in_one_round_trip_per_term() {
    let mut l = restored_as(0, 3, 3, None, log(&[1, 1, 3, 3, 3]));
    l.handle_timer(Timer::Election);
    let out = l.handle_reply(1, vote(4, true));
    let mut f = restored(3, 4, None, log(&[1, 1, 2, 2, 2, 2]));
    let Some(Output::Send { request, .. }) = out
        .iter()
        .find(|o| matches!(o, Output::Send { to: ME, .. }))
    else {
        panic!("no AppendEntries to S1: {out:?}");
    };
    // Round 1: the heartbeat after (5, T3) fails; the hint is (T2, from 3).
    let answer = f.handle_request(0, request.clone());
    assert_eq!(msgs(&answer), vec![reply(0, ae_mismatch(4, Some(2), 3))]);
    // Round 2: the leader has no term 2, so it sends everything after index 2.
    let out = l.handle_reply(ME, ae_mismatch(4, Some(2), 3));
    assert_eq!(
        out,
        vec![send(ME, ae(4, 0, (2, 1), entries(3, &[3, 3, 3]), 0))]
    );
    let Output::Send { request, .. } = out[0].clone() else {
        unreachable!()
    };
    let answer = f.handle_request(0, request);
    assert_eq!(
        msgs(&answer),
        vec![
            persist(4, None, suffix(3, entries(3, &[3, 3, 3]))),
            reply(0, ae_ok(4, 5))
        ]
    );
    assert_eq!(terms(&f), vec![1, 1, 3, 3, 3]);
}

/// AppendEntries receiver rule 3 (Figure 2): "If an existing entry conflicts with a
/// new one (same index but different terms), delete the existing entry and all that
/// follow it". The truncation and the new entries are persisted before the reply.
#[test]
fn append_entries_receiver_deletes_a_conflicting_suffix() {
    let mut node = follower(3, 3, log(&[1, 1, 2, 2]));
    let out = node.handle_request(0, ae(3, 0, (2, 1), entries(3, &[3]), 0));
    assert_eq!(
        msgs(&out),
        vec![
            persist(3, None, suffix(3, entries(3, &[3]))),
            reply(0, ae_ok(3, 3))
        ]
    );
    assert_eq!(terms(&node), vec![1, 1, 3]);
}

/// The other half of rule 3: only a conflict truncates. Entries the follower already
/// holds are kept, even those after the request's last entry (a delayed, shorter
/// AppendEntries must not erase what the follower acknowledged since), and nothing is
/// persisted.
#[test]
fn append_entries_receiver_keeps_matching_entries() {
    let mut node = follower(3, 3, log(&[1, 1, 2, 2]));
    let out = node.handle_request(0, ae(3, 0, (1, 1), entries(2, &[1, 2]), 0));
    assert_eq!(msgs(&out), vec![reply(0, ae_ok(3, 3))]);
    assert_eq!(terms(&node), vec![1, 1, 2, 2]);
}

/// AppendEntries receiver rule 4 (Figure 2): "Append any new entries not already in the
/// log", persisting from the first new one.
#[test]
fn append_entries_receiver_appends_new_entries() {
    let mut node = follower(3, 2, log(&[1, 1, 2]));
    let out = node.handle_request(0, ae(2, 0, (1, 1), entries(2, &[1, 2, 2]), 0));
    assert_eq!(
        msgs(&out),
        vec![
            persist(2, None, suffix(4, entries(4, &[2]))),
            reply(0, ae_ok(2, 4))
        ]
    );
    assert_eq!(terms(&node), vec![1, 1, 2, 2]);
    let mut node = follower(3, 2, log(&[]));
    let out = node.handle_request(0, ae(2, 0, (0, 0), entries(1, &[1, 2]), 0));
    assert_eq!(
        msgs(&out),
        vec![
            persist(2, None, suffix(1, entries(1, &[1, 2]))),
            reply(0, ae_ok(2, 2))
        ]
    );
}

/// AppendEntries receiver rule 5 (Figure 2): "If leaderCommit > commitIndex, set
/// commitIndex = min(leaderCommit, index of last new entry)": the follower commits only
/// what this request showed to match the leader's log, not entries beyond it that may
/// be stale.
#[test]
fn append_entries_receiver_commits_up_to_the_last_new_entry() {
    let mut node = follower(3, 1, log(&[1, 1, 1, 1]));
    let out = node.handle_request(0, ae(1, 0, (1, 1), entries(2, &[1]), 4));
    assert_eq!(
        msgs(&out),
        vec![apply(1, 1), apply(2, 1), reply(0, ae_ok(1, 2))]
    );
    assert_eq!(node.commit_index(), 2);
    let out = node.handle_request(0, ae(1, 0, (4, 1), vec![], 1));
    assert_eq!(msgs(&out), vec![reply(0, ae_ok(1, 4))]);
    assert_eq!(node.commit_index(), 2, "leaderCommit below commitIndex");
    let out = node.handle_request(0, ae(1, 0, (4, 1), vec![], 4));
    assert_eq!(
        msgs(&out),
        vec![apply(3, 1), apply(4, 1), reply(0, ae_ok(1, 4))]
    );
    // A request that fails the consistency check commits nothing.
    let mut node = follower(3, 1, log(&[1, 1]));
    let out = node.handle_request(0, ae(1, 0, (3, 1), vec![], 2));
    assert_eq!(msgs(&out), vec![reply(0, ae_mismatch(1, None, 3))]);
    assert_eq!(node.commit_index(), 0);
}

/// Figure 2, leaders: "If there exists an N such that N > commitIndex, a majority of
/// matchIndex[i] >= N, and log[N].term == currentTerm: set commitIndex = N" (section
/// 5.3); the entries are applied in the same step. In a cluster of five the leader and
/// two others are a majority, the leader and one other are not.
#[test]
fn a_leader_commits_an_entry_of_its_term_stored_on_a_majority() {
    let mut node = leader(5, 2, log(&[1, 1]));
    assert_eq!(node.start(3).0, Ok((3, 2)));
    assert_eq!(node.handle_reply(0, ae_ok(2, 3)), vec![]);
    assert_eq!(node.commit_index(), 0);
    assert_eq!(
        node.handle_reply(3, ae_ok(2, 3)),
        vec![apply(1, 1), apply(2, 1), apply(3, 2)]
    );
    assert_eq!(node.commit_index(), 3);
    // The followers learn it from the next AppendEntries.
    let out = node.handle_timer(Timer::Heartbeat);
    assert_eq!(out[0], send(0, ae(2, ME, (3, 2), vec![], 3)));
}

/// Section 5.4.2 and Figure 8: "Raft never commits log entries from previous terms by
/// counting replicas. Only log entries from the leader's current term are committed by
/// counting replicas; once an entry from the current term has been committed in this
/// way, then all prior entries are committed indirectly."
#[test]
fn figure8_a_leader_never_commits_an_old_term_entry_by_counting() {
    // S1 leads term 4 with an entry of term 2 at index 2 that S0 holds too: a majority
    // of three, but of an old term.
    let mut node = new_leader(3, 4, log(&[1, 2]));
    assert_eq!(node.handle_reply(0, ae_ok(4, 2)), vec![]);
    assert_eq!(node.commit_index(), 0);
    let out = node.handle_timer(Timer::Heartbeat);
    assert_eq!(out[0], send(0, ae(4, ME, (2, 2), vec![], 0)));
    assert_eq!(node.handle_reply(0, ae_ok(4, 2)), vec![]);
    // Once an entry of term 4 is on a majority, it commits, and everything before it.
    let (_, out) = node.start(3);
    assert_eq!(
        out,
        vec![
            persist(4, Some(ME), suffix(3, entries(3, &[4]))),
            send(0, ae(4, ME, (2, 2), entries(3, &[4]), 0)),
        ],
        "S2's heartbeat is unanswered: S2 gets the entry with the next one"
    );
    let out = node.handle_reply(0, ae_ok(4, 3));
    assert_eq!(out, vec![apply(1, 1), apply(2, 2), apply(3, 4)]);
}

/// The leader's in-flight set (`Role::Leader::in_flight`): a peer that has not answered
/// gets one AppendEntries per heartbeat, carrying everything it lacks, not one per
/// command (the lab's RPC count, and the load on a slow or partitioned peer).
#[test]
fn a_slow_peer_gets_one_append_entries_per_heartbeat() {
    let mut node = leader(3, 2, log(&[1, 1]));
    let mut sent = [0usize; 3];
    fn count(sent: &mut [usize; 3], out: &[Out]) {
        for o in out {
            if let Output::Send { to, .. } = o {
                sent[*to] += 1;
            }
        }
    }
    // Heartbeat 1 reaches both; only S0 answers (S2 is slow).
    let out = node.handle_timer(Timer::Heartbeat);
    count(&mut sent, &out);
    assert_eq!(node.handle_reply(0, ae_ok(2, 2)), vec![]);
    // Five commands: the first goes to S0 at once; S0 then has one in flight, and S2
    // has had one in flight all along.
    for cmd in 3..=7 {
        let (_, out) = node.start(cmd);
        count(&mut sent, &out);
    }
    assert_eq!(sent, [2, 0, 1]);
    // Heartbeat 2: one request each; S2's carries every entry after what it was last
    // sent.
    let out = node.handle_timer(Timer::Heartbeat);
    assert_eq!(
        out,
        vec![
            send(0, ae(2, ME, (3, 2), entries(4, &[2, 2, 2, 2]), 0)),
            send(2, ae(2, ME, (2, 1), entries(3, &[2, 2, 2, 2, 2]), 0)),
            set_heartbeat_timer(),
        ]
    );
    count(&mut sent, &out);
    assert_eq!(sent, [3, 0, 2]);
}
