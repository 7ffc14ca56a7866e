//! `raftlab torture`: a Jepsen-style run of real `raftlab serve` processes under
//! faults, every client history checked for linearizability and every acknowledged
//! write looked for at the end.
//!
//! 1. `servers`: `--servers` child processes on 127.0.0.1, each peer link through a
//!    proxy of the runner's ([`raftlab::harness::real::Mesh`], one per ordered pair of servers);
//!    each server's log goes to `s<i>.log` in the run directory.
//! 2. [`client`]: `--clients` threads run Get, Put and Append with unique values over
//!    the Redis protocol against random servers, each operation stamped by one
//!    strictly increasing monotonic [`clock`]; an operation whose outcome is unknown is
//!    recorded as never returning.
//! 3. [`nemesis`]: meanwhile, faults on a schedule drawn from the seed (kill, pause,
//!    partition), one at a time, each healed before the next.
//! 4. At the end every fault is healed, the runner waits for a leader and reads every
//!    key; those reads join the history.
//! 5. The history is checked with raftlab-checker's key/value model, one partition per
//!    key, and [`durability`] looks for every acknowledged write in the final values.
//!
//! The exit code is 0 only when the verdict is Ok, nothing was lost, every key could be
//! read after healing and no server ended by itself; then the run directory (unless
//! given with `--data`) is removed. Otherwise it is 1, and the data directories, the
//! servers' logs, the history (`history.jsonl`, which `raftlab lincheck` reads) and the
//! `--html` view are kept, and their paths printed.

mod client;
mod clock;
mod durability;
mod nemesis;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use raftlab_checker::kv::{KvInput, KvModel, KvOp, KvOperation, KvOutput};
use raftlab_checker::report::{self, duration};
use raftlab_checker::{Annotation, CheckOptions, Verdict, check};

use crate::cli::history_report::{Checked, HtmlFile, parse_budget};
use crate::cli::serve_cmd::BugArg;
use crate::cli::sim_cmd::{clock_seed, count};
use crate::cli::{exit, interrupt};
use client::{Conn, Outcome, Record, Workload};
use clock::Clock;
use nemesis::{Counts, Kind};
use raftlab::harness::real::describe_exit;
use raftlab::harness::real::{Launch, Mesh, Servers, free_addrs};

/// Options of `raftlab torture`.
#[derive(Args, Debug, Clone)]
pub struct TortureArgs {
    /// Servers, 1 to 9.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=9))]
    pub servers: u64,
    /// Concurrent clients, 1 to 100.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub clients: u64,
    /// Keys the clients share, 1 to 1000.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub keys: u64,
    /// Seconds of workload and faults, 1 to 3600.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub seconds: u64,
    /// The faults, comma-separated: kill, pause, partition; or none.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "kill,pause,partition"
    )]
    pub nemesis: Vec<Kind>,
    /// Seed of the fault schedule and the workload (default: from the clock, printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Write the history's HTML view here.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// The run directory (data directories, logs, history); it must be new or empty,
    /// and is kept. Default: a new directory in the temporary directory, removed when
    /// the run passes.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Start the servers with a deliberate bug (see `raftlab serve --help`).
    #[arg(long, value_enum, value_name = "NAME")]
    pub bug: Option<BugArg>,
    /// Milliseconds a client waits for a reply before the outcome is unknown, 10 to
    /// 600000.
    #[arg(long, value_name = "MS", default_value_t = 2000,
          value_parser = clap::value_parser!(u64).range(10..=600_000))]
    pub op_timeout: u64,
    /// Time budget of the linearizability check, in seconds (0: none).
    #[arg(long, value_name = "S", default_value = "600", value_parser = parse_budget)]
    pub check_timeout: f64,
    /// Do not print the faults as they happen.
    #[arg(long)]
    pub quiet: bool,
}

/// Snapshots at this much Raft state (about 4,000 entries of the workload's), so that a
/// minute's run compacts its log several times and a server that was down or cut off
/// catches up by snapshot (the `serve` default, 4 MiB, is not reached in minutes).
const MAX_RAFT_STATE: usize = 128 << 10;

