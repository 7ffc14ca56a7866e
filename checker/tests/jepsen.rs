//! The models Jepsen histories need (mutex, independent keys, multi-register,
//! list-append, a register with an initial value) against brute force, and the
//! report of an illegal history against the plain search.
//!
//! Every property runs on small generated histories: linearizable ones (built by
//! running a legal sequence of operations at increasing instants, each operation's
//! interval around its instant) must be Ok; ones with random outputs must get the
//! verdict brute force gives (trying every order the real-time order allows); and
//! for an illegal one, the longest linearizable prefix the report names must be the
//! plain search's (`raftlab_checker::Unpruned`) and brute force's.

use proptest::prelude::*;
use raftlab_checker::generate::{self, Rng, Shape};
use raftlab_checker::models::independent::{Independent, Keyed, StartingAt};
use raftlab_checker::models::kv::KvModel;
use raftlab_checker::models::map::MapModel;
use raftlab_checker::models::mutex::{MutexInput, MutexModel, MutexOutput};
use raftlab_checker::models::register::{RegInput, RegOutput, RegValue, Register};
use raftlab_checker::models::set::{SetModel, SetOutput};
use raftlab_checker::models::txn::{AppendMicro, ListAppend, MultiRegister, RwMicro, TxnOutput};
use raftlab_checker::report::summary;
use raftlab_checker::{
    CheckOptions, CheckResult, Model, Operation, PartitionStatus, Time, Unpruned, Verdict, check,
};
use std::collections::BTreeMap;

/// Whether op `i` may come next: no other pending operation returned before it
/// was called.
fn may_go<I, O>(h: &[Operation<I, O>], done: &[bool], i: usize) -> bool {
    !done[i] && !(0..h.len()).any(|j| !done[j] && j != i && h[j].ret.is_some_and(|r| r < h[i].call))
}

/// The most operations of `h` any order allowed by real time linearizes
/// (`h.len()` when the history is linearizable).
fn brute_longest<M: Model>(model: &M, h: &[Operation<M::Input, M::Output>]) -> usize {
    fn go<M: Model>(
        model: &M,
        h: &[Operation<M::Input, M::Output>],
        done: &mut Vec<bool>,
        depth: usize,
        state: &M::State,
    ) -> usize {
        let mut best = depth;
        for i in 0..h.len() {
            if best == h.len() {
                break;
            }
            if !may_go(h, done, i) {
                continue;
            }
            if let Some(next) = model.step(state, &h[i].input, &h[i].output) {
                done[i] = true;
                best = best.max(go(model, h, done, depth + 1, &next));
                done[i] = false;
            }
        }
        best
    }
    go(model, h, &mut vec![false; h.len()], 0, &model.init())
}

fn brute_ok<M: Model>(model: &M, h: &[Operation<M::Input, M::Output>]) -> bool {
    brute_longest(model, h) == h.len()
}

/// The verdicts of the fast and verbose checks, which must agree.
fn verdict<M: Model>(model: &M, h: &[Operation<M::Input, M::Output>]) -> Verdict {
    let fast = check(model, h, &CheckOptions::new().with_threads(1))
        .unwrap()
        .verdict;
    let verbose = check(model, h, &CheckOptions::verbose().with_threads(1))
        .unwrap()
        .verdict;
    assert_eq!(fast, verbose, "fast and verbose checks disagree");
    fast
}

/// For each illegal partition, the length of the longest linearizable prefix the
/// report names, and whether the report calls it a lower bound.
fn reported_prefixes(r: &CheckResult) -> Vec<(String, usize, bool)> {
    r.partitions
        .iter()
        .filter(|p| p.status == PartitionStatus::Illegal)
        .map(|p| {
            let lin = p.linearizations.as_ref().expect("verbose records");
            let len = lin.longest_overall().map_or(0, |(_, len)| len);
            (p.name.clone(), len, lin.pruned)
        })
        .collect()
}

/// The reported prefixes of the pruned check must be the plain search's, and
/// exact.
fn same_prefix_as_plain<M: Model + Clone>(
    model: &M,
    h: &[Operation<M::Input, M::Output>],
) -> Result<(), TestCaseError> {
    let options = CheckOptions::verbose().with_threads(1);
    let pruned = check(model, h, &options).unwrap();
    let plain = check(&Unpruned(model.clone()), h, &options).unwrap();
    prop_assert_eq!(pruned.verdict, plain.verdict);
    let (a, b) = (reported_prefixes(&pruned), reported_prefixes(&plain));
    prop_assert_eq!(&a, &b);
    prop_assert!(a.iter().all(|(_, _, lower_bound)| !lower_bound));
    Ok(())
}

