//! [`gather`], [`try_gather`] and [`gather_outcomes`]: run futures as tasks, collect their
//! outputs in input order.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use magpie_runtime::JoinError;

use crate::children::{resume_child_failure, Children, Event, Report};

/// Runs every future as its own task and waits for all of them: asyncio's `gather`.
///
/// The outputs come back in input order, whatever order the children finish in. Called
/// inside a runtime, it spawns the children at once, as asyncio schedules them at once:
/// they run (in parallel on a multi-thread runtime) even before the returned future is
/// first polled. Called outside one (as in `rt.block_on(gather(...))`), it spawns them on
/// its first poll.
///
/// Dropping the [`Gather`] future before it finishes aborts every unfinished child. If a
/// child panics, the others are aborted and the panic is resumed in the awaiting task.
/// For `Result` outputs where the first `Err` should stop the rest, use [`try_gather`];
/// to collect every outcome, panics included, use [`gather_outcomes`].
///
/// The inputs are one iterator of one future type; to gather futures of different types
/// (asyncio's `gather(task1(), task2())`), box them:
/// `gather([Box::pin(task1()) as Pin<Box<dyn Future<Output = ()> + Send>>, Box::pin(task2())])`.
///
/// # Panics
///
/// If polled outside a magpie runtime with its children not yet spawned. Awaiting it
/// resumes a child's panic, and panics if a child was cancelled by its runtime shutting
/// down.
///
/// # Examples
///
/// ```
/// magpie_runtime::block_on(async {
///     let squares = magpie_combinators::gather((1..=4u64).map(|i| async move { i * i })).await;
///     assert_eq!(squares, [1, 4, 9, 16]);
/// });
/// ```
pub fn gather<I>(futures: I) -> Gather<<I::Item as Future>::Output>
where
    I: IntoIterator,
    I::Item: Future + Send + 'static,
    <I::Item as Future>::Output: Send + 'static,
{
    Gather {
        children: Children::spawn("gather", futures, Report::FailureOrAll, |_| false),
        done: false,
    }
}

/// The future of [`gather`]: every child's output, in input order.
///
/// Dropping it aborts every child that has not finished.
///
/// # Examples
///
/// ```
/// magpie_runtime::block_on(async {
///     let all: magpie_combinators::Gather<String> =
///         magpie_combinators::gather(["a", "b"].map(|s| async move { s.to_uppercase() }));
///     assert_eq!(all.await, ["A", "B"]);
/// });
/// ```
#[must_use = "dropping a Gather aborts its children; await it for their outputs"]
pub struct Gather<T> {
    children: Children<T>,
    done: bool,
}

impl<T> Future for Gather<T> {
    type Output = Vec<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<T>> {
        assert!(!self.done, "Gather polled after completion");
        match ready!(self.children.poll_event(cx)) {
            Event::Ended(_, error) => {
                self.done = true;
                self.children.abort_all();
                resume_child_failure("gather", error);
            }
            Event::AllDone => {
                self.done = true;
                let outputs = self.children.take_outputs();
                Poll::Ready(outputs.into_iter().map(expect_output).collect())
            }
            Event::Completed(_) | Event::FailedOutput(_) => {
                unreachable!("gather reports neither completions nor failed outputs")
            }
        }
    }
}

impl<T> fmt::Debug for Gather<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gather")
            .field("children", &self.children)
            .finish()
    }
}

/// Runs every `Result`-returning future as its own task; the first `Err` aborts the rest.
///
/// Gives `Ok` with every output in input order, or the first `Err` to happen (in time, not
/// in input order), in which case every unfinished child is aborted. A child panic aborts
/// the rest and is resumed. Dropping the future aborts every unfinished child. The children
/// are spawned when and where [`gather`]'s are.
///
/// # Errors
///
/// The first `Err` any child returns.
///
/// # Panics
///
/// If polled outside a magpie runtime with its children not yet spawned. Awaiting it
/// resumes a child's panic, and panics if a child was cancelled by its runtime shutting
/// down.
///
/// # Examples
///
/// ```
/// magpie_runtime::block_on(async {
///     let ok = magpie_combinators::try_gather((1..=3).map(|i| async move { Ok::<_, String>(i) }));
///     assert_eq!(ok.await, Ok(vec![1, 2, 3]));
///
///     let failing = magpie_combinators::try_gather((1..=3).map(|i| async move {
///         if i == 2 { Err(format!("item {i} failed")) } else { Ok(i) }
///     }));
///     assert_eq!(failing.await, Err("item 2 failed".to_string()));
/// });
/// ```
pub fn try_gather<I, T, E>(futures: I) -> TryGather<T, E>
where
    I: IntoIterator,
    I::Item: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    TryGather {
        children: Children::spawn("try_gather", futures, Report::FailureOrAll, Result::is_err),
        done: false,
    }
}

