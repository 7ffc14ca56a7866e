//! The event loop: the one owner of a server's core, and how its outputs are carried out.
//!
//! Every input reaches the loop as an [`Event`]: a peer's message, a peer connection
//! that came up or went down, a client's operation, the writer's report that records
//! are durable, a timer that is due. The loop hands it to the core
//! ([`Server`], or a connection's [`Clerk`]) and carries out what comes back, in order:
//!
//! - `Persist` goes to the group-commit [`Queue`] (the loop does not wait);
//! - a message to a peer or an answer to a client goes through the [`Outbox`], which
//!   holds it until every record submitted before it is durable (a forwarded clerk
//!   request excepted: it carries only the client's command, nothing persisted);
//! - timers are set on the wall clock with durations drawn from the core's ranges.
//!
//! Each client connection is a clerk session: a [`Clerk`] with its own client id runs
//! the lab's retry logic against the servers, here. A clerk's call to this server goes
//! straight to the core; a call to another server is forwarded over the peer connection
//! ([`PeerMsg::Clerk`]) and its answer comes back the same way, so a client connected to
//! a follower is served by the leader without knowing who leads. A call to a server whose
//! connection is down fails at once, and the clerk moves on. `SESSION` reads or resumes
//! a connection's session ([`Event::Session`]).
//!
//! A service's local commands ([`Local`]) skip the clerk: `Start` hands the operation
//! to this server's own Raft ([`Server::start_unowned`]), `State` and `Read` read the
//! core. Their answers leave, like every other, once what the core had submitted is
//! durable (the started entry, a term just taken): at once when nothing is waiting.

use std::collections::{BTreeMap, VecDeque};
use std::num::NonZeroU64;
use std::sync::Arc;
use std::time::Instant;

use rand::rngs::StdRng;
use tokio::sync::{mpsc, oneshot};

use super::commit::{Outbox, Queue, Seq};
use super::resp::Value;
use super::service::{Local, Service, started_reply, state_reply};
use super::storage::{Fsync, StorageError};
use super::timers::{Timers, draw};
use super::wire::{self, PeerMsg};
use crate::raft::{NodeId, Output, Persist, Role, Term, Timer};
use crate::rsm::clerk::{Clerk, ClerkOutput, ClerkTiming};
use crate::rsm::server::{CallTag, Outputs, Server, ServerOutput};
use crate::rsm::{ClientId, Request};

/// A client connection's number, unique within the process.
pub type ConnId = u64;

/// Something for the loop to handle.
#[derive(Debug)]
pub enum Event<S: Service> {
    /// A message from peer `from`.
    Peer {
        /// The sender.
        from: NodeId,
        /// The message.
        msg: PeerMsg<S::Op, S::Output>,
    },
    /// The connection to a peer is up: messages to it can be sent.
    PeerUp(NodeId),
    /// The connection to a peer is down: messages to it are dropped.
    PeerDown(NodeId),
    /// A client connection opened.
    Opened(ConnId),
    /// A client's operation; the answer goes to `reply`.
    Command {
        /// The connection.
        conn: ConnId,
        /// The operation.
        op: S::Op,
        /// Where the answer goes.
        reply: oneshot::Sender<Value>,
    },
    /// A command the server carries out on its own core (no clerk, no forwarding).
    Local {
        /// What to do.
        local: Local<S::Op, S::Query>,
        /// Where the answer goes.
        reply: oneshot::Sender<Value>,
    },
    /// `SESSION`: the connection's clerk session, read (`resume: None`: the answer is
    /// `*2 :<client-id> :<next-seq>`) or resumed as client `client` whose next request
    /// is number `next_seq` ([`Clerk::resume`]; `+OK`, or an error while an operation
    /// of the connection is in flight).
    ///
    /// Exactly once across connections rests on the state machine's duplicate table
    /// ([`crate::kv::store::KvStore`] keeps, per client, the highest request number it
    /// executed and that write's result): a write `(client, seq)` runs only if `seq` is
    /// above the client's highest, so no request runs twice however many connections
    /// carry the same client id. Say the old connection's session still retries request
    /// `s` (its connection broke, but a copy sits in the log or on its way to the
    /// leader) while a new connection resumes at `s`, resends the same operation and,
    /// once answered, goes on with `s+1`. If the old copy is applied first, the resend
    /// is a duplicate of the client's latest write and gets its result again; if the
    /// resend is applied first, the old copy is the duplicate. Either way `s` runs once;
    /// and a copy of `s` applied after `s+1` is older than the client's latest write, so
    /// it does not run at all (its answer is the empty result, and nobody waits for it).
    /// What this does not make safe is two live connections each starting new
    /// operations under one id: their equal numbers would make one operation a
    /// duplicate of the other. `SESSION` is for taking over a session whose connection
    /// is gone, with the operation it was running.
    Session {
        /// The connection.
        conn: ConnId,
        /// The session to take over, or `None` to read the current one.
        resume: Option<(ClientId, NonZeroU64)>,
        /// Where the answer goes.
        reply: oneshot::Sender<Value>,
    },
    /// `INFO`: the server's state as text.
    Info {
        /// Where the answer goes.
        reply: oneshot::Sender<Value>,
    },
    /// A client connection closed.
    Closed(ConnId),
    /// The writer made records through `seq` durable.
    Durable {
        /// The last durable record.
        seq: Seq,
        /// The data directory's size after the batch.
        disk_bytes: u64,
    },
    /// The writer failed: durability can no longer be promised.
    StorageFailed(StorageError),
}

