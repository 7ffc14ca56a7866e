//! `raftlab check raft` and `raftlab explore raft`: model-check the Raft core with
//! stateright, or click through its states in stateright's Explorer. The search options
//! ([`SearchArgs`]) and the running and printing of a check ([`run_search`],
//! [`run_explorer`]) are shared with `check kv` (see `check_kv_cmd`).

use std::io::Write;
use std::net::TcpListener;
use std::process::ExitCode;
use std::time::Duration;

use crate::cluster::{Bounds, ClusterModel, Duplicates, Ignored, Losses, Node, Protocol, Restarts};
use crate::raft_model::{Cmd, RaftModel};
use crate::runner::{self, CheckOptions, StopWhen, Strategy};
use clap::Args;
use raftlab::raft::{Bug, RaftCore};
use stateright::Model;

use crate::cli::{exit, interrupt};

fn parse_bug(name: &str) -> Result<Bug, String> {
    Bug::from_name(name).ok_or_else(|| {
        format!(
            "no bug named {name:?}; known: {}",
            Bug::ALL.map(|b| b.name()).join(", ")
        )
    })
}

/// A bound on heartbeats: a number, or none ("any").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Heartbeats(pub Option<u8>);

/// Parses `--max-heartbeats` of `check raft` and `check kv`.
pub fn parse_heartbeats(s: &str) -> Result<Heartbeats, String> {
    if s == "any" {
        return Ok(Heartbeats(None));
    }
    s.parse::<u8>()
        .map(|n| Heartbeats(Some(n)))
        .map_err(|_| format!("{s:?}: a number from 0 to 255, or \"any\""))
}

/// The bounds of the Raft model, shared by `check raft` and `explore raft`.
#[derive(Args, Debug, Clone)]
pub struct RaftBoundsArgs {
    /// Number of Raft servers.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=7))]
    pub servers: u64,
    /// The highest term explored.
    #[arg(long, default_value_t = 3)]
    pub max_term: u64,
    /// The longest log explored (a leader takes client commands up to it).
    #[arg(long, default_value_t = 1)]
    pub max_log: u64,
    /// The most entries one AppendEntries carries (the core's default is 256).
    #[arg(long, default_value_t = raftlab::raft::Config::DEFAULT_MAX_APPEND_ENTRIES)]
    pub max_append_entries: usize,
    /// The most messages in flight at once.
    #[arg(long, default_value_t = 2)]
    pub max_in_flight: usize,
    /// The most times a leader's heartbeat timer fires in one term, or "any". A
    /// leader also sends AppendEntries when it wins, when it takes a command and when
    /// a reply asks for more; with 0, a lost AppendEntries is sent again only by
    /// those.
    #[arg(long, value_name = "N|any", default_value = "any", value_parser = parse_heartbeats)]
    pub max_heartbeats: Heartbeats,
    /// The most crashes in one run (a crashed node keeps only what it persisted).
    #[arg(long, default_value_t = 1)]
    pub crashes: u32,
    /// A crashed node stays down until a restart step of its own (the unreduced
    /// search); by default it restarts in its crash's step, which reaches the same
    /// states less the ones with a node down.
    #[arg(long)]
    pub restart_later: bool,
    /// Keep in flight the replies that their receivers will never read (the unreduced
    /// search); by default they are forgotten at once, which reaches the same servers.
    #[arg(long)]
    pub keep_unread: bool,
    /// Lose messages at any moment (the unreduced search); by default a message is
    /// lost only when a step needs its room, which reaches the same servers.
    #[arg(long)]
    pub drop_anytime: bool,
    /// Services never take snapshots.
    #[arg(long)]
    pub no_snapshots: bool,
    /// The network never loses messages.
    #[arg(long)]
    pub no_drops: bool,
    /// The network never duplicates messages.
    #[arg(long, conflicts_with = "duplicate_copies")]
    pub no_duplicates: bool,
    /// The network duplicates by making copies, each delivered or lost once and each
    /// counted in flight (the unreduced search); by default any message in flight may
    /// be delivered again, which reaches every server state copies reach.
    #[arg(long)]
    pub duplicate_copies: bool,
    /// Switch on a deliberate bug in every node (see `raftlab::raft::Bug`).
    #[arg(long, value_parser = parse_bug)]
    pub bug: Option<Bug>,
    /// With --bug: use the small bounds known to expose that bug instead of the flags
    /// above (the bounds the tests pin its shortest counterexample under).
    #[arg(long, requires = "bug")]
    pub bug_bounds: bool,
}

