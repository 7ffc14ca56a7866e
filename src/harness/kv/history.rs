//! The client history the key/value tests record for the linearizability check (the
//! lab's `OpLog` of porcupine operations), and the tests' append checks.

use std::cell::RefCell;
use std::io::Write;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

pub use raftlab_checker::kv::{KvOp, KvOperation};
use raftlab_checker::kv::{LabCheck, check_history, write_jsonl};

/// The lab's `linearizabilityCheckTimeout`.
pub const LINEARIZABILITY_CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// A shared, append-only history of completed operations (times in virtual
/// microseconds).
#[derive(Clone, Default)]
pub struct History {
    ops: Rc<RefCell<Vec<KvOperation>>>,
}

impl History {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an operation.
    pub fn push(&self, op: KvOperation) {
        self.ops.borrow_mut().push(op);
    }

    /// Everything recorded so far.
    pub fn ops(&self) -> Vec<KvOperation> {
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

    /// With `RAFTLAB_HISTORY_DIR=dir` set, writes the history as JSON lines to
    /// `dir/<suite>.<test>.<seed>.jsonl` (for `raftlab lincheck`) and prints where;
    /// does nothing otherwise. A failed write is printed, not fatal.
    pub fn write_to_history_dir(&self, suite: &str, test: &str, seed: u64) {
        let Some(dir) = std::env::var_os("RAFTLAB_HISTORY_DIR") else {
            return;
        };
        let path = PathBuf::from(dir).join(format!("{suite}.{test}.{seed}.jsonl"));
        let ops = self.ops.borrow();
        let written = std::fs::File::create(&path).and_then(|f| {
            let mut w = std::io::BufWriter::new(f);
            write_jsonl(&ops, &mut w)?;
            w.flush()
        });
        match written {
            Ok(()) => println!("info: wrote history to {}", path.display()),
            Err(e) => println!("info: failed to write history to {}: {e}", path.display()),
        }
    }

    /// The lab's porcupine step, with raftlab-checker and the lab's 1 s budget: an
    /// Illegal history prints where its HTML view was written and fails the test with
    /// "history is not linearizable"; Unknown prints the lab's notice and passes.
    ///
    /// With `RAFTLAB_HISTORY_DIR=dir`, the history is also written as JSON lines to
    /// `dir/<suite>.<test>.<seed>.jsonl` ([`History::write_to_history_dir`]).
    pub fn check(&self, suite: &str, test: &str, seed: u64) {
        self.write_to_history_dir(suite, test, seed);
        let ops = self.ops.borrow();
        let result = check_history(&ops, LINEARIZABILITY_CHECK_TIMEOUT);
        if let Some(m) = result.message() {
            println!("{m}");
        }
        match result {
            LabCheck::Ok | LabCheck::Unknown => {}
            LabCheck::Illegal { summary, .. } => {
                println!("{summary}");
                panic!("history is not linearizable");
            }
            LabCheck::BadHistory(e) => panic!("the recorded history is malformed: {e}"),
        }
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
