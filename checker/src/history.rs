//! Histories: what clients did, as operations or as call/return events.
//!
//! An [`Operation`] is one client request with its call time and, if it returned, its
//! return time. Intervals are closed: an operation that returns at `t` and one that is
//! called at `t` are concurrent. An operation that never returned (`ret: None`: the
//! client crashed or gave up) stays open until the end of the history; its output
//! must be the model's "unknown" output (see [`crate::Model::unknown_output`]).
//!
//! The same history can be given as an ordered list of [`Event`]s, where the position
//! of an event is its time; [`operations_from_events`] pairs each call with its
//! return.

use std::collections::BTreeMap;
use std::fmt;

/// A point in time. Any unit works (the lab tests use virtual microseconds) as long as
/// one history uses one unit.
pub type Time = i64;

/// One client operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation<I, O> {
    /// The client that issued it (used for display only).
    pub client: u64,
    /// What the client asked for.
    pub input: I,
    /// When the client called.
    pub call: Time,
    /// What the client saw back.
    pub output: O,
    /// When the call returned; `None` if it never did (it stays open to the end).
    pub ret: Option<Time>,
    /// Free-form notes shown with the operation in the HTML view.
    pub meta: Option<String>,
}

/// A note on the timeline of the HTML view, such as "leader 2 crashed".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Annotation {
    /// The client whose row it belongs to; `None` for the whole history.
    pub client: Option<u64>,
    /// When it starts.
    pub start: Time,
    /// When it ends (equal to `start` for a point in time).
    pub end: Time,
    /// The text.
    pub text: String,
}

/// What happened at one point of an event history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind<I, O> {
    /// The client called with this input.
    Call(I),
    /// The call with the same id returned this output.
    Return(O),
}

/// One call or return in an ordered event history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event<I, O> {
    /// The client.
    pub client: u64,
    /// Pairs a return with its call; unique among the calls of a history.
    pub id: u64,
    /// The call or the return.
    pub kind: EventKind<I, O>,
    /// Notes for the HTML view (taken from the call event).
    pub meta: Option<String>,
}

/// A history that cannot be checked, with the position of the culprit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryError {
    /// Index of the operation (or event) at fault.
    pub index: usize,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "entry {}: {}", self.index, self.reason)
    }
}

impl std::error::Error for HistoryError {}

/// Checks the times of a history: every operation returns no earlier than it is
/// called.
pub fn validate<I, O>(history: &[Operation<I, O>]) -> Result<(), HistoryError> {
    for (index, op) in history.iter().enumerate() {
        if let Some(ret) = op.ret
            && ret < op.call
        {
            return Err(HistoryError {
                index,
                reason: format!("returns at {ret}, before its call at {}", op.call),
            });
        }
    }
    Ok(())
}

/// Pairs calls with returns. An event's time is its position in `events`. A call
/// that never returns gets `unknown(input)` as output and stays open; if `unknown`
/// gives `None` that is an error. Operations come out in call order.
pub fn operations_from_events<I, O>(
    events: Vec<Event<I, O>>,
    unknown: impl Fn(&I) -> Option<O>,
) -> Result<Vec<Operation<I, O>>, HistoryError> {
    struct Pending<I> {
        slot: usize,
        client: u64,
        input: I,
        call: Time,
        meta: Option<String>,
    }
    let mut slots: Vec<Option<Operation<I, O>>> = Vec::new();
    let mut pending: BTreeMap<u64, Pending<I>> = BTreeMap::new();
    let mut seen_ids: BTreeMap<u64, usize> = BTreeMap::new();
    for (index, event) in events.into_iter().enumerate() {
        let time = Time::try_from(index).map_err(|_| HistoryError {
            index,
            reason: "too many events".to_string(),
        })?;
        match event.kind {
            EventKind::Call(input) => {
                if let Some(first) = seen_ids.insert(event.id, index) {
                    return Err(HistoryError {
                        index,
                        reason: format!("call id {} was already used by event {first}", event.id),
                    });
                }
                pending.insert(
                    event.id,
                    Pending {
                        slot: slots.len(),
                        client: event.client,
                        input,
                        call: time,
                        meta: event.meta,
                    },
                );
                slots.push(None);
            }
            EventKind::Return(output) => {
                let Some(p) = pending.remove(&event.id) else {
                    return Err(HistoryError {
                        index,
                        reason: format!("return for id {} without a pending call", event.id),
                    });
                };
                slots[p.slot] = Some(Operation {
                    client: p.client,
                    input: p.input,
                    call: p.call,
                    output,
                    ret: Some(time),
                    meta: p.meta,
                });
            }
        }
    }
    for (id, p) in pending {
        let Some(output) = unknown(&p.input) else {
            return Err(HistoryError {
                index: usize::try_from(p.call).unwrap_or(usize::MAX),
                reason: format!("call id {id} never returns and the model has no unknown output"),
            });
        };
        slots[p.slot] = Some(Operation {
            client: p.client,
            input: p.input,
            call: p.call,
            output,
            ret: None,
            meta: p.meta,
        });
    }
    Ok(slots.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(client: u64, id: u64, input: &'static str) -> Event<&'static str, &'static str> {
        Event {
            client,
            id,
            kind: EventKind::Call(input),
            meta: None,
        }
    }

    fn ret(client: u64, id: u64, output: &'static str) -> Event<&'static str, &'static str> {
        Event {
            client,
            id,
            kind: EventKind::Return(output),
            meta: None,
        }
    }

    #[test]
    fn events_pair_up_in_call_order_and_open_calls_stay_open() {
        let events = vec![
            call(1, 10, "a"),
            call(2, 20, "b"),
            ret(2, 20, "B"),
            call(3, 30, "c"),
        ];
        let ops = operations_from_events(events, |_| Some("?")).unwrap();
        assert_eq!(ops.len(), 3);
        assert_eq!(
            (ops[0].input, ops[0].output, ops[0].call, ops[0].ret),
            ("a", "?", 0, None)
        );
        assert_eq!(
            (ops[1].input, ops[1].output, ops[1].call, ops[1].ret),
            ("b", "B", 1, Some(2))
        );
        assert_eq!((ops[2].client, ops[2].ret), (3, None));
    }

    #[test]
    fn bad_event_histories_are_errors() {
        let orphan = operations_from_events(vec![ret(1, 5, "x")], |_| Some("?"));
        assert_eq!(orphan.unwrap_err().index, 0);
        let dup = operations_from_events(vec![call(1, 5, "a"), call(2, 5, "b")], |_| Some("?"));
        assert!(dup.unwrap_err().reason.contains("already used"));
        let no_unknown = operations_from_events(vec![call(1, 5, "a")], |_| None);
        assert!(no_unknown.unwrap_err().reason.contains("never returns"));
    }

    #[test]
    fn validate_rejects_time_travel_but_accepts_zero_duration() {
        let op = |call, ret| Operation {
            client: 0,
            input: (),
            call,
            output: (),
            ret,
            meta: None,
        };
        assert!(validate(&[op(5, Some(5)), op(1, None)]).is_ok());
        let err = validate(&[op(1, Some(2)), op(5, Some(4))]).unwrap_err();
        assert_eq!(err.index, 1);
    }
}
