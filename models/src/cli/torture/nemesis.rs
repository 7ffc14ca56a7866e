//! The nemesis: faults on a schedule drawn from the seed, one at a time, each healed
//! before the next.
//!
//! [`schedule`] is a pure function of the seed, the kinds asked for and the run's
//! length: after a quiet gap (0.5 to 2 s), a fault of one of the kinds, held for 1 to
//! 5 s, then healed; and so on to the end. What a fault is:
//!
//! - `kill`: SIGKILL, then (when healed) a restart from the same data directory, of
//!   the leader (found by asking every server for `INFO`), one server at random, a
//!   majority, or all of them;
//! - `pause`: SIGSTOP, then SIGCONT, of the leader, one server or a majority;
//! - `partition`, through the proxies every peer link goes through
//!   ([`raftlab::runtime::proxy`]): `isolate` (cut a server from every other, both
//!   ways: frames swallowed), `halves` (cut a random minority from the rest),
//!   `one-way` (a server's frames out, or in, are cut, not both), `refuse` (a
//!   server's connections closed and refused), `drop` (every link drops a share of
//!   its frames, 10 to 50%), `delay` (every link holds its frames 5 to 100 ms).
//!
//! Which server "one" or a minority is comes from the fault's own seeded generator
//! too; only who leads depends on the run.

use std::collections::BTreeMap;
use std::time::Duration;

use clap::ValueEnum;
use raftlab::runtime::proxy::Faults;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use raftlab::harness::real::{Mesh, Servers};

/// A kind of fault (`--nemesis`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Kind {
    /// SIGKILL servers, restart them from their data directories.
    Kill,
    /// SIGSTOP servers, SIGCONT them.
    Pause,
    /// Cut, one-way cut, refuse, drop or delay peer traffic in the proxies.
    Partition,
    /// No faults at all (alone).
    None,
}

impl Kind {
    /// The name, as `--nemesis` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Kill => "kill",
            Kind::Pause => "pause",
            Kind::Partition => "partition",
            Kind::None => "none",
        }
    }
}

/// Which servers a kill or a pause hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    /// The leader (or, if none answers as leader, one at random).
    Leader,
    /// One server at random.
    One,
    /// A random majority.
    Majority,
    /// Every server.
    All,
}

impl Who {
    fn label(self) -> &'static str {
        match self {
            Who::Leader => "leader",
            Who::One => "one",
            Who::Majority => "majority",
            Who::All => "all",
        }
    }
}

/// A network fault.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Net {
    /// Cut one server (the leader, or one at random) from every other, both ways.
    Isolate {
        /// The leader rather than one at random.
        leader: bool,
    },
    /// Cut a random minority from the rest, both ways.
    Halves,
    /// Cut one server's frames in one direction only.
    OneWay {
        /// The leader rather than one at random.
        leader: bool,
        /// Its frames out (it hears but is not heard), or in.
        outgoing: bool,
    },
    /// Close and refuse one server's connections, both ways.
    Refuse {
        /// The leader rather than one at random.
        leader: bool,
    },
    /// Every link drops this share of its frames.
    Drop(f64),
    /// Every link holds its frames this long.
    Delay(Duration),
}

impl Net {
    fn label(self) -> &'static str {
        match self {
            Net::Isolate { .. } => "isolate",
            Net::Halves => "halves",
            Net::OneWay { .. } => "one-way",
            Net::Refuse { .. } => "refuse",
            Net::Drop(_) => "drop",
            Net::Delay(_) => "delay",
        }
    }
}

/// One fault.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fault {
    /// Kill, then restart.
    Kill(Who),
    /// Pause, then resume.
    Pause(Who),
    /// A network fault, then heal.
    Partition(Net),
}

impl Fault {
    /// The fault's kind.
    pub fn kind(self) -> Kind {
        match self {
            Fault::Kill(_) => Kind::Kill,
            Fault::Pause(_) => Kind::Pause,
            Fault::Partition(_) => Kind::Partition,
        }
    }

    /// The variant's label (`leader`, `isolate`, ...).
    pub fn label(self) -> &'static str {
        match self {
            Fault::Kill(w) | Fault::Pause(w) => w.label(),
            Fault::Partition(n) => n.label(),
        }
    }
}

/// A fault on the schedule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Planned {
    /// When it starts, from the start of the workload.
    pub start: Duration,
    /// How long it lasts until it is healed.
    pub length: Duration,
    /// What it is.
    pub fault: Fault,
    /// Seeds its random choices (which servers, which minority).
    pub pick: u64,
}

fn secs(rng: &mut StdRng, lo: f64, hi: f64) -> Duration {
    Duration::from_secs_f64(rng.random_range(lo..hi))
}

