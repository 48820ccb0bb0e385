//! Helpers shared by the integration tests (each test file includes this module).
#![allow(dead_code)]

pub mod polled;
pub mod seed_output;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// Both runtime flavours, labelled, for tests that must hold on each.
pub fn flavors() -> Vec<(&'static str, magpie::Runtime)> {
    vec![
        (
            "multi_thread(2)",
            magpie::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap(),
        ),
        (
            "current_thread",
            magpie::Builder::new_current_thread().build().unwrap(),
        ),
    ]
}

/// Counts drops of the values it hands out.
#[derive(Clone, Default)]
pub struct DropCounter(Arc<AtomicUsize>);

pub struct Tracked(Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl DropCounter {
    pub fn track(&self) -> Tracked {
        Tracked(self.0.clone())
    }
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// A one-shot signal that can be set from any thread and awaited (test-only, so the runtime
/// tests do not depend on magpie-sync).
#[derive(Clone, Default)]
pub struct Signal(Arc<SignalInner>);

#[derive(Default)]
pub struct SignalInner {
    set: AtomicBool,
    wakers: Mutex<Vec<Waker>>,
}

impl Signal {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn set(&self) {
        self.0.set.store(true, Ordering::SeqCst);
        for w in std::mem::take(&mut *self.0.wakers.lock().unwrap()) {
            w.wake();
        }
    }
    pub fn is_set(&self) -> bool {
        self.0.set.load(Ordering::SeqCst)
    }
    pub fn wait(&self) -> SignalWait {
        SignalWait(self.0.clone())
    }
}

pub struct SignalWait(Arc<SignalInner>);

impl Future for SignalWait {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.set.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        self.0.wakers.lock().unwrap().push(cx.waker().clone());
        if self.0.set.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

/// Runs `f` on a helper thread and fails the test if it has not returned within `secs`
/// (so a hang is reported as a failure that names itself, not a stuck CI job).
pub fn within<T: Send + 'static>(
    secs: u64,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(secs)) {
        Ok(v) => v,
        Err(_) => panic!("{what} did not finish within {secs} s (hang)"),
    }
}
