//! Subtests, as Go's `t.Run` runs them: a lab test made of titled parts (the
//! controller's TestBasic and TestMulti) runs every part even when one fails, prints
//! each part's verdict, and fails at the end naming every part that failed.
//!
//! [`Subtests::run`] prints the lab's line `Test: <title> ...`, awaits the part's body
//! and prints `  ... Passed`, or, if the body panicked (a failed check),
//! `  ... Failed: <message>`. As with `t.Fatalf` inside `t.Run`, a failed part stops
//! where it failed and the next part runs on whatever state it left behind (a config
//! it did not query stays as it was). [`Subtests::finish`] then fails the test if any
//! part failed, naming them all. A panic outside a part's body (the simulator's own
//! checks, a stuck run) still ends the whole test at once.

use std::any::Any;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::pin;
use std::task::Poll;

/// The parts of one test and those that failed so far.
#[derive(Debug, Default)]
pub struct Subtests {
    ran: usize,
    failed: Vec<String>,
}

impl Subtests {
    /// No part run yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs the part titled `title` (see the module docs); returns whether it passed.
    pub async fn run(&mut self, title: &str, body: impl Future<Output = ()>) -> bool {
        println!("Test: {title} ...");
        self.ran += 1;
        match catch_unwind(body).await {
            Ok(()) => {
                println!("  ... Passed");
                true
            }
            Err(payload) => {
                println!("  ... Failed: {}", panic_message(payload.as_ref()));
                self.failed.push(title.to_string());
                false
            }
        }
    }

    /// The titles of the parts that failed, in the order they ran.
    pub fn failed(&self) -> &[String] {
        &self.failed
    }

    /// Fails (panics) if any part of test `test` failed, naming every one.
    #[track_caller]
    pub fn finish(self, test: &str) {
        if !self.failed.is_empty() {
            panic!(
                "{test}: {} of {} subtests failed: {}",
                self.failed.len(),
                self.ran,
                self.failed.join("; ")
            );
        }
    }
}

/// Awaits `body`, turning a panic while it is polled into `Err` with the panic's
/// payload (the body is dropped then, unfinished).
async fn catch_unwind(body: impl Future<Output = ()>) -> Result<(), Box<dyn Any + Send>> {
    let mut body = pin!(body);
    std::future::poll_fn(|cx| {
        match panic::catch_unwind(AssertUnwindSafe(|| body.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(())) => Poll::Ready(Ok(())),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    })
    .await
}

/// The text of a panic's payload (`panic!` with a literal or a format string).
fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic without a message)".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{Event, Kernel, Sim, World};
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::time::Duration;

    struct Quiet;
    impl World for Quiet {
        fn on_event(&mut self, _: &mut Kernel, _: Event) {}
    }

    /// Three parts, the second failing after a virtual sleep: the third still runs on
    /// the state the second left, and the test fails naming the second only.
    #[test]
    fn every_part_runs_and_the_failures_are_named_at_the_end() {
        let sim = Sim::new(1, Quiet);
        let steps = Rc::new(RefCell::new(Vec::new()));
        let (sim2, log) = (sim.clone(), steps.clone());
        let subtests = sim.run(async move {
            let mut t = Subtests::new();
            let mut state = 0;
            assert!(t.run("first", async { state += 1 }).await);
            let second = t
                .run("second", async {
                    state += 10;
                    sim2.sleep(Duration::from_millis(5)).await;
                    if state > 1 {
                        panic!("state is {state}");
                    }
                    state += 100;
                })
                .await;
            assert!(!second);
            assert!(t.run("third", async { log.borrow_mut().push(state) }).await);
            t
        });
        assert_eq!(
            *steps.borrow(),
            [11],
            "the third part saw the second's state"
        );
        assert_eq!(subtests.failed(), ["second"]);
        let end = panic::catch_unwind(AssertUnwindSafe(|| subtests.finish("basic")));
        let payload = end.expect_err("a failed part fails the test");
        assert_eq!(
            panic_message(payload.as_ref()),
            "basic: 1 of 3 subtests failed: second"
        );
    }

    #[test]
    fn all_passing_parts_pass_the_test() {
        let sim = Sim::new(2, Quiet);
        let t = sim.run(async {
            let mut t = Subtests::new();
            for title in ["a", "b"] {
                assert!(t.run(title, async {}).await);
            }
            t
        });
        assert!(t.failed().is_empty());
        t.finish("multi");
    }

    #[test]
    fn panic_messages_are_read_from_either_payload() {
        assert_eq!(panic_message(&"literal"), "literal");
        assert_eq!(panic_message(&String::from("formatted 7")), "formatted 7");
        assert_eq!(panic_message(&7u32), "(a panic without a message)");
    }
}
