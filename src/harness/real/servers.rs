//! The servers under test: `raftlab serve` child processes on 127.0.0.1, killed
//! (SIGKILL), paused (SIGSTOP) and resumed (SIGCONT) by the nemesis, restarted from
//! their data directories.
//!
//! Server `i` takes clients on its own port and listens for peers on another; it
//! dials peer `j` at the proxy `P(i, j)` ([`super::Mesh`]), so its
//! `--peers` list is its own and all of them share one `--cluster` id. Each child's
//! standard error is appended to `s<i>.log` in the run directory, across restarts.
//!
//! Children die with the runner: each asks the kernel for SIGKILL when its parent
//! thread ends (`PR_SET_PDEATHSIG`; so every child is spawned from the runner's main
//! thread, which lives to the end), and [`Servers`] kills every child it still has when
//! dropped, even while unwinding. Each child is put in its own process group, so a
//! Ctrl-C in the terminal reaches the runner only, which then stops them itself.

use std::fs::{self, OpenOptions};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use super::child::{Info, info};

/// One server's addresses and files.
#[derive(Debug)]
pub struct Server {
    /// Where Redis clients connect.
    pub client: SocketAddr,
    /// Where it listens for peers (behind the proxies).
    pub listen: SocketAddr,
    /// Its `--peers` list: its own listen address at its own index, and the proxy
    /// `P(i, j)` at index `j`.
    pub peers: Vec<String>,
    /// Its data directory.
    pub data: PathBuf,
    /// Its log (standard error, appended across restarts).
    pub log: PathBuf,
    child: Option<Child>,
    paused: bool,
    starts: u64,
}

/// What every server is started with.
#[derive(Clone, Debug)]
pub struct Launch {
    /// The `raftlab` executable.
    pub exe: PathBuf,
    /// The cluster id every server shares.
    pub cluster: u64,
    /// Extra `raftlab serve` arguments (a bug switch, the snapshot size).
    pub extra: Vec<String>,
    /// Seeds each incarnation's timers (with the server id and the start count).
    pub seed: u64,
    /// The time origin of the servers' log lines (ms since the epoch).
    pub epoch_ms: u64,
}

/// The cluster's processes.
pub struct Servers {
    launch: Launch,
    /// Every server, by id.
    pub list: Vec<Server>,
}

impl Drop for Servers {
    fn drop(&mut self) {
        for i in 0..self.list.len() {
            self.kill(i);
        }
    }
}

impl Servers {
    /// The servers of a run directory `dir`: `clients[i]`, `listens[i]` and the
    /// proxies' addresses `proxy(i, j)` give each one's addresses. Nothing is started.
    pub fn new(
        launch: Launch,
        dir: &Path,
        clients: &[SocketAddr],
        listens: &[SocketAddr],
        proxy: impl Fn(usize, usize) -> SocketAddr,
    ) -> Servers {
        let n = clients.len();
        let list = (0..n)
            .map(|i| Server {
                client: clients[i],
                listen: listens[i],
                peers: (0..n)
                    .map(|j| {
                        if i == j {
                            listens[i].to_string()
                        } else {
                            proxy(i, j).to_string()
                        }
                    })
                    .collect(),
                data: dir.join(format!("s{i}")),
                log: dir.join(format!("s{i}.log")),
                child: None,
                paused: false,
                starts: 0,
            })
            .collect();
        Servers { launch, list }
    }

    /// How many servers.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are no servers.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Starts server `i` (from its data directory, if it ran before).
    pub fn start(&mut self, i: usize) -> std::io::Result<()> {
        let launch = &self.launch;
        let s = &mut self.list[i];
        let log = OpenOptions::new().create(true).append(true).open(&s.log)?;
        let seed = launch
            .seed
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .wrapping_add((i as u64) << 32 | s.starts);
        let mut cmd = Command::new(&launch.exe);
        cmd.arg("serve")
            .arg("--id")
            .arg(i.to_string())
            .arg("--peers")
            .arg(s.peers.join(","))
            .arg("--listen")
            .arg(s.listen.to_string())
            .arg("--cluster")
            .arg(format!("{:#x}", launch.cluster))
            .arg("--client")
            .arg(s.client.to_string())
            .arg("--data")
            .arg(&s.data)
            .arg("--seed")
            .arg(seed.to_string())
            .args(&launch.extra)
            .env("RAFTLAB_LOG_EPOCH_MS", launch.epoch_ms.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        // SAFETY: the closure calls only async-signal-safe functions (prctl, setpgid).
        unsafe {
            cmd.pre_exec(|| {
                // Die with the runner's main thread, even if it is killed with SIGKILL.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                // Ctrl-C reaches the runner only; it stops the servers itself.
                libc::setpgid(0, 0);
                Ok(())
            });
        }
        let child = cmd.spawn()?;
        s.child = Some(child);
        s.paused = false;
        s.starts += 1;
        Ok(())
    }

    /// Whether server `i` has a process (running or paused).
    pub fn is_up(&self, i: usize) -> bool {
        self.list[i].child.is_some()
    }

    /// Whether server `i` is paused.
    pub fn is_paused(&self, i: usize) -> bool {
        self.list[i].paused
    }

    /// How many times server `i` was started.
    pub fn starts(&self, i: usize) -> u64 {
        self.list[i].starts
    }

    fn signal(&self, i: usize, sig: libc::c_int) {
        if let Some(c) = &self.list[i].child {
            // SAFETY: kill sends a signal to our own child's pid, which we have not
            // reaped yet (so it cannot have been reused).
            unsafe {
                libc::kill(c.id() as libc::pid_t, sig);
            }
        }
    }

    /// `kill -9` server `i` and reap it.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.list[i].child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.list[i].paused = false;
    }

    /// SIGSTOP server `i`.
    pub fn pause(&mut self, i: usize) {
        if self.list[i].child.is_some() && !self.list[i].paused {
            self.signal(i, libc::SIGSTOP);
            self.list[i].paused = true;
        }
    }

    /// SIGCONT server `i`.
    pub fn resume(&mut self, i: usize) {
        if self.list[i].paused {
            self.signal(i, libc::SIGCONT);
            self.list[i].paused = false;
        }
    }

    /// The servers that ended without being killed, and how; they are reaped (so
    /// [`Servers::is_up`] is false for them).
    pub fn reap(&mut self) -> Vec<(usize, ExitStatus)> {
        let mut ended = Vec::new();
        for (i, s) in self.list.iter_mut().enumerate() {
            if let Some(c) = &mut s.child
                && let Ok(Some(status)) = c.try_wait()
            {
                ended.push((i, status));
                s.child = None;
                s.paused = false;
            }
        }
        ended
    }

    /// Server `i`'s `INFO`, if it answers within `wait`.
    pub fn info(&self, i: usize, wait: Duration) -> Option<Info> {
        if !self.is_up(i) || self.is_paused(i) {
            return None;
        }
        info(self.list[i].client, wait)
    }

    /// The server that says it leads the highest term, among those that answer.
    pub fn leader(&self) -> Option<usize> {
        (0..self.len())
            .filter_map(|i| {
                let info = self.info(i, Duration::from_millis(300))?;
                let term: u64 = info.get("term")?.parse().ok()?;
                (info.get("role") == Some("leader")).then_some((term, i))
            })
            .max()
            .map(|(_, i)| i)
    }

    /// The last line of server `i`'s log.
    pub fn last_log_line(&self, i: usize) -> String {
        fs::read_to_string(&self.list[i].log)
            .ok()
            .and_then(|s| s.lines().last().map(str::to_string))
            .unwrap_or_default()
    }
}
