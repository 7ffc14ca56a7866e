//! The `raftlab lincheck` command line.
//!
//! `raftlab lincheck FILE [--model kv|kv-lab2|register|map|set|mutex|multi-register|list-append]
//! [--initial VALUE] [--timeout S] [--html OUT] [--format jsonl|edn|jepsen-log] [--threads N]`
//!
//! Reads a history (format and model guessed when not given, see
//! [`crate::format`]), checks it with partial linearizations recorded, prints a
//! summary ([`crate::report::summary`]) and optionally writes the HTML view. With
//! `--html`, every partition is checked to the end so the page covers them all;
//! without it the first illegal partition stops the check. `--initial` sets the
//! value registers hold before the history (an EDN value; nil by default, as in
//! Jepsen).
//!
//! Exit codes: 0 Ok, 1 Illegal, 2 Unknown (the time budget ran out), 3 unreadable
//! input (the message names the file, the line and the reason; a file that yields
//! no operation is unreadable too) or bad arguments.

use crate::check::{CheckOptions, check};
use crate::format::edn;
use crate::format::jepsen::value_text;
use crate::format::{self, Format, Loaded, ModelKind, Ops};
use crate::history::Operation;
use crate::html::{self, HtmlOptions};
use crate::model::Model;
use crate::models::independent::{Independent, StartingAt};
use crate::models::mutex::MutexModel;
use crate::models::register::RegValue;
use crate::models::txn::{ListAppend, MultiRegister};
use crate::models::{kv::KvModel, map::MapModel, register::Register, set::SetModel};
use crate::report;
use crate::result::Verdict;
use clap::{Parser, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ModelArg {
    /// Key/value (get, put, append, append_old), one partition per key.
    Kv,
    /// Key/value where every append returns the old value (Lab 2).
    #[value(name = "kv-lab2")]
    KvLab2,
    /// One register: read, write, cas.
    Register,
    /// Key/value over the whole map, not partitioned.
    Map,
    /// A set: add, remove, contains, read.
    Set,
    /// A lock: acquire, release (Jepsen's lock workloads, Knossos's mutex).
    Mutex,
    /// Transactions of reads and writes over many registers (Knossos's
    /// multi-register, Elle's rw-register).
    #[value(name = "multi-register")]
    MultiRegister,
    /// Transactions of appends and reads over many lists (Elle's list-append).
    #[value(name = "list-append")]
    ListAppend,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FormatArg {
    /// raftlab JSON lines.
    Jsonl,
    /// Jepsen EDN: operation maps one after another or in vectors; a :fail
    /// operation did not happen.
    Edn,
    /// Jepsen log lines (jepsen.util, history.txt), read as porcupine's etcd
    /// register logs: a failed :cas returned false.
    #[value(name = "jepsen-log")]
    JepsenLog,
}

/// Check a client history for linearizability.
#[derive(Debug, Parser)]
#[command(
    name = "raftlab lincheck",
    allow_negative_numbers = true,
    about = "Check a client history for linearizability",
    after_help = "What :fail means. In EDN histories (Jepsen's own), an operation that \
completes with :fail did not happen, and is dropped. In jepsen-log histories (porcupine's etcd \
register logs, from Jepsen's 2014 etcd test), a failed :cas ran and returned false (the \
register did not hold the expected value) and a failed :read returned nothing known; any other \
failed operation did not happen. :info means the outcome is unknown.\n\n\
Exit codes: 0 Ok, 1 Illegal, 2 Unknown (timed out), 3 unreadable input (including a file that \
yields no operation) or bad arguments."
)]
struct Args {
    /// The history file.
    file: PathBuf,
    /// The model to check against (default: guessed from the history).
    #[arg(long, value_enum)]
    model: Option<ModelArg>,
    /// The value every register holds before the history, in EDN (such as 0,
    /// nil or "a"); for the register and multi-register models. Default nil.
    #[arg(long, value_name = "VALUE")]
    initial: Option<String>,
    /// Time budget in seconds; 0 for no limit.
    #[arg(long, default_value_t = 60.0)]
    timeout: f64,
    /// Write the HTML view to this file.
    #[arg(long, value_name = "OUT")]
    html: Option<PathBuf>,
    /// The input format (default: guessed from the first line).
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

/// Runs `raftlab lincheck` with the arguments that follow the subcommand name and
/// returns the process exit code (0 Ok, 1 Illegal, 2 Unknown, 3 unreadable input).
pub fn main(args: Vec<String>) -> i32 {
    run_with(args, &mut std::io::stdout(), &mut std::io::stderr())
}

/// [`main`] writing its report to `out` and its errors to `err`.
pub fn run_with(args: Vec<String>, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let argv = std::iter::once("raftlab lincheck".to_string()).chain(args);
    let args = match Args::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) => {
            let text = e.render().to_string();
            return if e.use_stderr() {
                let _ = write!(err, "{text}");
                3
            } else {
                let _ = write!(out, "{text}");
                0
            };
        }
    };
    match run(&args, out) {
        Ok(code) => code,
        Err(message) => {
            let _ = writeln!(err, "raftlab lincheck: {message}");
            3
        }
    }
}

fn read_text(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
        format!("{}: line {line}: not UTF-8 text", path.display())
    })
}

