//! The Lab 2 test configuration (kvsrv/config.go): one key/value server, named "0",
//! and clerks with one end each.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use crate::harness::rsm::clerks::{CLERK_TIMER, Ck, ClerkParts, ClerkWorld, Clerks, KvNet};
use crate::harness::rsm::rpc::{Caller, KvRpc, ServerToken};
use crate::kv::Op;
use crate::kv::kvsrv::KvSrv;
use crate::rsm::clerk::ClerkTiming;
use crate::sim::{Event, Kernel, Net, NetAction, Sim, World};

/// The base latency of a delivery in the Lab 2 tests: 100 microseconds. The memory
/// tests make 100,000 calls one after another, which Go runs in a few seconds; at the
/// simulator's default of 1 ms they would pass the lab's 120 s limit.
pub const KVSRV_BASE_LATENCY: Duration = Duration::from_micros(100);

/// The lab's per-test limit, in virtual time.
pub const TEST_LIMIT: Duration = Duration::from_secs(120);

/// The Lab 2 world.
pub struct KvsrvWorld {
    net: KvNet,
    server: KvSrv,
    clerks: Clerks<Op, String>,
}

impl ClerkWorld for KvsrvWorld {
    type Op = Op;
    type Output = String;

    fn clerk_parts(&mut self) -> ClerkParts<'_, Self::Op, Self::Output> {
        (&mut self.net, &mut self.clerks)
    }
}

impl World for KvsrvWorld {
    fn on_event(&mut self, k: &mut Kernel, event: Event) {
        match event {
            Event::Net(e) => match self.net.on_event(k, e) {
                Some(NetAction::Request {
                    call,
                    request: KvRpc::Clerk(r),
                    ..
                }) => {
                    let reply = self.server.handle(r);
                    self.net.respond(k, call, KvRpc::ClerkReply(reply));
                }
                Some(NetAction::Reply {
                    caller: Caller::Clerk { clerk, attempt },
                    reply: KvRpc::ClerkReply(r),
                    ..
                }) => self
                    .clerks
                    .on_reply(k, &mut self.net, clerk, attempt, Some(r)),
                Some(NetAction::Failed {
                    caller: Caller::Clerk { clerk, attempt },
                    ..
                }) => self.clerks.on_reply(k, &mut self.net, clerk, attempt, None),
                _ => {}
            },
            Event::Timer(key) if key.timer == CLERK_TIMER => {
                self.clerks.on_timer(k, &mut self.net, key);
            }
            Event::Timer(_) => {}
            Event::Wake(w) => w.wake(),
        }
    }
}

/// A Lab 2 clerk handle.
pub type KvsrvClerk = Ck<KvsrvWorld>;

/// The Lab 2 test configuration.
#[derive(Clone)]
pub struct KvsrvConfig {
    sim: Sim<KvsrvWorld>,
    ops: Rc<Cell<u64>>,
    begin: Rc<RefCell<(Duration, u64)>>,
}

impl KvsrvConfig {
    /// The lab's `make_config(unreliable)`.
    pub fn new(seed: u64, unreliable: bool) -> Self {
        let mut net: KvNet = Net::new();
        net.set_reliable(!unreliable);
        net.set_base_latency(KVSRV_BASE_LATENCY);
        let world = KvsrvWorld {
            net,
            server: KvSrv::new(),
            clerks: Clerks::new(ClerkTiming::default()),
        };
        let cfg = KvsrvConfig {
            sim: Sim::new(seed, world),
            ops: Rc::new(Cell::new(0)),
            begin: Rc::new(RefCell::new((Duration::ZERO, 0))),
        };
        cfg.sim.with(|k, w| {
            w.net.add_server(
                k,
                "0",
                ServerToken {
                    node: 0,
                    incarnation: 1,
                },
            );
        });
        cfg
    }

    /// Runs the test body, then checks the time limit.
    pub fn run<F, Fut>(&self, body: F)
    where
        F: FnOnce(KvsrvConfig) -> Fut,
        Fut: Future<Output = ()> + 'static,
    {
        self.sim.run(body(self.clone()));
        self.check_timeout();
    }

    /// `makeClient()`: a clerk with a fresh, enabled end to server "0".
    pub fn make_client(&self) -> KvsrvClerk {
        let slot = self.sim.with(|k, w| {
            let name = k.rng.string(20);
            if let Err(e) = w.net.make_end(&name) {
                panic!("{e}");
            }
            w.net.connect(k, &name, "0");
            w.net.enable(k, &name, true);
            let client = k.rng.int63() as u64;
            w.clerks.add(client, vec![name])
        });
        Ck::new(self.sim.clone(), slot)
    }

    /// `deleteClient(ck)`.
    pub fn delete_client(&self, ck: &KvsrvClerk) {
        self.sim.with(|k, w| {
            for e in w.clerks.remove(ck.slot()) {
                w.net.delete_end(k, &e);
            }
        });
    }

    /// Sleeps in virtual time.
    pub async fn sleep(&self, d: Duration) {
        self.sim.sleep(d).await;
    }

    /// Starts a task.
    pub fn spawn<T: 'static>(
        &self,
        fut: impl Future<Output = T> + 'static,
    ) -> crate::sim::JoinHandle<T> {
        self.sim.spawn(fut)
    }

    /// Virtual microseconds since the start (the history's clock).
    pub fn now_micros(&self) -> u64 {
        self.sim.now().as_micros() as u64
    }

    /// Draws from the seeded generator.
    pub fn rand_below(&self, n: u64) -> u64 {
        self.sim.rng(|r| r.below(n))
    }

    /// `randValue(n)`: `n` random letters.
    pub fn rand_value(&self, n: usize) -> String {
        const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        self.sim.rng(|r| {
            (0..n)
                .map(|_| LETTERS[r.index(LETTERS.len())] as char)
                .collect()
        })
    }

    /// The seed of the run.
    pub fn seed(&self) -> u64 {
        self.sim.with(|k, _| k.seed())
    }

    /// `op()`: counts one clerk operation made through the test's wrappers.
    pub fn op(&self) {
        self.ops.set(self.ops.get() + 1);
    }

    /// `rpcTotal()`.
    pub fn rpc_total(&self) -> u64 {
        self.sim.with(|_, w| w.net.total_count())
    }

    /// The server's number of client sessions (for the memory tests' diagnostics).
    pub fn sessions(&self) -> usize {
        self.sim.with(|_, w| w.server.store().sessions())
    }

    /// `begin(description)`.
    pub fn begin(&self, description: &str) {
        println!("{description} ...");
        *self.begin.borrow_mut() = (self.sim.now(), self.rpc_total());
        self.ops.set(0);
    }

    /// `end()`: prints `  ... Passed -- t %4.1f nrpc %5d ops %4d`.
    pub fn end(&self) {
        self.check_timeout();
        let (t0, rpcs0) = *self.begin.borrow();
        let t = (self.sim.now() - t0).as_secs_f64();
        let nrpc = self.rpc_total() - rpcs0;
        println!(
            "  ... Passed -- t {t:4.1} nrpc {nrpc:5} ops {:4}",
            self.ops.get()
        );
    }

    fn check_timeout(&self) {
        if self.sim.now() > TEST_LIMIT {
            panic!("test took longer than 120 seconds");
        }
    }
}
