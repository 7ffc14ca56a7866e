//! One load generator for both systems of `bench/vs-etcd.sh`: raftlab through the Redis
//! protocol (`SET`/`GET`, the `redis` crate) and etcd through its gRPC API (`Put`/`Range`,
//! the `etcd-client` crate).
//!
//! `--clients N` closed-loop clients each send one request, wait for its answer and send
//! the next, for `--warmup` seconds (not counted) and then `--seconds` seconds (counted).
//! Keys are `key-<i>` for `i` below `--keys`, drawn uniformly; values are `--value-bytes`
//! ASCII bytes. `--mix put` sends only writes; `--mix get90` sends 90% reads and 10%
//! writes. Every client draws from its own generator, seeded from `--seed` and its index,
//! so two runs (and the two systems) see the same sequence of operations.
//!
//! - raftlab: client `i` opens its own connection to endpoint `i mod E` of `--endpoints`
//!   (one connection is one clerk session on the server); a follower forwards to the
//!   leader. Reads go through the Raft log (linearizable).
//! - etcd: `--etcd-conns C` clients of the etcd crate, each balancing over every endpoint
//!   as etcd's clients do; logical client `i` uses client `i mod C`. Reads are etcd's
//!   default, linearizable (a quorum read-index round before the local read).
//!
//! `--mix preload` writes every key once (with `--clients` writers) and prints how long it
//! took, so that reads find values.
//!
//! It prints one line of `name=value` fields: the operations counted, ops/s, latency
//! percentiles in microseconds (p50, p90, p99, p99.9, max; an HDR histogram, 3 significant
//! digits), errors (a failed or timed-out request: the client waits 10 ms and goes on).
//! Exit 0 when it ran, 2 for bad arguments, 1 when it could not connect.
//!
//! ```text
//! raftlab-load --system raftlab|etcd --endpoints HOST:PORT,... --clients N
//!              [--mix put|get90|preload] [--seconds S] [--warmup S] [--keys K]
//!              [--value-bytes B] [--seed N] [--etcd-conns C] [--timeout-ms MS]
//! ```

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum System {
    Raftlab,
    Etcd,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mix {
    Put,
    Get90,
    Preload,
}

impl Mix {
    fn name(self) -> &'static str {
        match self {
            Mix::Put => "put",
            Mix::Get90 => "get90",
            Mix::Preload => "preload",
        }
    }
}

#[derive(Clone, Debug)]
struct Args {
    system: System,
    endpoints: Vec<String>,
    clients: usize,
    mix: Mix,
    seconds: f64,
    warmup: f64,
    keys: u64,
    value_bytes: usize,
    seed: u64,
    etcd_conns: Option<usize>,
    timeout: Duration,
}

const USAGE: &str = "usage: raftlab-load --system raftlab|etcd --endpoints HOST:PORT,... --clients N \
[--mix put|get90|preload] [--seconds S] [--warmup S] [--keys K] [--value-bytes B] [--seed N] \
[--etcd-conns C] [--timeout-ms MS]";

fn parse_args(argv: &[String]) -> Result<Args, String> {
    let mut system = None;
    let mut endpoints = None;
    let mut clients = None;
    let mut a = Args {
        system: System::Raftlab,
        endpoints: Vec::new(),
        clients: 1,
        mix: Mix::Put,
        seconds: 10.0,
        warmup: 2.0,
        keys: 1000,
        value_bytes: 256,
        seed: 1,
        etcd_conns: None,
        timeout: Duration::from_secs(10),
    };
    let mut it = argv.iter();
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            return Err(String::new());
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value"))?
            .as_str();
        let num = |what: &str| -> Result<u64, String> {
            value
                .parse::<u64>()
                .map_err(|e| format!("{what} {value:?}: {e}"))
        };
        let secs = |what: &str| -> Result<f64, String> {
            match value.parse::<f64>() {
                Ok(s) if s.is_finite() && (0.0..=3600.0).contains(&s) => Ok(s),
                Ok(_) => Err(format!("{what} {value:?}: need 0 to 3600 seconds")),
                Err(e) => Err(format!("{what} {value:?}: {e}")),
            }
        };
        match flag.as_str() {
            "--system" => {
                system = Some(match value {
                    "raftlab" => System::Raftlab,
                    "etcd" => System::Etcd,
                    _ => return Err(format!("--system {value:?}: raftlab or etcd")),
                })
            }
            "--endpoints" => {
                let list: Vec<String> = value
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                if list.is_empty() {
                    return Err("--endpoints is empty".into());
                }
                endpoints = Some(list);
            }
            "--clients" => {
                let n = num("--clients")?;
                if !(1..=10_000).contains(&n) {
                    return Err(format!("--clients {n}: need 1 to 10000"));
                }
                clients = Some(n as usize);
            }
            "--mix" => {
                a.mix = match value {
                    "put" => Mix::Put,
                    "get90" => Mix::Get90,
                    "preload" => Mix::Preload,
                    _ => return Err(format!("--mix {value:?}: put, get90 or preload")),
                }
            }
            "--seconds" => a.seconds = secs("--seconds")?,
            "--warmup" => a.warmup = secs("--warmup")?,
            "--keys" => {
                a.keys = num("--keys")?;
                if a.keys == 0 {
                    return Err("--keys 0: need at least one key".into());
                }
            }
            "--value-bytes" => {
                let n = num("--value-bytes")?;
                if !(1..=1 << 20).contains(&n) {
                    return Err(format!("--value-bytes {n}: need 1 to 1048576"));
                }
                a.value_bytes = n as usize;
            }
            "--seed" => a.seed = num("--seed")?,
            "--etcd-conns" => {
                let n = num("--etcd-conns")?;
                if !(1..=10_000).contains(&n) {
                    return Err(format!("--etcd-conns {n}: need 1 to 10000"));
                }
                a.etcd_conns = Some(n as usize);
            }
            "--timeout-ms" => {
                let n = num("--timeout-ms")?;
                if n == 0 {
                    return Err("--timeout-ms 0: need at least 1".into());
                }
                a.timeout = Duration::from_millis(n);
            }
            _ => return Err(format!("unknown argument {flag:?}")),
        }
    }
    a.system = system.ok_or("--system is required")?;
    a.endpoints = endpoints.ok_or("--endpoints is required")?;
    a.clients = clients.ok_or("--clients is required")?;
    if a.mix != Mix::Preload && a.seconds <= 0.0 {
        return Err("--seconds must be above 0".into());
    }
    Ok(a)
}

