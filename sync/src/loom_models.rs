//! Loom models of the waiter protocols: every test here is named `loom_*` and runs with
//!
//! ```text
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p magpie-sync --release loom
//! ```
//!
//! A lost wake-up shows up as a loom deadlock (every thread parked), a lost permit or item
//! as a failed conservation assertion.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use loom::future::block_on;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

use crate::{oneshot, Condition, Event, Mutex, Notify, Queue, Semaphore};

/// Polls once with a waker that does nothing (the future is dropped afterwards).
fn poll_once<F: Future>(fut: &mut Pin<Box<F>>) -> Poll<F::Output> {
    fut.as_mut().poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn loom_mutex_mutual_exclusion() {
    loom::model(|| {
        let m = Arc::new(Mutex::new(0usize));
        let hits = Arc::new(AtomicUsize::new(0));
        let ts: Vec<_> = (0..2)
            .map(|_| {
                let (m, hits) = (m.clone(), hits.clone());
                thread::spawn(move || {
                    block_on(async {
                        let mut g = m.lock().await;
                        // A non-atomic read-modify-write, visible to loom through `hits`.
                        let seen = hits.load(Ordering::Relaxed);
                        hits.store(seen + 1, Ordering::Relaxed);
                        *g += 1;
                    })
                })
            })
            .collect();
        for t in ts {
            t.join().unwrap();
        }
        assert_eq!(hits.load(Ordering::Relaxed), 2);
        assert_eq!(*m.try_lock().unwrap(), 2);
    });
}

#[test]
fn loom_mutex_cancel_after_grant() {
    loom::model(|| {
        let m = Arc::new(Mutex::new(0usize));
        let held = m.try_lock().unwrap();
        let mut cancelled = Box::pin(m.lock());
        assert!(poll_once(&mut cancelled).is_pending());
        let m2 = m.clone();
        let t = thread::spawn(move || block_on(async { *m2.lock().await += 1 }));
        drop(held); // may grant `cancelled`, which must pass the lock on
        drop(cancelled);
        t.join().unwrap();
        assert_eq!(*m.try_lock().unwrap(), 1);
    });
}

#[test]
fn loom_semaphore_cancel_after_grant() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let held = sem.try_acquire().unwrap();
        held.forget();
        let mut cancelled = Box::pin(sem.acquire());
        assert!(poll_once(&mut cancelled).is_pending());
        let s2 = sem.clone();
        let t = thread::spawn(move || block_on(async { drop(s2.acquire().await.unwrap()) }));
        let s3 = sem.clone();
        let releaser = thread::spawn(move || s3.release());
        drop(cancelled);
        t.join().unwrap();
        releaser.join().unwrap();
        assert_eq!(sem.available_permits(), 1, "the permit was conserved");
    });
}

#[test]
fn loom_semaphore_many_permits() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(2));
        let ts: Vec<_> = [2, 1]
            .into_iter()
            .map(|n| {
                let sem = sem.clone();
                thread::spawn(move || {
                    block_on(async {
                        let p = sem.acquire_many(n).await.unwrap();
                        assert_eq!(p.num_permits(), n);
                    })
                })
            })
            .collect();
        for t in ts {
            t.join().unwrap();
        }
        assert_eq!(sem.available_permits(), 2);
        assert!(
            sem.try_acquire_many(2).is_ok(),
            "no QUEUED flag left behind"
        );
    });
}

#[test]
fn loom_condition_notify_vs_cancel() {
    loom::model(|| {
        let state = Arc::new((Mutex::new(false), Condition::new()));
        // `a` queues first, then is cancelled while the notifier runs.
        let mut a = Box::pin(state.1.wait(state.0.try_lock().unwrap()));
        assert!(poll_once(&mut a).is_pending());
        let s = state.clone();
        let b = thread::spawn(move || {
            block_on(async {
                let (m, cond) = &*s;
                drop(cond.wait_for(m.lock().await, |ready| *ready).await);
            })
        });
        let s = state.clone();
        let notifier = thread::spawn(move || {
            block_on(async {
                *s.0.lock().await = true;
                s.1.notify(1);
            })
        });
        drop(a);
        // If `a` was notified and its notification were lost, `b` would sleep forever.
        b.join().unwrap();
        notifier.join().unwrap();
    });
}

