//! The queues' waiting futures (`put`, `get`, `join`) and the getter poll they share with
//! the streams. Each is a node in one of the queue's wait lists; the rules cited
//! here are those of the module docs of [`queue`](super).

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use super::{wait_kind, BaseQueue, Grant, PutError, QueueClosed, Store, TryGetError, TryPutError};
use crate::coop;
use crate::wait_list::{Removed, StaleWakers, Waiter, WakeList};

pub(super) struct Put<'a, T, S: Store<T>> {
    pub(super) queue: &'a BaseQueue<T, S>,
    pub(super) item: Option<T>,
    /// Our node in the putters' list (`!Unpin`: `Put` stays pinned while it is queued).
    pub(super) waiter: Waiter<Grant>,
}

impl<T, S: Store<T>> Future for Put<'_, T, S> {
    type Output = Result<(), PutError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let queue = self.queue;
        let poll = self.poll_put(cx);
        if poll.is_pending() {
            queue.diag.record_wait_unheld(wait_kind(S::NAME, "put"));
        }
        poll
    }
}

impl<T, S: Store<T>> Put<'_, T, S> {
    fn poll_put(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), PutError<T>>> {
        // SAFETY: nothing is moved out of `*this` but the item (which is never pinned);
        // `waiter` is only used by reference, so it stays pinned.
        let this = unsafe { self.get_unchecked_mut() };
        let unit = match coop::poll_proceed(cx) {
            Poll::Ready(unit) => unit,
            Poll::Pending => return Poll::Pending,
        };
        let queue = this.queue;
        let waiter = &this.waiter;
        let mut wakers = WakeList::new();
        let mut stale = StaleWakers::new(); // dropped after `state` (WL-6)
        let mut state = queue.lock();
        let mut item = this.item.take().expect("Put polled after completion");
        let result = 'done: {
            if waiter.is_idle() {
                match queue.try_put_locked(&mut state, item, &mut wakers) {
                    Ok(()) => break 'done Ok(()),
                    Err(TryPutError::Closed(item)) => break 'done Err(PutError(item)),
                    Err(TryPutError::Full(back)) => item = back,
                }
            }
            // SAFETY: `waiter` is a field of this pinned `!Unpin` future, used with the
            // putters' list only, and `Drop` removes it (the contract of `poll_waiter`).
            let polled = unsafe {
                state
                    .putters
                    .poll_waiter(waiter, cx.waker(), Grant::None, &mut stale)
            };
            match polled {
                Poll::Pending => {
                    this.item = Some(item);
                    return Poll::Pending;
                }
                Poll::Ready(Grant::Reserved) if !state.closed => {
                    state.reserved_put -= 1;
                    state.items.push(item);
                    BaseQueue::<T, S>::pushed(&mut state, &mut wakers);
                    Ok(())
                }
                Poll::Ready(Grant::Reserved) => {
                    state.reserved_put -= 1;
                    Err(PutError(item))
                }
                Poll::Ready(_) => Err(PutError(item)),
            }
        };
        drop(state);
        wakers.wake_all();
        unit.made_progress();
        Poll::Ready(result)
    }
}

impl<T, S: Store<T>> Drop for Put<'_, T, S> {
    fn drop(&mut self) {
        if self.waiter.is_idle() {
            return;
        }
        let mut wakers = WakeList::new();
        let mut stale = StaleWakers::new(); // dropped after `state` (WL-6)
        let mut state = self.queue.lock();
        // SAFETY: ours, queued or granted in this list, under its lock (WL-1).
        let removed = unsafe { state.putters.remove(&self.waiter, &mut stale) };
        if let Removed::Granted(Grant::Reserved) = removed {
            state.reserved_put -= 1;
            self.queue.slot_freed(&mut state, &mut wakers);
        }
        drop(state);
        wakers.wake_all();
    }
}

pub(super) struct Get<'a, T, S: Store<T>> {
    pub(super) queue: &'a BaseQueue<T, S>,
    /// Our node in the getters' list (`!Unpin`: `Get` stays pinned while it is queued).
    pub(super) waiter: Waiter<Grant>,
}

impl<T, S: Store<T>> Future for Get<'_, T, S> {
    type Output = Result<T, QueueClosed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Only shared access is needed: the waiter's node changes under the lock.
        let this = self.into_ref().get_ref();
        // SAFETY: `waiter` is a field of this pinned `Get`, used only with this queue's
        // getters, and `Drop` calls `drop_getter` (the contract of `poll_get`).
        let poll = unsafe { this.queue.poll_get(&this.waiter, cx) };
        if poll.is_pending() {
            this.queue
                .diag
                .record_wait_unheld(wait_kind(S::NAME, "get"));
        }
        poll
    }
}

impl<T, S: Store<T>> Drop for Get<'_, T, S> {
    fn drop(&mut self) {
        // SAFETY: our waiter, only ever used with this queue's getters (`poll_get`).
        unsafe { self.queue.drop_getter(&self.waiter) };
    }
}

