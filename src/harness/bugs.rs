//! Deliberate bugs asked for with `RAFTLAB_BUG=NAME`, the way every lab suite reads
//! them: a name that names no bug, or a bug the suite's servers cannot carry, fails the
//! test at once (a run that silently tested nothing would look like a pass), and a bug
//! that is asked for is confirmed to be on in every server the configuration started,
//! read back from the servers themselves.
//!
//! The names are the core's ([`Bug::name`]) and the replicated service's
//! ([`ServiceBug::name`]). An empty value asks for no bug.

use crate::raft::Bug;
use crate::rsm::server::ServiceBug;

/// The environment variable that asks for a deliberate bug.
pub const VAR: &str = "RAFTLAB_BUG";

/// A deliberate bug a test run asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requested {
    /// A bug of every server's Raft core ([`crate::raft::Config::bug`]).
    Raft(Bug),
    /// A bug of every replicated-service server
    /// ([`crate::rsm::server::ServerConfig::bug`]).
    Service(ServiceBug),
}

impl Requested {
    /// The bug's name.
    pub fn name(self) -> &'static str {
        match self {
            Requested::Raft(b) => b.name(),
            Requested::Service(b) => b.name(),
        }
    }

    /// Every bug of the kinds `carries` allows.
    pub fn all(carries: Carries) -> Vec<Requested> {
        let mut all = Vec::new();
        if carries != Carries::Nothing {
            all.extend(Bug::ALL.map(Requested::Raft));
        }
        if carries == Carries::RaftAndService {
            all.extend(ServiceBug::ALL.map(Requested::Service));
        }
        all
    }
}

/// Which deliberate bugs a suite's servers can carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carries {
    /// None (the suite has no Raft, or does not pass bugs to its servers).
    Nothing,
    /// Raft bugs (a suite of bare Raft peers).
    Raft,
    /// Raft bugs and service bugs (a replicated service).
    RaftAndService,
}

/// Reads the value of `RAFTLAB_BUG` for `suite`: `Ok(None)` for an empty value,
/// the bug it names, or an error saying why the suite cannot run it.
pub fn parse(value: &str, suite: &str, carries: Carries) -> Result<Option<Requested>, String> {
    let name = value.trim();
    if name.is_empty() {
        return Ok(None);
    }
    if carries == Carries::Nothing {
        return Err(format!(
            "{VAR}={name:?}: the servers of the {suite} suite carry no deliberate bug, so \
             it would run without one; unset {VAR} for this suite"
        ));
    }
    let bug = Bug::from_name(name)
        .map(Requested::Raft)
        .or_else(|| ServiceBug::from_name(name).map(Requested::Service));
    let names: Vec<_> = Requested::all(carries).iter().map(|b| b.name()).collect();
    let names = names.join(", ");
    match bug {
        Some(Requested::Service(_)) if carries == Carries::Raft => Err(format!(
            "{VAR}={name:?} is a bug of the replicated service, and the {suite} suite runs \
             Raft peers alone; it knows: {names}"
        )),
        Some(bug) => Ok(Some(bug)),
        None => Err(format!(
            "{VAR}={name:?} names no deliberate bug; the {suite} suite knows: {names}"
        )),
    }
}

/// The bug `RAFTLAB_BUG` asks `suite` for. Panics, failing the test, when the value
/// names no bug, names one the suite cannot carry, or is not text.
pub fn requested(suite: &str, carries: Carries) -> Option<Requested> {
    let value = match std::env::var(VAR) {
        Ok(v) => v,
        Err(std::env::VarError::NotPresent) => return None,
        Err(e) => panic!("{VAR}: {e}"),
    };
    parse(&value, suite, carries).unwrap_or_else(|e| panic!("{e}"))
}

/// The Raft bug of a request (for a configuration's Raft option).
pub fn raft_bug(requested: Option<Requested>) -> Option<Bug> {
    match requested {
        Some(Requested::Raft(b)) => Some(b),
        _ => None,
    }
}

/// The service bug of a request (for a configuration's service option).
pub fn service_bug(requested: Option<Requested>) -> Option<ServiceBug> {
    match requested {
        Some(Requested::Service(b)) => Some(b),
        _ => None,
    }
}

