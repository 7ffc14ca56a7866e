//! Running the `raftlab` binary from the command-line tests.

use std::process::{Command, Output};

/// Runs `raftlab args` and waits for it.
pub fn raftlab(args: &[&str]) -> Output {
    match Command::new(env!("CARGO_BIN_EXE_raftlab"))
        .args(args)
        .output()
    {
        Ok(out) => out,
        Err(e) => panic!("cannot run raftlab: {e}"),
    }
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
