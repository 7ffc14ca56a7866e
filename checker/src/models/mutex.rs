//! A mutex (a lock without owners), as Jepsen's lock workloads use it and as
//! Knossos's `mutex` model defines it.
//!
//! | operation | output | legal when | next state |
//! | --- | --- | --- | --- |
//! | `Acquire` | `Done` | the lock is free | held |
//! | `Release` | `Done` | the lock is held | free |
//! | `Acquire` | `Unknown` | always | held |
//! | `Release` | `Unknown` | always | free |
//!
//! An operation whose outcome is unknown stays open to the end of the history, so
//! the search may place it anywhere after its call: where the lock is free an
//! unknown acquire that took effect holds it; where it is already held the acquire
//! cannot have taken effect and changes nothing, which is the same state. One that
//! never took effect is placed last, where its effect no longer matters. Any
//! process may release the lock (Knossos's model has no owners either).

use crate::model::Model;

/// What a lock client asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MutexInput {
    /// Take the lock.
    Acquire,
    /// Give it back.
    Release,
}

/// What a lock client saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MutexOutput {
    /// The operation succeeded.
    Done,
    /// The outcome is unknown (crashed or timed out).
    Unknown,
}

/// The mutex model; its state is whether the lock is held.
#[derive(Clone, Copy, Debug, Default)]
pub struct MutexModel;

impl Model for MutexModel {
    type State = bool;
    type Input = MutexInput;
    type Output = MutexOutput;

    fn init(&self) -> bool {
        false
    }

    fn step(&self, held: &bool, input: &MutexInput, output: &MutexOutput) -> Option<bool> {
        match (input, output) {
            (MutexInput::Acquire, MutexOutput::Done) => (!*held).then_some(true),
            (MutexInput::Release, MutexOutput::Done) => held.then_some(false),
            (MutexInput::Acquire, MutexOutput::Unknown) => Some(true),
            (MutexInput::Release, MutexOutput::Unknown) => Some(false),
        }
    }

    fn unknown_output(&self, _input: &MutexInput) -> Option<MutexOutput> {
        Some(MutexOutput::Unknown)
    }

    fn always_accepts(&self, _input: &MutexInput, output: &MutexOutput) -> bool {
        *output == MutexOutput::Unknown
    }

    /// Whenever an acquire is accepted the lock is held after it; after a release,
    /// free.
    fn resets_to(&self, input: &MutexInput, _output: &MutexOutput) -> Option<bool> {
        Some(*input == MutexInput::Acquire)
    }

    fn describe_operation(&self, input: &MutexInput, output: &MutexOutput) -> String {
        let call = match input {
            MutexInput::Acquire => "acquire()",
            MutexInput::Release => "release()",
        };
        match output {
            MutexOutput::Done => call.to_string(),
            MutexOutput::Unknown => format!("{call} -> ?"),
        }
    }

    fn describe_state(&self, held: &bool) -> String {
        if *held { "held" } else { "free" }.to_string()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn steps() {
        let m = MutexModel;
        let (acq, rel) = (MutexInput::Acquire, MutexInput::Release);
        let (done, unknown) = (MutexOutput::Done, MutexOutput::Unknown);
        assert_eq!(m.step(&false, &acq, &done), Some(true));
        assert_eq!(m.step(&true, &acq, &done), None);
        assert_eq!(m.step(&true, &rel, &done), Some(false));
        assert_eq!(m.step(&false, &rel, &done), None);
        for held in [false, true] {
            assert_eq!(m.step(&held, &acq, &unknown), Some(true));
            assert_eq!(m.step(&held, &rel, &unknown), Some(false));
        }
        assert_eq!(m.describe_operation(&acq, &unknown), "acquire() -> ?");
        assert_eq!(m.describe_state(&true), "held");
    }
}
