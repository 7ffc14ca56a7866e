//! The full event trace of a simulation: one typed record per thing that happened, with
//! its virtual time, written as JSON lines by `raftlab sim raft --trace OUT.jsonl` and
//! read back by `raftlab dslogs`.
//!
//! Tracing is off unless a driver turns it on with [`Kernel::start_tracing`]; then the
//! network ([`Net`]) and the world push records through [`Kernel::trace`], whose
//! closure is never called while tracing is off, so an untraced run pays one branch
//! per recording point. Records are kept in memory until the driver takes them with
//! [`Kernel::take_trace`] (the kernel does no I/O).
//!
//! A record is a pure function of the seed: two runs of one seed give the same records,
//! in the same order, and the same bytes once written.
//!
//! [`Kernel::start_tracing`]: super::Kernel::start_tracing
//! [`Kernel::trace`]: super::Kernel::trace
//! [`Kernel::take_trace`]: super::Kernel::take_trace
//! [`Net`]: super::Net

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

/// One event of the trace.
///
/// As JSON: `{"t_us":416100,"node":1,"ev":"call","call":17,...}`: the virtual time in
/// microseconds, the server the event belongs to (absent when none does), and the
/// event's fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceRecord {
    /// Virtual time in microseconds.
    pub t_us: u64,
    /// The server (the world's node index) the event happened at, if any: the caller
    /// for a call and its outcome, the callee for a delivered request and its reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<u64>,
    /// What happened.
    #[serde(flatten)]
    pub event: TraceEvent,
}

/// What a call's request does when it is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    /// It will be delivered (to the handler for a request, to the caller for a reply).
    Deliver,
    /// The unreliable network dropped it; the call fails.
    Dropped,
    /// The end is disabled (its link is cut); the call fails.
    EndDisabled,
    /// The end is connected to no registered server; the call fails.
    NoServer,
}

/// Why a call failed (labrpc's `Call` returned false).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailReason {
    /// The unreliable network dropped the request.
    RequestDropped,
    /// The unreliable network dropped the reply.
    ReplyDropped,
    /// The end was disabled when the call was made.
    EndDisabled,
    /// The end led to no registered server when the call was made.
    NoServer,
    /// When the request arrived, its server had been killed or replaced.
    ServerGone,
    /// The server answered, but was dead (cut off, killed or replaced) by then.
    DeadBeforeReply,
    /// A 100 ms poll found the server dead while the reply was awaited.
    DeadWhileWaiting,
}

/// An event of the simulation. Network events carry the call's id, so that one call
/// can be followed from its request to its reply or failure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "ev", rename_all = "snake_case")]
pub enum TraceEvent {
    /// A call was made (at the caller). `fate` says what becomes of the request,
    /// `after_us` when (its delivery, or the call's failure).
    Call {
        /// The call.
        call: u64,
        /// The callee's server, if the end is labelled.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<u64>,
        /// The client end's name.
        end: String,
        /// Request bytes in the codec.
        bytes: u64,
        /// The request, summarized.
        msg: String,
        /// What becomes of the request.
        fate: Fate,
        /// When that happens, from now, in microseconds.
        after_us: u64,
    },
    /// A request reached its server's handler (at the callee).
    Request {
        /// The call.
        call: u64,
        /// The caller's server, if the end is labelled.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<u64>,
        /// The request, summarized.
        msg: String,
    },
    /// The handler answered (at the callee). `fate` is [`Fate::Deliver`] or
    /// [`Fate::Dropped`]; `after_us` is the reply's delay (with long reordering).
    Reply {
        /// The call.
        call: u64,
        /// The caller's server, if the end is labelled.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<u64>,
        /// The reply, summarized.
        msg: String,
        /// Whether it will reach the caller.
        fate: Fate,
        /// Its delay, in microseconds.
        after_us: u64,
    },
    /// A reply reached the caller.
    Return {
        /// The call.
        call: u64,
        /// The callee's server, if the end is labelled.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<u64>,
        /// Reply bytes in the codec.
        bytes: u64,
        /// The reply, summarized.
        msg: String,
    },
    /// A call failed (at the caller).
    Fail {
        /// The call.
        call: u64,
        /// The callee's server, if the end is labelled.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<u64>,
        /// Why.
        reason: FailReason,
    },
    /// A timer was set to fire after `after_us`.
    TimerSet {
        /// Which timer ("election", "heartbeat", ...).
        timer: String,
        /// In microseconds from now.
        after_us: u64,
    },
    /// A timer fired (one that was still set: cancelled timers are not traced).
    Timer {
        /// Which timer.
        timer: String,
    },
    /// A server crashed: only what it persisted survives.
    Crash,
    /// A server (re)started from what it persisted.
    Restart {
        /// Its new incarnation (1 for the first start).
        incarnation: u64,
    },
    /// A server's links were enabled.
    Connect,
    /// A server's links were cut.
    Disconnect,
    /// A client submitted a command to a server (Raft's `Start`).
    Start {
        /// The command.
        cmd: String,
        /// Where it went in the log, if the server accepted it as leader.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        index: Option<u64>,
        /// The term it was accepted in.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        term: Option<u64>,
    },
    /// A server applied a committed command.
    Apply {
        /// Its index.
        index: u64,
        /// The command.
        cmd: String,
    },
    /// A server applied a snapshot.
    ApplySnapshot {
        /// The last index it covers.
        index: u64,
    },
    /// The network's settings changed.
    Network {
        /// Whether requests and replies are delivered without loss or delay.
        reliable: bool,
        /// Whether replies may be delayed by up to 2.2 s.
        long_reordering: bool,
    },
}