/// How long the runner waits for a leader, at the start and after healing.
const LEADER_WAIT: Duration = Duration::from_secs(30);

/// How long the final reads may take, all keys together.
const FINAL_READS: Duration = Duration::from_secs(30);

/// The history client id of the final reads: past every workload client's ids, and
/// exact in the HTML view's JavaScript numbers.
const FINAL_CLIENT: u64 = 1 << 40;

/// Why a run stopped before its check.
enum Early {
    /// Something could not be set up or did not come up (exit 1).
    Failed(String),
    /// Ctrl-C (exit 130).
    Interrupted,
}

/// What a run produced.
struct Run {
    records: Vec<Record>,
    finals: BTreeMap<String, String>,
    final_reads: Vec<Record>,
    unread: Vec<String>,
    counts: Counts,
    notes: Vec<Annotation>,
    starts: u64,
    unexpected: Vec<String>,
    healed_leader: Option<(usize, Duration)>,
    frames: (u64, u64),
    workload: Duration,
}

/// The run directory: `--data` (new or empty), or a new temporary one.
fn run_dir(args: &TortureArgs, seed: u64) -> Result<(PathBuf, bool), ExitCode> {
    match &args.data {
        Some(d) => {
            if let Ok(mut entries) = fs::read_dir(d)
                && entries.next().is_some()
            {
                err!(
                    "raftlab torture: --data {} is not empty (a run needs fresh data directories)",
                    d.display()
                );
                return Err(exit::code(exit::USAGE));
            }
            if let Err(e) = fs::create_dir_all(d) {
                err!("raftlab torture: cannot create {}: {e}", d.display());
                return Err(exit::code(exit::USAGE));
            }
            Ok((d.clone(), false))
        }
        None => {
            let base = std::env::temp_dir();
            for n in 0..1000 {
                let d = base.join(format!("raftlab-torture-{seed}-{}-{n}", std::process::id()));
                match fs::create_dir(&d) {
                    Ok(()) => return Ok((d, true)),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                    Err(e) => {
                        err!("raftlab torture: cannot create {}: {e}", d.display());
                        return Err(exit::code(exit::FAILED));
                    }
                }
            }
            err!("raftlab torture: cannot find a free run directory name");
            Err(exit::code(exit::FAILED))
        }
    }
}

fn say(quiet: bool, clock: Option<&Clock>, line: &str) {
    if quiet {
        return;
    }
    match clock {
        Some(c) => out!("  {:>7.1}s  {line}", c.elapsed().as_secs_f64()),
        None => out!("  {line}"),
    }
    let _ = std::io::stdout().flush();
}

/// Runs `raftlab torture`: 0 when the history is linearizable, nothing acknowledged was
/// lost, every key was read after healing and no server ended by itself; 1 otherwise
/// (or when the cluster could not be set up); 3 for bad arguments; 130 on Ctrl-C.
pub fn run(args: TortureArgs) -> ExitCode {
    let command = "raftlab torture";
    if args.nemesis.contains(&Kind::None) && args.nemesis.len() > 1 {
        err!("{command}: --nemesis none cannot be combined with other faults");
        return exit::code(exit::USAGE);
    }
    let seed = args.seed.unwrap_or_else(clock_seed);
    let html = match HtmlFile::create(command, args.html.as_deref()) {
        Ok(h) => h,
        Err(code) => return code,
    };
    let (dir, temporary) = match run_dir(&args, seed) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let kinds: Vec<&str> = args.nemesis.iter().map(|k| k.name()).collect();
    out!(
        "{command}: {}, {}, {}, {} s, nemesis {}, seed {seed}{}",
        count(args.servers, "server"),
        count(args.clients, "client"),
        count(args.keys, "key"),
        args.seconds,
        kinds.join(","),
        match args.bug {
            Some(b) => format!(", deliberate bug {}", b.bug().name()),
            None => String::new(),
        }
    );
    out!("  run directory  {}", dir.display());
    let stop = interrupt::watch();
    let outcome = torture(&args, seed, &dir, stop);
    interrupt::release();
    let run = match outcome {
        Ok(r) => r,
        Err(Early::Interrupted) => {
            err!("interrupted: the history was not checked");
            err!("  kept   {}", dir.display());
            err!("  seed   {seed}");
            return exit::code(exit::INTERRUPTED);
        }
        Err(Early::Failed(why)) => {
            err!("FAILED: {why}");
            keep_notice(&dir, args.servers as usize);
            err!("  seed           {seed}");
            err!("  rerun          {}", rerun(&args, seed));
            return exit::code(exit::FAILED);
        }
    };
    finish(&args, seed, &dir, temporary, html, run)
}

