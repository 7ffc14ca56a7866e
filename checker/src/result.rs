//! What a check returns: a verdict for the history and a result per partition.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// The verdict on a whole history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verdict {
    /// Every partition is linearizable.
    Ok,
    /// Some partition is not linearizable (so neither is the history).
    Illegal,
    /// No partition was found illegal, but the time budget ran out (or the search was
    /// cancelled) before every partition was shown linearizable.
    Unknown,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Ok => "Ok",
            Verdict::Illegal => "Illegal",
            Verdict::Unknown => "Unknown",
        })
    }
}

/// How the search of one partition ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PartitionStatus {
    /// A linearization was found.
    Ok,
    /// The search space was exhausted: no linearization exists.
    Illegal,
    /// The time budget ran out first.
    TimedOut,
    /// Another partition was found illegal first and this one was abandoned.
    Cancelled,
}

impl fmt::Display for PartitionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PartitionStatus::Ok => "Ok",
            PartitionStatus::Illegal => "Illegal",
            PartitionStatus::TimedOut => "timed out",
            PartitionStatus::Cancelled => "cancelled",
        })
    }
}

/// Counters of one partition's search.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SearchStats {
    /// Iterations of the search loop (one candidate looked at, or one backtrack).
    pub steps: u64,
    /// Distinct (linearized set, state) configurations reached.
    pub configurations: u64,
    /// Distinct model states reached.
    pub states: u64,
    /// Bytes held by the search tables when it ended (memo, states, recorded steps).
    pub table_bytes: u64,
}

/// One step of a recorded partial linearization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinStep {
    /// The step this one extends (`None`: it is the first operation).
    pub parent: Option<usize>,
    /// The operation linearized here (an index into the checked history).
    pub op: usize,
    /// The state after it, as an index into [`Linearizations::states`].
    pub state: usize,
}

/// What happened to an operation that could have come next after a partial
/// linearization that the search could not extend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// The operation (an index into the checked history).
    pub op: usize,
    /// True when the model rejected it in the state reached; false when the model
    /// accepted it but every continuation from there failed.
    pub rejected: bool,
}

/// The partial linearizations recorded in verbose mode for one partition.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Linearizations {
    /// The steps; a partial linearization is named by its last step.
    pub steps: Vec<LinStep>,
    /// Descriptions of the states the steps reach; `states[0]` is the initial state.
    pub states: Vec<String>,
    /// For each operation of the partition (in the order of
    /// [`PartitionResult::operations`]), the last step of the longest partial
    /// linearization that contains it; `None` if it was never linearized.
    pub longest: Vec<Option<usize>>,
    /// For each recorded partial linearization of an illegal partition (keyed by its
    /// last step; `None` is the empty linearization, recorded when no operation could
    /// ever be linearized), the operations that could have come next and why each
    /// failed.
    pub dead_ends: BTreeMap<Option<usize>, Vec<Attempt>>,
    /// True when the step budget ran out, so that some records are missing.
    pub truncated: bool,
    /// True when the search's prunings ended some configurations early and the
    /// complete search for the report did not finish within its budget: the longest
    /// recorded prefix is then a true linearizable prefix, but a longer one may
    /// exist.
    pub pruned: bool,
}

impl Linearizations {
    /// The steps of the linearization ending at `last`, first to last.
    pub fn path(&self, last: usize) -> Vec<LinStep> {
        let mut out = Vec::new();
        let mut at = Some(last);
        while let Some(i) = at {
            let Some(step) = self.steps.get(i) else { break };
            out.push(*step);
            at = step.parent;
        }
        out.reverse();
        out
    }

    /// The last step of the longest recorded linearization (the first such one in
    /// partition order), with its length.
    pub fn longest_overall(&self) -> Option<(usize, usize)> {
        let mut best: Option<(usize, usize)> = None;
        for step in self.longest.iter().flatten() {
            let len = self.path(*step).len();
            if best.is_none_or(|(_, l)| len > l) {
                best = Some((*step, len));
            }
        }
        best
    }
}

/// The result for one partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionResult {
    /// The partition's name (from [`crate::Model::partition`]).
    pub name: String,
    /// Its operations, as indices into the checked history.
    pub operations: Vec<usize>,
    /// How its search ended.
    pub status: PartitionStatus,
    /// For an Ok partition, its operations in linearization order.
    pub linearization: Option<Vec<usize>>,
    /// In verbose mode, the recorded partial linearizations.
    pub linearizations: Option<Linearizations>,
    /// Search counters.
    pub stats: SearchStats,
}

/// The result of a check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckResult {
    /// The verdict on the whole history.
    pub verdict: Verdict,
    /// One result per partition, in the model's partition order.
    pub partitions: Vec<PartitionResult>,
    /// Wall-clock time of the check.
    pub elapsed: Duration,
}

impl CheckResult {
    /// The partitions found illegal.
    pub fn illegal_partitions(&self) -> impl Iterator<Item = &PartitionResult> {
        self.partitions
            .iter()
            .filter(|p| p.status == PartitionStatus::Illegal)
    }

    /// Number of partitions with the given status.
    pub fn count(&self, status: PartitionStatus) -> usize {
        self.partitions
            .iter()
            .filter(|p| p.status == status)
            .count()
    }
}
