//! `raftlab sim raft`: a long chaos run of a Raft cluster in the simulator, with a
//! progress bar and a summary.

use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use raftlab::harness::raft::{ChaosOptions, ChaosReport, ChaosRun};
use raftlab::raft::Bug;

fn parse_bug(name: &str) -> Result<Bug, String> {
    Bug::from_name(name).ok_or_else(|| {
        format!(
            "no bug named {name:?}; known: {}",
            Bug::ALL.map(|b| b.name()).join(", ")
        )
    })
}

/// Options of `raftlab sim raft`.
#[derive(Args, Debug, Clone)]
pub struct SimRaftArgs {
    /// Number of Raft peers.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub servers: u64,
    /// Number of concurrent clients.
    #[arg(long, default_value_t = 3)]
    pub clients: u64,
    /// Virtual seconds of chaos.
    #[arg(long, default_value_t = 60)]
    pub seconds: u64,
    /// Seed of every random choice (default: drawn from the clock, and printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Never disconnect peers.
    #[arg(long)]
    pub no_partitions: bool,
    /// Never crash peers.
    #[arg(long)]
    pub no_crashes: bool,
    /// Keep the network reliable.
    #[arg(long)]
    pub no_unreliable: bool,
    /// Have peers snapshot every 10 entries (the 3D applier).
    #[arg(long)]
    pub snapshots: bool,
    /// Switch on a deliberate bug in every peer (see `raftlab::raft::Bug`), to watch the
    /// checks catch it.
    #[arg(long, value_parser = parse_bug)]
    pub bug: Option<Bug>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

impl SimRaftArgs {
    fn replay_command(&self, seed: u64) -> String {
        let mut cmd = format!(
            "cargo run --release -- sim raft --seed {seed} --servers {} --clients {} --seconds {}",
            self.servers, self.clients, self.seconds
        );
        for (on, flag) in [
            (self.no_partitions, " --no-partitions"),
            (self.no_crashes, " --no-crashes"),
            (self.no_unreliable, " --no-unreliable"),
            (self.snapshots, " --snapshots"),
        ] {
            if on {
                cmd.push_str(flag);
            }
        }
        if let Some(b) = self.bug {
            cmd.push_str(&format!(" --bug {b}"));
        }
        cmd
    }
}

fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64 % 1_000_000_000)
        .unwrap_or(1)
}

/// Runs `raftlab sim raft`.
pub fn run_raft(args: SimRaftArgs) -> ExitCode {
    let seed = args.seed.unwrap_or_else(clock_seed);
    let options = ChaosOptions {
        seed,
        servers: args.servers as usize,
        clients: args.clients as usize,
        duration: Duration::from_secs(args.seconds),
        partitions: !args.no_partitions,
        crashes: !args.no_crashes,
        unreliable: !args.no_unreliable,
        snapshots: args.snapshots,
        bug: args.bug,
    };
    println!(
        "raftlab sim raft: {} peers, {} clients, {} virtual seconds, seed {seed}",
        args.servers, args.clients, args.seconds
    );
    let started = Instant::now();
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(args.seconds)
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos:>4}/{len} virtual s  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        let run = ChaosRun::start(options);
        while !run.done() {
            run.advance(Duration::from_secs(1));
            let p = run.progress();
            bar.set_position(p.virtual_time.as_secs());
            bar.set_message(format!(
                "{} commits, {} elections, {} RPCs",
                p.commits, p.elections, p.rpcs
            ));
        }
        bar.finish_and_clear();
        run.finish()
    }));
    bar.finish_and_clear();
    match outcome {
        Ok(report) => {
            print_report(&report, seed, started.elapsed());
            ExitCode::SUCCESS
        }
        Err(e) => {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown failure".into());
            eprintln!("SAFETY VIOLATION (or no progress after healing): {msg}");
            eprintln!("  seed:   {seed}");
            eprintln!("  replay: {}", args.replay_command(seed));
            eprintln!(
                "  logs:   VERBOSE=1 {} | cargo run --release -- dslogs -c {}",
                args.replay_command(seed),
                args.servers
            );
            ExitCode::from(1)
        }
    }
}

fn print_report(r: &ChaosReport, seed: u64, real: Duration) {
    let p = &r.progress;
    let secs = p.virtual_time.as_secs_f64();
    println!(
        "all safety checks held; the healed cluster committed index {}",
        r.final_index
    );
    println!("  virtual time   {secs:.1} s");
    println!(
        "  real time      {:.2} s ({:.0}x faster than real time)",
        real.as_secs_f64(),
        secs / real.as_secs_f64().max(1e-9)
    );
    println!("  elections      {}", p.elections);
    println!(
        "  commits        {} (highest committed index); {} client values seen committed",
        p.commits, r.client_commits
    );
    println!(
        "  RPCs           {} ({:.0}/virtual s)",
        p.rpcs,
        p.rpcs as f64 / secs.max(1e-9)
    );
    println!("  bytes          {}", p.bytes);
    println!(
        "  chaos          {} disconnects, {} crashes, {} restarts, {} unreliable periods",
        r.chaos.disconnects, r.chaos.crashes, r.chaos.restarts, r.chaos.unreliable_periods
    );
    println!("  seed           {seed}");
}
