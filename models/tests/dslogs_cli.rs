//! The `raftlab dslogs` and `raftlab sim raft --trace` commands, run as a user runs
//! them: files, standard input, pipes (no colour), exit codes, and the trace file of a
//! seed, identical across two runs.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn raftlab() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_raftlab"));
    c.env_remove("NO_COLOR")
        .env_remove("COLUMNS")
        .env_remove("VERBOSE");
    c
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/dslogs")
        .join(name)
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("raftlab-{}-{name}", std::process::id()))
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("raftlab runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn with_stdin(cmd: &mut Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("raftlab starts");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input).expect("input written");
    drop(stdin);
    child.wait_with_output().expect("raftlab ends")
}

#[test]
fn a_file_in_a_pipe_is_laid_out_without_colour() {
    let out = run(raftlab()
        .args(["dslogs", "-c", "5", "--width", "150"])
        .arg(fixture("unreliable_agree_3c.log")));
    let golden = std::fs::read(fixture("unreliable_agree_3c.c5.w150.txt")).unwrap();
    assert!(
        out.stdout == golden,
        "the command's output differs from the golden file"
    );
}

#[test]
fn standard_input_reads_the_same() {
    let input = std::fs::read(fixture("sim_raft_seed2.jsonl")).unwrap();
    let from_file = run(raftlab()
        .args(["dslogs", "-c", "3", "--width", "100"])
        .arg(fixture("sim_raft_seed2.jsonl")));
    let dash = with_stdin(
        raftlab().args(["dslogs", "-c", "3", "--width", "100", "-"]),
        &input,
    );
    let bare = with_stdin(
        raftlab().args(["dslogs", "-c", "3", "--width", "100"]),
        &input,
    );
    let golden = std::fs::read(fixture("sim_raft_seed2.c3.w100.txt")).unwrap();
    assert!(from_file.stdout == golden);
    assert!(dash.stdout == golden);
    assert!(bare.stdout == golden);
}

#[test]
fn topics_are_filtered_in_and_out() {
    let out = run(raftlab()
        .args(["dslogs", "-c", "5", "--width", "120", "--only", "vote,term"])
        .args(["--only", "DROP", "--ignore", "TERM"])
        .arg(fixture("unreliable_agree_3c.log")));
    let text = String::from_utf8(out.stdout).unwrap();
    let topics: std::collections::BTreeSet<&str> = text
        .lines()
        .filter(|l| l.len() > 7 && l.as_bytes()[0].is_ascii_digit())
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    assert_eq!(topics.into_iter().collect::<Vec<_>>(), vec!["DROP", "VOTE"]);
    // Lines that are not log lines are never filtered.
    assert!(text.contains("Test (3C): unreliable agreement ..."));
    assert!(text.contains("  ... Passed --"));
}

#[test]
fn a_missing_file_is_an_error() {
    let out = raftlab()
        .args(["dslogs", "/nonexistent/raftlab.log"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open /nonexistent/raftlab.log"));
    let out = raftlab().args(["dslogs", "-c", "0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "-c 0 accepted");
}

#[test]
fn a_directory_is_an_error_naming_it() {
    let dir = std::env::temp_dir();
    let out = raftlab().arg("dslogs").arg(&dir).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot read {}: it is a directory", dir.display())),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn a_full_output_is_an_error() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return;
    };
    let mut child = raftlab()
        .args(["dslogs", "--no-color", "-"])
        .stdin(Stdio::piped())
        .stdout(full)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(b"000364 TERM S0 election timeout: candidate in T1\n");
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("cannot write standard output"), "{stderr}");
}

#[test]
fn a_reader_that_goes_away_ends_the_command_quietly() {
    let input: Vec<u8> = (0..200_000)
        .flat_map(|i| format!("{:06} LOG1 S{} line {i}\n", i, i % 5).into_bytes())
        .collect();
    let mut child = raftlab()
        .args(["dslogs", "-c", "5", "--width", "100"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        // The command may stop reading once its output is closed.
        let _ = stdin.write_all(&input);
    });
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("ms "), "{first:?}");
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_trace_of_a_seed_is_the_same_file_twice_and_dslogs_reads_it() {
    let files = [temp("a.jsonl"), temp("b.jsonl")];
    for f in &files {
        let out = run(raftlab()
            .args([
                "sim",
                "raft",
                "--seed",
                "5",
                "--seconds",
                "3",
                "--servers",
                "3",
            ])
            .args(["--clients", "1", "--quiet", "--trace"])
            .arg(f));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("events traced to"), "{text}");
    }
    let a = std::fs::read(&files[0]).unwrap();
    let b = std::fs::read(&files[1]).unwrap();
    assert!(a.len() > 10_000, "a short trace: {} bytes", a.len());
    assert!(a == b, "two runs of seed 5 wrote different traces");

    let out = run(raftlab()
        .args(["dslogs", "-c", "3", "--width", "120"])
        .arg(&files[0]));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("ms     S0"));
    assert!(
        !text.lines().any(|l| l.starts_with('{')),
        "a record was not laid out"
    );
    for topic in [
        "CALL", "RECV", "RPLY", "RTRN", "TIMR", "BOOT", "CLNT", "APLY",
    ] {
        assert!(text.contains(topic), "no {topic} line");
    }
    for f in &files {
        let _ = std::fs::remove_file(f);
    }
}

#[test]
fn an_unwritable_trace_file_is_an_error_before_the_run() {
    let out = raftlab()
        .args(["sim", "raft", "--seed", "1", "--seconds", "1", "--quiet"])
        .args(["--trace", "/nonexistent/dir/trace.jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot create"));
}
