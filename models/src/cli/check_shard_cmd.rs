//! `raftlab check shardkv`: model-check shard migration between two replica groups of
//! the shard group core with stateright.

use std::process::ExitCode;

use crate::cluster::Duplicates;
use crate::runner::Strategy;
use crate::shard_model::{ShardModel, bug_name, parse_bug};
use clap::Args;
use raftlab::shard::group::GroupBug;

use crate::cli::check_cmd::{SearchArgs, run_search};
use crate::cli::exit;

/// Options of `raftlab check shardkv`.
#[derive(Args, Debug, Clone)]
pub struct CheckShardArgs {
    /// Servers per group (each group runs Raft among them).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=3))]
    group_size: u64,
    /// Clients (each appends its own token to key "1", then reads it).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=2))]
    clients: u64,
    /// Operations per client: 1 (the append) or 2 (the append, then a Get).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=2))]
    ops: u64,
    /// Configurations: 2 (shard 9 moves from group 100 to 101) or 3 (and back).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(2..=3))]
    configs: u64,
    /// The most calls one node makes (controller queries, shard transfers, key/value
    /// requests; retries counted).
    #[arg(long, default_value_t = 10)]
    max_calls: u32,
    /// The highest Raft term explored.
    #[arg(long, default_value_t = 3)]
    max_term: u64,
    /// The most messages in flight at once.
    #[arg(long, default_value_t = 3)]
    max_in_flight: usize,
    /// The most crashes of group servers in one run (a crashed server keeps only what
    /// it persisted, and restarts from it).
    #[arg(long, default_value_t = 1)]
    crashes: u32,
    /// Servers snapshot once their persisted Raft state reaches this many bytes (by
    /// default they never do).
    #[arg(long, value_name = "BYTES")]
    snapshot_bytes: Option<usize>,
    /// The network never loses messages.
    #[arg(long)]
    no_drops: bool,
    /// The network may duplicate messages.
    #[arg(long)]
    duplicates: bool,
    /// Switch on a deliberate bug in every group server: serve-before-arrival,
    /// delete-before-ack or skip-configs.
    #[arg(long, value_parser = parse_bug)]
    bug: Option<GroupBug>,
    /// With --bug: ignore the other bounds and use the small ones known to expose it
    /// (`ShardModel::exposing`, the bounds the tests pin its shortest counterexample
    /// under).
    #[arg(long, requires = "bug")]
    bug_bounds: bool,
    #[command(flatten)]
    search: SearchArgs,
}

impl CheckShardArgs {
    /// The model these arguments describe.
    pub fn model(&self) -> Result<ShardModel, String> {
        if let (true, Some(bug)) = (self.bug_bounds, self.bug) {
            return Ok(ShardModel::exposing(bug));
        }
        let mut model = ShardModel::new(self.group_size as usize, self.clients as usize);
        model.ops = self.ops as usize;
        model.configs = self.configs as usize;
        model.max_calls = self.max_calls;
        model.max_term = self.max_term;
        model.max_raft_state = self.snapshot_bytes;
        model.bug = self.bug;
        model.bounds.max_in_flight = self.max_in_flight;
        model.bounds.max_crashes = self.crashes;
        model.bounds.drops = !self.no_drops;
        model.bounds.duplicates = if self.duplicates {
            Duplicates::Redeliver
        } else {
            Duplicates::Off
        };
        model.validate()?;
        Ok(model)
    }
}

/// One line describing the model's bounds.
fn describe(m: &ShardModel) -> String {
    {
        format!(
            "2 groups x {} server{}, {} client{} x {} op{}, {} configurations, <= {} calls in all, terms <= {}, <= {} in flight, <= {} crashes, snapshots {}, drops {}, duplicates {}, bug {}",
            m.group_size,
            plural(m.group_size),
            m.clients,
            plural(m.clients),
            m.ops,
            plural(m.ops),
            m.configs,
            m.max_calls,
            m.max_term,
            m.bounds.max_in_flight,
            m.bounds.max_crashes,
            m.max_raft_state
                .map_or("off".to_string(), |b| format!("at {b} bytes")),
            on(m.bounds.drops),
            m.bounds.duplicates.describe(),
            m.bug.map_or("none", bug_name)
        )
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn on(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

/// Runs `raftlab check shardkv`, with the exit codes of [`run_search`] (3 on bad
/// arguments).
pub fn run_check(args: CheckShardArgs) -> ExitCode {
    let model = match args.model() {
        Ok(m) => m,
        Err(e) => {
            err!("raftlab check shardkv: {e}");
            return exit::code(exit::USAGE);
        }
    };
    run_search(
        "raftlab check shardkv",
        &describe(&model),
        model.into_model(),
        &args.search,
        Strategy::Bfs,
    )
}
