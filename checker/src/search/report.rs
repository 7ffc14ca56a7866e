//! Turns a finished (or stopped) [`PartitionSearch`] into a [`PartitionResult`].
//!
//! In verbose mode this exports the recorded steps that some operation's longest
//! partial linearization uses (renumbered so that a step's parent comes before it),
//! describes the states they reach, and, for an illegal partition, looks at each
//! recorded linearization's end: which operations could have come next (those called
//! before the earliest return among the operations left) and whether the model
//! rejected each one or accepted it into a dead end.

use super::paths::NO_STEP;
use super::{Outcome, PartitionSearch};
use crate::model::Model;
use crate::pool::Finish;
use crate::result::{
    Attempt, LinStep, Linearizations, PartitionResult, PartitionStatus, SearchStats,
};
use std::collections::BTreeMap;

/// The result of a partition whose search ended as `how`. In verbose mode the
/// records come from the report's search when it ran (see the `search` module).
pub(crate) fn finish<M: Model>(
    mut search: PartitionSearch<'_, M>,
    how: Finish<Outcome>,
) -> PartitionResult {
    // A verdict found before the time ran out (or another partition cancelled this
    // one) while the report's search was running still stands.
    let status = match (search.verdict(), how) {
        (Some(Outcome::Linearizable), _) => PartitionStatus::Ok,
        (Some(Outcome::Illegal), _) => PartitionStatus::Illegal,
        (None, Finish::Done(Outcome::Linearizable)) => PartitionStatus::Ok,
        (None, Finish::Done(Outcome::Illegal)) => PartitionStatus::Illegal,
        (None, Finish::TimedOut) => PartitionStatus::TimedOut,
        (None, Finish::Cancelled) => PartitionStatus::Cancelled,
    };
    let mut explanation = search.explanation.take();
    let explained = search.explained;
    let verdict_steps = search.steps;
    let (configurations, table_bytes) = search.verdict_tables.unwrap_or((
        search.configurations() as u64,
        (search.memo_bytes() + search.states.heap_bytes() + search.tree.heap_bytes()) as u64,
    ));
    let explain_steps = explanation.as_ref().map_or(0, |ex| ex.steps);
    // The records to report: the report's search's when it finished or got further.
    let use_explanation = explanation
        .as_ref()
        .is_some_and(|ex| ex.deepest > search.deepest);
    let pruned = status == PartitionStatus::Illegal && explanation.is_some() && !explained;
    let source: &mut PartitionSearch<'_, M> = match explanation.as_deref_mut() {
        Some(ex) if use_explanation => ex,
        _ => &mut search,
    };
    let stack = source.unwind();
    let linearization = (status == PartitionStatus::Ok).then(|| {
        stack
            .iter()
            .map(|&k| source.history_index[k as usize])
            .collect()
    });
    let linearizations = source.record.then(|| {
        let mut l = export(source, status == PartitionStatus::Illegal);
        l.pruned = pruned;
        l
    });
    let stats = SearchStats {
        steps: verdict_steps + explain_steps,
        configurations,
        states: search.states.len() as u64,
        table_bytes,
    };
    let mut operations = search.history_index.clone();
    operations.sort_unstable();
    PartitionResult {
        name: search.name.clone(),
        operations,
        status,
        linearization,
        linearizations,
        stats,
    }
}

fn export<M: Model>(search: &PartitionSearch<'_, M>, illegal: bool) -> Linearizations {
    let n = search.ops.len();
    // Local operation numbers in history order (the order of the result's list).
    let mut by_history: Vec<u32> = (0..n as u32).collect();
    by_history.sort_by_key(|&k| search.history_index[k as usize]);

    let mut step_index: BTreeMap<u32, usize> = BTreeMap::new();
    let mut state_index: BTreeMap<u32, usize> = BTreeMap::new();
    state_index.insert(search.init_state, 0);
    let mut states = vec![
        search
            .model
            .describe_state(search.states.get(search.init_state)),
    ];
    let mut steps: Vec<LinStep> = Vec::new();
    let mut longest = Vec::with_capacity(n);
    for &k in &by_history {
        let (_, last) = search.longest[k as usize];
        if last == NO_STEP {
            longest.push(None);
            continue;
        }
        let mut chain = Vec::new();
        let mut at = last;
        while at != NO_STEP && !step_index.contains_key(&at) {
            chain.push(at);
            at = search.tree.get(at).parent;
        }
        for &id in chain.iter().rev() {
            let s = search.tree.get(id);
            let state = *state_index.entry(s.state).or_insert_with(|| {
                states.push(search.model.describe_state(search.states.get(s.state)));
                states.len() - 1
            });
            let parent = (s.parent != NO_STEP).then(|| step_index[&s.parent]);
            steps.push(LinStep {
                parent,
                op: search.history_index[s.op as usize],
                state,
            });
            step_index.insert(id, steps.len() - 1);
        }
        longest.push(Some(step_index[&last]));
    }

    let mut dead_ends = BTreeMap::new();
    if illegal {
        let mut ends: Vec<u32> = search
            .longest
            .iter()
            .map(|&(_, s)| s)
            .filter(|&s| s != NO_STEP)
            .collect();
        ends.sort_unstable();
        ends.dedup();
        for &end in &ends {
            dead_ends.insert(Some(step_index[&end]), attempts_after(search, end));
        }
        if ends.is_empty() {
            dead_ends.insert(None, attempts_after(search, NO_STEP));
        }
    }
    Linearizations {
        steps,
        states,
        longest,
        dead_ends,
        truncated: search.tree.overflowed(),
        pruned: false,
    }
}

/// The operations that could follow the linearization ending at `end` (or the empty
/// one, for [`NO_STEP`]) and whether the model rejects each.
pub(crate) fn attempts_after<M: Model>(search: &PartitionSearch<'_, M>, end: u32) -> Vec<Attempt> {
    let n = search.ops.len();
    let mut done = vec![false; n];
    let mut state = search.init_state;
    if end != NO_STEP {
        state = search.tree.get(end).state;
        for (op, _) in search.tree.path(end) {
            done[op as usize] = true;
        }
    }
    let state = search.states.get(state);
    let mut out = Vec::new();
    for node in 1..search.tail as usize {
        let info = search.info[node];
        let op = (info >> 1) as usize;
        if done[op] {
            continue;
        }
        if info & 1 == 1 {
            break;
        }
        let o = search.ops[op];
        out.push(Attempt {
            op: search.history_index[op],
            rejected: search.model.step(state, &o.input, &o.output).is_none(),
        });
    }
    out
}
