//! What a Redis command means to a replicated state machine.
//!
//! The runtime answers the commands every Redis client sends for itself (`PING`, `ECHO`,
//! `QUIT`, `INFO`, `SELECT 0`, `CLIENT ...`, `COMMAND`, `HELLO`) and the clerk session's
//! own `SESSION` (see [`super::client`]) on its own; every other command is handed to
//! the state machine's [`Service::command`], which says what it asks for ([`Command`]):
//!
//! - [`Command::Clerk`]: an operation for the log, run exactly once by the connection's
//!   clerk session through whichever server leads; when it has been applied,
//!   [`Service::reply`] turns its result into the Redis reply;
//! - [`Command::Local`]: something the server carries out on its own core, with no
//!   clerk, no session and no forwarding ([`Local`]): start an entry on its own Raft
//!   (the lab's `rf.Start`), report its own term and role (`rf.GetState`), read its own
//!   state machine ([`Service::query`]);
//! - or an answer to give at once (an unknown command, wrong arity).
//!
//! Every answer leaves the server, as the runtime's rule says, only once every record
//! it depends on is durable.
//!
//! Two services exist; `raftlab serve --service NAME` picks one ([`Service::NAME`]).
//! The key/value store ([`KvStore`], `kv`, the default) takes
//!
//! | command | operation | reply |
//! | --- | --- | --- |
//! | `GET key` | `Op::Get` | the value as a bulk string (`""` for a key never set: the lab's store does not tell an absent key from an empty value) |
//! | `SET key value` | `Op::Put` | `+OK` |
//! | `APPEND key value` | `Op::AppendReturningLen` | the new length, as an integer |
//!
//! Keys and values are UTF-8 text (the lab's store holds strings); other bytes get an
//! error naming the argument and the byte offset. `SET` takes no options. The Raft
//! lab's log ([`super::lab_log::LabLog`], `raft-log`) takes only local commands
//! (`LAB.START`, `LAB.STATE`, `LAB.APPLIED`; its module says what they answer). A
//! command of the other service is an unknown command.

use std::fmt::Debug;

use super::resp::Value;
use crate::kv::Op;
use crate::kv::store::KvStore;
use crate::raft::{Index, Term};
use crate::rsm::StateMachine;

/// What a command asks of the server it reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command<O, Q> {
    /// An operation for the replicated log, run by the connection's clerk session: it
    /// numbers the request, retries it on every server until the leader applies it,
    /// and answers with [`Service::reply`] of the result.
    Clerk(O),
    /// Something this server does or answers by itself.
    Local(Local<O, Q>),
}

/// A command carried out on the server's own core, as the lab's tests call a peer's
/// Raft directly: no clerk, no session, no forwarding to the leader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Local<O, Q> {
    /// The lab's `rf.Start(op)` on this server: the entry is appended if this server
    /// leads, and nobody waits for it to be applied. The answer is [`started_reply`]
    /// (once the entry is durable).
    Start(O),
    /// The lab's `rf.GetState()` on this server: [`state_reply`] of its term and whether
    /// it believes it leads.
    State,
    /// A read of this server's own state machine as applied so far, not through the
    /// log: the answer is [`Service::query`] of it.
    Read(Q),
}

/// A state machine that Redis clients can drive.
pub trait Service:
    StateMachine<Op: Send + Sync + 'static, Output: Send + Sync + 'static> + Send + 'static
{
    /// The service's name, as `raftlab serve --service` takes it and `INFO` shows it.
    const NAME: &'static str;

    /// The reads [`Local::Read`] makes of a server's own state machine
    /// ([`std::convert::Infallible`] for a service that has none).
    type Query: Debug + Send + 'static;

    /// What a command asks for, or the answer to give at once.
    fn command(args: &[Vec<u8>]) -> Result<Command<Self::Op, Self::Query>, Value>;

    /// The reply to a [`Command::Clerk`] whose operation was applied with this result.
    fn reply(op: &Self::Op, output: Self::Output) -> Value;

    /// The reply to a [`Local::Read`], from this state machine.
    fn query(&self, query: Self::Query) -> Value;

    /// The command names this service takes (for `COMMAND` and error messages).
    fn commands() -> &'static [&'static str];
}

/// The reply to [`Local::Start`]: `*2 :<index> :<term>` if this server leads and
/// appended the entry, the nil array `*-1` if it does not lead.
pub fn started_reply(started: Option<(Index, Term)>) -> Value {
    match started {
        Some((index, term)) => Value::Array(Some(vec![int(index), int(term)])),
        None => Value::Array(None),
    }
}

/// The reply to [`Local::State`]: `*2 :<term> :<1 if leader else 0>`.
pub fn state_reply(term: Term, leader: bool) -> Value {
    Value::Array(Some(vec![int(term), Value::Integer(leader as i64)]))
}

