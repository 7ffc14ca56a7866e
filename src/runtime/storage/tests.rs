use std::fs;
use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::raft::{
    AppendEntries, Config, InstallSnapshot, Output, Raft, Request, RequestVote, Timer,
};

type Cmd = String;

const ID: Identity = Identity {
    cluster: 0xabc,
    id: 1,
    peers: 3,
};

fn open(dir: &Path) -> (DiskStorage<Cmd>, Recovery) {
    match DiskStorage::open(dir, ID, Fsync::Always) {
        Ok(s) => s,
        Err(e) => panic!("open failed: {e}"),
    }
}

fn open_err(dir: &Path) -> String {
    match DiskStorage::<Cmd>::open(dir, ID, Fsync::Always) {
        Ok(_) => panic!("opened a directory that should be refused"),
        Err(e) => e.to_string(),
    }
}

fn entry(term: Term, c: &str) -> Entry<Cmd> {
    Entry {
        term,
        command: c.to_string(),
    }
}

fn ae(term: Term, prev: (Index, Term), entries: Vec<Entry<Cmd>>, commit: Index) -> Request<Cmd> {
    Request::AppendEntries(AppendEntries {
        term,
        leader: 0,
        prev_log_index: prev.0,
        prev_log_term: prev.1,
        entries,
        leader_commit: commit,
    })
}

/// The persist records a follower (node 1 of 3) writes over a history with a vote,
/// appends, a conflicting suffix that truncates, a snapshot of its own, an installed
/// snapshot from the leader, and appends after it.
fn follower_history() -> Vec<Persist<Cmd>> {
    let (mut r, _) = Raft::<Cmd>::new(Config::new(1, 3)).unwrap();
    let mut persists = Vec::new();
    let mut take = |outs: Vec<Output<Cmd>>| {
        for o in outs {
            if let Output::Persist(p) = o {
                persists.push(p);
            }
        }
    };
    take(r.handle_request(
        0,
        Request::RequestVote(RequestVote {
            term: 1,
            candidate: 0,
            last_log_index: 0,
            last_log_term: 0,
        }),
    ));
    take(r.handle_request(
        0,
        ae(
            1,
            (0, 0),
            vec![entry(1, "a"), entry(1, "b"), entry(1, "c")],
            1,
        ),
    ));
    take(r.handle_request(0, ae(1, (3, 1), vec![entry(1, "d")], 2)));
    // A new leader of term 3 overwrites indices 3 and 4.
    take(r.handle_request(2, ae(3, (2, 1), vec![entry(3, "x"), entry(3, "y")], 2)));
    take(r.snapshot_at(2, b"state through 2".to_vec()));
    take(r.handle_request(2, ae(3, (4, 3), vec![entry(3, "z")], 5)));
    take(r.handle_timer(Timer::Election));
    take(r.handle_request(
        0,
        Request::InstallSnapshot(InstallSnapshot {
            term: 5,
            leader: 0,
            last_included_index: 9,
            last_included_term: 4,
            data: Arc::from(&b"the leader's state through 9"[..]),
        }),
    ));
    take(r.handle_request(0, ae(5, (9, 4), vec![entry(5, "p"), entry(5, "q")], 10)));
    assert!(
        persists.len() >= 8,
        "the history has {} persists",
        persists.len()
    );
    assert!(
        persists
            .iter()
            .filter(|p| matches!(p.log, LogWrite::Compacted { .. }))
            .count()
            >= 2
    );
    persists
}

fn simulated(persists: &[Persist<Cmd>]) -> raft::Storage<Cmd> {
    let mut s = raft::Storage::new();
    for p in persists {
        s.apply(p.clone());
    }
    s
}

fn assert_same(disk: &raft::Storage<Cmd>, sim: &raft::Storage<Cmd>) {
    assert_eq!(disk.raft_state(), sim.raft_state(), "raft state bytes");
    assert_eq!(disk.snapshot(), sim.snapshot(), "snapshot");
}

fn wal_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "LOCK")
        .collect();
    v.sort();
    v
}

#[test]
fn a_missing_directory_starts_a_fresh_server() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("not/yet/here");
    let (s, rec) = open(&dir);
    assert!(rec.fresh);
    assert!(s.state().raft_state().is_empty());
    drop(s);
    let (_, rec) = open(&dir);
    assert!(!rec.fresh, "the second start finds the first one's files");
}

