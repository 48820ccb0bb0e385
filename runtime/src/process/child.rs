//! [`Child`]: a running (or finished) child process.

use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::process::{ExitStatus, Output};
use std::task::{Context, Poll};

use super::pipe::{ChildStderr, ChildStdin, ChildStdout};
use super::reap::{self, ExitWake};
use crate::io::AsyncReadExt;

/// A child process, from [`Command::spawn`](super::Command::spawn).
///
/// Its piped standard streams are the public fields `stdin`, `stdout` and `stderr`
/// (`Some` when set to `Stdio::piped()`); take them out to use them from other tasks.
///
/// Dropping a `Child` neither waits for nor kills the process (unless
/// [`kill_on_drop`](super::Command::kill_on_drop) was set), but it is never left a
/// zombie: a process still running is reaped in the background once it exits.
///
/// # Examples
///
/// ```
/// use magpie_runtime::process::Command;
///
/// # if cfg!(miri) { return; } // miri cannot spawn processes
/// magpie_runtime::block_on(async {
///     let mut child = Command::new("sleep").arg("30").spawn().unwrap();
///     assert!(child.id().is_some());
///     assert!(child.try_wait().unwrap().is_none()); // still running
///     child.kill().await.unwrap();
///     assert!(child.id().is_none()); // reaped
///     assert!(!child.wait().await.unwrap().success());
/// });
/// ```
pub struct Child {
    /// The child's standard input, if it was piped.
    pub stdin: Option<ChildStdin>,
    /// The child's standard output, if it was piped.
    pub stdout: Option<ChildStdout>,
    /// The child's standard error, if it was piped.
    pub stderr: Option<ChildStderr>,
    state: State,
}

enum State {
    Running {
        child: std::process::Child,
        wake: ExitWake,
        kill_on_drop: bool,
    },
    Exited(ExitStatus),
    /// Only while dropping.
    Gone,
}

impl Child {
    /// Registers a just-spawned std child with the current runtime. On failure the
    /// process is killed and reaped, so nothing is left behind.
    pub(crate) fn new(mut std: std::process::Child, kill_on_drop: bool) -> io::Result<Child> {
        let (stdin, stdout, stderr) = (std.stdin.take(), std.stdout.take(), std.stderr.take());
        let registered = (|| {
            Ok::<_, io::Error>((
                stdin.map(ChildStdin::new).transpose()?,
                stdout.map(ChildStdout::new).transpose()?,
                stderr.map(ChildStderr::new).transpose()?,
                ExitWake::new(std.id())?,
            ))
        })();
        match registered {
            Ok((stdin, stdout, stderr, wake)) => Ok(Child {
                stdin,
                stdout,
                stderr,
                state: State::Running {
                    child: std,
                    wake,
                    kill_on_drop,
                },
            }),
            Err(e) => {
                let _ = std.kill();
                let _ = std.wait();
                Err(e)
            }
        }
    }

    /// Whether the exit is awaited through a pidfd (tests only).
    #[cfg(test)]
    pub(crate) fn state_is_pidfd(&self) -> bool {
        matches!(&self.state, State::Running { wake, .. } if wake.is_pidfd())
    }

    /// The process id, or `None` once its exit status has been collected (after which the
    /// OS may reuse the id).
    pub fn id(&self) -> Option<u32> {
        match &self.state {
            State::Running { child, .. } => Some(child.id()),
            State::Exited(_) | State::Gone => None,
        }
    }

