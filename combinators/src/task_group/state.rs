//! The group's state and its rules (cited as TG-1 to TG-7).
//!
//! The group's state lives under one lock: its [`Phase`], the live-child count, the
//! handles of the children (to abort them), the failures so far and the waker of `join`.
//!
//! - TG-1. A child is counted live from the moment `spawn` accepts it (under the lock, only
//!   in the `Open` phase) until its [`ChildGuard`] is dropped. The guard is dropped after
//!   the child's future in every case (completion, panic, abort, runtime shutdown: see
//!   [`Child`]'s field order and the body of [`Inner::spawn`]). So `live == 0` means every
//!   child's future has been dropped.
//! - TG-2. Leaving `Open` (a failure, `cancel()`, the group dropped, `join` finished) is one
//!   critical section that also takes every child handle out; the handles are aborted
//!   after the lock is released. No child is accepted after that, so no handle can be
//!   missed: a handle that `spawn` stores after it (spawning happens outside the lock)
//!   finds the phase changed and aborts its own child.
//! - TG-3. `join` resolves only when `live == 0`, and closes the group in the same critical
//!   section, so no child can be added after `join` returned.
//! - TG-4. No lock is held while a task is spawned, aborted or woken, nor while a handle or
//!   a waker is dropped: a runtime that has shut down drops a task's future on the spot,
//!   and that runs a guard, which takes the lock; a waker's drop may re-enter the group
//!   (spawn, cancel, look at it). `join`'s waker, when a re-poll replaces it, is taken out
//!   under the lock and dropped after it.
//! - TG-5. `ChildHandle::abort` takes that one child's handle out and aborts it; the child
//!   stays live until its guard runs (TG-1), and the group stays `Open`: a cancelled child
//!   is not a failure.
//! - TG-6. Leaving `Open` wakes the group's *watcher*, if any: the task running a
//!   [`TaskGroup::scope`](super::TaskGroup::scope) body, which drops the body when it sees
//!   the group `Failed`. The watcher is (re-)registered under the lock in the same
//!   critical section that reads the phase, so a failure either is seen there or comes
//!   after and wakes it.
//! - TG-7. The group's [`CancellationToken`] (made on the first
//!   [`cancel_token`](super::TaskGroup::cancel_token) call) is cancelled when the group
//!   leaves `Open` for `Failed` or `Cancelled`, never when `join` closes it: the token is
//!   made and the phase read in one critical section, and a stop clones it in the critical
//!   section that changes the phase, so a token is cancelled exactly when its group has
//!   stopped, whichever came first. `cancel()` runs after the lock is released (TG-4: it
//!   wakes the token's waiters).

use std::any::Any;
use std::collections::HashMap;
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};

use magpie_runtime::JoinHandle;
use magpie_sync::{oneshot, CancellationToken};

use super::nesting::{self, Hold};
use super::{ChildHandle, SpawnRefused};
use crate::children::current_runtime;

/// Where a group is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Accepting children.
    Open,
    /// A child failed: the others were aborted; no more children.
    Failed,
    /// `cancel()` was called or the group was dropped: children aborted; no more children.
    Cancelled,
    /// `join` has returned: no more children.
    Closed,
}

pub(super) struct State<E> {
    pub(super) phase: Phase,
    /// Children not yet ended (rule TG-1).
    pub(super) live: usize,
    /// Groups nested in this one that have not finished (rule TG-N1).
    pub(super) holds: usize,
    /// The group this one is nested in, until the hold on it is given back (rule TG-N2).
    pub(super) parent: Option<Arc<dyn Hold>>,
    /// Whether the `TaskGroup` itself has been dropped (or joined).
    pub(super) owner_gone: bool,
    /// The handle of every live child, by key; `None` until `spawn` has stored it.
    pub(super) children: HashMap<u64, Option<JoinHandle<()>>>,
    pub(super) next_key: u64,
    pub(super) errors: Vec<E>,
    pub(super) panics: Vec<Box<dyn Any + Send + 'static>>,
    pub(super) joiner: Option<Waker>,
    /// The waker of a [`TaskGroup::scope`](super::TaskGroup::scope) watching for the group
    /// to leave `Open` (rule TG-6).
    pub(super) watcher: Option<Waker>,
    /// The token cancelled when the group stops, once somebody asked for it (rule TG-7).
    pub(super) token: Option<CancellationToken>,
}

