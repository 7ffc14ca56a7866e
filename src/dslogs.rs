//! `raftlab dslogs`: lays out a simulation's logs with one column per server.
//!
//! It reads, line by line, either of the simulator's two outputs:
//!
//! - the `VERBOSE=1` lines of the cores (see [`crate::sim::verbose`]):
//!   `<virtual ms> <TOPIC> S<id> <text>`, or `<virtual ms> <TOPIC> <text>` for a line
//!   that belongs to no server;
//! - the JSON lines of a full event trace (see [`crate::sim::trace`]), recognized by
//!   their leading `{`; each record becomes a line with its own topic (`CALL`, `RECV`,
//!   `RPLY`, `RTRN`, `DROP`, `FAIL`, `TSET`, `TIMR`, `CRSH`, `BOOT`, `CONN`, `CLNT`,
//!   `APLY`, `NETW`; see [`trace_topic`]).
//!
//! A line of server `i` is printed in column `i` after the virtual time; a line of no
//! server (or of a server beyond the last column) spans every column. Text wraps inside
//! its column, continuation lines keep the column, and each topic has its own colour
//! (256-colour ANSI codes, only when asked for). Every other line (the test's own
//! prints, a panic, a truncated record, bytes that are not UTF-8) is written out
//! exactly as it came, never dropped. Topic filters apply to laid-out lines only.
//!
//! Widths count characters, which is right for the ASCII the cores print.

use std::collections::BTreeSet;
use std::io::{self, BufRead, BufReader, Read, Write};

use crate::sim::{FailReason, Fate, TraceEvent, TraceRecord};

/// How the logs are laid out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Number of columns, one per server (at least 1).
    pub columns: usize,
    /// Width of the output in characters, the time included.
    pub width: usize,
    /// Colour each topic with ANSI escape codes.
    pub color: bool,
    /// If set, only these topics are laid out (other parsed lines are left out).
    pub only: Option<BTreeSet<String>>,
    /// Topics left out.
    pub ignore: BTreeSet<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            columns: 5,
            width: DEFAULT_WIDTH,
            color: false,
            only: None,
            ignore: BTreeSet::new(),
        }
    }
}

/// The width used when neither the terminal nor the user gives one.
pub const DEFAULT_WIDTH: usize = 160;

/// The narrowest a column gets, whatever the width: past that, lines grow wider than
/// the width rather than unreadable.
pub const MIN_COLUMN: usize = 12;

/// The most columns a layout has, and the widest it gets: larger requests are cut to
/// these (no terminal is wider, and the arithmetic stays far from overflow).
pub const MAX_COLUMNS: usize = 256;
/// See [`MAX_COLUMNS`].
pub const MAX_WIDTH: usize = 100_000;

/// Width of the time field and the space after it.
const TIME_FIELD: usize = 7;

/// One laid-out line's worth of facts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Virtual time in milliseconds.
    pub ms: u64,
    /// The topic, such as `VOTE` or `CALL`.
    pub topic: String,
    /// The server it belongs to, if any.
    pub server: Option<u64>,
    /// What happened.
    pub text: String,
}

/// How many lines of each kind [`run`] wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Lines laid out in columns.
    pub laid_out: u64,
    /// Lines left out by `--only` or `--ignore`.
    pub filtered: u64,
    /// Lines passed through unchanged.
    pub passed: u64,
}

