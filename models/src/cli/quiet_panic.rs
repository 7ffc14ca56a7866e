//! The simulator's checks report a violation by panicking. [`catch`] runs a
//! simulation and turns such a panic into its message, without the default hook's
//! `thread 'main' panicked at` line and backtrace (which `RUST_BACKTRACE=1` would
//! print), so that the command can say what failed in its own words.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Mutex;

static MESSAGE: Mutex<Option<String>> = Mutex::new(None);

/// Runs `f`; a panic inside it comes back as its message.
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let previous = panic::take_hook();
    panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let text = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown failure".into());
        if let Ok(mut m) = MESSAGE.lock() {
            *m = Some(text);
        }
    }));
    let outcome = panic::catch_unwind(AssertUnwindSafe(f));
    panic::set_hook(previous);
    outcome.map_err(|_| {
        MESSAGE
            .lock()
            .ok()
            .and_then(|mut m| m.take())
            .unwrap_or_else(|| "unknown failure".into())
    })
}
