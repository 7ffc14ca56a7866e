//! A Raft node's configuration: who it is, how big its cluster is, its timer ranges,
//! and the deliberate bug it carries (none, normally).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

use super::NodeId;

/// A duration to be drawn uniformly from `[min, max)` by the driver; `min == max` means
/// exactly `min`. The core names the range; only the driver owns a random number
/// generator and a clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TimeRange {
    /// The shortest duration.
    pub min: Duration,
    /// The bound above the longest duration (exclusive unless equal to `min`).
    pub max: Duration,
}

impl TimeRange {
    /// A range of whole milliseconds, `[min_ms, max_ms)`.
    pub const fn millis(min_ms: u64, max_ms: u64) -> Self {
        TimeRange {
            min: Duration::from_millis(min_ms),
            max: Duration::from_millis(max_ms),
        }
    }
}

/// Timer ranges of a Raft node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Timing {
    /// How long a follower or candidate waits without hearing from a leader (or
    /// granting a vote) before it starts an election.
    pub election: TimeRange,
    /// How often a leader sends AppendEntries to every peer when it has nothing new.
    /// The lab allows at most ten heartbeats per second.
    pub heartbeat: TimeRange,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            election: TimeRange::millis(300, 600),
            heartbeat: TimeRange::millis(100, 100),
        }
    }
}

/// A deliberate protocol bug, for proving that the model checker and the lab suite
/// catch real mistakes. Every switch is off (`None`) unless a test or the
/// `raftlab check --bug NAME` command turns one on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Bug {
    /// Grant a vote to any candidate of the current term, even after voting for
    /// another one.
    VoteTwice,
    /// Grant votes without the "candidate's log is at least as up-to-date" check.
    SkipUpToDateCheck,
    /// Reply to RequestVote without persisting the vote first.
    ForgetToPersistVote,
    /// Commit an entry of an earlier term by counting replicas (the Figure 8 bug).
    CommitOldTermByCount,
    /// Accept AppendEntries from a leader of a stale term.
    AcceptStaleAppend,
    /// Truncate the log after `prev_log_index` on every AppendEntries, even when the
    /// entries already match (a delayed heartbeat then erases acknowledged entries).
    TruncateOnMatch,
    /// Skip the consistency check on `prev_log_term`.
    SkipPrevLogTermCheck,
    /// Follower sets its commit index to `leader_commit` capped by its own last index
    /// instead of by the last entry the leader vouched for.
    CommitBeyondMatch,
    /// Install (and apply) a snapshot even when it is older than what was applied.
    ApplyStaleSnapshot,
    /// Restart with the commit index taken as the last log index instead of the
    /// snapshot index (uncommitted entries get applied after a restart).
    CommitAllOnRestart,
}

impl Bug {
    /// Every bug, in a stable order.
    pub const ALL: [Bug; 10] = [
        Bug::VoteTwice,
        Bug::SkipUpToDateCheck,
        Bug::ForgetToPersistVote,
        Bug::CommitOldTermByCount,
        Bug::AcceptStaleAppend,
        Bug::TruncateOnMatch,
        Bug::SkipPrevLogTermCheck,
        Bug::CommitBeyondMatch,
        Bug::ApplyStaleSnapshot,
        Bug::CommitAllOnRestart,
    ];

    /// The kebab-case name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Bug::VoteTwice => "vote-twice",
            Bug::SkipUpToDateCheck => "skip-up-to-date-check",
            Bug::ForgetToPersistVote => "forget-to-persist-vote",
            Bug::CommitOldTermByCount => "commit-old-term-by-count",
            Bug::AcceptStaleAppend => "accept-stale-append",
            Bug::TruncateOnMatch => "truncate-on-match",
            Bug::SkipPrevLogTermCheck => "skip-prev-log-term-check",
            Bug::CommitBeyondMatch => "commit-beyond-match",
            Bug::ApplyStaleSnapshot => "apply-stale-snapshot",
            Bug::CommitAllOnRestart => "commit-all-on-restart",
        }
    }

    /// Looks a bug up by its command-line name.
    pub fn from_name(name: &str) -> Option<Bug> {
        Bug::ALL.into_iter().find(|b| b.name() == name)
    }
}

impl fmt::Display for Bug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The configuration of one Raft node.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Config {
    /// This node's id, in `0..peers`.
    pub me: NodeId,
    /// The number of nodes in the cluster, this one included (at most 64).
    pub peers: usize,
    /// Timer ranges.
    pub timing: Timing,
    /// The most entries one AppendEntries carries (a far-behind follower catches up in
    /// several round trips rather than in one huge message).
    pub max_append_entries: usize,
    /// The deliberate bug this node carries, if any.
    pub bug: Option<Bug>,
}

impl Config {
    /// The largest cluster a node supports (votes are kept in a 64-bit set).
    pub const MAX_PEERS: usize = 64;

    /// The default of `max_append_entries`.
    pub const DEFAULT_MAX_APPEND_ENTRIES: usize = 256;

    /// Node `me` of a cluster of `peers`, with default timing and no bug.
    pub fn new(me: NodeId, peers: usize) -> Self {
        Config {
            me,
            peers,
            timing: Timing::default(),
            max_append_entries: Self::DEFAULT_MAX_APPEND_ENTRIES,
            bug: None,
        }
    }

    /// The same configuration with a deliberate bug switched on.
    pub fn with_bug(mut self, bug: Option<Bug>) -> Self {
        self.bug = bug;
        self
    }

    /// Checks that the configuration makes sense, naming the field that does not.
    pub fn validate(&self) -> Result<(), String> {
        if self.peers == 0 || self.peers > Self::MAX_PEERS {
            return Err(format!(
                "peers = {}: a cluster has 1 to {} nodes",
                self.peers,
                Self::MAX_PEERS
            ));
        }
        if self.max_append_entries == 0 {
            return Err("max_append_entries = 0: a leader could never send an entry".into());
        }
        if self.me >= self.peers {
            return Err(format!(
                "me = {} is not below peers = {}",
                self.me, self.peers
            ));
        }
        for (field, r) in [
            ("timing.election", self.timing.election),
            ("timing.heartbeat", self.timing.heartbeat),
        ] {
            if r.min > r.max || r.max.is_zero() {
                return Err(format!("{field} = {r:?}: need 0 < max and min <= max"));
            }
        }
        Ok(())
    }

    /// The number of votes (or replicas) that make a majority.
    pub fn majority(&self) -> usize {
        self.peers / 2 + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bug_name_reads_back_as_that_bug() {
        for bug in Bug::ALL {
            assert_eq!(Bug::from_name(bug.name()), Some(bug), "{bug:?}");
            assert_eq!(bug.to_string(), bug.name());
        }
        let mut names: Vec<_> = Bug::ALL.iter().map(|b| b.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Bug::ALL.len(), "two bugs share a name");
        let mut bugs = Bug::ALL.to_vec();
        bugs.sort_unstable();
        bugs.dedup();
        assert_eq!(bugs.len(), Bug::ALL.len(), "a bug is listed twice");
    }

    #[test]
    fn unknown_bug_names_are_refused() {
        for name in [
            "",
            "nonsense",
            "VOTE-TWICE",
            "vote_twice",
            " vote-twice",
            "vote",
        ] {
            assert_eq!(Bug::from_name(name), None, "{name:?}");
        }
    }
}
