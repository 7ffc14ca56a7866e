//! The framing of one write-ahead-log file: a header, then checksummed records.
//!
//! ```text
//! file   := header record*
//! header := "RLWAL\0\0\x01" (8 bytes: magic and format version 1) | generation: u64 LE
//! record := len: u32 LE | len_crc: u32 LE | crc: u32 LE | payload (len bytes)
//! ```
//!
//! `len_crc` is the CRC-32C of the four length bytes and `crc` that of the payload, so a
//! damaged length is told apart from a record cut short. [`scan`] reads a whole file and
//! classifies its end:
//!
//! - a clean end: the last record ends at the end of the file;
//! - a **torn tail**: the file ends inside a record's header, or inside a payload whose
//!   length checks out, or in bytes that are all zero (space the file system allocated
//!   but the crash left unwritten). This is what a crash in the middle of an append
//!   leaves; the records before it are intact, and the tail is dropped;
//! - **corruption**: a header whose length fails its checksum, or a whole payload that
//!   fails its own, anywhere. A crash cannot produce either, so the file is refused,
//!   with the byte offset of the bad record.

use std::fmt;

/// The first 8 bytes of every log file: the magic and the format version.
pub const MAGIC: &[u8; 8] = b"RLWAL\0\0\x01";
/// The header's length: the magic and the generation.
pub const HEADER_LEN: usize = 16;
/// A record header's length.
pub const RECORD_HEADER_LEN: usize = 12;
/// The largest record payload (1 GiB): a length beyond it is damage, not data.
pub const MAX_RECORD: usize = 1 << 30;

/// Appends a record carrying `payload` to `out`.
pub fn frame(payload: &[u8], out: &mut Vec<u8>) {
    let len = (payload.len() as u32).to_le_bytes();
    out.extend_from_slice(&len);
    out.extend_from_slice(&crc32c::crc32c(&len).to_le_bytes());
    out.extend_from_slice(&crc32c::crc32c(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// A file's header: the magic and its generation.
pub fn header(generation: u64) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(MAGIC);
    h[8..].copy_from_slice(&generation.to_le_bytes());
    h
}

/// One record found by [`scan`]: its payload's place in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    /// The byte offset of the record (its header).
    pub offset: usize,
    /// The byte offset of its payload.
    pub payload: usize,
    /// The payload's length.
    pub len: usize,
}

/// How a file ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// The last record ends at the end of the file.
    Clean,
    /// The file ends in a record that a crash cut short, starting at `offset`.
    Torn {
        /// Where the torn record starts: the file is good up to here.
        offset: usize,
        /// Why it is taken for a torn write.
        why: &'static str,
    },
}

/// A file that cannot be read as a log, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damage {
    /// The byte offset of the damaged header or record.
    pub offset: usize,
    /// What is wrong there.
    pub reason: String,
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte offset {}: {}", self.offset, self.reason)
    }
}

/// What [`scan`] found in a file: its generation, its records and how it ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scan {
    /// The generation in the header.
    pub generation: u64,
    /// The intact records, in order.
    pub records: Vec<Found>,
    /// How the file ends.
    pub end: End,
}

