//! Reading histories from files: our JSON lines, Jepsen EDN, Jepsen log lines.
//!
//! [`detect`] guesses the format from the start of the text; [`load`] parses a
//! file's text for a given (or guessed) model into a [`Loaded`] history. Every
//! error is a [`ParseError`] naming the line (and the column or the field when there
//! is one) and what is wrong. A text that yields no operation is an error too: a
//! history is never reported linearizable because nothing in it was read.
//!
//! - [`jsonl`]: one operation per line, written by [`crate::kv::write_jsonl`];
//! - [`jepsen`]: Jepsen histories as events (EDN operation maps, or `jepsen.util`
//!   log lines), paired into operations per process;
//! - [`edn`]: the EDN reader.

pub mod edn;
pub mod jepsen;
pub mod jsonl;

use crate::history::{Annotation, Operation};
use crate::models::independent::Keyed;
use crate::models::kv::{KvInput, KvOp, KvOutput};
use crate::models::mutex::{MutexInput, MutexOutput};
use crate::models::register::{RegInput, RegOutput, RegValue};
use crate::models::set::{SetInput, SetOutput};
use crate::models::txn::{AppendTxn, RwTxn, TxnOutput};
use jepsen::FailMeans;
use std::fmt;

/// A history file that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number (0: the file as a whole).
    pub line: usize,
    /// 1-based column (in characters) within the line; 0 when not known.
    pub column: usize,
    /// The field at fault, if any.
    pub field: Option<String>,
    /// What is wrong.
    pub reason: String,
}

impl ParseError {
    pub(crate) fn at(line: usize, reason: impl Into<String>) -> ParseError {
        ParseError::at_pos(line, 0, reason)
    }

    pub(crate) fn at_pos(line: usize, column: usize, reason: impl Into<String>) -> ParseError {
        ParseError {
            line,
            column,
            field: None,
            reason: reason.into(),
        }
    }

    pub(crate) fn field(line: usize, field: &str, reason: impl Into<String>) -> ParseError {
        ParseError {
            line,
            column: 0,
            field: Some(field.to_string()),
            reason: reason.into(),
        }
    }

    pub(crate) fn field_at(pos: edn::Pos, field: &str, reason: impl Into<String>) -> ParseError {
        ParseError {
            line: pos.line,
            column: pos.column,
            field: Some(field.to_string()),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (0, _) => {}
            (line, 0) => write!(f, "line {line}: ")?,
            (line, column) => write!(f, "line {line}, column {column}: ")?,
        }
        if let Some(field) = &self.field {
            write!(f, "field {field:?}: ")?;
        }
        f.write_str(&self.reason)
    }
}

impl std::error::Error for ParseError {}

/// The input formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Our JSON lines ([`jsonl`]).
    Jsonl,
    /// Jepsen EDN: operation maps one after another or in vectors ([`jepsen`]).
    Edn,
    /// Jepsen log lines (`INFO  jepsen.util - 7  :invoke  :cas  [1 4]`).
    JepsenLog,
}

impl Format {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Edn => "edn",
            Format::JepsenLog => "jepsen-log",
        }
    }
}

/// The models the command line knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelKind {
    /// [`crate::models::kv::KvModel`].
    Kv,
    /// The key/value model where every append returns the old value (Lab 2):
    /// appends read as [`KvOp::AppendOld`], their output being the old value.
    KvLab2,
    /// [`crate::models::register::Register`].
    Register,
    /// [`crate::models::map::MapModel`].
    Map,
    /// [`crate::models::set::SetModel`].
    Set,
    /// [`crate::models::mutex::MutexModel`].
    Mutex,
    /// [`crate::models::txn::MultiRegister`].
    MultiRegister,
    /// [`crate::models::txn::ListAppend`].
    ListAppend,
}

impl ModelKind {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Kv => "kv",
            ModelKind::KvLab2 => "kv-lab2",
            ModelKind::Register => "register",
            ModelKind::Map => "map",
            ModelKind::Set => "set",
            ModelKind::Mutex => "mutex",
            ModelKind::MultiRegister => "multi-register",
            ModelKind::ListAppend => "list-append",
        }
    }
}