pub(super) struct Inner<E> {
    pub(super) state: Mutex<State<E>>,
}

/// What to do once the lock is released: wake the joiner, give back a parent hold.
pub(super) type Settled = (Option<Waker>, Option<Arc<dyn Hold>>);

impl<E> State<E> {
    /// After `live`, `holds` or `owner_gone` changed: who to wake (the joiner, once nothing
    /// is left) and which parent hold to give back (rule TG-N2). Act on it after unlocking.
    pub(super) fn settle(&mut self) -> Settled {
        if self.live + self.holds > 0 {
            return (None, None);
        }
        let parent = if self.owner_gone {
            self.parent.take()
        } else {
            None
        };
        (self.joiner.take(), parent)
    }
}

/// Wakes and releases what [`State::settle`] returned, outside the lock (rule TG-4).
pub(super) fn wake_and_release((joiner, parent): Settled) {
    if let Some(waker) = joiner {
        waker.wake();
    }
    if let Some(parent) = parent {
        parent.release();
    }
}

/// A group as its children's [`ChildHandle`]s see it: abort one child.
pub(super) trait AbortChild: Send + Sync {
    fn abort_child(&self, key: u64);
}

impl<E: Send> AbortChild for Inner<E> {
    fn abort_child(&self, key: u64) {
        let handle = {
            let mut state = self.lock();
            match state.children.get(&key) {
                Some(Some(_)) => state.children.remove(&key).flatten(),
                // A `ChildHandle` is handed out only after its child's handle was stored,
                // so `Some(None)` cannot be seen here. `None`: the child has ended, or a
                // stop took every handle (and aborted them).
                Some(None) | None => None,
            }
        };
        // Outside the lock (rule TG-4). The child's guard still counts it live until its
        // future is dropped (rule TG-1); its entry is simply gone already (rule TG-5).
        if let Some(handle) = handle {
            handle.abort();
        }
    }
}

impl<E> Inner<E> {
    /// An open group with no child, nested in `parent` (whose hold it has taken, rule TG-TG-N1).
    pub(super) fn new(parent: Option<Arc<dyn Hold>>) -> Self {
        Inner {
            state: Mutex::new(State {
                phase: Phase::Open,
                live: 0,
                holds: 0,
                parent,
                owner_gone: false,
                children: HashMap::new(),
                next_key: 0,
                errors: Vec::new(),
                panics: Vec::new(),
                joiner: None,
                watcher: None,
                token: None,
            }),
        }
    }
    pub(super) fn lock(&self) -> MutexGuard<'_, State<E>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Leaves `Open` for `to` (if still open) and aborts every child (rule TG-2).
    pub(super) fn stop(&self, to: Phase) {
        let (handles, watcher, token): (Vec<JoinHandle<()>>, _, _) = {
            let mut state = self.lock();
            if state.phase != Phase::Open {
                return;
            }
            state.phase = to;
            let handles = state.children.drain().filter_map(|(_, h)| h).collect();
            (handles, state.watcher.take(), state.token.clone())
        };
        // Rule TG-7: before the aborts, so a child that checks its token between polls
        // sees it already cancelled.
        if let Some(token) = token {
            token.cancel();
        }
        for handle in &handles {
            handle.abort();
        }
        // Rule TG-6, outside the lock (TG-4).
        if let Some(watcher) = watcher {
            watcher.wake();
        }
    }

    /// The group's token (rule TG-7), made on first use; already cancelled if the group
    /// has stopped.
    pub(super) fn cancel_token(&self) -> CancellationToken {
        let (token, stopped) = {
            let mut state = self.lock();
            let stopped = matches!(state.phase, Phase::Failed | Phase::Cancelled);
            (
                state
                    .token
                    .get_or_insert_with(CancellationToken::new)
                    .clone(),
                stopped,
            )
        };
        if stopped {
            token.cancel();
        }
        token
    }

