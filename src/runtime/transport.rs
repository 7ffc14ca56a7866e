//! The peer transport: one outgoing TCP connection to each peer, kept up with backoff,
//! and the listener that accepts the peers' connections to this server.
//!
//! An outgoing link ([`run_link`]) connects, sends its [`Hello`], waits for the welcome,
//! reports [`Event::PeerUp`], then writes the frames the event loop queues for that
//! peer. It also reads the connection: the peer never writes after its welcome, so the
//! end of the stream (the peer died or closed) is seen at once and reported as
//! [`Event::PeerDown`]; frames queued meanwhile are dropped, as a network would drop
//! them. Reconnects back off from 50 ms to 500 ms, with jitter; a peer that connects to
//! this server (it has just started) wakes the link to it at once, so a restarted server
//! hears from the leader before its election timer runs out.
//!
//! An incoming connection ([`accept`]) must send a valid [`Hello`] within five seconds.
//! After the welcome, each frame is decoded and handed to the loop as
//! [`Event::Peer`]. Anything wrong (a stranger's hello, an oversized frame, a failed
//! checksum, bytes that do not decode) is logged with the peer's address and closes that
//! connection; nothing reaches the core.

use std::net::SocketAddr;
use std::time::Duration;

use rand::Rng;
use std::sync::Arc;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

use tokio::sync::{Notify, mpsc};

use super::node::Event;
use super::service::Service;
use super::wire::{self, FrameError, Hello, HelloReply, Me, PeerMsg};
use crate::raft::NodeId;

/// How long a new connection may take to say who it is.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

const BACKOFF_MIN: Duration = Duration::from_millis(50);
const BACKOFF_MAX: Duration = Duration::from_millis(500);

macro_rules! log {
    ($lvl:ident, $me:expr, $($arg:tt)+) => {
        tracing::$lvl!(target: "raftlab::runtime", topic = "PEER", node = $me as u64, $($arg)+)
    };
}

/// One wake-up per peer: notified when that peer connects to this server.
pub type Wakes = Arc<Vec<Arc<Notify>>>;

/// The wake-ups of a cluster of `n` servers.
pub fn wakes(n: usize) -> Wakes {
    Arc::new((0..n).map(|_| Arc::new(Notify::new())).collect())
}