#[test]
fn loom_notify_one_is_never_lost() {
    loom::model(|| {
        let n = Arc::new(Notify::new());
        let mut cancelled = Box::pin(n.notified());
        assert!(poll_once(&mut cancelled).is_pending());
        let n2 = n.clone();
        let waiter = thread::spawn(move || block_on(n2.notified()));
        let n3 = n.clone();
        let notifier = thread::spawn(move || n3.notify_one());
        drop(cancelled);
        waiter.join().unwrap();
        notifier.join().unwrap();
    });
}

#[test]
fn loom_event_set_vs_wait() {
    loom::model(|| {
        let e = Arc::new(Event::new());
        let e2 = e.clone();
        let t = thread::spawn(move || block_on(e2.wait()));
        e.set();
        t.join().unwrap();
    });
}

#[test]
fn loom_queue_put_get_close() {
    loom::model(|| {
        let q = Arc::new(Queue::bounded(1));
        let q2 = q.clone();
        let producer = thread::spawn(move || {
            block_on(async {
                q2.put(1).await.unwrap();
                q2.put(2).await.unwrap();
                q2.close();
            })
        });
        let got = block_on(async {
            let mut got = Vec::new();
            while let Ok(v) = q.get().await {
                got.push(v);
            }
            got
        });
        producer.join().unwrap();
        assert_eq!(
            got,
            [1, 2],
            "every item delivered once, in order, before the close"
        );
    });
}

#[test]
fn loom_queue_get_cancel_after_grant() {
    loom::model(|| {
        let q = Arc::new(Queue::unbounded());
        let mut cancelled = Box::pin(q.get());
        assert!(poll_once(&mut cancelled).is_pending());
        let q2 = q.clone();
        let consumer = thread::spawn(move || block_on(q2.get()).unwrap());
        let q3 = q.clone();
        let producer = thread::spawn(move || q3.put_nowait(5).unwrap());
        drop(cancelled);
        assert_eq!(consumer.join().unwrap(), 5);
        producer.join().unwrap();
    });
}

#[test]
fn loom_oneshot_send_and_drop() {
    loom::model(|| {
        let (tx, rx) = oneshot::channel();
        let t = thread::spawn(move || tx.set_result(7).unwrap());
        assert_eq!(block_on(rx), Ok(7));
        t.join().unwrap();
    });
    loom::model(|| {
        let (tx, rx) = oneshot::channel::<u8>();
        let t = thread::spawn(move || drop(tx));
        assert!(block_on(rx).is_err());
        t.join().unwrap();
    });
    loom::model(|| {
        let (tx, rx) = oneshot::channel::<Arc<()>>();
        let value = Arc::new(());
        let v2 = value.clone();
        let t = thread::spawn(move || {
            let _ = tx.set_result(v2);
        });
        drop(rx);
        t.join().unwrap();
        assert_eq!(
            Arc::strong_count(&value),
            1,
            "an unread value is dropped exactly once"
        );
    });
}

#[test]
fn loom_rwlock_writer_and_readers() {
    loom::model(|| {
        let lock = Arc::new(crate::RwLock::new(0usize));
        let l2 = lock.clone();
        let writer = thread::spawn(move || block_on(async { *l2.write().await += 1 }));
        let l3 = lock.clone();
        let reader = thread::spawn(move || block_on(async { *l3.read().await }));
        let seen = reader.join().unwrap();
        writer.join().unwrap();
        assert!(seen <= 1);
        assert_eq!(*lock.try_write().unwrap(), 1, "all permits came back");
    });
}

#[test]
fn loom_barrier_one_leader() {
    loom::model(|| {
        let b = Arc::new(crate::Barrier::new(2));
        let b2 = b.clone();
        let t = thread::spawn(move || block_on(b2.wait()).unwrap().is_leader());
        let mine = block_on(b.wait()).unwrap().is_leader();
        assert!(mine != t.join().unwrap(), "exactly one leader");
    });
}

#[test]
fn loom_wait_list_unlink_middle_vs_grants() {
    loom::model(|| {
        // Three waiters linked through their futures; the middle one leaves while another
        // thread grants from the front, so links are rewritten from both ends at once.
        let n = Arc::new(Notify::new());
        let mut a = Box::pin(n.notified());
        let mut b = Box::pin(n.notified());
        let mut c = Box::pin(n.notified());
        assert!(poll_once(&mut a).is_pending());
        assert!(poll_once(&mut b).is_pending());
        assert!(poll_once(&mut c).is_pending());
        let n2 = n.clone();
        let notifier = thread::spawn(move || {
            n2.notify_one();
            n2.notify_one();
        });
        drop(b); // granted or not, `a` and `c` end up with the two notifications
        notifier.join().unwrap();
        assert!(poll_once(&mut a).is_ready());
        assert!(poll_once(&mut c).is_ready());
        assert!(poll_once(&mut Box::pin(n.notified())).is_pending());
    });
}

