//! `raftlab sim shardkv`: the sharded key/value service (a controller and three
//! replica groups) in the simulator under a random workload, joins, leaves, crashes
//! and an unreliable network; the history is checked for linearizability.
//!
//! With `RAFTLAB_HISTORY_DIR=dir` set, the history is also written to
//! `dir/sim.shardkv.<seed>.jsonl`, for `raftlab lincheck`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clap::Args;
use raftlab::harness::shard::chaos::{
    FINISH_LIMIT, ShardChaosEnd, ShardChaosOptions, ShardChaosRun,
};

use raftlab_checker::report::duration;

use crate::cli::history_report::{self, HtmlFile, parse_budget};
use crate::cli::sim_cmd::{MAX_SECONDS, clock_seed, count, progress_bar};
use crate::cli::sim_kv_cmd::{failed, interrupted};
use crate::cli::{exit, interrupt, quiet_panic};

/// Options of `raftlab sim shardkv`.
#[derive(Args, Debug, Clone)]
pub struct SimShardKvArgs {
    /// Servers in each of the three replica groups, 1 to 9.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=9))]
    pub servers: u64,
    /// Concurrent clients, 1 to 100.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub clients: u64,
    /// Keys the clients share ("0", "1", ...; keys "0".."9" fall in ten distinct shards).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub keys: u64,
    /// Virtual seconds of workload, 0 to 3600 (then everything is healed and the
    /// clients must finish).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=MAX_SECONDS))]
    pub seconds: u64,
    /// Seed of every random choice (default: drawn from the clock, and printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Snapshot when a group server's Raft state reaches this many bytes (-1: never).
    #[arg(long, default_value_t = 1000, allow_hyphen_values = true)]
    pub maxraftstate: i64,
    /// Keep the configuration fixed (by default groups join and leave all along).
    #[arg(long)]
    pub no_reconfigure: bool,
    /// Shut servers and whole groups down and restart them.
    #[arg(long)]
    pub crashes: bool,
    /// Switch the network to unreliable for periods.
    #[arg(long)]
    pub unreliable: bool,
    /// Time budget of the linearizability check, in seconds (0: none).
    #[arg(long, default_value = "10", value_parser = parse_budget)]
    pub check_timeout: f64,
    /// Write the history's HTML view here.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs `raftlab sim shardkv`: 0 if the history is linearizable, 1 if not (or on a
/// liveness failure, or if a check of the harness failed), 2 if the check ran out of
/// time, 3 if the HTML view cannot be written, 130 on Ctrl-C.
pub fn run_shardkv(args: SimShardKvArgs) -> ExitCode {
    let command = "raftlab sim shardkv";
    let seed = args.seed.unwrap_or_else(clock_seed);
    let html = match HtmlFile::create(command, args.html.as_deref()) {
        Ok(h) => h,
        Err(code) => return code,
    };
    let options = ShardChaosOptions {
        seed,
        servers: args.servers as usize,
        clients: args.clients as usize,
        keys: args.keys as usize,
        duration: Duration::from_secs(args.seconds),
        maxraftstate: args.maxraftstate,
        reconfigure: !args.no_reconfigure,
        crashes: args.crashes,
        unreliable: args.unreliable,
    };
    // Ctrl-C from here on stops the run at its next slice.
    let stop = interrupt::watch();
    out!(
        "{command}: 3 groups of {}, {}, {}, {} virtual seconds, seed {seed}",
        count(args.servers, "server"),
        count(args.clients, "client"),
        count(args.keys, "key"),
        args.seconds
    );
    let replay = replay_command(&args, seed);
    let started = Instant::now();
    let bar = progress_bar(args.seconds, args.quiet);
    let outcome = quiet_panic::catch(|| {
        let run = ShardChaosRun::start(options);
        while !run.done() {
            if stop.load(Ordering::SeqCst) {
                return Err(run.progress().virtual_time);
            }
            run.advance(Duration::from_secs(1));
            let p = run.progress();
            bar.set_position(p.virtual_time.as_secs());
            bar.set_message(format!("{} ops, {} RPCs", p.ops, p.rpcs));
        }
        Ok(run.finish())
    });
    interrupt::release();
    bar.finish_and_clear();
    let ShardChaosEnd {
        progress,
        counts,
        history,
    } = match outcome {
        Ok(Ok(Ok(end))) => end,
        Ok(Err(at)) => return interrupted(at, seed, &replay),
        Err(msg) => return failed(&msg, seed, &replay, 3 * args.servers),
        Ok(Ok(Err(stalled))) => {
            err!(
                "LIVENESS FAILURE: with every server up and the network reliable, the clients did not finish within {} virtual s",
                FINISH_LIMIT.as_secs()
            );
            err!(
                "  {} operations completed by {:.1} virtual s",
                stalled.history.len(),
                stalled.progress.virtual_time.as_secs_f64()
            );
            err!("  seed:   {seed}");
            err!("  replay: {replay}");
            err!(
                "  logs:   VERBOSE=1 {replay} | cargo run --release -- dslogs -c {}",
                3 * args.servers
            );
            return exit::code(exit::FAILED);
        }
    };
    let sim_time = started.elapsed();
    let ops = history.ops();
    let checked = match history_report::check_kv(&ops, args.check_timeout) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let secs = progress.virtual_time.as_secs_f64();
    history_report::print_ops(&ops, secs);
    out!(
        "  RPCs           {} ({:.1} per operation)",
        progress.rpcs,
        progress.rpcs as f64 / ops.len().max(1) as f64
    );
    out!("  bytes          {}", progress.bytes);
    out!(
        "  storage        largest Raft state {} B, largest snapshot {} B, all servers {} B",
        progress.max_raft_state,
        progress.max_snapshot,
        progress.total_storage
    );
    out!(
        "  chaos          {} joins, {} leaves, {} server crashes, {} group crashes, {} unreliable periods",
        counts.joins,
        counts.leaves,
        counts.crashes,
        counts.group_crashes,
        counts.unreliable_periods
    );
    out!(
        "  time           {secs:.1} virtual s; simulated in {:.2} s, checked in {}",
        sim_time.as_secs_f64(),
        duration(checked.time)
    );
    out!("  verdict        {}", checked.result.verdict);
    out!("  seed           {seed}");
    history.write_to_history_dir("sim", "shardkv", seed);
    if let Some(html) = html
        && let Err(code) = html.write(&ops, &checked, format!("{command}, seed {seed}"))
    {
        return code;
    }
    history_report::exit_code(checked.result.verdict, &replay)
}

/// The command that replays this run.
fn replay_command(args: &SimShardKvArgs, seed: u64) -> String {
    let mut cmd = format!(
        "cargo run --release -- sim shardkv --seed {seed} --servers {} --clients {} --keys {} --seconds {} --maxraftstate {}",
        args.servers, args.clients, args.keys, args.seconds, args.maxraftstate
    );
    for (on, flag) in [
        (args.no_reconfigure, " --no-reconfigure"),
        (args.crashes, " --crashes"),
        (args.unreliable, " --unreliable"),
    ] {
        if on {
            cmd.push_str(flag);
        }
    }
    cmd
}
