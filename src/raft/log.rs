//! The replicated log, with its compacted prefix.
//!
//! Indices start at 1. Everything up to and including `snapshot_index` has been
//! compacted into a snapshot held by the service; the log remembers only that index
//! and its term (`snapshot_term`), so that the consistency check of AppendEntries still
//! works at the boundary. `entries[k]` holds index `snapshot_index + 1 + k`.

use serde::{Deserialize, Serialize};

use super::{Index, Term};
use crate::codec;

/// The number of bytes postcard uses for `v` as a varint.
pub(crate) fn varint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// One log entry: the term in which a leader received the command, and the command.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Entry<C> {
    /// The leader's term when the entry was created.
    pub term: Term,
    /// The service's command.
    pub command: C,
}

/// The log: a compacted prefix (index and term only) and the entries after it.
///
/// The log also keeps the encoded size of its entries, so that the size of the
/// persistent state is known without encoding it (`entry_bytes` is derived data: it is
/// not encoded, and is recounted when a log is decoded).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Log<C> {
    snapshot_index: Index,
    snapshot_term: Term,
    entries: Vec<Entry<C>>,
    #[serde(skip)]
    entry_bytes: usize,
}

impl<C> Default for Log<C> {
    fn default() -> Self {
        Log {
            snapshot_index: 0,
            snapshot_term: 0,
            entries: Vec::new(),
            entry_bytes: 0,
        }
    }
}

impl<C: Clone + Serialize> Log<C> {
    /// The last index covered by the snapshot (0 when there is none).
    pub fn snapshot_index(&self) -> Index {
        self.snapshot_index
    }

    /// The term of the entry at `snapshot_index` (0 when there is none).
    pub fn snapshot_term(&self) -> Term {
        self.snapshot_term
    }

    /// The index of the last entry (or of the snapshot when no entries follow it).
    pub fn last_index(&self) -> Index {
        self.snapshot_index + self.entries.len() as Index
    }

    /// The term of the last entry (or of the snapshot).
    pub fn last_term(&self) -> Term {
        self.entries.last().map_or(self.snapshot_term, |e| e.term)
    }

    /// The entries after the snapshot.
    pub fn entries(&self) -> &[Entry<C>] {
        &self.entries
    }

    /// The term at `index`, if the log knows it: the snapshot's own index or a
    /// retained entry. Compacted and future indices give `None`.
    pub fn term_at(&self, index: Index) -> Option<Term> {
        if index == self.snapshot_index {
            Some(self.snapshot_term)
        } else {
            self.entry(index).map(|e| e.term)
        }
    }

    /// The retained entry at `index`.
    pub fn entry(&self, index: Index) -> Option<&Entry<C>> {
        if index <= self.snapshot_index {
            return None;
        }
        self.entries.get((index - self.snapshot_index - 1) as usize)
    }

    /// The retained entries from `index` to the end (empty if `index` is past the end
    /// or compacted).
    pub fn entries_from(&self, index: Index) -> &[Entry<C>] {
        if index <= self.snapshot_index {
            return &[];
        }
        let start = ((index - self.snapshot_index - 1) as usize).min(self.entries.len());
        &self.entries[start..]
    }

    /// Appends one entry at `last_index() + 1`.
    pub fn push(&mut self, entry: Entry<C>) {
        self.entry_bytes += codec::encoded_len(&entry);
        self.entries.push(entry);
    }

    /// Removes every entry at `index` and after. Compacted entries are never removed.
    pub fn truncate_from(&mut self, index: Index) {
        let keep = (index.saturating_sub(self.snapshot_index + 1) as usize).min(self.entries.len());
        let removed: usize = self.entries[keep..].iter().map(codec::encoded_len).sum();
        self.entry_bytes -= removed;
        self.entries.truncate(keep);
    }

    /// The number of bytes the log takes in the encoded persistent state.
    pub fn encoded_len(&self) -> usize {
        varint_len(self.snapshot_index)
            + varint_len(self.snapshot_term)
            + varint_len(self.entries.len() as u64)
            + self.entry_bytes
    }

    /// Recomputes the derived size after decoding.
    pub(crate) fn recount(&mut self) {
        self.entry_bytes = self.entries.iter().map(codec::encoded_len).sum();
    }

    /// Discards everything up to `index`, which now belongs to a snapshot whose last
    /// entry has term `term`. Entries after `index` are kept only if the log holds
    /// `index` with that same term (otherwise they may conflict with the snapshot).
    pub fn compact_to(&mut self, index: Index, term: Term) {
        if index <= self.snapshot_index {
            return;
        }
        if self.term_at(index) == Some(term) {
            let drop = (index - self.snapshot_index) as usize;
            let removed: usize = self.entries[..drop].iter().map(codec::encoded_len).sum();
            self.entry_bytes -= removed;
            self.entries.drain(..drop);
        } else {
            self.entries.clear();
            self.entry_bytes = 0;
        }
        self.snapshot_index = index;
        self.snapshot_term = term;
    }

    /// The first retained index of the run of entries with the same term as `index`,
    /// walking back from `index`: never below `snapshot_index + 1`, even when the
    /// snapshot's term is the run's term (the follower's fast-backup hint,
    /// `AppendOutcome::Mismatch::first_index`). The snapshot's own index gives
    /// `snapshot_index + 1`; an index the log does not know is returned as it is.
    pub fn first_index_of_run(&self, index: Index) -> Index {
        let first_retained = self.snapshot_index + 1;
        if index == self.snapshot_index {
            return first_retained;
        }
        let Some(term) = self.term_at(index) else {
            return index;
        };
        // The walk stops at the first retained entry by itself (no clamp after it), so
        // each bound of the loop is pinned by `runs_stop_at_the_first_retained_entry`.
        let mut first = index;
        while first > first_retained && self.term_at(first - 1) == Some(term) {
            first -= 1;
        }
        first
    }

