use crate::context;
use crate::scheduler::{multi_thread, Scheduler};

/// Runs the blocking closure `f` inside a task without starving the tasks queued behind it.
///
/// On a worker of a multi-thread runtime, the worker first hands the tasks queued on it
/// (its LIFO slot and its local queue) to the other workers, and every task woken from
/// this thread while `f` runs goes to them too; the calling task itself stays where it is
/// (unlike [`spawn_blocking`](crate::spawn_blocking), `f` may borrow from it). Elsewhere
/// (outside a runtime, on a thread that only calls `block_on` on a multi-thread runtime,
/// on a blocking-pool thread) `f` simply runs. As tokio's `block_in_place`, except that the
/// runtime runs with one worker fewer while `f` blocks instead of starting a new one.
///
/// # Panics
///
/// Inside a current-thread runtime's `block_on` or its tasks (there is no other thread to
/// hand the tasks to): use [`spawn_blocking`](crate::spawn_blocking) there. A panic of `f`
/// propagates (the worker takes work again first).
///
/// # Examples
///
/// ```
/// let rt = magpie_runtime::Runtime::new().unwrap();
/// let n = rt.block_on(async {
///     magpie_runtime::spawn(async {
///         magpie_runtime::task::block_in_place(|| {
///             std::thread::sleep(std::time::Duration::from_millis(1));
///             21 * 2
///         })
///     })
///     .await
///     .unwrap()
/// });
/// assert_eq!(n, 42);
/// ```
#[track_caller]
pub fn block_in_place<F, R>(f: F) -> R
where
    F: FnOnce() -> R,
{
    let f = match multi_thread::block_in_place::on_worker(f) {
        Ok(out) => return out,
        Err(f) => f,
    };
    if let Some(Scheduler::CurrentThread(_)) = context::current_scheduler() {
        if context::is_blocking_forbidden() {
            panic!(
                "magpie::task::block_in_place called on a current-thread runtime: it would \
                 block the only thread that runs tasks. Use magpie::spawn_blocking(f).await \
                 instead, or a multi-thread runtime"
            );
        }
    }
    f()
}