/// Splits a topic list such as `"vote,LEAD, term"` into upper-case topic names.
pub fn parse_topics(list: &str) -> BTreeSet<String> {
    list.split([',', ' '])
        .map(|t| t.trim().to_ascii_uppercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Parses a `VERBOSE=1` line: `<ms> <TOPIC> [S<id>] <text>`, where the time has at least
/// six digits and the topic is 1 to 12 upper-case letters, digits or `_`, starting with
/// a letter. Returns `None` for anything else.
pub fn parse_verbose(line: &str) -> Option<Entry> {
    let (time, rest) = line.split_once(' ').unwrap_or((line, ""));
    if time.len() < 6 || !time.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ms = time.parse::<u64>().ok()?;
    let (topic, rest) = match rest.split_once(' ') {
        Some((t, r)) => (t, r),
        None => (rest, ""),
    };
    let topic_ok = (1..=12).contains(&topic.len())
        && topic.as_bytes()[0].is_ascii_uppercase()
        && topic
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if !topic_ok {
        return None;
    }
    let (first, after) = rest.split_once(' ').unwrap_or((rest, ""));
    let server = first
        .strip_prefix('S')
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|d| d.parse::<u64>().ok());
    let text = if server.is_some() { after } else { rest };
    Some(Entry {
        ms,
        topic: topic.to_string(),
        server,
        text: text.to_string(),
    })
}

/// Parses one JSON line of a trace. Returns `None` if it is not a whole, valid record.
pub fn parse_trace(line: &str) -> Option<Entry> {
    TraceRecord::from_json(line).ok().map(|r| trace_entry(&r))
}

/// A trace record as a line to lay out.
pub fn trace_entry(r: &TraceRecord) -> Entry {
    Entry {
        ms: r.t_us / 1000,
        topic: trace_topic(&r.event).to_string(),
        server: r.node,
        text: trace_text(&r.event),
    }
}

/// The topic of a trace event: `CALL` (a call made), `RECV` (a request delivered),
/// `RPLY` (a reply sent), `RTRN` (a reply returned to the caller), `DROP` (a request or
/// reply dropped), `FAIL` (a call failed), `TSET` (a timer set), `TIMR` (a timer
/// fired), `CRSH`, `BOOT` (a restart), `CONN` (connect or disconnect), `CLNT` (a
/// client's `Start`), `APLY` (an apply) and `NETW` (the network's settings).
pub fn trace_topic(e: &TraceEvent) -> &'static str {
    match e {
        TraceEvent::Call {
            fate: Fate::Dropped,
            ..
        }
        | TraceEvent::Reply {
            fate: Fate::Dropped,
            ..
        } => "DROP",
        TraceEvent::Call { .. } => "CALL",
        TraceEvent::Request { .. } => "RECV",
        TraceEvent::Reply { .. } => "RPLY",
        TraceEvent::Return { .. } => "RTRN",
        TraceEvent::Fail { .. } => "FAIL",
        TraceEvent::TimerSet { .. } => "TSET",
        TraceEvent::Timer { .. } => "TIMR",
        TraceEvent::Crash => "CRSH",
        TraceEvent::Restart { .. } => "BOOT",
        TraceEvent::Connect | TraceEvent::Disconnect => "CONN",
        TraceEvent::Start { .. } => "CLNT",
        TraceEvent::Apply { .. } | TraceEvent::ApplySnapshot { .. } => "APLY",
        TraceEvent::Network { .. } => "NETW",
    }
}

fn peer(node: Option<u64>, end: Option<&str>) -> String {
    match (node, end) {
        (Some(n), _) => format!("S{n}"),
        (None, Some(e)) => format!("end {e}"),
        (None, None) => "?".to_string(),
    }
}

/// Microseconds as whole (or, below 10, tenths of) milliseconds.
fn ms(us: u64) -> String {
    if us < 10_000 && us % 1000 != 0 {
        format!("{}.{}ms", us / 1000, us % 1000 / 100)
    } else {
        format!("{}ms", us / 1000)
    }
}

fn reason_text(r: FailReason) -> &'static str {
    match r {
        FailReason::RequestDropped => "request dropped",
        FailReason::ReplyDropped => "reply dropped",
        FailReason::EndDisabled => "link cut",
        FailReason::NoServer => "no server",
        FailReason::ServerGone => "server gone before delivery",
        FailReason::DeadBeforeReply => "server dead when it replied",
        FailReason::DeadWhileWaiting => "server died while awaited",
    }
}

