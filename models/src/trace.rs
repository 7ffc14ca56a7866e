//! Readable traces of a path through a cluster model: numbered steps, what happened,
//! what each step sent, and every server's state after it.
//!
//! ```text
//!   0. initial state
//!        S0 T0 follower  vote - log [] commit 0 applied []
//!        ...
//!   1. fire election timer S0
//!        sent S0 -> S1 RequestVote T1 last 0/T0
//!        sent S0 -> S2 RequestVote T1 last 0/T0
//!        S0 T1 candidate{S0} vote S0 log [] commit 0 applied []
//!        ...
//! ```

use std::fmt::Write;

use stateright::Path;

use crate::cluster::{ActionOf, ClusterModel, Protocol, StateOf};

/// The path as numbered steps, each followed by the messages it sent and the servers'
/// states after it.
pub fn render_path<P: Protocol>(
    model: &ClusterModel<P>,
    path: &Path<StateOf<P>, ActionOf<P>>,
) -> String {
    let steps = path.clone().into_vec();
    let mut out = String::new();
    let Some((first, _)) = steps.first() else {
        return out;
    };
    let _ = writeln!(out, "  0. initial state");
    for line in model.describe_servers(first) {
        let _ = writeln!(out, "       {line}");
    }
    for (k, pair) in steps.windows(2).enumerate() {
        let (before, action) = &pair[0];
        let (after, _) = &pair[1];
        let Some(action) = action else { continue };
        let _ = writeln!(out, "{:3}. {}", k + 1, model.describe_action(action));
        for (e, n) in after.network.iter() {
            let new = n.saturating_sub(before.network.count(e));
            for _ in 0..new {
                let _ = writeln!(out, "       sent {}", model.describe_envelope(e));
            }
        }
        for line in model.describe_servers(after) {
            let _ = writeln!(out, "       {line}");
        }
    }
    out
}
