//! Our JSON-lines history format.
//!
//! One JSON object per line; blank lines and lines starting with `#` are skipped.
//! An operation line has:
//!
//! | field | type | meaning |
//! | --- | --- | --- |
//! | `client` | integer ≥ 0 | the client (for display) |
//! | `op` | string | the operation (below) |
//! | `call` | integer | call time |
//! | `return` | integer, or `null`/absent | return time; absent if it never returned |
//! | `meta` | string, optional | a note shown with the operation in the HTML view |
//!
//! and, depending on the model:
//!
//! - key/value (`kv`, `kv-lab2`, `map`): `op` is `get`, `put`, `append` or
//!   `append_old` (the Lab 2 append that returns the old value); `key` (string);
//!   `value` (string; put and append); `output` (string: the value a get read, the
//!   old value an `append_old` returned; absent or `null` when unknown; ignored for
//!   put and append).
//! - register: `op` is `read`, `write` or `cas`; `value` is the written value for
//!   `write` and `[from, to]` for `cas` (values are strings, integers, or `null` for
//!   the absent value); `output` is the value read (`null`: absent) or the CAS
//!   result (`true`/`false`); absent when unknown.
//! - set: `op` is `add`, `remove`, `contains` or `read`; `value` is the element
//!   (string or integer); `output` is `true`/`false` for `contains` and an array for
//!   `read`; absent when unknown.
//!
//! An operation that never returned has no `output`. A line with `note` instead of
//! `op` is an annotation for the timeline: `{"note": "leader 1 crashed", "at": 1200,
//! "end": 1300, "client": 2}` (`end` and `client` optional).
//!
//! Example (a Lab 2 history):
//!
//! ```text
//! {"client":1,"op":"put","key":"1","value":"","call":10,"return":25}
//! {"client":1,"op":"append_old","key":"1","value":"x 1 0 y","output":"","call":30,"return":41}
//! {"client":0,"op":"get","key":"1","output":"x 1 0 y","call":50,"return":52}
//! ```

use super::{ModelKind, Ops, ParseError};
use crate::history::{Annotation, Operation, Time};
use crate::models::kv::{KvInput, KvOp, KvOutput};
use crate::models::register::{RegInput, RegOutput, RegValue};
use crate::models::set::{SetInput, SetOutput};
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::io::{self, Write};

/// One line's fields, with a record of which ones were used, so that a misspelt
/// field is an error rather than silently ignored.
struct Fields<'a> {
    line: usize,
    map: &'a Map<String, Value>,
    used: Vec<&'static str>,
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<'a> Fields<'a> {
    fn get(&mut self, name: &'static str) -> Option<&'a Value> {
        self.used.push(name);
        self.map.get(name)
    }

    fn err(&self, name: &str, reason: impl Into<String>) -> ParseError {
        ParseError::field(self.line, name, reason)
    }

    fn required(&mut self, name: &'static str) -> Result<&'a Value, ParseError> {
        self.get(name)
            .ok_or_else(|| ParseError::field(self.line, name, "missing"))
    }

    fn string(&mut self, name: &'static str) -> Result<String, ParseError> {
        match self.required(name)? {
            Value::String(s) => Ok(s.clone()),
            v => Err(self.err(name, format!("expected a string, found {}", kind(v)))),
        }
    }

    fn opt_string(&mut self, name: &'static str) -> Result<Option<String>, ParseError> {
        match self.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(self.err(name, format!("expected a string, found {}", kind(v)))),
        }
    }

    fn time(&mut self, name: &'static str) -> Result<Option<Time>, ParseError> {
        match self.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.err(name, format!("expected an integer time, found {v}"))),
        }
    }

    fn check_unused(&self) -> Result<(), ParseError> {
        for name in self.map.keys() {
            if !self.used.contains(&name.as_str()) {
                return Err(ParseError::field(self.line, name, "unknown field"));
            }
        }
        Ok(())
    }
}

/// A register value or set element: a string, an integer (as its decimal text), or
/// `null` (the absent value) when `nullable`.
fn scalar(f: &Fields<'_>, name: &str, v: &Value, nullable: bool) -> Result<RegValue, ParseError> {
    match v {
        Value::Null if nullable => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(Some(n.to_string())),
        v => Err(f.err(
            name,
            format!("expected a string or an integer, found {}", kind(v)),
        )),
    }
}

