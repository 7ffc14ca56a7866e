//! A real cluster for tests, the way the lab's config.go holds a simulated one:
//! `raftlab serve` processes on loopback ports, each with its data directory in a
//! temporary folder, started, killed (`kill -9`), stopped and restarted by the test.
//!
//! Every child is killed when the [`Cluster`] is dropped, and by the kernel if the test
//! process itself dies (`PR_SET_PDEATHSIG`), so a failing test leaves nothing running.
//! Every wait is bounded.

#![allow(dead_code)]

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Picks `n` distinct free loopback ports (held together while picked, then released).
pub fn free_ports(n: usize) -> Vec<u16> {
    let held: Vec<TcpListener> = (0..n)
        .map(|_| match TcpListener::bind("127.0.0.1:0") {
            Ok(l) => l,
            Err(e) => panic!("cannot bind a loopback port: {e}"),
        })
        .collect();
    held.iter()
        .map(|l| l.local_addr().map(|a| a.port()).unwrap_or(0))
        .collect()
}

/// What one `INFO` said.
#[derive(Clone, Debug, Default)]
pub struct Info(pub Vec<(String, String)>);

impl Info {
    /// A field's value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A numeric field.
    pub fn num(&self, key: &str) -> i64 {
        self.get(key).and_then(|v| v.parse().ok()).unwrap_or(-2)
    }
}

/// A local cluster of `raftlab serve` processes.
pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub n: usize,
    pub peers: Vec<String>,
    pub clients: Vec<SocketAddr>,
    children: Vec<Option<Child>>,
    extra: Vec<String>,
}

/// The `raftlab` binary under test (for an example, the one built beside it).
pub fn raftlab_bin() -> PathBuf {
    if let Some(p) = option_env!("CARGO_BIN_EXE_raftlab") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    // target/<profile>/examples/<name> -> target/<profile>/raftlab
    match exe.parent().and_then(Path::parent) {
        Some(dir) => dir.join("raftlab"),
        None => PathBuf::from("raftlab"),
    }
}

impl Cluster {
    /// Starts `n` servers and waits (at most 10 s) for a leader.
    pub fn start(n: usize) -> Cluster {
        Self::start_with(n, &[])
    }

    /// Starts `n` servers with extra `raftlab serve` arguments.
    pub fn start_with(n: usize, extra: &[&str]) -> Cluster {
        let ports = free_ports(2 * n);
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("cannot make a temporary directory: {e}"),
        };
        let mut c = Cluster {
            dir,
            n,
            peers: (0..n)
                .map(|i| format!("127.0.0.1:{}", ports[n + i]))
                .collect(),
            clients: (0..n)
                .map(|i| SocketAddr::from(([127, 0, 0, 1], ports[i])))
                .collect(),
            children: (0..n).map(|_| None).collect(),
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        for i in 0..n {
            c.start_server(i);
        }
        c.check_one_leader(Duration::from_secs(10));
        c
    }

