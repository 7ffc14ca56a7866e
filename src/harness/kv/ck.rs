//! The key/value operations of a clerk handle ([`KvClerk`]), with the lab's test
//! wrappers' recording. The Lab 2 and Lab 4 clerks ([`Ck`]) and the Lab 5 shard
//! clerks implement it.

use std::future::Future;

use super::history::{History, KvOp};
use crate::harness::rsm::clerks::{Ck, ClerkWorld};
use crate::kv::Op;

/// A test's handle to a key/value clerk.
pub trait KvClerk {
    /// Runs one operation to completion (the clerk retries until it is done).
    fn run(&self, op: Op) -> impl Future<Output = String>;

    /// The virtual time, in microseconds (what the history's stamps are made from).
    fn now_micros(&self) -> u64;

    /// Runs one operation and, if `log` is given, records it as client `cli` did it,
    /// with its call and return stamped by `log` ([`History::stamp`]: strictly later
    /// than anything recorded before) — the lab's test wrappers `Get`, `Put`,
    /// `Append`.
    fn recorded(&self, op: Op, log: Option<&History>, cli: usize) -> impl Future<Output = String> {
        async move {
            let call = log.map(|log| log.stamp(self.now_micros()));
            let (kind, key, value) = match &op {
                Op::Get { key } => (KvOp::Get, key.clone(), String::new()),
                Op::Put { key, value } => (KvOp::Put, key.clone(), value.clone()),
                Op::Append { key, value } => (KvOp::Append, key.clone(), value.clone()),
                Op::AppendReturningOld { key, value } => {
                    (KvOp::AppendOld, key.clone(), value.clone())
                }
                // The lab's clerks never send it; its output (a length) is not checked.
                Op::AppendReturningLen { key, value } => (KvOp::Append, key.clone(), value.clone()),
            };
            let output = self.run(op).await;
            if let (Some(log), Some(call)) = (log, call) {
                let ret = log.stamp(self.now_micros());
                log.record(cli as u64, kind, key, value, output.clone(), call, ret);
            }
            output
        }
    }

    /// `ck.Get(key)`.
    fn get(&self, key: &str) -> impl Future<Output = String> {
        self.run(Op::Get { key: key.into() })
    }

    /// `ck.Put(key, value)`.
    fn put(&self, key: &str, value: &str) -> impl Future<Output = ()> {
        let op = Op::Put {
            key: key.into(),
            value: value.into(),
        };
        async move {
            self.run(op).await;
        }
    }

    /// `ck.Append(key, value)` of Labs 4 and 5 (no result).
    fn append(&self, key: &str, value: &str) -> impl Future<Output = ()> {
        let op = Op::Append {
            key: key.into(),
            value: value.into(),
        };
        async move {
            self.run(op).await;
        }
    }

    /// `ck.Append(key, value)` of Lab 2: returns the value before the append.
    fn append_returning_old(&self, key: &str, value: &str) -> impl Future<Output = String> {
        self.run(Op::AppendReturningOld {
            key: key.into(),
            value: value.into(),
        })
    }
}

impl<W: ClerkWorld<Op = Op, Output = String>> KvClerk for Ck<W> {
    fn run(&self, op: Op) -> impl Future<Output = String> {
        self.op(op)
    }

    fn now_micros(&self) -> u64 {
        self.sim().now().as_micros() as u64
    }
}
