//! The file handling secrets need, which [`FileStore`](super::FileStore) is built on and an
//! application keeping other private files beside its tokens can use too: an owner-only
//! directory, a file replaced whole and owner-only, and a lock between processes.
//!
//! Errors are plain `std::io::Error`s, for the caller to put in its own words.

use std::fs::File;
use std::io::{self, Write as _};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Creates `dir` readable by its owner only (0700 on Unix), or makes an existing one so:
/// others could list it, or, if it is writable to them, remove or replace its files. A
/// directory shared by design (the sticky bit, as `/tmp`) is refused rather than changed,
/// and so is one the system does not let us change (not ours).
pub fn owner_only_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let mode = std::fs::metadata(dir)?.mode();
        if mode & 0o077 == 0 {
            return Ok(());
        }
        let refused = |why: String| {
            io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "{} is open to others (mode {:o}){why}",
                    dir.display(),
                    mode & 0o7777
                ),
            )
        };
        if mode & 0o1000 != 0 {
            return Err(refused(" and shared by design".to_owned()));
        }
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| refused(format!(" and could not be made owner-only ({e})")))?;
    }
    Ok(())
}

/// Replaces `path` with `bytes` whole: written to a new owner-only (0600) temporary file
/// beside it, synced, renamed over it, and the directory synced, so a reader sees the old
/// file or the new one, never a part. The temporary file has a name no one can guess and is
/// opened only if nothing is there (`O_EXCL`, which also refuses a symlink): a link planted at
/// its name does not receive the bytes.
pub fn replace_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static SERIAL: AtomicU64 = AtomicU64::new(0);
    let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
    let unguessable = {
        use std::hash::BuildHasher;
        std::collections::hash_map::RandomState::new().hash_one(serial)
    };
    let temporary = path.with_extension(format!(
        "tmp-{}-{serial}-{unguessable:016x}",
        std::process::id()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temporary).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&temporary, path)) {
        let _ = std::fs::remove_file(&temporary);
        return Err(e);
    }
    #[cfg(unix)]
    if let Ok(dir) = File::open(path.parent().unwrap_or(Path::new("."))) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// An exclusive lock on a file, held by this process until dropped (the system releases it
/// however the process ends, so a crashed holder never blocks anyone).
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

impl FileLock {
    /// The lock on `path` (created owner-only if missing; a link planted at its name is not
    /// followed), if no one holds it now.
    pub fn try_acquire(path: &Path) -> io::Result<Option<Self>> {
        let mut options = std::fs::OpenOptions::new();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        let file = options.open(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Self { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }

    /// The lock on `path`, waiting at most `wait` for whoever holds it (then
    /// `ErrorKind::TimedOut`).
    pub async fn acquire(path: &Path, wait: Duration) -> io::Result<Self> {
        let start = Instant::now();
        loop {
            if let Some(lock) = Self::try_acquire(path)? {
                return Ok(lock);
            }
            if start.elapsed() > wait {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("{} has been locked for {wait:?}", path.display()),
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
