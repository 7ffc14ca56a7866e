//! The check as a whole: budgets, cancellation, verbose records, determinism.

use raftlab_checker::models::kv::{KvInput, KvModel, KvOp, KvOutput};
use raftlab_checker::{CheckOptions, Operation, PartitionStatus, Verdict, check};
use std::time::Duration;

fn op(
    client: u64,
    op: KvOp,
    key: &str,
    value: &str,
    output: &str,
    call: i64,
    ret: i64,
) -> Operation<KvInput, KvOutput> {
    Operation {
        client,
        input: KvInput {
            op,
            key: key.into(),
            value: value.into(),
        },
        call,
        output: KvOutput::known(output),
        ret: Some(ret),
        meta: None,
    }
}

/// Key "hard": 40 overlapping puts of distinct values, then a read of a value
/// nobody wrote. Proving it illegal means trying every order of the puts (the
/// memo cannot collapse subsets that end in different values): far beyond any
/// test's patience.
fn hard_partition() -> Vec<Operation<KvInput, KvOutput>> {
    let mut h: Vec<_> = (0..40)
        .map(|i| op(i + 1, KvOp::Put, "hard", &format!("v{i}"), "", 0, 100))
        .collect();
    h.push(op(99, KvOp::Get, "hard", "", "nobody wrote this", 200, 201));
    h
}

/// Key "easy": a stale read.
fn easy_illegal() -> Vec<Operation<KvInput, KvOutput>> {
    vec![
        op(1, KvOp::Put, "easy", "1", "", 0, 1),
        op(2, KvOp::Get, "easy", "", "", 2, 3),
    ]
}

#[test]
fn the_time_budget_gives_unknown() {
    let options = CheckOptions::new().with_timeout(Duration::from_millis(50));
    let r = check(&KvModel, &hard_partition(), &options).unwrap();
    assert_eq!(r.verdict, Verdict::Unknown);
    assert_eq!(r.partitions[0].status, PartitionStatus::TimedOut);
}

#[test]
fn an_easy_illegal_partition_cancels_a_blocked_one() {
    // "easy" sorts before "hard", so put the hard key first in history order too:
    // the order must not matter.
    for threads in [1, 2] {
        let mut h = hard_partition();
        h.extend(easy_illegal());
        let options = CheckOptions::new().with_threads(threads);
        let r = check(&KvModel, &h, &options).unwrap();
        assert_eq!(r.verdict, Verdict::Illegal);
        let by_name: Vec<_> = r
            .partitions
            .iter()
            .map(|p| (p.name.as_str(), p.status))
            .collect();
        assert_eq!(
            by_name,
            vec![
                ("key 'easy'", PartitionStatus::Illegal),
                ("key 'hard'", PartitionStatus::Cancelled)
            ]
        );
    }
}

#[test]
fn verbose_mode_keeps_going_until_the_budget_and_still_says_illegal() {
    let mut h = hard_partition();
    h.extend(easy_illegal());
    let options = CheckOptions::verbose()
        .with_threads(1)
        .with_timeout(Duration::from_millis(100));
    let r = check(&KvModel, &h, &options).unwrap();
    assert_eq!(
        r.verdict,
        Verdict::Illegal,
        "an illegal partition wins over a timeout"
    );
    assert_eq!(r.partitions[0].status, PartitionStatus::Illegal);
    assert_eq!(r.partitions[1].status, PartitionStatus::TimedOut);
}

#[test]
fn verbose_records_longest_prefixes_and_dead_ends() {
    // put 1; get -> 1; put 2; get -> 1 (stale). Longest prefix: the first three.
    let h = vec![
        op(1, KvOp::Put, "k", "1", "", 0, 1),
        op(2, KvOp::Get, "k", "", "1", 2, 3),
        op(1, KvOp::Put, "k", "2", "", 4, 5),
        op(2, KvOp::Get, "k", "", "1", 6, 7),
    ];
    let r = check(&KvModel, &h, &CheckOptions::verbose()).unwrap();
    let p = &r.partitions[0];
    assert_eq!(p.status, PartitionStatus::Illegal);
    let lin = p.linearizations.as_ref().unwrap();
    let (end, len) = lin.longest_overall().unwrap();
    assert_eq!(len, 3);
    let path: Vec<usize> = lin.path(end).iter().map(|s| s.op).collect();
    assert_eq!(path, vec![0, 1, 2]);
    assert_eq!(lin.states[lin.steps[end].state], "'2'");
    assert_eq!(lin.longest[3], None, "the stale read is never linearized");
    let attempts = &lin.dead_ends[&Some(end)];
    assert_eq!(attempts.len(), 1);
    assert_eq!((attempts[0].op, attempts[0].rejected), (3, true));
    assert!(!lin.truncated);
}

#[test]
fn ok_partitions_report_their_linearization() {
    // Two concurrent puts and a read showing which went last.
    let h = vec![
        op(1, KvOp::Put, "k", "a", "", 0, 10),
        op(2, KvOp::Put, "k", "b", "", 0, 10),
        op(3, KvOp::Get, "k", "", "a", 11, 12),
    ];
    let r = check(&KvModel, &h, &CheckOptions::new()).unwrap();
    assert_eq!(r.partitions[0].linearization, Some(vec![1, 0, 2]));
}

#[test]
fn a_tiny_step_budget_truncates_records_but_not_the_verdict() {
    let mut h = Vec::new();
    for i in 0..30 {
        h.push(op(1, KvOp::Append, "k", "x", "", 4 * i, 4 * i + 1));
    }
    h.push(op(2, KvOp::Get, "k", "", "wrong", 200, 201));
    let options = CheckOptions {
        step_budget: 5,
        ..CheckOptions::verbose()
    };
    let r = check(&KvModel, &h, &options).unwrap();
    assert_eq!(r.verdict, Verdict::Illegal);
    assert!(r.partitions[0].linearizations.as_ref().unwrap().truncated);
}
