//! `raftlab check shardkv`: model-check shard migration between two replica groups of
//! the shard group core with stateright.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use raftlab::shard::group::GroupBug;
use raftlab_models::runner::{self, CheckOptions, StopWhen, Strategy};
use raftlab_models::shard_model::{ShardModel, bug_name, parse_bug};

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
    /// Checker threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Breadth-first search (the default); each counterexample is then made a shortest
    /// one by a one-thread search below its depth.
    #[arg(long, conflicts_with_all = ["dfs", "simulate"])]
    bfs: bool,
    /// Depth-first search (this model has no symmetry to reduce: servers are named in
    /// configurations).
    #[arg(long, conflicts_with = "simulate")]
    dfs: bool,
    /// Random walks from this seed until --timeout (default 60 s).
    #[arg(long, value_name = "SEED")]
    simulate: Option<u64>,
    /// Stop after this many seconds (the search is then not exhaustive).
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,
    /// Do not explore past this depth (the search is then not exhaustive).
    #[arg(long)]
    max_depth: Option<usize>,
    /// Stop at the first violated property.
    #[arg(long)]
    first: bool,
    /// No progress line.
    #[arg(long)]
    quiet: bool,
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
        model.bounds.duplicates = self.duplicates;
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
            on(m.bounds.duplicates),
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

/// Runs `raftlab check shardkv`. Exit code 0 when every property holds (or has no
/// counterexample) and every `sometimes` property was reached, 1 on a violation, 2 when
/// a `sometimes` property was not reached, 3 on bad arguments.
pub fn run_check(args: CheckShardArgs) -> ExitCode {
    let model = match args.model() {
        Ok(m) => m,
        Err(e) => {
            eprintln!("raftlab check shardkv: {e}");
            return ExitCode::from(3);
        }
    };
    let strategy = match (args.dfs, args.simulate) {
        (_, Some(seed)) => Strategy::Simulate(seed),
        (true, None) => Strategy::Dfs,
        (false, None) => Strategy::Bfs,
    };
    let timeout = match (args.timeout, strategy) {
        (Some(s), _) => Some(Duration::from_secs(s)),
        (None, Strategy::Simulate(_)) => Some(Duration::from_secs(60)),
        (None, _) => None,
    };
    let options = CheckOptions {
        strategy,
        threads: args.threads.max(1),
        symmetry: false,
        timeout,
        max_depth: args.max_depth,
        stop: if args.first {
            StopWhen::FirstViolation
        } else {
            StopWhen::Exhausted
        },
        progress: !args.quiet,
        shortest: true,
    };
    let search = match strategy {
        Strategy::Bfs => "BFS".to_string(),
        Strategy::Dfs => "DFS".into(),
        Strategy::Simulate(seed) => format!("simulation from seed {seed}"),
    };
    println!(
        "raftlab check shardkv: {}; {search}, {} thread{}",
        describe(&model),
        options.threads,
        if options.threads == 1 { "" } else { "s" }
    );
    let model = model.into_model();
    let report = runner::check(model.clone(), &options);
    println!("{}\n", report.summary());
    print!("{}", report.table());
    print!("{}", report.traces(&model));
    if report.violations().next().is_some() {
        ExitCode::from(1)
    } else if report.exhaustive && report.unreached().next().is_some() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
