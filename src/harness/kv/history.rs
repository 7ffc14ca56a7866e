//! The client history the key/value tests record for the linearizability check (the
//! lab's `OpLog` of porcupine operations), and the tests' append checks.
//!
//! Times. The checker, like porcupine, treats an operation that returns at `t` and
//! one called at `t` as concurrent. In the simulator a clerk's next call starts at the
//! very virtual instant its previous reply arrived, so stamping calls and returns in
//! virtual time alone would let a read that misses the client's own just-returned
//! write pass. The recorder therefore stamps every call and return with a
//! [`Stamp`]: the virtual time in units of [`STAMPS_PER_MICRO`] per microsecond,
//! raised when needed to one more than the recorder's previous stamp. Stamps are
//! strictly increasing in the order the simulator runs the recording code, which is
//! the real-time order of the simulated world: an operation called after another
//! returned gets a strictly later call stamp, while operations whose intervals truly
//! overlap still overlap. A call stamp is taken before the clerk sends anything and a
//! return stamp after its reply was taken in, so the stamped interval always covers
//! the operation's effect. The exact virtual times go into each operation's `meta`.

use std::cell::{Cell, RefCell};
use std::io::Write;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

pub use raftlab_checker::kv::{KvOp, KvOperation, LabCheck};
use raftlab_checker::kv::{check_history, write_jsonl};

/// The lab's `linearizabilityCheckTimeout`.
pub const LINEARIZABILITY_CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// Stamps per virtual microsecond: a stamp reads as virtual nanoseconds, exactly so
/// unless more than this many events were recorded within one microsecond.
pub const STAMPS_PER_MICRO: u64 = 1000;

/// The recorded time of one call or return.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stamp {
    /// The history's time: strictly increasing over the recorder's stamps.
    pub at: u64,
    /// The virtual time it was taken at, in microseconds.
    pub micros: u64,
}

/// A shared, append-only history of completed operations, stamped with [`Stamp`]s
/// (see the module docs).
#[derive(Clone, Default)]
pub struct History {
    ops: Rc<RefCell<Vec<KvOperation>>>,
    last: Rc<Cell<Option<u64>>>,
}

impl History {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// The stamp of a call or return happening now, at virtual time `micros`:
    /// `micros * STAMPS_PER_MICRO`, or one more than the previous stamp if that is
    /// not later.
    pub fn stamp(&self, micros: u64) -> Stamp {
        let scaled = micros.saturating_mul(STAMPS_PER_MICRO);
        let at = match self.last.get() {
            Some(last) if last >= scaled => last.saturating_add(1),
            _ => scaled,
        };
        self.last.set(Some(at));
        Stamp { at, micros }
    }

