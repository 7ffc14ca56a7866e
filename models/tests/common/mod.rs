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
