//! A fault-injecting TCP proxy for the links between servers, the network of
//! `raftlab torture`.
//!
//! A [`Proxy`] listens on one address and forwards every connection it accepts to one
//! target (a server's peer listener). It reads the peer protocol's frames (see
//! [`super::wire`]: `len: u32 LE | crc: u32 | payload`) in both directions and
//! forwards each whole frame, or not, as its [`Faults`] say at the moment the frame
//! has been read:
//!
//! - `cut`: every frame is swallowed; connections stay open and nothing arrives, as
//!   over a partitioned network (a handshake through a cut proxy times out);
//! - `refuse`: connections are closed: those open when it is set, and every new one
//!   at once (the dialer sees its peer gone, and reconnects in vain);
//! - `drop`: each frame is dropped with this probability (from the proxy's seeded
//!   generator);
//! - `delay`: each frame is held this long before it is forwarded; frames keep their
//!   order (a frame is never forwarded before one read before it).
//!
//! Since server `a` sends everything it has for server `b` (requests, replies,
//! forwarded client calls) on its own connection to `b`, a proxy per ordered pair,
//! `P(a, b)` between `a` and `b`'s listener, controls each direction of each pair:
//! cutting `P(a, b)` alone is a one-way partition (`b` still reaches `a`). A frame
//! header announcing more than the proxy's limit closes that connection (a server
//! would refuse it too). Reading stops while the receiving side does not take what was
//! forwarded (a bounded queue per direction), so a stopped server pushes back on its
//! senders as TCP would.
//!
//! The proxy runs on the tokio runtime it was bound in; [`Proxy::set`] and
//! [`Proxy::reset`] may be called from any thread. Dropping the proxy closes its
//! listener and every connection through it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// How long the proxy tries to reach its target for a new connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Frames a direction holds (delayed, or not yet taken by the receiver) before it
/// stops reading.
const QUEUE_FRAMES: usize = 1024;

/// What the proxy does to the traffic through it. The default is nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Faults {
    /// Swallow every frame (connections stay open).
    pub cut: bool,
    /// Close every connection, and each new one at once.
    pub refuse: bool,
    /// The probability, from 0 to 1, that a frame is dropped.
    pub drop: f64,
    /// How long each frame is held before it is forwarded.
    pub delay: Duration,
}

impl Faults {
    /// No fault: every frame forwarded at once.
    pub const NONE: Faults = Faults {
        cut: false,
        refuse: false,
        drop: 0.0,
        delay: Duration::ZERO,
    };

    /// A black hole: every frame swallowed.
    pub const CUT: Faults = Faults {
        cut: true,
        ..Faults::NONE
    };

    /// Whether this is no fault at all.
    pub fn is_none(&self) -> bool {
        *self == Faults::NONE
    }
}

/// What went through a proxy since it was bound.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProxyStats {
    /// Connections accepted and forwarded to the target.
    pub connections: u64,
    /// Connections closed at once: refused, or the target could not be reached.
    pub refused: u64,
    /// Frames forwarded.
    pub forwarded: u64,
    /// Bytes of the frames forwarded (headers included).
    pub bytes: u64,
    /// Frames swallowed by a cut or dropped.
    pub dropped: u64,
    /// Connections closed because a frame was over the limit.
    pub oversized: u64,
}

struct State {
    faults: Faults,
    stats: ProxyStats,
}

struct Shared {
    target: SocketAddr,
    max_frame: usize,
    seed: u64,
    state: Mutex<State>,
    /// Bumped to close every open connection.
    epoch: watch::Sender<u64>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every change under the lock is a plain assignment: a panic cannot leave it
        // half-done, so a poisoned lock is used as it is.
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn close_all(&self) {
        self.epoch.send_modify(|e| *e += 1);
    }
}

/// A fault-injecting proxy from one listening address to one target.
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.shared.close_all();
    }
}

