//! The kvraft lab's world on real processes: [`RealKv`] implements
//! [`crate::harness::kv::KvLab`] with `raftlab serve` children (the key/value
//! service) on loopback, and its clerks ([`RealClerk`]) are Redis-protocol clients.
//!
//! - `ShutdownServer(i)` kills server `i` (`kill -9`) and cuts its links;
//!   `StartServer(i)` starts it again from its data directory, still cut off until
//!   `ConnectAll()`, as the lab's servers come back;
//! - `partition(p1, p2)` and `ConnectAll()` set the proxies between the servers (a link
//!   carries frames only within a side); the unreliable network drops 10% of the peer
//!   frames and delays each by a few milliseconds (the clerks' own connections are not
//!   faulted: a clerk reaches every server it was given);
//! - a clerk is the lab's clerk over Redis: it keeps one connection, to one of its
//!   servers, and runs each operation as `GET`/`SET`/`APPEND` there; when no answer
//!   comes within [`CLERK_ATTEMPT`], or the connection breaks, it moves to its next
//!   server, resumes its session there (`SESSION <id> <seq>`) and sends the same
//!   operation again, so the service's duplicate detection applies it once, as the
//!   lab's clerk retries with the same request number;
//! - `LogSize()` is the largest `raft_state_bytes` the servers' `INFO` reports,
//!   `SnapshotSize()` the largest snapshot file in the data directories.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::raft::{Task, free_addrs};
use super::{Launch, Mesh, Servers};
use crate::harness::kv::KvLab;
use crate::harness::kv::ck::KvClerk;
use crate::harness::kv::suite::Generic;
use crate::harness::raft::TEST_LIMIT;
use crate::kv::Op;
use crate::runtime::proxy::Faults;
use crate::runtime::resp::{self, Limits, Parsed, Value};
use crate::sim::Rng;

/// How long a clerk waits for one server before it tries the next.
pub const CLERK_ATTEMPT: Duration = Duration::from_millis(1000);

/// The faults of a peer link while the network is unreliable.
const UNRELIABLE: Faults = Faults {
    cut: false,
    refuse: false,
    drop: 0.1,
    delay: Duration::from_millis(3),
};

struct World {
    n: usize,
    mesh: Mesh,
    servers: RefCell<Servers>,
    clients: Vec<SocketAddr>,
    data: Vec<PathBuf>,
    /// `links[i][j]`: whether servers `i` and `j` reach each other.
    links: RefCell<Vec<Vec<bool>>>,
    unreliable: bool,
    rng: RefCell<Rng>,
    seed: u64,
    t0: Instant,
    ops: Cell<u64>,
    begin: Cell<(Duration, u64)>,
}

/// The kvraft lab's world on real `raftlab serve` processes (see the module docs).
#[derive(Clone)]
pub struct RealKv {
    w: Rc<World>,
}

impl RealKv {
    /// Binds the proxies (on `proxies`, a runtime that outlives the world) and starts
    /// `g.nservers` servers in `dir`, all connected.
    pub fn new(
        exe: PathBuf,
        dir: &Path,
        g: &Generic,
        seed: u64,
        proxies: &tokio::runtime::Runtime,
    ) -> std::io::Result<Self> {
        let n = g.nservers;
        let addrs = free_addrs(2 * n)?;
        let (clients, listens) = addrs.split_at(n);
        let mesh = Mesh::new(proxies, listens, seed)?;
        std::fs::create_dir_all(dir)?;
        let max_raft_state = g.maxraftstate.max(0);
        let launch = Launch {
            exe,
            cluster: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
            extra: vec!["--max-raft-state".into(), max_raft_state.to_string()],
            seed,
            epoch_ms: crate::sim::verbose::unix_ms(),
        };
        let servers = Servers::new(launch, dir, clients, listens, |i, j| mesh.addr(i, j));
        let data = servers.list.iter().map(|s| s.data.clone()).collect();
        let kv = RealKv {
            w: Rc::new(World {
                n,
                mesh,
                servers: RefCell::new(servers),
                clients: clients.to_vec(),
                data,
                links: RefCell::new(vec![vec![false; n]; n]),
                unreliable: g.unreliable,
                rng: RefCell::new(Rng::new(seed)),
                seed,
                t0: Instant::now(),
                ops: Cell::new(0),
                begin: Cell::new((Duration::ZERO, 0)),
            }),
        };
        kv.apply_links();
        for i in 0..n {
            kv.w.servers.borrow_mut().start(i)?;
        }
        kv.connect_all();
        Ok(kv)
    }

