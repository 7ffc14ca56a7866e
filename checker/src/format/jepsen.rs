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
//!
//! [`write_edn_kv`] and [`write_log_register`] go the other way: they write
//! operations as events that these readers pair back into the same history (same
//! inputs, outputs, real-time order and open operations; the times become event
//! positions).

use super::edn::{Edn, parse_all, parse_value};
use super::{ModelKind, Ops, ParseError};
use crate::history::{Operation, Time};
use crate::models::kv::{KvInput, KvOp, KvOutput};
use crate::models::register::{RegInput, RegOutput, RegValue};
use std::collections::BTreeMap;
use std::io::{self, Write};

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

/// An EDN string literal.
fn edn_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
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
            edn_string(&op.input.key)
        )
    };
    let invoke_value = |op: &Operation<KvInput, KvOutput>| match op.input.op {
        KvOp::Get => "nil".to_string(),
        _ => edn_string(&op.input.value),
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
            line(out, op, "ok", &edn_string(value))?;
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
        Some(s) => edn_string(s),
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
        let (back, _) = to_operations(read_edn(&text).unwrap(), ModelKind::Kv).unwrap();
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
        let (back, _) = to_operations(read_log(&text).unwrap(), ModelKind::Register).unwrap();
        let Ops::Register(mut back) = back else {
            panic!("register ops")
        };
        let mut want = ranked(&ops);
        want.sort_by_key(|o| o.call);
        back.sort_by_key(|o| o.call);
        assert_eq!(back, want);
    }
}
