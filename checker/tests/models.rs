//! Hand-made histories with known verdicts, for every model and both input forms.

use raftlab_checker::models::kv::{KvInput, KvModel, KvOp, KvOutput};
use raftlab_checker::models::map::MapModel;
use raftlab_checker::models::register::{RegInput, RegOutput, Register};
use raftlab_checker::models::set::{SetInput, SetModel, SetOutput};
use raftlab_checker::{
    CheckOptions, Event, EventKind, Model, NondeterministicModel, Operation, PartitionStatus,
    PowerSet, Unpruned, Verdict, check, operations_from_events,
};

fn op<I, O>(client: u64, input: I, output: O, call: i64, ret: Option<i64>) -> Operation<I, O> {
    Operation {
        client,
        input,
        call,
        output,
        ret,
        meta: None,
    }
}

fn verdict<M: Model>(model: &M, h: &[Operation<M::Input, M::Output>]) -> Verdict {
    let fast = check(model, h, &CheckOptions::new()).unwrap().verdict;
    let verbose = check(model, h, &CheckOptions::verbose()).unwrap().verdict;
    assert_eq!(fast, verbose, "modes disagree");
    fast
}

fn kv(op: KvOp, key: &str, value: &str) -> KvInput {
    KvInput {
        op,
        key: key.into(),
        value: value.into(),
    }
}

fn out(v: &str) -> KvOutput {
    KvOutput::known(v)
}

#[test]
fn kv_concurrent_appends_and_reads() {
    // Two concurrent appends; a read after both sees them in one order, a
    // concurrent read may see either one alone.
    let h = vec![
        op(1, kv(KvOp::Append, "k", "a"), out(""), 0, Some(10)),
        op(2, kv(KvOp::Append, "k", "b"), out(""), 0, Some(10)),
        op(3, kv(KvOp::Get, "k", ""), out("b"), 5, Some(6)),
        op(3, kv(KvOp::Get, "k", ""), out("ba"), 11, Some(12)),
    ];
    assert_eq!(verdict(&KvModel, &h), Verdict::Ok);
    assert_eq!(verdict(&MapModel, &h), Verdict::Ok);
    let mut bad = h.clone();
    bad[3].output = out("ab"); // contradicts the read of "b"
    assert_eq!(verdict(&KvModel, &bad), Verdict::Illegal);
    assert_eq!(verdict(&MapModel, &bad), Verdict::Illegal);
}

#[test]
fn kv_lab2_append_returns_the_old_value() {
    let h = vec![
        op(1, kv(KvOp::Put, "k", "p"), out(""), 0, Some(1)),
        op(1, kv(KvOp::AppendOld, "k", "x"), out("p"), 2, Some(3)),
        op(2, kv(KvOp::AppendOld, "k", "y"), out("px"), 2, Some(5)),
        op(0, kv(KvOp::Get, "k", ""), out("pxy"), 6, Some(7)),
    ];
    assert_eq!(verdict(&KvModel, &h), Verdict::Ok);
    let mut bad = h.clone();
    bad[2].output = out("p"); // both appends cannot have seen "p"
    assert_eq!(verdict(&KvModel, &bad), Verdict::Illegal);
}

#[test]
fn kv_keys_are_independent_partitions() {
    let h = vec![
        op(1, kv(KvOp::Put, "a", "1"), out(""), 0, Some(1)),
        op(1, kv(KvOp::Get, "b", ""), out(""), 2, Some(3)),
        op(2, kv(KvOp::Get, "a", ""), out(""), 4, Some(5)), // stale: illegal
    ];
    let r = check(&KvModel, &h, &CheckOptions::verbose()).unwrap();
    assert_eq!(r.verdict, Verdict::Illegal);
    let statuses: Vec<_> = r
        .partitions
        .iter()
        .map(|p| (p.name.as_str(), p.status))
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("key 'a'", PartitionStatus::Illegal),
            ("key 'b'", PartitionStatus::Ok)
        ]
    );
    // The whole-map model agrees.
    assert_eq!(verdict(&MapModel, &h), Verdict::Illegal);
}

#[test]
fn kv_crashed_operations_may_or_may_not_happen() {
    // A put that never returned: later reads may see it or not, but not both ways
    // round (once seen, it stays).
    let h = vec![
        op(1, kv(KvOp::Put, "k", "z"), KvOutput::unknown(), 0, None),
        op(2, kv(KvOp::Get, "k", ""), out(""), 5, Some(6)),
        op(2, kv(KvOp::Get, "k", ""), out("z"), 7, Some(8)),
    ];
    assert_eq!(verdict(&KvModel, &h), Verdict::Ok);
    let never = vec![h[0].clone(), h[1].clone()];
    assert_eq!(
        verdict(&KvModel, &never),
        Verdict::Ok,
        "it may never happen"
    );
    let mut flip = h.clone();
    flip.push(op(2, kv(KvOp::Get, "k", ""), out(""), 9, Some(10)));
    assert_eq!(verdict(&KvModel, &flip), Verdict::Illegal);
}

