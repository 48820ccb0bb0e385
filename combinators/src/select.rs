//! [`select`] and [`race`]: the first future to finish wins, the others are dropped.

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::task::Poll;

/// Which of [`select`]'s two futures finished first, with its output.
///
/// # Examples
///
/// ```
/// use magpie_combinators::Either;
///
/// let e: Either<u8, &str> = Either::Left(1);
/// assert!(e.is_left());
/// assert_eq!(e.left(), Some(1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Either<L, R> {
    /// The first future finished first.
    Left(L),
    /// The second future finished first.
    Right(R),
}

impl<L, R> Either<L, R> {
    /// Whether this is `Left`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(magpie_combinators::Either::<u8, u8>::Left(0).is_left());
    /// ```
    pub fn is_left(&self) -> bool {
        matches!(self, Either::Left(_))
    }

    /// Whether this is `Right`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(magpie_combinators::Either::<u8, u8>::Right(0).is_right());
    /// ```
    pub fn is_right(&self) -> bool {
        matches!(self, Either::Right(_))
    }

    /// The `Left` value, if it is one.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(magpie_combinators::Either::<u8, u8>::Right(2).left(), None);
    /// ```
    pub fn left(self) -> Option<L> {
        match self {
            Either::Left(l) => Some(l),
            Either::Right(_) => None,
        }
    }

    /// The `Right` value, if it is one.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(magpie_combinators::Either::<u8, u8>::Right(2).right(), Some(2));
    /// ```
    pub fn right(self) -> Option<R> {
        match self {
            Either::Left(_) => None,
            Either::Right(r) => Some(r),
        }
    }
}

impl<T> Either<T, T> {
    /// The value, whichever side it came from.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(magpie_combinators::Either::<u8, u8>::Left(4).into_inner(), 4);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            Either::Left(v) | Either::Right(v) => v,
        }
    }
}

/// Waits for the first of two futures to finish; the other is dropped (cancelled).
///
/// Both futures are polled in the calling task (concurrently, not in parallel: wrap one in
/// [`spawn`](magpie_runtime::spawn) to run it on another worker), `a` before `b` on each
/// wake-up, so if both are ready at once, `a` wins. The loser is dropped when the returned
/// future completes, or with it if it is dropped first. Neither needs to be `'static` or
/// `Send`, so borrowed futures work, such as `&mut shield`.
///
/// # Examples
///
/// ```
/// use magpie_combinators::{select, Either};
///
/// magpie_runtime::block_on(async {
///     let winner = select(std::future::pending::<()>(), async { "ready" }).await;
///     assert_eq!(winner, Either::Right("ready"));
/// });
/// ```
pub async fn select<A, B>(a: A, b: B) -> Either<A::Output, B::Output>
where
    A: Future,
    B: Future,
{
    let mut a = pin!(a);
    let mut b = pin!(b);
    poll_fn(|cx| {
        if let Poll::Ready(out) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(out));
        }
        if let Poll::Ready(out) = b.as_mut().poll(cx) {
            return Poll::Ready(Either::Right(out));
        }
        Poll::Pending
    })
    .await
}

/// Waits for the first of many futures to finish, and returns its output with its index
/// in `futures`; the others are dropped (cancelled).
///
/// Polled in the calling task like [`select`], in input order on each wake-up, so among
/// futures ready at once the earliest in `futures` wins. Each future is boxed (pinned in
/// place), so any `Future` works, `'static` or not.
///
/// # Panics
///
/// When first polled, if `futures` was empty (no future could ever win).
///
/// # Examples
///
/// ```
/// use std::future::Future;
/// use std::pin::Pin;
///
/// magpie_runtime::block_on(async {
///     let futures: Vec<Pin<Box<dyn Future<Output = &str> + Send>>> = vec![
///         Box::pin(std::future::pending()),
///         Box::pin(async { "second" }),
///         Box::pin(async { "third" }),
///     ];
///     assert_eq!(magpie_combinators::race(futures).await, (1, "second"));
/// });
/// ```
pub async fn race<I>(futures: I) -> (usize, <I::Item as Future>::Output)
where
    I: IntoIterator,
    I::Item: Future,
{
    let mut futures: Vec<Pin<Box<I::Item>>> = futures.into_iter().map(Box::pin).collect();
    assert!(
        !futures.is_empty(),
        "magpie::race called with no futures: nothing could ever finish first"
    );
    poll_fn(|cx| {
        for (index, future) in futures.iter_mut().enumerate() {
            if let Poll::Ready(out) = future.as_mut().poll(cx) {
                return Poll::Ready((index, out));
            }
        }
        Poll::Pending
    })
    .await
}
