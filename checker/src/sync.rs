//! The synchronization primitives the parallel part uses: the standard library's
//! normally, loom's under `--cfg loom` so that loom can explore every interleaving of
//! [`crate::pool`].

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

/// Locks a mutex. A worker that panicked while holding it leaves consistent data
/// behind (every critical section is a single queue or vector operation), so a
/// poisoned lock is simply taken over.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
