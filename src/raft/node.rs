//! The Raft node: a plain value whose methods are the protocol's state transitions.
//!
//! Every input is a method call that returns the node's effects as a `Vec<Output>`, in
//! the order the driver must carry them out. A step that changed persistent state
//! begins with [`Output::Persist`], so nothing the step sends or replies can be seen
//! before the state that justifies it is durable.

use std::sync::Arc;

use serde::{Serialize, de::DeserializeOwned};
use std::fmt::Debug;
use std::hash::Hash;

use super::config::{Bug, Config};
use super::log::{Entry, Log};
use super::message::{
    AppendEntries, AppendOutcome, AppendReply, InstallSnapshot, Reply, Request, RequestVote,
    SnapshotReply, VoteReply,
};
use super::output::{Apply, LogWrite, Output, Persist, Timer};
use super::persist::PersistentState;
use super::{Index, NodeId, NodeSet, Term};
use crate::codec::DecodeError;

/// What a Raft log can hold: any value that can be cloned, compared, hashed (for the
/// model checker) and encoded.
pub trait Command: Clone + Debug + Eq + Hash + Serialize + DeserializeOwned {}

impl<T: Clone + Debug + Eq + Hash + Serialize + DeserializeOwned> Command for T {}

/// A node's role and the volatile state that only that role has.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Follows the leader of the current term (if it knows one).
    Follower,
    /// Asks for votes in the current term.
    Candidate {
        /// The nodes that granted their vote, this one included.
        votes: NodeSet,
    },
    /// Replicates its log to the others.
    Leader {
        /// For each node, the index of the next entry to send it.
        next_index: Vec<Index>,
        /// For each node, the highest index known to match this log (for this node
        /// itself: its last index).
        match_index: Vec<Index>,
        /// The nodes with an AppendEntries or InstallSnapshot outstanding. `start` does
        /// not send to them (their reply, or the next heartbeat, carries the new
        /// entries), so a slow or unreachable peer gets one request per heartbeat, not
        /// one per command.
        in_flight: NodeSet,
    },
}

/// What `start` returns: the index and term the command will have if it commits, or
/// the refusal of a node that is not the leader.
pub type StartResult = Result<(Index, Term), NotLeader>;

/// `start` was called on a node that is not the leader.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NotLeader {
    /// The node's current term.
    pub term: Term,
    /// The leader of that term, if the node has heard from it.
    pub leader: Option<NodeId>,
}

/// A node could not be created or restored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RaftError {
    /// The configuration is invalid; the text names the field.
    Config(String),
    /// The persisted state could not be decoded.
    Corrupt(DecodeError),
    /// The persisted state says the log is compacted, but no snapshot was stored.
    MissingSnapshot {
        /// The compacted index the state names.
        snapshot_index: Index,
    },
}

impl std::fmt::Display for RaftError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RaftError::Config(e) => write!(f, "invalid raft config: {e}"),
            RaftError::Corrupt(e) => write!(f, "{e}"),
            RaftError::MissingSnapshot { snapshot_index } => write!(
                f,
                "raft state says the log is compacted through index {snapshot_index}, but the stored snapshot is empty"
            ),
        }
    }
}

impl std::error::Error for RaftError {}

/// One Raft peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Raft<C> {
    config: Config,
    // Persistent state.
    term: Term,
    voted_for: Option<NodeId>,
    log: Log<C>,
    snapshot: Arc<[u8]>,
    // Volatile state.
    role: Role,
    /// Committed and applied through here: a step that advances it emits the applies at
    /// once, so `commit_index` is also the last applied index.
    commit_index: Index,
    leader: Option<NodeId>,
}

/// Hashes everything but the configuration: it is fixed for the life of a node (the
/// model checker, which hashes every state it meets, would otherwise hash the same
/// timing ranges in every node of every state). Equal nodes still hash alike, which
/// is all `Hash` asks.
impl<C: Hash> Hash for Raft<C> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        // Destructured, so that a field added later is not silently left out.
        let Raft {
            config: _,
            term,
            voted_for,
            log,
            snapshot,
            role,
            commit_index,
            leader,
        } = self;
        term.hash(h);
        voted_for.hash(h);
        log.hash(h);
        snapshot.hash(h);
        role.hash(h);
        commit_index.hash(h);
        leader.hash(h);
    }
}

/// Node `i` renamed by `map` (`map[old] = new`); an id outside the cluster (a hostile
/// AppendEntries can name one as leader) keeps its name.
fn renamed_id(map: &[NodeId], i: NodeId) -> NodeId {
    map.get(i).copied().unwrap_or(i)
}

