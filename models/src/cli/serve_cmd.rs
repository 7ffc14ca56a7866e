//! `raftlab serve`: one server of a real cluster, in the foreground: a key/value server
//! (`--service kv`, the default) or the Raft lab's log (`--service raft-log`), whose
//! commands (`LAB.START`, `LAB.STATE`, `LAB.APPLIED`) let the lab 3 tests drive each
//! server's Raft directly (see `raftlab::runtime::lab_log`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};
use raftlab::kv::store::KvStore;
use raftlab::raft::TimeRange;
use raftlab::runtime::lab_log::LabLog;
use raftlab::runtime::{self, Fsync, ServeConfig};

/// The state machine a server runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ServiceArg {
    /// The key/value store: GET, SET, APPEND through each connection's clerk session.
    Kv,
    /// The Raft lab's log: LAB.START cmd (rf.Start on this server), LAB.STATE (its term
    /// and whether it leads), LAB.APPLIED from (what it applied at from, from+1, ...).
    RaftLog,
}

/// When appends are fsynced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FsyncArg {
    /// Before anything that depends on them leaves the server (the default).
    Always,
    /// Never: for benchmarks only; a machine crash can lose acknowledged writes.
    Never,
}

/// Options of `raftlab serve`.
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// This server's id: its position in --peers, from 0.
    #[arg(long, value_name = "N")]
    pub id: usize,
    /// Every server's peer address, in id order, comma-separated: where this server
    /// dials each peer (it listens on its own, unless --listen is given).
    #[arg(
        long,
        value_name = "HOST:PORT,...",
        value_delimiter = ',',
        required = true
    )]
    pub peers: Vec<String>,
    /// Where to listen for peers (default: this server's own --peers address). With
    /// it, each server may dial its peers at addresses of its own (through proxies,
    /// as `raftlab torture` does), so the --peers lists differ: give every server the
    /// same --cluster.
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: Option<String>,
    /// Where to listen for Redis clients.
    #[arg(long, value_name = "HOST:PORT")]
    pub client: String,
    /// The state machine: kv (GET, SET, APPEND) or raft-log (LAB.START, LAB.STATE,
    /// LAB.APPLIED, for the Raft lab's tests). Keep a data directory to one service.
    #[arg(long, value_enum, default_value_t = ServiceArg::Kv)]
    pub service: ServiceArg,
    /// The data directory (created if missing; an empty one starts a fresh server).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// When appends are fsynced.
    #[arg(long, value_enum, default_value_t = FsyncArg::Always)]
    pub fsync: FsyncArg,
    /// The cluster id, in hex or decimal (default: a hash of --peers, so servers given
    /// the same list agree; servers whose lists differ, see --listen, need one given).
    #[arg(long, value_name = "ID", value_parser = parse_u64)]
    pub cluster: Option<u64>,
    /// Snapshot when the Raft state reaches this many bytes; 0 never snapshots.
    #[arg(long, value_name = "BYTES", default_value_t = 4 << 20)]
    pub max_raft_state: usize,
    /// The largest peer frame (and, halved, the largest client value) accepted.
    #[arg(long, value_name = "BYTES", default_value_t = runtime::wire::DEFAULT_MAX_FRAME,
          value_parser = clap::value_parser!(usize))]
    pub max_frame: usize,
    /// Election timeout range in milliseconds, MIN-MAX.
    #[arg(long, value_name = "MS-MS", default_value = "300-600", value_parser = parse_range)]
    pub election_timeout: TimeRange,
    /// Heartbeat interval in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 100,
          value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub heartbeat: u64,
    /// Seed of the timer generator (default: random).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Switch on a deliberate bug, for `raftlab torture` to catch. ack-before-fsync:
    /// answer clients and peers before their records are on disk, and write them
    /// only a second later, so kill -9 loses acknowledged writes.
    #[arg(long, value_enum, value_name = "NAME")]
    pub bug: Option<BugArg>,
}

/// The runtime's deliberate bugs (`raftlab::runtime::Bug`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BugArg {
    /// Acknowledge before the record is durable; write it a second later.
    AckBeforeFsync,
}

impl BugArg {
    /// The runtime's bug.
    pub fn bug(self) -> runtime::Bug {
        match self {
            BugArg::AckBeforeFsync => runtime::Bug::AckBeforeFsync,
        }
    }
}

fn parse_u64(s: &str) -> Result<u64, String> {
    let r = match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse(),
    };
    r.map_err(|e| format!("{s:?} is not a number: {e}"))
}

fn parse_range(s: &str) -> Result<TimeRange, String> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("{s:?} is not MIN-MAX (for example 300-600)"))?;
    let min: u64 = a.trim().parse().map_err(|e| format!("{a:?}: {e}"))?;
    let max: u64 = b.trim().parse().map_err(|e| format!("{b:?}: {e}"))?;
    if min == 0 || min > max || max > 600_000 {
        return Err(format!("{s:?}: need 0 < MIN <= MAX <= 600000"));
    }
    Ok(TimeRange {
        min: Duration::from_millis(min),
        max: Duration::from_millis(max),
    })
}

/// The [`ServeConfig`] the arguments describe.
pub fn config(args: &ServeArgs) -> ServeConfig {
    let mut c = ServeConfig::new(
        args.id,
        args.peers.clone(),
        args.client.clone(),
        args.data.clone(),
    );
    c.fsync = match args.fsync {
        FsyncArg::Always => Fsync::Always,
        FsyncArg::Never => Fsync::Never,
    };
    if let Some(id) = args.cluster {
        c.cluster = id;
    }
    c.listen = args.listen.clone();
    c.bug = args.bug.map(BugArg::bug);
    c.max_raft_state = (args.max_raft_state > 0).then_some(args.max_raft_state);
    c.max_frame = args.max_frame;
    c.timing.election = args.election_timeout;
    c.timing.heartbeat = TimeRange::millis(args.heartbeat, args.heartbeat);
    c.seed = args.seed;
    c
}

/// Runs `raftlab serve`: exit 0 after a clean stop (SIGINT, SIGTERM), 1 when the server
/// cannot start or must stop (the message says why), 3 for bad arguments.
pub fn run(args: ServeArgs) -> ExitCode {
    let epoch = std::env::var("RAFTLAB_LOG_EPOCH_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(raftlab::sim::verbose::unix_ms);
    raftlab::sim::verbose::install_wall(raftlab::sim::verbose::enabled(), epoch);
    let config = config(&args);
    let served = match args.service {
        ServiceArg::Kv => runtime::serve::<KvStore>(config),
        ServiceArg::RaftLog => runtime::serve::<LabLog>(config),
    };
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ runtime::ServeError::Config(_)) => {
            eprintln!("raftlab serve: {e}");
            super::exit::code(super::exit::USAGE)
        }
        Err(e) => {
            eprintln!("raftlab serve: S{}: {e}", args.id);
            super::exit::code(super::exit::FAILED)
        }
    }
}