fn kv_op(f: &mut Fields<'_>, op: KvOp, returned: bool) -> Result<(KvInput, KvOutput), ParseError> {
    let key = f.string("key")?;
    let value = match op {
        KvOp::Get => f.opt_string("value")?.unwrap_or_default(),
        _ => f.string("value")?,
    };
    let output = f.opt_string("output")?;
    if output.is_some() && !returned {
        return Err(f.err("output", "an operation that never returned has no output"));
    }
    Ok((KvInput { op, key, value }, KvOutput { value: output }))
}

fn register_op(
    f: &mut Fields<'_>,
    op: &str,
    returned: bool,
) -> Result<(RegInput, RegOutput), ParseError> {
    let output = f.get("output");
    if output.is_some() && !returned {
        return Err(f.err("output", "an operation that never returned has no output"));
    }
    match op {
        "read" => {
            let out = match output {
                None => RegOutput::Unknown,
                Some(v) => RegOutput::Read(scalar(f, "output", v, true)?),
            };
            Ok((RegInput::Read, out))
        }
        "write" => {
            let v = f.required("value")?;
            let v = scalar(f, "value", v, true)?;
            if output.is_some() {
                return Err(f.err("output", "a write has no output"));
            }
            let out = if returned {
                RegOutput::Done
            } else {
                RegOutput::Unknown
            };
            Ok((RegInput::Write(v), out))
        }
        _ => {
            let pair = match f.required("value")? {
                Value::Array(items) if items.len() == 2 => items,
                v => return Err(f.err("value", format!("expected [from, to], found {v}"))),
            };
            let from = scalar(f, "value", &pair[0], true)?;
            let to = scalar(f, "value", &pair[1], true)?;
            let out = match output {
                None => RegOutput::Unknown,
                Some(Value::Bool(b)) => RegOutput::Cas(*b),
                Some(v) => {
                    return Err(f.err("output", format!("expected true or false, found {v}")));
                }
            };
            Ok((RegInput::Cas { from, to }, out))
        }
    }
}

fn set_op(
    f: &mut Fields<'_>,
    op: &str,
    returned: bool,
) -> Result<(SetInput, SetOutput), ParseError> {
    let output = f.get("output");
    if output.is_some() && !returned {
        return Err(f.err("output", "an operation that never returned has no output"));
    }
    let element = |f: &mut Fields<'_>| -> Result<String, ParseError> {
        let v = f.required("value")?;
        Ok(scalar(f, "value", v, false)?.unwrap_or_default())
    };
    let done = if returned {
        SetOutput::Done
    } else {
        SetOutput::Unknown
    };
    match op {
        "add" => Ok((SetInput::Add(element(f)?), done)),
        "remove" => Ok((SetInput::Remove(element(f)?), done)),
        "contains" => {
            let x = element(f)?;
            let out = match output {
                None => SetOutput::Unknown,
                Some(Value::Bool(b)) => SetOutput::Contains(*b),
                Some(v) => {
                    return Err(f.err("output", format!("expected true or false, found {v}")));
                }
            };
            Ok((SetInput::Contains(x), out))
        }
        _ => {
            let out = match output {
                None => SetOutput::Unknown,
                Some(Value::Array(items)) => {
                    let mut set = BTreeSet::new();
                    for item in items {
                        set.insert(scalar(f, "output", item, false)?.unwrap_or_default());
                    }
                    SetOutput::Read(set)
                }
                Some(v) => {
                    return Err(f.err("output", format!("expected an array, found {}", kind(v))));
                }
            };
            Ok((SetInput::Read, out))
        }
    }
}

const KV_OPS: [&str; 4] = ["get", "put", "append", "append_old"];
const REGISTER_OPS: [&str; 3] = ["read", "write", "cas"];
const SET_OPS: [&str; 4] = ["add", "remove", "contains", "read"];

enum Line<'a> {
    Note(Annotation),
    Op {
        fields: Fields<'a>,
        op: String,
        client: u64,
        call: Time,
        ret: Option<Time>,
        meta: Option<String>,
    },
}

/// A non-blank line's number and its JSON object.
type NumberedObject = (usize, Map<String, Value>);