impl RaftBoundsArgs {
    /// The model these arguments describe.
    pub fn model<R: RaftCore<Cmd>>(&self) -> Result<RaftModel<R>, String> {
        if let (true, Some(bug)) = (self.bug_bounds, self.bug) {
            let mut model = RaftModel::exposing(bug);
            if self.restart_later {
                model.restarts = Restarts::Later;
            }
            if self.keep_unread {
                model.ignored = Ignored::Keep;
            }
            if self.drop_anytime {
                model.losses = Losses::Anytime;
            }
            return Ok(model);
        }
        let model = RaftModel {
            bounds: Bounds {
                servers: self.servers as usize,
                max_in_flight: self.max_in_flight,
                max_crashes: self.crashes,
                drops: !self.no_drops,
                duplicates: if self.no_duplicates {
                    Duplicates::Off
                } else if self.duplicate_copies {
                    Duplicates::Copies
                } else {
                    Duplicates::Redeliver
                },
            },
            max_term: self.max_term,
            max_log: self.max_log,
            max_append_entries: self.max_append_entries,
            snapshots: !self.no_snapshots,
            bug: self.bug,
            restarts: if self.restart_later {
                Restarts::Later
            } else {
                Restarts::AtOnce
            },
            ignored: if self.keep_unread {
                Ignored::Keep
            } else {
                Ignored::Forget
            },
            losses: if self.drop_anytime {
                Losses::Anytime
            } else {
                Losses::ForRoom
            },
            max_heartbeats: self.max_heartbeats.0,
            core: Default::default(),
        };
        model.validate()?;
        Ok(model)
    }
}

/// Options of `raftlab check raft`.
#[derive(Args, Debug, Clone)]
pub struct CheckRaftArgs {
    #[command(flatten)]
    bounds: RaftBoundsArgs,
    #[command(flatten)]
    search: SearchArgs,
}

/// How a check searches, shared by every `raftlab check` model.
#[derive(Args, Debug, Clone)]
pub struct SearchArgs {
    /// Checker threads, at most 256 (0: one per core).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(0..=256))]
    threads: u64,
    /// Breadth-first search (the default of check shardkv), with symmetry reduction
    /// over server ids where the model has it; each counterexample is then made a
    /// shortest one by a one-thread search below its depth.
    #[arg(long, conflicts_with_all = ["dfs", "simulate"])]
    bfs: bool,
    /// Depth-first search, with symmetry reduction over server ids where the model
    /// has it (the default of check raft and check kv).
    #[arg(long, conflicts_with = "simulate")]
    dfs: bool,
    /// Random walks from this seed until --timeout (default 60 s).
    #[arg(long, value_name = "SEED")]
    simulate: Option<u64>,
    /// No symmetry reduction (under BFS or DFS).
    #[arg(long)]
    no_symmetry: bool,
    /// Stop after this many seconds, at most 1000000 (the search is then not
    /// exhaustive); 0 for no limit (with --simulate: until Ctrl-C).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    timeout: Option<u64>,
    /// Do not explore states past this depth, 1 to 1000000 (the search is then not
    /// exhaustive, unless no state is that deep).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_depth: Option<u64>,
    /// Stop at the first violated property.
    #[arg(long)]
    first: bool,
    /// No progress line.
    #[arg(long)]
    quiet: bool,
}

/// Runs `raftlab check raft`, with the exit codes of [`run_search`].
pub fn run_check<R: RaftCore<Cmd>>(args: CheckRaftArgs) -> ExitCode {
    let model = match args.bounds.model::<R>() {
        Ok(m) => m,
        Err(e) => {
            err!("raftlab check raft: {e}");
            return exit::code(exit::USAGE);
        }
    };
    run_search(
        "raftlab check raft",
        &model.describe(),
        model.into_model(),
        &args.search,
        Strategy::Dfs,
    )
}

