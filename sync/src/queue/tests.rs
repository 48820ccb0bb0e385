use super::*;
use crate::test_util::{block_on, now, scaled, Polled};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[test]
fn is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Queue<Vec<u8>>>();
    assert_send_sync::<LifoQueue<Vec<u8>>>();
    assert_send_sync::<PriorityQueue<Vec<u8>>>();
    fn assert_send<T: Send>(_: &T) {}
    let q = Queue::<u8>::unbounded();
    assert_send(&q.put(1));
    assert_send(&q.get());
    assert_send(&q.join());
}

#[test]
fn orders() {
    let fifo = Queue::unbounded();
    let lifo = LifoQueue::unbounded();
    let prio = PriorityQueue::unbounded();
    for x in [3, 1, 2] {
        fifo.put_nowait(x).unwrap();
        lifo.put_nowait(x).unwrap();
        prio.put_nowait(x).unwrap();
    }
    let drain =
        |f: &dyn Fn() -> Result<i32, TryGetError>| (0..3).map(|_| f().unwrap()).collect::<Vec<_>>();
    assert_eq!(drain(&|| fifo.get_nowait()), [3, 1, 2]);
    assert_eq!(drain(&|| lifo.get_nowait()), [2, 1, 3]);
    assert_eq!(drain(&|| prio.get_nowait()), [1, 2, 3]);
    assert_eq!(
        format!("{prio:?}"),
        "PriorityQueue { qsize: 0, maxsize: None, unfinished: 3, closed: false }"
    );
}

#[test]
fn typed_full_and_empty_errors() {
    let q = Queue::bounded(1);
    assert_eq!(q.get_nowait(), Err(TryGetError::Empty));
    q.put_nowait(1).unwrap();
    let e = q.put_nowait(2).unwrap_err();
    assert!(e.is_full() && !e.is_closed());
    assert_eq!(e.to_string(), "the queue is full");
    assert_eq!(e.into_inner(), 2);
    assert!(q.is_full());
    assert_eq!(q.qsize(), 1);
}

#[test]
fn getters_are_served_in_arrival_order_without_barging() {
    let q = Queue::unbounded();
    let mut a = Polled::new(q.get());
    let mut b = Polled::new(q.get());
    a.pending();
    b.pending();
    q.put_nowait(1).unwrap();
    assert_eq!((a.wakes(), b.wakes()), (1, 0));
    assert_eq!(
        q.get_nowait(),
        Err(TryGetError::Empty),
        "the item is reserved for a"
    );
    q.put_nowait(2).unwrap();
    assert_eq!(b.wakes(), 1);
    assert_eq!(b.ready(), Ok(1), "FIFO items, whoever polls first");
    assert_eq!(a.ready(), Ok(2));
}

#[test]
fn putters_wait_for_room_in_order() {
    let q = Queue::bounded(1);
    q.put_nowait(0).unwrap();
    let mut a = Polled::new(q.put(1));
    let mut b = Polled::new(q.put(2));
    a.pending();
    b.pending();
    assert_eq!(q.get_nowait(), Ok(0));
    assert_eq!((a.wakes(), b.wakes()), (1, 0));
    assert!(
        q.put_nowait(9).unwrap_err().is_full(),
        "the slot is reserved for a"
    );
    a.ready().unwrap();
    assert_eq!(q.get_nowait(), Ok(1));
    b.ready().unwrap();
    assert_eq!(q.get_nowait(), Ok(2));
}

#[test]
fn cancel_before_grant_leaves_no_trace() {
    let q = Queue::bounded(1);
    let mut g = Polled::new(q.get());
    g.pending();
    drop(g);
    q.put_nowait(1).unwrap();
    let mut p = Polled::new(q.put(2));
    p.pending();
    drop(p);
    assert_eq!(
        q.get_nowait(),
        Ok(1),
        "the item was not reserved for a ghost"
    );
    assert_eq!(q.qsize(), 0, "the dropped put did not insert");
    q.put_nowait(3).unwrap();
}

#[test]
fn cancel_after_grant_hands_the_item_on() {
    let q = Queue::unbounded();
    let mut a = Polled::new(q.get());
    let mut b = Polled::new(q.get());
    a.pending();
    b.pending();
    q.put_nowait(7).unwrap();
    assert_eq!(a.wakes(), 1);
    drop(a);
    assert_eq!(b.wakes(), 1, "the reserved item went on to b");
    assert_eq!(b.ready(), Ok(7));
    // With nobody left, it stays in the queue for anyone.
    let mut c = Polled::new(q.get());
    c.pending();
    q.put_nowait(8).unwrap();
    drop(c);
    assert_eq!(q.get_nowait(), Ok(8));
}

