//! The Lab 3 (Raft) suite on the simulator: the 28 tests of raft/test_test.go, scenario
//! by scenario, with the lab's names (snake_case, part as suffix) and printed lines.
//! The bodies are `raftlab::harness::raft::suite`'s, written once for every driver;
//! this file runs all of them in virtual time.
//!
//! `cargo test --release --test raft 3b` runs part 3B. Every test runs in virtual time
//! from a seed (see README: replaying a seed).

mod bug_switch;
mod config;

use config::raft_test;

raftlab::raft_suite!(raft_test:
    initial_election_3a,
    re_election_3a,
    many_elections_3a,
    basic_agree_3b,
    rpc_bytes_3b,
    follower_failure_3b,
    leader_failure_3b,
    fail_agree_3b,
    fail_no_agree_3b,
    concurrent_starts_3b,
    rejoin_3b,
    backup_3b,
    count_3b,
    persist1_3c,
    persist2_3c,
    persist3_3c,
    figure8_3c,
    unreliable_agree_3c,
    figure8_unreliable_3c,
    reliable_churn_3c,
    unreliable_churn_3c,
    snapshot_basic_3d,
    snapshot_install_3d,
    snapshot_install_unreliable_3d,
    snapshot_install_crash_3d,
    snapshot_install_un_crash_3d,
    snapshot_all_crash_3d,
    snapshot_init_3d,
);