/// Operations of one of the shipped models' families.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ops {
    /// Key/value operations (models kv, kv-lab2, map).
    Kv(Vec<Operation<KvInput, KvOutput>>),
    /// Register operations.
    Register(Vec<Operation<RegInput, RegOutput>>),
    /// Set operations.
    Set(Vec<Operation<SetInput, SetOutput>>),
    /// Register operations on independent keys (`jepsen.independent`).
    KeyedRegister(Vec<Operation<Keyed<RegInput>, RegOutput>>),
    /// Set operations on independent keys.
    KeyedSet(Vec<Operation<Keyed<SetInput>, SetOutput>>),
    /// Mutex operations.
    Mutex(Vec<Operation<MutexInput, MutexOutput>>),
    /// Mutex operations on independent keys.
    KeyedMutex(Vec<Operation<Keyed<MutexInput>, MutexOutput>>),
    /// Multi-register transactions.
    MultiRegister(Vec<Operation<RwTxn, TxnOutput<RegValue>>>),
    /// List-append transactions.
    ListAppend(Vec<Operation<AppendTxn, TxnOutput<Vec<String>>>>),
}

impl Ops {
    /// Number of operations.
    pub fn len(&self) -> usize {
        match self {
            Ops::Kv(v) => v.len(),
            Ops::Register(v) => v.len(),
            Ops::Set(v) => v.len(),
            Ops::KeyedRegister(v) => v.len(),
            Ops::KeyedSet(v) => v.len(),
            Ops::Mutex(v) => v.len(),
            Ops::KeyedMutex(v) => v.len(),
            Ops::MultiRegister(v) => v.len(),
            Ops::ListAppend(v) => v.len(),
        }
    }

