//! The command line of a student crate (see `raftlab new`): the commands of `raftlab`
//! that run a Raft core, run on the crate's own. `cargo run --release -- check raft`
//! in the crate model-checks its Raft with every flag of `raftlab check raft`;
//! `sim raft` and `explore raft` likewise; `dslogs` lays out its logs.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use raftlab::raft::RaftCore;

use crate::cli::{check_cmd, dslogs_cmd, parse, sim_cmd};
pub use crate::raft_model::Cmd as ModelCmd;
pub use raftlab::harness::raft::Cmd as SimCmd;

/// The Lab 3 commands.
#[derive(Parser)]
#[command(about = "Your Raft under raftlab: simulate, model-check, read the logs")]
struct Lab3Cli {
    #[command(subcommand)]
    command: Lab3Command,
}

#[derive(Subcommand)]
enum Lab3Command {
    /// Run your Raft in the deterministic simulator under chaos, checking safety.
    Sim {
        #[command(subcommand)]
        system: Lab3System<sim_cmd::SimRaftArgs>,
    },
    /// Model-check your Raft with stateright: every interleaving up to the bounds.
    Check {
        #[command(subcommand)]
        system: Lab3System<check_cmd::CheckRaftArgs>,
    },
    /// Serve stateright's Explorer on localhost to click through your Raft's states.
    Explore {
        #[command(subcommand)]
        system: Lab3System<check_cmd::ExploreRaftArgs>,
    },
    /// Lay out VERBOSE logs or a --trace file in one column per server.
    Dslogs(dslogs_cmd::DslogsArgs),
}

#[derive(Subcommand)]
enum Lab3System<A: clap::Args> {
    /// Your Raft.
    Raft(A),
}

/// Runs the Lab 3 command line (`std::env::args`) with a core of the crate: `S` is it
/// over the simulator's commands (`sim raft`), `M` over the model's (`check raft`,
/// `explore raft`), for example `lab3_main::<MyRaft<SimCmd>, MyRaft<ModelCmd>>()`.
/// Returns the process's exit code (the codes of `raftlab`).
pub fn lab3_main<S: RaftCore<SimCmd>, M: RaftCore<ModelCmd>>() -> ExitCode {
    let cli: Lab3Cli = match parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    match cli.command {
        Lab3Command::Sim {
            system: Lab3System::Raft(args),
        } => sim_cmd::run_raft::<S>(args),
        Lab3Command::Check {
            system: Lab3System::Raft(args),
        } => check_cmd::run_check::<M>(args),
        Lab3Command::Explore {
            system: Lab3System::Raft(args),
        } => check_cmd::run_explore::<M>(args),
        Lab3Command::Dslogs(args) => dslogs_cmd::run(args),
    }
}
