//! The registry of live tasks (`OwnedTasks`), sharded by task id.
//!
//! Invariants (the detail of rule TASK-2 in `task/mod.rs`):
//! - REG-1: a task is listed from spawn until its future is dropped, under one key in the
//!   shard `id % shards`, and `Header::key` holds that key (or `NOT_LISTED`); both change
//!   only under that shard's lock;
//! - REG-2: once `close()` has run, nothing is listed again: `insert` refuses, and the
//!   caller drops the runnable, which cancels the task (TASK-3, SHUT-1).
//! - REG-3: each entry keeps, beside the task's waker, a pointer to its header; whoever
//!   holds a clone of that waker may read the header through the pointer (ownership rule
//!   5). `for_each` (diagnostic dumps) clones the pairs under each shard's lock and reads
//!   the headers after unlocking, so a dump holds a shard's lock only for the clones.

use std::ptr::NonNull;
use std::task::Waker;

use crossbeam_utils::CachePadded;
use slab::Slab;

use super::{Header, Runnable};
use crate::loom::atomic::Ordering;
use crate::loom::Mutex;

/// `Header::key` when the task is not (or no longer) in the registry.
pub(crate) const NOT_LISTED: usize = usize::MAX;

/// A listed task: its waker, and a pointer to its header taken beside it.
struct Entry {
    waker: Waker,
    header: HeaderPtr,
}

/// A task's header, reachable for as long as a waker of the task is held beside it.
#[derive(Clone, Copy)]
struct HeaderPtr(NonNull<Header>);

// SAFETY: `Header` is `Sync` (atomics, an immutable name, the scheduler handle); the pointer
// is only dereferenced while a waker of its task is held (ownership rule 5, REG-3).
unsafe impl Send for HeaderPtr {}

pub(crate) struct OwnedTasks {
    shards: Box<[CachePadded<Mutex<Shard>>]>,
    mask: u64,
}

struct Shard {
    tasks: Slab<Entry>,
    closed: bool,
}

impl OwnedTasks {
    /// A registry with at least `min_shards` shards (rounded up to a power of two).
    pub(crate) fn new(min_shards: usize) -> Self {
        let n = min_shards.max(1).next_power_of_two();
        let shards = (0..n)
            .map(|_| {
                CachePadded::new(Mutex::new(Shard {
                    tasks: Slab::new(),
                    closed: false,
                }))
            })
            .collect();
        OwnedTasks {
            shards,
            mask: n as u64 - 1,
        }
    }

    fn shard(&self, header: &Header) -> &Mutex<Shard> {
        &self.shards[(header.id.as_u64() & self.mask) as usize]
    }

    /// Lists a freshly spawned task. Returns `false` if the registry is closed: the caller
    /// must then drop the runnable (rule TASK-3).
    pub(crate) fn insert(&self, runnable: &Runnable) -> bool {
        let header = runnable.metadata();
        let waker = runnable.waker();
        let mut shard = self.shard(header).lock().unwrap();
        if shard.closed {
            drop(shard);
            return false;
        }
        let key = shard.tasks.insert(Entry {
            waker,
            header: HeaderPtr(NonNull::from(header)),
        });
        header.key.store(key, Ordering::Relaxed);
        true
    }

    /// Unlists a task whose future is being dropped. Idempotent.
    pub(crate) fn remove(&self, header: &Header) {
        let waker = {
            let mut shard = self.shard(header).lock().unwrap();
            let key = header.key.load(Ordering::Relaxed);
            if key == NOT_LISTED {
                return;
            }
            header.key.store(NOT_LISTED, Ordering::Relaxed);
            shard.tasks.try_remove(key)
        };
        // Dropped outside the lock: a waker's drop may free the task.
        drop(waker);
    }

    /// A waker for a listed task (to abort it), or `None` once its future is gone.
    pub(crate) fn waker_of(&self, header: &Header) -> Option<Waker> {
        let shard = self.shard(header).lock().unwrap();
        let key = header.key.load(Ordering::Relaxed);
        if key == NOT_LISTED {
            return None;
        }
        shard.tasks.get(key).map(|e| e.waker.clone())
    }

    /// Calls `f` with the header of every listed task, each once (a task is in one shard
    /// under one key, REG-1); tasks listed or unlisted meanwhile may or may not be seen.
    /// Holds each shard's lock only to clone its entries (REG-3).
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Header)) {
        let mut batch: Vec<(Waker, HeaderPtr)> = Vec::new();
        for shard in self.shards.iter() {
            {
                let shard = shard.lock().unwrap();
                batch.extend(shard.tasks.iter().map(|(_, e)| (e.waker.clone(), e.header)));
            }
            for (_waker, header) in &batch {
                // SAFETY: REG-3: `_waker`, a waker of this task, is held until after the
                // read, so the header's allocation is alive (ownership rule 5).
                f(unsafe { header.0.as_ref() });
            }
            // The wakers are dropped here, outside the lock: a last one frees its task.
            batch.clear();
        }
    }

    /// Refuses every later insert.
    pub(crate) fn close(&self) {
        for shard in self.shards.iter() {
            shard.lock().unwrap().closed = true;
        }
    }

    /// Number of listed tasks.
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap().tasks.len())
            .sum()
    }

    /// Takes every listed task's waker out (leaving the shards empty and the headers
    /// unlisted is the job of each future's drop). Call only after `close()`.
    pub(crate) fn take_all(&self) -> Vec<Waker> {
        let mut all = Vec::new();
        for shard in self.shards.iter() {
            let shard = shard.lock().unwrap();
            debug_assert!(shard.closed);
            // Clones, not removals: each entry is removed by its own future's drop, which
            // keeps `Header::key` and the slab consistent.
            all.extend(shard.tasks.iter().map(|(_, e)| e.waker.clone()));
        }
        all
    }
}

impl std::fmt::Debug for OwnedTasks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnedTasks")
            .field("shards", &self.shards.len())
            .finish_non_exhaustive()
    }
}
