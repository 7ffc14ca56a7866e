//! The models shipped with the checker.
//!
//! - [`kv::KvModel`]: the lab's key/value store (get, put, append, and the Lab 2
//!   append that returns the old value), one partition per key;
//! - [`map::MapModel`]: the same operations over the whole map, unpartitioned;
//! - [`register::Register`]: one register with read, write and compare-and-set,
//!   whose value may be absent;
//! - [`set::SetModel`]: a set of strings with add, remove, contains and read.
//!
//! [`value::Value`] is the key/value model's compact state: a string built by
//! appends that shares its prefix with the state it came from.

pub mod kv;
pub mod map;
pub mod register;
pub mod set;
pub mod value;

/// Quotes a string for operation descriptions: `'v'`, with `\` and `'` escaped.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}