/// The text of a trace event as `raftlab dslogs` shows it (calls are numbered `#id`).
pub fn trace_text(e: &TraceEvent) -> String {
    match e {
        TraceEvent::Call {
            call,
            to,
            end,
            msg,
            fate,
            after_us,
            ..
        } => {
            let to = peer(*to, Some(end));
            let when = match fate {
                Fate::Deliver if *after_us >= 1000 => format!(" [arrives in {}]", ms(*after_us)),
                Fate::Deliver => String::new(),
                Fate::Dropped => format!(" [request dropped, fails in {}]", ms(*after_us)),
                Fate::EndDisabled => format!(" [link cut, fails in {}]", ms(*after_us)),
                Fate::NoServer => format!(" [no server, fails in {}]", ms(*after_us)),
            };
            format!("#{call} -> {to} {msg}{when}")
        }
        TraceEvent::Request { call, from, msg } => {
            format!("#{call} <- {} {msg}", peer(*from, None))
        }
        TraceEvent::Reply {
            call,
            to,
            msg,
            fate,
            after_us,
        } => {
            let when = match fate {
                Fate::Deliver if *after_us >= 1000 => format!(" [arrives in {}]", ms(*after_us)),
                Fate::Dropped => " [reply dropped]".to_string(),
                _ => String::new(),
            };
            format!("#{call} -> {} {msg}{when}", peer(*to, None))
        }
        TraceEvent::Return {
            call, from, msg, ..
        } => {
            format!("#{call} <- {} {msg}", peer(*from, None))
        }
        TraceEvent::Fail { call, to, reason } => {
            format!(
                "#{call} -> {} failed: {}",
                peer(*to, None),
                reason_text(*reason)
            )
        }
        TraceEvent::TimerSet { timer, after_us } => {
            format!("{timer} timer in {}", ms(*after_us))
        }
        TraceEvent::Timer { timer } => format!("{timer} timer fired"),
        TraceEvent::Crash => "crashed".to_string(),
        TraceEvent::Restart { incarnation } => format!("restarted (incarnation {incarnation})"),
        TraceEvent::Connect => "connected".to_string(),
        TraceEvent::Disconnect => "disconnected".to_string(),
        TraceEvent::Start { cmd, index, term } => match (index, term) {
            (Some(i), Some(t)) => format!("start {cmd}: index {i} in T{t}"),
            (Some(i), None) => format!("start {cmd}: index {i}"),
            _ => format!("start {cmd}: not leader"),
        },
        TraceEvent::Apply { index, cmd } => format!("apply {index}: {cmd}"),
        TraceEvent::ApplySnapshot { index } => format!("apply snapshot through {index}"),
        TraceEvent::Network {
            reliable,
            long_reordering,
        } => format!(
            "network {}{}",
            if *reliable { "reliable" } else { "unreliable" },
            if *long_reordering {
                ", long reordering"
            } else {
                ""
            }
        ),
    }
}

/// The 256-colour palette index of a topic: a fixed choice for the simulator's topics,
/// and for any other topic one drawn from its name.
pub fn topic_color(topic: &str) -> u8 {
    match topic {
        "TERM" => 220,
        "VOTE" => 141,
        "LEAD" => 196,
        "LOG1" => 39,
        "LOG2" => 45,
        "CMIT" => 82,
        "PERS" => 245,
        "SNAP" => 208,
        "TIMR" => 179,
        "TSET" => 240,
        "DROP" => 203,
        "FAIL" => 160,
        "CLNT" => 213,
        "INFO" => 252,
        "CALL" => 33,
        "RECV" => 37,
        "RPLY" => 74,
        "RTRN" => 111,
        "CRSH" => 199,
        "BOOT" => 118,
        "CONN" => 172,
        "APLY" => 71,
        "NETW" => 165,
        other => {
            const PALETTE: [u8; 12] = [67, 97, 103, 109, 131, 137, 143, 149, 167, 173, 180, 186];
            let h = other.bytes().fold(0x811c_9dc5_u32, |h, b| {
                (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
            });
            PALETTE[h as usize % PALETTE.len()]
        }
    }
}

/// Word-wraps `text` into lines of at most `width` characters; words longer than that
/// are cut. Runs of spaces between words count as one. Always at least one line.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut len = 0;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let mut chars: Vec<char> = word.chars().collect();
        if len > 0 && len + 1 + chars.len() <= width {
            line.push(' ');
            line.extend(&chars);
            len += 1 + chars.len();
            continue;
        }
        if len > 0 {
            lines.push(std::mem::take(&mut line));
        }
        while chars.len() > width {
            let rest = chars.split_off(width);
            lines.push(chars.into_iter().collect());
            chars = rest;
        }
        line.extend(&chars);
        len = chars.len();
    }
    if len > 0 || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Lays out lines, one at a time.
