//! The Lab 4 (kvraft) suite on the simulator: the 23 tests of kvraft/test_test.go
//! (4A: 14, 4B: 9), with the lab's names and printed lines, and every history the lab
//! checks with porcupine checked by raftlab-checker; plus one test of our own (at the
//! end) that a deliberate stale-read bug is caught by that check.
//!
//! The tests' bodies and runner are `raftlab::lab::kvraft`'s (the same a student crate
//! runs on its own Raft); this file runs them on raftlab's.
//!
//! `cargo test --release --test kvraft 4a` runs part 4A.

use raftlab::harness::kv::history::LabCheck;
use raftlab::harness::kv::suite::{Generic, generic_rounds};
use raftlab::harness::kv::{KvraftConfig, KvraftOptions};
use raftlab::lab::KvCmd;
use raftlab::raft::Raft;
use raftlab::rsm::server::ServiceBug;
use raftlab::sim::seed::default_seed;

raftlab::lab4_suite!(Raft<KvCmd>);

// ============================ not a lab test ============================

/// The deliberate `ServiceBug::ReadBeforeOwnWrite` (a leader answers a client's Get
/// right after that client's own write from the state before the write) is caught by
/// the history check alone in the two random-key "linearizable" tests, which check no
/// value themselves: at their default seeds both histories are Illegal. Before the
/// history's stamps broke ties, the Get's call equalled the write's return, the two
/// counted as concurrent, and both tests passed with the bug on (0 of 20 seeds each).
#[test]
fn read_before_own_write_is_caught_by_the_random_key_tests() {
    for (name, part, maxraftstate) in [
        ("persist_partition_unreliable_linearizable_4a", "4A", -1),
        (
            "snapshot_unreliable_recover_concurrent_partition_linearizable_4b",
            "4B",
            1000,
        ),
    ] {
        let g = Generic {
            name,
            part,
            nclients: 15,
            nservers: 7,
            unreliable: true,
            crash: true,
            partitions: true,
            maxraftstate,
            randomkeys: true,
        };
        let options = KvraftOptions {
            service_bug: Some(ServiceBug::ReadBeforeOwnWrite),
            ..KvraftOptions::default()
        };
        let seed = default_seed(name);
        let cfg = KvraftConfig::new(seed, g.nservers, g.unreliable, maxraftstate, options);
        let cfg2 = cfg.clone();
        let log = cfg.run_to_end(async move { generic_rounds(cfg2, &g).await });
        match log.lab_check("kvraft-bug", name, seed) {
            LabCheck::Illegal { visualization, .. } => {
                if let Ok(path) = visualization {
                    std::fs::remove_file(path).expect("the visualization was written");
                }
            }
            other => panic!("{name}: the bug's history must be Illegal, got {other:?}"),
        }
    }
}
