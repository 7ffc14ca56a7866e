//! The search of one partition: Wing-Gong/Lowe just-in-time linearization with
//! backtracking and a memo.
//!
//! [`PartitionSearch::new`] numbers the partition's operations by call time and
//! builds the entry list: one call entry and one return entry per operation, sorted
//! by time, calls before returns at equal times (intervals are closed), in a doubly
//! linked list between a head and a tail sentinel (`next`/`prev`). An operation that
//! never returned has its return entry at the end.
//!
//! The search goes depth first over configurations (a set of linearized operations
//! and the model state after them). The candidates of a configuration are the
//! operations whose call entry comes before the first return entry still in the
//! list: every operation called before the earliest pending return. When the search
//! reaches a configuration ([`PartitionSearch::open`]):
//!
//! - an empty list means every operation is linearized: the stack is a
//!   linearization;
//! - a read-only candidate ([`Model::is_read_only`]) that the model accepts is
//!   linearized at once, without trying anything else first (the greedy step). This
//!   is safe: if the configuration can be completed at all, the completion with that
//!   operation moved to the front is also valid (the operation changes no state, and
//!   every operation that had to precede it is already linearized, since it is a
//!   candidate). So when the greedy step leads to a configuration the memo already
//!   holds, or the search later backtracks over a greedy frame, the configuration
//!   below it is dead too;
//! - otherwise the other candidates become the configuration's [`Level`], in call
//!   order. (Trying the earliest return first was measured too: 6% fewer
//!   configurations on one benchmark history, over six times the time on another.) A
//!   configuration without candidates (the first entry is a return: that operation
//!   had to be linearized by now) is dead.
//!
//! Two prunings use what a model may know about its order of states
//! ([`Model::extends`]: strings grow by appends, sets by adds; a put or a write
//! resets the state, [`Model::resets_to`]):
//!
//! - a configuration is dead as soon as a pending read can no longer be satisfied
//!   ([`PartitionSearch::doomed`]): if only extending operations and resets can come
//!   before a get of `v`, the state must be a prefix of `v` or of what a pending put
//!   writes. Without it, the search tries every order of the appends that run
//!   alongside a get before the get's return shows the order wrong;
//! - a state that no pending operation can observe before the next reset
//!   ([`PartitionSearch::unobservable`]) is memoized as one state, so the orders of
//!   appends that a put will overwrite are tried once, not once per order.
//!
//! On the benchmark's 50-client, 10-key, 5,000-operation append history, the two
//! take the check from 5.4 s and 1.2 GiB to 4.5 ms and 2.3 MiB (`cargo bench -p
//! raftlab-checker`, its `unpruned` row). Models that know nothing of this keep the
//! defaults, which prune nothing; `tests/props.rs` checks the pruned search against
//! the plain one and against brute force.
//!
//! Trying a candidate asks the model (through [`states::StateTable::step`]) for the
//! state after it. If the model accepts and the new configuration is not in the
//! [`memo::Memo`], the operation is linearized: a [`Frame`] remembering the entry and
//! the old state is pushed, the call and return entries are lifted out of the list
//! and the new configuration is opened. When a level has no candidate left, the
//! search pops its frame, puts its two entries back (in reverse order of lifting),
//! restores the state and goes on with the level below. With nothing to pop, the
//! partition is not linearizable.
//!
//! # Components: one search over independent objects
//!
//! A model may say that it is a product of independent objects ([`Model::component`]:
//! the whole-map key/value model, one string per key). When every operation of the
//! partition has a component, the search still linearizes the whole history against
//! the whole state (it finds one linearization of everything, or none), but three
//! facts keep it from multiplying the work of the components together. Write
//! `P_c(C)` for the *projection* of a configuration `C` on component `c`: the set of
//! `c`'s operations linearized, and `c`'s component state (what `c`'s operations alone
//! make of the initial state). The projection is itself a configuration of the search
//! of `c`'s operations alone, and:
//!
//! 1. *One component at a time.* Let `r` be the first return entry in the list and
//!    `k` its operation's component. If `C` can be completed at all, it can be
//!    completed by linearizing next an operation of `k` called before `r`: in any
//!    completion, the first operation `x` of `k` comes no later than `r` (which is of
//!    `k`), so `x` was called before `r` returned; moving `x` to the front passes only
//!    operations of other components (which commute with it) that are still pending,
//!    so return no earlier than `r`, hence not before `x` was called: the real-time
//!    order still holds. So [`PartitionSearch::open`] offers only `k`'s candidates.
//!    They are also exactly the candidates of `k`'s own search at `P_k(C)`.
//! 2. *Dead projections.* `C` can be completed if and only if each projection can be
//!    completed within its component. (Only if: a completion of `C`, restricted to
//!    `c`, completes `P_c(C)`, since `c`'s steps depend only on `c`'s state. If: the
//!    components' completions and the real-time order of the operations left are
//!    together acyclic, by the argument of Herlihy and Wing's locality theorem, so
//!    some order extends them all; every operation left returns no earlier than any
//!    linearized operation was called, so it may follow the linearized prefix.) So
//!    every dead configuration has a component to *blame*: one whose projection is
//!    dead. Each way a configuration dies names it: a doomed read of component `c`
//!    blames `c`; no candidate left (all rejected, or leading to configurations blamed
//!    on `k`) blames `k` (the candidates of `P_k(C)` were all tried, so `P_k(C)` is
//!    dead; for the greedy step, by its argument within `k`); a child blamed on
//!    `c ≠ k` blames `c` at once, because the move changed only `k`'s projection.
//! 3. *Backjumping.* A dead projection is recorded in the component's own memo
//!    (`cmemo`, (linearized set of the component, component state, or
//!    [`UNOBSERVABLE`] as the search of the component alone would key it)); a configuration
//!    whose projection is recorded there is dead without a search. And when a
//!    configuration dies blamed on `c`, so does every configuration on the stack
//!    down to the one before the last move of `c` (they share the projection): the
//!    search pops them all ([`PartitionSearch::fail`]) and goes on with that move's
//!    alternatives. The whole memo keeps each configuration's blame so that meeting
//!    it again blames the same component.
//!
//! The prunings run per component ([`PartitionSearch::doomed`] and
//! [`PartitionSearch::unobservable`] look only at the operations of one component,
//! with component states). So the cost is about the sum of the components' searches,
//! not their product: the 50-client histories of porcupine's tests, checked whole
//! against the map model, take milliseconds instead of not finishing in a minute.
//! Without components everything above is the plain search: one component holding
//! every operation.
//!
//! The hooks of a model with components speak of component states, so a search of
//! several components that does not run by components (the report's search, below)
//! leaves the prunings out. The report's search runs without components whenever
//! the verdict's ran by them: one component at a time and backjumping reach only
//! some of the configurations the plain search reaches, so the verdict search's
//! longest prefix may be shorter than the plain search's.
//!
//! The search is resumable: [`PartitionSearch`] implements [`crate::pool::Task`] and
//! runs for a given number of loop iterations at a time.
//!
//! The report of an illegal partition names its longest linearizable prefix: the
//! most operations any configuration the plain search reaches has linearized. The
//! doomed pruning ends configurations before the plain search would, so the
//! longest prefix it saw may be shorter (for write(1); read -> 1; read -> 7 run in
//! sequence it sees that the read of 7 can never be linearized before linearizing
//! anything: 0 of 3, where the plain search reaches 2 of 3). So in verbose mode,
//! when a partition is found illegal and the doomed pruning ended a configuration
//! whose extensions could have been longer than the longest prefix found (they can
//! only linearize the operations called before the impossible operation's return,
//! that one excluded), the partition is searched again for the report
//! ([`PartitionSearch::explain`]): the same search, where a doomed configuration is
//! dropped only when no extension of it can be longer than the longest prefix
//! found so far by either search. The longer of the two searches' prefixes is the
//! plain search's.
//! It runs for at most [`EXPLAIN_STEPS`] steps, or four times the verdict's; past
//! that the report says that the prefix it names is a lower bound
//! ([`crate::result::Linearizations::pruned`]).
//!
//! In verbose mode it also records, for each operation, the longest partial
//! linearization containing it, in a [`paths::PathTree`]. Each frame carries the
//! longest depth reached while it was on the stack (`best_len`, `best_step`); when a
//! frame is popped, that record goes to the frame below and to the frame's operation
//! (`longest`) if it beats what they have. This costs O(1) per push and pop.

