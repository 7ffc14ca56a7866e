//! The `raftlab` binary: the command line of [`raftlab_models::cli`].

fn main() -> std::process::ExitCode {
    raftlab_models::cli::main()
}
