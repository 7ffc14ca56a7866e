//! The full event trace (`raftlab sim raft --trace`): a pure function of the seed,
//! complete (every call followed from start to end, every kind of event present),
//! harmless (tracing changes nothing in the run), and readable by `raftlab dslogs`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use raftlab::dslogs;
use raftlab::harness::raft::{ChaosOptions, ChaosReport, ChaosRun, Config, Options, RaftLab};
use raftlab::sim::trace::write_jsonl;
use raftlab::sim::{Fate, TraceEvent, TraceRecord};

/// A chaos run of `seconds` virtual seconds with the trace on: its trace as JSON lines,
/// taken slice by slice as `raftlab sim raft --trace` does, and its report.
fn chaos_trace(seed: u64, seconds: u64) -> (Vec<u8>, ChaosReport) {
    let mut run = ChaosRun::start(ChaosOptions {
        seed,
        servers: 5,
        clients: 2,
        duration: Duration::from_secs(seconds),
        trace: true,
        ..ChaosOptions::default()
    });
    let mut out = Vec::new();
    while !run.done() {
        run.advance(Duration::from_secs(1));
        write_jsonl(&mut out, &run.take_trace()).unwrap();
    }
    let report = run.finish();
    write_jsonl(&mut out, &run.take_trace()).unwrap();
    (out, report)
}

