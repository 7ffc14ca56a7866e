//! The student kit end to end: `raftlab new lab3` writes a crate; as written it
//! compiles and its tests fail with a `todo!` that names the method to write; with
//! `src/lib.rs` filled in by delegating to raftlab's Raft (`kit/delegate_lib.rs`) it
//! passes the whole lab suite and the model checks, and with each deliberate bug
//! switched on it fails exactly where the README's bug table says, in the suite and
//! under the model checker. `raftlab new lab4` likewise: its skeleton fails the kvraft
//! suite naming the method, and filled in it passes the 23 kvraft tests, the Raft suite
//! and the key/value model check.
//!
//! The crates are built with cargo in a target directory of their own
//! (`target/kit`, shared by the three tests so raftlab is compiled once); every cargo
//! run is bounded in time and killed past it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The most one cargo run in these tests may take (a cold build of raftlab in release
/// is about three minutes on two cores).
const LIMIT: Duration = Duration::from_secs(1200);

/// The workspace's root.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Writes a new crate for `lab` named `name` into a fresh temporary directory.
fn new_crate(lab: &str, name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let dir = tmp.path().join(name);
    let out = Command::new(env!("CARGO_BIN_EXE_raftlab"))
        .arg("new")
        .arg(lab)
        .arg(&dir)
        .arg("--raftlab")
        .arg(workspace())
        .output()
        .expect("raftlab new runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "raftlab new failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let part = if lab == "lab3" { "3a" } else { "4a" };
    assert!(
        text.contains(&format!("cargo test --release {part}")),
        "{text}"
    );
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "README.md",
        "src/lib.rs",
        "src/main.rs",
        "tests/raft.rs",
        "tests/model.rs",
    ] {
        assert!(dir.join(file).is_file(), "raftlab new wrote no {file}");
    }
    (tmp, dir)
}

/// What a cargo run in a crate printed, and whether it succeeded.
struct Run {
    ok: bool,
    text: String,
}

/// Runs `cargo ARGS` in `dir` with `env` set (and the suites' own switches cleared),
/// killed after [`LIMIT`].
fn cargo(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out_path = dir.join("run.out");
    let out = std::fs::File::create(&out_path).expect("an output file");
    let mut cmd = Command::new(cargo);
    cmd.current_dir(dir)
        .args(args)
        .env("CARGO_TARGET_DIR", workspace().join("target/kit"))
        .env_remove("RAFTLAB_SEED")
        .env_remove("RAFTLAB_SEEDS")
        .env_remove("RAFTLAB_BUG")
        .env_remove("VERBOSE")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("the file again"))
        .stderr(out);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("cargo starts");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("cargo can be waited for") {
            break Some(status);
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = std::fs::read_to_string(&out_path).unwrap_or_default();
    match status {
        Some(s) => Run {
            ok: s.success(),
            text,
        },
        None => panic!(
            "cargo {args:?} in {} took over {LIMIT:?}:\n{text}",
            dir.display()
        ),
    }
}

impl Run {
    /// Fails unless the output holds every line of `wanted`.
    fn shows(&self, wanted: &[&str]) {
        for w in wanted {
            assert!(self.text.contains(w), "no {w:?} in:\n{}", self.text);
        }
    }
}

/// The lab tests a suite run reports as failed.
fn failed_tests(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("test ")?.strip_suffix(" ... FAILED"))
        .map(str::to_string)
        .collect()
}

/// Fills `src/lib.rs` with raftlab's Raft under the name `MyRaft`.
fn delegate(dir: &Path) {
    std::fs::write(dir.join("src/lib.rs"), include_str!("kit/delegate_lib.rs"))
        .expect("src/lib.rs can be written");
}

#[test]
fn the_skeleton_compiles_and_its_tests_name_the_method_to_write() {
    let (_tmp, dir) = new_crate("lab3", "my-raft");
    let run = cargo(&dir, &["test", "--release", "--test", "raft", "3a"], &[]);
    assert!(!run.ok, "the skeleton passed 3A:\n{}", run.text);
    let failed = failed_tests(&run.text);
    assert_eq!(
        failed,
        ["initial_election_3a", "many_elections_3a", "re_election_3a"]
            .map(String::from)
            .into(),
        "{}",
        run.text
    );
    assert!(
        run.text
            .contains("not yet implemented: MyRaft::handle_timer(Election)"),
        "the todo! names no method:\n{}",
        run.text
    );
    assert!(
        run.text.contains("replay: RAFTLAB_SEED="),
        "no replay line:\n{}",
        run.text
    );
    // The model checker stops at the same todo!.
    let run = cargo(
        &dir,
        &["test", "--release", "--test", "model", "model_check_quick"],
        &[],
    );
    assert!(!run.ok, "{}", run.text);
    assert!(run.text.contains("MyRaft::handle_timer"), "{}", run.text);
}

/// A row of the bug table: the bug, the lab tests it fails, what the model checker finds.
type BugRow = (
    &'static str,
    &'static [&'static str],
    Option<(&'static str, usize)>,
);

