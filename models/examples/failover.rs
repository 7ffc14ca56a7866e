//! Measures failover on a real 3-server cluster: a client writes back to back through a
//! follower; the leader is killed with `kill -9`; the figure is the time from the kill
//! to the completion of the first write that was sent after the kill and succeeded (a
//! write already in flight at the kill may complete at once and says nothing). Repeated `ROUNDS` times (default
//! 3), with the killed server restarted between rounds.
//!
//! `cargo run --release -p raftlab-models --example failover [ROUNDS] [-- serve args]`

#[path = "../tests/real/mod.rs"]
mod real;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let rounds: usize = match args.first().and_then(|a| a.parse().ok()) {
        Some(r) => {
            args.remove(0);
            r
        }
        None => 3,
    };
    if args.first().map(String::as_str) == Some("--") {
        args.remove(0);
    }
    let extra: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut c = real::Cluster::start_with(3, &extra);
    let mut figures = Vec::new();
    for round in 1..=rounds {
        let leader = c.check_one_leader(Duration::from_secs(10));
        let via = (leader + 1) % 3;
        let successes: Arc<Mutex<Vec<(Instant, Instant)>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (successes, stop) = (successes.clone(), stop.clone());
            let url = format!("redis://{}/", c.clients[via]);
            std::thread::spawn(move || {
                let client = redis::Client::open(url).expect("client");
                let mut con = client.get_connection().expect("connection");
                let _ = con.set_read_timeout(Some(Duration::from_secs(20)));
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let sent = Instant::now();
                    let r: redis::RedisResult<String> = redis::cmd("SET")
                        .arg(format!("f{n}"))
                        .arg("x")
                        .query(&mut con);
                    if r.is_ok() {
                        successes.lock().unwrap().push((sent, Instant::now()));
                    }
                }
            })
        };
        std::thread::sleep(Duration::from_millis(1000));
        let killed_at = Instant::now();
        c.kill9(leader);
        let deadline = killed_at + Duration::from_secs(30);
        let after = loop {
            if let Some(&(_, done)) = successes
                .lock()
                .unwrap()
                .iter()
                .find(|&&(sent, _)| sent > killed_at)
            {
                break done;
            }
            if Instant::now() > deadline {
                panic!("no write succeeded within 30 s of the kill");
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        stop.store(true, Ordering::Relaxed);
        let _ = writer.join();
        let ms = after.duration_since(killed_at).as_secs_f64() * 1000.0;
        let before = successes
            .lock()
            .unwrap()
            .iter()
            .filter(|&&(_, done)| done <= killed_at)
            .count();
        println!(
            "round {round}: killed leader S{leader}; next write through S{via} succeeded after {ms:.0} ms ({before} writes before the kill)"
        );
        figures.push(ms);
        c.start_server(leader);
        std::thread::sleep(Duration::from_secs(2));
    }
    let mut sorted = figures.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "failover after kill -9 of the leader, {} rounds: min {:.0} ms, median {:.0} ms, max {:.0} ms",
        sorted.len(),
        sorted[0],
        sorted[sorted.len() / 2],
        sorted[sorted.len() - 1]
    );
}
