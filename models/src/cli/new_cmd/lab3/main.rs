//! `cargo run --release -- <command>`: raftlab's commands on your Raft.
//!
//! - `check raft [--max-term N] [--max-log N] [--max-in-flight N] [--bfs] ...`: model-check
//!   it (every interleaving up to the bounds; `--help` lists them);
//! - `sim raft [--seed N] [--seconds S] [--trace OUT.jsonl]`: a long chaos run in the
//!   simulator;
//! - `explore raft`: click through its states in stateright's Explorer;
//! - `dslogs`: lay out `VERBOSE=1` test output one column per server.

use std::process::ExitCode;

use raftlab_models::cli::kit::{ModelCmd, SimCmd, lab3_main};
use {{lib}}::MyRaft;

fn main() -> ExitCode {
    lab3_main::<MyRaft<SimCmd>, MyRaft<ModelCmd>>()
}
