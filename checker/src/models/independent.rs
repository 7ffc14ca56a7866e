//! Independent keys: one object of an inner model per key, as Jepsen's
//! `jepsen.independent` runs a workload (its values are `[key value]` tuples).
//!
//! [`Independent`] wraps a model so that each operation names a key ([`Keyed`]);
//! the history is split into one partition per key, each checked against the inner
//! model from its initial state. Operations on different keys never constrain each
//! other, so the history is linearizable exactly when every key's part is.

use crate::history::Operation;
use crate::model::{Model, Partition};
use std::collections::BTreeMap;

/// An operation of the inner model on one key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Keyed<I> {
    /// The key (its EDN text, such as `3` or `"a"`).
    pub key: String,
    /// The inner model's input.
    pub input: I,
}

/// The inner model `M`, once per key.
#[derive(Clone, Copy, Debug, Default)]
pub struct Independent<M>(pub M);

impl<M: Model> Model for Independent<M>
where
    M::Input: Sync,
{
    type State = M::State;
    type Input = Keyed<M::Input>;
    type Output = M::Output;

    fn init(&self) -> M::State {
        self.0.init()
    }

    fn step(
        &self,
        state: &M::State,
        input: &Keyed<M::Input>,
        output: &M::Output,
    ) -> Option<M::State> {
        self.0.step(state, &input.input, output)
    }

    /// One partition per key, in key order.
    fn partition(&self, history: &[Operation<Keyed<M::Input>, M::Output>]) -> Vec<Partition> {
        let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, op) in history.iter().enumerate() {
            by_key.entry(op.input.key.as_str()).or_default().push(i);
        }
        by_key
            .into_iter()
            .map(|(key, operations)| Partition {
                name: format!("key {key}"),
                operations,
            })
            .collect()
    }

    fn unknown_output(&self, input: &Keyed<M::Input>) -> Option<M::Output> {
        self.0.unknown_output(&input.input)
    }

    fn is_read_only(&self, input: &Keyed<M::Input>, output: &M::Output) -> bool {
        self.0.is_read_only(&input.input, output)
    }

    fn extends(&self, input: &Keyed<M::Input>) -> bool {
        self.0.extends(&input.input)
    }

    fn resets_to(&self, input: &Keyed<M::Input>, output: &M::Output) -> Option<M::State> {
        self.0.resets_to(&input.input, output)
    }

    fn always_accepts(&self, input: &Keyed<M::Input>, output: &M::Output) -> bool {
        self.0.always_accepts(&input.input, output)
    }

    fn may_extend_to(&self, state: &M::State, input: &Keyed<M::Input>, output: &M::Output) -> bool {
        self.0.may_extend_to(state, &input.input, output)
    }

    /// The inner model's: within a key's partition the inner model's components are
    /// independent as they are in the inner model.
    fn component<'a>(&self, input: &'a Keyed<M::Input>) -> Option<&'a str> {
        self.0.component(&input.input)
    }

    fn describe_operation(&self, input: &Keyed<M::Input>, output: &M::Output) -> String {
        format!(
            "[{}] {}",
            input.key,
            self.0.describe_operation(&input.input, output)
        )
    }

    fn describe_state(&self, state: &M::State) -> String {
        self.0.describe_state(state)
    }
}

/// A model `M` started from a given state instead of [`Model::init`] (such as a
/// register that holds 0 before the history begins: `--initial 0`).
#[derive(Clone, Debug, Default)]
pub struct StartingAt<M: Model>(pub M, pub M::State);

impl<M: Model> Model for StartingAt<M> {
    type State = M::State;
    type Input = M::Input;
    type Output = M::Output;

