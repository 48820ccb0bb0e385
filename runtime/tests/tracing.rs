//! The `tracing` feature: a span per task, entered around its polls, and events for spawn,
//! park, unpark and steal. A small subscriber, installed process-wide (worker threads do
//! not see a thread-local default), records what the runtime reports.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

#[derive(Default)]
struct Seen {
    /// Span id -> (name, fields).
    spans: HashMap<u64, (String, HashMap<String, String>)>,
    /// Span id -> times entered.
    entered: HashMap<u64, usize>,
    /// (message, fields, span id the event happened in).
    events: Vec<(String, HashMap<String, String>, Option<u64>)>,
}

struct Recorder {
    seen: Arc<Mutex<Seen>>,
    next_id: AtomicU64,
}

thread_local! {
    static CURRENT: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[derive(Default)]
struct Fields(HashMap<String, String>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        self.seen
            .lock()
            .unwrap()
            .spans
            .insert(id, (attrs.metadata().name().to_string(), fields.0));
        Id::from_u64(id)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut fields = Fields::default();
        values.record(&mut fields);
        if let Some((_, f)) = self.seen.lock().unwrap().spans.get_mut(&span.into_u64()) {
            f.extend(fields.0);
        }
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let message = fields.0.remove("message").unwrap_or_default();
        let current = CURRENT.with(|c| c.borrow().last().copied());
        self.seen
            .lock()
            .unwrap()
            .events
            .push((message, fields.0, current));
    }
    fn enter(&self, span: &Id) {
        CURRENT.with(|c| c.borrow_mut().push(span.into_u64()));
        *self
            .seen
            .lock()
            .unwrap()
            .entered
            .entry(span.into_u64())
            .or_default() += 1;
    }
    fn exit(&self, _: &Id) {
        CURRENT.with(|c| c.borrow_mut().pop());
    }
}

#[test]
fn tasks_run_in_spans_and_the_scheduler_reports_spawn_park_and_steal() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    tracing::subscriber::set_global_default(Recorder {
        seen: seen.clone(),
        next_id: AtomicU64::new(1),
    })
    .unwrap();

    let rt = magpie_runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let named_id = rt.block_on(async {
        let named = magpie_runtime::task::Builder::new()
            .name("traced-one")
            .spawn(async {
                tracing::trace!("inside the named task");
                magpie_runtime::yield_now().await;
            });
        let id = named.id().as_u64();
        named.await.unwrap();
        // Bursts of spawns from a task on one worker while the other is idle, until the
        // other has stolen (the metrics count steals too; a loaded machine may need more
        // than one burst).
        let handle = magpie_runtime::Handle::current();
        for _ in 0..200 {
            magpie_runtime::spawn(async {
                let handles: Vec<_> = (0..2_000u64)
                    .map(|i| {
                        magpie_runtime::spawn(async move {
                            std::hint::black_box((0..200).fold(i, |a, b| a ^ b));
                        })
                    })
                    .collect();
                for h in handles {
                    h.await.unwrap();
                }
            })
            .await
            .unwrap();
            if handle.metrics().total().steals > 0 {
                break;
            }
        }
        // Both workers park while this sleeps.
        magpie_runtime::time::sleep(Duration::from_millis(20)).await;
        id
    });
    drop(rt);

    let seen = seen.lock().unwrap();
    let (span_id, (_, fields)) = seen
        .spans
        .iter()
        .find(|(_, (name, f))| {
            name == "task" && f.get("task.name").map(String::as_str) == Some("traced-one")
        })
        .expect("a `task` span carrying the task's name");
    assert_eq!(fields["task.id"], named_id.to_string());
    assert!(
        seen.entered.get(span_id).copied().unwrap_or(0) >= 2,
        "the span is entered around each poll (the task yields once, so two polls)"
    );
    let inside = seen
        .events
        .iter()
        .find(|(m, _, _)| m == "inside the named task")
        .expect("the task's own event");
    assert_eq!(
        inside.2,
        Some(*span_id),
        "the task's event happens inside its span"
    );

    let count = |what: &str| seen.events.iter().filter(|(m, _, _)| m == what).count();
    assert!(
        count("spawn") >= 2_002,
        "one spawn event per task: {}",
        count("spawn")
    );
    let spawn = seen
        .events
        .iter()
        .find(|(m, f, _)| {
            m == "spawn" && f.get("task.name").map(String::as_str) == Some("traced-one")
        })
        .expect("the named task's spawn event");
    assert_eq!(spawn.1["task.id"], named_id.to_string());
    assert!(
        count("park") >= 1,
        "workers park while the main task sleeps"
    );
    assert!(count("unpark") >= 1);
    assert!(
        count("steal") >= 1,
        "the idle worker steals from the spawning one"
    );
}
