//! The shard clerk: finds the group that serves a key's shard in its cached
//! configuration, and asks the controller for the latest configuration when it is
//! told `WrongGroup`, when the group is unknown, or after trying every server of the
//! group. As the lab's clerk, it waits 100 ms before each such refresh.
//!
//! It embeds a controller clerk ([`CtrlerClerk`]) for the queries, and keeps, per
//! group, the server that answered last.

use std::collections::BTreeMap;

use super::ctrler::{CtrlOp, CtrlerClerk};
use super::{Gid, ShardConfig, key2shard};
use crate::kv::Op;
use crate::raft::TimeRange;
use crate::rsm::clerk::{Busy, ClerkOutput, ClerkTiming};
use crate::rsm::{ClientId, Reply, Request};

/// The clerk's two timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ShardClerkTimer {
    /// A call's timeout, or the wait before refreshing the configuration.
    Own,
    /// The embedded controller clerk's timer.
    Ctrler,
}

/// What the clerk asks its driver to do.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ShardClerkOutput {
    /// Call a group server by name.
    SendGroup {
        /// The server.
        server: String,
        /// Hand back with the outcome.
        attempt: u64,
        /// The request.
        request: Request<Op>,
    },
    /// Call controller server `to`.
    SendCtrler {
        /// The controller server's index.
        to: usize,
        /// Hand back with the outcome.
        attempt: u64,
        /// The request.
        request: Request<CtrlOp>,
    },
    /// (Re)start a timer.
    SetTimer {
        /// Which.
        timer: ShardClerkTimer,
        /// Its duration's range.
        after: TimeRange,
    },
    /// Stop a timer.
    CancelTimer(ShardClerkTimer),
    /// The operation finished.
    Done(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum State {
    Idle,
    /// Waiting for the controller's latest configuration.
    Querying(Request<Op>),
    /// Waiting for server `index` of group `gid`.
    Calling {
        request: Request<Op>,
        gid: Gid,
        index: usize,
        tried: usize,
        attempt: u64,
    },
    /// Waiting before refreshing the configuration.
    Waiting(Request<Op>),
}

/// A shard clerk.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ShardClerk {
    client: ClientId,
    seq: u64,
    attempt: u64,
    config: ShardConfig,
    leaders: BTreeMap<Gid, usize>,
    ctrler: CtrlerClerk,
    timing: ClerkTiming,
    state: State,
}

type Out = Vec<ShardClerkOutput>;

impl ShardClerk {
    /// A clerk named `client`, with `ctrlers` controller servers.
    pub fn new(client: ClientId, ctrlers: usize, timing: ClerkTiming) -> Self {
        ShardClerk {
            client,
            seq: 0,
            attempt: 0,
            config: ShardConfig::default(),
            leaders: BTreeMap::new(),
            ctrler: CtrlerClerk::new(client, ctrlers, timing),
            timing,
            state: State::Idle,
        }
    }

    /// Whether an operation is running.
    pub fn busy(&self) -> bool {
        !matches!(self.state, State::Idle)
    }

    /// The cached configuration.
    pub fn config(&self) -> &ShardConfig {
        &self.config
    }

    /// Starts an operation.
    pub fn start(&mut self, op: Op) -> Result<Out, Busy> {
        if self.busy() {
            return Err(Busy);
        }
        self.seq += 1;
        let request = Request {
            client: self.client,
            seq: self.seq,
            op,
        };
        let mut out = Vec::new();
        if self.config.num == 0 {
            // The lab's clerk starts from the zero configuration: wait, then query.
            self.wait(request, &mut out);
        } else {
            self.try_group(request, 0, &mut out);
        }
        Ok(out)
    }

    /// A group server's answer to `attempt` (`None`: the call failed).
    pub fn on_group_reply(&mut self, attempt: u64, reply: Option<Reply<String>>) -> Out {
        let mut out = Vec::new();
        let State::Calling {
            attempt: current,
            gid,
            index,
            tried,
            ..
        } = &self.state
        else {
            return out;
        };
        if *current != attempt {
            return out;
        }
        let (gid, index, tried) = (*gid, *index, *tried);
        let State::Calling { request, .. } = std::mem::replace(&mut self.state, State::Idle) else {
            return out;
        };
        match reply {
            Some(Reply::Ok(value)) => {
                self.leaders.insert(gid, index);
                out.push(ShardClerkOutput::CancelTimer(ShardClerkTimer::Own));
                out.push(ShardClerkOutput::Done(value));
            }
            Some(Reply::WrongGroup) => self.wait(request, &mut out),
            Some(Reply::WrongLeader) | None => {
                self.next_server(request, gid, index, tried, &mut out)
            }
        }
        out
    }

