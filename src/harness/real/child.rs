//! What a runner (`raftlab cluster`, `raftlab torture`) reads of its `raftlab serve`
//! children: their `INFO`, asked over the Redis protocol, and how a child ended, in words.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

use crate::runtime::resp::{self, Limits, Parsed, Value};

/// A server's `INFO` fields.
#[derive(Clone, Debug, Default)]
pub struct Info(pub Vec<(String, String)>);

impl Info {
    /// A field's value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Asks the server at `addr` for `INFO`.
pub fn info(addr: SocketAddr, wait: Duration) -> Option<Info> {
    let mut s = TcpStream::connect_timeout(&addr, wait).ok()?;
    s.set_read_timeout(Some(wait)).ok()?;
    s.set_write_timeout(Some(wait)).ok()?;
    s.write_all(b"*1\r\n$4\r\nINFO\r\n").ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        match resp::parse_value(&buf, &Limits::default()).ok()? {
            Parsed::Incomplete => continue,
            Parsed::Done(Value::Bulk(Some(text)), _) => {
                let text = String::from_utf8_lossy(&text).into_owned();
                return Some(Info(
                    text.lines()
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
                        .collect(),
                ));
            }
            Parsed::Done(..) => return None,
        }
    }
}

/// How a child ended, in words.
pub fn describe_exit(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(101), _) => "panicked (exit code 101)".into(),
        (Some(c), _) => format!("exited with code {c}"),
        (None, Some(9)) => "was killed by SIGKILL".into(),
        (None, Some(s)) => format!("was killed by signal {s}"),
        (None, None) => "ended".into(),
    }
}
