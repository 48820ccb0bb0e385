//! asyncio's `Queue`, `LifoQueue` and `PriorityQueue`: multi-producer, multi-consumer,
//! bounded or unbounded, with `task_done`/`join` and 3.13's `shutdown` as `close`.
//!
//! The three queues are one type, [`BaseQueue`], over a different item [store](Store)
//! ([`Fifo`], [`Lifo`], [`Priority`]); [`Queue`], [`LifoQueue`] and [`PriorityQueue`] name
//! them.
//!
//! # Protocol
//!
//! The items, the counters and three wait lists (getters, putters, joiners) live under one
//! short lock; every operation takes it once.
//!
//! - **Q-1. Reservations.** A waiting getter is granted by *reserving* one stored item for it
//!   (`reserved_get += 1`) and waking it; a waiting putter by reserving one free slot
//!   (`reserved_put += 1`). Items stay in the store until the getter takes one, so
//!   `qsize` counts them and an immediate close can drop them.
//! - **Q-2. No barging.** `get_nowait` only takes an item that is not reserved
//!   (`len > reserved_get`), `put_nowait` only fills a slot that is not reserved
//!   (`len + reserved_put < capacity`). So with waiters queued, newcomers find nothing
//!   and queue behind them: FIFO fairness across waiters.
//! - **Q-3. Invariants.** Getters wait only while every stored item is reserved; putters only
//!   while every free slot is reserved. Each push grants the front getter if an item is
//!   unreserved; each pop grants the front putter if a slot is unreserved.
//! - **Q-4. Cancellation.** A `get`/`put` dropped before it was granted only leaves its wait
//!   list. One dropped after it was granted gives its reservation back and, in the same
//!   critical section, grants the next waiter (Q-3): no item or slot is stranded, and
//!   the dropped `put` did not insert its item.
//! - **Q-5. Close** (asyncio 3.13 `shutdown`). Sets `closed` and wakes every getter and putter
//!   with a "closed" grant. Puts fail from then on; gets go on taking the stored items and
//!   fail once the store is empty. `close_immediate` also drops the stored items, lowers
//!   the unfinished-task count by their number and releases `join` if it reaches zero.
//!
//! # Streams
//!
//! [`stream`](BaseQueue::stream) and [`into_stream`](BaseQueue::into_stream) view a queue
//! as a `futures_core::Stream` that ends once the queue is closed and drained (see
//! `stream` for their cancellation guarantees).
//!
//! # Examples
//!
//! asyncio's worker pattern: consumers take jobs, mark them done, and the producer joins.
//!
//! ```
//! use std::sync::Arc;
//! # magpie_sync::__doc_block_on(async {
//! let q = Arc::new(magpie_sync::Queue::bounded(4));
//! let worker = {
//!     let q = Arc::clone(&q);
//!     std::thread::spawn(move || {
//!         magpie_sync::__doc_block_on(async {
//!             let mut sum = 0;
//!             while let Ok(job) = q.get().await {
//!                 sum += job;
//!                 q.task_done();
//!             }
//!             sum
//!         })
//!     })
//! };
//! for job in 1..=10 {
//!     q.put(job).await.unwrap();
//! }
//! q.join().await; // every job was taken and marked done
//! q.close(); // the worker's next get fails: it returns
//! assert_eq!(worker.join().unwrap(), 55);
//! # });
//! ```

mod error;
mod store;
mod stream;
mod waiting;

use core::fmt;
use core::future::Future;
use core::marker::PhantomData;

use crate::loom::{Mutex, MutexGuard};
use crate::wait_list::{WaitList, Waiter, WakeList};

pub use error::{PutError, QueueClosed, TaskDoneError, TryGetError, TryPutError};
pub use store::{Fifo, Lifo, Priority, Store};
pub use stream::{OwnedQueueStream, QueueStream};
use waiting::{Get, Join, Put};

