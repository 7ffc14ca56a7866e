//! The models shipped with the checker.
//!
//! - [`kv::KvModel`]: the lab's key/value store (get, put, append, and the Lab 2
//!   append that returns the old value), one partition per key;
//! - [`map::MapModel`]: the same operations over the whole map, unpartitioned;
//! - [`register::Register`]: one register with read, write and compare-and-set,
//!   whose value may be absent;
//! - [`set::SetModel`]: a set of strings with add, remove, contains and read;
//! - [`mutex::MutexModel`]: a lock with acquire and release (Jepsen's lock
//!   workloads, Knossos's `mutex`);
//! - [`txn::MultiRegister`] and [`txn::ListAppend`]: transactions of reads and
//!   writes over many registers (Knossos's multi-register, Elle's rw-register), or
//!   of appends and reads over many lists (Elle's list-append), partitioned into
//!   the connected components of their keys;
//! - [`independent::Independent`]: any of these once per key (Jepsen's
//!   `jepsen.independent`), and [`independent::StartingAt`]: any of these from a
//!   chosen initial state.
//!
//! [`value::Value`] is the key/value model's compact state: a string built by
//! appends that shares its prefix with the state it came from.

pub mod independent;
pub mod kv;
pub mod map;
pub mod mutex;
pub mod register;
pub mod set;
pub mod txn;
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
