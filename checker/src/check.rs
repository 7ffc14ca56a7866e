//! Checking a history: partition it, search every partition on a pool of threads,
//! and combine the results.
//!
//! [`check`] asks the model for the partitions, makes one
//! `PartitionSearch` (module `search`) per partition and hands them to
//! the `pool` module, which runs them round-robin on `threads` workers until each is
//! finished, the time budget runs out, or (unless `check_all`) one is found illegal.
//! The verdict is Illegal if any partition is illegal, otherwise Unknown if any
//! partition did not finish, otherwise Ok. Each partition's search is deterministic
//! and results are reported in partition order, so the verdict does not depend on
//! thread scheduling (only, through the budget, on how fast the machine is).

use crate::history::{HistoryError, Operation, validate};
use crate::model::{Model, Partition};
use crate::pool::{self, Deadline};
use crate::result::{CheckResult, PartitionStatus, Verdict};
use crate::search::{self, Outcome, PartitionSearch};
use std::time::{Duration, Instant};

/// Search steps a partition runs before going back to the queue.
const QUANTUM: u64 = 1 << 13;

/// How to check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckOptions {
    /// The time budget; `None` for no limit. When it runs out, unfinished partitions
    /// are reported as timed out and the verdict is Unknown (unless one is Illegal).
    pub timeout: Option<Duration>,
    /// Record, for each operation, the longest partial linearization that contains
    /// it (needed for the HTML view and for saying where an illegal partition
    /// stops).
    pub record: bool,
    /// Keep checking the other partitions after one is found illegal.
    pub check_all: bool,
    /// Worker threads; 0 means one per available core.
    pub threads: usize,
    /// In recording mode, the most steps of partial linearizations one partition
    /// keeps in memory at once (16 bytes each). Past it, records are incomplete.
    pub step_budget: usize,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            timeout: None,
            record: false,
            check_all: false,
            threads: 0,
            step_budget: 1 << 21,
        }
    }
}

impl CheckOptions {
    /// Fast mode: no records, the first illegal partition stops the check.
    pub fn new() -> Self {
        Self::default()
    }

    /// Verbose mode: records partial linearizations and checks every partition.
    pub fn verbose() -> Self {
        CheckOptions {
            record: true,
            check_all: true,
            ..Self::default()
        }
    }

    /// The same options with a time budget.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The same options with a number of worker threads (0: one per core).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }
}

/// Checks `history` against `model`. Fails only when the history or the model's
/// partitions are malformed (an operation that returns before it is called, a
/// partition that names an operation twice or one that does not exist).
pub fn check<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    options: &CheckOptions,
) -> Result<CheckResult, HistoryError> {
    let start = Instant::now();
    validate(history)?;
    let partitions = model.partition(history);
    validate_partitions(&partitions, history.len())?;
    let tasks: Vec<_> = partitions
        .into_iter()
        .map(|p| {
            PartitionSearch::new(
                model,
                p.name,
                history,
                &p.operations,
                options.record,
                options.step_budget,
            )
        })
        .collect();
    let threads = if options.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.threads
    };
    let deadline = Deadline(options.timeout.map(|t| start + t));
    let stop_on_illegal = !options.check_all;
    let finished = pool::run(tasks, threads, QUANTUM, &deadline, move |o: &Outcome| {
        stop_on_illegal && *o == Outcome::Illegal
    });
    let partitions: Vec<_> = finished
        .into_iter()
        .map(|(task, how)| search::finish(task, how))
        .collect();
    let verdict = if partitions
        .iter()
        .any(|p| p.status == PartitionStatus::Illegal)
    {
        Verdict::Illegal
    } else if partitions.iter().all(|p| p.status == PartitionStatus::Ok) {
        Verdict::Ok
    } else {
        Verdict::Unknown
    };
    Ok(CheckResult {
        verdict,
        partitions,
        elapsed: start.elapsed(),
    })
}

fn validate_partitions(partitions: &[Partition], len: usize) -> Result<(), HistoryError> {
    let mut seen = vec![false; len];
    for p in partitions {
        for &i in &p.operations {
            if i >= len {
                return Err(HistoryError {
                    index: i,
                    reason: format!(
                        "partition {} names an operation past the end ({len})",
                        p.name
                    ),
                });
            }
            if std::mem::replace(&mut seen[i], true) {
                return Err(HistoryError {
                    index: i,
                    reason: format!("operation is in two partitions (again in {})", p.name),
                });
            }
        }
    }
    Ok(())
}
