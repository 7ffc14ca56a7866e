//! Running the `raftlab` binary from the command-line tests. (Each test file uses
//! some of these helpers, not all.)
#![allow(dead_code)]

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long a command may run before a test gives up on it: far more than any of
/// these commands needs, so that only a hang reaches it.
pub const HANG: Duration = Duration::from_secs(300);

/// Runs `raftlab args` and waits for it.
pub fn raftlab(args: &[&str]) -> Output {
    finish(spawn(args, &[], Stdio::piped()), HANG)
}

/// Runs `raftlab args` with the environment variables `env` set.
pub fn raftlab_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    finish(spawn(args, env, Stdio::piped()), HANG)
}

fn spawn(args: &[&str], env: &[(&str, &str)], stdout: Stdio) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_raftlab"));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    match cmd.spawn() {
        Ok(child) => child,
        Err(e) => panic!("cannot run raftlab: {e}"),
    }
}

/// Waits for `child`, killing it (and failing the test) if it runs past `limit`.
fn finish(mut child: Child, limit: Duration) -> Output {
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() > limit => {
                let _ = child.kill();
                let out = child.wait_with_output();
                panic!("raftlab still running after {limit:?} (a hang?): {out:?}");
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("cannot wait for raftlab: {e}"),
        }
    }
    match child.wait_with_output() {
        Ok(out) => out,
        Err(e) => panic!("cannot read raftlab's output: {e}"),
    }
}

/// Runs `raftlab args` with its standard output closed from the start (as `| head`
/// leaves it once it has read its lines).
pub fn raftlab_into_closed_pipe(args: &[&str]) -> Output {
    let mut child = spawn(args, &[], Stdio::piped());
    drop(child.stdout.take());
    finish(child, HANG)
}

/// Runs `raftlab args`, presses Ctrl-C (SIGINT) once it has printed its first line,
/// and waits for it. Returns the first line and the rest.
#[cfg(unix)]
pub fn raftlab_interrupted(args: &[&str]) -> (String, Output) {
    use std::io::Read;
    let mut child = spawn(args, &[], Stdio::piped());
    // Byte by byte, so that nothing after the first line is taken from the rest.
    let mut first = Vec::new();
    if let Some(stdout) = child.stdout.as_mut() {
        let mut byte = [0u8];
        while let Ok(1) = stdout.read(&mut byte) {
            first.push(byte[0]);
            if byte[0] == b'\n' {
                break;
            }
        }
    }
    let first = String::from_utf8_lossy(&first).into_owned();
    let pid = child.id().to_string();
    match Command::new("kill").args(["-INT", &pid]).status() {
        Ok(s) if s.success() => {}
        other => panic!("cannot send SIGINT to raftlab: {other:?}"),
    }
    (first, finish(child, HANG))
}

/// Standard output and standard error as text.
pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `raftlab args`, which must exit with `code` and say each of `needles` on
/// standard error.
pub fn refused(args: &[&str], code: i32, needles: &[&str]) {
    let out = raftlab(args);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

/// Asserts that `out` shows no panic: no panic message, no backtrace, and not the
/// exit code of a panic (101).
pub fn no_panic(args: &[&str], out: &Output) {
    let (stdout, stderr) = text(out);
    assert_ne!(out.status.code(), Some(101), "{args:?}: {stderr}");
    for needle in ["panicked", "stack backtrace", "RUST_BACKTRACE"] {
        assert!(
            !stderr.contains(needle),
            "{args:?} printed {needle:?}:\n{stdout}\n{stderr}"
        );
    }
}

/// `raftlab explore MODEL` on a port something else holds must exit 3 and say that
/// it cannot listen. Skipped when no local port can be taken.
pub fn explore_refuses_a_taken_port(model: &str) {
    let Ok(listener) = std::net::TcpListener::bind("127.0.0.1:0") else {
        return;
    };
    let Ok(addr) = listener.local_addr() else {
        return;
    };
    let port = addr.port().to_string();
    refused(&["explore", model, "--port", &port], 3, &["cannot listen"]);
}

/// A path that no one can create, not even root: its parent is a regular file.
pub fn uncreatable(name: &str) -> String {
    let parent = std::env::temp_dir().join(format!("raftlab-cli-test-file-{}", std::process::id()));
    if let Err(e) = std::fs::write(&parent, "a file, not a directory\n") {
        panic!("cannot write {}: {e}", parent.display());
    }
    parent.join(name).display().to_string()
}
