//! `raftlab serve` for real: server processes on loopback, written to through a Redis
//! client library and redis-cli, killed with `kill -9` and restarted from their data
//! directories, and attacked with bytes no server should accept; the Raft lab's
//! service (`--service raft-log`), and a session resumed on a new connection.

mod real;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use real::{Cluster, redis_cli};

fn set(con: &mut redis::Connection, k: &str, v: &str) -> redis::RedisResult<String> {
    redis::cmd("SET").arg(k).arg(v).query(con)
}

/// `GET k`, asked again when a signal interrupted the socket call (EINTR: the test
/// kills and reaps server processes while it reads; a GET is safe to repeat).
fn get(con: &mut redis::Connection, k: &str) -> redis::RedisResult<String> {
    let mut tries = 0;
    loop {
        match redis::cmd("GET").arg(k).query(con) {
            Err(e) if e.kind() == redis::ErrorKind::IoError && tries < 3 && interrupted(&e) => {
                tries += 1;
            }
            other => return other,
        }
    }
}

fn interrupted(e: &redis::RedisError) -> bool {
    std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .is_some_and(|io| io.kind() == std::io::ErrorKind::Interrupted)
        || e.to_string().contains("Interrupted system call")
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn set_get_append_through_a_redis_library_and_redis_cli() {
    let c = Cluster::start(3);
    let leader = c.check_one_leader(Duration::from_secs(10));
    let follower = (leader + 1) % 3;
    let other = (leader + 2) % 3;
    let mut a = c.redis(follower);
    let mut b = c.redis(other);
    assert_eq!(set(&mut a, "k", "hello").unwrap(), "OK");
    assert_eq!(
        get(&mut b, "k").unwrap(),
        "hello",
        "a follower reads the write"
    );
    let len: i64 = redis::cmd("APPEND")
        .arg("k")
        .arg(" world")
        .query(&mut b)
        .unwrap();
    assert_eq!(len, 11, "APPEND returns the new length, as Redis does");
    assert_eq!(get(&mut a, "k").unwrap(), "hello world");
    assert_eq!(get(&mut a, "never-set").unwrap(), "");
    let pong: String = redis::cmd("PING").query(&mut a).unwrap();
    assert_eq!(pong, "PONG");
    // Errors leave the connection usable.
    let e = redis::cmd("FLUSHALL").query::<String>(&mut a).unwrap_err();
    assert!(e.to_string().contains("unknown command 'FLUSHALL'"), "{e}");
    let e = redis::cmd("GET").query::<String>(&mut a).unwrap_err();
    assert!(
        e.to_string()
            .contains("wrong number of arguments for 'get'"),
        "{e}"
    );
    assert_eq!(get(&mut a, "k").unwrap(), "hello world");

    // redis-cli, against every server.
    assert_eq!(stdout(&c.redis_cli(other, &["SET", "cli", "v1"])), "OK");
    for i in 0..3 {
        assert_eq!(stdout(&c.redis_cli(i, &["GET", "cli"])), "v1", "S{i}");
    }
    assert_eq!(stdout(&c.redis_cli(leader, &["APPEND", "cli", "23"])), "4");
    let info = stdout(&c.redis_cli(leader, &["INFO"]));
    for field in [
        "role:leader",
        &format!("id:{leader}"),
        "term:",
        &format!("leader:{leader}"),
        "commit_index:",
        "applied_index:",
        "log_bytes:",
        "snapshot_index:",
    ] {
        assert!(info.contains(field), "INFO lacks {field}:\n{info}");
    }
    let finfo = c.info(follower).unwrap();
    assert_eq!(finfo.get("role"), Some("follower"));
    assert_eq!(finfo.num("leader"), leader as i64);
    let unknown = stdout(&c.redis_cli(leader, &["NOSUCH", "x"]));
    assert!(
        unknown.contains("ERR unknown command 'NOSUCH'"),
        "{unknown}"
    );
}

/// Writes keys `prefix0, prefix1, ...` one after another through server `via` of
/// `c` (moving to the next server when a connection fails), for `run`; returns every
/// write the cluster acknowledged.
fn write_through_failures(
    c: &Cluster,
    prefix: &str,
    via: usize,
    run: Duration,
) -> BTreeMap<String, String> {
    ClusterAddrs {
        clients: c.clients.clone(),
    }
    .write(prefix, via, run)
}

fn assert_all_present(c: &Cluster, via: usize, acked: &BTreeMap<String, String>) {
    let mut con = c.redis(via);
    for (k, v) in acked {
        assert_eq!(&get(&mut con, k).unwrap(), v, "acknowledged write {k} lost");
    }
}

#[test]
fn kill9_of_the_leader_and_of_a_follower_loses_nothing_acknowledged() {
    let mut c = Cluster::start(3);
    let leader = c.check_one_leader(Duration::from_secs(10));
    let entry = (leader + 1) % 3;
    let writer = {
        let clients = c.clients.clone();
        std::thread::spawn(move || {
            ClusterAddrs { clients }.write("a", entry, Duration::from_secs(4))
        })
    };
    std::thread::sleep(Duration::from_millis(800));
    let killed = leader;
    c.kill9(killed);
    let new_leader = c.check_one_leader(Duration::from_secs(10));
    assert_ne!(new_leader, killed);
    std::thread::sleep(Duration::from_millis(800));
    c.start_server(killed);
    let acked = writer.join().unwrap();
    assert!(acked.len() > 20, "only {} writes acknowledged", acked.len());
    assert_all_present(&c, killed, &acked);
    let log = c.log(killed);
    assert!(
        log.contains("recovered"),
        "the restart recovered its data:\n{log}"
    );

    // Now a follower.
    let leader = c.check_one_leader(Duration::from_secs(10));
    let follower = (leader + 1) % 3;
    c.kill9(follower);
    let more = write_through_failures(&c, "b", leader, Duration::from_secs(2));
    assert!(!more.is_empty());
    c.start_server(follower);
    // The restarted follower catches up and serves every acknowledged write.
    assert_all_present(&c, follower, &acked);
    assert_all_present(&c, follower, &more);
}

/// The client addresses of a cluster, enough for a writer thread.
struct ClusterAddrs {
    clients: Vec<std::net::SocketAddr>,
}

impl ClusterAddrs {
    /// See [`write_through_failures`]; a write whose outcome is unknown (the connection
    /// failed) is not counted as acknowledged.
    fn write(&self, prefix: &str, mut via: usize, run: Duration) -> BTreeMap<String, String> {
        let mut acked = BTreeMap::new();
        let deadline = Instant::now() + run;
        let mut con: Option<redis::Connection> = None;
        let mut n = 0;
        while Instant::now() < deadline {
            if con.is_none() {
                let url = format!("redis://{}/", self.clients[via]);
                con = redis::Client::open(url).ok().and_then(|cl| {
                    cl.get_connection_with_timeout(Duration::from_millis(500))
                        .ok()
                });
                match &con {
                    Some(cn) => {
                        let _ = cn.set_read_timeout(Some(Duration::from_secs(5)));
                    }
                    None => {
                        via = (via + 1) % self.clients.len();
                        std::thread::sleep(Duration::from_millis(50));
                        continue;
                    }
                }
            }
            let (k, v) = (format!("{prefix}{n}"), format!("value {n}"));
            n += 1;
            match con.as_mut().map(|cn| set(cn, &k, &v)) {
                Some(Ok(_)) => {
                    acked.insert(k, v);
                }
                _ => {
                    con = None;
                    via = (via + 1) % self.clients.len();
                }
            }
        }
        acked
    }
}

#[test]
fn kill9_of_every_server_keeps_every_acknowledged_write() {
    let mut c = Cluster::start(3);
    let leader = c.check_one_leader(Duration::from_secs(10));
    let acked = write_through_failures(&c, "k", leader, Duration::from_secs(2));
    assert!(acked.len() > 20, "only {} writes acknowledged", acked.len());
    for i in 0..3 {
        c.kill9(i);
    }
    for i in 0..3 {
        c.start_server(i);
    }
    let leader = c.check_one_leader(Duration::from_secs(10));
    for i in 0..3 {
        assert_all_present(&c, (leader + i) % 3, &acked);
    }
}

#[test]
fn a_clean_stop_exits_zero_and_a_restart_recovers() {
    let mut c = Cluster::start(3);
    let leader = c.check_one_leader(Duration::from_secs(10));
    let mut con = c.redis(leader);
    set(&mut con, "x", "1").unwrap();
    drop(con);
    for i in 0..3 {
        assert_eq!(c.stop(i), Some(0), "S{i}:\n{}", c.log(i));
        assert!(c.log(i).contains("stopped"));
    }
    for i in 0..3 {
        c.start_server(i);
    }
    let leader = c.check_one_leader(Duration::from_secs(10));
    assert_eq!(get(&mut c.redis(leader), "x").unwrap(), "1");
}

fn send_and_read(addr: std::net::SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(7))).unwrap();
    let _ = s.write_all(bytes);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