pub(crate) mod linset;
pub(crate) mod memo;
pub(crate) mod paths;
mod report;
pub(crate) mod states;

use crate::history::{Operation, Time};
use crate::model::Model;
use crate::pool::Task;
use linset::LinSet;
use memo::Memo;
use paths::{NO_STEP, PathTree};
use states::StateTable;
use std::collections::BTreeMap;

pub(crate) use report::finish;

const HEAD: usize = 0;

/// Return entries [`PartitionSearch::doomed`] looks at.
const LOOKAHEAD: u32 = 8;

/// Starting states [`PartitionSearch::doomed`] keeps per component.
const MAX_BASES: usize = 8;

/// "Does not reset the state."
const NO_RESET: u32 = u32::MAX;

/// The memo's state number for every state that nothing can observe before the next
/// reset (see [`PartitionSearch::unobservable`]).
const UNOBSERVABLE: u32 = u32::MAX - 1;

/// List entries [`PartitionSearch::unobservable`] walks at most.
const WALK_LIMIT: u32 = 64;

/// The fewest steps the search for an illegal partition's report may take (see the
/// module docs); it may take four times the verdict search's steps if that is more.
pub(crate) const EXPLAIN_STEPS: u64 = 1 << 20;

/// "No memo node" (a frame of the search without components).
const NO_NODE: u32 = u32::MAX;

/// How a finished search ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Every operation was linearized.
    Linearizable,
    /// The search space was exhausted.
    Illegal,
}

#[derive(Clone, Copy, Debug)]
struct Frame {
    /// The call entry of the linearized operation.
    entry: u32,
    /// The state before it.
    prev_state: u32,
    /// Its component's state and memo key before it (with components).
    prev_cstate: u32,
    prev_ckey: u32,
    /// The whole memo's node of the configuration this frame reached (with
    /// components: its blame is recorded there when it dies), or [`NO_NODE`].
    memo_node: u32,
    /// Its step in the path tree (verbose mode).
    node: u32,
    /// The longest depth reached while this frame was on the stack, and its step.
    best_len: u32,
    best_step: u32,
    /// Linearized by the greedy pass (a read-only operation).
    greedy: bool,
}

/// The candidates of one configuration on the current path, in the order they are
/// tried: `cands[start..end]`, of which those before `next` were tried; all of
/// component `comp`.
#[derive(Clone, Copy, Debug)]
struct Level {
    start: u32,
    next: u32,
    end: u32,
    comp: u32,
}