/// One connection's way of sending a request.
enum Conn {
    Redis(redis::aio::MultiplexedConnection),
    // Boxed: the gRPC client is many times the size of the Redis connection.
    Etcd(Box<etcd_client::KvClient>),
}

impl Conn {
    async fn put(&mut self, key: &str, value: &str) -> Result<(), String> {
        match self {
            Conn::Redis(c) => redis::cmd("SET")
                .arg(key)
                .arg(value)
                .query_async::<()>(c)
                .await
                .map_err(|e| e.to_string()),
            Conn::Etcd(c) => c
                .put(key, value, None)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
        }
    }

    async fn get(&mut self, key: &str) -> Result<usize, String> {
        match self {
            Conn::Redis(c) => redis::cmd("GET")
                .arg(key)
                .query_async::<Option<Vec<u8>>>(c)
                .await
                .map(|v| v.map_or(0, |v| v.len()))
                .map_err(|e| e.to_string()),
            Conn::Etcd(c) => c
                .get(key, None)
                .await
                .map(|r| r.kvs().first().map_or(0, |kv| kv.value().len()))
                .map_err(|e| e.to_string()),
        }
    }
}

async fn connect(args: &Args) -> Result<Vec<Conn>, String> {
    let mut conns = Vec::with_capacity(args.clients);
    match args.system {
        System::Raftlab => {
            for i in 0..args.clients {
                let ep = &args.endpoints[i % args.endpoints.len()];
                let client = redis::Client::open(format!("redis://{ep}/"))
                    .map_err(|e| format!("{ep}: {e}"))?;
                let c = client
                    .get_multiplexed_async_connection()
                    .await
                    .map_err(|e| format!("connecting to raftlab at {ep}: {e}"))?;
                conns.push(Conn::Redis(c));
            }
        }
        System::Etcd => {
            let n = args.etcd_conns.unwrap_or(args.clients).min(args.clients);
            let mut clients = Vec::with_capacity(n);
            for _ in 0..n {
                let c = etcd_client::Client::connect(&args.endpoints, None)
                    .await
                    .map_err(|e| format!("connecting to etcd at {:?}: {e}", args.endpoints))?;
                clients.push(c.kv_client());
            }
            for i in 0..args.clients {
                conns.push(Conn::Etcd(Box::new(clients[i % n].clone())));
            }
        }
    }
    Ok(conns)
}

struct Tally {
    ops: u64,
    errors: u64,
    hist: Histogram<u64>,
    first_error: Option<String>,
}

fn new_hist() -> Histogram<u64> {
    // 1 µs to 100 s, 3 significant digits.
    Histogram::new_with_bounds(1, 100_000_000, 3).expect("valid histogram bounds")
}

/// This process's CPU time (user + system) in seconds, from `/proc/self/stat` (fields 14
/// and 15, in the kernel's USER_HZ ticks of 1/100 s); `None` where that file is missing.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

fn key(i: u64) -> String {
    format!("key-{i}")
}

