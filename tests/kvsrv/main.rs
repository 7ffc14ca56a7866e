//! The Lab 2 (kvsrv) suite on the simulator: the 10 tests of kvsrv/test_test.go, with
//! the lab's names and printed lines, every history checked for linearizability, and
//! the memory tests measured with a counting allocator.

mod config;

use raftlab::harness::kv::ck::KvClerk;
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use config::{
    CountingAlloc, History, KvsrvConfig, append, check_clnt_appends, check_concurrent_appends, get,
    heap_alloc, kvsrv_test, put,
};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const MIB: u64 = 1 << 20;

/// The lab's `GenericTest(nclients, unreliable, randomkeys)`: for three iterations,
/// clients append and get for a second; then every client's appends must be present,
/// once each and in order, and the whole history must be linearizable.
async fn generic_test(
    cfg: KvsrvConfig,
    name: &str,
    nclients: usize,
    unreliable: bool,
    randomkeys: bool,
) {
    let mut title = String::from("Test: ");
    if unreliable {
        title.push_str("unreliable net, ");
    }
    if randomkeys {
        title.push_str("random keys, ");
    }
    title.push_str(if nclients > 1 {
        "many clients"
    } else {
        "one client"
    });
    cfg.begin(&title);
    let log = History::new();
    let ck = cfg.make_client();
    for _ in 0..3 {
        let done = Rc::new(Cell::new(false));
        let clients: Vec<_> = (0..nclients)
            .map(|cli| {
                let (cfg, log, done) = (cfg.clone(), log.clone(), done.clone());
                cfg.clone().spawn(async move {
                    let myck = cfg.make_client();
                    let mut j = 0;
                    let mut last = String::new();
                    if !randomkeys {
                        put(&cfg, &myck, &cli.to_string(), &last, Some(&log), cli).await;
                    }
                    while !done.get() {
                        let key = if randomkeys {
                            cfg.rand_below(nclients as u64).to_string()
                        } else {
                            cli.to_string()
                        };
                        let nv = format!("x {cli} {j} y");
                        if cfg.rand_below(1000) < 500 {
                            let l = append(&cfg, &myck, &key, &nv, Some(&log), cli).await;
                            if !randomkeys {
                                if j > 0 {
                                    let o = format!("x {cli} {} y", j - 1);
                                    if !l.contains(&o) {
                                        panic!("error: old {o} not in return\n{l}");
                                    }
                                }
                                if l.contains(&nv) {
                                    panic!("error: new value {nv} in returned values\n{l}");
                                }
                                last.push_str(&nv);
                            }
                            j += 1;
                        } else if randomkeys && cfg.rand_below(1000) < 100 {
                            put(&cfg, &myck, &key, &nv, Some(&log), cli).await;
                            j += 1;
                        } else {
                            let v = get(&cfg, &myck, &key, Some(&log), cli).await;
                            if !randomkeys && v != last {
                                panic!("get wrong value, key {key}, wanted:\n{last}\n, got\n{v}");
                            }
                        }
                    }
                    cfg.delete_client(&myck);
                    j
                })
            })
            .collect();
        cfg.sleep(Duration::from_secs(1)).await;
        done.set(true);
        for (i, c) in clients.into_iter().enumerate() {
            let j = c.await;
            let v = get(&cfg, &ck, &i.to_string(), Some(&log), 0).await;
            if !randomkeys {
                check_clnt_appends(i, &v, j);
            }
        }
    }
    log.check("kvsrv", name, cfg.seed());
    cfg.end();
}

#[test]
fn basic2() {
    kvsrv_test("basic2", false, |cfg| {
        generic_test(cfg, "basic2", 1, false, false)
    });
}

#[test]
fn concurrent2() {
    kvsrv_test("concurrent2", false, |cfg| {
        generic_test(cfg, "concurrent2", 5, false, false)
    });
}

#[test]
fn unreliable2() {
    kvsrv_test("unreliable2", true, |cfg| {
        generic_test(cfg, "unreliable2", 5, true, false)
    });
}

