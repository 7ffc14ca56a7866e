//! The checker benchmark's command line (`cargo bench -p raftlab-checker -- ...`):
//! `--help` says what it does without running the benchmark, and an unknown argument
//! is refused rather than taken as "run everything".

use std::process::{Command, Output};

/// Runs the benchmark binary with `args`, through cargo (a bench target has no
/// `CARGO_BIN_EXE_` path).
fn bench(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO"))
        .args([
            "bench",
            "--quiet",
            "-p",
            "raftlab-checker",
            "--bench",
            "checker",
            "--",
        ])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    match out {
        Ok(out) => out,
        Err(e) => panic!("cannot run cargo bench: {e}"),
    }
}

#[test]
fn help_prints_the_modes_and_runs_nothing() {
    let out = bench(&["--help"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    for needle in ["--export DIR", "--time FILE", "--help", "Exit codes"] {
        assert!(stdout.contains(needle), "{needle}: {stdout}");
    }
    // The benchmark's table starts with this header; --help must not print it.
    assert!(!stdout.contains("median ms"), "{stdout}");
}

#[test]
fn an_unknown_argument_is_refused() {
    let out = bench(&["--frobnicate"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("unknown argument \"--frobnicate\""),
        "{stderr}"
    );
    assert!(!stdout.contains("median ms"), "{stdout}");
}
