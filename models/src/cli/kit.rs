//! The command line of a student crate (see `raftlab new`): the commands of `raftlab`
//! that run a Raft core, run on the crate's own. `cargo run --release -- check raft`
//! in the crate model-checks its Raft with every flag of `raftlab check raft`;
//! `sim raft` and `explore raft` likewise; `dslogs` lays out its logs. A Lab 4 crate
//! ([`lab4_main`]) also has `check kv` and `explore kv`: the key/value model with each
//! server's Raft the crate's.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use raftlab::raft::RaftCore;

use crate::cli::{check_cmd, check_kv_cmd, dslogs_cmd, parse, sim_cmd};
pub use crate::raft_model::Cmd as ModelCmd;
pub use raftlab::harness::raft::Cmd as SimCmd;
pub use raftlab::kv::Request as KvModelCmd;

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

/// The Lab 4 commands: Lab 3's, and the key/value model.
#[derive(Parser)]
#[command(about = "Your Raft under raftlab's Lab 4 service: simulate, model-check, read the logs")]
struct Lab4Cli {
    #[command(subcommand)]
    command: Lab4Command,
}

#[derive(Subcommand)]
enum Lab4Command {
    /// Run your Raft in the deterministic simulator under chaos, checking safety.
    Sim {
        #[command(subcommand)]
        system: Lab3System<sim_cmd::SimRaftArgs>,
    },
    /// Model-check with stateright: every interleaving up to the bounds.
    Check {
        #[command(subcommand)]
        system: Lab4System<check_cmd::CheckRaftArgs, check_kv_cmd::CheckKvArgs>,
    },
    /// Serve stateright's Explorer on localhost to click through the states.
    Explore {
        #[command(subcommand)]
        system: Lab4System<check_cmd::ExploreRaftArgs, check_kv_cmd::ExploreKvArgs>,
    },
    /// Lay out VERBOSE logs or a --trace file in one column per server.
    Dslogs(dslogs_cmd::DslogsArgs),
}

#[derive(Subcommand)]
enum Lab4System<A: clap::Args, K: clap::Args> {
    /// Your Raft alone.
    Raft(A),
    /// raftlab's key/value servers and clerks, each server's Raft yours:
    /// linearizability of the clients' history, and the Raft properties.
    Kv(K),
}

/// Runs the Lab 4 command line with a core of the crate: `S` over the simulator's
/// commands, `M` over the Raft model's and `K` over the key/value model's (the
/// servers' requests), for example
/// `lab4_main::<MyRaft<SimCmd>, MyRaft<ModelCmd>, MyRaft<KvModelCmd>>()`.
pub fn lab4_main<S: RaftCore<SimCmd>, M: RaftCore<ModelCmd>, K: RaftCore<KvModelCmd>>() -> ExitCode
{
    let cli: Lab4Cli = match parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    match cli.command {
        Lab4Command::Sim {
            system: Lab3System::Raft(args),
        } => sim_cmd::run_raft::<S>(args),
        Lab4Command::Check { system } => match system {
            Lab4System::Raft(args) => check_cmd::run_check::<M>(args),
            Lab4System::Kv(args) => check_kv_cmd::run_check::<K>(args),
        },
        Lab4Command::Explore { system } => match system {
            Lab4System::Raft(args) => check_cmd::run_explore::<M>(args),
            Lab4System::Kv(args) => check_kv_cmd::run_explore::<K>(args),
        },
        Lab4Command::Dslogs(args) => dslogs_cmd::run(args),
    }
}
