//! raftlab-checker: a linearizability checker for client histories.
//!
//! A history (a list of [`Operation`]s: client, input, call time, output, return
//! time) is linearizable with respect to a sequential specification (a [`Model`]) if
//! every operation can be given a point in its interval at which it takes effect
//! atomically, such that the outputs are the model's. [`check()`] decides it:
//!
//! 1. [`Model::partition`] splits the history into independent parts (for the
//!    key/value model, one per key); the history is linearizable iff each part is.
//! 2. Each part is searched by the Wing-Gong/Lowe algorithm with a memo of
//!    (linearized set, state) configurations (see the `search` module), as a
//!    resumable task.
//! 3. The tasks run round-robin on a pool of threads (`pool`), so that an easy
//!    illegal part is found however hard the others are; the first illegal part
//!    cancels the rest unless every part is wanted (verbose mode); a time budget
//!    turns unfinished parts into an Unknown verdict.
//!
//! In verbose mode ([`CheckOptions::verbose`]) the check records, for each operation,
//! the longest partial linearization that contains it; [`html::render`] draws the
//! history and those linearizations as one self-contained HTML page.
//!
//! The lab tests use [`kv::check_history`]; the `raftlab lincheck` command is
//! [`cli::main`].

pub mod check;
pub mod cli;
pub mod format;
pub mod generate;
mod hash;
pub mod history;
pub mod html;
pub mod kv;
pub mod model;
pub mod models;
pub(crate) mod pool;
pub mod report;
pub mod result;
pub(crate) mod search;
pub(crate) mod sync;

pub use check::{CheckOptions, check};
pub use history::{
    Annotation, Event, EventKind, HistoryError, Operation, Time, operations_from_events,
};
pub use model::{Model, NondeterministicModel, Partition, PowerSet, Unpruned};
pub use result::{
    Attempt, CheckResult, LinStep, Linearizations, PartitionResult, PartitionStatus, SearchStats,
    Verdict,
};
