//! The spawned children behind [`gather`](crate::gather), [`try_gather`](crate::try_gather),
//! [`gather_outcomes`](crate::gather_outcomes) and [`as_completed`](crate::as_completed).
//!
//! # Protocol
//!
//! Each input future runs as its own task, wrapped in a small async block that owns a
//! [`Reporter`]. The reporter is declared before the input future is awaited, so it is
//! dropped after it in every case: on completion, on a panic (unwinding drops it), on
//! `abort()` and at runtime shutdown (the task's future is dropped). Its `Drop` records,
//! under the set's one lock:
//!
//! - R1. the output, if the child produced one (and, in [`Report::EachCompletion`] mode,
//!   the child's index in completion order);
//! - R2. the child's index in `failed` if it ended without an output (panic, cancellation)
//!   or with an output the set's `is_failure` test calls a failure (`try_gather`'s `Err`);
//! - R3. one fewer `remaining`.
//!
//! and then wakes the parent if there is something for it to act on: every completion in
//! `EachCompletion` mode, a failure, or the last child. So a `gather` of N children that
//! all succeed wakes its parent once, not N times, and polls no `JoinHandle`.
//!
//! A child that ended without an output has a [`JoinError`] waiting in its `JoinHandle`;
//! the parent polls that one handle to get it (the reporter runs while the task's future
//! is being dropped, a moment before async-task publishes the outcome, so that poll may
//! be `Pending` once; the handle then wakes the parent).
//!
//! - R4. No lock is held while a task is spawned, aborted or woken, nor while a waker is
//!   dropped: a runtime that has shut down drops a woken or spawned task's future on the
//!   spot, and that runs a reporter, which takes the lock; a waker's drop may re-enter
//!   (wait for a child to report). The parent's waker, when a re-poll replaces it, is
//!   taken out under the lock and dropped after it.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use magpie_runtime::{Handle, JoinError, JoinHandle};

/// When a child's completion wakes the parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Report {
    /// Every completion (`as_completed`: outputs are delivered in completion order).
    EachCompletion,
    /// Only failures and the last completion (`gather` and friends).
    FailureOrAll,
}

/// What the parent learns from [`Children::poll_event`].
#[derive(Debug)]
pub(crate) enum Event<T> {
    /// A child's output, in completion order (`EachCompletion` mode only).
    Completed(T),
    /// A child's output that `is_failure` called a failure.
    FailedOutput(T),
    /// A child ended without an output: it panicked or was cancelled.
    Ended(usize, JoinError),
    /// Every child has ended and every failure has been reported.
    AllDone,
}

struct State<T> {
    /// Outputs by input index, until taken.
    outputs: Vec<Option<T>>,
    /// Indices in completion order (`EachCompletion` mode), not yet delivered.
    completed: VecDeque<usize>,
    /// Indices of failed children, in the order they ended, not yet delivered.
    failed: VecDeque<usize>,
    /// Children whose reporter has not run yet.
    remaining: usize,
    /// The parent's waker, taken by the reporter that wakes it.
    waker: Option<Waker>,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    report: Report,
    is_failure: fn(&T) -> bool,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Owned by each child task; reports its end on drop (rules R1-R3 above).
struct Reporter<T> {
    shared: Arc<Shared<T>>,
    index: usize,
    output: Option<T>,
}

impl<T> Drop for Reporter<T> {
    fn drop(&mut self) {
        let shared = &*self.shared;
        let mut state = shared.lock();
        let output = self.output.take();
        let failed = output.as_ref().is_none_or(|v| (shared.is_failure)(v));
        if failed {
            state.failed.push_back(self.index);
        } else if shared.report == Report::EachCompletion {
            state.completed.push_back(self.index);
        }
        state.outputs[self.index] = output;
        state.remaining -= 1;
        let wake = failed || shared.report == Report::EachCompletion || state.remaining == 0;
        let waker = if wake { state.waker.take() } else { None };
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// A child task's whole state. Field order is drop order: the input future is dropped
/// before the reporter runs.
struct Child<F, T> {
    future: F,
    reporter: Reporter<T>,
}

/// Spawns every child on the runtime it is given; kept while the spawn is deferred.
type Deferred<T> = Box<dyn FnOnce(&Handle, &Arc<Shared<T>>) -> Vec<JoinHandle<()>> + Send>;

/// A set of spawned children with their handles; dropping it aborts the unfinished ones.
pub(crate) struct Children<T> {
    shared: Arc<Shared<T>>,
    /// The combinator's name, for panic messages.
    caller: &'static str,
    /// Set when the children could not be spawned yet (no runtime was current when the
    /// combinator was called): they are spawned by the first poll.
    deferred: Option<Deferred<T>>,
    /// One per child, by input index; emptied once every child has ended.
    handles: Vec<JoinHandle<()>>,
    /// Whether the children have all been aborted already (or have all ended).
    settled: bool,
}

impl<T: Send + 'static> Children<T> {
    /// Spawns every future of `futures` on the current runtime, or, outside any runtime,
    /// keeps them to be spawned by the first poll (on the runtime polling it then).
    pub(crate) fn spawn<I>(
        caller: &'static str,
        futures: I,
        report: Report,
        is_failure: fn(&T) -> bool,
    ) -> Self
    where
        I: IntoIterator,
        I::Item: Future<Output = T> + Send + 'static,
    {
        let futures: Vec<I::Item> = futures.into_iter().collect();
        let n = futures.len();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                outputs: (0..n).map(|_| None).collect(),
                completed: VecDeque::new(),
                failed: VecDeque::new(),
                remaining: n,
                waker: None,
            }),
            report,
            is_failure,
        });
        let spawn_all = move |runtime: &Handle, shared: &Arc<Shared<T>>| {
            futures
                .into_iter()
                .enumerate()
                .map(|(index, future)| {
                    let child = Child {
                        future,
                        reporter: Reporter {
                            shared: shared.clone(),
                            index,
                            output: None,
                        },
                    };
                    runtime.spawn(async move {
                        // Bind `child` whole, so the block captures it whole (not field by
                        // field): dropped before its first poll, `Child`'s field order drops
                        // the future first. Afterwards, the awaited future lives in this
                        // statement's scope, inside `child`'s, so it is dropped first
                        // whether it completes, panics or is cancelled.
                        let mut child = child;
                        let output = child.future.await;
                        child.reporter.output = Some(output);
                    })
                })
                .collect()
        };
        let mut children = Children {
            shared,
            caller,
            deferred: None,
            handles: Vec::new(),
            settled: n == 0,
        };
        match Handle::try_current() {
            Ok(runtime) => children.handles = spawn_all(&runtime, &children.shared),
            Err(_) => children.deferred = Some(Box::new(spawn_all)),
        }
        children
    }
}