    /// Whether the operations are on independent keys (`jepsen.independent`).
    pub fn keyed(&self) -> bool {
        matches!(
            self,
            Ops::KeyedRegister(_) | Ops::KeyedSet(_) | Ops::KeyedMutex(_)
        )
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A history read from a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loaded {
    /// The model it is to be checked against.
    pub model: ModelKind,
    /// The format it was read as.
    pub format: Format,
    /// The operations.
    pub ops: Ops,
    /// For each operation, the line it was read from (its call line for events).
    pub lines: Vec<usize>,
    /// Timeline notes (JSON lines only).
    pub annotations: Vec<Annotation>,
}

/// The start of the first value in an EDN or JSON text, skipping blank lines,
/// `;` comments, and `#` comment lines (JSON lines) that are not EDN dispatches.
fn first_content(text: &str) -> Option<(usize, &str)> {
    let mut offset = 0;
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        let t = raw.trim_start();
        let rest = &text[offset + (raw.len() - t.len())..];
        offset += raw.len();
        let t = t.trim_end();
        if t.is_empty() || t.starts_with(';') || t.starts_with("#!") {
            continue;
        }
        if let Some(after) = t.strip_prefix('#') {
            let edn_dispatch = after.starts_with(['{', '_', ':', '^', '#', '"'])
                || (after.starts_with(|c: char| c.is_ascii_alphabetic())
                    && after
                        .split(|c: char| c.is_whitespace() || c == '{' || c == '[')
                        .next()
                        .is_some_and(|tag| {
                            tag.chars()
                                .all(|c| c.is_ascii_alphanumeric() || ".-_/".contains(c))
                        })
                    && after[after
                        .find(|c: char| c.is_whitespace() || c == '{' || c == '[')
                        .unwrap_or(after.len())..]
                        .trim_start()
                        .starts_with(['{', '[', '"']));
            if !edn_dispatch {
                continue;
            }
        }
        return Some((i + 1, rest));
    }
    None
}

/// Guesses the format: a JSON object (`{"`) is JSON lines; an EDN map (`{:`), vector,
/// list, tagged value or metadata is EDN; a text with an operation line
/// (`PROCESS :TYPE :F ...`) is a Jepsen log.
pub fn detect(text: &str) -> Result<Format, ParseError> {
    if let Some((line, rest)) = first_content(text) {
        let mut chars = rest.chars();
        let first = chars.next().unwrap_or(' ');
        let next = chars
            .as_str()
            .trim_start_matches(|c: char| c.is_whitespace() || c == ',')
            .chars()
            .next();
        match (first, next) {
            ('{', Some('"' | '}')) => return Ok(Format::Jsonl),
            ('{', Some(':' | ';' | '#' | '^')) | ('[' | '(' | '#' | '^', _) => {
                return Ok(Format::Edn);
            }
            _ => {}
        }
        if text.lines().any(jepsen::is_operation_line) {
            return Ok(Format::JepsenLog);
        }
        return Err(ParseError::at(
            line,
            "cannot tell the format: expected a JSON object, EDN (a map, vector or list) or a \
             Jepsen log line (use --format)",
        ));
    }
    if text.lines().any(jepsen::is_operation_line) {
        return Ok(Format::JepsenLog);
    }
    Err(ParseError::at(
        0,
        "the file holds no history (it is empty, or holds only comments)",
    ))
}

/// Why a text yielded no operation.
fn no_operation(text: &str, format: Format, events: Option<&jepsen::Events>) -> ParseError {
    let lines = text.lines().count();
    let what = match format {
        Format::JepsenLog => "none of them is an operation line",
        _ => "they hold only blanks and comments",
    };
    let mut reason = if lines == 0 {
        "the file is empty: it holds no operation".to_string()
    } else {
        format!(
            "the file holds no operation: {lines} line{} read, {what}",
            plural(lines)
        )
    };
    if let Some(e) = events {
        if !e.events.is_empty() {
            reason = format!(
                "the file holds no operation that happened: all {} client events are of \
                 operations that failed (:fail: they did not happen)",
                e.events.len()
            );
        } else if e.skipped > 0 {
            reason = format!(
                "the file holds no client operation: the {} operation{} read (the first at line \
                 {}) are of non-client processes such as :nemesis",
                e.skipped,
                plural(e.skipped),
                e.first_skipped
            );
        }
    }
    ParseError::at(0, reason)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Parses `text` as `format` for `model`; with no model, picks one: from the
/// operation names for JSON lines, from the operations' `:f` for Jepsen histories
/// ([`jepsen::guess_model`]). A text that yields no operation is an error. In EDN,
/// a `:fail` operation did not happen; in Jepsen log lines (porcupine's etcd
/// register logs), a failed compare-and-set returned false
/// ([`jepsen::FailMeans`]).
pub fn load(text: &str, format: Format, model: Option<ModelKind>) -> Result<Loaded, ParseError> {
    let (model, ops, lines, annotations) = match format {
        Format::Jsonl => {
            let model = match model {
                Some(m) => m,
                None => jsonl::guess_model(text)?,
            };
            let (ops, lines, annotations) = jsonl::load(text, model)?;
            if ops.is_empty() {
                return Err(no_operation(text, format, None));
            }
            (model, ops, lines, annotations)
        }
        Format::Edn | Format::JepsenLog => {
            let (events, fail) = if format == Format::Edn {
                (jepsen::read_edn(text)?, FailMeans::DidNotHappen)
            } else {
                (jepsen::read_log(text)?, FailMeans::CasReturnedFalse)
            };
            if events.events.is_empty() {
                return Err(no_operation(text, format, Some(&events)));
            }
            let model = match model {
                Some(m) => m,
                None => jepsen::guess_model(&events)?,
            };
            let (ops, lines) = jepsen::to_operations(&events, model, fail)?;
            if ops.is_empty() {
                return Err(no_operation(text, format, Some(&events)));
            }
            (model, ops, lines, Vec::new())
        }
    };
    let ops = match (model, ops) {
        (ModelKind::KvLab2, Ops::Kv(mut ops)) => {
            for op in &mut ops {
                if op.input.op == KvOp::Append {
                    op.input.op = KvOp::AppendOld;
                }
            }
            Ops::Kv(ops)
        }
        (_, ops) => ops,
    };
    Ok(Loaded {
        model,
        format,
        ops,
        lines,
        annotations,
    })
}
