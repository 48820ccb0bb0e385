// Timer accuracy, written once: `include!`d after `workloads.rs` into the same per-runtime
// modules (its imports are in scope here). Unlike the timed workloads in `WORKLOADS`, this
// one reports how late each sleep woke, not how long the iteration took, so `compare`
// prints it in a section of its own.

/// The sleep lengths of `sleep_accuracy`, slept in this order by every task.
pub const ACCURACY_SLEEPS: [Duration; 3] = [
    Duration::from_millis(1),
    Duration::from_millis(2),
    Duration::from_millis(5),
];

/// Tasks in `sleep_accuracy`.
pub const ACCURACY_TASKS: usize = 1_000;

/// 1,000 tasks, each sleeping 1 ms, then 2 ms, then 5 ms. Returns, per sleep length (in
/// [`ACCURACY_SLEEPS`] order), every sleep's overshoot past its deadline in nanoseconds:
/// the time from the deadline (taken before the sleep was created, so the runtime's own
/// deadline is never earlier) to the moment the task ran again. A negative value is a
/// sleep that woke early.
pub fn sleep_accuracy(r: &Rt) -> [Vec<i64>; 3] {
    let tasks: Vec<_> = (0..ACCURACY_TASKS)
        .map(|_| {
            r.spawn(async {
                let mut over = [0i64; 3];
                for (o, d) in over.iter_mut().zip(ACCURACY_SLEEPS) {
                    let deadline = Instant::now() + d;
                    rt::sleep(d).await;
                    let woke = Instant::now();
                    *o = if woke >= deadline {
                        (woke - deadline).as_nanos() as i64
                    } else {
                        -((deadline - woke).as_nanos() as i64)
                    };
                }
                over
            })
        })
        .collect();
    r.block_on(async move {
        let mut out: [Vec<i64>; 3] = Default::default();
        for t in tasks {
            let over = rt::join(t).await;
            for (v, o) in out.iter_mut().zip(over) {
                v.push(o);
            }
        }
        out
    })
}
