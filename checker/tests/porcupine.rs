//! Verdict parity with porcupine on porcupine's own test histories.
//!
//! `tests/data/porcupine/expected.tsv` lists every history porcupine v1.3.0's tests
//! check (102 Jepsen etcd register logs, 6 key/value logs partitioned by key, 4
//! unpartitioned) with the verdict its test expects; see the README there for where
//! the files come from. Each row is checked here with `raftlab lincheck`, as a user
//! would run it. Beyond porcupine's tests: the two 50-client key/value logs checked
//! whole (`--model map`, no partitioning by key), which porcupine does not try.

use raftlab_checker::cli::run_with;
use raftlab_checker::format::{self, ModelKind};
use raftlab_checker::models::kv::{KvInput, KvModel, KvOp, KvOutput};
use raftlab_checker::{CheckOptions, Operation, PartitionStatus, Unpruned, Verdict, check};
use std::path::{Path, PathBuf};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/porcupine")
}

/// `raftlab lincheck FILE --model MODEL ARGS...`: the exit code and the report.
fn lincheck(file: &Path, model: &str, args: &[&str]) -> (i32, String) {
    let mut argv = vec![
        file.display().to_string(),
        "--model".to_string(),
        model.to_string(),
    ];
    argv.extend(args.iter().map(|s| s.to_string()));
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = run_with(argv, &mut out, &mut err);
    let text = String::from_utf8_lossy(&out).into_owned() + &String::from_utf8_lossy(&err);
    (code, text)
}

fn verdict(code: i32) -> &'static str {
    match code {
        0 => "Ok",
        1 => "Illegal",
        2 => "Unknown",
        _ => "error",
    }
}

/// The rows of expected.tsv: (file, model, verdict).
fn rows() -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(data().join("expected.tsv")).expect("expected.tsv");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 3, "expected.tsv: bad row {l:?}");
            (f[0].to_string(), f[1].to_string(), f[2].to_string())
        })
        .collect()
}

