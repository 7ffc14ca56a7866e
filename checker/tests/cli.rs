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

/// Write 0; a cas [0 2] that fails; read 0. In Jepsen EDN the failed cas did not
/// happen: linearizable. Read as porcupine's etcd logs read a failed cas (it
/// returned false, yet the register held 0): not linearizable.
const FAILED_CAS_EDN: &str = r#";; Jepsen writes a history as one vector over many lines
[{:index 0, :time 10, :type :invoke, :process 0, :f :write, :value 0}
 {:index 1, :time 20, :type :ok, :process 0, :f :write,
  :value 0}
 {:index 2, :time 30, :type :invoke, :process :nemesis, :f :start, :value nil}
 {:index 3, :time 40, :type :invoke, :process 1, :f :cas, :value [0 2]}
 {:index 4, :time 50, :type :fail, :process 1, :f :cas, :value [0 2], :error :cas-failed}
 {:index 5, :time 60, :type :invoke, :process 2, :f :read, :value nil}
 {:index 6, :time 70, :type :ok, :process 2, :f :read, :value 0}]
"#;

const FAILED_CAS_LOG: &str = "INFO  jepsen.util - 0\t:invoke\t:write\t0\n\
INFO  jepsen.util - 0\t:ok\t:write\t0\n\
INFO  jepsen.util - 1\t:invoke\t:cas\t[0 2]\n\
INFO  jepsen.util - 1\t:fail\t:cas\t[0 2]\n\
INFO  jepsen.util - 2\t:invoke\t:read\tnil\n\
INFO  jepsen.util - 2\t:ok\t:read\t0\n";

