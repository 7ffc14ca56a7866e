//! Log compaction: the InstallSnapshot RPC (section 7, Figure 13). A snapshot is sent
//! whole, so Figure 13's receiver rules 2-4 (offsets, chunks, `done`) have no
//! counterpart here; rule 1 (a stale term) is in
//! [`all_servers_reject_a_request_of_a_stale_term`](super::all_servers_reject_a_request_of_a_stale_term).

use super::*;

/// Figure 13, receiver rules 5, 6 and 8: save the snapshot; "If existing log entry has
/// same index and term as snapshot's last included entry, retain log entries following
/// it and reply"; reset the state machine from the snapshot. The compacted log and the
/// snapshot are persisted together, before the service is reset and before the reply.
#[test]
fn install_snapshot_receiver_keeps_the_log_after_a_matching_entry() {
    let mut node = follower(3, 2, log(&[1, 1, 2, 2]));
    let out = node.handle_request(0, is(2, 0, (2, 1)));
    assert_eq!(
        out,
        vec![
            persist_compacted(2, None, (2, 1), entries(3, &[2, 2])),
            set_election_timer(),
            apply_snapshot(2, 1),
            reply(0, is_reply(2, Some(2))),
        ]
    );
    assert_eq!(node.log(), &compacted(2, 1, &[2, 2]));
    assert_eq!((node.commit_index(), node.leader()), (2, Some(0)));
    assert_eq!(node.snapshot().as_ref(), SNAPSHOT);
}

/// Figure 13, receiver rule 7: otherwise "Discard the entire log": when the entry at
/// the snapshot's last index has another term, or is not there at all.
#[test]
fn install_snapshot_receiver_discards_a_log_that_does_not_match() {
    for last in [(3, 3), (6, 2)] {
        let mut node = follower(3, 3, log(&[1, 1, 2, 2]));
        let out = node.handle_request(0, is(3, 0, last));
        assert_eq!(
            msgs(&out),
            vec![
                persist_compacted(3, None, last, vec![]),
                apply_snapshot(last.0, last.1),
                reply(0, is_reply(3, Some(last.0))),
            ],
            "snapshot through {last:?}"
        );
        assert_eq!(node.log(), &compacted(last.0, last.1, &[]));
        assert_eq!(node.commit_index(), last.0);
    }
}

/// Figure 13, receiver rule 5 ("discard any existing or partial snapshot with a smaller
/// index") seen from the other side: a snapshot that covers no more than what the
/// follower has already committed is not installed (the service would go back in
/// time); the reply still tells the leader how far the follower matches.
#[test]
fn install_snapshot_receiver_ignores_a_snapshot_it_has_passed() {
    // Committed through 3 by a snapshot, or by AppendEntries.
    let mut by_snapshot = restored(3, 2, None, compacted(3, 1, &[1]));
    let mut by_append = follower(3, 2, log(&[1, 1, 1, 1]));
    by_append.handle_request(0, ae(2, 0, (4, 1), vec![], 3));
    for node in [&mut by_snapshot, &mut by_append] {
        for last in [(2, 1), (3, 1)] {
            let before = (node.log().clone(), node.commit_index());
            let out = node.handle_request(0, is(2, 0, last));
            assert_eq!(
                out,
                vec![set_election_timer(), reply(0, is_reply(2, Some(last.0)))]
            );
            assert_eq!((node.log().clone(), node.commit_index()), before);
        }
    }
}

/// Section 7: "the leader must occasionally send snapshots to followers that lag
/// behind", when the entries a follower needs next have been discarded; on its answer
/// the leader sends the entries after the snapshot.
#[test]
fn a_leader_sends_its_snapshot_to_a_follower_behind_its_log() {
    let mut node = new_leader(3, 2, compacted(2, 1, &[1, 1]));
    assert_eq!(node.commit_index(), 2);
    // S0's log is empty: the entries it needs are compacted away.
    let out = node.handle_reply(0, ae_mismatch(2, None, 1));
    assert_eq!(out, vec![send(0, is(2, ME, (2, 1)))]);
    let out = node.handle_reply(0, is_reply(2, Some(2)));
    assert_eq!(
        out,
        vec![send(0, ae(2, ME, (2, 1), entries(3, &[1, 1]), 2))]
    );
    assert_eq!(leader_state(&node).1, vec![2, 4, 0]);
}

/// The lab's `Snapshot(index, data)`: the service has applied through `index` and
/// hands its snapshot over; the log is compacted through there and persisted with the
/// snapshot. An index not yet applied, or not past the current snapshot, is ignored.
#[test]
fn a_node_compacts_only_what_it_has_applied() {
    let mut node = follower(3, 1, log(&[1, 1, 1, 1]));
    node.handle_request(0, ae(1, 0, (4, 1), vec![], 3));
    assert_eq!(
        node.snapshot_at(4, SNAPSHOT.to_vec()),
        vec![],
        "not applied"
    );
    assert_eq!(node.snapshot_at(0, SNAPSHOT.to_vec()), vec![], "nothing");
    assert_eq!(
        node.snapshot_at(2, SNAPSHOT.to_vec()),
        vec![persist_compacted(1, None, (2, 1), entries(3, &[1, 1]))]
    );
    assert_eq!(node.snapshot_at(2, SNAPSHOT.to_vec()), vec![], "already");
    assert_eq!(node.log(), &compacted(2, 1, &[1, 1]));
}
