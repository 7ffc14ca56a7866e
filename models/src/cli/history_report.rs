//! What every `raftlab sim` run that records a key/value history shares: the
//! `--check-timeout` budget, the `--html` file (created before the run, so that an
//! unwritable path is said at once), the check for linearizability, the history's
//! figures and the verdict, and the verdict's exit code.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use raftlab::harness::kv::history::STAMPS_PER_MICRO;
use raftlab_checker::html::{self, HtmlOptions};
use raftlab_checker::kv::{KvModel, KvOperation};
use raftlab_checker::{Annotation, CheckOptions, CheckResult, Verdict, check};

use crate::cli::exit;

/// The largest `--check-timeout`, in seconds (11.6 days).
const MAX_BUDGET: f64 = 1_000_000.0;

/// Reads `--check-timeout`: seconds from 0 (no budget) to 1000000.
pub(crate) fn parse_budget(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && (0.0..=MAX_BUDGET).contains(&x) => Ok(x),
        _ => Err(format!(
            "{s:?}: expected seconds from 0 (no budget) to {MAX_BUDGET}"
        )),
    }
}

/// A history, checked.
pub(crate) struct Checked {
    /// The checker's result.
    pub result: CheckResult,
    /// How long the check took.
    pub time: Duration,
}

/// Checks `ops` with the lab's key/value model within `budget_secs` (from
/// [`parse_budget`]; 0: no budget). A malformed history (which the harness never
/// records) is exit code 1.
pub(crate) fn check_kv(ops: &[KvOperation], budget_secs: f64) -> Result<Checked, ExitCode> {
    let started = Instant::now();
    let mut options = CheckOptions::verbose();
    if budget_secs > 0.0 {
        options = options.with_timeout(Duration::from_secs_f64(budget_secs));
    }
    match check(&KvModel, ops, &options) {
        Ok(result) => Ok(Checked {
            result,
            time: started.elapsed(),
        }),
        Err(e) => {
            err!("the recorded history is malformed: {e}");
            Err(exit::code(exit::FAILED))
        }
    }
}

/// Prints the operation count, their rate and their latency percentiles.
pub(crate) fn print_ops(ops: &[KvOperation], virtual_secs: f64) {
    out!(
        "  operations     {} ({:.0}/virtual s)",
        ops.len(),
        ops.len() as f64 / virtual_secs.max(1e-9)
    );
    out!("  latency        {}", latency_summary(ops));
}

/// The `--html` file: opened before the run, so that an unwritable path is said at
/// once, and written at the end. An existing file is left as it is until then; a
/// file the probe created is removed again if the run ends before it is written.
pub(crate) struct HtmlFile {
    path: PathBuf,
    /// Whether the probe created the file (it did not exist before).
    created: bool,
    written: bool,
}

impl Drop for HtmlFile {
    fn drop(&mut self) {
        if self.created && !self.written {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl HtmlFile {
    /// Checks that `path` (if given) can be written, or says why not (exit code 3).
    pub(crate) fn create(command: &str, path: Option<&Path>) -> Result<Option<Self>, ExitCode> {
        let Some(path) = path else {
            return Ok(None);
        };
        let existed = path.symlink_metadata().is_ok();
        // No truncation: an existing file keeps its contents until the end.
        match OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
        {
            Ok(_) => Ok(Some(HtmlFile {
                path: path.to_path_buf(),
                created: !existed,
                written: false,
            })),
            Err(e) => {
                err!("{command}: cannot create {}: {e}", path.display());
                Err(exit::code(exit::USAGE))
            }
        }
    }

    /// Writes the HTML view of a checked history (exit code 3 when that fails).
    pub(crate) fn write(
        self,
        ops: &[KvOperation],
        checked: &Checked,
        title: String,
    ) -> Result<(), ExitCode> {
        self.write_with(ops, checked, title, Vec::new())
    }

    /// [`HtmlFile::write`] with notes on the timeline.
    pub(crate) fn write_with(
        mut self,
        ops: &[KvOperation],
        checked: &Checked,
        title: String,
        annotations: Vec<Annotation>,
    ) -> Result<(), ExitCode> {
        let page = html::render(
            &KvModel,
            ops,
            &checked.result,
            &HtmlOptions { title, annotations },
        );
        // Whatever happens now, the file is the user's: never remove it.
        self.written = true;
        match std::fs::write(&self.path, page) {
            Ok(()) => {
                out!("  history view   {}", self.path.display());
                Ok(())
            }
            Err(e) => {
                err!("cannot write {}: {e}", self.path.display());
                Err(exit::code(exit::USAGE))
            }
        }
    }
}

/// The exit code of a verdict: 0 Ok, 1 Illegal (after printing the replay command),
/// 2 Unknown.
pub(crate) fn exit_code(verdict: Verdict, replay: &str) -> ExitCode {
    match verdict {
        Verdict::Ok => exit::code(exit::OK),
        Verdict::Illegal => {
            err!("the history is NOT linearizable; replay: {replay}");
            exit::code(exit::FAILED)
        }
        Verdict::Unknown => exit::code(exit::INCONCLUSIVE),
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
