//! The key/value operations over the whole map, with no partitioning.
//!
//! Same steps as [`super::kv::KvModel`], but the state is every key's value (a
//! [`MapState`]; absent keys read as the empty string) and the history is checked as
//! one partition: one linearization of every operation against the whole map. Useful
//! to cross-check the per-key partitioning, and as the model of a history whose keys
//! are not to be trusted to be independent.
//!
//! The map is a product of independent keys, and the model says so
//! ([`Model::component`]: an operation's key), so the search of the whole history
//! runs by components (see the `search` module): it stays one search over the whole
//! map, but memoizes dead ends per key, backjumps over the moves of keys that are
//! not to blame, and prunes per key with the key/value model's hooks applied to the
//! key's own value. A key's *component state* is the map holding only that key (its
//! value, if not empty): `resets_to` of a put of `v` to `k` is the map `{k: v}`, and
//! `may_extend_to` looks only at the operation's key, so both hold of component
//! states; `extends` and `always_accepts` are those of the key/value model, true of
//! any state (a map grows in the product of the keys' prefix orders).

use super::kv::{KvInput, KvOp, KvOutput, describe};
use super::quote;
use super::value::Value;
use crate::hash::{hash_one, mix};
use crate::model::Model;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// The state of the whole map: each key with a non-empty value, in key order. The
/// values share their prefixes with the states they grew from ([`Value`]), and the
/// map keeps a hash of its entries up to date, so a step copies one pointer per key
/// and hashing is O(1).
#[derive(Clone, Debug, Default)]
pub struct MapState {
    entries: Vec<(Arc<str>, Value)>,
    /// The wrapping sum of the entries' hashes.
    hash: u64,
}

fn entry_hash(key: &str, value: &Value) -> u64 {
    mix(hash_one(key) ^ hash_one(value).rotate_left(29))
}

impl MapState {
    /// The empty map.
    pub fn new() -> MapState {
        MapState::default()
    }

    /// The value of `key` (the empty value if absent).
    pub fn get(&self, key: &str) -> Value {
        match self.entries.binary_search_by(|(k, _)| (**k).cmp(key)) {
            Ok(i) => self.entries[i].1.clone(),
            Err(_) => Value::new(),
        }
    }

    /// The keys with a non-empty value and their values, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.entries.iter().map(|(k, v)| (&**k, v))
    }

    /// This map with `key` set to `value` (removed if `value` is empty).
    pub fn with(&self, key: &str, value: Value) -> MapState {
        let mut next = self.clone();
        match next.entries.binary_search_by(|(k, _)| (**k).cmp(key)) {
            Ok(i) => {
                next.hash = next.hash.wrapping_sub(entry_hash(key, &next.entries[i].1));
                if value.is_empty() {
                    next.entries.remove(i);
                } else {
                    next.hash = next.hash.wrapping_add(entry_hash(key, &value));
                    next.entries[i].1 = value;
                }
            }
            Err(i) => {
                if !value.is_empty() {
                    next.hash = next.hash.wrapping_add(entry_hash(key, &value));
                    next.entries.insert(i, (Arc::from(key), value));
                }
            }
        }
        next
    }
}

impl PartialEq for MapState {
    fn eq(&self, other: &MapState) -> bool {
        self.hash == other.hash && self.entries == other.entries
    }
}

impl Eq for MapState {}

impl Hash for MapState {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// The whole-map key/value model.
#[derive(Clone, Copy, Debug, Default)]
pub struct MapModel;

impl Model for MapModel {
    type State = MapState;
    type Input = KvInput;
    type Output = KvOutput;

    fn init(&self) -> MapState {
        MapState::new()
    }

    fn step(&self, state: &MapState, input: &KvInput, output: &KvOutput) -> Option<MapState> {
        let current = state.get(&input.key);
        let matches = output.value.as_deref().is_none_or(|v| current.eq_str(v));
        let next = match input.op {
            KvOp::Get => return matches.then(|| state.clone()),
            KvOp::Put => Value::from(input.value.as_str()),
            KvOp::Append => current.append(&input.value),
            KvOp::AppendOld if matches => current.append(&input.value),
            KvOp::AppendOld => return None,
        };
        Some(state.with(&input.key, next))
    }

    fn unknown_output(&self, _input: &KvInput) -> Option<KvOutput> {
        Some(KvOutput::unknown())
    }

    fn is_read_only(&self, input: &KvInput, _output: &KvOutput) -> bool {
        input.op == KvOp::Get
    }

    /// Everything but `Put` only appends to its key's value.
    fn extends(&self, input: &KvInput) -> bool {
        input.op != KvOp::Put
    }

