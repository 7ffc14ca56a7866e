//! `raftlab sim kv`: the Lab 4 key/value service in the simulator under a random
//! workload and faults; the history is checked for linearizability.
//!
//! With `RAFTLAB_HISTORY_DIR=dir` set, the history is also written to
//! `dir/sim.kv.<seed>.jsonl`, for `raftlab lincheck`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clap::Args;
use raftlab::harness::kv::chaos::{KvChaosOptions, KvChaosRun};
use raftlab_checker::report::duration;

use crate::cli::history_report::{self, HtmlFile, parse_budget};
use crate::cli::sim_cmd::{MAX_SECONDS, clock_seed, count, progress_bar};
use crate::cli::{exit, interrupt, quiet_panic};

/// Options of `raftlab sim kv`.
#[derive(Args, Debug, Clone)]
pub struct SimKvArgs {
    /// Servers in the Raft group, 1 to 64.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub servers: u64,
    /// Concurrent clients, 1 to 100.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub clients: u64,
    /// Keys the clients share (at least 1).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub keys: u64,
    /// Virtual seconds of workload, 0 to 3600 (then the clients finish their last
    /// operation).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=MAX_SECONDS))]
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

/// Runs `raftlab sim kv`: 0 if the history is linearizable, 1 if not (or if a check
/// of the harness failed), 2 if the check ran out of time, 3 if the HTML view cannot
/// be written, 130 on Ctrl-C.
pub fn run_kv(args: SimKvArgs) -> ExitCode {
    let command = "raftlab sim kv";
    let seed = args.seed.unwrap_or_else(clock_seed);
    let html = match HtmlFile::create(command, args.html.as_deref()) {
        Ok(h) => h,
        Err(code) => return code,
    };
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
    // Ctrl-C from here on stops the run at its next slice.
    let stop = interrupt::watch();
    out!(
        "{command}: {}, {}, {}, {} virtual seconds, seed {seed}",
        count(args.servers, "server"),
        count(args.clients, "client"),
        count(args.keys, "key"),
        args.seconds
    );
    let replay = replay_command(&args, seed);
    let started = Instant::now();
    let bar = progress_bar(args.seconds, args.quiet);
    let outcome = quiet_panic::catch(|| {
        let run = KvChaosRun::start(options);
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
    let (progress, counts, history) = match outcome {
        Ok(Ok(end)) => end,
        Ok(Err(at)) => return interrupted(at, seed, &replay),
        Err(msg) => return failed(&msg, seed, &replay, args.servers),
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
        "  storage        largest Raft state {} B, largest snapshot {} B",
        progress.max_raft_state,
        progress.max_snapshot
    );
    out!("  elections      {}", progress.elections);
    out!(
        "  chaos          {} partitions, {} crashes, {} unreliable periods",
        counts.partitions,
        counts.crashes,
        counts.unreliable_periods
    );
    out!(
        "  time           {secs:.1} virtual s; simulated in {:.2} s, checked in {}",
        sim_time.as_secs_f64(),
        duration(checked.time)
    );
    out!("  verdict        {}", checked.result.verdict);
    out!("  seed           {seed}");
    history.write_to_history_dir("sim", "kv", seed);
    if let Some(html) = html
        && let Err(code) = html.write(&ops, &checked, format!("{command}, seed {seed}"))
    {
        return code;
    }
    history_report::exit_code(checked.result.verdict, &replay)
}

/// Says that Ctrl-C stopped the run at virtual time `at`: exit code 130.
pub(crate) fn interrupted(at: Duration, seed: u64, replay: &str) -> ExitCode {
    err!(
        "interrupted at {:.1} virtual s, before the end of the run: the history was not checked",
        at.as_secs_f64()
    );
    err!("  seed:   {seed}");
    err!("  replay: {replay}");
    exit::code(exit::INTERRUPTED)
}

/// Says that a check of the harness failed (or the run got stuck) with `msg`: exit
/// code 1.
pub(crate) fn failed(msg: &str, seed: u64, replay: &str, columns: u64) -> ExitCode {
    err!("FAILURE (a check of the harness, or the run got stuck): {msg}");
    err!("  seed:   {seed}");
    err!("  replay: {replay}");
    err!("  logs:   VERBOSE=1 {replay} | cargo run --release -- dslogs -c {columns}");
    exit::code(exit::FAILED)
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