    /// A controller server's answer to the embedded clerk's `attempt`.
    pub fn on_ctrler_reply(
        &mut self,
        attempt: u64,
        reply: Option<Reply<Option<ShardConfig>>>,
    ) -> Out {
        let outputs = match reply {
            Some(r) => self.ctrler.on_reply(attempt, r),
            None => self.ctrler.on_failure(attempt),
        };
        let mut out = Vec::new();
        self.ctrler_outputs(outputs, &mut out);
        out
    }

    /// A timer fired.
    pub fn on_timer(&mut self, timer: ShardClerkTimer) -> Out {
        let mut out = Vec::new();
        match timer {
            ShardClerkTimer::Ctrler => {
                let outputs = self.ctrler.on_timer();
                self.ctrler_outputs(outputs, &mut out);
            }
            ShardClerkTimer::Own => match std::mem::replace(&mut self.state, State::Idle) {
                State::Calling {
                    request,
                    gid,
                    index,
                    tried,
                    ..
                } => self.next_server(request, gid, index, tried, &mut out),
                State::Waiting(request) => self.query(request, &mut out),
                other => self.state = other,
            },
        }
        out
    }

    fn try_group(&mut self, request: Request<Op>, tried: usize, out: &mut Out) {
        let shard = key2shard(request.op.key());
        let gid = self.config.shards[shard];
        let Some(servers) = self.config.groups.get(&gid).filter(|s| !s.is_empty()) else {
            self.wait(request, out);
            return;
        };
        let index = self.leaders.get(&gid).copied().unwrap_or(0) % servers.len();
        let server = servers[index].clone();
        self.call(request, gid, index, server, tried, out);
    }

    fn call(
        &mut self,
        request: Request<Op>,
        gid: Gid,
        index: usize,
        server: String,
        tried: usize,
        out: &mut Out,
    ) {
        self.attempt += 1;
        out.push(ShardClerkOutput::SendGroup {
            server,
            attempt: self.attempt,
            request: request.clone(),
        });
        out.push(ShardClerkOutput::SetTimer {
            timer: ShardClerkTimer::Own,
            after: self.timing.request_timeout,
        });
        self.state = State::Calling {
            request,
            gid,
            index,
            tried,
            attempt: self.attempt,
        };
    }

    fn next_server(
        &mut self,
        request: Request<Op>,
        gid: Gid,
        index: usize,
        tried: usize,
        out: &mut Out,
    ) {
        let servers = self.config.groups.get(&gid).cloned().unwrap_or_default();
        if tried + 1 >= servers.len() {
            self.wait(request, out);
            return;
        }
        let index = (index + 1) % servers.len();
        let server = servers[index].clone();
        self.call(request, gid, index, server, tried + 1, out);
    }

    fn wait(&mut self, request: Request<Op>, out: &mut Out) {
        self.state = State::Waiting(request);
        out.push(ShardClerkOutput::SetTimer {
            timer: ShardClerkTimer::Own,
            after: self.timing.backoff,
        });
    }

    fn query(&mut self, request: Request<Op>, out: &mut Out) {
        self.state = State::Querying(request);
        if let Ok(outputs) = self.ctrler.start(CtrlOp::Query { num: -1 }) {
            self.ctrler_outputs(outputs, out);
        }
    }

    fn ctrler_outputs(
        &mut self,
        outputs: Vec<ClerkOutput<CtrlOp, Option<ShardConfig>>>,
        out: &mut Out,
    ) {
        for o in outputs {
            match o {
                ClerkOutput::Send {
                    to,
                    attempt,
                    request,
                } => out.push(ShardClerkOutput::SendCtrler {
                    to,
                    attempt,
                    request,
                }),
                ClerkOutput::SetTimer(after) => out.push(ShardClerkOutput::SetTimer {
                    timer: ShardClerkTimer::Ctrler,
                    after,
                }),
                ClerkOutput::CancelTimer => {
                    out.push(ShardClerkOutput::CancelTimer(ShardClerkTimer::Ctrler));
                }
                ClerkOutput::Done(config) => {
                    if let Some(c) = config
                        && c.num >= self.config.num
                    {
                        self.config = c;
                    }
                    if let State::Querying(request) =
                        std::mem::replace(&mut self.state, State::Idle)
                    {
                        self.try_group(request, 0, out);
                    }
                }
            }
        }
    }
}
