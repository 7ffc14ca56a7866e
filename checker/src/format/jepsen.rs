//! Jepsen histories: EDN operation maps, or `jepsen.util` log lines, as events
//! paired per process into operations.
//!
//! # Reading
//!
//! [`read_edn`] reads EDN as values, not lines: a history is a sequence of
//! operation maps, either one after another (one per line, as `history.edn` is
//! written) or inside one vector or list over many lines (as Knossos, Elle and the
//! tools around Jepsen write them), or several such vectors. Maps may be split
//! over lines, be records (`#jepsen.history.Op{...}`) and hold any EDN value (see
//! [`super::edn`]). An operation map has `:process`, `:type` (`:invoke`, `:ok`,
//! `:fail` or `:info`) and `:f`, and usually `:value`; `:index` (when present it must
//! increase), `:time` and any other key are allowed. An operation whose `:process` is
//! a keyword (`:nemesis`) is not a client's and is skipped; a process may be an
//! integer or a string. Anything else (a value that is not a map, a map without
//! `:process`) is an error naming its line.
//!
//! [`read_log`] reads log lines `[prefix] PROCESS TYPE F VALUE [ERROR]`, as
//! `jepsen.util` logs operations (`INFO  jepsen.util - 7\t:invoke\t:cas\t[1 4]`) and
//! as Jepsen's `history.txt` lists them (no prefix). A line that is not an operation
//! must be a log record of its own (it starts with a level such as `INFO` or a
//! timestamp), or continue one (such as a stack trace's lines); anything else is an
//! error naming the line, so a file in another format is never read as an empty
//! history.
//!
//! # Pairing
//!
//! [`to_operations`] pairs each `:invoke` with the next completion of the same
//! process; an event's time is its position among the events. A completion is:
//!
//! - `:ok`: the operation happened; its `:value` is the output (the value read, the
//!   old value of a Lab 2 append, a transaction's reads);
//! - `:fail`: the operation did not happen, and is dropped, as Jepsen means it
//!   ([`FailMeans::DidNotHappen`], for EDN). Porcupine's etcd register logs, from
//!   Jepsen's 2014 etcd test, mean something else by a failed compare-and-set: it
//!   ran and returned false (the register did not hold the expected value); and a
//!   failed read (`:fail :read :timed-out`) returned nothing known
//!   ([`FailMeans::CasReturnedFalse`], for Jepsen log lines);
//! - `:info`: the outcome is unknown (the process crashed): the operation stays open
//!   until the end with an unknown output. Jepsen gives the crashed process a new id.
//!
//! # Workloads
//!
//! [`guess_model`] tells the workload from the operations' `:f`:
//!
//! | `:f` | model | values |
//! | --- | --- | --- |
//! | `:read`, `:write`, `:cas` | register | `nil`/`v`, `v`, `[from to]` |
//! | `:get`, `:put`, `:append` with `:key` | key/value (the labs') | strings |
//! | `:add`, `:read` | set | element; the set read (`#{...}` or a vector) |
//! | `:acquire`, `:release` | mutex | ignored |
//! | `:txn` of `[:r k v]`, `[:w k v]` | multi-register (Knossos's, Elle's rw-register) | |
//! | `:txn` of `[:append k x]`, `[:r k list]` | list-append (Elle's) | |
//!
//! A register, set or mutex history whose values are all `[key value]` tuples
//! (Jepsen's `jepsen.independent`; for a register, its reads are invoked with
//! `[key nil]` rather than `nil`) is one object per key. Values compare by their EDN
//! text, except that a string compares by its characters, so that the string `"1"`
//! and the integer `1` are the same register value. Counter, bank, queue and
//! unique-id workloads are refused with a message naming them.
//!
//! [`write_edn_kv`] and [`write_log_register`] go the other way: they write
//! operations as events that these readers pair back into the same history (same
//! inputs, outputs, real-time order and open operations; the times become event
//! positions).

use super::edn::{self, Edn, Item, Pos, Reader, parse_value, string_literal};
use super::{ModelKind, Ops, ParseError};
use crate::history::{Operation, Time};
use crate::models::independent::Keyed;
use crate::models::kv::{KvInput, KvOp, KvOutput};
use crate::models::mutex::{MutexInput, MutexOutput};
use crate::models::register::{RegInput, RegOutput, RegValue};
use crate::models::set::{SetInput, SetOutput};
use crate::models::txn::{AppendMicro, AppendTxn, RwMicro, RwTxn, TxnOutput};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};
use std::marker::PhantomData;

/// The type of a Jepsen event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// `:invoke`
    Invoke,
    /// `:ok`
    Ok,
    /// `:fail`
    Fail,
    /// `:info`
    Info,
}

impl EventType {
    fn parse(name: &str) -> Option<EventType> {
        match name {
            "invoke" => Some(EventType::Invoke),
            "ok" => Some(EventType::Ok),
            "fail" => Some(EventType::Fail),
            "info" => Some(EventType::Info),
            _ => None,
        }
    }
}

/// What a `:fail` completion means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailMeans {
    /// The operation did not happen (Jepsen's meaning): it is dropped.
    DidNotHappen,
    /// As in porcupine's etcd register logs: a compare-and-set ran and returned
    /// false, a read returned nothing known; any other operation did not happen.
    CasReturnedFalse,
}

/// One Jepsen event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JepsenEvent {
    /// Source line (where the operation map or log line starts).
    pub line: usize,
    /// The process, as a client number: an integer process is itself; string
    /// processes are numbered after the largest integer one, in order of appearance.
    pub process: u64,
    /// Invoke or a completion.
    pub kind: EventType,
    /// The function (`get`, `cas`, ...), without the colon.
    pub f: String,
    /// The key (EDN `:key`), if any.
    pub key: Option<Edn>,
    /// The value (`nil` when absent).
    pub value: Edn,
    /// The line where the value starts.
    pub value_line: usize,
}

/// The events of a history file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Events {
    /// The client events, in order.
    pub events: Vec<JepsenEvent>,
    /// Operations read but skipped: those of non-client processes (`:nemesis`).
    pub skipped: usize,
    /// The first skipped operation's line (0 if none).
    pub first_skipped: usize,
}

fn err_at(pos: Pos, reason: impl Into<String>) -> ParseError {
    ParseError::at_pos(pos.line, pos.column, reason)
}

fn edn_err(e: edn::EdnError) -> ParseError {
    ParseError::at_pos(e.line, e.column, e.reason)
}

/// A process before numbering.
enum RawProcess {
    Int(u64),
    Name(String),
}

struct RawEvent {
    process: RawProcess,
    event: JepsenEvent,
}

/// Numbers the processes: integers stay, names follow the largest integer.
fn number_processes(raw: Vec<RawEvent>) -> Vec<JepsenEvent> {
    let mut next = raw
        .iter()
        .filter_map(|r| match r.process {
            RawProcess::Int(p) => Some(p.saturating_add(1)),
            RawProcess::Name(_) => None,
        })
        .max()
        .unwrap_or(0);
    let mut names: BTreeMap<String, u64> = BTreeMap::new();
    raw.into_iter()
        .map(|r| {
            let mut e = r.event;
            e.process = match r.process {
                RawProcess::Int(p) => p,
                RawProcess::Name(n) => *names.entry(n).or_insert_with(|| {
                    next += 1;
                    next - 1
                }),
            };
            e
        })
        .collect()
}

fn keyword_field(item: &Item, name: &str) -> Result<Option<String>, ParseError> {
    match item.value.get(name) {
        None => Ok(None),
        Some(Edn::Keyword(k) | Edn::Symbol(k) | Edn::Str(k)) => Ok(Some(k.clone())),
        Some(v) => Err(ParseError::field_at(
            item.field_pos(name),
            &format!(":{name}"),
            format!("expected a keyword, found {}", v.kind()),
        )),
    }
}

