//! Property tests: `Queue` (FIFO), `LifoQueue` (LIFO) and `PriorityQueue` (smallest first)
//! against a model of the protocol in `magpie_sync::queue`'s module docs, under random
//! sequences of `put_nowait`, `get_nowait`, `put`/`get` futures (polled by hand, polled
//! again, or dropped at any point), `close`, `close_immediate` and `task_done`, with bounded
//! and unbounded capacities.
//!
//! The model keeps the items in a `VecDeque` (FIFO, LIFO) or takes the minimum (priority:
//! the docs promise smallest first and nothing about the order of equal items, which are
//! indistinguishable here), plus the reservations, the waiter lists and the unfinished
//! count. After every operation the real queue must agree on every result, `qsize`,
//! `unfinished_tasks` and `is_closed`, and every waiter the model granted must have been
//! woken.

use crate::support;

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use magpie::sync::queue::{BaseQueue, PutError, QueueClosed, Store, TryGetError, TryPutError};
use magpie::sync::{LifoQueue, PriorityQueue, Queue};
use proptest::prelude::*;
use proptest::sample::Index;
use support::polled::Polled;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Order {
    Fifo,
    Lifo,
    Priority,
}

#[derive(Clone, Debug)]
enum Op {
    PutNowait(u8),
    GetNowait,
    Put(u8),
    Get,
    Poll(Index),
    Drop(Index),
    Close,
    CloseImmediate,
    TaskDone,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..8).prop_map(Op::PutNowait),
        4 => Just(Op::GetNowait),
        4 => (0u8..8).prop_map(Op::Put),
        4 => Just(Op::Get),
        5 => any::<Index>().prop_map(Op::Poll),
        2 => any::<Index>().prop_map(Op::Drop),
        1 => Just(Op::TaskDone),
        1 => prop_oneof![5 => Just(Op::Close), 1 => Just(Op::CloseImmediate)],
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Grant {
    Reserved,
    Closed,
}

/// A waiter as the model sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WState {
    Queued,
    Granted(Grant),
}

#[derive(Debug)]
struct Model {
    order: Order,
    cap: usize,
    items: VecDeque<u8>,
    reserved_get: usize,
    reserved_put: usize,
    unfinished: usize,
    closed: bool,
    /// Waiter ids, in arrival order; a waiter leaves when it completes or is dropped.
    getters: Vec<(usize, WState)>,
    putters: Vec<(usize, WState)>,
    /// Waiters granted by the current operation (they must have been woken).
    granted_now: Vec<usize>,
}

impl Model {
    fn new(order: Order, cap: usize) -> Self {
        Model {
            order,
            cap,
            items: VecDeque::new(),
            reserved_get: 0,
            reserved_put: 0,
            unfinished: 0,
            closed: false,
            getters: Vec::new(),
            putters: Vec::new(),
            granted_now: Vec::new(),
        }
    }