/// Reads the framing of a whole log file.
pub fn scan(bytes: &[u8]) -> Result<Scan, Damage> {
    if bytes.len() < HEADER_LEN {
        return Err(Damage {
            offset: 0,
            reason: format!(
                "the file is {} bytes long, shorter than the {HEADER_LEN}-byte header \
                 (log files are created whole, so this is not a crash)",
                bytes.len()
            ),
        });
    }
    if &bytes[..8] != MAGIC {
        return Err(Damage {
            offset: 0,
            reason: "not a raftlab log file (bad magic or format version)".into(),
        });
    }
    let generation = u64::from_le_bytes(bytes[8..16].try_into().unwrap_or_default());
    let mut records = Vec::new();
    let mut at = HEADER_LEN;
    let end = loop {
        let rest = &bytes[at..];
        if rest.is_empty() {
            break End::Clean;
        }
        if rest.iter().all(|&b| b == 0) {
            break End::Torn {
                offset: at,
                why: "the rest of the file is zeros",
            };
        }
        if rest.len() < RECORD_HEADER_LEN {
            break End::Torn {
                offset: at,
                why: "the file ends inside a record header",
            };
        }
        let len_bytes: [u8; 4] = rest[..4].try_into().unwrap_or_default();
        let len_crc = u32::from_le_bytes(rest[4..8].try_into().unwrap_or_default());
        let crc = u32::from_le_bytes(rest[8..12].try_into().unwrap_or_default());
        if crc32c::crc32c(&len_bytes) != len_crc {
            return Err(Damage {
                offset: at,
                reason: "the record's length fails its checksum".into(),
            });
        }
        let len = u32::from_le_bytes(len_bytes) as usize;
        if len > MAX_RECORD {
            return Err(Damage {
                offset: at,
                reason: format!("a record of {len} bytes is larger than any raftlab writes"),
            });
        }
        let payload = &rest[RECORD_HEADER_LEN..];
        if payload.len() < len {
            break End::Torn {
                offset: at,
                why: "the file ends inside a record",
            };
        }
        if crc32c::crc32c(&payload[..len]) != crc {
            return Err(Damage {
                offset: at,
                reason: format!("the record's {len}-byte payload fails its checksum"),
            });
        }
        records.push(Found {
            offset: at,
            payload: at + RECORD_HEADER_LEN,
            len,
        });
        at += RECORD_HEADER_LEN + len;
    };
    Ok(Scan {
        generation,
        records,
        end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(payloads: &[&[u8]]) -> (Vec<u8>, Vec<usize>) {
        let mut out = header(7).to_vec();
        let mut starts = Vec::new();
        for p in payloads {
            starts.push(out.len());
            frame(p, &mut out);
        }
        (out, starts)
    }

    #[test]
    fn reads_back_what_it_framed() {
        let (bytes, starts) = file(&[b"one", b"", b"three"]);
        let s = scan(&bytes).unwrap();
        assert_eq!(s.generation, 7);
        assert_eq!(s.end, End::Clean);
        let offsets: Vec<usize> = s.records.iter().map(|r| r.offset).collect();
        assert_eq!(offsets, starts);
        let third = s.records[2];
        assert_eq!(&bytes[third.payload..third.payload + third.len], b"three");
    }

    #[test]
    fn a_cut_anywhere_in_the_last_record_is_a_torn_tail() {
        let (bytes, starts) = file(&[b"first", b"the last record"]);
        let last = starts[1];
        for cut in last + 1..bytes.len() {
            let s = scan(&bytes[..cut]).unwrap();
            assert_eq!(s.records.len(), 1, "cut at {cut}");
            assert!(
                matches!(s.end, End::Torn { offset, .. } if offset == last),
                "cut at {cut}: {:?}",
                s.end
            );
        }
        assert_eq!(scan(&bytes[..last]).unwrap().end, End::Clean);
    }

    #[test]
    fn zeros_after_the_last_record_are_a_torn_tail() {
        let (mut bytes, _) = file(&[b"a"]);
        let end = bytes.len();
        bytes.extend_from_slice(&[0; 100]);
        let s = scan(&bytes).unwrap();
        assert_eq!(s.records.len(), 1);
        assert!(matches!(s.end, End::Torn { offset, .. } if offset == end));
    }

    #[test]
    fn a_flipped_bit_before_the_tail_is_damage_at_its_record() {
        let (bytes, starts) = file(&[b"first record", b"second record", b"third"]);
        for (i, &start) in starts.iter().enumerate().take(2) {
            let end = starts[i + 1];
            for at in start..end {
                for bit in [0, 3, 7] {
                    let mut b = bytes.clone();
                    b[at] ^= 1 << bit;
                    let e = scan(&b).unwrap_err();
                    assert_eq!(e.offset, start, "bit {bit} of byte {at}: {e}");
                }
            }
        }
    }

    #[test]
    fn a_bad_header_is_damage() {
        let (mut bytes, _) = file(&[b"x"]);
        assert!(scan(&bytes[..10]).unwrap_err().reason.contains("shorter"));
        bytes[0] = b'X';
        assert_eq!(scan(&bytes).unwrap_err().offset, 0);
    }
}
