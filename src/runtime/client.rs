//! Client connections: the Redis protocol in front of the event loop.
//!
//! Each connection reads commands ([`resp::parse_command`]), answers the ones every
//! Redis client sends for itself, and hands the service's commands to the loop: a
//! clerk's operation as [`Event::Command`] (the loop's clerk session for this
//! connection runs them one at a time, through the log, and the answer comes back once
//! it is durable), a local command as [`Event::Local`]. Pipelined
//! commands are read together and answered in order, in one write. A protocol error is
//! answered with `-ERR Protocol error: ...` and closes the connection, as Redis does; an
//! unknown command or a wrong number of arguments gets `-ERR` and the connection stays
//! usable.
//!
//! `SESSION`, under every service, reads or resumes the connection's clerk session
//! ([`Event::Session`]):
//!
//! - `SESSION` answers `*2 :<client-id> :<next-seq>`: the session's client id and the
//!   request number its next operation will get;
//! - `SESSION <client-id> <next-seq>` makes the session client `<client-id>`, whose
//!   next operation is request `<next-seq>`, and answers `+OK`. Both are unsigned
//!   integers below 2^63 (RESP integers are signed), `<next-seq>` at least 1 (clerks
//!   number requests from 1); a bad argument is refused with an error naming it, and so
//!   is a resume while an operation of the connection is in flight.
//!
//! So a client reads `SESSION` when it connects (and counts its operations from there);
//! when its connection breaks during operation `s`, it connects to any server, sends
//! `SESSION <id> <s>`, and sends the same operation again: it carries the numbers of the
//! one that may already have been applied, and the state machine's duplicate detection
//! applies it once (its result comes back either way). [`Event::Session`] says why this
//! stays exactly once while the old session still retries.

use std::num::NonZeroU64;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

use super::node::{ConnId, Event};
use super::resp::{self, Limits, Parsed, Value};
use super::service::{Command, Service, wrong_arity};
use crate::rsm::ClientId;

/// The most client connections served at once; more are told so and closed.
pub const MAX_CLIENTS: usize = 10_000;

