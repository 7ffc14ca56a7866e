//! What a Redis command means to a replicated state machine.
//!
//! The runtime answers the commands every Redis client sends for itself (`PING`, `ECHO`,
//! `QUIT`, `INFO`, `SELECT 0`, `CLIENT ...`, `COMMAND`, `HELLO`) on its own; every
//! other command is handed to the state machine's [`Service::command`], which turns it
//! into an operation for the log, or answers it at once (an unknown command, wrong
//! arity). When the operation has been applied, [`Service::reply`] turns its result
//! into the Redis reply.
//!
//! The key/value store ([`KvStore`]) takes
//!
//! | command | operation | reply |
//! | --- | --- | --- |
//! | `GET key` | `Op::Get` | the value as a bulk string (`""` for a key never set: the lab's store does not tell an absent key from an empty value) |
//! | `SET key value` | `Op::Put` | `+OK` |
//! | `APPEND key value` | `Op::AppendReturningLen` | the new length, as an integer |
//!
//! Keys and values are UTF-8 text (the lab's store holds strings); other bytes get an
//! error naming the argument and the byte offset. `SET` takes no options.

use super::resp::Value;
use crate::kv::Op;
use crate::kv::store::KvStore;
use crate::rsm::StateMachine;

/// A state machine that Redis clients can drive.
pub trait Service:
    StateMachine<Op: Send + Sync + 'static, Output: Send + Sync + 'static> + Send + 'static
{
    /// The operation a command asks for, or the answer to give at once.
    fn command(args: &[Vec<u8>]) -> Result<Self::Op, Value>;

    /// The reply to a command whose operation was applied with this result.
    fn reply(op: &Self::Op, output: Self::Output) -> Value;

    /// The command names this service takes (for `COMMAND` and error messages).
    fn commands() -> &'static [&'static str];
}

/// `-ERR wrong number of arguments for 'get' command`, as Redis words it.
pub fn wrong_arity(name: &str) -> Value {
    Value::error(format!(
        "ERR wrong number of arguments for '{}' command",
        name.to_ascii_lowercase()
    ))
}

/// `-ERR unknown command 'x', with args beginning with: 'a' 'b'`, as Redis words it.
pub fn unknown_command(args: &[Vec<u8>]) -> Value {
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
        "ERR unknown command '{name}', with args beginning with: {}",
        rest.join(" ")
    ))
}

fn text(args: &[Vec<u8>], i: usize, what: &str) -> Result<String, Value> {
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
    fn command(args: &[Vec<u8>]) -> Result<Op, Value> {
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
            _ => Err(unknown_command(args)),
        }
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

    fn commands() -> &'static [&'static str] {
        &["GET", "SET", "APPEND"]
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
            Ok(Op::Get { key: "k".into() })
        );
        assert_eq!(
            KvStore::command(&args(&[b"SeT", b"k", b"v"])),
            Ok(Op::Put {
                key: "k".into(),
                value: "v".into()
            })
        );
        let op = KvStore::command(&args(&[b"APPEND", b"k", b"xy"])).unwrap();
        assert_eq!(KvStore::reply(&op, "7".into()), Value::Integer(7));
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
                "ERR unknown command 'FLUSHALL', with args beginning with: 'ASYNC'"
            ))
        );
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
