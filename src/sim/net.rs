//! labrpc, in virtual time: the lab's simulated network, with its exact delays, drop
//! rates and counting rules (lab-suite.md section 1).
//!
//! Client ends and servers are named by strings. An end is enabled or not and connected
//! to a server name; a server name maps to a server object, here an opaque token `S`
//! that the world gives (a node and its incarnation). A call on an end goes through
//! these steps, each a [`NetEvent`] in the kernel's queue:
//!
//! 1. [`Net::call`] counts the call and its request bytes and reads the end's state once.
//!    A disabled or unconnected end, or a missing server, fails the call after
//!    U[0,100) ms (U[0,7000) ms with long delays). On an unreliable network the request
//!    waits U[0,27) ms and is then dropped with probability 1/10.
//! 2. `DeliverRequest`: if the server object captured at the call is still the one
//!    registered under its name, its per-server count goes up and the world runs the
//!    handler ([`NetAction::Request`]).
//! 3. The world answers with [`Net::respond`], at once or later. The call fails if the
//!    server is "dead" then (the end disabled, or the name now maps to another server
//!    or none); while a reply is awaited, a topology change makes the call fail at the
//!    next 100 ms poll if the server is dead at that poll.
//! 4. On an unreliable network the reply is dropped with probability 1/10. With long
//!    reordering, two thirds of replies are delayed by 200 + U[0, U[0,2000)) ms.
//! 5. `DeliverReply`: the reply bytes are counted and the caller gets the reply.
//!
//! Every delivery of a request or a reply also takes the network's base latency (see
//! [`Net::set_base_latency`]): the lab's reliable network adds no delay, but in Go real
//! time passes while a message is handled, and with no delay at all virtual time could
//! stand still.
//!
//! While the kernel traces (see [`super::trace`]), each step above is recorded: the call
//! and its request's fate, the delivery to the handler, the reply and its fate, the
//! reply's return, and a failure with its reason. The world names the servers at the
//! two sides of an end with [`Net::label_end`] and summarizes messages with
//! [`Net::set_describe`]; neither changes what the network does.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::time::Duration;

use serde::Serialize;

use super::kernel::{Event, Kernel};
use super::trace::{FailReason, Fate, TraceEvent};
use crate::codec;

/// Identifies one call on the network.
pub type CallId = u64;

/// A step of a call, scheduled in the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetEvent {
    /// The request reaches the server.
    DeliverRequest(CallId),
    /// The reply reaches the caller.
    DeliverReply(CallId),
    /// The call returns false to the caller.
    Fail(CallId),
    /// A 100 ms poll of whether the server of a call still awaiting its reply is dead.
    DeadCheck(CallId),
}

impl NetEvent {
    pub(crate) fn digest(&self) -> (u64, u64) {
        match *self {
            NetEvent::DeliverRequest(c) => (1, c),
            NetEvent::DeliverReply(c) => (2, c),
            NetEvent::Fail(c) => (3, c),
            NetEvent::DeadCheck(c) => (4, c),
        }
    }
}

/// What the world must do after a network event.
#[derive(Debug)]
pub enum NetAction<M, S, C> {
    /// Run the handler of `server` for `request`, then answer with [`Net::respond`].
    Request {
        /// The server object.
        server: S,
        /// The call, to answer.
        call: CallId,
        /// The caller's context, as given to [`Net::call`].
        caller: C,
        /// The request.
        request: M,
    },
    /// Hand `reply` to the caller.
    Reply {
        /// The caller's context.
        caller: C,
        /// The call.
        call: CallId,
        /// The reply.
        reply: M,
    },
    /// Tell the caller its call failed (labrpc's `Call` returned false).
    Failed {
        /// The caller's context.
        caller: C,
        /// The call.
        call: CallId,
        /// The request that failed.
        request: M,
    },
}

#[derive(Clone, Debug)]
struct End {
    enabled: bool,
    server: Option<String>,
    /// For the trace: the servers at the two sides of the end (see [`Net::label_end`]).
    label: (Option<usize>, Option<usize>),
}