    /// Kills every server.
    pub fn cleanup(&self) {
        let mut servers = self.w.servers.borrow_mut();
        for i in 0..self.w.n {
            servers.kill(i);
        }
    }

    fn apply_links(&self) {
        let links = self.w.links.borrow();
        for i in 0..self.w.n {
            for j in 0..self.w.n {
                let f = if !links[i][j] {
                    Faults::CUT
                } else if self.w.unreliable {
                    UNRELIABLE
                } else {
                    Faults::NONE
                };
                self.w.mesh.set(i, j, f);
            }
        }
    }

    fn frames(&self) -> u64 {
        let n = self.w.n;
        (0..n)
            .flat_map(|i| (0..n).map(move |j| (i, j)))
            .map(|(i, j)| self.w.mesh.stats(i, j).forwarded)
            .sum()
    }
}

impl KvLab for RealKv {
    type Clerk = RealClerk;
    type Task<T: 'static> = Task<T>;

    fn n(&self) -> usize {
        self.w.n
    }

    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }

    fn now(&self) -> Duration {
        self.w.t0.elapsed()
    }

    fn rand_below(&self, n: u64) -> u64 {
        self.w.rng.borrow_mut().below(n)
    }

    fn seed(&self) -> u64 {
        self.w.seed
    }

    fn spawn<T: 'static>(&self, fut: impl Future<Output = T> + 'static) -> Task<T> {
        Task::spawn(fut)
    }

    fn op(&self) {
        self.w.ops.set(self.w.ops.get() + 1);
    }

    fn begin(&self, description: &str) {
        println!("{description} ...");
        self.w.begin.set((self.now(), self.frames()));
        self.w.ops.set(0);
    }

    fn end(&self) {
        if self.now() > TEST_LIMIT {
            panic!("test took longer than 120 seconds");
        }
        let (t0, frames0) = self.w.begin.get();
        let t = (self.now() - t0).as_secs_f64();
        let frames = self.frames() - frames0;
        println!(
            "  ... Passed --  {t:4.1}  {} {frames:5} {:4}",
            self.w.n,
            self.w.ops.get()
        );
    }

    fn partition(&self, p1: &[usize], p2: &[usize]) {
        {
            let mut links = self.w.links.borrow_mut();
            for side in [p1, p2] {
                for &i in side {
                    for j in 0..self.w.n {
                        let same = side.contains(&j);
                        links[i][j] = same && i != j;
                        links[j][i] = same && i != j;
                    }
                }
            }
        }
        self.apply_links();
    }

    fn connect_all(&self) {
        {
            let mut links = self.w.links.borrow_mut();
            for (i, row) in links.iter_mut().enumerate() {
                for (j, l) in row.iter_mut().enumerate() {
                    *l = i != j;
                }
            }
        }
        self.apply_links();
    }

    fn shutdown_server(&self, i: usize) {
        {
            let mut links = self.w.links.borrow_mut();
            for j in 0..self.w.n {
                links[i][j] = false;
                links[j][i] = false;
            }
        }
        self.apply_links();
        self.w.servers.borrow_mut().kill(i);
    }

    fn start_server(&self, i: usize) {
        if let Err(e) = self.w.servers.borrow_mut().start(i) {
            panic!("cannot start server {i}: {e}");
        }
    }

    fn make_client(&self, to: &[usize]) -> RealClerk {
        let (id, first) = {
            let mut rng = self.w.rng.borrow_mut();
            let id = rng.int63() as u64;
            (id, rng.below(to.len().max(1) as u64) as usize)
        };
        RealClerk {
            servers: to.iter().map(|&i| self.w.clients[i]).collect(),
            id,
            seq: Cell::new(1),
            current: Cell::new(first),
            conn: RefCell::new(None),
            t0: self.w.t0,
        }
    }

    fn delete_client(&self, ck: &RealClerk) {
        ck.conn.borrow_mut().take();
    }

    fn log_size(&self) -> usize {
        let servers = self.w.servers.borrow();
        (0..self.w.n)
            .filter_map(|i| servers.info(i, CLERK_ATTEMPT))
            .filter_map(|info| info.get("raft_state_bytes")?.parse().ok())
            .max()
            .unwrap_or(0)
    }

    fn snapshot_size(&self) -> usize {
        self.w
            .data
            .iter()
            .filter_map(|d| std::fs::read_dir(d).ok())
            .flat_map(|entries| entries.flatten())
            .filter(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name.starts_with("snap-") && name.ends_with(".bin")
            })
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len() as usize)
            .max()
            .unwrap_or(0)
    }
}

