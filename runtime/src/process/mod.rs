//! Child processes: [`Command`] spawns a [`Child`], whose exit and standard streams are
//! awaited through the driver.
//!
//! tokio's shapes and semantics. A child's exit is awaited through a pidfd registered
//! with the driver on Linux, and through `SIGCHLD` elsewhere (or where pidfds are
//! unavailable); its piped standard streams are non-blocking pipes registered with the
//! driver. Nothing is left behind: every descriptor is close-on-exec, and a [`Child`]
//! dropped while its process still runs is reaped in the background by one process-wide
//! thread (killed first if [`Command::kill_on_drop`] was set), so no zombie remains. The
//! rules are written up in `reap.rs` (R1, R2).
//!
//! asyncio's twin is `asyncio.create_subprocess_exec` (see `docs/asyncio.md`).
//!
//! # Examples
//!
//! ```
//! use magpie_runtime::process::Command;
//!
//! # if cfg!(miri) { return; } // miri cannot spawn processes
//! magpie_runtime::block_on(async {
//!     let out = Command::new("echo").arg("hello").output().await.unwrap();
//!     assert!(out.status.success());
//!     assert_eq!(out.stdout, b"hello\n");
//!
//!     let status = Command::new("sh").args(["-c", "exit 3"]).status().await.unwrap();
//!     assert_eq!(status.code(), Some(3));
//! });
//! ```

mod child;
mod pipe;
mod reap;

pub use child::Child;
pub use pipe::{ChildStderr, ChildStdin, ChildStdout};
pub use std::process::{ExitStatus, Output, Stdio};

use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;

/// A process builder: std's [`Command`](std::process::Command) with asynchronous
/// `spawn`, `output` and `status`, plus [`kill_on_drop`](Command::kill_on_drop).
///
/// # Examples
///
/// ```
/// use magpie_runtime::process::{Command, Stdio};
///
/// # if cfg!(miri) { return; } // miri cannot spawn processes
/// magpie_runtime::block_on(async {
///     let out = Command::new("sh")
///         .arg("-c")
///         .arg("echo $GREETING from $(pwd)")
///         .env_clear()
///         .env("PATH", "/usr/bin:/bin")
///         .env("GREETING", "hi")
///         .current_dir("/")
///         .stdin(Stdio::null())
///         .output()
///         .await
///         .unwrap();
///     assert_eq!(out.stdout, b"hi from /\n");
/// });
/// ```
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
    /// Whether `stdin` was set; `output` makes it null otherwise (as std's does).
    stdin_set: bool,
}

impl Command {
    /// A command that runs `program` (looked up in `PATH` if it has no `/`), with no
    /// arguments, the parent's environment and working directory, and inherited standard
    /// streams (except for [`output`](Command::output)).
    pub fn new<S: AsRef<OsStr>>(program: S) -> Command {
        Command::from(std::process::Command::new(program))
    }

    /// Adds an argument.
    pub fn arg<S: AsRef<OsStr>>(&mut self, arg: S) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable for the child.
    pub fn env<K: AsRef<OsStr>, V: AsRef<OsStr>>(&mut self, key: K, val: V) -> &mut Command {
        self.std.env(key, val);
        self
    }

    /// Sets environment variables for the child.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove<K: AsRef<OsStr>>(&mut self, key: K) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment (plus what `env` adds afterwards).
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Sets the child's working directory.
    pub fn current_dir<P: AsRef<Path>>(&mut self, dir: P) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// The child's standard input: `Stdio::piped()` gives [`Child::stdin`].
    pub fn stdin<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stdin(cfg);
        self.stdin_set = true;
        self
    }

    /// The child's standard output: `Stdio::piped()` gives [`Child::stdout`].
    pub fn stdout<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stdout(cfg);
        self
    }

    /// The child's standard error: `Stdio::piped()` gives [`Child::stderr`].
    pub fn stderr<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stderr(cfg);
        self
    }

    /// Whether dropping the [`Child`] while its process runs kills it (`SIGKILL`) first.
    /// Off by default (as in tokio and std): a dropped child runs on, and is reaped in
    /// the background when it exits either way.
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// Runs the child as user `id` (`setuid` before `exec`).
    pub fn uid(&mut self, id: u32) -> &mut Command {
        self.std.uid(id);
        self
    }

    /// Runs the child as group `id` (`setgid` before `exec`).
    pub fn gid(&mut self, id: u32) -> &mut Command {
        self.std.gid(id);
        self
    }

    /// Puts the child in process group `pgroup` (0: a new group led by the child).
    pub fn process_group(&mut self, pgroup: i32) -> &mut Command {
        self.std.process_group(pgroup);
        self
    }

    /// The std command inside, for settings without a method here.
    pub fn as_std(&self) -> &std::process::Command {
        &self.std
    }

    /// The std command inside, mutably. A stdin set through it is not seen by
    /// [`output`](Command::output)'s default.
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// Starts the child on the current runtime.
    ///
    /// # Errors
    ///
    /// The OS's error with its kind kept: `NotFound` for a program that does not exist,
    /// `PermissionDenied` for one that is not executable, ...; or an error outside a
    /// magpie runtime (then no process is started).
    ///
    /// # Examples
    ///
    /// ```
    /// # if cfg!(miri) { return; } // miri cannot spawn processes
    /// magpie_runtime::block_on(async {
    ///     let err = magpie_runtime::process::Command::new("no-such-program-here")
    ///         .spawn()
    ///         .unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// });
    /// ```
    pub fn spawn(&mut self) -> io::Result<Child> {
        if crate::Handle::try_current().is_err() {
            return Err(io::Error::other(
                "magpie::process::Command::spawn called outside a magpie runtime: spawn from \
                 inside a task or Runtime::block_on",
            ));
        }
        let std = self.std.spawn()?;
        Child::new(std, self.kill_on_drop)
    }

    /// Runs the child to its end and collects its exit status and everything it wrote.
    ///
    /// Standard output and error are piped (this sets them on the command, as tokio's
    /// does); standard input is null unless [`stdin`](Command::stdin) set it.
    ///
    /// # Errors
    ///
    /// See [`spawn`](Command::spawn); or an error reading the pipes or waiting.
    pub async fn output(&mut self) -> io::Result<Output> {
        if !self.stdin_set {
            self.std.stdin(Stdio::null());
        }
        self.std.stdout(Stdio::piped());
        self.std.stderr(Stdio::piped());
        let child = self.spawn();
        if !self.stdin_set {
            // Leave the command as the caller configured it for later spawns.
            self.std.stdin(Stdio::inherit());
        }
        child?.wait_with_output().await
    }

    /// Runs the child to its end and returns its exit status. Its standard streams are
    /// inherited unless set; pipes set with `Stdio::piped()` are closed at once.
    ///
    /// # Errors
    ///
    /// See [`spawn`](Command::spawn); or an error while waiting.
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        let mut child = self.spawn()?;
        drop(child.stdin.take());
        drop(child.stdout.take());
        drop(child.stderr.take());
        child.wait().await
    }
}

impl From<std::process::Command> for Command {
    fn from(std: std::process::Command) -> Command {
        Command {
            std,
            kill_on_drop: false,
            stdin_set: false,
        }
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command")
            .field("std", &self.std)
            .field("kill_on_drop", &self.kill_on_drop)
            .finish()
    }
}

#[cfg(test)]
mod tests;
