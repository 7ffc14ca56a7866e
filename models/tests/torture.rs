//! `raftlab torture` for real: a short run under every nemesis passes, the deliberate
//! runtime bug `ack-before-fsync` is caught, bad arguments are refused, the servers die
//! with the runner; and `raftlab serve --listen`, which torture's proxies need.

mod real;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use real::{free_ports, raftlab_bin};

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out: Output = Command::new(raftlab_bin())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The summary line that starts with `label`.
fn line<'a>(stdout: &'a str, label: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.trim_start().starts_with(label))
        .unwrap_or_else(|| panic!("no {label:?} line in:\n{stdout}"))
}

/// The number after `label` on its summary line.
fn number(stdout: &str, label: &str) -> u64 {
    let l = line(stdout, label).trim_start()[label.len()..].trim_start();
    let digits: String = l.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no number on {l:?}"))
}

fn lincheck(history: &Path) -> Option<i32> {
    let h = history.display().to_string();
    run(&["lincheck", &h]).0
}

#[test]
fn a_short_run_under_every_nemesis_passes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("run");
    let d = data.display().to_string();
    // Seed 37's schedule for 12 s: pause the leader, kill the leader, isolate one.
    let (code, out, err) = run(&[
        "torture",
        "--servers",
        "3",
        "--clients",
        "6",
        "--keys",
        "3",
        "--seconds",
        "12",
        "--seed",
        "37",
        "--data",
        &d,
    ]);
    assert_eq!(code, Some(0), "stdout:\n{out}\nstderr:\n{err}");
    let ops = number(&out, "operations");
    assert!(ops > 100, "{ops} operations");
    let ops_line = line(&out, "operations");
    assert!(ops_line.contains("(ok ") && ops_line.contains("unknown"));
    let nemesis = line(&out, "nemesis");
    for kind in [
        "kill 1 (leader 1)",
        "pause 1 (leader 1)",
        "partition 1 (isolate 1)",
    ] {
        assert!(nemesis.contains(kind), "{nemesis}");
    }
    assert!(line(&out, "latency").contains("p50") && line(&out, "latency").contains("p99"));
    assert_eq!(line(&out, "verdict").trim(), "verdict        Ok");
    assert_eq!(number(&out, "lost"), 0);
    assert_eq!(number(&out, "seed"), 37);
    // --data is kept: the history reads back as linearizable, the logs are there.
    let history = data.join("history.jsonl");
    assert_eq!(lincheck(&history), Some(0));
    for i in 0..3 {
        let log = std::fs::read_to_string(data.join(format!("s{i}.log"))).unwrap();
        assert!(log.contains("serving Redis clients"), "S{i}'s log:\n{log}");
        assert!(data.join(format!("s{i}")).is_dir());
    }
}

#[test]
fn the_ack_before_fsync_bug_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("run");
    let d = data.display().to_string();
    // Seed 2's kill schedule for 10 s kills all three servers twice.
    let (code, out, err) = run(&[
        "torture",
        "--servers",
        "3",
        "--seconds",
        "10",
        "--nemesis",
        "kill",
        "--seed",
        "2",
        "--bug",
        "ack-before-fsync",
        "--data",
        &d,
    ]);
    assert_eq!(code, Some(1), "stdout:\n{out}\nstderr:\n{err}");
    assert!(line(&out, "nemesis").contains("all 2"), "{out}");
    let illegal = line(&out, "verdict").contains("Illegal");
    let lost = number(&out, "lost");
    assert!(illegal || lost > 0, "not caught:\n{out}");
    assert!(err.contains("FAILED"), "{err}");
    assert!(
        err.contains("--bug ack-before-fsync --data") || err.contains("--bug ack-before-fsync"),
        "the rerun command keeps the bug: {err}"
    );
    let history = data.join("history.jsonl");
    assert!(out.contains(&history.display().to_string()), "{out}");
    if illegal {
        assert_eq!(lincheck(&history), Some(1), "lincheck agrees");
    }
    let log = std::fs::read_to_string(data.join("s0.log")).unwrap();
    assert!(
        log.contains("deliberate bug ack-before-fsync is ON"),
        "{log}"
    );
}

