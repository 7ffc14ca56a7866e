//! The suite's bug switch, end to end: the suite binary is run again as a child with
//! `RAFTLAB_BUG` set, on one short test, to see that an unknown name fails loudly and
//! that a named bug is really on in every peer (a misread name would otherwise run the
//! suite without the bug and pass, testing nothing).

use std::process::Command;

/// Runs the lab test `test` of this suite binary with `RAFTLAB_BUG=bug`; returns
/// whether it passed, and everything it printed.
fn run_with_bug(test: &str, bug: &str) -> (bool, String) {
    let exe = std::env::current_exe().expect("the suite binary's path");
    let out = Command::new(exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env("RAFTLAB_BUG", bug)
        .env_remove("RAFTLAB_SEEDS")
        .env_remove("RAFTLAB_SEED")
        .env_remove("VERBOSE")
        .output()
        .expect("the suite binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn bug_switch_refuses_a_name_that_is_no_bug() {
    for name in ["unknown-name", "local-reads"] {
        let (passed, text) = run_with_bug("initial_election_3a", name);
        assert!(!passed, "RAFTLAB_BUG={name} passed:\n{text}");
        assert!(
            text.contains(&format!("RAFTLAB_BUG=\"{name}\"")),
            "RAFTLAB_BUG={name}: the failure does not name it:\n{text}"
        );
        assert!(
            text.contains("vote-twice"),
            "the known names are listed:\n{text}"
        );
        assert!(
            !text.contains("Test (3A): initial election"),
            "RAFTLAB_BUG={name}: the test ran anyway:\n{text}"
        );
    }
}

#[test]
fn bug_switch_puts_the_named_bug_in_every_peer() {
    // Whether the test passes with the bug does not matter here; that the bug is on
    // in all three peers, read back from them, does.
    let (_, text) = run_with_bug("initial_election_3a", "vote-twice");
    assert!(
        text.contains("raftlab: deliberate bug vote-twice is on in all 3 servers"),
        "{text}"
    );
    assert!(text.contains("Test (3A): initial election"), "{text}");
}
