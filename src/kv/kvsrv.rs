//! The Lab 2 key/value server: one node, no replication. Append returns the value
//! before the append; duplicate detection makes retries over an unreliable network
//! take effect once.

use super::store::KvStore;
use super::{Reply, Request};

/// The Lab 2 server.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct KvSrv {
    store: KvStore,
}

impl KvSrv {
    /// An empty server.
    pub fn new() -> Self {
        Self::default()
    }

    /// Handles a clerk's request (Get, Put or AppendReturningOld) and answers at once.
    pub fn handle(&mut self, request: Request) -> Reply {
        Reply::Ok(self.store.apply(request))
    }

    /// The state machine.
    pub fn store(&self) -> &KvStore {
        &self.store
    }
}
