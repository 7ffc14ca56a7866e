//! The Raft lab's world on real processes: [`RealRaft`] implements
//! [`crate::harness::raft::RaftLab`] with `raftlab serve --service raft-log`
//! children on loopback, so the lab's test bodies run against servers that talk over
//! real TCP, write real files with fsync, and are killed with SIGKILL.
//!
//! How each call of the lab's config.go is carried out:
//!
//! - `start1(i)` starts server `i`'s process from its data directory, `crash1(i)` kills
//!   it (`kill -9`): what it made durable is what survives, as with the lab's persister;
//! - `connect(i)` / `disconnect(i)` set the proxies `P(i, j)` and `P(j, i)` of the
//!   [`Mesh`]: a link carries frames only while both ends are connected; the
//!   unreliable network drops 10% of the frames and delays each by a few milliseconds;
//! - `rf.Start(cmd)` is `LAB.START` and `rf.GetState()` is `LAB.STATE`, sent to the
//!   server's client port directly (not through the proxies), as the lab calls its Raft
//!   objects directly;
//! - the lab's applier is a task per server that reads `LAB.APPLIED` every few
//!   milliseconds and checks each new entry as the lab's `checkLogs` does (the same
//!   command at an index on every server); a mismatch fails the test at its next call
//!   into the world;
//! - `rpcCount`/`rpcTotal`/`bytesTotal` count the frames the proxies forwarded
//!   (requests and replies alike, so about twice the lab's RPC count).
//!
//! Commands travel as text: an integer as `i<n>`, a string as `s<text>`.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::control::Control;
use super::{Launch, Mesh, Servers};
use crate::harness::raft::Cmd;
use crate::harness::raft::{RaftLab, Summary, TEST_LIMIT};
use crate::raft::{Index, NodeId, Term};
use crate::runtime::proxy::Faults;
use crate::runtime::resp::Value;
use crate::sim::Rng;

/// How long a control call may take before the server counts as not answering.
const CALL_TIMEOUT: Duration = Duration::from_millis(1000);

/// How often the appliers read what each server applied.
const APPLY_POLL: Duration = Duration::from_millis(5);

/// The faults of a link while the network is unreliable.
const UNRELIABLE: Faults = Faults {
    cut: false,
    refuse: false,
    drop: 0.1,
    delay: Duration::from_millis(3),
};

/// A command as the raft-log service stores it.
pub fn encode_cmd(cmd: &Cmd) -> String {
    match cmd {
        Cmd::Int(i) => format!("i{i}"),
        Cmd::Str(s) => format!("s{s}"),
    }
}

/// The command stored as `text` (see [`encode_cmd`]).
pub fn decode_cmd(text: &str) -> Result<Cmd, String> {
    match text.split_at_checked(1) {
        Some(("i", n)) => n
            .parse()
            .map(Cmd::Int)
            .map_err(|e| format!("{text:?} is no integer command: {e}")),
        Some(("s", s)) => Ok(Cmd::Str(s.to_string())),
        _ => Err(format!("{text:?} is no command the harness wrote")),
    }
}

#[derive(Default)]
struct Begin {
    t0: Duration,
    frames0: u64,
    bytes0: u64,
    max_index0: Index,
}

struct World {
    n: usize,
    mesh: Mesh,
    servers: RefCell<Servers>,
    controls: Vec<Control>,
    connected: RefCell<Vec<bool>>,
    unreliable: Cell<bool>,
    /// What each server's applier saw, by index, across its restarts.
    logs: RefCell<Vec<BTreeMap<Index, Cmd>>>,
    /// The next index to read from each server's current process.
    next: RefCell<Vec<Index>>,
    /// Bumped at each start of a server, so that a read begun before is discarded.
    incarnation: RefCell<Vec<u64>>,
    apply_error: RefCell<Option<String>>,
    max_index: Cell<Index>,
    rng: RefCell<Rng>,
    t0: Instant,
    begin: RefCell<Begin>,
    stopped: Cell<bool>,
}

/// The Raft lab's world on real `raftlab serve` processes (see the module docs).
#[derive(Clone)]
pub struct RealRaft {
    w: Rc<World>,
}

/// What a real world is made of.
pub struct RealSetup {
    /// The `raftlab` executable.
    pub exe: PathBuf,
    /// The run directory: each server's data directory and log go here.
    pub dir: PathBuf,
    /// The number of servers.
    pub servers: usize,
    /// Whether the network starts unreliable.
    pub unreliable: bool,
    /// Seeds the test's choices, the servers' timers and the proxies' drops.
    pub seed: u64,
    /// Extra `raftlab serve` arguments.
    pub extra: Vec<String>,
}

