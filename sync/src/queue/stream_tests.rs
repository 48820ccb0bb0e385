use super::*;
use crate::test_util::{block_on, now, scaled, Polled};
use futures_core::{FusedStream, Stream};
use std::sync::Arc;

fn assert_stream<St: Stream<Item = u8> + FusedStream + Unpin + Send + Sync>(_: &St) {}

#[test]
fn streams_are_unpin_send_sync_fused() {
    let q = Queue::<u8>::unbounded();
    assert_stream(&q.stream());
    assert_stream(&Arc::new(PriorityQueue::<u8>::unbounded()).into_stream());
}

#[test]
fn yields_until_closed_and_drained_then_stays_ended() {
    let q = Queue::unbounded();
    let mut s = q.stream();
    for i in 0..3 {
        q.put_nowait(i).unwrap();
    }
    assert_eq!(now(s.next()), Some(Some(0)));
    q.close();
    assert!(!s.is_terminated(), "items are left after close");
    assert_eq!(now(s.next()), Some(Some(1)));
    assert_eq!(now(s.next()), Some(Some(2)));
    assert_eq!(now(s.next()), Some(None));
    assert!(s.is_terminated());
    assert_eq!(now(s.next()), Some(None), "fused");
    assert!(format!("{s:?}").contains("terminated: true"), "{s:?}");
}

#[test]
fn keeps_each_queue_order() {
    let lifo = Arc::new(LifoQueue::unbounded());
    let prio = PriorityQueue::unbounded();
    for x in [3, 1, 2] {
        lifo.put_nowait(x).unwrap();
        prio.put_nowait(x).unwrap();
    }
    lifo.close();
    prio.close();
    let drain = |mut next: Box<dyn FnMut() -> Option<Option<i32>> + '_>| {
        std::iter::from_fn(|| next().expect("ready")).collect::<Vec<_>>()
    };
    let mut ls = Arc::clone(&lifo).into_stream();
    let mut ps = prio.stream();
    assert_eq!(drain(Box::new(|| now(ls.next()))), [2, 1, 3]);
    assert_eq!(drain(Box::new(|| now(ps.next()))), [1, 2, 3]);
}

#[test]
fn waits_for_a_put_and_is_woken_once() {
    let q = Queue::unbounded();
    let mut s = q.stream();
    let mut next = Polled::new(s.next());
    next.pending();
    next.pending(); // a second poll replaces the waker, queues nothing new
    q.put_nowait(9).unwrap();
    assert_eq!(next.wakes(), 1);
    assert_eq!(next.ready(), Some(9));
}

#[test]
fn close_wakes_a_waiting_stream_and_ends_it() {
    let q = Queue::<u8>::unbounded();
    let mut s = q.stream();
    let mut next = Polled::new(s.next());
    next.pending();
    q.close();
    assert_eq!(next.wakes(), 1);
    assert_eq!(next.ready(), None);
}

#[test]
fn waits_in_line_with_other_getters() {
    let q = Queue::unbounded();
    let mut g = Polled::new(q.get());
    g.pending();
    let mut s = q.stream();
    let mut next = Polled::new(s.next());
    next.pending();
    q.put_nowait(1).unwrap();
    assert_eq!(
        (g.wakes(), next.wakes()),
        (1, 0),
        "the earlier getter is served first"
    );
    assert_eq!(
        q.get_nowait(),
        Err(TryGetError::Empty),
        "no barging past the waiters"
    );
    q.put_nowait(2).unwrap();
    assert_eq!(next.wakes(), 1);
    assert_eq!(g.ready(), Ok(1));
    assert_eq!(next.ready(), Some(2));
}

/// A `next()` future dropped after its item was reserved: the item belongs to the stream
/// and comes out of its next poll; nobody else can take it meanwhile.
#[test]
fn dropped_next_keeps_the_reserved_item_for_the_stream() {
    let q = Queue::unbounded();
    let mut s = q.stream();
    let mut next = Polled::new(s.next());
    next.pending();
    q.put_nowait(5).unwrap();
    assert_eq!(next.wakes(), 1);
    drop(next);
    assert_eq!(
        q.get_nowait(),
        Err(TryGetError::Empty),
        "reserved for the stream"
    );
    assert_eq!(now(s.next()), Some(Some(5)));
    assert_eq!(q.qsize(), 0);
}

/// A stream dropped after an item was reserved for it hands the item to the next getter
/// or back to the queue when nobody waits.
#[test]
fn dropped_stream_hands_a_reserved_item_on() {
    let q = Queue::unbounded();
    let mut s = q.stream();
    let mut next = Polled::new(s.next());
    next.pending();
    let mut g = Polled::new(q.get());
    g.pending();
    q.put_nowait(7).unwrap();
    assert_eq!(
        (next.wakes(), g.wakes()),
        (1, 0),
        "the stream was first in line"
    );
    drop(next);
    drop(s);
    assert_eq!(g.wakes(), 1, "the reserved item went on to the next getter");
    assert_eq!(g.ready(), Ok(7));

    // With nobody waiting, the item stays in the queue for anyone.
    let mut s = q.stream();
    let mut next = Polled::new(s.next());
    next.pending();
    q.put_nowait(8).unwrap();
    drop(next);
    drop(s);
    assert_eq!(q.get_nowait(), Ok(8));
}

#[test]
fn dropped_before_grant_leaves_no_trace() {
    let q = Queue::unbounded();
    let mut s = q.stream();
    let mut next = Polled::new(s.next());
    next.pending();
    drop(next);
    drop(s);
    q.put_nowait(1).unwrap();
    assert_eq!(
        q.get_nowait(),
        Ok(1),
        "nothing was reserved for the dropped stream"
    );
}

#[test]
fn owned_stream_across_threads_loses_and_duplicates_nothing() {
    let n = scaled(10_000);
    let q = Arc::new(Queue::bounded(8));
    let producers: Vec<_> = (0..2)
        .map(|p| {
            let q = Arc::clone(&q);
            std::thread::spawn(move || {
                block_on(async {
                    for i in 0..n {
                        q.put(p * n + i).await.unwrap();
                    }
                })
            })
        })
        .collect();
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let mut s = Arc::clone(&q).into_stream();
            std::thread::spawn(move || {
                block_on(async {
                    let mut got = Vec::new();
                    while let Some(v) = s.next().await {
                        got.push(v);
                    }
                    got
                })
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    q.close();
    let mut all: Vec<usize> = consumers
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..2 * n).collect::<Vec<_>>());
}
