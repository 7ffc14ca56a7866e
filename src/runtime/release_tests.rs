//! The event loop's release rule, on a follower with no writer thread: nothing is
//! durable until the test says so with [`Event::Durable`], so what leaves before that
//! is exactly what waits for no record.

use std::sync::Arc;

use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::sync::{mpsc, oneshot};

use super::commit::Queue;
use super::node::{Event, Link, Node, NodeParts};
use super::storage::Fsync;
use super::wire::{self, PeerMsg};
use crate::kv::Op;
use crate::kv::store::KvStore;
use crate::raft::{self, AppendEntries, Entry, Request as RaftRequest};
use crate::rsm::clerk::ClerkTiming;
use crate::rsm::server::{Server, ServerConfig};
use crate::rsm::{Reply, Request};

type Msg = PeerMsg<Op, String>;

/// The message in a frame made by [`wire::frame`].
fn unframe(frame: &[u8]) -> Msg {
    assert!(frame.len() >= 8, "a frame has an 8-byte header");
    wire::decode("peer message", &frame[8..]).expect("the loop writes frames that decode")
}

/// Every frame queued for a peer so far.
fn drain(rx: &mut mpsc::Receiver<Vec<u8>>) -> Vec<Msg> {
    let mut out = Vec::new();
    while let Ok(f) = rx.try_recv() {
        out.push(unframe(&f));
    }
    out
}

/// The writer's queue of a key/value server.
type WriterQueue = Queue<super::node::PersistOf<KvStore>>;

/// The frames the loop queued for one peer.
type PeerFrames = mpsc::Receiver<Vec<u8>>;

/// Server 1 of 3, both peer links up; returns the node, the writer's queue and the
/// receiving ends of the links to servers 0 and 2.
fn follower() -> (Node<KvStore>, Arc<WriterQueue>, PeerFrames, PeerFrames) {
    let (server, outputs) = Server::<KvStore>::restore(
        ServerConfig {
            raft: raft::Config::new(1, 3),
            max_raft_state: None,
            bug: None,
        },
        &[],
        &[],
    )
    .expect("a fresh server restores");
    let queue = Arc::new(Queue::new());
    let (tx0, rx0) = mpsc::channel(64);
    let (tx2, rx2) = mpsc::channel(64);
    let node = Node::new(NodeParts {
        server,
        outputs,
        queue: queue.clone(),
        links: vec![
            Some(Link { tx: tx0, up: true }),
            None,
            Some(Link { tx: tx2, up: true }),
        ],
        clerk_timing: ClerkTiming::default(),
        rng: StdRng::seed_from_u64(1),
        client_ids: StdRng::seed_from_u64(2),
        disk_bytes: 0,
        fsync: Fsync::Always,
    });
    (node, queue, rx0, rx2)
}

#[test]
fn a_forwarded_command_leaves_before_the_followers_append_is_durable_and_the_append_reply_after() {
    let (mut node, _queue, mut rx0, mut rx2) = follower();
    // The leader, server 0, replicates one entry: the follower persists it (not durable
    // yet) and its acknowledgement must wait.
    let append = AppendEntries {
        term: 1,
        leader: 0,
        prev_log_index: 0,
        prev_log_term: 0,
        entries: vec![Entry {
            term: 1,
            command: Request {
                client: 99,
                seq: 1,
                op: Op::Put {
                    key: "a".into(),
                    value: "1".into(),
                },
            },
        }],
        leader_commit: 0,
    };
    node.handle(Event::Peer {
        from: 0,
        msg: PeerMsg::Raft(RaftRequest::AppendEntries(append)),
    })
    .expect("the loop goes on");
    assert!(
        drain(&mut rx0).is_empty(),
        "the append's acknowledgement left before the entry was durable"
    );
    // A client of this follower writes: its clerk tries server 0 first, and the
    // forwarded command goes at once, though the follower's own record is still on its
    // way to the disk.
    node.handle(Event::Opened(7)).expect("the loop goes on");
    let (reply, mut answer) = oneshot::channel();
    node.handle(Event::Command {
        conn: 7,
        op: Op::Put {
            key: "k".into(),
            value: "v".into(),
        },
        reply,
    })
    .expect("the loop goes on");
    let sent = drain(&mut rx0);
    let tag = match sent.as_slice() {
        [
            PeerMsg::Clerk {
                tag,
                request:
                    Request {
                        op: Op::Put { key, value },
                        ..
                    },
            },
        ] if key == "k" && value == "v" => *tag,
        other => panic!("expected only the forwarded Put, got {other:?}"),
    };
    assert!(drain(&mut rx2).is_empty(), "nothing for server 2");
    // The record is durable: the acknowledgement leaves now.
    node.handle(Event::Durable {
        seq: 1,
        disk_bytes: 0,
    })
    .expect("the loop goes on");
    match drain(&mut rx0).as_slice() {
        [PeerMsg::RaftReply(raft::Reply::AppendEntries(_))] => {}
        other => panic!("expected the append's acknowledgement, got {other:?}"),
    }
    // The leader's answer to the forwarded command reaches the client at once (it was
    // durable on the leader before the leader sent it).
    assert!(answer.try_recv().is_err(), "no answer before the leader's");
    node.handle(Event::Peer {
        from: 0,
        msg: PeerMsg::ClerkReply {
            tag,
            reply: Reply::Ok(String::new()),
        },
    })
    .expect("the loop goes on");
    let value = answer.try_recv().expect("the client is answered");
    assert_eq!(value, super::resp::Value::ok());
}
