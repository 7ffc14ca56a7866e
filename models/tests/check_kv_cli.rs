//! `raftlab check kv` and `raftlab explore kv` from the command line.

mod common;

use common::{explore_refuses_a_taken_port, raftlab, refused, text};

/// One term, clients taking turns: 48 814 states (45 706 while rare-event marks were
/// sticky), under a second.
const TINY: [&str; 6] = [
    "--max-term",
    "1",
    "--take-turns",
    "--quiet",
    "--threads",
    "1",
];

#[test]
fn check_prints_a_table_and_exits_zero() {
    let out = raftlab(&[&["check", "kv"][..], &TINY].concat());
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("raftlab check kv: 3 servers, 2 clients"),
        "{stdout}"
    );
    assert!(stdout.contains("48814 unique states"), "{stdout}");
    assert!(stdout.contains("exhaustive"), "{stdout}");
    assert!(stdout.contains("linearizable"), "{stdout}");
    assert!(stdout.contains("election safety"), "{stdout}");
    assert!(!stdout.contains("NOT REACHED"), "{stdout}");
}

#[test]
fn local_reads_prints_the_trace_and_exits_one() {
    let out = raftlab(&[
        "check",
        "kv",
        "--bug",
        "local-reads",
        "--take-turns",
        "--first",
        "--quiet",
        "--threads",
        "1",
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("bug local-reads"), "{stdout}");
    assert!(stdout.contains("linearizable"), "{stdout}");
    assert!(stdout.contains("VIOLATED at depth"), "{stdout}");
    assert!(
        stdout.contains("Counterexample to \"linearizable\""),
        "{stdout}"
    );
    assert!(stdout.contains("invoke Get k0 on C1"), "{stdout}");
    assert!(stdout.contains("-> C1 answer"), "{stdout}");
}

#[test]
fn bad_arguments_are_clear_errors() {
    refused(&["check", "kv", "--max-term", "0"], 3, &["--max-term 0"]);
    refused(&["check", "kv", "--max-calls", "0"], 3, &["--max-calls 0"]);
    refused(
        &["check", "kv", "--bug", "no-such-bug"],
        3,
        &["no bug named", "local-reads"],
    );
    refused(
        &["check", "kv", "--max-heartbeats", "lots"],
        3,
        &["\"any\""],
    );
    refused(
        &["check", "kv", "--clients", "9"],
        3,
        &["9 is not in 1..=4"],
    );
}

#[test]
fn explore_says_when_its_port_is_taken() {
    explore_refuses_a_taken_port("kv");
}
