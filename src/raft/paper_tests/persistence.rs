//! Figure 2, "Persistent state on all servers (Updated on stable storage before
//! responding to RPCs)": currentTerm, votedFor, log[].

use super::*;

/// Through one node's life (votes, appends, a truncation, an installed snapshot, an
/// election, a command, a compaction, a newer term), every step that changes the
/// term, the vote, the log or the snapshot starts with one persist record, before any
/// message it sends or reply it gives; a step that changes none of them persists
/// nothing. The records, applied in order to stable storage, always hold exactly the
/// node's persistent state, and a node restarted from them has that state.
#[test]
fn persistent_state_is_saved_before_every_response() {
    type Step = Box<dyn Fn(&mut Node) -> Vec<Out>>;
    let steps: Vec<(&str, Step)> = vec![
        (
            "grant a vote",
            Box::new(|n| n.handle_request(0, rv(1, 0, (0, 0)))),
        ),
        (
            "append two entries",
            Box::new(|n| n.handle_request(0, ae(1, 0, (0, 0), entries(1, &[1, 1]), 0))),
        ),
        (
            "a delayed shorter append",
            Box::new(|n| n.handle_request(0, ae(1, 0, (0, 0), entries(1, &[1]), 0))),
        ),
        (
            "a new leader's entry",
            Box::new(|n| n.handle_request(2, ae(2, 2, (2, 1), entries(3, &[2]), 1))),
        ),
        (
            "a conflict truncates",
            Box::new(|n| n.handle_request(0, ae(3, 0, (1, 1), entries(2, &[3]), 1))),
        ),
        (
            "install a snapshot",
            Box::new(|n| n.handle_request(0, is(3, 0, (4, 3)))),
        ),
        (
            "stand for election",
            Box::new(|n| n.handle_timer(Timer::Election)),
        ),
        ("win it", Box::new(|n| n.handle_reply(0, vote(4, true)))),
        ("append a command", Box::new(|n| n.start(5).1)),
        ("commit it", Box::new(|n| n.handle_reply(0, ae_ok(4, 5)))),
        ("compact", Box::new(|n| n.snapshot_at(5, SNAPSHOT.to_vec()))),
        (
            "a newer term",
            Box::new(|n| n.handle_reply(2, vote(5, false))),
        ),
        (
            "vote in it",
            Box::new(|n| n.handle_request(2, rv(5, 2, (9, 9)))),
        ),
    ];
    let mut node = restored(3, 0, None, log(&[]));
    let mut storage = Storage::new();
    let mut persisted = 0;
    for (what, step) in steps {
        let before = (node.persistent_state(), node.snapshot().clone());
        let out = step(&mut node);
        msgs(&out); // at most one persist record, and first
        let changed = before != (node.persistent_state(), node.snapshot().clone());
        let records: Vec<_> = out
            .iter()
            .filter_map(|o| match o {
                Output::Persist(p) => Some(p.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(records.len(), usize::from(changed), "{what}: {out:?}");
        for p in records {
            storage.apply(p);
            persisted += 1;
        }
        assert_eq!(storage.state(), &node.persistent_state(), "{what}");
        assert_eq!(storage.snapshot(), node.snapshot(), "{what}");
        let (again, _) = Node::restore(
            node.config().clone(),
            &storage.raft_state(),
            storage.snapshot(),
        )
        .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(again.persistent_state(), node.persistent_state(), "{what}");
    }
    assert_eq!(persisted, 10);
    assert_eq!((node.term(), node.voted_for()), (5, Some(2)));
}
