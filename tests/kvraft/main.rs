//! The Lab 4 (kvraft) suite on the simulator: the 23 tests of kvraft/test_test.go
//! (4A: 14, 4B: 9), with the lab's names and printed lines, and every history the lab
//! checks with porcupine checked by raftlab-checker; plus one test of our own (at the
//! end) that a deliberate stale-read bug is caught by that check.
//!
//! `cargo test --release --test kvraft 4a` runs part 4A.

mod config;

use raftlab::harness::kv::ck::KvClerk;
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use config::{
    History, KvraftConfig, KvraftOptions, append, check, check_clnt_appends,
    check_concurrent_appends, get, kvraft_test, put,
};
use raftlab::harness::kv::history::LabCheck;
use raftlab::rsm::server::ServiceBug;
use raftlab::sim::seed::default_seed;

/// The lab's `electionTimeout`.
const ELECTION_TIMEOUT: Duration = Duration::from_secs(1);

/// The arguments of the lab's `GenericTest`.
#[derive(Clone, Copy)]
struct Generic {
    part: &'static str,
    nclients: usize,
    nservers: usize,
    unreliable: bool,
    crash: bool,
    partitions: bool,
    maxraftstate: i64,
    randomkeys: bool,
}

/// The lab's partitioner: every second or so, split the servers at random in two.
async fn partitioner(cfg: KvraftConfig, done: Rc<Cell<bool>>) {
    while !done.get() {
        let a: Vec<u64> = (0..cfg.n).map(|_| cfg.rand_below(2)).collect();
        let side = |s: u64| (0..cfg.n).filter(|&j| a[j] == s).collect::<Vec<_>>();
        cfg.partition(&side(0), &side(1));
        let ms = cfg.rand_below(200);
        cfg.sleep(ELECTION_TIMEOUT + Duration::from_millis(ms))
            .await;
    }
}

/// One client of `GenericTest`: appends and gets on its own key (or random keys) until
/// told to stop; returns how many appends (and puts) it made.
async fn generic_client(
    cfg: KvraftConfig,
    g: Generic,
    cli: usize,
    log: History,
    done: Rc<Cell<bool>>,
) -> usize {
    let myck = cfg.make_client(&cfg.all());
    let mut j = 0;
    let mut last = String::new();
    if !g.randomkeys {
        put(&cfg, &myck, &cli.to_string(), &last, Some(&log), cli).await;
    }
    while !done.get() {
        let key = if g.randomkeys {
            cfg.rand_below(g.nclients as u64).to_string()
        } else {
            cli.to_string()
        };
        let nv = format!("x {cli} {j} y");
        if cfg.rand_below(1000) < 500 {
            append(&cfg, &myck, &key, &nv, Some(&log), cli).await;
            if !g.randomkeys {
                last.push_str(&nv);
            }
            j += 1;
        } else if g.randomkeys && cfg.rand_below(1000) < 100 {
            // only with random keys: it would break the check done after Gets
            put(&cfg, &myck, &key, &nv, Some(&log), cli).await;
            j += 1;
        } else {
            let v = get(&cfg, &myck, &key, Some(&log), cli).await;
            if !g.randomkeys && v != last {
                panic!("get wrong value, key {key}, wanted:\n{last}\n, got\n{v}");
            }
        }
    }
    cfg.delete_client(&myck);
    j
}

/// The lab's `GenericTest`: three rounds of clients working for 5 s, with partitions
/// and crashes if asked; then each client's appends must all be there, the logs
/// trimmed (or no snapshot at all), and the history linearizable.
async fn generic_test(cfg: KvraftConfig, name: &str, g: Generic) {
    let log = generic_rounds(cfg.clone(), g).await;
    log.check("kvraft", name, cfg.seed());
    cfg.end();
}