/// What the search does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// A configuration was just reached: look at it.
    Open,
    /// Try the next candidate of the top level.
    Next,
}

/// The resumable search of one partition.
pub(crate) struct PartitionSearch<'a, M: Model> {
    model: &'a M,
    /// The partition's name.
    pub(crate) name: String,
    /// Operations by local number (call order).
    ops: Vec<&'a Operation<M::Input, M::Output>>,
    /// History index of each local operation.
    pub(crate) history_index: Vec<usize>,
    /// Per list node: `op << 1 | is_return`. Node 0 is the head, the last is the tail.
    info: Vec<u32>,
    next: Vec<u32>,
    prev: Vec<u32>,
    tail: u32,
    ret_node: Vec<u32>,
    read_only: Vec<bool>,
    extends: Vec<bool>,
    /// Per operation, whether the model accepts it from every state.
    blind: Vec<bool>,
    /// Per operation, the state it resets to ([`Model::resets_to`]), or `NO_RESET`.
    resets: Vec<u32>,
    /// Whether the search runs by components (see the module docs); without, there
    /// is one component holding every operation, whose state is the whole state.
    components: bool,
    /// Per operation, its component and its number within the component.
    comp_of: Vec<u32>,
    local: Vec<u32>,
    /// Per component, resets not linearized yet.
    pending_resets: Vec<usize>,
    set: LinSet,
    memo: Memo,
    states: StateTable<M::State>,
    state: u32,
    init_state: u32,
    /// With components, per component: its state, its memo key (the state, or
    /// [`UNOBSERVABLE`]), its linearized operations and its memo of dead projections.
    cstate: Vec<u32>,
    ckey: Vec<u32>,
    csets: Vec<LinSet>,
    cmemo: Vec<Memo>,
    /// With components, each component's own list of its entries, in list order,
    /// between its head (node `nodes + c`) and its tail (`nodes + ncomp + c`):
    /// `cnext`/`cprev`, like `next`/`prev`.
    cnext: Vec<u32>,
    cprev: Vec<u32>,
    stack: Vec<Frame>,
    levels: Vec<Level>,
    cands: Vec<u32>,
    mode: Mode,
    record: bool,
    tree: PathTree,
    longest: Vec<(u32, u32)>,
    steps: u64,
    outcome: Option<Outcome>,
    /// The step budget of the path tree.
    step_budget: usize,
    /// This search is the report's: a doomed configuration is dropped only when it
    /// cannot lead past the longest prefix found.
    explain: bool,
    /// The longest stack reached.
    pub(crate) deepest: u32,
    /// The most operations a linearization through a configuration the doomed
    /// pruning ended could have held ([`PartitionSearch::depth_bound`]).
    doomed_bound: u32,
    /// In the report's search: the longest prefix the verdict search found, which
    /// the report's need not find again.
    floor: u32,
    /// The report's search, once the partition is found illegal (verbose mode).
    pub(crate) explanation: Option<Box<PartitionSearch<'a, M>>>,
    /// The report's search ran to its end (its records are the plain search's).
    pub(crate) explained: bool,
    /// The verdict search's memo size and table bytes, kept when its memo is freed
    /// for the report's search.
    pub(crate) verdict_tables: Option<(u64, u64)>,
}

impl<'a, M: Model> PartitionSearch<'a, M> {
    /// Prepares the search of the operations `indices` of `history`.
    pub(crate) fn new(
        model: &'a M,
        name: String,
        history: &'a [Operation<M::Input, M::Output>],
        indices: &[usize],
        record: bool,
        step_budget: usize,
    ) -> Self {
        let mut order: Vec<usize> = indices.to_vec();
        order.sort_by_key(|&i| (history[i].call, i));
        let ops: Vec<&Operation<M::Input, M::Output>> =
            order.iter().map(|&i| &history[i]).collect();
        Self::build(model, name, ops, order, record, step_budget, true)
    }

