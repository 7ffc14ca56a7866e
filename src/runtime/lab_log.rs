//! The Raft lab's service (`raftlab serve --service raft-log`): a state machine that
//! records what its server applied, so that the lab 3 tests can run on real processes.
//!
//! Those tests call `rf.Start(cmd)` on a peer of their choosing and watch what each peer
//! applies (the lab's `applyCh`). Here a test talks to each server over RESP:
//!
//! | command | what it does | reply |
//! | --- | --- | --- |
//! | `LAB.START cmd` | `rf.Start(cmd)` on this server's Raft ([`Server::start_unowned`](crate::rsm::server::Server::start_unowned)): no clerk, no session, no forwarding | `*2 :<index> :<term>` if this server leads and appended it (sent once the entry is durable); the nil array `*-1` if it does not lead |
//! | `LAB.STATE` | `rf.GetState()` on this server, from its core | `*2 :<term> :<1 if leader else 0>` |
//! | `LAB.APPLIED from` | the commands this server applied at log indices `from, from+1, ...`, from its own state machine, not through the log (`from` >= 1) | an array of bulk strings, empty when nothing was applied at `from` yet |
//!
//! `cmd` is UTF-8 text. The state machine ([`LabLog`]) keeps every applied command in
//! order: the server applies each entry of the Raft log exactly once, in index order,
//! and raftlab's Raft adds no entries of its own (no no-op at the start of a term), so
//! the command applied at index `i` is element `i - 1`. A snapshot holds the whole
//! record, so a server that restores or installs one goes on from the same record.
//!
//! The service has no commands for clerks: the lab's Raft tests drive a peer directly.
//! (`SESSION`, which every service takes, works but has nothing to number.) The
//! key/value commands are unknown commands here, and these are unknown under `kv`.

use serde::{Deserialize, Serialize};

use super::resp::Value;
use super::service::{Command, Local, Service, text, unknown_command, wrong_arity};
use crate::codec::{self, DecodeError};
use crate::raft::Index;
use crate::rsm::{Request, StateMachine};

/// Every command the server applied, in log order: the command of index `i` is
/// element `i - 1`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LabLog {
    applied: Vec<String>,
}

/// A read of a [`LabLog`] by its own server ([`Local::Read`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabQuery {
    /// `LAB.APPLIED from`: the commands applied at indices `from, from+1, ...`.
    Applied {
        /// The first index wanted (at least 1).
        from: Index,
    },
}

impl LabLog {
    /// An empty record.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every command applied, in log order.
    pub fn applied(&self) -> &[String] {
        &self.applied
    }

    /// The commands applied at indices `from, from+1, ...` (`from` counts from 1; none
    /// at 0, which no entry has).
    pub fn applied_from(&self, from: Index) -> &[String] {
        if from == 0 {
            return &[];
        }
        let skip = usize::try_from(from - 1).unwrap_or(usize::MAX);
        self.applied.get(skip..).unwrap_or(&[])
    }
}

impl StateMachine for LabLog {
    type Op = String;
    /// The index the command was applied at (the length of the record after it).
    type Output = Index;

    /// Records the command. The clerk's numbers are ignored: every entry is recorded,
    /// as the lab's `applyCh` delivers every entry.
    fn apply(&mut self, request: Request<String>) -> Index {
        self.applied.push(request.op);
        self.applied.len() as Index
    }

    fn read(&self, _op: &String) -> Option<Index> {
        None
    }

    fn encode(&self) -> Vec<u8> {
        codec::encode(self)
    }

    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        codec::decode("lab log snapshot", bytes)
    }
}

impl Service for LabLog {
    const NAME: &'static str = "raft-log";

    type Query = LabQuery;

