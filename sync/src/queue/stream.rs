//! The queues as [`futures_core::Stream`]s: [`QueueStream`] borrows a queue,
//! [`OwnedQueueStream`] holds an `Arc` of one. Both yield items until the queue is closed
//! and drained.
//!
//! A stream is a getter that is reused from item to item: its wait-list node lives in a
//! box the stream owns (so the stream itself is `Unpin`), and every poll runs the same
//! code as [`get`](BaseQueue::get). Its place in the getters' queue, and an item reserved
//! for it, belong to the stream, not to one `next()` call: a `next()` future dropped
//! while waiting loses nothing, the reserved item comes out of the stream's next poll;
//! and a stream dropped with an item reserved hands it to the next getter (Q-4).

use core::fmt;
use core::future::{poll_fn, Future};
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::Arc;

use futures_core::{FusedStream, Stream};

use super::{BaseQueue, Grant, Store};
use crate::wait_list::Waiter;

/// The getter state both stream types share.
struct Getter {
    /// Our node in the getters' list, boxed so it stays put while the stream moves.
    waiter: Pin<Box<Waiter<Grant>>>,
    /// The queue was found closed and drained: the stream has ended.
    done: bool,
}

impl Getter {
    fn new() -> Self {
        Getter {
            waiter: Box::pin(Waiter::new()),
            done: false,
        }
    }

    fn poll_next<T, S: Store<T>>(
        &mut self,
        queue: &BaseQueue<T, S>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<T>> {
        if self.done {
            return Poll::Ready(None);
        }
        // SAFETY: the boxed waiter belongs to this stream, is only used with this queue's
        // getters, never moves (pinned box) and is removed by `drop_getter` in the
        // stream's `Drop` before the box is freed (the contract of `poll_get`).
        match unsafe { queue.poll_get(&self.waiter, cx) } {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(item)) => Poll::Ready(Some(item)),
            Poll::Ready(Err(_closed)) => {
                self.done = true;
                Poll::Ready(None)
            }
        }
    }

    fn release<T, S: Store<T>>(&mut self, queue: &BaseQueue<T, S>) {
        // SAFETY: our waiter, only ever used with this queue's `poll_get`.
        unsafe { queue.drop_getter(&self.waiter) };
    }
}

impl<T, S: Store<T>> BaseQueue<T, S> {
    /// A [`Stream`] of this queue's items: each item is taken as by
    /// [`get`](Self::get), and the stream ends once the queue is closed and drained.
    ///
    /// The stream allocates once, when created. It is cancellation-safe: dropping a
    /// [`next`](QueueStream::next) future keeps the stream's place in line (an item
    /// reserved for it comes out of its next poll), and dropping the stream hands a
    /// reserved item to the next getter. Several streams and getters may take from one
    /// queue; each item goes to exactly one of them, in arrival order.
    ///
    /// # Examples
    ///
    /// ```
    /// # magpie_sync::__doc_block_on(async {
    /// let q = magpie_sync::Queue::unbounded();
    /// for job in ["a", "b", "c"] {
    ///     q.put_nowait(job).unwrap();
    /// }
    /// q.close();
    /// let mut jobs = q.stream();
    /// let mut seen = Vec::new();
    /// while let Some(job) = jobs.next().await {
    ///     seen.push(job);
    /// }
    /// assert_eq!(seen, ["a", "b", "c"]);
    /// # });
    /// ```
    pub fn stream(&self) -> QueueStream<'_, T, S> {
        QueueStream {
            queue: self,
            getter: Getter::new(),
        }
    }

    /// Like [`stream`](Self::stream), owning a reference to the queue: for a consumer
    /// task that outlives the scope that made the queue (queues are shared as
    /// `Arc<Queue<T>>`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// # magpie_sync::__doc_block_on(async {
    /// let q = Arc::new(magpie_sync::Queue::bounded(4));
    /// let producer = {
    ///     let q = Arc::clone(&q);
    ///     std::thread::spawn(move || {
    ///         for i in 0..10 {
    ///             while q.put_nowait(i).is_err() {
    ///                 std::thread::yield_now(); // full: wait for the consumer
    ///             }
    ///         }
    ///         q.close();
    ///     })
    /// };
    /// let mut items = q.into_stream();
    /// let mut sum = 0;
    /// while let Some(i) = items.next().await {
    ///     sum += i;
    /// }
    /// producer.join().unwrap();
    /// assert_eq!(sum, 45);
    /// # });
    /// ```
    pub fn into_stream(self: Arc<Self>) -> OwnedQueueStream<T, S> {
        OwnedQueueStream {
            queue: self,
            getter: Getter::new(),
        }
    }
}