    /// Puts and appends, and operations whose outcome is unknown.
    fn always_accepts(&self, input: &KvInput, output: &KvOutput) -> bool {
        matches!(input.op, KvOp::Put | KvOp::Append) || output.value.is_none()
    }

    /// The component state after a put: the map holding only the key's new value.
    fn resets_to(&self, input: &KvInput, _output: &KvOutput) -> Option<MapState> {
        (input.op == KvOp::Put)
            .then(|| MapState::new().with(&input.key, Value::from(input.value.as_str())))
    }

    /// A get or a Lab 2 append that saw `v` needs its key's value to be a prefix of
    /// `v`.
    fn may_extend_to(&self, state: &MapState, input: &KvInput, output: &KvOutput) -> bool {
        match (input.op, output.value.as_deref()) {
            (KvOp::Get | KvOp::AppendOld, Some(v)) => state.get(&input.key).is_prefix_of(v),
            _ => true,
        }
    }

    /// The operation's key.
    fn component<'a>(&self, input: &'a KvInput) -> Option<&'a str> {
        Some(&input.key)
    }

    fn describe_operation(&self, input: &KvInput, output: &KvOutput) -> String {
        describe(input, output)
    }

    fn describe_state(&self, state: &MapState) -> String {
        let parts: Vec<String> = state
            .iter()
            .map(|(k, v)| format!("{}: {}", quote(k), quote(&v.to_string())))
            .collect();
        format!("{{{}}}", parts.join(", "))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn put(k: &str, v: &str) -> KvInput {
        KvInput {
            op: KvOp::Put,
            key: k.into(),
            value: v.into(),
        }
    }

    fn append(k: &str, v: &str) -> KvInput {
        KvInput {
            op: KvOp::Append,
            key: k.into(),
            value: v.into(),
        }
    }

    fn get(k: &str) -> KvInput {
        KvInput {
            op: KvOp::Get,
            key: k.into(),
            value: String::new(),
        }
    }

    #[test]
    fn keys_are_independent_and_empty_values_are_absent() {
        let m = MapModel;
        let s = m
            .step(&m.init(), &put("a", "1"), &KvOutput::known(""))
            .unwrap();
        assert!(m.step(&s, &get("a"), &KvOutput::known("1")).is_some());
        assert!(m.step(&s, &get("b"), &KvOutput::known("")).is_some());
        assert!(m.step(&s, &get("b"), &KvOutput::known("1")).is_none());
        let cleared = m.step(&s, &put("a", ""), &KvOutput::known("")).unwrap();
        assert_eq!(
            cleared,
            m.init(),
            "equal maps must compare equal for the memo"
        );
        assert_eq!(m.describe_state(&s), "{'a': '1'}");
    }

    #[test]
    fn equal_maps_built_in_different_orders_are_equal_with_equal_hashes() {
        let m = MapModel;
        let mut x = m.init();
        let mut y = m.init();
        for (k, v) in [("b", "1"), ("a", "2"), ("c", "3")] {
            x = m.step(&x, &append(k, v), &KvOutput::known("")).unwrap();
        }
        for (k, v) in [("c", "3"), ("a", "2"), ("b", "1")] {
            y = m.step(&y, &append(k, v), &KvOutput::known("")).unwrap();
        }
        assert_eq!(x, y);
        assert_eq!(hash_one(&x), hash_one(&y));
        assert_eq!(m.describe_state(&x), "{'a': '2', 'b': '1', 'c': '3'}");
        let z = m.step(&y, &append("a", "x"), &KvOutput::known("")).unwrap();
        assert_ne!(x, z);
        assert_eq!(z.get("a").to_string(), "2x");
    }

    #[test]
    fn the_pruning_hooks_look_only_at_the_operations_key() {
        let m = MapModel;
        let s = MapState::new()
            .with("a", Value::from("x"))
            .with("b", Value::from("y"));
        // A put's component state is its key alone, whatever the other keys hold.
        assert_eq!(
            m.resets_to(&put("a", "p"), &KvOutput::known("")),
            Some(MapState::new().with("a", Value::from("p")))
        );
        assert!(m.may_extend_to(&s, &get("a"), &KvOutput::known("xz")));
        assert!(!m.may_extend_to(&s, &get("a"), &KvOutput::known("y")));
        assert!(m.may_extend_to(&s, &get("b"), &KvOutput::known("y")));
        assert!(m.may_extend_to(&s, &get("c"), &KvOutput::known("anything")));
        assert_eq!(m.component(&get("a")), Some("a"));
    }
}
