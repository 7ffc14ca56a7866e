//! The key/value operations over the whole map, with no partitioning.
//!
//! Same steps as [`super::kv::KvModel`], but the state is every key's value (absent
//! keys read as the empty string). Useful when operations on different keys are not
//! independent, and to cross-check the per-key partitioning.

use super::kv::{KvInput, KvOp, KvOutput, describe};
use super::quote;
use crate::model::Model;
use std::collections::BTreeMap;

/// The whole-map key/value model.
#[derive(Clone, Copy, Debug, Default)]
pub struct MapModel;

impl Model for MapModel {
    type State = BTreeMap<String, String>;
    type Input = KvInput;
    type Output = KvOutput;

    fn init(&self) -> Self::State {
        BTreeMap::new()
    }

    fn step(&self, state: &Self::State, input: &KvInput, output: &KvOutput) -> Option<Self::State> {
        let current = state.get(&input.key).map_or("", String::as_str);
        let next = step_value(current, input, output)?;
        if next == current {
            return Some(state.clone());
        }
        let mut state = state.clone();
        if next.is_empty() {
            state.remove(&input.key);
        } else {
            state.insert(input.key.clone(), next);
        }
        Some(state)
    }

    fn unknown_output(&self, _input: &KvInput) -> Option<KvOutput> {
        Some(KvOutput::unknown())
    }

    fn is_read_only(&self, input: &KvInput, _output: &KvOutput) -> bool {
        input.op == KvOp::Get
    }

    fn describe_operation(&self, input: &KvInput, output: &KvOutput) -> String {
        describe(input, output)
    }

    fn describe_state(&self, state: &Self::State) -> String {
        let parts: Vec<String> = state
            .iter()
            .map(|(k, v)| format!("{}: {}", quote(k), quote(v)))
            .collect();
        format!("{{{}}}", parts.join(", "))
    }
}

/// One key's state transition, on a plain string.
fn step_value(state: &str, input: &KvInput, output: &KvOutput) -> Option<String> {
    let matches = output.value.as_deref().is_none_or(|v| v == state);
    match input.op {
        KvOp::Get => matches.then(|| state.to_string()),
        KvOp::Put => Some(input.value.clone()),
        KvOp::Append => Some(format!("{state}{}", input.value)),
        KvOp::AppendOld => matches.then(|| format!("{state}{}", input.value)),
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn keys_are_independent_and_empty_values_are_absent() {
        let m = MapModel;
        let put = |k: &str, v: &str| KvInput {
            op: KvOp::Put,
            key: k.into(),
            value: v.into(),
        };
        let get = |k: &str| KvInput {
            op: KvOp::Get,
            key: k.into(),
            value: String::new(),
        };
        let s = m
            .step(&m.init(), &put("a", "1"), &KvOutput::known(""))
            .unwrap();
        assert!(m.step(&s, &get("a"), &KvOutput::known("1")).is_some());
        assert!(m.step(&s, &get("b"), &KvOutput::known("")).is_some());
        assert!(m.step(&s, &get("b"), &KvOutput::known("1")).is_none());
        let cleared = m.step(&s, &put("a", ""), &KvOutput::known("")).unwrap();
        assert_eq!(
            cleared,
            m.init(),
            "equal maps must compare equal for the memo"
        );
        assert_eq!(m.describe_state(&s), "{'a': '1'}");
    }
}
