//! What the checker checks against: a sequential specification.
//!
//! A [`Model`] is a deterministic state machine. [`Model::step`] takes a state, the
//! input of an operation and the output the client saw, and returns the next state,
//! or `None` when the sequential object could not have produced that output from that
//! state. [`Model::partition`] may split a history into independent parts (for a
//! key/value store, one part per key); a history is linearizable exactly when every
//! part is, so each part is searched on its own.
//!
//! A nondeterministic specification (one where an operation may lead to several
//! states) implements [`NondeterministicModel`] instead; [`PowerSet`] turns it into a
//! [`Model`] whose state is the sorted set of states the object may be in.

use crate::history::Operation;
use std::hash::Hash;

/// One independent part of a history: a name for reports and the indices (into the
/// checked history) of its operations, in history order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// A short human-readable name, such as `key "3"`.
    pub name: String,
    /// Indices into the history slice given to the checker.
    pub operations: Vec<usize>,
}

impl Partition {
    /// The one partition that holds the whole history.
    pub fn whole(len: usize) -> Partition {
        Partition {
            name: "history".to_string(),
            operations: (0..len).collect(),
        }
    }
}

/// A deterministic sequential specification.
pub trait Model: Sync {
    /// The state of the sequential object. Equality and hashing are used to memoize
    /// the search, so equal states must behave identically.
    type State: Clone + Eq + Hash + Send + Sync;
    /// What a client asked for (operation name and arguments).
    type Input: Sync;
    /// What the client saw back.
    type Output: Sync;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// Applies one operation. Returns the next state, or `None` when `output` is not
    /// a possible result of `input` in `state`.
    ///
    /// An operation whose outcome is unknown (the client crashed or timed out)
    /// carries an output that this method must accept in every state: see
    /// [`Model::unknown_output`].
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: &Self::Output,
    ) -> Option<Self::State>;

    /// Splits a history into independent parts, in a deterministic order. The default
    /// keeps the whole history as one part.
    fn partition(&self, history: &[Operation<Self::Input, Self::Output>]) -> Vec<Partition> {
        vec![Partition::whole(history.len())]
    }

    /// The output to record for an operation whose outcome is unknown: `step` accepts
    /// it in every state ("may or may not have happened"). `None` when the model has
    /// no such output.
    fn unknown_output(&self, input: &Self::Input) -> Option<Self::Output> {
        let _ = input;
        None
    }

    /// True when the operation never changes the state: whenever [`Model::step`]
    /// accepts it, it returns the state unchanged (a read, a failed
    /// compare-and-set). The search then linearizes such an operation as soon as
    /// the model accepts it, without trying alternatives, which is safe exactly when
    /// this holds. The default, false, is always safe.
    fn is_read_only(&self, input: &Self::Input, output: &Self::Output) -> bool {
        let _ = (input, output);
        false
    }

    /// True when the operation only ever extends the state, in an order `⊑` on
    /// states that the model chooses (a string's prefixes, a set's subsets): whenever
    /// [`Model::step`] accepts it from `s`, the state after is `⊒ s`. Read-only
    /// operations extend trivially. Together with [`Model::may_extend_to`] this lets
    /// the search drop a configuration as soon as a pending read has become
    /// impossible (see the `search` module). The default, false, is always safe.
    fn extends(&self, input: &Self::Input) -> bool {
        let _ = input;
        false
    }

    /// The state after the operation when it does not depend on the state before
    /// (a put): whenever [`Model::step`] accepts it, it returns this. The search then
    /// also looks past such operations for pending reads that became impossible
    /// (see [`Model::extends`]). The default, `None`, is always safe.
    fn resets_to(&self, input: &Self::Input, output: &Self::Output) -> Option<Self::State> {
        let _ = (input, output);
        None
    }

    /// True when [`Model::step`] accepts the operation from every state (a blind
    /// write, or an operation whose outcome is unknown). The default, false, is
    /// always safe.
    fn always_accepts(&self, input: &Self::Input, output: &Self::Output) -> bool {
        let _ = (input, output);
        false
    }

    /// False only when no state `s' ⊒ state` (in the order of [`Model::extends`],
    /// `state` itself included) accepts the operation: for a key/value get of `v`,
    /// when `state` is not a prefix of `v`. Must be true whenever some such state
    /// accepts it; the default, true, is always safe.
    fn may_extend_to(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: &Self::Output,
    ) -> bool {
        let _ = (state, input, output);
        true
    }

    /// The independent component the operation acts on, when the object is a product
    /// of independent ones (a map is one string per key): `Some(name)` promises that
    /// [`Model::step`] reads and changes only that component, so operations of
    /// different components commute. The *component state* of a component is then
    /// the state [`Model::init`] reaches by that component's operations alone.
    ///
    /// When every operation of a partition has a component, the search of that one
    /// partition exploits the independence without splitting the history (see the
    /// `search` module): it still linearizes the whole history against the whole
    /// state, but memoizes dead ends per component, and it applies the pruning hooks
    /// ([`Model::extends`], [`Model::resets_to`], [`Model::may_extend_to`]) to
    /// component states: `resets_to` gives the component state after the operation,
    /// and `may_extend_to` looks only at the operation's component. A search of
    /// several components that does not run by components (the report's search of
    /// an illegal partition) switches those hooks off. The default, `None`, is always
    /// safe for a model whose hooks speak of whole states; a wrapper that forwards
    /// the hooks of a model with components must forward this too (as
    /// [`crate::models::independent`]'s wrappers do), or the search would take a
    /// component state for a whole one.
    fn component<'a>(&self, input: &'a Self::Input) -> Option<&'a str> {
        let _ = input;
        None
    }

    /// Describes an operation for reports, such as `get('k') -> 'v'`.
    fn describe_operation(&self, input: &Self::Input, output: &Self::Output) -> String;

    /// Describes a state for reports.
    fn describe_state(&self, state: &Self::State) -> String;
}

