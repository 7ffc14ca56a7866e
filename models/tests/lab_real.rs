//! The lab suites on real processes: the same test bodies as tests/raft and
//! tests/kvraft (`raftlab::harness::raft::suite`, `raftlab::harness::kv::suite`), run
//! on `raftlab serve` children over real TCP and disk, with the labrpc-style faults
//! injected by proxies between the servers, in real seconds (see
//! `raftlab::harness::real`).
//!
//! A short set runs with `cargo test --release` (CI); every test runs with
//! `cargo test --release -p raftlab-models --test lab_real -- --include-ignored`
//! (the ignored ones alone: `-- --ignored`). Tests run one at a time: each starts its
//! own cluster, and real-time tests on a 2-core machine should not share it.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Mutex;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_raftlab"))
}

mod raft {
    use super::*;
    use raftlab::harness::raft::suite::Spec;
    use raftlab::harness::real::{RealRaft, run_real_raft};

    fn real_raft<F, Fut>(spec: &Spec, body: F)
    where
        F: Fn(RealRaft) -> Fut,
        Fut: Future<Output = ()>,
    {
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        run_real_raft(exe(), spec, body);
    }

    raftlab::raft_suite!(real_raft:
        initial_election_3a,
        #[ignore] re_election_3a,
        #[ignore] many_elections_3a,
        basic_agree_3b,
        #[ignore] rpc_bytes_3b,
        #[ignore] follower_failure_3b,
        #[ignore] leader_failure_3b,
        fail_agree_3b,
        #[ignore] fail_no_agree_3b,
        #[ignore] concurrent_starts_3b,
        #[ignore] rejoin_3b,
        #[ignore] backup_3b,
        #[ignore] count_3b,
        persist1_3c,
        #[ignore] persist2_3c,
        #[ignore] persist3_3c,
        #[ignore] figure8_3c,
        #[ignore] unreliable_agree_3c,
        #[ignore] reliable_churn_3c,
        #[ignore] unreliable_churn_3c,
    );
}

mod kvraft {
    use super::*;
    use raftlab::harness::kv::suite::Generic;
    use raftlab::harness::real::{RealKv, run_real_kv};

    fn real_kv<F, Fut>(g: &'static Generic, body: F)
    where
        F: Fn(RealKv) -> Fut,
        Fut: Future<Output = ()>,
    {
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        run_real_kv(exe(), g, body);
    }

    raftlab::kvraft_generic_suite!(real_kv:
        basic_4a,
        #[ignore] concurrent_4a,
        #[ignore] unreliable_4a,
        #[ignore] persist_partition_unreliable_linearizable_4a,
        #[ignore] snapshot_unreliable_recover_concurrent_partition_linearizable_4b,
    );
}