/// The future of [`try_gather`]: every output in input order, or the first `Err`.
///
/// Dropping it aborts every child that has not finished.
///
/// # Examples
///
/// ```
/// magpie_runtime::block_on(async {
///     let all: magpie_combinators::TryGather<u8, ()> =
///         magpie_combinators::try_gather([1, 2].map(|i| async move { Ok(i) }));
///     assert_eq!(all.await, Ok(vec![1, 2]));
/// });
/// ```
#[must_use = "dropping a TryGather aborts its children; await it for their outputs"]
pub struct TryGather<T, E> {
    children: Children<Result<T, E>>,
    done: bool,
}

impl<T, E> Future for TryGather<T, E> {
    type Output = Result<Vec<T>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        assert!(!self.done, "TryGather polled after completion");
        match ready!(self.children.poll_event(cx)) {
            Event::FailedOutput(Err(error)) => {
                self.done = true;
                self.children.abort_all();
                Poll::Ready(Err(error))
            }
            Event::Ended(_, error) => {
                self.done = true;
                self.children.abort_all();
                resume_child_failure("try_gather", error);
            }
            Event::AllDone => {
                self.done = true;
                let outputs = self.children.take_outputs();
                Poll::Ready(Ok(outputs
                    .into_iter()
                    .map(|o| match expect_output(o) {
                        Ok(v) => v,
                        Err(_) => unreachable!("an Err is reported as a failure first"),
                    })
                    .collect()))
            }
            Event::FailedOutput(Ok(_)) | Event::Completed(_) => {
                unreachable!("try_gather reports only Err outputs, and no completions")
            }
        }
    }
}

impl<T, E> fmt::Debug for TryGather<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryGather")
            .field("children", &self.children)
            .finish()
    }
}

/// Runs every future as its own task and collects every outcome, in input order:
/// asyncio's `gather(..., return_exceptions=True)`.
///
/// A child that panicked or was cancelled gives its [`JoinError`] in its place; nothing is
/// aborted because of it. Dropping the future aborts every unfinished child. The children
/// are spawned when and where [`gather`]'s are.
///
/// # Panics
///
/// If polled outside a magpie runtime with its children not yet spawned.
///
/// # Examples
///
/// ```
/// magpie_runtime::block_on(async {
///     let outcomes = magpie_combinators::gather_outcomes((0..3).map(|i| async move {
///         if i == 2 {
///             panic!("Error in operation {i}");
///         }
///         format!("Result {i}")
///     }))
///     .await;
///     assert_eq!(outcomes[0].as_ref().unwrap(), "Result 0");
///     assert_eq!(outcomes[1].as_ref().unwrap(), "Result 1");
///     assert!(outcomes[2].as_ref().unwrap_err().is_panic());
/// });
/// ```
pub fn gather_outcomes<I>(futures: I) -> GatherOutcomes<<I::Item as Future>::Output>
where
    I: IntoIterator,
    I::Item: Future + Send + 'static,
    <I::Item as Future>::Output: Send + 'static,
{
    GatherOutcomes {
        children: Children::spawn("gather_outcomes", futures, Report::FailureOrAll, |_| false),
        errors: Vec::new(),
        done: false,
    }
}

/// The future of [`gather_outcomes`]: every child's outcome, in input order.
///
/// Dropping it aborts every child that has not finished.
///
/// # Examples
///
/// ```
/// magpie_runtime::block_on(async {
///     let all: magpie_combinators::GatherOutcomes<i32> =
///         magpie_combinators::gather_outcomes([async { 1 }]);
///     assert_eq!(all.await[0].as_ref().ok(), Some(&1));
/// });
/// ```
#[must_use = "dropping a GatherOutcomes aborts its children; await it for their outcomes"]
pub struct GatherOutcomes<T> {
    children: Children<T>,
    /// The JoinErrors of the children that ended without an output, with their index.
    errors: Vec<(usize, JoinError)>,
    done: bool,
}

impl<T> Future for GatherOutcomes<T> {
    type Output = Vec<Result<T, JoinError>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        assert!(!self.done, "GatherOutcomes polled after completion");
        loop {
            match ready!(self.children.poll_event(cx)) {
                Event::Ended(index, error) => self.errors.push((index, error)),
                Event::AllDone => {
                    self.done = true;
                    let mut outcomes: Vec<Option<Result<T, JoinError>>> = self
                        .children
                        .take_outputs()
                        .into_iter()
                        .map(|o| o.map(Ok))
                        .collect();
                    for (index, error) in std::mem::take(&mut self.errors) {
                        outcomes[index] = Some(Err(error));
                    }
                    return Poll::Ready(outcomes.into_iter().map(expect_output).collect());
                }
                Event::Completed(_) | Event::FailedOutput(_) => {
                    unreachable!("gather_outcomes reports neither completions nor failed outputs")
                }
            }
        }
    }
}

impl<T> fmt::Debug for GatherOutcomes<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherOutcomes")
            .field("children", &self.children)
            .field("failed", &self.errors.len())
            .finish()
    }
}

fn expect_output<T>(output: Option<T>) -> T {
    output.expect("every child has ended, and each one without an output was reported")
}
