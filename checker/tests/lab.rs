//! The lab tests' entry point, `raftlab_checker::kv`.

use raftlab_checker::format::{Format, ModelKind, Ops, load};
use raftlab_checker::kv::{KvOp, KvOperation, LabCheck, check_history, write_jsonl};
use std::time::Duration;

fn lab2_history() -> Vec<KvOperation> {
    let mut meta = KvOperation::new(0, KvOp::Get, "1", "", "x 1 0 y", 50, 52);
    meta.meta = Some("final check".into());
    vec![
        KvOperation::new(1, KvOp::Put, "1", "", "", 10, 25),
        KvOperation::new(1, KvOp::AppendOld, "1", "x 1 0 y", "", 30, 41),
        KvOperation::unfinished(2, KvOp::AppendOld, "1", "x 2 0 y", 45),
        meta,
    ]
}

#[test]
fn ok_history() {
    let r = check_history(&lab2_history(), Duration::from_secs(1));
    assert_eq!(r, LabCheck::Ok);
    assert_eq!(r.message(), None);
}

#[test]
fn illegal_history_writes_the_visualization() {
    let mut h = lab2_history();
    h.push(KvOperation::new(3, KvOp::Get, "1", "", "", 60, 61));
    let r = check_history(&h, Duration::from_secs(1));
    let LabCheck::Illegal {
        visualization,
        summary,
    } = &r
    else {
        panic!("expected Illegal, got {r:?}");
    };
    assert!(
        summary.contains("partition key '1' (5 operations) is not linearizable"),
        "{summary}"
    );
    let path = visualization.as_ref().expect("written");
    assert_eq!(
        r.message(),
        Some(format!(
            "info: wrote history visualization to {}",
            path.display()
        ))
    );
    let page = std::fs::read_to_string(path).unwrap();
    assert!(page.contains("final check") && page.contains("x 1 0 y"));
    std::fs::remove_file(path).unwrap();
}

#[test]
fn unknown_when_the_budget_runs_out() {
    let mut h: Vec<KvOperation> = (0..40)
        .map(|i| KvOperation::new(i + 1, KvOp::Put, "k", format!("v{i}"), "", 0, 100))
        .collect();
    h.push(KvOperation::new(
        99,
        KvOp::Get,
        "k",
        "",
        "never written",
        200,
        201,
    ));
    let r = check_history(&h, Duration::from_millis(30));
    assert_eq!(r, LabCheck::Unknown);
    assert_eq!(
        r.message().as_deref(),
        Some("info: linearizability check timed out, assuming history is ok")
    );
}

#[test]
fn malformed_history_is_reported() {
    let h = vec![KvOperation::new(1, KvOp::Get, "k", "", "", 10, 5)];
    let r = check_history(&h, Duration::from_secs(1));
    assert!(
        matches!(&r, LabCheck::BadHistory(e) if e.contains("before its call")),
        "{r:?}"
    );
}

#[test]
fn jsonl_round_trips_through_the_reader() {
    let h = lab2_history();
    let mut buf = Vec::new();
    write_jsonl(&h, &mut buf).unwrap();
    let text = String::from_utf8(buf).unwrap();
    let loaded = load(&text, Format::Jsonl, None).unwrap();
    assert_eq!(loaded.model, ModelKind::Kv);
    assert_eq!(loaded.ops, Ops::Kv(h));
}
