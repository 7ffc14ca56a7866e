//! The Lab 4 (kvraft) tests built on the lab's `GenericTest`, written once over
//! [`KvLab`] so that every driver runs the same body: the simulator (tests/kvraft, in
//! virtual time) and the real runtime (models/tests/lab_real.rs, `raftlab serve`
//! processes and Redis-protocol clerks, real seconds). Each test is a row of
//! [`GENERICS`], the arguments of its `GenericTest` call; [`kvraft_generic_suite!`](crate::kvraft_generic_suite)
//! declares one `#[test]` per name for a driver's runner.
//! The test wrappers that count and record operations (`get`, `put`, `append`,
//! `check`) are here too.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use super::ck::KvClerk;
use super::history::{History, check_clnt_appends};
use super::lab::KvLab;
use crate::kv::Op;

/// The lab's `electionTimeout`.
pub const ELECTION_TIMEOUT: Duration = Duration::from_secs(1);

/// The arguments of the lab's `GenericTest`, and the test's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Generic {
    /// The test's name (the lab's, in snake case, part as suffix).
    pub name: &'static str,
    /// "4A" or "4B".
    pub part: &'static str,
    /// Concurrent clients.
    pub nclients: usize,
    /// Servers.
    pub nservers: usize,
    /// Whether the network is unreliable.
    pub unreliable: bool,
    /// Whether every server is crashed and restarted after each round.
    pub crash: bool,
    /// Whether a partitioner splits the servers during each round.
    pub partitions: bool,
    /// The lab's `maxraftstate` (-1: never snapshot).
    pub maxraftstate: i64,
    /// Whether clients use random keys (then only the history check judges values).
    pub randomkeys: bool,
}

/// Every `GenericTest` test of the suite, in the lab's order.
#[rustfmt::skip]
pub const GENERICS: &[Generic] = &[
    Generic { name: "basic_4a", part: "4A", nclients: 1, nservers: 5, unreliable: false, crash: false, partitions: false, maxraftstate: -1, randomkeys: false },
    Generic { name: "concurrent_4a", part: "4A", nclients: 5, nservers: 5, unreliable: false, crash: false, partitions: false, maxraftstate: -1, randomkeys: false },
    Generic { name: "unreliable_4a", part: "4A", nclients: 5, nservers: 5, unreliable: true, crash: false, partitions: false, maxraftstate: -1, randomkeys: false },
    Generic { name: "many_partitions_one_client_4a", part: "4A", nclients: 1, nservers: 5, unreliable: false, crash: false, partitions: true, maxraftstate: -1, randomkeys: false },
    Generic { name: "many_partitions_many_clients_4a", part: "4A", nclients: 5, nservers: 5, unreliable: false, crash: false, partitions: true, maxraftstate: -1, randomkeys: false },
    Generic { name: "persist_one_client_4a", part: "4A", nclients: 1, nservers: 5, unreliable: false, crash: true, partitions: false, maxraftstate: -1, randomkeys: false },
    Generic { name: "persist_concurrent_4a", part: "4A", nclients: 5, nservers: 5, unreliable: false, crash: true, partitions: false, maxraftstate: -1, randomkeys: false },
    Generic { name: "persist_concurrent_unreliable_4a", part: "4A", nclients: 5, nservers: 5, unreliable: true, crash: true, partitions: false, maxraftstate: -1, randomkeys: false },
    Generic { name: "persist_partition_4a", part: "4A", nclients: 5, nservers: 5, unreliable: false, crash: true, partitions: true, maxraftstate: -1, randomkeys: false },
    Generic { name: "persist_partition_unreliable_4a", part: "4A", nclients: 5, nservers: 5, unreliable: true, crash: true, partitions: true, maxraftstate: -1, randomkeys: false },
    Generic { name: "persist_partition_unreliable_linearizable_4a", part: "4A", nclients: 15, nservers: 7, unreliable: true, crash: true, partitions: true, maxraftstate: -1, randomkeys: true },
    Generic { name: "snapshot_recover_4b", part: "4B", nclients: 1, nservers: 5, unreliable: false, crash: true, partitions: false, maxraftstate: 1000, randomkeys: false },
    Generic { name: "snapshot_recover_many_clients_4b", part: "4B", nclients: 20, nservers: 5, unreliable: false, crash: true, partitions: false, maxraftstate: 1000, randomkeys: false },
    Generic { name: "snapshot_unreliable_4b", part: "4B", nclients: 5, nservers: 5, unreliable: true, crash: false, partitions: false, maxraftstate: 1000, randomkeys: false },
    Generic { name: "snapshot_unreliable_recover_4b", part: "4B", nclients: 5, nservers: 5, unreliable: true, crash: true, partitions: false, maxraftstate: 1000, randomkeys: false },
    Generic { name: "snapshot_unreliable_recover_concurrent_partition_4b", part: "4B", nclients: 5, nservers: 5, unreliable: true, crash: true, partitions: true, maxraftstate: 1000, randomkeys: false },
    Generic { name: "snapshot_unreliable_recover_concurrent_partition_linearizable_4b", part: "4B", nclients: 15, nservers: 7, unreliable: true, crash: true, partitions: true, maxraftstate: 1000, randomkeys: true },
];

