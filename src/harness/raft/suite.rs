//! The Lab 3 (Raft) tests, the bodies of raft/test_test.go, written once over
//! [`RaftLab`] so that every driver that can host a test runs the same body: the
//! simulator (tests/raft, all 28, in virtual time) and the real runtime
//! (models/tests/lab_real.rs: `raftlab serve` processes, real TCP and disk, real
//! seconds). Each test's configuration (the lab's `make_config(servers, unreliable,
//! snapshot)`) is in [`SPECS`]; [`raft_suite!`](crate::raft_suite) declares one
//! `#[test]` per name for a driver's runner.
//!
//! One body is the simulator's alone: `figure8_unreliable_3c` turns on labrpc's long
//! reordering of replies, which only the simulated network has.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use super::config::Config;
use super::lab::{ELECTION_TIMEOUT, RaftLab};
use super::world::Cmd;
use crate::raft::RaftCore;

/// A lab test's configuration: `make_config(servers, unreliable, snapshot)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spec {
    /// The test's name (the lab's, in snake case, part as suffix).
    pub name: &'static str,
    /// The number of peers.
    pub servers: usize,
    /// Whether the network starts unreliable.
    pub unreliable: bool,
    /// Whether the peers snapshot (the lab's `applierSnap`).
    pub snapshot: bool,
}

/// Every test of the suite, in the lab's order.
pub const SPECS: &[Spec] = &[
    Spec {
        name: "initial_election_3a",
        servers: 3,
        unreliable: false,
        snapshot: false,
    },
    Spec {
        name: "re_election_3a",
        servers: 3,
        unreliable: false,
        snapshot: false,
    },
    Spec {
        name: "many_elections_3a",
        servers: 7,
        unreliable: false,
        snapshot: false,
    },
    Spec {
        name: "basic_agree_3b",
        servers: 3,
        unreliable: false,
        snapshot: false,
    },
    Spec {
        name: "rpc_bytes_3b",
        servers: 3,
        unreliable: false,
        snapshot: false,
    },
    Spec {
        name: "follower_failure_3b",
        servers: 3,
        unreliable: false,
        snapshot: false,
    },
    Spec {
        name: "leader_failure_3b",
        servers: 3,
        unreliable: false,
        snapshot: false,
    },
    Spec {
        name: "fail_agree_3b",
        servers: 3,
        unreliable: false,
        snapshot: false,
    },
    Spec {
        name: "fail_no_agree_3b",
        servers: 5,
        unreliable: false,
        snapshot: false,
    },
    Spec {
        name: "concurrent_starts_3b",
        servers: 3,
        unreliable: false,
        snapshot: false,
    },
    Spec {
        name: "rejoin_3b",
        servers: 3,
        unreliable: false,
        snapshot: false,
    },
    Spec {
        name: "backup_3b",
        servers: 5,
        unreliable: false,
        snapshot: false,
    },
    Spec {
        name: "count_3b",
        servers: 3,
        unreliable: false,
        snapshot: false,
    },
    Spec {
        name: "persist1_3c",
        servers: 3,
        unreliable: false,
        snapshot: false,
    },
    Spec {
        name: "persist2_3c",
        servers: 5,
        unreliable: false,
        snapshot: false,
    },
    Spec {
        name: "persist3_3c",
        servers: 3,
        unreliable: false,
        snapshot: false,
    },
    Spec {
        name: "figure8_3c",
        servers: 5,
        unreliable: false,
        snapshot: false,
    },
    Spec {
        name: "unreliable_agree_3c",
        servers: 5,
        unreliable: true,
        snapshot: false,
    },
    Spec {
        name: "figure8_unreliable_3c",
        servers: 5,
        unreliable: true,
        snapshot: false,
    },
    Spec {
        name: "reliable_churn_3c",
        servers: 5,
        unreliable: false,
        snapshot: false,
    },
    Spec {
        name: "unreliable_churn_3c",
        servers: 5,
        unreliable: true,
        snapshot: false,
    },
    Spec {
        name: "snapshot_basic_3d",
        servers: 3,
        unreliable: false,
        snapshot: true,
    },
    Spec {
        name: "snapshot_install_3d",
        servers: 3,
        unreliable: false,
        snapshot: true,
    },
    Spec {
        name: "snapshot_install_unreliable_3d",
        servers: 3,
        unreliable: true,
        snapshot: true,
    },
    Spec {
        name: "snapshot_install_crash_3d",
        servers: 3,
        unreliable: false,
        snapshot: true,
    },
    Spec {
        name: "snapshot_install_un_crash_3d",
        servers: 3,
        unreliable: true,
        snapshot: true,
    },
    Spec {
        name: "snapshot_all_crash_3d",
        servers: 3,
        unreliable: false,
        snapshot: true,
    },
    Spec {
        name: "snapshot_init_3d",
        servers: 3,
        unreliable: false,
        snapshot: true,
    },
];

