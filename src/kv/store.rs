//! The key/value state machine with duplicate detection.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{ClientId, Op, Request};
use crate::codec::{self, DecodeError};
use crate::rsm::StateMachine;

/// What the store remembers of a client: the last write it executed, and that write's
/// result if a retry would need it (only the appends that return the old value or the
/// new length have a non-empty result).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Session {
    /// The highest request number executed for this client.
    pub seq: u64,
    /// The result of that request, kept only when it is not empty.
    pub reply: Option<String>,
}

/// The map and the clients' sessions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KvStore {
    data: BTreeMap<String, String>,
    sessions: BTreeMap<ClientId, Session>,
}

impl KvStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Executes a request at most once and returns its result: the value for a Get,
    /// the old value for a Lab 2 append, "" otherwise. A retry of the client's latest
    /// write gets that write's result again without executing it; a retry of an older
    /// one (its reply was already received, so nobody waits for it) gets "".
    /// Gets are always executed and leave no session behind.
    pub fn apply(&mut self, request: Request) -> String {
        if request.op.is_write()
            && let Some(s) = self.sessions.get(&request.client)
            && request.seq <= s.seq
        {
            return if request.seq == s.seq {
                s.reply.clone().unwrap_or_default()
            } else {
                String::new()
            };
        }
        let result = match request.op {
            Op::Get { key } => return self.data.get(&key).cloned().unwrap_or_default(),
            Op::Put { key, value } => {
                self.data.insert(key, value);
                String::new()
            }
            Op::Append { key, value } => {
                self.data.entry(key).or_default().push_str(&value);
                String::new()
            }
            Op::AppendReturningOld { key, value } => {
                let v = self.data.entry(key).or_default();
                let old = v.clone();
                v.push_str(&value);
                old
            }
            Op::AppendReturningLen { key, value } => {
                let v = self.data.entry(key).or_default();
                v.push_str(&value);
                v.len().to_string()
            }
        };
        let reply = (!result.is_empty()).then(|| result.clone());
        self.sessions.insert(
            request.client,
            Session {
                seq: request.seq,
                reply,
            },
        );
        result
    }

    /// Whether the client's request `seq` has already been executed.
    pub fn is_duplicate(&self, client: ClientId, seq: u64) -> bool {
        self.sessions.get(&client).is_some_and(|s| seq <= s.seq)
    }

    /// The value of a key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.data.get(key).map(String::as_str)
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The number of client sessions kept.
    pub fn sessions(&self) -> usize {
        self.sessions.len()
    }
}

impl StateMachine for KvStore {
    type Op = Op;
    type Output = String;

    fn apply(&mut self, request: Request) -> String {
        KvStore::apply(self, request)
    }

    fn read(&self, op: &Op) -> Option<String> {
        match op {
            Op::Get { key } => Some(self.get(key).unwrap_or_default().to_string()),
            _ => None,
        }
    }

    fn encode(&self) -> Vec<u8> {
        codec::encode(self)
    }

    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        codec::decode("key/value snapshot", bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(client: ClientId, seq: u64, op: Op) -> Request {
        Request { client, seq, op }
    }

    fn append(key: &str, value: &str) -> Op {
        Op::Append {
            key: key.into(),
            value: value.into(),
        }
    }

    #[test]
    fn writes_execute_once() {
        let mut s = KvStore::new();
        assert_eq!(s.apply(req(1, 1, append("k", "a"))), "");
        assert_eq!(s.apply(req(1, 1, append("k", "a"))), "", "retry");
        assert_eq!(s.apply(req(2, 1, append("k", "b"))), "");
        assert_eq!(s.apply(req(1, 1, append("k", "a"))), "", "late retry");
        assert_eq!(s.get("k"), Some("ab"));
    }

    #[test]
    fn lab2_append_returns_old_value_on_retry_too() {
        let mut s = KvStore::new();
        let op = |v: &str| Op::AppendReturningOld {
            key: "k".into(),
            value: v.into(),
        };
        assert_eq!(s.apply(req(1, 1, op("x"))), "");
        assert_eq!(s.apply(req(2, 1, op("y"))), "x");
        assert_eq!(s.apply(req(1, 2, op("z"))), "xy");
        assert_eq!(
            s.apply(req(1, 2, op("z"))),
            "xy",
            "retry gets the cached reply"
        );
        assert_eq!(s.get("k"), Some("xyz"));
    }

    #[test]
    fn gets_leave_no_session_and_snapshots_round_trip() {
        let mut s = KvStore::new();
        s.apply(req(
            1,
            1,
            Op::Put {
                key: "a".into(),
                value: "1".into(),
            },
        ));
        for c in 10..20 {
            assert_eq!(s.apply(req(c, 1, Op::Get { key: "a".into() })), "1");
        }
        assert_eq!(s.sessions(), 1);
        let back = KvStore::decode(&s.encode()).unwrap();
        assert_eq!(back, s);
        assert!(KvStore::decode(&[0xff, 0xff]).is_err());
    }
}