#[test]
fn zero_duration_operations() {
    // Point operations at the same instant are concurrent (closed intervals).
    let h = vec![
        op(1, kv(KvOp::Put, "k", "a"), out(""), 5, Some(5)),
        op(2, kv(KvOp::Get, "k", ""), out(""), 5, Some(5)),
        op(3, kv(KvOp::Get, "k", ""), out("a"), 6, Some(6)),
    ];
    assert_eq!(verdict(&KvModel, &h), Verdict::Ok);
    // Moving the read of '' to just after the read of 'a' makes it stale.
    let mut bad = h.clone();
    bad[1].call = 7;
    bad[1].ret = Some(7);
    assert_eq!(
        verdict(&KvModel, &bad),
        Verdict::Illegal,
        "a read of '' after 'a' was seen"
    );
}

#[test]
fn register_with_cas_and_crashes() {
    let s = |v: &str| Some(v.to_string());
    let h = vec![
        op(1, RegInput::Write(s("1")), RegOutput::Done, 0, Some(2)),
        op(
            2,
            RegInput::Cas {
                from: s("1"),
                to: s("4"),
            },
            RegOutput::Cas(true),
            3,
            Some(5),
        ),
        op(
            3,
            RegInput::Cas {
                from: s("1"),
                to: s("9"),
            },
            RegOutput::Unknown,
            3,
            None,
        ),
        op(4, RegInput::Read, RegOutput::Read(s("4")), 6, Some(7)),
        op(
            5,
            RegInput::Cas {
                from: s("1"),
                to: s("2"),
            },
            RegOutput::Cas(false),
            8,
            Some(9),
        ),
        op(6, RegInput::Read, RegOutput::Unknown, 8, Some(12)),
    ];
    assert_eq!(verdict(&Register, &h), Verdict::Ok);
    let mut bad = h.clone();
    bad[4].output = RegOutput::Cas(true); // the value is 4 by then
    assert_eq!(verdict(&Register, &bad), Verdict::Illegal);
    let mut absent = h.clone();
    absent[3].output = RegOutput::Read(None);
    assert_eq!(verdict(&Register, &absent), Verdict::Illegal);
    let first_read_absent = vec![op(1, RegInput::Read, RegOutput::Read(None), 0, Some(1))];
    assert_eq!(
        verdict(&Register, &first_read_absent),
        Verdict::Ok,
        "the initial value is absent"
    );
}

#[test]
fn set_model() {
    let read = |items: &[&str]| SetOutput::Read(items.iter().map(|s| s.to_string()).collect());
    let h = vec![
        op(1, SetInput::Add("a".into()), SetOutput::Done, 0, Some(3)),
        op(
            2,
            SetInput::Contains("a".into()),
            SetOutput::Contains(false),
            1,
            Some(2),
        ),
        op(2, SetInput::Read, read(&["a"]), 4, Some(5)),
        op(3, SetInput::Remove("a".into()), SetOutput::Done, 6, Some(9)),
        op(
            2,
            SetInput::Contains("a".into()),
            SetOutput::Contains(true),
            7,
            Some(8),
        ),
        op(2, SetInput::Read, read(&[]), 10, Some(11)),
    ];
    assert_eq!(verdict(&SetModel, &h), Verdict::Ok);
    let mut bad = h.clone();
    bad[5].output = read(&["a"]);
    assert_eq!(verdict(&SetModel, &bad), Verdict::Illegal);
}

#[test]
fn event_histories_check_like_operation_histories() {
    // call w1, call r, return w1, return r -> "1", call r2, return r2 -> absent
    let ev = |id, kind| Event {
        client: id,
        id,
        kind,
        meta: None,
    };
    let s = |v: &str| Some(v.to_string());
    let events = vec![
        ev(1, EventKind::Call(RegInput::Write(s("1")))),
        ev(2, EventKind::Call(RegInput::Read)),
        ev(1, EventKind::Return(RegOutput::Done)),
        ev(2, EventKind::Return(RegOutput::Read(s("1")))),
        ev(3, EventKind::Call(RegInput::Read)),
        ev(3, EventKind::Return(RegOutput::Read(None))),
    ];
    let ops = operations_from_events(events.clone(), |i| Register.unknown_output(i)).unwrap();
    assert_eq!(verdict(&Register, &ops), Verdict::Illegal);
    let mut fixed = events;
    fixed[5] = ev(3, EventKind::Return(RegOutput::Read(s("1"))));
    let ops = operations_from_events(fixed, |i| Register.unknown_output(i)).unwrap();
    assert_eq!(verdict(&Register, &ops), Verdict::Ok);
}

