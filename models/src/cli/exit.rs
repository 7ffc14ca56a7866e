//! The exit codes of every `raftlab` command, in one place (the README's "Exit codes"
//! table lists them command by command).

use std::process::ExitCode;

/// Everything that was checked holds (and, for a model check, the search was
/// exhaustive and every `sometimes` property was reached).
pub const OK: u8 = 0;
/// A check failed: a property violated, a history not linearizable, a safety
/// violation or a liveness failure in a simulation.
pub const FAILED: u8 = 1;
/// Inconclusive: a history check ran out of its time budget (Unknown), or an
/// exhaustive model check did not reach a `sometimes` property.
pub const INCONCLUSIVE: u8 = 2;
/// Bad arguments, an input that cannot be read, or an output that cannot be written.
pub const USAGE: u8 = 3;
/// A model check found no violation, but did not explore every state (a time limit,
/// a depth limit, a random walk, or `--first` stopping it).
pub const NOT_EXHAUSTIVE: u8 = 4;
/// Stopped by Ctrl-C (what was found so far is printed): 128 + SIGINT, as a shell
/// reports a process that SIGINT ended.
pub const INTERRUPTED: u8 = 130;

/// The process exit code `code`.
pub fn code(code: u8) -> ExitCode {
    ExitCode::from(code)
}