    /// Rule TG-6: whether the group has failed; while it is still open, `waker` is kept to
    /// be woken when it leaves `Open`.
    pub(super) fn poll_failed(&self, waker: &Waker) -> bool {
        let displaced = {
            let mut state = self.lock();
            match state.phase {
                Phase::Failed => return true,
                Phase::Open => match &mut state.watcher {
                    Some(w) if w.will_wake(waker) => None,
                    slot => slot.replace(waker.clone()),
                },
                Phase::Cancelled | Phase::Closed => None,
            }
        };
        // Rule TG-4: the replaced waker is dropped after the lock is released.
        drop(displaced);
        false
    }

    /// Records a child's failure; the first one cancels every sibling.
    pub(super) fn fail(&self, failure: Failure<E>) {
        {
            let mut state = self.lock();
            match failure {
                Failure::Error(e) => state.errors.push(e),
                Failure::Panic(p) => state.panics.push(p),
            }
        }
        self.stop(Phase::Failed);
    }
}

impl<E: Send + 'static> Inner<E> {
    #[track_caller]
    pub(super) fn spawn<F, T>(
        self: &Arc<Self>,
        future: F,
    ) -> Result<ChildHandle<T>, SpawnRefused<F>>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
    {
        let runtime = current_runtime("TaskGroup::spawn");
        let key = {
            let mut state = self.lock();
            if state.phase != Phase::Open {
                return Err(SpawnRefused::new(future));
            }
            let key = state.next_key;
            state.next_key += 1;
            state.children.insert(key, None);
            state.live += 1;
            key
        };
        let (tx, rx) = oneshot::channel();
        let child = Child {
            future,
            guard: ChildGuard {
                group: self.clone(),
                key,
            },
        };
        let mut current: Option<Arc<dyn Hold>> = Some(self.clone());
        let handle = runtime.spawn(async move {
            // Bound whole so the block captures `child` whole: dropped before its first
            // poll, `Child`'s field order drops the future before the guard. Once running,
            // the pinned future lives in the inner block, so it is dropped (completion,
            // panic or abort) before `child.guard` (rule TG-1).
            let child = child;
            let outcome = {
                let mut future = pin!(child.future);
                poll_fn(|cx| {
                    // This group is the thread's current group during the poll (nesting).
                    let poll = nesting::as_current(&mut current, || {
                        catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx)))
                    });
                    match poll {
                        Ok(Poll::Pending) => Poll::Pending,
                        Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
                        Err(payload) => Poll::Ready(Err(payload)),
                    }
                })
                .await
            };
            match outcome {
                Ok(Ok(value)) => {
                    // The ChildHandle may be gone: then nobody wants the value.
                    let _ = tx.set_result(value);
                }
                Ok(Err(error)) => child.guard.group.fail(Failure::Error(error)),
                Err(payload) => child.guard.group.fail(Failure::Panic(payload)),
            }
        });
        // Store the handle so a later stop can abort the child (rule TG-2).
        let abort: Arc<dyn AbortChild> = self.clone();
        let child_handle = ChildHandle {
            rx,
            abort: Some((abort, key)),
        };
        let mut state = self.lock();
        if state.phase != Phase::Open {
            drop(state);
            handle.abort();
        } else if let Some(slot) = state.children.get_mut(&key) {
            *slot = Some(handle);
        } else {
            // The child has already ended; its handle is no longer needed.
            drop(state);
            drop(handle);
        }
        Ok(child_handle)
    }
}

pub(super) enum Failure<E> {
    Error(E),
    Panic(Box<dyn Any + Send + 'static>),
}

/// A child task's state. Field order is drop order: the future before the guard.
struct Child<F, E> {
    future: F,
    guard: ChildGuard<E>,
}

/// Counts a child live until dropped (rule TG-1).
struct ChildGuard<E> {
    group: Arc<Inner<E>>,
    key: u64,
}

impl<E> Drop for ChildGuard<E> {
    fn drop(&mut self) {
        let mut state = self.group.lock();
        let handle = state.children.remove(&self.key);
        state.live -= 1;
        let settled = state.settle();
        drop(state);
        drop(handle);
        wake_and_release(settled);
    }
}