#[test]
fn bad_arguments_are_refused_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("x"), "x").unwrap();
    let full = full.display().to_string();
    let html = dir.path().join("missing").join("h.html");
    let html = html.display().to_string();
    let cases: &[(&[&str], &str)] = &[
        (&["--servers", "0"], "0 is not in 1..=9"),
        (&["--servers", "10"], "10 is not in 1..=9"),
        (&["--clients", "0"], "0 is not in 1..=100"),
        (&["--seconds", "0"], "0 is not in 1..=3600"),
        (&["--keys", "x"], "invalid digit"),
        (&["--nemesis", "flood"], "invalid value 'flood'"),
        (
            &["--nemesis", "none,kill"],
            "--nemesis none cannot be combined with other faults",
        ),
        (&["--op-timeout", "5"], "5 is not in 10..=600000"),
        (&["--check-timeout", "-1"], "expected seconds"),
        (&["--bug", "typo"], "invalid value 'typo'"),
        (&["--data", &full], "is not empty"),
        (&["--html", &html], "cannot create"),
        (&["--seed", "-1"], "invalid digit"),
    ];
    for (args, want) in cases {
        let mut a = vec!["torture"];
        a.extend_from_slice(args);
        let (code, out, err) = run(&a);
        assert_eq!(code, Some(3), "{args:?}: {out}{err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!out.contains("run directory"), "{args:?} started a run");
    }
}

/// The pids of `raftlab serve` processes whose command line names `dir`.
fn servers_of(dir: &Path) -> Vec<u32> {
    let needle = dir.display().to_string();
    let mut pids = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if cmd.contains(" serve ") && cmd.contains(&needle) {
            pids.push(pid);
        }
    }
    pids
}

/// Starts a torture run without faults (so that no scheduled kill can change how many
/// servers run when they are counted) and returns once its workload has started.
fn start_torture(data: &Path) -> Child {
    let d = data.display().to_string();
    let mut child = Command::new(raftlab_bin())
        .args([
            "torture",
            "--servers",
            "3",
            "--seconds",
            "60",
            "--nemesis",
            "none",
        ])
        .args(["--data", &d])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    loop {
        match lines.next() {
            Some(Ok(l)) if l.contains("the workload starts") => break,
            Some(Ok(_)) => continue,
            _ => {
                let _ = child.kill();
                panic!("torture ended before its workload started");
            }
        }
    }
    // Keep reading in the background, so that the runner never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    assert_eq!(servers_of(data).len(), 3, "three servers run");
    child
}