#[test]
fn what_the_runtime_writes_restores_as_the_simulator_storage_would() {
    let persists = follower_history();
    let tmp = tempfile::tempdir().unwrap();
    let (mut s, _) = open(tmp.path());
    for (i, p) in persists.iter().enumerate() {
        s.append(p.clone()).unwrap();
        if i % 2 == 1 {
            s.sync().unwrap();
        }
    }
    s.sync().unwrap();
    let sim = simulated(&persists);
    assert_same(s.state(), &sim);
    drop(s);
    let (s, rec) = open(tmp.path());
    assert!(rec.torn.is_none());
    assert_same(s.state(), &sim);
    let config = Config::new(1, 3);
    let (a, _) = Raft::<Cmd>::restore(
        config.clone(),
        &s.state().raft_state(),
        s.state().snapshot(),
    )
    .unwrap();
    let (b, _) = Raft::<Cmd>::restore(config, &sim.raft_state(), sim.snapshot()).unwrap();
    assert_eq!(a, b, "Raft::restore gives the same node from both");
    assert_eq!(a.log().snapshot_index(), 9);
    assert_eq!(a.log().last_index(), 11);
    // Two compactions happened: only the newest generation's files remain.
    assert_eq!(
        wal_files(tmp.path()),
        vec![
            format!("snap-{:016x}.bin", s.generation()),
            format!("wal-{:016x}.log", s.generation()),
        ]
    );
}

#[test]
fn a_torn_last_record_recovers_to_the_record_before_at_every_cut() {
    let persists = follower_history();
    // The last two persists are appends after the installed snapshot.
    let tmp = tempfile::tempdir().unwrap();
    let (mut s, _) = open(tmp.path());
    for p in &persists[..persists.len() - 1] {
        s.append(p.clone()).unwrap();
    }
    s.sync().unwrap();
    let wal = s.dir().join(wal_name(s.generation()));
    let before = fs::metadata(&wal).unwrap().len() as usize;
    s.append(persists[persists.len() - 1].clone()).unwrap();
    s.sync().unwrap();
    drop(s);
    let whole = fs::read(&wal).unwrap();
    assert!(whole.len() > before);
    let sim_before = simulated(&persists[..persists.len() - 1]);
    let sim_all = simulated(&persists);
    for cut in before + 1..whole.len() {
        fs::write(&wal, &whole[..cut]).unwrap();
        let (s, rec) = open(tmp.path());
        let torn = rec
            .torn
            .unwrap_or_else(|| panic!("cut at {cut}: no torn tail"));
        assert_eq!(
            (torn.offset, torn.bytes),
            (before, cut - before),
            "cut at {cut}"
        );
        assert_same(s.state(), &sim_before);
        drop(s);
        assert_eq!(
            fs::metadata(&wal).unwrap().len() as usize,
            before,
            "truncated"
        );
    }
    // After a recovery from a torn tail, appends continue cleanly.
    let (mut s, _) = open(tmp.path());
    s.append(persists[persists.len() - 1].clone()).unwrap();
    s.sync().unwrap();
    drop(s);
    let (s, rec) = open(tmp.path());
    assert!(rec.torn.is_none());
    assert_same(s.state(), &sim_all);
}

#[test]
fn a_flipped_bit_in_an_earlier_record_refuses_to_start_naming_file_and_offset() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut s, _) = open(tmp.path());
    let p = |term: Term, from: Index, c: &str| Persist {
        term,
        voted_for: Some(0),
        log: LogWrite::Suffix {
            from,
            entries: vec![entry(term, c)],
        },
        snapshot: None,
    };
    s.append(p(1, 1, "first")).unwrap();
    s.sync().unwrap();
    let wal = s.dir().join(wal_name(s.generation()));
    let second = fs::metadata(&wal).unwrap().len() as usize;
    s.append(p(1, 2, "second")).unwrap();
    s.append(p(1, 3, "third")).unwrap();
    s.sync().unwrap();
    drop(s);
    let whole = fs::read(&wal).unwrap();
    let scan = record::scan(&whole).unwrap();
    // Records: the base record, then "first", "second", "third".
    let third = scan.records[3].offset;
    assert_eq!(scan.records[2].offset, second);
    for at in [second, second + 5, second + 11, second + 12, third - 1] {
        let mut b = whole.clone();
        b[at] ^= 0x10;
        fs::write(&wal, &b).unwrap();
        let e = open_err(tmp.path());
        assert!(
            e.contains(&wal.display().to_string())
                && e.contains(&format!("corrupt at byte offset {second}")),
            "flip at {at}: {e}"
        );
    }
    // Nothing was changed by the refusals.
    let mut b = whole.clone();
    b[second + 13] ^= 1;
    fs::write(&wal, &b).unwrap();
    open_err(tmp.path());
    assert_eq!(
        fs::read(&wal).unwrap(),
        b,
        "a refused file is left as it was"
    );
    fs::write(&wal, &whole).unwrap();
    let (s, _) = open(tmp.path());
    assert_eq!(s.state().state().log.last_index(), 3);
}

