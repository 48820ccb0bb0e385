// Child processes, written once: `include!`d after the other workload files into the same
// per-runtime modules, so every runtime runs this very code through its adapter `rt`
// (magpie::process, tokio::process, async-process for smol).

/// 200 × `true`: 8 tasks each spawn 25 children one after another and wait for each exit
/// (spawn, the exit wake-up and the reaping, with 8 children in flight at a time); every
/// exit status must be success.
pub fn process_spawn(r: &Rt) {
    in_task(r, async {
        let per_task = PROCESSES / PROCESS_TASKS;
        let tasks: Vec<_> = (0..PROCESS_TASKS)
            .map(|_| {
                rt::spawn(async move {
                    for _ in 0..per_task {
                        assert!(rt::run_true().await, "`true` failed");
                    }
                    per_task
                })
            })
            .collect();
        let mut ran = 0;
        for t in tasks {
            ran += rt::join(t).await;
        }
        assert_eq!(ran, PROCESSES);
    });
}