/// The configuration of the test `name`.
///
/// # Panics
/// If `name` is not a test of the suite.
pub fn spec(name: &str) -> &'static Spec {
    SPECS
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("{name} is not a Raft lab test"))
}

/// Declares one `#[test]` per named lab test, each calling `run(spec, body)`: the
/// driver's runner gets the test's [`Spec`] and its body (an `async fn` generic over
/// [`RaftLab`], or the simulator's [`Config`] for the tests only it hosts). Attributes
/// before a name (`#[ignore]`) go on its test.
///
/// ```ignore
/// raftlab::raft_suite!(raft_test: initial_election_3a, #[ignore] figure8_3c);
/// ```
#[macro_export]
macro_rules! raft_suite {
    ($run:path: $($(#[$attr:meta])* $name:ident),* $(,)?) => {
        $(
            $(#[$attr])*
            #[test]
            fn $name() {
                $run(
                    $crate::harness::raft::suite::spec(stringify!($name)),
                    $crate::harness::raft::suite::$name,
                );
            }
        )*
    };
}

// ===================================== 3A =====================================

/// `initial_election_3a`.
pub async fn initial_election_3a<C: RaftLab>(cfg: C) {
    cfg.begin("Test (3A): initial election");
    // is a leader elected?
    cfg.check_one_leader().await;
    // sleep a bit to avoid racing with followers learning of the election, then
    // check that all peers agree on the term.
    cfg.sleep_ms(50).await;
    let term1 = cfg.check_terms().await.unwrap_or(0);
    if term1 < 1 {
        panic!("term is {term1}, but should be at least 1");
    }
    // does the leader+term stay the same if there is no network failure?
    cfg.sleep(2 * ELECTION_TIMEOUT).await;
    let term2 = cfg.check_terms().await.unwrap_or(0);
    if term1 != term2 {
        println!("warning: term changed even though there were no failures");
    }
    // there should still be a leader.
    cfg.check_one_leader().await;
    cfg.end();
}

/// `re_election_3a`.
pub async fn re_election_3a<C: RaftLab>(cfg: C) {
    let servers = cfg.n();
    cfg.begin("Test (3A): election after network failure");
    let leader1 = cfg.check_one_leader().await;
    // if the leader disconnects, a new one should be elected.
    cfg.disconnect(leader1);
    cfg.check_one_leader().await;
    // if the old leader rejoins, that shouldn't disturb the new leader.
    cfg.connect(leader1);
    let leader2 = cfg.check_one_leader().await;
    // if there's no quorum, no new leader should be elected.
    cfg.disconnect(leader2);
    cfg.disconnect((leader2 + 1) % servers);
    cfg.sleep(2 * ELECTION_TIMEOUT).await;
    // check that the one connected server does not think it is the leader.
    cfg.check_no_leader().await;
    // if a quorum arises, it should elect a leader.
    cfg.connect((leader2 + 1) % servers);
    cfg.check_one_leader().await;
    // re-join of last node shouldn't prevent leader from existing.
    cfg.connect(leader2);
    cfg.check_one_leader().await;
    cfg.end();
}

/// `many_elections_3a`.
pub async fn many_elections_3a<C: RaftLab>(cfg: C) {
    let servers = cfg.n() as u64;
    cfg.begin("Test (3A): multiple elections");
    cfg.check_one_leader().await;
    for _ in 1..10 {
        // disconnect three nodes
        let i1 = cfg.rand_below(servers) as usize;
        let i2 = cfg.rand_below(servers) as usize;
        let i3 = cfg.rand_below(servers) as usize;
        cfg.disconnect(i1);
        cfg.disconnect(i2);
        cfg.disconnect(i3);
        // either the current leader should still be alive, or the remaining four
        // should elect a new one.
        cfg.check_one_leader().await;
        cfg.connect(i1);
        cfg.connect(i2);
        cfg.connect(i3);
    }
    cfg.check_one_leader().await;
    cfg.end();
}

// ===================================== 3B =====================================

/// `basic_agree_3b`.
pub async fn basic_agree_3b<C: RaftLab>(cfg: C) {
    let servers = cfg.n();
    cfg.begin("Test (3B): basic agreement");
    for index in 1..=3u64 {
        let (nd, _) = cfg.n_committed(index);
        if nd > 0 {
            panic!("some have committed before Start()");
        }
        let xindex = cfg.one(index as i64 * 100, servers, false).await;
        if xindex != index {
            panic!("got index {xindex} but expected {index}");
        }
    }
    cfg.end();
}

/// `rpc_bytes_3b`.
pub async fn rpc_bytes_3b<C: RaftLab>(cfg: C) {
    let servers = cfg.n();
    cfg.begin("Test (3B): RPC byte count");
    cfg.one(99, servers, false).await;
    let bytes0 = cfg.bytes_total();
    let mut sent = 0u64;
    for index in 2..12u64 {
        let cmd = cfg.rand_string(5000);
        sent += cmd.len() as u64;
        let xindex = cfg.one(cmd, servers, false).await;
        if xindex != index {
            panic!("got index {xindex} but expected {index}");
        }
    }
    let got = cfg.bytes_total() - bytes0;
    let expected = servers as u64 * sent;
    if got > expected + 50000 {
        panic!("too many RPC bytes; got {got}, expected {expected}");
    }
    cfg.end();
}

/// `follower_failure_3b`.
pub async fn follower_failure_3b<C: RaftLab>(cfg: C) {
    let servers = cfg.n();
    cfg.begin("Test (3B): test progressive failure of followers");
    cfg.one(101, servers, false).await;
    // disconnect one follower from the network.
    let leader1 = cfg.check_one_leader().await;
    cfg.disconnect((leader1 + 1) % servers);
    // the leader and remaining follower should be able to agree despite the
    // disconnected follower.
    cfg.one(102, servers - 1, false).await;
    cfg.sleep(ELECTION_TIMEOUT).await;
    cfg.one(103, servers - 1, false).await;
    // disconnect the remaining follower
    let leader2 = cfg.check_one_leader().await;
    cfg.disconnect((leader2 + 1) % servers);
    cfg.disconnect((leader2 + 2) % servers);
    // submit a command.
    let Some((index, _)) = cfg.start(leader2, 104).await else {
        panic!("leader rejected Start()");
    };
    if index != 4 {
        panic!("expected index 4, got {index}");
    }
    cfg.sleep(2 * ELECTION_TIMEOUT).await;
    // check that command 104 did not commit.
    let (n, _) = cfg.n_committed(index);
    if n > 0 {
        panic!("{n} committed but no majority");
    }
    cfg.end();
}

/// `leader_failure_3b`.
pub async fn leader_failure_3b<C: RaftLab>(cfg: C) {
    let servers = cfg.n();
    cfg.begin("Test (3B): test failure of leaders");
    cfg.one(101, servers, false).await;
    // disconnect the first leader.
    let leader1 = cfg.check_one_leader().await;
    cfg.disconnect(leader1);
    // the remaining followers should elect a new leader.
    cfg.one(102, servers - 1, false).await;
    cfg.sleep(ELECTION_TIMEOUT).await;
    cfg.one(103, servers - 1, false).await;
    // disconnect the new leader.
    let leader2 = cfg.check_one_leader().await;
    cfg.disconnect(leader2);
    // submit a command to each server.
    for i in 0..servers {
        cfg.start(i, 104).await;
    }
    cfg.sleep(2 * ELECTION_TIMEOUT).await;
    // check that command 104 did not commit.
    let (n, _) = cfg.n_committed(4);
    if n > 0 {
        panic!("{n} committed but no majority");
    }
    cfg.end();
}

/// `fail_agree_3b`.
pub async fn fail_agree_3b<C: RaftLab>(cfg: C) {
    let servers = cfg.n();
    cfg.begin("Test (3B): agreement after follower reconnects");
    cfg.one(101, servers, false).await;
    // disconnect one follower from the network.
    let leader = cfg.check_one_leader().await;
    cfg.disconnect((leader + 1) % servers);
    // the leader and remaining follower should be able to agree despite the
    // disconnected follower.
    cfg.one(102, servers - 1, false).await;
    cfg.one(103, servers - 1, false).await;
    cfg.sleep(ELECTION_TIMEOUT).await;
    cfg.one(104, servers - 1, false).await;
    cfg.one(105, servers - 1, false).await;
    // re-connect
    cfg.connect((leader + 1) % servers);
    // the full set of servers should preserve previous agreements, and be able to
    // agree on new commands.
    cfg.one(106, servers, true).await;
    cfg.sleep(ELECTION_TIMEOUT).await;
    cfg.one(107, servers, true).await;
    cfg.end();
}

/// `fail_no_agree_3b`.
pub async fn fail_no_agree_3b<C: RaftLab>(cfg: C) {
    let servers = cfg.n();
    cfg.begin("Test (3B): no agreement if too many followers disconnect");
    cfg.one(10, servers, false).await;
    // 3 of 5 followers disconnect
    let leader = cfg.check_one_leader().await;
    cfg.disconnect((leader + 1) % servers);
    cfg.disconnect((leader + 2) % servers);
    cfg.disconnect((leader + 3) % servers);
    let Some((index, _)) = cfg.start(leader, 20).await else {
        panic!("leader rejected Start()");
    };
    if index != 2 {
        panic!("expected index 2, got {index}");
    }
    cfg.sleep(2 * ELECTION_TIMEOUT).await;
    let (n, _) = cfg.n_committed(index);
    if n > 0 {
        panic!("{n} committed but no majority");
    }
    // repair
    cfg.connect((leader + 1) % servers);
    cfg.connect((leader + 2) % servers);
    cfg.connect((leader + 3) % servers);
    // the disconnected majority may have chosen a leader from among their own
    // ranks, forgetting index 2.
    let leader2 = cfg.check_one_leader().await;
    let Some((index2, _)) = cfg.start(leader2, 30).await else {
        panic!("leader2 rejected Start()");
    };
    if !(2..=3).contains(&index2) {
        panic!("unexpected index {index2}");
    }
    cfg.one(1000, servers, true).await;
    cfg.end();
}

/// `concurrent_starts_3b`.
pub async fn concurrent_starts_3b<C: RaftLab>(cfg: C) {
    let servers = cfg.n();
    cfg.begin("Test (3B): concurrent Start()s");
    let mut success = false;
    'attempt: for attempt in 0..5 {
        if attempt > 0 {
            // give solution some time to settle
            cfg.sleep(Duration::from_secs(3)).await;
        }
        let leader = cfg.check_one_leader().await;
        let Some((_, term)) = cfg.start(leader, 1).await else {
            // leader moved on really quickly
            continue;
        };
        // Five "goroutines" each call Start once; Start never blocks, so running
        // them one after another at the same virtual instant is the same thing.
        let mut indices = Vec::new();
        for ii in 0..5i64 {
            if let Some((i, term1)) = cfg.start(leader, 100 + ii).await
                && term1 == term
            {
                indices.push(i);
            }
        }
        for j in 0..servers {
            if cfg.get_state(j).await.map(|s| s.0) != Some(term) {
                // term changed -- can't expect low RPC counts
                continue 'attempt;
            }
        }
        let mut cmds = Vec::new();
        for index in indices {
            match cfg.wait(index, servers, Some(term)).await {
                Err(_) => continue 'attempt, // peers have moved on to later terms
                Ok(Some(Cmd::Int(ix))) => cmds.push(ix),
                Ok(other) => panic!("value {other:?} is not an int"),
            }
        }
        for ii in 0..5i64 {
            let x = 100 + ii;
            if !cmds.contains(&x) {
                panic!("cmd {x} missing in {cmds:?}");
            }
        }
        success = true;
        break;
    }
    if !success {
        panic!("term changed too often");
    }
    cfg.end();
}

/// `rejoin_3b`.
pub async fn rejoin_3b<C: RaftLab>(cfg: C) {
    let servers = cfg.n();
    cfg.begin("Test (3B): rejoin of partitioned leader");
    cfg.one(101, servers, true).await;
    // leader network failure
    let leader1 = cfg.check_one_leader().await;
    cfg.disconnect(leader1);
    // make old leader try to agree on some entries
    cfg.start(leader1, 102).await;
    cfg.start(leader1, 103).await;
    cfg.start(leader1, 104).await;
    // new leader commits, also for index=2
    cfg.one(103, 2, true).await;
    // new leader network failure
    let leader2 = cfg.check_one_leader().await;
    cfg.disconnect(leader2);
    // old leader connected again
    cfg.connect(leader1);
    cfg.one(104, 2, true).await;
    // all together now
    cfg.connect(leader2);
    cfg.one(105, servers, true).await;
    cfg.end();
}

/// `backup_3b`.
pub async fn backup_3b<C: RaftLab>(cfg: C) {
    let servers = cfg.n();
    cfg.begin("Test (3B): leader backs up quickly over incorrect follower logs");
    cfg.one(cfg.rand(), servers, true).await;
    // put leader and one follower in a partition
    let leader1 = cfg.check_one_leader().await;
    cfg.disconnect((leader1 + 2) % servers);
    cfg.disconnect((leader1 + 3) % servers);
    cfg.disconnect((leader1 + 4) % servers);
    // submit lots of commands that won't commit
    for _ in 0..50 {
        cfg.start(leader1, cfg.rand()).await;
    }
    cfg.sleep(ELECTION_TIMEOUT / 2).await;
    cfg.disconnect(leader1 % servers);
    cfg.disconnect((leader1 + 1) % servers);
    // allow other partition to recover
    cfg.connect((leader1 + 2) % servers);
    cfg.connect((leader1 + 3) % servers);
    cfg.connect((leader1 + 4) % servers);
    // lots of successful commands to new group.
    for _ in 0..50 {
        cfg.one(cfg.rand(), 3, true).await;
    }
    // now another partitioned leader and one follower
    let leader2 = cfg.check_one_leader().await;
    let mut other = (leader1 + 2) % servers;
    if leader2 == other {
        other = (leader2 + 1) % servers;
    }
    cfg.disconnect(other);
    // lots more commands that won't commit
    for _ in 0..50 {
        cfg.start(leader2, cfg.rand()).await;
    }
    cfg.sleep(ELECTION_TIMEOUT / 2).await;
    // bring original leader back to life,
    for i in 0..servers {
        cfg.disconnect(i);
    }
    cfg.connect(leader1 % servers);
    cfg.connect((leader1 + 1) % servers);
    cfg.connect(other);
    // lots of successful commands to new group.
    for _ in 0..50 {
        cfg.one(cfg.rand(), 3, true).await;
    }
    // now everyone
    for i in 0..servers {
        cfg.connect(i);
    }
    cfg.one(cfg.rand(), servers, true).await;
    cfg.end();
}

/// `count_3b`.
pub async fn count_3b<C: RaftLab>(cfg: C) {
    let servers = cfg.n();
    cfg.begin("Test (3B): RPC counts aren't too high");
    let rpcs = |cfg: &C| (0..servers).map(|j| cfg.rpc_count(j)).sum::<u64>();
    cfg.check_one_leader().await;
    let mut total1 = rpcs(&cfg);
    if !(1..=30).contains(&total1) {
        panic!("too many or few RPCs ({total1}) to elect initial leader");
    }
    let mut total2 = 0;
    let mut success = false;
    let iters = 10u64;
    'attempt: for attempt in 0..5 {
        if attempt > 0 {
            // give solution some time to settle
            cfg.sleep(Duration::from_secs(3)).await;
        }
        let leader = cfg.check_one_leader().await;
        total1 = rpcs(&cfg);
        let Some((starti, term)) = cfg.start(leader, 1).await else {
            // leader moved on really quickly
            continue;
        };
        let mut cmds = Vec::new();
        for i in 1..iters + 2 {
            let x = cfg.rand() >> 32; // like Go's rand.Int31()
            cmds.push(x);
            match cfg.start(leader, x).await {
                Some((index1, term1)) if term1 == term => {
                    if starti + i != index1 {
                        panic!("Start() failed");
                    }
                }
                // Term changed while starting, or no longer leader.
                _ => continue 'attempt,
            }
        }
        for i in 1..iters + 1 {
            match cfg.wait(starti + i, servers, Some(term)).await {
                Ok(Some(Cmd::Int(ix))) if ix == cmds[(i - 1) as usize] => {}
                Err(_) => continue 'attempt, // term changed -- try again
                Ok(cmd) => panic!(
                    "wrong value {cmd:?} committed for index {}; expected {cmds:?}",
                    starti + i
                ),
            }
        }
        let mut failed = false;
        total2 = 0;
        for j in 0..servers {
            if cfg.get_state(j).await.map(|s| s.0) != Some(term) {
                // term changed -- can't expect low RPC counts; need to keep going to
                // update total2
                failed = true;
            }
            total2 += cfg.rpc_count(j);
        }
        if failed {
            continue 'attempt;
        }
        if total2 - total1 > (iters + 1 + 3) * 3 {
            panic!("too many RPCs ({}) for {iters} entries", total2 - total1);
        }
        success = true;
        break;
    }
    if !success {
        panic!("term changed too often");
    }
    cfg.sleep(ELECTION_TIMEOUT).await;
    let total3 = rpcs(&cfg);
    if total3 - total2 > 3 * 20 {
        panic!(
            "too many RPCs ({}) for 1 second of idleness",
            total3 - total2
        );
    }
    cfg.end();
}

// ===================================== 3C =====================================

/// `persist1_3c`.
pub async fn persist1_3c<C: RaftLab>(cfg: C) {
    let servers = cfg.n();
    cfg.begin("Test (3C): basic persistence");
    cfg.one(11, servers, true).await;
    // crash and re-start all
    for i in 0..servers {
        cfg.start1(i);
    }
    for i in 0..servers {
        cfg.disconnect(i);
        cfg.connect(i);
    }
    cfg.one(12, servers, true).await;
    let leader1 = cfg.check_one_leader().await;
    cfg.disconnect(leader1);
    cfg.start1(leader1);
    cfg.connect(leader1);
    cfg.one(13, servers, true).await;
    let leader2 = cfg.check_one_leader().await;
    cfg.disconnect(leader2);
    cfg.one(14, servers - 1, true).await;
    cfg.start1(leader2);
    cfg.connect(leader2);
    // wait for leader2 to join before killing i3
    let _ = cfg.wait(4, servers, None).await;
    let i3 = (cfg.check_one_leader().await + 1) % servers;
    cfg.disconnect(i3);
    cfg.one(15, servers - 1, true).await;
    cfg.start1(i3);
    cfg.connect(i3);
    cfg.one(16, servers, true).await;
    cfg.end();
}

/// `persist2_3c`.
pub async fn persist2_3c<C: RaftLab>(cfg: C) {
    let servers = cfg.n();
    cfg.begin("Test (3C): more persistence");
    let mut index = 1i64;
    for _ in 0..5 {
        cfg.one(10 + index, servers, true).await;
        index += 1;
        let leader1 = cfg.check_one_leader().await;
        cfg.disconnect((leader1 + 1) % servers);
        cfg.disconnect((leader1 + 2) % servers);
        cfg.one(10 + index, servers - 2, true).await;
        index += 1;
        cfg.disconnect(leader1 % servers);
        cfg.disconnect((leader1 + 3) % servers);
        cfg.disconnect((leader1 + 4) % servers);
        cfg.start1((leader1 + 1) % servers);
        cfg.start1((leader1 + 2) % servers);
        cfg.connect((leader1 + 1) % servers);
        cfg.connect((leader1 + 2) % servers);
        cfg.sleep(ELECTION_TIMEOUT).await;
        cfg.start1((leader1 + 3) % servers);
        cfg.connect((leader1 + 3) % servers);
        cfg.one(10 + index, servers - 2, true).await;
        index += 1;
        cfg.connect((leader1 + 4) % servers);
        cfg.connect(leader1 % servers);
    }
    cfg.one(1000, servers, true).await;
    cfg.end();
}

/// `persist3_3c`.
pub async fn persist3_3c<C: RaftLab>(cfg: C) {
    let servers = cfg.n();
    cfg.begin("Test (3C): partitioned leader and one follower crash, leader restarts");
    cfg.one(101, 3, true).await;
    let leader = cfg.check_one_leader().await;
    cfg.disconnect((leader + 2) % servers);
    cfg.one(102, 2, true).await;
    cfg.crash1(leader % servers);
    cfg.crash1((leader + 1) % servers);
    cfg.connect((leader + 2) % servers);
    cfg.start1(leader % servers);
    cfg.connect(leader % servers);
    cfg.one(103, 2, true).await;
    cfg.start1((leader + 1) % servers);
    cfg.connect((leader + 1) % servers);
    cfg.one(104, servers, true).await;
    cfg.end();
}

/// The sleep of the Figure 8 tests: 10% of the time up to half an election timeout,
/// otherwise up to 12 ms.
pub async fn figure8_sleep(cfg: &impl RaftLab) {
    let half = ELECTION_TIMEOUT.as_millis() as u64 / 2;
    let ms = if cfg.rand_below(1000) < 100 {
        cfg.rand_below(half)
    } else {
        cfg.rand_below(13)
    };
    cfg.sleep_ms(ms).await;
}

/// `figure8_3c`.
pub async fn figure8_3c<C: RaftLab>(cfg: C) {
    let servers = cfg.n();
    cfg.begin("Test (3C): Figure 8");
    cfg.one(cfg.rand(), 1, true).await;
    let mut nup = servers;
    for _ in 0..1000 {
        let mut leader = None;
        for i in 0..servers {
            if cfg.is_alive(i) && cfg.start(i, cfg.rand()).await.is_some() {
                leader = Some(i);
            }
        }
        figure8_sleep(&cfg).await;
        if let Some(l) = leader {
            cfg.crash1(l);
            nup -= 1;
        }
        if nup < 3 {
            let s = cfg.rand_below(servers as u64) as usize;
            if !cfg.is_alive(s) {
                cfg.start1(s);
                cfg.connect(s);
                nup += 1;
            }
        }
    }
    for i in 0..servers {
        if !cfg.is_alive(i) {
            cfg.start1(i);
            cfg.connect(i);
        }
    }
    cfg.one(cfg.rand(), servers, true).await;
    cfg.end();
}

/// `unreliable_agree_3c`.
pub async fn unreliable_agree_3c<C: RaftLab>(cfg: C) {
    let servers = cfg.n();
    cfg.begin("Test (3C): unreliable agreement");
    let mut workers = Vec::new();
    for iters in 1..50i64 {
        for j in 0..4i64 {
            let c = cfg.clone();
            workers.push(cfg.spawn(async move {
                c.one(100 * iters + j, 1, true).await;
            }));
        }
        cfg.one(iters, 1, true).await;
    }
    cfg.set_unreliable(false);
    for w in workers {
        w.await;
    }
    cfg.one(100, servers, true).await;
    cfg.end();
}

/// One churn client: Start random values on every live peer and record those that
/// commit, until told to stop.
async fn churn_client(cfg: impl RaftLab, me: u64, stop: Rc<Cell<bool>>) -> Vec<i64> {
    let servers = cfg.n();
    let mut values = Vec::new();
    while !stop.get() {
        let x = cfg.rand();
        let mut index = None;
        for i in 0..servers {
            // try them all, maybe one of them is a leader
            if let Some((index1, _)) = cfg.start(i, x).await {
                index = Some(index1);
            }
        }
        match index {
            Some(index) => {
                // maybe leader will commit our value, maybe not. but don't wait forever.
                for to in [10, 20, 50, 100, 200] {
                    let (nd, cmd) = cfg.n_committed(index);
                    if nd > 0 {
                        match cmd {
                            Some(Cmd::Int(xx)) => {
                                if xx == x {
                                    values.push(x);
                                }
                            }
                            _ => panic!("wrong command type"),
                        }
                        break;
                    }
                    cfg.sleep_ms(to).await;
                }
            }
            None => cfg.sleep_ms(79 + me * 17).await,
        }
    }
    values
}

async fn churn<C: RaftLab>(cfg: C, unreliable: bool) {
    let servers = cfg.n();
    if unreliable {
        cfg.begin("Test (3C): unreliable churn");
    } else {
        cfg.begin("Test (3C): churn");
    }
    let stop = Rc::new(Cell::new(false));
    let clients: Vec<_> = (0..3)
        .map(|me| cfg.spawn(churn_client(cfg.clone(), me, stop.clone())))
        .collect();
    let pick = |cfg: &C| cfg.rand_below(servers as u64) as usize;
    for _ in 0..20 {
        if cfg.rand_below(1000) < 200 {
            let i = pick(&cfg);
            cfg.disconnect(i);
        }
        if cfg.rand_below(1000) < 500 {
            let i = pick(&cfg);
            if !cfg.is_alive(i) {
                cfg.start1(i);
            }
            cfg.connect(i);
        }
        if cfg.rand_below(1000) < 200 {
            let i = pick(&cfg);
            if cfg.is_alive(i) {
                cfg.crash1(i);
            }
        }
        // Make crash/restart infrequent enough that the peers can often keep up, but
        // not so infrequent that everything has settled down from one change to the
        // next.
        cfg.sleep(ELECTION_TIMEOUT * 7 / 10).await;
    }
    cfg.sleep(ELECTION_TIMEOUT).await;
    cfg.set_unreliable(false);
    for i in 0..servers {
        if !cfg.is_alive(i) {
            cfg.start1(i);
        }
        cfg.connect(i);
    }
    stop.set(true);
    let mut values = Vec::new();
    for c in clients {
        values.extend(c.await);
    }
    cfg.sleep(ELECTION_TIMEOUT).await;
    let last_index = cfg.one(cfg.rand(), servers, true).await;
    let mut really = Vec::new();
    for index in 1..=last_index {
        match cfg.wait(index, servers, None).await {
            Ok(Some(Cmd::Int(v))) => really.push(v),
            _ => panic!("not an int"),
        }
    }
    for v1 in values {
        if !really.contains(&v1) {
            panic!("didn't find a value");
        }
    }
    cfg.end();
}

/// `reliable_churn_3c`.
pub async fn reliable_churn_3c<C: RaftLab>(cfg: C) {
    churn(cfg, false).await
}

/// `unreliable_churn_3c`.
pub async fn unreliable_churn_3c<C: RaftLab>(cfg: C) {
    churn(cfg, true).await
}

/// `figure8_unreliable_3c`.
pub async fn figure8_unreliable_3c<R: RaftCore<Cmd>>(cfg: Config<R>) {
    let servers = cfg.n();
    cfg.begin("Test (3C): Figure 8 (unreliable)");
    cfg.one(cfg.rand() % 10000, 1, true).await;
    let mut nup = servers;
    for iters in 0..1000 {
        if iters == 200 {
            cfg.set_long_reordering(true);
        }
        let mut leader = None;
        for i in 0..servers {
            if cfg.start(i, cfg.rand() % 10000).await.is_some() && cfg.is_connected(i) {
                leader = Some(i);
            }
        }
        figure8_sleep(&cfg).await;
        let half = ELECTION_TIMEOUT.as_millis() as u64 / 2;
        if let Some(l) = leader
            && cfg.rand_below(1000) < half
        {
            cfg.disconnect(l);
            nup -= 1;
        }
        if nup < 3 {
            let s = cfg.rand_below(servers as u64) as usize;
            if !cfg.is_connected(s) {
                cfg.connect(s);
                nup += 1;
            }
        }
    }
    for i in 0..servers {
        if !cfg.is_connected(i) {
            cfg.connect(i);
        }
    }
    cfg.one(cfg.rand() % 10000, servers, true).await;
    cfg.end();
}

// ===================================== 3D =====================================

/// The lab's `MAXLOGSIZE`.
const MAX_LOG_SIZE: usize = 2000;

/// The lab's `snapcommon`.
async fn snapcommon(cfg: impl RaftLab, name: &str, disconnect: bool, crash: bool) {
    let servers = cfg.n();
    cfg.begin(name);
    cfg.one(cfg.rand(), servers, true).await;
    let mut leader1 = cfg.check_one_leader().await;
    for i in 0..30 {
        let (mut victim, mut sender) = ((leader1 + 1) % servers, leader1);
        if i % 3 == 1 {
            sender = (leader1 + 1) % servers;
            victim = leader1;
        }
        if disconnect {
            cfg.disconnect(victim);
            cfg.one(cfg.rand(), servers - 1, true).await;
        }
        if crash {
            cfg.crash1(victim);
            cfg.one(cfg.rand(), servers - 1, true).await;
        }
        // perhaps send enough to get a snapshot
        let nn = 5 + cfg.rand_below(10);
        for _ in 0..nn {
            cfg.start(sender, cfg.rand()).await;
        }
        // let applier threads catch up with the Start()'s
        if !disconnect && !crash {
            // make sure all followers have caught up, so that an InstallSnapshot RPC
            // isn't required for snapshot_basic_3d.
            cfg.one(cfg.rand(), servers, true).await;
        } else {
            cfg.one(cfg.rand(), servers - 1, true).await;
        }
        if cfg.log_size() >= MAX_LOG_SIZE {
            panic!("Log size too large");
        }
        if disconnect {
            // reconnect a follower, who maybe behind and needs to receive a snapshot
            // to catch up.
            cfg.connect(victim);
            cfg.one(cfg.rand(), servers, true).await;
            leader1 = cfg.check_one_leader().await;
        }
        if crash {
            cfg.start1(victim);
            cfg.connect(victim);
            cfg.one(cfg.rand(), servers, true).await;
            leader1 = cfg.check_one_leader().await;
        }
    }
    cfg.end();
}

/// `snapshot_basic_3d`.
pub async fn snapshot_basic_3d<C: RaftLab>(cfg: C) {
    snapcommon(cfg, "Test (3D): snapshots basic", false, false).await
}

/// `snapshot_install_3d`.
pub async fn snapshot_install_3d<C: RaftLab>(cfg: C) {
    snapcommon(
        cfg,
        "Test (3D): install snapshots (disconnect)",
        true,
        false,
    )
    .await
}

/// `snapshot_install_unreliable_3d`.
pub async fn snapshot_install_unreliable_3d<C: RaftLab>(cfg: C) {
    snapcommon(
        cfg,
        "Test (3D): install snapshots (disconnect+unreliable)",
        true,
        false,
    )
    .await
}

/// `snapshot_install_crash_3d`.
pub async fn snapshot_install_crash_3d<C: RaftLab>(cfg: C) {
    snapcommon(cfg, "Test (3D): install snapshots (crash)", false, true).await
}

/// `snapshot_install_un_crash_3d`.
pub async fn snapshot_install_un_crash_3d<C: RaftLab>(cfg: C) {
    snapcommon(
        cfg,
        "Test (3D): install snapshots (unreliable+crash)",
        false,
        true,
    )
    .await
}

/// Crashes every peer, then restarts and reconnects them all.
fn crash_and_restart_all(cfg: &impl RaftLab) {
    for i in 0..cfg.n() {
        cfg.crash1(i);
    }
    for i in 0..cfg.n() {
        cfg.start1(i);
        cfg.connect(i);
    }
}

/// `snapshot_all_crash_3d`.
pub async fn snapshot_all_crash_3d<C: RaftLab>(cfg: C) {
    let servers = cfg.n();
    cfg.begin("Test (3D): crash and restart all servers");
    cfg.one(cfg.rand(), servers, true).await;
    for _ in 0..5 {
        // perhaps enough to get a snapshot
        let nn = 5 + cfg.rand_below(10);
        for _ in 0..nn {
            cfg.one(cfg.rand(), servers, true).await;
        }
        let index1 = cfg.one(cfg.rand(), servers, true).await;
        crash_and_restart_all(&cfg);
        let index2 = cfg.one(cfg.rand(), servers, true).await;
        if index2 < index1 + 1 {
            panic!("index decreased from {index1} to {index2}");
        }
    }
    cfg.end();
}

/// `snapshot_init_3d`.
pub async fn snapshot_init_3d<C: RaftLab>(cfg: C) {
    let servers = cfg.n();
    cfg.begin("Test (3D): snapshot initialization after crash");
    cfg.one(cfg.rand(), servers, true).await;
    // enough ops to make a snapshot
    for _ in 0..11 {
        cfg.one(cfg.rand(), servers, true).await;
    }
    crash_and_restart_all(&cfg);
    // a single op, to get something to be written back to persistent storage.
    cfg.one(cfg.rand(), servers, true).await;
    crash_and_restart_all(&cfg);
    // do another op to trigger potential bug
    cfg.one(cfg.rand(), servers, true).await;
    cfg.end();
}
