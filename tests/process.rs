//! `magpie::process`: pipes, exit codes, kill, kill_on_drop, bad input, and no descriptor
//! or zombie left behind after many spawn/wait/kill cycles.
//!
//! Tests take `GATE` for reading; the ones that count this process's descriptors and
//! zombie children take it for writing, so no other test's children or pipes are in
//! flight while they count.

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use magpie::io::{AsyncReadExt, AsyncWriteExt};
use magpie::process::{Command, Stdio};
use magpie::time::timeout;
use magpie::{Builder, Runtime};

static GATE: RwLock<()> = RwLock::new(());

fn shared() -> RwLockReadGuard<'static, ()> {
    GATE.read().unwrap_or_else(|e| e.into_inner())
}

fn exclusive() -> RwLockWriteGuard<'static, ()> {
    GATE.write().unwrap_or_else(|e| e.into_inner())
}

fn flavours() -> Vec<(&'static str, Runtime)> {
    vec![
        (
            "multi_thread",
            Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap(),
        ),
        (
            "current_thread",
            Builder::new_current_thread().build().unwrap(),
        ),
    ]
}

/// `MAGPIE_STRESS_SCALE` as the stress tests read it (default 0.1): the cycle test runs
/// `1,000 × scale / 0.1` cycles, so 1,000 by default and 100 at TSan's 0.01.
fn stress_factor() -> f64 {
    match std::env::var("MAGPIE_STRESS_SCALE") {
        Ok(s) => {
            let v: f64 = s
                .trim()
                .parse()
                .unwrap_or_else(|_| panic!("MAGPIE_STRESS_SCALE={s:?} is not a float"));
            assert!(v > 0.0, "MAGPIE_STRESS_SCALE must be positive, got {v}");
            v / 0.1
        }
        Err(_) => 1.0,
    }
}

const LIMIT: Duration = Duration::from_secs(20);

/// Whether process `pid` still exists (running or a zombie): `kill(pid, 0)` succeeds for
/// both, and fails with `ESRCH` only once it has been reaped.
fn exists(pid: u32) -> bool {
    // SAFETY: kill(2) with signal 0 only checks the target; it sends nothing.
    unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
}