    /// Server `i`'s data directory.
    pub fn data(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("s{i}"))
    }

    /// Server `i`'s log file (its standard error, appended across restarts).
    pub fn log_path(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("s{i}.log"))
    }

    /// Server `i`'s log so far.
    pub fn log(&self, i: usize) -> String {
        fs::read_to_string(self.log_path(i)).unwrap_or_default()
    }

    /// The `raftlab serve` arguments of server `i`.
    pub fn serve_args(&self, i: usize) -> Vec<String> {
        let mut a = vec![
            "serve".to_string(),
            "--id".into(),
            i.to_string(),
            "--peers".into(),
            self.peers.join(","),
            "--client".into(),
            self.clients[i].to_string(),
            "--data".into(),
            self.data(i).display().to_string(),
        ];
        a.extend(self.extra.iter().cloned());
        a
    }

    /// Starts (or restarts) server `i` from its data directory.
    pub fn start_server(&mut self, i: usize) {
        assert!(self.children[i].is_none(), "S{i} is already running");
        let log = match fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path(i))
        {
            Ok(f) => f,
            Err(e) => panic!("cannot open S{i}'s log: {e}"),
        };
        let mut cmd = Command::new(raftlab_bin());
        cmd.args(self.serve_args(i))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        // SAFETY: prctl is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        match cmd.spawn() {
            Ok(c) => self.children[i] = Some(c),
            Err(e) => panic!("cannot start S{i}: {e}"),
        }
        self.wait_listening(i, Duration::from_secs(10));
    }

    fn wait_listening(&mut self, i: usize, within: Duration) {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if TcpStream::connect_timeout(&self.clients[i], Duration::from_millis(100)).is_ok() {
                return;
            }
            if let Some(c) = &mut self.children[i]
                && let Ok(Some(status)) = c.try_wait()
            {
                panic!("S{i} exited at start ({status}):\n{}", self.log(i));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("S{i} did not listen within {within:?}:\n{}", self.log(i));
    }

    /// `kill -9` server `i`.
    pub fn kill9(&mut self, i: usize) {
        if let Some(mut c) = self.children[i].take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM server `i` and wait (at most 10 s) for it to exit; returns its exit code.
    pub fn stop(&mut self, i: usize) -> Option<i32> {
        let mut c = self.children[i].take()?;
        // SAFETY: kill signals our own child.
        unsafe {
            libc::kill(c.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(s)) = c.try_wait() {
                return s.code();
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                let _ = c.wait();
                panic!("S{i} did not stop within 10 s of SIGTERM:\n{}", self.log(i));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether server `i` runs.
    pub fn running(&mut self, i: usize) -> bool {
        match &mut self.children[i] {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Server `i`'s `INFO`, if it answers within a second.
    pub fn info(&self, i: usize) -> Option<Info> {
        let t = Duration::from_secs(1);
        let mut s = TcpStream::connect_timeout(&self.clients[i], t).ok()?;
        s.set_read_timeout(Some(t)).ok()?;
        s.write_all(b"INFO\r\n").ok()?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = s.read(&mut chunk).ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
            // "$<len>\r\n<text>\r\n"
            let text = String::from_utf8_lossy(&buf).into_owned();
            let (head, body) = text.split_once("\r\n")?;
            let len: usize = head.strip_prefix('$')?.parse().ok()?;
            if body.len() >= len + 2 {
                let fields = body[..len]
                    .lines()
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.to_string(), v.trim().to_string()))
                    .collect();
                return Some(Info(fields));
            }
        }
    }

    /// The lab's `checkOneLeader`: waits (bounded) until exactly one running server says
    /// it leads the highest term, and returns it.
    pub fn check_one_leader(&self, within: Duration) -> usize {
        let deadline = Instant::now() + within;
        loop {
            let mut leaders: Vec<(i64, usize)> = (0..self.n)
                .filter_map(|i| {
                    let info = self.info(i)?;
                    (info.get("role") == Some("leader")).then(|| (info.num("term"), i))
                })
                .collect();
            leaders.sort();
            if let Some(&(term, i)) = leaders.last()
                && leaders.iter().filter(|(t, _)| *t == term).count() == 1
            {
                return i;
            }
            if Instant::now() > deadline {
                let logs: Vec<String> = (0..self.n)
                    .map(|i| format!("--- S{i}\n{}", self.log(i)))
                    .collect();
                panic!("no single leader within {within:?}\n{}", logs.join("\n"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A Redis connection to server `i` (through the `redis` crate).
    pub fn redis(&self, i: usize) -> redis::Connection {
        let url = format!("redis://{}/", self.clients[i]);
        let client = match redis::Client::open(url) {
            Ok(c) => c,
            Err(e) => panic!("redis client for S{i}: {e}"),
        };
        match client.get_connection_with_timeout(Duration::from_secs(2)) {
            Ok(c) => {
                let _ = c.set_read_timeout(Some(Duration::from_secs(10)));
                let _ = c.set_write_timeout(Some(Duration::from_secs(10)));
                c
            }
            Err(e) => panic!("cannot connect to S{i}: {e}"),
        }
    }

    /// Runs `redis-cli -p PORT args` against server `i`.
    pub fn redis_cli(&self, i: usize, args: &[&str]) -> Output {
        redis_cli(self.clients[i], args)
    }
}

/// Runs `redis-cli -h 127.0.0.1 -p PORT args`; a missing redis-cli fails the test with
/// what to install.
pub fn redis_cli(addr: SocketAddr, args: &[&str]) -> Output {
    let out = Command::new("redis-cli")
        .arg("-h")
        .arg(addr.ip().to_string())
        .arg("-p")
        .arg(addr.port().to_string())
        .args(args)
        .output();
    match out {
        Ok(o) => o,
        Err(e) => panic!(
            "cannot run redis-cli ({e}): these tests need it (Debian: apt-get install -y redis-tools)"
        ),
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in self.children.iter_mut().flatten() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Reads a whole file, for tests that damage data directories.
pub fn read(path: &Path) -> Vec<u8> {
    match fs::read(path) {
        Ok(b) => b,
        Err(e) => panic!("cannot read {}: {e}", path.display()),
    }
}