/// A [`Stream`] of a queue's items, borrowing the queue; made by
/// [`BaseQueue::stream`] (see there for its cancellation guarantees).
///
/// It ends (yields `None`, and then always `None`) once the queue is closed and empty.
///
/// # Examples
///
/// ```
/// # magpie_sync::__doc_block_on(async {
/// let q = magpie_sync::PriorityQueue::unbounded();
/// q.put_nowait(3).unwrap();
/// q.put_nowait(1).unwrap();
/// let mut s = q.stream();
/// assert_eq!(s.next().await, Some(1));
/// q.close();
/// assert_eq!(s.next().await, Some(3));
/// assert_eq!(s.next().await, None); // closed and drained
/// # });
/// ```
pub struct QueueStream<'a, T, S: Store<T>> {
    queue: &'a BaseQueue<T, S>,
    getter: Getter,
}

/// A [`Stream`] of a queue's items, holding an `Arc` of the queue; made by
/// [`BaseQueue::into_stream`]. Behaves as [`QueueStream`].
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// # magpie_sync::__doc_block_on(async {
/// let q = Arc::new(magpie_sync::Queue::unbounded());
/// q.put_nowait('x').unwrap();
/// q.close();
/// let mut s = Arc::clone(&q).into_stream();
/// assert_eq!(s.next().await, Some('x'));
/// assert_eq!(s.next().await, None);
/// assert!(s.queue().is_closed());
/// # });
/// ```
pub struct OwnedQueueStream<T, S: Store<T>> {
    queue: Arc<BaseQueue<T, S>>,
    getter: Getter,
}

impl<'a, T, S: Store<T>> QueueStream<'a, T, S> {
    /// Waits for the next item; `None` once the queue is closed and drained.
    ///
    /// Cancellation-safe: dropping the returned future keeps the stream's place in line.
    ///
    /// # Examples
    ///
    /// ```
    /// # magpie_sync::__doc_block_on(async {
    /// let q = magpie_sync::Queue::unbounded();
    /// q.put_nowait(5).unwrap();
    /// assert_eq!(q.stream().next().await, Some(5));
    /// # });
    /// ```
    // Named after `StreamExt::next`, which it mirrors (an async, not an iterator, `next`).
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> impl Future<Output = Option<T>> + use<'_, 'a, T, S> {
        poll_fn(move |cx| self.getter.poll_next(self.queue, cx))
    }

    /// The queue this stream takes from.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = magpie_sync::Queue::<u8>::unbounded();
    /// assert!(std::ptr::eq(q.stream().queue(), &q));
    /// ```
    pub fn queue(&self) -> &'a BaseQueue<T, S> {
        self.queue
    }
}

impl<T, S: Store<T>> OwnedQueueStream<T, S> {
    /// Waits for the next item; `None` once the queue is closed and drained.
    ///
    /// Cancellation-safe: dropping the returned future keeps the stream's place in line.
    ///
    /// # Examples
    ///
    /// ```
    /// # magpie_sync::__doc_block_on(async {
    /// let q = std::sync::Arc::new(magpie_sync::LifoQueue::unbounded());
    /// q.put_nowait(1).unwrap();
    /// q.put_nowait(2).unwrap();
    /// assert_eq!(q.into_stream().next().await, Some(2));
    /// # });
    /// ```
    // Named after `StreamExt::next`, which it mirrors (an async, not an iterator, `next`).
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> impl Future<Output = Option<T>> + '_ {
        poll_fn(move |cx| self.getter.poll_next(&self.queue, cx))
    }

    /// The queue this stream takes from.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = std::sync::Arc::new(magpie_sync::Queue::<u8>::unbounded());
    /// let s = std::sync::Arc::clone(&q).into_stream();
    /// assert!(std::sync::Arc::ptr_eq(s.queue(), &q));
    /// ```
    pub fn queue(&self) -> &Arc<BaseQueue<T, S>> {
        &self.queue
    }
}

impl<T, S: Store<T>> Stream for QueueStream<'_, T, S> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        this.getter.poll_next(this.queue, cx)
    }
}

impl<T, S: Store<T>> Stream for OwnedQueueStream<T, S> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        this.getter.poll_next(&this.queue, cx)
    }
}

impl<T, S: Store<T>> FusedStream for QueueStream<'_, T, S> {
    fn is_terminated(&self) -> bool {
        self.getter.done
    }
}

impl<T, S: Store<T>> FusedStream for OwnedQueueStream<T, S> {
    fn is_terminated(&self) -> bool {
        self.getter.done
    }
}

impl<T, S: Store<T>> Drop for QueueStream<'_, T, S> {
    fn drop(&mut self) {
        self.getter.release(self.queue);
    }
}

impl<T, S: Store<T>> Drop for OwnedQueueStream<T, S> {
    fn drop(&mut self) {
        self.getter.release(&self.queue);
    }
}

impl<T, S: Store<T>> fmt::Debug for QueueStream<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueStream")
            .field("queue", self.queue)
            .field("terminated", &self.getter.done)
            .finish()
    }
}

impl<T, S: Store<T>> fmt::Debug for OwnedQueueStream<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedQueueStream")
            .field("queue", &*self.queue)
            .field("terminated", &self.getter.done)
            .finish()
    }
}