/// Waits (bounded) until `pid` is gone: exited *and* reaped.
fn assert_reaped(pid: u32, what: &str) {
    let start = Instant::now();
    while exists(pid) {
        assert!(start.elapsed() < LIMIT, "{what}: pid {pid} still exists");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// This process's open descriptors.
#[cfg(target_os = "linux")] // /proc
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// What each open descriptor is, for failure messages.
#[cfg(target_os = "linux")] // /proc
fn fd_targets() -> Vec<String> {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .take(40)
        .map(|e| {
            format!(
                "{:?} -> {:?}",
                e.file_name(),
                std::fs::read_link(e.path()).ok()
            )
        })
        .collect()
}

/// Zombie children of this process.
#[cfg(target_os = "linux")] // /proc
fn zombies() -> usize {
    let me = std::process::id().to_string();
    let mut n = 0;
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let (state, ppid) = (fields.next(), fields.next());
        if state == Some("Z") && ppid == Some(me.as_str()) {
            n += 1;
        }
    }
    n
}

#[test]
fn a_mebibyte_through_cat_round_trips() {
    let _g = shared();
    for (flavour, rt) in flavours() {
        rt.block_on(async {
            let data: Vec<u8> = (0..1 << 20).map(|i: u32| (i * 31 % 251) as u8).collect();
            let mut child = Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            let mut stdout = child.stdout.take().unwrap();
            let expected = data.clone();
            // Writer and reader at once: the pipes hold 64 KiB, so either alone would stall.
            let writer = magpie::spawn(async move {
                stdin.write_all(&data).await.unwrap();
                stdin.close().await.unwrap();
            });
            let mut back = Vec::new();
            timeout(LIMIT, stdout.read_to_end(&mut back))
                .await
                .unwrap_or_else(|_| panic!("{flavour}: cat stalled"))
                .unwrap();
            writer.await.unwrap();
            assert_eq!(back.len(), expected.len(), "{flavour}");
            assert!(back == expected, "{flavour}: content differs");
            assert!(child.wait().await.unwrap().success(), "{flavour}");
        });
    }
}

#[test]
fn exit_codes_and_signals_are_reported() {
    let _g = shared();
    for (flavour, rt) in flavours() {
        rt.block_on(async {
            for code in [0, 1, 2, 42, 255] {
                let status = Command::new("sh")
                    .args(["-c", &format!("exit {code}")])
                    .status()
                    .await
                    .unwrap();
                assert_eq!(status.code(), Some(code), "{flavour}");
                assert_eq!(status.success(), code == 0, "{flavour}");
            }
            let status = Command::new("sh")
                .args(["-c", "kill -9 $$"])
                .status()
                .await
                .unwrap();
            assert_eq!(
                (status.code(), status.signal()),
                (None, Some(9)),
                "{flavour}"
            );
        });
    }
}

#[test]
fn output_collects_both_streams_and_stdin_is_null() {
    let _g = shared();
    for (flavour, rt) in flavours() {
        rt.block_on(async {
            // 200 KiB on each stream: more than a pipe holds, so both must be read at once.
            let out = Command::new("sh")
                .args([
                    "-c",
                    "head -c 204800 /dev/zero; head -c 204800 /dev/zero >&2; cat; exit 3",
                ])
                .output()
                .await
                .unwrap();
            assert_eq!(out.status.code(), Some(3), "{flavour}");
            assert_eq!(out.stdout.len(), 204_800, "{flavour}");
            assert_eq!(out.stderr.len(), 204_800, "{flavour}");
            // `cat` read the null stdin: end of file at once, nothing added.
        });
    }
}

#[test]
fn kill_then_wait_and_the_reaped_state() {
    let _g = shared();
    for (flavour, rt) in flavours() {
        rt.block_on(async {
            let mut child = Command::new("sleep").arg("30").spawn().unwrap();
            let pid = child.id().unwrap();
            assert!(child.try_wait().unwrap().is_none(), "{flavour}");
            timeout(LIMIT, child.kill()).await.unwrap().unwrap();
            assert_eq!(child.id(), None, "{flavour}");
            assert!(!exists(pid), "{flavour}: killed child not reaped");
            let status = child.wait().await.unwrap();
            assert_eq!(status.signal(), Some(libc::SIGKILL), "{flavour}");
            assert_eq!(child.try_wait().unwrap(), Some(status), "{flavour}");
            let err = child.start_kill().unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{flavour}");

            // start_kill, then wait from another task.
            let mut child = Command::new("sleep").arg("30").spawn().unwrap();
            child.start_kill().unwrap();
            let status = magpie::spawn(async move { child.wait().await.unwrap() });
            let status = timeout(LIMIT, status).await.unwrap().unwrap();
            assert_eq!(status.signal(), Some(libc::SIGKILL), "{flavour}");
        });
    }
}

#[test]
fn a_dropped_child_is_reaped_and_killed_with_kill_on_drop() {
    let _g = shared();
    for (flavour, rt) in flavours() {
        let (killed, ran_on) = rt.block_on(async {
            let killed = Command::new("sleep")
                .arg("30")
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            let ran_on = Command::new("sleep").arg("0.2").spawn().unwrap();
            (killed.id().unwrap(), ran_on.id().unwrap())
            // both dropped here, still running
        });
        // The kill_on_drop child was killed: reaped long before its 30 s.
        assert_reaped(killed, &format!("{flavour}: kill_on_drop child"));
        // The other ran to its end and was then reaped in the background.
        assert_reaped(ran_on, &format!("{flavour}: dropped child"));
    }
}

#[test]
fn a_child_dropped_after_its_runtime_is_still_reaped() {
    let _g = shared();
    let rt = Builder::new_current_thread().build().unwrap();
    let child = rt.block_on(async { Command::new("sleep").arg("0.1").spawn().unwrap() });
    drop(rt);
    let pid = child.id().unwrap();
    drop(child);
    assert_reaped(pid, "child outliving its runtime");
}

#[test]
fn a_missing_or_non_executable_program_is_an_error_with_the_os_kind() {
    let _g = shared();
    let dir = std::env::temp_dir().join(format!("magpie-process-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let not_exec = dir.join("not-executable");
    std::fs::write(&not_exec, "#!/bin/sh\necho no\n").unwrap();
    for (flavour, rt) in flavours() {
        rt.block_on(async {
            let err = Command::new("magpie-no-such-program").spawn().unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::NotFound, "{flavour}");
            let err = Command::new(dir.join("missing"))
                .output()
                .await
                .unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::NotFound, "{flavour}");
            let err = Command::new(&not_exec).status().await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::PermissionDenied, "{flavour}");
        });
    }
    std::fs::remove_dir_all(&dir).unwrap();
    // Outside a runtime: an error, and no process started.
    let err = Command::new("true").spawn().unwrap_err();
    assert!(
        err.to_string().contains("outside a magpie runtime"),
        "{err}"
    );
}

#[test]
fn writing_to_a_child_that_closed_its_stdin_is_broken_pipe() {
    let _g = shared();
    for (flavour, rt) in flavours() {
        rt.block_on(async {
            // `head` reads 10 bytes and exits, closing the pipe's reading end.
            let mut child = Command::new("head")
                .args(["-c", "10"])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            let big = vec![7u8; 4 << 20];
            let err = timeout(LIMIT, stdin.write_all(&big))
                .await
                .unwrap_or_else(|_| panic!("{flavour}: write stalled"))
                .unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{flavour}");
            assert!(child.wait().await.unwrap().success(), "{flavour}");
            // After close, writes fail the same way rather than panicking.
            stdin.close().await.unwrap();
            let err = stdin.write_all(b"x").await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{flavour}");
        });
    }
}

