//! The run queues, behind a small type so loom can model what it cannot see inside.
//!
//! In production these are crossbeam-deque's `Worker` (FIFO), `Stealer` and `Injector`.
//! Under `cfg(loom)` they are `Mutex<VecDeque>` stand-ins with the same operations, so the
//! sleep/wake and shutdown protocols around them are still model-checked; the real deque is
//! stress-tested separately (see `tests/rt_*`).

use crate::task::Runnable;

#[cfg(not(loom))]
mod imp {
    use super::Runnable;
    use crossbeam_deque::Steal;

    /// A worker's own queue: only its owner pushes and pops.
    pub(crate) struct Local(crossbeam_deque::Worker<Runnable>);

    /// The other workers' view of a [`Local`] queue.
    pub(crate) struct Stealer(crossbeam_deque::Stealer<Runnable>);

    /// The most tasks one look at the injector takes (crossbeam's default is 33).
    const INJECTOR_BATCH: usize = 64;

    /// The global queue for spawns and wakes from outside the workers.
    pub(crate) struct Injector(crossbeam_deque::Injector<Runnable>);

    pub(crate) fn local() -> (Local, Stealer) {
        let w = crossbeam_deque::Worker::new_fifo();
        let s = w.stealer();
        (Local(w), Stealer(s))
    }

    fn retry(mut f: impl FnMut() -> Steal<Runnable>) -> Option<Runnable> {
        loop {
            match f() {
                Steal::Success(t) => return Some(t),
                Steal::Empty => return None,
                Steal::Retry => std::hint::spin_loop(),
            }
        }
    }

    impl Local {
        pub(crate) fn push(&self, task: Runnable) {
            self.0.push(task)
        }
        pub(crate) fn pop(&self) -> Option<Runnable> {
            self.0.pop()
        }
    }

    impl Stealer {
        /// Moves about half of the victim's tasks to `dest` and returns one of them.
        pub(crate) fn steal_batch_and_pop(&self, dest: &Local) -> Option<Runnable> {
            retry(|| self.0.steal_batch_and_pop(&dest.0))
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.len()
        }
    }

    impl Injector {
        pub(crate) fn new() -> Self {
            Injector(crossbeam_deque::Injector::new())
        }
        pub(crate) fn push(&self, task: Runnable) {
            self.0.push(task)
        }
        /// Moves a batch (about half the injector, at most one of its blocks: 63 tasks) to
        /// `dest` and returns one of them.
        pub(crate) fn steal_batch_and_pop(&self, dest: &Local) -> Option<Runnable> {
            retry(|| {
                self.0
                    .steal_batch_with_limit_and_pop(&dest.0, INJECTOR_BATCH)
            })
        }
        pub(crate) fn pop(&self) -> Option<Runnable> {
            retry(|| self.0.steal())
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.len()
        }
    }
}

#[cfg(loom)]
mod imp {
    use super::Runnable;
    use crate::loom::{Arc, Mutex};
    use std::collections::VecDeque;

    type Deque = Arc<Mutex<VecDeque<Runnable>>>;

    pub(crate) struct Local(Deque);
    pub(crate) struct Stealer(Deque);
    pub(crate) struct Injector(Mutex<VecDeque<Runnable>>);

    pub(crate) fn local() -> (Local, Stealer) {
        let q: Deque = Arc::new(Mutex::new(VecDeque::new()));
        (Local(q.clone()), Stealer(q))
    }

    fn batch(src: &mut VecDeque<Runnable>, dest: &Local) -> Option<Runnable> {
        let first = src.pop_front()?;
        let n = src.len() / 2;
        let mut dest = dest.0.lock().unwrap();
        for _ in 0..n {
            dest.push_back(src.pop_front().unwrap());
        }
        Some(first)
    }

    impl Local {
        pub(crate) fn push(&self, task: Runnable) {
            self.0.lock().unwrap().push_back(task)
        }
        pub(crate) fn pop(&self) -> Option<Runnable> {
            self.0.lock().unwrap().pop_front()
        }
    }

    impl Stealer {
        pub(crate) fn steal_batch_and_pop(&self, dest: &Local) -> Option<Runnable> {
            let mut src = self.0.lock().unwrap();
            batch(&mut src, dest)
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.lock().unwrap().is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.lock().unwrap().len()
        }
    }

    impl Injector {
        pub(crate) fn new() -> Self {
            Injector(Mutex::new(VecDeque::new()))
        }
        pub(crate) fn push(&self, task: Runnable) {
            self.0.lock().unwrap().push_back(task)
        }
        /// As crossbeam's injector does it: claim about half the queue (rounded up), then,
        /// with the injector released, move all but the first onto `dest`. In between, the
        /// batch is in neither queue, a window the scheduler must not trip on (see
        /// `pop_injector`).
        pub(crate) fn steal_batch_and_pop(&self, dest: &Local) -> Option<Runnable> {
            let mut claimed: VecDeque<Runnable> = {
                let mut src = self.0.lock().unwrap();
                let n = src.len().div_ceil(2);
                src.drain(..n).collect()
            };
            let first = claimed.pop_front()?;
            if !claimed.is_empty() {
                dest.0.lock().unwrap().extend(claimed);
            }
            Some(first)
        }
        pub(crate) fn pop(&self) -> Option<Runnable> {
            self.0.lock().unwrap().pop_front()
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.lock().unwrap().is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.lock().unwrap().len()
        }
    }
}

pub(crate) use imp::{local, Injector, Local, Stealer};