/// The command that runs the same schedule again.
fn rerun(args: &TortureArgs, seed: u64) -> String {
    let kinds: Vec<&str> = args.nemesis.iter().map(|k| k.name()).collect();
    let mut s = format!(
        "raftlab torture --servers {} --clients {} --keys {} --seconds {} --nemesis {} --seed {seed}",
        args.servers,
        args.clients,
        args.keys,
        args.seconds,
        kinds.join(",")
    );
    if let Some(b) = args.bug {
        s.push_str(&format!(" --bug {}", b.bug().name()));
    }
    if args.op_timeout != 2000 {
        s.push_str(&format!(" --op-timeout {}", args.op_timeout));
    }
    s
}

fn keep_notice(dir: &Path, n: usize) {
    err!("  kept           {}", dir.display());
    err!(
        "  data           {}",
        (0..n)
            .map(|i| dir.join(format!("s{i}")).display().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    );
    err!(
        "  logs           {}",
        (0..n)
            .map(|i| dir.join(format!("s{i}.log")).display().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    );
}

/// Waits until `until`, watching the servers: a server that ended by itself is said,
/// counted and restarted. `Err` on Ctrl-C.
fn watch_until(
    until: Instant,
    servers: &mut Servers,
    unexpected: &mut Vec<String>,
    clock: &Clock,
    quiet: bool,
    stop: &AtomicBool,
) -> Result<(), Early> {
    loop {
        if stop.load(Ordering::SeqCst) {
            return Err(Early::Interrupted);
        }
        for (i, status) in servers.reap() {
            let line = format!(
                "S{i} {} by itself: {}",
                describe_exit(status),
                servers.last_log_line(i)
            );
            say(quiet, Some(clock), &line);
            unexpected.push(line);
            if let Err(e) = servers.start(i) {
                say(quiet, Some(clock), &format!("S{i} cannot restart: {e}"));
            }
        }
        let now = Instant::now();
        if now >= until {
            return Ok(());
        }
        std::thread::sleep((until - now).min(Duration::from_millis(50)));
    }
}

/// Waits (at most [`LEADER_WAIT`]) for a server to say it leads.
fn wait_for_leader(servers: &Servers) -> Option<(usize, Duration)> {
    let start = Instant::now();
    while start.elapsed() < LEADER_WAIT {
        if let Some(l) = servers.leader() {
            return Some((l, start.elapsed()));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

fn torture(args: &TortureArgs, seed: u64, dir: &Path, stop: &AtomicBool) -> Result<Run, Early> {
    let n = args.servers as usize;
    let quiet = args.quiet;
    let fail = |what: &str, e: std::io::Error| Early::Failed(format!("{what}: {e}"));
    let addrs = free_addrs(2 * n).map_err(|e| fail("cannot pick loopback ports", e))?;
    let (clients, listens) = addrs.split_at(n);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("raftlab-proxy")
        .enable_all()
        .build()
        .map_err(|e| fail("cannot start the proxies' runtime", e))?;
    let net = Mesh::new(&rt, listens, seed).map_err(|e| fail("cannot bind the proxies", e))?;
    let exe = std::env::current_exe().map_err(|e| fail("cannot find the raftlab executable", e))?;
    let mut extra = vec!["--max-raft-state".to_string(), MAX_RAFT_STATE.to_string()];
    if let Some(b) = args.bug {
        extra.push("--bug".into());
        extra.push(b.bug().name().into());
    }
    let launch = Launch {
        exe,
        cluster: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
        extra,
        seed,
        epoch_ms: raftlab::sim::verbose::unix_ms(),
    };
    let mut servers = Servers::new(launch, dir, clients, listens, |i, j| net.addr(i, j));
    for i in 0..n {
        servers
            .start(i)
            .map_err(|e| fail(&format!("cannot start S{i}"), e))?;
    }
    let Some((leader, after)) = wait_for_leader(&servers) else {
        let ended: Vec<String> = servers
            .reap()
            .into_iter()
            .map(|(i, s)| format!("S{i} {}: {}", describe_exit(s), servers.last_log_line(i)))
            .collect();
        return Err(Early::Failed(format!(
            "no leader within {} s of the start{}{}",
            LEADER_WAIT.as_secs(),
            if ended.is_empty() { "" } else { "; " },
            ended.join("; ")
        )));
    };
    say(
        quiet,
        None,
        &format!(
            "leader S{leader} after {:.1} s; the workload starts",
            after.as_secs_f64()
        ),
    );

    let clock = Arc::new(Clock::new());
    let started = Instant::now();
    let stop_clients = Arc::new(AtomicBool::new(false));
    let workload = Workload {
        servers: clients.to_vec(),
        keys: args.keys as usize,
        timeout: Duration::from_millis(args.op_timeout),
        until: started + Duration::from_secs(args.seconds),
        clock: clock.clone(),
        stop: stop_clients.clone(),
        seed,
        done: Arc::new(AtomicU64::new(0)),
    };
    let threads: Vec<_> = (0..args.clients as usize)
        .map(|t| {
            let w = workload.clone();
            std::thread::Builder::new()
                .name(format!("torture-client-{t}"))
                .spawn(move || client::run(t, w))
        })
        .collect::<std::io::Result<_>>()
        .map_err(|e| fail("cannot start the client threads", e))?;

    let plan = nemesis::schedule(seed, &args.nemesis, Duration::from_secs(args.seconds));
    let mut counts = Counts::default();
    let mut notes = Vec::new();
    let mut unexpected = Vec::new();
    let mut interrupted = false;
    let mut next_progress = Duration::from_secs(10);
    for p in &plan {
        // Progress lines every ten seconds, between faults.
        while next_progress < p.start {
            if watch_until(
                started + next_progress,
                &mut servers,
                &mut unexpected,
                &clock,
                quiet,
                stop,
            )
            .is_err()
            {
                interrupted = true;
                break;
            }
            say(
                quiet,
                Some(&clock),
                &format!(
                    "{} operations so far",
                    workload.done.load(Ordering::Relaxed)
                ),
            );
            next_progress += Duration::from_secs(10);
        }
        if interrupted
            || watch_until(
                started + p.start,
                &mut servers,
                &mut unexpected,
                &clock,
                quiet,
                stop,
            )
            .is_err()
        {
            interrupted = true;
            break;
        }
        let begin = clock.stamp();
        let active = nemesis::apply(p, &mut servers, &net);
        counts.add(p.fault);
        say(quiet, Some(&clock), &active.description);
        let held = watch_until(
            started + p.start + p.length,
            &mut servers,
            &mut unexpected,
            &clock,
            quiet,
            stop,
        );
        for (i, e) in nemesis::heal(&active, &mut servers, &net) {
            say(quiet, Some(&clock), &format!("S{i} cannot restart: {e}"));
            unexpected.push(format!("S{i} could not be restarted: {e}"));
        }
        let end = clock.stamp();
        say(quiet, Some(&clock), "healed");
        notes.push(Annotation {
            client: None,
            start: begin,
            end,
            text: active.description,
        });
        if held.is_err() {
            interrupted = true;
            break;
        }
    }
    if !interrupted
        && watch_until(
            workload.until,
            &mut servers,
            &mut unexpected,
            &clock,
            quiet,
            stop,
        )
        .is_err()
    {
        interrupted = true;
    }
    if interrupted {
        stop_clients.store(true, Ordering::SeqCst);
    }
    let mut records = Vec::new();
    for t in threads {
        match t.join() {
            Ok(r) => records.extend(r),
            Err(_) => return Err(Early::Failed("a client thread panicked".into())),
        }
    }
    let workload_time = started.elapsed();
    if interrupted {
        return Err(Early::Interrupted);
    }

    // Heal everything, wait for a leader, read every key.
    net.heal();
    for i in 0..n {
        servers.resume(i);
        if !servers.is_up(i)
            && let Err(e) = servers.start(i)
        {
            unexpected.push(format!("S{i} could not be restarted: {e}"));
        }
    }
    let healed_at = clock.stamp();
    let healed_leader = wait_for_leader(&servers);
    match healed_leader {
        Some((l, after)) => say(
            quiet,
            Some(&clock),
            &format!(
                "everything healed; leader S{l} after {:.1} s; reading every key",
                after.as_secs_f64()
            ),
        ),
        None => say(
            quiet,
            Some(&clock),
            &format!(
                "everything healed; no leader within {} s",
                LEADER_WAIT.as_secs()
            ),
        ),
    }
    notes.push(Annotation {
        client: None,
        start: healed_at,
        end: healed_at,
        text: "every fault healed".into(),
    });
    let (finals, final_reads, unread) = final_reads(
        &servers,
        healed_leader.map(|(l, _)| l),
        args.keys as usize,
        &clock,
    );
    watch_until(
        Instant::now(),
        &mut servers,
        &mut unexpected,
        &clock,
        quiet,
        stop,
    )?;
    let starts = (0..n).map(|i| servers.starts(i)).sum();
    let frames = net.frames();
    drop(servers);
    drop(net);
    drop(rt);
    Ok(Run {
        records,
        finals,
        final_reads,
        unread,
        counts,
        notes,
        starts,
        unexpected,
        healed_leader,
        frames,
        workload: workload_time,
    })
}

/// Reads every key once the cluster is healed: from the leader first, then from the
/// others in turn, each attempt an operation of the history. Returns the values read,
/// the attempts, and the keys no attempt could read within [`FINAL_READS`].
fn final_reads(
    servers: &Servers,
    leader: Option<usize>,
    keys: usize,
    clock: &Clock,
) -> (BTreeMap<String, String>, Vec<Record>, Vec<String>) {
    let n = servers.len();
    let deadline = Instant::now() + FINAL_READS;
    let mut order: Vec<usize> = (0..n).collect();
    if let Some(l) = leader {
        order.rotate_left(l);
    }
    let mut finals = BTreeMap::new();
    let mut records = Vec::new();
    let mut unread = Vec::new();
    let mut attempt = 0usize;
    let mut conn: Option<Conn> = None;
    for k in 0..keys {
        let key = client::key_name(k);
        loop {
            if Instant::now() >= deadline {
                unread.push(key.clone());
                break;
            }
            if conn.is_none() {
                let s = order[attempt % n];
                conn = Conn::open(servers.list[s].client).ok();
                if conn.is_none() {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
            }
            let Some(c) = conn.as_mut() else { continue };
            let call = clock.stamp();
            let reply = c.call(&["GET", &key], Duration::from_secs(5));
            let ret = clock.stamp();
            let said = client::judge(KvOp::Get, reply);
            let input = KvInput {
                op: KvOp::Get,
                key: key.clone(),
                value: String::new(),
            };
            let meta = Some(format!(
                "final read from S{}{}",
                order[attempt % n],
                said.note
                    .as_deref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default()
            ));
            match said.outcome {
                Outcome::Ok => {
                    let v = said.value.unwrap_or_default();
                    finals.insert(key.clone(), v.clone());
                    records.push(Record {
                        op: KvOperation {
                            client: FINAL_CLIENT,
                            input,
                            call,
                            output: KvOutput::known(v),
                            ret: Some(ret),
                            meta,
                        },
                        outcome: Outcome::Ok,
                    });
                    break;
                }
                other => {
                    if other == Outcome::Unknown {
                        records.push(Record {
                            op: KvOperation {
                                client: FINAL_CLIENT + 1 + attempt as u64,
                                input,
                                call,
                                output: KvOutput::unknown(),
                                ret: None,
                                meta,
                            },
                            outcome: other,
                        });
                    }
                    conn = None;
                    attempt += 1;
                }
            }
        }
    }
    (finals, records, unread)
}

fn ms(stamps: i64) -> f64 {
    stamps as f64 / 1e6
}

/// Latency percentiles of the ok operations.
fn latency(records: &[Record]) -> String {
    let mut lat: Vec<i64> = records
        .iter()
        .filter(|r| r.outcome == Outcome::Ok)
        .filter_map(|r| r.op.ret.map(|t| t - r.op.call))
        .collect();
    if lat.is_empty() {
        return "no operation succeeded".into();
    }
    lat.sort_unstable();
    let pct = |p: f64| ms(lat[((lat.len() - 1) as f64 * p).round() as usize]);
    format!(
        "p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms (ok operations)",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    )
}

/// Writes the history as JSON lines, with the faults as timeline notes.
fn write_history(path: &Path, ops: &[KvOperation], notes: &[Annotation]) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(fs::File::create(path)?);
    for a in notes {
        let note = serde_json::json!({"note": a.text, "at": a.start, "end": a.end});
        writeln!(out, "{note}")?;
    }
    raftlab_checker::kv::write_jsonl(ops, &mut out)?;
    out.flush()
}

fn finish(
    args: &TortureArgs,
    seed: u64,
    dir: &Path,
    temporary: bool,
    html: Option<HtmlFile>,
    run: Run,
) -> ExitCode {
    let n = args.servers as usize;
    let (ok, failed, unknown) =
        run.records
            .iter()
            .fold((0, 0, 0), |(o, f, u), r| match r.outcome {
                Outcome::Ok => (o + 1, f, u),
                Outcome::Failed => (o, f + 1, u),
                Outcome::Unknown => (o, f, u + 1),
            });
    // The history: everything that may have taken effect, and the final reads.
    let mut ops: Vec<KvOperation> = run
        .records
        .iter()
        .chain(&run.final_reads)
        .filter(|r| r.outcome != Outcome::Failed)
        .map(|r| r.op.clone())
        .collect();
    ops.sort_by_key(|o| o.call);
    let history_path = dir.join("history.jsonl");
    let history_written = write_history(&history_path, &ops, &run.notes);
    let lost = durability::lost(&ops, &run.finals);

    let started = Instant::now();
    let mut options = CheckOptions::new();
    if args.check_timeout > 0.0 {
        options = options.with_timeout(Duration::from_secs_f64(args.check_timeout));
    }
    let fast = match check(&KvModel, &ops, &options) {
        Ok(r) => r,
        Err(e) => {
            err!("the recorded history is malformed: {e}");
            return exit::code(exit::FAILED);
        }
    };
    let check_time = started.elapsed();
    // The report and the HTML view need the verbose search's records.
    let verbose = if fast.verdict == Verdict::Illegal || html.is_some() {
        let started = Instant::now();
        let mut options = CheckOptions::verbose();
        if args.check_timeout > 0.0 {
            options = options.with_timeout(Duration::from_secs_f64(args.check_timeout));
        }
        check(&KvModel, &ops, &options).ok().map(|result| Checked {
            result,
            time: started.elapsed(),
        })
    } else {
        None
    };
    let verdict = fast.verdict;

    let secs = run.workload.as_secs_f64();
    out!("");
    out!(
        "  operations     {} (ok {ok}, failed {failed}, unknown {unknown})",
        run.records.len()
    );
    out!(
        "  throughput     {:.0} ops/s over {secs:.1} s",
        run.records.len() as f64 / secs.max(1e-9)
    );
    out!("  latency        {}", latency(&run.records));
    out!("  nemesis        {}", run.counts.describe(&args.nemesis));
    out!(
        "  network        {} frames forwarded, {} dropped or swallowed",
        run.frames.1,
        run.frames.0
    );
    out!(
        "  servers        {} ({}), {} ended by themselves",
        count(run.starts, "start"),
        count(run.starts.saturating_sub(n as u64), "restart"),
        run.unexpected.len()
    );
    match run.healed_leader {
        Some((l, after)) => out!(
            "  healed         leader S{l} {:.1} s after healing; {} of {} keys read",
            after.as_secs_f64(),
            run.finals.len(),
            args.keys
        ),
        None => out!(
            "  healed         no leader within {} s; {} of {} keys read",
            LEADER_WAIT.as_secs(),
            run.finals.len(),
            args.keys
        ),
    }
    let partitions = fast.partitions.len();
    out!(
        "  check          {} operations in {partitions} partitions, checked in {}{}",
        ops.len(),
        duration(check_time),
        match &verbose {
            Some(v) => format!(" (again with records for the report: {})", duration(v.time)),
            None => String::new(),
        }
    );
    out!("  verdict        {verdict}");
    if run.unread.is_empty() {
        out!("  lost           {}", lost.len());
    } else {
        out!(
            "  lost           {} (not judged: {} could not be read)",
            lost.len(),
            run.unread.join(", ")
        );
    }
    for &i in lost.iter().take(10) {
        let w = &ops[i];
        out!(
            "    lost: {} [client {}, {}, acknowledged at {:.3} s]",
            raftlab_checker::Model::describe_operation(&KvModel, &w.input, &w.output),
            w.client,
            w.meta.as_deref().unwrap_or(""),
            Clock::at(w.ret.unwrap_or(0)).as_secs_f64()
        );
    }
    if lost.len() > 10 {
        out!("    ... and {} more", lost.len() - 10);
    }
    for u in &run.unexpected {
        out!("    server: {u}");
    }
    out!("  seed           {seed}");
    if verdict == Verdict::Illegal
        && let Some(v) = &verbose
    {
        out!(
            "{}",
            report::summary(&KvModel, &ops, &v.result, None).trim_end()
        );
    }
    let mut html_failed = false;
    if let Some(h) = html {
        match &verbose {
            Some(v) => {
                let title = format!("raftlab torture, seed {seed}");
                if h.write_with(&ops, v, title, run.notes.clone()).is_err() {
                    html_failed = true;
                }
            }
            None => {
                err!("the HTML view was not written: the verbose check failed");
                html_failed = true;
            }
        }
    }
    let passed = verdict == Verdict::Ok
        && lost.is_empty()
        && run.unread.is_empty()
        && run.unexpected.is_empty()
        && history_written.is_ok();
    if let Err(e) = &history_written {
        err!("cannot write {}: {e}", history_path.display());
    }
    if passed && temporary {
        let _ = fs::remove_dir_all(dir);
    } else {
        out!("  history        {}", history_path.display());
        out!(
            "  check again    raftlab lincheck {}",
            history_path.display()
        );
        out!("  data           {}", dir.display());
        out!(
            "  logs           {}",
            (0..n)
                .map(|i| dir.join(format!("s{i}.log")).display().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    if !passed {
        let mut why = Vec::new();
        if verdict != Verdict::Ok {
            why.push(format!("the verdict is {verdict}"));
        }
        if !lost.is_empty() {
            why.push(format!("{} acknowledged writes lost", lost.len()));
        }
        if !run.unread.is_empty() {
            why.push(format!("{} keys unread after healing", run.unread.len()));
        }
        if !run.unexpected.is_empty() {
            why.push(format!(
                "{} servers ended by themselves",
                run.unexpected.len()
            ));
        }
        err!("FAILED: {}; rerun: {}", why.join(", "), rerun(args, seed));
        return exit::code(exit::FAILED);
    }
    if html_failed {
        return exit::code(exit::USAGE);
    }
    exit::code(exit::OK)
}
