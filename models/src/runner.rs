//! Running a check of a cluster model: pick a search, show progress, and sum the
//! result up as a table of properties.
//!
//! [`check`] spawns stateright's BFS or DFS (either with symmetry reduction, which is
//! by fingerprint: every state hashes as its class, see
//! [`ClusterState::hash_canonical`](crate::cluster::ClusterState::hash_canonical)) or
//! its simulation checker on a [`ClusterModel`], shows a progress line (unique states,
//! total states, states per second, depth) while it runs, and returns a
//! [`CheckReport`]: the counts, and for each property whether it holds, is violated
//! (with the path), or was not reached. A property is said to hold only when the
//! search was exhaustive (BFS or DFS that ran to the end, without a time limit, a
//! depth cap or an interrupt cutting it short).
//!
//! A BFS or DFS ends at its time limit, or when [`CheckOptions::interrupt`] is set,
//! through the model's [`Halt`](crate::cluster::Halt) switch (stateright's own time
//! limit would not stop a search on one thread); a simulation ends at stateright's
//! time limit.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use stateright::{Checker, Expectation, HasDiscoveries, Model, Path};

use crate::cluster::{ActionOf, ClusterModel, Protocol, StateOf};
use crate::trace::render_path;

/// How the state space is searched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Breadth first: the counterexamples found are shortest (on one thread), with
    /// symmetry reduction when asked (a state and its renamings are equally deep).
    Bfs,
    /// Depth first, with symmetry reduction over server ids when asked.
    Dfs,
    /// Random walks from this seed, until the time limit.
    Simulate(u64),
}

/// When a check stops before it has explored everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopWhen {
    /// Run until every state is explored (or every property has a discovery).
    Exhausted,
    /// Stop at the first violated `always` property.
    FirstViolation,
}

/// The options of a check.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// The search.
    pub strategy: Strategy,
    /// Checker threads.
    pub threads: usize,
    /// Symmetry reduction over server ids (BFS and DFS; random walks keep no states).
    pub symmetry: bool,
    /// Stop after this long (the search is then not exhaustive, unless it ended first).
    pub timeout: Option<Duration>,
    /// Do not explore past this depth (the search is then not exhaustive, unless no
    /// state was that deep).
    pub max_depth: Option<usize>,
    /// When to stop.
    pub stop: StopWhen,
    /// Show a progress line on standard error.
    pub progress: bool,
    /// Make every counterexample a shortest one (see [`shortest`]); only with BFS.
    pub shortest: bool,
    /// Stop as soon as this is set (by a Ctrl-C handler): the report then covers what
    /// was found so far and says it was interrupted. A BFS or DFS stops its threads; a
    /// simulation's report is read while its threads run on until its time limit (so
    /// the caller should exit soon after).
    pub interrupt: Option<&'static AtomicBool>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            strategy: Strategy::Dfs,
            threads: 1,
            symmetry: true,
            timeout: None,
            max_depth: None,
            stop: StopWhen::Exhausted,
            progress: false,
            shortest: false,
            interrupt: None,
        }
    }
}

/// What a check found about one property.
#[derive(Clone, Debug)]
pub enum Outcome<P: Protocol> {
    /// An `always` property held in every state of an exhaustive search.
    Holds,
    /// An `always` property has no counterexample, but the search was not exhaustive.
    NoCounterexample,
    /// An `always` property fails on the last state of this path.
    Violated(Path<StateOf<P>, ActionOf<P>>),
    /// A `sometimes` property holds on the last state of this path.
    Reached(Path<StateOf<P>, ActionOf<P>>),
    /// A `sometimes` property held in no state explored.
    NotReached,
}

/// One property's line of the report.
#[derive(Clone, Debug)]
pub struct PropertyResult<P: Protocol> {
    /// Its name.
    pub name: &'static str,
    /// Always or sometimes.
    pub expectation: Expectation,
    /// What the check found.
    pub outcome: Outcome<P>,
}

