//! Leader election: followers and candidates (section 5.2, Figure 2 "Rules for
//! Servers"), and the RequestVote RPC's receiver (Figure 2, sections 5.2 and 5.4.1).

use super::*;

/// Section 5.2: "When servers start up, they begin as followers", waiting for a leader
/// (the election timer is the only output). A restarted server is a follower of the
/// term it persisted.
#[test]
fn servers_start_as_followers() {
    let (node, out) = Node::new(Config::new(ME, 3)).unwrap();
    assert_eq!(out, vec![set_election_timer()]);
    assert_eq!(role_of(&node), As::Follower);
    assert_eq!(
        (node.term(), node.voted_for(), node.leader()),
        (0, None, None)
    );
    let node = restored(3, 4, Some(2), log(&[1, 3]));
    assert_eq!(role_of(&node), As::Follower);
    assert_eq!((node.term(), node.voted_for()), (4, Some(2)));
}

/// A node knows its own id (`Raft::me`), and names itself in what it sends: the
/// candidate of its RequestVotes, sent to every other node and only to them.
#[test]
fn nodes_know_who_they_are() {
    for (me, peers) in [(0, 1), (1, 3), (2, 3), (4, 5)] {
        let (mut node, _) = Node::new(Config::new(me, peers)).unwrap();
        assert_eq!(node.me(), me);
        assert_eq!(node.config().me, me);
        let out = node.handle_timer(Timer::Election);
        let sent: Vec<_> = msgs(&out)
            .into_iter()
            .filter_map(|o| match o {
                Output::Send { to, request } => Some((to, request)),
                _ => None,
            })
            .collect();
        let others: Vec<_> = (0..peers).filter(|&p| p != me).collect();
        assert_eq!(
            sent,
            others
                .iter()
                .map(|&p| (p, rv(1, me, (0, 0))))
                .collect::<Vec<_>>()
        );
    }
}

/// Figure 2, followers: "If election timeout elapses without receiving AppendEntries
/// RPC from current leader or granting vote to candidate: convert to candidate"; and
/// candidates: "On conversion to candidate, start election: increment currentTerm,
/// vote for self, reset election timer, send RequestVote RPCs to all other servers";
/// "If election timeout elapses: start new election" (section 5.2). The new term and
/// the vote for itself are persisted before any RequestVote leaves, and each carries
/// the index and term of the candidate's last entry.
#[test]
fn followers_and_candidates_start_an_election_on_timeout() {
    for role in [As::Follower, As::Candidate] {
        let mut node = node_as(role, 3, 2, log(&[1, 1]));
        let out = node.handle_timer(Timer::Election);
        assert_eq!(
            out,
            vec![
                persist(3, Some(ME), LogWrite::Unchanged),
                set_election_timer(),
                send(0, rv(3, ME, (2, 1))),
                send(2, rv(3, ME, (2, 1))),
            ],
            "{role:?}"
        );
        assert_eq!(
            node.role(),
            &Role::Candidate {
                votes: {
                    let mut v = NodeSet::default();
                    v.insert(ME);
                    v
                }
            }
        );
        assert_eq!(node.leader(), None);
    }
}

/// A leader has no election timer: one that fires anyway (a model checker may fire any
/// timer) changes nothing. Nor does a heartbeat timer on a node that is not leader.
#[test]
fn timers_of_another_role_are_ignored() {
    let mut node = leader(3, 2, log(&[1, 1]));
    let before = node.clone();
    assert_eq!(node.handle_timer(Timer::Election), vec![]);
    assert_eq!(node, before);
    for role in [As::Follower, As::Candidate] {
        let mut node = node_as(role, 3, 2, log(&[1, 1]));
        let before = node.clone();
        assert_eq!(node.handle_timer(Timer::Heartbeat), vec![], "{role:?}");
        assert_eq!(node, before);
    }
}

/// Figure 2, candidates: "If votes received from majority of servers: become leader"
/// (section 5.2). Each server's vote counts once, refusals count for nothing, and the
/// candidate's own vote is part of the majority.
#[test]
fn a_candidate_with_votes_from_a_majority_becomes_leader() {
    // (cluster size, votes granted (in order), votes refused, the role after them)
    let cases: [(usize, &[NodeId], &[NodeId], As); 8] = [
        (3, &[0], &[], As::Leader),
        (3, &[2], &[0], As::Leader),
        (3, &[], &[], As::Candidate),
        (3, &[], &[0, 2], As::Candidate),
        (5, &[0, 3], &[], As::Leader),
        (5, &[0], &[2, 3, 4], As::Candidate),
        (5, &[0, 0, 0], &[], As::Candidate),
        (5, &[4, 3, 2, 0], &[], As::Leader),
    ];
    for (peers, granted, refused, want) in cases {
        let mut node = candidate(peers, 1, log(&[]));
        for &p in refused {
            assert_eq!(node.handle_reply(p, vote(1, false)), vec![]);
        }
        for &p in granted {
            node.handle_reply(p, vote(1, true));
        }
        assert_eq!(
            role_of(&node),
            want,
            "{peers} peers, granted by {granted:?}"
        );
        assert_eq!(node.term(), 1);
    }
}

