//! The simulator's executor: test code is ordinary async Rust ("goroutines" are tasks),
//! polled one at a time on one thread, in a deterministic order, while virtual time
//! advances only through the kernel's event queue.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

type Task = Pin<Box<dyn Future<Output = ()>>>;

/// Tasks and the queue of tasks that are ready to be polled.
#[derive(Default)]
pub(crate) struct Executor {
    tasks: RefCell<Vec<Option<Task>>>,
    spawned: RefCell<Vec<(usize, Task)>>,
    next_id: Cell<usize>,
    ready: Arc<Mutex<VecDeque<usize>>>,
}

struct TaskWaker {
    id: usize,
    ready: Arc<Mutex<VecDeque<usize>>>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Ok(mut q) = self.ready.lock() {
            q.push_back(self.id);
        }
    }
}

impl Executor {
    /// Adds a task; it will be polled for the first time on the next turn.
    pub(crate) fn spawn(&self, fut: impl Future<Output = ()> + 'static) {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        self.spawned.borrow_mut().push((id, Box::pin(fut)));
        if let Ok(mut q) = self.ready.lock() {
            q.push_back(id);
        }
    }

    /// Polls every ready task (and tasks made ready meanwhile) until none is ready.
    pub(crate) fn run_ready(&self) {
        loop {
            self.adopt_spawned();
            let next = self.ready.lock().ok().and_then(|mut q| q.pop_front());
            let Some(id) = next else {
                return;
            };
            let task = self.tasks.borrow_mut().get_mut(id).and_then(Option::take);
            let Some(mut task) = task else {
                continue;
            };
            let waker = Waker::from(Arc::new(TaskWaker {
                id,
                ready: self.ready.clone(),
            }));
            let mut cx = Context::from_waker(&waker);
            if task.as_mut().poll(&mut cx).is_pending() {
                self.tasks.borrow_mut()[id] = Some(task);
            }
        }
    }

    fn adopt_spawned(&self) {
        let spawned: Vec<_> = self.spawned.borrow_mut().drain(..).collect();
        if spawned.is_empty() {
            return;
        }
        let mut tasks = self.tasks.borrow_mut();
        for (id, task) in spawned {
            if tasks.len() <= id {
                tasks.resize_with(id + 1, || None);
            }
            tasks[id] = Some(task);
        }
    }

    /// Drops every task (they hold handles to the simulation, which would otherwise
    /// keep each other alive).
    pub(crate) fn clear(&self) {
        let tasks: Vec<_> = self.tasks.borrow_mut().drain(..).collect();
        let spawned: Vec<_> = self.spawned.borrow_mut().drain(..).collect();
        drop(tasks);
        drop(spawned);
    }

    /// Whether some task is ready to run.
    pub(crate) fn has_ready(&self) -> bool {
        self.ready.lock().map(|q| !q.is_empty()).unwrap_or(false)
            || !self.spawned.borrow().is_empty()
    }
}

struct Shared<T> {
    value: Option<T>,
    done: bool,
    waker: Option<Waker>,
}

/// The receiving half of a one-shot channel: a future of one value.
pub struct Receiver<T> {
    shared: Rc<RefCell<Shared<T>>>,
}

/// The sending half of a one-shot channel.
pub struct Sender<T> {
    shared: Rc<RefCell<Shared<T>>>,
}

/// A one-shot channel between the world (or a task) and a task.
pub fn oneshot<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Rc::new(RefCell::new(Shared {
        value: None,
        done: false,
        waker: None,
    }));
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

impl<T> Sender<T> {
    /// Delivers the value and wakes the receiving task. A second send is ignored.
    pub fn send(self, value: T) {
        let waker = {
            let mut s = self.shared.borrow_mut();
            if s.done {
                return;
            }
            s.value = Some(value);
            s.done = true;
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// Whether the value has been sent (and not yet taken).
    pub fn is_ready(&self) -> bool {
        self.shared.borrow().value.is_some()
    }

    /// Takes the value if it has been sent.
    pub fn try_take(&mut self) -> Option<T> {
        self.shared.borrow_mut().value.take()
    }
}

impl<T> Future for Receiver<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut s = self.shared.borrow_mut();
        match s.value.take() {
            Some(v) => Poll::Ready(v),
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// A handle to a spawned task: awaiting it gives the task's result.
pub type JoinHandle<T> = Receiver<T>;