/// `GenericTest` up to its porcupine check: returns the recorded history.
async fn generic_rounds(cfg: KvraftConfig, g: Generic) -> History {
    let mut title = String::from("Test: ");
    if g.unreliable {
        title.push_str("unreliable net, ");
    }
    if g.crash {
        title.push_str("restarts, ");
    }
    if g.partitions {
        title.push_str("partitions, ");
    }
    if g.maxraftstate != -1 {
        title.push_str("snapshots, ");
    }
    if g.randomkeys {
        title.push_str("random keys, ");
    }
    title.push_str(if g.nclients > 1 {
        "many clients"
    } else {
        "one client"
    });
    title.push_str(&format!(" ({})", g.part));
    cfg.begin(&title);
    let log = History::new();
    let ck = cfg.make_client(&cfg.all());
    for _ in 0..3 {
        let done_clients = Rc::new(Cell::new(false));
        let done_partitioner = Rc::new(Cell::new(false));
        let clients: Vec<_> = (0..g.nclients)
            .map(|cli| {
                let task = generic_client(cfg.clone(), g, cli, log.clone(), done_clients.clone());
                cfg.spawn(task)
            })
            .collect();
        let mut part = None;
        if g.partitions {
            // Allow the clients to perform some operations without interruption
            cfg.sleep(Duration::from_secs(1)).await;
            part = Some(cfg.spawn(partitioner(cfg.clone(), done_partitioner.clone())));
        }
        cfg.sleep(Duration::from_secs(5)).await;
        done_clients.set(true);
        done_partitioner.set(true);
        if let Some(p) = part {
            p.await;
            // reconnect network and submit a request. A client may have submitted a
            // request in a minority. That request won't return until that server
            // discovers a new term has started.
            cfg.connect_all();
            // wait for a while so that we have a new term
            cfg.sleep(ELECTION_TIMEOUT).await;
        }
        if g.crash {
            for i in 0..g.nservers {
                cfg.shutdown_server(i);
            }
            // Wait for a while for servers to shutdown, since shutdown isn't a real
            // crash and isn't instantaneous
            cfg.sleep(ELECTION_TIMEOUT).await;
            // crash and re-start all
            for i in 0..g.nservers {
                cfg.start_server(i);
            }
            cfg.connect_all();
        }
        for (i, c) in clients.into_iter().enumerate() {
            let j = c.await;
            let v = get(&cfg, &ck, &i.to_string(), Some(&log), 0).await;
            if !g.randomkeys {
                check_clnt_appends(i, &v, j);
            }
        }
        if g.maxraftstate > 0 {
            // Check maximum after the servers have processed all client requests and
            // had time to checkpoint.
            let sz = cfg.log_size() as i64;
            if sz > 8 * g.maxraftstate {
                panic!("logs were not trimmed ({sz} > 8*{})", g.maxraftstate);
            }
        }
        if g.maxraftstate < 0 {
            // Check that snapshots are not used
            let ssz = cfg.snapshot_size();
            if ssz > 0 {
                panic!(
                    "snapshot too large ({ssz}), should not be used when maxraftstate = {}",
                    g.maxraftstate
                );
            }
        }
    }
    log
}

/// The lab's `GenericTestSpeed`: 1000 sequential appends on a 3-server cluster must
/// take at most a third of a heartbeat interval each.
async fn generic_test_speed(cfg: KvraftConfig, part: &str) {
    const NUM_OPS: u32 = 1000;
    let ck = cfg.make_client(&cfg.all());
    cfg.begin(&format!("Test: ops complete fast enough ({part})"));
    // wait until first op completes, so we know a leader is elected and KV servers are
    // ready to process client requests
    ck.get("x").await;
    let start = cfg.now();
    for i in 0..NUM_OPS {
        ck.append("x", &format!("x 0 {i} y")).await;
    }
    let dur = cfg.now() - start;
    let v = ck.get("x").await;
    check_clnt_appends(0, &v, NUM_OPS as usize);
    // heartbeat interval should be ~ 100 ms; require at least 3 ops per
    let time_per_op = Duration::from_millis(100) / 3;
    if dur > time_per_op * NUM_OPS {
        panic!(
            "Operations completed too slowly {:?}/op > {time_per_op:?}/op",
            dur / NUM_OPS
        );
    }
    cfg.end();
}