/// A first-in, first-out queue: asyncio's `Queue`.
///
/// # Examples
///
/// ```
/// # magpie_sync::__doc_block_on(async {
/// let q = magpie_sync::Queue::bounded(2);
/// q.put(1).await.unwrap();
/// q.put(2).await.unwrap();
/// assert!(q.put_nowait(3).is_err()); // full
/// assert_eq!(q.get().await.unwrap(), 1);
/// assert_eq!(q.get().await.unwrap(), 2);
/// # });
/// ```
pub type Queue<T> = BaseQueue<T, Fifo<T>>;

/// A last-in, first-out queue (a stack): asyncio's `LifoQueue`.
///
/// # Examples
///
/// ```
/// let q = magpie_sync::LifoQueue::unbounded();
/// q.put_nowait(1).unwrap();
/// q.put_nowait(2).unwrap();
/// assert_eq!(q.get_nowait().unwrap(), 2);
/// ```
pub type LifoQueue<T> = BaseQueue<T, Lifo<T>>;

/// A queue that hands out the smallest item first: asyncio's `PriorityQueue`. Use
/// `(priority, item)` tuples, or `std::cmp::Reverse` for largest-first.
///
/// # Examples
///
/// ```
/// let q = magpie_sync::PriorityQueue::unbounded();
/// q.put_nowait((2, "b")).unwrap();
/// q.put_nowait((1, "a")).unwrap();
/// assert_eq!(q.get_nowait().unwrap(), (1, "a"));
/// ```
pub type PriorityQueue<T> = BaseQueue<T, Priority<T>>;

/// A getter's or putter's grant: a reservation, or the queue closing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Grant {
    #[default]
    None,
    Reserved,
    Closed,
}

struct State<S> {
    items: S,
    reserved_get: usize,
    reserved_put: usize,
    unfinished: usize,
    closed: bool,
    getters: WaitList<Grant>,
    putters: WaitList<Grant>,
    joiners: WaitList<()>,
}

impl<S> State<S> {
    fn len<T>(&self) -> usize
    where
        S: Store<T>,
    {
        self.items.len()
    }
}

/// The queue behind [`Queue`], [`LifoQueue`] and [`PriorityQueue`], generic over how it
/// stores items. Use those names; this type carries their methods.
///
/// Every operation takes the queue's short internal lock once. Waiters are served in
/// arrival order, and `get`/`put`/`join` are cancellation-safe (see the module docs).
///
/// # Examples
///
/// ```
/// use magpie_sync::queue::{BaseQueue, Fifo};
/// // `Queue<T>` is `BaseQueue<T, Fifo<T>>`: code generic over the store takes every kind.
/// fn drain<T, S: magpie_sync::queue::Store<T>>(q: &BaseQueue<T, S>) -> Vec<T> {
///     std::iter::from_fn(|| q.get_nowait().ok()).collect()
/// }
/// let q: BaseQueue<u8, Fifo<u8>> = magpie_sync::Queue::unbounded();
/// q.put_nowait(1).unwrap();
/// let lifo = magpie_sync::LifoQueue::unbounded();
/// lifo.put_nowait(2).unwrap();
/// assert_eq!((drain(&q), drain(&lifo)), (vec![1], vec![2]));
/// ```
pub struct BaseQueue<T, S> {
    capacity: usize,
    state: Mutex<State<S>>,
    _items: PhantomData<fn(T) -> T>,
    /// The label shown in dumps (`crate::diag`; queues have no holders).
    pub(super) diag: crate::diag::Holders,
}

/// The kind a dump shows for operation `op` ("get", "put", "join") on a `name` queue.
pub(super) fn wait_kind(name: &str, op: &str) -> &'static str {
    match (name, op) {
        ("LifoQueue", "get") => "LifoQueue.get",
        ("LifoQueue", "put") => "LifoQueue.put",
        ("LifoQueue", _) => "LifoQueue.join",
        ("PriorityQueue", "get") => "PriorityQueue.get",
        ("PriorityQueue", "put") => "PriorityQueue.put",
        ("PriorityQueue", _) => "PriorityQueue.join",
        (_, "get") => "Queue.get",
        (_, "put") => "Queue.put",
        _ => "Queue.join",
    }
}