    /// The last retained index whose entry has term `term`.
    pub fn last_index_of_term(&self, term: Term) -> Option<Index> {
        self.entries
            .iter()
            .rposition(|e| e.term == term)
            .map(|k| self.snapshot_index + 1 + k as Index)
    }

    /// Checks the invariants a decoded log must keep: terms never decrease.
    pub fn check(&self) -> Result<(), String> {
        let mut prev = self.snapshot_term;
        for (k, e) in self.entries.iter().enumerate() {
            if e.term < prev {
                return Err(format!(
                    "log entry at index {} has term {} below the term {} before it",
                    self.snapshot_index + 1 + k as Index,
                    e.term,
                    prev
                ));
            }
            prev = e.term;
        }
        if self.snapshot_index == 0 && self.snapshot_term != 0 {
            return Err(format!(
                "snapshot index 0 with snapshot term {}",
                self.snapshot_term
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_of(terms: &[Term]) -> Log<u32> {
        let mut log = Log::default();
        for (i, &t) in terms.iter().enumerate() {
            log.push(Entry {
                term: t,
                command: i as u32 + 1,
            });
        }
        log
    }

    #[test]
    fn indexing_starts_at_one() {
        let log = log_of(&[1, 1, 2]);
        assert_eq!(log.last_index(), 3);
        assert_eq!(log.last_term(), 2);
        assert_eq!(log.term_at(0), Some(0));
        assert_eq!(log.term_at(3), Some(2));
        assert_eq!(log.term_at(4), None);
        assert_eq!(log.entry(1).map(|e| e.command), Some(1));
        assert_eq!(log.entries_from(2).len(), 2);
        assert_eq!(log.entries_from(9).len(), 0);
    }

    #[test]
    fn compaction_keeps_matching_suffix() {
        let mut log = log_of(&[1, 1, 2, 3]);
        log.compact_to(2, 1);
        assert_eq!(log.snapshot_index(), 2);
        assert_eq!(log.term_at(2), Some(1));
        assert_eq!(log.term_at(1), None);
        assert_eq!(log.last_index(), 4);
        assert_eq!(log.entry(3).map(|e| e.command), Some(3));
        // A snapshot that does not match the log discards the whole log.
        log.compact_to(5, 7);
        assert_eq!(log.last_index(), 5);
        assert_eq!(log.entries().len(), 0);
        assert_eq!(log.last_term(), 7);
        // Compacting backwards is a no-op.
        log.compact_to(3, 1);
        assert_eq!(log.snapshot_index(), 5);
    }

    #[test]
    fn runs_and_truncation() {
        let mut log = log_of(&[1, 2, 2, 2, 3]);
        assert_eq!(log.first_index_of_run(4), 2);
        assert_eq!(log.last_index_of_term(2), Some(4));
        assert_eq!(log.last_index_of_term(9), None);
        log.truncate_from(3);
        assert_eq!(log.last_index(), 2);
        log.compact_to(1, 1);
        log.truncate_from(1);
        assert_eq!(log.last_index(), 1, "compacted entries stay");
    }

    #[test]
    fn runs_stop_at_the_first_retained_entry() {
        // No snapshot: a run reaching index 1 stops there (index 0 has term 0).
        let log = log_of(&[2, 2, 3]);
        assert_eq!(log.first_index_of_run(2), 1);
        assert_eq!(log.first_index_of_run(3), 3);
        assert_eq!(log.first_index_of_run(0), 1);
        assert_eq!(log.first_index_of_run(4), 4, "unknown index: as it is");
        // A snapshot through 2 of term 2, then entries 3..=5 of terms 2, 2, 4: the run
        // of term 2 continues into the snapshot, but the hint is the first retained
        // index, 3, not the snapshot's 2.
        let mut log = log_of(&[1, 2, 2, 2, 4]);
        log.compact_to(2, 2);
        assert_eq!(log.first_index_of_run(4), 3);
        assert_eq!(log.first_index_of_run(3), 3);
        assert_eq!(log.first_index_of_run(5), 5);
        assert_eq!(log.first_index_of_run(2), 3, "the snapshot's own index");
        assert_eq!(log.first_index_of_run(1), 1, "compacted: as it is");
        // A snapshot of another term: the run stops at the first retained entry too.
        let mut log = log_of(&[1, 1, 3, 3]);
        log.compact_to(2, 1);
        assert_eq!(log.first_index_of_run(4), 3);
    }

    #[test]
    fn encoded_len_is_exact() {
        let mut log = log_of(&[1, 1, 2, 3, 3, 3]);
        for _ in 0..300 {
            log.push(Entry {
                term: 4,
                command: 70_000,
            });
        }
        assert_eq!(log.encoded_len(), codec::encode(&log).len());
        log.truncate_from(100);
        assert_eq!(log.encoded_len(), codec::encode(&log).len());
        log.compact_to(50, 4);
        assert_eq!(log.encoded_len(), codec::encode(&log).len());
        log.compact_to(500, 9);
        assert_eq!(log.encoded_len(), codec::encode(&log).len());
    }

    #[test]
    fn check_rejects_decreasing_terms() {
        assert!(log_of(&[1, 2, 2]).check().is_ok());
        assert!(log_of(&[2, 1]).check().is_err());
    }
}