impl<P: Protocol> PropertyResult<P> {
    /// The number of steps of the path found, if any.
    pub fn depth(&self) -> Option<usize> {
        match &self.outcome {
            Outcome::Violated(p) | Outcome::Reached(p) => Some(depth(p)),
            _ => None,
        }
    }
}

/// The result of a check.
#[derive(Clone, Debug)]
pub struct CheckReport<P: Protocol> {
    /// Distinct states (after symmetry reduction, when the search had it).
    pub unique_states: usize,
    /// States generated, repeats included.
    pub total_states: usize,
    /// The deepest state explored.
    pub max_depth: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// Whether every reachable state within the bounds was explored.
    pub exhaustive: bool,
    /// Whether [`CheckOptions::interrupt`] stopped the search.
    pub interrupted: bool,
    /// One result per property, in the model's order.
    pub properties: Vec<PropertyResult<P>>,
}

impl<P: Protocol> CheckReport<P> {
    /// Total states per second.
    pub fn states_per_second(&self) -> f64 {
        self.total_states as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The result of the property named `name`.
    pub fn property(&self, name: &str) -> Option<&PropertyResult<P>> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// The violated `always` properties.
    pub fn violations(&self) -> impl Iterator<Item = &PropertyResult<P>> {
        self.properties
            .iter()
            .filter(|p| matches!(p.outcome, Outcome::Violated(_)))
    }

    /// The `sometimes` properties with no example.
    pub fn unreached(&self) -> impl Iterator<Item = &PropertyResult<P>> {
        self.properties
            .iter()
            .filter(|p| matches!(p.outcome, Outcome::NotReached))
    }

    /// The names of the `sometimes` properties that found an example.
    pub fn reached(&self) -> Vec<&'static str> {
        self.properties
            .iter()
            .filter(|p| matches!(p.outcome, Outcome::Reached(_)))
            .map(|p| p.name)
            .collect()
    }

    /// Panics, naming the property and printing the table, unless the search was
    /// exhaustive and every property held or was reached (for tests).
    pub fn assert_all_hold(&self) {
        assert!(self.exhaustive, "not exhaustive: {}", self.summary());
        for p in &self.properties {
            assert!(
                matches!(p.outcome, Outcome::Holds | Outcome::Reached(_)),
                "{}: {:?}\n{}",
                p.name,
                p.depth(),
                self.table()
            );
        }
    }

    /// The summary line: counts, rate, depth, time.
    pub fn summary(&self) -> String {
        format!(
            "{} unique states, {} total, max depth {}, {:.1} s, {:.0} states/s{}",
            self.unique_states,
            self.total_states,
            self.max_depth,
            self.elapsed.as_secs_f64(),
            self.states_per_second(),
            if self.exhaustive {
                ", exhaustive"
            } else if self.interrupted {
                ", NOT exhaustive (interrupted)"
            } else {
                ", NOT exhaustive"
            }
        )
    }

    /// The table of properties, one line each.
    pub fn table(&self) -> String {
        let width = self
            .properties
            .iter()
            .map(|p| p.name.len())
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        let _ = writeln!(out, "{:<width$}  {:<9}  result", "property", "kind");
        for p in &self.properties {
            let kind = match p.expectation {
                Expectation::Always => "always",
                Expectation::Sometimes => "sometimes",
                Expectation::Eventually => "eventually",
            };
            let result = match &p.outcome {
                Outcome::Holds => "holds".to_string(),
                Outcome::NoCounterexample => "no counterexample (search not exhaustive)".into(),
                Outcome::Violated(_) => {
                    format!("VIOLATED at depth {} (trace below)", p.depth().unwrap_or(0))
                }
                Outcome::Reached(_) => format!("reached at depth {}", p.depth().unwrap_or(0)),
                Outcome::NotReached if self.exhaustive => "NOT REACHED".into(),
                Outcome::NotReached => "not reached (search not exhaustive)".into(),
            };
            let _ = writeln!(out, "{:<width$}  {kind:<9}  {result}", p.name);
        }
        out
    }