#[test]
fn loom_event_cancel_vs_set() {
    loom::model(|| {
        let e = Arc::new(Event::new());
        let mut gone = Box::pin(e.wait());
        let mut stays = Box::pin(e.wait());
        assert!(poll_once(&mut gone).is_pending());
        assert!(poll_once(&mut stays).is_pending());
        let e2 = e.clone();
        let setter = thread::spawn(move || e2.set());
        drop(gone); // before or after the broadcast: no trace either way
        setter.join().unwrap();
        assert!(poll_once(&mut stays).is_ready());
    });
}

/// A waker whose drop re-enters the `Notify` (`notify_waiters`), replaced by a re-poll
/// while another thread notifies: the replaced waker must be dropped after the lock is
/// released (WL-6), or loom reports the re-entrant lock as a deadlock.
#[test]
fn loom_notify_waker_dropped_outside_the_lock() {
    struct Hook(Arc<Notify>);
    impl std::task::Wake for Hook {
        fn wake(self: std::sync::Arc<Self>) {}
    }
    impl Drop for Hook {
        fn drop(&mut self) {
            self.0.notify_waiters();
        }
    }
    loom::model(|| {
        let n = Arc::new(Notify::new());
        let mut fut = Box::pin(n.notified());
        let hook = Waker::from(std::sync::Arc::new(Hook(n.clone())));
        let first = fut.as_mut().poll(&mut Context::from_waker(&hook));
        drop(hook); // the notify holds the only clone, if the future queued
        let t = {
            let n = n.clone();
            thread::spawn(move || n.notify_one())
        };
        // A different waker: the hook (if still stored) is replaced and dropped.
        let second = first.is_ready() || poll_once(&mut fut).is_ready();
        t.join().unwrap();
        // Either the hook's notify_waiters or the notify_one granted it.
        assert!(second || poll_once(&mut fut).is_ready());
    });
}

/// Rule DIAG-6: a dump's copy of a wait is never torn. `a` and `b` differ in every field
/// (the kinds in length too), so a copy mixing two writes fails the assertion.
fn assert_whole_wait(w: Option<crate::diag::WaitRecord>) {
    let Some(w) = w else { return };
    let holders: Vec<u64> = w.holders().collect();
    match w.kind {
        "Mutex" => {
            assert_eq!(
                (w.label, w.resource, &holders[..]),
                (Some("a"), 1, &[11][..])
            )
        }
        "Queue.get" => assert_eq!((w.label, w.resource, &holders[..]), (None, 2, &[][..])),
        other => panic!("a torn wait record: kind {other:?}"),
    }
}

fn wait_a() -> crate::diag::WaitRecord {
    crate::diag::WaitRecord::new("Mutex", Some("a"), 1).with_holder(11)
}

fn wait_b() -> crate::diag::WaitRecord {
    crate::diag::WaitRecord::new("Queue.get", None, 2)
}

#[test]
fn loom_diag_wait_copy_is_never_torn() {
    use crate::diag::{enter, record_wait, TaskRecord};
    loom::model(|| {
        let record = Arc::new(TaskRecord::new(1));
        drop(enter(&record));
        {
            let _e = enter(&record);
            record_wait(wait_a());
        }
        let r = record.clone();
        // The task's next poll rewrites the wait while a dump copies it.
        let writer = thread::spawn(move || {
            let _e = enter(&r);
            record_wait(wait_b());
        });
        assert_whole_wait(record.wait());
        writer.join().unwrap();
        assert_eq!(record.wait(), Some(wait_b()));
    });
}

#[test]
fn loom_diag_two_writers_never_tear_a_wait() {
    // Two threads entering one record at once is not what the runtime does (one poller
    // per task), but `enter` is public: the loser of the sequence's compare-and-swap skips
    // its write instead of mixing its fields into the other's (rule DIAG-6; with a relaxed
    // compare-and-swap loom found a mix).
    use crate::diag::{enter, record_wait, TaskRecord};
    loom::model(|| {
        let record = Arc::new(TaskRecord::new(1));
        let r = record.clone();
        let other = thread::spawn(move || {
            let _e = enter(&r);
            record_wait(wait_a());
        });
        {
            let _e = enter(&record);
            record_wait(wait_b());
        }
        other.join().unwrap();
        assert_whole_wait(record.wait());
    });
}