fn wait_gone(data: &Path, within: Duration) -> Vec<u32> {
    let deadline = Instant::now() + within;
    loop {
        let left = servers_of(data);
        if left.is_empty() || Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_servers_die_with_the_runner() {
    let dir = tempfile::tempdir().unwrap();
    // Ctrl-C: the runner stops its servers and says it was interrupted.
    let data = dir.path().join("int");
    let mut t = start_torture(&data);
    // SAFETY: signals our own child.
    unsafe {
        libc::kill(t.id() as i32, libc::SIGINT);
    }
    let status = t.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert_eq!(wait_gone(&data, Duration::from_secs(5)), Vec::<u32>::new());
    // SIGKILL: the kernel kills the servers (PR_SET_PDEATHSIG).
    let data = dir.path().join("kill");
    let mut t = start_torture(&data);
    let _ = t.kill();
    let _ = t.wait();
    let left = wait_gone(&data, Duration::from_secs(5));
    for &pid in &left {
        // SAFETY: clean up after a failure; the pid was just read from /proc.
        unsafe {
            libc::kill(pid as i32, libc::SIGKILL);
        }
    }
    assert_eq!(left, Vec::<u32>::new(), "servers outlived a killed runner");
}

/// Three `raftlab serve` processes killed when dropped.
struct Procs(Vec<Child>);

impl Drop for Procs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn leader(clients: &[SocketAddr], within: Duration) -> Option<usize> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        for (i, a) in clients.iter().enumerate() {
            let Ok(c) = redis::Client::open(format!("redis://{a}/")) else {
                continue;
            };
            let Ok(mut con) = c.get_connection_with_timeout(Duration::from_millis(300)) else {
                continue;
            };
            let info: Result<String, _> = redis::cmd("INFO").query(&mut con);
            if info.is_ok_and(|s| s.contains("role:leader")) {
                return Some(i);
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

/// Starts three servers whose --peers lists differ: each names a dead address for
/// itself and listens (--listen) elsewhere; `cluster` is passed as --cluster.
fn start_differing(dir: &Path, cluster: Option<&str>) -> (Procs, Vec<SocketAddr>, Vec<SocketAddr>) {
    let p = free_ports(9);
    let addr = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
    let clients: Vec<SocketAddr> = p[0..3].iter().map(|&q| addr(q)).collect();
    let listens: Vec<SocketAddr> = p[3..6].iter().map(|&q| addr(q)).collect();
    let nowhere: Vec<SocketAddr> = p[6..9].iter().map(|&q| addr(q)).collect();
    let mut procs = Procs(Vec::new());
    for i in 0..3 {
        let peers: Vec<String> = (0..3)
            .map(|j| if i == j { nowhere[j] } else { listens[j] }.to_string())
            .collect();
        let log = std::fs::File::create(dir.join(format!("s{i}.log"))).unwrap();
        let mut cmd = Command::new(raftlab_bin());
        cmd.args(["serve", "--id", &i.to_string(), "--peers", &peers.join(",")])
            .args(["--listen", &listens[i].to_string()])
            .args(["--client", &clients[i].to_string()])
            .arg("--data")
            .arg(dir.join(format!("s{i}")))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        if let Some(c) = cluster {
            cmd.args(["--cluster", c]);
        }
        procs.0.push(cmd.spawn().unwrap());
    }
    (procs, clients, listens)
}

#[test]
fn serve_listens_where_listen_says_and_peers_with_differing_lists_share_a_cluster_id() {
    let dir = tempfile::tempdir().unwrap();
    let same = dir.path().join("same");
    std::fs::create_dir(&same).unwrap();
    let (_procs, clients, listens) = start_differing(&same, Some("0xabc"));
    let l = leader(&clients, Duration::from_secs(10)).expect("a leader with --cluster");
    let con = |i: usize| {
        redis::Client::open(format!("redis://{}/", clients[i]))
            .unwrap()
            .get_connection_with_timeout(Duration::from_secs(2))
            .unwrap()
    };
    let other = (l + 1) % 3;
    let ok: String = redis::cmd("SET")
        .arg("k")
        .arg("v")
        .query(&mut con(other))
        .unwrap();
    assert_eq!(ok, "OK");
    let v: String = redis::cmd("GET")
        .arg("k")
        .query(&mut con((l + 2) % 3))
        .unwrap();
    assert_eq!(v, "v");
    let log = std::fs::read_to_string(same.join("s0.log")).unwrap();
    assert!(
        log.contains(&format!("peers on {}", listens[0])),
        "S0 listens where --listen says:\n{log}"
    );

    // Without --cluster, each derives its id from its own list: they refuse each other.
    let apart = dir.path().join("apart");
    std::fs::create_dir(&apart).unwrap();
    let (_procs, clients, _) = start_differing(&apart, None);
    let deadline = Instant::now() + Duration::from_secs(10);
    let refused = loop {
        let log = std::fs::read_to_string(apart.join("s1.log")).unwrap_or_default();
        if log.contains("refused a peer connection") || Instant::now() > deadline {
            break log;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        refused.contains("refused a peer connection") && refused.contains("cluster id"),
        "{refused}"
    );
    assert_eq!(leader(&clients, Duration::from_millis(500)), None);
}
