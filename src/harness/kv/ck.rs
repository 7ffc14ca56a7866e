//! The key/value operations of a clerk handle, with the lab's test wrappers' recording.

use super::history::{History, KvOp, KvOperation};
use crate::harness::rsm::clerks::{Ck, ClerkWorld};
use crate::kv::Op;

impl<W: ClerkWorld<Op = Op, Output = String>> Ck<W> {
    /// Runs one operation and, if `log` is given, records it as client `cli` did it,
    /// with its call and return times (the lab's test wrappers `Get`, `Put`, `Append`).
    pub async fn recorded(&self, op: Op, log: Option<&History>, cli: usize) -> String {
        let call = self.sim().now().as_micros() as u64;
        let (kind, key, value) = match &op {
            Op::Get { key } => (KvOp::Get, key.clone(), String::new()),
            Op::Put { key, value } => (KvOp::Put, key.clone(), value.clone()),
            Op::Append { key, value } => (KvOp::Append, key.clone(), value.clone()),
            Op::AppendReturningOld { key, value } => (KvOp::AppendOld, key.clone(), value.clone()),
        };
        let output = self.op(op).await;
        if let Some(log) = log {
            let ret = self.sim().now().as_micros() as u64;
            log.push(KvOperation::new(
                cli as u64,
                kind,
                key,
                value,
                output.clone(),
                call,
                ret,
            ));
        }
        output
    }

    /// `ck.Get(key)`.
    pub async fn get(&self, key: &str) -> String {
        self.op(Op::Get { key: key.into() }).await
    }

    /// `ck.Put(key, value)`.
    pub async fn put(&self, key: &str, value: &str) {
        self.op(Op::Put {
            key: key.into(),
            value: value.into(),
        })
        .await;
    }

    /// `ck.Append(key, value)` of Lab 4 (no result).
    pub async fn append(&self, key: &str, value: &str) {
        self.op(Op::Append {
            key: key.into(),
            value: value.into(),
        })
        .await;
    }

    /// `ck.Append(key, value)` of Lab 2: returns the value before the append.
    pub async fn append_returning_old(&self, key: &str, value: &str) -> String {
        self.op(Op::AppendReturningOld {
            key: key.into(),
            value: value.into(),
        })
        .await
    }
}
