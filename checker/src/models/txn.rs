//! Transactions over many keys: Knossos's multi-register (Elle's rw-register
//! workload) and Elle's list-append, checked for linearizability (strict
//! serializability: each transaction takes effect at one instant inside its
//! interval, in an order consistent with real time).
//!
//! A transaction is a list of micro-operations run in order at its instant:
//!
//! - [`MultiRegister`]: `Read(k)` returns the value of register `k`; `Write(k, v)`
//!   sets it. A key never written holds the initial value (nil, or
//!   [`MultiRegister::initial`]); a read of nil means the key held nil.
//! - [`ListAppend`]: `Append(k, x)` appends `x` to the list at `k`; `Read(k)`
//!   returns the whole list. A key never appended to holds the empty list, and a
//!   read of nil reads it (Elle treats nil and `[]` alike).
//!
//! The output of a transaction that completed ([`TxnOutput::Ok`]) holds the value
//! of each read, in order; one whose outcome is unknown ([`TxnOutput::Unknown`])
//! reads anything and writes what it writes.
//!
//! Partitions are the connected components of keys (two keys are joined when one
//! transaction touches both): transactions of different components touch disjoint
//! state, so the history is linearizable exactly when every component is
//! (locality).

use super::register::{RegValue, show};
use crate::history::Operation;
use crate::model::{Model, Partition};
use std::collections::BTreeMap;

/// One micro-operation of a multi-register transaction.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RwMicro {
    /// Read register `key`.
    Read(String),
    /// Write a value (`None`: nil) to register `key`.
    Write(String, RegValue),
}

/// One micro-operation of a list-append transaction.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AppendMicro {
    /// Append an element to the list at a key.
    Append(String, String),
    /// Read the list at a key.
    Read(String),
}

/// What a transaction returned.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TxnOutput<V> {
    /// It completed; the values its reads returned, in order.
    Ok(Vec<V>),
    /// The outcome is unknown.
    Unknown,
}

/// The keys of a micro-operation.
trait Micro {
    fn key(&self) -> &str;
}

impl Micro for RwMicro {
    fn key(&self) -> &str {
        match self {
            RwMicro::Read(k) | RwMicro::Write(k, _) => k,
        }
    }
}

impl Micro for AppendMicro {
    fn key(&self) -> &str {
        match self {
            AppendMicro::Read(k) | AppendMicro::Append(k, _) => k,
        }
    }
}

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