/// A set of nodes renamed by `map`.
fn renamed_set(map: &[NodeId], set: &NodeSet) -> NodeSet {
    let mut out = NodeSet::default();
    set.iter().for_each(|i| out.insert(renamed_id(map, i)));
    out
}

/// Whether a leader sends to a peer that already has a request outstanding.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Send {
    /// Heartbeats, elections, and answers to replies: always send.
    Always,
    /// `start`: leave peers with a request outstanding to their reply or the heartbeat.
    UnlessInFlight,
}

/// How the log changed in a step.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LogChange {
    None,
    /// Entries from this index on were written (or removed).
    From(Index),
    /// The log was compacted.
    Compacted,
}

/// The effects of one step, gathered before the persist record is put in front.
struct Step<C> {
    out: Vec<Output<C>>,
    /// The term, the vote or the log changed.
    persist: bool,
    log: LogChange,
}

impl<C> Step<C> {
    fn new() -> Self {
        Step {
            out: Vec::new(),
            persist: false,
            log: LogChange::None,
        }
    }

    /// Entries from `index` on changed.
    fn wrote_from(&mut self, index: Index) {
        self.persist = true;
        self.log = match self.log {
            LogChange::None => LogChange::From(index),
            LogChange::From(i) => LogChange::From(i.min(index)),
            LogChange::Compacted => LogChange::Compacted,
        };
    }

    /// The log was compacted.
    fn compacted(&mut self) {
        self.persist = true;
        self.log = LogChange::Compacted;
    }
}

macro_rules! event {
    ($topic:literal, $me:expr, $($arg:tt)+) => {
        tracing::debug!(target: "raftlab", topic = $topic, node = $me as u64, $($arg)+)
    };
}

impl<C: Command> Raft<C> {
    /// A fresh node (no persisted state), and its first outputs (the election timer).
    pub fn new(config: Config) -> Result<(Self, Vec<Output<C>>), RaftError> {
        Self::restore(config, &[], &[])
    }

    /// A node recovered from what it persisted: `raft_state` as saved by an
    /// [`Output::Persist`] (empty for a fresh node) and the snapshot saved with it.
    pub fn restore(
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
        if state.log.snapshot_index() > 0 && snapshot.is_empty() {
            return Err(RaftError::MissingSnapshot {
                snapshot_index: state.log.snapshot_index(),
            });
        }
        let commit_index = state.log.snapshot_index();
        let mut raft = Raft {
            config,
            term: state.term,
            voted_for: state.voted_for,
            log: state.log,
            snapshot: Arc::from(snapshot),
            role: Role::Follower,
            commit_index,
            leader: None,
        };
        event!(
            "PERS",
            raft.config.me,
            "restored: term {} voted_for {:?} log {}..={}",
            raft.term,
            raft.voted_for,
            raft.log.snapshot_index(),
            raft.log.last_index()
        );
        let mut s = Step::new();
        if raft.bug(Bug::CommitAllOnRestart) {
            let last = raft.log.last_index();
            raft.commit_to(last, &mut s);
        }
        raft.set_election_timer(&mut s);
        Ok((raft, s.out))
    }

    // ----- Queries -------------------------------------------------------------------

    /// The node's configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The node's id.
    pub fn me(&self) -> NodeId {
        self.config.me
    }

    /// The current term.
    pub fn term(&self) -> Term {
        self.term
    }