    /// The search of `ops` (in call order; `order` gives their history indices), by
    /// components if `by_components` and the model has them.
    fn build(
        model: &'a M,
        name: String,
        ops: Vec<&'a Operation<M::Input, M::Output>>,
        order: Vec<usize>,
        record: bool,
        step_budget: usize,
        by_components: bool,
    ) -> Self {
        let n = ops.len();

        // (time, 0 = call / 1 = return, op) sorted gives the list order.
        let mut entries: Vec<(Time, u8, u32)> = Vec::with_capacity(2 * n);
        for (k, op) in ops.iter().enumerate() {
            entries.push((op.call, 0, k as u32));
            entries.push((op.ret.unwrap_or(Time::MAX), 1, k as u32));
        }
        entries.sort_unstable();
        let nodes = 2 * n + 2;
        let tail = (nodes - 1) as u32;
        let mut info = vec![0u32; nodes];
        let mut ret_node = vec![0u32; n];
        for (pos, &(_, kind, k)) in entries.iter().enumerate() {
            let node = pos + 1;
            info[node] = (k << 1) | u32::from(kind);
            if kind == 1 {
                ret_node[k as usize] = node as u32;
            }
        }
        let next: Vec<u32> = (0..nodes as u32).map(|i| (i + 1).min(tail)).collect();
        let prev: Vec<u32> = (0..nodes as u32).map(|i| i.saturating_sub(1)).collect();

        // Components, numbered in name order; with fewer than two there is nothing
        // to gain (and one component's state is the whole state).
        let names: Option<Vec<&str>> = ops.iter().map(|o| model.component(&o.input)).collect();
        let mut comp_of = vec![0u32; n];
        let mut local = (0..n as u32).collect::<Vec<u32>>();
        let mut sizes = vec![n];
        let mut several = false;
        if let Some(names) = names {
            let mut ids: BTreeMap<&str, u32> = names.iter().map(|&c| (c, 0)).collect();
            several = ids.len() > 1;
            if several && by_components {
                for (i, id) in ids.values_mut().enumerate() {
                    *id = i as u32;
                }
                sizes = vec![0; ids.len()];
                for (k, name) in names.iter().enumerate() {
                    let c = ids[name];
                    comp_of[k] = c;
                    local[k] = sizes[c as usize] as u32;
                    sizes[c as usize] += 1;
                }
            }
        }
        let components = sizes.len() > 1;
        // The pruning hooks speak of component states (see `Model::component`): a
        // search of several components that does not run by components has none.
        let hooks = components || !several;

        let read_only = ops
            .iter()
            .map(|o| model.is_read_only(&o.input, &o.output))
            .collect();
        let extends = ops
            .iter()
            .map(|o| hooks && model.extends(&o.input))
            .collect();
        let blind = ops
            .iter()
            .map(|o| model.always_accepts(&o.input, &o.output))
            .collect();
        let mut states = StateTable::new();
        let init_state = states.intern(model.init());
        let resets = ops
            .iter()
            .map(|o| {
                let reset = if hooks {
                    model.resets_to(&o.input, &o.output)
                } else {
                    None
                };
                reset.map_or(NO_RESET, |s| states.intern(s))
            })
            .collect::<Vec<u32>>();
        let mut pending_resets = vec![0usize; sizes.len()];
        for (k, &r) in resets.iter().enumerate() {
            if r != NO_RESET {
                pending_resets[comp_of[k] as usize] += 1;
            }
        }
        let ncomp = if components { sizes.len() } else { 0 };
        let (mut cnext, mut cprev) = (Vec::new(), Vec::new());
        if components {
            cnext = vec![0u32; nodes + 2 * ncomp];
            cprev = vec![0u32; nodes + 2 * ncomp];
            let mut last: Vec<u32> = (0..ncomp).map(|c| (nodes + c) as u32).collect();
            for node in 1..nodes - 1 {
                let c = comp_of[(info[node] >> 1) as usize] as usize;
                cnext[last[c] as usize] = node as u32;
                cprev[node] = last[c];
                last[c] = node as u32;
            }
            for (c, &l) in last.iter().enumerate() {
                let t = (nodes + ncomp + c) as u32;
                cnext[l as usize] = t;
                cprev[t as usize] = l;
            }
        }
        PartitionSearch {
            model,
            name,
            ops,
            history_index: order,
            info,
            next,
            prev,
            tail,
            ret_node,
            read_only,
            extends,
            blind,
            resets,
            components,
            comp_of,
            local,
            pending_resets,
            set: LinSet::new(n),
            memo: if components {
                Memo::with_blame()
            } else {
                Memo::new()
            },
            states,
            state: init_state,
            init_state,
            cstate: vec![init_state; ncomp],
            ckey: vec![init_state; ncomp],
            csets: sizes[..ncomp].iter().map(|&len| LinSet::new(len)).collect(),
            cmemo: (0..ncomp).map(|_| Memo::new()).collect(),
            cnext,
            cprev,
            stack: Vec::with_capacity(n),
            levels: Vec::with_capacity(n + 1),
            cands: Vec::new(),
            mode: Mode::Open,
            record,
            tree: PathTree::new(step_budget),
            longest: vec![(0, NO_STEP); n],
            steps: 0,
            outcome: None,
            step_budget,
            explain: false,
            deepest: 0,
            doomed_bound: 0,
            floor: 0,
            explanation: None,
            explained: false,
            verdict_tables: None,
        }
    }

    /// The search for the report of this (illegal) partition: see the module docs.
    fn explain(&self) -> Self {
        let mut s = Self::build(
            self.model,
            self.name.clone(),
            self.ops.clone(),
            self.history_index.clone(),
            true,
            self.step_budget,
            false,
        );
        s.explain = true;
        s.floor = self.deepest;
        s
    }

    /// Whether the report needs its own search: the verdict search is illegal and
    /// the doomed pruning ended a configuration that might have led past the
    /// longest prefix it found, or it ran by components (whose search reaches only
    /// some of the plain search's configurations; the report's search runs without).
    fn needs_explanation(&self) -> bool {
        self.outcome == Some(Outcome::Illegal)
            && self.record
            && !self.explain
            && (self.components || self.doomed_bound > self.deepest)
    }

    /// The verdict, once known (the report's search may still be running).
    pub(crate) fn verdict(&self) -> Option<Outcome> {
        match &self.explanation {
            Some(ex) if self.explained => ex.outcome,
            _ => self.outcome,
        }
    }

    /// Configurations the memos hold (the whole memo's and the components').
    pub(crate) fn configurations(&self) -> usize {
        self.memo.len() + self.cmemo.iter().map(Memo::len).sum::<usize>()
    }

    /// Bytes held by the memos.
    pub(crate) fn memo_bytes(&self) -> usize {
        self.memo.heap_bytes() + self.cmemo.iter().map(Memo::heap_bytes).sum::<usize>()
    }

