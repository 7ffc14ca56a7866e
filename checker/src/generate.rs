//! Generated histories with a known linearization, for tests and benchmarks.
//!
//! [`history`] simulates `clients` clients that each issue operations one after the
//! other, with random think times and durations, always picking the client that is
//! free first (so about `clients` operations are in flight at once). Every operation
//! gets a random linearization point inside its interval; applying the operations to
//! the model in the order of those points ([`Simulate::apply`]) gives their outputs,
//! so the history is linearizable by construction. A crashed operation (with
//! probability `crash_percent`) never returns: it takes effect at its point or not at
//! all (half the time each), its output is unknown, and its client is replaced by a
//! fresh client id, as Jepsen does.
//!
//! [`Rng`] is a small seeded generator (SplitMix64), so a seed always gives the same
//! history.

use crate::hash::splitmix64;
use crate::history::{Operation, Time};
use crate::model::Model;
use crate::models::kv::{KvInput, KvModel, KvOp, KvOutput};
use crate::models::map::MapModel;
use crate::models::register::{RegInput, RegOutput, RegValue, Register};
use crate::models::set::{SetInput, SetModel, SetOutput};
use std::collections::{BTreeMap, BTreeSet};

/// A seeded pseudo-random generator (SplitMix64).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        splitmix64(self.0)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// True with probability `percent`/100.
    pub fn percent(&mut self, percent: u32) -> bool {
        self.below(100) < u64::from(percent)
    }
}

/// A model that can also run an operation: the output a correct object gives. The
/// simulated world may hold more than one model state (the key/value model's state
/// is one key's value; its world is the whole map).
pub trait Simulate: Model {
    /// Everything the simulated object holds.
    type World: Clone;
    /// The world before any operation.
    fn world(&self) -> Self::World;
    /// Runs `input`, updating `world`, and returns the output.
    fn apply(&self, world: &mut Self::World, input: &Self::Input) -> Self::Output;
}

fn apply_kv(world: &mut BTreeMap<String, String>, input: &KvInput) -> KvOutput {
    let value = world.entry(input.key.clone()).or_default();
    let old = value.clone();
    match input.op {
        KvOp::Get => KvOutput::known(old),
        KvOp::Put => {
            *value = input.value.clone();
            KvOutput::known("")
        }
        KvOp::Append => {
            value.push_str(&input.value);
            KvOutput::known("")
        }
        KvOp::AppendOld => {
            value.push_str(&input.value);
            KvOutput::known(old)
        }
    }
}

impl Simulate for KvModel {
    type World = BTreeMap<String, String>;
    fn world(&self) -> Self::World {
        BTreeMap::new()
    }
    fn apply(&self, world: &mut Self::World, input: &KvInput) -> KvOutput {
        apply_kv(world, input)
    }
}

impl Simulate for MapModel {
    type World = BTreeMap<String, String>;
    fn world(&self) -> Self::World {
        BTreeMap::new()
    }
    fn apply(&self, world: &mut Self::World, input: &KvInput) -> KvOutput {
        apply_kv(world, input)
    }
}

impl Simulate for Register {
    type World = RegValue;
    fn world(&self) -> RegValue {
        None
    }
    fn apply(&self, world: &mut RegValue, input: &RegInput) -> RegOutput {
        match input {
            RegInput::Read => RegOutput::Read(world.clone()),
            RegInput::Write(v) => {
                *world = v.clone();
                RegOutput::Done
            }
            RegInput::Cas { from, to } if from == world => {
                *world = to.clone();
                RegOutput::Cas(true)
            }
            RegInput::Cas { .. } => RegOutput::Cas(false),
        }
    }
}

impl Simulate for SetModel {
    type World = BTreeSet<String>;
    fn world(&self) -> Self::World {
        BTreeSet::new()
    }
    fn apply(&self, world: &mut Self::World, input: &SetInput) -> SetOutput {
        match input {
            SetInput::Add(x) => {
                world.insert(x.clone());
                SetOutput::Done
            }
            SetInput::Remove(x) => {
                world.remove(x);
                SetOutput::Done
            }
            SetInput::Contains(x) => SetOutput::Contains(world.contains(x)),
            SetInput::Read => SetOutput::Read(world.clone()),
        }
    }
}

/// The shape of a generated history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Clients running at once.
    pub clients: usize,
    /// Operations in total.
    pub ops: usize,
    /// Longest think time between a client's operations.
    pub max_gap: Time,
    /// Longest operation duration (0 allows only zero-duration operations).
    pub max_duration: Time,
    /// Chance, in percent, that an operation crashes.
    pub crash_percent: u32,
}

