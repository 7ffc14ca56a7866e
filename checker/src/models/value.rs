//! [`Value`]: one key's value as the key/value model's states hold it.
//!
//! The search keeps every distinct state it reaches. With plain strings, a key that
//! grew by appends to a kilobyte costs a kilobyte per state, and each step copies it
//! and hashes it whole: on the 50-client benchmark history that was 660,000 states
//! and 350 MiB. A `Value` is instead a short chain of pieces shared between states:
//! an append adds one node that points to the value it extends and holds only the
//! appended piece, so a step costs the piece, not the value. Every
//! [`MAX_CHAIN`] appends the chain is flattened into one piece, which bounds the walk
//! that comparing or printing a value takes (and the depth of a drop).
//!
//! Each node caches the value's length and a polynomial hash of its bytes, extended
//! piece by piece, so hashing is O(1) and two values of different length or hash
//! compare unequal at once. Equal hashes are confirmed byte by byte: equality is
//! exact, never probabilistic.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Appends after which a chain is flattened into a single piece.
pub const MAX_CHAIN: u32 = 32;

/// The multiplier of the polynomial hash (odd, with well-mixed bits).
const BASE: u64 = 0x100_0000_01b3;

#[derive(Debug)]
struct Node {
    /// The value this one extends (`None` for a flat value).
    parent: Option<Arc<Node>>,
    /// The bytes this node adds after its parent.
    piece: Box<str>,
    /// Length of the whole value, in bytes.
    len: usize,
    /// Polynomial hash of the whole value.
    hash: u64,
    /// Nodes above the last flat one.
    depth: u32,
}

/// An immutable string built by appends, sharing its prefix with the value it
/// extends. The empty value allocates nothing.
#[derive(Clone, Debug, Default)]
pub struct Value(Option<Arc<Node>>);

fn extend_hash(mut hash: u64, bytes: &str) -> u64 {
    for &b in bytes.as_bytes() {
        hash = hash.wrapping_mul(BASE).wrapping_add(u64::from(b) + 1);
    }
    hash
}

impl Value {
    /// The empty value.
    pub fn new() -> Value {
        Value(None)
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |n| n.len)
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn hash_value(&self) -> u64 {
        self.0.as_ref().map_or(0, |n| n.hash)
    }

    /// This value followed by `s`.
    pub fn append(&self, s: &str) -> Value {
        if s.is_empty() {
            return self.clone();
        }
        let hash = extend_hash(self.hash_value(), s);
        let len = self.len() + s.len();
        let node = match &self.0 {
            Some(parent) if parent.depth + 1 < MAX_CHAIN => Node {
                parent: Some(parent.clone()),
                piece: s.into(),
                len,
                hash,
                depth: parent.depth + 1,
            },
            Some(_) => {
                let mut flat = String::with_capacity(len);
                flat.push_str(&self.to_string());
                flat.push_str(s);
                Node {
                    parent: None,
                    piece: flat.into(),
                    len,
                    hash,
                    depth: 0,
                }
            }
            None => Node {
                parent: None,
                piece: s.into(),
                len,
                hash,
                depth: 0,
            },
        };
        Value(Some(Arc::new(node)))
    }

    /// The pieces, last first.
    fn pieces_rev(&self) -> impl Iterator<Item = &str> {
        std::iter::successors(self.0.as_deref(), |n| n.parent.as_deref()).map(|n| &*n.piece)
    }

    /// Whether the value's bytes are exactly `s`.
    pub fn eq_str(&self, s: &str) -> bool {
        self.eq_bytes(s.as_bytes())
    }

    fn eq_bytes(&self, s: &[u8]) -> bool {
        if self.len() != s.len() {
            return false;
        }
        // From the end: values that differ usually differ in their last append.
        let mut end = s.len();
        for piece in self.pieces_rev() {
            let start = end - piece.len();
            if s[start..end] != *piece.as_bytes() {
                return false;
            }
            end = start;
        }
        true
    }

    /// Whether the value's bytes are a prefix of `s`.
    pub fn is_prefix_of(&self, s: &str) -> bool {
        self.len() <= s.len() && self.eq_bytes(&s.as_bytes()[..self.len()])
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pieces: Vec<&str> = self.pieces_rev().collect();
        for piece in pieces.iter().rev() {
            f.write_str(piece)?;
        }
        Ok(())
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (&self.0, &other.0) {
            (None, None) => true,
            (Some(a), Some(b)) if Arc::ptr_eq(a, b) => true,
            (Some(a), Some(b)) => {
                a.len == b.len && a.hash == b.hash && self.eq_str(&other.to_string())
            }
            _ => false,
        }
    }
}

impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash_value());
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::new().append(s)
    }
}

impl PartialEq<str> for Value {
    fn eq(&self, other: &str) -> bool {
        self.eq_str(other)
    }
}

impl PartialEq<&str> for Value {
    fn eq(&self, other: &&str) -> bool {
        self.eq_str(other)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;

    fn hash_of(v: &Value) -> u64 {
        let mut h = DefaultHasher::new();
        v.hash(&mut h);
        h.finish()
    }

    #[test]
    fn appends_read_back_in_order() {
        let mut v = Value::new();
        let mut s = String::new();
        for i in 0..200 {
            let piece = format!("x {i} y");
            v = v.append(&piece);
            s.push_str(&piece);
            assert_eq!(v.to_string(), s);
            assert_eq!(v.len(), s.len());
            assert!(v.eq_str(&s));
        }
        assert!(v.0.as_ref().unwrap().depth < MAX_CHAIN);
    }

    #[test]
    fn equal_bytes_are_equal_values_whatever_the_pieces() {
        let a = Value::from("ab").append("cd");
        let b = Value::from("a").append("bc").append("d");
        let c = Value::from("abcd");
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_eq!(hash_of(&a), hash_of(&c));
        assert_ne!(a, Value::from("abce"));
        assert_ne!(a, Value::from("abc"));
        assert_eq!(Value::new(), Value::from(""));
        assert!(Value::new().is_empty());
        assert_eq!(a, "abcd");
        assert!(!a.eq_str("abcx"));
        assert!(!a.eq_str("xbcd"));
        assert!(a.is_prefix_of("abcd") && a.is_prefix_of("abcde") && Value::new().is_prefix_of(""));
        assert!(!a.is_prefix_of("abc") && !a.is_prefix_of("abxde"));
        assert!(!Value::from("é").append("x").is_prefix_of("éy"));
        assert!(!Value::from("a").is_prefix_of("é"));
    }

    #[test]
    fn a_flattened_chain_equals_an_unflattened_one() {
        let mut long = Value::new();
        let mut short = Value::new();
        for i in 0..(3 * MAX_CHAIN) {
            long = long.append(&i.to_string());
        }
        let whole: String = (0..(3 * MAX_CHAIN)).map(|i| i.to_string()).collect();
        short = short.append(&whole);
        assert_eq!(long, short);
        assert_eq!(hash_of(&long), hash_of(&short));
    }
}
