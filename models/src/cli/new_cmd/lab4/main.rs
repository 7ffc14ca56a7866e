//! `cargo run --release -- <command>`: raftlab's commands on your Raft.
//!
//! - `check raft [...]`: model-check your Raft alone (`--help` lists the bounds);
//! - `check kv [...]`: model-check the key/value service over it: servers, clerks,
//!   a lossy network, crashes, and linearizability of the clients' history;
//! - `sim raft [--seed N] [--seconds S] [--trace OUT.jsonl]`: a long chaos run;
//! - `explore raft`, `explore kv`: click through the states in stateright's Explorer;
//! - `dslogs`: lay out `VERBOSE=1` test output one column per server.

use std::process::ExitCode;

use raftlab_models::cli::kit::{KvModelCmd, ModelCmd, SimCmd, lab4_main};
use {{lib}}::MyRaft;

fn main() -> ExitCode {
    lab4_main::<MyRaft<SimCmd>, MyRaft<ModelCmd>, MyRaft<KvModelCmd>>()
}