async fn client_loop(
    mut conn: Conn,
    index: usize,
    args: Arc<Args>,
    value: Arc<String>,
    measure_from: Instant,
    end: Instant,
) -> Tally {
    let mut rng =
        SmallRng::seed_from_u64(args.seed ^ (index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let mut t = Tally {
        ops: 0,
        errors: 0,
        hist: new_hist(),
        first_error: None,
    };
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        let k = key(rng.random_range(0..args.keys));
        let read = args.mix == Mix::Get90 && rng.random_range(0..10) != 0;
        let sent = Instant::now();
        let r = if read {
            tokio::time::timeout(args.timeout, conn.get(&k))
                .await
                .map(|r| r.map(|_| ()))
        } else {
            tokio::time::timeout(args.timeout, conn.put(&k, &value)).await
        };
        let done = Instant::now();
        let counted = sent >= measure_from && done <= end;
        match r {
            Ok(Ok(())) => {
                if counted {
                    t.ops += 1;
                    let us = (done - sent).as_micros().max(1) as u64;
                    t.hist.saturating_record(us);
                }
            }
            failed => {
                if counted {
                    t.errors += 1;
                }
                if t.first_error.is_none() {
                    t.first_error = Some(match failed {
                        Ok(Err(e)) => e,
                        _ => format!("no answer in {} ms", args.timeout.as_millis()),
                    });
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    t
}

async fn preload(conns: Vec<Conn>, args: Arc<Args>, value: Arc<String>) -> Result<(), String> {
    let n = conns.len() as u64;
    let mut tasks = Vec::new();
    for (i, mut conn) in conns.into_iter().enumerate() {
        let (args, value) = (args.clone(), value.clone());
        tasks.push(tokio::spawn(async move {
            let mut k = i as u64;
            while k < args.keys {
                let mut tries = 0;
                loop {
                    match tokio::time::timeout(args.timeout, conn.put(&key(k), &value)).await {
                        Ok(Ok(())) => break,
                        Ok(Err(e)) if tries >= 20 => {
                            return Err(format!("preload {}: {e}", key(k)));
                        }
                        Err(_) if tries >= 20 => {
                            return Err(format!("preload {}: timed out", key(k)));
                        }
                        _ => {
                            tries += 1;
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                }
                k += n;
            }
            Ok(())
        }));
    }
    for t in tasks {
        t.await.map_err(|e| format!("preload task: {e}"))??;
    }
    Ok(())
}

async fn run(args: Args) -> Result<(), String> {
    let args = Arc::new(args);
    let value: Arc<String> = Arc::new(
        (0..args.value_bytes)
            .map(|i| (b'a' + (i % 26) as u8) as char)
            .collect(),
    );
    let conns = connect(&args).await?;
    let system = match args.system {
        System::Raftlab => "raftlab",
        System::Etcd => "etcd",
    };
    if args.mix == Mix::Preload {
        let t0 = Instant::now();
        preload(conns, args.clone(), value).await?;
        println!(
            "system={system} mix=preload keys={} seconds={:.2}",
            args.keys,
            t0.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    let cpu0 = cpu_seconds();
    let start = Instant::now();
    let measure_from = start + Duration::from_secs_f64(args.warmup);
    let end = measure_from + Duration::from_secs_f64(args.seconds);
    let mut tasks = Vec::with_capacity(conns.len());
    for (i, conn) in conns.into_iter().enumerate() {
        tasks.push(tokio::spawn(client_loop(
            conn,
            i,
            args.clone(),
            value.clone(),
            measure_from,
            end,
        )));
    }
    let mut total = Tally {
        ops: 0,
        errors: 0,
        hist: new_hist(),
        first_error: None,
    };
    for t in tasks {
        let t = t.await.map_err(|e| format!("client task: {e}"))?;
        total.ops += t.ops;
        total.errors += t.errors;
        total
            .hist
            .add(&t.hist)
            .map_err(|e| format!("merging histograms: {e}"))?;
        if total.first_error.is_none() {
            total.first_error = t.first_error;
        }
    }
    let h = &total.hist;
    // Over the whole run, warm-up included.
    let cpu = match (cpu0, cpu_seconds()) {
        (Some(a), Some(b)) => format!("{:.2}", b - a),
        _ => "-".into(),
    };
    println!(
        "system={system} mix={} clients={} seconds={} ops={} ops_s={:.0} p50_us={} p90_us={} p99_us={} p999_us={} max_us={} errors={} cpu_s={cpu}",
        args.mix.name(),
        args.clients,
        args.seconds,
        total.ops,
        total.ops as f64 / args.seconds,
        h.value_at_quantile(0.50),
        h.value_at_quantile(0.90),
        h.value_at_quantile(0.99),
        h.value_at_quantile(0.999),
        h.max(),
        total.errors
    );
    if let Some(e) = total.first_error {
        eprintln!("raftlab-load: first error: {e}");
    }
    Ok(())
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse_args(&argv) {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("raftlab-load: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("raftlab-load: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("raftlab-load: {e}");
            ExitCode::FAILURE
        }
    }
}