    fn pop(&mut self) -> u8 {
        match self.order {
            Order::Fifo => self.items.pop_front().unwrap(),
            Order::Lifo => self.items.pop_back().unwrap(),
            Order::Priority => {
                let (i, _) = self
                    .items
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, v)| **v)
                    .unwrap();
                self.items.remove(i).unwrap()
            }
        }
    }

    /// Grants the longest-waiting queued waiter of `list`; false if none is queued.
    fn grant_front(list: &mut [(usize, WState)], grant: Grant, granted: &mut Vec<usize>) -> bool {
        match list.iter_mut().find(|(_, s)| *s == WState::Queued) {
            Some((id, s)) => {
                *s = WState::Granted(grant);
                granted.push(*id);
                true
            }
            None => false,
        }
    }

    fn pushed(&mut self) {
        self.unfinished += 1;
        if self.items.len() > self.reserved_get
            && Self::grant_front(&mut self.getters, Grant::Reserved, &mut self.granted_now)
        {
            self.reserved_get += 1;
        }
    }

    fn slot_freed(&mut self) {
        if self.closed || self.items.len() + self.reserved_put >= self.cap {
            return;
        }
        if Self::grant_front(&mut self.putters, Grant::Reserved, &mut self.granted_now) {
            self.reserved_put += 1;
        }
    }

    fn put_nowait(&mut self, v: u8) -> Result<(), &'static str> {
        if self.closed {
            return Err("closed");
        }
        if self.items.len() + self.reserved_put >= self.cap {
            return Err("full");
        }
        self.items.push_back(v);
        self.pushed();
        Ok(())
    }

    fn get_nowait(&mut self) -> Result<u8, &'static str> {
        if self.items.len() > self.reserved_get {
            let v = self.pop();
            self.slot_freed();
            return Ok(v);
        }
        Err(if self.closed { "closed" } else { "empty" })
    }

    fn state(list: &[(usize, WState)], id: usize) -> Option<WState> {
        list.iter().find(|(i, _)| *i == id).map(|(_, s)| *s)
    }

    fn leave(list: &mut Vec<(usize, WState)>, id: usize) {
        list.retain(|(i, _)| *i != id);
    }

    /// A put future's poll: `None` while pending.
    fn poll_put(&mut self, id: usize, v: u8, first: bool) -> Option<Result<(), u8>> {
        if first {
            return match self.put_nowait(v) {
                Ok(()) => Some(Ok(())),
                Err("closed") => Some(Err(v)),
                Err(_) => {
                    self.putters.push((id, WState::Queued));
                    None
                }
            };
        }
        match Self::state(&self.putters, id).unwrap() {
            WState::Queued => None,
            WState::Granted(grant) => {
                Self::leave(&mut self.putters, id);
                if grant == Grant::Reserved {
                    self.reserved_put -= 1;
                    if !self.closed {
                        self.items.push_back(v);
                        self.pushed();
                        return Some(Ok(()));
                    }
                }
                Some(Err(v))
            }
        }
    }

    /// A get future's poll: `None` while pending.
    fn poll_get(&mut self, id: usize, first: bool) -> Option<Result<u8, ()>> {
        if !first {
            match Self::state(&self.getters, id).unwrap() {
                WState::Queued => return None,
                WState::Granted(grant) => {
                    Self::leave(&mut self.getters, id);
                    if grant == Grant::Reserved {
                        self.reserved_get = self.reserved_get.saturating_sub(1);
                    }
                }
            }
        }
        match self.get_nowait() {
            Ok(v) => Some(Ok(v)),
            Err("closed") => Some(Err(())),
            Err(_) => {
                self.getters.push((id, WState::Queued));
                None
            }
        }
    }

    fn drop_put(&mut self, id: usize) {
        if let Some(s) = Self::state(&self.putters, id) {
            Self::leave(&mut self.putters, id);
            if s == WState::Granted(Grant::Reserved) {
                self.reserved_put -= 1;
                self.slot_freed();
            }
        }
    }

    fn drop_get(&mut self, id: usize) {
        if let Some(s) = Self::state(&self.getters, id) {
            Self::leave(&mut self.getters, id);
            if s == WState::Granted(Grant::Reserved) {
                self.reserved_get = self.reserved_get.saturating_sub(1);
                if self.items.len() > self.reserved_get
                    && Self::grant_front(&mut self.getters, Grant::Reserved, &mut self.granted_now)
                {
                    self.reserved_get += 1;
                }
            }
        }
    }

    fn close(&mut self, immediate: bool) {
        self.closed = true;
        if immediate {
            let n = self.items.len();
            self.items.clear();
            self.unfinished = self.unfinished.saturating_sub(n);
            self.reserved_get = 0;
        }
        while Self::grant_front(&mut self.getters, Grant::Closed, &mut self.granted_now) {}
        while Self::grant_front(&mut self.putters, Grant::Closed, &mut self.granted_now) {}
    }

    fn task_done(&mut self) -> Result<(), ()> {
        if self.unfinished == 0 {
            return Err(());
        }
        self.unfinished -= 1;
        Ok(())
    }
}

type PutFut<'a> = Pin<Box<dyn Future<Output = Result<(), PutError<u8>>> + 'a>>;
type GetFut<'a> = Pin<Box<dyn Future<Output = Result<u8, QueueClosed>> + 'a>>;

enum Pending<'a> {
    Put(usize, u8, Polled<PutFut<'a>>),
    Get(usize, Polled<GetFut<'a>>),
}

impl Pending<'_> {
    fn id(&self) -> usize {
        match self {
            Pending::Put(id, ..) | Pending::Get(id, _) => *id,
        }
    }
    fn wakes(&self) -> usize {
        match self {
            Pending::Put(.., p) => p.wakes(),
            Pending::Get(_, p) => p.wakes(),
        }
    }
}

fn check_put(real: Poll<Result<(), PutError<u8>>>, model: Option<Result<(), u8>>, op: &Op) {
    let real = match real {
        Poll::Pending => None,
        Poll::Ready(r) => Some(r.map_err(PutError::into_inner)),
    };
    assert_eq!(real, model, "put future after {op:?}");
}

fn check_get(real: Poll<Result<u8, QueueClosed>>, model: Option<Result<u8, ()>>, op: &Op) {
    let real = match real {
        Poll::Pending => None,
        Poll::Ready(r) => Some(r.map_err(|_| ())),
    };
    assert_eq!(real, model, "get future after {op:?}");
}