#[test]
fn one_childs_stdout_feeds_anothers_stdin() {
    let _g = shared();
    for (flavour, rt) in flavours() {
        rt.block_on(async {
            let mut echo = Command::new("echo")
                .arg("shout")
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let pipe: Stdio = echo.stdout.take().unwrap().try_into().unwrap();
            let out = Command::new("tr")
                .args(["a-z", "A-Z"])
                .stdin(pipe)
                .output()
                .await
                .unwrap();
            assert_eq!(out.stdout, b"SHOUT\n", "{flavour}");
            assert!(echo.wait().await.unwrap().success(), "{flavour}");
        });
    }
}

#[test]
fn many_children_waited_for_at_once() {
    let _g = shared();
    for (flavour, rt) in flavours() {
        rt.block_on(async {
            let waits: Vec<_> = (0..64)
                .map(|i| {
                    let mut child = Command::new("sh")
                        .args(["-c", &format!("exit {}", i % 7)])
                        .spawn()
                        .unwrap();
                    magpie::spawn(async move { child.wait().await.unwrap().code() })
                })
                .collect();
            for (i, w) in waits.into_iter().enumerate() {
                let code = timeout(LIMIT, w).await.unwrap().unwrap();
                assert_eq!(code, Some(i as i32 % 7), "{flavour}: child {i}");
            }
        });
    }
}

/// 1,000 cycles (by default; see `stress_factor`) of spawn + wait, spawn + kill, spawn +
/// drop with kill_on_drop, some with all three pipes: afterwards no descriptor and no
/// zombie is left.
#[cfg(target_os = "linux")] // counts through /proc
#[test]
fn spawn_wait_kill_cycles_leave_no_fd_and_no_zombie() {
    let _g = exclusive();
    let cycles = ((1000.0 * stress_factor()).round() as usize).max(20);
    for (flavour, rt) in flavours() {
        let started = Instant::now();
        rt.block_on(async {
            // Warm-up: the process-wide pipes (signal, reaper) exist from here on.
            let warm = Command::new("sleep")
                .arg("30")
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            drop(warm); // still running: handed to the reaper
            magpie::time::sleep(Duration::from_millis(50)).await;
        });
        settle_zombies(flavour);
        let (fds, zombies_before) = (open_fds(), zombies());
        rt.block_on(async {
            for i in 0..cycles {
                let mut cmd = Command::new("true");
                if i % 3 == 0 {
                    cmd.stdin(Stdio::piped())
                        .stdout(Stdio::piped())
                        .stderr(Stdio::piped());
                }
                match i % 4 {
                    0 | 1 => {
                        let status = cmd.status().await.unwrap();
                        assert!(status.success(), "{flavour}: cycle {i}");
                    }
                    2 => {
                        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
                        child.kill().await.unwrap();
                    }
                    _ => {
                        let child = Command::new("sleep")
                            .arg("30")
                            .stdout(Stdio::piped())
                            .kill_on_drop(true)
                            .spawn()
                            .unwrap();
                        drop(child);
                    }
                }
            }
        });
        settle_zombies(flavour);
        assert_eq!(zombies(), zombies_before, "{flavour}: zombies left");
        let start = Instant::now();
        while open_fds() > fds {
            // Dropped children's pidfds close as the reaper collects them.
            assert!(
                start.elapsed() < LIMIT,
                "{flavour}: {} descriptors before, {} after {cycles} cycles: {:?}",
                fds,
                open_fds(),
                fd_targets()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        eprintln!("{flavour}: {cycles} cycles in {:?}", started.elapsed());
    }
}

/// Waits (bounded) until background reaping caught up.
#[cfg(target_os = "linux")] // /proc
fn settle_zombies(flavour: &str) {
    let start = Instant::now();
    while zombies() > 0 {
        assert!(
            start.elapsed() < LIMIT,
            "{flavour}: {} zombies stay",
            zombies()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The descriptors a child of this process starts with (`sh` listing its own).
#[cfg(target_os = "linux")] // /proc
fn child_fds(out: &[u8]) -> Vec<String> {
    let mut fds: Vec<String> = String::from_utf8_lossy(out)
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    fds.sort();
    fds
}

/// magpie's descriptors (driver, signal pipe and its duplicates, pidfds, other children's
/// pipes) are all close-on-exec: a child sees exactly what a plain std child sees.
#[cfg(target_os = "linux")]
#[test]
fn children_inherit_no_descriptor_of_magpies() {
    let _g = exclusive();
    let list = ["-c", "ls /proc/$$/fd"];
    let baseline = std::process::Command::new("sh")
        .args(list)
        .output()
        .unwrap();
    for (flavour, rt) in flavours() {
        rt.block_on(async {
            let _listener =
                magpie::signal::unix::signal(magpie::signal::unix::SignalKind::user_defined1())
                    .unwrap();
            let _other = Command::new("sleep")
                .arg("30")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            let out = Command::new("sh").args(list).output().await.unwrap();
            assert_eq!(
                child_fds(&out.stdout),
                child_fds(&baseline.stdout),
                "{flavour}: the child inherited descriptors"
            );
        });
    }
}
