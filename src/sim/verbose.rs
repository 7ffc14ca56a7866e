//! `VERBOSE=1`: one topic-tagged line per event, `<virtual ms> <TOPIC> S<id> <text>`.
//!
//! The cores log through `tracing` with the fields `topic` and `node`; this subscriber,
//! installed for the current thread by a simulation, prints them with the simulation's
//! virtual time. Lines go to standard output, so that they interleave with the test's
//! own lines and can be piped into `raftlab dslogs`.
//!
//! The real runtime installs the same printer process-wide ([`install_wall`]), stamped
//! with wall-clock milliseconds since an epoch that every server of a local cluster
//! shares, writing to standard error. It always prints the runtime's own lines (target
//! `raftlab::runtime`: listening, recovery, peers, leadership), and the cores' lines only
//! with `VERBOSE`.

use std::cell::Cell;
use std::fmt::{self, Write as _};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing::field::{Field, Visit};
use tracing::span;
use tracing::subscriber::DefaultGuard;
use tracing::{Event, Metadata, Subscriber};

thread_local! {
    /// Added to the node id of every line: a world with several clusters (the shard
    /// groups and controllers of Lab 5) numbers its servers one after another, so that
    /// each has a column of its own in `raftlab dslogs`.
    static NODE_BASE: Cell<u64> = const { Cell::new(0) };
}

/// Runs `step` with its log lines' node ids shifted by `base`: a node whose core calls
/// itself `S1` logs as `S{base + 1}`.
pub fn as_node_base<R>(base: u64, step: impl FnOnce() -> R) -> R {
    let old = NODE_BASE.with(|b| b.replace(base));
    let result = step();
    NODE_BASE.with(|b| b.set(old));
    result
}

/// Whether `VERBOSE` asks for logs (set, and neither empty nor "0").
pub fn enabled() -> bool {
    std::env::var("VERBOSE").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Installs the printer for this thread if `VERBOSE` is set. Logging stops when the
/// guard is dropped.
pub fn install(clock: Arc<AtomicU64>) -> Option<DefaultGuard> {
    enabled().then(|| {
        tracing::subscriber::set_default(Printer {
            clock: Clock::Virtual(clock),
            cores: true,
            stderr: false,
        })
    })
}

/// Where a printer's time comes from.
enum Clock {
    /// The simulation's virtual clock, in microseconds.
    Virtual(Arc<AtomicU64>),
    /// Wall-clock time since this many milliseconds after the Unix epoch.
    Wall { epoch_ms: u64 },
}

struct Printer {
    clock: Clock,
    /// Print the cores' lines too (else only the runtime's own).
    cores: bool,
    /// Write to standard error (the runtime) instead of standard output (simulations).
    stderr: bool,
}

/// Milliseconds since the Unix epoch, now.
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Installs the wall-clock printer for the whole process (the real runtime): the
/// runtime's own lines always, the cores' lines when `cores` (`VERBOSE`), stamped with
/// the milliseconds since `epoch_ms` (Unix milliseconds). Returns false if a
/// subscriber was already installed.
pub fn install_wall(cores: bool, epoch_ms: u64) -> bool {
    tracing::subscriber::set_global_default(Printer {
        clock: Clock::Wall { epoch_ms },
        cores,
        stderr: true,
    })
    .is_ok()
}

#[derive(Default)]
struct Fields {
    topic: Option<String>,
    node: Option<u64>,
    message: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "topic" => self.topic = Some(value.to_string()),
            "message" => self.message.push_str(value),
            other => {
                let _ = write!(self.message, " {other}={value}");
            }
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "node" {
            self.node = Some(value);
        } else {
            let _ = write!(self.message, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => {
                let _ = write!(self.message, "{value:?}");
            }
            "topic" => self.topic = Some(format!("{value:?}")),
            other => {
                let _ = write!(self.message, " {other}={value:?}");
            }
        }
    }
}

impl Subscriber for Printer {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        let target = metadata.target();
        target.starts_with("raftlab::runtime") || (self.cores && target.starts_with("raftlab"))
    }

    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut f = Fields::default();
        event.record(&mut f);
        let ms = match &self.clock {
            Clock::Virtual(us) => us.load(Ordering::Relaxed) / 1000,
            Clock::Wall { epoch_ms } => unix_ms().saturating_sub(*epoch_ms),
        };
        let topic = f.topic.as_deref().unwrap_or("INFO");
        let line = match f.node {
            Some(n) => {
                let n = NODE_BASE.with(Cell::get) + n;
                format!("{ms:06} {topic} S{n} {}", f.message)
            }
            None => format!("{ms:06} {topic} {}", f.message),
        };
        // A closed pipe (output piped into `head`) must not panic the process.
        use std::io::Write as _;
        let _ = if self.stderr {
            writeln!(std::io::stderr().lock(), "{line}")
        } else {
            writeln!(std::io::stdout().lock(), "{line}")
        };
    }

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}
