//! The end of every `raftlab sim` run that records a key/value history: check it for
//! linearizability, print the history's figures and the verdict, write the HTML view,
//! and turn the verdict into the exit code.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use raftlab::harness::kv::history::STAMPS_PER_MICRO;
use raftlab_checker::html::{self, HtmlOptions};
use raftlab_checker::kv::{KvModel, KvOperation};
use raftlab_checker::{CheckOptions, CheckResult, Verdict, check};

/// A history, checked.
pub(crate) struct Checked {
    /// The checker's result.
    pub result: CheckResult,
    /// How long the check took.
    pub time: Duration,
}

/// Checks `ops` with the lab's key/value model within `budget_secs` (0: no budget).
/// A malformed history (which the harness never records) is exit code 3.
pub(crate) fn check_kv(ops: &[KvOperation], budget_secs: f64) -> Result<Checked, ExitCode> {
    let started = Instant::now();
    let budget = Duration::from_secs_f64(budget_secs.max(0.0));
    match check(&KvModel, ops, &CheckOptions::verbose().with_timeout(budget)) {
        Ok(result) => Ok(Checked {
            result,
            time: started.elapsed(),
        }),
        Err(e) => {
            eprintln!("the recorded history is malformed: {e}");
            Err(ExitCode::from(3))
        }
    }
}

/// Prints the operation count, their rate and their latency percentiles.
pub(crate) fn print_ops(ops: &[KvOperation], virtual_secs: f64) {
    println!(
        "  operations     {} ({:.0}/virtual s)",
        ops.len(),
        ops.len() as f64 / virtual_secs.max(1e-9)
    );
    println!("  latency        {}", latency_summary(ops));
}

/// Writes the HTML view of a checked history to `path`, if one is given.
pub(crate) fn write_html(
    path: Option<&Path>,
    ops: &[KvOperation],
    checked: &Checked,
    title: String,
) -> Result<(), ExitCode> {
    let Some(path) = path else {
        return Ok(());
    };
    let page = html::render(
        &KvModel,
        ops,
        &checked.result,
        &HtmlOptions {
            title,
            annotations: Vec::new(),
        },
    );
    match std::fs::write(path, page) {
        Ok(()) => {
            println!("  history view   {}", path.display());
            Ok(())
        }
        Err(e) => {
            eprintln!("cannot write {}: {e}", path.display());
            Err(ExitCode::from(3))
        }
    }
}

/// The exit code of a verdict: 0 Ok, 1 Illegal (after printing the replay command),
/// 2 Unknown.
pub(crate) fn exit_code(verdict: Verdict, replay: &str) -> ExitCode {
    match verdict {
        Verdict::Ok => ExitCode::SUCCESS,
        Verdict::Illegal => {
            eprintln!("the history is NOT linearizable; replay: {replay}");
            ExitCode::from(1)
        }
        Verdict::Unknown => ExitCode::from(2),
    }
}

/// Latency percentiles of the operations, in virtual milliseconds (from their stamps,
/// [`STAMPS_PER_MICRO`] per virtual microsecond).
fn latency_summary(ops: &[KvOperation]) -> String {
    let mut lat: Vec<i64> = ops
        .iter()
        .filter_map(|o| o.ret.map(|r| r - o.call))
        .collect();
    if lat.is_empty() {
        return "no operations".into();
    }
    lat.sort_unstable();
    let pct = |p: f64| {
        let i = ((lat.len() - 1) as f64 * p).round() as usize;
        lat[i] as f64 / (1000 * STAMPS_PER_MICRO) as f64
    };
    format!(
        "p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms (virtual)",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    )
}
