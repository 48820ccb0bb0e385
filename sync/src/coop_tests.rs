//! Every operation that can complete without waiting spends the cooperative budget: with
//! the budget spent, it returns `Pending` (and wakes the task) instead of completing.

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll};
use std::sync::Arc;

use crate::test_util::WakeCounter;
use crate::{
    coop, oneshot, Barrier, BoundedSemaphore, Event, Mutex, Notify, Queue, RwLock, Semaphore,
};

/// Polls `fut` once with no budget left, then once with budget: it must yield first (one
/// wake-up) and complete second.
fn yields_when_budget_is_spent<F: Future>(name: &str, fut: F) {
    let counter = Arc::new(WakeCounter::default());
    let waker = std::task::Waker::from(counter.clone());
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    let (first, exhausted) = coop::with_budget(0, || fut.as_mut().poll(&mut cx).is_pending());
    assert!(first && exhausted, "{name}: completed with no budget left");
    assert_eq!(counter.count(), 1, "{name}: woke itself to run again");
    let (second, _) = coop::with_budget(1, || fut.as_mut().poll(&mut cx));
    assert!(
        matches!(second, Poll::Ready(_)),
        "{name}: completed with budget"
    );
}

#[test]
fn ready_operations_spend_the_budget() {
    let m = Mutex::new(());
    yields_when_budget_is_spent("Mutex::lock", m.lock());
    let rw = RwLock::new(());
    yields_when_budget_is_spent("RwLock::read", rw.read());
    yields_when_budget_is_spent("RwLock::write", rw.write());
    let s = Semaphore::new(1);
    yields_when_budget_is_spent("Semaphore::acquire", s.acquire());
    let b = BoundedSemaphore::new(1);
    yields_when_budget_is_spent("BoundedSemaphore::acquire", b.acquire());
    let e = Event::new();
    e.set();
    yields_when_budget_is_spent("Event::wait", e.wait());
    let n = Notify::new();
    n.notify_one();
    yields_when_budget_is_spent("Notify::notified", n.notified());
    let q = Queue::bounded(1);
    yields_when_budget_is_spent("Queue::put", q.put(1));
    yields_when_budget_is_spent("Queue::get", q.get());
    q.task_done();
    yields_when_budget_is_spent("Queue::join", q.join());
    let barrier = Barrier::new(1);
    yields_when_budget_is_spent("Barrier::wait", barrier.wait());
    let (tx, rx) = oneshot::channel();
    tx.set_result(()).unwrap();
    yields_when_budget_is_spent("oneshot::Receiver", rx);
}
