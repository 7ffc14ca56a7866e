//! The lab's key/value model.
//!
//! The state is the value of one key (initially the empty string), held as a
//! [`Value`] so that states share what they have in common; the history is
//! partitioned by key, in key order. Steps:
//!
//! | operation | legal when | next state |
//! | --- | --- | --- |
//! | `Get` | the output is the state (or unknown) | unchanged |
//! | `Put` | always | the input value |
//! | `Append` | always | state + input value |
//! | `AppendOld` (Lab 2) | the output is the state (or unknown) | state + input value |
//!
//! An unknown output (`KvOutput { value: None }`) is what a crashed or timed-out
//! operation carries.

use super::quote;
use super::value::Value;
use crate::history::Operation;
use crate::model::{Model, Partition};
use std::collections::BTreeMap;

/// The kind of a key/value operation, with the lab's numeric codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KvOp {
    /// Read the value (code 0).
    Get,
    /// Replace the value (code 1).
    Put,
    /// Append to the value (code 2); the output is ignored.
    Append,
    /// Append and return the old value (code 3, Lab 2).
    AppendOld,
}

impl KvOp {
    /// The lab's code: 0 get, 1 put, 2 append, 3 append returning the old value.
    pub fn code(self) -> u8 {
        match self {
            KvOp::Get => 0,
            KvOp::Put => 1,
            KvOp::Append => 2,
            KvOp::AppendOld => 3,
        }
    }

    /// The operation with the lab's code `code`.
    pub fn from_code(code: u8) -> Option<KvOp> {
        match code {
            0 => Some(KvOp::Get),
            1 => Some(KvOp::Put),
            2 => Some(KvOp::Append),
            3 => Some(KvOp::AppendOld),
            _ => None,
        }
    }

    /// The name used in JSON-lines histories.
    pub fn name(self) -> &'static str {
        match self {
            KvOp::Get => "get",
            KvOp::Put => "put",
            KvOp::Append => "append",
            KvOp::AppendOld => "append_old",
        }
    }

    /// The operation named `name` in JSON-lines histories.
    pub fn from_name(name: &str) -> Option<KvOp> {
        [KvOp::Get, KvOp::Put, KvOp::Append, KvOp::AppendOld]
            .into_iter()
            .find(|op| op.name() == name)
    }
}

/// What a key/value client asked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KvInput {
    /// The operation.
    pub op: KvOp,
    /// The key.
    pub key: String,
    /// The value to put or append (empty for a get).
    pub value: String,
}

/// What a key/value client saw: the value read (get), the old value (Lab 2 append),
/// anything (put, append); `None` when the outcome is unknown.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KvOutput {
    /// The value, or `None` if unknown.
    pub value: Option<String>,
}

impl KvOutput {
    /// A known output.
    pub fn known(value: impl Into<String>) -> KvOutput {
        KvOutput {
            value: Some(value.into()),
        }
    }

    /// An unknown output (crashed or timed-out operation).
    pub fn unknown() -> KvOutput {
        KvOutput { value: None }
    }
}

/// The key/value model, partitioned by key.
#[derive(Clone, Copy, Debug, Default)]
pub struct KvModel;

/// Describes a key/value operation: `get('k') -> 'v'`, `put('k', 'v')`, ...
pub(crate) fn describe(input: &KvInput, output: &KvOutput) -> String {
    let out = output.value.as_deref().map_or("?".to_string(), quote);
    let (k, v) = (quote(&input.key), quote(&input.value));
    match input.op {
        KvOp::Get => format!("get({k}) -> {out}"),
        KvOp::Put => format!("put({k}, {v})"),
        KvOp::Append => format!("append({k}, {v})"),
        KvOp::AppendOld => format!("append({k}, {v}) -> {out}"),
    }
}

impl Model for KvModel {
    type State = Value;
    type Input = KvInput;
    type Output = KvOutput;

    fn init(&self) -> Value {
        Value::new()
    }

    fn step(&self, state: &Value, input: &KvInput, output: &KvOutput) -> Option<Value> {
        let matches = output.value.as_deref().is_none_or(|v| state.eq_str(v));
        match input.op {
            KvOp::Get => matches.then(|| state.clone()),
            KvOp::Put => Some(Value::from(input.value.as_str())),
            KvOp::Append => Some(state.append(&input.value)),
            KvOp::AppendOld => matches.then(|| state.append(&input.value)),
        }
    }

