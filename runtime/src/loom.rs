//! The crate's concurrency facade.
//!
//! Production code never names `std::sync`, `std::thread` or crossbeam's parker directly:
//! it goes through this module, and `--cfg loom` swaps in loom's model-checked types so the
//! scheduler's protocols (idle/search/park, shutdown, abort) run under loom unchanged.
//!
//! Two things are deliberately *not* swapped:
//! - metrics counters (`MetricCounter`): observations only, no protocol reads them, and
//!   modelling them would multiply loom's interleavings for nothing;
//! - crossbeam-deque, which loom cannot see inside: `scheduler::multi_thread::queue` puts the
//!   run queues behind a small type with a `Mutex<VecDeque>` stand-in under `cfg(loom)`.

#[cfg(not(loom))]
mod imp {
    pub(crate) use std::cell::Cell;
    pub(crate) use std::sync::atomic;
    pub(crate) use std::sync::{Arc, Condvar, Mutex, MutexGuard};

    pub(crate) mod thread {
        pub(crate) use std::thread::{current, Builder, JoinHandle};
    }

    pub(crate) use crossbeam_utils::sync::{Parker, Unparker};
}

#[cfg(loom)]
mod imp {
    pub(crate) use loom::cell::Cell;
    pub(crate) use loom::sync::atomic;
    pub(crate) use loom::sync::{Arc, Condvar, Mutex, MutexGuard};

    pub(crate) mod thread {
        pub(crate) use loom::thread::{current, JoinHandle};

        /// loom's threads take no name or stack size; the builder keeps the std shape.
        #[derive(Debug, Default)]
        pub(crate) struct Builder;

        impl Builder {
            pub(crate) fn new() -> Self {
                Builder
            }
            pub(crate) fn name(self, _name: String) -> Self {
                self
            }
            pub(crate) fn stack_size(self, _size: usize) -> Self {
                self
            }
            pub(crate) fn spawn<F, T>(self, f: F) -> std::io::Result<JoinHandle<T>>
            where
                F: FnOnce() -> T + Send + 'static,
                T: Send + 'static,
            {
                Ok(loom::thread::spawn(f))
            }
        }
    }

    /// A parker built from loom's mutex and condition variable, with crossbeam's semantics:
    /// one stored token, so an `unpark` before `park` is not lost.
    #[derive(Debug)]
    pub(crate) struct Parker {
        unparker: Unparker,
    }

    /// Wakes the thread that owns the matching [`Parker`].
    #[derive(Debug, Clone)]
    pub(crate) struct Unparker {
        inner: Arc<ParkInner>,
    }

    #[derive(Debug)]
    struct ParkInner {
        token: Mutex<bool>,
        cvar: Condvar,
    }

    impl Default for Parker {
        fn default() -> Self {
            Self::new()
        }
    }

    impl Parker {
        pub(crate) fn new() -> Self {
            Parker {
                unparker: Unparker {
                    inner: Arc::new(ParkInner {
                        token: Mutex::new(false),
                        cvar: Condvar::new(),
                    }),
                },
            }
        }
        pub(crate) fn park(&self) {
            let inner = &self.unparker.inner;
            let mut token = inner.token.lock().unwrap();
            while !*token {
                token = inner.cvar.wait(token).unwrap();
            }
            *token = false;
        }
        #[allow(dead_code)]
        pub(crate) fn park_timeout(&self, _timeout: std::time::Duration) {
            // loom has no time: a timed park is modelled as an untimed one that may also
            // return spuriously, which every caller must already tolerate.
            *self.unparker.inner.token.lock().unwrap() = false;
        }
        pub(crate) fn unparker(&self) -> &Unparker {
            &self.unparker
        }
    }

    impl Unparker {
        pub(crate) fn unpark(&self) {
            *self.inner.token.lock().unwrap() = true;
            self.inner.cvar.notify_one();
        }
    }
}

#[allow(unused_imports)]
pub(crate) use imp::*;

/// Counters that only their owner writes and anyone may read (see the module docs).
pub(crate) use std::sync::atomic::AtomicU64 as MetricCounter;

/// `thread_local!` with a `const` initializer in production (no lazy-init check on each
/// access); under loom, loom's own `thread_local!` (whose macro takes no `const` block),
/// so each modelled thread gets its own value.
#[cfg(not(loom))]
macro_rules! thread_local_const {
    ($(#[$attr:meta])* static $name:ident: $t:ty = $init:expr;) => {
        std::thread_local! { $(#[$attr])* static $name: $t = const { $init }; }
    };
}

#[cfg(loom)]
macro_rules! thread_local_const {
    ($(#[$attr:meta])* static $name:ident: $t:ty = $init:expr;) => {
        loom::thread_local! { $(#[$attr])* static $name: $t = $init; }
    };
}

pub(crate) use thread_local_const;
