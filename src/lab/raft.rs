//! The Raft lab's runner for any core: one lab test on the simulator, once per seed.

use std::future::Future;

use crate::harness::bugs::{self, Carries};
use crate::harness::raft::suite::Spec;
use crate::harness::raft::{Cmd, Config, Options};
use crate::raft::RaftCore;
use crate::sim::seed::run_seeded;

/// Runs the Raft lab test `spec` with `body` (one of
/// [`crate::harness::raft::suite`]'s tests) on the simulator, every peer running the
/// core `R`: `make_config(servers, unreliable, snapshot)`, the body, `cleanup()`; once
/// per seed (see [`crate::sim::seed`]). `RAFTLAB_BUG=<name>` switches on a deliberate
/// bug in every peer's configuration ([`crate::raft::Config::bug`]; a core that
/// ignores it runs without).
pub fn raft_test<R, F, Fut>(spec: &Spec, body: F)
where
    R: RaftCore<Cmd>,
    F: Fn(Config<R>) -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    run_seeded("raft", spec.name, spec.servers, |seed| {
        let bug = bugs::requested("raft", Carries::Raft);
        let options = Options {
            bug: bugs::raft_bug(bug),
            ..Options::default()
        };
        let cfg = Config::<R>::make(seed, spec.servers, spec.unreliable, spec.snapshot, options);
        bugs::assert_applied(bug, &cfg.bugs(), &[]);
        cfg.run(&body);
    });
}

/// Declares the whole Raft lab suite (the 28 tests of `raft/test_test.go`, parts
/// 3A-3D) for the core `$core`, one `#[test]` per lab test, named as the lab names
/// them (`initial_election_3a`, ..., `snapshot_init_3d`), each run on the simulator by
/// [`crate::lab::raft_test`].
///
/// ```ignore
/// // tests/raft.rs of a student crate:
/// raftlab::lab3_suite!(my_raft::MyRaft);
/// ```
/// `cargo test --release 3b` then runs part 3B, `cargo test --release backup_3b` one test.
#[macro_export]
macro_rules! lab3_suite {
    ($core:ty) => {
        $crate::raft_suite!($crate::lab::raft_test::<$core, _, _>:
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
    };
}
