//! `raftlab serve`: one server process, from its configuration to a clean stop.
//!
//! [`serve`] opens and recovers the data directory, restores the core from it, binds the
//! peer and client addresses, starts the writer thread, the peer links and the
//! listeners, and runs the event loop until SIGINT or SIGTERM (or until storage fails,
//! since nothing could be promised durable after that). On a stop it lets the writer
//! finish the batch in hand, so a clean stop loses nothing that was submitted.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::client;
use super::commit::Queue;
use super::node::{Event, Link, Node, NodeParts, PersistOf, Stop};
use super::resp::Limits;
use super::service::Service;
use super::storage::{DiskStorage, Fsync, Identity, StorageError};
use super::transport;
use super::wire::{self, Me};
use crate::raft::{self, NodeId, Timing};
use crate::rsm::clerk::ClerkTiming;
use crate::rsm::server::{Server, ServerConfig};

/// Everything one server needs to know.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// This server's id: its index in `peers`.
    pub id: NodeId,
    /// Every server's peer address (`host:port`), in id order: where this server dials
    /// each peer. Unless `listen` says otherwise, this server listens on its own entry.
    pub peers: Vec<String>,
    /// Where this server listens for peers (`None`: its own entry of `peers`). With it,
    /// the servers' `peers` lists may differ (each server may reach each peer through
    /// a proxy of its own), so they must be given one `cluster` id.
    pub listen: Option<String>,
    /// Where this server listens for Redis clients.
    pub client: String,
    /// The data directory.
    pub data: PathBuf,
    /// The fsync policy.
    pub fsync: Fsync,
    /// The cluster id; servers of different clusters refuse each other.
    pub cluster: u64,
    /// Snapshot when the Raft state reaches this many bytes (`None`: never).
    pub max_raft_state: Option<usize>,
    /// The largest peer frame accepted.
    pub max_frame: usize,
    /// Raft's timer ranges.
    pub timing: Timing,
    /// The clerks' timing.
    pub clerk: ClerkTiming,
    /// Seeds the timer and clerk-id generators (`None`: from the operating system).
    pub seed: Option<u64>,
    /// A deliberate bug, for `raftlab torture` to catch (`None` in real use).
    pub bug: Option<Bug>,
}

/// The runtime's deliberate bugs: each breaks a rule the runtime keeps, so that a
/// torture run can show it catches the breach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    /// The writer reports every record durable as soon as it takes it, so answers to
    /// clients and acknowledgements to peers leave before their entries are on disk;
    /// and it writes and fsyncs what it took only once [`ACK_BEFORE_FSYNC_LAG`] has
    /// passed since its last write, so a `kill -9` loses up to that much of what the
    /// server acknowledged (a write that merely sat in the page cache would survive a
    /// killed process; one still in the writer's memory does not).
    AckBeforeFsync,
}

/// How long the writer under [`Bug::AckBeforeFsync`] holds records before writing them.
pub const ACK_BEFORE_FSYNC_LAG: Duration = Duration::from_millis(1000);

impl Bug {
    /// Every bug.
    pub const ALL: [Bug; 1] = [Bug::AckBeforeFsync];

    /// The bug's command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Bug::AckBeforeFsync => "ack-before-fsync",
        }
    }

    /// The bug named `name`.
    pub fn from_name(name: &str) -> Option<Bug> {
        Bug::ALL.into_iter().find(|b| b.name() == name)
    }
}

impl ServeConfig {
    /// The configuration of server `id` of `peers`, with defaults for the rest: fsync
    /// always, the cluster id derived from the peer list, snapshots at 4 MiB of Raft
    /// state, the lab's timing.
    pub fn new(id: NodeId, peers: Vec<String>, client: String, data: PathBuf) -> Self {
        let cluster = cluster_id(&peers);
        ServeConfig {
            id,
            peers,
            listen: None,
            client,
            data,
            fsync: Fsync::Always,
            cluster,
            max_raft_state: Some(4 << 20),
            max_frame: wire::DEFAULT_MAX_FRAME,
            timing: Timing::default(),
            clerk: ClerkTiming::default(),
            seed: None,
            bug: None,
        }
    }
}

/// The default cluster id: a hash (FNV-1a) of the peer list, so that servers started
/// with the same `--peers` agree without being told an id.
pub fn cluster_id(peers: &[String]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in peers.join(",").bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Why a server could not start or had to stop.
#[derive(Debug)]
pub enum ServeError {
    /// The configuration is inconsistent.
    Config(String),
    /// An address could not be bound.
    Listen {
        /// Which listener.
        what: &'static str,
        /// The address.
        addr: String,
        /// The error.
        error: std::io::Error,
    },
    /// Storage could not be opened, or failed while running.
    Storage(StorageError),
    /// The recovered state does not restore.
    Restore(String),
    /// The async runtime could not start.
    Runtime(std::io::Error),
}

impl fmt::Display for ServeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServeError::Config(e) => write!(f, "{e}"),
            ServeError::Listen { what, addr, error } => {
                write!(f, "cannot listen for {what} on {addr}: {error}")
            }
            ServeError::Storage(e) => write!(f, "{e}"),
            ServeError::Restore(e) => write!(f, "cannot restore the recovered state: {e}"),
            ServeError::Runtime(e) => write!(f, "cannot start the async runtime: {e}"),
        }
    }
}

