use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Gives the worker back to the scheduler once, then resumes.
///
/// The task goes to the *back* of its worker's queue (not the LIFO slot), so every other
/// runnable task on that worker runs before it resumes.
///
/// # Examples
///
/// ```
/// magpie_runtime::block_on(async {
///     magpie_runtime::yield_now().await;
/// });
/// ```
pub async fn yield_now() {
    YieldNow { yielded: false }.await
}

struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // Woken while running: the scheduler sees `woken_while_running` and queues the
        // task FIFO behind the others.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
