//! Groups nested in groups (rules TG-N1 and TG-N2).
//!
//! While a child's future is being polled, its group is this thread's *current group*
//! (a thread-local the child's wrapper moves its `Arc` into and back out of around the
//! poll, so it costs no reference counting). A `TaskGroup` created then is nested in it:
//!
//! - TG-N1. Creating it takes a *hold* on the parent (`holds += 1`), and the parent's `join`
//!   waits for `live + holds == 0`, not just `live == 0`.
//! - TG-N2. The nested group gives its hold back once its owner is gone (the `TaskGroup` was
//!   dropped, which `join` also does) *and* it has no live child nor hold of its own left.
//!
//! So when a child that ran a group of its own is aborted, the outer `join` still waits
//! for that inner group's children, which the inner group's drop aborted, to be dropped:
//! no descendant outlives the outermost `join`.

use std::cell::Cell;
use std::sync::Arc;

use super::state::{wake_and_release, Inner};

/// A group as the groups nested in it see it (rules TG-N1, TG-N2).
pub(super) trait Hold: Send + Sync {
    fn acquire(&self);
    fn release(&self);
}

impl<E: Send> Hold for Inner<E> {
    fn acquire(&self) {
        self.lock().holds += 1;
    }

    fn release(&self) {
        let settled = {
            let mut state = self.lock();
            state.holds -= 1;
            state.settle()
        };
        wake_and_release(settled);
    }
}

thread_local! {
    /// The group whose child is being polled on this thread, if any (see "Nesting").
    static CURRENT_GROUP: Cell<Option<Arc<dyn Hold>>> = const { Cell::new(None) };
}

/// The group a `TaskGroup` created now is nested in (the current group, if any), with a
/// hold taken on it (rule TG-N1).
pub(super) fn enter_parent() -> Option<Arc<dyn Hold>> {
    let parent = CURRENT_GROUP.with(|current| {
        let parent = current.take();
        let ours = parent.clone();
        current.set(parent);
        ours
    });
    if let Some(parent) = &parent {
        parent.acquire();
    }
    parent
}

/// Runs `f` (a child's poll) with `group` as this thread's current group, moving the
/// `Arc` in and back out so it costs no reference counting. `f` must not unwind (the
/// child's poll is wrapped in `catch_unwind`).
pub(super) fn as_current<R>(group: &mut Option<Arc<dyn Hold>>, f: impl FnOnce() -> R) -> R {
    let outer = CURRENT_GROUP.replace(group.take());
    let out = f();
    *group = CURRENT_GROUP.replace(outer);
    out
}