fn records(jsonl: &[u8]) -> Vec<TraceRecord> {
    std::str::from_utf8(jsonl)
        .unwrap()
        .lines()
        .map(|l| TraceRecord::from_json(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

fn first_difference(a: &[u8], b: &[u8]) -> String {
    let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    match a
        .lines()
        .zip(b.lines())
        .enumerate()
        .find(|(_, (x, y))| x != y)
    {
        Some((n, (x, y))) => format!("line {}: {x} vs {y}", n + 1),
        None => format!("{} lines vs {}", a.lines().count(), b.lines().count()),
    }
}

#[test]
fn a_seed_gives_the_same_trace_bytes_twice() {
    let (a, _) = chaos_trace(32, 8);
    let (b, _) = chaos_trace(32, 8);
    assert!(a.len() > 100_000, "a suspiciously short trace");
    assert!(
        a == b,
        "seed 32 traced twice differs at {}",
        first_difference(&a, &b)
    );
    let (c, _) = chaos_trace(33, 8);
    assert!(a != c, "seeds 32 and 33 gave the same trace");
}

/// Every kind of record a trace can hold.
const KINDS: [&str; 21] = [
    "call:deliver",
    "call:dropped",
    "call:end_disabled",
    "request",
    "reply:deliver",
    "reply:dropped",
    "return",
    "fail:request_dropped",
    "fail:reply_dropped",
    "fail:end_disabled",
    "fail:server_gone",
    "fail:dead_before_reply",
    "timer_set",
    "timer",
    "crash",
    "restart",
    "connect",
    "disconnect",
    "start",
    "apply",
    "network",
];

#[test]
fn the_trace_has_every_kind_of_event_and_follows_every_call() {
    // Chaos runs from seed 32 on, until every kind of record has shown up (partitions,
    // crashes, unreliable periods, replies to a server that died meanwhile); every run
    // must follow every call from start to end.
    let mut seen = BTreeSet::new();
    for seed in 32..64 {
        seen.extend(check_every_call(seed));
        if KINDS.iter().all(|k| seen.contains(*k)) {
            return;
        }
    }
    let missing: Vec<_> = KINDS.iter().filter(|k| !seen.contains(**k)).collect();
    panic!("32 seeds traced no {missing:?}");
}

/// Checks the life of every call in the trace of one run, and returns the kinds of
/// record it holds.
fn check_every_call(seed: u64) -> BTreeSet<String> {
    let (jsonl, report) = chaos_trace(seed, 8);
    let records = records(&jsonl);

    // Time never goes back.
    for w in records.windows(2) {
        assert!(w[0].t_us <= w[1].t_us, "{:?} after {:?}", w[1], w[0]);
    }

    let kinds: BTreeSet<String> = records.iter().map(kind).collect();

    // Every call: made once, by a peer to another; delivered at most once, at its
    // callee; answered at most once after that; ended at most once, by a return (of a
    // delivered reply) or a failure.
    #[derive(Default)]
    struct Life {
        made: Option<(u64, u64, Fate)>,
        delivered: u32,
        replied: Option<Fate>,
        ended: u32,
        /// When the call's next step is due, if the network scheduled one (none while
        /// the handler has the request).
        due: Option<u64>,
    }
    let mut calls: BTreeMap<u64, Life> = BTreeMap::new();
    for r in &records {
        let node = r.node;
        match &r.event {
            TraceEvent::Call {
                call,
                to,
                fate,
                after_us,
                ..
            } => {
                let life = calls.entry(*call).or_default();
                assert!(life.made.is_none(), "call {call} made twice");
                let (Some(from), Some(to)) = (node, *to) else {
                    panic!("call {call} without its two peers")
                };
                assert_ne!(from, to);
                life.made = Some((from, to, *fate));
                life.due = Some(r.t_us + after_us);
            }
            TraceEvent::Request { call, from, .. } => {
                let life = calls.get_mut(call).expect("a request before its call");
                let (caller, callee, fate) = life.made.unwrap();
                assert_eq!(fate, Fate::Deliver, "call {call}: a lost request delivered");
                assert_eq!((node, *from), (Some(callee), Some(caller)));
                life.delivered += 1;
                assert_eq!(life.delivered, 1, "call {call} delivered twice");
                life.due = None;
            }
            TraceEvent::Reply {
                call,
                to,
                fate,
                after_us,
                ..
            } => {
                let life = calls.get_mut(call).expect("a reply before its call");
                assert_eq!(life.delivered, 1, "call {call} answered undelivered");
                assert!(life.replied.is_none(), "call {call} answered twice");
                let (caller, callee, _) = life.made.unwrap();
                assert_eq!((node, *to), (Some(callee), Some(caller)));
                life.replied = Some(*fate);
                life.due = Some(r.t_us + after_us);
            }
            TraceEvent::Return { call, from, .. } => {
                let life = calls.get_mut(call).expect("a return before its call");
                assert_eq!(life.replied, Some(Fate::Deliver), "call {call}");
                let (caller, callee, _) = life.made.unwrap();
                assert_eq!((node, *from), (Some(caller), Some(callee)));
                life.ended += 1;
            }
            TraceEvent::Fail { call, to, .. } => {
                let life = calls.get_mut(call).expect("a failure before its call");
                assert_ne!(life.replied, Some(Fate::Deliver), "call {call}");
                let (caller, callee, _) = life.made.unwrap();
                assert_eq!((node, *to), (Some(caller), Some(callee)));
                life.ended += 1;
            }
            _ => {}
        }
    }
    // Every RPC the network counted is in the trace, and each call that has not ended
    // is still on its way when the run stops (or awaits a handler that never answers,
    // at a crashed peer).
    assert_eq!(calls.len() as u64, report.progress.rpcs);
    let last = records.last().map_or(0, |r| r.t_us);
    for (call, life) in &calls {
        assert!(life.ended <= 1, "call {call} ended twice");
        if life.ended == 0
            && let Some(due) = life.due
        {
            assert!(
                due >= last,
                "call {call} was due at {due} us and never ended"
            );
        }
    }
    let ended = calls.values().filter(|l| l.ended == 1).count();
    assert!(ended * 10 > calls.len() * 9, "only {ended} calls ended");
    kinds
}

/// The kind of a record as its JSON says it: `ev`, with the fate of a call or a reply
/// or the reason of a failure.
fn kind(r: &TraceRecord) -> String {
    let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    let ev = json["ev"].as_str().unwrap_or_default();
    match json["fate"].as_str().or(json["reason"].as_str()) {
        Some(how) => format!("{ev}:{how}"),
        None => ev.to_string(),
    }
}

#[test]
fn tracing_changes_nothing_in_the_run() {
    fn run(seed: u64, trace: bool) -> (u64, usize) {
        let cfg = Config::new(
            seed,
            5,
            true,
            false,
            Options {
                trace,
                ..Options::default()
            },
        );
        let hash = cfg.run(|cfg| async move {
            cfg.set_long_reordering(true);
            for i in 0..20 {
                cfg.one(i, 1, true).await;
                if i % 5 == 0 {
                    let victim = cfg.rand_below(5) as usize;
                    cfg.crash1(victim);
                    cfg.sleep_ms(300).await;
                    cfg.start1(victim);
                    cfg.connect(victim);
                }
            }
        });
        (hash, cfg.take_trace().len())
    }
    let (off, none) = run(5, false);
    let (on, some) = run(5, true);
    assert_eq!(none, 0, "a trace recorded while tracing was off");
    assert!(some > 1000, "only {some} events traced");
    assert_eq!(off, on, "tracing changed the run");
}

#[test]
fn dslogs_lays_out_every_record() {
    let (jsonl, _) = chaos_trace(23, 3);
    let lines = jsonl.iter().filter(|&&b| b == b'\n').count() as u64;
    let mut out = Vec::new();
    let counts = dslogs::run(
        &jsonl[..],
        &mut out,
        &dslogs::Options {
            columns: 5,
            width: 120,
            ..dslogs::Options::default()
        },
    )
    .unwrap();
    assert_eq!(counts.passed, 0, "a record dslogs could not read");
    assert_eq!(counts.laid_out, lines);
}