#[derive(Clone, Debug)]
struct Server<S> {
    token: S,
    count: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Scheduled for delivery to the server.
    InFlight,
    /// The handler ran; the reply is awaited. `check` is whether a dead check is
    /// scheduled.
    AwaitingReply { check: bool },
    /// The reply is on its way back.
    Replying,
    /// The call will fail (or has failed), for this reason.
    Failing(FailReason),
}

#[derive(Debug)]
struct Call<M, S, C> {
    end: String,
    server_name: Option<String>,
    server: Option<S>,
    caller: C,
    request: M,
    reply: Option<M>,
    reliable: bool,
    long_reordering: bool,
    stage: Stage,
    delivered_at: Duration,
    /// The end's label when the call was made (for the trace).
    label: (Option<usize>, Option<usize>),
}

/// The simulated network.
pub struct Net<M, S, C> {
    ends: BTreeMap<String, End>,
    servers: BTreeMap<String, Server<S>>,
    calls: BTreeMap<CallId, Call<M, S, C>>,
    awaiting: BTreeSet<CallId>,
    next_call: CallId,
    reliable: bool,
    long_delays: bool,
    long_reordering: bool,
    base_latency: Duration,
    total_count: u64,
    total_bytes: u64,
    describe: Option<fn(&M) -> String>,
}

/// The default base latency of a delivery: 1 millisecond.
pub const DEFAULT_BASE_LATENCY: Duration = Duration::from_millis(1);

impl<M, S, C> Default for Net<M, S, C> {
    fn default() -> Self {
        Net {
            ends: BTreeMap::new(),
            servers: BTreeMap::new(),
            calls: BTreeMap::new(),
            awaiting: BTreeSet::new(),
            next_call: 0,
            reliable: true,
            long_delays: false,
            long_reordering: false,
            base_latency: DEFAULT_BASE_LATENCY,
            total_count: 0,
            total_bytes: 0,
            describe: None,
        }
    }
}