impl RealRaft {
    /// Binds the proxies (on `proxies`, a runtime that outlives the world) and starts
    /// every server, connected. Must be called inside a tokio `LocalSet` (the appliers
    /// are local tasks).
    pub fn new(setup: RealSetup, proxies: &tokio::runtime::Runtime) -> std::io::Result<Self> {
        let n = setup.servers;
        let addrs = free_addrs(2 * n)?;
        let (clients, listens) = addrs.split_at(n);
        let mesh = Mesh::new(proxies, listens, setup.seed)?;
        std::fs::create_dir_all(&setup.dir)?;
        let mut extra = vec!["--service".to_string(), "raft-log".to_string()];
        extra.extend(setup.extra);
        let launch = Launch {
            exe: setup.exe,
            cluster: setup.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
            extra,
            seed: setup.seed,
            epoch_ms: crate::sim::verbose::unix_ms(),
        };
        let servers = Servers::new(launch, &setup.dir, clients, listens, |i, j| mesh.addr(i, j));
        let controls = clients.iter().map(|&a| Control::new(a)).collect();
        let w = Rc::new(World {
            n,
            mesh,
            servers: RefCell::new(servers),
            controls,
            connected: RefCell::new(vec![false; n]),
            unreliable: Cell::new(setup.unreliable),
            logs: RefCell::new(vec![BTreeMap::new(); n]),
            next: RefCell::new(vec![1; n]),
            incarnation: RefCell::new(vec![0; n]),
            apply_error: RefCell::new(None),
            max_index: Cell::new(0),
            rng: RefCell::new(Rng::new(setup.seed)),
            t0: Instant::now(),
            begin: RefCell::new(Begin::default()),
            stopped: Cell::new(false),
        });
        let cfg = RealRaft { w };
        for i in 0..n {
            cfg.disconnect(i);
        }
        for i in 0..n {
            cfg.start1(i);
        }
        for i in 0..n {
            cfg.connect(i);
        }
        for i in 0..n {
            tokio::task::spawn_local(cfg.clone().applier(i));
        }
        Ok(cfg)
    }

    /// Kills every server and stops the appliers.
    pub fn cleanup(&self) {
        self.w.stopped.set(true);
        let mut servers = self.w.servers.borrow_mut();
        for i in 0..self.w.n {
            servers.kill(i);
        }
    }

    /// The log file of server `i` (its standard error, across restarts).
    pub fn log_path(&self, i: NodeId) -> PathBuf {
        self.w.servers.borrow().list[i].log.clone()
    }

    fn check_apply_error(&self) {
        if let Some(e) = self.w.apply_error.borrow().clone() {
            panic!("apply error: {e}");
        }
    }

    /// The links between `i` and `j` as the connected set and the network say.
    fn set_links(&self, i: NodeId, j: NodeId) {
        if i == j {
            return;
        }
        let connected = self.w.connected.borrow();
        let f = if !(connected[i] && connected[j]) {
            Faults::CUT
        } else if self.w.unreliable.get() {
            UNRELIABLE
        } else {
            Faults::NONE
        };
        self.w.mesh.set(i, j, f);
        self.w.mesh.set(j, i, f);
    }

    fn frames_and_bytes(&self) -> (u64, u64) {
        let n = self.w.n;
        let mut frames = 0;
        let mut bytes = 0;
        for i in 0..n {
            for j in 0..n {
                let s = self.w.mesh.stats(i, j);
                frames += s.forwarded;
                bytes += s.bytes;
            }
        }
        (frames, bytes)
    }

    /// The lab's applier for server `i`: reads what it applied, checks, records.
    async fn applier(self, i: NodeId) {
        while !self.w.stopped.get() {
            tokio::time::sleep(APPLY_POLL).await;
            if !self.is_alive(i) {
                continue;
            }
            let incarnation = self.w.incarnation.borrow()[i];
            let from = self.w.next.borrow()[i];
            let from_text = from.to_string();
            let reply = self.w.controls[i]
                .call(&[b"LAB.APPLIED", from_text.as_bytes()], CALL_TIMEOUT)
                .await;
            if self.w.incarnation.borrow()[i] != incarnation {
                continue;
            }
            let Ok(Value::Array(Some(items))) = reply else {
                // Not answering yet (starting) or an error reply: try again.
                continue;
            };
            for (k, item) in items.into_iter().enumerate() {
                let index = from + k as Index;
                let cmd = match item {
                    Value::Bulk(Some(b)) => decode_cmd(&String::from_utf8_lossy(&b)),
                    other => Err(format!("LAB.APPLIED answered {other:?}")),
                };
                match cmd {
                    Ok(cmd) => self.check_logs(i, index, cmd),
                    Err(e) => self.fail(format!("server {i} at index {index}: {e}")),
                }
                self.w.next.borrow_mut()[i] = index + 1;
            }
        }
    }