    /// The state the pruning hooks see for component `c`: its component state, or
    /// the whole state without components.
    #[inline]
    fn base(&self, c: u32) -> u32 {
        if self.components {
            self.cstate[c as usize]
        } else {
            self.state
        }
    }

    #[inline]
    fn lift(&mut self, node: u32) {
        let (p, x) = (self.prev[node as usize], self.next[node as usize]);
        self.next[p as usize] = x;
        self.prev[x as usize] = p;
        if self.components {
            let (p, x) = (self.cprev[node as usize], self.cnext[node as usize]);
            self.cnext[p as usize] = x;
            self.cprev[x as usize] = p;
        }
    }

    #[inline]
    fn unlift(&mut self, node: u32) {
        let (p, x) = (self.prev[node as usize], self.next[node as usize]);
        self.next[p as usize] = node;
        self.prev[x as usize] = node;
        if self.components {
            let (p, x) = (self.cprev[node as usize], self.cnext[node as usize]);
            self.cnext[p as usize] = node;
            self.cprev[x as usize] = node;
        }
    }

    /// The first entry of component `c`'s list (of the whole list, without
    /// components).
    #[inline]
    fn first_of(&self, c: u32) -> u32 {
        if self.components {
            self.cnext[self.tail as usize + 1 + c as usize]
        } else {
            self.next[HEAD]
        }
    }

    /// The entry after `entry` in component `c`'s list.
    #[inline]
    fn next_of(&self, entry: u32) -> u32 {
        if self.components {
            self.cnext[entry as usize]
        } else {
            self.next[entry as usize]
        }
    }

    /// Whether `entry` is the end of its list (a tail sentinel).
    #[inline]
    fn is_end(&self, entry: u32) -> bool {
        entry >= self.tail
    }

    /// Pushes the configuration reached by linearizing `op` (its call entry
    /// `entry`): whole state `new_state`; with components, component state `cstate`
    /// with memo key `ckey`, at whole memo node `memo_node`. The operation is already
    /// in the linearized sets.
    fn push(&mut self, entry: u32, op: u32, new_state: u32, next: Next, greedy: bool) {
        let depth = self.stack.len() as u32 + 1;
        self.deepest = self.deepest.max(depth);
        let mut node = NO_STEP;
        if self.record {
            let parent = self.stack.last().map_or(NO_STEP, |f| f.node);
            node = self.tree.push(parent, op, new_state);
            self.tree.retain(node);
        }
        let c = self.comp_of[op as usize] as usize;
        let (prev_cstate, prev_ckey) = if self.components {
            let old = (self.cstate[c], self.ckey[c]);
            self.cstate[c] = next.cstate;
            self.ckey[c] = next.ckey;
            old
        } else {
            (NO_NODE, NO_NODE)
        };
        self.stack.push(Frame {
            entry,
            prev_state: self.state,
            prev_cstate,
            prev_ckey,
            memo_node: next.memo_node,
            node,
            best_len: depth,
            best_step: node,
            greedy,
        });
        self.state = new_state;
        if self.resets[op as usize] != NO_RESET {
            self.pending_resets[c] -= 1;
        }
        self.lift(entry);
        self.lift(self.ret_node[op as usize]);
        self.mode = Mode::Open;
    }

    /// Hands a popped frame's record to the frame below and to its operation.
    fn settle(&mut self, frame: Frame) {
        if !self.record {
            return;
        }
        let op = (self.info[frame.entry as usize] >> 1) as usize;
        if frame.best_step != NO_STEP {
            if let Some(below) = self.stack.last_mut()
                && frame.best_len > below.best_len
            {
                self.tree.retain(frame.best_step);
                self.tree.release(below.best_step);
                below.best_len = frame.best_len;
                below.best_step = frame.best_step;
            }
            let slot = &mut self.longest[op];
            if frame.best_len > slot.0 {
                let old = slot.1;
                *slot = (frame.best_len, frame.best_step);
                self.tree.release(old);
            } else {
                self.tree.release(frame.best_step);
            }
        }
        self.tree.release(frame.node);
    }

    /// Takes `op` out of the linearized sets.
    fn unmark(&mut self, op: u32) {
        self.set.remove(op as usize);
        if self.components {
            let c = self.comp_of[op as usize] as usize;
            self.csets[c].remove(self.local[op as usize] as usize);
        }
    }

    /// Undoes the top frame; returns it, or `None` if the stack is empty.
    fn pop(&mut self) -> Option<Frame> {
        let frame = self.stack.pop()?;
        let op = self.info[frame.entry as usize] >> 1;
        self.settle(frame);
        self.unlift(self.ret_node[op as usize]);
        self.unlift(frame.entry);
        self.unmark(op);
        let c = self.comp_of[op as usize] as usize;
        if self.resets[op as usize] != NO_RESET {
            self.pending_resets[c] += 1;
        }
        if self.components {
            self.cstate[c] = frame.prev_cstate;
            self.ckey[c] = frame.prev_ckey;
        }
        self.state = frame.prev_state;
        Some(frame)
    }