fn parse_lines(text: &str) -> Result<Vec<NumberedObject>, ParseError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        match serde_json::from_str::<Value>(t) {
            Ok(Value::Object(map)) => out.push((line, map)),
            Ok(v) => {
                return Err(ParseError::at(
                    line,
                    format!("expected a JSON object, found {}", kind(&v)),
                ));
            }
            Err(e) => return Err(ParseError::at(line, format!("not valid JSON: {e}"))),
        }
    }
    Ok(out)
}

fn classify<'a>(line: usize, map: &'a Map<String, Value>) -> Result<Line<'a>, ParseError> {
    let mut f = Fields {
        line,
        map,
        used: Vec::new(),
    };
    if map.contains_key("note") {
        let text = f.string("note")?;
        let start = f.time("at")?.ok_or_else(|| f.err("at", "missing"))?;
        let end = f.time("end")?.unwrap_or(start);
        let client =
            match f.get("client") {
                None | Some(Value::Null) => None,
                Some(v) => Some(v.as_u64().ok_or_else(|| {
                    f.err("client", format!("expected a client number, found {v}"))
                })?),
            };
        f.check_unused()?;
        return Ok(Line::Note(Annotation {
            client,
            start,
            end,
            text,
        }));
    }
    let op = f.string("op")?;
    let v = f.required("client")?;
    let client = v
        .as_u64()
        .ok_or_else(|| f.err("client", format!("expected a client number, found {v}")))?;
    let call = f.time("call")?.ok_or_else(|| f.err("call", "missing"))?;
    let ret = f.time("return")?;
    if let Some(r) = ret
        && r < call
    {
        return Err(f.err("return", format!("{r} is before the call at {call}")));
    }
    let meta = f.opt_string("meta")?;
    Ok(Line::Op {
        fields: f,
        op,
        client,
        call,
        ret,
        meta,
    })
}

/// Picks the model from the operation names: key/value if any is `get`, `put` or an
/// append; a set if any is `add`, `remove` or `contains`; otherwise a register.
pub fn guess_model(text: &str) -> Result<ModelKind, ParseError> {
    let mut first_line = 0;
    for (line, map) in parse_lines(text)? {
        let Some(Value::String(op)) = map.get("op") else {
            continue;
        };
        if first_line == 0 {
            first_line = line;
        }
        if KV_OPS.contains(&op.as_str()) {
            return Ok(ModelKind::Kv);
        }
        if ["add", "remove", "contains"].contains(&op.as_str()) {
            return Ok(ModelKind::Set);
        }
        if REGISTER_OPS.contains(&op.as_str()) {
            continue;
        }
        return Err(ParseError::field(
            line,
            "op",
            format!("unknown operation {op:?}"),
        ));
    }
    if first_line == 0 {
        return Err(ParseError::at(0, "the file holds no operation"));
    }
    Ok(ModelKind::Register)
}

/// The parsed lines of a JSON-lines file: operations, their lines, notes.
pub type Parsed = (Ops, Vec<usize>, Vec<Annotation>);