impl<T, S: Store<T>> BaseQueue<T, S> {
    /// One poll of a getter whose node is `waiter`: takes an item, or queues the waiter,
    /// or consumes its grant. Shared by [`get`](Self::get) and the [streams](super::QueueStream).
    ///
    /// # Safety
    ///
    /// `waiter` belongs to the caller (WL-1), is passed only to this
    /// queue's `poll_get`/`drop_getter`, and does not move or get freed until
    /// `drop_getter` was called with it (WL-2).
    pub(super) unsafe fn poll_get(
        &self,
        waiter: &Waiter<Grant>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<T, QueueClosed>> {
        let unit = match coop::poll_proceed(cx) {
            Poll::Ready(unit) => unit,
            Poll::Pending => return Poll::Pending,
        };
        let mut wakers = WakeList::new();
        let mut stale = StaleWakers::new(); // dropped after `state` (WL-6)
        let mut state = self.lock();
        if !waiter.is_idle() {
            // SAFETY: ours, queued or granted in the getters' list, kept in place until
            // `drop_getter` (this function's contract, that of `poll_waiter`).
            match unsafe {
                state
                    .getters
                    .poll_waiter(waiter, cx.waker(), Grant::None, &mut stale)
            } {
                Poll::Pending => return Poll::Pending,
                // Saturating: an immediate close zeroes the reservations it drops.
                Poll::Ready(Grant::Reserved) => {
                    state.reserved_get = state.reserved_get.saturating_sub(1)
                }
                Poll::Ready(_) => {}
            }
        }
        let result = match self.try_get_locked(&mut state, &mut wakers) {
            Ok(item) => Ok(item),
            Err(TryGetError::Closed) => Err(QueueClosed(())),
            Err(TryGetError::Empty) => {
                // SAFETY: the waiter is ours (idle again) and only used with the getters'
                // list; the caller keeps it in place until `drop_getter` removes it (this
                // function's contract, that of `poll_waiter`).
                let queued = unsafe {
                    state
                        .getters
                        .poll_waiter(waiter, cx.waker(), Grant::None, &mut stale)
                };
                debug_assert!(queued.is_pending());
                return Poll::Pending;
            }
        };
        drop(state);
        wakers.wake_all();
        unit.made_progress();
        Poll::Ready(result)
    }

    /// Takes a getter's `waiter` out of the getters' list when its owner goes away,
    /// handing a reserved item on to the next getter.
    ///
    /// # Safety
    ///
    /// As for [`poll_get`](Self::poll_get): `waiter` is the caller's and was only ever
    /// passed to this queue's `poll_get`.
    pub(super) unsafe fn drop_getter(&self, waiter: &Waiter<Grant>) {
        if waiter.is_idle() {
            return;
        }
        let mut wakers = WakeList::new();
        let mut stale = StaleWakers::new(); // dropped after `state` (WL-6)
        let mut state = self.lock();
        // SAFETY: ours, queued or granted in this list, under its lock (WL-1).
        let removed = unsafe { state.getters.remove(waiter, &mut stale) };
        if let Removed::Granted(Grant::Reserved) = removed {
            state.reserved_get = state.reserved_get.saturating_sub(1);
            // Hand the reserved item to the next getter.
            if state.len() > state.reserved_get
                && state.getters.grant_front_with(Grant::Reserved, &mut wakers)
            {
                state.reserved_get += 1;
            }
        }
        drop(state);
        wakers.wake_all();
    }
}

pub(super) struct Join<'a, T, S: Store<T>> {
    pub(super) queue: &'a BaseQueue<T, S>,
    /// Our node in the joiners' list (`!Unpin`: `Join` stays pinned while it is queued).
    pub(super) waiter: Waiter<()>,
}

impl<T, S: Store<T>> Future for Join<'_, T, S> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let queue = self.queue;
        let poll = self.poll_join(cx);
        if poll.is_pending() {
            queue.diag.record_wait_unheld(wait_kind(S::NAME, "join"));
        }
        poll
    }
}

impl<T, S: Store<T>> Join<'_, T, S> {
    fn poll_join(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Only shared access is needed: the waiter's node changes under the lock.
        let this = self.into_ref().get_ref();
        let unit = match coop::poll_proceed(cx) {
            Poll::Ready(unit) => unit,
            Poll::Pending => return Poll::Pending,
        };
        let waiter = &this.waiter;
        let mut stale = StaleWakers::new(); // dropped after `state` (WL-6)
        let mut state = this.queue.lock();
        if !waiter.is_idle() || state.unfinished != 0 {
            // SAFETY: `waiter` is a field of this pinned `!Unpin` future, used with the
            // joiners' list only, and `Drop` removes it (the contract of `poll_waiter`).
            let polled = unsafe {
                state
                    .joiners
                    .poll_waiter(waiter, cx.waker(), (), &mut stale)
            };
            if polled.is_pending() {
                return Poll::Pending;
            }
        }
        unit.made_progress();
        Poll::Ready(())
    }
}

impl<T, S: Store<T>> Drop for Join<'_, T, S> {
    fn drop(&mut self) {
        if !self.waiter.is_idle() {
            // A broadcast grant: nothing to hand on.
            // Dropped after the lock, which the statement below releases (WL-6).
            let mut stale = StaleWakers::new();
            // SAFETY: ours, queued or granted in this list, under its lock (WL-1).
            unsafe { self.queue.lock().joiners.remove(&self.waiter, &mut stale) };
        }
    }
}