/// The connected components of keys, as partitions in the order of their smallest
/// key; transactions without micro-operations form a partition of their own.
fn components<M: Micro, O>(history: &[Operation<Vec<M>, O>]) -> Vec<Partition> {
    let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
    for op in history {
        for m in &op.input {
            let n = ids.len();
            ids.entry(m.key()).or_insert(n);
        }
    }
    let mut parent: Vec<usize> = (0..ids.len()).collect();
    for op in history {
        let mut keys = op.input.iter().map(|m| ids[m.key()]);
        if let Some(first) = keys.next() {
            for k in keys {
                let (a, b) = (find(&mut parent, first), find(&mut parent, k));
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    // Component root -> (its keys in order, its operations).
    let mut groups: BTreeMap<usize, (Vec<&str>, Vec<usize>)> = BTreeMap::new();
    let mut roots = vec![0; ids.len()];
    for (&key, &id) in &ids {
        let root = find(&mut parent, id);
        roots[id] = root;
        groups.entry(root).or_default().0.push(key);
    }
    let mut empty = Vec::new();
    for (i, op) in history.iter().enumerate() {
        match op.input.first() {
            Some(m) => groups
                .get_mut(&roots[ids[m.key()]])
                .expect("a group")
                .1
                .push(i),
            None => empty.push(i),
        }
    }
    let mut parts: Vec<(Vec<&str>, Vec<usize>)> = groups.into_values().collect();
    parts.sort();
    let mut out: Vec<Partition> = parts
        .into_iter()
        .map(|(keys, operations)| {
            let name = match keys.as_slice() {
                [k] => format!("key {k}"),
                [a, b, c, _, ..] => format!("keys {a}, {b}, {c}, … ({} keys)", keys.len()),
                _ => format!("keys {}", keys.join(", ")),
            };
            Partition { name, operations }
        })
        .collect();
    if !empty.is_empty() {
        out.push(Partition {
            name: "empty transactions".to_string(),
            operations: empty,
        });
    }
    out
}

/// Knossos's multi-register: registers named by keys, read and written by
/// transactions.
#[derive(Clone, Debug, Default)]
pub struct MultiRegister {
    /// The value of every register before the history (nil by default).
    pub initial: RegValue,
}

/// The multi-register's input: a transaction.
pub type RwTxn = Vec<RwMicro>;

impl MultiRegister {
    /// Runs `txn` from `state`; `reads` are the values its reads must return
    /// (`None`: any).
    fn run(
        &self,
        state: &BTreeMap<String, RegValue>,
        txn: &RwTxn,
        reads: Option<&[RegValue]>,
    ) -> Option<BTreeMap<String, RegValue>> {
        let mut next: Option<BTreeMap<String, RegValue>> = None;
        let mut r = 0;
        for m in txn {
            let current = next.as_ref().unwrap_or(state);
            match m {
                RwMicro::Read(k) => {
                    if let Some(reads) = reads {
                        let want = reads.get(r)?;
                        if current.get(k).unwrap_or(&self.initial) != want {
                            return None;
                        }
                    }
                    r += 1;
                }
                RwMicro::Write(k, v) => {
                    let s = next.get_or_insert_with(|| state.clone());
                    if *v == self.initial {
                        s.remove(k);
                    } else {
                        s.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        if reads.is_some_and(|reads| reads.len() != r) {
            return None;
        }
        Some(next.unwrap_or_else(|| state.clone()))
    }
}

impl Model for MultiRegister {
    /// The registers that do not hold the initial value.
    type State = BTreeMap<String, RegValue>;
    type Input = RwTxn;
    type Output = TxnOutput<RegValue>;

    fn init(&self) -> Self::State {
        BTreeMap::new()
    }

    fn step(&self, state: &Self::State, txn: &RwTxn, output: &Self::Output) -> Option<Self::State> {
        match output {
            TxnOutput::Ok(reads) => self.run(state, txn, Some(reads)),
            TxnOutput::Unknown => self.run(state, txn, None),
        }
    }

    fn partition(&self, history: &[Operation<RwTxn, Self::Output>]) -> Vec<Partition> {
        components(history)
    }

    fn unknown_output(&self, _txn: &RwTxn) -> Option<Self::Output> {
        Some(TxnOutput::Unknown)
    }

    fn is_read_only(&self, txn: &RwTxn, _output: &Self::Output) -> bool {
        txn.iter().all(|m| matches!(m, RwMicro::Read(_)))
    }

    /// The order of [`Model::extends`] is equality: only read-only transactions
    /// extend.
    fn extends(&self, txn: &RwTxn) -> bool {
        txn.iter().all(|m| matches!(m, RwMicro::Read(_)))
    }

    fn always_accepts(&self, txn: &RwTxn, output: &Self::Output) -> bool {
        *output == TxnOutput::Unknown || txn.iter().all(|m| matches!(m, RwMicro::Write(..)))
    }

    /// The reads that come before any write to their key must see the state.
    fn may_extend_to(&self, state: &Self::State, txn: &RwTxn, output: &Self::Output) -> bool {
        let TxnOutput::Ok(reads) = output else {
            return true;
        };
        let mut written: Vec<&str> = Vec::new();
        let mut r = 0;
        for m in txn {
            match m {
                RwMicro::Read(k) => {
                    if !written.contains(&k.as_str())
                        && reads
                            .get(r)
                            .is_some_and(|v| state.get(k).unwrap_or(&self.initial) != v)
                    {
                        return false;
                    }
                    r += 1;
                }
                RwMicro::Write(k, _) => written.push(k),
            }
        }
        true
    }

    fn describe_operation(&self, txn: &RwTxn, output: &Self::Output) -> String {
        let mut reads = match output {
            TxnOutput::Ok(reads) => Some(reads.iter()),
            TxnOutput::Unknown => None,
        };
        let parts: Vec<String> = txn
            .iter()
            .map(|m| match m {
                RwMicro::Read(k) => {
                    let v = reads
                        .as_mut()
                        .and_then(|r| r.next())
                        .map_or("?".to_string(), show);
                    format!("r {k} -> {v}")
                }
                RwMicro::Write(k, v) => format!("w {k} {}", show(v)),
            })
            .collect();
        format!("txn({})", parts.join(", "))
    }

    fn describe_state(&self, state: &Self::State) -> String {
        let parts: Vec<String> = state
            .iter()
            .map(|(k, v)| format!("{k}: {}", show(v)))
            .collect();
        if self.initial.is_some() {
            format!("{{{}}} (others {})", parts.join(", "), show(&self.initial))
        } else {
            format!("{{{}}}", parts.join(", "))
        }
    }
}

/// Elle's list-append: lists named by keys, appended to and read by transactions.
#[derive(Clone, Copy, Debug, Default)]
pub struct ListAppend;

/// The list-append model's input: a transaction.
pub type AppendTxn = Vec<AppendMicro>;

/// A list-append state: the non-empty lists.
pub type Lists = BTreeMap<String, Vec<String>>;

fn show_list(list: &[String]) -> String {
    format!("[{}]", list.join(" "))
}

impl ListAppend {
    fn run(&self, state: &Lists, txn: &AppendTxn, reads: Option<&[Vec<String>]>) -> Option<Lists> {
        let mut next: Option<Lists> = None;
        let mut r = 0;
        for m in txn {
            let current = next.as_ref().unwrap_or(state);
            match m {
                AppendMicro::Read(k) => {
                    if let Some(reads) = reads {
                        let want = reads.get(r)?;
                        if current.get(k).map_or(&[][..], Vec::as_slice) != want.as_slice() {
                            return None;
                        }
                    }
                    r += 1;
                }
                AppendMicro::Append(k, x) => {
                    let s = next.get_or_insert_with(|| state.clone());
                    s.entry(k.clone()).or_default().push(x.clone());
                }
            }
        }
        if reads.is_some_and(|reads| reads.len() != r) {
            return None;
        }
        Some(next.unwrap_or_else(|| state.clone()))
    }
}

impl Model for ListAppend {
    type State = Lists;
    type Input = AppendTxn;
    type Output = TxnOutput<Vec<String>>;

    fn init(&self) -> Lists {
        BTreeMap::new()
    }

    fn step(&self, state: &Lists, txn: &AppendTxn, output: &Self::Output) -> Option<Lists> {
        match output {
            TxnOutput::Ok(reads) => self.run(state, txn, Some(reads)),
            TxnOutput::Unknown => self.run(state, txn, None),
        }
    }

    fn partition(&self, history: &[Operation<AppendTxn, Self::Output>]) -> Vec<Partition> {
        components(history)
    }

    fn unknown_output(&self, _txn: &AppendTxn) -> Option<Self::Output> {
        Some(TxnOutput::Unknown)
    }

    fn is_read_only(&self, txn: &AppendTxn, _output: &Self::Output) -> bool {
        txn.iter().all(|m| matches!(m, AppendMicro::Read(_)))
    }

    /// In the order where each list may only grow at its end, every transaction
    /// extends.
    fn extends(&self, _txn: &AppendTxn) -> bool {
        true
    }

    fn always_accepts(&self, txn: &AppendTxn, output: &Self::Output) -> bool {
        *output == TxnOutput::Unknown || txn.iter().all(|m| matches!(m, AppendMicro::Append(..)))
    }

    /// A read that comes before any append to its key in the transaction can only
    /// see a list that starts with the state's.
    fn may_extend_to(&self, state: &Lists, txn: &AppendTxn, output: &Self::Output) -> bool {
        let TxnOutput::Ok(reads) = output else {
            return true;
        };
        let mut appended: Vec<&str> = Vec::new();
        let mut r = 0;
        for m in txn {
            match m {
                AppendMicro::Read(k) => {
                    if !appended.contains(&k.as_str())
                        && let (Some(have), Some(read)) = (state.get(k), reads.get(r))
                        && !read.starts_with(have)
                    {
                        return false;
                    }
                    r += 1;
                }
                AppendMicro::Append(k, _) => appended.push(k),
            }
        }
        true
    }

    fn describe_operation(&self, txn: &AppendTxn, output: &Self::Output) -> String {
        let mut reads = match output {
            TxnOutput::Ok(reads) => Some(reads.iter()),
            TxnOutput::Unknown => None,
        };
        let parts: Vec<String> = txn
            .iter()
            .map(|m| match m {
                AppendMicro::Read(k) => {
                    let v = reads
                        .as_mut()
                        .and_then(|r| r.next())
                        .map_or("?".to_string(), |l| show_list(l));
                    format!("r {k} -> {v}")
                }
                AppendMicro::Append(k, x) => format!("append {k} {x}"),
            })
            .collect();
        format!("txn({})", parts.join(", "))
    }

    fn describe_state(&self, state: &Lists) -> String {
        let parts: Vec<String> = state
            .iter()
            .map(|(k, v)| format!("{k}: {}", show_list(v)))
            .collect();
        format!("{{{}}}", parts.join(", "))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn v(s: &str) -> RegValue {
        Some(s.to_string())
    }

    fn op<I, O>(input: I, output: O) -> Operation<I, O> {
        Operation {
            client: 0,
            input,
            call: 0,
            output,
            ret: Some(1),
            meta: None,
        }
    }

    #[test]
    fn multi_register_steps() {
        let m = MultiRegister::default();
        let w = vec![
            RwMicro::Write("x".into(), v("1")),
            RwMicro::Read("x".into()),
        ];
        let s = m.step(&m.init(), &w, &TxnOutput::Ok(vec![v("1")])).unwrap();
        assert_eq!(s.get("x"), Some(&v("1")));
        assert!(m.step(&m.init(), &w, &TxnOutput::Ok(vec![None])).is_none());
        assert!(
            m.step(&m.init(), &w, &TxnOutput::Ok(vec![])).is_none(),
            "read count"
        );
        let r = vec![RwMicro::Read("x".into()), RwMicro::Read("y".into())];
        assert!(m.step(&s, &r, &TxnOutput::Ok(vec![v("1"), None])).is_some());
        assert!(m.step(&s, &r, &TxnOutput::Ok(vec![None, None])).is_none());
        assert!(m.step(&s, &r, &TxnOutput::Unknown).is_some());
        assert!(!m.may_extend_to(&s, &r, &TxnOutput::Ok(vec![None, None])));
        assert!(m.may_extend_to(&s, &w, &TxnOutput::Ok(vec![v("1")])));
        // Writing the initial value gives the initial state back.
        let back = vec![RwMicro::Write("x".into(), None)];
        assert_eq!(m.step(&s, &back, &TxnOutput::Ok(vec![])), Some(m.init()));
        assert_eq!(
            m.describe_operation(&w, &TxnOutput::Ok(vec![v("1")])),
            "txn(w x 1, r x -> 1)"
        );
        let zero = MultiRegister { initial: v("0") };
        let read_y = vec![RwMicro::Read("y".into())];
        assert!(
            zero.step(&zero.init(), &read_y, &TxnOutput::Ok(vec![v("0")]))
                .is_some()
        );
        assert!(
            zero.step(&zero.init(), &read_y, &TxnOutput::Ok(vec![None]))
                .is_none()
        );
    }

    #[test]
    fn list_append_steps() {
        let m = ListAppend;
        let t = vec![
            AppendMicro::Append("x".into(), "1".into()),
            AppendMicro::Read("x".into()),
            AppendMicro::Read("y".into()),
        ];
        let l = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let s = m
            .step(&m.init(), &t, &TxnOutput::Ok(vec![l(&["1"]), l(&[])]))
            .unwrap();
        assert!(
            m.step(&m.init(), &t, &TxnOutput::Ok(vec![l(&[]), l(&[])]))
                .is_none()
        );
        let r = vec![AppendMicro::Read("x".into())];
        assert!(m.may_extend_to(&s, &r, &TxnOutput::Ok(vec![l(&["1", "2"])])));
        assert!(!m.may_extend_to(&s, &r, &TxnOutput::Ok(vec![l(&["2"])])));
        assert!(
            m.step(&s, &r, &TxnOutput::Ok(vec![l(&["1", "2"])]))
                .is_none()
        );
        assert_eq!(m.describe_state(&s), "{x: [1]}");
    }

    #[test]
    fn partitions_are_components_of_keys() {
        let r = |k: &str| RwMicro::Read(k.into());
        let h = vec![
            op(vec![r("a")], TxnOutput::Unknown),
            op(vec![r("c"), r("d")], TxnOutput::Unknown),
            op(vec![], TxnOutput::Unknown),
            op(vec![r("b"), r("a")], TxnOutput::Unknown),
            op(vec![r("e")], TxnOutput::Unknown),
        ];
        let parts = MultiRegister::default().partition(&h);
        let got: Vec<_> = parts
            .iter()
            .map(|p| (p.name.as_str(), p.operations.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("keys a, b", vec![0, 3]),
                ("keys c, d", vec![1]),
                ("key e", vec![4]),
                ("empty transactions", vec![2]),
            ]
        );
    }
}
