//! `raftlab check raft` and `raftlab explore raft` from the command line.

mod common;

use common::{
    explore_refuses_a_taken_port, no_panic, raftlab, raftlab_into_closed_pipe, refused, text,
};

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
    assert!(stdout.contains("563 unique states"), "{stdout}");
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
    assert!(stdout.contains("VIOLATED at depth 6"), "{stdout}");
    assert!(
        stdout.contains("Counterexample to \"election safety\" (6 steps):"),
        "{stdout}"
    );
    assert!(stdout.contains("  1. fire election timer S"), "{stdout}");
    assert!(stdout.contains("to make room"), "{stdout}");
    assert!(stdout.contains("sent S"), "{stdout}");
}

#[test]
fn bad_arguments_are_clear_errors() {
    refused(&["check", "raft", "--max-term", "0"], 3, &["--max-term 0"]);
    refused(
        &["check", "raft", "--bug", "no-such-bug"],
        3,
        &["no bug named", "vote-twice"],
    );
    refused(
        &["check", "raft", "--threads", "100000"],
        3,
        &["not in 0..=256"],
    );
    refused(
        &["check", "raft", "--max-depth", "0"],
        3,
        &["not in 1..=1000000"],
    );
    refused(
        &["check", "raft", "--timeout", "-1"],
        3,
        &["invalid value '-1'"],
    );
    refused(
        &["check", "raft", "--timeout", "1000001"],
        3,
        &["not in 0..=1000000"],
    );
    refused(
        &["check", "raft", "--no-such-flag"],
        3,
        &["unexpected argument"],
    );
    refused(&["check"], 3, &["Usage: raftlab check"]);
    refused(&[], 3, &["Usage: raftlab"]);
    refused(
        &["explore", "raft", "--port", "0"],
        3,
        &["not in 1..=65535"],
    );
    // Bounds that would make the space endless (a crash counter or a duplicate count
    // that never repeats) are refused like the terms and logs past 255.
    refused(
        &["check", "raft", "--crashes", "256"],
        3,
        &["--crashes 256: at most 255"],
    );
    refused(
        &["check", "raft", "--max-in-flight", "256"],
        3,
        &["--max-in-flight 256: at most 255"],
    );
    refused(
        &["check", "kv", "--max-calls", "256"],
        3,
        &["--max-calls 256: at most 255"],
    );
    refused(
        &["check", "shardkv", "--max-term", "256"],
        3,
        &["--max-term 256: at most 255"],
    );
    refused(
        &["check", "shardkv", "--crashes", "4294967295"],
        3,
        &["at most 255"],
    );
    let out = raftlab(&["check", "raft", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out).0.contains("--max-term"));
}

/// Runs `check raft` on the tiny bounds plus `extra` and returns its exit code and
/// standard output.
fn tiny(extra: &[&str]) -> (Option<i32>, String) {
    let out = raftlab(&[&["check", "raft"][..], &TINY, extra].concat());
    let (stdout, stderr) = text(&out);
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code(), stdout)
}

#[test]
fn a_search_cut_short_exits_4() {
    // The default bounds take half a minute: one second cannot cover them, on one
    // thread (which stateright's own time limit does not stop) or two.
    for threads in ["1", "2"] {
        let out = raftlab(&[
            "check",
            "raft",
            "--quiet",
            "--timeout",
            "1",
            "--threads",
            threads,
        ]);
        let (stdout, stderr) = text(&out);
        assert_eq!(
            out.status.code(),
            Some(4),
            "{stdout}
{stderr}"
        );
        assert!(stdout.contains(", NOT exhaustive"), "{stdout}");
        assert!(
            stdout.contains("no counterexample (search not exhaustive)"),
            "{stdout}"
        );
    }
    let out = raftlab(&["check", "shardkv", "--quiet", "--timeout", "1"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(
        out.status.code(),
        Some(4),
        "{stdout}
{stderr}"
    );
    assert!(stdout.contains(", NOT exhaustive"), "{stdout}");
    let (code, stdout) = tiny(&["--max-depth", "3"]);
    assert_eq!(code, Some(4), "{stdout}");
    assert!(stdout.contains(", NOT exhaustive"), "{stdout}");
    let (code, stdout) = tiny(&["--simulate", "1", "--timeout", "1"]);
    assert_eq!(code, Some(4), "{stdout}");
}

/// `--keep-unread` and `--drop-anytime` are the unreduced searches: more states than
/// the default's 563 each, more together, and the header says so.
#[test]
fn keep_unread_and_drop_anytime_are_the_unreduced_network() {
    for (extra, states, header) in [
        (&["--keep-unread"][..], 652, &["unread replies kept"][..]),
        (&["--drop-anytime"], 1128, &["losses at any moment"]),
        (
            &["--keep-unread", "--drop-anytime"],
            1219,
            &["unread replies kept", "losses at any moment"],
        ),
    ] {
        let (code, stdout) = tiny(extra);
        assert_eq!(code, Some(0), "{stdout}");
        assert!(
            stdout.contains(&format!("{states} unique states")),
            "{extra:?}: {stdout}"
        );
        for h in header {
            assert!(stdout.contains(h), "{extra:?}: {stdout}");
        }
    }
    let (_, reduced) = tiny(&[]);
    assert!(!reduced.contains("unread replies kept"), "{reduced}");
    assert!(!reduced.contains("losses at any moment"), "{reduced}");
}

#[test]
fn limits_that_cut_nothing_leave_the_search_exhaustive() {
    // No state of the tiny bounds is 1000 steps deep, and 0 is no time limit.
    for extra in [
        &["--max-depth", "1000"][..],
        &["--timeout", "0"],
        &["--timeout", "1000"],
    ] {
        let (code, stdout) = tiny(extra);
        assert_eq!(code, Some(0), "{extra:?}: {stdout}");
        assert!(stdout.contains("563 unique states"), "{extra:?}: {stdout}");
        assert!(stdout.contains(", exhaustive"), "{extra:?}: {stdout}");
    }
}

#[test]
fn an_unreached_sometimes_property_exits_2() {
    // With 7 servers and 2 messages in flight no candidate can collect a majority.
    let out = raftlab(&["check", "raft", "--servers", "7", "--quiet"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{stdout}
{stderr}"
    );
    assert!(stdout.contains("NOT REACHED"), "{stdout}");
}

#[test]
fn output_into_a_closed_pipe_is_not_a_panic() {
    let args = [&["check", "raft"][..], &TINY].concat();
    let out = raftlab_into_closed_pipe(&args);
    no_panic(&args, &out);
    assert_eq!(out.status.code(), Some(0));
}

#[cfg(unix)]
#[test]
fn ctrl_c_prints_what_was_found_and_exits_130() {
    for threads in ["1", "2"] {
        let (first, out) =
            common::raftlab_interrupted(&["check", "raft", "--quiet", "--threads", threads]);
        let (stdout, stderr) = text(&out);
        assert!(
            first.starts_with("raftlab check raft: 3 servers"),
            "{first}"
        );
        assert_eq!(
            out.status.code(),
            Some(130),
            "{stdout}
{stderr}"
        );
        assert!(
            stdout.contains(", NOT exhaustive (interrupted)"),
            "{stdout}"
        );
        assert!(stdout.contains("election safety"), "{stdout}");
    }
}

#[test]
fn explore_says_when_its_port_is_taken() {
    explore_refuses_a_taken_port("raft");
}