/// Parses a JSON-lines history for `model`.
pub fn load(text: &str, model: ModelKind) -> Result<Parsed, ParseError> {
    let jepsen_only = || {
        ParseError::at(
            0,
            format!(
                "model {} is read from Jepsen histories (EDN or log lines), not JSON lines",
                model.name()
            ),
        )
    };
    if matches!(
        model,
        ModelKind::Mutex | ModelKind::MultiRegister | ModelKind::ListAppend
    ) {
        return Err(jepsen_only());
    }
    let maps = parse_lines(text)?;
    let mut kv = Vec::new();
    let mut reg = Vec::new();
    let mut set = Vec::new();
    let mut lines = Vec::new();
    let mut notes = Vec::new();
    for (line, map) in &maps {
        let (mut f, op, client, call, ret, meta) = match classify(*line, map)? {
            Line::Note(a) => {
                notes.push(a);
                continue;
            }
            Line::Op {
                fields,
                op,
                client,
                call,
                ret,
                meta,
            } => (fields, op, client, call, ret, meta),
        };
        let returned = ret.is_some();
        let known: &[&str] = match model {
            ModelKind::Kv | ModelKind::KvLab2 | ModelKind::Map => &KV_OPS,
            ModelKind::Register => &REGISTER_OPS,
            ModelKind::Set => &SET_OPS,
            ModelKind::Mutex | ModelKind::MultiRegister | ModelKind::ListAppend => &[],
        };
        if !known.contains(&op.as_str()) {
            return Err(f.err(
                "op",
                format!(
                    "{op:?} is not an operation of model {} (one of {})",
                    model.name(),
                    known.join(", ")
                ),
            ));
        }
        macro_rules! push {
            ($vec:ident, $pair:expr) => {{
                let (input, output) = $pair;
                f.check_unused()?;
                $vec.push(Operation {
                    client,
                    input,
                    call,
                    output,
                    ret,
                    meta,
                });
            }};
        }
        match model {
            ModelKind::Kv | ModelKind::KvLab2 | ModelKind::Map => {
                let kind = KvOp::from_name(&op).unwrap_or(KvOp::Get);
                push!(kv, kv_op(&mut f, kind, returned)?)
            }
            ModelKind::Register => push!(reg, register_op(&mut f, &op, returned)?),
            ModelKind::Set => push!(set, set_op(&mut f, &op, returned)?),
            ModelKind::Mutex | ModelKind::MultiRegister | ModelKind::ListAppend => {
                return Err(jepsen_only());
            }
        }
        lines.push(*line);
    }
    let ops = match model {
        ModelKind::Kv | ModelKind::KvLab2 | ModelKind::Map => Ops::Kv(kv),
        ModelKind::Register => Ops::Register(reg),
        ModelKind::Set => Ops::Set(set),
        ModelKind::Mutex | ModelKind::MultiRegister | ModelKind::ListAppend => {
            return Err(jepsen_only());
        }
    };
    Ok((ops, lines, notes))
}

fn base(
    client: u64,
    op: &str,
    call: Time,
    ret: Option<Time>,
    meta: &Option<String>,
) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("client".into(), client.into());
    m.insert("op".into(), op.into());
    m.insert("call".into(), call.into());
    if let Some(r) = ret {
        m.insert("return".into(), r.into());
    }
    if let Some(meta) = meta {
        m.insert("meta".into(), meta.clone().into());
    }
    m
}

/// The JSON line (without newline) of a key/value operation.
pub fn kv_line(op: &Operation<KvInput, KvOutput>) -> String {
    let mut m = base(op.client, op.input.op.name(), op.call, op.ret, &op.meta);
    m.insert("key".into(), op.input.key.clone().into());
    if op.input.op != KvOp::Get || !op.input.value.is_empty() {
        m.insert("value".into(), op.input.value.clone().into());
    }
    if let (Some(v), Some(_)) = (&op.output.value, op.ret) {
        m.insert("output".into(), v.clone().into());
    }
    Value::Object(m).to_string()
}

fn reg_value(v: &RegValue) -> Value {
    v.clone().map_or(Value::Null, Value::String)
}

/// The JSON line (without newline) of a register operation.
pub fn register_line(op: &Operation<RegInput, RegOutput>) -> String {
    let name = match op.input {
        RegInput::Read => "read",
        RegInput::Write(_) => "write",
        RegInput::Cas { .. } => "cas",
    };
    let mut m = base(op.client, name, op.call, op.ret, &op.meta);
    match &op.input {
        RegInput::Read => {}
        RegInput::Write(v) => {
            m.insert("value".into(), reg_value(v));
        }
        RegInput::Cas { from, to } => {
            m.insert(
                "value".into(),
                Value::Array(vec![reg_value(from), reg_value(to)]),
            );
        }
    }
    if op.ret.is_some() {
        match &op.output {
            RegOutput::Read(v) => {
                m.insert("output".into(), reg_value(v));
            }
            RegOutput::Cas(b) => {
                m.insert("output".into(), (*b).into());
            }
            RegOutput::Done | RegOutput::Unknown => {}
        }
    }
    Value::Object(m).to_string()
}