/// A linearizable history of `n` operations: `pick` chooses a legal operation in
/// each state; the operations take effect 10 apart, each interval around its
/// instant, and some crash (unknown output, never return) after taking effect.
fn linearizable<M: Model>(
    model: &M,
    n: usize,
    rng: &mut Rng,
    crash_percent: u32,
    mut pick: impl FnMut(&mut Rng, &M::State) -> (M::Input, M::Output),
) -> Vec<Operation<M::Input, M::Output>> {
    let mut state = model.init();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (input, output) = pick(rng, &state);
        state = model
            .step(&state, &input, &output)
            .expect("pick chooses a legal operation");
        let point = 10 * i as Time;
        let call = point - rng.below(25) as Time;
        let crashed = rng.percent(crash_percent);
        let output = if crashed {
            model.unknown_output(&input).expect("an unknown output")
        } else {
            output
        };
        out.push(Operation {
            client: i as u64,
            input,
            call,
            output,
            ret: (!crashed).then(|| point + rng.below(25) as Time),
            meta: None,
        });
    }
    out
}

/// A history of `n` operations with random intervals whose operations come from
/// `pick` (whatever their outputs).
fn random<I, O>(
    n: usize,
    rng: &mut Rng,
    mut pick: impl FnMut(&mut Rng) -> (I, O),
) -> Vec<Operation<I, O>> {
    (0..n)
        .map(|i| {
            let (input, output) = pick(rng);
            let call = rng.below(30) as Time;
            Operation {
                client: i as u64,
                input,
                call,
                output,
                ret: Some(call + rng.below(12) as Time),
                meta: None,
            }
        })
        .collect()
}

fn mutex_op(rng: &mut Rng) -> (MutexInput, MutexOutput) {
    let input = if rng.percent(50) {
        MutexInput::Acquire
    } else {
        MutexInput::Release
    };
    let output = if rng.percent(15) {
        MutexOutput::Unknown
    } else {
        MutexOutput::Done
    };
    (input, output)
}

fn reg_value(rng: &mut Rng) -> RegValue {
    match rng.below(3) {
        0 => None,
        v => Some(v.to_string()),
    }
}

fn reg_op(rng: &mut Rng) -> (RegInput, RegOutput) {
    match rng.below(3) {
        0 => (RegInput::Read, RegOutput::Read(reg_value(rng))),
        1 => (RegInput::Write(reg_value(rng)), RegOutput::Done),
        _ => (
            RegInput::Cas {
                from: reg_value(rng),
                to: reg_value(rng),
            },
            RegOutput::Cas(rng.percent(50)),
        ),
    }
}

fn key(rng: &mut Rng, keys: u64) -> String {
    format!(":k{}", rng.below(keys))
}

fn rw_txn(rng: &mut Rng, keys: u64) -> (Vec<RwMicro>, TxnOutput<RegValue>) {
    let len = 1 + rng.below(3);
    let mut txn = Vec::new();
    let mut reads = Vec::new();
    for _ in 0..len {
        if rng.percent(50) {
            txn.push(RwMicro::Read(key(rng, keys)));
            reads.push(reg_value(rng));
        } else {
            txn.push(RwMicro::Write(key(rng, keys), reg_value(rng)));
        }
    }
    let out = if rng.percent(10) {
        TxnOutput::Unknown
    } else {
        TxnOutput::Ok(reads)
    };
    (txn, out)
}

fn append_txn(
    rng: &mut Rng,
    keys: u64,
    next: &mut u64,
) -> (Vec<AppendMicro>, TxnOutput<Vec<String>>) {
    let len = 1 + rng.below(3);
    let mut txn = Vec::new();
    let mut reads = Vec::new();
    for _ in 0..len {
        if rng.percent(50) {
            txn.push(AppendMicro::Read(key(rng, keys)));
            // A plausible list: some prefix of the elements appended so far.
            let upto = rng.below(*next + 1);
            reads.push(
                (0..upto)
                    .filter(|_| rng.percent(70))
                    .map(|x| x.to_string())
                    .collect(),
            );
        } else {
            txn.push(AppendMicro::Append(key(rng, keys), next.to_string()));
            *next += 1;
        }
    }
    let out = if rng.percent(10) {
        TxnOutput::Unknown
    } else {
        TxnOutput::Ok(reads)
    };
    (txn, out)
}

/// A model of every key at once (no partitions), to check [`Independent`]'s
/// partitioning against brute force over the whole history.
#[derive(Clone)]
struct AllKeys<M>(M);

impl<M: Model> Model for AllKeys<M> {
    type State = BTreeMap<String, M::State>;
    type Input = Keyed<M::Input>;
    type Output = M::Output;

    fn init(&self) -> Self::State {
        BTreeMap::new()
    }

    fn step(
        &self,
        state: &Self::State,
        input: &Keyed<M::Input>,
        output: &M::Output,
    ) -> Option<Self::State> {
        let current = state
            .get(&input.key)
            .cloned()
            .unwrap_or_else(|| self.0.init());
        let next = self.0.step(&current, &input.input, output)?;
        let mut state = state.clone();
        state.insert(input.key.clone(), next);
        Some(state)
    }

