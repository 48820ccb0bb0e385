//! A future polled by hand, counting its wake-ups: for the sync tests' cancel-before and
//! cancel-after-grant checks.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// A future polled by hand, counting its wake-ups.
pub struct Polled<F: Future> {
    fut: Pin<Box<F>>,
    wakes: Arc<WakeCount>,
}

#[derive(Default)]
pub struct WakeCount(AtomicUsize);

impl Wake for WakeCount {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl<F: Future> Polled<F> {
    pub fn new(fut: F) -> Self {
        Self {
            fut: Box::pin(fut),
            wakes: Arc::default(),
        }
    }
    pub fn poll(&mut self) -> Poll<F::Output> {
        let waker = Waker::from(self.wakes.clone());
        self.fut.as_mut().poll(&mut Context::from_waker(&waker))
    }
    pub fn wakes(&self) -> usize {
        self.wakes.0.load(Ordering::SeqCst)
    }
}
