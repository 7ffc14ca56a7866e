//! `raftlab sim raft`: a long chaos run of a Raft cluster in the simulator, with a
//! progress bar and a summary, and optionally the full event trace as JSON lines
//! (`--trace OUT.jsonl`, read by `raftlab dslogs`).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use raftlab::harness::raft::{ChaosOptions, ChaosReport, ChaosRun};
use raftlab::raft::Bug;
use raftlab::sim::TraceRecord;
use raftlab::sim::trace::write_jsonl;

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
    /// Write the full event trace (every call, delivery, drop, failure, timer, crash,
    /// restart, connect and client start, with its virtual time) to this file as JSON
    /// lines; `raftlab dslogs` lays it out.
    #[arg(long, value_name = "OUT.jsonl")]
    pub trace: Option<PathBuf>,
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

/// A seed from the clock, for runs that were not given one (the run prints it).
pub(crate) fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64 % 1_000_000_000)
        .unwrap_or(1)
}

/// A progress bar over the run's virtual seconds (hidden with `--quiet`).
pub(crate) fn progress_bar(seconds: u64, quiet: bool) -> ProgressBar {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(seconds)
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos:>4}/{len} virtual s  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// The trace file, written slice by slice as the run goes.
struct TraceFile {
    path: PathBuf,
    out: BufWriter<File>,
    records: u64,
    error: Option<io::Error>,
}

impl TraceFile {
    fn create(path: PathBuf) -> io::Result<Self> {
        let out = BufWriter::new(File::create(&path)?);
        Ok(TraceFile {
            path,
            out,
            records: 0,
            error: None,
        })
    }

    /// Appends records; after a first error, writes nothing more.
    fn write(&mut self, records: &[TraceRecord]) {
        if self.error.is_none() {
            match write_jsonl(&mut self.out, records) {
                Ok(()) => self.records += records.len() as u64,
                Err(e) => self.error = Some(e),
            }
        }
    }

    /// Flushes the file and says what was written.
    fn finish(mut self) -> Result<String, String> {
        if self.error.is_none()
            && let Err(e) = self.out.flush()
        {
            self.error = Some(e);
        }
        match self.error {
            None => Ok(format!(
                "{} events traced to {}",
                self.records,
                self.path.display()
            )),
            Some(e) => Err(format!(
                "could not write the trace to {}: {e}",
                self.path.display()
            )),
        }
    }
}

/// Runs `raftlab sim raft`.
pub fn run_raft(args: SimRaftArgs) -> ExitCode {
    let seed = args.seed.unwrap_or_else(clock_seed);
    let mut trace = match args.trace.clone().map(TraceFile::create).transpose() {
        Ok(t) => t,
        Err(e) => {
            eprintln!(
                "raftlab sim raft: cannot create {}: {e}",
                args.trace
                    .as_deref()
                    .unwrap_or(std::path::Path::new(""))
                    .display()
            );
            return ExitCode::from(2);
        }
    };
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
        trace: trace.is_some(),
    };
    println!(
        "raftlab sim raft: {} peers, {} clients, {} virtual seconds, seed {seed}",
        args.servers, args.clients, args.seconds
    );
    let started = Instant::now();
    let bar = progress_bar(args.seconds, args.quiet);
    // The run lives outside the unwinding closure, so that after a violation it still
    // gives the trace up to it.
    let mut run: Option<ChaosRun> = None;
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        let run = run.insert(ChaosRun::start(options));
        while !run.done() {
            run.advance(Duration::from_secs(1));
            if let Some(t) = trace.as_mut() {
                t.write(&run.take_trace());
            }
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
    let traced = trace.map(|mut t| {
        if let Some(run) = &run {
            t.write(&run.take_trace());
        }
        t.finish()
    });
    let trace_ok = match &traced {
        Some(Ok(note)) => {
            println!("{note}");
            true
        }
        Some(Err(e)) => {
            eprintln!("raftlab sim raft: {e}");
            false
        }
        None => true,
    };
    match outcome {
        Ok(report) => {
            print_report(&report, seed, started.elapsed());
            if trace_ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            }
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
            match &args.trace {
                Some(path) if trace_ok => eprintln!(
                    "  trace:  cargo run --release -- dslogs -c {} {}",
                    args.servers,
                    path.display()
                ),
                _ => eprintln!(
                    "  trace:  {} --quiet --trace trace-{seed}.jsonl && cargo run --release -- dslogs -c {} trace-{seed}.jsonl",
                    args.replay_command(seed),
                    args.servers
                ),
            }
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
