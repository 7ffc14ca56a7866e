//! Property tests: generated linearizable histories are Ok, a corrupted read is
//! Illegal, the search agrees with brute force on tiny histories, the verdict
//! does not depend on partition order or thread count, and the search of a whole
//! multi-key history by components (the map model) agrees with the per-key
//! partitions and with the plain search, and returns a real linearization.

use proptest::prelude::*;
use raftlab_checker::generate::{self, Rng, Shape};
use raftlab_checker::models::kv::{KvInput, KvModel, KvOp, KvOutput};
use raftlab_checker::models::map::MapModel;
use raftlab_checker::models::register::{RegInput, RegOutput, Register};
use raftlab_checker::models::set::{SetModel, SetOutput};
use raftlab_checker::models::value::Value;
use raftlab_checker::{
    CheckOptions, Model, Operation, Partition, PartitionStatus, Unpruned, Verdict, check,
};

fn shape(clients: usize, ops: usize, crash_percent: u32) -> Shape {
    Shape {
        clients,
        ops,
        max_gap: 5,
        max_duration: 12,
        crash_percent,
    }
}

fn ok<M: Model>(model: &M, h: &[Operation<M::Input, M::Output>]) -> bool {
    check(model, h, &CheckOptions::verbose()).unwrap().verdict == Verdict::Ok
}

/// The real-time order allows `a` before `b` unless `b` returned before `a` was called.
fn brute_force<M: Model>(model: &M, h: &[Operation<M::Input, M::Output>]) -> bool {
    fn go<M: Model>(
        model: &M,
        h: &[Operation<M::Input, M::Output>],
        done: &mut Vec<bool>,
        state: &M::State,
    ) -> bool {
        if done.iter().all(|&d| d) {
            return true;
        }
        for i in 0..h.len() {
            if done[i] {
                continue;
            }
            // i can go next only if no pending op returned before i was called.
            let blocked =
                (0..h.len()).any(|j| !done[j] && j != i && h[j].ret.is_some_and(|r| r < h[i].call));
            if blocked {
                continue;
            }
            if let Some(next) = model.step(state, &h[i].input, &h[i].output) {
                done[i] = true;
                if go(model, h, done, &next) {
                    return true;
                }
                done[i] = false;
            }
        }
        false
    }
    go(model, h, &mut vec![false; h.len()], &model.init())
}

/// Whether `order` (history indices) is a linearization of all of `h`: every
/// operation once, the model accepts each step, and no operation comes after one
/// that was called after it returned.
fn is_linearization<M: Model>(
    model: &M,
    h: &[Operation<M::Input, M::Output>],
    order: &[usize],
) -> bool {
    let mut seen = vec![false; h.len()];
    let mut state = model.init();
    for (pos, &i) in order.iter().enumerate() {
        if std::mem::replace(&mut seen[i], true) {
            return false;
        }
        let Some(next) = model.step(&state, &h[i].input, &h[i].output) else {
            return false;
        };
        state = next;
        if order[..pos]
            .iter()
            .any(|&j| h[i].ret.is_some_and(|r| r < h[j].call))
        {
            return false;
        }
    }
    seen.iter().all(|&s| s)
}

/// The key/value model with its partitions handed out in a shuffled order.
struct Shuffled(u64);

impl Model for Shuffled {
    type State = Value;
    type Input = KvInput;
    type Output = KvOutput;
    fn init(&self) -> Value {
        KvModel.init()
    }
    fn step(&self, s: &Value, i: &KvInput, o: &KvOutput) -> Option<Value> {
        KvModel.step(s, i, o)
    }
    fn partition(&self, h: &[Operation<KvInput, KvOutput>]) -> Vec<Partition> {
        let mut parts = KvModel.partition(h);
        let mut rng = Rng::new(self.0);
        for i in (1..parts.len()).rev() {
            parts.swap(i, rng.below(i as u64 + 1) as usize);
        }
        parts
    }
    fn is_read_only(&self, i: &KvInput, o: &KvOutput) -> bool {
        KvModel.is_read_only(i, o)
    }
    fn describe_operation(&self, i: &KvInput, o: &KvOutput) -> String {
        KvModel.describe_operation(i, o)
    }
    fn describe_state(&self, s: &Value) -> String {
        KvModel.describe_state(s)
    }
}

