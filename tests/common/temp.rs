//! A SQLite file of a test's own, under cargo's per-target temporary directory, removed with
//! its WAL files when dropped.

use std::path::PathBuf;

/// A journal file, unique to this process and `name`.
pub struct TempFile(pub PathBuf);

impl TempFile {
    /// The file `<prefix>-<pid>-<name>.sqlite`, removed first if a killed run left it.
    pub fn new(prefix: &str, name: &str) -> Self {
        let file = Self(
            PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("{prefix}-{}-{name}.sqlite", std::process::id())),
        );
        file.remove();
        file
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        self.remove();
    }
}
