//! The key/value model: the Lab 4 servers and clerks checked for linearizability and
//! the Raft properties under small bounds (state counts pinned, every `sometimes`
//! property reached), and the deliberate service bugs (`LocalReads`,
//! `ReadBeforeOwnWrite`) found at a pinned shortest depth, with a readable trace.

use raftlab::kv::Op;
use raftlab::raft::Bug;
use raftlab::rsm::server::ServiceBug;
use raftlab_models::kv_model::{KvBug, KvModel, KvSpec, names};
use raftlab_models::properties::names as raft_names;
use raftlab_models::runner::{self, CheckOptions, CheckReport, Outcome, StopWhen, Strategy};
use raftlab_models::trace::render_path;
use stateright::semantics::{ConsistencyTester, LinearizabilityTester};

/// The CI bounds with one term, a server crash and snapshots after every apply: the
/// bounds in which every `sometimes` property is reachable.
fn crash_and_snapshots() -> KvModel {
    let mut m = <KvModel>::ci();
    m.max_term = 1;
    m.bounds.max_crashes = 1;
    m.snapshots = true;
    m
}

fn run(model: KvModel, strategy: Strategy, stop: StopWhen) -> CheckReport<KvModel> {
    let options = CheckOptions {
        strategy,
        threads: 1,
        stop,
        shortest: true,
        ..CheckOptions::default()
    };
    runner::check(model.into_model(), &options)
}

#[test]
fn crash_and_snapshots_reach_every_example() {
    let report = run(crash_and_snapshots(), Strategy::Dfs, StopWhen::Exhausted);
    report.assert_all_hold();
    // 411,490 before servers restarted in their crash's step and the rare-event marks
    // were cleared at every step.
    assert_eq!(report.unique_states, 307_079, "{}", report.summary());
    assert_eq!(
        report.reached(),
        [
            raft_names::LEADER_ELECTED,
            raft_names::COMMITTED_ON_MAJORITY,
            raft_names::SNAPSHOT_INSTALLED,
            raft_names::RESTARTED_APPLIES,
            names::OP_COMPLETED,
            names::READ_OTHERS_WRITE,
            names::ALL_COMPLETED,
        ]
    );
}

/// The CI configuration: two terms, so leadership changes hands while clients run.
#[test]
fn ci_check_is_linearizable_and_reaches_every_example() {
    let report = run(<KvModel>::ci(), Strategy::Dfs, StopWhen::Exhausted);
    report.assert_all_hold();
    // 614,033 while the rare-event marks were sticky: with no crash to merge away,
    // marking only the step that made an event splits a few more states (the state
    // right after an operation returns differs from the same state reached otherwise)
    // than it merges.
    assert_eq!(report.unique_states, 630_719, "{}", report.summary());
    assert_eq!(
        report.reached(),
        [
            raft_names::LEADER_ELECTED,
            raft_names::COMMITTED_ON_MAJORITY,
            names::OP_COMPLETED,
            names::READ_OTHERS_WRITE,
            names::ALL_COMPLETED,
        ]
    );
    assert_eq!(
        report
            .property(names::LINEARIZABLE)
            .map(|p| &p.outcome)
            .map(|o| matches!(o, Outcome::Holds)),
        Some(true)
    );
}

/// `LocalReads`: a leader answers a Get from its own store. Under the CI bounds (which
/// `ci_check_...` shows hold without the bug) a one-thread BFS finds the shortest
/// history that is not linearizable: client 0's Put commits in term 1 and
/// returns, a new leader of term 2 that has not applied it yet answers client 1's Get
/// with the empty value.
#[test]
fn local_reads_bug_breaks_linearizability() {
    let model = <KvModel>::exposing(KvBug::Service(ServiceBug::LocalReads));
    let report = run(model.clone(), Strategy::Bfs, StopWhen::FirstViolation);
    let violated: Vec<_> = report.violations().map(|p| (p.name, p.depth())).collect();
    assert_eq!(
        violated,
        [(names::LINEARIZABLE, Some(22))],
        "{}",
        report.table()
    );
    let Some(Outcome::Violated(path)) = report
        .property(names::LINEARIZABLE)
        .map(|p| p.outcome.clone())
    else {
        panic!("no counterexample:\n{}", report.table());
    };
    let trace = render_path(&model.into_model(), &path);
    assert!(trace.contains("invoke Put k0 \"a1\" on C0"), "{trace}");
    assert!(trace.contains("-> C0 answer #1 Ok \"\""), "{trace}");
    assert!(trace.contains("invoke Get k0 on C1"), "{trace}");
    assert!(trace.contains("RequestVote T2"), "{trace}");
    let last = trace.lines().rev().find(|l| l.contains(". ")).unwrap_or("");
    assert!(
        last.contains("-> C1 answer") && last.ends_with("Ok \"\""),
        "{trace}"
    );
}