/// Gives some of the completed reads (gets, Lab 2 appends) the output of another
/// read, or a prefix of it: values that are plausible, so that the history is
/// sometimes still linearizable and sometimes not.
fn shuffle_reads(h: &mut [Operation<KvInput, KvOutput>], rng: &mut Rng, percent: u32) {
    let outputs: Vec<String> = h.iter().filter_map(|o| o.output.value.clone()).collect();
    if outputs.is_empty() {
        return;
    }
    for op in h.iter_mut() {
        if op.ret.is_some()
            && matches!(op.input.op, KvOp::Get | KvOp::AppendOld)
            && rng.percent(percent)
        {
            let v = &outputs[rng.below(outputs.len() as u64) as usize];
            let cut = rng.below(v.len() as u64 + 1) as usize;
            let cut = (0..=cut)
                .rev()
                .find(|&c| v.is_char_boundary(c))
                .unwrap_or(0);
            op.output = KvOutput::known(&v[..cut]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn sequential_and_concurrent_kv_histories_are_ok(seed: u64, clients in 1usize..6, n in 0usize..60, lab2: bool) {
        let mut rng = Rng::new(seed);
        let h = generate::history(&KvModel, &shape(clients, n, 0), &mut rng, generate::kv_input(3, 50, 10, lab2));
        prop_assert!(ok(&KvModel, &h));
        prop_assert!(ok(&MapModel, &h));
    }

    #[test]
    fn register_and_set_histories_with_crashes_are_ok(seed: u64, clients in 1usize..6, n in 0usize..60) {
        let mut rng = Rng::new(seed);
        let h = generate::history(&Register, &shape(clients, n, 15), &mut rng, generate::register_input(3));
        prop_assert!(ok(&Register, &h));
        let h = generate::history(&SetModel, &shape(clients, n, 15), &mut rng, generate::set_input(3));
        prop_assert!(ok(&SetModel, &h));
    }

    #[test]
    fn a_corrupted_read_is_illegal(seed: u64, clients in 1usize..6, n in 1usize..60, which: usize) {
        let mut rng = Rng::new(seed);
        let mut h = generate::history(&KvModel, &shape(clients, n, 0), &mut rng, generate::kv_input(3, 50, 10, false));
        if generate::corrupt_kv_read(&mut h, which) {
            let r = check(&KvModel, &h, &CheckOptions::new()).unwrap();
            prop_assert_eq!(r.verdict, Verdict::Illegal);
            prop_assert!(!ok(&MapModel, &h));
        }
    }

    #[test]
    fn search_agrees_with_brute_force_on_tiny_register_histories(seed: u64, n in 1usize..7) {
        // Random outputs, so both verdicts occur.
        let mut rng = Rng::new(seed);
        let mut h = generate::history(&Register, &shape(3, n, 20), &mut rng, generate::register_input(2));
        for op in &mut h {
            if op.ret.is_some() && rng.percent(30) {
                op.output = match op.input {
                    RegInput::Read => RegOutput::Read(Some(rng.below(2).to_string())),
                    RegInput::Cas { .. } => RegOutput::Cas(rng.percent(50)),
                    RegInput::Write(_) => RegOutput::Done,
                };
            }
        }
        prop_assert_eq!(ok(&Register, &h), brute_force(&Register, &h));
        let fast = check(&Register, &h, &CheckOptions::new()).unwrap().verdict == Verdict::Ok;
        prop_assert_eq!(fast, brute_force(&Register, &h));
    }

    #[test]
    fn verdict_does_not_depend_on_partition_order_or_threads(seed: u64, order: u64, n in 1usize..80, corrupt: bool) {
        let mut rng = Rng::new(seed);
        let mut h = generate::history(&KvModel, &shape(4, n, 5), &mut rng, generate::kv_input(5, 50, 10, false));
        if corrupt {
            generate::corrupt_kv_read(&mut h, seed as usize);
        }
        let summary = |r: raftlab_checker::CheckResult| {
            let mut parts: Vec<(String, PartitionStatus)> = r.partitions.into_iter().map(|p| (p.name, p.status)).collect();
            parts.sort();
            (r.verdict, parts)
        };
        let base = summary(check(&KvModel, &h, &CheckOptions::verbose().with_threads(1)).unwrap());
        let shuffled = summary(check(&Shuffled(order), &h, &CheckOptions::verbose().with_threads(2)).unwrap());
        prop_assert_eq!(&base, &shuffled);
        let fast = check(&Shuffled(order), &h, &CheckOptions::new().with_threads(2)).unwrap();
        prop_assert_eq!(fast.verdict, base.0);
    }
    #[test]
    fn kv_search_agrees_with_brute_force_on_tiny_histories(seed: u64, n in 1usize..8, keys in 1u64..3, lab2: bool, crash in 0u32..30) {
        let mut rng = Rng::new(seed);
        let mut h = generate::history(&KvModel, &shape(3, n, crash), &mut rng, generate::kv_input(keys, 55, 15, lab2));
        shuffle_reads(&mut h, &mut rng, 40);
        let truth = brute_force(&MapModel, &h);
        prop_assert_eq!(ok(&KvModel, &h), truth);
        let fast = check(&KvModel, &h, &CheckOptions::new()).unwrap().verdict == Verdict::Ok;
        prop_assert_eq!(fast, truth);
    }

    #[test]
    fn pruned_and_plain_searches_agree_on_crowded_kv_histories(seed: u64, clients in 2usize..9, n in 1usize..100, keys in 1u64..3, lab2: bool, crash in 0u32..10, percent in 0u32..15) {
        let mut rng = Rng::new(seed);
        let shape = Shape { clients, ops: n, max_gap: 3, max_duration: 20, crash_percent: crash };
        let mut h = generate::history(&KvModel, &shape, &mut rng, generate::kv_input(keys, 55, 15, lab2));
        shuffle_reads(&mut h, &mut rng, percent);
        let pruned = check(&KvModel, &h, &CheckOptions::new().with_threads(1)).unwrap();
        prop_assert_ne!(pruned.verdict, Verdict::Unknown);
        // The plain search can take exponential time here: compare when it ends.
        let budget = CheckOptions::new().with_threads(1).with_timeout(std::time::Duration::from_secs(1));
        let plain = check(&Unpruned(KvModel), &h, &budget).unwrap();
        if plain.verdict != Verdict::Unknown {
            prop_assert_eq!(pruned.verdict, plain.verdict);
        }
        if percent == 0 {
            prop_assert_eq!(pruned.verdict, Verdict::Ok);
        }
    }
    #[test]
    fn pruned_and_plain_searches_agree_on_crowded_register_and_set_histories(seed: u64, clients in 2usize..9, n in 1usize..80, crash in 0u32..15, percent in 0u32..15) {
        let mut rng = Rng::new(seed);
        let shape = Shape { clients, ops: n, max_gap: 3, max_duration: 20, crash_percent: crash };
        let budget = CheckOptions::new().with_threads(1).with_timeout(std::time::Duration::from_secs(1));
        let mut h = generate::history(&Register, &shape, &mut rng, generate::register_input(3));
        for op in &mut h {
            if matches!(op.output, RegOutput::Read(_)) && rng.percent(percent) {
                op.output = RegOutput::Read(Some(rng.below(3).to_string()));
            }
        }
        let pruned = check(&Register, &h, &CheckOptions::new().with_threads(1)).unwrap();
        let plain = check(&Unpruned(Register), &h, &budget).unwrap();
        prop_assert_ne!(pruned.verdict, Verdict::Unknown);
        if plain.verdict != Verdict::Unknown {
            prop_assert_eq!(pruned.verdict, plain.verdict);
        }
        let mut h = generate::history(&SetModel, &shape, &mut rng, generate::set_input(3));
        for op in &mut h {
            match &mut op.output {
                SetOutput::Contains(b) if rng.percent(percent) => *b = !*b,
                SetOutput::Read(s) if rng.percent(percent) => {
                    let x = rng.below(3).to_string();
                    if !s.remove(&x) {
                        s.insert(x);
                    }
                }
                _ => {}
            }
        }
        let pruned = check(&SetModel, &h, &CheckOptions::new().with_threads(1)).unwrap();
        let plain = check(&Unpruned(SetModel), &h, &budget).unwrap();
        prop_assert_ne!(pruned.verdict, Verdict::Unknown);
        if plain.verdict != Verdict::Unknown {
            prop_assert_eq!(pruned.verdict, plain.verdict);
        }
    }

    #[test]
    fn component_search_agrees_with_brute_force_on_tiny_multi_key_histories(seed: u64, n in 1usize..8, keys in 2u64..4, lab2: bool, crash in 0u32..30, puts in 0u32..30) {
        let mut rng = Rng::new(seed);
        let mut h = generate::history(&MapModel, &shape(3, n, crash), &mut rng, generate::kv_input(keys, 50, puts, lab2));
        shuffle_reads(&mut h, &mut rng, 40);
        let truth = brute_force(&MapModel, &h);
        prop_assert_eq!(ok(&MapModel, &h), truth);
        let fast = check(&MapModel, &h, &CheckOptions::new()).unwrap();
        prop_assert_eq!(fast.verdict == Verdict::Ok, truth);
        if truth {
            let order = fast.partitions[0].linearization.clone().unwrap();
            prop_assert!(is_linearization(&MapModel, &h, &order));
        }
    }

    #[test]
    fn component_search_agrees_with_partitions_and_plain_search_on_crowded_histories(seed: u64, clients in 2usize..12, n in 1usize..160, keys in 2u64..6, lab2: bool, crash in 0u32..10, puts in 0u32..25, percent in 0u32..12) {
        let mut rng = Rng::new(seed);
        let shape = Shape { clients, ops: n, max_gap: 3, max_duration: 20, crash_percent: crash };
        let mut h = generate::history(&MapModel, &shape, &mut rng, generate::kv_input(keys, 50, puts, lab2));
        shuffle_reads(&mut h, &mut rng, percent);
        let one = CheckOptions::new().with_threads(1);
        let whole = check(&MapModel, &h, &one).unwrap();
        let parts = check(&KvModel, &h, &one).unwrap();
        prop_assert_ne!(whole.verdict, Verdict::Unknown);
        prop_assert_eq!(whole.verdict, parts.verdict);
        let verbose = check(&MapModel, &h, &CheckOptions::verbose().with_threads(1)).unwrap();
        prop_assert_eq!(verbose.verdict, whole.verdict);
        if whole.verdict == Verdict::Ok {
            let order = whole.partitions[0].linearization.clone().unwrap();
            prop_assert!(is_linearization(&MapModel, &h, &order));
        }
        if percent == 0 {
            prop_assert_eq!(whole.verdict, Verdict::Ok);
        }
        // The plain search of the whole history (no components, no prunings) can
        // take exponential time: compare when it ends.
        let budget = one.with_timeout(std::time::Duration::from_millis(300));
        let plain = check(&Unpruned(MapModel), &h, &budget).unwrap();
        if plain.verdict != Verdict::Unknown {
            prop_assert_eq!(whole.verdict, plain.verdict);
        }
    }
}

/// The verdict and, for an illegal history, the reported longest prefix (its
/// length, and whether it is only a lower bound) of the whole-map check.
fn verdict_and_prefix<M: Model>(
    model: &M,
    h: &[Operation<M::Input, M::Output>],
) -> (Verdict, Option<(usize, bool)>) {
    let r = check(model, h, &CheckOptions::verbose().with_threads(1)).unwrap();
    let prefix = r
        .partitions
        .iter()
        .find(|p| p.status == PartitionStatus::Illegal)
        .map(|p| {
            let lin = p.linearizations.as_ref().expect("verbose records");
            (lin.longest_overall().map_or(0, |(_, len)| len), lin.pruned)
        });
    (r.verdict, prefix)
}

/// A small multi-key history with some reads given another read's value: `n`
/// operations of 3 or 4 clients over `keys` keys.
fn small_multi_key(seed: u64, n: usize, keys: u64) -> Vec<Operation<KvInput, KvOutput>> {
    let mut rng = Rng::new(seed);
    let crash = rng.below(15) as u32;
    let puts = rng.below(30) as u32;
    let lab2 = rng.percent(30);
    let clients = 3 + rng.below(2) as usize;
    let mut h = generate::history(
        &MapModel,
        &shape(clients, n, crash),
        &mut rng,
        generate::kv_input(keys, 50, puts, lab2),
    );
    shuffle_reads(&mut h, &mut rng, 35);
    h
}

/// The search by components (the map model checks a multi-key history whole) gives
/// the plain search's verdict and reports the plain search's longest prefix, exactly,
/// on 400 small histories of 2 to 4 keys, of which many are illegal and many not.
#[test]
fn component_search_reports_the_plain_searchs_verdict_and_prefix() {
    let mut counts = [0usize; 2];
    for seed in 0..400u64 {
        let h = small_multi_key(seed, 6 + (seed % 13) as usize, 2 + seed % 3);
        let by_components = verdict_and_prefix(&MapModel, &h);
        let plain = verdict_and_prefix(&Unpruned(MapModel), &h);
        assert_eq!(by_components, plain, "seed {seed}: {h:?}");
        assert_ne!(by_components.0, Verdict::Unknown);
        if let Some((_, lower_bound)) = by_components.1 {
            assert!(
                !lower_bound,
                "seed {seed}: the report's search ran to its end"
            );
        }
        counts[usize::from(by_components.0 == Verdict::Illegal)] += 1;
    }
    assert!(counts.iter().all(|&c| c >= 100), "Ok, Illegal: {counts:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn component_search_reports_the_plain_searchs_verdict_and_prefix_on_random_histories(seed: u64, n in 1usize..20, keys in 2u64..6) {
        let h = small_multi_key(seed, n, keys);
        prop_assert_eq!(verdict_and_prefix(&MapModel, &h), verdict_and_prefix(&Unpruned(MapModel), &h));
        let fast = check(&MapModel, &h, &CheckOptions::new()).unwrap().verdict;
        prop_assert_eq!(fast, verdict_and_prefix(&MapModel, &h).0);
    }
}
