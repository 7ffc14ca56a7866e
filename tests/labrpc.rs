//! The labrpc unit tests (labrpc/test_test.go) against the simulator's network, plus
//! the determinism check of the simulator.
//!
//! Go's "JunkServer" becomes a server whose handlers are the variants of [`Junk`];
//! Go's goroutines become simulator tasks; time is virtual.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use raftlab::harness::raft::{Config, Options, RaftLab};
use raftlab::sim::{
    CallId, Event, Kernel, Net, NetAction, Sender, Sim, TimerKey, World, oneshot, seed::run_seeded,
};

/// The JunkServer's RPCs: requests and replies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Junk {
    /// Handler1: parse a string as an int.
    Handler1(String),
    /// Handler2: "handler2-" + the int.
    Handler2(i64),
    /// Handler3: sleeps 20 s, then answers -args.
    Handler3(i64),
    /// Handler4: pointer arguments (Go); answers "pointer".
    Handler4 { x: i64 },
    /// Handler5: value arguments (Go); answers "no pointer".
    Handler5 { x: i64 },
    /// Handler6: the length of the string.
    Handler6(String),
    /// Handler7: a string of `n` 'y's.
    Handler7(i64),
    /// An int reply.
    IntReply(i64),
    /// A string reply.
    StrReply(String),
}

/// The world of these tests: one network, JunkServers, and callers awaiting replies.
#[derive(Default)]
struct JunkWorld {
    net: Net<Junk, u32, ()>,
    waiting: BTreeMap<CallId, Sender<Option<Junk>>>,
    /// Handler3 calls whose 20 s sleep is running, by the timer that ends it.
    sleeping: BTreeMap<usize, (CallId, i64)>,
    /// Requests each server object handled (Go's per-server log of calls).
    handled: BTreeMap<u32, u64>,
}

impl World for JunkWorld {
    fn on_event(&mut self, k: &mut Kernel, event: Event) {
        match event {
            Event::Net(e) => match self.net.on_event(k, e) {
                Some(NetAction::Request {
                    server,
                    call,
                    request,
                    ..
                }) => {
                    *self.handled.entry(server).or_default() += 1;
                    let reply = match request {
                        Junk::Handler1(s) => Junk::IntReply(s.parse().unwrap_or(0)),
                        Junk::Handler2(i) => Junk::StrReply(format!("handler2-{i}")),
                        Junk::Handler3(i) => {
                            let slot = call as usize;
                            self.sleeping.insert(slot, (call, -i));
                            let key = TimerKey {
                                node: slot,
                                incarnation: 0,
                                timer: 3,
                                generation: 0,
                            };
                            k.schedule(Duration::from_secs(20), Event::Timer(key));
                            return;
                        }
                        Junk::Handler4 { .. } => Junk::StrReply("pointer".into()),
                        Junk::Handler5 { .. } => Junk::StrReply("no pointer".into()),
                        Junk::Handler6(s) => Junk::IntReply(s.len() as i64),
                        Junk::Handler7(n) => Junk::StrReply("y".repeat(n as usize)),
                        other => panic!("labrpc: unknown method {other:?}"),
                    };
                    self.net.respond(k, call, reply);
                }
                Some(NetAction::Reply { call, reply, .. }) => {
                    if let Some(tx) = self.waiting.remove(&call) {
                        tx.send(Some(reply));
                    }
                }
                Some(NetAction::Failed { call, .. }) => {
                    if let Some(tx) = self.waiting.remove(&call) {
                        tx.send(None);
                    }
                }
                None => {}
            },
            Event::Timer(key) => {
                if let Some((call, v)) = self.sleeping.remove(&key.node) {
                    self.net.respond(k, call, Junk::IntReply(v));
                }
            }
            Event::Wake(w) => w.wake(),
        }
    }
}

type JunkSim = Sim<JunkWorld>;

fn make_sim(seed: u64) -> JunkSim {
    Sim::new(seed, JunkWorld::default())
}

/// `MakeEnd` + `Connect` + `Enable`.
fn end_to(sim: &JunkSim, end: &str, server: &str, enabled: bool) {
    sim.with(|k, w| {
        w.net.make_end(end).expect("fresh end name");
        w.net.connect(k, end, server);
        w.net.enable(k, end, enabled);
    });
}

/// `AddServer(name, JunkServer)`; the token names the server object.
fn add_server(sim: &JunkSim, name: &str, token: u32) {
    sim.with(|k, w| w.net.add_server(k, name, token));
}

/// `end.Call(request)`: the reply, or `None` when the call returns false.
async fn call(sim: JunkSim, end: String, request: Junk) -> Option<Junk> {
    let (tx, rx) = oneshot();
    sim.with(|k, w| {
        let id = w.net.call(k, &end, (), request);
        w.waiting.insert(id, tx);
    });
    rx.await
}

