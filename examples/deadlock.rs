//! Two tasks take two locks in opposite orders and deadlock; magpie's watchdog names them,
//! the locks, and where each task was spawned. Then a dump shows the whole runtime.
//!
//! Run with `cargo run --example deadlock`. The output looks like:
//!
//! ```text
//! watchdog: deadlock: 2 tasks wait on each other
//!   task 3 "transfer-a-to-b" (spawned at examples/deadlock.rs:..) waits on Mutex "account-b" held by task 4
//!   task 4 "transfer-b-to-a" (spawned at examples/deadlock.rs:..) waits on Mutex "account-a" held by task 3
//! ```

use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use magpie::sync::{Barrier, Mutex};

fn main() {
    let (found_tx, found_rx) = mpsc::channel();
    let rt = magpie::Builder::new_multi_thread()
        .worker_threads(2)
        .detect_deadlocks(Duration::from_millis(200))
        .on_deadlock(move |d| {
            println!("watchdog: {d}");
            let _ = found_tx.send(d.tasks().to_vec());
        })
        .build()
        .expect("a runtime");

    let a = Arc::new(Mutex::new(100u64).with_label("account-a"));
    let b = Arc::new(Mutex::new(100u64).with_label("account-b"));
    let both_locked = Arc::new(Barrier::new(2));
    let transfer = |from: Arc<Mutex<u64>>, to: Arc<Mutex<u64>>| {
        let both_locked = both_locked.clone();
        async move {
            let mut from = from.lock().await;
            both_locked
                .wait()
                .await
                .expect("the barrier is never broken");
            let mut to = to.lock().await; // the other task holds it: deadlock
            *from -= 10;
            *to += 10;
        }
    };
    let t1 = magpie::task::Builder::new()
        .name("transfer-a-to-b")
        .spawn_on(transfer(a.clone(), b.clone()), rt.handle());
    let t2 = magpie::task::Builder::new()
        .name("transfer-b-to-a")
        .spawn_on(transfer(b, a), rt.handle());

    let tasks = found_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the watchdog reports the cycle within two periods");
    assert_eq!(tasks.len(), 2);
    println!("\nHandle::dump():\n{}", rt.handle().dump());
    // Break the deadlock: aborting one task drops its guard.
    t1.abort();
    rt.block_on(t2)
        .expect("the other transfer completes once the lock is free");
    println!("\naborted one transfer; the other completed");
}