/// Declares a `GenericTest` test.
macro_rules! generic {
    ($name:ident, $part:literal, $nclients:expr, $nservers:expr, $unreliable:expr, $crash:expr,
     $partitions:expr, $maxraftstate:expr, $randomkeys:expr) => {
        #[test]
        fn $name() {
            let g = Generic {
                part: $part,
                nclients: $nclients,
                nservers: $nservers,
                unreliable: $unreliable,
                crash: $crash,
                partitions: $partitions,
                maxraftstate: $maxraftstate,
                randomkeys: $randomkeys,
            };
            kvraft_test(
                stringify!($name),
                g.nservers,
                g.unreliable,
                g.maxraftstate,
                move |cfg| generic_test(cfg, stringify!($name), g),
            );
        }
    };
}

// ===================================== 4A =====================================

generic!(basic_4a, "4A", 1, 5, false, false, false, -1, false);

#[test]
fn speed_4a() {
    kvraft_test("speed_4a", 3, false, -1, |cfg| {
        generic_test_speed(cfg, "4A")
    });
}

generic!(concurrent_4a, "4A", 5, 5, false, false, false, -1, false);
generic!(unreliable_4a, "4A", 5, 5, true, false, false, -1, false);

#[test]
fn unreliable_one_key_4a() {
    kvraft_test("unreliable_one_key_4a", 3, true, -1, |cfg| async move {
        let ck = cfg.make_client(&cfg.all());
        cfg.begin("Test: concurrent append to same key, unreliable (4A)");
        put(&cfg, &ck, "k", "", None, 0).await;
        const NCLIENT: usize = 5;
        const UPTO: usize = 10;
        let clients: Vec<_> = (0..NCLIENT)
            .map(|me| {
                let cfg = cfg.clone();
                cfg.clone().spawn(async move {
                    let myck = cfg.make_client(&cfg.all());
                    for n in 0..UPTO {
                        append(&cfg, &myck, "k", &format!("x {me} {n} y"), None, 0).await;
                    }
                    cfg.delete_client(&myck);
                })
            })
            .collect();
        for c in clients {
            c.await;
        }
        let vx = get(&cfg, &ck, "k", None, 0).await;
        check_concurrent_appends(&vx, &[UPTO; NCLIENT]);
        cfg.end();
    });
}

/// Submit a request in the minority partition and check that the requests doesn't go
/// through until the partition heals. The leader in the original network ends up in the
/// minority partition.
#[test]
fn one_partition_4a() {
    kvraft_test("one_partition_4a", 5, false, -1, |cfg| async move {
        let ck = cfg.make_client(&cfg.all());
        put(&cfg, &ck, "1", "13", None, 0).await;

        cfg.begin("Test: progress in majority (4A)");
        let (p1, p2) = cfg.make_partition();
        cfg.partition(&p1, &p2);
        let ckp1 = cfg.make_client(&p1); // connect ckp1 to p1
        let ckp2a = cfg.make_client(&p2); // connect ckp2a to p2
        let ckp2b = cfg.make_client(&p2); // connect ckp2b to p2
        put(&cfg, &ckp1, "1", "14", None, 0).await;
        check(&cfg, &ckp1, "1", "14").await;
        cfg.end();

        cfg.begin("Test: no progress in minority (4A)");
        let mut done0 = {
            let (cfg, ck) = (cfg.clone(), ckp2a.clone());
            cfg.clone()
                .spawn(async move { put(&cfg, &ck, "1", "15", None, 0).await })
        };
        let done1 = {
            let (cfg, ck) = (cfg.clone(), ckp2b.clone());
            // different clerk in p2
            cfg.clone()
                .spawn(async move { get(&cfg, &ck, "1", None, 0).await })
        };
        cfg.sleep(Duration::from_secs(1)).await;
        if done0.is_ready() {
            panic!("Put in minority completed");
        }
        if done1.is_ready() {
            panic!("Get in minority completed");
        }
        check(&cfg, &ckp1, "1", "14").await;
        put(&cfg, &ckp1, "1", "16", None, 0).await;
        check(&cfg, &ckp1, "1", "16").await;
        cfg.end();

        cfg.begin("Test: completion after heal (4A)");
        cfg.connect_all();
        cfg.connect_client(&ckp2a, &cfg.all());
        cfg.connect_client(&ckp2b, &cfg.all());
        cfg.sleep(ELECTION_TIMEOUT).await;
        let deadline = cfg.now() + Duration::from_millis(30 * 100);
        while !done0.is_ready() && cfg.now() < deadline {
            cfg.sleep(Duration::from_millis(10)).await;
        }
        if done0.try_take().is_none() {
            panic!("Put did not complete");
        }
        // The lab's select on the Get has a default branch: its completion is not
        // required.
        check(&cfg, &ck, "1", "15").await;
        cfg.end();
    });
}