/// The README's bug table: for each deliberate bug, the lab tests that fail at their
/// default seeds, and the property the model checker finds broken under the bug's
/// bounds with the depth of its shortest counterexample (`None`: none is reachable).
const BUG_TABLE: &[BugRow] = &[
    (
        "vote-twice",
        &[
            "many_elections_3a",
            "figure8_3c",
            "snapshot_install_3d",
            "snapshot_install_un_crash_3d",
        ],
        Some(("election safety", 6)),
    ),
    (
        "skip-up-to-date-check",
        &[
            "fail_agree_3b",
            "backup_3b",
            "persist2_3c",
            "figure8_unreliable_3c",
            "reliable_churn_3c",
            "unreliable_churn_3c",
            "snapshot_install_unreliable_3d",
        ],
        Some(("leader completeness", 10)),
    ),
    (
        "forget-to-persist-vote",
        &[],
        Some(("persisted state consistent", 2)),
    ),
    (
        "commit-old-term-by-count",
        &[],
        Some(("leader completeness", 20)),
    ),
    (
        "accept-stale-append",
        &["persist2_3c", "snapshot_install_3d"],
        Some(("snapshots only committed", 14)),
    ),
    ("truncate-on-match", &[], Some(("leader completeness", 11))),
    (
        "skip-prev-log-term-check",
        &[
            "backup_3b",
            "figure8_unreliable_3c",
            "persist2_3c",
            "rejoin_3b",
            "snapshot_install_3d",
            "snapshot_install_unreliable_3d",
        ],
        Some(("state machine safety", 13)),
    ),
    ("commit-beyond-match", &[], None),
    ("apply-stale-snapshot", &[], Some(("applies in order", 12))),
    (
        "commit-all-on-restart",
        &[],
        Some(("leader completeness", 8)),
    ),
];

#[test]
fn filled_in_it_passes_the_suite_and_the_model_checks_and_each_bug_fails_where_the_readme_says() {
    let (_tmp, dir) = new_crate("lab3", "delegated-raft");
    delegate(&dir);
    let run = cargo(&dir, &["test", "--release", "--", "--include-ignored"], &[]);
    assert!(run.ok, "{}", run.text);
    run.shows(&[
        "test result: ok. 28 passed",
        "test model_check_quick ... ok",
        "test model_check_default ... ok",
    ]);
    // The crate's command line runs raftlab's on its own Raft.
    let run = cargo(
        &dir,
        &[
            "run",
            "--release",
            "--",
            "sim",
            "raft",
            "--seed",
            "3",
            "--seconds",
            "10",
            "--quiet",
        ],
        &[],
    );
    assert!(run.ok, "{}", run.text);

    // With each deliberate bug on (read from RAFTLAB_BUG by the suite, `--bug` by the
    // command line, and carried by MyRaft's config into raftlab's Raft).
    assert_eq!(BUG_TABLE.len(), raftlab::raft::Bug::ALL.len());
    for &(bug, suite, model) in BUG_TABLE {
        let run = cargo(
            &dir,
            &["test", "--release", "--test", "raft"],
            &[("RAFTLAB_BUG", bug)],
        );
        let want: BTreeSet<String> = suite.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            failed_tests(&run.text),
            want,
            "RAFTLAB_BUG={bug}:\n{}",
            run.text
        );
        assert_eq!(run.ok, suite.is_empty(), "RAFTLAB_BUG={bug}:\n{}", run.text);
        // Read back from the crate's own nodes: the bug reached MyRaft's config.
        let run = cargo(
            &dir,
            &[
                "test",
                "--release",
                "--test",
                "raft",
                "--",
                "--exact",
                "initial_election_3a",
                "--nocapture",
            ],
            &[("RAFTLAB_BUG", bug)],
        );
        assert!(
            run.text.contains(&format!(
                "raftlab: deliberate bug {bug} is on in all 3 servers"
            )),
            "RAFTLAB_BUG={bug} was not confirmed on:\n{}",
            run.text
        );

        let run = cargo(
            &dir,
            &[
                "run",
                "--release",
                "--",
                "check",
                "raft",
                "--bug",
                bug,
                "--bug-bounds",
                "--bfs",
                "--first",
                "--threads",
                "1",
                "--quiet",
            ],
            &[],
        );
        match model {
            Some((property, depth)) => {
                let line = run
                    .text
                    .lines()
                    .find(|l| l.starts_with(property) && l.contains("VIOLATED"))
                    .unwrap_or_else(|| {
                        panic!("--bug {bug}: {property} not violated:\n{}", run.text)
                    });
                assert!(
                    line.contains(&format!("VIOLATED at depth {depth} ")),
                    "--bug {bug}: {line}"
                );
                assert!(!run.ok, "--bug {bug}: exit 0:\n{}", run.text);
            }
            None => assert!(run.ok, "--bug {bug}: {}", run.text),
        }
    }
}

#[test]
fn lab4_fails_naming_the_method_and_filled_in_passes_the_kvraft_suite() {
    let (_tmp, dir) = new_crate("lab4", "my-kv");
    assert!(dir.join("tests/kvraft.rs").is_file());
    let run = cargo(
        &dir,
        &["test", "--release", "--test", "kvraft", "basic_4a"],
        &[],
    );
    assert!(!run.ok, "the skeleton passed basic_4a:\n{}", run.text);
    // The clerk's first request reaches the server's Raft before any timer fires.
    run.shows(&["not yet implemented: MyRaft::start (3B)"]);

    delegate(&dir);
    let run = cargo(&dir, &["test", "--release"], &[]);
    assert!(run.ok, "{}", run.text);
    run.shows(&[
        "test result: ok. 23 passed",
        "test result: ok. 28 passed",
        "test model_check_service ... ok",
        "test model_check_quick ... ok",
    ]);
    // A service bug reaches raftlab's servers around MyRaft, and the history check
    // catches it in the lab test that checks nothing else.
    let run = cargo(
        &dir,
        &[
            "test",
            "--release",
            "--test",
            "kvraft",
            "persist_partition_unreliable_linearizable_4a",
        ],
        &[("RAFTLAB_BUG", "read-before-own-write")],
    );
    assert!(!run.ok, "{}", run.text);
    run.shows(&["history is not linearizable"]);
}
