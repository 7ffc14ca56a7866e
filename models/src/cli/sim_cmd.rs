//! `raftlab sim raft`: a long chaos run of a Raft cluster in the simulator, with a
//! progress bar and a summary, and optionally the full event trace as JSON lines
//! (`--trace OUT.jsonl`, read by `raftlab dslogs`).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use raftlab::harness::raft::Cmd;
use raftlab::harness::raft::{ChaosOptions, ChaosReport, ChaosRun};
use raftlab::raft::{Bug, RaftCore};
use raftlab::sim::TraceRecord;
use raftlab::sim::trace::write_jsonl;

use crate::cli::{exit, interrupt, quiet_panic};

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
    /// Number of Raft peers, 1 to 64.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub servers: u64,
    /// Number of concurrent clients, 0 to 100.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(0..=100))]
    pub clients: u64,
    /// Virtual seconds of chaos, 0 to 3600 (then the cluster is healed and must
    /// commit).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(0..=MAX_SECONDS))]
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

/// The longest run of every `raftlab sim` command, in virtual seconds (an hour; a
/// key/value run keeps its whole history in memory, about 0.8 kB per operation).
pub(crate) const MAX_SECONDS: u64 = 3600;

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

/// Runs `raftlab sim raft`. Exit code (see [`exit`]): 0 when every check held, 1 on a
/// safety violation (or no progress after healing), 3 when the trace cannot be
/// written, 130 on Ctrl-C.
pub fn run_raft<R: RaftCore<Cmd>>(args: SimRaftArgs) -> ExitCode {
    let seed = args.seed.unwrap_or_else(clock_seed);
    let mut trace = match &args.trace {
        None => None,
        Some(path) => match TraceFile::create(path.clone()) {
            Ok(t) => Some(t),
            Err(e) => {
                err!("raftlab sim raft: cannot create {}: {e}", path.display());
                return exit::code(exit::USAGE);
            }
        },
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
    // Ctrl-C from here on stops the run at its next slice.
    let stop = interrupt::watch();
    out!(
        "raftlab sim raft: {}, {}, {} virtual seconds, seed {seed}",
        count(args.servers, "peer"),
        count(args.clients, "client"),
        args.seconds
    );
    let started = Instant::now();
    let bar = progress_bar(args.seconds, args.quiet);
    // The run lives outside the unwinding closure, so that after a violation it still
    // gives the trace up to it.
    let mut run: Option<ChaosRun<R>> = None;
    let outcome = quiet_panic::catch(|| {
        let run = run.insert(ChaosRun::start_core(options));
        while !run.done() {
            if stop.load(Ordering::SeqCst) {
                return None;
            }
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
        Some(run.finish())
    });
    interrupt::release();
    bar.finish_and_clear();
    let traced = trace.map(|mut t| {
        if let Some(run) = &run {
            t.write(&run.take_trace());
        }
        t.finish()
    });
    let trace_ok = match &traced {
        Some(Ok(note)) => {
            out!("{note}");
            true
        }
        Some(Err(e)) => {
            err!("raftlab sim raft: {e}");
            false
        }
        None => true,
    };
    match outcome {
        Ok(Some(report)) => {
            print_report(&report, seed, started.elapsed());
            exit::code(if trace_ok { exit::OK } else { exit::USAGE })
        }
        Ok(None) => {
            let at = run
                .as_ref()
                .map_or(0.0, |r| r.progress().virtual_time.as_secs_f64());
            err!("interrupted at {at:.1} virtual s, before the end of the run");
            err!("  seed:   {seed}");
            err!("  replay: {}", args.replay_command(seed));
            exit::code(exit::INTERRUPTED)
        }
        Err(msg) => {
            err!("SAFETY VIOLATION (or no progress after healing): {msg}");
            err!("  seed:   {seed}");
            err!("  replay: {}", args.replay_command(seed));
            err!(
                "  logs:   VERBOSE=1 {} | cargo run --release -- dslogs -c {}",
                args.replay_command(seed),
                args.servers
            );
            match &args.trace {
                Some(path) if trace_ok => err!(
                    "  trace:  cargo run --release -- dslogs -c {} {}",
                    args.servers,
                    path.display()
                ),
                _ => err!(
                    "  trace:  {} --quiet --trace trace-{seed}.jsonl && cargo run --release -- dslogs -c {} trace-{seed}.jsonl",
                    args.replay_command(seed),
                    args.servers
                ),
            }
            exit::code(exit::FAILED)
        }
    }
}

/// `n` and `noun`, plural unless `n` is 1: "1 peer", "5 peers".
pub(crate) fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn print_report(r: &ChaosReport, seed: u64, real: Duration) {
    let p = &r.progress;
    let secs = p.virtual_time.as_secs_f64();
    out!(
        "all safety checks held; the healed cluster committed index {}",
        r.final_index
    );
    out!("  virtual time   {secs:.1} s");
    out!(
        "  real time      {:.2} s ({:.0}x faster than real time)",
        real.as_secs_f64(),
        secs / real.as_secs_f64().max(1e-9)
    );
    out!("  elections      {}", p.elections);
    out!(
        "  commits        {} (highest committed index); {} client values seen committed",
        p.commits,
        r.client_commits
    );
    out!(
        "  RPCs           {} ({:.0}/virtual s)",
        p.rpcs,
        p.rpcs as f64 / secs.max(1e-9)
    );
    out!("  bytes          {}", p.bytes);
    out!(
        "  chaos          {} disconnects, {} crashes, {} restarts, {} unreliable periods",
        r.chaos.disconnects,
        r.chaos.crashes,
        r.chaos.restarts,
        r.chaos.unreliable_periods
    );
    out!("  seed           {seed}");
}