#[test]
fn hostile_peers_and_clients_change_nothing() {
    let c = Cluster::start(3);
    let leader = c.check_one_leader(Duration::from_secs(10));
    let mut con = c.redis(leader);
    set(&mut con, "kept", "yes").unwrap();
    let target = (leader + 1) % 3;
    // Wait until the target has applied the write (it learns of the commit from the
    // next heartbeat), so that nothing should move during the attack.
    let deadline = Instant::now() + Duration::from_secs(5);
    let before = loop {
        let info = c.info(target).unwrap();
        if info.num("applied_index") >= c.info(leader).unwrap().num("commit_index") {
            break info;
        }
        assert!(
            Instant::now() < deadline,
            "S{target} never applied the write"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let peer: std::net::SocketAddr = c.peers[target].parse().unwrap();

    // A half-open connection that never says a word, held through the attack.
    let half_open = TcpStream::connect(peer).unwrap();
    // Garbage bytes.
    send_and_read(peer, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    // An oversized frame header.
    send_and_read(peer, &[0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4]);
    // A stranger's handshake: another cluster's id. It is refused with the reason.
    let mut hello = Vec::new();
    let payload = {
        // postcard: magic u32, version u16, cluster u64, from u32, to u32 (varints).
        let mut p = Vec::new();
        for v in [0x5246_544c_u64, 1, 0xdead, 0, target as u64] {
            let mut v = v;
            loop {
                let b = (v & 0x7f) as u8;
                v >>= 7;
                if v == 0 {
                    p.push(b);
                    break;
                }
                p.push(b | 0x80);
            }
        }
        p
    };
    hello.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    hello.extend_from_slice(&crc32(&payload).to_le_bytes());
    hello.extend_from_slice(&payload);
    let answer = send_and_read(peer, &hello);
    assert!(
        String::from_utf8_lossy(&answer).contains("cluster id 0xdead"),
        "the refusal says why: {answer:?}"
    );
    // A valid-looking frame whose bytes do not decode as a handshake.
    let mut junk = vec![3, 0, 0, 0];
    junk.extend_from_slice(&crc32(&[0xff, 0xff, 0xff]).to_le_bytes());
    junk.extend_from_slice(&[0xff, 0xff, 0xff]);
    send_and_read(peer, &junk);

    // Clients: a gigabyte length prefix, garbage, a huge inline line.
    let client = c.clients[target];
    let reply = send_and_read(client, b"*1\r\n$1073741824\r\n");
    assert!(
        String::from_utf8_lossy(&reply).starts_with("-ERR Protocol error: invalid bulk length"),
        "{:?}",
        String::from_utf8_lossy(&reply)
    );
    let reply = send_and_read(client, b"*2\r\n$3\r\nGET\r\n:5\r\n");
    assert!(String::from_utf8_lossy(&reply).contains("expected '$', got ':'"));
    let reply = send_and_read(client, &vec![b'x'; 100 << 10]);
    assert!(String::from_utf8_lossy(&reply).contains("too big inline request"));
    let reply = send_and_read(client, b"*-5\r\nPING\r\n");
    assert_eq!(reply, b"+PONG\r\n");

    // The attacked server still serves, and its state did not move.
    let after = c.info(target).unwrap();
    for f in ["term", "commit_index", "last_log_index"] {
        assert_eq!(before.num(f), after.num(f), "{f} changed under attack");
    }
    assert_eq!(stdout(&redis_cli(client, &["GET", "kept"])), "yes");
    set(&mut con, "after", "1").unwrap();
    assert_eq!(get(&mut c.redis(target), "after").unwrap(), "1");
    drop(half_open);
    let log = c.log(target);
    for needle in [
        "refused a peer connection",
        "cluster id 0xdead",
        "over the",
        "closing the connection from",
    ] {
        assert!(log.contains(needle), "the log lacks {needle:?}:\n{log}");
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    // CRC-32C (Castagnoli), bit by bit: the tests do not link the crc32c crate.
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82f6_3b78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn serve_refuses_bad_arguments_and_damaged_or_foreign_data() {
    let run = |args: &[&str]| {
        let out = std::process::Command::new(real::raftlab_bin())
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("s0");
    let ds = d.display().to_string();
    let ports = real::free_ports(4);
    let peers = format!("127.0.0.1:{},127.0.0.1:{}", ports[0], ports[1]);
    let client = format!("127.0.0.1:{}", ports[2]);
    let (code, err) = run(&[
        "serve", "--id", "2", "--peers", &peers, "--client", &client, "--data", &ds,
    ]);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains("--id 2 is not below the 2 addresses of --peers"),
        "{err}"
    );
    let (code, err) = run(&[
        "serve",
        "--id",
        "0",
        "--peers",
        &peers,
        "--client",
        &client,
        "--data",
        &ds,
        "--election-timeout",
        "500-100",
    ]);
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("500-100"), "{err}");

    // A port someone else holds.
    let held = std::net::TcpListener::bind(&client).unwrap();
    let (code, err) = run(&[
        "serve", "--id", "0", "--peers", &peers, "--client", &client, "--data", &ds,
    ]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(&format!("cannot listen for clients on {client}")),
        "{err}"
    );
    drop(held);

    // A data directory of server 0, damaged, then started as server 1.
    let mut c = Cluster::start(1);
    set(&mut c.redis(0), "a", "1").unwrap();
    set(&mut c.redis(0), "b", "2").unwrap();
    c.kill9(0);
    let wal = std::fs::read_dir(c.data(0))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "log"))
        .unwrap();
    let good = real::read(&wal);
    let mut bad = good.clone();
    bad[16 + 5] ^= 0x40;
    std::fs::write(&wal, &bad).unwrap();
    let args = c.serve_args(0);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, err) = run(&args);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(&wal.display().to_string()) && err.contains("corrupt at byte offset 16"),
        "{err}"
    );
    assert_eq!(real::read(&wal), bad, "a refused start changes nothing");
    std::fs::write(&wal, &good).unwrap();
    let mut foreign: Vec<String> = c.serve_args(0);
    let peers_at = foreign.iter().position(|a| a == "--peers").unwrap() + 1;
    foreign[peers_at] = format!("{},127.0.0.1:{}", foreign[peers_at], ports[3]);
    foreign[2] = "1".into();
    let foreign: Vec<&str> = foreign.iter().map(String::as_str).collect();
    let (code, err) = run(&foreign);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("belongs to server 0 of a 1-server cluster"),
        "{err}"
    );
    c.start_server(0);
    c.check_one_leader(Duration::from_secs(10));
    assert_eq!(get(&mut c.redis(0), "b").unwrap(), "2");
}