fn labrpc_test(name: &str, body: impl Fn(u64)) {
    run_seeded("labrpc", name, 1, body);
}

#[test]
fn basic() {
    labrpc_test("basic", |seed| {
        let sim = make_sim(seed);
        end_to(&sim, "end1-99", "server99", true);
        add_server(&sim, "server99", 1);
        let s = sim.clone();
        sim.run(async move {
            let r = call(s.clone(), "end1-99".into(), Junk::Handler2(111)).await;
            assert_eq!(r, Some(Junk::StrReply("handler2-111".into())));
            let r = call(s, "end1-99".into(), Junk::Handler1("9099".into())).await;
            assert_eq!(r, Some(Junk::IntReply(9099)));
        });
    });
}

#[test]
fn types() {
    labrpc_test("types", |seed| {
        let sim = make_sim(seed);
        end_to(&sim, "end1-99", "server99", true);
        add_server(&sim, "server99", 1);
        let s = sim.clone();
        sim.run(async move {
            let r = call(s.clone(), "end1-99".into(), Junk::Handler4 { x: 1 }).await;
            assert_eq!(r, Some(Junk::StrReply("pointer".into())));
            let r = call(s, "end1-99".into(), Junk::Handler5 { x: 1 }).await;
            assert_eq!(r, Some(Junk::StrReply("no pointer".into())));
        });
    });
}

#[test]
fn disconnect() {
    labrpc_test("disconnect", |seed| {
        let sim = make_sim(seed);
        end_to(&sim, "end1-99", "server99", false);
        add_server(&sim, "server99", 1);
        let s = sim.clone();
        sim.run(async move {
            let r = call(s.clone(), "end1-99".into(), Junk::Handler2(111)).await;
            assert_eq!(r, None, "a call on a disabled end must not get a reply");
            s.with(|k, w| w.net.enable(k, "end1-99", true));
            let r = call(s, "end1-99".into(), Junk::Handler1("9099".into())).await;
            assert_eq!(r, Some(Junk::IntReply(9099)));
        });
    });
}

#[test]
fn counts() {
    labrpc_test("counts", |seed| {
        let sim = make_sim(seed);
        end_to(&sim, "end1-99", "server99", true);
        add_server(&sim, "server99", 1);
        let s = sim.clone();
        sim.run(async move {
            for i in 0..17 {
                let r = call(s.clone(), "end1-99".into(), Junk::Handler2(i)).await;
                assert_eq!(r, Some(Junk::StrReply(format!("handler2-{i}"))));
            }
            let n = s.with(|_, w| w.net.count("server99"));
            assert_eq!(n, 17, "wrong GetCount()");
        });
    });
}

#[test]
fn bytes() {
    labrpc_test("bytes", |seed| {
        let sim = make_sim(seed);
        end_to(&sim, "end1-99", "server99", true);
        add_server(&sim, "server99", 1);
        let s = sim.clone();
        sim.run(async move {
            for _ in 0..17 {
                let args = "x".repeat(128 + 128 + 28);
                let r = call(s.clone(), "end1-99".into(), Junk::Handler6(args)).await;
                assert_eq!(r, Some(Junk::IntReply(284)));
            }
            let n = s.with(|_, w| w.net.total_bytes());
            assert!((4828..=6000).contains(&n), "wrong GetTotalBytes() {n}");
            for _ in 0..17 {
                let r = call(s.clone(), "end1-99".into(), Junk::Handler7(107)).await;
                assert_eq!(r, Some(Junk::StrReply("y".repeat(107))));
            }
            let nn = s.with(|_, w| w.net.total_bytes()) - n;
            assert!((1800..=2500).contains(&nn), "wrong GetTotalBytes() {nn}");
        });
    });
}

#[test]
fn concurrent_many() {
    labrpc_test("concurrent_many", |seed| {
        let sim = make_sim(seed);
        add_server(&sim, "1000", 1);
        let s = sim.clone();
        sim.run(async move {
            let mut clients = Vec::new();
            for ii in 0..20 {
                let end = format!("end-{ii}");
                end_to(&s, &end, "1000", true);
                let s2 = s.clone();
                clients.push(s.spawn(async move {
                    let mut n = 0;
                    for j in 0..10 {
                        let arg = 100 * ii + j;
                        let r = call(s2.clone(), end.clone(), Junk::Handler2(arg)).await;
                        assert_eq!(r, Some(Junk::StrReply(format!("handler2-{arg}"))));
                        n += 1;
                    }
                    n
                }));
            }
            let mut total = 0;
            for c in clients {
                total += c.await;
            }
            assert_eq!(total, 200);
            assert_eq!(s.with(|_, w| w.net.count("1000")), 200, "wrong GetCount()");
        });
    });
}

