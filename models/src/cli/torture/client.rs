//! The workload: clients that run Get, Put and Append over the Redis protocol against
//! random servers, and record what they saw.
//!
//! Each client is a thread with its own seeded generator. It keeps one connection to
//! one server (a clerk session there) and now and then moves to another server at
//! random. Every operation is stamped by the run's [`Clock`] just before its command is
//! written and just after its reply is read, and ends in one of three ways:
//!
//! - **ok**: the reply is the one the command gives when it took effect (`+OK`, the
//!   new length, the value read);
//! - **failed**: it certainly did not take effect: no connection could be opened (so
//!   nothing was sent), or the server answered with an error that it gives only
//!   before a command starts (see [`did_not_happen`]);
//! - **unknown**: anything else: no reply within the timeout, the connection lost,
//!   any other error. It may have taken effect, then or later (the server's clerk may
//!   still be retrying it), so it is recorded as never returning (Jepsen's `:info`),
//!   and the client drops the connection and goes on as a new client (a new history
//!   client id), as Jepsen's processes do.
//!
//! Values are unique, `<c3.17>` (client thread 3's 17th write): no value is a part of
//! another, or of a concatenation of others, so a value shows where each write went.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use raftlab::runtime::resp::{self, Limits, Parsed, Value};
use raftlab_checker::kv::{KvInput, KvOp, KvOperation, KvOutput};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::clock::Clock;

/// How one operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It took effect and returned.
    Ok,
    /// It certainly did not take effect.
    Failed,
    /// It may or may not have taken effect.
    Unknown,
}

/// One operation as recorded.
#[derive(Clone, Debug)]
pub struct Record {
    /// The operation, in the checker's terms (an unknown one has no return).
    pub op: KvOperation,
    /// How it ended.
    pub outcome: Outcome,
}

/// What every client shares.
#[derive(Clone)]
pub struct Workload {
    /// The servers' client addresses.
    pub servers: Vec<SocketAddr>,
    /// How many keys (`k0`, `k1`, ...).
    pub keys: usize,
    /// How long to wait for a reply before the outcome is unknown.
    pub timeout: Duration,
    /// When to stop starting operations.
    pub until: Instant,
    /// The history's clock.
    pub clock: Arc<Clock>,
    /// Set to stop early (Ctrl-C).
    pub stop: Arc<AtomicBool>,
    /// The run's seed.
    pub seed: u64,
    /// Operations finished so far, by every client (for progress lines).
    pub done: Arc<AtomicU64>,
}

/// How long a client waits for a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

/// The number of client ids a client thread may use (one per connection that ended
/// with an unknown outcome): thread `t`'s ids are `t`, `t + STRIDE`, ...
pub const STRIDE: u64 = 1000;

/// The key named by number.
pub fn key_name(k: usize) -> String {
    format!("k{k}")
}

/// Whether an error reply proves the command never started: the server refused it
/// before handing it to its clerk (a malformed command, a full server, a session that
/// is gone, a command already running). Any other error, such as a server shutting
/// down while the command runs, leaves the outcome unknown.
pub fn did_not_happen(error: &str) -> bool {
    [
        "ERR max number of clients",
        "ERR a command is already running",
        "ERR connection closed",
        "ERR wrong number of arguments",
        "ERR unknown command",
        "ERR syntax error",
    ]
    .iter()
    .any(|p| error.starts_with(p))
}

/// A connection to one server.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    /// Connects to `addr`.
    pub fn open(addr: SocketAddr) -> std::io::Result<Conn> {
        let stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)?;
        let _ = stream.set_nodelay(true);
        Ok(Conn {
            stream,
            buf: Vec::new(),
        })
    }

    /// Sends a command and waits at most `timeout` for its reply; `Err` says why
    /// there is none.
    pub fn call(&mut self, args: &[&str], timeout: Duration) -> Result<Value, String> {
        let deadline = Instant::now() + timeout;
        let cmd = Value::Array(Some(args.iter().map(|a| Value::bulk(*a)).collect()));
        self.stream
            .set_write_timeout(Some(timeout))
            .map_err(|e| e.to_string())?;
        self.stream
            .write_all(&cmd.to_bytes())
            .map_err(|e| format!("sending: {e}"))?;
        let mut chunk = [0u8; 16 << 10];
        loop {
            match resp::parse_value(&self.buf, &Limits::default()) {
                Ok(Parsed::Done(v, n)) => {
                    self.buf.drain(..n);
                    return Ok(v);
                }
                Ok(Parsed::Incomplete) => {}
                Err(e) => return Err(format!("bad reply: {e}")),
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err("timed out".into());
            }
            self.stream
                .set_read_timeout(Some(left))
                .map_err(|e| e.to_string())?;
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err("connection closed".into()),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err("timed out".into());
                }
                Err(e) => return Err(format!("connection lost: {e}")),
            }
        }
    }
}

/// What one call said, in the checker's terms.
pub struct Said {
    /// How it ended.
    pub outcome: Outcome,
    /// The value a get read (for ok gets).
    pub value: Option<String>,
    /// Why it is not ok, for the history's notes.
    pub note: Option<String>,
}

