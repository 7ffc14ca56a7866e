//! Your Raft: Lab 3 of MIT 6.5840, as a pure state machine.
//!
//! raftlab's drivers (the lab suite on the simulator, the model checker, the key/value
//! service of Lab 4) call the methods of [`RaftCore`] and carry out the `Output`s each
//! returns, in order: `Persist` (write to stable storage first), `Send` (an RPC to a
//! peer), `Reply` (the answer to the request being handled), `SetTimer`/`CancelTimer`,
//! and `Apply` (hand a committed command to the service). There are no threads, locks,
//! sleeps or channels here: time reaches you as `handle_timer`, the network as
//! `handle_request` and `handle_reply`.
//!
//! Each `todo!` below names what to write, with the lab's hints and what Figure 2 of
//! the extended Raft paper asks of it. `cargo test --release 3a` runs part 3A; start
//! with `handle_timer` (elections), then `handle_request` and `handle_reply` for
//! RequestVote.

// Remove once every field is used.
#![allow(dead_code, unused_variables)]

use std::sync::Arc;

use raftlab::raft::{
    Command, Config, Index, Log, NodeId, Output, PersistentState, RaftCore, RaftError, Reply,
    Request, RoleKind, StartResult, Term, Timer,
};

/// One Raft peer. `C` is the command type of the log (the lab tests' `Cmd` in Lab 3,
/// the key/value service's requests in Lab 4).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MyRaft<C> {
    /// `me`, `peers`, the timer ranges (`config.timing`), and the deliberate bug the
    /// tests may ask for (ignore it: it is for raftlab's own Raft).
    config: Config,

    // Persistent state on all servers (Figure 2). Persist it before you answer or send
    // anything that depends on it: a step that changes it starts with
    // `Output::Persist`, and `restore` reads it back after a crash.
    /// The latest term this server has seen.
    term: Term,
    /// The candidate that received this server's vote in `term`.
    voted_for: Option<NodeId>,
    /// The log (and, in 3D, the index and term of its compacted prefix).
    log: Log<C>,
    /// The service's latest snapshot (3D); empty when there is none.
    snapshot: Arc<[u8]>,

    // Volatile state (Figure 2).
    /// Follower, candidate or leader. Add what each role needs: the votes a candidate
    /// has, a leader's `next_index[]` and `match_index[]`.
    role: RoleKind,
    /// The highest index known to be committed. Apply each committed entry in the same
    /// step that commits it (`Output::Apply`), so this is also the last applied index.
    commit_index: Index,
}

impl<C: Command + Send + Sync + 'static> RaftCore<C> for MyRaft<C> {
    /// The lab's `Make()`: a server starting fresh (`raft_state` empty) or after a
    /// crash, from what its `Persist` outputs left in storage. Given: it reads back the
    /// state raftlab's storage keeps (3C: make sure your persists keep it right) and
    /// sets the election timer.
    fn restore(
        config: Config,
        raft_state: &[u8],
        snapshot: &[u8],
    ) -> Result<(Self, Vec<Output<C>>), RaftError> {
        config.validate().map_err(RaftError::Config)?;
        let state = if raft_state.is_empty() {
            PersistentState {
                term: 0,
                voted_for: None,
                log: Log::default(),
            }
        } else {
            PersistentState::decode(raft_state, &config).map_err(RaftError::Corrupt)?
        };
        let election = Output::SetTimer {
            timer: Timer::Election,
            after: config.timing.election,
        };
        let node = MyRaft {
            commit_index: state.log.snapshot_index(),
            config,
            term: state.term,
            voted_for: state.voted_for,
            log: state.log,
            snapshot: Arc::from(snapshot),
            role: RoleKind::Follower,
        };
        Ok((node, vec![election]))
    }

    fn handle_request(&mut self, from: NodeId, request: Request<C>) -> Vec<Output<C>> {
        todo!(
            "MyRaft::handle_request: answer peer {from}'s {} with exactly one \
             Output::Reply to it. \
             RequestVote (3A): reply false if its term < currentTerm; if votedFor is none \
             or the candidate, and the candidate's log is at least as up-to-date as yours \
             (last term, then last index), grant the vote and reset your election timer. \
             AppendEntries (3A heartbeats, 3B entries): reply false if term < currentTerm \
             or your log has no entry at prevLogIndex with prevLogTerm (say where the \
             conflict is, for the fast backup); delete a conflicting entry and all that \
             follow it, append new entries, set commitIndex = min(leaderCommit, index of \
             the last new entry). InstallSnapshot (3D): replace the log prefix and apply \
             the snapshot. Any RPC with a higher term: become follower of that term first.",
            request.method()
        )
    }

    fn handle_reply(&mut self, from: NodeId, reply: Reply) -> Vec<Output<C>> {
        todo!(
            "MyRaft::handle_reply: peer {from} answered with term {}. A higher term: step \
             down. A candidate counts granted votes and becomes leader on a majority (3A): \
             send AppendEntries to every peer at once and set the heartbeat timer. A \
             leader updates nextIndex/matchIndex, backs up and retries on a mismatch \
             (3B), and commits the highest index N of its own term that a majority has \
             matched (Figure 8). Ignore stale, duplicated and reordered replies.",
            reply.term()
        )
    }

    fn handle_timer(&mut self, timer: Timer) -> Vec<Output<C>> {
        todo!(
            "MyRaft::handle_timer({timer:?}): Election (3A): a follower or candidate that \
             heard from no leader or candidate it voted for starts an election: term + 1, \
             vote for itself, persist, send RequestVote to every peer, set the election \
             timer again (a fresh random timeout). Heartbeat (3A): a leader sends \
             AppendEntries to every peer and sets the heartbeat timer again. The model \
             checker fires any timer that is set, at any time: ignore one that makes no \
             sense in your role."
        )
    }

    fn start(&mut self, command: C) -> (StartResult, Vec<Output<C>>) {
        todo!(
            "MyRaft::start (3B): the lab's Start(command). Not the leader: return \
             Err(NotLeader {{ term, leader }}). The leader: append the command to its log \
             in its term, persist, send it to the followers, and return Ok((index, term))."
        )
    }

    fn snapshot_at(&mut self, index: Index, data: Vec<u8>) -> Vec<Output<C>> {
        todo!(
            "MyRaft::snapshot_at({index}) (3D): the service has snapshotted through index \
             {index}. Unless you already have a snapshot that far, discard the log through \
             there (Log::compact_to) and persist the snapshot with the Raft state \
             (LogWrite::Compacted, snapshot: Some(data))."
        )
    }

    // The read-only view: what the lab's checks and the model checker's properties
    // read. Keep these true to your state.

    fn config(&self) -> &Config {
        &self.config
    }

    fn term(&self) -> Term {
        self.term
    }

    fn voted_for(&self) -> Option<NodeId> {
        self.voted_for
    }

    fn role(&self) -> RoleKind {
        self.role
    }

    fn log(&self) -> &Log<C> {
        &self.log
    }

    fn commit_index(&self) -> Index {
        self.commit_index
    }

    fn snapshot(&self) -> &Arc<[u8]> {
        &self.snapshot
    }
}