#[test]
fn cluster_starts_servers_shows_the_leader_restarts_the_dead_and_stops_on_sigint() {
    // Six consecutive free ports: BASE..BASE+2 for clients, BASE+100.. for peers.
    let base = (0..200)
        .map(|k| 20_000 + 337 * k as u16)
        .find(|&b| {
            [0, 1, 2, 100, 101, 102]
                .iter()
                .all(|o| std::net::TcpListener::bind(("127.0.0.1", b + o)).is_ok())
        })
        .expect("six free ports");
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out");
    let out = std::fs::File::create(&out_path).unwrap();
    let mut child = std::process::Command::new(real::raftlab_bin())
        .args([
            "cluster",
            "--servers",
            "3",
            "--base-port",
            &base.to_string(),
            "--data",
        ])
        .arg(dir.path().join("data"))
        .args(["--seconds", "60"])
        .stdout(out)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let wait_for = |needle: &str, within: Duration| -> String {
        let deadline = Instant::now() + within;
        loop {
            let text = std::fs::read_to_string(&out_path).unwrap_or_default();
            if text.contains(needle) {
                return text;
            }
            assert!(Instant::now() < deadline, "no {needle:?} in:\n{text}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let text = wait_for("leader S", Duration::from_secs(15));
    assert!(text.contains(&format!("redis-cli -p {base}")), "{text}");
    let leader_line = text.lines().find(|l| l.contains("leader S")).unwrap();
    let port: u16 = leader_line.rsplit(' ').next().unwrap().parse().unwrap();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    assert_eq!(stdout(&redis_cli(addr, &["SET", "via", "cluster"])), "OK");
    // kill -9 the leader: the cluster says so and restarts it.
    let pid = text
        .lines()
        .find(|l| l.contains(&format!("redis-cli -p {port}")) && l.contains("pid"))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|p| p.parse::<i32>().ok())
        .unwrap();
    // SAFETY: kill signals a process this test started (through the cluster).
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
    wait_for("was killed by SIGKILL", Duration::from_secs(10));
    wait_for("restarted, pid", Duration::from_secs(10));
    assert_eq!(stdout(&redis_cli(addr, &["GET", "via"])), "cluster");
    // SAFETY: as above.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("raftlab cluster did not stop on SIGINT");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
    wait_for("stopping the servers", Duration::from_secs(1));
    // Every server is gone: the ports are free again.
    for o in [0, 1, 2] {
        assert!(
            TcpStream::connect(("127.0.0.1", base + o)).is_err(),
            "a server still listens on {}",
            base + o
        );
    }
}

/// `LAB.STATE` of server `i`: its term and whether it leads (`None` if it does not
/// answer).
fn lab_state(c: &Cluster, i: usize) -> Option<(u64, bool)> {
    let client = redis::Client::open(format!("redis://{}/", c.clients[i])).ok()?;
    let mut con = client
        .get_connection_with_timeout(Duration::from_secs(1))
        .ok()?;
    con.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let (term, leader): (u64, u8) = redis::cmd("LAB.STATE").query(&mut con).ok()?;
    Some((term, leader == 1))
}

/// The lab's `checkOneLeader` through `LAB.STATE`: waits (bounded) until exactly one
/// server says it leads the highest term; returns it and the term.
fn lab_leader(c: &Cluster, within: Duration) -> (usize, u64) {
    let deadline = Instant::now() + within;
    loop {
        let mut leaders: Vec<(u64, usize)> = (0..c.n)
            .filter_map(|i| match lab_state(c, i) {
                Some((term, true)) => Some((term, i)),
                _ => None,
            })
            .collect();
        leaders.sort();
        if let Some(&(term, i)) = leaders.last()
            && leaders.iter().filter(|(t, _)| *t == term).count() == 1
        {
            return (i, term);
        }
        assert!(
            Instant::now() < deadline,
            "no single leader by LAB.STATE within {within:?}: {leaders:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn lab_start(con: &mut redis::Connection, cmd: &str) -> Option<(u64, u64)> {
    match redis::cmd("LAB.START").arg(cmd).query(con) {
        Ok(started) => started,
        Err(e) => panic!("LAB.START {cmd}: {e}"),
    }
}

fn lab_applied(c: &Cluster, i: usize, from: u64) -> redis::RedisResult<Vec<String>> {
    let client = redis::Client::open(format!("redis://{}/", c.clients[i]))?;
    let mut con = client.get_connection_with_timeout(Duration::from_secs(1))?;
    con.set_read_timeout(Some(Duration::from_secs(2)))?;
    redis::cmd("LAB.APPLIED").arg(from).query(&mut con)
}

/// Waits (bounded) until server `i` has applied exactly `want`, from index 1.
fn wait_applied(c: &Cluster, i: usize, want: &[&str], within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let got = lab_applied(c, i, 1);
        if matches!(&got, Ok(v) if v == want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "S{i} applied {got:?}, not {want:?}, within {within:?}:\n{}",
            c.log(i)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn raft_log_service_starts_on_the_chosen_server_and_every_server_applies_the_same_record() {
    let mut c = Cluster::start_with(3, &["--service", "raft-log"]);
    let (leader, term) = lab_leader(&c, Duration::from_secs(10));
    let mut con = c.redis(leader);
    for (i, cmd) in ["c1", "c2", "c3"].into_iter().enumerate() {
        assert_eq!(
            lab_start(&mut con, cmd),
            Some((i as u64 + 1, term)),
            "LAB.START {cmd} on the leader"
        );
    }
    let follower = (leader + 1) % 3;
    let mut fcon = c.redis(follower);
    assert_eq!(
        lab_start(&mut fcon, "not-here"),
        None,
        "a follower's LAB.START is nil"
    );
    let (fterm, fleads) = lab_state(&c, follower).expect("the follower answers LAB.STATE");
    assert_eq!((fterm, fleads), (term, false));
    for i in 0..3 {
        wait_applied(&c, i, &["c1", "c2", "c3"], Duration::from_secs(10));
    }
    assert_eq!(lab_applied(&c, follower, 2).unwrap(), ["c2", "c3"]);
    assert!(lab_applied(&c, follower, 4).unwrap().is_empty());
    let e = lab_applied(&c, follower, 0).unwrap_err();
    assert!(
        e.to_string().contains("LAB.APPLIED: the first index '0'"),
        "{e}"
    );
    // The key/value commands are not this service's; INFO and COMMAND say what is.
    let e = get(&mut fcon, "k").unwrap_err();
    assert!(
        e.to_string().contains("unknown command 'GET'")
            && e.to_string().contains("raft-log service: LAB.START"),
        "{e}"
    );
    let info = c.info(follower).unwrap();
    assert_eq!(info.get("service"), Some("raft-log"));
    assert_eq!(info.num("applied_index"), 3);
    let commands: Vec<String> = redis::cmd("COMMAND").query(&mut fcon).unwrap();
    assert_eq!(commands, ["lab.start", "lab.state", "lab.applied"]);
    drop(fcon);

    // kill -9 a follower: restarted from its data directory, it applies the same record
    // again, and what comes next.
    c.kill9(follower);
    c.start_server(follower);
    wait_applied(&c, follower, &["c1", "c2", "c3"], Duration::from_secs(10));
    assert!(c.log(follower).contains("recovered"), "{}", c.log(follower));
    let (leader, _) = lab_leader(&c, Duration::from_secs(10));
    let started = lab_start(&mut c.redis(leader), "c4");
    assert!(matches!(started, Some((4, _))), "{started:?}");
    for i in 0..3 {
        wait_applied(&c, i, &["c1", "c2", "c3", "c4"], Duration::from_secs(10));
    }
}

fn session(con: &mut redis::Connection) -> (u64, u64) {
    match redis::cmd("SESSION").query(con) {
        Ok(s) => s,
        Err(e) => panic!("SESSION: {e}"),
    }
}

fn append(con: &mut redis::Connection, k: &str, v: &str) -> i64 {
    match redis::cmd("APPEND").arg(k).arg(v).query(con) {
        Ok(n) => n,
        Err(e) => panic!("APPEND {k} {v}: {e}"),
    }
}

#[test]
fn a_session_resumed_on_a_new_connection_applies_a_resent_append_once() {
    let c = Cluster::start(3);
    let leader = c.check_one_leader(Duration::from_secs(10));
    let (first, second) = ((leader + 1) % 3, (leader + 2) % 3);
    let mut a = c.redis(first);
    let (id, next) = session(&mut a);
    assert_eq!(next, 1, "a fresh connection's first request is number 1");
    assert_eq!(set(&mut a, "k", "x").unwrap(), "OK");
    assert_eq!(session(&mut a), (id, 2));
    // Request 2, an APPEND; then the connection is lost (as if before its answer).
    assert_eq!(append(&mut a, "k", "y"), 2);
    drop(a);

    // A new connection, to another server, takes over the session at request 2 and
    // sends the same APPEND again: the same length, and no second copy.
    let mut b = c.redis(second);
    let resumed: String = redis::cmd("SESSION").arg(id).arg(2).query(&mut b).unwrap();
    assert_eq!(resumed, "OK");
    assert_eq!(session(&mut b), (id, 2));
    assert_eq!(
        append(&mut b, "k", "y"),
        2,
        "the first APPEND's result again"
    );
    assert_eq!(get(&mut b, "k").unwrap(), "xy", "appended once");
    assert_eq!(session(&mut b), (id, 4));
    assert_eq!(append(&mut b, "k", "z"), 3, "the next request runs");
    assert_eq!(get(&mut c.redis(leader), "k").unwrap(), "xyz");

    // A late resend of an older write (request 1) runs not at all.
    let mut late = c.redis(leader);
    let _: String = redis::cmd("SESSION")
        .arg(id)
        .arg(1)
        .query(&mut late)
        .unwrap();
    assert_eq!(set(&mut late, "k", "x").unwrap(), "OK");
    assert_eq!(
        get(&mut late, "k").unwrap(),
        "xyz",
        "the old SET did not run again"
    );

    // Refusals name the argument; the connection stays usable.
    let refusal = |con: &mut redis::Connection, args: &[&str]| -> String {
        match redis::cmd("SESSION").arg(args).query::<String>(con) {
            Err(e) => e.to_string(),
            Ok(v) => panic!("SESSION {args:?} was accepted: {v}"),
        }
    };
    assert!(refusal(&mut b, &["me", "1"]).contains("the client id 'me'"));
    assert!(refusal(&mut b, &["1", "-3"]).contains("the next sequence number '-3'"));
    assert!(refusal(&mut b, &["1", "0"]).contains("must be 1 or more"));
    assert!(refusal(&mut b, &["1"]).contains("wrong number of arguments for 'session'"));
    assert_eq!(session(&mut b), (id, 5), "refusals change nothing");
    // The raft-log service's commands are unknown here.
    let e = redis::cmd("LAB.START")
        .arg("x")
        .query::<String>(&mut b)
        .unwrap_err();
    assert!(
        e.to_string().contains("unknown command 'LAB.START'")
            && e.to_string().contains("kv service: GET, SET, APPEND"),
        "{e}"
    );
}
