//! What servers say to each other over TCP: length-prefixed, checksummed frames in
//! raftlab's codec, the handshake that opens a connection, and the messages after it.
//!
//! ```text
//! frame := len: u32 LE | crc: u32 LE (CRC-32C of the payload) | payload (len bytes, postcard)
//! ```
//!
//! Server `a` opens one connection to each peer `b` and sends everything it has for `b`
//! on it: its Raft requests, its replies to `b`'s requests, clerk calls it forwards and
//! answers to the calls `b` forwarded. The first frame is a [`Hello`]; `b` answers
//! [`HelloReply::Welcome`] or [`HelloReply::Refused`] with the reason, and after a
//! welcome only [`PeerMsg`] frames follow, from `a` to `b`. `b` never writes on it again,
//! so `a` learns from the end of the stream that `b` died.
//!
//! A frame longer than the limit, one whose checksum fails or that does not decode, and
//! a handshake from a stranger (another cluster, an unknown server id, another protocol
//! version, or not a raftlab server at all) close that one connection; the server's state
//! is never touched.

use std::fmt;
use std::io;

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::codec;
use crate::raft::{self, NodeId};
use crate::rsm;

/// The peer protocol's version; a server refuses a peer of another version.
pub const PROTOCOL_VERSION: u16 = 1;

/// The magic number a [`Hello`] starts with ("RFTL").
pub const HELLO_MAGIC: u32 = 0x5246_544c;

/// The default limit on a frame's payload: 64 MiB, room for a large snapshot.
pub const DEFAULT_MAX_FRAME: usize = 64 << 20;

/// The first frame on a connection: who is calling whom.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// [`HELLO_MAGIC`].
    pub magic: u32,
    /// The caller's [`PROTOCOL_VERSION`].
    pub version: u16,
    /// The cluster the caller belongs to.
    pub cluster: u64,
    /// The caller's server id.
    pub from: u32,
    /// The server id the caller means to reach.
    pub to: u32,
}

/// The answer to a [`Hello`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HelloReply {
    /// Accepted: frames of [`PeerMsg`] may follow.
    Welcome,
    /// Refused, and why; the connection is closed.
    Refused(String),
}

/// What the receiving server knows about itself, to judge a [`Hello`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Me {
    /// The cluster id.
    pub cluster: u64,
    /// This server's id.
    pub id: NodeId,
    /// The number of servers.
    pub peers: usize,
}

impl Hello {
    /// The hello of server `from` of `me`'s cluster to server `to`.
    pub fn new(me: Me, to: NodeId) -> Hello {
        Hello {
            magic: HELLO_MAGIC,
            version: PROTOCOL_VERSION,
            cluster: me.cluster,
            from: me.id as u32,
            to: to as u32,
        }
    }

    /// Checks the hello against the receiver; the error says why it is refused.
    pub fn check(&self, me: Me) -> Result<NodeId, String> {
        if self.magic != HELLO_MAGIC {
            return Err("not a raftlab peer (wrong magic number)".into());
        }
        if self.version != PROTOCOL_VERSION {
            return Err(format!(
                "peer protocol version {}, this server speaks version {PROTOCOL_VERSION}",
                self.version
            ));
        }
        if self.cluster != me.cluster {
            return Err(format!(
                "cluster id {:#x}, this server belongs to cluster {:#x}",
                self.cluster, me.cluster
            ));
        }
        let from = self.from as usize;
        if from >= me.peers || from == me.id {
            return Err(format!(
                "unknown server id {} (this is server {} of {})",
                self.from, me.id, me.peers
            ));
        }
        if self.to as usize != me.id {
            return Err(format!(
                "addressed to server {}, but this is server {} (do the --peers lists agree?)",
                self.to, me.id
            ));
        }
        Ok(from)
    }
}

/// A message between servers after the handshake, for a service whose operations are
/// `O` and whose results are `R`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PeerMsg<O, R> {
    /// A Raft request.
    Raft(raft::Request<rsm::Request<O>>),
    /// A Raft reply to a request the receiver sent.
    RaftReply(raft::Reply),
    /// A clerk's request, forwarded by the server that holds the client's connection;
    /// `tag` comes back with the answer.
    Clerk {
        /// The forwarder's handle for the call.
        tag: u64,
        /// The request.
        request: rsm::Request<O>,
    },
    /// The answer to a forwarded clerk request.
    ClerkReply {
        /// The forwarder's handle, from [`PeerMsg::Clerk`].
        tag: u64,
        /// The answer.
        reply: rsm::Reply<R>,
    },
}

/// Why a frame could not be read.
#[derive(Debug)]
pub enum FrameError {
    /// The stream failed.
    Io(io::Error),
    /// The stream ended in the middle of a frame.
    Truncated {
        /// The bytes the frame should have had.
        expected: usize,
    },
    /// The frame's length is over the limit.
    Oversized {
        /// The length the frame announced.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The payload fails its checksum.
    Checksum {
        /// The payload's length.
        len: usize,
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Io(e) => write!(f, "{e}"),
            FrameError::Truncated { expected } => {
                write!(f, "the stream ended inside a frame of {expected} bytes")
            }
            FrameError::Oversized { len, max } => {
                write!(f, "a frame of {len} bytes is over the {max}-byte limit")
            }
            FrameError::Checksum { len } => {
                write!(f, "a frame of {len} bytes fails its checksum")
            }
        }
    }
}

