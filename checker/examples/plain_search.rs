//! The plain search (no prunings, no search by components: `Unpruned`) of a
//! key/value history, or of some of its keys, beside lincheck's own search, to
//! confirm a verdict the prunings decided:
//!
//! ```text
//! cargo run --release -p raftlab-checker --example plain_search -- FILE
//!     [--keys K1,K2,...] [--whole] [--timeout S]
//! ```
//!
//! `--keys` keeps only the operations of those keys (keys are independent, so a
//! verdict on some keys' operations is the verdict of those keys' partitions);
//! `--whole` checks the kept operations as one partition (the map model) instead of
//! one partition per key; `--timeout` bounds each search (seconds, default 0: none;
//! the plain search may then need gigabytes). Prints, for each search, the verdict
//! and each partition's status, steps, configurations, states and table bytes (every
//! partition is searched to its end, on one thread). Exits 1 if the two searches
//! decide differently, 3 on bad arguments or input.

use raftlab_checker::format::{self, ModelKind, Ops};
use raftlab_checker::models::kv::{KvInput, KvModel, KvOutput};
use raftlab_checker::models::map::MapModel;
use raftlab_checker::{CheckOptions, CheckResult, Model, Operation, Unpruned, Verdict, check};
use std::io::Write;
use std::time::{Duration, Instant};

/// Prints a line; if standard output is gone (`| head`), ends quietly.
fn say(line: String) {
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
        std::process::exit(0);
    }
}

struct Args {
    file: String,
    keys: Option<Vec<String>>,
    whole: bool,
    timeout: u64,
}

fn parse(mut argv: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut file = None;
    let mut keys = None;
    let mut whole = false;
    let mut timeout = 0;
    while let Some(a) = argv.next() {
        match a.as_str() {
            "--keys" => {
                let list = argv.next().ok_or("--keys needs a list")?;
                keys = Some(list.split(',').map(str::to_string).collect());
            }
            "--whole" => whole = true,
            "--timeout" => {
                let s = argv.next().ok_or("--timeout needs seconds")?;
                timeout = s.parse().map_err(|e| format!("--timeout {s:?}: {e}"))?;
            }
            _ if a.starts_with("--") => return Err(format!("unknown option {a}")),
            _ if file.is_none() => file = Some(a),
            _ => return Err(format!("unexpected argument {a:?}")),
        }
    }
    Ok(Args {
        file: file.ok_or("usage: plain_search FILE [--keys K,...] [--whole] [--timeout S]")?,
        keys,
        whole,
        timeout,
    })
}

fn run<M: Model<Input = KvInput, Output = KvOutput>>(
    label: &str,
    model: &M,
    ops: &[Operation<KvInput, KvOutput>],
    options: &CheckOptions,
) -> CheckResult {
    let started = Instant::now();
    let r = match check(model, ops, options) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("plain_search: {e}");
            std::process::exit(3);
        }
    };
    say(format!(
        "{label}: {} in {:.3} s",
        r.verdict,
        started.elapsed().as_secs_f64()
    ));
    for p in &r.partitions {
        let s = &p.stats;
        say(format!(
            "  {} ({} operations): {}, {} steps, {} configurations, {} states, {} table bytes",
            p.name,
            p.operations.len(),
            p.status,
            s.steps,
            s.configurations,
            s.states,
            s.table_bytes
        ));
    }
    r
}

fn main() {
    let args = match parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("plain_search: {e}");
            std::process::exit(3);
        }
    };
    let loaded = std::fs::read_to_string(&args.file)
        .map_err(|e| e.to_string())
        .and_then(|text| {
            let format = format::detect(&text).map_err(|e| e.to_string())?;
            format::load(&text, format, Some(ModelKind::Kv)).map_err(|e| e.to_string())
        });
    let mut ops = match loaded {
        Ok(format::Loaded {
            ops: Ops::Kv(ops), ..
        }) => ops,
        Ok(_) => {
            eprintln!("plain_search: {}: not a key/value history", args.file);
            std::process::exit(3);
        }
        Err(e) => {
            eprintln!("plain_search: {}: {e}", args.file);
            std::process::exit(3);
        }
    };
    if let Some(keys) = &args.keys {
        ops.retain(|o| keys.contains(&o.input.key));
        if ops.is_empty() {
            eprintln!("plain_search: {}: no operation of keys {keys:?}", args.file);
            std::process::exit(3);
        }
    }
    let mut options = CheckOptions::new().with_threads(1);
    // Every partition to its end, not only up to the first illegal one.
    options.check_all = true;
    options.timeout = (args.timeout > 0).then(|| Duration::from_secs(args.timeout));
    let (pruned, plain) = if args.whole {
        (
            run("lincheck's search, whole", &MapModel, &ops, &options),
            run("plain search, whole", &Unpruned(MapModel), &ops, &options),
        )
    } else {
        (
            run("lincheck's search, per key", &KvModel, &ops, &options),
            run("plain search, per key", &Unpruned(KvModel), &ops, &options),
        )
    };
    let decided = |r: &CheckResult| r.verdict != Verdict::Unknown;
    if decided(&pruned) && decided(&plain) && pruned.verdict != plain.verdict {
        say("the verdicts differ".to_string());
        std::process::exit(1);
    }
}