/// A clerk of the real world: the lab's clerk over the Redis protocol (see the module
/// docs).
pub struct RealClerk {
    servers: Vec<SocketAddr>,
    id: u64,
    /// The request number of the next operation (the one in flight, while it runs).
    seq: Cell<u64>,
    current: Cell<usize>,
    conn: RefCell<Option<TcpStream>>,
    t0: Instant,
}

/// How one attempt at one server ended.
enum Attempt {
    Done(Value),
    /// No answer, or the connection is gone: try the next server.
    Retry,
}

impl RealClerk {
    /// One attempt at the current server, with the session resumed if the connection
    /// is new.
    async fn attempt(&self, command: &[u8]) -> Attempt {
        let open = self.conn.borrow_mut().take();
        let mut stream = match open {
            Some(s) => s,
            None => {
                let addr = self.servers[self.current.get()];
                let Ok(Ok(s)) = tokio::time::timeout(CLERK_ATTEMPT, TcpStream::connect(addr)).await
                else {
                    return Attempt::Retry;
                };
                let _ = s.set_nodelay(true);
                let mut s = s;
                let resume = session_command(self.id, self.seq.get());
                match exchange(&mut s, &resume).await {
                    Some(Value::Simple(ok)) if ok == "OK" => {}
                    Some(Value::Error(e)) => panic!("the server refused `SESSION`: {e}"),
                    _ => return Attempt::Retry,
                }
                s
            }
        };
        match exchange(&mut stream, command).await {
            Some(v) => {
                *self.conn.borrow_mut() = Some(stream);
                Attempt::Done(v)
            }
            None => Attempt::Retry,
        }
    }
}

impl KvClerk for RealClerk {
    async fn run(&self, op: Op) -> String {
        let args: Vec<&[u8]> = match &op {
            Op::Get { key } => vec![b"GET", key.as_bytes()],
            Op::Put { key, value } => vec![b"SET", key.as_bytes(), value.as_bytes()],
            Op::Append { key, value } | Op::AppendReturningLen { key, value } => {
                vec![b"APPEND", key.as_bytes(), value.as_bytes()]
            }
            Op::AppendReturningOld { .. } => {
                panic!("the Redis protocol has no append that returns the old value")
            }
        };
        let command = Value::Array(Some(args.iter().map(|a| Value::bulk(*a)).collect()));
        let command = command.to_bytes();
        loop {
            match tokio::time::timeout(CLERK_ATTEMPT, self.attempt(&command)).await {
                Ok(Attempt::Done(v)) => {
                    self.seq.set(self.seq.get() + 1);
                    return match (&op, v) {
                        (Op::Get { .. }, Value::Bulk(Some(b))) => {
                            String::from_utf8_lossy(&b).into_owned()
                        }
                        (Op::Get { .. }, Value::Bulk(None)) => String::new(),
                        (Op::Put { .. }, Value::Simple(_)) => String::new(),
                        (Op::AppendReturningLen { .. }, Value::Integer(n)) => n.to_string(),
                        (Op::Append { .. }, Value::Integer(_)) => String::new(),
                        (_, Value::Error(e)) => panic!("the server answered {op:?} with {e}"),
                        (_, other) => panic!("the server answered {op:?} with {other:?}"),
                    };
                }
                Ok(Attempt::Retry) | Err(_) => {
                    // The connection may hold a late answer: drop it, move on.
                    self.conn.borrow_mut().take();
                    self.current
                        .set((self.current.get() + 1) % self.servers.len().max(1));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }

    fn now_micros(&self) -> u64 {
        self.t0.elapsed().as_micros() as u64
    }
}

fn session_command(id: u64, seq: u64) -> Vec<u8> {
    let (id, seq) = (id.to_string(), seq.to_string());
    Value::Array(Some(vec![
        Value::bulk("SESSION"),
        Value::bulk(id),
        Value::bulk(seq),
    ]))
    .to_bytes()
}

/// Writes `command` and reads one reply; `None` if the connection failed.
async fn exchange(stream: &mut TcpStream, command: &[u8]) -> Option<Value> {
    stream.write_all(command).await.ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 << 10];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        match resp::parse_value(&buf, &Limits::default()).ok()? {
            Parsed::Incomplete => continue,
            Parsed::Done(v, _) => return Some(v),
        }
    }
}

/// Runs one `GenericTest` test on real processes (see [`super::run_real`]).
pub fn run_real_kv<F, Fut>(exe: PathBuf, g: &Generic, body: F)
where
    F: Fn(RealKv) -> Fut,
    Fut: Future<Output = ()>,
{
    super::runner::run_real(
        g.name,
        |seed, dir, proxies| RealKv::new(exe.clone(), dir, g, seed, proxies),
        RealKv::cleanup,
        body,
    );
}
