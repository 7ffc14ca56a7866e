//! The kvraft lab's runner for any Raft core: the Lab 4 suite (kvraft/test_test.go's
//! 23 tests) on the simulator, raftlab's key/value servers and clerks over the core.
//! The 17 `GenericTest` tests are [`crate::harness::kv::suite`]'s (written once for
//! every driver); the six others are here, each a function of the core.

use std::future::Future;
use std::time::Duration;

use crate::harness::bugs::{self, Carries, Requested};
use crate::harness::kv::ck::KvClerk;
use crate::harness::kv::history::{check_clnt_appends, check_concurrent_appends};
use crate::harness::kv::suite::{ELECTION_TIMEOUT, Generic, append, check, get, put};
use crate::harness::kv::{KvCmd, KvraftConfig, KvraftOptions};
use crate::raft::RaftCore;
use crate::sim::seed::run_seeded;

/// The options of every test: the defaults, plus the deliberate bug
/// `RAFTLAB_BUG=<name>` asks for (a Raft bug's name, or a service bug's, such as
/// `local-reads` or `read-before-own-write`); a name that is neither fails the test.
fn options(bug: Option<Requested>) -> KvraftOptions {
    KvraftOptions {
        raft_bug: bugs::raft_bug(bug),
        service_bug: bugs::service_bug(bug),
    }
}

/// Runs one Lab 4 test (`make_config(n, unreliable, maxraftstate)`, the body,
/// `cleanup()`) on the simulator, every server's Raft the core `R`, once per seed (see
/// [`crate::sim::seed`]).
pub fn kvraft_test<R, F, Fut>(name: &str, n: usize, unreliable: bool, maxraftstate: i64, body: F)
where
    R: RaftCore<KvCmd>,
    F: Fn(KvraftConfig<R>) -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    run_seeded("kvraft", name, n, |seed| {
        let bug = bugs::requested("kvraft", Carries::RaftAndService);
        let cfg = KvraftConfig::<R>::make(seed, n, unreliable, maxraftstate, options(bug));
        let (raft, service) = cfg.bugs();
        bugs::assert_applied(bug, &raft, &service);
        cfg.run(&body);
    });
}

/// Runs a `GenericTest` test of the core `R`: its configuration from its row, then
/// the body (see [`crate::kvraft_generic_suite!`]).
pub fn kvraft_generic<R, F, Fut>(g: &'static Generic, body: F)
where
    R: RaftCore<KvCmd>,
    F: Fn(KvraftConfig<R>) -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    kvraft_test::<R, F, Fut>(g.name, g.nservers, g.unreliable, g.maxraftstate, body);
}

/// The lab's `GenericTestSpeed`: 1000 sequential appends on a 3-server cluster must
/// take at most a third of a heartbeat interval each.
async fn generic_test_speed<R: RaftCore<KvCmd>>(cfg: KvraftConfig<R>, part: &str) {
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

// ===================================== 4A =====================================

/// `speed_4a`.
pub fn speed_4a<R: RaftCore<KvCmd>>() {
    kvraft_test::<R, _, _>("speed_4a", 3, false, -1, |cfg| {
        generic_test_speed(cfg, "4A")
    });
}

/// `unreliable_one_key_4a`.
pub fn unreliable_one_key_4a<R: RaftCore<KvCmd>>() {
    kvraft_test::<R, _, _>("unreliable_one_key_4a", 3, true, -1, |cfg| async move {
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
pub fn one_partition_4a<R: RaftCore<KvCmd>>() {
    kvraft_test::<R, _, _>("one_partition_4a", 5, false, -1, |cfg| async move {
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
pub fn snapshot_rpc_4b<R: RaftCore<KvCmd>>() {
    kvraft_test::<R, _, _>("snapshot_rpc_4b", 3, false, 1000, |cfg| async move {
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
pub fn snapshot_size_4b<R: RaftCore<KvCmd>>() {
    kvraft_test::<R, _, _>("snapshot_size_4b", 3, false, 1000, |cfg| async move {
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

/// `speed_4b`.
pub fn speed_4b<R: RaftCore<KvCmd>>() {
    kvraft_test::<R, _, _>("speed_4b", 3, false, 1000, |cfg| {
        generic_test_speed(cfg, "4B")
    });
}

/// Declares the whole Lab 4 suite (the 23 tests of `kvraft/test_test.go`, 4A and 4B)
/// for the Raft core `$core` (over [`crate::lab::KvCmd`], the key/value servers' log
/// commands), one `#[test]` per lab test with the lab's names, each run on the
/// simulator: the 17 `GenericTest` tests of [`crate::harness::kv::suite`] and the six
/// of [`crate::lab::kvraft`].
///
/// ```ignore
/// // tests/kvraft.rs of a student crate:
/// raftlab::lab4_suite!(my_raft::MyRaft<raftlab::lab::KvCmd>);
/// ```
#[macro_export]
macro_rules! lab4_suite {
    ($core:ty) => {
        $crate::kvraft_generic_suite!($crate::lab::kvraft::kvraft_generic::<$core, _, _>:
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
        $crate::lab4_suite!(@own $core:
            speed_4a,
            unreliable_one_key_4a,
            one_partition_4a,
            snapshot_rpc_4b,
            snapshot_size_4b,
            speed_4b,
        );
    };
    (@own $core:ty: $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::lab::kvraft::$name::<$core>();
            }
        )*
    };
}
