//! [`shield`]: work that goes on when the side awaiting it is cancelled.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use magpie_runtime::{Handle, JoinHandle};

use crate::children::{current_runtime, resume_child_failure};

/// Runs `future` as its own task, protected from the cancellation of whoever awaits it:
/// asyncio's `shield`.
///
/// In magpie, cancelling means dropping a future. Dropping the [`Shield`] (because the
/// task awaiting it was aborted, a `select` picked another branch, or a timeout fired)
/// leaves the work running to completion on the runtime. To keep the result retrievable
/// after such a cancellation, await the shield by reference, `(&mut shield).await`: if that
/// await is dropped, the shield is still there and a later `.await` gets the output.
///
/// Called inside a runtime, it spawns the work at once; called outside one (as in
/// `rt.block_on(shield(...))`), it spawns it on the first poll, so until then there is no
/// work to protect.
///
/// # Panics
///
/// If first polled outside a magpie runtime with the work not yet spawned. Awaiting it
/// resumes the work's panic, and panics if the work was cancelled by its runtime shutting
/// down.
///
/// # Examples
///
/// ```
/// use magpie_combinators::{select, shield, Either};
///
/// magpie_runtime::block_on(async {
///     let (tx, rx) = magpie_sync::oneshot::channel::<()>();
///     let mut work = shield(async move {
///         rx.await.unwrap();
///         "saved"
///     });
///     // The waiting side gives up at once (the other branch is ready) ...
///     assert!(matches!(select(&mut work, async {}).await, Either::Right(())));
///     // ... but the work goes on, and its result can still be retrieved.
///     tx.set_result(()).unwrap();
///     assert_eq!(work.await, "saved");
/// });
/// ```
pub fn shield<F>(future: F) -> Shield<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let state = match Handle::try_current() {
        Ok(runtime) => State::Running(runtime.spawn(future)),
        Err(_) => State::Deferred(Box::new(move |runtime: &Handle| runtime.spawn(future))),
    };
    Shield { state }
}

type Deferred<T> = Box<dyn FnOnce(&Handle) -> JoinHandle<T> + Send>;

enum State<T> {
    /// Not spawned yet (no runtime was current at `shield`): spawned by the first poll.
    Deferred(Deferred<T>),
    Running(JoinHandle<T>),
    /// The output has been returned.
    Done,
}

/// The future of [`shield`]: the shielded work's output.
///
/// Dropping it does not cancel the work. It is `Unpin`, so it can be awaited by reference,
/// `(&mut shield).await`, keeping the output retrievable if that await is cancelled.
///
/// # Examples
///
/// ```
/// magpie_runtime::block_on(async {
///     let s: magpie_combinators::Shield<u8> = magpie_combinators::shield(async { 9 });
///     assert_eq!(s.await, 9);
/// });
/// ```
#[must_use = "dropping a Shield lets the work run on, but its output is lost"]
pub struct Shield<T> {
    state: State<T>,
}

impl<T> Shield<T> {
    /// Whether the shielded work has finished (its output may be waiting to be taken).
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::block_on(async {
    ///     let s = magpie_combinators::shield(std::future::pending::<()>());
    ///     assert!(!s.is_finished());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        match &self.state {
            State::Deferred(_) => false,
            State::Running(handle) => handle.is_finished(),
            State::Done => true,
        }
    }

    /// The task running the work, to await its outcome as a `Result` or to abort it after
    /// all.
    ///
    /// # Panics
    ///
    /// If the output has already been returned by an `.await` of this shield, or if the
    /// work is not spawned yet and no runtime is current.
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::block_on(async {
    ///     let s = magpie_combinators::shield(std::future::pending::<()>());
    ///     let handle = s.into_join_handle();
    ///     handle.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    #[track_caller]
    pub fn into_join_handle(self) -> JoinHandle<T> {
        match self.state {
            State::Deferred(spawn) => spawn(&current_runtime("Shield::into_join_handle")),
            State::Running(handle) => handle,
            State::Done => panic!("Shield::into_join_handle called after the output was returned"),
        }
    }
}

impl<T> Future for Shield<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = &mut *self;
        if matches!(this.state, State::Deferred(_)) {
            let State::Deferred(spawn) = std::mem::replace(&mut this.state, State::Done) else {
                unreachable!()
            };
            this.state = State::Running(spawn(&current_runtime("shield")));
        }
        let State::Running(handle) = &mut this.state else {
            panic!("Shield polled after it returned its output");
        };
        let outcome = ready!(Pin::new(handle).poll(cx));
        this.state = State::Done;
        match outcome {
            Ok(output) => Poll::Ready(output),
            Err(error) => resume_child_failure("shield", error),
        }
    }
}

impl<T> fmt::Debug for Shield<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Shield");
        match &self.state {
            State::Deferred(_) => d.field("state", &"not spawned yet"),
            State::Running(handle) => d.field("handle", handle),
            State::Done => d.field("state", &"output returned"),
        };
        d.finish()
    }
}