/// Writes key/value operations as JSON lines.
pub fn write_kv(ops: &[Operation<KvInput, KvOutput>], out: &mut impl Write) -> io::Result<()> {
    for op in ops {
        writeln!(out, "{}", kv_line(op))?;
    }
    Ok(())
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn kv_lines_round_trip() {
        let ops = vec![
            Operation {
                client: 1,
                input: KvInput {
                    op: KvOp::Put,
                    key: "1".into(),
                    value: "".into(),
                },
                call: 10,
                output: KvOutput::known(""),
                ret: Some(25),
                meta: Some("first".into()),
            },
            Operation {
                client: 2,
                input: KvInput {
                    op: KvOp::AppendOld,
                    key: "1".into(),
                    value: "x 2 0 y".into(),
                },
                call: 30,
                output: KvOutput::known(""),
                ret: Some(41),
                meta: None,
            },
            Operation {
                client: 0,
                input: KvInput {
                    op: KvOp::Get,
                    key: "1".into(),
                    value: "".into(),
                },
                call: 50,
                output: KvOutput::unknown(),
                ret: None,
                meta: None,
            },
        ];
        let mut buf = Vec::new();
        write_kv(&ops, &mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(guess_model(&text).unwrap(), ModelKind::Kv);
        let (back, lines, notes) = load(&text, ModelKind::Kv).unwrap();
        assert_eq!(back, Ops::Kv(ops));
        assert_eq!(lines, vec![1, 2, 3]);
        assert!(notes.is_empty());
    }

    #[test]
    fn register_and_set_lines() {
        let text = r#"
# a comment
{"client":1,"op":"write","value":3,"call":0,"return":5}
{"client":2,"op":"cas","value":[3,null],"output":false,"call":1,"return":6}
{"client":3,"op":"read","output":null,"call":2}
{"note":"partition","at":3,"client":2}
"#;
        assert!(
            load(text, ModelKind::Register).is_err(),
            "a read that never returned has no output"
        );
        let text = text.replace(r#""output":null,"call":2"#, r#""call":2"#);
        assert_eq!(guess_model(&text).unwrap(), ModelKind::Register);
        let (ops, lines, notes) = load(&text, ModelKind::Register).unwrap();
        let Ops::Register(ops) = ops else {
            panic!("register ops expected")
        };
        assert_eq!(ops[0].input, RegInput::Write(Some("3".into())));
        assert_eq!(
            ops[1].input,
            RegInput::Cas {
                from: Some("3".into()),
                to: None
            }
        );
        assert_eq!(ops[1].output, RegOutput::Cas(false));
        assert_eq!(
            (ops[2].output.clone(), ops[2].ret),
            (RegOutput::Unknown, None)
        );
        assert_eq!(lines, vec![3, 4, 5]);
        assert_eq!(notes[0].client, Some(2));
        assert_eq!(
            register_line(&ops[1]),
            r#"{"call":1,"client":2,"op":"cas","output":false,"return":6,"value":["3",null]}"#
        );

        let set = r#"{"client":1,"op":"add","value":"a","call":0,"return":1}
{"client":1,"op":"read","output":["a",7],"call":2,"return":3}"#;
        assert_eq!(guess_model(set).unwrap(), ModelKind::Set);
        let (ops, _, _) = load(set, ModelKind::Set).unwrap();
        let Ops::Set(ops) = ops else {
            panic!("set ops expected")
        };
        assert_eq!(
            ops[1].output,
            SetOutput::Read(["a".to_string(), "7".to_string()].into())
        );
    }

    #[test]
    fn errors_name_line_and_field() {
        let cases = [
            (
                r#"{"client":1,"op":"get","key":"k","call":"soon"}"#,
                1,
                Some("call"),
            ),
            (
                r#"{"client":1,"op":"get","key":"k","call":5,"return":3}"#,
                1,
                Some("return"),
            ),
            (
                r#"{"client":1,"op":"get","key":"k","call":5,"ouput":"x"}"#,
                1,
                Some("ouput"),
            ),
            (
                r#"{"client":-1,"op":"get","key":"k","call":5}"#,
                1,
                Some("client"),
            ),
            (r#"{"client":1,"op":"get","call":5}"#, 1, Some("key")),
            (
                r#"{"client":1,"op":"cas","key":"k","call":5}"#,
                1,
                Some("op"),
            ),
            ("\n\n{\"client\":1,", 3, None),
            ("[1,2]", 1, None),
        ];
        for (text, line, field) in cases {
            let err = load(text, ModelKind::Kv).unwrap_err();
            assert_eq!(
                (err.line, err.field.as_deref()),
                (line, field),
                "{text}: {err}"
            );
        }
        let err = guess_model(r#"{"client":1,"op":"frobnicate","call":1}"#).unwrap_err();
        assert!(err.reason.contains("frobnicate"));
    }
}