/// Checks that the servers carry exactly the bug requested: `raft` holds each
/// server's Raft configuration's bug, `service` each service server's (empty for a
/// suite of bare Raft peers). Returns the line that says the bug is on (`None` when
/// none was asked for), or what differs.
pub fn confirm(
    requested: Option<Requested>,
    raft: &[Option<Bug>],
    service: &[Option<ServiceBug>],
) -> Result<Option<String>, String> {
    if raft.is_empty() {
        return Err("no server is running, so no bug can be confirmed".into());
    }
    let want_raft = raft_bug(requested);
    let want_service = service_bug(requested);
    for (i, &b) in raft.iter().enumerate() {
        if b != want_raft {
            return Err(format!(
                "server {i}'s Raft carries bug {b:?}, but {VAR} asks for {want_raft:?}"
            ));
        }
    }
    for (i, &b) in service.iter().enumerate() {
        if b != want_service {
            return Err(format!(
                "server {i}'s service carries bug {b:?}, but {VAR} asks for {want_service:?}"
            ));
        }
    }
    if want_service.is_some() && service.is_empty() {
        return Err(format!(
            "{VAR} asks for a service bug, but there is no service server to carry it"
        ));
    }
    Ok(requested.map(|b| {
        format!(
            "raftlab: deliberate bug {} is on in all {} servers",
            b.name(),
            raft.len()
        )
    }))
}

/// [`confirm`], for a test: panics on a difference, and prints the line that says the
/// bug is on (to stderr, so a failing run shows it).
pub fn assert_applied(
    requested: Option<Requested>,
    raft: &[Option<Bug>],
    service: &[Option<ServiceBug>],
) {
    match confirm(requested, raft, service) {
        Ok(Some(line)) => eprintln!("{line}"),
        Ok(None) => {}
        Err(e) => panic!("{e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bug_name_is_read_by_a_suite_that_carries_it() {
        for bug in Bug::ALL {
            for carries in [Carries::Raft, Carries::RaftAndService] {
                assert_eq!(
                    parse(bug.name(), "raft", carries),
                    Ok(Some(Requested::Raft(bug)))
                );
            }
        }
        for bug in ServiceBug::ALL {
            assert_eq!(ServiceBug::from_name(bug.name()), Some(bug));
            assert_eq!(
                parse(bug.name(), "kvraft", Carries::RaftAndService),
                Ok(Some(Requested::Service(bug)))
            );
        }
        assert_eq!(
            parse(" vote-twice\n", "raft", Carries::Raft),
            Ok(Some(Requested::Raft(Bug::VoteTwice)))
        );
        for carries in [Carries::Nothing, Carries::Raft, Carries::RaftAndService] {
            assert_eq!(parse("", "raft", carries), Ok(None));
            assert_eq!(parse("  ", "raft", carries), Ok(None));
        }
    }

    #[test]
    fn a_name_a_suite_cannot_run_is_refused_with_the_reason() {
        let e = parse("nonsense", "raft", Carries::Raft).unwrap_err();
        assert!(e.contains("names no deliberate bug"), "{e}");
        assert!(e.contains("vote-twice, skip-up-to-date-check"), "{e}");
        assert!(!e.contains("local-reads"), "{e}");
        let e = parse("nonsense", "kvraft", Carries::RaftAndService).unwrap_err();
        assert!(e.contains("local-reads"), "{e}");
        let e = parse("local-reads", "raft", Carries::Raft).unwrap_err();
        assert!(e.contains("bug of the replicated service"), "{e}");
        let e = parse("vote-twice", "shardkv", Carries::Nothing).unwrap_err();
        assert!(
            e.contains("the shardkv suite carry no deliberate bug"),
            "{e}"
        );
        assert_eq!(ServiceBug::from_name("vote-twice"), None);
    }

    #[test]
    fn confirm_compares_the_request_with_every_server() {
        let raft = Some(Requested::Raft(Bug::VoteTwice));
        let service = Some(Requested::Service(ServiceBug::LocalReads));
        let on = Some(Bug::VoteTwice);
        let reads = Some(ServiceBug::LocalReads);
        assert_eq!(confirm(None, &[None; 3], &[]), Ok(None));
        assert_eq!(
            confirm(raft, &[on; 3], &[None; 3]),
            Ok(Some(
                "raftlab: deliberate bug vote-twice is on in all 3 servers".into()
            ))
        );
        assert!(confirm(service, &[None; 5], &[reads; 5]).is_ok());
        // Off where it was asked for, on where it was not, or in one server only.
        assert!(confirm(raft, &[None; 3], &[]).is_err());
        assert!(confirm(None, &[None, on, None], &[]).is_err());
        assert!(confirm(raft, &[on, on, None], &[]).is_err());
        assert!(confirm(service, &[None; 3], &[None, reads, reads]).is_err());
        assert!(confirm(service, &[None; 3], &[]).is_err());
        assert!(confirm(raft, &[], &[]).is_err());
    }
}
