//! Jepsen histories: EDN maps or `jepsen.util` log lines, as events paired per
//! process.
//!
//! Both forms give a list of [`JepsenEvent`]s (process, type, function, key,
//! value). [`to_operations`] pairs each `:invoke` with the next completion of the
//! same process; an event's time is its position among the events. A completion is:
//!
//! - `:ok`: the operation happened; its `:value` is the output (the value read, the
//!   old value of a Lab 2 append);
//! - `:fail`: for a compare-and-set, it returned false; for a register read (such as
//!   `:fail :read :timed-out`), it returned with an unknown output; for anything else
//!   the operation did not happen and is dropped;
//! - `:info`: the outcome is unknown (the process crashed): the operation stays open
//!   until the end with an unknown output. Jepsen gives the crashed process a new id.
//!
//! Lines whose process is not an integer (the nemesis) are skipped, and so are log
//! lines that are not operation lines.
//!
//! EDN lines look like `{:process 3, :type :invoke, :f :append, :key "4", :value "x 3
//! 12 y"}`; a get's invoke has `:value nil`. Log lines look like
//! `INFO  jepsen.util - 7 :invoke :cas [1 4]`, fields separated by tabs or spaces,
//! `nil` for the absent value.

use super::edn::{Edn, parse_all, parse_value};
use super::{ModelKind, Ops, ParseError};
use crate::history::{Operation, Time};
use crate::models::kv::{KvInput, KvOp, KvOutput};
use crate::models::register::{RegInput, RegOutput, RegValue};
use std::collections::BTreeMap;

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

/// One Jepsen event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JepsenEvent {
    /// Source line.
    pub line: usize,
    /// The process.
    pub process: u64,
    /// Invoke or a completion.
    pub kind: EventType,
    /// The function (`get`, `cas`, ...), without the colon.
    pub f: String,
    /// The key (EDN `:key`), if any.
    pub key: Option<Edn>,
    /// The value.
    pub value: Edn,
}

fn content_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with(';') && !l.starts_with('#'))
}

/// Reads EDN maps, one per line.
pub fn read_edn(text: &str) -> Result<Vec<JepsenEvent>, ParseError> {
    let mut out = Vec::new();
    for (line, t) in content_lines(text) {
        let map = parse_all(t)
            .map_err(|e| ParseError::at(line, format!("column {}: {}", e.column, e.reason)))?;
        if !matches!(map, Edn::Map(_)) {
            return Err(ParseError::at(
                line,
                format!("expected an EDN map, found {map}"),
            ));
        }
        let process = match map.get("process") {
            Some(Edn::Int(p)) if *p >= 0 => *p as u64,
            Some(Edn::Keyword(_)) => continue,
            Some(v) => {
                return Err(ParseError::field(
                    line,
                    ":process",
                    format!("expected a process number, found {v}"),
                ));
            }
            None => return Err(ParseError::field(line, ":process", "missing")),
        };
        let kind = match map.get("type") {
            Some(Edn::Keyword(k)) => EventType::parse(k).ok_or_else(|| {
                ParseError::field(
                    line,
                    ":type",
                    format!("expected :invoke, :ok, :fail or :info, found :{k}"),
                )
            })?,
            Some(v) => {
                return Err(ParseError::field(
                    line,
                    ":type",
                    format!("expected a keyword, found {v}"),
                ));
            }
            None => return Err(ParseError::field(line, ":type", "missing")),
        };
        let f = match map.get("f") {
            Some(Edn::Keyword(k)) => k.clone(),
            Some(v) => {
                return Err(ParseError::field(
                    line,
                    ":f",
                    format!("expected a keyword, found {v}"),
                ));
            }
            None => return Err(ParseError::field(line, ":f", "missing")),
        };
        out.push(JepsenEvent {
            line,
            process,
            kind,
            f,
            key: map.get("key").cloned(),
            value: map.get("value").cloned().unwrap_or(Edn::Nil),
        });
    }
    Ok(out)
}

/// Reads Jepsen log lines: `[prefix - ]PROCESS TYPE F VALUE`. Lines that are not
/// operation lines are skipped.
pub fn read_log(text: &str) -> Result<Vec<JepsenEvent>, ParseError> {
    let mut out = Vec::new();
    for (line, t) in content_lines(text) {
        let body = match t.find(" - ") {
            Some(i) if t[..i].contains("jepsen") => &t[i + 3..],
            _ => t,
        };
        let mut rest = body.trim_start();
        let mut next = || -> Option<&str> {
            let r = rest.trim_start();
            let end = r.find(char::is_whitespace).unwrap_or(r.len());
            let (tok, tail) = r.split_at(end);
            rest = tail;
            (!tok.is_empty()).then_some(tok)
        };
        let (Some(process), Some(kind)) = (next(), next()) else {
            continue;
        };
        let Some(kind) = kind.strip_prefix(':').and_then(EventType::parse) else {
            continue;
        };
        let Ok(process) = process.parse::<u64>() else {
            if process.starts_with(':') {
                continue; // :nemesis
            }
            return Err(ParseError::at(
                line,
                format!("expected a process number, found {process:?}"),
            ));
        };
        let Some(f) = next() else {
            return Err(ParseError::at(line, "missing the operation after the type"));
        };
        let Some(f) = f.strip_prefix(':') else {
            return Err(ParseError::at(
                line,
                format!("expected an operation like :read, found {f:?}"),
            ));
        };
        let f = f.to_string();
        let value_text = rest.trim();
        let value = if value_text.is_empty() {
            Edn::Nil
        } else {
            let (v, _) = parse_value(value_text).map_err(|e| {
                ParseError::at(line, format!("bad value {value_text:?}: {}", e.reason))
            })?;
            v
        };
        out.push(JepsenEvent {
            line,
            process,
            kind,
            f,
            key: None,
            value,
        });
    }
    Ok(out)
}