impl std::error::Error for ServeError {}

macro_rules! log {
    ($lvl:ident, $me:expr, $($arg:tt)+) => {
        tracing::$lvl!(target: "raftlab::runtime", topic = "NODE", node = $me as u64, $($arg)+)
    };
}

/// Runs one server until SIGINT or SIGTERM.
pub fn serve<S: Service>(config: ServeConfig) -> Result<(), ServeError> {
    let me = config.id;
    let n = config.peers.len();
    if n == 0 || n > raft::Config::MAX_PEERS {
        return Err(ServeError::Config(format!(
            "--peers lists {n} addresses; a cluster has 1 to {} servers",
            raft::Config::MAX_PEERS
        )));
    }
    if me >= n {
        return Err(ServeError::Config(format!(
            "--id {me} is not below the {n} addresses of --peers (ids are 0 to {})",
            n - 1
        )));
    }
    let mut raft_config = raft::Config::new(me, n);
    raft_config.timing = config.timing;
    raft_config.validate().map_err(ServeError::Config)?;
    let identity = Identity {
        cluster: config.cluster,
        id: me as u32,
        peers: n as u32,
    };
    let (storage, recovery) =
        DiskStorage::<crate::rsm::Request<S::Op>>::open(&config.data, identity, config.fsync)
            .map_err(ServeError::Storage)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    let state = storage.state();
    let (server, outputs) = Server::<S>::restore(
        ServerConfig {
            raft: raft_config,
            max_raft_state: config.max_raft_state,
            bug: None,
        },
        &state.raft_state(),
        state.snapshot(),
    )
    .map_err(|e| ServeError::Restore(e.to_string()))?;
    if let Some(t) = &recovery.torn {
        log!(warn, me, "{t}");
    }
    if recovery.fresh {
        log!(info, me, "fresh data directory {}", config.data.display());
    } else {
        let log = server.raft().log();
        log!(
            info,
            me,
            "recovered {} from {} records of generation {}: term {}, log {}..={}, applied {}",
            config.data.display(),
            recovery.records,
            recovery.generation,
            server.raft().term(),
            log.snapshot_index(),
            log.last_index(),
            server.applied()
        );
    }
    runtime.block_on(run::<S>(config, server, outputs, storage))
}