    /// The current configuration is dead (and has no level of its own), blamed on
    /// component `blame` (always 0 without components): backtracks to a configuration
    /// whose level (the top one) has candidates left to try. Every configuration
    /// popped on the way is dead too: below a greedy frame (by the greedy step's
    /// argument), or, with components, below the move of another component than the
    /// one blamed (the projection on `blame` did not change); its level, if it had
    /// one, is dropped. Records each death's blame (see the module docs). Returns
    /// false when there is nothing left: the partition is not linearizable.
    fn fail(&mut self, blame: u32) -> bool {
        loop {
            if self.components {
                let b = blame as usize;
                let _ = self.cmemo[b].insert(&self.csets[b], self.ckey[b]);
            }
            let Some(frame) = self.pop() else {
                return false;
            };
            if frame.memo_node != NO_NODE {
                self.memo.set_blame(frame.memo_node, blame);
            }
            let moved = self.comp_of[(self.info[frame.entry as usize] >> 1) as usize];
            if frame.greedy {
                continue;
            }
            if moved == blame {
                self.mode = Mode::Next;
                return true;
            }
            let level = self.levels.pop().expect("the level of a candidate's frame");
            self.cands.truncate(level.start as usize);
        }
    }

    /// Settles every frame still on the stack (after the search ends or stops), so
    /// that the records cover the current path too. Returns the stack's operations.
    fn unwind(&mut self) -> Vec<u32> {
        let ops: Vec<u32> = self
            .stack
            .iter()
            .map(|f| self.info[f.entry as usize] >> 1)
            .collect();
        while let Some(frame) = self.stack.pop() {
            self.settle(frame);
        }
        ops
    }

    /// Tries to linearize the operation of call entry `entry` next, pushing the new
    /// configuration it reaches if any.
    #[inline]
    fn try_entry(&mut self, entry: u32, greedy: bool) -> Attempted {
        let op = self.info[entry as usize] >> 1;
        let o = self.ops[op as usize];
        let Some(next_state) = self
            .states
            .step(self.model, self.state, op, &o.input, &o.output)
        else {
            return Attempted::Rejected;
        };
        let c = self.comp_of[op as usize];
        let mut next = Next {
            cstate: NO_NODE,
            ckey: NO_NODE,
            memo_node: NO_NODE,
        };
        let key = if self.components {
            let Some(cstate) =
                self.states
                    .step(self.model, self.cstate[c as usize], op, &o.input, &o.output)
            else {
                return Attempted::Rejected;
            };
            self.set.insert(op as usize);
            self.csets[c as usize].insert(self.local[op as usize] as usize);
            let ckey = if self.unobservable(cstate, op) {
                UNOBSERVABLE
            } else {
                cstate
            };
            if self.cmemo[c as usize].contains(&self.csets[c as usize], ckey) {
                self.unmark(op);
                return Attempted::Seen(c);
            }
            next.cstate = cstate;
            next.ckey = ckey;
            next_state
        } else {
            self.set.insert(op as usize);
            if self.unobservable(next_state, op) {
                UNOBSERVABLE
            } else {
                next_state
            }
        };
        match self.memo.insert(&self.set, key) {
            Ok(node) => {
                if self.components {
                    next.memo_node = node;
                }
                self.push(entry, op, next_state, next, greedy);
                Attempted::Pushed
            }
            Err(node) => {
                self.unmark(op);
                Attempted::Seen(self.memo.blame(node))
            }
        }
    }

    /// Looks at a configuration just reached. A doomed configuration is dead. Its
    /// candidates are the operations of the component of the first return entry
    /// called before it (every operation called before it, without components). A
    /// read-only candidate the model accepts is linearized at once (greedy);
    /// otherwise the other candidates become the configuration's level. Returns
    /// `Err(blame)` when the configuration is dead.
    fn open(&mut self) -> Result<(), u32> {
        // With components only the projection on the component just moved changed
        // (see `doomed`); at the start, and without components, look at all.
        let range = match self.stack.last() {
            Some(f) if self.components => {
                let c = self.comp_of[(self.info[f.entry as usize] >> 1) as usize];
                c..c + 1
            }
            _ => 0..self.cstate.len().max(1) as u32,
        };
        for c in range {
            if let Some(calls) = self.doomed(c) {
                let bound = self.depth_bound(calls);
                if !self.explain {
                    self.doomed_bound = self.doomed_bound.max(bound);
                    return Err(c);
                }
                if bound <= self.deepest.max(self.floor) {
                    return Err(c);
                }
            }
        }
        let comp = if self.components {
            let mut entry = self.next[HEAD];
            while entry != self.tail && self.info[entry as usize] & 1 == 0 {
                entry = self.next[entry as usize];
            }
            self.comp_of[(self.info[entry as usize] >> 1) as usize]
        } else {
            0
        };
        let start = self.cands.len() as u32;
        let mut entry = self.first_of(comp);
        loop {
            let info = self.info[entry as usize];
            if self.is_end(entry) || info & 1 == 1 {
                break;
            }
            self.steps += 1;
            if self.read_only[(info >> 1) as usize] {
                match self.try_entry(entry, true) {
                    Attempted::Pushed => {
                        self.cands.truncate(start as usize);
                        return Ok(());
                    }
                    Attempted::Seen(blame) => {
                        self.cands.truncate(start as usize);
                        return Err(blame);
                    }
                    Attempted::Rejected => {}
                }
            } else {
                self.cands.push(entry);
            }
            entry = self.next_of(entry);
        }

        let end = self.cands.len() as u32;
        if start == end {
            return Err(comp);
        }
        self.levels.push(Level {
            start,
            next: start,
            end,
            comp,
        });
        self.mode = Mode::Next;
        Ok(())
    }