    fn command(args: &[Vec<u8>]) -> Result<Command<String, LabQuery>, Value> {
        let name = String::from_utf8_lossy(&args[0]).to_ascii_uppercase();
        let arity = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                Err(wrong_arity(&name))
            }
        };
        let local = match name.as_str() {
            "LAB.START" => {
                arity(2)?;
                Local::Start(text(args, 1, "command")?)
            }
            "LAB.STATE" => {
                arity(1)?;
                Local::State
            }
            "LAB.APPLIED" => {
                arity(2)?;
                let from = std::str::from_utf8(&args[1])
                    .ok()
                    .and_then(|s| s.parse::<Index>().ok())
                    .filter(|&i| i >= 1)
                    .ok_or_else(|| {
                        Value::error(format!(
                            "ERR LAB.APPLIED: the first index '{}' is not an integer of 1 or \
                             more (log indices start at 1)",
                            String::from_utf8_lossy(&args[1][..args[1].len().min(64)])
                        ))
                    })?;
                Local::Read(LabQuery::Applied { from })
            }
            _ => return Err(unknown_command::<Self>(args)),
        };
        Ok(Command::Local(local))
    }

    /// Never called (no command of this service goes through a clerk): the index.
    fn reply(_op: &String, index: Index) -> Value {
        Value::Integer(i64::try_from(index).unwrap_or(i64::MAX))
    }

    fn query(&self, query: LabQuery) -> Value {
        match query {
            LabQuery::Applied { from } => Value::Array(Some(
                self.applied_from(from)
                    .iter()
                    .map(|c| Value::bulk(c.as_bytes()))
                    .collect(),
            )),
        }
    }

    fn commands() -> &'static [&'static str] {
        &["LAB.START", "LAB.STATE", "LAB.APPLIED"]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::{self, Output, Storage, Timer};
    use crate::rsm::server::{Outputs, Server, ServerConfig, ServerOutput};

    fn args(ws: &[&str]) -> Vec<Vec<u8>> {
        ws.iter().map(|w| w.as_bytes().to_vec()).collect()
    }

    fn req(client: u64, seq: u64, op: &str) -> Request<String> {
        Request {
            client,
            seq,
            op: op.into(),
        }
    }

    #[test]
    fn records_every_command_in_order_and_reads_from_an_index() {
        let mut l = LabLog::new();
        assert_eq!(l.apply(req(0, 0, "a")), 1);
        assert_eq!(l.apply(req(0, 0, "b")), 2);
        // The same numbers again are another entry, recorded too (no duplicate table).
        assert_eq!(l.apply(req(0, 0, "b")), 3);
        assert_eq!(l.apply(req(7, 1, "c")), 4);
        assert_eq!(l.applied(), ["a", "b", "b", "c"]);
        assert_eq!(l.applied_from(1), ["a", "b", "b", "c"]);
        assert_eq!(l.applied_from(3), ["b", "c"]);
        assert!(l.applied_from(5).is_empty());
        assert!(l.applied_from(u64::MAX).is_empty());
        assert!(l.applied_from(0).is_empty());
        assert_eq!(
            l.query(LabQuery::Applied { from: 4 }),
            Value::Array(Some(vec![Value::bulk("c")]))
        );
        assert_eq!(
            l.query(LabQuery::Applied { from: 9 }),
            Value::Array(Some(vec![]))
        );
    }

    #[test]
    fn snapshots_round_trip() {
        let mut l = LabLog::new();
        assert_eq!(LabLog::decode(&l.encode()), Ok(LabLog::new()));
        for c in ["x", "", "three words", "ünïcode"] {
            l.apply(req(0, 0, c));
        }
        let back = LabLog::decode(&l.encode()).unwrap();
        assert_eq!(back, l);
        assert_eq!(back.applied_from(3), ["three words", "ünïcode"]);
        let e = LabLog::decode(&[0xff, 0xff, 0xff]).unwrap_err();
        assert_eq!(e.what, "lab log snapshot");
    }

    #[test]
    fn maps_the_commands() {
        assert_eq!(
            LabLog::command(&args(&["lab.start", "101"])),
            Ok(Command::Local(Local::Start("101".into())))
        );
        assert_eq!(
            LabLog::command(&args(&["LAB.STATE"])),
            Ok(Command::Local(Local::State))
        );
        assert_eq!(
            LabLog::command(&args(&["LAB.APPLIED", "3"])),
            Ok(Command::Local(Local::Read(LabQuery::Applied { from: 3 })))
        );
        for bad in ["0", "-1", "x", "1.5", ""] {
            let e = LabLog::command(&args(&["LAB.APPLIED", bad])).unwrap_err();
            assert_eq!(
                e,
                Value::error(format!(
                    "ERR LAB.APPLIED: the first index '{bad}' is not an integer of 1 or more \
                     (log indices start at 1)"
                ))
            );
        }
        assert_eq!(
            LabLog::command(&args(&["LAB.START"])),
            Err(wrong_arity("LAB.START"))
        );
        assert_eq!(
            LabLog::command(&args(&["LAB.STATE", "x"])),
            Err(wrong_arity("LAB.STATE"))
        );
        assert_eq!(
            LabLog::command(&args(&["GET", "k"])),
            Err(Value::error(
                "ERR unknown command 'GET', with args beginning with: 'k' (this server \
                 runs the raft-log service: LAB.START, LAB.STATE, LAB.APPLIED)"
            ))
        );
        let e = LabLog::command(&[b"LAB.START".to_vec(), b"a\xff".to_vec()]).unwrap_err();
        assert!(
            matches!(&e, Value::Error(m) if m.contains("the command is not UTF-8 text")),
            "{e:?}"
        );
    }

    /// Carries out a server's outputs as far as this test needs: persists into
    /// `storage`, and says whether any clerk was answered.
    fn keep(outs: Outputs<LabLog>, storage: &mut Storage<Request<String>>) -> bool {
        let mut answered = false;
        for o in outs {
            match o {
                ServerOutput::Raft(Output::Persist(p)) => storage.apply(p),
                ServerOutput::ClientReply { .. } => answered = true,
                ServerOutput::Raft(_) => {}
            }
        }
        answered
    }

    /// A one-server cluster: `start_unowned` is refused until the server leads, then
    /// each command gets the next index of the term and is applied at once (a majority
    /// of one); a snapshot after every entry holds the whole record, and a restart from
    /// what was persisted restores it.
    #[test]
    fn start_unowned_on_a_one_server_cluster_and_the_record_survives_a_restart() {
        let config = ServerConfig {
            raft: raft::Config::new(0, 1),
            max_raft_state: Some(1),
            bug: None,
        };
        let mut storage = Storage::new();
        let (mut s, outs) = Server::<LabLog>::restore(config.clone(), &[], &[]).unwrap();
        keep(outs, &mut storage);
        let (started, outs) = s.start_unowned("early".into());
        assert_eq!(started, None, "not the leader yet");
        assert!(outs.is_empty());
        assert!(!keep(s.raft_timer(Timer::Election), &mut storage));
        assert!(s.raft().is_leader());
        let term = s.raft().term();
        for (i, c) in ["a", "b", "c"].into_iter().enumerate() {
            let (started, outs) = s.start_unowned(c.into());
            assert_eq!(started, Some((i as Index + 1, term)));
            assert!(!keep(outs, &mut storage), "no clerk waits for it");
        }
        assert_eq!(s.state().applied(), ["a", "b", "c"]);
        assert_eq!(s.applied(), 3);
        assert_eq!(s.pending(), 0);
        assert_eq!(storage.snapshot_index(), 3);
        let (back, _) =
            Server::<LabLog>::restore(config, &storage.raft_state(), storage.snapshot()).unwrap();
        assert_eq!(back.state().applied(), ["a", "b", "c"]);
        assert_eq!(back.applied(), 3);
    }
}