/// One operation map: an event, a skipped operation (`Ok(None)`), or an error.
fn edn_event(item: &Item) -> Result<Option<RawEvent>, ParseError> {
    let pos = item.pos;
    if item.value.as_map().is_none() {
        return Err(err_at(
            pos,
            format!(
                "expected an operation (a map with :process, :type and :f), found {} {}",
                item.value.kind(),
                clip(&item.value.to_string(), 60)
            ),
        ));
    }
    let process = match item.value.get("process") {
        Some(Edn::Int(p)) if *p >= 0 => RawProcess::Int(*p as u64),
        Some(Edn::Str(s)) => RawProcess::Name(s.clone()),
        Some(Edn::Keyword(_)) => return Ok(None),
        Some(v) => {
            return Err(ParseError::field_at(
                item.field_pos("process"),
                ":process",
                format!(
                    "expected a process (an integer ≥ 0, a string, or a keyword such as \
                     :nemesis), found {v}"
                ),
            ));
        }
        None => return Err(ParseError::field_at(pos, ":process", "missing")),
    };
    let kind = match keyword_field(item, "type")? {
        Some(k) => EventType::parse(&k).ok_or_else(|| {
            ParseError::field_at(
                item.field_pos("type"),
                ":type",
                format!("expected :invoke, :ok, :fail or :info, found :{k}"),
            )
        })?,
        None => return Err(ParseError::field_at(pos, ":type", "missing")),
    };
    let Some(f) = keyword_field(item, "f")? else {
        return Err(ParseError::field_at(pos, ":f", "missing"));
    };
    Ok(Some(RawEvent {
        process,
        event: JepsenEvent {
            line: pos.line,
            process: 0,
            kind,
            f,
            key: item.value.get("key").cloned(),
            value: item.value.get("value").cloned().unwrap_or(Edn::Nil),
            value_line: item.field_pos("value").line,
        },
    }))
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let head: String = s.chars().take(max).collect();
        format!("{head}…")
    }
}

/// Reads an EDN history: operation maps one after another, or inside vectors or
/// lists.
pub fn read_edn(text: &str) -> Result<Events, ParseError> {
    let mut reader = Reader::new(text);
    let mut raw = Vec::new();
    let mut out = Events::default();
    let mut last_index: Option<(i64, usize)> = None;
    let mut handle = |item: Item, out: &mut Events| -> Result<(), ParseError> {
        if let Some(index) = item.value.get("index") {
            let Edn::Int(index) = index else {
                return Err(ParseError::field_at(
                    item.field_pos("index"),
                    ":index",
                    format!("expected an integer, found {index}"),
                ));
            };
            if let Some((last, line)) = last_index
                && *index <= last
            {
                return Err(ParseError::field_at(
                    item.field_pos("index"),
                    ":index",
                    format!(
                        "{index} comes after :index {last} (line {line}): the history is out of \
                         order"
                    ),
                ));
            }
            last_index = Some((*index, item.pos.line));
        }
        match edn_event(&item)? {
            Some(e) => raw.push(e),
            None => {
                if out.skipped == 0 {
                    out.first_skipped = item.pos.line;
                }
                out.skipped += 1;
            }
        }
        Ok(())
    };
    loop {
        if let Some(open) = reader.enter_seq().map_err(edn_err)? {
            while let Some(item) = reader.next_item(open).map_err(edn_err)? {
                handle(item, &mut out)?;
            }
            continue;
        }
        match reader.next_top_item().map_err(edn_err)? {
            Some(item) => handle(item, &mut out)?,
            None => break,
        }
    }
    out.events = number_processes(raw);
    Ok(out)
}

const LEVELS: [&str; 8] = [
    "TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "FATAL", "SEVERE",
];

/// Whether a log line starts a log record: a level word among its first three
/// words, or a leading date (`2024-01-31...`).
fn is_record_start(words: &[(usize, &str)]) -> bool {
    let date = words.first().is_some_and(|(_, w)| {
        let b = w.as_bytes();
        b.len() >= 10
            && b[..4].iter().all(u8::is_ascii_digit)
            && b[4] == b'-'
            && b[5..7].iter().all(u8::is_ascii_digit)
            && b[7] == b'-'
    });
    date || words.iter().take(3).any(|(_, w)| {
        let w = w.trim_matches(|c: char| matches!(c, '[' | ']' | ':'));
        LEVELS.contains(&w)
    })
}

/// The words of a line with their byte offsets.
fn words(line: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s, &line[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &line[s..]));
    }
    out
}

/// Where an operation starts in a log line's words: `PROCESS :TYPE :F`, at the
/// start of the line or of a log message (after a logger's `-` or `name:`).
fn find_operation(words: &[(usize, &str)]) -> Option<usize> {
    (0..words.len().saturating_sub(2)).find(|&i| {
        let message_start = i == 0 || {
            let before = words[i - 1].1;
            before == "-" || before.ends_with(':') && before.len() > 1 && !before.starts_with(':')
        };
        if !message_start {
            return false;
        }
        let process = words[i].1;
        let process_ok = process.bytes().all(|b| b.is_ascii_digit())
            || (process.len() > 1 && process.starts_with(':'));
        process_ok
            && words[i + 1]
                .1
                .strip_prefix(':')
                .and_then(EventType::parse)
                .is_some()
            && words[i + 2].1.len() > 1
            && words[i + 2].1.starts_with(':')
    })
}

/// Whether `line` is a Jepsen log operation line (`[prefix] PROCESS :TYPE :F ...`).
pub fn is_operation_line(line: &str) -> bool {
    find_operation(&words(line)).is_some()
}

/// Reads Jepsen log lines: `[prefix] PROCESS TYPE F [VALUE [ERROR]]`.
pub fn read_log(text: &str) -> Result<Events, ParseError> {
    let mut raw = Vec::new();
    let mut out = Events::default();
    let mut in_record = false;
    for (i, full) in text.lines().enumerate() {
        let line = i + 1;
        let t = full.trim();
        if t.is_empty() {
            continue;
        }
        let w = words(full);
        let Some(at) = find_operation(&w) else {
            if t.starts_with(';') || t.starts_with('#') && !t.starts_with("#{") {
                continue; // a comment
            }
            if is_record_start(&w) {
                in_record = true;
                continue;
            }
            if in_record {
                continue; // a later line of a multi-line record (a stack trace)
            }
            let hint = if t.starts_with("{\"") {
                " (it looks like JSON lines: use --format jsonl)"
            } else if t.starts_with(['{', '[', '(']) {
                " (it looks like EDN: use --format edn)"
            } else {
                ""
            };
            return Err(ParseError::at(
                line,
                format!(
                    "not a Jepsen log line: expected an operation `PROCESS :TYPE :F VALUE` \
                     (as jepsen.util logs it) or a log record{hint}: {}",
                    clip(t, 60)
                ),
            ));
        };
        in_record = false;
        let process = w[at].1;
        let kind = w[at + 1]
            .1
            .strip_prefix(':')
            .and_then(EventType::parse)
            .expect("find_operation checked the type");
        let f = w[at + 2].1[1..].to_string();
        if process.starts_with(':') {
            if out.skipped == 0 {
                out.first_skipped = line;
            }
            out.skipped += 1;
            continue;
        }
        let Ok(process) = process.parse::<u64>() else {
            return Err(ParseError::at(
                line,
                format!("process {process} is too large"),
            ));
        };
        let value_at = w[at + 2].0 + w[at + 2].1.len();
        let value_text = &full[value_at..];
        let value = if value_text.trim().is_empty() {
            Edn::Nil
        } else {
            match parse_value(value_text) {
                Ok((v, _error_text)) => v,
                Err(e) => {
                    let column = full[..value_at].chars().count() + e.column;
                    return Err(ParseError::at_pos(
                        line,
                        column,
                        format!("cannot read the value: {}", e.reason),
                    ));
                }
            }
        };
        raw.push(RawEvent {
            process: RawProcess::Int(process),
            event: JepsenEvent {
                line,
                process,
                kind,
                f,
                key: None,
                value,
                value_line: line,
            },
        });
    }
    out.events = number_processes(raw);
    Ok(out)
}