/// Figure 2, leaders: "Upon election: send initial empty AppendEntries RPCs
/// (heartbeat) to each server" (section 5.2), after the entry the leader's log ends
/// with, carrying its commit index; then repeat them on the heartbeat timer. The
/// election timer stops. The leader's `next_index` starts after its last entry, and
/// its `match_index` at 0 for every other server (Figure 2, volatile state on
/// leaders).
#[test]
fn a_new_leader_sends_empty_append_entries_at_once() {
    let mut node = candidate(5, 3, log(&[1, 2]));
    assert_eq!(node.handle_reply(0, vote(3, true)), vec![]);
    let out = node.handle_reply(4, vote(3, true));
    let heartbeat = |to| send(to, ae(3, ME, (2, 2), vec![], 0));
    assert_eq!(
        out,
        vec![
            Output::CancelTimer(Timer::Election),
            heartbeat(0),
            heartbeat(2),
            heartbeat(3),
            heartbeat(4),
            set_heartbeat_timer(),
        ]
    );
    assert_eq!(node.leader(), Some(ME));
    assert_eq!(
        leader_state(&node),
        (vec![3; 5], vec![0, 2, 0, 0, 0], vec![0, 2, 3, 4])
    );
    // A late vote changes nothing.
    let before = node.clone();
    assert_eq!(node.handle_reply(2, vote(3, true)), vec![]);
    assert_eq!(node, before);
}

/// A cluster of one: the candidate's own vote is a majority, so it leads at once, and
/// an entry it appends is committed (and applied) in the same step.
#[test]
fn a_single_server_elects_itself_and_commits_alone() {
    let (mut node, _) = Node::new(Config::new(0, 1)).unwrap();
    let out = node.handle_timer(Timer::Election);
    assert_eq!(
        out,
        vec![
            persist(1, Some(0), LogWrite::Unchanged),
            set_election_timer(),
            Output::CancelTimer(Timer::Election),
            set_heartbeat_timer(),
        ]
    );
    assert!(node.is_leader());
    let (r, out) = node.start(1);
    assert_eq!(r, Ok((1, 1)));
    assert_eq!(
        out,
        vec![
            persist(1, Some(0), suffix(1, entries(1, &[1]))),
            apply(1, 1)
        ]
    );
}

/// Figure 2, candidates: "If AppendEntries RPC received from new leader: convert to
/// follower" (section 5.2: a leader of a term at least the candidate's own is
/// legitimate). The candidate keeps its term and its vote (nothing to persist),
/// follows the leader and answers as a follower.
#[test]
fn a_candidate_follows_a_leader_of_its_term() {
    let mut node = candidate(3, 2, log(&[1, 1]));
    let out = node.handle_request(2, ae(2, 2, (2, 1), vec![], 0));
    assert_eq!(out, vec![set_election_timer(), reply(2, ae_ok(2, 2))]);
    assert_eq!(role_of(&node), As::Follower);
    assert_eq!(
        (node.term(), node.voted_for(), node.leader()),
        (2, Some(ME), Some(2))
    );
}

/// Figure 2, followers: the election timer restarts only on AppendEntries from the
/// current leader and on granting a vote; a refused vote or a stale AppendEntries
/// leaves it running (section 5.2).
#[test]
fn followers_restart_the_election_timer_only_for_a_leader_or_a_granted_vote() {
    let cases: [(Option<NodeId>, Request<u64>, bool); 5] = [
        (None, ae(2, 0, (2, 1), vec![], 0), true),
        (None, ae(2, 0, (7, 2), vec![], 0), true), // mismatch, but from the leader
        (None, rv(2, 0, (2, 1)), true),
        (Some(2), rv(2, 0, (2, 1)), false),
        (None, rv(2, 0, (1, 1)), false),
    ];
    for (voted_for, request, restarts) in cases {
        let mut node = restored(3, 2, voted_for, log(&[1, 1]));
        let out = node.handle_request(0, request.clone());
        let want = if restarts {
            vec![set_election_timer()]
        } else {
            vec![]
        };
        assert_eq!(timers(&out), want, "{request:?}, voted for {voted_for:?}");
    }
    let mut node = follower(3, 2, log(&[1, 1]));
    let out = node.handle_request(0, ae(1, 0, (2, 1), vec![], 0));
    assert_eq!(timers(&out), vec![], "a stale AppendEntries");
}

