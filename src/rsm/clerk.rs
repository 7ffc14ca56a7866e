//! The clerk: a client of a replicated service, as a pure state machine.
//!
//! A clerk runs one operation at a time. It sends the request to the server it last
//! reached; a failed call or a timeout sends it at once to the next server, and a
//! `WrongLeader` answer does the same, except that after a whole round of servers has
//! said `WrongLeader` the clerk waits a backoff before the next round (an election is
//! probably under way). Every send carries an `attempt` number that the driver hands
//! back with the reply or the failure, so a late answer to an abandoned attempt is
//! ignored. The request keeps its `(client, seq)` on every retry, so the servers execute
//! it once.

use std::num::NonZeroU64;

use serde::{Deserialize, Serialize};

use super::{ClientId, Reply, Request};
use crate::raft::TimeRange;

/// The clerk's timing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClerkTiming {
    /// How long to wait for an answer before trying the next server.
    pub request_timeout: TimeRange,
    /// How long to wait after a whole round of `WrongLeader` answers.
    pub backoff: TimeRange,
}

impl Default for ClerkTiming {
    fn default() -> Self {
        ClerkTiming {
            request_timeout: TimeRange::millis(500, 500),
            backoff: TimeRange::millis(100, 100),
        }
    }
}

/// What the clerk asks its driver to do.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ClerkOutput<O, R> {
    /// Call server `to` with the request; hand back `attempt` with its outcome.
    Send {
        /// The server's index in the clerk's list.
        to: usize,
        /// The attempt this call belongs to.
        attempt: u64,
        /// The request.
        request: Request<O>,
    },
    /// (Re)start the clerk's one timer.
    SetTimer(TimeRange),
    /// Stop the timer.
    CancelTimer,
    /// The operation finished with this result.
    Done(R),
}

/// The clerk's progress on its current operation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum State<O> {
    Idle,
    /// Waiting for the answer to `attempt`.
    Calling {
        request: Request<O>,
        attempt: u64,
    },
    /// Waiting out a backoff before trying again.
    Backoff {
        request: Request<O>,
    },
}

/// `start` was called while an operation was still running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Busy;

/// A clerk whose operations are `O` and whose results are `R`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Clerk<O, R> {
    client: ClientId,
    servers: usize,
    leader: usize,
    seq: u64,
    attempt: u64,
    wrong_leaders: usize,
    timing: ClerkTiming,
    state: State<O>,
    result: std::marker::PhantomData<fn() -> R>,
}

impl<O: Clone, R> Clerk<O, R> {
    /// A clerk named `client` for a service of `servers` servers (at least one).
    pub fn new(client: ClientId, servers: usize, timing: ClerkTiming) -> Self {
        Clerk {
            client,
            servers: servers.max(1),
            leader: 0,
            seq: 0,
            attempt: 0,
            wrong_leaders: 0,
            timing,
            state: State::Idle,
            result: std::marker::PhantomData,
        }
    }

    /// The clerk's id.
    pub fn client(&self) -> ClientId {
        self.client
    }

    /// The server the clerk will try first.
    pub fn leader(&self) -> usize {
        self.leader
    }

    /// Whether an operation is running.
    pub fn busy(&self) -> bool {
        !matches!(self.state, State::Idle)
    }

    /// The request number the next operation started will get (while one runs, it has
    /// the number before this).
    pub fn next_seq(&self) -> u64 {
        self.seq + 1
    }

    /// Becomes the session of clerk `client` whose next operation is request
    /// `next_seq`: how a client that lost its connection during its operation `s` goes
    /// on elsewhere. It resumes with `next_seq = s` and sends the same operation again;
    /// the request then has the `(client, seq)` of the one that may already have been
    /// applied, so the state machine's duplicate detection executes it once. The server
    /// to try first stays as it was. Refused while an operation runs (its retries carry
    /// the old numbers).
    pub fn resume(&mut self, client: ClientId, next_seq: NonZeroU64) -> Result<(), Busy> {
        if self.busy() {
            return Err(Busy);
        }
        self.client = client;
        self.seq = next_seq.get() - 1;
        Ok(())
    }

    /// Starts an operation.
    pub fn start(&mut self, op: O) -> Result<Vec<ClerkOutput<O, R>>, Busy> {
        if self.busy() {
            return Err(Busy);
        }
        self.seq += 1;
        let request = Request {
            client: self.client,
            seq: self.seq,
            op,
        };
        self.wrong_leaders = 0;
        let mut out = Vec::new();
        self.send(request, &mut out);
        Ok(out)
    }

    /// The answer to `attempt` arrived.
    pub fn on_reply(&mut self, attempt: u64, reply: Reply<R>) -> Vec<ClerkOutput<O, R>> {
        let mut out = Vec::new();
        let State::Calling {
            request,
            attempt: current,
        } = &self.state
        else {
            return out;
        };
        if *current != attempt {
            return out;
        }
        let request = request.clone();
        match reply {
            Reply::Ok(value) => {
                self.state = State::Idle;
                out.push(ClerkOutput::CancelTimer);
                out.push(ClerkOutput::Done(value));
            }
            Reply::WrongLeader | Reply::WrongGroup => {
                self.wrong_leaders += 1;
                self.next_server(request, &mut out);
            }
        }
        out
    }

    /// The call of `attempt` failed (labrpc's `Call` returned false).
    pub fn on_failure(&mut self, attempt: u64) -> Vec<ClerkOutput<O, R>> {
        let mut out = Vec::new();
        if let State::Calling {
            request,
            attempt: current,
        } = &self.state
            && *current == attempt
        {
            let request = request.clone();
            self.next_server(request, &mut out);
        }
        out
    }

