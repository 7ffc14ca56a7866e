//! A server's durable storage: the Raft state, its log and the service snapshot, in one
//! data directory.
//!
//! ```text
//! DIR/LOCK                     flock'ed while a server runs; holds its pid
//! DIR/wal-<generation>.log     the write-ahead log (record.rs): a Base record, then Updates
//! DIR/snap-<generation>.bin    the snapshot that generation's Base names, if any
//! ```
//!
//! Every [`Persist`] a Raft node outputs becomes one record. A [`LogWrite::Suffix`] or
//! [`LogWrite::Unchanged`] is an `Update` appended to the current log file: the term, the
//! vote and the entries from the first index written, so an append costs the size of
//! what changed, never a rewrite. A [`LogWrite::Compacted`] (a snapshot was taken or
//! installed) starts a new **generation**: the snapshot goes to `snap-<g>.bin` and the
//! compacted state (term, vote, snapshot index and term, the entries after it) to a new
//! `wal-<g>.log` whose first record is a `Base`, each written whole to a temporary file,
//! fsynced and renamed into place, then the directory fsynced. The rename of the log file
//! is the commit point; the previous generation's files are deleted after it.
//!
//! [`DiskStorage::append`] only buffers; [`DiskStorage::sync`] writes the buffer with one
//! `write` and one `fdatasync`, so many `Persist` outputs share one fsync (the group
//! commit of `runtime::commit`).
//!
//! Recovery ([`DiskStorage::open`]) reads the newest generation: it replays the records
//! into a [`raft::Storage`] (the simulator's persister, so the bytes `Raft::restore`
//! reads are exactly what the simulator would give it). A torn last record (a crash in
//! the middle of an append) is dropped, the file is truncated before it, and the drop is
//! reported; damage anywhere else, a missing or damaged snapshot, or a directory that
//! belongs to another server refuses to start, naming the file and the byte offset. An
//! empty or missing directory starts a fresh server.

mod files;
pub mod record;

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize, de::DeserializeOwned};

pub use files::DirLock;

use crate::codec;
use crate::raft::{self, Entry, Index, LogWrite, NodeId, Persist, Term};

/// Whether appends are fsynced before they count as durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fsync {
    /// fsync every batch before anything that depends on it leaves the process (the
    /// default: an acknowledged write survives a crash of the machine).
    Always,
    /// Never fsync: writes reach the file system's cache only. For benchmarks; a crash
    /// of the machine (not of the process) can lose acknowledged writes.
    Never,
}

/// Who a data directory belongs to. A server refuses a directory written by another
/// server or cluster: its votes and log would be someone else's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The cluster's id.
    pub cluster: u64,
    /// The server's id.
    pub id: u32,
    /// The number of servers in the cluster.
    pub peers: u32,
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "server {} of a {}-server cluster with id {:#x}",
            self.id, self.peers, self.cluster
        )
    }
}

/// Why storage cannot be opened or written.
#[derive(Debug)]
pub enum StorageError {
    /// An operating-system call failed.
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done.
        doing: &'static str,
        /// The error.
        source: io::Error,
    },
    /// A file holds something a crash cannot explain.
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The byte offset of the damage.
        offset: usize,
        /// What is wrong.
        reason: String,
    },
    /// The directory was written by another server.
    Identity {
        /// The directory.
        dir: PathBuf,
        /// Who wrote it.
        found: Identity,
        /// Who is starting.
        expected: Identity,
    },
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::Io {
                path,
                doing,
                source,
            } => write!(f, "{}: {doing}: {source}", path.display()),
            StorageError::Corrupt {
                path,
                offset,
                reason,
            } => write!(
                f,
                "{}: corrupt at byte offset {offset}: {reason}; refusing to start \
                 (move the data directory aside to start this server empty)",
                path.display()
            ),
            StorageError::Identity {
                dir,
                found,
                expected,
            } => write!(
                f,
                "{}: this data directory belongs to {found}, not to {expected}",
                dir.display()
            ),
        }
    }
}

impl std::error::Error for StorageError {}

