//! Writes parked for a person: an [`Approver`] that leaves each write in a directory, where
//! another process (`buffer-bridge approvals`) lists it and says yes or no.

use super::{Approver, PendingWrite};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How often a parked write looks for its answer.
const POLL: Duration = Duration::from_millis(200);

/// A write waiting in an [`ApprovalQueue`], as a person is shown it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Parked {
    /// Its id in the queue.
    pub id: String,
    /// The agent.
    pub agent: String,
    /// The write in one sentence.
    pub sentence: String,
}

/// An approval queue in a directory: each write waiting is one `ID.pending.json`; a person
/// answers with [`approve`](Self::approve) or [`deny`](Self::deny) (from any process), and the
/// write goes ahead or is refused. A write waits at most its layer's approval timeout, then
/// counts as refused; either way its files are removed.
#[derive(Clone, Debug)]
pub struct ApprovalQueue {
    dir: PathBuf,
}

impl ApprovalQueue {
    /// The queue in `dir` (created if missing).
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref().to_owned();
        std::fs::create_dir_all(&dir).map_err(|e| {
            Error::invalid_input(format!(
                "could not open the approval queue {}: {e}",
                dir.display()
            ))
        })?;
        Ok(Self { dir })
    }

    /// The writes waiting now, oldest first.
    pub fn pending(&self) -> Result<Vec<Parked>> {
        let entries = std::fs::read_dir(&self.dir).map_err(|e| self.failed("read", e))?;
        let mut parked: Vec<(std::time::SystemTime, Parked)> = entries
            .filter_map(|entry| entry.ok())
            .filter(|entry| {
                entry
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".pending.json")
            })
            .filter_map(|entry| {
                let modified = entry.metadata().and_then(|m| m.modified()).ok()?;
                let text = std::fs::read_to_string(entry.path()).ok()?;
                Some((modified, serde_json::from_str(&text).ok()?))
            })
            .collect();
        parked.sort_by_key(|(at, _)| *at);
        Ok(parked.into_iter().map(|(_, p)| p).collect())
    }

    /// Lets the write `id` go ahead.
    pub fn approve(&self, id: &str) -> Result<()> {
        self.answer(id, "approved")
    }

    /// Refuses the write `id`.
    pub fn deny(&self, id: &str) -> Result<()> {
        self.answer(id, "denied")
    }

    fn answer(&self, id: &str, answer: &str) -> Result<()> {
        if !self.path(id, "pending.json").exists() {
            return Err(Error::invalid_input(format!(
                "no write {id:?} is waiting in {}",
                self.dir.display()
            )));
        }
        std::fs::write(self.path(id, answer), b"").map_err(|e| self.failed("answer in", e))
    }

    /// `ID.suffix`; ids are made here, but an id given on a command line is checked so it
    /// cannot name a file outside the queue.
    fn path(&self, id: &str, suffix: &str) -> PathBuf {
        let safe: String = id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        self.dir.join(format!("{safe}.{suffix}"))
    }

    fn failed(&self, what: &str, error: std::io::Error) -> Error {
        Error::invalid_input(format!(
            "could not {what} the approval queue {}: {error}",
            self.dir.display()
        ))
    }

    fn remove(&self, id: &str) {
        for suffix in ["pending.json", "approved", "denied"] {
            let _ = std::fs::remove_file(self.path(id, suffix));
        }
    }
}

/// Removes a parked write's files however its wait ends (answered, timed out, cancelled).
struct Unpark<'a>(&'a ApprovalQueue, String);

impl Drop for Unpark<'_> {
    fn drop(&mut self) {
        self.0.remove(&self.1);
    }
}

#[async_trait::async_trait]
impl Approver for ApprovalQueue {
    async fn approve(&self, write: &PendingWrite) -> bool {
        let id = format!(
            "{}-{:08x}",
            chrono::Utc::now().format("%Y%m%d%H%M%S"),
            rand_id()
        );
        let parked = Parked {
            id: id.clone(),
            agent: write.agent.clone(),
            sentence: write.sentence.clone(),
        };
        let Ok(json) = serde_json::to_vec_pretty(&parked) else {
            return false;
        };
        if let Err(error) = std::fs::write(self.path(&id, "pending.json"), json) {
            tracing::error!(%error, "could not park a write for approval; refusing it");
            return false;
        }
        let _unpark = Unpark(self, id.clone());
        loop {
            if self.path(&id, "denied").exists() {
                return false;
            }
            if self.path(&id, "approved").exists() {
                return true;
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

/// A number unlikely to repeat within a second: ids must not collide between writes parked
/// at once.
fn rand_id() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish() as u32
}
