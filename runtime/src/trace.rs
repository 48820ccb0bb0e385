//! Optional instrumentation through `tracing` (the `tracing` cargo feature).
//!
//! With the feature on, every task runs inside a span named `task` (fields `task.id` and,
//! for named tasks, `task.name`), entered around each poll, and the runtime emits
//! `TRACE`-level events: `spawn` (target `magpie::task`), `park`, `unpark` and `steal`
//! (target `magpie::scheduler`, with the worker's index, and the victim's for a steal).
//! With the feature off, [`event!`] expands to nothing and tasks carry no span, so the
//! instrumentation costs nothing: its arguments are not even evaluated.

/// A `TRACE`-level `tracing` event with the feature on; nothing with it off.
#[cfg(feature = "tracing")]
macro_rules! event {
    ($($arg:tt)*) => { ::tracing::trace!($($arg)*) };
}

/// A `TRACE`-level `tracing` event with the feature on; nothing with it off.
#[cfg(not(feature = "tracing"))]
macro_rules! event {
    ($($arg:tt)*) => {};
}

pub(crate) use event;

/// The span a task runs in.
#[cfg(feature = "tracing")]
pub(crate) fn task_span(header: &crate::task::Header) -> tracing::Span {
    let span = tracing::trace_span!(
        target: "magpie::task",
        "task",
        task.id = header.id.as_u64(),
        task.name = tracing::field::Empty,
    );
    if let Some(name) = &header.name {
        span.record("task.name", &**name);
    }
    span
}
