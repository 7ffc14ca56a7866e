//! `raftlab dslogs`: golden layouts of recorded logs, the alignment of columns at any
//! width, and input it cannot parse (which must come out unchanged).
//!
//! The fixtures in `tests/fixtures/dslogs/` are real recordings, cut short:
//!
//! - `unreliable_agree_3c.log`: the first 45 and last 8 lines of
//!   `VERBOSE=1 cargo test --release --test raft -- --exact unreliable_agree_3c
//!   --nocapture`, with cargo's own lines and the lab's `Passed` line;
//! - `sim_raft_seed2.jsonl`: lines 1-14, 5905-5975 and 6015-6022 of
//!   `raftlab sim raft --seed 2 --seconds 4 --servers 3 --clients 1 --trace`, around
//!   the start and the first unreliable period (dropped requests and replies).
//!
//! After a deliberate change of the layout, `RAFTLAB_BLESS=1 cargo test --release
//! --test dslogs` rewrites the golden files; review their diff.

use std::path::PathBuf;

use proptest::prelude::*;
use raftlab::dslogs::{self, Entry, Layout, MIN_COLUMN, Options, parse_trace, parse_verbose};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/dslogs")
        .join(name)
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

fn plain(columns: usize, width: usize) -> Options {
    Options {
        columns,
        width,
        ..Options::default()
    }
}