impl<T, S: Store<T>> BaseQueue<T, S> {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            capacity,
            state: Mutex::new(State {
                items: S::default(),
                reserved_get: 0,
                reserved_put: 0,
                unfinished: 0,
                closed: false,
                getters: WaitList::new(),
                putters: WaitList::new(),
                joiners: WaitList::new(),
            }),
            _items: PhantomData,
            diag: crate::diag::Holders::new(S::NAME),
        }
    }

    /// Creates a queue holding at most `capacity` items.
    ///
    /// # Panics
    ///
    /// If `capacity` is 0 (use [`unbounded`](Self::unbounded) for asyncio's `maxsize=0`).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = magpie_sync::Queue::<u8>::bounded(10);
    /// assert_eq!(q.maxsize(), Some(10));
    /// ```
    pub fn bounded(capacity: usize) -> Self {
        assert!(
            capacity > 0,
            "a bounded queue needs a capacity of at least 1"
        );
        Self::with_capacity(capacity)
    }

    /// Creates a queue without a size limit.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = magpie_sync::Queue::<u8>::unbounded();
    /// assert_eq!(q.maxsize(), None);
    /// ```
    pub fn unbounded() -> Self {
        Self::with_capacity(usize::MAX)
    }

    fn lock(&self) -> MutexGuard<'_, State<S>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Names this queue in diagnostic dumps (`magpie::diag`): the label is shown beside
    /// the kind ("Queue.get", "Queue.put", "Queue.join") wherever a task waits on it.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = magpie_sync::Queue::<u8>::unbounded().with_label("jobs");
    /// # let _ = q;
    /// ```
    pub fn with_label(mut self, label: &'static str) -> Self {
        self.diag.set_label(label);
        self
    }

    /// The capacity, or `None` if unbounded.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(magpie_sync::Queue::<()>::bounded(3).maxsize(), Some(3));
    /// ```
    pub fn maxsize(&self) -> Option<usize> {
        (self.capacity != usize::MAX).then_some(self.capacity)
    }

    /// The number of items in the queue.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = magpie_sync::Queue::unbounded();
    /// q.put_nowait('a').unwrap();
    /// assert_eq!(q.qsize(), 1);
    /// ```
    pub fn qsize(&self) -> usize {
        self.lock().len()
    }

    /// Whether the queue holds no items.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(magpie_sync::Queue::<()>::unbounded().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.qsize() == 0
    }

    /// Whether the queue holds `maxsize` items (never true when unbounded).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = magpie_sync::Queue::bounded(1);
    /// q.put_nowait(()).unwrap();
    /// assert!(q.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.qsize() >= self.capacity
    }

    /// Whether [`close`](Self::close) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = magpie_sync::Queue::<()>::unbounded();
    /// q.close();
    /// assert!(q.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// After a push: count the task, grant the front getter if an item is free (Q-3).
    fn pushed(state: &mut State<S>, wakers: &mut WakeList) {
        state.unfinished += 1;
        if state.len() > state.reserved_get
            && state.getters.grant_front_with(Grant::Reserved, wakers)
        {
            state.reserved_get += 1;
        }
    }

    /// After a pop (or a given-back slot): grant the front putter if a slot is free.
    fn slot_freed(&self, state: &mut State<S>, wakers: &mut WakeList) {
        if state.closed || state.len() + state.reserved_put >= self.capacity {
            return;
        }
        if state.putters.grant_front_with(Grant::Reserved, wakers) {
            state.reserved_put += 1;
        }
    }

    fn try_put_locked(
        &self,
        state: &mut State<S>,
        item: T,
        wakers: &mut WakeList,
    ) -> Result<(), TryPutError<T>> {
        if state.closed {
            return Err(TryPutError::Closed(item));
        }
        if state.len() + state.reserved_put >= self.capacity {
            return Err(TryPutError::Full(item));
        }
        state.items.push(item);
        Self::pushed(state, wakers);
        Ok(())
    }

    fn try_get_locked(
        &self,
        state: &mut State<S>,
        wakers: &mut WakeList,
    ) -> Result<T, TryGetError> {
        if state.len() > state.reserved_get {
            let item = state.items.pop().expect("len > 0");
            self.slot_freed(state, wakers);
            return Ok(item);
        }
        Err(if state.closed {
            TryGetError::Closed
        } else {
            TryGetError::Empty
        })
    }

    /// Puts `item` if there is room, without waiting.
    ///
    /// # Errors
    ///
    /// [`TryPutError::Full`] if the queue is at capacity (or putters are queued for the
    /// free slots), [`TryPutError::Closed`] if it is closed; both hold the item.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = magpie_sync::Queue::bounded(1);
    /// assert!(q.put_nowait(1).is_ok());
    /// assert!(q.put_nowait(2).unwrap_err().is_full());
    /// ```
    pub fn put_nowait(&self, item: T) -> Result<(), TryPutError<T>> {
        let mut wakers = WakeList::new();
        let mut state = self.lock();
        let result = self.try_put_locked(&mut state, item, &mut wakers);
        drop(state);
        wakers.wake_all();
        result
    }

    /// Takes an item if one is available, without waiting.
    ///
    /// # Errors
    ///
    /// [`TryGetError::Empty`] if no item is available (or all are promised to waiting
    /// getters), [`TryGetError::Closed`] if the queue is closed and empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use magpie_sync::queue::TryGetError;
    /// let q = magpie_sync::Queue::unbounded();
    /// assert_eq!(q.get_nowait(), Err(TryGetError::Empty));
    /// q.put_nowait(1).unwrap();
    /// assert_eq!(q.get_nowait(), Ok(1));
    /// ```
    pub fn get_nowait(&self) -> Result<T, TryGetError> {
        let mut wakers = WakeList::new();
        let mut state = self.lock();
        let result = self.try_get_locked(&mut state, &mut wakers);
        drop(state);
        wakers.wake_all();
        result
    }

    /// Puts `item`, waiting for room if the queue is full.
    ///
    /// Spends one unit of the task's cooperative budget. If the future is dropped before
    /// it completed, the item was not put.
    ///
    /// # Errors
    ///
    /// [`PutError`] holding the item if the queue is, or gets, closed.
    ///
    /// # Examples
    ///
    /// ```
    /// # magpie_sync::__doc_block_on(async {
    /// let q = magpie_sync::Queue::unbounded();
    /// q.put("job").await.unwrap();
    /// assert_eq!(q.qsize(), 1);
    /// # });
    /// ```
    pub fn put(&self, item: T) -> impl Future<Output = Result<(), PutError<T>>> + '_ {
        Put {
            queue: self,
            item: Some(item),
            waiter: Waiter::new(),
        }
    }

    /// Takes an item, waiting for one if the queue is empty.
    ///
    /// Spends one unit of the task's cooperative budget. After [`close`](Self::close) it
    /// still returns the remaining items, then fails.
    ///
    /// # Errors
    ///
    /// [`QueueClosed`] once the queue is closed and empty.
    ///
    /// # Examples
    ///
    /// ```
    /// # magpie_sync::__doc_block_on(async {
    /// let q = magpie_sync::Queue::unbounded();
    /// q.put_nowait(1).unwrap();
    /// q.close();
    /// assert_eq!(q.get().await, Ok(1));
    /// assert!(q.get().await.is_err());
    /// # });
    /// ```
    pub fn get(&self) -> impl Future<Output = Result<T, QueueClosed>> + '_ {
        Get {
            queue: self,
            waiter: Waiter::new(),
        }
    }

    /// Marks one item taken earlier as processed (asyncio's `task_done`). When every item
    /// put so far is done, [`join`](Self::join) returns.
    ///
    /// # Panics
    ///
    /// If called more times than items were put; [`try_task_done`](Self::try_task_done)
    /// returns an error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// # magpie_sync::__doc_block_on(async {
    /// let q = magpie_sync::Queue::unbounded();
    /// q.put_nowait(1).unwrap();
    /// let _item = q.get().await.unwrap();
    /// q.task_done();
    /// q.join().await; // every item is done
    /// # });
    /// ```
    pub fn task_done(&self) {
        if let Err(e) = self.try_task_done() {
            panic!("{e}");
        }
    }

    /// Like [`task_done`](Self::task_done), returning an error instead of panicking.
    ///
    /// # Errors
    ///
    /// [`TaskDoneError`] if no unfinished item is left.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = magpie_sync::Queue::<()>::unbounded();
    /// assert!(q.try_task_done().is_err());
    /// ```
    pub fn try_task_done(&self) -> Result<(), TaskDoneError> {
        let mut wakers = WakeList::new();
        let mut state = self.lock();
        if state.unfinished == 0 {
            return Err(TaskDoneError(()));
        }
        state.unfinished -= 1;
        if state.unfinished == 0 {
            while state.joiners.grant_front(&mut wakers) {}
        }
        drop(state);
        wakers.wake_all();
        Ok(())
    }

    /// The number of items put and not yet marked done.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = magpie_sync::Queue::unbounded();
    /// q.put_nowait(1).unwrap();
    /// assert_eq!(q.unfinished_tasks(), 1);
    /// ```
    pub fn unfinished_tasks(&self) -> usize {
        self.lock().unfinished
    }

    /// Waits until every item put so far was marked [done](Self::task_done).
    ///
    /// Completes at once when nothing is unfinished (spending one unit of the task's
    /// cooperative budget).
    ///
    /// # Examples
    ///
    /// ```
    /// # magpie_sync::__doc_block_on(async {
    /// let q = magpie_sync::Queue::<u8>::unbounded();
    /// q.join().await; // nothing was put
    /// # });
    /// ```
    pub fn join(&self) -> impl Future<Output = ()> + '_ {
        Join {
            queue: self,
            waiter: Waiter::new(),
        }
    }

    /// Closes the queue (asyncio 3.13's `shutdown()`): `put` fails from now on, `get`
    /// returns the remaining items and then fails. Waiting putters and getters wake up.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = magpie_sync::Queue::unbounded();
    /// q.put_nowait(1).unwrap();
    /// q.close();
    /// assert!(q.put_nowait(2).is_err());
    /// assert_eq!(q.get_nowait(), Ok(1));
    /// assert!(q.get_nowait().is_err());
    /// ```
    pub fn close(&self) {
        self.shutdown(false);
    }

    /// Closes the queue and drops the items in it (asyncio 3.13's
    /// `shutdown(immediate=True)`): the unfinished-task count drops by their number, and
    /// [`join`](Self::join) returns once it is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// # magpie_sync::__doc_block_on(async {
    /// let q = magpie_sync::Queue::unbounded();
    /// q.put_nowait(1).unwrap();
    /// q.close_immediate();
    /// assert_eq!(q.qsize(), 0);
    /// q.join().await;
    /// # });
    /// ```
    pub fn close_immediate(&self) {
        self.shutdown(true);
    }

    fn shutdown(&self, immediate: bool) {
        let mut wakers = WakeList::new();
        let mut state = self.lock();
        state.closed = true;
        let mut dropped = S::default();
        if immediate {
            core::mem::swap(&mut state.items, &mut dropped);
            let n = dropped.len();
            state.unfinished = state.unfinished.saturating_sub(n);
            state.reserved_get = 0;
            if state.unfinished == 0 {
                while state.joiners.grant_front(&mut wakers) {}
            }
        }
        let state_ref = &mut *state;
        for list in [&mut state_ref.getters, &mut state_ref.putters] {
            while list.grant_front_with(Grant::Closed, &mut wakers) {}
        }
        drop(state);
        wakers.wake_all();
        drop(dropped); // user destructors run outside the lock
    }
}

impl<T, S: Store<T>> fmt::Debug for BaseQueue<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct(S::NAME)
            .field("qsize", &state.len())
            .field("maxsize", &self.maxsize())
            .field("unfinished", &state.unfinished)
            .field("closed", &state.closed)
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod stream_tests;
#[cfg(all(test, not(loom)))]
mod tests;
