//! The client history the key/value tests record for the linearizability check (the
//! lab's `OpLog` of porcupine operations), and the tests' append checks.

use std::cell::RefCell;
use std::rc::Rc;

/// The kind of a recorded operation, with the lab's porcupine op codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// 0: get; the output is the value read.
    Get,
    /// 1: put; no output.
    Put,
    /// 2: append; no output (Lab 4).
    Append,
    /// 3: append that returns the old value (Lab 2); the output is that value.
    AppendReturningOld,
}

/// One completed operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryOp {
    /// The client that made it (for the visualization).
    pub client: usize,
    /// What it was.
    pub kind: OpKind,
    /// The key.
    pub key: String,
    /// The value written (empty for a get).
    pub value: String,
    /// The value returned (empty for put and the Lab 4 append).
    pub output: String,
    /// Virtual microseconds at the call.
    pub call: u64,
    /// Virtual microseconds at the return.
    pub ret: u64,
}

/// A shared, append-only history.
#[derive(Clone, Default)]
pub struct History {
    ops: Rc<RefCell<Vec<HistoryOp>>>,
}

impl History {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an operation.
    pub fn push(&self, op: HistoryOp) {
        self.ops.borrow_mut().push(op);
    }

    /// Everything recorded so far.
    pub fn ops(&self) -> Vec<HistoryOp> {
        self.ops.borrow().clone()
    }

    /// How many operations were recorded.
    pub fn len(&self) -> usize {
        self.ops.borrow().len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.ops.borrow().is_empty()
    }
}

/// The lab's `checkClntAppends`: every "x clnt j y" for j < count occurs in `v` exactly
/// once, in order.
pub fn check_clnt_appends(clnt: usize, v: &str, count: usize) {
    let mut lastoff: Option<usize> = None;
    for j in 0..count {
        let wanted = format!("x {clnt} {j} y");
        let Some(off) = v.find(&wanted) else {
            panic!("{clnt} missing element {wanted} in Append result {v}");
        };
        if v.rfind(&wanted) != Some(off) {
            panic!("duplicate element {wanted} in Append result");
        }
        if lastoff.is_some_and(|l| off <= l) {
            panic!("wrong order for element {wanted} in Append result");
        }
        lastoff = Some(off);
    }
}

/// The lab's `checkConcurrentAppends`: `check_clnt_appends` for every client.
pub fn check_concurrent_appends(v: &str, counts: &[usize]) {
    for (i, &count) in counts.iter().enumerate() {
        check_clnt_appends(i, v, count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_checks() {
        check_clnt_appends(1, "x 1 0 yx 2 0 yx 1 1 y", 2);
        check_concurrent_appends("x 0 0 yx 1 0 yx 0 1 y", &[2, 1]);
        let missing = std::panic::catch_unwind(|| check_clnt_appends(1, "x 1 0 y", 2));
        assert!(missing.is_err());
        let dup = std::panic::catch_unwind(|| check_clnt_appends(1, "x 1 0 yx 1 0 y", 1));
        assert!(dup.is_err());
        let order = std::panic::catch_unwind(|| check_clnt_appends(1, "x 1 1 yx 1 0 y", 2));
        assert!(order.is_err());
    }
}
