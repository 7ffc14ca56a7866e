//! `raftlab`: the command line of the workspace.
//!
//! One module per command (`sim_cmd`, `check_cmd`, ...); each subcommand group below
//! is an enum whose `run` dispatches to them, so a new command is a variant and an
//! arm. Every command ends with one of the codes of `exit`; output goes through
//! `out!` and `err!`, which ignore a reader that went away (`| head`).

/// `println!` that ignores a closed standard output (`| head`): the command goes on
/// and its exit code still tells the result.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `eprintln!` that ignores a closed standard error.
macro_rules! err {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod check_cmd;
mod check_kv_cmd;
mod check_shard_cmd;
mod cluster_cmd;
mod dslogs_cmd;
mod exit;
mod history_report;
mod interrupt;
pub mod kit;
mod new_cmd;
mod quiet_panic;
mod serve_cmd;
mod sim_cmd;
mod sim_kv_cmd;
mod sim_shardkv_cmd;
mod torture;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use raftlab::harness::raft::Cmd;
use raftlab::kv;
use raftlab::raft::Raft;

use crate::raft_model;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "raftlab",
    version,
    about = "MIT 6.5840 systems as pure cores: simulate, model-check, check histories"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a system in the deterministic simulator under chaos, checking safety.
    Sim {
        #[command(subcommand)]
        system: SimSystem,
    },
    /// Model-check a core with stateright: every interleaving up to the bounds.
    Check {
        #[command(subcommand)]
        system: CheckSystem,
    },
    /// Serve stateright's Explorer on localhost to click through a model's states.
    Explore {
        #[command(subcommand)]
        system: ExploreSystem,
    },
    /// Lay out VERBOSE logs or a --trace file in one column per server, a colour per topic.
    Dslogs(dslogs_cmd::DslogsArgs),
    /// Run one key/value server of a real cluster: Raft over TCP, a durable data
    /// directory, the Redis protocol for clients.
    Serve(serve_cmd::ServeArgs),
    /// Start a local cluster of `raftlab serve` processes on 127.0.0.1 and show who
    /// leads; Ctrl-C stops it.
    Cluster(cluster_cmd::ClusterArgs),
    /// Run real `raftlab serve` processes under kill, pause and partition faults, check
    /// the clients' history for linearizability and look for every acknowledged write.
    Torture(torture::TortureArgs),
    /// Write a crate for doing a lab yourself: your Raft under raftlab's lab suite,
    /// model checker and log viewer (`raftlab new lab3 my-raft`).
    New(new_cmd::NewArgs),
    /// Check a client history for linearizability (see `raftlab lincheck --help`).
    #[command(disable_help_flag = true)]
    Lincheck {
        /// Arguments passed on to the checker.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

#[derive(Subcommand)]
enum SimSystem {
    /// A Raft cluster under partitions, crashes and unreliable periods.
    Raft(sim_cmd::SimRaftArgs),
    /// The Lab 4 key/value service under a random workload; checks linearizability.
    Kv(sim_kv_cmd::SimKvArgs),
    /// The Lab 5 sharded key/value service under joins, leaves and faults; checks
    /// linearizability.
    Shardkv(sim_shardkv_cmd::SimShardKvArgs),
}

#[derive(Subcommand)]
enum CheckSystem {
    /// The Raft core: election safety, log matching, leader completeness, state machine
    /// safety, snapshots, persistence (see `crate::properties`).
    Raft(check_cmd::CheckRaftArgs),
    /// The Lab 4 key/value service (servers and clerks): linearizability of the client
    /// history, and the Raft properties (see `crate::kv_model`).
    Kv(check_kv_cmd::CheckKvArgs),
    /// Shard migration between two groups of the shard group core: one owner per shard
    /// and configuration, acknowledged writes kept, writes applied once, linearizable
    /// clients (see `crate::shard_properties`).
    Shardkv(check_shard_cmd::CheckShardArgs),
}

#[derive(Subcommand)]
enum ExploreSystem {
    /// The Raft core's model.
    Raft(check_cmd::ExploreRaftArgs),
    /// The Lab 4 key/value service's model.
    Kv(check_kv_cmd::ExploreKvArgs),
}

impl Command {
    fn run(self) -> ExitCode {
        match self {
            Command::Sim { system } => system.run(),
            Command::Check { system } => system.run(),
            Command::Explore { system } => system.run(),
            Command::Dslogs(args) => dslogs_cmd::run(args),
            Command::Serve(args) => serve_cmd::run(args),
            Command::Cluster(args) => cluster_cmd::run(args),
            Command::Torture(args) => torture::run(args),
            Command::New(args) => new_cmd::run(args),
            Command::Lincheck { args } => {
                let code = raftlab_checker::cli::main(args);
                exit::code(u8::try_from(code).unwrap_or(exit::USAGE))
            }
        }
    }
}

impl SimSystem {
    fn run(self) -> ExitCode {
        match self {
            SimSystem::Raft(args) => sim_cmd::run_raft::<Raft<Cmd>>(args),
            SimSystem::Kv(args) => sim_kv_cmd::run_kv(args),
            SimSystem::Shardkv(args) => sim_shardkv_cmd::run_shardkv(args),
        }
    }
}

impl CheckSystem {
    fn run(self) -> ExitCode {
        match self {
            CheckSystem::Raft(args) => check_cmd::run_check::<Raft<raft_model::Cmd>>(args),
            CheckSystem::Kv(args) => check_kv_cmd::run_check::<Raft<kv::Request>>(args),
            CheckSystem::Shardkv(args) => check_shard_cmd::run_check(args),
        }
    }
}

impl ExploreSystem {
    fn run(self) -> ExitCode {
        match self {
            ExploreSystem::Raft(args) => check_cmd::run_explore::<Raft<raft_model::Cmd>>(args),
            ExploreSystem::Kv(args) => check_kv_cmd::run_explore::<Raft<kv::Request>>(args),
        }
    }
}

/// Every command and subcommand reads `-1` as a value (so that `--seed -1` is told
/// it is not a number, rather than that `-1` is an unknown flag).
fn negative_numbers(cmd: clap::Command) -> clap::Command {
    cmd.allow_negative_numbers(true)
        .mut_subcommands(negative_numbers)
}

/// The parsed command line; a usage error prints clap's message and is exit code
/// [`exit::USAGE`] (`--help` and `--version` print and exit 0).
fn parse<T: CommandFactory + FromArgMatches>() -> Result<T, ExitCode> {
    negative_numbers(T::command())
        .try_get_matches()
        .and_then(|m| T::from_arg_matches(&m))
        .map_err(|e| {
            let _ = e.print();
            exit::code(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            })
        })
}

/// Runs the command line (`std::env::args`); the process's exit code.
pub fn main() -> ExitCode {
    match parse::<Cli>() {
        Ok(cli) => cli.command.run(),
        Err(code) => code,
    }
}
