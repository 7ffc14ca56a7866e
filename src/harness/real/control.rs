//! The harness's side door to a real server: Redis commands over the server's client
//! port, straight to it (not through the peer proxies), as the lab's config.go calls
//! methods of its Raft objects directly whatever the network does.
//!
//! A [`Control`] keeps idle connections for reuse; a call takes one (or opens one),
//! writes the command, reads one reply, and puts the connection back only if the call
//! ended cleanly. Every call is bounded by its timeout: a crashed or stopped server
//! gives an error, never a hang.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::runtime::resp::{self, Limits, Parsed, Value};

/// Why a call got no reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError {
    /// No connection could be made.
    Connect(String),
    /// The connection broke, or the reply was not RESP.
    Io(String),
    /// No reply within the timeout.
    Timeout,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Connect(e) => write!(f, "cannot connect: {e}"),
            CallError::Io(e) => write!(f, "connection failed: {e}"),
            CallError::Timeout => f.write_str("no reply in time"),
        }
    }
}

/// Connections to one server's client port.
#[derive(Debug)]
pub struct Control {
    addr: SocketAddr,
    idle: RefCell<Vec<TcpStream>>,
}

impl Control {
    /// A control for the server whose clients connect at `addr`.
    pub fn new(addr: SocketAddr) -> Self {
        Control {
            addr,
            idle: RefCell::new(Vec::new()),
        }
    }

    /// Where it connects.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes the idle connections (after the server was restarted, they lead nowhere).
    pub fn forget(&self) {
        self.idle.borrow_mut().clear();
    }

    /// Sends the command `args` and returns the reply (an error reply is a reply).
    pub async fn call(&self, args: &[&[u8]], timeout: Duration) -> Result<Value, CallError> {
        match tokio::time::timeout(timeout, self.exchange(args)).await {
            Ok(r) => r,
            Err(_) => Err(CallError::Timeout),
        }
    }

    async fn exchange(&self, args: &[&[u8]]) -> Result<Value, CallError> {
        let idle = self.idle.borrow_mut().pop();
        let mut stream = match idle {
            Some(s) => s,
            None => {
                let s = TcpStream::connect(self.addr)
                    .await
                    .map_err(|e| CallError::Connect(e.to_string()))?;
                let _ = s.set_nodelay(true);
                s
            }
        };
        let command = Value::Array(Some(args.iter().map(|a| Value::bulk(*a)).collect()));
        stream
            .write_all(&command.to_bytes())
            .await
            .map_err(|e| CallError::Io(e.to_string()))?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 16 << 10];
        loop {
            let n = stream
                .read(&mut chunk)
                .await
                .map_err(|e| CallError::Io(e.to_string()))?;
            if n == 0 {
                return Err(CallError::Io("closed by the server".into()));
            }
            buf.extend_from_slice(&chunk[..n]);
            match resp::parse_value(&buf, &Limits::default()) {
                Ok(Parsed::Incomplete) => continue,
                Ok(Parsed::Done(v, used)) => {
                    if used == buf.len() {
                        self.idle.borrow_mut().push(stream);
                    }
                    return Ok(v);
                }
                Err(e) => return Err(CallError::Io(format!("not a RESP reply: {e}"))),
            }
        }
    }
}
