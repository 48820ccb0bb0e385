//! Files and directories without blocking a worker: tokio's `fs`, on the runtime's
//! blocking pool.
//!
//! Every function here runs the matching `std::fs` call on the blocking pool (see
//! [`spawn_blocking`](crate::spawn_blocking)), as tokio does: the file system has no
//! readiness to wait for, so the only way not to stall a worker is to make the call on
//! another thread. Errors are the OS's, as `io::Error`s with their kind kept (`NotFound`,
//! `PermissionDenied`, `IsADirectory`, `DirectoryNotEmpty`, ...), exactly as `std::fs`
//! reports them.
//!
//! Whole-file helpers ([`read`], [`write`](write()), [`read_to_string`], [`copy`]) are one pool hop
//! each, whatever the size. [`File`] buffers: a read fetches up to 2 MiB (at least 64 KiB)
//! in one hop and serves the following small reads from memory; a write copies up to
//! 2 MiB into the file's buffer, returns at once, and writes it on the pool while the task
//! goes on (see [`File`] for the rule on errors of such writes).
//!
//! Called outside a magpie runtime, every operation fails with an `io::Error` of kind
//! `Other` that says so (tokio panics there).
//!
//! # Examples
//!
//! ```
//! use magpie_runtime::fs;
//!
//! # if cfg!(miri) { return; } // miri: no threads of the blocking pool's kind
//! magpie_runtime::block_on(async {
//!     let dir = std::env::temp_dir().join(format!("magpie-fs-doc-{}", std::process::id()));
//!     fs::create_dir_all(&dir).await.unwrap();
//!     let path = dir.join("greeting.txt");
//!     fs::write(&path, "hello").await.unwrap();
//!     assert_eq!(fs::read_to_string(&path).await.unwrap(), "hello");
//!     let missing = fs::read(dir.join("absent")).await.unwrap_err();
//!     assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
//!     fs::remove_dir_all(&dir).await.unwrap();
//! });
//! ```

mod file;
mod open_options;
mod read_dir;

pub use file::File;
pub use open_options::OpenOptions;
pub use read_dir::{read_dir, DirEntry, ReadDir};

use std::fs::{Metadata, Permissions};
use std::io;
use std::path::{Path, PathBuf};

use crate::runtime::Handle;
use crate::task::JoinHandle;

/// Runs `f` on the current runtime's blocking pool; an error outside a runtime.
pub(crate) fn spawn_on_pool<F, T>(f: F) -> io::Result<JoinHandle<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match Handle::try_current() {
        Ok(handle) => Ok(handle.spawn_blocking(f)),
        Err(_) => Err(io::Error::other(
            "magpie: a file or name-resolution operation was called outside a magpie \
             runtime: call it from inside a task or Runtime::block_on",
        )),
    }
}

/// The `io::Error` for a blocking operation that did not finish: cancelled because the
/// runtime shut down. A panic inside the operation is resumed on the awaiting task.
pub(crate) fn join_error(e: crate::JoinError) -> io::Error {
    if e.is_panic() {
        std::panic::resume_unwind(e.into_panic());
    }
    io::Error::other("magpie: the blocking operation was cancelled: the runtime shut down")
}

/// Runs the blocking `f` on the pool and waits for its result.
pub(crate) async fn asyncify<F, T>(f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    match spawn_on_pool(f)?.await {
        Ok(r) => r,
        Err(e) => Err(join_error(e)),
    }
}

/// Reads the whole file at `path` (`std::fs::read`).
///
/// # Errors
///
/// The OS's error: `NotFound`, `PermissionDenied`, `IsADirectory` for a directory, ...;
/// or an error outside a magpie runtime.
///
/// # Examples
///
/// ```
/// # if cfg!(miri) { return; }
/// magpie_runtime::block_on(async {
///     let err = magpie_runtime::fs::read("/nonexistent/file").await.unwrap_err();
///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
/// });
/// ```
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read(path)).await
}

/// Reads the whole file at `path` as UTF-8 (`std::fs::read_to_string`).
///
/// # Errors
///
/// As [`read`], and `InvalidData` if the contents are not UTF-8.
///
/// # Examples
///
/// ```
/// # if cfg!(miri) { return; }
/// magpie_runtime::block_on(async {
///     let path = std::env::temp_dir().join(format!("magpie-rts-doc-{}", std::process::id()));
///     magpie_runtime::fs::write(&path, [0xff, 0xfe]).await.unwrap();
///     let err = magpie_runtime::fs::read_to_string(&path).await.unwrap_err();
///     assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
///     magpie_runtime::fs::remove_file(&path).await.unwrap();
/// });
/// ```
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read_to_string(path)).await
}

