use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::{FileType, Metadata};
use std::future::{poll_fn, Future};
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::{asyncify, join_error, spawn_on_pool};
use crate::loom::Arc;
use crate::task::JoinHandle;

/// Entries fetched per pool hop.
const CHUNK: usize = 64;

/// Opens the directory `path` for listing its entries (`std::fs::read_dir`).
///
/// # Errors
///
/// The OS's error (`NotFound`, `NotADirectory` for a file, `PermissionDenied`, ...), or
/// an error outside a magpie runtime.
///
/// # Examples
///
/// ```
/// use magpie_runtime::fs;
/// # if cfg!(miri) { return; }
/// magpie_runtime::block_on(async {
///     let dir = std::env::temp_dir().join(format!("magpie-readdir-doc-{}", std::process::id()));
///     fs::create_dir_all(&dir).await.unwrap();
///     fs::write(dir.join("a.txt"), "a").await.unwrap();
///     let mut entries = fs::read_dir(&dir).await.unwrap();
///     let entry = entries.next_entry().await.unwrap().unwrap();
///     assert_eq!(entry.file_name(), "a.txt");
///     assert_eq!(entry.path(), dir.join("a.txt"));
///     assert!(entry.file_type().await.unwrap().is_file());
///     assert_eq!(entry.metadata().await.unwrap().len(), 1);
///     assert!(entries.next_entry().await.unwrap().is_none());
///     fs::remove_dir_all(&dir).await.unwrap();
/// });
/// ```
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path = path.as_ref().to_owned();
    let std = asyncify(move || std::fs::read_dir(path)).await?;
    Ok(ReadDir(State::Idle(Some(Chunk {
        entries: VecDeque::new(),
        std,
        more: true,
    }))))
}

/// The entries of a directory, fetched from the blocking pool 64 at a time: call
/// [`next_entry`](ReadDir::next_entry), or use it as a `Stream` of
/// `io::Result<DirEntry>`. The order is the OS's; `.` and `..` are not listed.
///
/// # Examples
///
/// ```
/// use futures_core::Stream;
/// use std::pin::Pin;
/// # if cfg!(miri) { return; }
/// magpie_runtime::block_on(async {
///     let mut entries = magpie_runtime::fs::read_dir("/").await.unwrap();
///     let first = std::future::poll_fn(|cx| Pin::new(&mut entries).poll_next(cx)).await;
///     assert!(first.unwrap().is_ok());
/// });
/// ```
#[derive(Debug)]
pub struct ReadDir(State);

#[derive(Debug)]
enum State {
    /// `None` once a pool hop failed: the listing is over.
    Idle(Option<Chunk>),
    Pending(JoinHandle<Chunk>),
}

#[derive(Debug)]
struct Chunk {
    entries: VecDeque<io::Result<DirEntry>>,
    std: std::fs::ReadDir,
    /// Whether `std` may have more entries.
    more: bool,
}

impl Chunk {
    /// Fetches up to `CHUNK` entries (on the pool), with their file types.
    fn fill(mut self) -> Chunk {
        for _ in 0..CHUNK {
            match self.std.next() {
                Some(entry) => self.entries.push_back(entry.map(DirEntry::new)),
                None => {
                    self.more = false;
                    break;
                }
            }
        }
        self
    }
}

impl ReadDir {
    /// The next entry; `Ok(None)` at the end.
    ///
    /// # Errors
    ///
    /// The OS's error while reading the directory (the listing may go on after it), or an
    /// error if the runtime shut down (the listing ends).
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        poll_fn(|cx| self.poll_next_entry(cx)).await
    }

    /// Polls for the next entry (for hand-written futures).
    ///
    /// # Errors
    ///
    /// As [`next_entry`](ReadDir::next_entry).
    pub fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<DirEntry>>> {
        loop {
            match &mut self.0 {
                State::Idle(None) => return Poll::Ready(Ok(None)),
                State::Idle(Some(chunk)) => {
                    if let Some(entry) = chunk.entries.pop_front() {
                        return Poll::Ready(entry.map(Some));
                    }
                    if !chunk.more {
                        return Poll::Ready(Ok(None));
                    }
                    let chunk = match &mut self.0 {
                        State::Idle(chunk) => chunk.take().expect("matched Some above"),
                        State::Pending(_) => unreachable!(),
                    };
                    self.0 = State::Pending(spawn_on_pool(move || chunk.fill())?);
                }
                State::Pending(handle) => match ready!(Pin::new(handle).poll(cx)) {
                    Ok(chunk) => self.0 = State::Idle(Some(chunk)),
                    Err(e) => {
                        self.0 = State::Idle(None);
                        return Poll::Ready(Err(join_error(e)));
                    }
                },
            }
        }
    }
}

impl futures_core::Stream for ReadDir {
    type Item = io::Result<DirEntry>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_next_entry(cx).map(Result::transpose)
    }
}

/// One entry of a [`ReadDir`].
///
/// # Examples
///
/// ```
/// # if cfg!(miri) { return; }
/// magpie_runtime::block_on(async {
///     let mut entries = magpie_runtime::fs::read_dir("/").await.unwrap();
///     let entry = entries.next_entry().await.unwrap().unwrap();
///     assert_eq!(entry.path(), std::path::Path::new("/").join(entry.file_name()));
/// });
/// ```
#[derive(Clone)]
pub struct DirEntry {
    std: Arc<std::fs::DirEntry>,
    /// Fetched with the entry on the pool (free on most file systems, from `d_type`).
    file_type: Option<FileType>,
}

impl std::fmt::Debug for DirEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirEntry")
            .field("path", &self.path())
            .finish()
    }
}

impl DirEntry {
    fn new(std: std::fs::DirEntry) -> DirEntry {
        let file_type = std.file_type().ok();
        DirEntry {
            std: Arc::new(std),
            file_type,
        }
    }

    /// The entry's full path: the directory's path joined with [`file_name`](DirEntry::file_name).
    pub fn path(&self) -> PathBuf {
        self.std.path()
    }

    /// The entry's name within its directory.
    pub fn file_name(&self) -> OsString {
        self.std.file_name()
    }

    /// The entry's inode number.
    #[cfg(unix)]
    pub fn ino(&self) -> u64 {
        std::os::unix::fs::DirEntryExt::ino(&*self.std)
    }

    /// The entry's metadata, not following a symbolic link (as `std::fs::DirEntry`).
    ///
    /// # Errors
    ///
    /// The OS's error (`NotFound` if the entry was removed since), or an error outside a
    /// magpie runtime.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = self.std.clone();
        asyncify(move || std.metadata()).await
    }

    /// The entry's file type, not following a symbolic link; usually known from the
    /// listing itself, without another system call.
    ///
    /// # Errors
    ///
    /// The OS's error, or an error outside a magpie runtime.
    pub async fn file_type(&self) -> io::Result<FileType> {
        if let Some(ft) = self.file_type {
            return Ok(ft);
        }
        let std = self.std.clone();
        asyncify(move || std.file_type()).await
    }
}