    /// The traces of every violated property.
    pub fn traces(&self, model: &ClusterModel<P>) -> String {
        let mut out = String::new();
        for p in &self.properties {
            if let Outcome::Violated(path) = &p.outcome {
                let _ = writeln!(
                    out,
                    "\nCounterexample to \"{}\" ({} steps):",
                    p.name,
                    p.depth().unwrap_or(0)
                );
                out.push_str(&render_path(model, path));
            }
        }
        out
    }
}

/// The number of actions on a path.
pub fn depth<S, A>(path: &Path<S, A>) -> usize
where
    S: Clone,
    A: Clone,
{
    path.clone().into_vec().len() - 1
}

/// A shortest path to a state that violates `property`, given one such path.
///
/// stateright's checkers record a discovery for every violating state they visit,
/// the last one overwriting the earlier ones, so even a one-thread BFS may report a
/// path longer than the shortest. This searches again, breadth first on one thread,
/// only below the depth of the path in hand, until no shorter path exists.
pub fn shortest<P: Protocol>(
    model: &ClusterModel<P>,
    property: &'static str,
    mut found: Path<StateOf<P>, ActionOf<P>>,
) -> Path<StateOf<P>, ActionOf<P>> {
    loop {
        let d = depth(&found);
        if d == 0 {
            return found;
        }
        // States at depth k are checked when k + 1 < target, so this checks k < d.
        let checker = model
            .clone()
            .checker()
            .threads(1)
            .target_max_depth(d + 1)
            .finish_when(HasDiscoveries::AnyOf([property].into_iter().collect()))
            .spawn_bfs()
            .join();
        match checker.discovery(property) {
            Some(p) if depth(&p) < d => found = p,
            _ => return found,
        }
    }
}

/// Runs a check of `model` with `options` and reports what it found.
pub fn check<P: Protocol>(model: ClusterModel<P>, options: &CheckOptions) -> CheckReport<P> {
    // A model of its own, so that halting this search halts no other.
    // Symmetry reduction is by fingerprint: with it, every state hashes as its class,
    // so a search that keeps one state per fingerprint keeps one per class (random
    // walks keep none, so they hash states as themselves).
    let walks = matches!(options.strategy, Strategy::Simulate(_));
    let symmetry = options.symmetry && !walks;
    let fresh = ClusterModel::new(model.protocol.clone())
        .with_symmetry(symmetry)
        .for_random_walks(walks);
    let mut report = check_once(fresh, options);
    if options.shortest && options.strategy == Strategy::Bfs && !report.interrupted {
        // A fresh halt switch: the search above may have set its own.
        let again = ClusterModel::new(model.protocol.clone()).with_symmetry(symmetry);
        for p in &mut report.properties {
            if let Outcome::Violated(path) = &p.outcome {
                p.outcome = Outcome::Violated(shortest(&again, p.name, path.clone()));
            }
        }
    }
    report
}

fn check_once<P: Protocol>(model: ClusterModel<P>, options: &CheckOptions) -> CheckReport<P> {
    let halt = model.halt().clone();
    let mut builder = model.checker().threads(options.threads.max(1));
    // BFS and DFS end at the time limit through the halt switch (see `finish`).
    if let (Some(t), Strategy::Simulate(_)) = (options.timeout, options.strategy) {
        builder = builder.timeout(t);
    }
    if let Some(d) = options.max_depth {
        builder = builder.target_max_depth(d);
    }
    if options.stop == StopWhen::FirstViolation {
        builder = builder.finish_when(HasDiscoveries::AnyFailures);
    }
    let progress = options.progress.then(new_progress_bar);
    let start = Instant::now();
    match options.strategy {
        Strategy::Bfs => finish(builder.spawn_bfs(), options, &halt, progress, start),
        Strategy::Dfs => finish(builder.spawn_dfs(), options, &halt, progress, start),
        Strategy::Simulate(seed) => finish(
            builder.spawn_simulation(seed, stateright::UniformChooser),
            options,
            &halt,
            progress,
            start,
        ),
    }
}

