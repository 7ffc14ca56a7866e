//! Verdict parity with porcupine on porcupine's own test histories.
//!
//! `tests/data/porcupine/expected.tsv` lists every history porcupine v1.3.0's tests
//! check (102 Jepsen etcd register logs, 6 key/value logs partitioned by key, 4
//! unpartitioned) with the verdict its test expects; see the README there for where
//! the files come from. Each row is checked here with `raftlab lincheck`, as a user
//! would run it. Beyond porcupine's tests: the two 50-client key/value logs checked
//! whole (`--model map`, no partitioning by key), which porcupine does not try.

use raftlab_checker::cli::run_with;
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
