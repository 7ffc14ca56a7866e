//! `raftlab sim kv`: the Lab 4 key/value service in the simulator under a random
//! workload and faults; the history is checked for linearizability.
//!
//! With `RAFTLAB_HISTORY_DIR=dir` set, the history is also written to
//! `dir/sim.kv.<seed>.jsonl`, for `raftlab lincheck`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use raftlab::harness::kv::chaos::{KvChaosOptions, KvChaosRun};

use crate::history_report;
use crate::sim_cmd::{clock_seed, progress_bar};

/// Options of `raftlab sim kv`.
#[derive(Args, Debug, Clone)]
pub struct SimKvArgs {
    /// Servers in the Raft group.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub servers: u64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub clients: u64,
    /// Keys the clients share.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub keys: u64,
    /// Virtual seconds of workload.
    #[arg(long, default_value_t = 30)]
    pub seconds: u64,
    /// Seed of every random choice (default: drawn from the clock, and printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Snapshot when the Raft state reaches this many bytes (-1: never).
    #[arg(long, default_value_t = 1000, allow_hyphen_values = true)]
    pub maxraftstate: i64,
    /// Switch the network to unreliable for periods.
    #[arg(long)]
    pub unreliable: bool,
    /// Shut servers down and restart them.
    #[arg(long)]
    pub crashes: bool,
    /// Partition the servers at random.
    #[arg(long)]
    pub partitions: bool,
    /// Time budget of the linearizability check, in seconds.
    #[arg(long, default_value_t = 10.0)]
    pub check_timeout: f64,
    /// Write the history's HTML view here.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs `raftlab sim kv`: 0 if the history is linearizable, 1 if not, 2 if the check
/// ran out of time.
pub fn run_kv(args: SimKvArgs) -> ExitCode {
    let seed = args.seed.unwrap_or_else(clock_seed);
    let options = KvChaosOptions {
        seed,
        servers: args.servers as usize,
        clients: args.clients as usize,
        keys: args.keys as usize,
        duration: Duration::from_secs(args.seconds),
        maxraftstate: args.maxraftstate,
        unreliable: args.unreliable,
        crashes: args.crashes,
        partitions: args.partitions,
    };
    println!(
        "raftlab sim kv: {} servers, {} clients, {} keys, {} virtual seconds, seed {seed}",
        args.servers, args.clients, args.keys, args.seconds
    );
    let started = Instant::now();
    let bar = progress_bar(args.seconds, args.quiet);
    let run = KvChaosRun::start(options);
    while !run.done() {
        run.advance(Duration::from_secs(1));
        let p = run.progress();
        bar.set_position(p.virtual_time.as_secs());
        bar.set_message(format!("{} ops, {} RPCs", p.ops, p.rpcs));
    }
    bar.finish_and_clear();
    let (progress, counts, history) = run.finish();
    let sim_time = started.elapsed();
    let ops = history.ops();
    let checked = match history_report::check_kv(&ops, args.check_timeout) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let secs = progress.virtual_time.as_secs_f64();
    history_report::print_ops(&ops, secs);
    println!(
        "  RPCs           {} ({:.1} per operation)",
        progress.rpcs,
        progress.rpcs as f64 / ops.len().max(1) as f64
    );
    println!("  bytes          {}", progress.bytes);
    println!(
        "  storage        largest Raft state {} B, largest snapshot {} B",
        progress.max_raft_state, progress.max_snapshot
    );
    println!("  elections      {}", progress.elections);
    println!(
        "  chaos          {} partitions, {} crashes, {} unreliable periods",
        counts.partitions, counts.crashes, counts.unreliable_periods
    );
    println!(
        "  time           {secs:.1} virtual s; simulated in {:.2} s, checked in {:.2} s",
        sim_time.as_secs_f64(),
        checked.time.as_secs_f64()
    );
    println!("  verdict        {}", checked.result.verdict);
    println!("  seed           {seed}");
    history.write_to_history_dir("sim", "kv", seed);
    let title = format!("raftlab sim kv, seed {seed}");
    if let Err(code) = history_report::write_html(args.html.as_deref(), &ops, &checked, title) {
        return code;
    }
    history_report::exit_code(checked.result.verdict, &replay_command(&args, seed))
}

/// The command that replays this run.
fn replay_command(args: &SimKvArgs, seed: u64) -> String {
    let mut cmd = format!(
        "cargo run --release -- sim kv --seed {seed} --servers {} --clients {} --keys {} --seconds {} --maxraftstate {}",
        args.servers, args.clients, args.keys, args.seconds, args.maxraftstate
    );
    for (on, flag) in [
        (args.unreliable, " --unreliable"),
        (args.crashes, " --crashes"),
        (args.partitions, " --partitions"),
    ] {
        if on {
            cmd.push_str(flag);
        }
    }
    cmd
}