fn new_progress_bar() -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}") {
        bar.set_style(style);
    }
    bar
}

fn finish<P: Protocol, C: Checker<ClusterModel<P>>>(
    checker: C,
    options: &CheckOptions,
    halt: &crate::cluster::Halt,
    progress: Option<ProgressBar>,
    start: Instant,
) -> CheckReport<P> {
    let simulation = matches!(options.strategy, Strategy::Simulate(_));
    let mut last = (Instant::now(), 0usize);
    let mut interrupted = false;
    let mut halted = false;
    while !checker.is_done() {
        if options.interrupt.is_some_and(|f| f.load(Ordering::SeqCst)) {
            interrupted = true;
            if simulation {
                // Its threads cannot be stopped: report while they run.
                break;
            }
        }
        let late = options.timeout.is_some_and(|t| start.elapsed() >= t);
        if !simulation && !halted && (interrupted || late) {
            halt.set(true);
            halted = true;
        }
        std::thread::sleep(Duration::from_millis(100));
        if let Some(bar) = &progress {
            let total = checker.state_count();
            let now = Instant::now();
            let dt = now.duration_since(last.0).as_secs_f64();
            if dt >= 0.5 {
                let rate = (total - last.1.min(total)) as f64 / dt;
                last = (now, total);
                bar.set_message(format!(
                    "{} unique states, {} total, {:.0} states/s, depth {}",
                    checker.unique_state_count(),
                    total,
                    rate,
                    checker.max_depth()
                ));
            }
            bar.tick();
        }
    }
    if interrupted && simulation {
        return report(&checker, options, start, progress, true, true);
    }
    let checker = checker.join();
    // Rebuilding the discoveries' paths replays actions: the model must offer them.
    halt.set(false);
    report(&checker, options, start, progress, halted, interrupted)
}

/// The report of `checker`, whose search was cut short if `halted` (by its time limit
/// or an interrupt).
fn report<P: Protocol, C: Checker<ClusterModel<P>>>(
    checker: &C,
    options: &CheckOptions,
    start: Instant,
    progress: Option<ProgressBar>,
    halted: bool,
    interrupted: bool,
) -> CheckReport<P> {
    let elapsed = start.elapsed();
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let discoveries: HashMap<&'static str, Path<StateOf<P>, ActionOf<P>>> = checker.discoveries();
    // A state at the depth cap or past it was left unexplored.
    let depth_cut = options.max_depth.is_some_and(|d| checker.max_depth() >= d);
    let any_failure = checker
        .model()
        .properties()
        .iter()
        .any(|p| p.expectation == Expectation::Always && discoveries.contains_key(p.name));
    let cut_short = matches!(options.strategy, Strategy::Simulate(_))
        || halted
        || depth_cut
        || (options.stop == StopWhen::FirstViolation && any_failure);
    let exhaustive = !cut_short;
    let properties = checker
        .model()
        .properties()
        .into_iter()
        .map(|p| {
            let found = discoveries.get(p.name).cloned();
            let outcome = match (&p.expectation, found) {
                (Expectation::Sometimes, Some(path)) => Outcome::Reached(path),
                (Expectation::Sometimes, None) => Outcome::NotReached,
                (_, Some(path)) => Outcome::Violated(path),
                (_, None) if exhaustive => Outcome::Holds,
                (_, None) => Outcome::NoCounterexample,
            };
            PropertyResult {
                name: p.name,
                expectation: p.expectation.clone(),
                outcome,
            }
        })
        .collect();
    CheckReport {
        unique_states: checker.unique_state_count(),
        total_states: checker.state_count(),
        max_depth: checker.max_depth(),
        elapsed,
        exhaustive,
        interrupted,
        properties,
    }
}