#[derive(Clone, Debug)]
pub struct Layout {
    options: Options,
    column: usize,
    header_done: bool,
}

impl Layout {
    /// A layout for `options` (columns and width are brought within 1..=[`MAX_COLUMNS`]
    /// and ..=[`MAX_WIDTH`]).
    pub fn new(options: Options) -> Self {
        let columns = options.columns.clamp(1, MAX_COLUMNS);
        let width = options.width.min(MAX_WIDTH);
        let column = (width.saturating_sub(TIME_FIELD) / columns).max(MIN_COLUMN);
        Layout {
            options: Options {
                columns,
                width,
                ..options
            },
            column,
            header_done: false,
        }
    }

    /// Whether an entry passes `--only` and `--ignore`.
    pub fn shows(&self, e: &Entry) -> bool {
        let only = self
            .options
            .only
            .as_ref()
            .is_none_or(|o| o.contains(&e.topic));
        only && !self.options.ignore.contains(&e.topic)
    }

    /// The header line: a label over each column.
    pub fn header(&self) -> String {
        let mut s = format!("{:<TIME_FIELD$}", "ms");
        for i in 0..self.options.columns {
            if i + 1 < self.options.columns {
                s.push_str(&format!("{:<w$}", format!("S{i}"), w = self.column));
            } else {
                s.push_str(&format!("S{i}"));
            }
        }
        if self.options.color {
            format!("\x1b[1m{s}\x1b[0m\n")
        } else {
            s.push('\n');
            s
        }
    }

    /// The lines (each ending in a newline) that show `e`.
    pub fn render(&self, e: &Entry) -> String {
        let columns = self.options.columns;
        let (indent, room, text) = match e.server {
            Some(s) if s < columns as u64 => {
                (s as usize * self.column, self.column - 1, e.text.clone())
            }
            Some(s) => (0, self.column * columns - 1, format!("S{s} {}", e.text)),
            None => (0, self.column * columns - 1, e.text.clone()),
        };
        let text: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        // The topic heads the first line; the text wraps in a hanging indent after it,
        // unless that leaves too little room.
        let topic = &e.topic;
        let hang = topic.chars().count() + 1;
        let (hang, lines) = if room >= hang + MIN_COLUMN {
            (hang, wrap(&text, room - hang))
        } else {
            (0, wrap(&format!("{topic} {text}"), room))
        };
        let color = topic_color(topic);
        let mut out = String::new();
        for (i, seg) in lines.iter().enumerate() {
            let seg = match (i, hang) {
                (0, 0) => seg.clone(),
                (0, _) if seg.is_empty() => topic.clone(),
                (0, _) => format!("{topic} {seg}"),
                (_, 0) => seg.clone(),
                _ => format!("{:hang$}{seg}", ""),
            };
            if i == 0 {
                // A time of more than six digits pushes this line right by the excess.
                out.push_str(&format!("{:0>6} ", e.ms));
            } else {
                out.push_str(&" ".repeat(TIME_FIELD));
            }
            out.push_str(&" ".repeat(indent));
            if self.options.color {
                out.push_str(&format!("\x1b[38;5;{color}m{seg}\x1b[0m"));
            } else {
                out.push_str(&seg);
            }
            out.push('\n');
        }
        out
    }

    /// Handles one input line (with its line ending, if it had one): writes its layout,
    /// nothing if it is filtered out, or the line itself if it is not a log line.
    pub fn line<W: Write>(
        &mut self,
        raw: &[u8],
        out: &mut W,
        counts: &mut Counts,
    ) -> io::Result<()> {
        let entry = std::str::from_utf8(raw).ok().and_then(|s| {
            let s = s.trim_end_matches(['\n', '\r']);
            if s.trim_start().starts_with('{') {
                parse_trace(s)
            } else {
                parse_verbose(s)
            }
        });
        match entry {
            None => {
                counts.passed += 1;
                out.write_all(raw)
            }
            Some(e) if !self.shows(&e) => {
                counts.filtered += 1;
                Ok(())
            }
            Some(e) => {
                counts.laid_out += 1;
                if !self.header_done {
                    self.header_done = true;
                    out.write_all(self.header().as_bytes())?;
                }
                out.write_all(self.render(&e).as_bytes())
            }
        }
    }
}

