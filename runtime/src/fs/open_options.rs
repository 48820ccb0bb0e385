use std::io;
use std::path::Path;

use super::{asyncify, File};

/// Options for opening a file: `std::fs::OpenOptions` whose `open` runs on the blocking
/// pool (tokio's `OpenOptions`).
///
/// # Examples
///
/// ```
/// use magpie_runtime::fs::OpenOptions;
/// use magpie_runtime::io::AsyncWriteExt;
///
/// # if cfg!(miri) { return; }
/// magpie_runtime::block_on(async {
///     let path = std::env::temp_dir().join(format!("magpie-oo-doc-{}", std::process::id()));
///     let mut f = OpenOptions::new().create(true).truncate(true).write(true).open(&path).await.unwrap();
///     f.write_all(b"one ").await.unwrap();
///     f.flush().await.unwrap();
///     let mut f = OpenOptions::new().append(true).open(&path).await.unwrap();
///     f.write_all(b"two").await.unwrap();
///     f.flush().await.unwrap();
///     assert_eq!(magpie_runtime::fs::read(&path).await.unwrap(), b"one two");
///     let err = OpenOptions::new().write(true).create_new(true).open(&path).await.unwrap_err();
///     assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
///     magpie_runtime::fs::remove_file(&path).await.unwrap();
/// });
/// ```
#[derive(Clone, Debug)]
pub struct OpenOptions(std::fs::OpenOptions);

impl OpenOptions {
    /// No access at all: set at least one of `read`, `write`, `append`.
    pub fn new() -> OpenOptions {
        OpenOptions(std::fs::OpenOptions::new())
    }

    /// Read access.
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.0.read(read);
        self
    }

    /// Write access.
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.0.write(write);
        self
    }

    /// Append mode: every write goes to the end of the file (atomically, so several
    /// writers of one file never overwrite each other's bytes). Implies write access.
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.0.append(append);
        self
    }

    /// Truncates the file to length 0 on opening (needs write access).
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.0.truncate(truncate);
        self
    }

    /// Creates the file if it does not exist (needs write or append access).
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.0.create(create);
        self
    }

    /// Creates the file, failing with `AlreadyExists` if it exists.
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.0.create_new(create_new);
        self
    }

    /// The permission bits of a newly created file (before the umask), as
    /// `std::os::unix::fs::OpenOptionsExt::mode`.
    #[cfg(unix)]
    pub fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        std::os::unix::fs::OpenOptionsExt::mode(&mut self.0, mode);
        self
    }

    /// Extra `open(2)` flags, as `std::os::unix::fs::OpenOptionsExt::custom_flags`.
    #[cfg(unix)]
    pub fn custom_flags(&mut self, flags: i32) -> &mut OpenOptions {
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut self.0, flags);
        self
    }

    /// Opens `path` with these options.
    ///
    /// # Errors
    ///
    /// The OS's error (`NotFound`, `PermissionDenied`, `AlreadyExists` with `create_new`,
    /// `IsADirectory` for write access to a directory, `InvalidInput` for options that
    /// do not fit together), or an error outside a magpie runtime.
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        let opts = self.0.clone();
        let std = asyncify(move || opts.open(path)).await?;
        Ok(File::from_std(std))
    }
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}

impl From<std::fs::OpenOptions> for OpenOptions {
    fn from(options: std::fs::OpenOptions) -> OpenOptions {
        OpenOptions(options)
    }
}
