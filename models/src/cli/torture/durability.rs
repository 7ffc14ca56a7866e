//! Durability: after the cluster is healed and every key read, is every acknowledged
//! write still there?
//!
//! A write `w` that returned ok (a put or an append of a unique value) must show in
//! its key's final value, unless a put could have overwritten it since: a put `p`
//! (another operation) that may take effect after `w` did, that is, one that did not
//! return before `w` was called (it returned later, or never returned: its outcome is
//! unknown). If no such put exists, every operation that could change the key after
//! `w` is an append, so the final value must contain `w`'s value (an append) or start
//! with it (a put). A write that breaks this was acknowledged and lost.
//!
//! This is weaker than the linearizability check, which also sees the reads during
//! the run (and the final reads are in the history it checks); its point is to name
//! lost writes one by one, and to hold even where the check runs out of time.

use std::collections::BTreeMap;

use raftlab_checker::kv::{KvOp, KvOperation};

/// The acknowledged writes of `history` that are missing from `finals` (the value of
/// each key read after healing), as indices into `history`. Keys without a final
/// value are not judged. `history` holds the operations that may have taken effect
/// (ok ones, and unknown ones with no return).
pub fn lost(history: &[KvOperation], finals: &BTreeMap<String, String>) -> Vec<usize> {
    // Per key, the two latest "ends" of puts (a return stamp, or i64::MAX for a put
    // that never returned), with the put's index: enough to ask whether some put
    // other than `w` ends after `w` begins.
    let mut latest: BTreeMap<&str, [(i64, usize); 2]> = BTreeMap::new();
    for (i, op) in history.iter().enumerate() {
        if op.input.op != KvOp::Put {
            continue;
        }
        let end = op.ret.unwrap_or(i64::MAX);
        let top = latest
            .entry(op.input.key.as_str())
            .or_insert([(i64::MIN, usize::MAX); 2]);
        if end > top[0].0 {
            top[1] = top[0];
            top[0] = (end, i);
        } else if end > top[1].0 {
            top[1] = (end, i);
        }
    }
    let mut missing = Vec::new();
    for (i, w) in history.iter().enumerate() {
        if w.ret.is_none() || !matches!(w.input.op, KvOp::Put | KvOp::Append) {
            continue;
        }
        let Some(fin) = finals.get(&w.input.key) else {
            continue;
        };
        let overwritable = latest.get(w.input.key.as_str()).is_some_and(|top| {
            let other = if top[0].1 == i { top[1] } else { top[0] };
            other.1 != usize::MAX && other.0 > w.call
        });
        if overwritable {
            continue;
        }
        let present = match w.input.op {
            KvOp::Put => fin.starts_with(&w.input.value),
            _ => fin.contains(&w.input.value),
        };
        if !present {
            missing.push(i);
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;
    use raftlab_checker::kv::KvOperation;

    fn done(op: KvOp, key: &str, value: &str, call: i64, ret: i64) -> KvOperation {
        KvOperation::new(0, op, key, value, "", call as u64, ret as u64)
    }

    fn open(op: KvOp, key: &str, value: &str, call: i64) -> KvOperation {
        KvOperation::unfinished(0, op, key, value, call as u64)
    }

    fn finals(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn acknowledged_writes_must_be_in_the_final_value_unless_a_put_may_follow() {
        let h = vec![
            done(KvOp::Put, "a", "<p1>", 0, 10),
            done(KvOp::Append, "a", "<x1>", 11, 20),
            done(KvOp::Append, "a", "<x2>", 15, 25),
            done(KvOp::Append, "b", "<y1>", 0, 5),
        ];
        assert_eq!(
            lost(&h, &finals(&[("a", "<p1><x2><x1>"), ("b", "<y1>")])),
            Vec::<usize>::new()
        );
        assert_eq!(
            lost(&h, &finals(&[("a", "<p1><x2>"), ("b", "")])),
            vec![1, 3],
            "the append of <x1> and the one of <y1> are gone"
        );
        assert_eq!(
            lost(&h, &finals(&[("a", "<x1><x2>")])),
            vec![0],
            "the put must start the value; b is not judged without a final value"
        );
    }

    #[test]
    fn a_put_that_may_come_later_excuses_what_it_could_overwrite() {
        let h = vec![
            done(KvOp::Append, "a", "<x1>", 0, 10),
            // Concurrent with the append: it may have come after it.
            done(KvOp::Put, "a", "<p1>", 5, 30),
            done(KvOp::Append, "a", "<x2>", 31, 40),
        ];
        assert_eq!(lost(&h, &finals(&[("a", "<p1><x2>")])), Vec::<usize>::new());
        assert_eq!(
            lost(&h, &finals(&[("a", "<p1>")])),
            vec![2],
            "nothing could overwrite <x2>"
        );
        assert_eq!(
            lost(&h, &finals(&[("a", "<x1><x2>")])),
            vec![1],
            "no other put may follow the put: it must start the value"
        );
        // A put whose outcome is unknown may have happened at any time after its call.
        let h = vec![
            done(KvOp::Append, "a", "<x1>", 0, 10),
            open(KvOp::Put, "a", "<p9>", 50),
            done(KvOp::Append, "a", "<x2>", 60, 70),
        ];
        assert_eq!(lost(&h, &finals(&[("a", "<p9>")])), Vec::<usize>::new());
        // A put that returned before the write was called cannot overwrite it.
        let h = vec![
            done(KvOp::Put, "a", "<p1>", 0, 10),
            done(KvOp::Put, "a", "<p2>", 20, 30),
        ];
        assert_eq!(lost(&h, &finals(&[("a", "<p1>")])), vec![1]);
        assert_eq!(lost(&h, &finals(&[("a", "<p2>")])), Vec::<usize>::new());
    }

    #[test]
    fn unknown_writes_and_reads_are_never_lost() {
        let h = vec![
            open(KvOp::Append, "a", "<x1>", 0),
            done(KvOp::Get, "a", "", 5, 6),
        ];
        assert_eq!(lost(&h, &finals(&[("a", "")])), Vec::<usize>::new());
    }
}
