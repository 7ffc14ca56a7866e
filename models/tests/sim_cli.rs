//! `raftlab sim raft`, `sim kv` and `sim shardkv` from the command line: the edges a
//! new user reaches (one peer, long runs, bounds, unwritable outputs, a closed
//! output pipe, Ctrl-C, a violation with RUST_BACKTRACE set).

mod common;

use common::{
    no_panic, raftlab, raftlab_env, raftlab_into_closed_pipe, refused, text, uncreatable,
};

#[test]
fn sim_raft_on_one_peer_finishes() {
    let args = [
        "sim",
        "raft",
        "--servers",
        "1",
        "--seconds",
        "5",
        "--seed",
        "1",
        "--quiet",
    ];
    let out = raftlab(&args);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("raftlab sim raft: 1 peer, 3 clients"),
        "{stdout}"
    );
    assert!(stdout.contains("all safety checks held"), "{stdout}");
}

#[test]
fn sim_kv_runs_past_the_labs_120_second_limit() {
    let args = [
        "sim",
        "kv",
        "--servers",
        "1",
        "--clients",
        "1",
        "--keys",
        "1",
        "--seconds",
        "125",
        "--seed",
        "1",
        "--quiet",
    ];
    let out = raftlab(&args);
    no_panic(&args, &out);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("verdict        Ok"), "{stdout}");
}

#[test]
fn a_violation_is_reported_without_a_panic_or_backtrace() {
    let args = [
        "sim",
        "raft",
        "--seed",
        "8",
        "--servers",
        "3",
        "--clients",
        "1",
        "--seconds",
        "20",
        "--bug",
        "skip-up-to-date-check",
        "--quiet",
    ];
    let out = raftlab_env(&args, &[("RUST_BACKTRACE", "1")]);
    no_panic(&args, &out);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("SAFETY VIOLATION (or no progress after healing): apply error"),
        "{stderr}"
    );
    assert!(
        stderr.contains("  replay: cargo run --release -- sim raft --seed 8"),
        "{stderr}"
    );
}

#[test]
fn output_into_a_closed_pipe_is_not_a_panic() {
    for args in [
        &["sim", "raft", "--seconds", "2", "--seed", "1", "--quiet"][..],
        &["sim", "kv", "--seconds", "2", "--seed", "1", "--quiet"],
        &["sim", "shardkv", "--seconds", "2", "--seed", "1", "--quiet"],
    ] {
        let out = raftlab_into_closed_pipe(args);
        no_panic(args, &out);
        // The run goes on to its end, and its exit code still tells the result.
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out).1);
    }
}

#[test]
fn bounds_are_clear_errors() {
    refused(
        &["sim", "raft", "--seconds", "3601"],
        3,
        &["3601 is not in 0..=3600"],
    );
    refused(
        &["sim", "raft", "--clients", "101"],
        3,
        &["101 is not in 0..=100"],
    );
    refused(
        &["sim", "raft", "--servers", "0"],
        3,
        &["0 is not in 1..=64"],
    );
    refused(
        &["sim", "raft", "--seed", "-1"],
        3,
        &["invalid value '-1' for '--seed"],
    );
    refused(
        &["sim", "kv", "--clients", "101"],
        3,
        &["101 is not in 1..=100"],
    );
    refused(&["sim", "kv", "--seconds", "100000"], 3, &["0..=3600"]);
    refused(
        &["sim", "shardkv", "--clients", "0"],
        3,
        &["0 is not in 1..=100"],
    );
    refused(&["sim", "shardkv", "--seconds", "3601"], 3, &["0..=3600"]);
    for budget in ["1e300", "nan", "inf", "-1"] {
        for system in ["kv", "shardkv"] {
            let args = ["sim", system, "--check-timeout", budget, "--seconds", "1"];
            let out = raftlab(&args);
            no_panic(&args, &out);
            let (_, stderr) = text(&out);
            assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
            assert!(
                stderr.contains("expected seconds from 0 (no budget)"),
                "{stderr}"
            );
        }
    }
}

