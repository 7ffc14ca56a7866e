//! `raftlab lincheck` through the binary: the edges a new user reaches (the figure of
//! the check's time, absurd budgets, missing and unwritable files, a closed output
//! pipe).

mod common;

use common::{no_panic, raftlab, raftlab_into_closed_pipe, refused, text, uncreatable};

/// A one-operation history in a file of its own; returns its path.
fn history(name: &str) -> String {
    let path = std::env::temp_dir().join(format!("raftlab-lincheck-{}-{name}", std::process::id()));
    let line = r#"{"client":1,"op":"put","key":"1","value":"x","output":"","call":1,"return":2}"#;
    if let Err(e) = std::fs::write(&path, format!("{line}\n")) {
        panic!("cannot write {}: {e}", path.display());
    }
    path.display().to_string()
}

#[test]
fn the_check_time_is_a_figure_in_a_unit_that_fits() {
    let f = history("time.jsonl");
    let out = raftlab(&["lincheck", &f]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("model kv, 1 operation\n"), "{stdout}");
    let Some((_, rest)) = stdout.split_once("checked in ") else {
        panic!("no time: {stdout}");
    };
    let mut words = rest.split_whitespace();
    let (Some(figure), Some(unit)) = (words.next(), words.next()) else {
        panic!("no figure and unit: {stdout}");
    };
    assert!(["ns", "µs", "ms", "s"].contains(&unit), "{stdout}");
    let value: f64 = figure.parse().unwrap_or(0.0);
    // Three significant digits: never 0.000 s.
    assert!(value > 0.0 && value < 1000.0, "{stdout}");
}

#[test]
fn absurd_budgets_are_clear_errors() {
    let f = history("budget.jsonl");
    for budget in ["1e300", "inf", "nan", "-1"] {
        let args = ["lincheck", &f, "--timeout", budget];
        let out = raftlab(&args);
        no_panic(&args, &out);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(3), "{budget}: {stderr}");
        assert!(stderr.contains("--timeout"), "{stderr}");
        // Short enough to read: the value as given in scientific notation, not 300 digits.
        assert!(stderr.len() < 200, "{stderr}");
    }
}

#[test]
fn missing_and_unwritable_files_are_clear_errors() {
    refused(
        &["lincheck", "/nonexistent/h.jsonl"],
        3,
        &["/nonexistent/h.jsonl: cannot read"],
    );
    let dir = std::env::temp_dir().display().to_string();
    refused(&["lincheck", &dir], 3, &[&dir, "cannot read"]);
    refused(&["lincheck"], 3, &["<FILE>"]);
    let f = history("html.jsonl");
    let html = uncreatable("h.html");
    refused(
        &["lincheck", &f, "--html", &html],
        3,
        &[&html, "cannot write"],
    );
}

#[test]
fn output_into_a_closed_pipe_is_not_a_panic() {
    let f = history("pipe.jsonl");
    let args = ["lincheck", &f];
    let out = raftlab_into_closed_pipe(&args);
    no_panic(&args, &out);
    assert_eq!(out.status.code(), Some(0));
}