    fn partition(&self, history: &[Operation<KvInput, KvOutput>]) -> Vec<Partition> {
        let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, op) in history.iter().enumerate() {
            by_key.entry(op.input.key.as_str()).or_default().push(i);
        }
        by_key
            .into_iter()
            .map(|(key, operations)| Partition {
                name: format!("key {}", quote(key)),
                operations,
            })
            .collect()
    }

    fn unknown_output(&self, _input: &KvInput) -> Option<KvOutput> {
        Some(KvOutput::unknown())
    }

    fn is_read_only(&self, input: &KvInput, _output: &KvOutput) -> bool {
        input.op == KvOp::Get
    }

    /// Everything but `Put` only appends (in the prefix order).
    fn extends(&self, input: &KvInput) -> bool {
        input.op != KvOp::Put
    }

    /// Puts and appends, and operations whose outcome is unknown.
    fn always_accepts(&self, input: &KvInput, output: &KvOutput) -> bool {
        matches!(input.op, KvOp::Put | KvOp::Append) || output.value.is_none()
    }

    /// A put sets the value whatever it was.
    fn resets_to(&self, input: &KvInput, _output: &KvOutput) -> Option<Value> {
        (input.op == KvOp::Put).then(|| Value::from(input.value.as_str()))
    }

    /// A get or a Lab 2 append that saw `v` needs a state that is a prefix of `v`.
    fn may_extend_to(&self, state: &Value, input: &KvInput, output: &KvOutput) -> bool {
        match (input.op, output.value.as_deref()) {
            (KvOp::Get | KvOp::AppendOld, Some(v)) => state.is_prefix_of(v),
            _ => true,
        }
    }

    fn describe_operation(&self, input: &KvInput, output: &KvOutput) -> String {
        describe(input, output)
    }

    fn describe_state(&self, state: &Value) -> String {
        quote(&state.to_string())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn input(op: KvOp, key: &str, value: &str) -> KvInput {
        KvInput {
            op,
            key: key.into(),
            value: value.into(),
        }
    }

    #[test]
    fn steps_follow_the_lab_table() {
        let m = KvModel;
        let s = Value::from("ab");
        assert_eq!(
            m.step(&s, &input(KvOp::Get, "k", ""), &KvOutput::known("ab")),
            Some(s.clone())
        );
        assert_eq!(
            m.step(&s, &input(KvOp::Get, "k", ""), &KvOutput::known("a")),
            None
        );
        assert_eq!(
            m.step(&s, &input(KvOp::Get, "k", ""), &KvOutput::unknown()),
            Some(s.clone())
        );
        assert_eq!(
            m.step(&s, &input(KvOp::Put, "k", "z"), &KvOutput::known("")),
            Some(Value::from("z"))
        );
        assert_eq!(
            m.step(&s, &input(KvOp::Append, "k", "c"), &KvOutput::known("junk")),
            Some(Value::from("abc"))
        );
        assert_eq!(
            m.step(
                &s,
                &input(KvOp::AppendOld, "k", "c"),
                &KvOutput::known("ab")
            ),
            Some(Value::from("abc"))
        );
        assert_eq!(
            m.step(&s, &input(KvOp::AppendOld, "k", "c"), &KvOutput::known("a")),
            None
        );
        assert_eq!(
            m.step(&s, &input(KvOp::AppendOld, "k", "c"), &KvOutput::unknown()),
            Some(Value::from("abc"))
        );
    }

    #[test]
    fn codes_and_names_round_trip() {
        for code in 0..4 {
            let op = KvOp::from_code(code).unwrap();
            assert_eq!(op.code(), code);
            assert_eq!(KvOp::from_name(op.name()), Some(op));
        }
        assert_eq!(KvOp::from_code(4), None);
        assert_eq!(KvOp::from_name("cas"), None);
    }

    #[test]
    fn partitions_by_key_in_key_order() {
        let op = |key: &str| Operation {
            client: 0,
            input: input(KvOp::Get, key, ""),
            call: 0,
            output: KvOutput::known(""),
            ret: Some(1),
            meta: None,
        };
        let h = vec![op("b"), op("a"), op("b"), op("c")];
        let parts = KvModel.partition(&h);
        let got: Vec<_> = parts
            .iter()
            .map(|p| (p.name.as_str(), p.operations.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("key 'a'", vec![1]),
                ("key 'b'", vec![0, 2]),
                ("key 'c'", vec![3])
            ]
        );
    }

    #[test]
    fn descriptions() {
        assert_eq!(
            describe(&input(KvOp::Get, "k", ""), &KvOutput::known("v")),
            "get('k') -> 'v'"
        );
        assert_eq!(
            describe(&input(KvOp::Put, "k", "it's"), &KvOutput::known("")),
            "put('k', 'it\\'s')"
        );
        assert_eq!(
            describe(&input(KvOp::AppendOld, "k", "x"), &KvOutput::unknown()),
            "append('k', 'x') -> ?"
        );
    }
}