    /// The lab's `checkLogs`: the command must be the one every server applied there.
    fn check_logs(&self, i: NodeId, index: Index, cmd: Cmd) {
        let mut logs = self.w.logs.borrow_mut();
        for (j, log) in logs.iter().enumerate() {
            if let Some(old) = log.get(&index)
                && *old != cmd
            {
                let e = format!("commit index={index} server={i} {cmd} != server={j} {old}");
                drop(logs);
                self.fail(e);
                return;
            }
        }
        if index > 1 && !logs[i].contains_key(&(index - 1)) {
            let e = format!("server {i} apply out of order {index}");
            drop(logs);
            self.fail(e);
            return;
        }
        logs[i].insert(index, cmd);
        self.w.max_index.set(self.w.max_index.get().max(index));
    }

    fn fail(&self, e: String) {
        let mut err = self.w.apply_error.borrow_mut();
        if err.is_none() {
            *err = Some(e);
        }
    }
}

impl RaftLab for RealRaft {
    type Task<T: 'static> = Task<T>;

    fn n(&self) -> usize {
        self.w.n
    }

    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await;
        self.check_apply_error();
    }

    fn now(&self) -> Duration {
        self.w.t0.elapsed()
    }

    fn rand(&self) -> i64 {
        self.w.rng.borrow_mut().int63()
    }

    fn rand_below(&self, n: u64) -> u64 {
        self.w.rng.borrow_mut().below(n)
    }

    fn rand_string(&self, len: usize) -> String {
        self.w.rng.borrow_mut().string(len)
    }

    fn spawn<T: 'static>(&self, fut: impl Future<Output = T> + 'static) -> Task<T> {
        Task::spawn(fut)
    }

    fn crash1(&self, i: NodeId) {
        self.disconnect(i);
        self.w.servers.borrow_mut().kill(i);
        self.w.controls[i].forget();
    }

    fn start1(&self, i: NodeId) {
        self.crash1(i);
        self.w.incarnation.borrow_mut()[i] += 1;
        self.w.next.borrow_mut()[i] = 1;
        if let Err(e) = self.w.servers.borrow_mut().start(i) {
            panic!("cannot start server {i}: {e}");
        }
    }

    fn connect(&self, i: NodeId) {
        self.w.connected.borrow_mut()[i] = true;
        for j in 0..self.w.n {
            self.set_links(i, j);
        }
    }

    fn disconnect(&self, i: NodeId) {
        self.w.connected.borrow_mut()[i] = false;
        for j in 0..self.w.n {
            self.set_links(i, j);
        }
    }

    fn is_connected(&self, i: NodeId) -> bool {
        self.w.connected.borrow()[i]
    }

    fn is_alive(&self, i: NodeId) -> bool {
        self.w.servers.borrow().is_up(i)
    }

    fn set_unreliable(&self, unreliable: bool) {
        self.w.unreliable.set(unreliable);
        for i in 0..self.w.n {
            for j in i + 1..self.w.n {
                self.set_links(i, j);
            }
        }
    }

    async fn start(&self, i: NodeId, cmd: impl Into<Cmd>) -> Option<(Index, Term)> {
        self.check_apply_error();
        if !self.is_alive(i) {
            return None;
        }
        let text = encode_cmd(&cmd.into());
        let reply = self.w.controls[i]
            .call(&[b"LAB.START", text.as_bytes()], CALL_TIMEOUT)
            .await;
        match reply {
            Ok(Value::Array(Some(v))) => match v.as_slice() {
                [Value::Integer(index), Value::Integer(term)] => {
                    Some((*index as Index, *term as Term))
                }
                _ => panic!("server {i} answered LAB.START with {v:?}"),
            },
            Ok(Value::Error(e)) => panic!("server {i} refused LAB.START: {e}"),
            // Not the leader (a nil reply), or not answering.
            _ => None,
        }
    }

    async fn states(&self) -> Vec<Option<(Term, bool)>> {
        self.check_apply_error();
        let calls = (0..self.w.n).map(|i| {
            let alive = self.is_alive(i);
            async move {
                if !alive {
                    return None;
                }
                match self.w.controls[i].call(&[b"LAB.STATE"], CALL_TIMEOUT).await {
                    Ok(Value::Array(Some(v))) => match v.as_slice() {
                        [Value::Integer(term), Value::Integer(leader)] => {
                            Some((*term as Term, *leader == 1))
                        }
                        _ => None,
                    },
                    _ => None,
                }
            }
        });
        futures_join_all(calls).await
    }

    fn n_committed(&self, index: Index) -> (usize, Option<Cmd>) {
        self.check_apply_error();
        let logs = self.w.logs.borrow();
        let mut count = 0;
        let mut cmd: Option<&Cmd> = None;
        for log in logs.iter() {
            if let Some(v) = log.get(&index) {
                if let Some(c) = cmd
                    && c != v
                {
                    panic!("committed values do not match: index {index}, {c}, {v}");
                }
                count += 1;
                cmd = Some(v);
            }
        }
        (count, cmd.cloned())
    }

    fn rpc_count(&self, i: NodeId) -> u64 {
        (0..self.w.n)
            .map(|j| self.w.mesh.stats(j, i).forwarded)
            .sum()
    }

    fn rpc_total(&self) -> u64 {
        self.frames_and_bytes().0
    }

    fn bytes_total(&self) -> u64 {
        self.frames_and_bytes().1
    }

    fn log_size(&self) -> usize {
        let servers = self.w.servers.borrow();
        (0..self.w.n)
            .filter_map(|i| servers.info(i, CALL_TIMEOUT))
            .filter_map(|info| info.get("raft_state_bytes")?.parse().ok())
            .max()
            .unwrap_or(0)
    }

    fn begin(&self, description: &str) {
        println!("{description} ...");
        let (frames0, bytes0) = self.frames_and_bytes();
        *self.w.begin.borrow_mut() = Begin {
            t0: self.now(),
            frames0,
            bytes0,
            max_index0: self.w.max_index.get(),
        };
    }

    fn end(&self) -> Summary {
        self.check_apply_error();
        if self.now() > TEST_LIMIT {
            panic!("test took longer than 120 seconds");
        }
        let (frames, bytes) = self.frames_and_bytes();
        let b = self.w.begin.borrow();
        let summary = Summary {
            seconds: (self.now() - b.t0).as_secs_f64(),
            peers: self.w.n,
            rpcs: frames - b.frames0,
            bytes: bytes - b.bytes0,
            commands: self.w.max_index.get() - b.max_index0,
        };
        println!("{}", summary.passed_line());
        summary
    }
}