impl<M, S, C> Net<M, S, C>
where
    M: Serialize + Clone + Debug,
    S: Clone + PartialEq + Debug,
    C: Clone + Debug,
{
    /// A reliable network without long delays or reordering.
    pub fn new() -> Self {
        Self::default()
    }

    // ----- Management (labrpc's Network API) -------------------------------------------

    /// `MakeEnd`: a new end, disabled and unconnected. Returns an error if the name is
    /// taken (fatal in labrpc).
    pub fn make_end(&mut self, name: &str) -> Result<(), String> {
        if self.ends.contains_key(name) {
            return Err(format!("labrpc: end {name:?} already exists"));
        }
        self.ends.insert(
            name.to_string(),
            End {
                enabled: false,
                server: None,
                label: (None, None),
            },
        );
        Ok(())
    }

    /// Names, for the trace, the servers at the two sides of an end: the one whose
    /// calls go through it and the one it leads to (`None` for a side that is no
    /// server, such as a client).
    pub fn label_end(&mut self, end: &str, from: Option<usize>, to: Option<usize>) {
        if let Some(e) = self.ends.get_mut(end) {
            e.label = (from, to);
        }
    }

    /// Sets how the trace summarizes a message (by default, its `Debug` form cut to
    /// 120 characters).
    pub fn set_describe(&mut self, describe: fn(&M) -> String) {
        self.describe = Some(describe);
    }

    /// `DeleteEnd`.
    pub fn delete_end(&mut self, k: &mut Kernel, name: &str) {
        self.ends.remove(name);
        self.topology_changed(k);
    }

    /// `Connect(end, server)`.
    pub fn connect(&mut self, k: &mut Kernel, end: &str, server: &str) {
        if let Some(e) = self.ends.get_mut(end) {
            e.server = Some(server.to_string());
        }
        self.topology_changed(k);
    }

    /// `Enable(end, enabled)`.
    pub fn enable(&mut self, k: &mut Kernel, end: &str, enabled: bool) {
        if let Some(e) = self.ends.get_mut(end)
            && e.enabled != enabled
        {
            e.enabled = enabled;
            self.topology_changed(k);
        }
    }

    /// Whether an end exists and is enabled.
    pub fn is_enabled(&self, end: &str) -> bool {
        self.ends.get(end).is_some_and(|e| e.enabled)
    }

    /// `AddServer(name, server)`: registers (or replaces) the server object under a name,
    /// with a fresh count.
    pub fn add_server(&mut self, k: &mut Kernel, name: &str, token: S) {
        self.servers
            .insert(name.to_string(), Server { token, count: 0 });
        self.topology_changed(k);
    }

    /// `DeleteServer(name)`.
    pub fn delete_server(&mut self, k: &mut Kernel, name: &str) {
        self.servers.remove(name);
        self.topology_changed(k);
    }

    /// `Reliable(yes)`.
    pub fn set_reliable(&mut self, yes: bool) {
        self.reliable = yes;
    }

    /// Whether the network is reliable.
    pub fn reliable(&self) -> bool {
        self.reliable
    }

    /// `LongDelays(yes)`: failed calls on disabled ends take U[0,7000) ms, not U[0,100).
    pub fn set_long_delays(&mut self, yes: bool) {
        self.long_delays = yes;
    }

    /// `LongReordering(yes)`.
    pub fn set_long_reordering(&mut self, yes: bool) {
        self.long_reordering = yes;
    }

    /// Whether replies may be reordered (delayed by up to 2.2 s).
    pub fn long_reordering(&self) -> bool {
        self.long_reordering
    }

    /// Sets the base latency added to every delivery of a request or a reply.
    pub fn set_base_latency(&mut self, latency: Duration) {
        self.base_latency = latency;
    }

    /// The base latency of a delivery.
    pub fn base_latency(&self) -> Duration {
        self.base_latency
    }

    /// `GetCount(server)`: requests delivered to the server now registered under `name`.
    pub fn count(&self, name: &str) -> u64 {
        self.servers.get(name).map_or(0, |s| s.count)
    }

    /// `GetTotalCount()`: every call made, including failed and dropped ones.
    pub fn total_count(&self) -> u64 {
        self.total_count
    }

    /// `GetTotalBytes()`: request bytes of every call plus bytes of delivered replies.
    pub fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    /// The number of calls that have not yet returned.
    pub fn calls_in_flight(&self) -> usize {
        self.calls.len()
    }

    // ----- Calls --------------------------------------------------------------------

    /// `end.Call(request)`: starts a call and returns its id. Its outcome comes back as a
    /// [`NetAction::Reply`] or [`NetAction::Failed`] carrying `caller`.
    pub fn call(&mut self, k: &mut Kernel, end: &str, caller: C, request: M) -> CallId {
        self.next_call += 1;
        let id = self.next_call;
        let bytes = codec::encoded_len(&request) as u64;
        self.total_count += 1;
        self.total_bytes += bytes;
        k.mix(&[id, bytes]);
        let (enabled, server_name, label) = match self.ends.get(end) {
            Some(e) => (e.enabled, e.server.clone(), e.label),
            None => (false, None, (None, None)),
        };
        let server = server_name
            .as_ref()
            .and_then(|n| self.servers.get(n))
            .map(|s| s.token.clone());
        let mut call = Call {
            end: end.to_string(),
            server_name,
            server,
            caller,
            request,
            reply: None,
            reliable: self.reliable,
            long_reordering: self.long_reordering,
            stage: Stage::InFlight,
            delivered_at: Duration::ZERO,
            label,
        };
        let (fate, after) = if !enabled || call.server.is_none() {
            let ms = if self.long_delays { 7000 } else { 100 };
            let delay = k.rng.millis_below(ms);
            let reason = if enabled {
                FailReason::NoServer
            } else {
                FailReason::EndDisabled
            };
            call.stage = Stage::Failing(reason);
            k.schedule(delay, Event::Net(NetEvent::Fail(id)));
            let fate = if enabled {
                Fate::NoServer
            } else {
                Fate::EndDisabled
            };
            (fate, delay)
        } else if !call.reliable {
            let delay = k.rng.millis_below(27);
            if k.rng.chance(100, 1000) {
                tracing::debug!(target: "raftlab", topic = "DROP", "call {id} on {end}: request dropped");
                call.stage = Stage::Failing(FailReason::RequestDropped);
                k.schedule(delay, Event::Net(NetEvent::Fail(id)));
                (Fate::Dropped, delay)
            } else {
                let delay = delay + self.base_latency;
                k.schedule(delay, Event::Net(NetEvent::DeliverRequest(id)));
                (Fate::Deliver, delay)
            }
        } else {
            k.schedule(self.base_latency, Event::Net(NetEvent::DeliverRequest(id)));
            (Fate::Deliver, self.base_latency)
        };
        k.trace(label.0, || TraceEvent::Call {
            call: id,
            to: label.1.map(|n| n as u64),
            end: end.to_string(),
            bytes,
            msg: summarize(self.describe, &call.request),
            fate,
            after_us: after.as_micros() as u64,
        });
        self.calls.insert(id, call);
        id
    }

    /// The world's answer to a [`NetAction::Request`]: the handler's reply, now or later.
    /// A reply to a call that has already failed (its server died meanwhile) is dropped.
    pub fn respond(&mut self, k: &mut Kernel, call: CallId, reply: M) {
        let dead = match self.calls.get(&call) {
            Some(c) if matches!(c.stage, Stage::AwaitingReply { .. }) => self.is_dead(c),
            _ => return,
        };
        self.awaiting.remove(&call);
        let base = self.base_latency;
        let describe = self.describe;
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if dead {
            c.stage = Stage::Failing(FailReason::DeadBeforeReply);
            k.schedule(Duration::ZERO, Event::Net(NetEvent::Fail(call)));
            return;
        }
        if !c.reliable && k.rng.chance(100, 1000) {
            tracing::debug!(target: "raftlab", topic = "DROP", "call {call} on {}: reply dropped", c.end);
            c.stage = Stage::Failing(FailReason::ReplyDropped);
            k.schedule(Duration::ZERO, Event::Net(NetEvent::Fail(call)));
            k.trace(c.label.1, || TraceEvent::Reply {
                call,
                to: c.label.0.map(|n| n as u64),
                msg: summarize(describe, &reply),
                fate: Fate::Dropped,
                after_us: 0,
            });
            return;
        }
        let mut delay = base;
        if c.long_reordering && k.rng.below(900) < 600 {
            let inner = k.rng.below(2000);
            delay += Duration::from_millis(200 + k.rng.below(1 + inner));
        }
        k.trace(c.label.1, || TraceEvent::Reply {
            call,
            to: c.label.0.map(|n| n as u64),
            msg: summarize(describe, &reply),
            fate: Fate::Deliver,
            after_us: delay.as_micros() as u64,
        });
        c.reply = Some(reply);
        c.stage = Stage::Replying;
        k.schedule(delay, Event::Net(NetEvent::DeliverReply(call)));
    }

    /// Handles a network event from the kernel.
    pub fn on_event(&mut self, k: &mut Kernel, event: NetEvent) -> Option<NetAction<M, S, C>> {
        match event {
            NetEvent::DeliverRequest(id) => {
                let c = self.calls.get(&id)?;
                let name = c.server_name.clone()?;
                let registered = match (self.servers.get(&name), &c.server) {
                    (Some(s), Some(t)) => s.token == *t,
                    _ => false,
                };
                if !registered {
                    // The server object was killed or replaced: no handler runs, and the
                    // dead check fails the call.
                    return self.fail(k, id, FailReason::ServerGone);
                }
                if let Some(s) = self.servers.get_mut(&name) {
                    s.count += 1;
                }
                let c = self.calls.get_mut(&id)?;
                c.stage = Stage::AwaitingReply { check: false };
                c.delivered_at = k.now();
                self.awaiting.insert(id);
                let server = c.server.clone()?;
                // The handler gets its own copy of the request (labrpc decodes a fresh
                // one); the original stays for a failure report.
                let request = c.request.clone();
                let describe = self.describe;
                k.trace(c.label.1, || TraceEvent::Request {
                    call: id,
                    from: c.label.0.map(|n| n as u64),
                    msg: summarize(describe, &request),
                });
                Some(NetAction::Request {
                    server,
                    call: id,
                    caller: c.caller.clone(),
                    request,
                })
            }
            NetEvent::DeliverReply(id) => {
                let c = self.calls.remove(&id)?;
                let reply = c.reply?;
                let bytes = codec::encoded_len(&reply) as u64;
                self.total_bytes += bytes;
                k.mix(&[bytes]);
                k.trace(c.label.0, || TraceEvent::Return {
                    call: id,
                    from: c.label.1.map(|n| n as u64),
                    bytes,
                    msg: summarize(self.describe, &reply),
                });
                Some(NetAction::Reply {
                    caller: c.caller,
                    call: id,
                    reply,
                })
            }
            NetEvent::Fail(id) => {
                // A Fail event is scheduled only with the call's stage set to Failing,
                // which it never leaves.
                let Stage::Failing(reason) = self.calls.get(&id)?.stage else {
                    return None;
                };
                self.fail(k, id, reason)
            }
            NetEvent::DeadCheck(id) => {
                let c = self.calls.get_mut(&id)?;
                let Stage::AwaitingReply { .. } = c.stage else {
                    return None;
                };
                c.stage = Stage::AwaitingReply { check: false };
                let c = self.calls.get(&id)?;
                if self.is_dead(c) {
                    self.awaiting.remove(&id);
                    return self.fail(k, id, FailReason::DeadWhileWaiting);
                }
                None
            }
        }
    }

    fn fail(
        &mut self,
        k: &mut Kernel,
        id: CallId,
        reason: FailReason,
    ) -> Option<NetAction<M, S, C>> {
        self.awaiting.remove(&id);
        let c = self.calls.remove(&id)?;
        k.trace(c.label.0, || TraceEvent::Fail {
            call: id,
            to: c.label.1.map(|n| n as u64),
            reason,
        });
        Some(NetAction::Failed {
            caller: c.caller,
            call: id,
            request: c.request,
        })
    }

    fn is_dead(&self, c: &Call<M, S, C>) -> bool {
        let enabled = self.ends.get(&c.end).is_some_and(|e| e.enabled);
        let same = match (&c.server_name, &c.server) {
            (Some(n), Some(t)) => self.servers.get(n).is_some_and(|s| s.token == *t),
            _ => false,
        };
        !enabled || !same
    }

    /// After any change of ends or servers, every call awaiting a reply gets a dead
    /// check at its next 100 ms poll (counted from its delivery).
    fn topology_changed(&mut self, k: &mut Kernel) {
        let now = k.now();
        let poll = Duration::from_millis(100);
        for id in &self.awaiting {
            let Some(c) = self.calls.get_mut(id) else {
                continue;
            };
            if let Stage::AwaitingReply { check: false } = c.stage {
                let waited = now.saturating_sub(c.delivered_at);
                let ticks = waited.as_micros() / poll.as_micros() + 1;
                let at = c.delivered_at + poll * ticks as u32;
                c.stage = Stage::AwaitingReply { check: true };
                k.schedule_at(at, Event::Net(NetEvent::DeadCheck(*id)));
            }
        }
    }
}

/// A message as the trace shows it: through the world's summary if it set one, else its
/// `Debug` form cut to 120 characters.
fn summarize<M: Debug>(describe: Option<fn(&M) -> String>, m: &M) -> String {
    if let Some(f) = describe {
        return f(m);
    }
    let mut s = format!("{m:?}");
    if let Some((cut, _)) = s.char_indices().nth(120) {
        s.truncate(cut);
        s.push_str("...");
    }
    s
}