/// Accepts peers' connections to this server until the listener fails.
pub async fn accept<S: Service>(
    listener: TcpListener,
    me: Me,
    max_frame: usize,
    wakes: Wakes,
    events: mpsc::UnboundedSender<Event<S>>,
) {
    loop {
        match listener.accept().await {
            Ok((stream, addr)) => {
                let _ = stream.set_nodelay(true);
                let (events, wakes) = (events.clone(), wakes.clone());
                tokio::spawn(
                    async move { incoming(stream, addr, me, max_frame, wakes, events).await },
                );
            }
            Err(e) => {
                log!(warn, me.id, "accepting a peer connection failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn incoming<S: Service>(
    mut stream: TcpStream,
    addr: SocketAddr,
    me: Me,
    max_frame: usize,
    wakes: Wakes,
    events: mpsc::UnboundedSender<Event<S>>,
) {
    let hello = tokio::time::timeout(HANDSHAKE_TIMEOUT, wire::read_frame(&mut stream, 1024)).await;
    let from = match hello {
        Err(_) => {
            log!(
                warn,
                me.id,
                "closing the connection from {addr}: no handshake within {HANDSHAKE_TIMEOUT:?}"
            );
            return;
        }
        Ok(Ok(None)) => return,
        Ok(Err(e)) => {
            log!(
                warn,
                me.id,
                "closing the connection from {addr}: bad handshake frame: {e}"
            );
            return;
        }
        Ok(Ok(Some(bytes))) => match wire::decode::<Hello>("peer handshake", &bytes) {
            Err(e) => {
                log!(warn, me.id, "closing the connection from {addr}: {e}");
                return;
            }
            Ok(h) => match h.check(me) {
                Ok(from) => from,
                Err(reason) => {
                    log!(
                        warn,
                        me.id,
                        "refused a peer connection from {addr}: {reason}"
                    );
                    let refusal = wire::frame(&HelloReply::Refused(reason));
                    let _ = wire::write_frame(&mut stream, &refusal).await;
                    return;
                }
            },
        },
    };
    if wire::write_frame(&mut stream, &wire::frame(&HelloReply::Welcome))
        .await
        .is_err()
    {
        return;
    }
    if let Some(w) = wakes.get(from) {
        w.notify_one();
    }
    let mut frames = 0u64;
    loop {
        match wire::read_frame(&mut stream, max_frame).await {
            Ok(None) => return,
            Ok(Some(bytes)) => {
                frames += 1;
                match wire::decode::<PeerMsg<S::Op, S::Output>>("peer message", &bytes) {
                    Ok(msg) => {
                        if events.send(Event::Peer { from, msg }).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        log!(
                            warn,
                            me.id,
                            "closing the connection from S{from} ({addr}): frame {frames}: {e}"
                        );
                        return;
                    }
                }
            }
            Err(FrameError::Io(_)) => return,
            Err(e) => {
                log!(
                    warn,
                    me.id,
                    "closing the connection from S{from} ({addr}) after {frames} frames: {e}"
                );
                return;
            }
        }
    }
}

/// Keeps the connection to peer `to` at `addr` up and writes the frames queued on `rx`.
pub async fn run_link<S: Service>(
    me: Me,
    to: NodeId,
    addr: String,
    mut rx: mpsc::Receiver<Vec<u8>>,
    wake: Arc<Notify>,
    events: mpsc::UnboundedSender<Event<S>>,
) {
    let mut backoff = BACKOFF_MIN;
    let mut last_error = String::new();
    loop {
        match connect(me, to, &addr).await {
            Ok(stream) => {
                log!(info, me.id, "connected to S{to} at {addr}");
                last_error.clear();
                backoff = BACKOFF_MIN;
                while rx.try_recv().is_ok() {}
                if events.send(Event::PeerUp(to)).is_err() {
                    return;
                }
                let why = pump(stream, &mut rx).await;
                if events.send(Event::PeerDown(to)).is_err() {
                    return;
                }
                log!(info, me.id, "lost S{to} at {addr}: {why}");
                while rx.try_recv().is_ok() {}
                if rx.is_closed() {
                    return;
                }
            }
            Err(e) => {
                if e != last_error {
                    log!(info, me.id, "cannot reach S{to} at {addr}: {e}; retrying");
                    last_error = e;
                }
            }
        }
        let jitter = {
            let mut rng = rand::rng();
            rng.random_range(0..=backoff.as_millis() as u64 / 2)
        };
        tokio::select! {
            _ = tokio::time::sleep(backoff + Duration::from_millis(jitter)) => {
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
            // The peer just connected to us: it is up, try now.
            _ = wake.notified() => backoff = BACKOFF_MIN,
        }
        // Frames queued while down are stale; the core resends what matters.
        while rx.try_recv().is_ok() {}
    }
}

async fn connect(me: Me, to: NodeId, addr: &str) -> Result<TcpStream, String> {
    let mut stream = tokio::time::timeout(HANDSHAKE_TIMEOUT, TcpStream::connect(addr))
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| e.to_string())?;
    let _ = stream.set_nodelay(true);
    wire::write_frame(&mut stream, &wire::frame(&Hello::new(me, to)))
        .await
        .map_err(|e| format!("sending the handshake: {e}"))?;
    let reply = tokio::time::timeout(HANDSHAKE_TIMEOUT, wire::read_frame(&mut stream, 1 << 16))
        .await
        .map_err(|_| "no answer to the handshake".to_string())?
        .map_err(|e| format!("reading the handshake answer: {e}"))?
        .ok_or_else(|| "the peer closed the connection during the handshake".to_string())?;
    match wire::decode::<HelloReply>("handshake answer", &reply) {
        Ok(HelloReply::Welcome) => Ok(stream),
        Ok(HelloReply::Refused(reason)) => Err(format!("refused: {reason}")),
        Err(e) => Err(format!("not a raftlab server: {e}")),
    }
}

/// Writes queued frames until the connection fails or the queue closes; returns why.
async fn pump(mut stream: TcpStream, rx: &mut mpsc::Receiver<Vec<u8>>) -> String {
    let (mut read, mut write) = stream.split();
    let mut scratch = [0u8; 64];
    loop {
        tokio::select! {
            frame = rx.recv() => match frame {
                None => return "shutting down".into(),
                Some(f) => {
                    // Write whatever else is queued in the same system call.
                    let mut buf = f;
                    while buf.len() < 1 << 20 {
                        match rx.try_recv() {
                            Ok(more) => buf.extend_from_slice(&more),
                            Err(_) => break,
                        }
                    }
                    if let Err(e) = wire::write_frame(&mut write, &buf).await {
                        return e.to_string();
                    }
                }
            },
            r = read.read(&mut scratch) => match r {
                Ok(0) => return "connection closed by the peer".into(),
                Ok(_) => return "the peer wrote after its welcome".into(),
                Err(e) => return e.to_string(),
            },
        }
    }
}
