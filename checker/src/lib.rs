//! raftlab-checker: a linearizability checker for client histories.
//!
//! This crate is being built (issue 3); for now it only provides the command-line
//! entry point that the `raftlab` binary dispatches to.

pub mod cli;
