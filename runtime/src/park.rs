//! Blocking the calling thread until a future is woken (`block_on`'s parking).

use std::sync::Arc as StdArc;
use std::task::{Wake, Waker};

use crate::loom::{Parker, Unparker};

/// A parker for the current thread plus a `Waker` that unparks it.
pub(crate) struct ThreadWaker {
    parker: Parker,
    waker: Waker,
}

struct Unpark(Unparker);

impl Wake for Unpark {
    fn wake(self: StdArc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &StdArc<Self>) {
        self.0.unpark();
    }
}

impl ThreadWaker {
    pub(crate) fn current() -> ThreadWaker {
        let parker = Parker::new();
        let waker = Waker::from(StdArc::new(Unpark(parker.unparker().clone())));
        ThreadWaker { parker, waker }
    }

    pub(crate) fn waker(&self) -> Waker {
        self.waker.clone()
    }

    pub(crate) fn park(&self) {
        self.parker.park();
    }
}
