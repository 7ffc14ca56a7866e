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
fn node<S: Service>(me: NodeId, up: [bool; 3], timing: ClerkTiming) -> (Node<S>, Vec<Frames>) {
    let (server, outputs) = Server::<S>::restore(
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
fn all_durable<S: Service>(node: &mut Node<S>) {
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
    let (mut node, mut frames) = node::<KvStore>(1, [false, true, true], timing);
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

/// Asks the node, and takes the answer it gave at once.
fn ask<S: Service>(
    node: &mut Node<S>,
    make: impl FnOnce(oneshot::Sender<Value>) -> Event<S>,
) -> Value {
    let (tx, mut rx) = oneshot::channel();
    node.handle(make(tx)).expect("handled");
    rx.try_recv().expect("answered at once")
}

/// `SESSION` reads the connection's clerk session and resumes another, but not while an
/// operation of the connection is in flight; the resumed numbers go into the next
/// request.
#[test]
fn session_reads_and_resumes_but_not_while_an_operation_is_in_flight() {
    let (mut node, mut frames) = node::<KvStore>(1, [false, false, true], ClerkTiming::default());
    all_durable(&mut node);
    node.handle(Event::Opened(7)).expect("opened");
    let Value::Array(Some(v)) = ask(&mut node, |reply| Event::Session {
        conn: 7,
        resume: None,
        reply,
    }) else {
        panic!("SESSION answers an array");
    };
    let [Value::Integer(id), Value::Integer(1)] = v[..] else {
        panic!("SESSION of a fresh connection: {v:?}");
    };
    assert!(id >= 0);
    let five = std::num::NonZeroU64::new(5).expect("not zero");
    let resume = |reply| Event::Session {
        conn: 7,
        resume: Some((42, five)),
        reply,
    };
    assert_eq!(ask(&mut node, resume), Value::ok());
    let (tx, _rx) = oneshot::channel();
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
    // S0 is down, S1 (this follower) says WrongLeader: the call goes to S2, carrying the
    // resumed numbers.
    let frame = frames[2]
        .as_mut()
        .expect("a link to S2")
        .try_recv()
        .expect("the call forwarded to S2");
    let msg: PeerMsg<Op, String> = wire::decode("forwarded call", &frame[8..]).expect("decodes");
    let PeerMsg::Clerk { request, .. } = msg else {
        panic!("expected a forwarded clerk call, got {msg:?}");
    };
    assert_eq!((request.client, request.seq), (42, 5));
    let refused = ask(&mut node, |reply| Event::Session {
        conn: 7,
        resume: Some((43, five)),
        reply,
    });
    assert!(
        matches!(&refused, Value::Error(e) if e.contains("in flight")),
        "{refused:?}"
    );
    assert_eq!(
        ask(&mut node, |reply| Event::Session {
            conn: 7,
            resume: None,
            reply,
        }),
        Value::Array(Some(vec![Value::Integer(42), Value::Integer(6)])),
        "still client 42; the running operation is #5"
    );
}

/// A follower's own core answers the raft-log service's local commands: `LAB.START` is
/// refused with the nil array, `LAB.STATE` says term 0 and not leader, `LAB.APPLIED`
/// finds nothing applied yet.
#[test]
fn local_commands_of_a_follower_are_answered_by_its_own_core() {
    use super::super::lab_log::{LabLog, LabQuery};
    let (mut node, _frames) = node::<LabLog>(0, [false, true, true], ClerkTiming::default());
    all_durable(&mut node);
    let start = |reply| Event::Local {
        local: Local::Start("x".into()),
        reply,
    };
    assert_eq!(ask(&mut node, start), Value::Array(None));
    let state = |reply| Event::Local {
        local: Local::State,
        reply,
    };
    assert_eq!(
        ask(&mut node, state),
        Value::Array(Some(vec![Value::Integer(0), Value::Integer(0)]))
    );
    let applied = |reply| Event::Local {
        local: Local::Read(LabQuery::Applied { from: 1 }),
        reply,
    };
    assert_eq!(ask(&mut node, applied), Value::Array(Some(vec![])));
    assert_eq!(node.server().pending(), 0);
    assert!(node.info().contains("service:raft-log\r\n"));
}