fn io_err<'a>(path: &'a Path, doing: &'static str) -> impl FnOnce(io::Error) -> StorageError + 'a {
    move |source| StorageError::Io {
        path: path.to_path_buf(),
        doing,
        source,
    }
}

/// A snapshot file, as a Base record names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct SnapRef {
    generation: u64,
    len: u64,
    crc: u32,
}

/// One record's payload. `E` is the entries' container: a slice when writing, a vector
/// when reading (postcard encodes both alike).
#[derive(Serialize, Deserialize)]
enum Record<E> {
    /// The first record of a generation: the whole compacted state.
    Base {
        identity: Identity,
        term: Term,
        voted_for: Option<NodeId>,
        snapshot_index: Index,
        snapshot_term: Term,
        snapshot: Option<SnapRef>,
        entries: E,
    },
    /// A later Persist: the term and vote, and the log suffix it rewrote, if any.
    Update {
        term: Term,
        voted_for: Option<NodeId>,
        suffix: Option<(Index, E)>,
    },
}

const SNAP_MAGIC: &[u8; 8] = b"RLSNAP\0\x01";
const SNAP_HEADER: usize = 20;

/// What recovery found besides the state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovery {
    /// The generation now current.
    pub generation: u64,
    /// How many records were replayed.
    pub records: usize,
    /// A torn last record that was dropped.
    pub torn: Option<TornTail>,
    /// Whether the directory held no state (a fresh server).
    pub fresh: bool,
}

/// A record that a crash cut short, dropped by recovery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TornTail {
    /// The log file.
    pub path: PathBuf,
    /// Where the torn record started (the file was truncated there).
    pub offset: usize,
    /// How many bytes were dropped.
    pub bytes: usize,
    /// Why it was taken for a torn write.
    pub why: &'static str,
}

impl fmt::Display for TornTail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: dropped a torn last record at byte offset {} ({} bytes: {}; a crash cut \
             an append short, and nothing that depended on it had left the server)",
            self.path.display(),
            self.offset,
            self.bytes,
            self.why
        )
    }
}

/// A server's data directory, open for appending.
#[derive(Debug)]
pub struct DiskStorage<C> {
    dir: PathBuf,
    identity: Identity,
    fsync: Fsync,
    generation: u64,
    wal: File,
    wal_len: u64,
    snapshot: Option<SnapRef>,
    mirror: raft::Storage<C>,
    buf: Vec<u8>,
    _lock: DirLock,
}

fn wal_name(generation: u64) -> String {
    format!("wal-{generation:016x}.log")
}

fn snap_name(generation: u64) -> String {
    format!("snap-{generation:016x}.bin")
}