    /// Waits for the process to exit and returns its status. Standard input is closed
    /// first (so a child reading it to the end can finish). Calling it again returns the
    /// same status.
    ///
    /// Cancel safe: dropping the future leaves the child as it was.
    ///
    /// # Errors
    ///
    /// The OS's error from `waitpid`, or an error if the runtime shut down meanwhile.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        poll_fn(|cx| self.poll_wait(cx)).await
    }

    fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        let status = match &mut self.state {
            State::Running { child, wake, .. } => match wake.poll_exit(child, cx) {
                Poll::Ready(Ok(status)) => status,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            },
            State::Exited(status) => return Poll::Ready(Ok(*status)),
            State::Gone => unreachable!("a Child is Gone only while dropping"),
        };
        self.state = State::Exited(status); // drops the pidfd or SIGCHLD listener
        Poll::Ready(Ok(status))
    }

    /// The exit status if the process has exited (collecting it), `None` if it still runs.
    ///
    /// # Errors
    ///
    /// The OS's error from `waitpid`.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        let status = match &mut self.state {
            State::Running { child, .. } => match child.try_wait()? {
                Some(status) => status,
                None => return Ok(None),
            },
            State::Exited(status) => return Ok(Some(*status)),
            State::Gone => unreachable!("a Child is Gone only while dropping"),
        };
        self.state = State::Exited(status);
        Ok(Some(status))
    }

    /// Sends `SIGKILL` without waiting for the exit (then [`wait`](Child::wait) for it).
    ///
    /// # Errors
    ///
    /// `InvalidInput` if the exit status was already collected (as tokio's), or the OS's
    /// error from `kill`.
    pub fn start_kill(&mut self) -> io::Result<()> {
        match &mut self.state {
            State::Running { child, .. } => child.kill(),
            State::Exited(_) | State::Gone => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "cannot kill a child process whose exit status was already collected",
            )),
        }
    }

    /// Kills the process (`SIGKILL`) and waits for it to exit.
    ///
    /// # Errors
    ///
    /// As [`start_kill`](Child::start_kill) and [`wait`](Child::wait).
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await?;
        Ok(())
    }

    /// Waits for the process to exit while reading its piped standard output and error to
    /// the end (both at once, so a child filling one pipe cannot block), after closing
    /// standard input. Streams that were not piped (or were taken) give empty vectors.
    ///
    /// # Errors
    ///
    /// An error reading a pipe or waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// use magpie_runtime::process::{Command, Stdio};
    ///
    /// # if cfg!(miri) { return; } // miri cannot spawn processes
    /// magpie_runtime::block_on(async {
    ///     let child = Command::new("sh")
    ///         .args(["-c", "echo out; echo err >&2; exit 7"])
    ///         .stdout(Stdio::piped())
    ///         .stderr(Stdio::piped())
    ///         .spawn()
    ///         .unwrap();
    ///     let out = child.wait_with_output().await.unwrap();
    ///     assert_eq!((out.status.code(), &out.stdout[..], &out.stderr[..]), (Some(7), &b"out\n"[..], &b"err\n"[..]));
    /// });
    /// ```
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        drop(self.stdin.take());
        let mut stdout = self.stdout.take();
        let mut stderr = self.stderr.take();
        let read_out = async {
            let mut buf = Vec::new();
            if let Some(pipe) = stdout.as_mut() {
                pipe.read_to_end(&mut buf).await?;
            }
            Ok::<_, io::Error>(buf)
        };
        let read_err = async {
            let mut buf = Vec::new();
            if let Some(pipe) = stderr.as_mut() {
                pipe.read_to_end(&mut buf).await?;
            }
            Ok::<_, io::Error>(buf)
        };
        let (out, err) = join(read_out, read_err).await;
        let status = self.wait().await?;
        Ok(Output {
            status,
            stdout: out?,
            stderr: err?,
        })
    }
}

/// Runs two futures at once until both are done.
async fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (std::pin::pin!(a), std::pin::pin!(b));
    let (mut out_a, mut out_b) = (None, None);
    poll_fn(move |cx| {
        if out_a.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                out_a = Some(v);
            }
        }
        if out_b.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                out_b = Some(v);
            }
        }
        if out_a.is_some() && out_b.is_some() {
            Poll::Ready((out_a.take().unwrap(), out_b.take().unwrap()))
        } else {
            Poll::Pending
        }
    })
    .await
}

impl Drop for Child {
    fn drop(&mut self) {
        if let State::Running {
            mut child,
            wake,
            kill_on_drop,
        } = std::mem::replace(&mut self.state, State::Gone)
        {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            if kill_on_drop {
                let _ = child.kill();
            }
            // Rule R2: the reaper collects it once it exits.
            reap::orphan(child, wake.into_pidfd());
        }
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = match &self.state {
            State::Exited(status) => Some(*status),
            _ => None,
        };
        f.debug_struct("Child")
            .field("id", &self.id())
            .field("status", &status)
            .field("stdin", &self.stdin)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .finish()
    }
}