impl std::error::Error for FrameError {}

/// Encodes a value as one frame.
pub fn frame<T: Serialize>(value: &T) -> Vec<u8> {
    let payload = codec::encode(value);
    let mut out = Vec::with_capacity(8 + payload.len());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32c::crc32c(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

/// Reads one frame's payload; `None` when the stream ends cleanly between frames.
pub async fn read_frame<R: AsyncRead + Unpin>(
    r: &mut R,
    max: usize,
) -> Result<Option<Vec<u8>>, FrameError> {
    let mut header = [0u8; 8];
    let mut got = 0;
    while got < header.len() {
        match r.read(&mut header[got..]).await {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(FrameError::Truncated { expected: 8 }),
            Ok(n) => got += n,
            Err(e) => return Err(FrameError::Io(e)),
        }
    }
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    if len > max {
        return Err(FrameError::Oversized { len, max });
    }
    let mut payload = vec![0u8; len];
    if let Err(e) = r.read_exact(&mut payload).await {
        return Err(if e.kind() == io::ErrorKind::UnexpectedEof {
            FrameError::Truncated { expected: len }
        } else {
            FrameError::Io(e)
        });
    }
    if crc32c::crc32c(&payload) != crc {
        return Err(FrameError::Checksum { len });
    }
    Ok(Some(payload))
}

/// Writes a frame made by [`frame`].
pub async fn write_frame<W: AsyncWrite + Unpin>(w: &mut W, frame: &[u8]) -> io::Result<()> {
    w.write_all(frame).await?;
    w.flush().await
}

/// Decodes a frame's payload.
pub fn decode<T: DeserializeOwned>(
    what: &'static str,
    payload: &[u8],
) -> Result<T, codec::DecodeError> {
    codec::decode(what, payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: Me = Me {
        cluster: 7,
        id: 1,
        peers: 3,
    };

    fn block<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn frames_round_trip_and_end_cleanly() {
        let msg: PeerMsg<String, String> = PeerMsg::ClerkReply {
            tag: 9,
            reply: rsm::Reply::Ok("v".into()),
        };
        let mut bytes = frame(&msg);
        bytes.extend(frame(&HelloReply::Welcome));
        block(async {
            let mut r = &bytes[..];
            let a = read_frame(&mut r, 1024).await.unwrap().unwrap();
            assert_eq!(decode::<PeerMsg<String, String>>("m", &a).unwrap(), msg);
            let b = read_frame(&mut r, 1024).await.unwrap().unwrap();
            assert_eq!(decode::<HelloReply>("h", &b).unwrap(), HelloReply::Welcome);
            assert!(read_frame(&mut r, 1024).await.unwrap().is_none());
        });
    }

    #[test]
    fn bad_frames_are_errors_not_panics() {
        block(async {
            let big = [0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0];
            let e = read_frame(&mut &big[..], 1024).await.unwrap_err();
            assert!(matches!(
                e,
                FrameError::Oversized {
                    len: 0x7fff_ffff,
                    max: 1024
                }
            ));
            let mut f = frame(&"hello".to_string());
            let last = f.len() - 1;
            f[last] ^= 1;
            let e = read_frame(&mut &f[..], 1024).await.unwrap_err();
            assert!(matches!(e, FrameError::Checksum { .. }), "{e}");
            let f = frame(&"hello".to_string());
            for cut in 1..f.len() {
                let e = read_frame(&mut &f[..cut], 1024).await.unwrap_err();
                assert!(matches!(e, FrameError::Truncated { .. }), "cut {cut}: {e}");
            }
        });
        // Garbage that frames correctly still fails to decode as a message.
        let junk = codec::encode(&(u64::MAX, "junk"));
        assert!(decode::<PeerMsg<String, String>>("peer message", &junk).is_err());
    }

    #[test]
    fn the_handshake_names_what_is_wrong() {
        let ok = Hello::new(Me { id: 0, ..ME }, 1);
        assert_eq!(ok.check(ME), Ok(0));
        let cases = [
            (
                Hello {
                    magic: 1,
                    ..ok.clone()
                },
                "wrong magic",
            ),
            (
                Hello {
                    version: 9,
                    ..ok.clone()
                },
                "protocol version 9",
            ),
            (
                Hello {
                    cluster: 8,
                    ..ok.clone()
                },
                "cluster id 0x8",
            ),
            (
                Hello {
                    from: 3,
                    ..ok.clone()
                },
                "unknown server id 3",
            ),
            (
                Hello {
                    from: 1,
                    ..ok.clone()
                },
                "unknown server id 1",
            ),
            (
                Hello {
                    to: 2,
                    ..ok.clone()
                },
                "addressed to server 2",
            ),
        ];
        for (h, want) in cases {
            let e = h.check(ME).unwrap_err();
            assert!(e.contains(want), "{e} does not say {want}");
        }
    }
}
