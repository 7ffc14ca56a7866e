//! Partial linearizations recorded in verbose mode.
//!
//! Every configuration the search pushes is a step of a linearization: the
//! operation just linearized and the state after it, below the step it extends. The
//! steps form a tree (a [`PathTree`]); a partial linearization is named by its last
//! step. A step stays alive while something refers to it: a step above it, a frame of
//! the search stack, or an operation's "longest" record. Reference counts free the
//! rest at once, so memory holds the current path plus the recorded linearizations,
//! which share their common prefixes. A budget caps the number of live steps: past
//! it, no new step is recorded (and the result says so).

/// "No step": the empty linearization.
pub(crate) const NO_STEP: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
pub(crate) struct Step {
    /// The step this one extends, or [`NO_STEP`].
    pub(crate) parent: u32,
    /// The operation linearized at this step (partition-local number).
    pub(crate) op: u32,
    /// The state after it.
    pub(crate) state: u32,
    refs: u32,
}

/// Reference-counted steps of partial linearizations.
#[derive(Debug)]
pub(crate) struct PathTree {
    steps: Vec<Step>,
    free: Vec<u32>,
    live: usize,
    budget: usize,
    overflowed: bool,
}

impl PathTree {
    /// An empty tree holding at most `budget` live steps.
    pub(crate) fn new(budget: usize) -> PathTree {
        PathTree {
            steps: Vec::new(),
            free: Vec::new(),
            live: 0,
            budget,
            overflowed: false,
        }
    }

    /// Whether the budget ran out at some point.
    pub(crate) fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// Bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.steps.capacity() * std::mem::size_of::<Step>() + self.free.capacity() * 4
    }

    /// The step numbered `id`.
    pub(crate) fn get(&self, id: u32) -> Step {
        self.steps[id as usize]
    }

    /// A new step after `parent`, with one reference (the caller's). Returns
    /// [`NO_STEP`] when over budget.
    pub(crate) fn push(&mut self, parent: u32, op: u32, state: u32) -> u32 {
        if self.live >= self.budget {
            self.overflowed = true;
            return NO_STEP;
        }
        self.retain(parent);
        self.live += 1;
        let step = Step {
            parent,
            op,
            state,
            refs: 1,
        };
        match self.free.pop() {
            Some(id) => {
                self.steps[id as usize] = step;
                id
            }
            None => {
                self.steps.push(step);
                (self.steps.len() - 1) as u32
            }
        }
    }

    /// Adds a reference to `id` (no effect on [`NO_STEP`]).
    pub(crate) fn retain(&mut self, id: u32) {
        if id != NO_STEP {
            self.steps[id as usize].refs += 1;
        }
    }

    /// Drops a reference to `id`, freeing it and then its unreferenced ancestors.
    pub(crate) fn release(&mut self, mut id: u32) {
        while id != NO_STEP {
            let step = &mut self.steps[id as usize];
            step.refs -= 1;
            if step.refs > 0 {
                return;
            }
            let parent = step.parent;
            self.free.push(id);
            self.live -= 1;
            id = parent;
        }
    }

    /// The operations of the linearization ending at `id`, first to last, with the
    /// state after each.
    pub(crate) fn path(&self, mut id: u32) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        while id != NO_STEP {
            let s = self.steps[id as usize];
            out.push((s.op, s.state));
            id = s.parent;
        }
        out.reverse();
        out
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn shared_prefixes_live_as_long_as_a_reference() {
        let mut t = PathTree::new(100);
        let a = t.push(NO_STEP, 0, 10);
        let b = t.push(a, 1, 11);
        let c = t.push(a, 2, 12);
        t.release(a); // the stack frame of `a` goes; b and c keep it alive
        assert_eq!(t.path(b), vec![(0, 10), (1, 11)]);
        t.release(b);
        assert_eq!(t.path(c), vec![(0, 10), (2, 12)]);
        assert_eq!(t.live, 2);
        t.release(c);
        assert_eq!(t.live, 0);
        let d = t.push(NO_STEP, 5, 15);
        assert!(d <= 2, "freed steps are reused");
    }

    #[test]
    fn the_budget_caps_live_steps() {
        let mut t = PathTree::new(2);
        let a = t.push(NO_STEP, 0, 0);
        let b = t.push(a, 1, 1);
        assert_eq!(t.push(b, 2, 2), NO_STEP);
        assert!(t.overflowed());
        t.release(b);
        assert_ne!(t.push(a, 3, 3), NO_STEP);
    }
}
