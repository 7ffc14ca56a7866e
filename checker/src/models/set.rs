//! A set of strings.
//!
//! | operation | output | legal when | next state |
//! | --- | --- | --- | --- |
//! | `Add(x)` | `Done` | always | state ∪ {x} |
//! | `Remove(x)` | `Done` | always | state ∖ {x} |
//! | `Contains(x)` | `Contains(b)` | `b` is whether x is in the state | unchanged |
//! | `Read` | `Read(s)` | `s` is the state | unchanged |
//! | any | `Unknown` | always | what the operation would do |

use crate::model::Model;
use std::collections::BTreeSet;

/// What a set client asked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SetInput {
    /// Add an element.
    Add(String),
    /// Remove an element.
    Remove(String),
    /// Ask whether an element is present.
    Contains(String),
    /// Read the whole set.
    Read,
}

/// What a set client saw.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SetOutput {
    /// An add or remove was acknowledged.
    Done,
    /// The answer to a contains.
    Contains(bool),
    /// The elements read.
    Read(BTreeSet<String>),
    /// The outcome is unknown.
    Unknown,
}

/// The set model.
#[derive(Clone, Copy, Debug, Default)]
pub struct SetModel;

fn show(set: &BTreeSet<String>) -> String {
    let items: Vec<&str> = set.iter().map(String::as_str).collect();
    format!("{{{}}}", items.join(", "))
}

impl Model for SetModel {
    type State = BTreeSet<String>;
    type Input = SetInput;
    type Output = SetOutput;

    fn init(&self) -> Self::State {
        BTreeSet::new()
    }

    fn step(
        &self,
        state: &Self::State,
        input: &SetInput,
        output: &SetOutput,
    ) -> Option<Self::State> {
        match (input, output) {
            (SetInput::Add(x), SetOutput::Done | SetOutput::Unknown) => {
                let mut s = state.clone();
                s.insert(x.clone());
                Some(s)
            }
            (SetInput::Remove(x), SetOutput::Done | SetOutput::Unknown) => {
                let mut s = state.clone();
                s.remove(x);
                Some(s)
            }
            (SetInput::Contains(x), SetOutput::Contains(b)) => {
                (state.contains(x) == *b).then(|| state.clone())
            }
            (SetInput::Read, SetOutput::Read(s)) => (s == state).then(|| state.clone()),
            (SetInput::Contains(_) | SetInput::Read, SetOutput::Unknown) => Some(state.clone()),
            _ => None,
        }
    }

    fn unknown_output(&self, _input: &SetInput) -> Option<SetOutput> {
        Some(SetOutput::Unknown)
    }

    fn is_read_only(&self, input: &SetInput, _output: &SetOutput) -> bool {
        matches!(input, SetInput::Contains(_) | SetInput::Read)
    }

    /// In the subset order, everything but `Remove` extends.
    fn extends(&self, input: &SetInput) -> bool {
        !matches!(input, SetInput::Remove(_))
    }

    fn always_accepts(&self, input: &SetInput, output: &SetOutput) -> bool {
        matches!(
            (input, output),
            (_, SetOutput::Unknown) | (SetInput::Add(_) | SetInput::Remove(_), SetOutput::Done)
        )
    }

    /// Only subsets of a read's set can lead to it, and `contains(x) -> false` needs
    /// a state without `x`.
    fn may_extend_to(&self, state: &Self::State, input: &SetInput, output: &SetOutput) -> bool {
        match (input, output) {
            (SetInput::Contains(x), SetOutput::Contains(false)) => !state.contains(x),
            (SetInput::Read, SetOutput::Read(s)) => state.is_subset(s),
            _ => true,
        }
    }

    fn describe_operation(&self, input: &SetInput, output: &SetOutput) -> String {
        let call = match input {
            SetInput::Add(x) => format!("add({x})"),
            SetInput::Remove(x) => format!("remove({x})"),
            SetInput::Contains(x) => format!("contains({x})"),
            SetInput::Read => "read()".to_string(),
        };
        match output {
            SetOutput::Done => call,
            SetOutput::Contains(b) => format!("{call} -> {b}"),
            SetOutput::Read(s) => format!("{call} -> {}", show(s)),
            SetOutput::Unknown => format!("{call} -> ?"),
        }
    }

    fn describe_state(&self, state: &Self::State) -> String {
        show(state)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn steps() {
        let m = SetModel;
        let s = m
            .step(&m.init(), &SetInput::Add("a".into()), &SetOutput::Done)
            .unwrap();
        assert!(
            m.step(
                &s,
                &SetInput::Contains("a".into()),
                &SetOutput::Contains(true)
            )
            .is_some()
        );
        assert!(
            m.step(
                &s,
                &SetInput::Contains("b".into()),
                &SetOutput::Contains(true)
            )
            .is_none()
        );
        let read = |items: &[&str]| SetOutput::Read(items.iter().map(|s| s.to_string()).collect());
        assert!(m.step(&s, &SetInput::Read, &read(&["a"])).is_some());
        assert!(m.step(&s, &SetInput::Read, &read(&[])).is_none());
        let e = m
            .step(&s, &SetInput::Remove("a".into()), &SetOutput::Unknown)
            .unwrap();
        assert!(e.is_empty());
        assert_eq!(
            m.describe_operation(&SetInput::Read, &read(&["a", "b"])),
            "read() -> {a, b}"
        );
    }
}