impl Proxy {
    /// Listens on `listen` (port 0 picks a free one) and forwards to `target`;
    /// `seed` seeds the drop decisions (each direction of each connection draws from
    /// its own generator, seeded by `seed`, the connection's number and the
    /// direction, so that the drops of one stream do not depend on the timing of
    /// another). Frames over `max_frame` payload bytes close
    /// their connection. Must be called inside a tokio runtime, which runs the proxy.
    pub async fn bind(
        listen: SocketAddr,
        target: SocketAddr,
        max_frame: usize,
        seed: u64,
    ) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let (epoch, _) = watch::channel(0u64);
        let shared = Arc::new(Shared {
            target,
            max_frame,
            seed,
            state: Mutex::new(State {
                faults: Faults::NONE,
                stats: ProxyStats::default(),
            }),
            epoch,
        });
        let accept = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(Proxy {
            addr,
            shared,
            accept,
        })
    }

    /// Where the proxy listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where it forwards to.
    pub fn target(&self) -> SocketAddr {
        self.shared.target
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.shared.lock().faults
    }

    /// Puts `faults` in force for every frame read from now on; `refuse` also closes
    /// the connections open now.
    pub fn set(&self, faults: Faults) {
        let drop = if faults.drop.is_nan() {
            0.0
        } else {
            faults.drop.clamp(0.0, 1.0)
        };
        self.shared.lock().faults = Faults { drop, ..faults };
        if faults.refuse {
            self.shared.close_all();
        }
    }

    /// Closes every connection open now (new ones are accepted as the faults say).
    pub fn reset(&self) {
        self.shared.close_all();
    }

    /// What went through so far.
    pub fn stats(&self) -> ProxyStats {
        self.shared.lock().stats
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let inbound = match listener.accept().await {
            Ok((s, _)) => s,
            Err(_) => {
                // Out of descriptors or the like: try again shortly.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            if shared.lock().faults.refuse {
                shared.lock().stats.refused += 1;
                return;
            }
            let outbound = match tokio::time::timeout(
                CONNECT_TIMEOUT,
                TcpStream::connect(shared.target),
            )
            .await
            {
                Ok(Ok(s)) => s,
                _ => {
                    shared.lock().stats.refused += 1;
                    return;
                }
            };
            let _ = inbound.set_nodelay(true);
            let _ = outbound.set_nodelay(true);
            let number = {
                let mut s = shared.lock();
                s.stats.connections += 1;
                s.stats.connections
            };
            relay(inbound, outbound, number, shared).await;
        });
    }
}

/// Relays both directions until either ends or the proxy closes its connections.
async fn relay(inbound: TcpStream, outbound: TcpStream, number: u64, shared: Arc<Shared>) {
    let mut epoch = shared.epoch.subscribe();
    epoch.mark_unchanged();
    let (in_read, in_write) = inbound.into_split();
    let (out_read, out_write) = outbound.into_split();
    let rng = |dir: u64| {
        let mixed = shared
            .seed
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .wrapping_add(number.wrapping_mul(2).wrapping_add(dir));
        StdRng::seed_from_u64(mixed)
    };
    tokio::select! {
        _ = direction(in_read, out_write, rng(0), &shared) => {}
        _ = direction(out_read, in_write, rng(1), &shared) => {}
        _ = epoch.changed() => {}
    }
    // Dropping both halves of both streams closes them.
}

/// One direction: reads frames, applies the faults, forwards what survives in order.
async fn direction<R, W>(mut from: R, mut to: W, mut rng: StdRng, shared: &Shared)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (tx, mut rx) = mpsc::channel::<(Instant, Vec<u8>)>(QUEUE_FRAMES);
    let read = async {
        let mut last_due = Instant::now();
        loop {
            let frame = match read_raw_frame(&mut from, shared.max_frame).await {
                Ok(Some(f)) => f,
                Ok(None) => return,
                Err(Oversized) => {
                    shared.lock().stats.oversized += 1;
                    return;
                }
            };
            let due = {
                let mut s = shared.lock();
                let f = s.faults;
                let dropped = f.cut || (f.drop > 0.0 && rng.random_bool(f.drop));
                if dropped {
                    s.stats.dropped += 1;
                    continue;
                }
                (Instant::now() + f.delay).max(last_due)
            };
            last_due = due;
            if tx.send((due, frame)).await.is_err() {
                return;
            }
        }
    };
    let write = async {
        while let Some((due, frame)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if to.write_all(&frame).await.is_err() {
                return;
            }
            let mut state = shared.lock();
            state.stats.forwarded += 1;
            state.stats.bytes += frame.len() as u64;
        }
    };
    // Either side ending ends the direction (and, through `relay`, the connection).
    tokio::select! {
        _ = read => {}
        _ = write => {}
    }
}

/// A frame header announced more than the limit.
struct Oversized;

/// Reads one whole frame, header included; `None` at the end of the stream (or on an
/// error: the connection is gone either way).
async fn read_raw_frame<R: AsyncRead + Unpin>(
    r: &mut R,
    max: usize,
) -> Result<Option<Vec<u8>>, Oversized> {
    let mut header = [0u8; 8];
    if r.read_exact(&mut header).await.is_err() {
        return Ok(None);
    }
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    if len > max {
        return Err(Oversized);
    }
    let mut frame = vec![0u8; 8 + len];
    frame[..8].copy_from_slice(&header);
    if r.read_exact(&mut frame[8..]).await.is_err() {
        return Ok(None);
    }
    Ok(Some(frame))
}

