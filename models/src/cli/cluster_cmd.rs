//! `raftlab cluster`: a local cluster of `raftlab serve` processes, for a first try.
//!
//! It starts one child process per server on 127.0.0.1, prints each client port with the
//! `redis-cli` line to use, shows who leads as it changes (by asking each server for
//! `INFO` every 200 ms), restarts a server that dies (unless `--no-restart`), and on
//! Ctrl-C or SIGTERM stops them all: SIGTERM, then SIGKILL for any still running after
//! five seconds. The children also get SIGTERM if this process dies without cleaning up.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use raftlab::harness::real::{describe_exit, info};

use crate::cli::serve_cmd::FsyncArg;

/// Options of `raftlab cluster`.
#[derive(Args, Debug, Clone)]
pub struct ClusterArgs {
    /// How many servers.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub servers: u64,
    /// The directory holding each server's data directory (s0, s1, ...) and log
    /// (s0.log, ...). Kept between runs: a cluster started again recovers.
    #[arg(long, value_name = "DIR", default_value = "raftlab-cluster")]
    pub data: PathBuf,
    /// Server i's clients connect to BASE+i, its peers to BASE+100+i.
    #[arg(long, value_name = "P", default_value_t = 7379,
          value_parser = clap::value_parser!(u16).range(1..=65_000))]
    pub base_port: u16,
    /// When the servers fsync.
    #[arg(long, value_enum, default_value_t = FsyncArg::Always)]
    pub fsync: FsyncArg,
    /// Do not restart a server that dies.
    #[arg(long)]
    pub no_restart: bool,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long, value_name = "S")]
    pub seconds: Option<u64>,
}