/// Lays out everything `input` holds into `out`. Output is flushed whenever the input
/// has nothing more at hand, so that a live pipe shows lines as they come.
pub fn run<R: Read, W: Write>(input: R, mut out: W, options: &Options) -> io::Result<Counts> {
    let mut input = BufReader::new(input);
    let mut layout = Layout::new(options.clone());
    let mut counts = Counts::default();
    let mut raw = Vec::new();
    loop {
        if input.buffer().is_empty() {
            out.flush()?;
        }
        raw.clear();
        if input.read_until(b'\n', &mut raw)? == 0 {
            break;
        }
        layout.line(&raw, &mut out, &mut counts)?;
    }
    out.flush()?;
    Ok(counts)
}

/// Lays out a whole input held in memory (for tests and tools).
pub fn render_all(input: &[u8], options: &Options) -> Vec<u8> {
    let mut out = Vec::new();
    // Reading from and writing to memory cannot fail.
    let _ = run(input, &mut out, options);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(ms: u64, topic: &str, server: Option<u64>, text: &str) -> Entry {
        Entry {
            ms,
            topic: topic.into(),
            server,
            text: text.into(),
        }
    }

    #[test]
    fn parses_verbose_lines() {
        assert_eq!(
            parse_verbose("000416 VOTE S1 granted vote to S0 in T1"),
            Some(entry(416, "VOTE", Some(1), "granted vote to S0 in T1"))
        );
        assert_eq!(
            parse_verbose("001234 DROP call 7 on abc: request dropped"),
            Some(entry(1234, "DROP", None, "call 7 on abc: request dropped"))
        );
        assert_eq!(
            parse_verbose("1234567 LOG1 S12 x"),
            Some(entry(1_234_567, "LOG1", Some(12), "x"))
        );
        assert_eq!(
            parse_verbose("000001 INFO"),
            Some(entry(1, "INFO", None, ""))
        );
        assert_eq!(
            parse_verbose("000001 INFO S2"),
            Some(entry(1, "INFO", Some(2), ""))
        );
        // S followed by something other than digits is text.
        assert_eq!(
            parse_verbose("000001 INFO Sx y"),
            Some(entry(1, "INFO", None, "Sx y"))
        );
        for bad in [
            "",
            "running 1 test",
            "12345 TERM S1 five digits",
            "000416 term S1 lower case",
            "000416 1TRM S1 digit first",
            "000416 TOOLONGTOPICNAME S1 x",
            "00041a TERM S1 x",
            "99999999999999999999999 TERM S1 overflow",
            "000416",
            "  ... Passed --  33.6  5  987   13186   61",
        ] {
            assert_eq!(parse_verbose(bad), None, "{bad:?}");
        }
        // A server id too large for u64 is no server: the token stays in the text.
        assert_eq!(
            parse_verbose("000001 INFO S99999999999999999999 x"),
            Some(entry(1, "INFO", None, "S99999999999999999999 x"))
        );
    }

    #[test]
    fn wraps_on_words_and_cuts_long_words() {
        assert_eq!(wrap("a bb ccc", 4), vec!["a bb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("x abcdefghij y", 4), vec!["x", "abcd", "efgh", "ij y"]);
        assert_eq!(wrap("", 4), vec![""]);
        assert_eq!(wrap("a  b", 10), vec!["a b"]);
        assert_eq!(wrap("abc", 0), vec!["a", "b", "c"]);
        for w in 1..12 {
            for l in wrap("the quick brown fox jumps over the lazy dog", w) {
                assert!(l.chars().count() <= w, "{l:?} wider than {w}");
            }
        }
    }

    #[test]
    fn columns_and_spanning_lines() {
        let l = Layout::new(Options {
            columns: 3,
            width: 7 + 3 * 12,
            ..Options::default()
        });
        assert_eq!(
            l.render(&entry(5, "VOTE", Some(1), "granted to S0")),
            "000005             VOTE\n                   granted to\n                   S0\n"
        );
        assert_eq!(
            l.render(&entry(5, "DROP", None, "call 7 dropped")),
            "000005 DROP call 7 dropped\n"
        );
        // A server past the last column spans, and keeps its id.
        assert_eq!(
            l.render(&entry(5, "LEAD", Some(3), "leader")),
            "000005 LEAD S3 leader\n"
        );
        assert_eq!(l.header(), "ms     S0          S1          S2\n");

        // In a wide enough column the text hangs after the topic.
        let l = Layout::new(Options {
            columns: 2,
            width: 7 + 2 * 30,
            ..Options::default()
        });
        let text = "granted vote to S0 in term 12 after a long wait";
        assert_eq!(
            l.render(&entry(5, "VOTE", Some(1), text)),
            format!(
                "000005 {0}VOTE granted vote to S0 in\n{1}{0}     term 12 after a long\n{1}{0}     wait\n",
                " ".repeat(30),
                " ".repeat(7)
            )
        );
        assert_eq!(l.render(&entry(5, "VOTE", Some(0), "")), "000005 VOTE\n");
    }

    #[test]
    fn colours_wrap_each_segment() {
        let l = Layout::new(Options {
            columns: 2,
            width: 7 + 2 * 12,
            color: true,
            ..Options::default()
        });
        let c = topic_color("CMIT");
        assert_eq!(
            l.render(&entry(9, "CMIT", Some(0), "commit 0 -> 1")),
            format!(
                "000009 \x1b[38;5;{c}mCMIT commit\x1b[0m\n       \x1b[38;5;{c}m0 -> 1\x1b[0m\n"
            )
        );
    }

    #[test]
    fn every_topic_of_the_simulator_has_its_own_colour() {
        let topics = [
            "TERM", "VOTE", "LEAD", "LOG1", "LOG2", "CMIT", "PERS", "SNAP", "TIMR", "TSET", "DROP",
            "FAIL", "CLNT", "INFO", "CALL", "RECV", "RPLY", "RTRN", "CRSH", "BOOT", "CONN", "APLY",
            "NETW",
        ];
        let colours: BTreeSet<u8> = topics.iter().map(|t| topic_color(t)).collect();
        assert_eq!(colours.len(), topics.len());
        assert_eq!(topic_color("ZZZZ"), topic_color("ZZZZ"));
    }

    #[test]
    fn filters_by_topic() {
        let input = b"000001 VOTE S0 a\n000002 LEAD S1 b\n000003 TERM S2 c\nhello\n";
        let only = Options {
            columns: 3,
            width: 60,
            only: Some(parse_topics("vote, lead")),
            ignore: parse_topics("LEAD"),
            ..Options::default()
        };
        let out = String::from_utf8(render_all(input, &only)).unwrap();
        assert!(out.contains("VOTE a"));
        assert!(!out.contains("LEAD"));
        assert!(!out.contains("TERM"));
        assert!(out.ends_with("hello\n"));
    }

    #[test]
    fn extreme_options_do_not_panic() {
        for (columns, width) in [
            (0, 0),
            (usize::MAX, usize::MAX),
            (1, usize::MAX),
            (usize::MAX, 0),
        ] {
            let l = Layout::new(Options {
                columns,
                width,
                ..Options::default()
            });
            for server in [None, Some(0), Some(1), Some(u64::MAX)] {
                let out = l.render(&entry(u64::MAX, "LOG1", server, "some text here"));
                assert!(out.contains("LOG1"));
            }
            assert!(l.header().starts_with("ms"));
        }
    }

    #[test]
    fn topic_lists() {
        let t = parse_topics(" vote,LEAD,,term ");
        assert_eq!(
            t.into_iter().collect::<Vec<_>>(),
            vec!["LEAD", "TERM", "VOTE"]
        );
    }
}