/// Picks the model for an EDN history: the register if the first `:f` is `:read`,
/// `:write` or `:cas`, otherwise key/value.
pub fn guess_edn_model(text: &str) -> Result<ModelKind, ParseError> {
    let events = read_edn(text)?;
    Ok(match events.first() {
        Some(e) if matches!(e.f.as_str(), "read" | "write" | "cas") => ModelKind::Register,
        _ => ModelKind::Kv,
    })
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

fn reg_value(line: usize, v: &Edn) -> Result<RegValue, ParseError> {
    match v {
        Edn::Nil => Ok(None),
        Edn::Int(i) => Ok(Some(i.to_string())),
        Edn::Str(s) => Ok(Some(s.clone())),
        v => Err(ParseError::field(
            line,
            ":value",
            format!("expected a value or nil, found {v}"),
        )),
    }
}

/// What one model family needs to turn events into operations.
trait Family {
    type Input;
    type Output;
    /// The input of an invoke event.
    fn input(e: &JepsenEvent) -> Result<Self::Input, ParseError>;
    /// The output given by a completion; `None` drops the operation.
    fn output(input: &Self::Input, e: &JepsenEvent) -> Result<Option<Self::Output>, ParseError>;
    /// The unknown output.
    fn unknown() -> Self::Output;
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
            f => {
                return Err(ParseError::field(
                    e.line,
                    ":f",
                    format!("expected :get, :put or :append, found :{f}"),
                ));
            }
        };
        let key = match &e.key {
            Some(k) => text_of(e.line, ":key", k)?,
            None => return Err(ParseError::field(e.line, ":key", "missing")),
        };
        let value = if op == KvOp::Get {
            String::new()
        } else {
            text_of(e.line, ":value", &e.value)?
        };
        Ok(KvInput { op, key, value })
    }

    fn output(_input: &KvInput, e: &JepsenEvent) -> Result<Option<KvOutput>, ParseError> {
        match e.kind {
            EventType::Ok => Ok(Some(KvOutput::known(text_of(e.line, ":value", &e.value)?))),
            _ => Ok(None),
        }
    }

    fn unknown() -> KvOutput {
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
            "write" => Ok(RegInput::Write(reg_value(e.line, &e.value)?)),
            "cas" => match &e.value {
                Edn::Seq(pair) if pair.len() == 2 => Ok(RegInput::Cas {
                    from: reg_value(e.line, &pair[0])?,
                    to: reg_value(e.line, &pair[1])?,
                }),
                v => Err(ParseError::field(
                    e.line,
                    ":value",
                    format!("expected [from to], found {v}"),
                )),
            },
            f => Err(ParseError::field(
                e.line,
                ":f",
                format!("expected :read, :write or :cas, found :{f}"),
            )),
        }
    }

    fn output(input: &RegInput, e: &JepsenEvent) -> Result<Option<RegOutput>, ParseError> {
        Ok(match (input, e.kind) {
            (RegInput::Read, EventType::Ok) => Some(RegOutput::Read(reg_value(e.line, &e.value)?)),
            (RegInput::Read, _) => Some(RegOutput::Unknown),
            (RegInput::Write(_), EventType::Ok) => Some(RegOutput::Done),
            (RegInput::Write(_), _) => None,
            (RegInput::Cas { .. }, EventType::Ok) => Some(RegOutput::Cas(true)),
            (RegInput::Cas { .. }, _) => Some(RegOutput::Cas(false)),
        })
    }

    fn unknown() -> RegOutput {
        RegOutput::Unknown
    }
}

type Converted<I, O> = (Vec<Operation<I, O>>, Vec<usize>);

fn pair_up<F: Family>(
    events: &[JepsenEvent],
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
        let (output, ret) = if e.kind == EventType::Info {
            (Some(F::unknown()), None)
        } else {
            (F::output(&o.input, e)?, Some(time))
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
        *slot = Some((
            Operation {
                client: o.process,
                input: o.input,
                call: o.call,
                output: F::unknown(),
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

/// Pairs events into operations for `model` (key/value or register models).
pub fn to_operations(
    events: Vec<JepsenEvent>,
    model: ModelKind,
) -> Result<(Ops, Vec<usize>), ParseError> {
    match model {
        ModelKind::Kv | ModelKind::KvLab2 | ModelKind::Map => {
            let (ops, lines) = pair_up::<KvFamily>(&events)?;
            Ok((Ops::Kv(ops), lines))
        }
        ModelKind::Register => {
            let (ops, lines) = pair_up::<RegisterFamily>(&events)?;
            Ok((Ops::Register(ops), lines))
        }
        ModelKind::Set => Err(ParseError::at(
            0,
            "Jepsen histories are read for the key/value and register models only",
        )),
    }
}
