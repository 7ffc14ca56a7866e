//! A filled-in `src/lib.rs` for a crate `raftlab new lab3` wrote: `MyRaft` delegates
//! every method to raftlab's own Raft (`tests/kit.rs` runs the crate's suite, model
//! checks and deliberate bugs with it).

use std::sync::Arc;

use raftlab::raft::{
    Command, Config, Index, Log, NodeId, Output, PersistentState, Raft, RaftCore, RaftError,
    Reply, Request, RoleKind, StartResult, Term, Timer,
};

/// raftlab's Raft, under the student's name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MyRaft<C>(Raft<C>);

impl<C: Command + Send + Sync + 'static> RaftCore<C> for MyRaft<C> {
    const SYMMETRIC: bool = true;

    fn restore(
        config: Config,
        raft_state: &[u8],
        snapshot: &[u8],
    ) -> Result<(Self, Vec<Output<C>>), RaftError> {
        Raft::restore(config, raft_state, snapshot).map(|(r, out)| (MyRaft(r), out))
    }

    fn handle_request(&mut self, from: NodeId, request: Request<C>) -> Vec<Output<C>> {
        self.0.handle_request(from, request)
    }

    fn handle_reply(&mut self, from: NodeId, reply: Reply) -> Vec<Output<C>> {
        self.0.handle_reply(from, reply)
    }

    fn handle_timer(&mut self, timer: Timer) -> Vec<Output<C>> {
        self.0.handle_timer(timer)
    }

    fn start(&mut self, command: C) -> (StartResult, Vec<Output<C>>) {
        self.0.start(command)
    }

    fn snapshot_at(&mut self, index: Index, data: Vec<u8>) -> Vec<Output<C>> {
        self.0.snapshot_at(index, data)
    }

    fn config(&self) -> &Config {
        self.0.config()
    }

    fn term(&self) -> Term {
        self.0.term()
    }

    fn voted_for(&self) -> Option<NodeId> {
        self.0.voted_for()
    }

    fn role(&self) -> RoleKind {
        self.0.role().kind()
    }

    fn log(&self) -> &Log<C> {
        self.0.log()
    }

    fn commit_index(&self) -> Index {
        self.0.commit_index()
    }

    fn snapshot(&self) -> &Arc<[u8]> {
        self.0.snapshot()
    }

    fn leader(&self) -> Option<NodeId> {
        self.0.leader()
    }

    fn persistent_state(&self) -> PersistentState<C> {
        self.0.persistent_state()
    }

    fn renumbered(&self, map: &[NodeId]) -> Option<Self> {
        self.0.renumbered(map).map(MyRaft)
    }

    fn describe_role(&self) -> String {
        RaftCore::describe_role(&self.0)
    }

    fn role_key(&self) -> u64 {
        RaftCore::role_key(&self.0)
    }
}
