//! The model checks of a student crate (see `raftlab new`): the Raft model and the
//! key/value model over any [`RaftCore`], run as tests.
//!
//! [`model_check_raft`] runs the Raft model of [`crate::raft_model`] with the servers
//! running the core `R`, [`model_check_kv`] the key/value model of [`crate::kv_model`]
//! (raftlab's servers and clerks, each server's Raft `R`). Each prints what `raftlab
//! check` prints (the summary, the table of properties, and a trace of every
//! counterexample, step by step), and fails the test unless every property held (or
//! was reached) in an exhaustive search.

use raftlab::kv;
use raftlab::raft::RaftCore;

use crate::cluster::{ClusterModel, Protocol};
use crate::kv_model::KvModel;
use crate::raft_model::{Cmd, RaftModel};
use crate::runner::{self, CheckOptions, Strategy};

/// Checks the Raft model `model` exhaustively with a depth-first search on every core
/// (with symmetry reduction when `R` renames nodes, [`RaftCore::SYMMETRIC`]), printing
/// the report.
///
/// # Panics
/// When a property is violated (the counterexample is printed above the panic), a
/// `sometimes` property was never reached, or the search was cut short.
pub fn model_check_raft<R: RaftCore<Cmd>>(model: RaftModel<R>) {
    if let Err(e) = model.validate() {
        panic!("the model's bounds: {e}");
    }
    let bounds = model.describe();
    check::<R, _>(&bounds, model.into_model(), R::SYMMETRIC);
}

/// Checks the key/value model `model` exhaustively (a depth-first search on every
/// core; this model has no symmetry reduction), printing the report.
///
/// # Panics
/// As [`model_check_raft`].
pub fn model_check_kv<R: RaftCore<kv::Request>>(model: KvModel<R>) {
    if let Err(e) = model.validate() {
        panic!("the model's bounds: {e}");
    }
    let bounds = model.describe();
    check::<R, _>(&bounds, model.into_model(), false);
}

fn check<R, P: Protocol>(bounds: &str, model: ClusterModel<P>, symmetry: bool) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let options = CheckOptions {
        strategy: Strategy::Dfs,
        threads,
        symmetry,
        ..CheckOptions::default()
    };
    println!(
        "model check of {}: {bounds}; DFS{}, {threads} thread{}",
        std::any::type_name::<R>(),
        if options.symmetry {
            " with symmetry reduction"
        } else {
            ""
        },
        if threads == 1 { "" } else { "s" }
    );
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
