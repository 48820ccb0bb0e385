//! Wakers are dropped outside every primitive's lock (WL-6, issue 13 bug 2).
//!
//! Each test stores a waker whose drop re-enters the same primitive (an operation that
//! takes its internal lock), then makes the primitive drop it: once by a re-poll with a
//! different waker ("after a waker update"), once by dropping the waiting future ("after a
//! cancel"). Dropping it under the lock would deadlock the thread (or panic on the
//! re-entrant lock); each test runs on a thread of its own and fails after a deadline
//! instead of hanging. tokio's `notify_in_drop_after_wake` and its two hanging variants
//! have this shape.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use std::boxed::Box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::task::Wake;
use std::time::{Duration, Instant};

use crate::queue::{BaseQueue, Store};
use crate::{
    oneshot, Barrier, BoundedSemaphore, Condition, Event, LifoQueue, Mutex, Notify, PriorityQueue,
    Queue, RwLock, Semaphore,
};

/// A waker that runs a hook when its last clone is dropped.
struct DropHook {
    hook: StdMutex<Option<Box<dyn FnOnce() + Send>>>,
    ran: Arc<AtomicBool>,
}

impl Wake for DropHook {
    fn wake(self: Arc<Self>) {}
}

impl Drop for DropHook {
    fn drop(&mut self) {
        if let Some(hook) = self.hook.lock().unwrap().take() {
            hook();
            self.ran.store(true, Ordering::SeqCst);
        }
    }
}

/// A waker whose drop runs `hook`, and the flag that says it ran.
fn hook_waker(hook: impl FnOnce() + Send + 'static) -> (Waker, Arc<AtomicBool>) {
    let ran = Arc::new(AtomicBool::new(false));
    let waker = Waker::from(Arc::new(DropHook {
        hook: StdMutex::new(Some(Box::new(hook))),
        ran: ran.clone(),
    }));
    (waker, ran)
}

fn poll_with<F: Future + ?Sized>(fut: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(waker))
}