    fn init(&self) -> M::State {
        self.1.clone()
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

    fn extends(&self, input: &M::Input) -> bool {
        self.0.extends(input)
    }

    /// The inner model's, except for an operation with a component
    /// ([`Model::component`]): the inner model gives the component state after it
    /// as reached from its own initial state, not from this one, so none is given.
    fn resets_to(&self, input: &M::Input, output: &M::Output) -> Option<M::State> {
        if self.0.component(input).is_some() {
            return None;
        }
        self.0.resets_to(input, output)
    }

    fn always_accepts(&self, input: &M::Input, output: &M::Output) -> bool {
        self.0.always_accepts(input, output)
    }

    fn may_extend_to(&self, state: &M::State, input: &M::Input, output: &M::Output) -> bool {
        self.0.may_extend_to(state, input, output)
    }

    /// The inner model's (the search by components needs it to know that the inner
    /// model's hooks speak of component states).
    fn component<'a>(&self, input: &'a M::Input) -> Option<&'a str> {
        self.0.component(input)
    }

    fn describe_operation(&self, input: &M::Input, output: &M::Output) -> String {
        self.0.describe_operation(input, output)
    }

    fn describe_state(&self, state: &M::State) -> String {
        self.0.describe_state(state)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::models::register::{RegInput, RegOutput, Register};

    #[test]
    fn one_partition_per_key_and_a_chosen_start() {
        let op = |key: &str| Operation {
            client: 0,
            input: Keyed {
                key: key.into(),
                input: RegInput::Read,
            },
            call: 0,
            output: RegOutput::Read(None),
            ret: Some(1),
            meta: None,
        };
        let h = vec![op("2"), op("1"), op("2")];
        let parts = Independent(Register).partition(&h);
        let got: Vec<_> = parts
            .iter()
            .map(|p| (p.name.as_str(), p.operations.clone()))
            .collect();
        assert_eq!(got, vec![("key 1", vec![1]), ("key 2", vec![0, 2])]);
        assert_eq!(
            Independent(Register).describe_operation(&h[0].input, &h[0].output),
            "[2] read() -> nil"
        );
        let m = StartingAt(Register, Some("0".to_string()));
        assert_eq!(m.init(), Some("0".to_string()));
        assert!(
            m.step(
                &m.init(),
                &RegInput::Read,
                &RegOutput::Read(Some("0".into()))
            )
            .is_some()
        );
    }

    /// A map that holds 'x' at key 'a' before the history: the wrappers keep the
    /// map's components, and the start's other keys stay visible after a put.
    #[test]
    fn wrappers_keep_the_inner_models_components() {
        use crate::check::{CheckOptions, check};
        use crate::model::Unpruned;
        use crate::models::kv::{KvInput, KvOp, KvOutput};
        use crate::models::map::MapModel;
        use crate::models::value::Value;
        use crate::result::Verdict;
        let kv = |op: KvOp, key: &str, value: &str| KvInput {
            op,
            key: key.into(),
            value: value.into(),
        };
        let start = MapModel.init().with("a", Value::from("x"));
        let m = StartingAt(MapModel, start);
        let put = kv(KvOp::Put, "b", "1");
        assert_eq!(m.component(&put), Some("b"));
        assert_eq!(m.resets_to(&put, &KvOutput::known("")), None);
        let keyed = Keyed {
            key: "k".into(),
            input: put.clone(),
        };
        assert_eq!(Independent(MapModel).component(&keyed), Some("b"));
        let op = |input: KvInput, out: &str, call: i64| Operation {
            client: 0,
            input,
            call,
            output: KvOutput::known(out),
            ret: Some(call + 10),
            meta: None,
        };
        // 'a' gets "2" then "1" appended (the first append returns before the put of
        // 'b' is called, the second runs across it), then reads "x21": linearizable
        // only as append 2, append 1, put, get. A search that took the put of 'b'
        // for a reset of the whole state would take the two orders of the appends
        // for one (nothing reads 'a' before the put) and find none.
        let mut h = vec![
            op(kv(KvOp::Append, "a", "1"), "", 0),
            op(kv(KvOp::Append, "a", "2"), "", 0),
            op(kv(KvOp::Put, "b", "p"), "", 10),
            op(kv(KvOp::Get, "a", ""), "x21", 40),
        ];
        h[0].ret = Some(5);
        h[1].ret = Some(30);
        h[2].ret = Some(15);
        for (i, o) in h.iter_mut().enumerate() {
            o.client = i as u64;
        }
        for options in [CheckOptions::new(), CheckOptions::verbose()] {
            assert_eq!(check(&m, &h, &options).unwrap().verdict, Verdict::Ok);
            let plain = check(&Unpruned(m.clone()), &h, &options).unwrap();
            assert_eq!(plain.verdict, Verdict::Ok);
        }
        h[3].output = KvOutput::known("x12y");
        for options in [CheckOptions::new(), CheckOptions::verbose()] {
            assert_eq!(check(&m, &h, &options).unwrap().verdict, Verdict::Illegal);
        }
    }
}