#[test]
fn every_porcupine_test_history_gets_porcupines_verdict() {
    let rows = rows();
    assert_eq!(rows.len(), 112, "porcupine v1.3.0 has 112 such tests");
    let mut wrong = Vec::new();
    let mut counts = std::collections::BTreeMap::new();
    for (file, model, expected) in &rows {
        let (code, text) = lincheck(&data().join(file), model, &["--timeout", "60"]);
        let got = verdict(code);
        *counts.entry((model.as_str(), got)).or_insert(0) += 1;
        if got != expected {
            wrong.push(format!(
                "{file} --model {model}: expected {expected}, got {got}\n{text}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} rows differ:\n{}",
        wrong.len(),
        rows.len(),
        wrong.join("\n")
    );
    // Both verdicts occur in each family, so the parity is not vacuous.
    for (model, v) in [("register", "Ok"), ("register", "Illegal"), ("kv", "Ok")] {
        assert!(counts.contains_key(&(model, v)), "no {model} row is {v}");
    }
    for (model, v) in [("kv", "Illegal"), ("map", "Ok"), ("map", "Illegal")] {
        assert!(counts.contains_key(&(model, v)), "no {model} row is {v}");
    }
}

/// The two 50-client key/value logs checked whole (`--model map`: one partition, one
/// linearization of every operation against the whole map). The search runs by
/// components (one per key; see the `search` module) and decides both well within
/// 10 s; the plain search of the whole history does not finish in a minute.
#[test]
fn the_50_client_logs_checked_whole_are_decided() {
    for (file, expected) in [("kv/c50-ok.txt", "Ok"), ("kv/c50-bad.txt", "Illegal")] {
        let started = std::time::Instant::now();
        let (code, text) = lincheck(&data().join(file), "map", &["--timeout", "10"]);
        assert_eq!(verdict(code), expected, "{file} --model map:\n{text}");
        assert!(text.contains("1 partition"), "{text}");
        assert!(
            started.elapsed().as_secs() < 10,
            "{file} took {:?}",
            started.elapsed()
        );
    }
}

/// The key/value operations of one of porcupine's logs, as lincheck reads them.
fn kv_ops(file: &str) -> Vec<Operation<KvInput, KvOutput>> {
    let text = std::fs::read_to_string(data().join(file)).expect(file);
    let format = format::detect(&text).expect("a known format");
    match format::load(&text, format, Some(ModelKind::Kv))
        .expect(file)
        .ops
    {
        format::Ops::Kv(ops) => ops,
        _ => panic!("{file}: not key/value operations"),
    }
}

/// A proof that the history of `key` is not linearizable, found without any
/// search: two gets `a` and `b` of the key, `a` returned before `b` was called,
/// and no put of the key overlaps the time from `a`'s call to `b`'s return, yet
/// `b`'s value does not extend `a`'s. In any linearization `a` comes before `b`,
/// every put of the key comes before `a` (it returned before `a` was called) or
/// after `b` (it was called after `b` returned), so only appends of the key come
/// (or Lab 2 appends) come between them, and appends only extend the value: `b` would have to see `a`'s
/// value with something appended. (An operation that never returned overlaps
/// everything after its call.)
fn stale_pair(ops: &[Operation<KvInput, KvOutput>], key: &str) -> Option<(usize, usize)> {
    let of_key: Vec<usize> = (0..ops.len())
        .filter(|&i| ops[i].input.key == key)
        .collect();
    let gets: Vec<usize> = of_key
        .iter()
        .copied()
        .filter(|&i| ops[i].input.op == KvOp::Get && ops[i].output.value.is_some())
        .collect();
    let overlaps =
        |i: usize, from: i64, to: i64| ops[i].call <= to && ops[i].ret.is_none_or(|r| r >= from);
    for &a in &gets {
        for &b in &gets {
            let (Some(ra), Some(rb)) = (ops[a].ret, ops[b].ret) else {
                continue;
            };
            if ra >= ops[b].call {
                continue;
            }
            let (va, vb) = (
                ops[a].output.value.as_deref(),
                ops[b].output.value.as_deref(),
            );
            if vb.unwrap().starts_with(va.unwrap()) {
                continue;
            }
            let put_between = of_key
                .iter()
                .any(|&p| ops[p].input.op == KvOp::Put && overlaps(p, ops[a].call, rb));
            if !put_between {
                return Some((a, b));
            }
        }
    }
    None
}

/// lincheck finds keys '0' and '9' of c50-bad illegal only with its prunings (the
/// plain search, like porcupine, runs out of time on them): each has a stale pair of
/// gets that proves it, found without a search. So do seven of the other eight
/// keys; key '6' has none, but the plain search decides it at once. The linearizable
/// c50-ok has no stale pair anywhere, as it must not.
#[test]
fn the_illegal_keys_of_c50_bad_have_a_proof_without_search() {
    let bad = kv_ops("kv/c50-bad.txt");
    let r = check(&KvModel, &bad, &CheckOptions::verbose()).unwrap();
    let keys: Vec<String> = (0..10).map(|k| k.to_string()).collect();
    for key in &keys {
        let part = r
            .partitions
            .iter()
            .find(|p| p.name == format!("key '{key}'"))
            .expect("a partition per key");
        assert_eq!(part.status, PartitionStatus::Illegal, "key '{key}'");
        let pair = stale_pair(&bad, key);
        assert_eq!(pair.is_some(), key != "6", "key '{key}': {pair:?}");
    }
    let (a, b) = stale_pair(&bad, "0").unwrap();
    assert!(bad[a].ret.unwrap() < bad[b].call);
    let ok = kv_ops("kv/c50-ok.txt");
    for key in &keys {
        assert_eq!(stale_pair(&ok, key), None, "c50-ok key '{key}'");
    }
    // Key '6', without a stale pair, is decided by the plain search itself.
    let six: Vec<_> = bad.iter().filter(|o| o.input.key == "6").cloned().collect();
    let plain = check(&Unpruned(KvModel), &six, &CheckOptions::new()).unwrap();
    assert_eq!(plain.verdict, Verdict::Illegal);
}
