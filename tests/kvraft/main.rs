//! The Lab 4 (kvraft) suite on the simulator: the 23 tests of kvraft/test_test.go
//! (4A: 14, 4B: 9), with the lab's names and printed lines, and every history the lab
//! checks with porcupine checked by raftlab-checker; plus one test of our own (at the
//! end) that a deliberate stale-read bug is caught by that check.
//!
//! `cargo test --release --test kvraft 4a` runs part 4A.

mod config;

use raftlab::harness::kv::ck::KvClerk;
use std::time::Duration;

use config::{
    KvraftConfig, KvraftOptions, append, check, check_clnt_appends, check_concurrent_appends, get,
    kvraft_test, put,
};
use raftlab::harness::kv::history::LabCheck;
use raftlab::rsm::server::ServiceBug;
use raftlab::sim::seed::default_seed;

use raftlab::harness::kv::suite::{ELECTION_TIMEOUT, Generic, generic_rounds};

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

// ===================================== 4A and 4B: GenericTest =================

/// Runs a `GenericTest` test: its configuration from its row, then the body.
fn generic_runner<F, Fut>(g: &'static Generic, body: F)
where
    F: Fn(KvraftConfig) -> Fut,
    Fut: std::future::Future<Output = ()> + 'static,
{
    kvraft_test(g.name, g.nservers, g.unreliable, g.maxraftstate, body);
}

raftlab::kvraft_generic_suite!(generic_runner:
    basic_4a,
    concurrent_4a,
    unreliable_4a,
    many_partitions_one_client_4a,
    many_partitions_many_clients_4a,
    persist_one_client_4a,
    persist_concurrent_4a,
    persist_concurrent_unreliable_4a,
    persist_partition_4a,
    persist_partition_unreliable_4a,
    persist_partition_unreliable_linearizable_4a,
    snapshot_recover_4b,
    snapshot_recover_many_clients_4b,
    snapshot_unreliable_4b,
    snapshot_unreliable_recover_4b,
    snapshot_unreliable_recover_concurrent_partition_4b,
    snapshot_unreliable_recover_concurrent_partition_linearizable_4b,
);

// ===================================== 4A =====================================

#[test]
fn speed_4a() {
    kvraft_test("speed_4a", 3, false, -1, |cfg| {
        generic_test_speed(cfg, "4A")
    });
}

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
            name,
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
        let cfg2 = cfg.clone();
        let log = cfg.run_to_end(async move { generic_rounds(cfg2, &g).await });
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