/// A number as a person would write it: plain while short, scientific when huge.
fn readable(x: f64) -> String {
    if x.is_finite() && x.abs() >= 1e15 {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

fn run(args: &Args, out: &mut dyn Write) -> Result<i32, String> {
    // The budget must also fit in a Duration (1e300 seconds does not).
    let budget = Duration::try_from_secs_f64(args.timeout).map_err(|_| {
        format!(
            "--timeout {}: expected a number of seconds from 0 to {:.1e}",
            readable(args.timeout),
            Duration::MAX.as_secs_f64()
        )
    })?;
    let name = args.file.display().to_string();
    let text = read_text(&args.file)?;
    let fmt = match args.format {
        Some(FormatArg::Jsonl) => Format::Jsonl,
        Some(FormatArg::Edn) => Format::Edn,
        Some(FormatArg::JepsenLog) => Format::JepsenLog,
        None => format::detect(&text).map_err(|e| format!("{name}: {e}"))?,
    };
    let model = args.model.map(|m| match m {
        ModelArg::Kv => ModelKind::Kv,
        ModelArg::KvLab2 => ModelKind::KvLab2,
        ModelArg::Register => ModelKind::Register,
        ModelArg::Map => ModelKind::Map,
        ModelArg::Set => ModelKind::Set,
        ModelArg::Mutex => ModelKind::Mutex,
        ModelArg::MultiRegister => ModelKind::MultiRegister,
        ModelArg::ListAppend => ModelKind::ListAppend,
    });
    let initial: Option<RegValue> = match &args.initial {
        None => None,
        Some(text) => Some(
            edn::parse_all(text)
                .map(|v| value_text(&v))
                .map_err(|e| format!("--initial {text}: column {}: {}", e.column, e.reason))?,
        ),
    };
    let loaded = format::load(&text, fmt, model).map_err(|e| format!("{name}: {e}"))?;
    let n = loaded.ops.len();
    let _ = writeln!(
        out,
        "{name}: {} format, model {}{}, {n} operation{}",
        loaded.format.name(),
        loaded.model.name(),
        if loaded.ops.keyed() {
            " (independent keys: jepsen.independent [key value] tuples)"
        } else {
            ""
        },
        if n == 1 { "" } else { "s" }
    );
    if let Some(v) = &initial
        && !matches!(
            loaded.ops,
            Ops::Register(_) | Ops::KeyedRegister(_) | Ops::MultiRegister(_)
        )
    {
        return Err(format!(
            "--initial {}: only the register and multi-register models have an initial value \
             (this is model {})",
            crate::models::register::show(v),
            loaded.model.name()
        ));
    }
    let start = initial.unwrap_or(None);
    match &loaded.ops {
        Ops::Kv(ops) => match loaded.model {
            ModelKind::Map => check_with(&MapModel, ops, &loaded, args, budget, out),
            _ => check_with(&KvModel, ops, &loaded, args, budget, out),
        },
        Ops::Register(ops) => check_with(
            &StartingAt(Register, start),
            ops,
            &loaded,
            args,
            budget,
            out,
        ),
        Ops::KeyedRegister(ops) => check_with(
            &StartingAt(Independent(Register), start),
            ops,
            &loaded,
            args,
            budget,
            out,
        ),
        Ops::Set(ops) => check_with(&SetModel, ops, &loaded, args, budget, out),
        Ops::KeyedSet(ops) => check_with(&Independent(SetModel), ops, &loaded, args, budget, out),
        Ops::Mutex(ops) => check_with(&MutexModel, ops, &loaded, args, budget, out),
        Ops::KeyedMutex(ops) => {
            check_with(&Independent(MutexModel), ops, &loaded, args, budget, out)
        }
        Ops::MultiRegister(ops) => check_with(
            &MultiRegister { initial: start },
            ops,
            &loaded,
            args,
            budget,
            out,
        ),
        Ops::ListAppend(ops) => check_with(&ListAppend, ops, &loaded, args, budget, out),
    }
}

fn check_with<M: Model>(
    model: &M,
    ops: &[Operation<M::Input, M::Output>],
    loaded: &Loaded,
    args: &Args,
    budget: Duration,
    out: &mut dyn Write,
) -> Result<i32, String> {
    let name = args.file.display().to_string();
    let mut options = CheckOptions {
        record: true,
        check_all: args.html.is_some(),
        threads: args.threads,
        ..CheckOptions::default()
    };
    if !budget.is_zero() {
        options.timeout = Some(budget);
    }
    let result = check(model, ops, &options).map_err(|e| {
        let line = loaded.lines.get(e.index).copied().unwrap_or(0);
        format!("{name}: line {line}: {}", e.reason)
    })?;
    let _ = write!(
        out,
        "{}",
        report::summary(model, ops, &result, Some(&loaded.lines))
    );
    if let Some(path) = &args.html {
        let options = HtmlOptions {
            title: name.clone(),
            annotations: loaded.annotations.clone(),
        };
        html::write(path, model, ops, &result, &options)
            .map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
        let _ = writeln!(out, "wrote {}", path.display());
    }
    Ok(match result.verdict {
        Verdict::Ok => 0,
        Verdict::Illegal => 1,
        Verdict::Unknown => 2,
    })
}