fn check_golden(input: &str, golden: &str, options: &Options) {
    let out = dslogs::render_all(&read(input), options);
    if std::env::var_os("RAFTLAB_BLESS").is_some() {
        std::fs::write(fixture(golden), &out).unwrap();
        return;
    }
    let want = read(golden);
    if out != want {
        let out = String::from_utf8_lossy(&out);
        let want = String::from_utf8_lossy(&want);
        let (n, (got, exp)) = out
            .lines()
            .zip(want.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .unwrap_or((
                out.lines().count().min(want.lines().count()),
                ("<end>", "<end>"),
            ));
        panic!(
            "layout of {input} differs from {golden} at line {}:\n  got:  {got:?}\n  want: {exp:?}\n\
             (RAFTLAB_BLESS=1 rewrites the golden file after a deliberate change)",
            n + 1
        );
    }
}

#[test]
fn golden_layout_of_a_verbose_log() {
    check_golden(
        "unreliable_agree_3c.log",
        "unreliable_agree_3c.c5.w150.txt",
        &plain(5, 150),
    );
}

#[test]
fn golden_layout_of_a_trace() {
    check_golden(
        "sim_raft_seed2.jsonl",
        "sim_raft_seed2.c3.w100.txt",
        &plain(3, 100),
    );
}

/// Removes ANSI colour sequences (`ESC [ ... m`).
fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn colour_adds_escapes_and_nothing_else() {
    for (input, columns) in [("unreliable_agree_3c.log", 5), ("sim_raft_seed2.jsonl", 3)] {
        let input = read(input);
        let options = plain(columns, 100);
        let coloured = Options {
            color: true,
            ..options.clone()
        };
        let off = String::from_utf8(dslogs::render_all(&input, &options)).unwrap();
        let on = String::from_utf8(dslogs::render_all(&input, &coloured)).unwrap();
        assert!(!off.contains('\x1b'), "colour off printed an escape");
        assert!(on.matches("\x1b[38;5;").count() >= 40, "too few colours");
        assert_eq!(strip_ansi(&on), off);
    }
}

/// Checks that every line of `render(e)` puts its text in `e`'s column and stays
/// within the width.
fn check_alignment(layout: &Layout, options: &Options, e: &Entry) {
    let columns = options.columns;
    let column = ((options.width - 7) / columns).max(MIN_COLUMN);
    let out = layout.render(e);
    let own = e.server.filter(|&s| s < columns as u64);
    let start = 7 + own.map_or(0, |s| s as usize * column);
    let end = match own {
        Some(s) => 7 + (s as usize + 1) * column - 1,
        None => 7 + columns * column - 1,
    };
    for (i, line) in out.lines().enumerate() {
        let chars: Vec<char> = line.chars().collect();
        let text_at = chars[7..].iter().position(|c| *c != ' ').map(|p| p + 7);
        assert!(
            chars.len() <= end,
            "{line:?} runs past its column (ends at {end})"
        );
        match text_at {
            Some(at) if i == 0 => assert_eq!(at, start, "{line:?} starts off its column"),
            Some(at) => assert!(at >= start, "{line:?} wraps out of its column"),
            None => assert_eq!(i, 0, "an empty continuation line"),
        }
        if i == 0 {
            assert_eq!(&line[..7], format!("{:06} ", e.ms), "{line:?}");
        } else {
            assert!(line[..start].chars().all(|c| c == ' '), "{line:?}");
        }
    }
}

#[test]
fn columns_stay_aligned_at_every_width() {
    let log = String::from_utf8(read("unreliable_agree_3c.log")).unwrap();
    let trace = String::from_utf8(read("sim_raft_seed2.jsonl")).unwrap();
    let entries: Vec<Entry> = log
        .lines()
        .filter_map(parse_verbose)
        .chain(trace.lines().filter_map(parse_trace))
        .chain([Entry {
            ms: 12,
            topic: "LOG2".into(),
            server: Some(1),
            text: "averyveryveryverylongwordwithoutanyspaceswhatsoever and more".into(),
        }])
        .collect();
    assert!(entries.len() > 120);
    for columns in 1..=7 {
        for width in [20, 40, 61, 80, 100, 133, 200] {
            let options = plain(columns, width);
            let layout = Layout::new(options.clone());
            for e in &entries {
                check_alignment(&layout, &options, e);
            }
        }
    }
}

#[test]
fn malformed_and_truncated_input_passes_through_unchanged() {
    let unparsable: Vec<&[u8]> = vec![
        b"\n",
        b"running 1 test\n",
        b"thread 'figure8_3c' panicked at tests/raft/main.rs:640:9:\n",
        b"000416\n",
        b"00041 TERM S1 five digits\n",
        b"000416 term S1 lower-case topic\n",
        b"000416 VOTE S0 \xff\xfe not utf-8\n",
        b"\xc3\n",
        b"{\"t_us\":416100,\"node\":1,\"ev\":\"cra\n",
        b"{\"hello\":1}\n",
        b"{\"t_us\":1,\"ev\":\"no_such_event\"}\n",
        b"  ... Passed --   2.1  5  280    8888  246\r\n",
        b"\x00\x01\x02\n",
    ];
    let parsable: Vec<&[u8]> = vec![
        b"000416 VOTE S0 granted vote to S1 in T1\n",
        b"000417 DROP call 3 on abc: reply dropped\r\n",
        b"{\"t_us\":418000,\"node\":2,\"ev\":\"crash\"}\n",
        b"000419 INFO S0 an \x1b[31mescape\x1b[0m inside\n",
    ];
    // The input ends with a truncated record that has no newline.
    let tail: &[u8] = b"{\"t_us\":420000,\"node\":2,\"ev\":\"resta";
    let mut input = Vec::new();
    for (i, line) in unparsable.iter().enumerate() {
        input.extend_from_slice(line);
        if let Some(p) = parsable.get(i) {
            input.extend_from_slice(p);
        }
    }
    input.extend_from_slice(tail);

    let mut out = Vec::new();
    let counts = dslogs::run(&input[..], &mut out, &plain(3, 80)).unwrap();
    assert_eq!(counts.passed as usize, unparsable.len() + 1);
    assert_eq!(counts.laid_out as usize, parsable.len());
    // Every unparsable line is in the output, byte for byte and in order, and the
    // truncated tail ends it, with no newline added.
    let mut at = 0;
    for line in unparsable.iter().chain([&tail]) {
        let found = out[at..]
            .windows(line.len())
            .position(|w| w == *line)
            .unwrap_or_else(|| panic!("{:?} is missing", String::from_utf8_lossy(line)));
        at += found + line.len();
    }
    assert!(out.ends_with(tail));
    // Laid-out lines hold no control characters, so the columns survive.
    let text = String::from_utf8_lossy(&out);
    assert!(!text.contains('\x1b'), "an escape sequence was laid out");
    assert!(text.contains("INFO an [31mescape"));
    assert!(text.contains("CRSH crashed"));
}

#[test]
fn empty_input_gives_empty_output() {
    assert!(dslogs::render_all(b"", &plain(5, 100)).is_empty());
}

/// Lines that look almost like log lines, mixed with real ones and noise.
fn line_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..40),
        "[0-9]{0,8} [A-Z0-9a-z]{0,6} S[0-9]{0,3} [ -~]{0,60}".prop_map(String::into_bytes),
        "\\{\"t_us\":[0-9]{1,6},\"node\":[0-9],\"ev\":\"(crash|connect|disconnect|cra)\"\\}?"
            .prop_map(String::into_bytes),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Whatever comes in: no panic, every line is accounted for, and every line that
    /// is not laid out comes out byte for byte.
    #[test]
    fn nothing_is_lost(lines in proptest::collection::vec(line_strategy(), 0..30),
                       columns in 1usize..8, width in 20usize..200, newline_at_end: bool) {
        let mut input = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            input.extend(l.iter().filter(|&&b| b != b'\n'));
            if i + 1 < lines.len() || newline_at_end {
                input.push(b'\n');
            }
        }
        let mut out = Vec::new();
        let counts = dslogs::run(&input[..], &mut out, &plain(columns, width)).unwrap();
        let n = input.split_inclusive(|&b| b == b'\n').count() as u64;
        prop_assert_eq!(counts.passed + counts.laid_out + counts.filtered, n);
        let mut at = 0;
        for raw in input.split_inclusive(|&b| b == b'\n') {
            let parsed = std::str::from_utf8(raw).ok().and_then(|s| {
                let s = s.trim_end_matches(['\n', '\r']);
                parse_verbose(s).or_else(|| parse_trace(s))
            });
            if parsed.is_none() {
                let found = out[at..].windows(raw.len()).position(|w| w == raw);
                prop_assert!(found.is_some(), "{:?} lost", String::from_utf8_lossy(raw));
                at += found.unwrap_or(0) + raw.len();
            }
        }
    }
}