/// RequestVote receiver rule 2 (Figure 2): "If votedFor is null or candidateId, and
/// candidate's log is at least as up-to-date as receiver's log, grant vote"; each
/// server votes for at most one candidate in a term, first come first served
/// (section 5.2). The vote is persisted before the reply grants it.
#[test]
fn request_vote_receiver_grants_at_most_one_vote_per_term() {
    // (voted_for, candidate, granted)
    let cases = [
        (None, 0, true),
        (Some(0), 0, true),
        (Some(2), 0, false),
        (Some(ME), 0, false),
        (None, 2, true),
        (Some(0), 2, false),
    ];
    for (voted_for, c, granted) in cases {
        let mut node = restored(3, 2, voted_for, log(&[1, 1]));
        let out = node.handle_request(c, rv(2, c, (2, 1)));
        let want = if granted {
            vec![
                persist(2, Some(c), LogWrite::Unchanged),
                set_election_timer(),
                reply(c, vote(2, true)),
            ]
        } else {
            vec![reply(c, vote(2, false))]
        };
        assert_eq!(out, want, "voted for {voted_for:?}, S{c} asks");
        let now = if granted { Some(c) } else { voted_for };
        assert_eq!(node.voted_for(), now);
    }
    // First come, first served.
    let mut node = follower(3, 2, log(&[1, 1]));
    node.handle_request(0, rv(2, 0, (2, 1)));
    let out = node.handle_request(2, rv(2, 2, (5, 2)));
    assert_eq!(out, vec![reply(2, vote(2, false))]);
    assert_eq!(node.voted_for(), Some(0));
}

/// RequestVote receiver rule 2 with section 5.4.1's up-to-date check: "If the logs have
/// last entries with different terms, then the log with the later term is more
/// up-to-date. If the logs end with the same term, then whichever log is longer is
/// more up-to-date." Both halves: a later last term wins over a longer log, and with
/// equal last terms the index decides.
#[test]
fn request_vote_receiver_grants_only_to_an_up_to_date_log() {
    // The voter's log ends with index 3 of term 2. (candidate's last index, last term,
    // granted)
    let cases = [
        (3, 2, true),  // the same
        (4, 2, true),  // same term, longer
        (2, 2, false), // same term, shorter
        (1, 3, true),  // later term, shorter
        (5, 1, false), // earlier term, longer
        (0, 0, false), // empty
    ];
    for (index, term, granted) in cases {
        let mut node = follower(3, 3, log(&[1, 1, 2]));
        let out = node.handle_request(0, rv(3, 0, (index, term)));
        let want = if granted {
            vec![
                persist(3, Some(0), LogWrite::Unchanged),
                reply(0, vote(3, true)),
            ]
        } else {
            vec![reply(0, vote(3, false))]
        };
        assert_eq!(
            msgs(&out),
            want,
            "candidate's last entry ({index}, T{term})"
        );
    }
}

/// A RequestVote of a higher term updates the voter's term whether or not it grants
/// the vote (Figure 2, all servers, then RequestVote rule 2): a vote given in the old
/// term does not count in the new one. One persist record holds the new term and the
/// new vote.
#[test]
fn request_vote_of_a_higher_term_is_judged_in_that_term() {
    let mut node = restored(3, 2, Some(2), log(&[1, 1, 2]));
    let out = node.handle_request(0, rv(3, 0, (3, 2)));
    assert_eq!(
        msgs(&out),
        vec![
            persist(3, Some(0), LogWrite::Unchanged),
            reply(0, vote(3, true))
        ]
    );
    let mut node = restored(3, 2, Some(2), log(&[1, 1, 2]));
    let out = node.handle_request(0, rv(3, 0, (1, 1)));
    assert_eq!(
        out,
        vec![
            persist(3, None, LogWrite::Unchanged),
            reply(0, vote(3, false))
        ]
    );
    assert_eq!((node.term(), node.voted_for()), (3, None));
}

/// A RequestVote naming a candidate outside the cluster (a hostile or corrupt message)
/// is refused, and never becomes a persisted vote.
#[test]
fn request_vote_from_outside_the_cluster_is_refused() {
    let mut node = follower(3, 2, log(&[1, 1]));
    let out = node.handle_request(7, rv(2, 7, (9, 2)));
    assert_eq!(out, vec![reply(7, vote(2, false))]);
    assert_eq!(node.voted_for(), None);
}
