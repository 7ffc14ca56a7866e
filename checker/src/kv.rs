//! The key/value lab tests' entry point: record operations, check them, write them.
//!
//! A lab test records one [`KvOperation`] per clerk call (made with
//! [`KvOperation::new`]: client id, [`KvOp`], key, value, output, call and return
//! times in one unit; raftlab's lab tests use virtual time with ties broken in the
//! order events happened), then calls [`check_history`] with the test's budget (the
//! lab uses one second). It runs the checker with the key/value model in verbose
//! mode and returns a [`LabCheck`]:
//!
//! - `Ok`: the history is linearizable;
//! - `Illegal`: it is not; the HTML view was written to a temporary file, whose path
//!   is returned along with a text summary. The lab prints
//!   `info: wrote history visualization to <path>` and fails with
//!   `history is not linearizable` ([`LabCheck::message`] gives the first line);
//! - `Unknown`: the budget ran out first; the lab prints
//!   `info: linearizability check timed out, assuming history is ok` and passes.
//!
//! [`write_jsonl`] saves the history in the JSON-lines format that
//! `raftlab lincheck` reads (see [`crate::format::jsonl`]): one object per line,
//! such as
//! `{"client":1,"op":"append_old","key":"1","value":"x 1 0 y","output":"","call":30,"return":41}`.
//!
//! ```
//! use raftlab_checker::kv::{check_history, KvOp, KvOperation, LabCheck};
//! use std::time::Duration;
//!
//! let history = vec![
//!     KvOperation::new(1, KvOp::Put, "k", "a", "", 0, 10),
//!     KvOperation::new(2, KvOp::AppendOld, "k", "b", "a", 12, 20),
//!     KvOperation::new(0, KvOp::Get, "k", "", "ab", 21, 25),
//! ];
//! assert!(matches!(check_history(&history, Duration::from_secs(1)), LabCheck::Ok));
//!
//! let mut stale = history.clone();
//! stale.push(KvOperation::new(0, KvOp::Get, "k", "", "a", 30, 31));
//! match check_history(&stale, Duration::from_secs(1)) {
//!     LabCheck::Illegal { visualization, summary } => {
//!         assert!(summary.contains("not linearizable"));
//!         if let Ok(path) = visualization {
//!             std::fs::remove_file(path).unwrap();
//!         }
//!     }
//!     other => panic!("expected Illegal, got {other:?}"),
//! }
//!
//! let mut jsonl = Vec::new();
//! raftlab_checker::kv::write_jsonl(&history, &mut jsonl).unwrap();
//! assert!(String::from_utf8(jsonl).unwrap().starts_with("{\"call\":0,\"client\":1,"));
//! ```

use crate::check::{CheckOptions, check};
use crate::format::jsonl;
use crate::history::Operation;
use crate::html::{self, HtmlOptions};
use crate::report;
use crate::result::Verdict;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use crate::models::kv::{KvInput, KvModel, KvOp, KvOutput};

/// One recorded key/value operation.
pub type KvOperation = Operation<KvInput, KvOutput>;

impl Operation<KvInput, KvOutput> {
    /// A completed key/value operation; times are in any one unit. `output` is
    /// the value a get read or the old value a Lab 2 append returned (anything for
    /// put and append).
    pub fn new(
        client: u64,
        op: KvOp,
        key: impl Into<String>,
        value: impl Into<String>,
        output: impl Into<String>,
        call: u64,
        ret: u64,
    ) -> KvOperation {
        Operation {
            client,
            input: KvInput {
                op,
                key: key.into(),
                value: value.into(),
            },
            call: clamp_time(call),
            output: KvOutput::known(output),
            ret: Some(clamp_time(ret)),
            meta: None,
        }
    }

    /// An operation that never returned (its outcome is unknown).
    pub fn unfinished(
        client: u64,
        op: KvOp,
        key: impl Into<String>,
        value: impl Into<String>,
        call: u64,
    ) -> KvOperation {
        Operation {
            client,
            input: KvInput {
                op,
                key: key.into(),
                value: value.into(),
            },
            call: clamp_time(call),
            output: KvOutput::unknown(),
            ret: None,
            meta: None,
        }
    }
}

fn clamp_time(t: u64) -> i64 {
    i64::try_from(t).unwrap_or(i64::MAX)
}

/// The outcome of [`check_history`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabCheck {
    /// The history is linearizable.
    Ok,
    /// The history is not linearizable.
    Illegal {
        /// Where the HTML view was written, or why it could not be.
        visualization: Result<PathBuf, String>,
        /// A text summary: which key, and where its longest linearizable prefix stops.
        summary: String,
    },
    /// The budget ran out before a verdict (the lab treats this as passing).
    Unknown,
    /// The history itself is malformed (an operation returns before its call).
    BadHistory(String),
}

impl LabCheck {
    /// The line the lab prints: for Illegal, `info: wrote history visualization to
    /// <path>` (or why it was not written); for Unknown, the timeout notice; for a
    /// malformed history, what is wrong; nothing for Ok.
    pub fn message(&self) -> Option<String> {
        match self {
            LabCheck::Ok => None,
            LabCheck::Illegal {
                visualization: Ok(path),
                ..
            } => Some(format!(
                "info: wrote history visualization to {}",
                path.display()
            )),
            LabCheck::Illegal {
                visualization: Err(e),
                ..
            } => Some(format!("info: failed to write history visualization: {e}")),
            LabCheck::Unknown => {
                Some("info: linearizability check timed out, assuming history is ok".to_string())
            }
            LabCheck::BadHistory(e) => Some(format!("error: malformed history: {e}")),
        }
    }
}

/// Checks a key/value history with the lab's model in verbose mode within `budget`;
/// on Illegal, writes the HTML view to a new file in the temporary directory.
pub fn check_history(ops: &[KvOperation], budget: Duration) -> LabCheck {
    let options = CheckOptions::verbose().with_timeout(budget);
    let result = match check(&KvModel, ops, &options) {
        Ok(r) => r,
        Err(e) => return LabCheck::BadHistory(e.to_string()),
    };
    match result.verdict {
        Verdict::Ok => LabCheck::Ok,
        Verdict::Unknown => LabCheck::Unknown,
        Verdict::Illegal => {
            let summary = report::summary(&KvModel, ops, &result, None);
            let page = html::render(
                &KvModel,
                ops,
                &result,
                &HtmlOptions {
                    title: "key/value history".to_string(),
                    annotations: Vec::new(),
                },
            );
            LabCheck::Illegal {
                visualization: write_temp(&page).map_err(|e| e.to_string()),
                summary,
            }
        }
    }
}

/// Writes `page` to a new `raftlab-history-*.html` file in the temporary directory.
fn write_temp(page: &str) -> io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir();
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = dir.join(format!(
            "raftlab-history-{}-{n}-{nanos}.html",
            std::process::id()
        ));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                f.write_all(page.as_bytes())?;
                return Ok(path);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Writes the history as JSON lines (one operation per line), the format
/// `raftlab lincheck` reads.
pub fn write_jsonl(ops: &[KvOperation], out: &mut impl Write) -> io::Result<()> {
    jsonl::write_kv(ops, out)
}