generic!(
    many_partitions_one_client_4a,
    "4A",
    1,
    5,
    false,
    false,
    true,
    -1,
    false
);
generic!(
    many_partitions_many_clients_4a,
    "4A",
    5,
    5,
    false,
    false,
    true,
    -1,
    false
);
generic!(
    persist_one_client_4a,
    "4A",
    1,
    5,
    false,
    true,
    false,
    -1,
    false
);
generic!(
    persist_concurrent_4a,
    "4A",
    5,
    5,
    false,
    true,
    false,
    -1,
    false
);
generic!(
    persist_concurrent_unreliable_4a,
    "4A",
    5,
    5,
    true,
    true,
    false,
    -1,
    false
);
generic!(
    persist_partition_4a,
    "4A",
    5,
    5,
    false,
    true,
    true,
    -1,
    false
);
generic!(
    persist_partition_unreliable_4a,
    "4A",
    5,
    5,
    true,
    true,
    true,
    -1,
    false
);
generic!(
    persist_partition_unreliable_linearizable_4a,
    "4A",
    15,
    7,
    true,
    true,
    true,
    -1,
    true
);

// ===================================== 4B =====================================

/// Check that ops are committed fast enough, better than 1 per heartbeat interval;
/// and that a lagging server catches up through InstallSnapshot.
#[test]
fn snapshot_rpc_4b() {
    kvraft_test("snapshot_rpc_4b", 3, false, 1000, |cfg| async move {
        let maxraftstate = cfg.maxraftstate as usize;
        let ck = cfg.make_client(&cfg.all());
        cfg.begin("Test: InstallSnapshot RPC (4B)");
        put(&cfg, &ck, "a", "A", None, 0).await;
        check(&cfg, &ck, "a", "A").await;
        // a bunch of puts into the majority partition.
        cfg.partition(&[0, 1], &[2]);
        {
            let ck1 = cfg.make_client(&[0, 1]);
            for i in 0..50 {
                put(&cfg, &ck1, &i.to_string(), &i.to_string(), None, 0).await;
            }
            cfg.sleep(ELECTION_TIMEOUT).await;
            put(&cfg, &ck1, "b", "B", None, 0).await;
        }
        // check that the majority partition has thrown away most of its log entries.
        let sz = cfg.log_size();
        if sz > 8 * maxraftstate {
            panic!("logs were not trimmed ({sz} > 8*{maxraftstate})");
        }
        // now make group that requires participation of lagging server, so that it
        // has to catch up.
        cfg.partition(&[0, 2], &[1]);
        {
            let ck1 = cfg.make_client(&[0, 2]);
            put(&cfg, &ck1, "c", "C", None, 0).await;
            put(&cfg, &ck1, "d", "D", None, 0).await;
            check(&cfg, &ck1, "a", "A").await;
            check(&cfg, &ck1, "b", "B").await;
            check(&cfg, &ck1, "1", "1").await;
            check(&cfg, &ck1, "49", "49").await;
        }
        // now everybody
        cfg.partition(&[0, 1, 2], &[]);
        put(&cfg, &ck, "e", "E", None, 0).await;
        check(&cfg, &ck, "c", "C").await;
        check(&cfg, &ck, "e", "E").await;
        check(&cfg, &ck, "1", "1").await;
        cfg.end();
    });
}