/// Runs `body` on its own thread and fails if it does not finish within the deadline
/// (a waker dropped under the lock deadlocks that thread).
fn within_deadline(what: &str, body: impl FnOnce() + Send + 'static) {
    let t = std::thread::spawn(body);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !t.is_finished() {
        assert!(
            Instant::now() < deadline,
            "{what}: deadlocked: a waker was dropped under the primitive's lock"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    if let Err(panic) = t.join() {
        std::panic::resume_unwind(panic);
    }
}

/// The two shapes: `make` creates the waiting future (it must wait), `reenter` is what the
/// stored waker's drop does with the primitive.
fn after_waker_update_and_after_cancel<P, F>(
    what: &'static str,
    make: impl Fn() -> (Arc<P>, Pin<Box<F>>) + Send + Sync + 'static,
    reenter: impl Fn(&P) + Send + Sync + 'static,
) where
    P: Send + Sync + 'static,
    F: Future + ?Sized + 'static,
{
    let make = Arc::new(make);
    let reenter = Arc::new(reenter);
    for cancel in [false, true] {
        let (make, reenter) = (make.clone(), reenter.clone());
        within_deadline(what, move || {
            let (prim, mut fut) = make();
            let (waker, ran) = {
                let prim = prim.clone();
                hook_waker(move || reenter(&prim))
            };
            assert!(
                poll_with(fut.as_mut(), &waker).is_pending(),
                "{what}: must wait"
            );
            drop(waker); // the primitive now holds the only clone
            assert!(!ran.load(Ordering::SeqCst));
            if cancel {
                drop(fut); // removal takes the waker out
            } else {
                // A different waker replaces (and drops) the stored one.
                let _ = poll_with(fut.as_mut(), Waker::noop());
            }
            assert!(
                ran.load(Ordering::SeqCst),
                "{what}: the old waker was not dropped"
            );
        });
    }
}

#[test]
fn notify_waker_dropped_outside_the_lock() {
    after_waker_update_and_after_cancel(
        "Notify",
        || {
            let n = Arc::new(Notify::new());
            let fut: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin({
                let n = n.clone();
                async move { n.notified().await }
            });
            (n, fut)
        },
        |n| n.notify_waiters(),
    );
}

#[test]
fn event_waker_dropped_outside_the_lock() {
    after_waker_update_and_after_cancel(
        "Event",
        || {
            let e = Arc::new(Event::new());
            let fut: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin({
                let e = e.clone();
                async move { e.wait().await }
            });
            (e, fut)
        },
        |e| e.set(),
    );
}

#[test]
fn condition_waker_dropped_outside_the_lock() {
    after_waker_update_and_after_cancel(
        "Condition",
        || {
            let pair = Arc::new((Condition::new(), Mutex::new(0u8)));
            let fut: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin({
                let pair = pair.clone();
                async move {
                    let (cond, m) = &*pair;
                    let guard = m.lock().await;
                    drop(cond.wait(guard).await);
                }
            });
            (pair, fut)
        },
        |pair| pair.0.notify_all(),
    );
}

#[test]
fn barrier_waker_dropped_outside_the_lock() {
    after_waker_update_and_after_cancel(
        "Barrier",
        || {
            let b = Arc::new(Barrier::new(3));
            let fut: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin({
                let b = b.clone();
                async move {
                    let _ = b.wait().await;
                }
            });
            (b, fut)
        },
        |b| {
            // Another arrival, polled once and dropped: takes the lock twice.
            let mut other = Box::pin(b.wait());
            let _ = poll_with(other.as_mut(), Waker::noop());
        },
    );
}

#[test]
fn mutex_waker_dropped_outside_the_lock() {
    after_waker_update_and_after_cancel(
        "Mutex",
        || {
            let m = Arc::new(Mutex::new(0u8));
            let fut: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin({
                let m = m.clone();
                async move {
                    let held = m.lock().await;
                    let _second = m.lock().await; // waits behind its own `held`
                    drop(held);
                }
            });
            (m, fut)
        },
        |m| {
            // A newcomer that queues (the lock is held) and leaves: takes the lock twice.
            let mut other = Box::pin(m.lock());
            let _ = poll_with(other.as_mut(), Waker::noop());
        },
    );
}

#[test]
fn rwlock_read_and_write_wakers_dropped_outside_the_lock() {
    after_waker_update_and_after_cancel(
        "RwLock::read",
        || {
            let rw = Arc::new(RwLock::new(0u8));
            let fut: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin({
                let rw = rw.clone();
                async move {
                    let _w = rw.write().await;
                    let _r = rw.read().await; // waits behind our own writer
                }
            });
            (rw, fut)
        },
        |rw| {
            let mut other = Box::pin(rw.read());
            let _ = poll_with(other.as_mut(), Waker::noop());
        },
    );
    after_waker_update_and_after_cancel(
        "RwLock::write",
        || {
            let rw = Arc::new(RwLock::new(0u8));
            let fut: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin({
                let rw = rw.clone();
                async move {
                    let _r = rw.read().await;
                    let _w = rw.write().await; // waits behind our own reader
                }
            });
            (rw, fut)
        },
        |rw| {
            let mut other = Box::pin(rw.write());
            let _ = poll_with(other.as_mut(), Waker::noop());
        },
    );
}

#[test]
fn semaphore_waker_dropped_outside_the_lock() {
    after_waker_update_and_after_cancel(
        "Semaphore",
        || {
            let s = Arc::new(Semaphore::new(0));
            let fut: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin({
                let s = s.clone();
                async move {
                    let _p = s.acquire_many(2).await;
                }
            });
            (s, fut)
        },
        |s| s.add_permits(1),
    );
}

#[test]
fn bounded_semaphore_waker_dropped_outside_the_lock() {
    after_waker_update_and_after_cancel(
        "BoundedSemaphore",
        || {
            let s = Arc::new(BoundedSemaphore::new(1));
            let fut: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin({
                let s = s.clone();
                async move {
                    let held = s.acquire().await;
                    let _p = s.acquire().await; // waits behind `held`
                    drop(held);
                }
            });
            (s, fut)
        },
        |s| {
            let mut other = Box::pin(s.acquire());
            let _ = poll_with(other.as_mut(), Waker::noop());
        },
    );
}

/// `put`, `get` and `join` of one kind of queue.
fn queue_wakers<S: Store<u8> + Send + 'static>(
    name: &'static str,
    new: fn(usize) -> BaseQueue<u8, S>,
) where
    BaseQueue<u8, S>: Send + Sync,
{
    after_waker_update_and_after_cancel(
        name,
        move || {
            let q = Arc::new(new(1));
            q.put_nowait(1).unwrap(); // full
            let fut: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin({
                let q = q.clone();
                async move {
                    let _ = q.put(2).await;
                }
            });
            (q, fut)
        },
        |q| {
            let _ = q.put_nowait(3);
        },
    );
    after_waker_update_and_after_cancel(
        name,
        move || {
            let q = Arc::new(new(1)); // empty
            let fut: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin({
                let q = q.clone();
                async move {
                    let _ = q.get().await;
                }
            });
            (q, fut)
        },
        |q| {
            let _ = q.get_nowait();
        },
    );
    after_waker_update_and_after_cancel(
        name,
        move || {
            let q = Arc::new(new(1));
            q.put_nowait(1).unwrap(); // one unfinished task
            let fut: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin({
                let q = q.clone();
                async move { q.join().await }
            });
            (q, fut)
        },
        |q| {
            let _ = q.put_nowait(2);
        },
    );
}

#[test]
fn queue_put_get_join_wakers_dropped_outside_the_lock() {
    queue_wakers("Queue", Queue::bounded);
    queue_wakers("LifoQueue", LifoQueue::bounded);
    queue_wakers("PriorityQueue", PriorityQueue::bounded);
}

#[test]
fn oneshot_receiver_waker_dropped_outside_the_lock() {
    after_waker_update_and_after_cancel(
        "oneshot",
        || {
            let (tx, rx) = oneshot::channel::<u8>();
            let tx = Arc::new(StdMutex::new(Some(tx)));
            let fut: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(async move {
                let _ = rx.await;
            });
            (tx, fut)
        },
        // `is_closed` takes the channel's lock.
        |tx| {
            let _ = tx.lock().unwrap().as_ref().map(|tx| tx.is_closed());
        },
    );
}
