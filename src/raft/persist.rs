//! What a Raft node keeps on stable storage, and how it is encoded.
//!
//! Figure 2's persistent state is `current_term`, `voted_for` and `log[]`; with log
//! compaction the log also carries its snapshot index and term. The snapshot bytes are
//! stored beside this state (the lab's `Persister::save(raftstate, snapshot)`), not in it.

use serde::{Deserialize, Serialize};

use super::config::Config;
use super::log::Log;
use super::{NodeId, Term};
use crate::codec::{self, DecodeError};

/// The encoded length of the term and the vote.
pub(crate) fn header_len(term: Term, voted_for: Option<NodeId>) -> usize {
    let vote = match voted_for {
        None => 1,
        Some(v) => 1 + super::log::varint_len(v as u64),
    };
    super::log::varint_len(term) + vote
}

/// The persistent state of a node.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PersistentState<C> {
    /// The latest term the node has seen.
    pub term: Term,
    /// The candidate it voted for in `term`, if any.
    pub voted_for: Option<NodeId>,
    /// Its log, with the index and term of its compacted prefix.
    pub log: Log<C>,
}

impl<C: Serialize + serde::de::DeserializeOwned + Clone> PersistentState<C> {
    /// The length of [`PersistentState::encode`]'s bytes, without encoding.
    pub fn encoded_len(&self) -> usize {
        header_len(self.term, self.voted_for) + self.log.encoded_len()
    }

    /// Encodes the state with raftlab's codec.
    pub fn encode(&self) -> Vec<u8> {
        codec::encode(self)
    }

    /// Decodes persisted bytes and checks them against the node's configuration. Corrupt,
    /// truncated or inconsistent bytes give an error that says what is wrong.
    pub fn decode(bytes: &[u8], config: &Config) -> Result<Self, DecodeError> {
        let mut state: Self = codec::decode("raft persistent state", bytes)?;
        state.log.recount();
        let bad = |reason: String| DecodeError {
            what: "raft persistent state",
            len: bytes.len(),
            reason,
        };
        if let Some(v) = state.voted_for
            && v >= config.peers
        {
            return Err(bad(format!(
                "field voted_for = {v} names no node of a {}-node cluster",
                config.peers
            )));
        }
        state
            .log
            .check()
            .map_err(|e| bad(format!("field log: {e}")))?;
        if state.log.last_term() > state.term {
            return Err(bad(format!(
                "field term = {} is below the last log term {}",
                state.term,
                state.log.last_term()
            )));
        }
        Ok(state)
    }
}
