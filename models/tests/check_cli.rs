//! `raftlab check raft` and `raftlab explore raft` from the command line.

mod common;

use common::{explore_refuses_a_taken_port, raftlab, refused, text};

const TINY: [&str; 11] = [
    "--no-duplicates",
    "--max-term",
    "1",
    "--crashes",
    "0",
    "--no-snapshots",
    "--max-in-flight",
    "2",
    "--quiet",
    "--threads",
    "1",
];

#[test]
fn check_prints_a_table_and_exits_zero() {
    let out = raftlab(&[&["check", "raft"][..], &TINY].concat());
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("1267 unique states"), "{stdout}");
    assert!(stdout.contains("exhaustive"), "{stdout}");
    assert!(stdout.contains("election safety"), "{stdout}");
    assert!(stdout.contains("holds"), "{stdout}");
    assert!(stdout.contains("reached at depth"), "{stdout}");
}

#[test]
fn check_with_a_bug_prints_the_trace_and_exits_one() {
    let out = raftlab(
        &[
            &["check", "raft", "--bug", "vote-twice", "--bfs", "--first"][..],
            &TINY,
        ]
        .concat(),
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("VIOLATED at depth 10"), "{stdout}");
    assert!(
        stdout.contains("Counterexample to \"election safety\" (10 steps):"),
        "{stdout}"
    );
    assert!(stdout.contains("  1. fire election timer S"), "{stdout}");
    assert!(stdout.contains("sent S"), "{stdout}");
}

#[test]
fn bad_arguments_are_clear_errors() {
    refused(&["check", "raft", "--max-term", "0"], 3, &["--max-term 0"]);
    refused(
        &["check", "raft", "--bug", "no-such-bug"],
        2,
        &["no bug named", "vote-twice"],
    );
}

#[test]
fn explore_says_when_its_port_is_taken() {
    explore_refuses_a_taken_port("raft");
}
