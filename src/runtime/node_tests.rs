//! The event loop's own rules, driven by hand-made events (no sockets, no disk: the
//! writer's queue is drained by the test, which then reports the records durable).

use super::*;
use crate::kv::Op;
use crate::kv::store::KvStore;
use crate::raft::{self, TimeRange};
use crate::rsm::server::ServerConfig;
use rand::SeedableRng;
use std::time::Duration;

/// What a test reads of the frames a node queued for one peer (`None` for itself).
type Frames = Option<mpsc::Receiver<Vec<u8>>>;

/// A fresh follower `me` of three servers; `up` says which peer links are up. Returns
/// the node and each peer's frame queue.
fn node(me: NodeId, up: [bool; 3], timing: ClerkTiming) -> (Node<KvStore>, Vec<Frames>) {
    let (server, outputs) = Server::<KvStore>::restore(
        ServerConfig {
            raft: raft::Config::new(me, 3),
            max_raft_state: None,
            bug: None,
        },
        &[],
        &[],
    )
    .expect("a fresh server");
    let mut links = Vec::new();
    let mut frames = Vec::new();
    for (p, &is_up) in up.iter().enumerate() {
        if p == me {
            links.push(None);
            frames.push(None);
        } else {
            let (tx, rx) = mpsc::channel(64);
            links.push(Some(Link { tx, up: is_up }));
            frames.push(Some(rx));
        }
    }
    let queue = Arc::new(Queue::new());
    let node = Node::new(NodeParts {
        server,
        outputs,
        queue,
        links,
        clerk_timing: timing,
        rng: StdRng::seed_from_u64(1),
        client_ids: StdRng::seed_from_u64(2),
        disk_bytes: 0,
        fsync: Fsync::Always,
    });
    (node, frames)
}

/// Reports everything submitted so far durable.
fn all_durable(node: &mut Node<KvStore>) {
    let seq = node.submitted;
    node.handle(Event::Durable { seq, disk_bytes: 0 })
        .expect("durable");
}

/// The clerk's answers that come at once (this server's own core saying "not the leader",
/// a link that is down) must not let the outputs of the decision before them overwrite
/// the decision after them. Here a write through follower S1 meets the down S0, S1's own
/// `WrongLeader` and S2's `WrongLeader`: a whole round, so the clerk backs off. Its timer
/// must be the backoff, not the request timeout of an attempt already answered
/// (failover after `kill -9` of a leader once waited out the whole 500 ms request
/// timeout here).
#[test]
fn a_round_answered_at_once_ends_in_the_backoff_not_a_stale_request_timeout() {
    let timing = ClerkTiming {
        request_timeout: TimeRange::millis(3_600_000, 3_600_000),
        backoff: TimeRange::millis(1, 1),
    };
    let (mut node, mut frames) = node(1, [false, true, true], timing);
    all_durable(&mut node);
    let (tx, _rx) = oneshot::channel();
    node.handle(Event::Opened(7)).expect("opened");
    let started = Instant::now();
    node.handle(Event::Command {
        conn: 7,
        op: Op::Put {
            key: "k".into(),
            value: "v".into(),
        },
        reply: tx,
    })
    .expect("command");
    all_durable(&mut node);
    // The clerk starts at S0 (down: fails at once), then asks S1 (itself: WrongLeader at
    // once), then forwards to S2.
    let rx = frames[2].as_mut().expect("a link to S2");
    let frame = rx.try_recv().expect("the call forwarded to S2");
    let msg: PeerMsg<Op, String> = wire::decode("forwarded call", &frame[8..]).expect("decodes");
    let PeerMsg::Clerk { tag, .. } = msg else {
        panic!("expected a forwarded clerk call, got {msg:?}");
    };
    node.handle(Event::Peer {
        from: 2,
        msg: PeerMsg::ClerkReply {
            tag,
            reply: crate::rsm::Reply::WrongLeader,
        },
    })
    .expect("reply");
    // S2 said WrongLeader; S0 is down again; S1 says WrongLeader again: three
    // WrongLeaders in a round, so the clerk waits its backoff of 1 ms.
    let deadline = node
        .timers
        .deadline(&TimerKey::Clerk(7))
        .expect("the clerk's timer is set");
    assert!(
        deadline < started + Duration::from_secs(60),
        "the clerk's timer is {:?} away: the hour-long request timeout of an answered attempt, not the backoff",
        deadline.saturating_duration_since(started)
    );
}
