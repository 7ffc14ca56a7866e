//! `raftlab dslogs`: the command-line side of the log viewer in `raftlab::dslogs`
//! (arguments, the terminal, files and standard streams).

use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use raftlab::dslogs::{self, DEFAULT_WIDTH, Options, parse_topics};

use crate::cli::exit;

/// Options of `raftlab dslogs`.
#[derive(Args, Debug, Clone)]
pub struct DslogsArgs {
    /// The VERBOSE=1 output or `--trace` JSON lines to lay out; `-` or nothing reads
    /// standard input.
    #[arg(value_name = "FILE|-")]
    pub file: Option<PathBuf>,
    /// Number of columns, one per server (lines of other servers span the width).
    #[arg(short = 'c', long = "columns", value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..=64))]
    pub columns: u64,
    /// Show only these topics (comma-separated, for example VOTE,LEAD,TERM).
    #[arg(long, value_name = "TOPICS")]
    pub only: Vec<String>,
    /// Leave out these topics (comma-separated, for example PERS,TSET).
    #[arg(long, value_name = "TOPICS")]
    pub ignore: Vec<String>,
    /// No colours (they are also off when output is not a terminal, or NO_COLOR is set).
    #[arg(long)]
    pub no_color: bool,
    /// Output width in characters (default: the terminal's, else $COLUMNS, else 160).
    #[arg(long, value_name = "W", value_parser = clap::value_parser!(u64).range(20..=10_000))]
    pub width: Option<u64>,
}

fn width(args: &DslogsArgs, terminal: bool) -> usize {
    if let Some(w) = args.width {
        return w as usize;
    }
    if terminal && let Some((terminal_size::Width(w), _)) = terminal_size::terminal_size() {
        return usize::from(w).max(20);
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&w| w >= 20)
        .unwrap_or(DEFAULT_WIDTH)
}

fn topics(lists: &[String]) -> std::collections::BTreeSet<String> {
    lists.iter().flat_map(|l| parse_topics(l)).collect()
}

/// A reader that remembers whether reading failed (to tell a read error from a write
/// error).
struct Noted<'a, R> {
    inner: R,
    failed: &'a Cell<bool>,
}

impl<R: Read> Read for Noted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let r = self.inner.read(buf);
        if r.is_err() {
            self.failed.set(true);
        }
        r
    }
}

/// Runs `raftlab dslogs`: exit code 0 (also when the reader of its output goes
/// away), 3 when the input cannot be read or the output cannot be written.
pub fn run(args: DslogsArgs) -> ExitCode {
    let stdout = io::stdout();
    let terminal = stdout.is_terminal();
    let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let options = Options {
        columns: args.columns as usize,
        width: width(&args, terminal),
        color: terminal && !args.no_color && !no_color_env,
        only: (!args.only.is_empty()).then(|| topics(&args.only)),
        ignore: topics(&args.ignore),
    };
    let (name, input): (String, Box<dyn Read>) = match &args.file {
        None => ("standard input".into(), Box::new(io::stdin().lock())),
        Some(p) if p.as_os_str() == "-" => ("standard input".into(), Box::new(io::stdin().lock())),
        Some(p) => match File::open(p) {
            Ok(_) if p.is_dir() => {
                err!(
                    "raftlab dslogs: cannot read {}: it is a directory",
                    p.display()
                );
                return exit::code(exit::USAGE);
            }
            Ok(f) => (p.display().to_string(), Box::new(f)),
            Err(e) => {
                err!("raftlab dslogs: cannot open {}: {e}", p.display());
                return exit::code(exit::USAGE);
            }
        },
    };
    let read_failed = Cell::new(false);
    let input = Noted {
        inner: input,
        failed: &read_failed,
    };
    match dslogs::run(input, BufWriter::new(stdout.lock()), &options) {
        Ok(_) => exit::code(exit::OK),
        Err(e) if read_failed.get() => {
            err!("raftlab dslogs: cannot read {name}: {e}");
            exit::code(exit::USAGE)
        }
        // The reader went away (`| head`): nothing more to show.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => exit::code(exit::OK),
        Err(e) => {
            err!("raftlab dslogs: cannot write standard output: {e}");
            exit::code(exit::USAGE)
        }
    }
}