/// Accepts client connections until the listener fails.
pub async fn accept<S: Service>(
    listener: TcpListener,
    me: u64,
    limits: Limits,
    events: mpsc::UnboundedSender<Event<S>>,
) {
    let open = Arc::new(AtomicUsize::new(0));
    let mut next: ConnId = 0;
    loop {
        let (mut stream, _addr) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(target: "raftlab::runtime", topic = "CLNT", node = me,
                    "accepting a client connection failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        if open.load(Ordering::Relaxed) >= MAX_CLIENTS {
            let refusal = Value::error("ERR max number of clients reached").to_bytes();
            tokio::spawn(async move {
                let _ = stream.write_all(&refusal).await;
            });
            continue;
        }
        next += 1;
        let conn = next;
        open.fetch_add(1, Ordering::Relaxed);
        let (events, open) = (events.clone(), open.clone());
        tokio::spawn(async move {
            if events.send(Event::Opened(conn)).is_ok() {
                serve(stream, conn, limits, &events).await;
                let _ = events.send(Event::Closed(conn));
            }
            open.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

/// What to do after a command.
enum Next {
    Continue,
    Close,
}

async fn serve<S: Service>(
    mut stream: TcpStream,
    conn: ConnId,
    limits: Limits,
    events: &mpsc::UnboundedSender<Event<S>>,
) {
    let mut buf: Vec<u8> = Vec::with_capacity(16 << 10);
    let mut out: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        // Answer every whole command received so far.
        let mut used = 0;
        let mut close = false;
        loop {
            match resp::parse_command(&buf[used..], &limits) {
                Ok(Parsed::Incomplete) => break,
                Ok(Parsed::Done(args, n)) => {
                    used += n;
                    if args.is_empty() {
                        continue;
                    }
                    let (value, next) = command::<S>(conn, &args, events).await;
                    value.encode(&mut out);
                    if let Next::Close = next {
                        close = true;
                        break;
                    }
                }
                Err(e) => {
                    Value::error(format!("ERR {e}")).encode(&mut out);
                    close = true;
                    break;
                }
            }
        }
        buf.drain(..used);
        if !out.is_empty() {
            if stream.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
        if close {
            let _ = stream.shutdown().await;
            return;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

async fn ask<S: Service>(
    events: &mpsc::UnboundedSender<Event<S>>,
    make: impl FnOnce(oneshot::Sender<Value>) -> Event<S>,
) -> Value {
    let (tx, rx) = oneshot::channel();
    if events.send(make(tx)).is_err() {
        return Value::error("ERR the server is shutting down");
    }
    rx.await
        .unwrap_or_else(|_| Value::error("ERR the server is shutting down"))
}

async fn command<S: Service>(
    conn: ConnId,
    args: &[Vec<u8>],
    events: &mpsc::UnboundedSender<Event<S>>,
) -> (Value, Next) {
    let name = String::from_utf8_lossy(&args[0]).to_ascii_uppercase();
    let arg = |i: usize| String::from_utf8_lossy(&args[i]).to_ascii_uppercase();
    let value = match name.as_str() {
        "PING" => match args.len() {
            1 => Value::Simple("PONG".into()),
            2 => Value::bulk(args[1].clone()),
            _ => wrong_arity(&name),
        },
        "ECHO" if args.len() == 2 => Value::bulk(args[1].clone()),
        "ECHO" => wrong_arity(&name),
        "QUIT" => return (Value::ok(), Next::Close),
        "INFO" => ask(events, |reply| Event::Info { reply }).await,
        "SELECT" if args.len() == 2 => {
            if args[1] == b"0" {
                Value::ok()
            } else {
                Value::error("ERR DB index is out of range (raftlab has one database, 0)")
            }
        }
        "SELECT" => wrong_arity(&name),
        "CLIENT" if args.len() >= 2 => match arg(1).as_str() {
            "SETNAME" | "SETINFO" => Value::ok(),
            "GETNAME" => Value::Bulk(None),
            "ID" => Value::Integer(conn as i64),
            _ => unknown_subcommand(&args[1], "CLIENT"),
        },
        "HELLO" => match args.get(1).map(|v| v.as_slice()) {
            None | Some(b"2") => hello(conn),
            Some(_) => Value::error("NOPROTO unsupported protocol version (raftlab speaks RESP2)"),
        },
        "COMMAND" => Value::Array(Some(
            S::commands()
                .iter()
                .map(|c| Value::bulk(c.to_ascii_lowercase()))
                .collect(),
        )),
        "CONFIG" if args.len() == 3 && arg(1) == "GET" => {
            // redis-benchmark asks for these two; say what raftlab does.
            match arg(2).as_str() {
                "SAVE" => Value::Array(Some(vec![Value::bulk("save"), Value::bulk("")])),
                "APPENDONLY" => {
                    Value::Array(Some(vec![Value::bulk("appendonly"), Value::bulk("yes")]))
                }
                _ => Value::Array(Some(Vec::new())),
            }
        }
        "CONFIG" => Value::error("ERR raftlab's configuration is set on its command line"),
        "SESSION" => match session_args(args) {
            Ok(resume) => {
                ask(events, |reply| Event::Session {
                    conn,
                    resume,
                    reply,
                })
                .await
            }
            Err(v) => v,
        },
        _ => match S::command(args) {
            Ok(Command::Clerk(op)) => ask(events, |reply| Event::Command { conn, op, reply }).await,
            Ok(Command::Local(local)) => ask(events, |reply| Event::Local { local, reply }).await,
            Err(v) => v,
        },
    };
    (value, Next::Continue)
}

/// The arguments of `SESSION`: none (read the session) or a client id and the next
/// request number (resume), each an unsigned integer below 2^63, the number at least 1.
fn session_args(args: &[Vec<u8>]) -> Result<Option<(ClientId, NonZeroU64)>, Value> {
    let number = |i: usize, what: &str| -> Result<u64, Value> {
        std::str::from_utf8(&args[i])
            .ok()
            .filter(|s| !s.starts_with('+'))
            .and_then(|s| s.parse::<u64>().ok())
            .filter(|&n| i64::try_from(n).is_ok())
            .ok_or_else(|| {
                Value::error(format!(
                    "ERR SESSION: the {what} '{}' is not an unsigned integer below 2^63",
                    String::from_utf8_lossy(&args[i][..args[i].len().min(64)])
                ))
            })
    };
    match args.len() {
        1 => Ok(None),
        3 => {
            let client = number(1, "client id")?;
            let seq = number(2, "next sequence number")?;
            let Some(seq) = NonZeroU64::new(seq) else {
                return Err(Value::error(
                    "ERR SESSION: the next sequence number must be 1 or more (a clerk \
                     numbers its requests from 1)",
                ));
            };
            Ok(Some((client, seq)))
        }
        _ => Err(wrong_arity("SESSION")),
    }
}

fn unknown_subcommand(sub: &[u8], cmd: &str) -> Value {
    Value::error(format!(
        "ERR unknown subcommand '{}'. Try {cmd} HELP.",
        String::from_utf8_lossy(sub)
    ))
}

fn hello(conn: ConnId) -> Value {
    let pair = |k: &str, v: Value| [Value::bulk(k), v];
    Value::Array(Some(
        [
            pair("server", Value::bulk("raftlab")),
            pair("version", Value::bulk(env!("CARGO_PKG_VERSION"))),
            pair("proto", Value::Integer(2)),
            pair("id", Value::Integer(conn as i64)),
            pair("mode", Value::bulk("standalone")),
            pair("role", Value::bulk("master")),
            pair("modules", Value::Array(Some(Vec::new()))),
        ]
        .into_iter()
        .flatten()
        .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(ws: &[&str]) -> Vec<Vec<u8>> {
        ws.iter().map(|w| w.as_bytes().to_vec()).collect()
    }

    #[test]
    fn session_arguments() {
        assert_eq!(session_args(&args(&["SESSION"])), Ok(None));
        assert_eq!(
            session_args(&args(&["session", "42", "7"])),
            Ok(Some((42, NonZeroU64::new(7).unwrap())))
        );
        let max = i64::MAX.to_string();
        assert_eq!(
            session_args(&args(&["SESSION", &max, &max])),
            Ok(Some((
                i64::MAX as u64,
                NonZeroU64::new(i64::MAX as u64).unwrap()
            )))
        );
        let err = |a: &[&str]| match session_args(&args(a)) {
            Err(Value::Error(e)) => e,
            other => panic!("{a:?} gave {other:?}"),
        };
        for bad in ["-1", "x", "+1", "", "9223372036854775808", "1.0"] {
            assert_eq!(
                err(&["SESSION", bad, "1"]),
                format!("ERR SESSION: the client id '{bad}' is not an unsigned integer below 2^63")
            );
            assert_eq!(
                err(&["SESSION", "1", bad]),
                format!(
                    "ERR SESSION: the next sequence number '{bad}' is not an unsigned \
                     integer below 2^63"
                )
            );
        }
        assert!(err(&["SESSION", "1", "0"]).contains("must be 1 or more"));
        assert_eq!(
            err(&["SESSION", "1"]),
            "ERR wrong number of arguments for 'session' command"
        );
        assert_eq!(
            err(&["SESSION", "1", "2", "3"]),
            "ERR wrong number of arguments for 'session' command"
        );
    }
}
