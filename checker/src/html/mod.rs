//! The HTML view of a checked history: one self-contained file (no network).
//!
//! [`render`] turns a history and its [`CheckResult`] into a JSON payload, embedded
//! in `page.html` (this module's own CSS and JavaScript), which draws:
//!
//! - one section per partition, with its status; one row per client, each
//!   operation as a bar from its call to its return (time is drawn by rank: each
//!   distinct call or return time gets one slot, so long quiet gaps take no room);
//!   an operation that never returned runs to the end, hatched; operations with
//!   metadata carry a dot;
//! - the linearization points of the full linearization (Ok partitions) or of the
//!   longest partial one (others), joined in order;
//! - on hover over an operation, its own longest partial linearization, with the
//!   states before and after it and, where that linearization got stuck, the
//!   operations that could have come next and whether the model rejected them;
//!   a click makes the selection stick (Escape or a click on empty space clears it);
//! - annotations (notes with a time range) in a row of their own;
//! - a zoom control and a filter that hides Ok partitions, for long histories;
//! - on opening, the first illegal partition scrolled into view, across to where it
//!   got stuck: the first operation that could not come next after its longest
//!   partial linearization (the first one the text report names after "it stops
//!   before"), outlined.
//!
//! The payload per partition: `ops` (client, call/return rank and time,
//! description, metadata), `states` (descriptions), `steps` (`[parent, op, state]`),
//! `longest` (per operation, the last step of its longest linearization), `full`
//! (Ok partitions: the linearization), `dead_ends` and flags. At the top, `stuck`:
//! where the page opens ([`stuck_operation`]), or null.

use crate::history::{Annotation, Operation, Time};
use crate::model::Model;
use crate::result::{CheckResult, PartitionResult, PartitionStatus};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io;
use std::path::Path;

const PAGE: &str = include_str!("page.html");
const PAYLOAD_MARK: &str = "/*PAYLOAD*/";

/// What to put on the page besides the history and the result.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HtmlOptions {
    /// The page title.
    pub title: String,
    /// Notes drawn on the timeline.
    pub annotations: Vec<Annotation>,
}

/// A time for the page: a number when JavaScript can hold it exactly, else a string.
fn time_value(t: Time) -> Value {
    if t.unsigned_abs() < (1u64 << 53) {
        json!(t)
    } else {
        json!(t.to_string())
    }
}

fn partition_payload<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    part: &PartitionResult,
    annotations: &[Annotation],
    pos_of: &mut [usize],
) -> Value {
    for (pos, &i) in part.operations.iter().enumerate() {
        pos_of[i] = pos;
    }
    let mut times: BTreeSet<Time> = BTreeSet::new();
    for &i in &part.operations {
        times.insert(history[i].call);
        if let Some(r) = history[i].ret {
            times.insert(r);
        }
    }
    for a in annotations {
        times.insert(a.start);
        times.insert(a.end);
    }
    let times: Vec<Time> = times.into_iter().collect();
    let rank = |t: Time| times.binary_search(&t).unwrap_or_else(|i| i);
    let end_rank = times.len();
    let ops: Vec<Value> = part
        .operations
        .iter()
        .map(|&i| {
            let op = &history[i];
            json!({
                "id": i,
                "client": op.client,
                "c": rank(op.call),
                "r": op.ret.map_or(end_rank, rank),
                "open": op.ret.is_none(),
                "call": time_value(op.call),
                "ret": op.ret.map(time_value),
                "desc": model.describe_operation(&op.input, &op.output),
                "meta": op.meta,
            })
        })
        .collect();
    let notes: Vec<Value> = annotations
        .iter()
        .map(|a| {
            json!({
                "client": a.client,
                "c": rank(a.start),
                "r": rank(a.end),
                "text": a.text,
            })
        })
        .collect();

    let mut states: Vec<Value> = Vec::new();
    let mut steps: Vec<Value> = Vec::new();
    let mut longest: Vec<Value> = Vec::new();
    let mut dead_ends: Vec<Value> = Vec::new();
    let mut full: Value = Value::Null;
    let mut truncated = false;
    if let Some(lin) = &part.linearizations {
        states = lin.states.iter().map(|s| json!(s)).collect();
        steps = lin
            .steps
            .iter()
            .map(|s| json!([s.parent.map_or(-1, |p| p as i64), pos_of[s.op], s.state]))
            .collect();
        longest = lin
            .longest
            .iter()
            .map(|l| l.map_or(json!(-1), |s| json!(s)))
            .collect();
        dead_ends = lin
            .dead_ends
            .iter()
            .map(|(after, attempts)| {
                let list: Vec<Value> = attempts
                    .iter()
                    .map(|a| json!([pos_of[a.op], a.rejected]))
                    .collect();
                json!({"after": after.map_or(-1, |s| s as i64), "attempts": list})
            })
            .collect();
        truncated = lin.truncated;
    }
    if let Some(order) = &part.linearization {
        // Replay the model along the linearization for the states after each step.
        let mut state = model.init();
        let mut seq = Vec::new();
        let mut full_states = vec![json!(model.describe_state(&state))];
        for &i in order {
            let op = &history[i];
            if let Some(next) = model.step(&state, &op.input, &op.output) {
                state = next;
            }
            full_states.push(json!(model.describe_state(&state)));
            seq.push(json!(pos_of[i]));
        }
        full = json!({"ops": seq, "states": full_states});
    }
    json!({
        "name": part.name,
        "status": part.status.to_string(),
        "ops": ops,
        "notes": notes,
        "end": end_rank,
        "states": states,
        "steps": steps,
        "longest": longest,
        "dead_ends": dead_ends,
        "full": full,
        "recorded": part.linearizations.is_some(),
        "truncated": truncated,
    })
}

