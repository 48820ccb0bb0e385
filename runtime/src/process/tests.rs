//! The SIGCHLD path of reap rule R1 on Linux (where spawns normally take the pidfd path),
//! and the types' auto traits.

use std::time::Duration;

use super::reap::FORCE_SIGCHLD;
use super::{Child, Command, Stdio};
use crate::io::{AsyncReadExt, AsyncWriteExt};
use crate::Builder;

#[test]
fn send_sync() {
    fn is<T: Send + Sync + Unpin>() {}
    is::<Child>();
    is::<Command>();
    is::<super::ChildStdin>();
    is::<super::ChildStdout>();
}

/// Several children waited for at once through SIGCHLD only: every exit is seen, each
/// with its own code, and a child still running is not reported exited.
#[test]
fn sigchld_path_waits_for_every_child() {
    if cfg!(miri) {
        return;
    }
    let rt = Builder::new_current_thread().build().unwrap();
    FORCE_SIGCHLD.with(|f| f.set(true));
    rt.block_on(async {
        let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
        assert!(!sleeper.state_is_pidfd());
        let mut handles = Vec::new();
        for code in 0..8 {
            let mut child = Command::new("sh")
                .args(["-c", &format!("sleep 0.0{code}; exit {code}")])
                .spawn()
                .unwrap();
            handles.push(crate::spawn(
                async move { child.wait().await.unwrap().code() },
            ));
        }
        for (code, h) in handles.into_iter().enumerate() {
            assert_eq!(h.await.unwrap(), Some(code as i32));
        }
        assert!(sleeper.try_wait().unwrap().is_none());
        let mut cat = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = cat.stdin.take().unwrap();
        stdin.write_all(b"through the pipe").await.unwrap();
        drop(stdin);
        let mut out = Vec::new();
        cat.stdout
            .take()
            .unwrap()
            .read_to_end(&mut out)
            .await
            .unwrap();
        assert_eq!(out, b"through the pipe");
        assert!(cat.wait().await.unwrap().success());
        sleeper.kill().await.unwrap();
        let waited = crate::time::timeout(Duration::from_secs(5), sleeper.wait()).await;
        assert!(!waited.unwrap().unwrap().success());
    });
    FORCE_SIGCHLD.with(|f| f.set(false));
}

/// Where the kernel has pidfds, spawns use them.
#[cfg(target_os = "linux")]
#[test]
fn pidfd_path_is_taken() {
    if cfg!(miri) {
        return;
    }
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let mut child = Command::new("true").spawn().unwrap();
        // SAFETY: pidfd_open(2) on our own pid returns a new descriptor or -1; it touches
        // no memory of ours.
        let probe = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) };
        if probe >= 0 {
            // SAFETY: `probe` is a descriptor we own and close once.
            unsafe { libc::close(probe as libc::c_int) };
            assert!(child.state_is_pidfd());
        }
        assert!(child.wait().await.unwrap().success());
    });
}

/// Reap rule R2 without pidfds: a dropped running child (and a killed one) is reaped by
/// the reaper thread woken through SIGCHLD.
#[test]
fn sigchld_path_reaps_dropped_children() {
    if cfg!(miri) {
        return;
    }
    // SAFETY: kill(2) with signal 0 only checks that the process exists (a zombie does).
    let exists = |pid: u32| unsafe { libc::kill(pid as libc::pid_t, 0) == 0 };
    let rt = Builder::new_current_thread().build().unwrap();
    FORCE_SIGCHLD.with(|f| f.set(true));
    let pids = rt.block_on(async {
        let runs_on = Command::new("sleep").arg("0.2").spawn().unwrap();
        let killed = Command::new("sleep")
            .arg("30")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        assert!(!runs_on.state_is_pidfd() && !killed.state_is_pidfd());
        vec![runs_on.id().unwrap(), killed.id().unwrap()]
    });
    FORCE_SIGCHLD.with(|f| f.set(false));
    let start = std::time::Instant::now();
    for pid in pids {
        while exists(pid) {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "pid {pid} was not reaped"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
