//! The one binary codec of raftlab.
//!
//! Every message, every piece of persistent state and every snapshot is encoded with
//! [postcard](https://docs.rs/postcard): a compact, stable (its wire format is frozen at
//! 1.0), varint-based serde format. The simulator counts RPC bytes with [`encoded_len`],
//! so the lab's byte budgets are measured in this codec's bytes.

use serde::{Serialize, de::DeserializeOwned};
use std::fmt;

/// A value could not be decoded: the bytes are corrupt, truncated or of another type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// What was being decoded (for example "raft persistent state").
    pub what: &'static str,
    /// How many bytes were offered.
    pub len: usize,
    /// The codec's own description of the problem.
    pub reason: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot decode {} from {} bytes: {}",
            self.what, self.len, self.reason
        )
    }
}

impl std::error::Error for DecodeError {}

/// Encodes a value. Encoding into memory cannot fail for raftlab's types (no maps with
/// non-string keys are rejected by postcard, and there is no I/O), so this returns bytes.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    match postcard::to_stdvec(value) {
        Ok(bytes) => bytes,
        // postcard only fails on types it cannot represent (e.g. sequences of unknown
        // length), which raftlab's derived types never are.
        Err(e) => unreachable!("postcard cannot encode a raftlab value: {e}"),
    }
}

/// The number of bytes [`encode`] would produce, without keeping them.
pub fn encoded_len<T: Serialize + ?Sized>(value: &T) -> usize {
    match postcard::experimental::serialized_size(value) {
        Ok(n) => n,
        Err(e) => unreachable!("postcard cannot size a raftlab value: {e}"),
    }
}

/// Decodes a value, requiring that every byte is used.
pub fn decode<T: DeserializeOwned>(what: &'static str, bytes: &[u8]) -> Result<T, DecodeError> {
    let err = |reason: String| DecodeError {
        what,
        len: bytes.len(),
        reason,
    };
    match postcard::take_from_bytes::<T>(bytes) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(err(format!("{} trailing bytes", rest.len()))),
        Err(e) => Err(err(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_len() {
        let v = (7u64, String::from("hello"), vec![1u32, 300, 70000]);
        let bytes = encode(&v);
        assert_eq!(encoded_len(&v), bytes.len());
        let back: (u64, String, Vec<u32>) = decode("tuple", &bytes).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn corrupt_and_trailing_bytes_are_errors() {
        let bytes = encode(&(1u64, String::from("abc")));
        let short = decode::<(u64, String)>("pair", &bytes[..bytes.len() - 1]).unwrap_err();
        assert_eq!(short.what, "pair");
        let mut long = bytes.clone();
        long.push(0);
        let e = decode::<(u64, String)>("pair", &long).unwrap_err();
        assert!(e.reason.contains("trailing"), "{e}");
    }
}
