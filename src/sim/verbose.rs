//! `VERBOSE=1`: one topic-tagged line per event, `<virtual ms> <TOPIC> S<id> <text>`.
//!
//! The cores log through `tracing` with the fields `topic` and `node`; this subscriber,
//! installed for the current thread by a simulation, prints them with the simulation's
//! virtual time. Lines go to standard output, so that they interleave with the test's
//! own lines and can be piped into `raftlab dslogs`.

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
    enabled().then(|| tracing::subscriber::set_default(Printer { clock }))
}

struct Printer {
    clock: Arc<AtomicU64>,
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
        metadata.target().starts_with("raftlab")
    }

    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut f = Fields::default();
        event.record(&mut f);
        let ms = self.clock.load(Ordering::Relaxed) / 1000;
        let topic = f.topic.as_deref().unwrap_or("INFO");
        match f.node {
            Some(n) => {
                let n = NODE_BASE.with(Cell::get) + n;
                println!("{ms:06} {topic} S{n} {}", f.message)
            }
            None => println!("{ms:06} {topic} {}", f.message),
        }
    }

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}
