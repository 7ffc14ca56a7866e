//! Reading histories from files: our JSON lines, Jepsen EDN maps, Jepsen log lines.
//!
//! [`detect`] guesses the format from the first line that is not blank or a comment;
//! [`load`] parses a file's text for a given (or guessed) model into a [`Loaded`]
//! history. Every error is a [`ParseError`] naming the line, the field when there
//! is one, and what is wrong.
//!
//! - [`jsonl`]: one operation per line, written by [`crate::kv::write_jsonl`];
//! - [`jepsen`]: Jepsen histories as events (EDN maps, or `jepsen.util` log lines),
//!   paired into operations per process.

pub mod edn;
pub mod jepsen;
pub mod jsonl;

use crate::history::{Annotation, Operation};
use crate::models::kv::{KvInput, KvOp, KvOutput};
use crate::models::register::{RegInput, RegOutput};
use crate::models::set::{SetInput, SetOutput};
use std::fmt;

/// A history file that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number (0: the file as a whole).
    pub line: usize,
    /// The field at fault, if any.
    pub field: Option<String>,
    /// What is wrong.
    pub reason: String,
}

impl ParseError {
    pub(crate) fn at(line: usize, reason: impl Into<String>) -> ParseError {
        ParseError {
            line,
            field: None,
            reason: reason.into(),
        }
    }

    pub(crate) fn field(line: usize, field: &str, reason: impl Into<String>) -> ParseError {
        ParseError {
            line,
            field: Some(field.to_string()),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: ", self.line)?;
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
    /// Jepsen EDN maps, one per line.
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
}

impl Ops {
    /// Number of operations.
    pub fn len(&self) -> usize {
        match self {
            Ops::Kv(v) => v.len(),
            Ops::Register(v) => v.len(),
            Ops::Set(v) => v.len(),
        }
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

fn first_content_line(text: &str) -> Option<(usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .find(|(_, l)| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
}

/// Guesses the format from the first line with content: `{"` is JSON, `{:` is EDN,
/// and a line with `:invoke`, `:ok`, `:fail` or `:info` is a Jepsen log.
pub fn detect(text: &str) -> Result<Format, ParseError> {
    let Some((line, first)) = first_content_line(text) else {
        return Err(ParseError::at(0, "the file holds no history (it is empty)"));
    };
    if let Some(rest) = first.strip_prefix('{') {
        let rest = rest.trim_start();
        if rest.starts_with(':') {
            return Ok(Format::Edn);
        }
        if rest.starts_with('"') || rest.starts_with('}') {
            return Ok(Format::Jsonl);
        }
    }
    for line_text in text.lines() {
        if line_text
            .split_whitespace()
            .any(|t| matches!(t, ":invoke" | ":ok" | ":fail" | ":info"))
        {
            return Ok(Format::JepsenLog);
        }
    }
    Err(ParseError::at(
        line,
        "cannot tell the format: expected a JSON object, an EDN map or a Jepsen log line \
         (use --format)",
    ))
}

/// Parses `text` as `format` for `model`; with no model, picks one: from the
/// operation names for JSON lines, from `:f` for EDN (key/value unless it is
/// `:read`/`:write`/`:cas`), the register for Jepsen logs.
pub fn load(text: &str, format: Format, model: Option<ModelKind>) -> Result<Loaded, ParseError> {
    let model = match model {
        Some(m) => m,
        None => match format {
            Format::Jsonl => jsonl::guess_model(text)?,
            Format::Edn => jepsen::guess_edn_model(text)?,
            Format::JepsenLog => ModelKind::Register,
        },
    };
    let (ops, lines, annotations) = match format {
        Format::Jsonl => jsonl::load(text, model)?,
        Format::Edn | Format::JepsenLog => {
            let events = if format == Format::Edn {
                jepsen::read_edn(text)?
            } else {
                jepsen::read_log(text)?
            };
            let (ops, lines) = jepsen::to_operations(events, model)?;
            (ops, lines, Vec::new())
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