fn run<S: Store<u8>>(q: BaseQueue<u8, S>, order: Order, cap: Option<usize>, ops: Vec<Op>) {
    let mut m = Model::new(order, cap.unwrap_or(usize::MAX));
    let mut pending: Vec<Pending<'_>> = Vec::new();
    // Wakes seen per waiter id when it was last checked.
    let mut next_id = 0;
    for op in &ops {
        m.granted_now.clear();
        let wakes_before: Vec<(usize, usize)> =
            pending.iter().map(|p| (p.id(), p.wakes())).collect();
        match *op {
            Op::PutNowait(v) => {
                let real = q.put_nowait(v).map_err(|e| match e {
                    TryPutError::Full(_) => "full",
                    TryPutError::Closed(_) => "closed",
                    _ => "other",
                });
                assert_eq!(real, m.put_nowait(v), "{op:?}");
            }
            Op::GetNowait => {
                let real = q.get_nowait().map_err(|e| match e {
                    TryGetError::Empty => "empty",
                    TryGetError::Closed => "closed",
                    _ => "other",
                });
                assert_eq!(real, m.get_nowait(), "{op:?}");
            }
            Op::Put(v) => {
                let id = next_id;
                next_id += 1;
                let mut fut = Polled::new(Box::pin(q.put(v)) as PutFut<'_>);
                let model = m.poll_put(id, v, true);
                check_put(fut.poll(), model, op);
                if model.is_none() {
                    pending.push(Pending::Put(id, v, fut));
                }
            }
            Op::Get => {
                let id = next_id;
                next_id += 1;
                let mut fut = Polled::new(Box::pin(q.get()) as GetFut<'_>);
                let model = m.poll_get(id, true);
                check_get(fut.poll(), model, op);
                if model.is_none() {
                    pending.push(Pending::Get(id, fut));
                }
            }
            Op::Poll(ix) if !pending.is_empty() => {
                let i = ix.index(pending.len());
                let done = match &mut pending[i] {
                    Pending::Put(id, v, fut) => {
                        let model = m.poll_put(*id, *v, false);
                        check_put(fut.poll(), model, op);
                        model.is_some()
                    }
                    Pending::Get(id, fut) => {
                        let model = m.poll_get(*id, false);
                        check_get(fut.poll(), model, op);
                        model.is_some()
                    }
                };
                if done {
                    pending.remove(i);
                }
            }
            Op::Drop(ix) if !pending.is_empty() => {
                let i = ix.index(pending.len());
                match pending.remove(i) {
                    Pending::Put(id, ..) => m.drop_put(id),
                    Pending::Get(id, _) => m.drop_get(id),
                }
            }
            Op::Poll(_) | Op::Drop(_) => {}
            Op::Close => {
                q.close();
                m.close(false);
            }
            Op::CloseImmediate => {
                q.close_immediate();
                m.close(true);
            }
            Op::TaskDone => {
                assert_eq!(q.try_task_done().map_err(|_| ()), m.task_done(), "{op:?}");
            }
        }
        assert_eq!(q.qsize(), m.items.len(), "qsize after {op:?}");
        assert_eq!(
            q.unfinished_tasks(),
            m.unfinished,
            "unfinished after {op:?}"
        );
        assert_eq!(q.is_closed(), m.closed);
        // Every waiter the model granted just now was woken by the real queue.
        for &id in &m.granted_now {
            let Some(p) = pending.iter().find(|p| p.id() == id) else {
                continue;
            };
            let before = wakes_before
                .iter()
                .find(|(i, _)| *i == id)
                .map_or(0, |(_, w)| *w);
            assert!(
                p.wakes() > before,
                "waiter {id} granted by {op:?} but not woken"
            );
        }
    }
    // Dropping every waiter still pending leaves the counts consistent: then the store
    // drains to exactly the model's items, in the model's order.
    for p in pending.drain(..).rev() {
        match p {
            Pending::Put(id, ..) => m.drop_put(id),
            Pending::Get(id, _) => m.drop_get(id),
        }
    }
    let mut rest = Vec::new();
    while let Ok(v) = q.get_nowait() {
        rest.push(v);
    }
    let mut want = Vec::new();
    while let Ok(v) = m.get_nowait() {
        want.push(v);
    }
    assert_eq!(rest, want, "the items left, in order");
}

fn capacity() -> impl Strategy<Value = Option<usize>> {
    prop_oneof![3 => (1usize..5).prop_map(Some), 1 => Just(None)]
}

fn make<S: Store<u8>>(cap: Option<usize>) -> BaseQueue<u8, S> {
    match cap {
        Some(n) => BaseQueue::bounded(n),
        None => BaseQueue::unbounded(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn queue_is_fifo(cap in capacity(), ops in prop::collection::vec(op(), 1..100)) {
        let q: Queue<u8> = make(cap);
        run(q, Order::Fifo, cap, ops);
    }

    #[test]
    fn lifo_queue_is_lifo(cap in capacity(), ops in prop::collection::vec(op(), 1..100)) {
        let q: LifoQueue<u8> = make(cap);
        run(q, Order::Lifo, cap, ops);
    }

    #[test]
    fn priority_queue_gives_the_smallest(cap in capacity(), ops in prop::collection::vec(op(), 1..100)) {
        let q: PriorityQueue<u8> = make(cap);
        run(q, Order::Priority, cap, ops);
    }
}
