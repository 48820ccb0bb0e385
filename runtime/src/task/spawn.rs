use std::future::Future;

use super::{Header, JoinHandle, TaskFuture, TaskId};
use crate::context;
use crate::scheduler::Scheduler;

/// Spawns a task on the current runtime.
///
/// The task starts running at once on some worker (in parallel with the caller on a
/// multi-thread runtime); the returned [`JoinHandle`] gives its output.
///
/// # Panics
///
/// Outside a magpie runtime (not on a worker, not inside `block_on`), with a message that
/// says what to do instead: use [`Runtime::spawn`](crate::Runtime::spawn) or
/// [`Handle::spawn`](crate::Handle::spawn) with a handle kept from the runtime.
///
/// # Examples
///
/// ```
/// magpie_runtime::block_on(async {
///     let h = magpie_runtime::spawn(async { "hi" });
///     assert_eq!(h.await.unwrap(), "hi");
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match context::current_scheduler() {
        Some(scheduler) => spawn_with(scheduler, None, future),
        None => panic!(
            "magpie::spawn called outside a magpie runtime: call it from inside a task or \
             Runtime::block_on, or keep a Handle (Runtime::handle()) and call Handle::spawn"
        ),
    }
}

/// Configures a task before spawning it (for now: its name).
///
/// # Examples
///
/// ```
/// magpie_runtime::block_on(async {
///     let h = magpie_runtime::task::Builder::new().name("worker-7").spawn(async { 7 });
///     assert_eq!(h.name(), Some("worker-7"));
///     assert_eq!(h.await.unwrap(), 7);
/// });
/// ```
#[derive(Debug, Default)]
pub struct Builder<'a> {
    /// Read by `spawn_on`, which lives beside `Handle` in `runtime.rs` (it names a
    /// `Handle`, and the task room does not import the facade).
    pub(crate) name: Option<&'a str>,
}

impl<'a> Builder<'a> {
    /// A builder with no name.
    pub fn new() -> Self {
        Builder { name: None }
    }

    /// Names the task (visible through [`JoinHandle::name`]).
    pub fn name(self, name: &'a str) -> Self {
        Builder { name: Some(name) }
    }

    /// Spawns the task on the current runtime.
    ///
    /// # Panics
    ///
    /// Outside a magpie runtime, like [`spawn`].
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match context::current_scheduler() {
            Some(scheduler) => spawn_with(scheduler, self.name.map(Box::from), future),
            None => panic!(
                "task::Builder::spawn called outside a magpie runtime: use spawn_on with a \
                 Handle kept from the runtime (Runtime::handle())"
            ),
        }
    }
}

/// The one place tasks are made (`#[track_caller]`: the dump's `spawned_at`).
#[track_caller]
pub(crate) fn spawn_with<F>(
    scheduler: Scheduler,
    name: Option<Box<str>>,
    future: F,
) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let header = Header::new(
        TaskId::next(),
        name,
        scheduler,
        std::panic::Location::caller(),
    );
    crate::trace::event!(
        target: "magpie::task",
        { task.id = header.id.as_u64(), task.name = header.name.as_deref().unwrap_or("") },
        "spawn"
    );
    // SAFETY: rules TASK-1 and TASK-4 (`task/mod.rs`): the future borrows the header, which
    // async-task keeps alive until after the future is dropped; `F` is `Send + 'static`, so
    // the task may run and be dropped on any thread; the schedule function is `Send + Sync`.
    let (runnable, task) = unsafe {
        async_task::Builder::new().metadata(header).spawn_unchecked(
            move |header: &Header| TaskFuture::new(header, future),
            async_task::WithInfo(Scheduler::schedule),
        )
    };
    let scheduler = &runnable.metadata().scheduler;
    if scheduler.owned().insert(&runnable) {
        Scheduler::schedule_spawned(runnable);
    } else {
        // The runtime is shut down: rule TASK-3.
        super::drop_closed(runnable);
    }
    JoinHandle::new(task)
}
