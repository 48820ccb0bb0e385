//! The errors of [`TaskGroup`](super::TaskGroup).

use std::error::Error;
use std::fmt;

/// Every `Err` the children of a [`TaskGroup`](super::TaskGroup) returned: asyncio's
/// `ExceptionGroup`. (Child panics are not in here: `join` resumes them.)
///
/// # Examples
///
/// ```
/// magpie_runtime::block_on(async {
///     let tg = magpie_combinators::TaskGroup::new();
///     tg.spawn(async { Err::<(), _>("Failed to process item 3") });
///     let err: magpie_combinators::GroupError<&str> = tg.join().await.unwrap_err();
///     assert_eq!(err.errors(), ["Failed to process item 3"]);
///     assert_eq!(err.to_string(), "a task group child failed: Failed to process item 3");
/// });
/// ```
pub struct GroupError<E> {
    errors: Vec<E>,
}

impl<E> GroupError<E> {
    pub(super) fn new(errors: Vec<E>) -> Self {
        debug_assert!(!errors.is_empty());
        GroupError { errors }
    }

    /// Every `Err` the children returned, in the order they happened; never empty.
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::block_on(async {
    ///     let tg = magpie_combinators::TaskGroup::new();
    ///     tg.spawn(async { Err::<(), _>(7) });
    ///     assert_eq!(tg.join().await.unwrap_err().errors(), [7]);
    /// });
    /// ```
    pub fn errors(&self) -> &[E] {
        &self.errors
    }

    /// The errors, by value.
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::block_on(async {
    ///     let tg = magpie_combinators::TaskGroup::new();
    ///     tg.spawn(async { Err::<(), _>(String::from("boom")) });
    ///     let errors: Vec<String> = tg.join().await.unwrap_err().into_errors();
    ///     assert_eq!(errors, ["boom"]);
    /// });
    /// ```
    pub fn into_errors(self) -> Vec<E> {
        self.errors
    }
}

impl<E: fmt::Debug> fmt::Debug for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupError")
            .field("errors", &self.errors)
            .finish()
    }
}

impl<E: fmt::Display> fmt::Display for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.errors.as_slice() {
            [] => f.write_str("a task group failed"),
            [only] => write!(f, "a task group child failed: {only}"),
            [first, rest @ ..] => write!(
                f,
                "{} task group children failed; the first: {first}",
                rest.len() + 1
            ),
        }
    }
}

impl<E: Error + 'static> Error for GroupError<E> {
    /// The first error.
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.errors.first().map(|e| e as &(dyn Error + 'static))
    }
}

/// A [`TaskGroup`](super::TaskGroup) refused a child because it no longer accepts any (it
/// failed, was cancelled, dropped or joined). Holds the future, never polled.
///
/// # Examples
///
/// ```
/// magpie_runtime::block_on(async {
///     let tg = magpie_combinators::TaskGroup::<()>::new();
///     tg.cancel();
///     let err = tg.try_spawn(async { Ok(()) }).unwrap_err();
///     assert_eq!(err.to_string(), "the task group no longer accepts children");
/// });
/// ```
pub struct SpawnRefused<F> {
    future: F,
}

impl<F> SpawnRefused<F> {
    pub(super) fn new(future: F) -> Self {
        SpawnRefused { future }
    }

    /// The refused future, never polled.
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::block_on(async {
    ///     let tg = magpie_combinators::TaskGroup::<()>::new();
    ///     tg.cancel();
    ///     let future = tg.try_spawn(async { Ok(3) }).unwrap_err().into_future();
    ///     assert_eq!(future.await, Ok(3));
    /// });
    /// ```
    pub fn into_future(self) -> F {
        self.future
    }
}

impl<F> fmt::Debug for SpawnRefused<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpawnRefused").finish_non_exhaustive()
    }
}

impl<F> fmt::Display for SpawnRefused<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the task group no longer accepts children")
    }
}

impl<F> Error for SpawnRefused<F> {}