/// A register whose writes may be lost: a nondeterministic model.
struct LossyRegister;

impl NondeterministicModel for LossyRegister {
    type State = u8;
    type Input = Option<u8>; // Some(v): write v; None: read
    type Output = u8; // the value read (ignored for writes)

    fn init(&self) -> Vec<u8> {
        vec![0]
    }

    fn step(&self, state: &u8, input: &Option<u8>, output: &u8) -> Vec<u8> {
        match input {
            Some(v) => vec![*state, *v],
            None if output == state => vec![*state],
            None => vec![],
        }
    }

    fn describe_operation(&self, input: &Option<u8>, output: &u8) -> String {
        format!("{input:?} -> {output}")
    }

    fn describe_state(&self, state: &u8) -> String {
        state.to_string()
    }
}

#[test]
fn power_set_adapter_checks_a_nondeterministic_model() {
    let h = vec![
        op(1, Some(5), 0, 0, Some(1)),
        op(2, None, 0, 2, Some(3)), // the write was lost
        op(1, Some(6), 0, 4, Some(5)),
        op(2, None, 6, 6, Some(7)),
    ];
    assert_eq!(verdict(&PowerSet(LossyRegister), &h), Verdict::Ok);
    let mut bad = h.clone();
    bad[3].output = 5; // 5 was overwritten or lost, and 6 was written after
    assert_eq!(verdict(&PowerSet(LossyRegister), &bad), Verdict::Illegal);
    assert_eq!(
        PowerSet(LossyRegister).describe_state(&vec![0, 5]),
        "{0, 5}"
    );
}

#[test]
fn malformed_histories_are_errors_not_panics() {
    let h = vec![op(1, kv(KvOp::Get, "k", ""), out(""), 5, Some(4))];
    let e = check(&KvModel, &h, &CheckOptions::new()).unwrap_err();
    assert_eq!(e.index, 0);
    assert!(e.reason.contains("before its call"), "{e}");
    let empty: Vec<Operation<KvInput, KvOutput>> = Vec::new();
    assert_eq!(
        check(&KvModel, &empty, &CheckOptions::new())
            .unwrap()
            .verdict,
        Verdict::Ok
    );
}

/// Key 'a' has eight concurrent blind appends (8! orders, none of them observed);
/// key 'b' has a put, nine reads that see it, and a stale read after them. The
/// history is illegal because of 'b' alone.
fn a_free_b_stale() -> Vec<Operation<KvInput, KvOutput>> {
    let mut h = Vec::new();
    for c in 0..8 {
        let v = format!("<{c}>");
        h.push(op(c, kv(KvOp::Append, "a", &v), out(""), 0, Some(100)));
    }
    h.push(op(8, kv(KvOp::Put, "b", "1"), out(""), 0, Some(1)));
    for i in 0..9 {
        h.push(op(
            8,
            kv(KvOp::Get, "b", ""),
            out("1"),
            110 + 2 * i,
            Some(111 + 2 * i),
        ));
    }
    h.push(op(8, kv(KvOp::Get, "b", ""), out(""), 200, Some(201)));
    h
}

#[test]
fn the_whole_map_search_blames_the_key_at_fault_and_skips_the_others_alternatives() {
    let h = a_free_b_stale();
    for options in [CheckOptions::new(), CheckOptions::verbose()] {
        let r = check(&MapModel, &h, &options).unwrap();
        assert_eq!(r.verdict, Verdict::Illegal);
        assert_eq!(
            r.partitions.len(),
            1,
            "the map model checks the history whole"
        );
        // Blaming 'b' backjumps over the moves of 'a' to the put of 'b': no order of
        // the appends is tried a second time.
        let configurations = r.partitions[0].stats.configurations;
        assert!(configurations < 100, "{configurations} configurations");
    }
    // The plain search of the whole history agrees, after trying every order of 'a'.
    let plain = check(&Unpruned(MapModel), &h, &CheckOptions::new()).unwrap();
    assert_eq!(plain.verdict, Verdict::Illegal);
    assert!(plain.partitions[0].stats.configurations > 40_000);
    // Without the stale read it is linearizable.
    let mut fine = h.clone();
    fine.pop();
    assert_eq!(verdict(&MapModel, &fine), Verdict::Ok);
}