/// Writes `contents` as the whole file at `path`, creating or truncating it
/// (`std::fs::write`). The contents are copied first: the caller's buffer is not borrowed
/// while the pool writes.
///
/// # Errors
///
/// The OS's error (`NotFound` for a missing parent directory, `IsADirectory`, ...), or an
/// error outside a magpie runtime.
///
/// # Examples
///
/// ```
/// # if cfg!(miri) { return; }
/// magpie_runtime::block_on(async {
///     let dir = std::env::temp_dir();
///     let err = magpie_runtime::fs::write(&dir, b"into a directory").await.unwrap_err();
///     assert_eq!(err.kind(), std::io::ErrorKind::IsADirectory);
/// });
/// ```
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    let contents = contents.as_ref().to_owned();
    asyncify(move || std::fs::write(path, contents)).await
}

/// Copies the contents and permissions of `from` to `to`; returns the bytes copied
/// (`std::fs::copy`).
///
/// # Errors
///
/// The OS's error (`NotFound` for a missing source, ...), or an error outside a runtime.
///
/// # Examples
///
/// ```
/// # if cfg!(miri) { return; }
/// use magpie_runtime::fs;
/// magpie_runtime::block_on(async {
///     let dir = std::env::temp_dir().join(format!("magpie-copy-doc-{}", std::process::id()));
///     fs::create_dir_all(&dir).await.unwrap();
///     fs::write(dir.join("a"), "abc").await.unwrap();
///     assert_eq!(fs::copy(dir.join("a"), dir.join("b")).await.unwrap(), 3);
///     fs::rename(dir.join("b"), dir.join("c")).await.unwrap();
///     assert_eq!(fs::read(dir.join("c")).await.unwrap(), b"abc");
///     assert!(!fs::try_exists(dir.join("b")).await.unwrap());
///     fs::remove_dir_all(&dir).await.unwrap();
/// });
/// ```
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    asyncify(move || std::fs::copy(from, to)).await
}

/// Renames `from` to `to`, replacing `to` if it exists (`std::fs::rename`).
///
/// # Errors
///
/// The OS's error (`NotFound`, `CrossesDevices`, ...), or an error outside a runtime.
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    asyncify(move || std::fs::rename(from, to)).await
}

/// Removes the file at `path` (`std::fs::remove_file`).
///
/// # Errors
///
/// The OS's error (`NotFound`, `IsADirectory` on Linux for a directory, ...), or an error
/// outside a runtime.
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_file(path)).await
}

/// Removes the empty directory at `path` (`std::fs::remove_dir`).
///
/// # Errors
///
/// The OS's error (`DirectoryNotEmpty`, `NotFound`, `NotADirectory`, ...), or an error
/// outside a runtime.
///
/// # Examples
///
/// ```
/// # if cfg!(miri) { return; }
/// use magpie_runtime::fs;
/// magpie_runtime::block_on(async {
///     let dir = std::env::temp_dir().join(format!("magpie-rmdir-doc-{}", std::process::id()));
///     fs::create_dir(&dir).await.unwrap();
///     fs::write(dir.join("x"), "x").await.unwrap();
///     let err = fs::remove_dir(&dir).await.unwrap_err();
///     assert_eq!(err.kind(), std::io::ErrorKind::DirectoryNotEmpty);
///     fs::remove_dir_all(&dir).await.unwrap();
/// });
/// ```
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_dir(path)).await
}

/// Removes the directory at `path` and everything in it (`std::fs::remove_dir_all`).
///
/// # Errors
///
/// The OS's error (`NotFound`, ...), or an error outside a runtime.
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_dir_all(path)).await
}

/// Creates the directory `path` (`std::fs::create_dir`).
///
/// # Errors
///
/// The OS's error (`AlreadyExists`, `NotFound` for a missing parent, ...), or an error
/// outside a runtime.
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::create_dir(path)).await
}

/// Creates the directory `path` and every missing parent (`std::fs::create_dir_all`).
///
/// # Errors
///
/// The OS's error (`NotADirectory` when a parent is a file, ...), or an error outside a
/// runtime.
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::create_dir_all(path)).await
}