/// A sequential specification in which an operation may lead to several states.
pub trait NondeterministicModel: Sync {
    /// One state of the object. `Ord` gives the set of states a canonical order.
    type State: Clone + Ord + Hash + Send + Sync;
    /// What a client asked for.
    type Input: Sync;
    /// What the client saw back.
    type Output: Sync;

    /// The possible initial states (at least one).
    fn init(&self) -> Vec<Self::State>;

    /// Every state the object may be in after the operation; empty when the output
    /// is impossible from `state`.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: &Self::Output,
    ) -> Vec<Self::State>;

    /// Splits a history into independent parts; the default keeps it whole.
    fn partition(&self, history: &[Operation<Self::Input, Self::Output>]) -> Vec<Partition> {
        vec![Partition::whole(history.len())]
    }

    /// The output for an operation whose outcome is unknown; see [`Model::unknown_output`].
    fn unknown_output(&self, input: &Self::Input) -> Option<Self::Output> {
        let _ = input;
        None
    }

    /// Describes an operation for reports.
    fn describe_operation(&self, input: &Self::Input, output: &Self::Output) -> String;

    /// Describes one state for reports.
    fn describe_state(&self, state: &Self::State) -> String;
}

/// The power-set construction: a [`Model`] whose state is the (sorted, duplicate-free)
/// set of states a [`NondeterministicModel`] may be in. A step is legal when at least
/// one of those states allows it.
#[derive(Clone, Debug, Default)]
pub struct PowerSet<N>(pub N);

fn canonical<S: Ord>(mut states: Vec<S>) -> Vec<S> {
    states.sort();
    states.dedup();
    states
}

impl<N: NondeterministicModel> Model for PowerSet<N> {
    type State = Vec<N::State>;
    type Input = N::Input;
    type Output = N::Output;

    fn init(&self) -> Self::State {
        canonical(self.0.init())
    }

    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: &Self::Output,
    ) -> Option<Self::State> {
        let next: Vec<N::State> = state
            .iter()
            .flat_map(|s| self.0.step(s, input, output))
            .collect();
        if next.is_empty() {
            None
        } else {
            Some(canonical(next))
        }
    }

    fn partition(&self, history: &[Operation<Self::Input, Self::Output>]) -> Vec<Partition> {
        self.0.partition(history)
    }

    fn unknown_output(&self, input: &Self::Input) -> Option<Self::Output> {
        self.0.unknown_output(input)
    }

    fn describe_operation(&self, input: &Self::Input, output: &Self::Output) -> String {
        self.0.describe_operation(input, output)
    }

    fn describe_state(&self, state: &Self::State) -> String {
        let parts: Vec<String> = state.iter().map(|s| self.0.describe_state(s)).collect();
        format!("{{{}}}", parts.join(", "))
    }
}

/// A model with the search's pruning hooks switched off ([`Model::extends`],
/// [`Model::resets_to`], [`Model::always_accepts`], [`Model::may_extend_to`] and
/// [`Model::component`] keep their defaults): the plain Wing-Gong/Lowe search with
/// its memo (and its greedy step for read-only operations), as other checkers
/// run it. For measuring what the pruning gains, and for testing that it changes no
/// verdict.
#[derive(Clone, Debug, Default)]
pub struct Unpruned<M>(pub M);

impl<M: Model> Model for Unpruned<M> {
    type State = M::State;
    type Input = M::Input;
    type Output = M::Output;

    fn init(&self) -> M::State {
        self.0.init()
    }

    fn step(&self, state: &M::State, input: &M::Input, output: &M::Output) -> Option<M::State> {
        self.0.step(state, input, output)
    }

    fn partition(&self, history: &[Operation<M::Input, M::Output>]) -> Vec<Partition> {
        self.0.partition(history)
    }

    fn unknown_output(&self, input: &M::Input) -> Option<M::Output> {
        self.0.unknown_output(input)
    }

    fn is_read_only(&self, input: &M::Input, output: &M::Output) -> bool {
        self.0.is_read_only(input, output)
    }

    fn describe_operation(&self, input: &M::Input, output: &M::Output) -> String {
        self.0.describe_operation(input, output)
    }

    fn describe_state(&self, state: &M::State) -> String {
        self.0.describe_state(state)
    }
}