#[test]
fn a_check_timeout_of_zero_is_no_budget() {
    let args = [
        "sim",
        "kv",
        "--seconds",
        "2",
        "--seed",
        "1",
        "--quiet",
        "--check-timeout",
        "0",
    ];
    let out = raftlab(&args);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("verdict        Ok"), "{stdout}");
}

#[test]
fn lengths_of_zero_run_and_heal() {
    for args in [
        &["sim", "raft", "--seconds", "0", "--seed", "1", "--quiet"][..],
        &[
            "sim",
            "raft",
            "--clients",
            "0",
            "--seconds",
            "1",
            "--seed",
            "1",
            "--quiet",
        ],
        &["sim", "kv", "--seconds", "0", "--seed", "1", "--quiet"],
        &["sim", "shardkv", "--seconds", "0", "--seed", "1", "--quiet"],
    ] {
        let out = raftlab(args);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stdout}\n{stderr}");
    }
}

#[test]
fn an_unwritable_html_file_is_an_error_before_the_run() {
    for system in ["kv", "shardkv"] {
        let path = uncreatable(&format!("{system}.html"));
        let args = [
            "sim",
            system,
            "--seconds",
            "1",
            "--seed",
            "1",
            "--quiet",
            "--html",
            &path,
        ];
        let out = raftlab(&args);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(3), "{stdout}\n{stderr}");
        assert!(
            stderr.contains("cannot create") && stderr.contains(&path),
            "{stderr}"
        );
        assert!(
            !stdout.contains("operations"),
            "the run went ahead: {stdout}"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_full_disk_is_an_error_naming_the_file() {
    let args = [
        "sim",
        "raft",
        "--seconds",
        "2",
        "--seed",
        "1",
        "--quiet",
        "--trace",
        "/dev/full",
    ];
    let out = raftlab(&args);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("could not write the trace to /dev/full"),
        "{stderr}"
    );
    let args = [
        "sim",
        "kv",
        "--seconds",
        "1",
        "--seed",
        "1",
        "--quiet",
        "--html",
        "/dev/full",
    ];
    let out = raftlab(&args);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("cannot write /dev/full"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_a_run_with_its_seed_and_exit_code_130() {
    let dir = std::env::temp_dir();
    for system in ["raft", "kv", "shardkv"] {
        // An --html file that was there keeps its contents; one the run would have
        // made is not left behind empty.
        let kept = dir.join(format!(
            "raftlab-ctrl-c-{}-{system}-kept.html",
            std::process::id()
        ));
        let fresh = dir.join(format!(
            "raftlab-ctrl-c-{}-{system}-fresh.html",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&fresh);
        if let Err(e) = std::fs::write(&kept, "keep me\n") {
            panic!("cannot write {}: {e}", kept.display());
        }
        let html = if system == "kv" { &kept } else { &fresh };
        let html = html.display().to_string();
        let mut args = vec!["sim", system, "--seconds", "3600", "--seed", "5", "--quiet"];
        if system != "raft" {
            args.extend(["--html", &html]);
        }
        let (first, out) = common::raftlab_interrupted(&args);
        let (_, stderr) = text(&out);
        assert!(
            first.starts_with(&format!("raftlab sim {system}:")),
            "{first}"
        );
        assert_eq!(out.status.code(), Some(130), "{system}: {stderr}");
        assert!(stderr.contains("interrupted at"), "{stderr}");
        assert!(stderr.contains("  seed:   5"), "{stderr}");
        assert!(
            stderr.contains(&format!(
                "  replay: cargo run --release -- sim {system} --seed 5"
            )),
            "{stderr}"
        );
        assert_eq!(
            std::fs::read_to_string(&kept).ok().as_deref(),
            Some("keep me\n")
        );
        assert!(!fresh.exists(), "{} left behind", fresh.display());
        let _ = std::fs::remove_file(&kept);
    }
}
