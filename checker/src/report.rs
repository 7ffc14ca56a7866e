//! Plain-text summaries of a check, for the command line and the lab tests.
//!
//! [`summary`] gives the verdict, the operation and partition counts and the time;
//! for each illegal partition, where its longest linearizable prefix stops: its
//! length, the state it ends in, and the operations that could have come next,
//! each rejected by the model or accepted into a dead end. [`duration`] writes a
//! time in the unit that fits it.

use crate::history::Operation;
use crate::model::Model;
use crate::result::{CheckResult, PartitionResult, PartitionStatus};
use std::fmt::Write;
use std::time::Duration;

/// How many candidate operations to list per illegal partition.
const MAX_ATTEMPTS: usize = 8;
/// How many illegal partitions to describe in detail.
const MAX_PARTITIONS: usize = 3;

/// `d` in the unit that fits it, with three significant digits (whole numbers below
/// a microsecond, and from 100 up): `850 ns`, `412 µs`, `5.27 ms`, `38.1 ms`,
/// `2.41 s`, `187 s`.
pub fn duration(d: Duration) -> String {
    /// Decimal places for three significant digits.
    fn places(v: f64) -> usize {
        if v < 10.0 {
            2
        } else if v < 100.0 {
            1
        } else {
            0
        }
    }
    fn round(v: f64, places: usize) -> f64 {
        let scale = 10f64.powi(places as i32);
        (v * scale).round() / scale
    }
    let ns = d.as_nanos();
    if ns < 1_000 {
        return format!("{ns} ns");
    }
    let mut value = ns as f64 / 1e3;
    for unit in ["µs", "ms"] {
        let rounded = round(value, places(value));
        // Rounding up to 1000 moves to the next unit (999.7 µs reads 1.00 ms).
        if rounded < 1000.0 {
            return format!("{rounded:.*} {unit}", places(rounded));
        }
        value /= 1000.0;
    }
    let rounded = round(value, places(value));
    format!("{rounded:.*} s", places(rounded))
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let head: String = s.chars().take(max).collect();
        format!("{head}…")
    }
}

fn where_op<I, O>(op: &Operation<I, O>, line: Option<usize>) -> String {
    let ret = op
        .ret
        .map_or("never returned".to_string(), |r| format!("return {r}"));
    let line = line.map_or(String::new(), |l| format!(", line {l}"));
    format!("client {}, call {}, {ret}{line}", op.client, op.call)
}

fn illegal_detail<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    part: &PartitionResult,
    lines: Option<&[usize]>,
    out: &mut String,
) {
    let n = part.operations.len();
    let Some(lin) = &part.linearizations else {
        return;
    };
    let (end, len, state) = match lin.longest_overall() {
        Some((step, len)) => (Some(step), len, lin.steps[step].state),
        None => (None, 0, 0),
    };
    let state = lin.states.get(state).map_or("?", String::as_str);
    let _ = writeln!(
        out,
        "  longest linearizable prefix{}: {len} of {n} operations, ending in state {}",
        if lin.pruned { " found" } else { "" },
        clip(state, 120)
    );
    if lin.pruned {
        let _ = writeln!(
            out,
            "  (a lower bound: the prunings that decided the verdict end searches early, and \
             the complete search for the longest prefix ran out of its budget)"
        );
    }
    if let Some(last) = end.map(|e| lin.steps[e].op) {
        let op = &history[last];
        let _ = writeln!(
            out,
            "  its last operation: {} [{}]",
            clip(&model.describe_operation(&op.input, &op.output), 120),
            where_op(op, lines.and_then(|l| l.get(last).copied()))
        );
    }
    if let Some(attempts) = lin.dead_ends.get(&end) {
        let _ = writeln!(out, "  it stops before (none of these can come next):");
        for a in attempts.iter().take(MAX_ATTEMPTS) {
            let op = &history[a.op];
            let why = if a.rejected {
                "rejected by the model"
            } else {
                "accepted, but every continuation fails"
            };
            let _ = writeln!(
                out,
                "    {} [{}]: {why}",
                clip(&model.describe_operation(&op.input, &op.output), 120),
                where_op(op, lines.and_then(|l| l.get(a.op).copied()))
            );
        }
        if attempts.len() > MAX_ATTEMPTS {
            let _ = writeln!(out, "    ... and {} more", attempts.len() - MAX_ATTEMPTS);
        }
    }
    if lin.truncated {
        let _ = writeln!(out, "  (records are incomplete: the step budget ran out)");
    }
}

/// A short multi-line summary of `result`. `lines` gives, per operation, the input
/// line it came from, to be quoted next to it.
pub fn summary<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    result: &CheckResult,
    lines: Option<&[usize]>,
) -> String {
    let mut out = String::new();
    let parts = &result.partitions;
    let mut counts = Vec::new();
    for status in [
        PartitionStatus::Ok,
        PartitionStatus::Illegal,
        PartitionStatus::TimedOut,
        PartitionStatus::Cancelled,
    ] {
        let c = result.count(status);
        if c > 0 {
            counts.push(format!("{c} {status}"));
        }
    }
    let _ = writeln!(
        out,
        "{}: {} operation{}, {} partition{} ({}), checked in {}",
        result.verdict,
        history.len(),
        plural(history.len()),
        parts.len(),
        plural(parts.len()),
        counts.join(", "),
        duration(result.elapsed)
    );
    for (shown, part) in result.illegal_partitions().enumerate() {
        if shown == MAX_PARTITIONS {
            let more = result.count(PartitionStatus::Illegal) - MAX_PARTITIONS;
            let _ = writeln!(out, "... and {more} more illegal partitions");
            break;
        }
        let _ = writeln!(
            out,
            "partition {} ({} operation{}) is not linearizable",
            part.name,
            part.operations.len(),
            plural(part.operations.len())
        );
        illegal_detail(model, history, part, lines, &mut out);
    }
    out
}

/// "s" unless there is exactly one.
fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::duration;
    use std::time::Duration;

    #[test]
    fn durations_read_in_the_unit_that_fits() {
        let cases = [
            (Duration::ZERO, "0 ns"),
            (Duration::from_nanos(850), "850 ns"),
            (Duration::from_nanos(1_000), "1.00 µs"),
            (Duration::from_nanos(412_400), "412 µs"),
            (Duration::from_nanos(999_700), "1.00 ms"),
            (Duration::from_micros(5_274), "5.27 ms"),
            (Duration::from_micros(9_996), "10.0 ms"),
            (Duration::from_micros(38_140), "38.1 ms"),
            (Duration::from_micros(99_960), "100 ms"),
            (Duration::from_millis(2_414), "2.41 s"),
            (Duration::from_secs(187), "187 s"),
            (Duration::from_secs(86_400), "86400 s"),
        ];
        for (d, text) in cases {
            assert_eq!(duration(d), text, "{d:?}");
        }
    }
}
