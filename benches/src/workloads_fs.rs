// File workloads, written once: `include!`d after the other workload files into the same
// per-runtime modules, so every runtime runs this very code through its adapter `rt`
// (magpie::fs, tokio::fs, smol's async-fs). The files live in a fresh directory under the
// system's temp dir, removed at the end of each iteration.

/// Files in fs_rw...
const FS_FILES: usize = 256;
/// ...of this size...
const FS_FILE_LEN: usize = 256 * 1024;
/// ...handled by this many tasks (16 files each).
const FS_TASKS: usize = 16;

/// 16 tasks each write 16 files of 256 KiB (create, `write_all`, `flush`), then read each
/// back whole (`open`, `read_to_end`) and check every byte: 64 MiB written and read.
pub fn fs_rw(r: &Rt) {
    static ITERATION: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "magpie-bench-fs_rw-{}-{}-{}",
        rt::NAME,
        std::process::id(),
        ITERATION.fetch_add(1, Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("bench temp dir");
    let task_dir = dir.clone();
    in_task(r, async move {
        let tasks: Vec<_> = (0..FS_TASKS)
            .map(|t| {
                let dir = task_dir.clone();
                rt::spawn(async move {
                    let files: Vec<_> = (t..FS_FILES).step_by(FS_TASKS).collect();
                    for &i in &files {
                        let data = vec![i as u8; FS_FILE_LEN];
                        let mut f = rt::fs_create(dir.join(format!("f{i}"))).await;
                        f.write_all(&data).await.expect("write");
                        f.flush().await.expect("flush");
                    }
                    let mut back = Vec::with_capacity(FS_FILE_LEN);
                    for &i in &files {
                        back.clear();
                        let mut f = rt::fs_open(dir.join(format!("f{i}"))).await;
                        f.read_to_end(&mut back).await.expect("read");
                        assert!(
                            back.len() == FS_FILE_LEN && back.iter().all(|&b| b == i as u8),
                            "file {i} read back wrong"
                        );
                    }
                    files.len()
                })
            })
            .collect();
        let mut done = 0;
        for h in tasks {
            done += rt::join(h).await;
        }
        assert_eq!(done, FS_FILES);
    });
    std::fs::remove_dir_all(&dir).expect("remove the bench temp dir");
}
