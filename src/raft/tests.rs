//! Unit tests of the Raft core, driven by hand: every message is delivered explicitly,
//! so each test reads as the exact sequence of inputs it checks.

use super::*;
use std::collections::VecDeque;

type Node = Raft<u64>;

/// A tiny driver: nodes, a FIFO of messages in flight, and what each node applied and
/// persisted. Messages to a node in `down` are lost.
struct Cluster {
    nodes: Vec<Node>,
    flight: VecDeque<(NodeId, NodeId, Msg)>,
    applied: Vec<Vec<Apply<u64>>>,
    persisted: Vec<Storage<u64>>,
    down: Vec<bool>,
}

#[derive(Debug)]
enum Msg {
    Req(Request<u64>),
    Rep(Reply),
}

impl Cluster {
    fn new(n: usize) -> Self {
        let nodes = (0..n)
            .map(|i| Node::new(Config::new(i, n)).unwrap().0)
            .collect();
        Cluster {
            nodes,
            flight: VecDeque::new(),
            applied: vec![Vec::new(); n],
            persisted: vec![Storage::new(); n],
            down: vec![false; n],
        }
    }

    fn run(&mut self, from: NodeId, outputs: Vec<Output<u64>>) {
        for o in outputs {
            match o {
                Output::Persist(p) => self.persisted[from].apply(p),
                Output::Send { to, request } => {
                    self.flight.push_back((from, to, Msg::Req(request)))
                }
                Output::Reply { to, reply } => self.flight.push_back((from, to, Msg::Rep(reply))),
                Output::Apply(a) => self.applied[from].push(a),
                Output::SetTimer { .. } | Output::CancelTimer(_) => {}
            }
        }
    }

    fn fire(&mut self, node: NodeId, timer: Timer) {
        let out = self.nodes[node].handle_timer(timer);
        self.run(node, out);
    }

    fn deliver_all(&mut self) {
        while let Some((from, to, msg)) = self.flight.pop_front() {
            if self.down[to] || self.down[from] {
                continue;
            }
            let out = match msg {
                Msg::Req(r) => self.nodes[to].handle_request(from, r),
                Msg::Rep(r) => self.nodes[to].handle_reply(from, r),
            };
            self.run(to, out);
        }
    }

    fn elect(&mut self, node: NodeId) {
        self.fire(node, Timer::Election);
        self.deliver_all();
        assert!(self.nodes[node].is_leader(), "S{node} should lead");
    }

    fn start(&mut self, node: NodeId, cmd: u64) -> Index {
        let (r, out) = self.nodes[node].start(cmd);
        self.run(node, out);
        r.expect("leader accepts").0
    }

    fn commands(&self, node: NodeId) -> Vec<u64> {
        self.applied[node]
            .iter()
            .filter_map(|a| match a {
                Apply::Command { command, .. } => Some(*command),
                Apply::Snapshot { .. } => None,
            })
            .collect()
    }
}

#[test]
fn election_then_replication_and_commit() {
    let mut c = Cluster::new(3);
    c.elect(0);
    assert_eq!(c.nodes[0].term(), 1);
    assert!(!c.nodes[1].is_leader());
    assert_eq!(c.nodes[1].voted_for(), Some(0));
    assert_eq!(c.start(0, 10), 1);
    assert_eq!(c.start(0, 20), 2);
    c.deliver_all();
    assert_eq!(c.commands(0), vec![10, 20]);
    // Followers learn the commit index from the next heartbeat.
    c.fire(0, Timer::Heartbeat);
    c.deliver_all();
    assert_eq!(c.commands(1), vec![10, 20]);
    assert_eq!(c.commands(2), vec![10, 20]);
}

#[test]
fn start_on_follower_is_refused() {
    let mut c = Cluster::new(3);
    c.elect(1);
    let (r, out) = c.nodes[0].start(5);
    assert_eq!(
        r,
        Err(NotLeader {
            term: 1,
            leader: Some(1)
        })
    );
    assert!(out.is_empty());
}

