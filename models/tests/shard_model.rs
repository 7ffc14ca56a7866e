//! The shard-migration model: every property holds on small bounds (with drops, and
//! with a crash) and every `sometimes` property is reached; a pinned state count; each
//! deliberate group bug found at a pinned shortest depth; readable traces.

use raftlab::shard::group::GroupBug;
use raftlab_models::runner::{self, CheckOptions, CheckReport, Outcome, StopWhen, Strategy};
use raftlab_models::shard_model::{ShardModel, Topology, parse_bug};
use raftlab_models::shard_properties::names;
use raftlab_models::trace::render_path;

/// One server per group, one client appending then reading, one move, no crash, no
/// loss: the smallest model in which the shard moves and its new owner serves it.
fn calm() -> ShardModel {
    let mut m = ShardModel::new(1, 1);
    m.bounds.max_crashes = 0;
    m.bounds.drops = false;
    m
}

fn run(model: ShardModel, stop: StopWhen, threads: usize) -> CheckReport<ShardModel> {
    let options = CheckOptions {
        strategy: Strategy::Bfs,
        threads,
        symmetry: false,
        stop,
        shortest: true,
        ..CheckOptions::default()
    };
    runner::check(model.into_model(), &options)
}

#[test]
fn calm_check_holds_and_its_state_count_is_pinned() {
    let report = run(calm(), StopWhen::Exhausted, 2);
    report.assert_all_hold();
    assert_eq!(report.unique_states, 16_210, "{}", report.summary());
    assert_eq!(report.reached(), [names::MOVED_AND_SERVED]);
}

#[test]
fn lost_messages_break_nothing() {
    let mut m = calm();
    m.bounds.drops = true;
    let report = run(m, StopWhen::Exhausted, 2);
    report.assert_all_hold();
    assert_eq!(report.reached(), [names::MOVED_AND_SERVED]);
}

#[test]
fn a_crash_breaks_nothing_and_the_restarted_server_serves() {
    let mut m = calm();
    m.bounds.max_crashes = 1;
    m.bounds.max_in_flight = 2;
    let report = run(m, StopWhen::Exhausted, 2);
    report.assert_all_hold();
    assert_eq!(
        report.reached(),
        [names::MOVED_AND_SERVED, names::RESTARTED_SERVES]
    );
}

/// Finds `bug` under [`ShardModel::exposing`] with a one-thread BFS (made shortest) and
/// checks which property breaks and at what depth.
fn find(bug: GroupBug, property: &str, depth: usize) -> CheckReport<ShardModel> {
    let report = run(ShardModel::exposing(bug), StopWhen::FirstViolation, 1);
    let violated: Vec<_> = report.violations().map(|p| (p.name, p.depth())).collect();
    assert!(
        violated.contains(&(property, Some(depth))),
        "{bug:?}: expected {property:?} at depth {depth}, got {violated:?}\n{}",
        report.table()
    );
    report
}

#[test]
fn bug_serve_before_arrival() {
    find(GroupBug::ServeBeforeArrival, names::ONE_OWNER, 6);
}

#[test]
fn bug_delete_before_ack() {
    find(GroupBug::DeleteBeforeAck, names::ACKED_KEPT, 14);
}

#[test]
fn bug_skip_configs() {
    find(GroupBug::SkipConfigs, names::ONE_OWNER, 2);
}

#[test]
fn serving_missing_data_breaks_linearizability_too() {
    for bug in [GroupBug::ServeBeforeArrival, GroupBug::SkipConfigs] {
        let mut m = calm();
        m.bug = Some(bug);
        let report = run(m, StopWhen::Exhausted, 2);
        assert!(
            matches!(
                report.property(names::LINEARIZABLE).map(|p| &p.outcome),
                Some(Outcome::Violated(_))
            ),
            "{bug:?}\n{}",
            report.table()
        );
    }
}

#[test]
fn counterexample_trace_is_readable() {
    let report = find(GroupBug::DeleteBeforeAck, names::ACKED_KEPT, 14);
    let model = ShardModel::exposing(GroupBug::DeleteBeforeAck).into_model();
    let Some(Outcome::Violated(path)) = report
        .property(names::ACKED_KEPT)
        .map(|p| p.outcome.clone())
    else {
        panic!("no counterexample:\n{}", report.table());
    };
    let trace = render_path(&model, &path);
    assert!(trace.contains("  0. initial state"), "{trace}");
    assert!(
        trace.contains("S0 G100 T1 LEADER log [T1:Config1] commit 1 config 1"),
        "{trace}"
    );
    assert!(
        trace.contains("client starts Append(\"1\", \"a\") on S3"),
        "{trace}"
    );
    assert!(
        trace.contains("controller publishes its next configuration"),
        "{trace}"
    );
    assert!(trace.contains("Pull shard 9 of config 2 #1"), "{trace}");
    assert!(trace.contains("drop S0 -> S1 Shard{1=\"a\"} #1"), "{trace}");
    assert!(trace.contains("call failed: transfer #1"), "{trace}");
    assert!(trace.contains("9:Gcing{}"), "{trace}");
    let text = report.traces(&model);
    assert!(
        text.contains("Counterexample to \"no acknowledged write is lost across a move\""),
        "{text}"
    );
}

#[test]
fn topology_and_bug_names() {
    let t = Topology {
        group_size: 2,
        clients: 2,
    };
    assert_eq!(t.nodes(), 7);
    assert_eq!(t.resolve("server-101-1"), Some(3));
    assert_eq!(t.resolve("server-101-2"), None);
    assert_eq!(t.resolve("server-7-0"), None);
    assert_eq!(t.resolve("nonsense"), None);
    assert_eq!(t.group_of(2), Some((1, 0)));
    assert_eq!(t.client_of(t.client(1)), Some(1));
    assert_eq!(t.config(2).shards[9], 101);
    assert_eq!(t.config(3).shards[9], 100);
    assert_eq!(
        parse_bug("skip-configs"),
        Ok(GroupBug::SkipConfigs),
        "names round-trip"
    );
    assert!(parse_bug("nope").is_err_and(|e| e.contains("delete-before-ack")));
    let mut m = ShardModel::new(4, 1);
    assert!(m.validate().is_err_and(|e| e.contains("--group-size 4")));
    m = ShardModel::new(1, 1);
    m.configs = 4;
    assert!(m.validate().is_err_and(|e| e.contains("--configs 4")));
}