    /// Whether this node believes it is the leader of its current term.
    pub fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leader { .. })
    }

    /// The lab's `GetState()`: the current term and whether this node is leader.
    pub fn state(&self) -> (Term, bool) {
        (self.term, self.is_leader())
    }

    /// The role and its volatile state.
    pub fn role(&self) -> &Role {
        &self.role
    }

    /// The candidate voted for in the current term.
    pub fn voted_for(&self) -> Option<NodeId> {
        self.voted_for
    }

    /// The log.
    pub fn log(&self) -> &Log<C> {
        &self.log
    }

    /// The index through which entries are committed and applied.
    pub fn commit_index(&self) -> Index {
        self.commit_index
    }

    /// The leader of the current term, if this node has heard from it (itself when it
    /// is the leader).
    pub fn leader(&self) -> Option<NodeId> {
        self.leader
    }

    /// The current snapshot's bytes (empty when there is none).
    pub fn snapshot(&self) -> &Arc<[u8]> {
        &self.snapshot
    }

    /// The persistent state as it stands (what the next [`Output::Persist`] would hold).
    pub fn persistent_state(&self) -> PersistentState<C> {
        PersistentState {
            term: self.term,
            voted_for: self.voted_for,
            log: self.log.clone(),
        }
    }

    // ----- Inputs --------------------------------------------------------------------

    /// Handles a request from peer `from`. The outputs contain exactly one
    /// [`Output::Reply`] to `from`.
    pub fn handle_request(&mut self, from: NodeId, request: Request<C>) -> Vec<Output<C>> {
        let mut s = Step::new();
        let reply = match request {
            Request::RequestVote(a) => Reply::RequestVote(self.on_request_vote(a, &mut s)),
            Request::AppendEntries(a) => Reply::AppendEntries(self.on_append_entries(a, &mut s)),
            Request::InstallSnapshot(a) => {
                Reply::InstallSnapshot(self.on_install_snapshot(a, &mut s))
            }
        };
        // Applies already sit in `s.out`; the reply goes after them, and the persist
        // marker (if any) before everything.
        s.out.push(Output::Reply { to: from, reply });
        self.finish(s)
    }

    /// Handles a reply from peer `from` to an earlier request of this node. Stale,
    /// duplicated and reordered replies are recognized and ignored.
    pub fn handle_reply(&mut self, from: NodeId, reply: Reply) -> Vec<Output<C>> {
        let mut s = Step::new();
        if from < self.config.peers && from != self.config.me {
            match reply {
                Reply::RequestVote(r) => self.on_vote_reply(from, r, &mut s),
                Reply::AppendEntries(r) => self.on_append_reply(from, r, &mut s),
                Reply::InstallSnapshot(r) => self.on_snapshot_reply(from, r, &mut s),
            }
        }
        self.finish(s)
    }

    /// Whether this node leaves `reply` from `from` unread now and forever after: a reply
    /// of an older term (terms never go back, and a restart resumes the persisted
    /// term), a vote reply of this term unless this node is still a candidate that has
    /// not counted it (a node is a candidate of a term only from the moment it starts
    /// that term's election), and an append or snapshot reply of this term to a
    /// follower (which never leads this term: leading one starts with an election,
    /// which moves to a new term). The model checker forgets such replies at once
    /// (see [`RaftCore::ignores_reply`](super::RaftCore::ignores_reply)).
    pub fn ignores_reply(&self, from: NodeId, reply: &Reply) -> bool {
        let term = reply.term();
        if term != self.term {
            return term < self.term;
        }
        match (reply, &self.role) {
            (Reply::RequestVote(r), Role::Candidate { votes }) => {
                !r.granted || votes.contains(from)
            }
            (Reply::RequestVote(_), Role::Follower | Role::Leader { .. }) => true,
            (Reply::AppendEntries(_) | Reply::InstallSnapshot(_), Role::Follower) => true,
            (
                Reply::AppendEntries(_) | Reply::InstallSnapshot(_),
                Role::Candidate { .. } | Role::Leader { .. },
            ) => false,
        }
    }

    /// Handles a timer that fired. A timer that makes no sense in the current role (the
    /// model checker may fire any timer the node has set) is ignored.
    pub fn handle_timer(&mut self, timer: Timer) -> Vec<Output<C>> {
        let mut s = Step::new();
        match timer {
            Timer::Election => self.on_election_timeout(&mut s),
            Timer::Heartbeat => self.on_heartbeat(&mut s),
        }
        self.finish(s)
    }

    /// The lab's `Start(command)`: if this node is leader, append the command to its log
    /// and start replicating it at once; returns the index it will have if it is ever
    /// committed, and the current term.
    pub fn start(&mut self, command: C) -> (StartResult, Vec<Output<C>>) {
        if !self.is_leader() {
            let refusal = NotLeader {
                term: self.term,
                leader: self.leader,
            };
            return (Err(refusal), Vec::new());
        }
        let mut s = Step::new();
        self.log.push(Entry {
            term: self.term,
            command,
        });
        let index = self.log.last_index();
        s.wrote_from(index);
        event!(
            "LOG1",
            self.config.me,
            "start: appended index {index} in T{}",
            self.term
        );
        if let Role::Leader { match_index, .. } = &mut self.role {
            match_index[self.config.me] = index;
        }
        for peer in self.others() {
            self.send_append(peer, Send::UnlessInFlight, &mut s);
        }
        self.advance_commit(&mut s);
        (Ok((index, self.term)), self.finish(s))
    }

    /// The lab's `Snapshot(index, data)`: the service has a snapshot of its state through
    /// `index` (which it has applied); discard the log through there. Ignored if `index`
    /// is not newer than the current snapshot or not yet applied.
    pub fn snapshot_at(&mut self, index: Index, data: Vec<u8>) -> Vec<Output<C>> {
        let mut s = Step::new();
        if index <= self.log.snapshot_index() || index > self.commit_index {
            event!(
                "SNAP",
                self.config.me,
                "ignored service snapshot at {index} (snapshot {}, commit {})",
                self.log.snapshot_index(),
                self.commit_index
            );
            return Vec::new();
        }
        let Some(term) = self.log.term_at(index) else {
            return Vec::new();
        };
        self.log.compact_to(index, term);
        self.snapshot = Arc::from(data);
        s.compacted();
        event!(
            "SNAP",
            self.config.me,
            "service snapshot through {index} (T{term}); log now {}..={}",
            self.log.snapshot_index(),
            self.log.last_index()
        );
        self.finish(s)
    }

    // ----- Elections -----------------------------------------------------------------

    fn on_election_timeout(&mut self, s: &mut Step<C>) {
        if self.is_leader() {
            return;
        }
        self.term += 1;
        self.voted_for = Some(self.config.me);
        self.leader = None;
        s.persist = true;
        let mut votes = NodeSet::default();
        votes.insert(self.config.me);
        self.role = Role::Candidate { votes };
        event!(
            "TERM",
            self.config.me,
            "election timeout: candidate in T{}",
            self.term
        );
        self.set_election_timer(s);
        if votes.len() >= self.config.majority() {
            self.become_leader(s);
            return;
        }
        let request = RequestVote {
            term: self.term,
            candidate: self.config.me,
            last_log_index: self.log.last_index(),
            last_log_term: self.log.last_term(),
        };
        for peer in self.others() {
            s.out.push(Output::Send {
                to: peer,
                request: Request::RequestVote(request.clone()),
            });
        }
    }

    fn on_request_vote(&mut self, a: RequestVote, s: &mut Step<C>) -> VoteReply {
        self.observe_term(a.term, s);
        let up_to_date = self.bug(Bug::SkipUpToDateCheck)
            || (a.last_log_term, a.last_log_index) >= (self.log.last_term(), self.log.last_index());
        let free = self.bug(Bug::VoteTwice)
            || self.voted_for.is_none()
            || self.voted_for == Some(a.candidate);
        let granted = a.term == self.term && free && up_to_date && a.candidate < self.config.peers;
        if granted {
            self.voted_for = Some(a.candidate);
            s.persist = true;
            self.set_election_timer(s);
            event!(
                "VOTE",
                self.config.me,
                "granted vote to S{} in T{}",
                a.candidate,
                self.term
            );
        } else {
            event!(
                "VOTE",
                self.config.me,
                "refused S{} (T{}; up-to-date {up_to_date}, voted_for {:?}) in T{}",
                a.candidate,
                a.term,
                self.voted_for,
                self.term
            );
        }
        if self.bug(Bug::ForgetToPersistVote) {
            s.persist = false;
        }
        VoteReply {
            term: self.term,
            granted,
        }
    }

    fn on_vote_reply(&mut self, from: NodeId, r: VoteReply, s: &mut Step<C>) {
        if self.observe_term(r.term, s) || r.term != self.term || !r.granted {
            return;
        }
        let Role::Candidate { votes } = &mut self.role else {
            return;
        };
        votes.insert(from);
        if votes.len() >= self.config.majority() {
            self.become_leader(s);
        }
    }

    fn become_leader(&mut self, s: &mut Step<C>) {
        let n = self.config.peers;
        let last = self.log.last_index();
        let mut match_index = vec![0; n];
        match_index[self.config.me] = last;
        self.role = Role::Leader {
            next_index: vec![last + 1; n],
            match_index,
            in_flight: NodeSet::default(),
        };
        self.leader = Some(self.config.me);
        event!(
            "LEAD",
            self.config.me,
            "leader of T{} (log through {last})",
            self.term
        );
        s.out.push(Output::CancelTimer(Timer::Election));
        for peer in self.others() {
            self.send_append(peer, Send::Always, s);
        }
        self.set_heartbeat_timer(s);
        self.advance_commit(s);
    }

    /// Adopts a newer term seen in a message: become a follower with no vote. Returns
    /// whether the term changed.
    fn observe_term(&mut self, term: Term, s: &mut Step<C>) -> bool {
        if term <= self.term {
            return false;
        }
        event!(
            "TERM",
            self.config.me,
            "T{} -> T{}: follower",
            self.term,
            term
        );
        self.term = term;
        self.voted_for = None;
        self.leader = None;
        s.persist = true;
        self.become_follower(s);
        true
    }

    fn become_follower(&mut self, s: &mut Step<C>) {
        match self.role {
            Role::Follower => {}
            Role::Candidate { .. } => self.role = Role::Follower,
            Role::Leader { .. } => {
                self.role = Role::Follower;
                s.out.push(Output::CancelTimer(Timer::Heartbeat));
                self.set_election_timer(s);
            }
        }
    }

    // ----- Replication ---------------------------------------------------------------

    fn on_heartbeat(&mut self, s: &mut Step<C>) {
        if !self.is_leader() {
            return;
        }
        event!(
            "TIMR",
            self.config.me,
            "heartbeat: AppendEntries to every peer"
        );
        for peer in self.others() {
            self.send_append(peer, Send::Always, s);
        }
        self.set_heartbeat_timer(s);
    }

    /// Sends `peer` what it needs next: the entries from its `next_index` (at most
    /// `max_append_entries` of them), or the snapshot if those have been compacted away,
    /// and moves `next_index` past what was sent.
    fn send_append(&mut self, peer: NodeId, when: Send, s: &mut Step<C>) {
        let Role::Leader {
            next_index,
            in_flight,
            ..
        } = &mut self.role
        else {
            return;
        };
        if when == Send::UnlessInFlight && in_flight.contains(peer) {
            return;
        }
        in_flight.insert(peer);
        let next = next_index[peer].clamp(1, self.log.last_index() + 1);
        // Pipelining: assume the request arrives, so that the next send (a reply, a
        // heartbeat, a new command) carries only what this one does not. A mismatch
        // reply moves `next_index` back if the assumption was wrong.
        next_index[peer] = if next <= self.log.snapshot_index() {
            self.log.snapshot_index() + 1
        } else {
            next + (self.log.last_index() + 1 - next).min(self.config.max_append_entries as Index)
        };
        let request = if next <= self.log.snapshot_index() {
            event!(
                "SNAP",
                self.config.me,
                "sending snapshot through {} to S{peer}",
                self.log.snapshot_index()
            );
            Request::InstallSnapshot(InstallSnapshot {
                term: self.term,
                leader: self.config.me,
                last_included_index: self.log.snapshot_index(),
                last_included_term: self.log.snapshot_term(),
                data: self.snapshot.clone(),
            })
        } else {
            let prev = next - 1;
            let all = self.log.entries_from(next);
            let entries = all[..all.len().min(self.config.max_append_entries)].to_vec();
            event!(
                "LOG1",
                self.config.me,
                "AE to S{peer}: prev {prev}, {} entries, commit {}",
                entries.len(),
                self.commit_index
            );
            Request::AppendEntries(AppendEntries {
                term: self.term,
                leader: self.config.me,
                prev_log_index: prev,
                prev_log_term: self.log.term_at(prev).unwrap_or(0),
                entries,
                leader_commit: self.commit_index,
            })
        };
        s.out.push(Output::Send { to: peer, request });
    }

    fn on_append_entries(&mut self, a: AppendEntries<C>, s: &mut Step<C>) -> AppendReply {
        if a.term < self.term && !self.bug(Bug::AcceptStaleAppend) {
            return AppendReply {
                term: self.term,
                outcome: AppendOutcome::Stale,
            };
        }
        self.observe_term(a.term, s);
        self.become_follower(s);
        self.leader = Some(a.leader);
        self.set_election_timer(s);
        let outcome = self.merge_entries(a.prev_log_index, a.prev_log_term, a.entries, s);
        if let AppendOutcome::Success { match_index } = outcome {
            let limit = if self.bug(Bug::CommitBeyondMatch) {
                self.log.last_index()
            } else {
                match_index
            };
            let commit = a.leader_commit.min(limit);
            if commit > self.commit_index {
                self.commit_to(commit, s);
            }
        }
        AppendReply {
            term: self.term,
            outcome,
        }
    }

    /// The consistency check and the append of AppendEntries. Entries that already
    /// match are kept (a delayed, shorter AppendEntries must not erase later entries);
    /// the log is truncated only at the first real conflict.
    fn merge_entries(
        &mut self,
        prev_log_index: Index,
        prev_log_term: Term,
        entries: Vec<Entry<C>>,
        s: &mut Step<C>,
    ) -> AppendOutcome {
        let match_index = prev_log_index + entries.len() as Index;
        let mut prev = prev_log_index;
        let mut prev_term = prev_log_term;
        let mut entries = entries;
        let snapshot_index = self.log.snapshot_index();
        if prev < snapshot_index {
            // The prefix through the snapshot is committed, so it matches the leader.
            let skip = (snapshot_index - prev) as usize;
            if skip >= entries.len() {
                return AppendOutcome::Success { match_index };
            }
            entries.drain(..skip);
            prev = snapshot_index;
            prev_term = self.log.snapshot_term();
        }
        if prev > self.log.last_index() {
            event!(
                "LOG2",
                self.config.me,
                "AE mismatch: no entry at {prev} (last {})",
                self.log.last_index()
            );
            return AppendOutcome::Mismatch {
                conflict_term: None,
                first_index: self.log.last_index() + 1,
            };
        }
        let my_term = self.log.term_at(prev).unwrap_or(0);
        if my_term != prev_term && !self.bug(Bug::SkipPrevLogTermCheck) {
            let first_index = self.log.first_index_of_run(prev);
            event!(
                "LOG2",
                self.config.me,
                "AE mismatch at {prev}: have T{my_term}, leader has T{prev_term}; back to {first_index}"
            );
            return AppendOutcome::Mismatch {
                conflict_term: Some(my_term),
                first_index,
            };
        }
        if self.bug(Bug::TruncateOnMatch) {
            self.log.truncate_from(prev + 1);
            s.wrote_from(prev + 1);
            for e in entries {
                self.log.push(e);
            }
            return AppendOutcome::Success { match_index };
        }
        let mut index = prev;
        let mut rest = entries.into_iter();
        for e in rest.by_ref() {
            index += 1;
            match self.log.term_at(index) {
                Some(t) if t == e.term => continue,
                Some(_) => {
                    event!("LOG2", self.config.me, "conflict at {index}: truncating");
                    self.log.truncate_from(index);
                    self.log.push(e);
                    s.wrote_from(index);
                    break;
                }
                None => {
                    self.log.push(e);
                    s.wrote_from(index);
                    break;
                }
            }
        }
        for e in rest {
            self.log.push(e);
        }
        if s.log != LogChange::None {
            event!(
                "LOG2",
                self.config.me,
                "log now through {} (match {match_index})",
                self.log.last_index()
            );
        }
        AppendOutcome::Success { match_index }
    }

    fn on_append_reply(&mut self, from: NodeId, r: AppendReply, s: &mut Step<C>) {
        if self.observe_term(r.term, s) || r.term != self.term {
            return;
        }
        let last_index = self.log.last_index();
        let Role::Leader {
            next_index,
            match_index,
            in_flight,
        } = &mut self.role
        else {
            return;
        };
        in_flight.remove(from);
        match r.outcome {
            AppendOutcome::Stale => {}
            AppendOutcome::Success { match_index: m } => {
                let m = m.min(last_index);
                if m > match_index[from] {
                    match_index[from] = m;
                }
                next_index[from] = next_index[from].max(match_index[from] + 1);
                let more = next_index[from] <= last_index;
                self.advance_commit(s);
                if more {
                    self.send_append(from, Send::Always, s);
                }
            }
            AppendOutcome::Mismatch {
                conflict_term,
                first_index,
            } => {
                let next = match conflict_term {
                    None => first_index,
                    Some(t) => self
                        .log
                        .last_index_of_term(t)
                        .map_or(first_index, |i| i + 1),
                };
                next_index[from] = next.clamp(match_index[from] + 1, last_index + 1);
                event!(
                    "LOG1",
                    self.config.me,
                    "S{from} mismatch: next_index -> {}",
                    next_index[from]
                );
                self.send_append(from, Send::Always, s);
            }
        }
    }

    /// Commits the highest index of the current term that a majority holds (Figure 8:
    /// entries of earlier terms are committed only indirectly).
    fn advance_commit(&mut self, s: &mut Step<C>) {
        let Role::Leader { match_index, .. } = &self.role else {
            return;
        };
        let majority = self.config.majority();
        let mut target = self.commit_index;
        for n in (self.commit_index + 1..=self.log.last_index()).rev() {
            let current_term = self.log.term_at(n) == Some(self.term);
            if !current_term && !self.bug(Bug::CommitOldTermByCount) {
                break;
            }
            if match_index.iter().filter(|&&m| m >= n).count() >= majority {
                target = n;
                break;
            }
        }
        if target > self.commit_index {
            self.commit_to(target, s);
        }
    }

    /// Commits through `index` and applies every newly committed command in order.
    fn commit_to(&mut self, index: Index, s: &mut Step<C>) {
        let index = index.min(self.log.last_index());
        event!(
            "CMIT",
            self.config.me,
            "commit {} -> {index}",
            self.commit_index
        );
        while self.commit_index < index {
            let next = self.commit_index + 1;
            let Some(entry) = self.log.entry(next) else {
                break;
            };
            s.out.push(Output::Apply(Apply::Command {
                index: next,
                term: entry.term,
                command: entry.command.clone(),
            }));
            self.commit_index = next;
        }
    }

    // ----- Snapshots -----------------------------------------------------------------

    fn on_install_snapshot(&mut self, a: InstallSnapshot, s: &mut Step<C>) -> SnapshotReply {
        if a.term < self.term {
            return SnapshotReply {
                term: self.term,
                match_index: None,
            };
        }
        self.observe_term(a.term, s);
        self.become_follower(s);
        self.leader = Some(a.leader);
        self.set_election_timer(s);
        let index = a.last_included_index;
        if index <= self.commit_index && !self.bug(Bug::ApplyStaleSnapshot) {
            // Everything it covers is already committed here.
            return SnapshotReply {
                term: self.term,
                match_index: Some(index),
            };
        }
        // (With the ApplyStaleSnapshot bug an older snapshot gets here: the log is left
        // as it is, but the commit index goes back and the service is sent back in time.)
        self.log.compact_to(index, a.last_included_term);
        self.snapshot = a.data.clone();
        self.commit_index = index;
        s.compacted();
        event!(
            "SNAP",
            self.config.me,
            "installed snapshot through {index} (T{}) from S{}",
            a.last_included_term,
            a.leader
        );
        s.out.push(Output::Apply(Apply::Snapshot {
            index,
            term: a.last_included_term,
            data: a.data,
        }));
        SnapshotReply {
            term: self.term,
            match_index: Some(index),
        }
    }

    fn on_snapshot_reply(&mut self, from: NodeId, r: SnapshotReply, s: &mut Step<C>) {
        if self.observe_term(r.term, s) || r.term != self.term {
            return;
        }
        let last_index = self.log.last_index();
        let Role::Leader {
            next_index,
            match_index,
            in_flight,
        } = &mut self.role
        else {
            return;
        };
        in_flight.remove(from);
        let Some(m) = r.match_index else {
            return;
        };
        let m = m.min(last_index);
        match_index[from] = match_index[from].max(m);
        next_index[from] = next_index[from].max(match_index[from] + 1);
        if next_index[from] <= last_index {
            self.send_append(from, Send::Always, s);
        }
    }

    // ----- Helpers -------------------------------------------------------------------

    fn bug(&self, bug: Bug) -> bool {
        self.config.bug == Some(bug)
    }

    fn others(&self) -> impl Iterator<Item = NodeId> + use<C> {
        let me = self.config.me;
        (0..self.config.peers).filter(move |&p| p != me)
    }

    fn set_election_timer(&self, s: &mut Step<C>) {
        s.out.push(Output::SetTimer {
            timer: Timer::Election,
            after: self.config.timing.election,
        });
    }

    fn set_heartbeat_timer(&self, s: &mut Step<C>) {
        s.out.push(Output::SetTimer {
            timer: Timer::Heartbeat,
            after: self.config.timing.heartbeat,
        });
    }

    /// Puts the persist record (the state as it stands at the end of the step) in
    /// front of the step's other outputs.
    fn finish(&self, s: Step<C>) -> Vec<Output<C>> {
        if !s.persist {
            return s.out;
        }
        event!(
            "PERS",
            self.config.me,
            "persist T{} vote {:?} log {}..={}",
            self.term,
            self.voted_for,
            self.log.snapshot_index(),
            self.log.last_index()
        );
        let (log, snapshot) = match s.log {
            LogChange::None => (LogWrite::Unchanged, None),
            LogChange::From(from) => (
                LogWrite::Suffix {
                    from,
                    entries: self.log.entries_from(from).to_vec(),
                },
                None,
            ),
            LogChange::Compacted => (
                LogWrite::Compacted {
                    snapshot_index: self.log.snapshot_index(),
                    snapshot_term: self.log.snapshot_term(),
                    entries: self.log.entries().to_vec(),
                },
                Some(self.snapshot.clone()),
            ),
        };
        let mut out = Vec::with_capacity(s.out.len() + 1);
        out.push(Output::Persist(Persist {
            term: self.term,
            voted_for: self.voted_for,
            log,
            snapshot,
        }));
        out.extend(s.out);
        out
    }

    /// The same node in a cluster whose ids are renamed: node `i` is called `map[i]`.
    /// Its own id, its vote, the leader it follows, the votes it holds and its per-peer
    /// leader state (`next_index`, `match_index`, `in_flight`) are renamed; terms, the
    /// log and the commit index are not. Log commands are left as they are.
    ///
    /// The protocol never renames nodes; a model checker does, to treat states that
    /// differ only by a permutation of server ids as one (symmetry reduction). Returns
    /// `None` unless `map` is a permutation of `0..peers`.
    pub fn renumbered(&self, map: &[NodeId]) -> Option<Self> {
        let n = self.config.peers;
        let mut seen = NodeSet::default();
        if map.len() != n || map.iter().any(|&m| m >= n) {
            return None;
        }
        map.iter().for_each(|&m| seen.insert(m));
        if seen.len() != n {
            return None;
        }
        let rename = |i: NodeId| renamed_id(map, i);
        let rename_set = |set: &NodeSet| renamed_set(map, set);
        let reindex = |v: &[Index]| {
            let mut out = vec![0; n];
            v.iter().zip(map).for_each(|(&x, &m)| out[m] = x);
            out
        };
        let role = match &self.role {
            Role::Follower => Role::Follower,
            Role::Candidate { votes } => Role::Candidate {
                votes: rename_set(votes),
            },
            Role::Leader {
                next_index,
                match_index,
                in_flight,
            } => Role::Leader {
                next_index: reindex(next_index),
                match_index: reindex(match_index),
                in_flight: rename_set(in_flight),
            },
        };
        let mut config = self.config.clone();
        config.me = rename(self.config.me);
        Some(Raft {
            config,
            term: self.term,
            voted_for: self.voted_for.map(rename),
            log: self.log.clone(),
            snapshot: self.snapshot.clone(),
            role,
            commit_index: self.commit_index,
            leader: self.leader.map(rename),
        })
    }

    /// Feeds `h` a description of `self.renumbered(map)` without building it: the same
    /// bytes for any node and map whose renamed node is the same (so
    /// `a.hash_renumbered(m)` equals `a.renumbered(m).hash_renumbered(identity)`). The
    /// model checker fingerprints every successor's symmetry class this way. A map
    /// that is no permutation of `0..peers` (for which `renumbered` gives `None`)
    /// hashes the node as it is.
    pub fn hash_renumbered<H: std::hash::Hasher>(&self, map: &[NodeId], h: &mut H) {
        let n = self.config.peers;
        const MAX: usize = 16;
        let mut order = [0usize; MAX];
        let mut seen = NodeSet::default();
        if n > MAX || map.len() != n || map.iter().any(|&m| m >= n) {
            return self.hash(h);
        }
        for (old, &new) in map.iter().enumerate() {
            seen.insert(new);
            order[new] = old;
        }
        if seen.len() != n {
            return self.hash(h);
        }
        let order = &order[..n];
        let rename = |i: NodeId| renamed_id(map, i);
        let rename_set = |set: &NodeSet| renamed_set(map, set);
        // Every field but the fixed configuration, each as `renumbered` would hold it.
        let Raft {
            config: _,
            term,
            voted_for,
            log,
            snapshot,
            role,
            commit_index,
            leader,
        } = self;
        term.hash(h);
        voted_for.map(rename).hash(h);
        log.hash(h);
        snapshot.hash(h);
        std::mem::discriminant(role).hash(h);
        match role {
            Role::Follower => {}
            Role::Candidate { votes } => rename_set(votes).hash(h),
            Role::Leader {
                next_index,
                match_index,
                in_flight,
            } => {
                for v in [next_index, match_index] {
                    v.len().hash(h);
                    order.iter().for_each(|&old| v[old].hash(h));
                }
                rename_set(in_flight).hash(h);
            }
        }
        commit_index.hash(h);
        leader.map(rename).hash(h);
    }

    /// The size in bytes of the persistent state (the lab's `RaftStateSize()` once the
    /// driver has carried out this node's last persist).
    pub fn persisted_size(&self) -> usize {
        super::persist::header_len(self.term, self.voted_for) + self.log.encoded_len()
    }
}