#[test]
fn persist_comes_before_the_vote_reply() {
    let mut c = Cluster::new(3);
    c.fire(0, Timer::Election);
    let (_, _, Msg::Req(req)) = c.flight.pop_front().unwrap() else {
        panic!("expected a request")
    };
    let out = c.nodes[1].handle_request(0, req);
    assert!(matches!(out[0], Output::Persist(_)), "{out:?}");
    let replies = out
        .iter()
        .filter(|o| matches!(o, Output::Reply { .. }))
        .count();
    assert_eq!(replies, 1);
}

#[test]
fn restart_recovers_term_vote_and_log() {
    let mut c = Cluster::new(3);
    c.elect(0);
    c.start(0, 7);
    c.deliver_all();
    let (state, snap) = (
        c.persisted[1].raft_state(),
        c.persisted[1].snapshot().to_vec(),
    );
    let (r, _) = Node::restore(Config::new(1, 3), &state, &snap).unwrap();
    assert_eq!(c.persisted[1].raft_state_size(), state.len());
    assert_eq!(r.term(), 1);
    assert_eq!(r.voted_for(), Some(0));
    assert_eq!(r.log().last_index(), 1);
    assert_eq!(r.commit_index(), 0, "commit is volatile");
}

#[test]
fn corrupt_state_is_an_error_not_a_panic() {
    let mut c = Cluster::new(3);
    c.elect(0);
    c.start(0, 7);
    c.deliver_all();
    let state = c.persisted[0].raft_state();
    for cut in 0..state.len() {
        if cut == 0 {
            continue; // empty means "fresh"
        }
        assert!(Node::restore(Config::new(0, 3), &state[..cut], &[]).is_err());
    }
    let mut bad = state.clone();
    bad.push(0xff);
    assert!(Node::restore(Config::new(0, 3), &bad, &[]).is_err());
    // A vote for a node outside the cluster is caught by validation.
    let st = PersistentState::<u64> {
        term: 3,
        voted_for: Some(9),
        log: Log::default(),
    };
    let e = Node::restore(Config::new(0, 3), &st.encode(), &[]).unwrap_err();
    assert!(e.to_string().contains("voted_for"), "{e}");
    assert!(Node::restore(Config::new(5, 3), &[], &[]).is_err());
}

#[test]
fn fast_backup_skips_a_term_per_round_trip() {
    let mut c = Cluster::new(3);
    c.elect(0);
    // S2 is away while S0 appends 20 entries in term 1 that S2 never sees.
    c.down[2] = true;
    for i in 0..20 {
        c.start(0, i);
    }
    c.deliver_all();
    c.down[2] = false;
    // One heartbeat: the mismatch reply sends S0 straight to S2's log end.
    c.fire(0, Timer::Heartbeat);
    let mut rounds = 0;
    while !c.flight.is_empty() {
        rounds += 1;
        let batch: Vec<_> = c.flight.drain(..).collect();
        for (from, to, msg) in batch {
            let out = match msg {
                Msg::Req(r) => c.nodes[to].handle_request(from, r),
                Msg::Rep(r) => c.nodes[to].handle_reply(from, r),
            };
            c.run(to, out);
        }
    }
    assert_eq!(c.nodes[2].log().last_index(), 20);
    assert!(rounds <= 6, "took {rounds} message rounds");
}

#[test]
fn stale_and_duplicate_replies_are_harmless() {
    let mut c = Cluster::new(3);
    c.elect(0);
    c.start(0, 1);
    let snapshot_of_flight: Vec<_> = c.flight.iter().map(|(f, t, _)| (*f, *t)).collect();
    assert!(!snapshot_of_flight.is_empty());
    c.deliver_all();
    // Replay an old success reply and a stale-term reply: nothing breaks or regresses.
    let out = c.nodes[0].handle_reply(
        1,
        Reply::AppendEntries(AppendReply {
            term: 1,
            outcome: AppendOutcome::Success { match_index: 0 },
        }),
    );
    c.run(0, out);
    let out = c.nodes[0].handle_reply(
        2,
        Reply::AppendEntries(AppendReply {
            term: 0,
            outcome: AppendOutcome::Stale,
        }),
    );
    c.run(0, out);
    let Role::Leader { match_index, .. } = c.nodes[0].role() else {
        panic!()
    };
    assert_eq!(match_index, &vec![1, 1, 1]);
    assert_eq!(c.nodes[0].commit_index(), 1);
}