#[test]
fn unreliable() {
    labrpc_test("unreliable", |seed| {
        let sim = make_sim(seed);
        sim.with(|_, w| w.net.set_reliable(false));
        add_server(&sim, "1000", 1);
        let s = sim.clone();
        sim.run(async move {
            let mut clients = Vec::new();
            for ii in 0..300 {
                let end = format!("end-{ii}");
                end_to(&s, &end, "1000", true);
                let s2 = s.clone();
                clients.push(s.spawn(async move {
                    let arg = 100 * ii;
                    match call(s2, end, Junk::Handler2(arg)).await {
                        Some(r) => {
                            assert_eq!(r, Junk::StrReply(format!("handler2-{arg}")));
                            1
                        }
                        None => 0,
                    }
                }));
            }
            let mut total = 0;
            for c in clients {
                total += c.await;
            }
            assert!(total > 0 && total < 300, "{total} of 300 calls succeeded");
        });
    });
}

#[test]
fn concurrent_one() {
    labrpc_test("concurrent_one", |seed| {
        let sim = make_sim(seed);
        add_server(&sim, "1000", 1);
        end_to(&sim, "c", "1000", true);
        let s = sim.clone();
        sim.run(async move {
            let mut calls = Vec::new();
            for ii in 0..20 {
                let s2 = s.clone();
                calls.push(s.spawn(async move {
                    let arg = 100 + ii;
                    let r = call(s2, "c".into(), Junk::Handler2(arg)).await;
                    assert_eq!(r, Some(Junk::StrReply(format!("handler2-{arg}"))));
                    1
                }));
            }
            let mut total = 0;
            for c in calls {
                total += c.await;
            }
            assert_eq!(total, 20);
            assert_eq!(s.with(|_, w| w.net.count("1000")), 20, "wrong GetCount()");
        });
    });
}

/// Regression: calls stuck on a disabled end must not delay or double a call made
/// after the end is enabled.
#[test]
fn regression1() {
    labrpc_test("regression1", |seed| {
        let sim = make_sim(seed);
        add_server(&sim, "1000", 1);
        end_to(&sim, "c", "1000", false);
        let s = sim.clone();
        sim.run(async move {
            // start some RPCs while the end is disabled; they will be delayed.
            let mut stuck = Vec::new();
            for ii in 0..20 {
                let s2 = s.clone();
                stuck.push(s.spawn(call(s2, "c".into(), Junk::Handler2(100 + ii))));
            }
            s.sleep_ms(100).await;
            // now enable the ClientEnd and check that an RPC completes quickly.
            let t0 = s.now();
            s.with(|k, w| w.net.enable(k, "c", true));
            let r = call(s.clone(), "c".into(), Junk::Handler2(99)).await;
            assert_eq!(r, Some(Junk::StrReply("handler2-99".into())));
            let dt = s.now() - t0;
            assert!(
                dt < Duration::from_millis(30),
                "RPC took too long ({dt:?}) after Enable"
            );
            for c in stuck {
                assert_eq!(c.await, None);
            }
            assert_eq!(s.with(|_, w| w.handled.get(&1).copied()), Some(1));
            assert_eq!(s.with(|_, w| w.net.count("1000")), 1, "wrong GetCount()");
        });
    });
}

/// If an RPC's handler never returns in time and the server is deleted, the call
/// must return false soon, not wait for the handler.
#[test]
fn killed() {
    labrpc_test("killed", |seed| {
        let sim = make_sim(seed);
        add_server(&sim, "server99", 1);
        end_to(&sim, "end1-99", "server99", true);
        let s = sim.clone();
        sim.run(async move {
            let s2 = s.clone();
            let mut pending = s.spawn(call(s2, "end1-99".into(), Junk::Handler3(99)));
            s.sleep(Duration::from_secs(1)).await;
            assert!(!pending.is_ready(), "Handler3 returned prematurely");
            s.with(|k, w| w.net.delete_server(k, "server99"));
            let t0 = s.now();
            let r = (&mut pending).await;
            assert_eq!(r, None, "a call to a deleted server must fail");
            let dt = s.now() - t0;
            assert!(
                dt <= Duration::from_millis(100),
                "the call took {dt:?} to fail"
            );
        });
    });
}

/// The simulator's promise: a seed determines the run. Two runs of one seed give the
/// same trace hash; another seed gives another.
#[test]
fn determinism() {
    fn trace(seed: u64) -> u64 {
        let cfg = Config::new(seed, 5, true, true, Options::default());
        cfg.run(|cfg| async move {
            cfg.set_long_reordering(true);
            for i in 0..30 {
                cfg.one(i, 1, true).await;
                let victim = cfg.rand_below(5) as usize;
                if i % 5 == 0 {
                    cfg.crash1(victim);
                    cfg.sleep_ms(300).await;
                    cfg.start1(victim);
                    cfg.connect(victim);
                }
            }
        })
    }
    let a = trace(11);
    let b = trace(11);
    assert_eq!(a, b, "the same seed gave two different traces");
    assert_ne!(a, trace(12), "two seeds gave the same trace");
}
