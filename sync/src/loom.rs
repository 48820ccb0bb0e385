//! The crate's concurrency facade.
//!
//! Production code never names `std::sync` or `std::thread` directly: it goes through this
//! module, and `--cfg loom` swaps in loom's model-checked types so the same code can be
//! explored under every interleaving loom considers.

#[cfg(not(loom))]
mod imp {
    pub(crate) use std::cell::Cell;
    pub(crate) use std::sync::atomic;
    pub(crate) use std::sync::{Arc, Mutex, MutexGuard};

    /// `UnsafeCell` with loom's closure-based API, so call sites read the same under loom.
    #[derive(Debug, Default)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    #[allow(dead_code)]
    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> Self {
            Self(std::cell::UnsafeCell::new(value))
        }
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
        pub(crate) fn get_mut(&mut self) -> &mut T {
            self.0.get_mut()
        }
        pub(crate) fn into_inner(self) -> T {
            self.0.into_inner()
        }
    }
}

#[cfg(loom)]
mod imp {
    pub(crate) use loom::cell::{Cell, UnsafeCell};
    pub(crate) use loom::sync::atomic;
    pub(crate) use loom::sync::{Arc, Mutex, MutexGuard};
}

#[allow(unused_imports)]
pub(crate) use imp::*;

/// A spin-wait hint: the CPU's in production, a yield to loom's scheduler under loom (so a
/// modelled retry loop lets the other threads run).
#[inline]
pub(crate) fn spin_hint() {
    #[cfg(not(loom))]
    core::hint::spin_loop();
    #[cfg(loom)]
    loom::thread::yield_now();
}

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