#[test]
fn snapshot_then_install_on_lagging_follower() {
    let mut c = Cluster::new(3);
    c.elect(0);
    c.down[2] = true;
    for i in 1..=5 {
        c.start(0, i * 10);
    }
    c.deliver_all();
    assert_eq!(c.nodes[0].commit_index(), 5);
    let out = c.nodes[0].snapshot_at(4, vec![4, 4, 4]);
    assert!(matches!(out[0], Output::Persist(_)));
    c.run(0, out);
    assert_eq!(c.nodes[0].log().snapshot_index(), 4);
    c.down[2] = false;
    c.fire(0, Timer::Heartbeat);
    c.deliver_all();
    let snaps: Vec<_> = c.applied[2]
        .iter()
        .filter_map(|a| match a {
            Apply::Snapshot { index, data, .. } => Some((*index, data.to_vec())),
            Apply::Command { .. } => None,
        })
        .collect();
    assert_eq!(snaps, vec![(4, vec![4, 4, 4])]);
    assert_eq!(c.nodes[2].log().last_index(), 5);
    c.fire(0, Timer::Heartbeat);
    c.deliver_all();
    assert_eq!(
        c.commands(2),
        vec![50],
        "only what the snapshot did not cover"
    );
    // The restarted follower recovers the snapshot bytes with its state.
    let (state, snap) = (
        c.persisted[2].raft_state(),
        c.persisted[2].snapshot().to_vec(),
    );
    assert_eq!(c.persisted[2].raft_state_size(), state.len());
    assert_eq!(c.nodes[2].persisted_size(), state.len());
    let (r, _) = Node::restore(Config::new(2, 3), &state, &snap).unwrap();
    assert_eq!(r.snapshot().as_ref(), &[4, 4, 4]);
    assert_eq!(r.commit_index(), 4);
    // A compacted state without its snapshot is refused.
    assert!(matches!(
        Node::restore(Config::new(2, 3), &state, &[]),
        Err(RaftError::MissingSnapshot { snapshot_index: 4 })
    ));
}

#[test]
fn leader_steps_down_on_higher_term() {
    let mut c = Cluster::new(3);
    c.elect(0);
    c.down[0] = true;
    c.elect(1);
    c.down[0] = false;
    c.fire(1, Timer::Heartbeat);
    c.deliver_all();
    assert!(!c.nodes[0].is_leader());
    assert_eq!(c.nodes[0].term(), 2);
    assert_eq!(c.nodes[0].leader(), Some(1));
}

#[test]
fn only_current_term_entries_commit_by_counting() {
    // S0 leads T1 and appends an entry that reaches only S1... then S1 must not commit
    // an old-term entry just because a majority holds it once it leads.
    let mut c = Cluster::new(3);
    c.elect(0);
    c.down[2] = true;
    c.down[1] = true;
    c.start(0, 1);
    c.deliver_all();
    c.down[1] = false;
    c.fire(0, Timer::Heartbeat); // S1 gets the entry, S0 commits (its own term)
    c.deliver_all();
    assert_eq!(c.nodes[0].commit_index(), 1);
    // New leader S1 in T2 has the T1 entry; without a T2 entry it cannot count it.
    c.down[0] = true;
    c.down[2] = false;
    c.elect(1);
    assert_eq!(c.nodes[1].commit_index(), 0);
    c.start(1, 2);
    c.deliver_all();
    assert_eq!(c.nodes[1].commit_index(), 2);
    assert_eq!(c.commands(1), vec![1, 2]);
}

#[test]
fn node_set_holds_what_was_inserted() {
    let mut set = NodeSet::default();
    assert!(set.is_empty());
    for id in [0, 3, 63] {
        set.insert(id);
    }
    set.insert(64); // outside: ignored
    assert_eq!(set.len(), 3);
    assert_eq!(set.iter().collect::<Vec<_>>(), vec![0, 3, 63]);
    for id in 0..70 {
        assert_eq!(set.contains(id), [0, 3, 63].contains(&id), "{id}");
    }
    set.remove(3);
    set.remove(64);
    assert!(!set.contains(3) && set.contains(0) && set.contains(63));
    assert_eq!(set.len(), 2);
}
