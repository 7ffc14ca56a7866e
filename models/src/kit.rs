//! The model checks of a student crate (see `raftlab new`): the Raft model over any
//! [`RaftCore`], run as a test.
//!
//! [`model_check_raft`] runs the Raft model of [`crate::raft_model`] with the servers
//! running the core `R`, prints what `raftlab check raft` prints (the summary, the table
//! of properties, and a trace of every counterexample, step by step), and fails the
//! test unless every property held (or was reached) in an exhaustive search.

use raftlab::raft::RaftCore;

use crate::raft_model::{Cmd, RaftModel};
use crate::runner::{self, CheckOptions, Strategy};

/// Checks `model` exhaustively with a depth-first search on every core (with symmetry
/// reduction when `R` renames nodes, [`RaftCore::SYMMETRIC`]), printing the report.
///
/// # Panics
/// When a property is violated (the counterexample is printed above the panic), a
/// `sometimes` property was never reached, or the search was cut short.
pub fn model_check_raft<R: RaftCore<Cmd>>(model: RaftModel<R>) {
    if let Err(e) = model.validate() {
        panic!("the model's bounds: {e}");
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let options = CheckOptions {
        strategy: Strategy::Dfs,
        threads,
        symmetry: R::SYMMETRIC,
        ..CheckOptions::default()
    };
    println!(
        "model check of {}: {}; DFS{}, {threads} thread{}",
        std::any::type_name::<R>(),
        model.describe(),
        if options.symmetry {
            " with symmetry reduction"
        } else {
            ""
        },
        if threads == 1 { "" } else { "s" }
    );
    let model = model.into_model();
    let report = runner::check(model.clone(), &options);
    println!("{}\n", report.summary());
    print!("{}", report.table());
    print!("{}", report.traces(&model));
    if let Some(p) = report.violations().next() {
        panic!(
            "{}: violated at depth {} (the trace is above)",
            p.name,
            p.depth().unwrap_or(0)
        );
    }
    report.assert_all_hold();
}