/// `ReadBeforeOwnWrite`: a leader answers a client's Get right after that client's
/// own Put from the state before the Put. One client, two operations: the shortest
/// history (one-thread BFS) elects S0, commits and answers the Put, and answers the
/// Get that follows with `""`. The model's tester orders the Get after the Put that
/// returned before it was invoked, as the stamped lab histories now do.
#[test]
fn read_before_own_write_bug_breaks_linearizability() {
    let model = <KvModel>::exposing(KvBug::Service(ServiceBug::ReadBeforeOwnWrite));
    assert_eq!((model.clients, model.ops), (1, 2));
    let report = run(model.clone(), Strategy::Bfs, StopWhen::FirstViolation);
    let violated: Vec<_> = report.violations().map(|p| (p.name, p.depth())).collect();
    assert_eq!(
        violated,
        [(names::LINEARIZABLE, Some(14))],
        "{}",
        report.table()
    );
    let Some(Outcome::Violated(path)) = report
        .property(names::LINEARIZABLE)
        .map(|p| p.outcome.clone())
    else {
        panic!("no counterexample:\n{}", report.table());
    };
    let trace = render_path(&model.into_model(), &path);
    assert!(trace.contains("-> C0 answer #1 Ok \"\""), "{trace}");
    assert!(trace.contains("invoke Get k0 on C0"), "{trace}");
    let last = trace.lines().rev().find(|l| l.contains(". ")).unwrap_or("");
    assert!(
        last.contains("-> C0 answer #2") && last.ends_with("Ok \"\""),
        "{trace}"
    );
}

/// The servers' Raft cores are the Raft model's: a Raft bug under the key/value model
/// breaks the same Raft property (a depth-first search finds it in a fraction of a
/// second).
#[test]
fn raft_bugs_break_the_embedded_raft_properties() {
    for (bug, property) in [
        (Bug::VoteTwice, raft_names::ELECTION_SAFETY),
        (Bug::SkipUpToDateCheck, raft_names::LEADER_COMPLETENESS),
    ] {
        let report = run(
            <KvModel>::exposing(KvBug::Raft(bug)),
            Strategy::Dfs,
            StopWhen::FirstViolation,
        );
        let violated: Vec<_> = report.violations().map(|p| p.name).collect();
        assert!(
            violated.contains(&property),
            "{bug}: {violated:?}\n{}",
            report.table()
        );
    }
}

#[test]
fn scripts_alternate_writes_and_reads() {
    let mut m = <KvModel>::ci();
    m.ops = 2;
    m.keys = 2;
    let put = |k: &str, v: &str| Op::Put {
        key: k.into(),
        value: v.into(),
    };
    let append = |k: &str, v: &str| Op::Append {
        key: k.into(),
        value: v.into(),
    };
    let get = |k: &str| Op::Get { key: k.into() };
    assert_eq!(m.op(0, 0), put("k0", "a1"));
    assert_eq!(m.op(0, 1), get("k1"));
    assert_eq!(m.op(1, 0), get("k1"));
    assert_eq!(m.op(1, 1), append("k0", "b2"));
    assert_eq!(m.op(2, 0), append("k0", "c1"));
}

#[test]
fn the_tester_rejects_a_stale_read_and_accepts_a_concurrent_one() {
    let put = Op::Put {
        key: "k0".into(),
        value: "a1".into(),
    };
    let get = Op::Get { key: "k0".into() };
    let mut stale = LinearizabilityTester::new(KvSpec::default());
    stale.on_invret(3, put.clone(), String::new()).unwrap();
    stale.on_invret(4, get.clone(), String::new()).unwrap();
    assert!(!stale.is_consistent());
    let mut concurrent = LinearizabilityTester::new(KvSpec::default());
    concurrent.on_invoke(3, put).unwrap();
    concurrent.on_invret(4, get, String::new()).unwrap();
    concurrent.on_return(3, String::new()).unwrap();
    assert!(concurrent.is_consistent());
}

#[test]
fn bad_bounds_are_refused_with_the_flag_named() {
    let mut m = <KvModel>::ci();
    m.max_term = 0;
    assert!(m.validate().unwrap_err().contains("--max-term 0"));
    let mut m = <KvModel>::ci();
    m.clients = 0;
    assert!(m.validate().unwrap_err().contains("--clients 0"));
    assert_eq!(
        KvBug::from_name("local-reads"),
        Some(KvBug::Service(ServiceBug::LocalReads))
    );
    assert_eq!(
        KvBug::from_name("vote-twice").map(KvBug::name),
        Some("vote-twice")
    );
    for bug in ServiceBug::ALL {
        assert_eq!(
            KvBug::from_name(bug.name()),
            Some(KvBug::Service(bug)),
            "{bug:?}"
        );
        assert_eq!(ServiceBug::from_name(bug.name()), Some(bug));
    }
    assert!(KvBug::names().contains(&"read-before-own-write"));
    assert_eq!(KvBug::from_name("nonsense"), None);
    assert_eq!(ServiceBug::from_name("nonsense"), None);
}
