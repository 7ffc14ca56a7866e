//! Carrying out a Raft node's outputs inside a world: the part every world that hosts
//! Raft-based servers shares.

use std::fmt::Debug;

use serde::Serialize;

use crate::raft::{self, Apply, NodeId, Output, Storage, Timer};
use crate::sim::{CallId, Kernel, Net, Timers};

/// The world's timer id of Raft's election timer.
pub const ELECTION_TIMER: u32 = 0;
/// The world's timer id of Raft's heartbeat timer.
pub const HEARTBEAT_TIMER: u32 = 1;

/// The world's timer id of a Raft timer.
pub fn raft_timer_id(t: Timer) -> u32 {
    match t {
        Timer::Election => ELECTION_TIMER,
        Timer::Heartbeat => HEARTBEAT_TIMER,
    }
}

/// The Raft timer with a world timer id, if it is one.
pub fn raft_timer(id: u32) -> Option<Timer> {
    match id {
        ELECTION_TIMER => Some(Timer::Election),
        HEARTBEAT_TIMER => Some(Timer::Heartbeat),
        _ => None,
    }
}

/// Where a Raft node lives in a world, and how its messages are wrapped.
pub struct RaftHost<'a, C, M, F, G, H> {
    /// The node's key for timers (see [`Timers`]).
    pub timer_node: usize,
    /// The node's incarnation.
    pub incarnation: u64,
    /// Its ends to its peers, by peer id.
    pub ends: &'a [String],
    /// Its stable storage.
    pub storage: &'a mut Storage<C>,
    /// The RPC being answered, if the step handled one.
    pub call: Option<CallId>,
    /// Wraps a request into the world's message type.
    pub request: F,
    /// Wraps a reply into the world's message type.
    pub reply: G,
    /// The caller context of a call to a peer.
    pub caller: H,
    /// The message type.
    pub _message: std::marker::PhantomData<M>,
}

impl<C, M, F, G, H> RaftHost<'_, C, M, F, G, H>
where
    C: Clone + Serialize + serde::de::DeserializeOwned,
    M: Serialize + Clone + Debug,
    F: Fn(raft::Request<C>) -> M,
    G: Fn(raft::Reply) -> M,
{
    /// Carries out one output: persist, send, reply, timers. Hands an apply back.
    pub fn carry_out<S, Cl>(
        &mut self,
        k: &mut Kernel,
        net: &mut Net<M, S, Cl>,
        timers: &mut Timers,
        output: Output<C>,
    ) -> Option<Apply<C>>
    where
        S: Clone + PartialEq + Debug,
        Cl: Clone + Debug,
        H: Fn(NodeId) -> Cl,
    {
        match output {
            Output::Persist(p) => self.storage.apply(p),
            Output::Send { to, request } => {
                if let Some(end) = self.ends.get(to) {
                    net.call(k, end, (self.caller)(to), (self.request)(request));
                }
            }
            Output::Reply { reply, .. } => {
                if let Some(c) = self.call {
                    net.respond(k, c, (self.reply)(reply));
                }
            }
            Output::SetTimer { timer, after } => {
                timers.set(
                    k,
                    self.timer_node,
                    self.incarnation,
                    raft_timer_id(timer),
                    after,
                );
            }
            Output::CancelTimer(timer) => timers.cancel(self.timer_node, raft_timer_id(timer)),
            Output::Apply(a) => return Some(a),
        }
        None
    }
}
