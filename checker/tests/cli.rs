//! `raftlab lincheck` end to end, on files in a temporary directory.

use raftlab_checker::cli::run_with;
use std::path::PathBuf;

struct Run {
    code: i32,
    out: String,
    err: String,
}

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("raftlab-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn file(name: &str, text: &str) -> String {
    let p = dir().join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn lincheck(args: &[&str]) -> Run {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = run_with(
        args.iter().map(|s| s.to_string()).collect(),
        &mut out,
        &mut err,
    );
    Run {
        code,
        out: String::from_utf8(out).unwrap(),
        err: String::from_utf8(err).unwrap(),
    }
}

const KV_OK: &str = r#"{"client":1,"op":"put","key":"1","value":"","call":10,"return":25}
{"client":1,"op":"append_old","key":"1","value":"x 1 0 y","output":"","call":30,"return":41}
{"client":2,"op":"get","key":"2","output":"","call":31,"return":33}
{"client":0,"op":"get","key":"1","output":"x 1 0 y","call":50,"return":52,"meta":"final read"}
{"note":"partition heals","at":45}
"#;

#[test]
fn ok_history_exits_0_with_a_summary() {
    let f = file("ok.jsonl", KV_OK);
    let r = lincheck(&[&f]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(
        r.out.contains("jsonl format, model kv, 4 operations"),
        "{}",
        r.out
    );
    assert!(
        r.out.contains("Ok: 4 operations, 2 partitions (2 Ok)"),
        "{}",
        r.out
    );
}

#[test]
fn illegal_history_exits_1_and_says_where_it_stops() {
    let text = KV_OK.replace(
        r#""output":"x 1 0 y","call":50"#,
        r#""output":"","call":50"#,
    );
    let f = file("bad.jsonl", &text);
    let html = dir().join("bad.html");
    let r = lincheck(&[&f, "--html", html.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}{}", r.out, r.err);
    assert!(
        r.out
            .contains("partition key '1' (3 operations) is not linearizable"),
        "{}",
        r.out
    );
    assert!(
        r.out
            .contains("longest linearizable prefix: 2 of 3 operations, ending in state 'x 1 0 y'"),
        "{}",
        r.out
    );
    assert!(
        r.out.contains(
            "get('1') -> '' [client 0, call 50, return 52, line 4]: rejected by the model"
        ),
        "{}",
        r.out
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("final read"),
        "metadata is carried into the page"
    );
    assert!(page.contains("partition heals"), "annotations too");
    assert!(!page.contains("/*PAYLOAD*/"));
    for remote in ["src=\"http", "href=\"http", "@import", "url(http"] {
        assert!(!page.contains(remote), "the page must not load {remote}");
    }
}

#[test]
fn a_timeout_exits_2() {
    let mut text = String::new();
    for i in 0..40 {
        text.push_str(&format!(
            r#"{{"client":{i},"op":"write","value":{i},"call":0,"return":100}}"#
        ));
        text.push('\n');
    }
    text.push_str(r#"{"client":99,"op":"read","output":"nobody","call":200,"return":201}"#);
    let f = file("hard.jsonl", &text);
    let r = lincheck(&[&f, "--timeout", "0.05"]);
    assert_eq!(r.code, 2, "{}{}", r.out, r.err);
    assert!(
        r.out
            .starts_with(&format!("{f}: jsonl format, model register")),
        "{}",
        r.out
    );
    assert!(r.out.contains("Unknown"), "{}", r.out);
}

#[test]
fn unreadable_input_exits_3_naming_file_line_and_reason() {
    let f = file(
        "broken.jsonl",
        "{\"client\":1,\"op\":\"get\",\"key\":\"k\",\"call\":1,\"return\":2}\n{\"client\":1,\"op\":\"get\",\"key\":\"k\",\"call\":\"soon\"}\n",
    );
    let r = lincheck(&[&f]);
    assert_eq!(r.code, 3);
    assert_eq!(
        r.err.trim(),
        format!(
            "raftlab lincheck: {f}: line 2: field \"call\": expected an integer time, found \"soon\""
        )
    );

    let missing = dir().join("nope.jsonl").display().to_string();
    let r = lincheck(&[&missing]);
    assert_eq!(r.code, 3);
    assert!(
        r.err.contains(&missing) && r.err.contains("cannot read"),
        "{}",
        r.err
    );

    let f = file("garbage.txt", "hello\nworld\n");
    let r = lincheck(&[&f]);
    assert_eq!(r.code, 3);
    assert!(
        r.err.contains("line 1: cannot tell the format"),
        "{}",
        r.err
    );

    let f = file("latin1.jsonl", "{}\n\u{0}");
    std::fs::write(&f, b"{\"a\":1}\n{\"b\":\xff}\n").unwrap();
    let r = lincheck(&[&f]);
    assert_eq!(r.code, 3);
    assert!(r.err.contains("line 2: not UTF-8"), "{}", r.err);

    let r = lincheck(&[&f, "--model", "nonsense"]);
    assert_eq!(r.code, 3, "bad arguments");
    let r = lincheck(&["--help"]);
    assert_eq!(r.code, 0);
    assert!(r.out.contains("--model"));
}

#[test]
fn edn_histories() {
    let edn = r#"{:process 3, :type :invoke, :f :append, :key "4", :value "x 3 12 y"}
{:process 5, :type :invoke, :f :get, :key "4", :value nil}
{:process 3, :type :ok, :f :append, :key "4", :value "x 3 12 y"}
{:process 5, :type :ok, :f :get, :key "4", :value "x 3 12 y"}
{:process :nemesis, :type :info, :f :start, :value nil}
{:process 6, :type :invoke, :f :put, :key "4", :value "z"}
{:process 6, :type :info, :f :put, :key "4", :value "z"}
{:process 5, :type :invoke, :f :get, :key "4", :value nil}
{:process 5, :type :ok, :f :get, :key "4", :value "z"}
"#;
    let f = file("h.edn", edn);
    let r = lincheck(&[&f]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(
        r.out.contains("edn format, model kv, 4 operations"),
        "{}",
        r.out
    );

    let stale = edn.replace(
        r#"{:process 5, :type :ok, :f :get, :key "4", :value "z"}"#,
        r#"{:process 5, :type :ok, :f :get, :key "4", :value ""}"#,
    );
    let f = file("stale.edn", &stale);
    assert_eq!(lincheck(&[&f]).code, 1);

    // Lab 2: the append's :ok value is the old value.
    let lab2 = r#"{:process 1, :type :invoke, :f :append, :key "k", :value "a"}
{:process 1, :type :ok, :f :append, :key "k", :value ""}
{:process 1, :type :invoke, :f :append, :key "k", :value "b"}
{:process 1, :type :ok, :f :append, :key "k", :value "b"}
"#;
    let f = file("lab2.edn", lab2);
    assert_eq!(lincheck(&[&f]).code, 0, "plain appends ignore the output");
    assert_eq!(
        lincheck(&[&f, "--model", "kv-lab2"]).code,
        1,
        "the second append should have returned 'a'"
    );

    let f = file(
        "dup.edn",
        "{:process 1, :type :invoke, :f :get, :key \"k\", :value nil}\n{:process 1, :type :invoke, :f :get, :key \"k\", :value nil}\n",
    );
    let r = lincheck(&[&f]);
    assert_eq!(r.code, 3);
    assert!(
        r.err
            .contains("line 2: process 1 invokes again while its :get from line 1 is pending"),
        "{}",
        r.err
    );
}

#[test]
fn jepsen_log_register_histories() {
    let log = "INFO  jepsen.core - Worker 0 starting\n\
INFO  jepsen.util - 1\t:invoke\t:write\t1\n\
INFO  jepsen.util - 1\t:ok\t:write\t1\n\
INFO  jepsen.util - 2\t:invoke\t:cas\t[1 4]\n\
INFO  jepsen.util - 3  :invoke  :read  nil\n\
INFO  jepsen.util - 2\t:info\t:cas\t[1 4]\n\
INFO  jepsen.util - 3  :fail  :read  :timed-out\n\
INFO  jepsen.util - 7\t:invoke\t:cas\t[4 5]\n\
INFO  jepsen.util - 7\t:fail\t:cas\t[4 5]\n\
INFO  jepsen.util - 8\t:invoke\t:read\tnil\n\
INFO  jepsen.util - 8\t:ok\t:read\t1\n\
INFO  jepsen.util - :nemesis\t:info\t:start\tnil\n";
    let f = file("reg.log", log);
    let r = lincheck(&[&f]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(
        r.out
            .contains("jepsen-log format, model register, 5 operations"),
        "{}",
        r.out
    );
    // The crashed cas [1 4] may take effect after the failed cas [4 5]: reading 4
    // is fine; 5 was never written.
    let f = file(
        "reg4.log",
        &log.replace("8\t:ok\t:read\t1", "8\t:ok\t:read\t4"),
    );
    assert_eq!(lincheck(&[&f]).code, 0);
    let f = file(
        "reg5.log",
        &log.replace("8\t:ok\t:read\t1", "8\t:ok\t:read\t5"),
    );
    assert_eq!(lincheck(&[&f]).code, 1);
    let f = file("regbad.log", "INFO  jepsen.util - 2\t:invoke\t:cas\t[1 4\n");
    let r = lincheck(&[&f]);
    assert_eq!(r.code, 3);
    assert!(
        r.err
            .contains("line 1, column 36: cannot read the value: '[' is never closed"),
        "{}",
        r.err
    );
}

#[test]
fn explicit_models_and_formats() {
    let f = file("map.jsonl", KV_OK);
    let r = lincheck(&[&f, "--model", "map", "--format", "jsonl"]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(r.out.contains("1 partition ("), "{}", r.out);
    let set = "{\"client\":1,\"op\":\"add\",\"value\":\"a\",\"call\":0,\"return\":1}\n{\"client\":2,\"op\":\"contains\",\"value\":\"a\",\"output\":false,\"call\":2,\"return\":3}\n";
    let f = file("set.jsonl", set);
    let r = lincheck(&[&f]);
    assert_eq!(r.code, 1, "{}{}", r.out, r.err);
    assert!(r.out.contains("model set"));
    let r = lincheck(&[&f, "--model", "register"]);
    assert_eq!(r.code, 3);
    assert!(
        r.err
            .contains("line 1: field \"op\": \"add\" is not an operation of model register"),
        "{}",
        r.err
    );
}
