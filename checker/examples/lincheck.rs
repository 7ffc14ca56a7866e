//! `raftlab lincheck` without the rest of raftlab:
//! `cargo run --release -p raftlab-checker --example lincheck -- FILE [options]`.

fn main() {
    let code = raftlab_checker::cli::main(std::env::args().skip(1).collect());
    std::process::exit(code);
}