async fn run<S: Service>(
    config: ServeConfig,
    server: Server<S>,
    outputs: crate::rsm::server::Outputs<S>,
    storage: DiskStorage<crate::rsm::Request<S::Op>>,
) -> Result<(), ServeError> {
    let me = config.id;
    let n = config.peers.len();
    let peer_addr = config
        .listen
        .clone()
        .unwrap_or_else(|| config.peers[me].clone());
    let peer_listener =
        TcpListener::bind(&peer_addr)
            .await
            .map_err(|error| ServeError::Listen {
                what: "peers",
                addr: peer_addr.clone(),
                error,
            })?;
    let client_listener =
        TcpListener::bind(&config.client)
            .await
            .map_err(|error| ServeError::Listen {
                what: "clients",
                addr: config.client.clone(),
                error,
            })?;
    let (events_tx, mut events) = mpsc::unbounded_channel::<Event<S>>();
    let queue: Arc<Queue<PersistOf<S>>> = Arc::new(Queue::new());
    let disk_bytes = storage.disk_bytes();
    let writer = {
        let (queue, events_tx) = (queue.clone(), events_tx.clone());
        let bug = config.bug;
        thread::Builder::new()
            .name(format!("raftlab-writer-{me}"))
            .spawn(move || match bug {
                None => write_batches::<S>(queue, storage, events_tx),
                Some(Bug::AckBeforeFsync) => ack_before_fsync::<S>(queue, storage, events_tx),
            })
            .map_err(ServeError::Runtime)?
    };
    let wire_me = Me {
        cluster: config.cluster,
        id: me,
        peers: n,
    };
    let wakes = transport::wakes(n);
    let mut links = Vec::with_capacity(n);
    for (p, addr) in config.peers.iter().enumerate() {
        if p == me {
            links.push(None);
            continue;
        }
        let (tx, rx) = mpsc::channel(4096);
        tokio::spawn(transport::run_link::<S>(
            wire_me,
            p,
            addr.clone(),
            rx,
            wakes[p].clone(),
            events_tx.clone(),
        ));
        links.push(Some(Link { tx, up: false }));
    }
    tokio::spawn(transport::accept::<S>(
        peer_listener,
        wire_me,
        config.max_frame,
        wakes.clone(),
        events_tx.clone(),
    ));
    let limits = Limits {
        max_bulk: config.max_frame / 2,
        ..Limits::default()
    };
    tokio::spawn(client::accept::<S>(
        client_listener,
        me as u64,
        limits,
        events_tx.clone(),
    ));
    let seed = config.seed.unwrap_or_else(rand::random);
    let mut node = Node::new(NodeParts {
        server,
        outputs,
        queue: queue.clone(),
        links,
        clerk_timing: config.clerk,
        rng: StdRng::seed_from_u64(seed),
        client_ids: StdRng::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15),
        disk_bytes,
        fsync: config.fsync,
    });
    log!(
        info,
        me,
        "serving Redis clients on {} ({} service), peers on {}, data in {} (fsync {})",
        config.client,
        S::NAME,
        peer_addr,
        config.data.display(),
        match config.fsync {
            Fsync::Always => "always",
            Fsync::Never => "never",
        }
    );
    if let Some(bug) = config.bug {
        log!(
            warn,
            me,
            "deliberate bug {} is ON: acknowledged writes can be lost (for raftlab torture only)",
            bug.name()
        );
    }
    if config.fsync == Fsync::Never {
        log!(
            warn,
            me,
            "--fsync never: writes are acknowledged before they are on disk; a crash of \
             the machine can lose them (for benchmarks only)"
        );
    }
    let stop = {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => return Err(ServeError::Runtime(e)),
            };
        let mut int = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        {
            Ok(s) => s,
            Err(e) => return Err(ServeError::Runtime(e)),
        };
        loop {
            let deadline = node.next_deadline();
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                _ = term.recv() => break Stop::Shutdown,
                _ = int.recv() => break Stop::Shutdown,
                ev = events.recv() => match ev {
                    None => break Stop::Shutdown,
                    Some(ev) => if let Err(stop) = node.handle(ev) { break stop; },
                },
                _ = sleep => node.fire_due(std::time::Instant::now()),
            }
        }
    };
    queue.close();
    // The writer finishes the batch in hand; wait for it off the async threads.
    let _ = tokio::task::spawn_blocking(move || writer.join()).await;
    match stop {
        Stop::Shutdown => {
            log!(info, me, "stopped");
            Ok(())
        }
        Stop::Storage(e) => Err(ServeError::Storage(e)),
    }
}

/// The writer thread: takes every record submitted since its last turn, appends them
/// all, syncs once, and reports the batch durable.
fn write_batches<S: Service>(
    queue: Arc<Queue<PersistOf<S>>>,
    mut storage: DiskStorage<crate::rsm::Request<S::Op>>,
    events: mpsc::UnboundedSender<Event<S>>,
) {
    while let Some(batch) = queue.take() {
        let result = batch
            .items
            .into_iter()
            .try_for_each(|p| storage.append(p))
            .and_then(|()| storage.sync());
        let event = match result {
            Ok(()) => Event::Durable {
                seq: batch.last,
                disk_bytes: storage.disk_bytes(),
            },
            Err(e) => {
                let _ = events.send(Event::StorageFailed(e));
                return;
            }
        };
        if events.send(event).is_err() {
            return;
        }
    }
}

/// The writer under [`Bug::AckBeforeFsync`]: reports each batch durable as soon as it
/// takes it, and writes (and syncs) what it holds only once [`ACK_BEFORE_FSYNC_LAG`]
/// has passed since its last write. A clean stop still writes everything.
fn ack_before_fsync<S: Service>(
    queue: Arc<Queue<PersistOf<S>>>,
    mut storage: DiskStorage<crate::rsm::Request<S::Op>>,
    events: mpsc::UnboundedSender<Event<S>>,
) {
    let mut written = std::time::Instant::now();
    let fail = |e| {
        let _ = events.send(Event::StorageFailed(e));
    };
    while let Some(batch) = queue.take() {
        // The bug: durable before anything reached the disk.
        let _ = events.send(Event::Durable {
            seq: batch.last,
            disk_bytes: storage.disk_bytes(),
        });
        // `append` buffers in memory (a compaction writes its generation at once).
        if let Err(e) = batch.items.into_iter().try_for_each(|p| storage.append(p)) {
            return fail(e);
        }
        if written.elapsed() >= ACK_BEFORE_FSYNC_LAG {
            if let Err(e) = storage.sync() {
                return fail(e);
            }
            written = std::time::Instant::now();
        }
    }
    if let Err(e) = storage.sync() {
        fail(e);
    }
}

/// How long [`serve`] waits for a peer's handshake (re-exported for tests).
pub const HANDSHAKE_TIMEOUT: Duration = transport::HANDSHAKE_TIMEOUT;