/// Something that leaves the process, once its records are durable.
#[derive(Debug)]
enum Effect {
    /// A frame to a peer.
    Peer { to: NodeId, frame: Vec<u8> },
    /// An answer to a client.
    Respond {
        reply: oneshot::Sender<Value>,
        value: Value,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum TimerKey {
    Raft(Timer),
    Clerk(ConnId),
}

/// Who is waiting for the answer to a call into this server's core.
#[derive(Clone, Copy, Debug)]
enum Origin {
    /// A clerk session of this process.
    Local { conn: ConnId, attempt: u64 },
    /// A clerk session of peer `peer`, which forwarded the call as `tag`.
    Remote { peer: NodeId, tag: u64 },
}

/// A call into the core: who waits, and the record its answer depends on (the record of
/// the step that started it; `None` while that step runs, when the answer must wait for
/// everything submitted).
#[derive(Clone, Copy, Debug)]
struct Call {
    origin: Origin,
    record: Option<Seq>,
}

/// A call forwarded to a peer, awaiting its answer.
#[derive(Clone, Copy, Debug)]
struct Forward {
    peer: NodeId,
    conn: ConnId,
    attempt: u64,
}

/// One clerk decision to carry out: the session, its outputs, the record its answer waits for.
struct ClerkWork<S: Service> {
    conn: ConnId,
    outs: Vec<ClerkOutput<S::Op, S::Output>>,
    after: Seq,
}

struct Session<S: Service> {
    clerk: Clerk<S::Op, S::Output>,
    op: Option<(S::Op, oneshot::Sender<Value>)>,
    forwarded: Option<u64>,
}

/// The link to one peer: the queue of frames its connection task writes.
#[derive(Debug)]
pub struct Link {
    /// Frames to write.
    pub tx: mpsc::Sender<Vec<u8>>,
    /// Whether the connection is up.
    pub up: bool,
}

/// How the loop ended.
#[derive(Debug)]
pub enum Stop {
    /// Asked to stop.
    Shutdown,
    /// Storage failed.
    Storage(StorageError),
}

/// One server's core and everything the loop keeps around it.
pub struct Node<S: Service> {
    me: NodeId,
    server: Server<S>,
    queue: Arc<Queue<Persist<Request<S::Op>>>>,
    submitted: Seq,
    outbox: Outbox<Effect>,
    timers: Timers<TimerKey>,
    links: Vec<Option<Link>>,
    sessions: BTreeMap<ConnId, Session<S>>,
    calls: BTreeMap<CallTag, Call>,
    forwards: BTreeMap<u64, Forward>,
    /// Clerk outputs waiting to be carried out, in order (see `clerk_outputs_after`).
    clerk_work: VecDeque<ClerkWork<S>>,
    clerk_draining: bool,
    next_tag: u64,
    rng: StdRng,
    clerk_timing: ClerkTiming,
    client_ids: StdRng,
    disk_bytes: u64,
    fsync: Fsync,
    seen: (Term, &'static str, Option<NodeId>),
}

fn role_name(role: &Role) -> &'static str {
    match role {
        Role::Follower => "follower",
        Role::Candidate { .. } => "candidate",
        Role::Leader { .. } => "leader",
    }
}

/// What a node starts from.
pub struct NodeParts<S: Service> {
    /// The restored core.
    pub server: Server<S>,
    /// Its first outputs (its timers).
    pub outputs: Outputs<S>,
    /// The writer's queue.
    pub queue: Arc<Queue<Persist<Request<S::Op>>>>,
    /// One link per peer (`None` at this server's own index).
    pub links: Vec<Option<Link>>,
    /// The clerks' timing.
    pub clerk_timing: ClerkTiming,
    /// The generator for timer durations.
    pub rng: StdRng,
    /// The generator for clerk ids.
    pub client_ids: StdRng,
    /// The data directory's size at start.
    pub disk_bytes: u64,
    /// The fsync policy (for INFO).
    pub fsync: Fsync,
}

impl<S: Service> Node<S> {
    /// A node around a restored core; its first outputs are carried out at once.
    pub fn new(parts: NodeParts<S>) -> Self {
        let me = parts.server.raft().me();
        let mut node = Node {
            me,
            server: parts.server,
            queue: parts.queue,
            submitted: 0,
            outbox: Outbox::new(),
            timers: Timers::new(),
            links: parts.links,
            sessions: BTreeMap::new(),
            calls: BTreeMap::new(),
            forwards: BTreeMap::new(),
            clerk_work: VecDeque::new(),
            clerk_draining: false,
            next_tag: 0,
            rng: parts.rng,
            clerk_timing: parts.clerk_timing,
            client_ids: parts.client_ids,
            disk_bytes: parts.disk_bytes,
            fsync: parts.fsync,
            seen: (0, "follower", None),
        };
        node.execute(parts.outputs);
        node
    }

    /// The core.
    pub fn server(&self) -> &Server<S> {
        &self.server
    }

    /// The earliest timer deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Fires the timers due at `now`.
    pub fn fire_due(&mut self, now: Instant) {
        for key in self.timers.due(now) {
            match key {
                TimerKey::Raft(t) => {
                    let outs = self.server.raft_timer(t);
                    self.execute(outs);
                }
                TimerKey::Clerk(conn) => {
                    tracing::debug!(target: "raftlab::clerk", topic = "CLNT", node = self.me as u64,
                        "c{conn} timer fired");
                    if let Some(s) = self.sessions.get_mut(&conn) {
                        let outs = s.clerk.on_timer();
                        self.clerk_outputs(conn, outs);
                    }
                }
            }
        }
    }

    /// Handles one event; `Err` ends the loop.
    pub fn handle(&mut self, event: Event<S>) -> Result<(), Stop> {
        match event {
            Event::Peer { from, msg } => self.on_peer(from, msg),
            Event::PeerUp(p) => {
                if let Some(Some(l)) = self.links.get_mut(p) {
                    l.up = true;
                }
            }
            Event::PeerDown(p) => {
                if let Some(Some(l)) = self.links.get_mut(p) {
                    l.up = false;
                }
                let lost: Vec<(u64, Forward)> = self
                    .forwards
                    .iter()
                    .filter(|(_, f)| f.peer == p)
                    .map(|(&t, &f)| (t, f))
                    .collect();
                for (tag, f) in lost {
                    self.forwards.remove(&tag);
                    if let Some(s) = self.sessions.get_mut(&f.conn) {
                        let outs = s.clerk.on_failure(f.attempt);
                        self.clerk_outputs(f.conn, outs);
                    }
                }
            }
            Event::Opened(conn) => {
                // Below 2^63, so that `SESSION` can show it as a RESP integer.
                let id: ClientId = rand::Rng::random::<u64>(&mut self.client_ids) >> 1;
                let peers = self.server.raft().config().peers;
                let clerk = Clerk::new(id, peers, self.clerk_timing);
                self.sessions.insert(
                    conn,
                    Session {
                        clerk,
                        op: None,
                        forwarded: None,
                    },
                );
            }
            Event::Command { conn, op, reply } => self.on_command(conn, op, reply),
            Event::Local { local, reply } => self.on_local(local, reply),
            Event::Session {
                conn,
                resume,
                reply,
            } => {
                // The session lives in memory only: the answer waits for nothing.
                let _ = reply.send(self.on_session(conn, resume));
            }
            Event::Info { reply } => {
                let value = Value::bulk(self.info());
                // INFO reports state; it promises nothing durable, so it does not wait.
                let _ = reply.send(value);
            }
            Event::Closed(conn) => {
                if let Some(s) = self.sessions.remove(&conn)
                    && let Some(tag) = s.forwarded
                {
                    self.forwards.remove(&tag);
                }
                self.timers.cancel(TimerKey::Clerk(conn));
            }
            Event::Durable { seq, disk_bytes } => {
                self.disk_bytes = disk_bytes;
                for e in self.outbox.durable(seq) {
                    self.perform(e);
                }
            }
            Event::StorageFailed(e) => return Err(Stop::Storage(e)),
        }
        self.observe_role();
        Ok(())
    }

    fn on_peer(&mut self, from: NodeId, msg: PeerMsg<S::Op, S::Output>) {
        match msg {
            PeerMsg::Raft(request) => {
                let outs = self.server.raft_request(from, request);
                self.execute(outs);
            }
            PeerMsg::RaftReply(reply) => {
                let outs = self.server.raft_reply(from, reply);
                self.execute(outs);
            }
            PeerMsg::Clerk { tag, request } => {
                self.call_core(Origin::Remote { peer: from, tag }, request);
            }
            PeerMsg::ClerkReply { tag, reply } => {
                let Some(f) = self.forwards.remove(&tag) else {
                    return;
                };
                if f.peer != from {
                    tracing::warn!(target: "raftlab::runtime", topic = "PEER", node = self.me as u64,
                        "S{from} answered call {tag}, which went to S{}; ignored", f.peer);
                    return;
                }
                if let Some(s) = self.sessions.get_mut(&f.conn) {
                    if s.forwarded == Some(tag) {
                        s.forwarded = None;
                    }
                    let outs = s.clerk.on_reply(f.attempt, reply);
                    // The answer came from the peer's core, after its own records were
                    // durable; it depends on nothing of this server's.
                    self.clerk_outputs_after(f.conn, outs, 0);
                }
            }
        }
    }

    fn on_command(&mut self, conn: ConnId, op: S::Op, reply: oneshot::Sender<Value>) {
        let Some(s) = self.sessions.get_mut(&conn) else {
            let _ = reply.send(Value::error("ERR connection closed"));
            return;
        };
        match s.clerk.start(op.clone()) {
            Ok(outs) => {
                s.op = Some((op, reply));
                self.clerk_outputs(conn, outs);
            }
            Err(_) => {
                let _ = reply.send(Value::error(
                    "ERR a command is already running on this connection",
                ));
            }
        }
    }

    fn on_local(&mut self, local: Local<S::Op, S::Query>, reply: oneshot::Sender<Value>) {
        let value = match local {
            Local::Start(op) => {
                let (started, outs) = self.server.start_unowned(op);
                self.execute(outs);
                started_reply(started)
            }
            Local::State => {
                let (term, leader) = self.server.raft().state();
                state_reply(term, leader)
            }
            Local::Read(query) => self.server.state().query(query),
        };
        self.emit(Effect::Respond { reply, value });
    }

    fn on_session(&mut self, conn: ConnId, resume: Option<(ClientId, NonZeroU64)>) -> Value {
        let Some(s) = self.sessions.get_mut(&conn) else {
            return Value::error("ERR connection closed");
        };
        match resume {
            None => {
                let int = |n: u64| Value::Integer(i64::try_from(n).unwrap_or(i64::MAX));
                Value::Array(Some(vec![int(s.clerk.client()), int(s.clerk.next_seq())]))
            }
            Some((client, next_seq)) => match s.clerk.resume(client, next_seq) {
                Ok(()) => {
                    tracing::debug!(target: "raftlab::clerk", topic = "CLNT", node = self.me as u64,
                        "c{conn} resumes client {client} at #{next_seq}");
                    Value::ok()
                }
                Err(_) => Value::error(
                    "ERR SESSION: an operation of this connection is in flight; resume \
                     a session before its next operation",
                ),
            },
        }
    }

    fn tag(&mut self) -> u64 {
        self.next_tag += 1;
        self.next_tag
    }

    fn clerk_outputs(&mut self, conn: ConnId, outs: Vec<ClerkOutput<S::Op, S::Output>>) {
        let after = self.submitted;
        self.clerk_outputs_after(conn, outs, after);
    }

    /// Carries out a clerk's outputs; its answer to the client (if it finished) waits
    /// for record `after`.
    fn clerk_outputs_after(
        &mut self,
        conn: ConnId,
        outs: Vec<ClerkOutput<S::Op, S::Output>>,
        after: Seq,
    ) {
        // A send can be answered at once (this server's own core, or a link that is
        // down), and that answer makes the clerk decide again. Carrying the new decision
        // out in the middle of the old list would let the old list's later outputs (its
        // `SetTimer`) overwrite the new ones; so answers queue behind the list that
        // caused them, as events do.
        self.clerk_work.push_back(ClerkWork { conn, outs, after });
        if self.clerk_draining {
            return;
        }
        self.clerk_draining = true;
        while let Some(ClerkWork { conn, outs, after }) = self.clerk_work.pop_front() {
            self.carry_out_clerk(conn, outs, after);
        }
        self.clerk_draining = false;
    }

    fn carry_out_clerk(
        &mut self,
        conn: ConnId,
        outs: Vec<ClerkOutput<S::Op, S::Output>>,
        after: Seq,
    ) {
        for o in outs {
            match o {
                ClerkOutput::Send {
                    to,
                    attempt,
                    request,
                } => {
                    tracing::debug!(target: "raftlab::clerk", topic = "CLNT", node = self.me as u64,
                        "c{conn} attempt {attempt} of #{} to S{to}", request.seq);
                    self.clerk_send(conn, to, attempt, request)
                }
                ClerkOutput::SetTimer(range) => {
                    let at = Instant::now() + draw(&mut self.rng, range);
                    self.timers.set(TimerKey::Clerk(conn), at);
                }
                ClerkOutput::CancelTimer => self.timers.cancel(TimerKey::Clerk(conn)),
                ClerkOutput::Done(result) => {
                    if let Some(s) = self.sessions.get_mut(&conn)
                        && let Some((op, reply)) = s.op.take()
                    {
                        let value = S::reply(&op, result);
                        self.emit_after(after, Effect::Respond { reply, value });
                    }
                }
            }
        }
    }

    /// Hands a clerk's request to this server's core.
    fn call_core(&mut self, origin: Origin, request: Request<S::Op>) {
        let call = self.tag();
        self.calls.insert(
            call,
            Call {
                origin,
                record: None,
            },
        );
        let outs = self.server.client_request(call, request);
        self.execute(outs);
        if let Some(c) = self.calls.get_mut(&call) {
            c.record = Some(self.submitted);
        }
    }

    fn clerk_send(&mut self, conn: ConnId, to: usize, attempt: u64, request: Request<S::Op>) {
        if to == self.me {
            self.call_core(Origin::Local { conn, attempt }, request);
            return;
        }
        let up = matches!(self.links.get(to), Some(Some(l)) if l.up);
        if !up {
            if let Some(s) = self.sessions.get_mut(&conn) {
                let outs = s.clerk.on_failure(attempt);
                self.clerk_outputs(conn, outs);
            }
            return;
        }
        let tag = self.tag();
        if let Some(s) = self.sessions.get_mut(&conn)
            && let Some(old) = s.forwarded.replace(tag)
        {
            self.forwards.remove(&old);
        }
        self.forwards.insert(
            tag,
            Forward {
                peer: to,
                conn,
                attempt,
            },
        );
        let msg: PeerMsg<S::Op, S::Output> = PeerMsg::Clerk { tag, request };
        // A forwarded request is the client's command and its clerk session's numbers,
        // which live in memory only: it reveals nothing persisted, so it waits for no
        // record (waiting for this server's own appends cost a follower's clients up
        // to two fsyncs per command).
        self.emit_after(
            0,
            Effect::Peer {
                to,
                frame: wire::frame(&msg),
            },
        );
    }

    /// Carries out the core's outputs, in order.
    fn execute(&mut self, outs: Outputs<S>) {
        for o in outs {
            match o {
                ServerOutput::Raft(Output::Persist(p)) => {
                    self.submitted = self.queue.submit(p);
                }
                ServerOutput::Raft(Output::Send { to, request }) => {
                    let msg: PeerMsg<S::Op, S::Output> = PeerMsg::Raft(request);
                    self.emit(Effect::Peer {
                        to,
                        frame: wire::frame(&msg),
                    });
                }
                ServerOutput::Raft(Output::Reply { to, reply }) => {
                    let msg: PeerMsg<S::Op, S::Output> = PeerMsg::RaftReply(reply);
                    self.emit(Effect::Peer {
                        to,
                        frame: wire::frame(&msg),
                    });
                }
                ServerOutput::Raft(Output::SetTimer { timer, after }) => {
                    let at = Instant::now() + draw(&mut self.rng, after);
                    self.timers.set(TimerKey::Raft(timer), at);
                }
                ServerOutput::Raft(Output::CancelTimer(timer)) => {
                    self.timers.cancel(TimerKey::Raft(timer));
                }
                // The server consumes Raft's applies; none reach its driver.
                ServerOutput::Raft(Output::Apply(_)) => {}
                ServerOutput::ClientReply { call, reply } => {
                    let Some(c) = self.calls.remove(&call) else {
                        continue;
                    };
                    let after = c.record.unwrap_or(self.submitted);
                    match c.origin {
                        Origin::Local { conn, attempt } => {
                            if let Some(s) = self.sessions.get_mut(&conn) {
                                let outs = s.clerk.on_reply(attempt, reply);
                                self.clerk_outputs_after(conn, outs, after);
                            }
                        }
                        Origin::Remote { peer, tag } => {
                            let msg: PeerMsg<S::Op, S::Output> = PeerMsg::ClerkReply { tag, reply };
                            self.emit_after(
                                after,
                                Effect::Peer {
                                    to: peer,
                                    frame: wire::frame(&msg),
                                },
                            );
                        }
                    }
                }
            }
        }
    }

    /// Sends `e` once everything submitted so far is durable.
    fn emit(&mut self, e: Effect) {
        let after = self.submitted;
        self.emit_after(after, e);
    }

    /// Sends `e` once record `after` is durable.
    fn emit_after(&mut self, after: Seq, e: Effect) {
        if let Some(e) = self.outbox.push(after, e) {
            self.perform(e);
        }
    }

    fn perform(&mut self, e: Effect) {
        match e {
            Effect::Peer { to, frame } => {
                if let Some(Some(l)) = self.links.get(to)
                    && l.up
                {
                    // A full queue means the peer is not reading: drop, as a network
                    // would; Raft retries.
                    let _ = l.tx.try_send(frame);
                }
            }
            Effect::Respond { reply, value } => {
                let _ = reply.send(value);
            }
        }
    }

    fn observe_role(&mut self) {
        let raft = self.server.raft();
        let now = (raft.term(), role_name(raft.role()), raft.leader());
        if now != self.seen {
            let (term, role, leader) = now;
            let leader = match leader {
                Some(l) if l == self.me => String::new(),
                Some(l) => format!(", leader S{l}"),
                None => String::new(),
            };
            tracing::info!(target: "raftlab::runtime", topic = "NODE", node = self.me as u64,
                "{role} in term {term}{leader}");
            self.seen = now;
        }
    }

    /// The `INFO` text: `field:value` lines, as Redis writes them.
    pub fn info(&self) -> String {
        let raft = self.server.raft();
        let connected = self
            .links
            .iter()
            .filter(|l| matches!(l, Some(l) if l.up))
            .count();
        let leader = match raft.leader() {
            Some(l) => l.to_string(),
            None => "-1".into(),
        };
        let fields: Vec<(&str, String)> = vec![
            ("role", role_name(raft.role()).into()),
            ("id", self.me.to_string()),
            ("term", raft.term().to_string()),
            ("leader", leader),
            ("commit_index", raft.commit_index().to_string()),
            ("applied_index", self.server.applied().to_string()),
            ("last_log_index", raft.log().last_index().to_string()),
            ("snapshot_index", raft.log().snapshot_index().to_string()),
            ("log_bytes", self.disk_bytes.to_string()),
            ("raft_state_bytes", raft.persisted_size().to_string()),
            ("peers", raft.config().peers.to_string()),
            ("peers_connected", connected.to_string()),
            ("clients", self.sessions.len().to_string()),
            ("pending_requests", self.server.pending().to_string()),
            ("outbox_waiting", self.outbox.waiting().to_string()),
            ("durable_seq", self.outbox.durable_seq().to_string()),
            (
                "fsync",
                match self.fsync {
                    Fsync::Always => "always".into(),
                    Fsync::Never => "never".into(),
                },
            ),
            ("service", S::NAME.into()),
        ];
        let mut s = String::from("# Replication\r\n");
        for (k, v) in fields {
            s.push_str(k);
            s.push(':');
            s.push_str(&v);
            s.push_str("\r\n");
        }
        s
    }
}

/// The Raft persist record type of a service.
pub type PersistOf<S> = Persist<Request<<S as crate::rsm::StateMachine>::Op>>;

#[cfg(all(test, not(raftlab_loom)))]
#[path = "node_tests.rs"]
mod tests;