const SUPPORTED: &str = "lincheck checks register (:read :write :cas), key/value (:get :put \
     :append with :key), set (:add :read), mutex (:acquire :release), multi-register (:txn of \
     [:r k v] [:w k v]) and list-append (:txn of [:append k x] [:r k list]) histories; \
     register, set and mutex values may be jepsen.independent [key value] tuples";

/// The micro-operation names of the `:txn` events.
fn txn_micro_names(events: &[JepsenEvent]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for e in events.iter().filter(|e| e.f == "txn") {
        for m in e.value.items().unwrap_or(&[]) {
            if let Some(Edn::Keyword(f)) = m.items().and_then(|m| m.first()) {
                names.insert(f.clone());
            }
        }
    }
    names
}

/// Tells the workload from the operations' `:f` (see the module docs).
pub fn guess_model(events: &Events) -> Result<ModelKind, ParseError> {
    let ev = &events.events;
    let Some(first) = ev.first() else {
        return Err(ParseError::at(0, "the file holds no client operation"));
    };
    let fs: BTreeSet<&str> = ev.iter().map(|e| e.f.as_str()).collect();
    let first_line = |f: &str| ev.iter().find(|e| e.f == f).map_or(first.line, |e| e.line);
    let subset = |allowed: &[&str]| fs.iter().all(|f| allowed.contains(f));
    if subset(&["read", "write", "cas"]) {
        return Ok(ModelKind::Register);
    }
    if fs.contains("get") || fs.contains("put") || ev.iter().any(|e| e.key.is_some()) {
        return Ok(ModelKind::Kv);
    }
    if subset(&["acquire", "release"]) {
        return Ok(ModelKind::Mutex);
    }
    if subset(&["txn"]) {
        let names = txn_micro_names(ev);
        return Ok(if names.contains("append") {
            ModelKind::ListAppend
        } else {
            ModelKind::MultiRegister
        });
    }
    if subset(&["add", "read"]) {
        let counter = ev.iter().find(|e| {
            e.kind == EventType::Ok
                && e.f == "read"
                && matches!(e.value, Edn::Int(_) | Edn::BigInt(_) | Edn::Float(_))
        });
        if let Some(e) = counter {
            return Err(ParseError::at(
                e.line,
                format!(
                    "this looks like Jepsen's counter workload (:add, and a :read of a number), \
                     which is not a linearizability check lincheck makes; {SUPPORTED}"
                ),
            ));
        }
        return Ok(ModelKind::Set);
    }
    let unsupported = [
        ("transfer", "bank"),
        ("enqueue", "queue"),
        ("dequeue", "queue"),
        ("drain", "queue"),
        ("generate", "unique-ids"),
        ("incr", "counter"),
    ];
    for (f, workload) in unsupported {
        if fs.contains(f) {
            return Err(ParseError::at(
                first_line(f),
                format!(
                    "this looks like Jepsen's {workload} workload (:f :{f}), which lincheck does not check; {SUPPORTED}"
                ),
            ));
        }
    }
    let odd = fs
        .iter()
        .find(|f| {
            ![
                "read", "write", "cas", "acquire", "release", "txn", "add", "append",
            ]
            .contains(f)
        })
        .unwrap_or(&"?");
    Err(ParseError::at(
        first_line(odd),
        format!(
            "cannot tell the workload: the operations mix {}; {SUPPORTED}",
            fs.iter()
                .map(|f| format!(":{f}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ))
}

/// A value as model text: `nil` is absent, a string its characters, an integer its
/// digits, anything else its EDN text.
pub fn value_text(v: &Edn) -> RegValue {
    match v {
        Edn::Nil => None,
        Edn::Str(s) => Some(s.clone()),
        Edn::Int(i) => Some(i.to_string()),
        v => Some(v.canonical()),
    }
}

/// A key as text (as [`value_text`], `nil` written `nil`).
fn key_text(v: &Edn) -> String {
    value_text(v).unwrap_or_else(|| "nil".to_string())
}

fn text_of(line: usize, field: &str, v: &Edn) -> Result<String, ParseError> {
    match v {
        Edn::Str(s) => Ok(s.clone()),
        Edn::Int(i) => Ok(i.to_string()),
        Edn::Nil => Ok(String::new()),
        v => Err(ParseError::field(
            line,
            field,
            format!("expected a string, found {v}"),
        )),
    }
}

fn value_err(e: &JepsenEvent, reason: impl Into<String>) -> ParseError {
    ParseError::field(e.value_line, ":value", reason)
}

fn wrong_f(e: &JepsenEvent, model: &str, expected: &str) -> ParseError {
    ParseError::field(
        e.line,
        ":f",
        format!("expected {expected} for the {model} model, found :{}", e.f),
    )
}

/// What one model family needs to turn events into operations.
trait Family {
    type Input;
    type Output;
    /// The input of an invoke event.
    fn input(e: &JepsenEvent) -> Result<Self::Input, ParseError>;
    /// The output given by an `:ok` completion.
    fn output(input: &Self::Input, e: &JepsenEvent) -> Result<Self::Output, ParseError>;
    /// The output given by a `:fail` completion; `None` drops the operation.
    fn failed(
        input: &Self::Input,
        e: &JepsenEvent,
        fail: FailMeans,
    ) -> Result<Option<Self::Output>, ParseError> {
        let _ = (input, e, fail);
        Ok(None)
    }
    /// The unknown output.
    fn unknown(input: &Self::Input) -> Self::Output;
}

struct KvFamily;

impl Family for KvFamily {
    type Input = KvInput;
    type Output = KvOutput;

    fn input(e: &JepsenEvent) -> Result<KvInput, ParseError> {
        let op = match e.f.as_str() {
            "get" | "read" => KvOp::Get,
            "put" | "write" => KvOp::Put,
            "append" => KvOp::Append,
            _ => return Err(wrong_f(e, "key/value", ":get, :put or :append")),
        };
        let key = match &e.key {
            Some(k) => text_of(e.line, ":key", k)?,
            None => return Err(ParseError::field(e.line, ":key", "missing")),
        };
        let value = if op == KvOp::Get {
            String::new()
        } else {
            text_of(e.value_line, ":value", &e.value)?
        };
        Ok(KvInput { op, key, value })
    }

    fn output(_input: &KvInput, e: &JepsenEvent) -> Result<KvOutput, ParseError> {
        Ok(KvOutput::known(text_of(e.value_line, ":value", &e.value)?))
    }

    fn unknown(_input: &KvInput) -> KvOutput {
        KvOutput::unknown()
    }
}

struct RegisterFamily;

impl Family for RegisterFamily {
    type Input = RegInput;
    type Output = RegOutput;

    fn input(e: &JepsenEvent) -> Result<RegInput, ParseError> {
        match e.f.as_str() {
            "read" => Ok(RegInput::Read),
            "write" => Ok(RegInput::Write(value_text(&e.value))),
            "cas" => match e.value.items() {
                Some([from, to]) if matches!(e.value, Edn::Seq(_)) => Ok(RegInput::Cas {
                    from: value_text(from),
                    to: value_text(to),
                }),
                _ => Err(value_err(
                    e,
                    format!("expected [from to], found {}", e.value),
                )),
            },
            _ => Err(wrong_f(e, "register", ":read, :write or :cas")),
        }
    }

    fn output(input: &RegInput, e: &JepsenEvent) -> Result<RegOutput, ParseError> {
        Ok(match input {
            RegInput::Read => RegOutput::Read(value_text(&e.value)),
            RegInput::Write(_) => RegOutput::Done,
            RegInput::Cas { .. } => RegOutput::Cas(true),
        })
    }

    fn failed(
        input: &RegInput,
        _e: &JepsenEvent,
        fail: FailMeans,
    ) -> Result<Option<RegOutput>, ParseError> {
        Ok(match (fail, input) {
            (FailMeans::DidNotHappen, _) | (_, RegInput::Write(_)) => None,
            (FailMeans::CasReturnedFalse, RegInput::Cas { .. }) => Some(RegOutput::Cas(false)),
            (FailMeans::CasReturnedFalse, RegInput::Read) => Some(RegOutput::Unknown),
        })
    }

    fn unknown(_input: &RegInput) -> RegOutput {
        RegOutput::Unknown
    }
}

struct SetFamily;

impl Family for SetFamily {
    type Input = SetInput;
    type Output = SetOutput;

    fn input(e: &JepsenEvent) -> Result<SetInput, ParseError> {
        match e.f.as_str() {
            "add" => Ok(SetInput::Add(key_text(&e.value))),
            "read" => Ok(SetInput::Read),
            _ => Err(wrong_f(e, "set", ":add or :read")),
        }
    }

    fn output(input: &SetInput, e: &JepsenEvent) -> Result<SetOutput, ParseError> {
        Ok(match input {
            SetInput::Read => match (&e.value, e.value.items()) {
                (Edn::Nil, _) => SetOutput::Read(BTreeSet::new()),
                (_, Some(items)) => SetOutput::Read(items.iter().map(key_text).collect()),
                (v, None) => {
                    return Err(value_err(
                        e,
                        format!(
                            "expected the set read (a set or a vector), found {}",
                            v.kind()
                        ),
                    ));
                }
            },
            _ => SetOutput::Done,
        })
    }

    fn unknown(_input: &SetInput) -> SetOutput {
        SetOutput::Unknown
    }
}

struct MutexFamily;

impl Family for MutexFamily {
    type Input = MutexInput;
    type Output = MutexOutput;

    fn input(e: &JepsenEvent) -> Result<MutexInput, ParseError> {
        match e.f.as_str() {
            "acquire" => Ok(MutexInput::Acquire),
            "release" => Ok(MutexInput::Release),
            _ => Err(wrong_f(e, "mutex", ":acquire or :release")),
        }
    }

    fn output(_input: &MutexInput, _e: &JepsenEvent) -> Result<MutexOutput, ParseError> {
        Ok(MutexOutput::Done)
    }

    fn unknown(_input: &MutexInput) -> MutexOutput {
        MutexOutput::Unknown
    }
}

/// A family whose values are `[key value]` tuples (`jepsen.independent`).
struct KeyedFamily<F>(PhantomData<F>);

fn split_tuple(e: &JepsenEvent) -> Result<(String, JepsenEvent), ParseError> {
    match (&e.value, e.value.items()) {
        (Edn::Seq(_), Some([k, v])) => {
            let mut inner = e.clone();
            inner.value = v.clone();
            Ok((key_text(k), inner))
        }
        _ => Err(value_err(
            e,
            format!(
                "expected a [key value] tuple (jepsen.independent), found {}",
                clip(&e.value.to_string(), 60)
            ),
        )),
    }
}

impl<F: Family> Family for KeyedFamily<F> {
    type Input = Keyed<F::Input>;
    type Output = F::Output;

    fn input(e: &JepsenEvent) -> Result<Keyed<F::Input>, ParseError> {
        let (key, inner) = split_tuple(e)?;
        Ok(Keyed {
            key,
            input: F::input(&inner)?,
        })
    }

    fn output(input: &Keyed<F::Input>, e: &JepsenEvent) -> Result<F::Output, ParseError> {
        let (key, inner) = split_tuple(e)?;
        if key != input.key {
            return Err(value_err(
                e,
                format!(
                    "completes key {key} but the operation was invoked on key {}",
                    input.key
                ),
            ));
        }
        F::output(&input.input, &inner)
    }

    fn failed(
        input: &Keyed<F::Input>,
        e: &JepsenEvent,
        fail: FailMeans,
    ) -> Result<Option<F::Output>, ParseError> {
        F::failed(&input.input, e, fail)
    }

    fn unknown(input: &Keyed<F::Input>) -> F::Output {
        F::unknown(&input.input)
    }
}

/// A transaction's micro-operations: `(name, key, value)` each.
fn micro_ops(e: &JepsenEvent) -> Result<Vec<(&str, &Edn, &Edn)>, ParseError> {
    let Some(items) = e.value.items().filter(|_| matches!(e.value, Edn::Seq(_))) else {
        return Err(value_err(
            e,
            format!(
                "expected a transaction (a vector of [f k v]), found {}",
                e.value.kind()
            ),
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, m)| match (m, m.items()) {
            (Edn::Seq(_), Some([Edn::Keyword(f), k, v])) => Ok((f.as_str(), k, v)),
            (Edn::Seq(_), Some([Edn::Keyword(f), k])) => Ok((f.as_str(), k, &Edn::Nil)),
            _ => Err(value_err(
                e,
                format!(
                    "micro-operation {}: expected [:f key value], found {}",
                    i + 1,
                    clip(&m.to_string(), 60)
                ),
            )),
        })
        .collect()
}

/// The reads' values of a completed transaction, checked against its invocation.
fn txn_reads(
    e: &JepsenEvent,
    invoked: impl Iterator<Item = (bool, String)>,
) -> Result<Vec<&Edn>, ParseError> {
    let done = micro_ops(e)?;
    let invoked: Vec<(bool, String)> = invoked.collect();
    if done.len() != invoked.len() {
        return Err(value_err(
            e,
            format!(
                "the completion has {} micro-operations, the invocation {}",
                done.len(),
                invoked.len()
            ),
        ));
    }
    let mut reads = Vec::new();
    for (i, ((f, k, v), (is_read, key))) in done.into_iter().zip(invoked).enumerate() {
        let read = matches!(f, "r" | "read");
        if read != is_read || key_text(k) != key {
            return Err(value_err(
                e,
                format!("micro-operation {} does not match the invocation's", i + 1),
            ));
        }
        if read {
            reads.push(v);
        }
    }
    Ok(reads)
}

struct RwFamily;

impl Family for RwFamily {
    type Input = RwTxn;
    type Output = TxnOutput<RegValue>;

    fn input(e: &JepsenEvent) -> Result<RwTxn, ParseError> {
        if e.f != "txn" {
            return Err(wrong_f(e, "multi-register", ":txn"));
        }
        micro_ops(e)?
            .into_iter()
            .enumerate()
            .map(|(i, (f, k, v))| match f {
                "r" | "read" => Ok(RwMicro::Read(key_text(k))),
                "w" | "write" => Ok(RwMicro::Write(key_text(k), value_text(v))),
                _ => Err(value_err(
                    e,
                    format!(
                        "micro-operation {}: expected :r or :w for the multi-register model, found :{f}",
                        i + 1
                    ),
                )),
            })
            .collect()
    }

    fn output(input: &RwTxn, e: &JepsenEvent) -> Result<Self::Output, ParseError> {
        let invoked = input.iter().map(|m| match m {
            RwMicro::Read(k) => (true, k.clone()),
            RwMicro::Write(k, _) => (false, k.clone()),
        });
        Ok(TxnOutput::Ok(
            txn_reads(e, invoked)?.into_iter().map(value_text).collect(),
        ))
    }

    fn unknown(_input: &RwTxn) -> Self::Output {
        TxnOutput::Unknown
    }
}

struct AppendFamily;

impl Family for AppendFamily {
    type Input = AppendTxn;
    type Output = TxnOutput<Vec<String>>;

    fn input(e: &JepsenEvent) -> Result<AppendTxn, ParseError> {
        if e.f != "txn" {
            return Err(wrong_f(e, "list-append", ":txn"));
        }
        micro_ops(e)?
            .into_iter()
            .enumerate()
            .map(|(i, (f, k, v))| match f {
                "r" | "read" => Ok(AppendMicro::Read(key_text(k))),
                "append" => Ok(AppendMicro::Append(key_text(k), key_text(v))),
                _ => Err(value_err(
                    e,
                    format!(
                        "micro-operation {}: expected :append or :r for the list-append model, found :{f}",
                        i + 1
                    ),
                )),
            })
            .collect()
    }

    fn output(input: &AppendTxn, e: &JepsenEvent) -> Result<Self::Output, ParseError> {
        let invoked = input.iter().map(|m| match m {
            AppendMicro::Read(k) => (true, k.clone()),
            AppendMicro::Append(k, _) => (false, k.clone()),
        });
        let reads = txn_reads(e, invoked)?;
        let mut out = Vec::with_capacity(reads.len());
        for v in reads {
            out.push(match (v, v.items()) {
                (Edn::Nil, _) => Vec::new(),
                (Edn::Seq(_), Some(items)) => items.iter().map(key_text).collect(),
                _ => {
                    return Err(value_err(
                        e,
                        format!("a read of a list returned {}, not a vector", v.kind()),
                    ));
                }
            });
        }
        Ok(TxnOutput::Ok(out))
    }

    fn unknown(_input: &AppendTxn) -> Self::Output {
        TxnOutput::Unknown
    }
}

type Converted<I, O> = (Vec<Operation<I, O>>, Vec<usize>);

fn pair_up<F: Family>(
    events: &[JepsenEvent],
    fail: FailMeans,
) -> Result<Converted<F::Input, F::Output>, ParseError> {
    struct Open<I> {
        slot: usize,
        process: u64,
        f: String,
        line: usize,
        input: I,
        call: Time,
    }
    type Slot<F> = Option<(
        Operation<<F as Family>::Input, <F as Family>::Output>,
        usize,
    )>;
    let mut slots: Vec<Slot<F>> = Vec::new();
    let mut open: BTreeMap<u64, Open<F::Input>> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        let time = i as Time;
        if e.kind == EventType::Invoke {
            if let Some(o) = open.get(&e.process) {
                return Err(ParseError::at(
                    e.line,
                    format!(
                        "process {} invokes again while its :{} from line {} is pending",
                        e.process, o.f, o.line
                    ),
                ));
            }
            open.insert(
                e.process,
                Open {
                    slot: slots.len(),
                    process: e.process,
                    f: e.f.clone(),
                    line: e.line,
                    input: F::input(e)?,
                    call: time,
                },
            );
            slots.push(None);
            continue;
        }
        let Some(o) = open.remove(&e.process) else {
            return Err(ParseError::at(
                e.line,
                format!(
                    "process {} completes an operation it never invoked",
                    e.process
                ),
            ));
        };
        if o.f != e.f {
            return Err(ParseError::at(
                e.line,
                format!(
                    "completes :{} but process {} invoked :{} at line {}",
                    e.f, e.process, o.f, o.line
                ),
            ));
        }
        let (output, ret) = match e.kind {
            EventType::Info => (Some(F::unknown(&o.input)), None),
            EventType::Ok => (Some(F::output(&o.input, e)?), Some(time)),
            _ => (F::failed(&o.input, e, fail)?, Some(time)),
        };
        if let Some(output) = output {
            slots[o.slot] = Some((
                Operation {
                    client: e.process,
                    input: o.input,
                    call: o.call,
                    output,
                    ret,
                    meta: None,
                },
                o.line,
            ));
        }
    }
    for o in open.into_values() {
        let Some(slot) = slots.get_mut(o.slot) else {
            continue;
        };
        let output = F::unknown(&o.input);
        *slot = Some((
            Operation {
                client: o.process,
                input: o.input,
                call: o.call,
                output,
                ret: None,
                meta: None,
            },
            o.line,
        ));
    }
    let mut ops = Vec::new();
    let mut lines = Vec::new();
    for (op, line) in slots.into_iter().flatten() {
        ops.push(op);
        lines.push(line);
    }
    Ok((ops, lines))
}

/// Whether a register, set or mutex history is `jepsen.independent`: every invoke's
/// value is a `[key value]` tuple, and (for a register, whose writes and
/// compare-and-sets may hold pairs) a read is invoked with one, or else every
/// compare-and-set is `[key [from to]]`.
fn independent(events: &[JepsenEvent], model: ModelKind) -> bool {
    let invokes: Vec<&JepsenEvent> = events
        .iter()
        .filter(|e| e.kind == EventType::Invoke)
        .collect();
    let pair = |v: &Edn| matches!(v, Edn::Seq(items) if items.len() == 2);
    if invokes.is_empty() || !invokes.iter().all(|e| pair(&e.value)) {
        return false;
    }
    match model {
        ModelKind::Register => {
            invokes.iter().any(|e| e.f == "read")
                || invokes
                    .iter()
                    .all(|e| e.f != "cas" || matches!(&e.value, Edn::Seq(kv) if pair(&kv[1])))
                    && invokes.iter().any(|e| e.f == "cas")
        }
        ModelKind::Set => invokes.iter().any(|e| e.f == "read"),
        _ => true,
    }
}

/// Pairs events into operations for `model`; `fail` says what a `:fail` completion
/// means.
pub fn to_operations(
    events: &Events,
    model: ModelKind,
    fail: FailMeans,
) -> Result<(Ops, Vec<usize>), ParseError> {
    let ev = &events.events;
    Ok(match model {
        ModelKind::Kv | ModelKind::KvLab2 | ModelKind::Map => {
            let (ops, lines) = pair_up::<KvFamily>(ev, fail)?;
            (Ops::Kv(ops), lines)
        }
        ModelKind::Register if independent(ev, model) => {
            let (ops, lines) = pair_up::<KeyedFamily<RegisterFamily>>(ev, fail)?;
            (Ops::KeyedRegister(ops), lines)
        }
        ModelKind::Register => {
            let (ops, lines) = pair_up::<RegisterFamily>(ev, fail)?;
            (Ops::Register(ops), lines)
        }
        ModelKind::Set if independent(ev, model) => {
            let (ops, lines) = pair_up::<KeyedFamily<SetFamily>>(ev, fail)?;
            (Ops::KeyedSet(ops), lines)
        }
        ModelKind::Set => {
            let (ops, lines) = pair_up::<SetFamily>(ev, fail)?;
            (Ops::Set(ops), lines)
        }
        ModelKind::Mutex if independent(ev, model) => {
            let (ops, lines) = pair_up::<KeyedFamily<MutexFamily>>(ev, fail)?;
            (Ops::KeyedMutex(ops), lines)
        }
        ModelKind::Mutex => {
            let (ops, lines) = pair_up::<MutexFamily>(ev, fail)?;
            (Ops::Mutex(ops), lines)
        }
        ModelKind::MultiRegister => {
            let (ops, lines) = pair_up::<RwFamily>(ev, fail)?;
            (Ops::MultiRegister(ops), lines)
        }
        ModelKind::ListAppend => {
            let (ops, lines) = pair_up::<AppendFamily>(ev, fail)?;
            (Ops::ListAppend(ops), lines)
        }
    })
}

/// The events of `ops` in time order: `(index, true)` for a call, `(index, false)`
/// for a return. At equal times calls come first, so operations that touch at one
/// instant stay concurrent (intervals are closed). Open operations (`ret: None`)
/// get no return here.
fn event_order(times: impl Iterator<Item = (Time, Option<Time>)>) -> Vec<(usize, bool)> {
    let mut events: Vec<(Time, bool, usize, bool)> = Vec::new();
    for (i, (call, ret)) in times.enumerate() {
        events.push((call, false, i, true));
        if let Some(r) = ret {
            events.push((r, true, i, false));
        }
    }
    events.sort();
    events.into_iter().map(|(_, _, i, c)| (i, c)).collect()
}

/// Writes key/value operations as Jepsen EDN maps, one event per line, in time
/// order (calls before returns at equal times, so touching operations stay
/// concurrent); [`read_edn`] reads them back as the same history.
/// A returned operation is an `:invoke` then an `:ok` line; one that never returned,
/// or whose output is unknown, gets an `:info` line at the end (it stays open). The
/// `:value` of an invoke is the put or appended value (`nil` for a get); that of an
/// `:ok` is the value read (get), the old value (Lab 2 append), or the input value
/// (put, append). The process is the operation's client, so a client must not have
/// two operations open at once.
pub fn write_edn_kv(ops: &[Operation<KvInput, KvOutput>], out: &mut impl Write) -> io::Result<()> {
    let line = |out: &mut dyn Write, op: &Operation<KvInput, KvOutput>, kind: &str, value: &str| {
        let f = match op.input.op {
            KvOp::Get => "get",
            KvOp::Put => "put",
            KvOp::Append | KvOp::AppendOld => "append",
        };
        writeln!(
            out,
            "{{:process {}, :type :{kind}, :f :{f}, :key {}, :value {value}}}",
            op.client,
            string_literal(&op.input.key)
        )
    };
    let invoke_value = |op: &Operation<KvInput, KvOutput>| match op.input.op {
        KvOp::Get => "nil".to_string(),
        _ => string_literal(&op.input.value),
    };
    let returned =
        |op: &Operation<KvInput, KvOutput>| op.ret.is_some() && op.output.value.is_some();
    let order = event_order(
        ops.iter()
            .map(|op| (op.call, if returned(op) { op.ret } else { None })),
    );
    for (i, is_call) in order {
        let op = &ops[i];
        if is_call {
            line(out, op, "invoke", &invoke_value(op))?;
        } else {
            let value = match op.input.op {
                KvOp::Get | KvOp::AppendOld => op.output.value.as_deref().unwrap_or_default(),
                KvOp::Put | KvOp::Append => &op.input.value,
            };
            line(out, op, "ok", &string_literal(value))?;
        }
    }
    for op in ops.iter().filter(|op| !returned(op)) {
        line(out, op, "info", &invoke_value(op))?;
    }
    Ok(())
}

/// A register value as EDN: `nil`, a bare integer when the text is one (as
/// [`read_log`] turns integers back into their decimal text), a string otherwise.
fn reg_edn(v: &RegValue) -> String {
    match v {
        None => "nil".to_string(),
        Some(s) if s.parse::<i64>().is_ok_and(|i| i.to_string() == *s) => s.clone(),
        Some(s) => string_literal(s),
    }
}

/// Writes register operations as `jepsen.util` log lines, one event per line, in
/// time order (calls before returns at equal times); [`read_log`] reads them back as the same
/// history. Completions: `:ok` (a read's value, a write, a successful
/// compare-and-set), `:fail` (a failed compare-and-set, or a read that returned with
/// an unknown output); an operation that never returned, or a write or
/// compare-and-set whose output is unknown, gets an `:info` line at the end (it stays
/// open). The process is the operation's client.
pub fn write_log_register(
    ops: &[Operation<RegInput, RegOutput>],
    out: &mut impl Write,
) -> io::Result<()> {
    let line =
        |out: &mut dyn Write, op: &Operation<RegInput, RegOutput>, kind: &str, value: &str| {
            let f = match op.input {
                RegInput::Read => "read",
                RegInput::Write(_) => "write",
                RegInput::Cas { .. } => "cas",
            };
            writeln!(
                out,
                "INFO  jepsen.util - {}\t:{kind}\t:{f}\t{value}",
                op.client
            )
        };
    let input_value = |op: &Operation<RegInput, RegOutput>| match &op.input {
        RegInput::Read => "nil".to_string(),
        RegInput::Write(v) => reg_edn(v),
        RegInput::Cas { from, to } => format!("[{} {}]", reg_edn(from), reg_edn(to)),
    };
    let returned = |op: &Operation<RegInput, RegOutput>| {
        op.ret.is_some() && (op.output != RegOutput::Unknown || op.input == RegInput::Read)
    };
    let order = event_order(
        ops.iter()
            .map(|op| (op.call, if returned(op) { op.ret } else { None })),
    );
    for (i, is_call) in order {
        let op = &ops[i];
        if is_call {
            line(out, op, "invoke", &input_value(op))?;
            continue;
        }
        match &op.output {
            RegOutput::Read(v) => line(out, op, "ok", &reg_edn(v))?,
            RegOutput::Unknown => line(out, op, "fail", &input_value(op))?,
            RegOutput::Done | RegOutput::Cas(true) => line(out, op, "ok", &input_value(op))?,
            RegOutput::Cas(false) => line(out, op, "fail", &input_value(op))?,
        }
    }
    for op in ops.iter().filter(|op| !returned(op)) {
        line(out, op, "info", &input_value(op))?;
    }
    Ok(())
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// The history with its times replaced by their rank among the event times
    /// (calls before returns at equal times), as the readers give it back.
    fn ranked<I: Clone, O: Clone>(ops: &[Operation<I, O>]) -> Vec<Operation<I, O>> {
        let order = event_order(ops.iter().map(|op| (op.call, op.ret)));
        let mut out = ops.to_vec();
        for (pos, (i, is_call)) in order.into_iter().enumerate() {
            if is_call {
                out[i].call = pos as Time;
            } else {
                out[i].ret = Some(pos as Time);
            }
        }
        out
    }

    /// Whether `a` precedes `b` in real time.
    fn precedes<I, O>(a: &Operation<I, O>, b: &Operation<I, O>) -> bool {
        a.ret.is_some_and(|r| r < b.call)
    }

    fn kv(
        client: u64,
        op: KvOp,
        key: &str,
        value: &str,
        out: Option<&str>,
        call: Time,
        ret: Option<Time>,
    ) -> Operation<KvInput, KvOutput> {
        Operation {
            client,
            input: KvInput {
                op,
                key: key.into(),
                value: value.into(),
            },
            call,
            output: KvOutput {
                value: out.map(str::to_string),
            },
            ret,
            meta: None,
        }
    }

    #[test]
    fn kv_edn_round_trips_keeping_real_time_order() {
        let ops = vec![
            kv(1, KvOp::Put, "a \"q\"", "v\\1\n", Some(""), 0, Some(10)),
            kv(
                2,
                KvOp::Append,
                "a \"q\"",
                "x 2 0 y",
                Some(""),
                10,
                Some(12),
            ),
            kv(
                3,
                KvOp::Get,
                "a \"q\"",
                "",
                Some("v\\1\nx 2 0 y"),
                13,
                Some(13),
            ),
            kv(4, KvOp::Get, "b", "", None, 5, None),
            kv(1, KvOp::Append, "b", "z", None, 11, None),
        ];
        let mut text = Vec::new();
        write_edn_kv(&ops, &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(
            text.starts_with(
                "{:process 1, :type :invoke, :f :put, :key \"a \\\"q\\\"\", :value \"v\\\\1\\n\"}\n"
            ),
            "{text}"
        );
        let (back, _) = to_operations(
            &read_edn(&text).unwrap(),
            ModelKind::Kv,
            FailMeans::DidNotHappen,
        )
        .unwrap();
        let Ops::Kv(back) = back else {
            panic!("kv ops")
        };
        assert_eq!(back.len(), ops.len());
        let want = ranked(&ops);
        // Calls keep their ranks: match operations by call time.
        let find = |o: &Operation<KvInput, KvOutput>| {
            back.iter()
                .find(|b| b.call == o.call)
                .expect("every call is read back")
                .clone()
        };
        for o in &want {
            let b = find(o);
            assert_eq!(
                (b.client, &b.input, b.ret.is_some()),
                (o.client, &o.input, o.ret.is_some())
            );
            if o.input.op == KvOp::Get {
                assert_eq!(b.output, o.output);
            }
        }
        for x in &want {
            for y in &want {
                assert_eq!(precedes(&find(x), &find(y)), precedes(x, y));
            }
        }
    }

    #[test]
    fn register_log_round_trips() {
        let reg = |client, input, output, call, ret| Operation {
            client,
            input,
            call,
            output,
            ret,
            meta: None,
        };
        let v = |s: &str| Some(s.to_string());
        let ops = vec![
            reg(1, RegInput::Write(v("1")), RegOutput::Done, 0, Some(4)),
            reg(
                2,
                RegInput::Cas {
                    from: v("1"),
                    to: v("x y"),
                },
                RegOutput::Cas(true),
                2,
                Some(6),
            ),
            reg(3, RegInput::Read, RegOutput::Read(None), 1, Some(2)),
            reg(
                4,
                RegInput::Cas {
                    from: v("07"),
                    to: None,
                },
                RegOutput::Cas(false),
                7,
                Some(9),
            ),
            reg(5, RegInput::Read, RegOutput::Unknown, 8, Some(9)),
            reg(6, RegInput::Write(v("-3")), RegOutput::Unknown, 3, None),
        ];
        let mut text = Vec::new();
        write_log_register(&ops, &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(
            text.contains("INFO  jepsen.util - 2\t:invoke\t:cas\t[1 \"x y\"]\n"),
            "{text}"
        );
        assert!(
            text.ends_with("INFO  jepsen.util - 6\t:info\t:write\t-3\n"),
            "{text}"
        );
        let (back, _) = to_operations(
            &read_log(&text).unwrap(),
            ModelKind::Register,
            FailMeans::CasReturnedFalse,
        )
        .unwrap();
        let Ops::Register(mut back) = back else {
            panic!("register ops")
        };
        let mut want = ranked(&ops);
        want.sort_by_key(|o| o.call);
        back.sort_by_key(|o| o.call);
        assert_eq!(back, want);
    }

    fn edn(text: &str) -> Events {
        read_edn(text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn register(text: &str) -> Vec<Operation<RegInput, RegOutput>> {
        match to_operations(&edn(text), ModelKind::Register, FailMeans::DidNotHappen) {
            Ok((Ops::Register(ops), _)) => ops,
            other => panic!("{other:?}"),
        }
    }

    fn edn_err(text: &str) -> ParseError {
        match read_edn(text) {
            Ok(e) => panic!("read {} events", e.events.len()),
            Err(e) => e,
        }
    }

    #[test]
    fn whole_vector_histories_over_many_lines() {
        let text = r#";; a Jepsen history, as Knossos and Elle write them
[{:index 0 :time 1000 :process 0 :type :invoke :f :write :value 0}
 {:index 1 :time 2000 :process 0 :type :ok :f :write
  :value 0}
 ; the nemesis is not a client
 {:index 2 :time 2500 :process :nemesis :type :info :f :start :value nil}
 {:index 3, :time 3000, :process 1, :type :invoke, :f :cas, :value [0 2]}
 {:index 4, :time 4000, :process 1, :type :fail, :f :cas, :value [0 2], :error :mismatch}
 #_{:index 9 :process 5 :type :invoke :f :read}
 #jepsen.history.Op{:index 5, :time 5000, :process 2, :type :invoke, :f :read, :value nil}
 ^{:note "meta"} {:index 6 :time #inst "2024-01-01T00:00:00.000-00:00" :process 2 :type :ok :f :read :value 0}]
"#;
        let events = edn(text);
        assert_eq!(events.events.len(), 6);
        assert_eq!((events.skipped, events.first_skipped), (1, 6));
        let lines: Vec<usize> = events.events.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3, 7, 8, 10, 11]);
        assert_eq!(events.events[1].value_line, 4);
        assert_eq!(guess_model(&events).unwrap(), ModelKind::Register);
        // The failed cas did not happen: write 0, read 0.
        let ops = register(text);
        assert_eq!(ops.len(), 2);
        assert_eq!(ops[1].output, RegOutput::Read(Some("0".into())));
        // One map per line reads the same.
        let flat: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with(';'))
            .collect::<Vec<_>>()
            .join(" ")
            .replace("#_{:index 9 :process 5 :type :invoke :f :read}", "");
        let flat = flat.trim().trim_start_matches('[').trim_end_matches(']');
        let per_line = flat.replace("} ", "}\n");
        assert_eq!(register(&per_line), ops);
    }

    #[test]
    fn the_log_reads_a_failed_cas_as_returning_false() {
        let log = "1 :invoke :write 0\n1 :ok :write 0\n2 :invoke :cas [0 2]\n2 :fail :cas [0 2]\n3 :invoke :read nil\n3 :ok :read 0\n";
        let (ops, _) = to_operations(
            &read_log(log).unwrap(),
            ModelKind::Register,
            FailMeans::CasReturnedFalse,
        )
        .unwrap();
        let Ops::Register(ops) = ops else { panic!() };
        assert_eq!(ops.len(), 3);
        assert_eq!(ops[1].output, RegOutput::Cas(false));
        let (ops, _) = to_operations(
            &read_log(log).unwrap(),
            ModelKind::Register,
            FailMeans::DidNotHappen,
        )
        .unwrap();
        assert_eq!(ops.len(), 2);
    }

    #[test]
    fn processes_may_be_strings_and_keywords_are_skipped() {
        let text = r#"{:process 4 :type :invoke :f :read}
{:process "n1" :type :invoke :f :write :value 3}
{:process :nemesis :type :info :f :kill :value ["n1"]}
{:process "n1" :type :ok :f :write :value 3}
{:process 4 :type :ok :f :read :value 3}"#;
        let ops = register(text);
        let clients: Vec<u64> = ops.iter().map(|o| o.client).collect();
        assert_eq!(clients, vec![4, 5]);
        assert_eq!(ops[1].input, RegInput::Write(Some("3".into())));
    }

    #[test]
    fn bad_operations_are_named_where_they_are() {
        let e = edn_err("[{:process 0 :type :invoke :f :read}\n [1 2]]");
        assert_eq!((e.line, e.column), (2, 2), "{e}");
        assert!(e.reason.contains("expected an operation"), "{e}");
        let e = edn_err("{:type :invoke :f :read}");
        assert_eq!((e.line, e.field.as_deref()), (1, Some(":process")), "{e}");
        let e = edn_err("{:process 0 :type :invoked :f :read}");
        assert!(e.reason.contains(":invoked"), "{e}");
        let e = edn_err("{:process -1 :type :invoke :f :read}");
        assert_eq!(e.field.as_deref(), Some(":process"), "{e}");
        let e = edn_err("{:process 0 :type :invoke}");
        assert_eq!(e.field.as_deref(), Some(":f"), "{e}");
        let e = edn_err(
            "{:index 3 :process 0 :type :invoke :f :read}\n{:index 2 :process 0 :type :ok :f :read}",
        );
        assert_eq!(e.line, 2, "{e}");
        assert!(e.reason.contains("out of order"), "{e}");
        // A literal that cannot be read, in a map split over lines.
        let e = edn_err("{:process 0\n :type :invoke\n :time 12:30:00\n :f :read}");
        assert_eq!((e.line, e.column), (3, 8), "{e}");
        assert!(e.reason.contains("12:30:00"), "{e}");
        // A field's error names the line of the field.
        let text = "{:process 0 :type :invoke :f :cas\n :value 5}";
        let e =
            to_operations(&edn(text), ModelKind::Register, FailMeans::DidNotHappen).unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (2, Some(":value")), "{e}");
    }

    #[test]
    fn log_lines_that_are_not_operations() {
        // Records of other loggers, with continuation lines, are not operations.
        let log = "INFO [2024-01-01 10:00:00,000] main - jepsen.core Running test\n\
WARN [2024-01-01 10:00:01,000] jepsen worker 0 - jepsen.control Oops\n\
java.lang.RuntimeException: boom\n\
\tat clojure.core$eval.invoke(core.clj:3)\n\
2024-01-01 10:00:02,000{GMT}\tINFO\t[jepsen worker 1] jepsen.util: 1\t:invoke\t:read\tnil\n\
INFO  jepsen.util - 1\t:ok\t:read\tnil\n\
1\t:invoke\t:write\t3\n\
1\t:ok\t:write\t3\n";
        let events = read_log(log).unwrap();
        assert_eq!(events.events.len(), 4);
        assert_eq!(events.events[0].line, 5);
        // An EDN history, JSON lines or stray text is not a log.
        for (text, hint) in [
            ("{:process 0, :type :invoke, :f :read, :value nil}\n", "EDN"),
            ("[{:process 0 :type :invoke :f :read}]\n", "EDN"),
            ("{\"client\":1,\"op\":\"read\",\"call\":0}\n", "JSON lines"),
            ("1 :invoke :read nil\nhello\n", "not a Jepsen log line"),
        ] {
            let e = read_log(text).unwrap_err();
            assert!(e.reason.contains(hint), "{text}: {e}");
        }
        let e = read_log("1 :invoke :read nil\nhello\n").unwrap_err();
        assert_eq!(e.line, 2);
        // Keyword words in the middle of a line are not processes.
        assert!(read_log("{:index 0 :process 0 :type :invoke :f :read}").is_err());
        let none = read_log("; nothing\nINFO  jepsen.core - done\n").unwrap();
        assert!(none.events.is_empty());
    }

    fn ops_of(text: &str) -> Ops {
        let events = edn(text);
        let model = guess_model(&events).unwrap_or_else(|e| panic!("{e}"));
        to_operations(&events, model, FailMeans::DidNotHappen)
            .unwrap_or_else(|e| panic!("{e}"))
            .0
    }

    #[test]
    fn jepsen_workloads() {
        // jepsen.independent registers: [key value] tuples, reads invoked with [k nil].
        let keyed = r#"[{:process 0 :type :invoke :f :write :value [1 3]}
{:process 0 :type :ok :f :write :value [1 3]}
{:process 1 :type :invoke :f :read :value [2 nil]}
{:process 1 :type :ok :f :read :value [2 nil]}
{:process 1 :type :invoke :f :cas :value [1 [3 4]]}
{:process 1 :type :ok :f :cas :value [1 [3 4]]}]"#;
        let Ops::KeyedRegister(ops) = ops_of(keyed) else {
            panic!()
        };
        assert_eq!(ops[0].input.key, "1");
        assert_eq!(ops[1].output, RegOutput::Read(None));
        assert_eq!(
            ops[2].input.input,
            RegInput::Cas {
                from: Some("3".into()),
                to: Some("4".into())
            }
        );
        // A plain register whose cas values are pairs is not keyed.
        let plain = "{:process 0 :type :invoke :f :cas :value [1 2]}\n{:process 1 :type :invoke :f :read :value nil}";
        assert!(matches!(ops_of(plain), Ops::Register(_)));
        // Keyword, vector and map values are register values.
        let kw = "{:process 0 :type :invoke :f :write :value :a}\n{:process 0 :type :ok :f :write :value :a}\n{:process 0 :type :invoke :f :read :value nil}\n{:process 0 :type :ok :f :read :value {:b [1 2] :a 1}}";
        let Ops::Register(ops) = ops_of(kw) else {
            panic!()
        };
        assert_eq!(ops[0].input, RegInput::Write(Some(":a".into())));
        assert_eq!(
            ops[1].output,
            RegOutput::Read(Some("{:a 1, :b [1 2]}".into()))
        );
        // Sets: adds and a read of #{...}.
        let set = "{:process 0 :type :invoke :f :add :value 1}\n{:process 0 :type :ok :f :add :value 1}\n{:process 1 :type :invoke :f :read :value nil}\n{:process 1 :type :ok :f :read :value #{1 2}}";
        let Ops::Set(ops) = ops_of(set) else { panic!() };
        assert_eq!(
            ops[1].output,
            SetOutput::Read(["1".to_string(), "2".to_string()].into())
        );
        // Mutex.
        let lock = "{:process 0 :type :invoke :f :acquire}\n{:process 0 :type :ok :f :acquire}\n{:process 1 :type :invoke :f :acquire}\n{:process 1 :type :fail :f :acquire}\n{:process 0 :type :invoke :f :release}\n{:process 0 :type :info :f :release}";
        let Ops::Mutex(ops) = ops_of(lock) else {
            panic!()
        };
        assert_eq!(ops.len(), 2);
        assert_eq!(ops[1].output, MutexOutput::Unknown);
        // Multi-register and list-append transactions.
        let rw = "{:process 0 :type :invoke :f :txn :value [[:w :x 1] [:r :y nil]]}\n{:process 0 :type :ok :f :txn :value [[:w :x 1] [:r :y 2]]}";
        let Ops::MultiRegister(ops) = ops_of(rw) else {
            panic!()
        };
        assert_eq!(
            ops[0].input,
            vec![
                RwMicro::Write(":x".into(), Some("1".into())),
                RwMicro::Read(":y".into())
            ]
        );
        assert_eq!(ops[0].output, TxnOutput::Ok(vec![Some("2".into())]));
        let la = "{:process 0 :type :invoke :f :txn :value [[:append 3 1] [:r 4 nil]]}\n{:process 0 :type :ok :f :txn :value [[:append 3 1] [:r 4 [1 2]]]}";
        let Ops::ListAppend(ops) = ops_of(la) else {
            panic!()
        };
        assert_eq!(
            ops[0].output,
            TxnOutput::Ok(vec![vec!["1".to_string(), "2".to_string()]])
        );
        let bad = "{:process 0 :type :invoke :f :txn :value [[:append 3 1]]}\n{:process 0 :type :ok :f :txn :value [[:append 4 1]]}";
        let events = edn(bad);
        let e = to_operations(&events, ModelKind::ListAppend, FailMeans::DidNotHappen).unwrap_err();
        assert!(e.reason.contains("does not match"), "{e}");
        // Workloads lincheck does not check are named.
        for (text, name) in [
            (
                "{:process 0 :type :invoke :f :add :value 1}\n{:process 0 :type :ok :f :add :value 1}\n{:process 0 :type :invoke :f :read}\n{:process 0 :type :ok :f :read :value 5}",
                "counter",
            ),
            (
                "{:process 0 :type :invoke :f :transfer :value {:from 1 :to 2 :amount 5}}",
                "bank",
            ),
            ("{:process 0 :type :invoke :f :enqueue :value 1}", "queue"),
            ("{:process 0 :type :invoke :f :frob :value 1}", ":frob"),
        ] {
            let e = guess_model(&edn(text)).unwrap_err();
            assert!(e.reason.contains(name), "{text}: {e}");
        }
    }
}
