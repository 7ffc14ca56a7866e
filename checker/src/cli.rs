//! The `raftlab lincheck` command line.

/// Runs `raftlab lincheck` with the arguments that follow the subcommand name and
/// returns the process exit code (0 Ok, 1 Illegal, 2 Unknown, 3 unreadable input).
pub fn main(args: Vec<String>) -> i32 {
    eprintln!("raftlab lincheck: not available yet (arguments: {args:?})");
    3
}
