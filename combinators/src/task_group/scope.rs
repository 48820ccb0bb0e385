//! [`TaskGroup::scope`]: the structured form, in which the group owns its body.

use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

use super::nesting::{self, Hold};
use super::state::Failure;
use super::{GroupError, GroupHandle, TaskGroup};

impl<E: Send + 'static> TaskGroup<E> {
    /// Runs `body` as the group's own code: asyncio's `async with TaskGroup() as tg:`
    /// block, where a child's failure also cancels the block.
    ///
    /// `body` gets a [`GroupHandle`] to spawn children with, and runs in the task awaiting
    /// the scope (it is not spawned). The scope ends once the body *and* every child have
    /// ended, and returns the body's `Ok` value if nothing failed.
    ///
    /// - **The first failure cancels everything.** A child returning `Err` or panicking
    ///   aborts its siblings *and drops the body* at once (the body's pending `.await` is
    ///   where it stops, as a `CancelledError` would be raised there in asyncio). The
    ///   body returning `Err` aborts the children the same way.
    /// - **Then it waits**: no child outlives the scope, as for [`join`](TaskGroup::join).
    /// - [`GroupHandle::cancel`] stops the children without an error; the body runs on
    ///   (it decides what the scope returns).
    /// - Dropping the scope future (cancelling the task awaiting it) drops the body and the
    ///   group, which aborts every child.
    ///
    /// Groups created inside the body are nested in this one, as groups created inside a
    /// child are (see [`TaskGroup`]).
    ///
    /// # Errors
    ///
    /// A [`GroupError`] with every `Err` of the body and the children, in the order they
    /// happened, if any failed.
    ///
    /// # Panics
    ///
    /// If the body or a child panicked, the first panic is resumed here after every child
    /// is gone, as [`join`](TaskGroup::join) does. Outside a magpie runtime, spawning from
    /// the body panics.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use magpie_combinators::TaskGroup;
    ///
    /// magpie_runtime::block_on(async {
    ///     let total = TaskGroup::scope(|tg| async move {
    ///         let a = tg.spawn(async { Ok(20) });
    ///         let b = tg.spawn(async { Ok(22) });
    ///         Ok::<_, &str>(a.await.unwrap() + b.await.unwrap())
    ///     })
    ///     .await;
    ///     assert_eq!(total.unwrap(), 42);
    ///
    ///     // A child's failure cancels the body's long sleep.
    ///     let err = TaskGroup::scope(|tg| async move {
    ///         tg.spawn(async { Err::<(), _>("child failed") });
    ///         magpie_runtime::time::sleep(Duration::from_secs(3600)).await; // dropped here
    ///         Ok(())
    ///     })
    ///     .await
    ///     .unwrap_err();
    ///     assert_eq!(err.errors(), ["child failed"]);
    /// });
    /// ```
    pub async fn scope<F, Fut, T>(body: F) -> Result<T, GroupError<E>>
    where
        F: FnOnce(GroupHandle<E>) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let group = TaskGroup::new();
        let inner = group.inner.clone();
        // The body is polled with this group as the thread's current group (nesting).
        let mut current: Option<Arc<dyn Hold>> = Some(group.inner.clone());
        let mut body = pin!(Some(body(group.handle())));
        let value = poll_fn(|cx| {
            // Rule TG-6: registered before the body is polled, so a failure from now on
            // wakes this task.
            if inner.poll_failed(cx.waker()) {
                return Poll::Ready(None);
            }
            let future = body
                .as_mut()
                .as_pin_mut()
                .expect("the body is polled until it ends, then never again");
            let poll = nesting::as_current(&mut current, || {
                catch_unwind(AssertUnwindSafe(|| future.poll(cx)))
            });
            match poll {
                Ok(Poll::Pending) => Poll::Pending,
                Ok(Poll::Ready(Ok(value))) => Poll::Ready(Some(value)),
                Ok(Poll::Ready(Err(error))) => {
                    inner.fail(Failure::Error(error));
                    Poll::Ready(None)
                }
                Err(payload) => {
                    inner.fail(Failure::Panic(payload));
                    Poll::Ready(None)
                }
            }
        })
        .await;
        // The body is done or cancelled: drop it before waiting for the children (a
        // panicking drop counts as a panic of the body).
        let dropped = nesting::as_current(&mut current, || {
            catch_unwind(AssertUnwindSafe(|| body.set(None)))
        });
        if let Err(payload) = dropped {
            inner.fail(Failure::Panic(payload));
        }
        drop(current);
        drop(inner);
        // Waits for every child; resumes the first panic; reports every `Err`.
        group.join().await?;
        match value {
            Some(value) => Ok(value),
            // The body ended without a value only through a recorded failure, which `join`
            // reported above (an `Err`) or resumed (a panic).
            None => unreachable!("a task group failed without recording the failure"),
        }
    }
}
