//! Ctrl-C during a long run. [`watch`] makes the first Ctrl-C (SIGINT) only set a
//! flag, which the run polls between its slices: a model check then stops and prints
//! what it found so far, a simulation its seed and replay command, and the command
//! exits with [`crate::cli::exit::INTERRUPTED`]. A second Ctrl-C ends the process at once,
//! as does any Ctrl-C once [`release`] has been called or in a command that never
//! called [`watch`]. Elsewhere than on Unix, Ctrl-C always ends the process at once.

use std::sync::atomic::AtomicBool;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// From now on, the first Ctrl-C sets the returned flag (which the run polls)
/// instead of ending the process.
pub fn watch() -> &'static AtomicBool {
    sys::install();
    &INTERRUPTED
}

/// From now on, Ctrl-C ends the process at once again (for the last phase of a run,
/// which does not poll the flag).
pub fn release() {
    sys::release();
}

#[cfg(unix)]
mod sys {
    use std::sync::atomic::Ordering;

    const SIGINT: i32 = 2;
    const SIG_DFL: usize = 0;

    unsafe extern "C" {
        fn signal(signum: i32, handler: usize) -> usize;
    }

    extern "C" fn on_sigint(_: i32) {
        super::INTERRUPTED.store(true, Ordering::SeqCst);
        // SAFETY: signal() is async-signal-safe; this puts back the default action,
        // so that a second Ctrl-C ends the process.
        unsafe { signal(SIGINT, SIG_DFL) };
    }

    pub fn install() {
        let handler: extern "C" fn(i32) = on_sigint;
        // SAFETY: the handler only stores to an atomic and calls signal(), both
        // async-signal-safe.
        unsafe { signal(SIGINT, handler as usize) };
    }

    pub fn release() {
        // SAFETY: restores the default action of SIGINT.
        unsafe { signal(SIGINT, SIG_DFL) };
    }
}

#[cfg(not(unix))]
mod sys {
    pub fn install() {}
    pub fn release() {}
}