#[test]
fn a_damaged_or_missing_snapshot_refuses_to_start() {
    let persists = follower_history();
    let tmp = tempfile::tempdir().unwrap();
    let (mut s, _) = open(tmp.path());
    for p in &persists {
        s.append(p.clone()).unwrap();
    }
    s.sync().unwrap();
    let snap = s.dir().join(snap_name(s.generation()));
    drop(s);
    let good = fs::read(&snap).unwrap();
    let mut bad = good.clone();
    let last = bad.len() - 1;
    bad[last] ^= 4;
    fs::write(&snap, &bad).unwrap();
    let e = open_err(tmp.path());
    assert!(
        e.contains(&snap.display().to_string()) && e.contains("checksum"),
        "{e}"
    );
    fs::remove_file(&snap).unwrap();
    let e = open_err(tmp.path());
    assert!(e.contains("reading the snapshot the log names"), "{e}");
    fs::write(&snap, &good).unwrap();
    open(tmp.path());
}

#[test]
fn a_crash_in_the_middle_of_a_new_generation_keeps_the_old_one() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut s, _) = open(tmp.path());
    s.append(Persist {
        term: 2,
        voted_for: None,
        log: LogWrite::Suffix {
            from: 1,
            entries: vec![entry(2, "kept")],
        },
        snapshot: None,
    })
    .unwrap();
    s.sync().unwrap();
    let g = s.generation();
    drop(s);
    // What a crash between the snapshot's rename and the log's leaves behind.
    fs::write(tmp.path().join(snap_name(g + 1)), b"half a generation").unwrap();
    fs::write(
        tmp.path().join(format!("{}.tmp", wal_name(g + 1))),
        b"partial",
    )
    .unwrap();
    let (s, rec) = open(tmp.path());
    assert_eq!(rec.generation, g);
    assert_eq!(s.state().state().log.last_index(), 1);
    assert_eq!(wal_files(tmp.path()), vec![wal_name(g)]);
}

#[test]
fn another_servers_directory_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    drop(open(tmp.path()));
    let other = Identity { id: 2, ..ID };
    let e = DiskStorage::<Cmd>::open(tmp.path(), other, Fsync::Always)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("belongs to server 1 of a 3-server cluster") && e.contains("not to server 2"),
        "{e}"
    );
}

#[test]
fn a_directory_in_use_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (_held, _) = open(tmp.path());
    let e = open_err(tmp.path());
    assert!(
        e.contains("in use by another raftlab process")
            && e.contains(&std::process::id().to_string()),
        "{e}"
    );
}

#[test]
fn a_file_that_is_not_a_log_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join(wal_name(3)), b"hello, this is not a log").unwrap();
    let e = open_err(tmp.path());
    assert!(
        e.contains("corrupt at byte offset 0") && e.contains("bad magic"),
        "{e}"
    );
}

#[test]
fn appends_cost_what_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut s, _) = open(tmp.path());
    let mut sizes = Vec::new();
    for i in 1..=200u64 {
        s.append(Persist {
            term: 1,
            voted_for: Some(0),
            log: LogWrite::Suffix {
                from: i,
                entries: vec![entry(1, &"v".repeat(100))],
            },
            snapshot: None,
        })
        .unwrap();
        s.sync().unwrap();
        sizes.push(s.disk_bytes());
    }
    let growth: Vec<u64> = sizes.windows(2).map(|w| w[1] - w[0]).collect();
    // The index is a varint: one byte more from index 128 on.
    let (min, max) = (growth.iter().min().unwrap(), growth.iter().max().unwrap());
    assert!(
        max - min <= 1,
        "every append adds about the same bytes: {growth:?}"
    );
    assert!(*max < 130, "an append of a 100-byte entry adds {max} bytes");
}