    /// The clerk's timer fired: a timeout (try the next server) or the end of a backoff.
    pub fn on_timer(&mut self) -> Vec<ClerkOutput<O, R>> {
        let mut out = Vec::new();
        match std::mem::replace(&mut self.state, State::Idle) {
            State::Idle => {}
            State::Calling { request, .. } => self.next_server(request, &mut out),
            State::Backoff { request } => {
                self.wrong_leaders = 0;
                self.send(request, &mut out);
            }
        }
        out
    }

    fn next_server(&mut self, request: Request<O>, out: &mut Vec<ClerkOutput<O, R>>) {
        self.leader = (self.leader + 1) % self.servers;
        if self.wrong_leaders >= self.servers {
            self.state = State::Backoff { request };
            out.push(ClerkOutput::SetTimer(self.timing.backoff));
        } else {
            self.send(request, out);
        }
    }

    fn send(&mut self, request: Request<O>, out: &mut Vec<ClerkOutput<O, R>>) {
        self.attempt += 1;
        out.push(ClerkOutput::Send {
            to: self.leader,
            attempt: self.attempt,
            request: request.clone(),
        });
        out.push(ClerkOutput::SetTimer(self.timing.request_timeout));
        self.state = State::Calling {
            request,
            attempt: self.attempt,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::Op;

    type Clerk = super::Clerk<Op, String>;
    type ClerkOutput = super::ClerkOutput<Op, String>;

    fn sends(out: &[ClerkOutput]) -> Vec<(usize, u64)> {
        out.iter()
            .filter_map(|o| match o {
                ClerkOutput::Send { to, attempt, .. } => Some((*to, *attempt)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn rotates_on_failure_and_remembers_the_leader() {
        let mut c = Clerk::new(7, 3, ClerkTiming::default());
        let out = c.start(Op::Get { key: "a".into() }).unwrap();
        assert_eq!(sends(&out), vec![(0, 1)]);
        assert_eq!(c.start(Op::Get { key: "b".into() }), Err(Busy));
        let out = c.on_failure(1);
        assert_eq!(sends(&out), vec![(1, 2)]);
        assert!(
            c.on_reply(1, Reply::Ok("stale".into())).is_empty(),
            "old attempt"
        );
        let out = c.on_reply(2, Reply::Ok("v".into()));
        assert!(out.contains(&ClerkOutput::Done("v".into())));
        let out = c.start(Op::Get { key: "b".into() }).unwrap();
        assert_eq!(sends(&out), vec![(1, 3)], "starts at the last leader");
    }

    #[test]
    fn backs_off_after_a_round_of_wrong_leaders() {
        let mut c = Clerk::new(7, 2, ClerkTiming::default());
        c.start(Op::Get { key: "a".into() }).unwrap();
        let out = c.on_reply(1, Reply::WrongLeader);
        assert_eq!(sends(&out), vec![(1, 2)]);
        let out = c.on_reply(2, Reply::WrongLeader);
        assert_eq!(
            out,
            vec![ClerkOutput::SetTimer(ClerkTiming::default().backoff)]
        );
        let out = c.on_timer();
        assert_eq!(sends(&out), vec![(0, 3)]);
        // A timeout moves on without backing off.
        let out = c.on_timer();
        assert_eq!(sends(&out), vec![(1, 4)]);
    }

    #[test]
    fn resume_takes_over_a_session_and_its_numbers() {
        let mut c = Clerk::new(7, 3, ClerkTiming::default());
        assert_eq!((c.client(), c.next_seq()), (7, 1));
        c.start(Op::Get { key: "a".into() }).unwrap();
        assert_eq!(c.next_seq(), 2, "the running operation is 1");
        let five = NonZeroU64::new(5).unwrap();
        assert_eq!(
            c.resume(9, five),
            Err(Busy),
            "refused while an operation runs"
        );
        assert_eq!(c.client(), 7);
        let out = c.on_failure(1);
        assert_eq!(sends(&out), vec![(1, 2)]);
        c.on_reply(2, Reply::Ok("".into()));
        assert_eq!(c.next_seq(), 2);
        c.resume(9, five).unwrap();
        assert_eq!((c.client(), c.next_seq()), (9, 5));
        let op = Op::Append {
            key: "k".into(),
            value: "x".into(),
        };
        let out = c.start(op.clone()).unwrap();
        let request = out.iter().find_map(|o| match o {
            ClerkOutput::Send {
                to,
                attempt,
                request,
            } => Some((*to, *attempt, request.clone())),
            _ => None,
        });
        assert_eq!(
            request,
            Some((
                1,
                3,
                Request {
                    client: 9,
                    seq: 5,
                    op
                }
            )),
            "the resumed numbers, the same first server, attempts still counting up"
        );
        // A late answer to an attempt of before the resume is still ignored.
        assert!(c.on_reply(1, Reply::Ok("stale".into())).is_empty());
        c.on_reply(3, Reply::Ok("".into()));
        assert_eq!(c.next_seq(), 6);
    }

    #[test]
    fn same_seq_on_every_retry() {
        let mut c = Clerk::new(1, 2, ClerkTiming::default());
        let seq_of = |out: &[ClerkOutput]| {
            out.iter().find_map(|o| match o {
                ClerkOutput::Send { request, .. } => Some(request.seq),
                _ => None,
            })
        };
        let a = seq_of(&c.start(Op::Get { key: "a".into() }).unwrap());
        let b = seq_of(&c.on_failure(1));
        assert_eq!(a, b);
    }
}