/// A linearizable history of `shape.ops` operations whose inputs come from `input`.
pub fn history<M: Simulate>(
    model: &M,
    shape: &Shape,
    rng: &mut Rng,
    mut input: impl FnMut(&mut Rng) -> M::Input,
) -> Vec<Operation<M::Input, M::Output>> {
    struct Planned<I> {
        client: u64,
        input: I,
        call: Time,
        ret: Option<Time>,
        point: Option<Time>,
    }
    let clients = shape.clients.max(1);
    let mut free_at: Vec<Time> = vec![0; clients];
    let mut ids: Vec<u64> = (1..=clients as u64).collect();
    let mut next_id = clients as u64 + 1;
    let mut planned = Vec::with_capacity(shape.ops);
    for _ in 0..shape.ops {
        let slot = (0..clients).min_by_key(|&c| (free_at[c], c)).unwrap_or(0);
        let call = free_at[slot] + rng.below(shape.max_gap.max(0) as u64 + 1) as Time;
        let dur = rng.below(shape.max_duration.max(0) as u64 + 1) as Time;
        let point = call + rng.below(dur as u64 + 1) as Time;
        let crashed = rng.percent(shape.crash_percent);
        planned.push(Planned {
            client: ids[slot],
            input: input(rng),
            call,
            ret: (!crashed).then_some(call + dur),
            point: (!crashed || rng.percent(50)).then_some(point),
        });
        free_at[slot] = call + dur + 1;
        if crashed {
            ids[slot] = next_id;
            next_id += 1;
        }
    }
    let mut order: Vec<usize> = (0..planned.len())
        .filter(|&i| planned[i].point.is_some())
        .collect();
    order.sort_by_key(|&i| (planned[i].point, i));
    let mut outputs: Vec<Option<M::Output>> = planned.iter().map(|_| None).collect();
    let mut world = model.world();
    for i in order {
        outputs[i] = Some(model.apply(&mut world, &planned[i].input));
    }
    planned
        .into_iter()
        .zip(outputs)
        .filter_map(|(p, out)| {
            let output = if p.ret.is_some() {
                out?
            } else {
                model.unknown_output(&p.input)?
            };
            Some(Operation {
                client: p.client,
                input: p.input,
                call: p.call,
                output,
                ret: p.ret,
                meta: None,
            })
        })
        .collect()
}

/// Key/value inputs like the lab's: on one of `keys` keys, `append_percent` appends
/// of `"x C N y"` (Lab 2 appends returning the old value if `lab2`),
/// `put_percent` puts, and gets otherwise.
pub fn kv_input(
    keys: u64,
    append_percent: u32,
    put_percent: u32,
    lab2: bool,
) -> impl FnMut(&mut Rng) -> KvInput {
    let mut n = 0u64;
    move |rng| {
        n += 1;
        let key = rng.below(keys).to_string();
        let roll = rng.below(100) as u32;
        let (op, value) = if roll < append_percent {
            let op = if lab2 { KvOp::AppendOld } else { KvOp::Append };
            (op, format!("x {} {n} y", rng.below(100)))
        } else if roll < append_percent + put_percent {
            (KvOp::Put, format!("v{n}"))
        } else {
            (KvOp::Get, String::new())
        };
        KvInput { op, key, value }
    }
}

/// Register inputs over values `0..values`: reads, writes and compare-and-sets in
/// equal parts.
pub fn register_input(values: u64) -> impl FnMut(&mut Rng) -> RegInput {
    move |rng| match rng.below(3) {
        0 => RegInput::Read,
        1 => RegInput::Write(Some(rng.below(values).to_string())),
        _ => RegInput::Cas {
            from: Some(rng.below(values).to_string()),
            to: Some(rng.below(values).to_string()),
        },
    }
}

/// Set inputs over elements `0..elements`.
pub fn set_input(elements: u64) -> impl FnMut(&mut Rng) -> SetInput {
    move |rng| {
        let x = rng.below(elements).to_string();
        match rng.below(4) {
            0 => SetInput::Add(x),
            1 => SetInput::Remove(x),
            2 => SetInput::Contains(x),
            _ => SetInput::Read,
        }
    }
}

/// Makes the get at `which` (counted among completed gets, modulo their number)
/// read a value no operation can produce (`#` never occurs in generated values).
/// Returns false if there is no completed get.
pub fn corrupt_kv_read(history: &mut [Operation<KvInput, KvOutput>], which: usize) -> bool {
    let gets: Vec<usize> = (0..history.len())
        .filter(|&i| history[i].input.op == KvOp::Get && history[i].output.value.is_some())
        .collect();
    if gets.is_empty() {
        return false;
    }
    let i = gets[which % gets.len()];
    let old = history[i].output.value.clone().unwrap_or_default();
    history[i].output = KvOutput::known(format!("{old}#"));
    true
}