/// A task of the real world: awaiting it gives its result (a panic in it is the
/// test's panic).
pub struct Task<T>(tokio::task::JoinHandle<T>);

impl<T: 'static> Task<T> {
    /// Starts `fut` as a local task of the test's runtime.
    pub fn spawn(fut: impl Future<Output = T> + 'static) -> Self {
        Task(tokio::task::spawn_local(fut))
    }
}

impl<T> Future for Task<T> {
    type Output = T;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<T> {
        match std::pin::Pin::new(&mut self.0).poll(cx) {
            std::task::Poll::Pending => std::task::Poll::Pending,
            std::task::Poll::Ready(Ok(v)) => std::task::Poll::Ready(v),
            std::task::Poll::Ready(Err(e)) => match e.try_into_panic() {
                Ok(p) => std::panic::resume_unwind(p),
                Err(e) => panic!("a task of the test was cancelled: {e}"),
            },
        }
    }
}

/// Runs the futures at once and returns their results in order.
async fn futures_join_all<F: Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let handles: Vec<_> = futs.map(Box::pin).collect();
    let mut out = Vec::with_capacity(handles.len());
    // Polling them in turn inside one task: they overlap on the network because each
    // one's I/O is under way while the next is polled.
    let mut pending: Vec<_> = handles.into_iter().map(Some).collect();
    let mut results: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all = true;
        for (k, slot) in pending.iter_mut().enumerate() {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        results[k] = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => all = false,
                }
            }
        }
        if all {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    for r in results {
        out.extend(r);
    }
    out
}

/// `n` distinct loopback addresses with free ports (held together while picked).
pub fn free_addrs(n: usize) -> std::io::Result<Vec<std::net::SocketAddr>> {
    let held = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()?;
    held.iter().map(|l| l.local_addr()).collect()
}

/// Runs one Raft lab test on real processes (see [`super::runner::run_real`]).
pub fn run_real_raft<F, Fut>(exe: PathBuf, spec: &crate::harness::raft::suite::Spec, body: F)
where
    F: Fn(RealRaft) -> Fut,
    Fut: Future<Output = ()>,
{
    super::runner::run_real(
        spec.name,
        |seed, dir, proxies| {
            let extra = if spec.snapshot {
                vec![
                    "--max-raft-state".to_string(),
                    SNAPSHOT_RAFT_STATE.to_string(),
                ]
            } else {
                vec!["--max-raft-state".to_string(), "0".to_string()]
            };
            let setup = RealSetup {
                exe: exe.clone(),
                dir: dir.to_path_buf(),
                servers: spec.servers,
                unreliable: spec.unreliable,
                seed,
                extra,
            };
            RealRaft::new(setup, proxies)
        },
        RealRaft::cleanup,
        body,
    );
}

/// The Raft state size at which the 3D tests' servers snapshot (the lab's applier
/// snapshots every 10 entries; here the service snapshots by size).
pub const SNAPSHOT_RAFT_STATE: usize = 1000;
