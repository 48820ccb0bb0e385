//! The `floor` row: the spawn-and-run work of `spawn_many_local` on one thread with no
//! synchronisation of ours (async-task tasks, a thread-local `VecDeque` run queue, a `Cell`
//! counter): the lower bound a scheduler approaches.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use crate::sizes::SPAWN_MANY;

thread_local! {
    static QUEUE: RefCell<VecDeque<async_task::Runnable>> = const { RefCell::new(VecDeque::new()) };
}

/// One iteration: spawn 10,000 tasks that each decrement a counter, run them all.
pub fn spawn_many(_: &()) {
    let rem = Rc::new(Cell::new(SPAWN_MANY));
    for _ in 0..SPAWN_MANY {
        let rem = rem.clone();
        let (runnable, task) =
            async_task::spawn_local(async move { rem.set(rem.get() - 1) }, |r| {
                QUEUE.with(|q| q.borrow_mut().push_back(r))
            });
        task.detach();
        runnable.schedule();
    }
    while let Some(r) = QUEUE.with(|q| q.borrow_mut().pop_front()) {
        r.run();
    }
    assert_eq!(rem.get(), 0);
}