/// The faults of a run of `run` with `kinds` (none if empty or `none`), from `seed`.
pub fn schedule(seed: u64, kinds: &[Kind], run: Duration) -> Vec<Planned> {
    let mut kinds: Vec<Kind> = kinds.iter().copied().filter(|k| *k != Kind::None).collect();
    kinds.sort();
    kinds.dedup();
    let mut rng = StdRng::seed_from_u64(seed ^ 0x6e65_6d65_7369_7321);
    let mut plan = Vec::new();
    if kinds.is_empty() {
        return plan;
    }
    let mut t = secs(&mut rng, 0.5, 2.0);
    loop {
        let length = secs(&mut rng, 1.0, 5.0);
        if t + length > run {
            break;
        }
        let fault = match kinds[rng.random_range(0..kinds.len())] {
            Kind::Kill => Fault::Kill(match rng.random_range(0..100) {
                0..40 => Who::Leader,
                40..70 => Who::One,
                70..85 => Who::Majority,
                _ => Who::All,
            }),
            Kind::Pause => Fault::Pause(match rng.random_range(0..100) {
                0..45 => Who::Leader,
                45..85 => Who::One,
                _ => Who::Majority,
            }),
            Kind::Partition | Kind::None => Fault::Partition(match rng.random_range(0..6) {
                0 => Net::Isolate {
                    leader: rng.random_bool(0.5),
                },
                1 => Net::Halves,
                2 => Net::OneWay {
                    leader: rng.random_bool(0.5),
                    outgoing: rng.random_bool(0.5),
                },
                3 => Net::Refuse {
                    leader: rng.random_bool(0.5),
                },
                4 => Net::Drop(rng.random_range(0.1..0.5)),
                _ => Net::Delay(Duration::from_millis(rng.random_range(5..=100))),
            }),
        };
        plan.push(Planned {
            start: t,
            length,
            fault,
            pick: rng.random(),
        });
        t += length + secs(&mut rng, 0.5, 2.0);
    }
    plan
}

/// A fault in force, to be healed.
pub struct Active {
    /// What was done, in words.
    pub description: String,
    /// Servers killed (to restart) or paused (to resume).
    pub servers: Vec<usize>,
    fault: Fault,
}

/// Which servers a kill or pause hits.
fn pick_servers(who: Who, servers: &Servers, rng: &mut StdRng) -> (Vec<usize>, &'static str) {
    let n = servers.len();
    let mut all: Vec<usize> = (0..n).collect();
    match who {
        Who::Leader => match servers.leader() {
            Some(l) => (vec![l], "the leader"),
            None => (
                vec![rng.random_range(0..n)],
                "no leader answered; at random",
            ),
        },
        Who::One => (vec![rng.random_range(0..n)], "at random"),
        Who::Majority => {
            all.shuffle(rng);
            all.truncate(n / 2 + 1);
            all.sort_unstable();
            (all, "a majority")
        }
        Who::All => (all, "all"),
    }
}

fn pick_one(leader: bool, servers: &Servers, rng: &mut StdRng) -> (usize, &'static str) {
    let n = servers.len();
    if leader && let Some(l) = servers.leader() {
        return (l, "the leader");
    }
    (
        rng.random_range(0..n),
        if leader {
            "no leader answered; at random"
        } else {
            "at random"
        },
    )
}