impl<T> Children<T> {
    /// How many children have not ended yet.
    pub(crate) fn remaining(&self) -> usize {
        self.shared.lock().remaining
    }

    /// The next thing the parent must act on, registering `cx` to be woken otherwise.
    ///
    /// Failures come first (in the order they ended), then completions (in
    /// `EachCompletion` mode), then `AllDone` once every child has ended.
    ///
    /// Panics if the children were deferred and no runtime is current now either.
    pub(crate) fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Event<T>> {
        if let Some(spawn_all) = self.deferred.take() {
            let runtime = current_runtime(self.caller);
            self.handles = spawn_all(&runtime, &self.shared);
        }
        let mut state = self.shared.lock();
        if let Some(&index) = state.failed.front() {
            if let Some(output) = state.outputs[index].take() {
                state.failed.pop_front();
                return Poll::Ready(Event::FailedOutput(output));
            }
            drop(state);
            // Ended without an output: its JoinHandle holds the JoinError (soon, if the
            // task is still publishing it; the handle then wakes us).
            let outcome = std::task::ready!(Pin::new(&mut self.handles[index]).poll(cx));
            self.shared.lock().failed.pop_front();
            return Poll::Ready(match outcome {
                Err(e) => Event::Ended(index, e),
                Ok(()) => unreachable!(
                    "a child that completes normally reports its output before it ends"
                ),
            });
        }
        if let Some(index) = state.completed.pop_front() {
            let output = state.outputs[index]
                .take()
                .expect("a completed child's output is stored before its index is queued");
            return Poll::Ready(Event::Completed(output));
        }
        if state.remaining == 0 {
            drop(state);
            self.finish();
            return Poll::Ready(Event::AllDone);
        }
        let displaced = match &mut state.waker {
            Some(w) if w.will_wake(cx.waker()) => None,
            slot => slot.replace(cx.waker().clone()),
        };
        // Dropped after the lock is released: a waker's drop may re-enter (R4).
        drop(state);
        drop(displaced);
        Poll::Pending
    }

    /// Takes every stored output, by input index (`None` for children that had none).
    pub(crate) fn take_outputs(&mut self) -> Vec<Option<T>> {
        std::mem::take(&mut self.shared.lock().outputs)
    }

    /// Aborts every unfinished child (their futures are dropped at their next scheduling
    /// point) and lets go of the handles.
    pub(crate) fn abort_all(&mut self) {
        // Deferred children never started: dropping them is all there is to do.
        self.deferred = None;
        if !self.settled {
            self.settled = true;
            for handle in &self.handles {
                handle.abort();
            }
        }
        self.handles = Vec::new();
    }

    /// Every child has ended: the handles are no longer needed.
    fn finish(&mut self) {
        self.settled = true;
        self.handles = Vec::new();
    }
}

impl<T> Drop for Children<T> {
    fn drop(&mut self) {
        self.abort_all();
    }
}

impl<T> std::fmt::Debug for Children<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("Children")
            .field("children", &state.outputs.len())
            .field("remaining", &state.remaining)
            .field("spawned", &self.deferred.is_none())
            .finish_non_exhaustive()
    }
}

/// The current runtime's handle, or a panic naming the combinator that needed it.
#[track_caller]
pub(crate) fn current_runtime(caller: &'static str) -> Handle {
    Handle::try_current().unwrap_or_else(|_| {
        panic!(
            "magpie::{caller} called outside a magpie runtime: it spawns its inputs as tasks, \
             so call it from inside a task or Runtime::block_on"
        )
    })
}

/// Resumes a child's panic, or panics if it was cancelled (only a runtime shutting down
/// cancels a combinator's child: nobody else holds its handle).
pub(crate) fn resume_child_failure(caller: &'static str, error: JoinError) -> ! {
    match error.try_into_panic() {
        Ok(payload) => std::panic::resume_unwind(payload),
        Err(error) => panic!(
            "magpie::{caller}: a child task was cancelled before it finished ({error}); \
             its runtime is shutting down"
        ),
    }
}