/// The `GenericTest` arguments of the test `name`.
///
/// # Panics
/// If `name` is not a `GenericTest` test of the suite.
pub fn generic(name: &str) -> &'static Generic {
    GENERICS
        .iter()
        .find(|g| g.name == name)
        .unwrap_or_else(|| panic!("{name} is not a GenericTest test of the kvraft suite"))
}

/// Declares one `#[test]` per named `GenericTest` test, each calling
/// `run(generic, body)`: the driver's runner gets the test's [`Generic`] row and the
/// body to run on its world. Attributes before a name (`#[ignore]`) go on its test.
#[macro_export]
macro_rules! kvraft_generic_suite {
    ($run:path: $($(#[$attr:meta])* $name:ident),* $(,)?) => {
        $(
            $(#[$attr])*
            #[test]
            fn $name() {
                let g = $crate::harness::kv::suite::generic(stringify!($name));
                $run(g, move |cfg| async move {
                    $crate::harness::kv::suite::generic_test(cfg, g).await
                });
            }
        )*
    };
}

/// The lab's partitioner: every second or so, split the servers at random in two.
async fn partitioner<C: KvLab>(cfg: C, done: Rc<Cell<bool>>) {
    while !done.get() {
        let a: Vec<u64> = (0..cfg.n()).map(|_| cfg.rand_below(2)).collect();
        let side = |s: u64| (0..cfg.n()).filter(|&j| a[j] == s).collect::<Vec<_>>();
        cfg.partition(&side(0), &side(1));
        let ms = cfg.rand_below(200);
        cfg.sleep(ELECTION_TIMEOUT + Duration::from_millis(ms))
            .await;
    }
}

/// One client of `GenericTest`: appends and gets on its own key (or random keys) until
/// told to stop; returns how many appends (and puts) it made.
async fn generic_client<C: KvLab>(
    cfg: C,
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
pub async fn generic_test<C: KvLab>(cfg: C, g: &Generic) {
    let log = generic_rounds(cfg.clone(), g).await;
    log.check("kvraft", g.name, cfg.seed());
    cfg.end();
}

/// `GenericTest` up to its porcupine check: returns the recorded history.
pub async fn generic_rounds<C: KvLab>(cfg: C, g: &Generic) -> History {
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
                let task = generic_client(cfg.clone(), *g, cli, log.clone(), done_clients.clone());
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

/// The test's `Get` wrapper: counts the operation and records it in `log`.
pub async fn get<C: KvLab>(
    cfg: &C,
    ck: &C::Clerk,
    key: &str,
    log: Option<&History>,
    cli: usize,
) -> String {
    let v = ck.recorded(Op::Get { key: key.into() }, log, cli).await;
    cfg.op();
    v
}

/// The test's `Put` wrapper.
pub async fn put<C: KvLab>(
    cfg: &C,
    ck: &C::Clerk,
    key: &str,
    value: &str,
    log: Option<&History>,
    cli: usize,
) {
    let op = Op::Put {
        key: key.into(),
        value: value.into(),
    };
    ck.recorded(op, log, cli).await;
    cfg.op();
}

/// The test's `Append` wrapper (Lab 4's append returns nothing: porcupine's op 2).
pub async fn append<C: KvLab>(
    cfg: &C,
    ck: &C::Clerk,
    key: &str,
    value: &str,
    log: Option<&History>,
    cli: usize,
) {
    let op = Op::Append {
        key: key.into(),
        value: value.into(),
    };
    ck.recorded(op, log, cli).await;
    cfg.op();
}

/// The test's `check`: a Get (counted, not recorded) must return `value`.
pub async fn check<C: KvLab>(cfg: &C, ck: &C::Clerk, key: &str, value: &str) {
    let v = get(cfg, ck, key, None, 0).await;
    if v != value {
        panic!("Get({key}): expected:\n{value}\nreceived:\n{v}");
    }
}
