//! Appends Raft log entries the way a server persists them, to raftlab's own
//! write-ahead log (`raftlab::runtime::storage::DiskStorage`) and to redb (an embedded
//! transactional store, one table of index -> encoded entry, one write transaction per
//! batch), both fsyncing every batch. Prints appends per second and bytes on disk.
//!
//! `cargo run --release --manifest-path bench/storage/Cargo.toml [ENTRIES] [VALUE_BYTES]`

use std::time::Instant;

use raftlab::raft::{Entry, LogWrite, Persist};
use raftlab::runtime::storage::{DiskStorage, Fsync, Identity};

const TABLE: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("log");

fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn raftlab_wal(entries: u64, batch: u64, value: &str) -> (f64, u64) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let id = Identity {
        cluster: 1,
        id: 0,
        peers: 3,
    };
    let (mut s, _) = DiskStorage::<String>::open(tmp.path(), id, Fsync::Always).expect("open");
    let start = Instant::now();
    let mut i = 1;
    while i <= entries {
        let n = batch.min(entries - i + 1);
        for k in 0..n {
            s.append(Persist {
                term: 1,
                voted_for: Some(0),
                log: LogWrite::Suffix {
                    from: i + k,
                    entries: vec![Entry {
                        term: 1,
                        command: value.to_string(),
                    }],
                },
                snapshot: None,
            })
            .expect("append");
        }
        s.sync().expect("sync");
        i += n;
    }
    let secs = start.elapsed().as_secs_f64();
    (entries as f64 / secs, dir_bytes(tmp.path()))
}

fn redb_store(entries: u64, batch: u64, value: &str) -> (f64, u64) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = redb::Database::create(tmp.path().join("log.redb")).expect("create");
    let start = Instant::now();
    let mut i = 1;
    while i <= entries {
        let n = batch.min(entries - i + 1);
        let txn = db.begin_write().expect("begin");
        {
            let mut t = txn.open_table(TABLE).expect("table");
            for k in 0..n {
                let e = Entry {
                    term: 1u64,
                    command: value.to_string(),
                };
                let bytes = raftlab::codec::encode(&(1u64, Some(0usize), e));
                t.insert(i + k, bytes.as_slice()).expect("insert");
            }
        }
        txn.commit().expect("commit");
        i += n;
    }
    let secs = start.elapsed().as_secs_f64();
    (entries as f64 / secs, dir_bytes(tmp.path()))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let entries: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let size: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100);
    let value = "v".repeat(size);
    println!("{entries} appends of {size}-byte entries, fsync per batch");
    println!(
        "{:<8} {:>7} {:>14} {:>14} {:>10}",
        "store", "batch", "appends/s", "bytes on disk", "bytes/entry"
    );
    for batch in [1, 16, 256] {
        for (name, f) in [
            ("raftlab", raftlab_wal as fn(u64, u64, &str) -> (f64, u64)),
            ("redb", redb_store),
        ] {
            let (rate, bytes) = f(entries, batch, &value);
            println!(
                "{name:<8} {batch:>7} {rate:>14.0} {bytes:>14} {:>10.1}",
                bytes as f64 / entries as f64
            );
        }
    }
}