impl TraceRecord {
    /// The record as one line of JSON, without the newline.
    pub fn to_json(&self) -> String {
        // Serializing these plain types to a string cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses one line of JSON (surrounding whitespace allowed).
    pub fn from_json(line: &str) -> Result<TraceRecord, serde_json::Error> {
        serde_json::from_str(line.trim())
    }
}

/// Writes records as JSON lines.
pub fn write_jsonl<W: Write>(out: &mut W, records: &[TraceRecord]) -> io::Result<()> {
    for r in records {
        serde_json::to_writer(&mut *out, r).map_err(io::Error::other)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_through_json() {
        let records = vec![
            TraceRecord {
                t_us: 416_100,
                node: Some(1),
                event: TraceEvent::Call {
                    call: 17,
                    to: Some(3),
                    end: "abc".into(),
                    bytes: 40,
                    msg: "AE T1".into(),
                    fate: Fate::Dropped,
                    after_us: 12_000,
                },
            },
            TraceRecord {
                t_us: 500_000,
                node: None,
                event: TraceEvent::Network {
                    reliable: false,
                    long_reordering: true,
                },
            },
            TraceRecord {
                t_us: 600_000,
                node: Some(0),
                event: TraceEvent::Crash,
            },
            TraceRecord {
                t_us: 600_001,
                node: Some(0),
                event: TraceEvent::Fail {
                    call: 18,
                    to: None,
                    reason: FailReason::DeadWhileWaiting,
                },
            },
        ];
        let mut out = Vec::new();
        write_jsonl(&mut out, &records).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text.lines().next().unwrap(),
            r#"{"t_us":416100,"node":1,"ev":"call","call":17,"to":3,"end":"abc","bytes":40,"msg":"AE T1","fate":"dropped","after_us":12000}"#
        );
        assert_eq!(
            text.lines().nth(2).unwrap(),
            r#"{"t_us":600000,"node":0,"ev":"crash"}"#
        );
        let back: Vec<TraceRecord> = text
            .lines()
            .map(|l| TraceRecord::from_json(l).unwrap())
            .collect();
        assert_eq!(back, records);
    }

    #[test]
    fn malformed_json_is_an_error() {
        for bad in [
            "",
            "{",
            r#"{"t_us":1,"ev":"no_such_event"}"#,
            r#"{"t_us":1,"node":1,"ev":"call","call":17"#,
            r#"{"node":1,"ev":"crash"}"#,
            "[1,2]",
        ] {
            assert!(TraceRecord::from_json(bad).is_err(), "{bad:?} parsed");
        }
    }
}