/// Runs a check of `model` as `args` say, printing a header (`command`: `bounds`, the
/// search), the summary, the table of properties and the counterexamples. `default`
/// is the search when no flag chooses one. Exit code (see [`exit`]): 1 when a property
/// is violated; else 130 when Ctrl-C stopped the search (the table says what was found
/// so far); else 4 when the search was not exhaustive; else 2 when a `sometimes`
/// property was not reached; else 0.
pub fn run_search<P: Protocol>(
    command: &str,
    bounds: &str,
    model: ClusterModel<P>,
    args: &SearchArgs,
    default: Strategy,
) -> ExitCode {
    let strategy = match (args.bfs, args.dfs, args.simulate) {
        (true, _, _) => Strategy::Bfs,
        (_, true, _) => Strategy::Dfs,
        (_, _, Some(seed)) => Strategy::Simulate(seed),
        (false, false, None) => default,
    };
    let timeout = match (args.timeout, strategy) {
        (Some(0), _) => None,
        (Some(s), _) => Some(Duration::from_secs(s)),
        (None, Strategy::Simulate(_)) => Some(Duration::from_secs(60)),
        (None, _) => None,
    };
    let threads = match args.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n as usize,
    };
    let options = CheckOptions {
        strategy,
        threads,
        symmetry: !args.no_symmetry && <P::Node as Node>::SYMMETRIC,
        timeout,
        max_depth: args.max_depth.map(|d| d as usize),
        stop: if args.first {
            StopWhen::FirstViolation
        } else {
            StopWhen::Exhausted
        },
        progress: !args.quiet,
        shortest: true,
        interrupt: Some(interrupt::watch()),
    };
    let search = match strategy {
        Strategy::Bfs if options.symmetry => "BFS with symmetry reduction".into(),
        Strategy::Bfs => "BFS".to_string(),
        Strategy::Dfs if options.symmetry => "DFS with symmetry reduction".into(),
        Strategy::Dfs => "DFS".into(),
        Strategy::Simulate(seed) => format!("simulation from seed {seed}"),
    };
    // A closed standard output (`| head`) is not an error worth a panic: the exit
    // code still tells the result.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{command}: {bounds}; {search}, {} thread{}",
        options.threads,
        if options.threads == 1 { "" } else { "s" }
    );
    let _ = out.flush();
    let report = runner::check(model.clone(), &options);
    // Printing the traces can take a while: a Ctrl-C now ends it at once.
    interrupt::release();
    let _ = writeln!(out, "{}\n", report.summary());
    let _ = write!(out, "{}", report.table());
    let _ = write!(out, "{}", report.traces(&model));
    let _ = out.flush();
    exit::code(if report.violations().next().is_some() {
        exit::FAILED
    } else if report.interrupted {
        exit::INTERRUPTED
    } else if !report.exhaustive {
        exit::NOT_EXHAUSTIVE
    } else if report.unreached().next().is_some() {
        exit::INCONCLUSIVE
    } else {
        exit::OK
    })
}

/// Options of `raftlab explore raft`.
#[derive(Args, Debug, Clone)]
pub struct ExploreRaftArgs {
    #[command(flatten)]
    bounds: RaftBoundsArgs,
    /// The port to serve on (on localhost), 1 to 65535.
    #[arg(long, default_value_t = 3000, value_parser = clap::value_parser!(u16).range(1..))]
    port: u16,
}

/// Runs `raftlab explore raft`: serves stateright's Explorer on localhost until killed.
pub fn run_explore<R: RaftCore<Cmd>>(args: ExploreRaftArgs) -> ExitCode {
    let model = match args.bounds.model::<R>() {
        Ok(m) => m,
        Err(e) => {
            err!("raftlab explore raft: {e}");
            return exit::code(exit::USAGE);
        }
    };
    run_explorer(
        "raftlab explore raft",
        &model.describe(),
        model.into_model(),
        args.port,
    )
}

/// Serves stateright's Explorer over `model` on localhost `port` until killed (Ctrl-C);
/// exit code 3 when it cannot listen there.
pub fn run_explorer<P: Protocol>(
    command: &str,
    bounds: &str,
    model: ClusterModel<P>,
    port: u16,
) -> ExitCode {
    let address = format!("127.0.0.1:{port}");
    // The Explorer panics if it cannot bind; say why instead.
    if let Err(e) = TcpListener::bind(&address) {
        err!("{command}: cannot listen on {address}: {e}");
        return exit::code(exit::USAGE);
    }
    out!("{command}: {bounds}\nExplorer on http://{address}/ (Ctrl-C to stop)");
    let _ = model.checker().serve(address);
    exit::code(exit::OK)
}