#[test]
fn a_failed_operation_did_not_happen_in_edn_and_returned_false_in_logs() {
    let f = file("failcas.edn", FAILED_CAS_EDN);
    let r = lincheck(&[&f]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(
        r.out.contains("edn format, model register, 2 operations"),
        "{}",
        r.out
    );
    let f = file("failcas.log", FAILED_CAS_LOG);
    let r = lincheck(&[&f]);
    assert_eq!(r.code, 1, "{}{}", r.out, r.err);
    assert!(r.out.contains("cas(0, 2) -> fail"), "{}", r.out);
    let r = lincheck(&["--help"]);
    assert!(
        r.out.contains(
            "In EDN histories (Jepsen's own), an operation that completes with :fail did not happen"
        ),
        "{}",
        r.out
    );
    assert!(
        r.out.contains("a failed :cas ran and returned false"),
        "{}",
        r.out
    );
}

#[test]
fn input_that_yields_no_operation_is_an_error() {
    // An EDN history read as Jepsen log lines, even an illegal one.
    let illegal = FAILED_CAS_EDN.replace(":value 0}]", ":value 7}]");
    let f = file("illegal.edn", &illegal);
    assert_eq!(lincheck(&[&f]).code, 1);
    let r = lincheck(&[&f, "--format", "jepsen-log"]);
    assert_eq!(r.code, 3, "{}{}", r.out, r.err);
    assert!(
        r.err.contains("illegal.edn: line 2: not a Jepsen log line")
            && r.err.contains("it looks like EDN: use --format edn"),
        "{}",
        r.err
    );
    let f = file("comments.edn", "; a history\n; with nothing in it\n");
    for args in [
        vec![f.as_str()],
        vec![&f, "--format", "edn"],
        vec![&f, "--format", "jepsen-log"],
    ] {
        let r = lincheck(&args);
        assert_eq!(r.code, 3, "{args:?}: {}{}", r.out, r.err);
        assert!(r.err.contains("holds no"), "{}", r.err);
    }
    let f = file("comments.jsonl", "# nothing\n\n");
    let r = lincheck(&[&f, "--format", "jsonl", "--model", "register"]);
    assert_eq!(r.code, 3, "{}{}", r.out, r.err);
    assert!(r.err.contains("holds no operation"), "{}", r.err);
    let f = file("empty.log", "");
    let r = lincheck(&[&f, "--format", "jepsen-log"]);
    assert_eq!(r.code, 3, "{}{}", r.out, r.err);
    let f = file(
        "nemesis.edn",
        "{:process :nemesis, :type :info, :f :start}\n",
    );
    let r = lincheck(&[&f]);
    assert_eq!(r.code, 3, "{}{}", r.out, r.err);
    assert!(
        r.err.contains("no client operation") && r.err.contains(":nemesis"),
        "{}",
        r.err
    );
    let f = file(
        "allfail.edn",
        "{:process 0, :type :invoke, :f :write, :value 1}\n{:process 0, :type :fail, :f :write, :value 1}\n",
    );
    let r = lincheck(&[&f]);
    assert_eq!(r.code, 3, "{}{}", r.out, r.err);
    assert!(r.err.contains("did not happen"), "{}", r.err);
    // A log line that is neither an operation nor a log record.
    let f = file(
        "stray.log",
        &format!("{FAILED_CAS_LOG}this is not a log line\n"),
    );
    let r = lincheck(&[&f]);
    assert_eq!(r.code, 3, "{}{}", r.out, r.err);
    assert!(
        r.err.contains("stray.log: line 7: not a Jepsen log line"),
        "{}",
        r.err
    );
}

#[test]
fn unreadable_literals_are_named_where_they_are() {
    let f = file(
        "badtime.edn",
        "[{:process 0\n  :type :invoke\n  :time 12:00\n  :f :read}]\n",
    );
    let r = lincheck(&[&f]);
    assert_eq!(r.code, 3);
    assert!(
        r.err
            .contains("badtime.edn: line 3, column 9: cannot read \"12:00\" as a number"),
        "{}",
        r.err
    );
}

#[test]
fn initial_register_value() {
    let log = "0 :invoke :read nil\n0 :ok :read 0\n";
    let f = file("init.log", log);
    assert_eq!(lincheck(&[&f]).code, 1, "the register starts nil");
    let r = lincheck(&[&f, "--initial", "0"]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert_eq!(lincheck(&[&f, "--initial", "nil"]).code, 1);
    let r = lincheck(&[&f, "--initial", "[1"]);
    assert_eq!(r.code, 3);
    assert!(r.err.contains("--initial [1"), "{}", r.err);
    let f = file("kv-init.jsonl", KV_OK);
    let r = lincheck(&[&f, "--initial", "0"]);
    assert_eq!(r.code, 3);
    assert!(
        r.err
            .contains("only the register and multi-register models"),
        "{}",
        r.err
    );
}

#[test]
fn the_report_names_the_longest_prefix() {
    let h = "{\"client\":1,\"op\":\"write\",\"value\":1,\"call\":0,\"return\":1}\n\
{\"client\":1,\"op\":\"read\",\"output\":1,\"call\":2,\"return\":3}\n\
{\"client\":1,\"op\":\"read\",\"output\":7,\"call\":4,\"return\":5}\n";
    let f = file("prefix.jsonl", h);
    let r = lincheck(&[&f]);
    assert_eq!(r.code, 1);
    assert!(
        r.out
            .contains("longest linearizable prefix: 2 of 3 operations"),
        "{}",
        r.out
    );
    assert!(
        r.out
            .contains("read() -> 7 [client 1, call 4, return 5, line 3]: rejected by the model"),
        "{}",
        r.out
    );
}

#[test]
fn jepsen_workloads_end_to_end() {
    let lock = "{:process 0 :type :invoke :f :acquire}\n{:process 0 :type :ok :f :acquire}\n\
{:process 1 :type :invoke :f :acquire}\n{:process 1 :type :ok :f :acquire}\n";
    let f = file("lock.edn", lock);
    let r = lincheck(&[&f]);
    assert_eq!(r.code, 1, "{}{}", r.out, r.err);
    assert!(r.out.contains("model mutex, 2 operations"), "{}", r.out);
    let independent = "[{:process 0 :type :invoke :f :write :value [1 3]}\n\
{:process 0 :type :ok :f :write :value [1 3]}\n\
{:process 1 :type :invoke :f :read :value [2 nil]}\n\
{:process 1 :type :ok :f :read :value [2 nil]}\n\
{:process 1 :type :invoke :f :read :value [1 nil]}\n\
{:process 1 :type :ok :f :read :value [1 3]}]\n";
    let f = file("independent.edn", independent);
    let r = lincheck(&[&f]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(
        r.out.contains("model register (independent keys"),
        "{}",
        r.out
    );
    assert!(r.out.contains("2 partitions"), "{}", r.out);
    let rw = "{:process 0 :type :invoke :f :txn :value [[:w :x 1] [:w :y 1]]}\n\
{:process 0 :type :ok :f :txn :value [[:w :x 1] [:w :y 1]]}\n\
{:process 1 :type :invoke :f :txn :value [[:r :x nil] [:r :y nil]]}\n\
{:process 1 :type :ok :f :txn :value [[:r :x 1] [:r :y nil]]}\n";
    let f = file("rw.edn", rw);
    let r = lincheck(&[&f]);
    assert_eq!(r.code, 1, "a torn read: {}{}", r.out, r.err);
    assert!(r.out.contains("model multi-register"), "{}", r.out);
    let la = "{:process 0 :type :invoke :f :txn :value [[:append 1 1]]}\n\
{:process 0 :type :ok :f :txn :value [[:append 1 1]]}\n\
{:process 1 :type :invoke :f :txn :value [[:r 1 nil] [:append 1 2]]}\n\
{:process 1 :type :ok :f :txn :value [[:r 1 [1]] [:append 1 2]]}\n\
{:process 0 :type :invoke :f :txn :value [[:r 1 nil]]}\n\
{:process 0 :type :ok :f :txn :value [[:r 1 [1 2]]]}\n";
    let f = file("la.edn", la);
    let r = lincheck(&[&f]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(
        r.out.contains("model list-append, 3 operations"),
        "{}",
        r.out
    );
    let bank = "{:process 0 :type :invoke :f :transfer :value {:from 0 :to 1 :amount 2}}\n";
    let f = file("bank.edn", bank);
    let r = lincheck(&[&f]);
    assert_eq!(r.code, 3);
    assert!(r.err.contains("bank workload"), "{}", r.err);
}

/// The JSON payload embedded in an HTML view.
fn payload(page: &str) -> serde_json::Value {
    let start = r#"<script type="application/json" id="payload">"#;
    let from = page.find(start).expect("the payload script") + start.len();
    let len = page[from..].find("</script>").expect("its end");
    serde_json::from_str(&page[from..from + len]).expect("the payload is JSON")
}

/// The view opens where the first illegal partition got stuck. On porcupine's
/// 50-client log partitioned by key, that is key '0''s get of line 1300, the first
/// operation the text report says cannot come next: at default zoom it is thousands
/// of pixels to the right, past the edge of any window.
#[test]
fn the_html_view_opens_at_the_first_stuck_operation_of_the_first_illegal_partition() {
    let f = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/porcupine/kv/c50-bad.txt"
    );
    let html = dir().join("c50-bad.html");
    let r = lincheck(&[f, "--model", "kv", "--html", html.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}{}", r.out, r.err);
    let first = r
        .out
        .lines()
        .skip_while(|l| !l.contains("it stops before"))
        .nth(1)
        .expect("the first operation that cannot come next");
    assert!(
        r.out
            .contains("partition key '0' (230 operations) is not linearizable"),
        "{}",
        r.out
    );
    assert!(
        first.contains("[client 1, call 1299, return 1362, line 1300]"),
        "{first}"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    let data = payload(&page);
    let stuck = &data["stuck"];
    let index = stuck["partition"].as_u64().expect("a partition") as usize;
    let part = &data["partitions"][index];
    assert_eq!(part["name"], "key '0'", "the first illegal partition");
    for earlier in &data["partitions"].as_array().unwrap()[..index] {
        assert_ne!(earlier["status"], "Illegal");
    }
    let op = &part["ops"][stuck["op"].as_u64().expect("an operation") as usize];
    assert_eq!(op["id"], stuck["id"]);
    assert_eq!(op["client"], 1);
    assert_eq!(op["call"], 1299);
    assert!(
        op["desc"]
            .as_str()
            .unwrap()
            .starts_with("get('0') -> 'x 15 8 yx 32 0 y"),
        "{op}"
    );
    assert!(
        op["c"].as_u64().unwrap() * 28 > 4000,
        "off-screen at the default zoom: {op}"
    );
    // The script outlines it and scrolls to it on load.
    assert!(page.contains("data.stuck.op === pos) bar.classList.add(\"stuck\")"));
    assert!(page.contains("scroller.scrollLeft = "));
    assert!(page.contains("\nscrollToStuck();\n"));

    // An Ok history has nowhere to scroll to.
    let ok = file("ok-view.jsonl", KV_OK);
    let html = dir().join("ok-view.html");
    let r = lincheck(&[&ok, "--html", html.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    let page = std::fs::read_to_string(&html).unwrap();
    assert_eq!(payload(&page)["stuck"], serde_json::Value::Null);
}