/// Where the page opens: the first illegal partition with records (its index in
/// `result.partitions`) and, by its position in that partition, the first operation
/// that could not come next after the partition's longest partial linearization; or,
/// when no attempt after it was recorded, the first operation (in partition order)
/// that linearization leaves out. `None` when no illegal partition has records.
pub fn stuck_operation(result: &CheckResult) -> Option<(usize, usize)> {
    let (index, part) = result
        .partitions
        .iter()
        .enumerate()
        .find(|(_, p)| p.status == PartitionStatus::Illegal && p.linearizations.is_some())?;
    let lin = part.linearizations.as_ref()?;
    let end = lin.longest_overall().map(|(step, _)| step);
    let pos = |op: usize| part.operations.iter().position(|&i| i == op);
    if let Some(first) = lin.dead_ends.get(&end).and_then(|a| a.first()) {
        return Some((index, pos(first.op)?));
    }
    let done: BTreeSet<usize> = end
        .map_or(Vec::new(), |e| lin.path(e))
        .iter()
        .map(|s| s.op)
        .collect();
    let left = part.operations.iter().position(|i| !done.contains(i))?;
    Some((index, left))
}

/// The page for `history` checked against `model` with result `result`.
pub fn render<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    result: &CheckResult,
    options: &HtmlOptions,
) -> String {
    let mut pos_of = vec![0usize; history.len()];
    let partitions: Vec<Value> = result
        .partitions
        .iter()
        .map(|p| partition_payload(model, history, p, &options.annotations, &mut pos_of))
        .collect();
    let payload = json!({
        "title": options.title,
        "verdict": result.verdict.to_string(),
        "operations": history.len(),
        "elapsed_ms": result.elapsed.as_secs_f64() * 1e3,
        "partitions": partitions,
        "stuck": stuck_operation(result).map(|(partition, op)| json!({
            "partition": partition,
            "op": op,
            "id": result.partitions[partition].operations[op],
        })),
    });
    // Inside <script>, "<" must not start a tag: JSON allows it escaped.
    let text = payload
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    PAGE.replacen(PAYLOAD_MARK, &text, 1)
}

/// Writes [`render`]'s page to `path`.
pub fn write<M: Model>(
    path: &Path,
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    result: &CheckResult,
    options: &HtmlOptions,
) -> io::Result<()> {
    std::fs::write(path, render(model, history, result, options))
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::check::{CheckOptions, check};
    use crate::models::kv::{KvInput, KvModel, KvOp, KvOutput};

    fn op(
        key: &str,
        kvop: KvOp,
        value: &str,
        out: &str,
        call: Time,
    ) -> Operation<KvInput, KvOutput> {
        Operation {
            client: 0,
            input: KvInput {
                op: kvop,
                key: key.into(),
                value: value.into(),
            },
            call,
            output: KvOutput::known(out),
            ret: Some(call + 1),
            meta: None,
        }
    }

    #[test]
    fn the_page_opens_at_the_first_stuck_operation_of_the_first_illegal_partition() {
        // Key 'a' is fine; 'b' (put 1; get -> 1; get -> 7, in sequence) gets stuck
        // before its third operation; 'c' is illegal too, but comes later.
        let h = vec![
            op("a", KvOp::Put, "1", "", 0),
            op("b", KvOp::Put, "1", "", 2),
            op("c", KvOp::Get, "", "9", 3),
            op("b", KvOp::Get, "", "1", 4),
            op("a", KvOp::Get, "", "1", 5),
            op("b", KvOp::Get, "", "7", 6),
        ];
        let r = check(&KvModel, &h, &CheckOptions::verbose()).unwrap();
        let names: Vec<&str> = r.partitions.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["key 'a'", "key 'b'", "key 'c'"]);
        let (part, pos) = stuck_operation(&r).expect("an illegal partition");
        assert_eq!(part, 1);
        assert_eq!(r.partitions[1].operations[pos], 5, "the get of 7");
        let page = render(&KvModel, &h, &r, &HtmlOptions::default());
        assert!(page.contains(r#""stuck":{"id":5,"op":2,"partition":1}"#));

        // Without a recorded attempt after the longest prefix, the first operation
        // it leaves out.
        let mut r = r;
        let lin = r.partitions[1].linearizations.as_mut().unwrap();
        lin.dead_ends.clear();
        assert_eq!(stuck_operation(&r), Some((1, 2)));
        // Without records, or without an illegal partition, nowhere.
        r.partitions[1].linearizations = None;
        assert_eq!(stuck_operation(&r), Some((2, 0)));
        r.partitions[2].linearizations = None;
        assert_eq!(stuck_operation(&r), None);
        let ok = check(&KvModel, &h[..2], &CheckOptions::verbose()).unwrap();
        assert_eq!(stuck_operation(&ok), None);
    }
}
