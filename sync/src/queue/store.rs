//! How a queue orders its items: first-in first-out, last-in first-out, or smallest first.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

mod sealed {
    pub trait Sealed {}
}

/// The item store of a [`BaseQueue`](super::BaseQueue): [`Fifo`], [`Lifo`] or
/// [`Priority`]. Sealed: the queue's protocol relies on these three.
///
/// # Examples
///
/// ```
/// use magpie_sync::queue::{Priority, Store};
/// // The store is chosen by the queue type; its name shows in the queue's `Debug`.
/// assert_eq!(<Priority<u8> as Store<u8>>::NAME, "PriorityQueue");
/// ```
pub trait Store<T>: Default + Send + sealed::Sealed {
    /// The name the queue's `Debug` output uses.
    const NAME: &'static str;
    /// Adds an item.
    fn push(&mut self, item: T);
    /// Removes the next item in this store's order.
    fn pop(&mut self) -> Option<T>;
    /// The number of items stored.
    fn len(&self) -> usize;
    /// Whether no item is stored.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// First-in, first-out order: the store of [`Queue`](super::Queue).
///
/// # Examples
///
/// ```
/// let q: magpie_sync::queue::BaseQueue<u8, magpie_sync::queue::Fifo<u8>> =
///     magpie_sync::Queue::unbounded();
/// q.put_nowait(1).unwrap();
/// q.put_nowait(2).unwrap();
/// assert_eq!(q.get_nowait(), Ok(1));
/// ```
#[derive(Debug)]
pub struct Fifo<T>(VecDeque<T>);

/// Last-in, first-out order: the store of [`LifoQueue`](super::LifoQueue).
///
/// # Examples
///
/// ```
/// let q: magpie_sync::queue::BaseQueue<u8, magpie_sync::queue::Lifo<u8>> =
///     magpie_sync::LifoQueue::unbounded();
/// q.put_nowait(1).unwrap();
/// q.put_nowait(2).unwrap();
/// assert_eq!(q.get_nowait(), Ok(2));
/// ```
#[derive(Debug)]
pub struct Lifo<T>(Vec<T>);

/// Smallest item first: the store of [`PriorityQueue`](super::PriorityQueue).
///
/// # Examples
///
/// ```
/// let q: magpie_sync::queue::BaseQueue<u8, magpie_sync::queue::Priority<u8>> =
///     magpie_sync::PriorityQueue::unbounded();
/// q.put_nowait(2).unwrap();
/// q.put_nowait(1).unwrap();
/// assert_eq!(q.get_nowait(), Ok(1));
/// ```
#[derive(Debug)]
pub struct Priority<T>(BinaryHeap<Reverse<T>>);

impl<T> Default for Fifo<T> {
    fn default() -> Self {
        Self(VecDeque::new())
    }
}

impl<T> Default for Lifo<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T: Ord> Default for Priority<T> {
    fn default() -> Self {
        Self(BinaryHeap::new())
    }
}

impl<T> sealed::Sealed for Fifo<T> {}
impl<T> sealed::Sealed for Lifo<T> {}
impl<T> sealed::Sealed for Priority<T> {}

impl<T: Send> Store<T> for Fifo<T> {
    const NAME: &'static str = "Queue";
    fn push(&mut self, item: T) {
        self.0.push_back(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T: Send> Store<T> for Lifo<T> {
    const NAME: &'static str = "LifoQueue";
    fn push(&mut self, item: T) {
        self.0.push(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T: Ord + Send> Store<T> for Priority<T> {
    const NAME: &'static str = "PriorityQueue";
    fn push(&mut self, item: T) {
        self.0.push(Reverse(item));
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop().map(|Reverse(item)| item)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}