fn parse_generation(name: &str, prefix: &str, suffix: &str) -> Option<u64> {
    let hex = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
    if hex.len() != 16 {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}

impl<C: Clone + Serialize + DeserializeOwned> DiskStorage<C> {
    /// Opens (or creates) the data directory of server `identity` and recovers what it
    /// holds.
    pub fn open(
        dir: &Path,
        identity: Identity,
        fsync: Fsync,
    ) -> Result<(Self, Recovery), StorageError> {
        fs::create_dir_all(dir).map_err(io_err(dir, "creating the data directory"))?;
        let lock = DirLock::acquire(dir).map_err(io_err(dir, "locking the data directory"))?;
        let mut wals = Vec::new();
        let mut snaps = Vec::new();
        let mut tmps = Vec::new();
        for e in fs::read_dir(dir).map_err(io_err(dir, "listing the data directory"))? {
            let e = e.map_err(io_err(dir, "listing the data directory"))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(g) = parse_generation(&name, "wal-", ".log") {
                wals.push(g);
            } else if let Some(g) = parse_generation(&name, "snap-", ".bin") {
                snaps.push(g);
            } else if name.ends_with(".tmp") {
                tmps.push(e.path());
            }
        }
        for t in tmps {
            fs::remove_file(&t).map_err(io_err(&t, "removing a temporary file"))?;
        }
        let Some(&generation) = wals.iter().max() else {
            let s = Self::fresh(dir, identity, fsync, lock)?;
            s.remove_stale(&snaps)?;
            let recovery = Recovery {
                generation: s.generation,
                records: 1,
                torn: None,
                fresh: true,
            };
            return Ok((s, recovery));
        };
        let path = dir.join(wal_name(generation));
        let bytes = fs::read(&path).map_err(io_err(&path, "reading the log"))?;
        let corrupt = |offset: usize, reason: String| StorageError::Corrupt {
            path: path.clone(),
            offset,
            reason,
        };
        let scan = record::scan(&bytes).map_err(|d| corrupt(d.offset, d.reason))?;
        if scan.generation != generation {
            return Err(corrupt(
                8,
                format!(
                    "the header says generation {}, the file name {generation}",
                    scan.generation
                ),
            ));
        }
        let Some(first) = scan.records.first() else {
            return Err(corrupt(
                record::HEADER_LEN,
                "the log has no base record (log files are created whole with one)".into(),
            ));
        };
        let payload = |f: &record::Found| &bytes[f.payload..f.payload + f.len];
        let base: Record<Vec<Entry<C>>> = codec::decode("log record", payload(first))
            .map_err(|e| corrupt(first.offset, e.to_string()))?;
        let Record::Base {
            identity: found,
            term,
            voted_for,
            snapshot_index,
            snapshot_term,
            snapshot,
            entries,
        } = base
        else {
            return Err(corrupt(
                first.offset,
                "the first record is not a base record".into(),
            ));
        };
        if found != identity {
            return Err(StorageError::Identity {
                dir: dir.to_path_buf(),
                found,
                expected: identity,
            });
        }
        let snapshot_bytes = match snapshot {
            None => None,
            Some(r) => Some(read_snapshot(dir, r)?),
        };
        let mut mirror = raft::Storage::new();
        mirror.apply(Persist {
            term,
            voted_for,
            log: LogWrite::Compacted {
                snapshot_index,
                snapshot_term,
                entries,
            },
            snapshot: snapshot_bytes,
        });
        for f in &scan.records[1..] {
            let r: Record<Vec<Entry<C>>> = codec::decode("log record", payload(f))
                .map_err(|e| corrupt(f.offset, e.to_string()))?;
            let Record::Update {
                term,
                voted_for,
                suffix,
            } = r
            else {
                return Err(corrupt(
                    f.offset,
                    "a base record after the first record".into(),
                ));
            };
            let log = match suffix {
                None => LogWrite::Unchanged,
                Some((from, entries)) => {
                    let last = mirror.state().log.last_index();
                    if from > last + 1 || from == 0 {
                        return Err(corrupt(
                            f.offset,
                            format!(
                                "the record writes from index {from}, but the log ends at {last}"
                            ),
                        ));
                    }
                    LogWrite::Suffix { from, entries }
                }
            };
            mirror.apply(Persist {
                term,
                voted_for,
                log,
                snapshot: None,
            });
        }
        if let Err(reason) = mirror.state().log.check() {
            return Err(corrupt(
                0,
                format!("the replayed log is inconsistent: {reason}"),
            ));
        }
        let good = match scan.end {
            record::End::Clean => bytes.len(),
            record::End::Torn { offset, .. } => offset,
        };
        let torn = match scan.end {
            record::End::Clean => None,
            record::End::Torn { offset, why } => Some(TornTail {
                path: path.clone(),
                offset,
                bytes: bytes.len() - offset,
                why,
            }),
        };
        let wal = fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(io_err(&path, "opening the log"))?;
        if torn.is_some() {
            wal.set_len(good as u64)
                .map_err(io_err(&path, "truncating the torn record"))?;
            wal.sync_all()
                .map_err(io_err(&path, "syncing the truncated log"))?;
        }
        drop(wal);
        let wal = files::open_append(&path).map_err(io_err(&path, "opening the log"))?;
        let s = DiskStorage {
            dir: dir.to_path_buf(),
            identity,
            fsync,
            generation,
            wal,
            wal_len: good as u64,
            snapshot,
            mirror,
            buf: Vec::new(),
            _lock: lock,
        };
        s.remove_older_logs(&wals)?;
        s.remove_stale(&snaps)?;
        let recovery = Recovery {
            generation,
            records: scan.records.len(),
            torn,
            fresh: false,
        };
        Ok((s, recovery))
    }

    fn fresh(
        dir: &Path,
        identity: Identity,
        fsync: Fsync,
        lock: DirLock,
    ) -> Result<Self, StorageError> {
        let mirror = raft::Storage::new();
        let generation = 1;
        let (wal, wal_len) = write_generation(dir, identity, generation, &mirror, None, fsync)?;
        Ok(DiskStorage {
            dir: dir.to_path_buf(),
            identity,
            fsync,
            generation,
            wal,
            wal_len,
            snapshot: None,
            mirror,
            buf: Vec::new(),
            _lock: lock,
        })
    }

    /// The state as it stands after every append so far (the simulator's persister).
    pub fn state(&self) -> &raft::Storage<C> {
        &self.mirror
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The current generation.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Bytes on disk: the current log file and snapshot, appends not yet synced
    /// included.
    pub fn disk_bytes(&self) -> u64 {
        self.wal_len + self.buf.len() as u64 + self.snapshot.map_or(0, |s| s.len)
    }

    /// The fsync policy.
    pub fn fsync(&self) -> Fsync {
        self.fsync
    }

    /// Adds a persist record. A log suffix or a new term or vote is buffered for the
    /// next [`DiskStorage::sync`]; a compaction writes a new generation at once (its
    /// files are fsynced and renamed into place before this returns, unless
    /// [`Fsync::Never`]).
    pub fn append(&mut self, p: Persist<C>) -> Result<(), StorageError> {
        match &p.log {
            LogWrite::Compacted { .. } => {
                let new_snapshot = p.snapshot.clone();
                self.mirror.apply(p);
                self.new_generation(new_snapshot)
            }
            LogWrite::Unchanged | LogWrite::Suffix { .. } => {
                let suffix = match &p.log {
                    LogWrite::Suffix { from, entries } => Some((*from, entries.as_slice())),
                    _ => None,
                };
                let r: Record<&[Entry<C>]> = Record::Update {
                    term: p.term,
                    voted_for: p.voted_for,
                    suffix,
                };
                record::frame(&codec::encode(&r), &mut self.buf);
                if p.snapshot.is_some() {
                    // The core sends a snapshot only with a compaction; should one come
                    // alone, the new generation keeps it.
                    let snap = p.snapshot.clone();
                    self.mirror.apply(p);
                    return self.new_generation(snap);
                }
                self.mirror.apply(p);
                Ok(())
            }
        }
    }

    /// Writes what [`DiskStorage::append`] buffered and makes it durable (one write, one
    /// `fdatasync`).
    pub fn sync(&mut self) -> Result<(), StorageError> {
        let path = self.dir.join(wal_name(self.generation));
        if !self.buf.is_empty() {
            self.wal
                .write_all(&self.buf)
                .map_err(io_err(&path, "appending to the log"))?;
            self.wal_len += self.buf.len() as u64;
            self.buf.clear();
        }
        if self.fsync == Fsync::Always {
            self.wal
                .sync_data()
                .map_err(io_err(&path, "fsyncing the log"))?;
        }
        Ok(())
    }

    fn new_generation(&mut self, new_snapshot: Option<Arc<[u8]>>) -> Result<(), StorageError> {
        let generation = self.generation + 1;
        let old_snapshot = self.snapshot;
        if let Some(data) = new_snapshot {
            let path = self.dir.join(snap_name(generation));
            let mut bytes = Vec::with_capacity(SNAP_HEADER + data.len());
            bytes.extend_from_slice(SNAP_MAGIC);
            bytes.extend_from_slice(&(data.len() as u64).to_le_bytes());
            let crc = crc32c::crc32c(&data);
            bytes.extend_from_slice(&crc.to_le_bytes());
            bytes.extend_from_slice(&data);
            write_file(&path, &bytes, self.fsync)?;
            self.snapshot = Some(SnapRef {
                generation,
                len: data.len() as u64,
                crc,
            });
        }
        // What was buffered for the old file is part of the state the base record holds.
        self.buf.clear();
        let (wal, wal_len) = write_generation(
            &self.dir,
            self.identity,
            generation,
            &self.mirror,
            self.snapshot,
            self.fsync,
        )?;
        let old = self.dir.join(wal_name(self.generation));
        self.wal = wal;
        self.wal_len = wal_len;
        self.generation = generation;
        fs::remove_file(&old).map_err(io_err(&old, "removing the previous log"))?;
        if let Some(s) = old_snapshot
            && Some(s.generation) != self.snapshot.map(|n| n.generation)
        {
            let p = self.dir.join(snap_name(s.generation));
            fs::remove_file(&p).map_err(io_err(&p, "removing the previous snapshot"))?;
        }
        Ok(())
    }

    fn remove_older_logs(&self, gens: &[u64]) -> Result<(), StorageError> {
        for &g in gens.iter().filter(|&&g| g != self.generation) {
            let p = self.dir.join(wal_name(g));
            fs::remove_file(&p).map_err(io_err(&p, "removing an older log"))?;
        }
        Ok(())
    }

    fn remove_stale(&self, snaps: &[u64]) -> Result<(), StorageError> {
        let keep = self.snapshot.map(|s| s.generation);
        for &g in snaps.iter().filter(|&&g| Some(g) != keep) {
            let p = self.dir.join(snap_name(g));
            fs::remove_file(&p).map_err(io_err(&p, "removing an unused snapshot"))?;
        }
        Ok(())
    }
}

/// Writes a file whole: atomically and durably with [`Fsync::Always`], by a plain
/// rename without.
fn write_file(path: &Path, bytes: &[u8], fsync: Fsync) -> Result<(), StorageError> {
    match fsync {
        Fsync::Always => files::replace_atomically(path, bytes),
        Fsync::Never => {
            let tmp = files::tmp_path(path);
            fs::write(&tmp, bytes).and_then(|()| fs::rename(&tmp, path))
        }
    }
    .map_err(io_err(path, "writing"))
}

/// Creates generation `generation`'s log file holding `state` in its base record, and
/// opens it for appending.
fn write_generation<C: Clone + Serialize + DeserializeOwned>(
    dir: &Path,
    identity: Identity,
    generation: u64,
    state: &raft::Storage<C>,
    snapshot: Option<SnapRef>,
    fsync: Fsync,
) -> Result<(File, u64), StorageError> {
    let s = state.state();
    let r: Record<&[Entry<C>]> = Record::Base {
        identity,
        term: s.term,
        voted_for: s.voted_for,
        snapshot_index: s.log.snapshot_index(),
        snapshot_term: s.log.snapshot_term(),
        snapshot,
        entries: s.log.entries(),
    };
    let mut bytes = record::header(generation).to_vec();
    record::frame(&codec::encode(&r), &mut bytes);
    let path = dir.join(wal_name(generation));
    write_file(&path, &bytes, fsync)?;
    let wal = files::open_append(&path).map_err(io_err(&path, "opening the log"))?;
    Ok((wal, bytes.len() as u64))
}

fn read_snapshot(dir: &Path, r: SnapRef) -> Result<Arc<[u8]>, StorageError> {
    let path = dir.join(snap_name(r.generation));
    let bytes = fs::read(&path).map_err(io_err(&path, "reading the snapshot the log names"))?;
    let corrupt = |offset: usize, reason: String| StorageError::Corrupt {
        path: path.clone(),
        offset,
        reason,
    };
    if bytes.len() < SNAP_HEADER || &bytes[..8] != SNAP_MAGIC {
        return Err(corrupt(0, "not a raftlab snapshot file".into()));
    }
    let len = u64::from_le_bytes(bytes[8..16].try_into().unwrap_or_default());
    let crc = u32::from_le_bytes(bytes[16..20].try_into().unwrap_or_default());
    let data = &bytes[SNAP_HEADER..];
    if len != r.len || data.len() as u64 != len {
        return Err(corrupt(
            8,
            format!(
                "the log names a {}-byte snapshot; the file says {len} and holds {}",
                r.len,
                data.len()
            ),
        ));
    }
    if crc != r.crc || crc32c::crc32c(data) != crc {
        return Err(corrupt(
            SNAP_HEADER,
            "the snapshot fails its checksum".into(),
        ));
    }
    Ok(Arc::from(data))
}

#[cfg(test)]
mod tests;