struct Member {
    id: usize,
    client: SocketAddr,
    data: PathBuf,
    log: PathBuf,
    child: Option<Child>,
    died_at: Option<Instant>,
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn spawn(m: &Member, peers: &str, fsync: FsyncArg, epoch: u64) -> std::io::Result<Child> {
    let log = OpenOptions::new().create(true).append(true).open(&m.log)?;
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.arg("serve")
        .arg("--id")
        .arg(m.id.to_string())
        .arg("--peers")
        .arg(peers)
        .arg("--client")
        .arg(m.client.to_string())
        .arg("--data")
        .arg(&m.data)
        .arg("--fsync")
        .arg(match fsync {
            FsyncArg::Always => "always",
            FsyncArg::Never => "never",
        })
        .env("RAFTLAB_LOG_EPOCH_MS", epoch.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    // SAFETY: the closure only calls async-signal-safe functions (prctl, setpgid).
    unsafe {
        cmd.pre_exec(|| {
            // Die with the cluster, even if it is killed with SIGKILL.
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            // Ctrl-C reaches the cluster only; it stops the servers in order.
            libc::setpgid(0, 0);
            Ok(())
        });
    }
    cmd.spawn()
}

/// Runs `raftlab cluster`: exit 0 after stopping every server, 1 if a server could not
/// be started, 3 for bad arguments.
pub fn run(args: ClusterArgs) -> ExitCode {
    let n = args.servers as usize;
    let top = u32::from(args.base_port) + 100 + n as u32;
    if top > 65_535 {
        eprintln!(
            "raftlab cluster: --base-port {} leaves no room for {n} peer ports (BASE+100+i must stay below 65536)",
            args.base_port
        );
        return super::exit::code(super::exit::USAGE);
    }
    if let Err(e) = fs::create_dir_all(&args.data) {
        eprintln!(
            "raftlab cluster: cannot create {}: {e}",
            args.data.display()
        );
        return ExitCode::FAILURE;
    }
    if let Err(e) = install_stop_handlers() {
        eprintln!("raftlab cluster: cannot handle SIGINT and SIGTERM: {e}");
        return ExitCode::FAILURE;
    }
    let port = |off: u32| (u32::from(args.base_port) + off) as u16;
    let peers: Vec<String> = (0..n)
        .map(|i| format!("127.0.0.1:{}", port(100 + i as u32)))
        .collect();
    let peer_list = peers.join(",");
    let epoch = raftlab::sim::verbose::unix_ms();
    let mut members: Vec<Member> = (0..n)
        .map(|i| Member {
            id: i,
            client: SocketAddr::from(([127, 0, 0, 1], port(i as u32))),
            data: args.data.join(format!("s{i}")),
            log: args.data.join(format!("s{i}.log")),
            child: None,
            died_at: None,
        })
        .collect();
    say(&format!(
        "raftlab cluster: {n} servers, data in {}, fsync {}",
        args.data.display(),
        match args.fsync {
            FsyncArg::Always => "always",
            FsyncArg::Never => "never (benchmarks only)",
        }
    ));
    for m in &mut members {
        match spawn(m, &peer_list, args.fsync, epoch) {
            Ok(c) => {
                say(&format!(
                    "  S{}  pid {:<7} redis-cli -p {:<5}  log {}",
                    m.id,
                    c.id(),
                    m.client.port(),
                    m.log.display()
                ));
                m.child = Some(c);
            }
            Err(e) => {
                eprintln!("raftlab cluster: cannot start S{}: {e}", m.id);
                stop_all(&mut members);
                return ExitCode::FAILURE;
            }
        }
    }
    say(
        "Ctrl-C stops the cluster. Any server's port takes any command: followers forward to the leader.",
    );
    let started = Instant::now();
    let mut shown: Option<(String, String)> = None;
    while !STOP.load(Ordering::Relaxed) {
        if args
            .seconds
            .is_some_and(|s| started.elapsed() >= Duration::from_secs(s))
        {
            break;
        }
        watch_children(&mut members, &peer_list, &args, epoch);
        let mut leader = None;
        for m in &members {
            if m.child.is_none() {
                continue;
            }
            if let Some(i) = info(m.client, Duration::from_millis(300))
                && i.get("role") == Some("leader")
            {
                let term = i.get("term").unwrap_or("?").to_string();
                leader = Some((format!("S{}", m.id), term, m.client.port()));
            }
        }
        let now = leader
            .as_ref()
            .map(|(s, t, _)| (s.clone(), t.clone()))
            .unwrap_or_else(|| ("none".into(), String::new()));
        if shown.as_ref() != Some(&now) {
            match &leader {
                Some((s, t, p)) => say(&format!(
                    "{:>7.1}s  leader {s} (term {t}), redis-cli -p {p}",
                    started.elapsed().as_secs_f64()
                )),
                None => say(&format!(
                    "{:>7.1}s  no leader",
                    started.elapsed().as_secs_f64()
                )),
            }
            shown = Some(now);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    say("stopping the servers");
    stop_all(&mut members);
    ExitCode::SUCCESS
}

fn watch_children(members: &mut [Member], peers: &str, args: &ClusterArgs, epoch: u64) {
    for m in members.iter_mut() {
        if let Some(c) = &mut m.child
            && let Ok(Some(status)) = c.try_wait()
        {
            let tail = last_line(&m.log);
            say(&format!(
                "S{} (pid {}) {}{}{}",
                m.id,
                c.id(),
                describe_exit(status),
                if tail.is_empty() { "" } else { ": " },
                tail
            ));
            m.child = None;
            m.died_at = Some(Instant::now());
            if !args.no_restart {
                say(&format!(
                    "S{} restarts in 2 s from {}",
                    m.id,
                    m.data.display()
                ));
            }
        }
        if m.child.is_none()
            && !args.no_restart
            && m.died_at
                .is_some_and(|t| t.elapsed() >= Duration::from_secs(2))
        {
            match spawn(m, peers, args.fsync, epoch) {
                Ok(c) => {
                    say(&format!("S{} restarted, pid {}", m.id, c.id()));
                    m.child = Some(c);
                    m.died_at = None;
                }
                Err(e) => {
                    say(&format!("S{} cannot restart: {e}", m.id));
                    m.died_at = Some(Instant::now());
                }
            }
        }
    }
}

fn last_line(path: &Path) -> String {
    fs::read_to_string(path)
        .ok()
        .and_then(|s| s.lines().last().map(str::to_string))
        .unwrap_or_default()
}

fn stop_all(members: &mut [Member]) {
    for m in members.iter_mut() {
        if let Some(c) = &m.child {
            // SAFETY: kill sends a signal to our own child's pid.
            unsafe {
                libc::kill(c.id() as i32, libc::SIGTERM);
            }
        }
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    for m in members.iter_mut() {
        let Some(mut c) = m.child.take() else {
            continue;
        };
        loop {
            match c.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => {
                    let _ = c.kill();
                    let _ = c.wait();
                    break;
                }
            }
        }
    }
}

/// Set by SIGINT or SIGTERM.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

/// Makes SIGINT and SIGTERM set [`STOP`] instead of ending the process.
fn install_stop_handlers() -> std::io::Result<()> {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        let r = unsafe { libc::signal(sig, on_signal as *const () as libc::sighandler_t) };
        if r == libc::SIG_ERR {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}