#[cfg(all(test, not(raftlab_loom)))]
mod tests {
    use super::*;
    use crate::runtime::wire;

    fn runtime() -> tokio::runtime::Runtime {
        match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
        {
            Ok(r) => r,
            Err(e) => panic!("cannot start a tokio runtime: {e}"),
        }
    }

    fn local() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 0))
    }

    /// A target that answers every frame with the same frame: a round trip through
    /// the proxy crosses both directions.
    async fn echo_server() -> SocketAddr {
        let l = TcpListener::bind(local()).await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                tokio::spawn(async move {
                    let (mut r, mut w) = s.split();
                    while let Ok(Some(f)) = read_raw_frame(&mut r, 1 << 20).await {
                        if w.write_all(&f).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    async fn proxy_to(target: SocketAddr, seed: u64) -> Proxy {
        Proxy::bind(local(), target, 1 << 20, seed).await.unwrap()
    }

    fn msg(n: u32) -> Vec<u8> {
        wire::frame(&n)
    }

    /// The next frame from `s`, as its number; `None` if none comes within `wait` or
    /// the connection closed.
    async fn next(s: &mut TcpStream, wait: Duration) -> Option<u32> {
        match tokio::time::timeout(wait, wire::read_frame(s, 1 << 20)).await {
            Ok(Ok(Some(p))) => Some(wire::decode::<u32>("n", &p).unwrap()),
            _ => None,
        }
    }

    /// Whether the peer closed `s` within `wait`.
    async fn closed(s: &mut TcpStream, wait: Duration) -> bool {
        let mut b = [0u8; 1];
        matches!(
            tokio::time::timeout(wait, s.read(&mut b)).await,
            Ok(Ok(0)) | Ok(Err(_))
        )
    }

    const WAIT: Duration = Duration::from_secs(5);
    const QUIET: Duration = Duration::from_millis(300);

    #[test]
    fn forwards_whole_frames_both_ways_in_order() {
        runtime().block_on(async {
            let p = proxy_to(echo_server().await, 1).await;
            let mut s = TcpStream::connect(p.addr()).await.unwrap();
            // Frames written in pieces and in one buffer come back whole, in order.
            let mut all = Vec::new();
            for n in 0..50 {
                all.extend(msg(n));
            }
            for chunk in all.chunks(7) {
                s.write_all(chunk).await.unwrap();
            }
            for n in 0..50 {
                assert_eq!(next(&mut s, WAIT).await, Some(n));
            }
            let st = p.stats();
            assert_eq!((st.connections, st.forwarded, st.dropped), (1, 100, 0));
        });
    }

    #[test]
    fn a_cut_swallows_frames_and_keeps_the_connection_until_healed() {
        runtime().block_on(async {
            let p = proxy_to(echo_server().await, 2).await;
            let mut s = TcpStream::connect(p.addr()).await.unwrap();
            s.write_all(&msg(1)).await.unwrap();
            assert_eq!(next(&mut s, WAIT).await, Some(1));
            p.set(Faults::CUT);
            s.write_all(&msg(2)).await.unwrap();
            assert_eq!(next(&mut s, QUIET).await, None, "nothing through a cut");
            p.set(Faults::NONE);
            s.write_all(&msg(3)).await.unwrap();
            assert_eq!(
                next(&mut s, WAIT).await,
                Some(3),
                "the same connection works again; the frame sent during the cut is gone"
            );
            assert_eq!(p.stats().dropped, 1);
        });
    }

    #[test]
    fn drops_follow_the_seed_and_keep_the_order_of_the_rest() {
        let survivors = |seed: u64| {
            runtime().block_on(async {
                let p = proxy_to(echo_server().await, seed).await;
                let mut s = TcpStream::connect(p.addr()).await.unwrap();
                p.set(Faults {
                    drop: 0.3,
                    ..Faults::NONE
                });
                for n in 0..200 {
                    s.write_all(&msg(n)).await.unwrap();
                }
                // Faults apply when a frame is read: keep them until every frame is
                // through (a second without one).
                let mut got = Vec::new();
                while let Some(n) = next(&mut s, Duration::from_secs(1)).await {
                    got.push(n);
                }
                got
            })
        };
        let a = survivors(7);
        // Each frame crosses two directions, each dropping 30%: about half survive.
        assert!(
            (40..160).contains(&a.len()),
            "{} of 200 frames survived",
            a.len()
        );
        assert!(a.windows(2).all(|w| w[0] < w[1]), "in order: {a:?}");
        assert_eq!(a, survivors(7), "the same seed drops the same frames");
        assert_ne!(a, survivors(8), "another seed drops others");
        let none = runtime().block_on(async {
            let p = proxy_to(echo_server().await, 3).await;
            let mut s = TcpStream::connect(p.addr()).await.unwrap();
            p.set(Faults {
                drop: 1.0,
                ..Faults::NONE
            });
            s.write_all(&msg(5)).await.unwrap();
            next(&mut s, QUIET).await
        });
        assert_eq!(none, None, "drop 1 drops everything");
    }

    #[test]
    fn a_delay_holds_each_frame_and_keeps_the_order() {
        runtime().block_on(async {
            let p = proxy_to(echo_server().await, 4).await;
            let mut s = TcpStream::connect(p.addr()).await.unwrap();
            let delay = Duration::from_millis(150);
            p.set(Faults {
                delay,
                ..Faults::NONE
            });
            let start = Instant::now();
            for n in 0..5 {
                s.write_all(&msg(n)).await.unwrap();
            }
            for n in 0..5 {
                assert_eq!(next(&mut s, WAIT).await, Some(n));
            }
            // Held once on the way there and once on the way back.
            assert!(start.elapsed() >= 2 * delay, "{:?}", start.elapsed());
            // A shorter delay set later never overtakes frames still held.
            p.set(Faults {
                delay: Duration::from_millis(400),
                ..Faults::NONE
            });
            s.write_all(&msg(10)).await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            p.set(Faults::NONE);
            s.write_all(&msg(11)).await.unwrap();
            assert_eq!(next(&mut s, WAIT).await, Some(10));
            assert_eq!(next(&mut s, WAIT).await, Some(11));
        });
    }

    #[test]
    fn refuse_closes_open_and_new_connections_and_reset_only_open_ones() {
        runtime().block_on(async {
            let p = proxy_to(echo_server().await, 5).await;
            let mut a = TcpStream::connect(p.addr()).await.unwrap();
            a.write_all(&msg(1)).await.unwrap();
            assert_eq!(next(&mut a, WAIT).await, Some(1));
            p.set(Faults {
                refuse: true,
                ..Faults::NONE
            });
            assert!(closed(&mut a, WAIT).await, "the open connection is closed");
            let mut b = TcpStream::connect(p.addr()).await.unwrap();
            assert!(closed(&mut b, WAIT).await, "a new one is closed at once");
            p.set(Faults::NONE);
            let mut c = TcpStream::connect(p.addr()).await.unwrap();
            c.write_all(&msg(2)).await.unwrap();
            assert_eq!(next(&mut c, WAIT).await, Some(2));
            p.reset();
            assert!(closed(&mut c, WAIT).await, "reset closes it");
            let mut d = TcpStream::connect(p.addr()).await.unwrap();
            d.write_all(&msg(3)).await.unwrap();
            assert_eq!(next(&mut d, WAIT).await, Some(3), "and new ones work");
            assert_eq!(p.stats().refused, 1);
        });
    }

    #[test]
    fn an_unreachable_target_or_an_oversized_frame_closes_the_connection() {
        runtime().block_on(async {
            // A port that was free a moment ago: nothing listens there.
            let gone = {
                let l = TcpListener::bind(local()).await.unwrap();
                l.local_addr().unwrap()
            };
            let p = proxy_to(gone, 6).await;
            let mut s = TcpStream::connect(p.addr()).await.unwrap();
            assert!(closed(&mut s, WAIT).await);
            assert_eq!(p.stats().refused, 1);

            let p = Proxy::bind(local(), echo_server().await, 16, 6)
                .await
                .unwrap();
            let mut s = TcpStream::connect(p.addr()).await.unwrap();
            s.write_all(&wire::frame(&[7u8; 17].to_vec()))
                .await
                .unwrap();
            assert!(closed(&mut s, WAIT).await);
            assert_eq!(p.stats().oversized, 1);
        });
    }

    #[test]
    fn dropping_the_proxy_closes_everything() {
        runtime().block_on(async {
            let p = proxy_to(echo_server().await, 9).await;
            let addr = p.addr();
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(&msg(1)).await.unwrap();
            assert_eq!(next(&mut s, WAIT).await, Some(1));
            drop(p);
            assert!(closed(&mut s, WAIT).await);
            tokio::time::sleep(Duration::from_millis(50)).await;
            assert!(
                TcpStream::connect(addr).await.is_err(),
                "the listener is gone"
            );
        });
    }
}
