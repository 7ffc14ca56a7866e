//! `raftlab check kv` and `raftlab explore kv`: model-check the Lab 4 key/value service
//! (servers, clerks, their Raft cores) with stateright, linearizability included, or
//! click through its states in stateright's Explorer.

use std::process::ExitCode;

use crate::cluster::{Bounds, Duplicates};
use crate::kv_model::{KvBug, KvModel};
use crate::runner::Strategy;
use clap::Args;
use raftlab::kv;
use raftlab::raft::RaftCore;

use crate::cli::check_cmd::{Heartbeats, SearchArgs, parse_heartbeats, run_explorer, run_search};
use crate::cli::exit;

fn parse_bug(name: &str) -> Result<KvBug, String> {
    KvBug::from_name(name).ok_or_else(|| {
        format!(
            "no bug named {name:?}; known: {}",
            KvBug::names().join(", ")
        )
    })
}

/// The bounds of the key/value model, shared by `check kv` and `explore kv`.
#[derive(Args, Debug, Clone)]
pub struct KvBoundsArgs {
    /// Number of key/value servers.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=7))]
    pub servers: u64,
    /// Number of clients (each runs the core's clerk).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=4))]
    pub clients: u64,
    /// Operations per client, one after the other: operation j of client c is a write
    /// (client 0 puts, the others append) when c + j is even, a Get otherwise.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=4))]
    pub ops: u64,
    /// Number of keys (operation j of client c uses key (c + j) mod keys).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=4))]
    pub keys: u64,
    /// The highest term explored.
    #[arg(long, default_value_t = 2)]
    pub max_term: u64,
    /// The longest Raft log explored (every call a leader takes adds an entry).
    #[arg(long, default_value_t = 2)]
    pub max_log: u64,
    /// The most calls one clerk makes over its whole script (first tries and retries).
    #[arg(long, default_value_t = 2)]
    pub max_calls: u64,
    /// The most messages in flight at once.
    #[arg(long, default_value_t = 2)]
    pub max_in_flight: usize,
    /// The most server crashes in one run (a crashed server keeps only what it
    /// persisted; clients never crash).
    #[arg(long, default_value_t = 0)]
    pub crashes: u32,
    /// Servers snapshot after every apply (max_raft_state of one byte).
    #[arg(long)]
    pub snapshots: bool,
    /// The network never loses messages.
    #[arg(long)]
    pub no_drops: bool,
    /// Clerks may time out while their call or its answer is still in flight (by
    /// default a clerk times out only once its call or answer was lost, or the server
    /// holds it without answering).
    #[arg(long)]
    pub impatient_clerks: bool,
    /// Clients take turns: one starts an operation only while no other has one
    /// running (by default their operations overlap freely).
    #[arg(long)]
    pub take_turns: bool,
    /// The most times a leader's heartbeat timer fires in one term, or "any". A leader
    /// also replicates when it takes a request and when a reply asks for more; with 0,
    /// a lost AppendEntries is never sent again.
    #[arg(long, default_value = "0", value_parser = parse_heartbeats)]
    pub max_heartbeats: Heartbeats,
    /// The network may duplicate messages.
    #[arg(long)]
    pub duplicates: bool,
    /// Switch on a deliberate bug in every server: local-reads (a leader answers a Get
    /// from its own store, without the log), read-before-own-write (a leader answers a
    /// client's Get right after its own write from the state before it), or any Raft
    /// bug of `raftlab check raft`.
    #[arg(long, value_parser = parse_bug)]
    pub bug: Option<KvBug>,
    /// With --bug: use the small bounds under which the tests pin that bug's shortest
    /// counterexample (for local-reads: these defaults with clients taking turns; for
    /// read-before-own-write: one client making two operations) instead of the flags
    /// above.
    #[arg(long, requires = "bug")]
    pub bug_bounds: bool,
}

impl KvBoundsArgs {
    /// The model these arguments describe.
    pub fn model<R: RaftCore<kv::Request>>(&self) -> Result<KvModel<R>, String> {
        if let (true, Some(bug)) = (self.bug_bounds, self.bug) {
            return Ok(KvModel::exposing(bug));
        }
        let model = KvModel {
            bounds: Bounds {
                servers: self.servers as usize,
                max_in_flight: self.max_in_flight,
                max_crashes: self.crashes,
                drops: !self.no_drops,
                duplicates: if self.duplicates {
                    Duplicates::Redeliver
                } else {
                    Duplicates::Off
                },
            },
            clients: self.clients as usize,
            ops: self.ops as usize,
            keys: self.keys as usize,
            max_term: self.max_term,
            max_log: self.max_log,
            max_calls: self.max_calls,
            snapshots: self.snapshots,
            patient_clerks: !self.impatient_clerks,
            overlap: !self.take_turns,
            max_heartbeats: self.max_heartbeats.0,
            bug: self.bug,
            core: Default::default(),
        };
        model.validate()?;
        Ok(model)
    }
}

/// Options of `raftlab check kv`.
#[derive(Args, Debug, Clone)]
pub struct CheckKvArgs {
    #[command(flatten)]
    bounds: KvBoundsArgs,
    #[command(flatten)]
    search: SearchArgs,
}

/// Runs `raftlab check kv`, with the exit codes of `raftlab check raft`.
pub fn run_check<R: RaftCore<kv::Request>>(args: CheckKvArgs) -> ExitCode {
    let model = match args.bounds.model::<R>() {
        Ok(m) => m,
        Err(e) => {
            err!("raftlab check kv: {e}");
            return exit::code(exit::USAGE);
        }
    };
    run_search(
        "raftlab check kv",
        &model.describe(),
        model.into_model(),
        &args.search,
        Strategy::Dfs,
    )
}

/// Options of `raftlab explore kv`.
#[derive(Args, Debug, Clone)]
pub struct ExploreKvArgs {
    #[command(flatten)]
    bounds: KvBoundsArgs,
    /// The port to serve on (on localhost), 1 to 65535.
    #[arg(long, default_value_t = 3000, value_parser = clap::value_parser!(u16).range(1..))]
    port: u16,
}

/// Runs `raftlab explore kv`: serves stateright's Explorer on localhost until killed.
pub fn run_explore<R: RaftCore<kv::Request>>(args: ExploreKvArgs) -> ExitCode {
    let model = match args.bounds.model::<R>() {
        Ok(m) => m,
        Err(e) => {
            err!("raftlab explore kv: {e}");
            return exit::code(exit::USAGE);
        }
    };
    run_explorer(
        "raftlab explore kv",
        &model.describe(),
        model.into_model(),
        args.port,
    )
}