/// Reads the reply to `op`.
pub fn judge(op: KvOp, reply: Result<Value, String>) -> Said {
    let said = |outcome, value, note: Option<String>| Said {
        outcome,
        value,
        note,
    };
    match (op, reply) {
        (_, Err(why)) => said(Outcome::Unknown, None, Some(why)),
        (_, Ok(Value::Error(e))) if did_not_happen(&e) => {
            said(Outcome::Failed, None, Some(format!("-{e}")))
        }
        (_, Ok(Value::Error(e))) => said(Outcome::Unknown, None, Some(format!("-{e}"))),
        (KvOp::Get, Ok(Value::Bulk(Some(b)))) => match String::from_utf8(b) {
            Ok(v) => said(Outcome::Ok, Some(v), None),
            Err(_) => said(Outcome::Unknown, None, Some("a value not UTF-8".into())),
        },
        (KvOp::Put, Ok(Value::Simple(s))) if s == "OK" => said(Outcome::Ok, None, None),
        (KvOp::Append, Ok(Value::Integer(_))) => said(Outcome::Ok, None, None),
        (_, Ok(other)) => said(
            Outcome::Unknown,
            None,
            Some(format!("unexpected reply {other:?}")),
        ),
    }
}

/// Runs client thread `t` until the workload's end; returns its operations.
pub fn run(t: usize, w: Workload) -> Vec<Record> {
    let mut rng = StdRng::seed_from_u64(
        w.seed
            .wrapping_mul(0x2545_f491_4f6c_dd1d)
            .wrapping_add(t as u64 + 1),
    );
    let mut records = Vec::new();
    let mut conn: Option<(usize, Conn)> = None;
    let mut client = t as u64;
    let mut writes = 0u64;
    while Instant::now() < w.until && !w.stop.load(Ordering::Relaxed) {
        let key = key_name(rng.random_range(0..w.keys));
        let roll = rng.random_range(0..100);
        let (op, value) = if roll < 45 {
            (KvOp::Get, String::new())
        } else {
            writes += 1;
            let v = format!("<c{t}.{writes}>");
            (if roll < 90 { KvOp::Append } else { KvOp::Put }, v)
        };
        if conn.is_none() || rng.random_bool(0.05) {
            let s = rng.random_range(0..w.servers.len());
            conn = Conn::open(w.servers[s]).ok().map(|c| (s, c));
        }
        let input = KvInput {
            op,
            key: key.clone(),
            value: value.clone(),
        };
        let Some((server, c)) = &mut conn else {
            // Nothing was sent: it did not happen.
            let at = w.clock.stamp();
            records.push(Record {
                op: KvOperation {
                    client,
                    input,
                    call: at,
                    output: KvOutput::unknown(),
                    ret: Some(at),
                    meta: Some("no connection".into()),
                },
                outcome: Outcome::Failed,
            });
            std::thread::sleep(Duration::from_millis(rng.random_range(20..100)));
            continue;
        };
        let server = *server;
        let args: Vec<&str> = match op {
            KvOp::Get => vec!["GET", &key],
            KvOp::Put => vec!["SET", &key, &value],
            _ => vec!["APPEND", &key, &value],
        };
        let call = w.clock.stamp();
        let reply = c.call(&args, w.timeout);
        let ret = w.clock.stamp();
        let said = judge(op, reply);
        let meta = match &said.note {
            None => format!("S{server}"),
            Some(n) => format!("S{server}: {n}"),
        };
        let (output, ret) = match said.outcome {
            Outcome::Ok => (KvOutput::known(said.value.unwrap_or_default()), Some(ret)),
            Outcome::Failed => (KvOutput::unknown(), Some(ret)),
            Outcome::Unknown => (KvOutput::unknown(), None),
        };
        records.push(Record {
            op: KvOperation {
                client,
                input,
                call,
                output,
                ret,
                meta: Some(meta),
            },
            outcome: said.outcome,
        });
        w.done.fetch_add(1, Ordering::Relaxed);
        if said.outcome == Outcome::Unknown {
            conn = None;
            client += STRIDE;
        }
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_replies_that_prove_nothing_happened_fail() {
        let j = |op, r| judge(op, r).outcome;
        assert_eq!(j(KvOp::Put, Ok(Value::ok())), Outcome::Ok);
        assert_eq!(j(KvOp::Append, Ok(Value::Integer(9))), Outcome::Ok);
        let got = judge(KvOp::Get, Ok(Value::bulk("<c1.1>")));
        assert_eq!(
            (got.outcome, got.value.as_deref()),
            (Outcome::Ok, Some("<c1.1>"))
        );
        assert_eq!(
            j(KvOp::Put, Err("timed out".into())),
            Outcome::Unknown,
            "a timeout is unknown"
        );
        assert_eq!(
            j(KvOp::Put, Err("connection closed".into())),
            Outcome::Unknown
        );
        assert_eq!(
            j(
                KvOp::Put,
                Ok(Value::error("ERR the server is shutting down"))
            ),
            Outcome::Unknown,
            "the command may have started"
        );
        assert_eq!(
            j(
                KvOp::Put,
                Ok(Value::error("ERR max number of clients reached"))
            ),
            Outcome::Failed
        );
        assert_eq!(
            j(
                KvOp::Append,
                Ok(Value::error(
                    "ERR a command is already running on this connection"
                ))
            ),
            Outcome::Failed
        );
        assert_eq!(
            j(KvOp::Get, Ok(Value::Integer(3))),
            Outcome::Unknown,
            "a reply of the wrong type proves nothing"
        );
        assert_eq!(
            j(KvOp::Put, Ok(Value::Simple("QUEUED".into()))),
            Outcome::Unknown
        );
    }
}