    /// Records a completed operation of client `client` called at `call` and
    /// returned at `ret` (both from [`History::stamp`]); its `meta` gives the two
    /// virtual times.
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &self,
        client: u64,
        kind: KvOp,
        key: String,
        value: String,
        output: String,
        call: Stamp,
        ret: Stamp,
    ) {
        let mut op = KvOperation::new(client, kind, key, value, output, call.at, ret.at);
        op.meta = Some(format!(
            "virtual time: call {}, return {}",
            virtual_secs(call.micros),
            virtual_secs(ret.micros)
        ));
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

    /// The lab's porcupine step without its reaction: writes the history to
    /// `RAFTLAB_HISTORY_DIR` if set ([`History::write_to_history_dir`]), then checks
    /// it with raftlab-checker and the lab's 1 s budget.
    pub fn lab_check(&self, suite: &str, test: &str, seed: u64) -> LabCheck {
        self.write_to_history_dir(suite, test, seed);
        check_history(&self.ops.borrow(), LINEARIZABILITY_CHECK_TIMEOUT)
    }

    /// The lab's porcupine step ([`History::lab_check`]): an Illegal history prints
    /// where its HTML view was written and fails the test with "history is not
    /// linearizable"; Unknown prints the lab's notice and passes.
    ///
    /// With `RAFTLAB_HISTORY_DIR=dir`, the history is also written as JSON lines to
    /// `dir/<suite>.<test>.<seed>.jsonl`.
    pub fn check(&self, suite: &str, test: &str, seed: u64) {
        let result = self.lab_check(suite, test, seed);
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

/// `micros` as virtual seconds with six decimals.
fn virtual_secs(micros: u64) -> String {
    format!("{}.{:06} s", micros / 1_000_000, micros % 1_000_000)
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
    use crate::harness::kv::ck::KvClerk;
    use crate::harness::kv::kvsrv::KvsrvConfig;
    use crate::harness::kv::{KvraftConfig, KvraftOptions};
    use crate::kv::Op;
    use crate::rsm::server::ServiceBug;
    use std::collections::BTreeMap;

    /// The virtual times an operation's `meta` records, in microseconds.
    fn virtual_times(op: &KvOperation) -> (u64, u64) {
        let meta = op
            .meta
            .as_deref()
            .expect("every recorded operation has meta");
        let micros = |label: &str| {
            let rest = &meta[meta.find(label).expect(label) + label.len()..];
            let secs = rest.split(" s").next().unwrap_or_default();
            let (whole, frac) = secs.split_once('.').expect("six decimals");
            whole.parse::<u64>().unwrap() * 1_000_000 + frac.parse::<u64>().unwrap()
        };
        (micros("call "), micros("return "))
    }

    #[test]
    fn stamps_scale_virtual_time_and_break_ties_in_recording_order() {
        let h = History::new();
        let at = |micros| h.stamp(micros).at;
        assert_eq!(at(5), 5_000);
        assert_eq!(at(5), 5_001);
        assert_eq!(at(5), 5_002);
        assert_eq!(at(6), 6_000);
        assert_eq!(at(0), 6_001, "a stamp never goes back");
        assert_eq!(
            h.stamp(7),
            Stamp {
                at: 7_000,
                micros: 7
            }
        );
        let shared = h.clone();
        assert_eq!(shared.stamp(7).at, 7_001, "clones share one recorder clock");
    }

    #[test]
    fn meta_keeps_the_virtual_times() {
        let h = History::new();
        let (call, ret) = (h.stamp(1_250_000), h.stamp(3_000_007));
        h.record(
            1,
            KvOp::Get,
            "k".into(),
            String::new(),
            "v".into(),
            call,
            ret,
        );
        let op = &h.ops()[0];
        assert_eq!(
            op.meta.as_deref(),
            Some("virtual time: call 1.250000 s, return 3.000007 s")
        );
        assert_eq!((op.call, op.ret), (1_250_000_000, Some(3_000_007_000)));
        assert_eq!(virtual_times(op), (1_250_000, 3_000_007));
    }

    /// Five Lab 2 clerks each make 40 recorded operations back to back: each client's
    /// next call is stamped strictly after its previous return, although in virtual
    /// time almost every one starts at the instant the previous one returned.
    #[test]
    fn a_clerks_consecutive_operations_are_strictly_ordered() {
        let cfg = KvsrvConfig::new(7, false);
        let log = History::new();
        let recorded = log.clone();
        cfg.run(move |cfg| async move {
            let clients: Vec<_> = (0..5)
                .map(|cli| {
                    let (cfg2, log) = (cfg.clone(), log.clone());
                    let ck = cfg.make_client();
                    cfg.spawn(async move {
                        for j in 0..40 {
                            let key = cfg2.rand_below(2).to_string();
                            let op = if j % 2 == 0 {
                                Op::AppendReturningOld {
                                    key,
                                    value: format!("x {cli} {j} y"),
                                }
                            } else {
                                Op::Get { key }
                            };
                            ck.recorded(op, Some(&log), cli).await;
                        }
                    })
                })
                .collect();
            for c in clients {
                c.await;
            }
        });
        let ops = recorded.ops();
        assert_eq!(ops.len(), 200);
        let mut by_client: BTreeMap<u64, Vec<&KvOperation>> = BTreeMap::new();
        for op in &ops {
            by_client.entry(op.client).or_default().push(op);
        }
        let (mut pairs, mut virtual_ties) = (0, 0);
        for (cli, list) in &by_client {
            assert_eq!(list.len(), 40, "client {cli}");
            for w in list.windows(2) {
                let prev_ret = w[0].ret.expect("completed");
                assert!(
                    w[1].call > prev_ret,
                    "client {cli}: call {} not after the previous return {prev_ret}",
                    w[1].call
                );
                pairs += 1;
                if virtual_times(w[1]).0 == virtual_times(w[0]).1 {
                    virtual_ties += 1;
                }
            }
        }
        assert_eq!(pairs, 5 * 39);
        assert_eq!(
            virtual_ties, pairs,
            "each next call starts at the previous reply"
        );
        let mut stamps: Vec<i64> = ops.iter().flat_map(|o| [o.call, o.ret.unwrap()]).collect();
        stamps.sort_unstable();
        stamps.dedup();
        assert_eq!(stamps.len(), 400, "no two events share a stamp");
    }

    /// A client's read that misses its own write, which had just returned (the
    /// `ReadBeforeOwnWrite` bug serves it): in virtual time the read's call equals
    /// the write's return, so the plain virtual-time history passes as concurrent;
    /// the recorder's stamps order them and the lab's check rejects the history.
    #[test]
    fn the_lab_check_rejects_a_stale_read_of_the_clients_own_write() {
        let options = KvraftOptions {
            service_bug: Some(ServiceBug::ReadBeforeOwnWrite),
            ..KvraftOptions::default()
        };
        let cfg = KvraftConfig::new(3, 3, false, -1, options);
        let log = History::new();
        let recorded = log.clone();
        let virtual_ops = cfg.run_to_end({
            let cfg = cfg.clone();
            async move {
                let ck = cfg.make_client(&cfg.all());
                let mut virtual_ops = Vec::new();
                let ops = [
                    (KvOp::Put, "a"),
                    (KvOp::Get, ""),
                    (KvOp::Append, "b"),
                    (KvOp::Get, ""),
                ];
                for (kind, value) in ops {
                    let op = match kind {
                        KvOp::Put => Op::Put {
                            key: "k".into(),
                            value: value.into(),
                        },
                        KvOp::Append => Op::Append {
                            key: "k".into(),
                            value: value.into(),
                        },
                        _ => Op::Get { key: "k".into() },
                    };
                    let call = ck.now_micros();
                    let out = ck.recorded(op, Some(&log), 0).await;
                    let ret = ck.now_micros();
                    virtual_ops.push(KvOperation::new(0, kind, "k", value, out, call, ret));
                }
                virtual_ops
            }
        });
        let outputs: Vec<&str> = virtual_ops
            .iter()
            .filter(|o| o.input.op == KvOp::Get)
            .map(|o| o.output.value.as_deref().unwrap_or("?"))
            .collect();
        assert_eq!(outputs, ["", "a"], "each get misses the client's own write");
        assert!(
            virtual_ops
                .windows(2)
                .all(|w| w[1].call == w[0].ret.unwrap()),
            "in virtual time each call starts as the previous one returns"
        );
        assert_eq!(
            check_history(&virtual_ops, LINEARIZABILITY_CHECK_TIMEOUT),
            LabCheck::Ok,
            "with virtual-time stamps the stale reads pass as concurrent"
        );
        match recorded.lab_check("history", "stale_own_read", 3) {
            LabCheck::Illegal { visualization, .. } => {
                if let Ok(path) = visualization {
                    std::fs::remove_file(path).unwrap();
                }
            }
            other => panic!("the stamped history must be Illegal, got {other:?}"),
        }
    }

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