#[test]
fn unreliable_one_key2() {
    kvsrv_test("unreliable_one_key2", true, |cfg| async move {
        let ck = cfg.make_client();
        cfg.begin("Test: concurrent append to same key, unreliable");
        put(&cfg, &ck, "k", "", None, 0).await;
        const NCLIENT: usize = 5;
        const UPTO: usize = 10;
        let clients: Vec<_> = (0..NCLIENT)
            .map(|me| {
                let cfg = cfg.clone();
                cfg.clone().spawn(async move {
                    let myck = cfg.make_client();
                    for n in 0..UPTO {
                        let nv = format!("x {me} {n} y");
                        let ov = append(&cfg, &myck, "k", &nv, None, 0).await;
                        if ov.contains(&nv) {
                            panic!("error: nv {nv} in returned values\n{ov}");
                        }
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

#[test]
fn mem_get2() {
    kvsrv_test("mem_get2", true, |cfg| async move {
        const MEM: u64 = 10;
        let ck0 = cfg.make_client();
        let ck1 = cfg.make_client();
        cfg.begin("Test: memory use get");
        let rd_val = cfg.rand_value((MIB * MEM) as usize);
        ck0.put("k", &rd_val).await;
        let len = rd_val.len();
        drop(rd_val);
        let v = ck0.get("k").await;
        if v.len() != len {
            panic!("error: incorrect len {}", v.len());
        }
        drop(v);
        let v = ck1.get("k").await;
        if v.len() != len {
            panic!("error: incorrect len {}", v.len());
        }
        drop(v);
        ck0.put("k", "0").await;
        let m = heap_alloc() / MIB;
        if m >= MEM {
            panic!("error: server using too much memory {m}");
        }
        cfg.end();
    });
}

#[test]
fn mem_put2() {
    kvsrv_test("mem_put2", false, |cfg| async move {
        const MEM: u64 = 10;
        cfg.begin("Test: memory use put");
        let ck0 = cfg.make_client();
        let ck1 = cfg.make_client();
        let rd_val = cfg.rand_value((MIB * MEM) as usize);
        ck0.put("k", &rd_val).await;
        drop(rd_val);
        ck1.put("k", "").await;
        let m = heap_alloc() / MIB;
        if m >= MEM {
            panic!("error: server using too much memory {m}");
        }
        cfg.end();
    });
}

#[test]
fn mem_append2() {
    kvsrv_test("mem_append2", false, |cfg| async move {
        const MEM: u64 = 10;
        cfg.begin("Test: memory use append");
        let ck0 = cfg.make_client();
        let ck1 = cfg.make_client();
        let rd_val0 = cfg.rand_value((MIB * MEM) as usize);
        ck0.append_returning_old("k", &rd_val0).await;
        drop(rd_val0);
        let rd_val1 = cfg.rand_value((MIB * MEM) as usize);
        let old = ck1.append_returning_old("k", &rd_val1).await;
        drop((rd_val1, old));
        let m = heap_alloc() / MIB;
        if m > 3 * MEM {
            panic!("error: server using too much memory {m}");
        }
        cfg.end();
    });
}

#[test]
fn mem_put_many_clients() {
    kvsrv_test("mem_put_many_clients", false, |cfg| async move {
        const NCLIENT: u64 = 100_000;
        const MEM: usize = 1000;
        let v = cfg.rand_value(MEM);
        let cks: Vec<_> = (0..NCLIENT).map(|_| cfg.make_client()).collect();
        // allow threads started by labrpc to start
        cfg.sleep(Duration::from_secs(1)).await;
        cfg.begin("Test: memory use many put clients");
        let m0 = heap_alloc();
        for ck in &cks {
            ck.put("k", &v).await;
        }
        cfg.sleep(Duration::from_secs(1)).await;
        let m1 = heap_alloc();
        let f = (m1 as f64 - m0 as f64) / NCLIENT as f64;
        if m1 > m0 + NCLIENT * 200 {
            panic!("error: server using too much memory {m0} {m1} ({f:.2} per client)");
        }
        for ck in &cks {
            cfg.delete_client(ck);
        }
        cfg.end();
    });
}

#[test]
fn mem_get_many_clients() {
    kvsrv_test("mem_get_many_clients", false, |cfg| async move {
        const NCLIENT: u64 = 100_000;
        cfg.begin("Test: memory use many get client");
        let ck = cfg.make_client();
        ck.put("0", "").await;
        cfg.delete_client(&ck);
        let cks: Vec<_> = (0..NCLIENT).map(|_| cfg.make_client()).collect();
        // allow threads started by labrpc to start
        cfg.sleep(Duration::from_secs(1)).await;
        let m0 = heap_alloc();
        for ck in &cks {
            ck.get("0").await;
        }
        cfg.sleep(Duration::from_secs(1)).await;
        let m1 = heap_alloc();
        let f = (m1 as f64 - m0 as f64) / NCLIENT as f64;
        if m1 >= m0 + NCLIENT * 10 {
            panic!("error: server using too much memory m0 {m0} m1 {m1} ({f:.2} per client)");
        }
        for ck in &cks {
            cfg.delete_client(ck);
        }
        cfg.end();
    });
}

#[test]
fn mem_many_appends() {
    kvsrv_test("mem_many_appends", false, |cfg| async move {
        const N_CLIENT: u64 = 1000;
        const MEM: u64 = 1000;
        cfg.begin("Test: memory use many appends");
        let ck = cfg.make_client();
        let rd_val = cfg.rand_value(MEM as usize);
        let m0 = heap_alloc();
        for _ in 0..N_CLIENT {
            ck.append_returning_old("k", &rd_val).await;
        }
        cfg.sleep(Duration::from_secs(1)).await;
        let m1 = heap_alloc();
        if m1 >= 3 * N_CLIENT * MEM {
            panic!("error: server using too much memory {m1}");
        }
        println!("m0 {m0} m1 {m1}");
        cfg.end();
    });
}
