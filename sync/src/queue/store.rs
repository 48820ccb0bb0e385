//! How a queue orders its items: first-in first-out, last-in first-out, or smallest first.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

mod sealed {
    pub trait Sealed {}
}

/// The item store of a [`BaseQueue`](super::BaseQueue): [`Fifo`], [`Lifo`] or
/// [`Priority`]. Sealed: the queue's protocol relies on these three.
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
#[derive(Debug)]
pub struct Fifo<T>(VecDeque<T>);

/// Last-in, first-out order: the store of [`LifoQueue`](super::LifoQueue).
#[derive(Debug)]
pub struct Lifo<T>(Vec<T>);

/// Smallest item first: the store of [`PriorityQueue`](super::PriorityQueue).
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