/// The metadata of `path`, following symbolic links (`std::fs::metadata`).
///
/// # Errors
///
/// The OS's error (`NotFound`, ...), or an error outside a runtime.
///
/// # Examples
///
/// ```
/// # if cfg!(miri) { return; }
/// magpie_runtime::block_on(async {
///     let meta = magpie_runtime::fs::metadata(std::env::temp_dir()).await.unwrap();
///     assert!(meta.is_dir());
/// });
/// ```
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::metadata(path)).await
}

/// The metadata of `path` itself, not following a symbolic link
/// (`std::fs::symlink_metadata`).
///
/// # Errors
///
/// The OS's error (`NotFound`, ...), or an error outside a runtime.
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::symlink_metadata(path)).await
}

/// The absolute path of `path` with every link and `.`/`..` resolved
/// (`std::fs::canonicalize`).
///
/// # Errors
///
/// The OS's error (`NotFound`, ...), or an error outside a runtime.
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::canonicalize(path)).await
}

/// Makes `dst` a new hard link to the file `src` (`std::fs::hard_link`).
///
/// # Errors
///
/// The OS's error (`AlreadyExists`, `NotFound`, ...), or an error outside a runtime.
///
/// # Examples
///
/// ```
/// # if cfg!(miri) { return; }
/// use magpie_runtime::fs;
/// magpie_runtime::block_on(async {
///     let dir = std::env::temp_dir().join(format!("magpie-link-doc-{}", std::process::id()));
///     fs::create_dir_all(&dir).await.unwrap();
///     fs::write(dir.join("a"), "data").await.unwrap();
///     fs::hard_link(dir.join("a"), dir.join("b")).await.unwrap();
///     assert_eq!(fs::read(dir.join("b")).await.unwrap(), b"data");
///     std::os::unix::fs::symlink(dir.join("a"), dir.join("l")).unwrap();
///     assert_eq!(fs::read_link(dir.join("l")).await.unwrap(), dir.join("a"));
///     assert!(fs::symlink_metadata(dir.join("l")).await.unwrap().file_type().is_symlink());
///     assert_eq!(fs::canonicalize(dir.join("l")).await.unwrap(),
///                fs::canonicalize(dir.join("a")).await.unwrap());
///     fs::remove_dir_all(&dir).await.unwrap();
/// });
/// ```
pub async fn hard_link(src: impl AsRef<Path>, dst: impl AsRef<Path>) -> io::Result<()> {
    let (src, dst) = (src.as_ref().to_owned(), dst.as_ref().to_owned());
    asyncify(move || std::fs::hard_link(src, dst)).await
}

/// The target of the symbolic link `path` (`std::fs::read_link`).
///
/// # Errors
///
/// The OS's error (`InvalidInput` when `path` is not a link, `NotFound`, ...), or an error
/// outside a runtime.
pub async fn read_link(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read_link(path)).await
}

/// Sets the permissions of `path` (`std::fs::set_permissions`).
///
/// # Errors
///
/// The OS's error (`NotFound`, `PermissionDenied`, ...), or an error outside a runtime.
///
/// # Examples
///
/// ```
/// # if cfg!(miri) { return; }
/// use magpie_runtime::fs;
/// magpie_runtime::block_on(async {
///     let path = std::env::temp_dir().join(format!("magpie-perm-doc-{}", std::process::id()));
///     fs::write(&path, "x").await.unwrap();
///     let mut perms = fs::metadata(&path).await.unwrap().permissions();
///     perms.set_readonly(true);
///     fs::set_permissions(&path, perms).await.unwrap();
///     assert!(fs::metadata(&path).await.unwrap().permissions().readonly());
///     fs::remove_file(&path).await.unwrap();
/// });
/// ```
pub async fn set_permissions(path: impl AsRef<Path>, perm: Permissions) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::set_permissions(path, perm)).await
}

/// Whether `path` exists (following links): `Ok(false)` when it is not there, an error
/// when that cannot be told (`Path::try_exists`).
///
/// # Errors
///
/// The OS's error other than "not found" (`PermissionDenied` on a parent, ...), or an
/// error outside a runtime.
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    let path = path.as_ref().to_owned();
    asyncify(move || path.try_exists()).await
}