/// A RESP integer (signed 64 bits) of a count that cannot reach 2^63 in practice.
fn int(n: u64) -> Value {
    Value::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

/// `-ERR wrong number of arguments for 'get' command`, as Redis words it.
pub fn wrong_arity(name: &str) -> Value {
    Value::error(format!(
        "ERR wrong number of arguments for '{}' command",
        name.to_ascii_lowercase()
    ))
}

/// `-ERR unknown command 'x', with args beginning with: 'a' 'b'`, as Redis words it,
/// followed by the commands of the service `S` this server runs.
pub fn unknown_command<S: Service>(args: &[Vec<u8>]) -> Value {
    let name = args
        .first()
        .map(|a| String::from_utf8_lossy(a))
        .unwrap_or_default();
    let rest: Vec<String> = args
        .iter()
        .skip(1)
        .take(8)
        .map(|a| format!("'{}'", String::from_utf8_lossy(&a[..a.len().min(64)])))
        .collect();
    Value::error(format!(
        "ERR unknown command '{name}', with args beginning with: {} (this server runs \
         the {} service: {})",
        rest.join(" "),
        S::NAME,
        S::commands().join(", ")
    ))
}

/// Argument `i` as UTF-8 text; the error names it as `what`.
pub fn text(args: &[Vec<u8>], i: usize, what: &str) -> Result<String, Value> {
    match String::from_utf8(args[i].clone()) {
        Ok(s) => Ok(s),
        Err(e) => Err(Value::error(format!(
            "ERR the {what} is not UTF-8 text (invalid byte at offset {}); raftlab's \
             store holds text",
            e.utf8_error().valid_up_to()
        ))),
    }
}

impl Service for KvStore {
    const NAME: &'static str = "kv";

    type Query = std::convert::Infallible;

    fn command(args: &[Vec<u8>]) -> Result<Command<Op, Self::Query>, Value> {
        Self::op(args).map(Command::Clerk)
    }

    fn reply(op: &Op, output: String) -> Value {
        match op {
            Op::Get { .. } => Value::bulk(output),
            Op::Put { .. } => Value::ok(),
            Op::AppendReturningLen { .. } => match output.parse() {
                Ok(n) => Value::Integer(n),
                Err(_) => Value::error(format!("ERR the store returned {output:?} for APPEND")),
            },
            Op::Append { .. } | Op::AppendReturningOld { .. } => Value::bulk(output),
        }
    }

    fn query(&self, query: Self::Query) -> Value {
        match query {}
    }

    fn commands() -> &'static [&'static str] {
        &["GET", "SET", "APPEND"]
    }
}

impl KvStore {
    /// The operation of a key/value command.
    fn op(args: &[Vec<u8>]) -> Result<Op, Value> {
        let name = String::from_utf8_lossy(&args[0]).to_ascii_uppercase();
        let arity = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                Err(wrong_arity(&name))
            }
        };
        match name.as_str() {
            "GET" => {
                arity(2)?;
                Ok(Op::Get {
                    key: text(args, 1, "key")?,
                })
            }
            "SET" => {
                if args.len() > 3 {
                    return Err(Value::error(
                        "ERR syntax error (raftlab's SET takes a key and a value, no options)",
                    ));
                }
                arity(3)?;
                Ok(Op::Put {
                    key: text(args, 1, "key")?,
                    value: text(args, 2, "value")?,
                })
            }
            "APPEND" => {
                arity(3)?;
                Ok(Op::AppendReturningLen {
                    key: text(args, 1, "key")?,
                    value: text(args, 2, "value")?,
                })
            }
            _ => Err(unknown_command::<Self>(args)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(ws: &[&[u8]]) -> Vec<Vec<u8>> {
        ws.iter().map(|w| w.to_vec()).collect()
    }

    #[test]
    fn maps_the_commands() {
        assert_eq!(
            KvStore::command(&args(&[b"get", b"k"])),
            Ok(Command::Clerk(Op::Get { key: "k".into() }))
        );
        assert_eq!(
            KvStore::command(&args(&[b"SeT", b"k", b"v"])),
            Ok(Command::Clerk(Op::Put {
                key: "k".into(),
                value: "v".into()
            }))
        );
        let Ok(Command::Clerk(op)) = KvStore::command(&args(&[b"APPEND", b"k", b"xy"])) else {
            panic!("APPEND is a clerk's operation");
        };
        assert_eq!(KvStore::reply(&op, "7".into()), Value::Integer(7));
    }

    #[test]
    fn local_answers() {
        assert_eq!(
            started_reply(Some((3, 2))),
            Value::Array(Some(vec![Value::Integer(3), Value::Integer(2)]))
        );
        assert_eq!(started_reply(None).to_bytes(), b"*-1\r\n");
        assert_eq!(state_reply(4, true).to_bytes(), b"*2\r\n:4\r\n:1\r\n");
        assert_eq!(state_reply(4, false).to_bytes(), b"*2\r\n:4\r\n:0\r\n");
    }

    #[test]
    fn refuses_like_redis() {
        assert_eq!(
            KvStore::command(&args(&[b"GET"])),
            Err(Value::error(
                "ERR wrong number of arguments for 'get' command"
            ))
        );
        assert_eq!(
            KvStore::command(&args(&[b"FLUSHALL", b"ASYNC"])),
            Err(Value::error(
                "ERR unknown command 'FLUSHALL', with args beginning with: 'ASYNC' (this \
                 server runs the kv service: GET, SET, APPEND)"
            ))
        );
        assert!(matches!(
            KvStore::command(&args(&[b"LAB.STATE"])),
            Err(Value::Error(e)) if e.starts_with("ERR unknown command 'LAB.STATE'")
        ));
        let e = KvStore::command(&args(&[b"SET", b"k", b"a\xffb"])).unwrap_err();
        assert_eq!(
            e,
            Value::error(
                "ERR the value is not UTF-8 text (invalid byte at offset 1); raftlab's \
                 store holds text"
            )
        );
        assert!(matches!(
            KvStore::command(&args(&[b"SET", b"k", b"v", b"EX", b"10"])),
            Err(Value::Error(e)) if e.starts_with("ERR syntax error")
        ));
    }
}