    /// Whether a pending operation of component `c` can no longer be linearized.
    /// Walking `c`'s list from its head, it keeps the states that whatever of `c`
    /// is linearized next starts from: the current one, and the state of each reset
    /// ([`Model::resets_to`]) whose call entry it passed. As long as every other call
    /// entry passed belongs to an operation that only extends the state
    /// ([`Model::extends`]), the operation of the next return entry will run in an
    /// extension of one of those states, so the model must allow it from one
    /// ([`Model::may_extend_to`]). Looks at no more than [`LOOKAHEAD`] return entries
    /// and [`MAX_BASES`] starting states. With components the answer depends only on
    /// the projection on `c` (its list and its state), so it only needs asking again
    /// when that changes.
    fn doomed(&self, c: u32) -> Option<u32> {
        let mut bases = [self.base(c); MAX_BASES];
        let mut nbases = 1;
        let mut entry = self.first_of(c);
        let mut returns = 0;
        let mut calls = 0;
        while !self.is_end(entry) && returns < LOOKAHEAD {
            let info = self.info[entry as usize];
            let op = (info >> 1) as usize;
            if info & 1 == 0 {
                calls += 1;
                if self.resets[op] != NO_RESET {
                    if nbases == MAX_BASES {
                        return None;
                    }
                    bases[nbases] = self.resets[op];
                    nbases += 1;
                } else if !self.extends[op] {
                    return None;
                }
            } else {
                returns += 1;
                let o = self.ops[op];
                let possible = bases[..nbases].iter().any(|&b| {
                    self.model
                        .may_extend_to(self.states.get(b), &o.input, &o.output)
                });
                if !possible {
                    return Some(calls);
                }
            }
            entry = self.next_of(entry);
        }
        None
    }

    /// The most operations a linearization extending the current configuration can
    /// hold when an operation can never be linearized (as
    /// [`PartitionSearch::doomed`] found) and `calls` call entries come before its
    /// return: only those operations, itself excluded, can be added.
    fn depth_bound(&self, calls: u32) -> u32 {
        self.stack.len() as u32 + calls.saturating_sub(1)
    }

    /// Whether `state`, reached by linearizing `op`, is one that nothing can observe
    /// before the next reset: then every such configuration with the same linearized
    /// set has the same future, and the memo keeps them as one ([`UNOBSERVABLE`]).
    /// With components, all of this is within `op`'s component (its operations, its
    /// component states, its memo).
    ///
    /// Let `R` be the pending reset ([`Model::resets_to`]) that returns first. Some
    /// reset is linearized by `R`'s return, so only operations called by then can
    /// come before the first reset. If `R` and each of them is a reset accepted from
    /// every state (a put; not a lock's acquire, which the state decides), or
    /// accepted from every state and extending ([`Model::always_accepts`],
    /// [`Model::extends`]), or extending and impossible from every extension of
    /// `state` ([`Model::may_extend_to`]), then until the first reset the search can
    /// only add blind extending operations, whatever `state` is: the same ones from
    /// any other state passing this test, and from the reset on the states agree.
    /// Walks at most [`WALK_LIMIT`] entries.
    fn unobservable(&self, state: u32, op: u32) -> bool {
        let comp = self.comp_of[op as usize];
        let own = usize::from(self.resets[op as usize] != NO_RESET);
        if self.pending_resets[comp as usize] <= own {
            return false;
        }
        // First find R's return entry, then look at the call entries before it.
        let first = self.first_of(comp);
        let mut entry = first;
        let mut found = false;
        for _ in 0..WALK_LIMIT {
            if self.is_end(entry) {
                return false;
            }
            let info = self.info[entry as usize];
            let other = info >> 1;
            if info & 1 == 1 && other != op && self.resets[other as usize] != NO_RESET {
                if !self.blind[other as usize] {
                    return false;
                }
                found = true;
                break;
            }
            entry = self.next_of(entry);
        }
        if !found {
            return false;
        }
        let end = entry;
        let mut entry = first;
        while entry != end {
            let info = self.info[entry as usize];
            let other = (info >> 1) as usize;
            entry = self.next_of(entry);
            // A reset is harmless only when accepted from every state: one the model
            // may reject (a lock's acquire) tells states apart.
            if info & 1 == 1
                || other == op as usize
                || (self.resets[other] != NO_RESET && self.blind[other])
            {
                continue;
            }
            let harmless = self.extends[other]
                && (self.blind[other] || {
                    let o = self.ops[other];
                    !self
                        .model
                        .may_extend_to(self.states.get(state), &o.input, &o.output)
                });
            if !harmless {
                return false;
            }
        }
        true
    }

    fn search(&mut self, quantum: u64) -> Option<Outcome> {
        let limit = self.steps + quantum;
        while self.steps < limit {
            match self.mode {
                Mode::Open => {
                    if self.next[HEAD] == self.tail {
                        return Some(Outcome::Linearizable);
                    }
                    if let Err(blame) = self.open()
                        && !self.fail(blame)
                    {
                        return Some(Outcome::Illegal);
                    }
                }
                Mode::Next => {
                    self.steps += 1;
                    let level = self.levels.last_mut().expect("a level to iterate");
                    let comp = level.comp;
                    if level.next == level.end {
                        self.cands.truncate(level.start as usize);
                        self.levels.pop();
                        if !self.fail(comp) {
                            return Some(Outcome::Illegal);
                        }
                        continue;
                    }
                    let entry = self.cands[level.next as usize];
                    level.next += 1;
                    if let Attempted::Seen(blame) = self.try_entry(entry, false)
                        && blame != comp
                    {
                        let level = self.levels.pop().expect("the top level");
                        self.cands.truncate(level.start as usize);
                        if !self.fail(blame) {
                            return Some(Outcome::Illegal);
                        }
                    }
                }
            }
        }
        None
    }
}

