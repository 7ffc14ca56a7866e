//! A single register with read, write and compare-and-set, whose value may be
//! absent (`None`, written `nil`; the initial value).
//!
//! | operation | output | legal when | next state |
//! | --- | --- | --- | --- |
//! | `Read` | `Read(v)` | `v` is the state | unchanged |
//! | `Write(v)` | `Done` | always | `v` |
//! | `Cas { from, to }` | `Cas(true)` | the state is `from` | `to` |
//! | `Cas { from, to }` | `Cas(false)` | the state is not `from` | unchanged |
//! | any | `Unknown` | always | what the operation would do |
//!
//! Any other pairing of input and output is rejected.

use crate::model::Model;

/// A register value; `None` is the absent value.
pub type RegValue = Option<String>;

/// What a register client asked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RegInput {
    /// Read the value.
    Read,
    /// Write a value.
    Write(RegValue),
    /// Set the value to `to` if it is `from`.
    Cas {
        /// The expected value.
        from: RegValue,
        /// The new value.
        to: RegValue,
    },
}

/// What a register client saw.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RegOutput {
    /// A read returned this value.
    Read(RegValue),
    /// A write was acknowledged.
    Done,
    /// A compare-and-set succeeded (true) or found another value (false).
    Cas(bool),
    /// The outcome is unknown (crashed or timed out).
    Unknown,
}

/// The register model.
#[derive(Clone, Copy, Debug, Default)]
pub struct Register;

/// Describes a register value: the value itself, or `nil`.
pub(crate) fn show(v: &RegValue) -> String {
    v.clone().unwrap_or_else(|| "nil".to_string())
}

impl Model for Register {
    type State = RegValue;
    type Input = RegInput;
    type Output = RegOutput;

    fn init(&self) -> RegValue {
        None
    }

    fn step(&self, state: &RegValue, input: &RegInput, output: &RegOutput) -> Option<RegValue> {
        match (input, output) {
            (RegInput::Read, RegOutput::Read(v)) => (v == state).then(|| state.clone()),
            (RegInput::Read, RegOutput::Unknown) => Some(state.clone()),
            (RegInput::Write(v), RegOutput::Done | RegOutput::Unknown) => Some(v.clone()),
            (RegInput::Cas { from, to }, RegOutput::Cas(true)) => {
                (from == state).then(|| to.clone())
            }
            (RegInput::Cas { from, .. }, RegOutput::Cas(false)) => {
                (from != state).then(|| state.clone())
            }
            (RegInput::Cas { from, to }, RegOutput::Unknown) => Some(if from == state {
                to.clone()
            } else {
                state.clone()
            }),
            _ => None,
        }
    }

    fn unknown_output(&self, _input: &RegInput) -> Option<RegOutput> {
        Some(RegOutput::Unknown)
    }

    fn is_read_only(&self, input: &RegInput, output: &RegOutput) -> bool {
        matches!(
            (input, output),
            (RegInput::Read, _) | (RegInput::Cas { .. }, RegOutput::Cas(false))
        )
    }

    /// The order of [`Model::extends`] is equality here: only reads extend.
    fn extends(&self, input: &RegInput) -> bool {
        matches!(input, RegInput::Read)
    }

    fn always_accepts(&self, input: &RegInput, output: &RegOutput) -> bool {
        matches!(
            (input, output),
            (_, RegOutput::Unknown) | (RegInput::Write(_), RegOutput::Done)
        )
    }

    /// A write sets the value whatever it was.
    fn resets_to(&self, input: &RegInput, output: &RegOutput) -> Option<RegValue> {
        match (input, output) {
            (RegInput::Write(v), RegOutput::Done | RegOutput::Unknown) => Some(v.clone()),
            _ => None,
        }
    }

    /// A read of `v` needs the state `v`.
    fn may_extend_to(&self, state: &RegValue, input: &RegInput, output: &RegOutput) -> bool {
        match (input, output) {
            (RegInput::Read, RegOutput::Read(v)) => v == state,
            _ => true,
        }
    }

    fn describe_operation(&self, input: &RegInput, output: &RegOutput) -> String {
        let call = match input {
            RegInput::Read => "read()".to_string(),
            RegInput::Write(v) => format!("write({})", show(v)),
            RegInput::Cas { from, to } => format!("cas({}, {})", show(from), show(to)),
        };
        match output {
            RegOutput::Read(v) => format!("{call} -> {}", show(v)),
            RegOutput::Done => call,
            RegOutput::Cas(ok) => format!("{call} -> {}", if *ok { "ok" } else { "fail" }),
            RegOutput::Unknown => format!("{call} -> ?"),
        }
    }

    fn describe_state(&self, state: &RegValue) -> String {
        show(state)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn v(x: &str) -> RegValue {
        Some(x.to_string())
    }

    #[test]
    fn steps() {
        let m = Register;
        assert_eq!(
            m.step(&None, &RegInput::Read, &RegOutput::Read(None)),
            Some(None)
        );
        assert_eq!(
            m.step(&None, &RegInput::Read, &RegOutput::Read(v("1"))),
            None
        );
        assert_eq!(
            m.step(&None, &RegInput::Write(v("1")), &RegOutput::Done),
            Some(v("1"))
        );
        let cas = RegInput::Cas {
            from: v("1"),
            to: v("4"),
        };
        assert_eq!(m.step(&v("1"), &cas, &RegOutput::Cas(true)), Some(v("4")));
        assert_eq!(m.step(&v("2"), &cas, &RegOutput::Cas(true)), None);
        assert_eq!(m.step(&v("2"), &cas, &RegOutput::Cas(false)), Some(v("2")));
        assert_eq!(m.step(&v("1"), &cas, &RegOutput::Cas(false)), None);
        assert_eq!(m.step(&v("1"), &cas, &RegOutput::Unknown), Some(v("4")));
        assert_eq!(m.step(&v("3"), &cas, &RegOutput::Unknown), Some(v("3")));
        assert_eq!(
            m.step(&v("3"), &RegInput::Read, &RegOutput::Unknown),
            Some(v("3"))
        );
        assert_eq!(
            m.step(&v("3"), &RegInput::Read, &RegOutput::Done),
            None,
            "mismatched output"
        );
        assert_eq!(
            m.describe_operation(&cas, &RegOutput::Cas(false)),
            "cas(1, 4) -> fail"
        );
        assert_eq!(
            m.describe_operation(&RegInput::Read, &RegOutput::Read(None)),
            "read() -> nil"
        );
    }
}
