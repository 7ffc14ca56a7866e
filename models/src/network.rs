//! The network of a cluster model: the messages in flight, as a multiset.
//!
//! A message is an [`Envelope`] (sender, receiver, payload). The same envelope may be in
//! flight several times (a resend, or a duplicate the model made), so the network is a
//! multiset, kept as a sorted vector of `(envelope, count)`: two states with the same
//! messages in flight are equal and hash alike whatever order the messages were sent
//! in, and iterating it is deterministic (no hash-map order anywhere).
//!
//! Envelopes are kept behind [`Arc`]: a successor state shares every message its
//! parent had in flight, and the actions that name a message share it too, so a
//! message is copied only when it is delivered (its receiver takes it by value).

use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Arc;

use crate::NodeId;

/// A message from one node to another.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Envelope<M> {
    /// The sender.
    pub from: NodeId,
    /// The receiver.
    pub to: NodeId,
    /// The payload.
    pub msg: M,
}

/// The messages in flight: a multiset of envelopes, sorted.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Network<M> {
    /// Each distinct envelope once, in increasing order, with how many copies are in
    /// flight (at least one).
    entries: Vec<(Arc<Envelope<M>>, u32)>,
    /// The sum of the counts.
    len: usize,
}

impl<M> Default for Network<M> {
    fn default() -> Self {
        Network {
            entries: Vec::new(),
            len: 0,
        }
    }
}

impl<M: Clone + Ord + Hash + Debug> Network<M> {
    /// An empty network.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many messages are in flight, copies counted.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The distinct envelopes in flight with their number of copies, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&Envelope<M>, u32)> {
        self.entries.iter().map(|(e, n)| (&**e, *n))
    }

    /// The distinct envelopes in flight, shared, with their number of copies, in order.
    pub fn iter_shared(&self) -> impl Iterator<Item = (&Arc<Envelope<M>>, u32)> {
        self.entries.iter().map(|(e, n)| (e, *n))
    }

    /// How many copies of `envelope` are in flight.
    pub fn count(&self, envelope: &Envelope<M>) -> u32 {
        match self.entries.binary_search_by(|(e, _)| (**e).cmp(envelope)) {
            Ok(k) => self.entries[k].1,
            Err(_) => 0,
        }
    }

    /// Puts one more copy of `envelope` in flight.
    pub fn send(&mut self, envelope: Envelope<M>) {
        self.send_shared(Arc::new(envelope));
    }

    /// Puts one more copy of a shared envelope in flight.
    pub fn send_shared(&mut self, envelope: Arc<Envelope<M>>) {
        match self
            .entries
            .binary_search_by(|(e, _)| (**e).cmp(&*envelope))
        {
            Ok(k) => self.entries[k].1 += 1,
            Err(k) => self.entries.insert(k, (envelope, 1)),
        }
        self.len += 1;
    }

    /// Puts `envelope` in flight unless it already is (a network that may deliver
    /// any message again holds each once, see [`crate::cluster::Duplicates`]).
    pub fn send_once(&mut self, envelope: Envelope<M>) {
        if let Err(k) = self.entries.binary_search_by(|(e, _)| (**e).cmp(&envelope)) {
            self.entries.insert(k, (Arc::new(envelope), 1));
            self.len += 1;
        }
    }

    /// Takes one copy of `envelope` out of flight (to deliver or drop it). Returns
    /// whether there was one.
    pub fn take(&mut self, envelope: &Envelope<M>) -> bool {
        match self.entries.binary_search_by(|(e, _)| (**e).cmp(envelope)) {
            Ok(k) => {
                if self.entries[k].1 > 1 {
                    self.entries[k].1 -= 1;
                } else {
                    self.entries.remove(k);
                }
                self.len -= 1;
                true
            }
            Err(_) => false,
        }
    }

    /// Keeps in flight only the envelopes for which `keep` says true (every copy of
    /// the others is taken out).
    pub fn retain(&mut self, mut keep: impl FnMut(&Envelope<M>) -> bool) {
        let mut removed = 0;
        self.entries.retain(|(e, n)| {
            let kept = keep(e);
            if !kept {
                removed += *n as usize;
            }
            kept
        });
        self.len -= removed;
    }

    /// The same network with every envelope passed through `f` (used to rename node
    /// ids); the result is sorted again and equal envelopes are merged.
    pub fn map(&self, mut f: impl FnMut(&Envelope<M>) -> Envelope<M>) -> Self {
        let mut entries: Vec<(Envelope<M>, u32)> =
            self.entries.iter().map(|(e, n)| (f(e), *n)).collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut merged: Vec<(Arc<Envelope<M>>, u32)> = Vec::with_capacity(entries.len());
        for (e, n) in entries {
            match merged.last_mut() {
                Some((last, m)) if **last == e => *m += n,
                _ => merged.push((Arc::new(e), n)),
            }
        }
        Network {
            entries: merged,
            len: self.len,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(from: NodeId, to: NodeId, msg: u8) -> Envelope<u8> {
        Envelope { from, to, msg }
    }

    #[test]
    fn order_of_sends_does_not_matter() {
        let mut a = Network::new();
        a.send(env(0, 1, 5));
        a.send(env(1, 0, 3));
        a.send(env(0, 1, 5));
        let mut b = Network::new();
        b.send(env(0, 1, 5));
        b.send(env(0, 1, 5));
        b.send(env(1, 0, 3));
        assert_eq!(a, b);
        assert_eq!(a.len(), 3);
        assert_eq!(a.count(&env(0, 1, 5)), 2);
    }

    #[test]
    fn take_removes_one_copy() {
        let mut a = Network::new();
        a.send(env(0, 1, 5));
        a.send(env(0, 1, 5));
        assert!(a.take(&env(0, 1, 5)));
        assert_eq!(a.count(&env(0, 1, 5)), 1);
        assert!(a.take(&env(0, 1, 5)));
        assert!(!a.take(&env(0, 1, 5)));
        assert!(a.is_empty());
    }

    #[test]
    fn send_once_keeps_one_copy() {
        let mut a = Network::new();
        a.send_once(env(0, 1, 5));
        a.send_once(env(1, 0, 3));
        a.send_once(env(0, 1, 5));
        assert_eq!(a.len(), 2);
        assert_eq!(a.count(&env(0, 1, 5)), 1);
        assert!(a.take(&env(0, 1, 5)));
        assert_eq!(a.count(&env(0, 1, 5)), 0);
    }

    #[test]
    fn retain_takes_every_copy_of_the_others() {
        let mut a = Network::new();
        a.send(env(0, 1, 5));
        a.send(env(0, 1, 5));
        a.send(env(1, 0, 3));
        a.send(env(2, 0, 4));
        a.retain(|e| e.to != 1);
        assert_eq!(a.len(), 2);
        assert_eq!(a.count(&env(0, 1, 5)), 0);
        assert_eq!(a.count(&env(1, 0, 3)), 1);
        a.retain(|_| true);
        assert_eq!(a.len(), 2);
        a.retain(|_| false);
        assert!(a.is_empty());
    }

    #[test]
    fn map_merges_equal_envelopes() {
        let mut a = Network::new();
        a.send(env(0, 1, 5));
        a.send(env(1, 0, 5));
        let swapped = a.map(|e| env(1 - e.from, 1 - e.to, e.msg));
        assert_eq!(swapped, a);
        let all_same = a.map(|e| env(0, 1, e.msg));
        assert_eq!(all_same.count(&env(0, 1, 5)), 2);
        assert_eq!(all_same.iter().count(), 1);
    }
}