/// Are the snapshots not too huge? 500 bytes is a generous bound for the operations
/// we're doing here.
#[test]
fn snapshot_size_4b() {
    kvraft_test("snapshot_size_4b", 3, false, 1000, |cfg| async move {
        let maxraftstate = cfg.maxraftstate as usize;
        let maxsnapshotstate = 500;
        let ck = cfg.make_client(&cfg.all());
        cfg.begin("Test: snapshot size is reasonable (4B)");
        for _ in 0..200 {
            put(&cfg, &ck, "x", "0", None, 0).await;
            check(&cfg, &ck, "x", "0").await;
            put(&cfg, &ck, "x", "1", None, 0).await;
            check(&cfg, &ck, "x", "1").await;
        }
        // check that servers have thrown away most of their log entries
        let sz = cfg.log_size();
        if sz > 8 * maxraftstate {
            panic!("logs were not trimmed ({sz} > 8*{maxraftstate})");
        }
        // check that the snapshots are not unreasonably large
        let ssz = cfg.snapshot_size();
        if ssz > maxsnapshotstate {
            panic!("snapshot too large ({ssz} > {maxsnapshotstate})");
        }
        cfg.end();
    });
}

#[test]
fn speed_4b() {
    kvraft_test("speed_4b", 3, false, 1000, |cfg| {
        generic_test_speed(cfg, "4B")
    });
}

generic!(
    snapshot_recover_4b,
    "4B",
    1,
    5,
    false,
    true,
    false,
    1000,
    false
);
generic!(
    snapshot_recover_many_clients_4b,
    "4B",
    20,
    5,
    false,
    true,
    false,
    1000,
    false
);
generic!(
    snapshot_unreliable_4b,
    "4B",
    5,
    5,
    true,
    false,
    false,
    1000,
    false
);
generic!(
    snapshot_unreliable_recover_4b,
    "4B",
    5,
    5,
    true,
    true,
    false,
    1000,
    false
);
generic!(
    snapshot_unreliable_recover_concurrent_partition_4b,
    "4B",
    5,
    5,
    true,
    true,
    true,
    1000,
    false
);
generic!(
    snapshot_unreliable_recover_concurrent_partition_linearizable_4b,
    "4B",
    15,
    7,
    true,
    true,
    true,
    1000,
    true
);

// ============================ not a lab test ============================

/// The deliberate `ServiceBug::ReadBeforeOwnWrite` (a leader answers a client's Get
/// right after that client's own write from the state before the write) is caught by
/// the history check alone in the two random-key "linearizable" tests, which check no
/// value themselves: at their default seeds both histories are Illegal. Before the
/// history's stamps broke ties, the Get's call equalled the write's return, the two
/// counted as concurrent, and both tests passed with the bug on (0 of 20 seeds each).
#[test]
fn read_before_own_write_is_caught_by_the_random_key_tests() {
    for (name, part, maxraftstate) in [
        ("persist_partition_unreliable_linearizable_4a", "4A", -1),
        (
            "snapshot_unreliable_recover_concurrent_partition_linearizable_4b",
            "4B",
            1000,
        ),
    ] {
        let g = Generic {
            part,
            nclients: 15,
            nservers: 7,
            unreliable: true,
            crash: true,
            partitions: true,
            maxraftstate,
            randomkeys: true,
        };
        let options = KvraftOptions {
            service_bug: Some(ServiceBug::ReadBeforeOwnWrite),
            ..KvraftOptions::default()
        };
        let seed = default_seed(name);
        let cfg = KvraftConfig::new(seed, g.nservers, g.unreliable, maxraftstate, options);
        let log = cfg.run_to_end(generic_rounds(cfg.clone(), g));
        match log.lab_check("kvraft-bug", name, seed) {
            LabCheck::Illegal { visualization, .. } => {
                if let Ok(path) = visualization {
                    std::fs::remove_file(path).expect("the visualization was written");
                }
            }
            other => panic!("{name}: the bug's history must be Illegal, got {other:?}"),
        }
    }
}