/// What a successful step leads to, besides the whole state (with components).
#[derive(Clone, Copy, Debug)]
struct Next {
    cstate: u32,
    ckey: u32,
    memo_node: u32,
}

/// How an attempt to linearize an operation next went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Attempted {
    /// The model rejected it.
    Rejected,
    /// The configuration it leads to is known dead, blamed on this component.
    Seen(u32),
    /// It led to a new configuration, now on the stack.
    Pushed,
}

impl<M: Model> Task for PartitionSearch<'_, M> {
    type Outcome = Outcome;

    /// Searches; once the partition is found illegal in verbose mode with the doomed
    /// pruning having ended some configuration, runs the report's search
    /// ([`PartitionSearch::explain`]) before giving the outcome.
    fn run(&mut self, quantum: u64) -> Option<Outcome> {
        if self.outcome.is_none() {
            self.outcome = self.search(quantum);
            if self.needs_explanation() {
                // The verdict's memo is no longer needed: free it for the report's.
                self.verdict_tables = Some((
                    self.configurations() as u64,
                    (self.memo_bytes() + self.states.heap_bytes() + self.tree.heap_bytes()) as u64,
                ));
                self.memo = Memo::new();
                self.cmemo = Vec::new();
                self.explanation = Some(Box::new(self.explain()));
            }
        }
        let budget = EXPLAIN_STEPS.max(self.steps.saturating_mul(4));
        if let Some(ex) = self.explanation.as_mut()
            && !self.explained
        {
            if ex.steps >= budget {
                return self.outcome;
            }
            ex.outcome = ex.search(quantum.min(budget - ex.steps));
            if ex.outcome.is_none() {
                return if ex.steps >= budget {
                    self.outcome
                } else {
                    None
                };
            }
            self.explained = true;
        }
        self.verdict()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::models::register::{RegInput, RegOutput, Register};

    fn op(
        input: RegInput,
        output: RegOutput,
        call: Time,
        ret: Option<Time>,
    ) -> Operation<RegInput, RegOutput> {
        Operation {
            client: 0,
            input,
            call,
            output,
            ret,
            meta: None,
        }
    }

    fn search_all(
        history: &[Operation<RegInput, RegOutput>],
        record: bool,
    ) -> (Outcome, PartitionSearch<'_, Register>) {
        static MODEL: Register = Register;
        let idx: Vec<usize> = (0..history.len()).collect();
        let mut s = PartitionSearch::new(&MODEL, "all".into(), history, &idx, record, 1 << 20);
        loop {
            if let Some(o) = s.run(3) {
                return (o, s);
            }
        }
    }

    fn w(v: i64) -> RegInput {
        RegInput::Write(Some(v.to_string()))
    }

    fn read(v: Option<i64>) -> RegOutput {
        RegOutput::Read(v.map(|v| v.to_string()))
    }

    #[test]
    fn a_read_may_linearize_before_a_concurrent_write() {
        // write(1) [0,10]; read -> absent [5,6]: the read goes first.
        let h = vec![
            op(w(1), RegOutput::Done, 0, Some(10)),
            op(RegInput::Read, read(None), 5, Some(6)),
        ];
        let (o, mut s) = search_all(&h, false);
        assert_eq!(o, Outcome::Linearizable);
        assert_eq!(s.unwind(), vec![1, 0]);
    }

    #[test]
    fn a_stale_read_after_a_completed_write_is_illegal() {
        let h = vec![
            op(w(1), RegOutput::Done, 0, Some(10)),
            op(RegInput::Read, read(None), 11, Some(12)),
        ];
        assert_eq!(search_all(&h, false).0, Outcome::Illegal);
    }

    #[test]
    fn touching_intervals_are_concurrent() {
        // The write returns at 10 and the read is called at 10: either order works.
        let h = vec![
            op(w(1), RegOutput::Done, 0, Some(10)),
            op(RegInput::Read, read(None), 10, Some(12)),
        ];
        assert_eq!(search_all(&h, false).0, Outcome::Linearizable);
    }

    #[test]
    fn verbose_records_the_longest_prefix_of_each_operation() {
        // w1 [0,1]; r->1 [2,3]; w2 [4,5]; r->1 [6,7] (stale): the first three
        // linearize, the last never does.
        let h = vec![
            op(w(1), RegOutput::Done, 0, Some(1)),
            op(RegInput::Read, read(Some(1)), 2, Some(3)),
            op(w(2), RegOutput::Done, 4, Some(5)),
            op(RegInput::Read, read(Some(1)), 6, Some(7)),
        ];
        let (o, mut s) = search_all(&h, true);
        assert_eq!(o, Outcome::Illegal);
        s.unwind();
        let lens: Vec<u32> = s.longest.iter().map(|l| l.0).collect();
        assert_eq!(lens, vec![3, 3, 3, 0]);
        let path = s.tree.path(s.longest[0].1);
        assert_eq!(path.iter().map(|p| p.0).collect::<Vec<_>>(), vec![0, 1, 2]);
    }
}
