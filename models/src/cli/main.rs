//! `raftlab`: the command line of the workspace.

mod check_cmd;
mod check_kv_cmd;
mod check_shard_cmd;
mod cluster_cmd;
mod dslogs_cmd;
mod history_report;
mod serve_cmd;
mod sim_cmd;
mod sim_kv_cmd;
mod sim_shardkv_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "raftlab",
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
    /// safety, snapshots, persistence (see `raftlab_models::properties`).
    Raft(check_cmd::CheckRaftArgs),
    /// The Lab 4 key/value service (servers and clerks): linearizability of the client
    /// history, and the Raft properties (see `raftlab_models::kv_model`).
    Kv(check_kv_cmd::CheckKvArgs),
    /// Shard migration between two groups of the shard group core: one owner per shard
    /// and configuration, acknowledged writes kept, writes applied once, linearizable
    /// clients (see `raftlab_models::shard_properties`).
    Shardkv(check_shard_cmd::CheckShardArgs),
}

#[derive(Subcommand)]
enum ExploreSystem {
    /// The Raft core's model.
    Raft(check_cmd::ExploreRaftArgs),
    /// The Lab 4 key/value service's model.
    Kv(check_kv_cmd::ExploreKvArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Sim {
            system: SimSystem::Raft(args),
        } => sim_cmd::run_raft(args),
        Command::Sim {
            system: SimSystem::Kv(args),
        } => sim_kv_cmd::run_kv(args),
        Command::Check {
            system: CheckSystem::Raft(args),
        } => check_cmd::run_check(args),
        Command::Check {
            system: CheckSystem::Shardkv(args),
        } => check_shard_cmd::run_check(args),
        Command::Explore {
            system: ExploreSystem::Raft(args),
        } => check_cmd::run_explore(args),
        Command::Check {
            system: CheckSystem::Kv(args),
        } => check_kv_cmd::run_check(args),
        Command::Explore {
            system: ExploreSystem::Kv(args),
        } => check_kv_cmd::run_explore(args),
        Command::Sim {
            system: SimSystem::Shardkv(args),
        } => sim_shardkv_cmd::run_shardkv(args),
        Command::Dslogs(args) => dslogs_cmd::run(args),
        Command::Serve(args) => serve_cmd::run(args),
        Command::Cluster(args) => cluster_cmd::run(args),
        Command::Lincheck { args } => {
            let code = raftlab_checker::cli::main(args);
            ExitCode::from(u8::try_from(code).unwrap_or(3))
        }
    }
}