fn names(ids: &[usize]) -> String {
    ids.iter()
        .map(|i| format!("S{i}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Puts `fault` in force.
pub fn apply(p: &Planned, servers: &mut Servers, net: &Mesh) -> Active {
    let mut rng = StdRng::seed_from_u64(p.pick);
    let n = servers.len();
    match p.fault {
        Fault::Kill(who) => {
            let (ids, why) = pick_servers(who, servers, &mut rng);
            for &i in &ids {
                servers.kill(i);
            }
            Active {
                description: format!("kill {} ({why})", names(&ids)),
                servers: ids,
                fault: p.fault,
            }
        }
        Fault::Pause(who) => {
            let (ids, why) = pick_servers(who, servers, &mut rng);
            for &i in &ids {
                servers.pause(i);
            }
            Active {
                description: format!("pause {} ({why})", names(&ids)),
                servers: ids,
                fault: p.fault,
            }
        }
        Fault::Partition(netf) => {
            let description = match netf {
                Net::Isolate { leader } => {
                    let (x, why) = pick_one(leader, servers, &mut rng);
                    for j in (0..n).filter(|&j| j != x) {
                        net.set(x, j, Faults::CUT);
                        net.set(j, x, Faults::CUT);
                    }
                    format!("partition: isolate S{x} ({why}), both ways")
                }
                Net::Halves => {
                    let mut ids: Vec<usize> = (0..n).collect();
                    ids.shuffle(&mut rng);
                    let m = rng.random_range(1..=(n / 2).max(1));
                    let (a, b) = ids.split_at(m.min(n));
                    for &i in a {
                        for &j in b {
                            net.set(i, j, Faults::CUT);
                            net.set(j, i, Faults::CUT);
                        }
                    }
                    let (mut a, mut b) = (a.to_vec(), b.to_vec());
                    a.sort_unstable();
                    b.sort_unstable();
                    format!("partition: {} | {}", names(&a), names(&b))
                }
                Net::OneWay { leader, outgoing } => {
                    let (x, why) = pick_one(leader, servers, &mut rng);
                    for j in (0..n).filter(|&j| j != x) {
                        if outgoing {
                            net.set(x, j, Faults::CUT);
                        } else {
                            net.set(j, x, Faults::CUT);
                        }
                    }
                    if outgoing {
                        format!("partition: S{x} ({why}) is not heard (its frames out are cut)")
                    } else {
                        format!("partition: S{x} ({why}) hears nothing (frames to it are cut)")
                    }
                }
                Net::Refuse { leader } => {
                    let (x, why) = pick_one(leader, servers, &mut rng);
                    let refuse = Faults {
                        refuse: true,
                        ..Faults::NONE
                    };
                    for j in (0..n).filter(|&j| j != x) {
                        net.set(x, j, refuse);
                        net.set(j, x, refuse);
                    }
                    format!("partition: S{x}'s connections refused ({why})")
                }
                Net::Drop(share) => {
                    for i in 0..n {
                        for j in (0..n).filter(|&j| j != i) {
                            net.set(
                                i,
                                j,
                                Faults {
                                    drop: share,
                                    ..Faults::NONE
                                },
                            );
                        }
                    }
                    format!(
                        "partition: every link drops {:.0}% of its frames",
                        share * 100.0
                    )
                }
                Net::Delay(d) => {
                    for i in 0..n {
                        for j in (0..n).filter(|&j| j != i) {
                            net.set(
                                i,
                                j,
                                Faults {
                                    delay: d,
                                    ..Faults::NONE
                                },
                            );
                        }
                    }
                    format!(
                        "partition: every link delays its frames {} ms",
                        d.as_millis()
                    )
                }
            };
            Active {
                description,
                servers: Vec::new(),
                fault: p.fault,
            }
        }
    }
}

/// Heals `active`: restarts the killed servers, resumes the paused ones, clears the
/// network. Returns the servers that could not be restarted, with the error.
pub fn heal(active: &Active, servers: &mut Servers, net: &Mesh) -> Vec<(usize, std::io::Error)> {
    let mut failed = Vec::new();
    match active.fault {
        Fault::Kill(_) => {
            for &i in &active.servers {
                if !servers.is_up(i)
                    && let Err(e) = servers.start(i)
                {
                    failed.push((i, e));
                }
            }
        }
        Fault::Pause(_) => {
            for &i in &active.servers {
                servers.resume(i);
            }
        }
        Fault::Partition(_) => net.heal(),
    }
    failed
}

/// Faults done, by kind and label, for the summary.
#[derive(Clone, Debug, Default)]
pub struct Counts(BTreeMap<Kind, BTreeMap<&'static str, u64>>);

impl Counts {
    /// Counts one fault.
    pub fn add(&mut self, f: Fault) {
        *self
            .0
            .entry(f.kind())
            .or_default()
            .entry(f.label())
            .or_default() += 1;
    }

    /// `kill 3 (leader 2, all 1), pause 0, partition 2 (drop 1, isolate 1)`, over the
    /// kinds asked for.
    pub fn describe(&self, kinds: &[Kind]) -> String {
        let mut kinds: Vec<Kind> = kinds.iter().copied().filter(|k| *k != Kind::None).collect();
        kinds.sort();
        kinds.dedup();
        if kinds.is_empty() {
            return "none".into();
        }
        kinds
            .iter()
            .map(|&k| match self.0.get(&k) {
                None => format!("{} 0", k.name()),
                Some(m) => format!(
                    "{} {} ({})",
                    k.name(),
                    m.values().sum::<u64>(),
                    m.iter()
                        .map(|(l, c)| format!("{l} {c}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Kind; 3] = [Kind::Kill, Kind::Pause, Kind::Partition];

    #[test]
    fn the_schedule_is_the_seeds_and_fits_the_run() {
        let run = Duration::from_secs(60);
        let a = schedule(7, &ALL, run);
        assert_eq!(a, schedule(7, &ALL, run), "a seed gives one schedule");
        assert_ne!(a, schedule(8, &ALL, run));
        assert!(a.len() >= 8, "{} faults in 60 s", a.len());
        for w in a.windows(2) {
            assert!(w[0].start + w[0].length < w[1].start, "one fault at a time");
        }
        let last = a.last().unwrap();
        assert!(last.start + last.length <= run);
        for k in ALL {
            assert!(a.iter().any(|p| p.fault.kind() == k), "{k:?} appears");
        }
        let kills = schedule(7, &[Kind::Kill], run);
        assert!(kills.iter().all(|p| matches!(p.fault, Fault::Kill(_))));
        assert!(schedule(7, &[Kind::None], run).is_empty());
        assert!(schedule(7, &[], run).is_empty());
        assert!(schedule(7, &ALL, Duration::from_millis(500)).is_empty());
    }

    #[test]
    fn counts_name_each_kind_asked_for() {
        let mut c = Counts::default();
        c.add(Fault::Kill(Who::Leader));
        c.add(Fault::Kill(Who::Leader));
        c.add(Fault::Kill(Who::All));
        c.add(Fault::Partition(Net::Drop(0.2)));
        assert_eq!(
            c.describe(&ALL),
            "kill 3 (all 1, leader 2), pause 0, partition 1 (drop 1)"
        );
        assert_eq!(c.describe(&[Kind::None]), "none");
    }
}