    fn describe_operation(&self, input: &Keyed<M::Input>, output: &M::Output) -> String {
        self.0.describe_operation(&input.input, output)
    }

    fn describe_state(&self, _state: &Self::State) -> String {
        String::new()
    }
}

fn keyed<I, O>(rng: &mut Rng, keys: u64, (input, output): (I, O)) -> (Keyed<I>, O) {
    (
        Keyed {
            key: rng.below(keys).to_string(),
            input,
        },
        output,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn mutex_agrees_with_brute_force(seed: u64, n in 1usize..8) {
        let mut rng = Rng::new(seed);
        let h = random(n, &mut rng, mutex_op);
        let truth = brute_ok(&MutexModel, &h);
        prop_assert_eq!(verdict(&MutexModel, &h) == Verdict::Ok, truth);
        prop_assert_eq!(verdict(&Unpruned(MutexModel), &h) == Verdict::Ok, truth);
        // Linearizable by construction.
        let h = linearizable(&MutexModel, n * 4, &mut rng, 10, |_, held| {
            let input = if *held { MutexInput::Release } else { MutexInput::Acquire };
            (input, MutexOutput::Done)
        });
        prop_assert_eq!(verdict(&MutexModel, &h), Verdict::Ok);
    }

    #[test]
    fn independent_keys_agree_with_brute_force(seed: u64, n in 1usize..8, keys in 1u64..3) {
        let mut rng = Rng::new(seed);
        let h = random(n, &mut rng, |rng| { let op = reg_op(rng); keyed(rng, keys, op) });
        let truth = brute_ok(&AllKeys(Register), &h);
        prop_assert_eq!(verdict(&Independent(Register), &h) == Verdict::Ok, truth);
        let h = random(n, &mut rng, |rng| { let op = mutex_op(rng); keyed(rng, keys, op) });
        let truth = brute_ok(&AllKeys(MutexModel), &h);
        prop_assert_eq!(verdict(&Independent(MutexModel), &h) == Verdict::Ok, truth);
    }

    #[test]
    fn a_register_with_an_initial_value_agrees_with_brute_force(seed: u64, n in 1usize..8) {
        let mut rng = Rng::new(seed);
        let h = random(n, &mut rng, reg_op);
        let m = StartingAt(Register, Some("1".to_string()));
        prop_assert_eq!(verdict(&m, &h) == Verdict::Ok, brute_ok(&m, &h));
    }

    #[test]
    fn multi_register_agrees_with_brute_force(seed: u64, n in 1usize..7, keys in 1u64..4, zero: bool) {
        let mut rng = Rng::new(seed);
        let h = random(n, &mut rng, |rng| rw_txn(rng, keys));
        let m = MultiRegister { initial: zero.then(|| "0".to_string()) };
        let truth = brute_ok(&m, &h);
        prop_assert_eq!(verdict(&m, &h) == Verdict::Ok, truth);
        prop_assert_eq!(verdict(&Unpruned(m.clone()), &h) == Verdict::Ok, truth);
        let h = linearizable(&m, n * 5, &mut rng, 10, |rng, state| {
            let (txn, _) = rw_txn(rng, keys);
            // The reads this transaction makes from `state`.
            let mut s = state.clone();
            let mut reads = Vec::new();
            for micro in &txn {
                match micro {
                    RwMicro::Read(k) => reads.push(s.get(k).cloned().unwrap_or(m.initial.clone())),
                    RwMicro::Write(k, v) => { s.insert(k.clone(), v.clone()); }
                }
            }
            (txn, TxnOutput::Ok(reads))
        });
        prop_assert_eq!(verdict(&m, &h), Verdict::Ok);
    }

    #[test]
    fn list_append_agrees_with_brute_force(seed: u64, n in 1usize..7, keys in 1u64..4) {
        let mut rng = Rng::new(seed);
        let mut next = 0;
        let h = random(n, &mut rng, |rng| append_txn(rng, keys, &mut next));
        let truth = brute_ok(&ListAppend, &h);
        prop_assert_eq!(verdict(&ListAppend, &h) == Verdict::Ok, truth);
        prop_assert_eq!(verdict(&Unpruned(ListAppend), &h) == Verdict::Ok, truth);
        let mut next = 0;
        let h = linearizable(&ListAppend, n * 5, &mut rng, 10, |rng, state| {
            let (txn, _) = append_txn(rng, keys, &mut next);
            let mut s = state.clone();
            let mut reads = Vec::new();
            for micro in &txn {
                match micro {
                    AppendMicro::Read(k) => reads.push(s.get(k).cloned().unwrap_or_default()),
                    AppendMicro::Append(k, x) => s.entry(k.clone()).or_default().push(x.clone()),
                }
            }
            (txn, TxnOutput::Ok(reads))
        });
        prop_assert_eq!(verdict(&ListAppend, &h), Verdict::Ok);
    }

    /// The report's longest prefix is the plain search's, and brute force's, on
    /// small histories of every model (most of them illegal).
    #[test]
    fn the_reported_prefix_is_the_plain_searchs(seed: u64, n in 1usize..8, keys in 1u64..3) {
        let mut rng = Rng::new(seed);
        let h = random(n, &mut rng, reg_op);
        same_prefix_as_plain(&Register, &h)?;
        if verdict(&Register, &h) == Verdict::Illegal {
            let r = check(&Register, &h, &CheckOptions::verbose()).unwrap();
            prop_assert_eq!(reported_prefixes(&r)[0].1, brute_longest(&Register, &h));
        }
        let h = random(n, &mut rng, mutex_op);
        same_prefix_as_plain(&MutexModel, &h)?;
        let h = random(n, &mut rng, |rng| rw_txn(rng, keys));
        same_prefix_as_plain(&MultiRegister::default(), &h)?;
        let mut next = 0;
        let h = random(n, &mut rng, |rng| append_txn(rng, keys, &mut next));
        same_prefix_as_plain(&ListAppend, &h)?;
        // Key/value and set histories: generated, then reads corrupted.
        let shape = Shape { clients: 3, ops: n * 2, max_gap: 3, max_duration: 12, crash_percent: 5 };
        let mut h = generate::history(&KvModel, &shape, &mut rng, generate::kv_input(keys, 60, 15, false));
        generate::corrupt_kv_read(&mut h, seed as usize);
        same_prefix_as_plain(&KvModel, &h)?;
        // The same history checked whole: the verdict search runs by components.
        same_prefix_as_plain(&MapModel, &h)?;
        let mut h = generate::history(&SetModel, &shape, &mut rng, generate::set_input(3));
        for op in &mut h {
            if let SetOutput::Read(s) = &mut op.output && rng.percent(40) {
                s.insert("9".to_string());
            }
        }
        same_prefix_as_plain(&SetModel, &h)?;
    }
}

/// The sequential history write 1; read -> 1; read -> 7: the doomed pruning sees
/// at once that the read of 7 can never be linearized, but the report names the
/// plain search's longest prefix, 2 of 3, and stops before the read of 7.
#[test]
fn the_report_stops_before_the_impossible_read() {
    let op = |input, output, call| Operation {
        client: 1,
        input,
        call,
        output,
        ret: Some(call + 1),
        meta: None,
    };
    let one = Some("1".to_string());
    let h = vec![
        op(RegInput::Write(one.clone()), RegOutput::Done, 0),
        op(RegInput::Read, RegOutput::Read(one), 2),
        op(RegInput::Read, RegOutput::Read(Some("7".into())), 4),
    ];
    let r = check(&Register, &h, &CheckOptions::verbose()).unwrap();
    assert_eq!(r.verdict, Verdict::Illegal);
    let text = summary(&Register, &h, &r, None);
    assert!(
        text.contains("longest linearizable prefix: 2 of 3 operations, ending in state 1"),
        "{text}"
    );
    assert!(text.contains("its last operation: read() -> 1"), "{text}");
    assert!(
        text.contains("read() -> 7 [client 1, call 4, return 5]: rejected by the model"),
        "{text}"
    );
    assert!(!text.contains("lower bound"), "{text}");
}

/// A failed acquire did not happen (it is dropped by the reader); an unknown one
/// may have: a lock held by a crashed client blocks every later acquire unless
/// the crashed acquire is placed last.
#[test]
fn mutex_histories() {
    let op = |input, output, call, ret| Operation {
        client: 0,
        input,
        call,
        output,
        ret,
        meta: None,
    };
    use MutexInput::{Acquire, Release};
    use MutexOutput::{Done, Unknown};
    let handoff = vec![
        op(Acquire, Done, 0, Some(1)),
        op(Release, Done, 2, Some(3)),
        op(Acquire, Done, 4, Some(5)),
    ];
    assert_eq!(verdict(&MutexModel, &handoff), Verdict::Ok);
    let twice = vec![op(Acquire, Done, 0, Some(1)), op(Acquire, Done, 2, Some(3))];
    assert_eq!(verdict(&MutexModel, &twice), Verdict::Illegal);
    let crashed = vec![op(Acquire, Unknown, 0, None), op(Acquire, Done, 2, Some(3))];
    assert_eq!(verdict(&MutexModel, &crashed), Verdict::Ok);
    let unheld = vec![op(Release, Done, 0, Some(1))];
    assert_eq!(verdict(&MutexModel, &unheld), Verdict::Illegal);
}