#[test]
fn cancel_after_grant_hands_the_slot_on() {
    let q = Queue::bounded(1);
    q.put_nowait(0).unwrap();
    let mut a = Polled::new(q.put(1));
    let mut b = Polled::new(q.put(2));
    a.pending();
    b.pending();
    assert_eq!(q.get_nowait(), Ok(0));
    drop(a);
    assert_eq!(b.wakes(), 1);
    b.ready().unwrap();
    assert_eq!(q.get_nowait(), Ok(2), "a's item was never put");
    assert_eq!(q.get_nowait(), Err(TryGetError::Empty));
}

#[test]
fn close_fails_puts_and_drains_gets() {
    let q = Queue::bounded(2);
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    let mut blocked_put = Polled::new(q.put(3));
    blocked_put.pending();
    q.close();
    assert_eq!(blocked_put.wakes(), 1);
    assert_eq!(blocked_put.ready().unwrap_err().into_inner(), 3);
    assert!(q.put_nowait(4).unwrap_err().is_closed());
    assert!(now(q.put(5)).unwrap().is_err());
    assert_eq!(now(q.get()).unwrap(), Ok(1));
    assert_eq!(q.get_nowait(), Ok(2));
    assert_eq!(q.get_nowait(), Err(TryGetError::Closed));
    assert_eq!(now(q.get()).unwrap(), Err(QueueClosed(())));
}

#[test]
fn close_wakes_waiting_getters() {
    let q = Queue::<u8>::unbounded();
    let mut g = Polled::new(q.get());
    g.pending();
    q.close();
    assert_eq!(g.wakes(), 1);
    assert!(g.ready().is_err());
}

#[test]
fn close_immediate_drops_items_and_releases_join() {
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let q = Queue::unbounded();
    for _ in 0..3 {
        q.put_nowait(Counted(drops.clone())).unwrap();
    }
    let mut j = Polled::new(q.join());
    j.pending();
    q.close_immediate();
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    assert_eq!(q.qsize(), 0);
    assert_eq!(j.wakes(), 1);
    j.ready();
    assert_eq!(q.get_nowait().err(), Some(TryGetError::Closed));
}

#[test]
fn close_immediate_with_a_reserved_item_fails_the_getter() {
    let q = Queue::unbounded();
    let mut g = Polled::new(q.get());
    g.pending();
    q.put_nowait(1).unwrap();
    q.close_immediate();
    assert_eq!(g.ready(), Err(QueueClosed(())));
}

#[test]
fn task_done_and_join() {
    let q = Queue::unbounded();
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    let mut j = Polled::new(q.join());
    j.pending();
    q.get_nowait().unwrap();
    q.task_done();
    assert_eq!(j.wakes(), 0);
    q.get_nowait().unwrap();
    q.task_done();
    assert_eq!(j.wakes(), 1);
    j.ready();
    assert_eq!(
        q.try_task_done().unwrap_err().to_string(),
        "task_done() called too many times"
    );
    assert!(now(q.join()).is_some());
}

#[test]
#[should_panic(expected = "task_done() called too many times")]
fn task_done_too_often_panics() {
    Queue::<()>::unbounded().task_done();
}

#[test]
fn stress_every_item_delivered_exactly_once() {
    let producers = 4;
    let consumers = 4;
    let per_producer = scaled(100_000) / producers;
    let q = Arc::new(Queue::bounded(64));
    let seen = Arc::new(
        (0..producers * per_producer)
            .map(|_| AtomicUsize::new(0))
            .collect::<Vec<_>>(),
    );
    let ps: Vec<_> = (0..producers)
        .map(|p| {
            let q = q.clone();
            std::thread::spawn(move || {
                block_on(async move {
                    for i in 0..per_producer {
                        q.put(p * per_producer + i).await.unwrap();
                    }
                })
            })
        })
        .collect();
    let cs: Vec<_> = (0..consumers)
        .map(|_| {
            let (q, seen) = (q.clone(), seen.clone());
            std::thread::spawn(move || {
                block_on(async move {
                    while let Ok(x) = q.get().await {
                        seen[x].fetch_add(1, Ordering::SeqCst);
                        q.task_done();
                    }
                })
            })
        })
        .collect();
    for p in ps {
        p.join().unwrap();
    }
    block_on(q.join());
    q.close();
    for c in cs {
        c.join().unwrap();
    }
    assert!(seen.iter().all(|n| n.load(Ordering::SeqCst) == 1));
    assert_eq!(q.unfinished_tasks(), 0);
}
