//! Where tokens are kept between runs: a file store (the default), memory (tests, short
//! runs), or your own (a keyring, a database) through [`TokenStore`].

use super::Tokens;
use super::private_files::{FileLock, owner_only_dir, replace_file};
use crate::{Error, Result};
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

/// Keeps each user's tokens. `save` must replace the user's tokens whole or not at all: a
/// refresh token half-written is a grant lost.
#[async_trait]
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// The user's tokens, if any are stored.
    async fn load(&self, user: &str) -> Result<Option<Tokens>>;
    /// Replaces the user's tokens, atomically and durably.
    async fn save(&self, user: &str, tokens: &Tokens) -> Result<()>;
    /// Forgets the user's tokens (sign-out, revoked grant).
    async fn remove(&self, user: &str) -> Result<()>;

    /// Keeps every other process from refreshing `user`'s grant until the returned lock is
    /// dropped, waiting a bounded time for one that holds it. A store that several processes
    /// share needs this: two of them refreshing at once would present one refresh token
    /// twice, and Buffer revokes the grant. The default locks nothing, for a store one process
    /// owns ([`RefreshingToken`](super::RefreshingToken) is single-flight within a process).
    async fn lock_refresh(&self, user: &str) -> Result<Option<RefreshLock>> {
        let _ = user;
        Ok(None)
    }
}

/// Held while one process refreshes a user's grant; dropping it lets the next one in.
pub type RefreshLock = Box<dyn std::any::Any + Send + Sync>;

/// How long a refresh waits for another process's refresh of the same grant: far longer than a
/// refresh takes, and a process that dies lets go at once (the system releases its lock).
pub const REFRESH_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Tokens in memory: gone when the process ends.
#[derive(Default)]
pub struct MemoryStore {
    tokens: Mutex<HashMap<String, Tokens>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Tokens>> {
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("users", &self.lock().len())
            .finish()
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn load(&self, user: &str) -> Result<Option<Tokens>> {
        Ok(self.lock().get(user).cloned())
    }

    async fn save(&self, user: &str, tokens: &Tokens) -> Result<()> {
        self.lock().insert(user.to_owned(), tokens.clone());
        Ok(())
    }

    async fn remove(&self, user: &str) -> Result<()> {
        self.lock().remove(user);
        Ok(())
    }
}

/// One file per user in a directory: created readable by its owner only (0600, directory
/// 0700 on Unix), replaced atomically (written to a temporary file, synced, renamed over the
/// old one), named by a hash of the user id so any id makes a safe file name.
#[derive(Clone)]
pub struct FileStore {
    dir: Arc<PathBuf>,
}

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileStore").field("dir", &self.dir).finish()
    }
}

impl FileStore {
    /// A store in `dir`, created owner-only if missing; an existing one open to others is
    /// made owner-only, or refused when shared by design (see
    /// [`owner_only_dir`](super::private_files::owner_only_dir)).
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        owner_only_dir(&dir).map_err(|e| io_error("the token directory cannot be used", e))?;
        Ok(Self { dir: Arc::new(dir) })
    }

    /// The file of `user`.
    pub fn path_of(&self, user: &str) -> PathBuf {
        let digest = Sha256::digest(user.as_bytes());
        let name: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{name}.json"))
    }

    /// Blocking file work off the async threads.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| Error::token_store(format!("the token file task failed: {e}"), None))?
    }
}

#[async_trait]
impl TokenStore for FileStore {
    async fn load(&self, user: &str) -> Result<Option<Tokens>> {
        let path = self.path_of(user);
        self.blocking(move || match std::fs::read_to_string(&path) {
            Ok(text) => Tokens::from_secret_json(&SecretString::from(text)).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("could not read a token file", e)),
        })
        .await
    }

    async fn save(&self, user: &str, tokens: &Tokens) -> Result<()> {
        let path = self.path_of(user);
        let json = tokens.to_secret_json();
        self.blocking(move || {
            replace_file(&path, json.expose_secret().as_bytes())
                .map_err(|e| io_error("could not write a token file", e))
        })
        .await
    }

    /// An exclusive lock on a file beside the user's token file, so processes sharing the
    /// directory refresh one at a time.
    async fn lock_refresh(&self, user: &str) -> Result<Option<RefreshLock>> {
        let path = self.path_of(user).with_extension("lock");
        match FileLock::acquire(&path, REFRESH_LOCK_WAIT).await {
            Ok(lock) => Ok(Some(Box::new(lock))),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => Err(Error::token_store(
                "another process has been refreshing this user's grant for a minute; try \
                 again later",
                None,
            )),
            Err(e) => Err(io_error("could not take the refresh lock", e)),
        }
    }

    async fn remove(&self, user: &str) -> Result<()> {
        let path = self.path_of(user);
        self.blocking(move || match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(io_error("could not remove a token file", e))
            }
            _ => Ok(()),
        })
        .await
    }
}

/// An I/O failure without the path's contents (paths hold no secret; errors hold no body).
fn io_error(context: &str, error: std::io::Error) -> Error {
    Error::token_store(format!("{context}: {error}"), Some(Arc::new(error)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Credential;

    fn tokens(access: &str) -> Tokens {
        Tokens::new(
            Credential::new(access),
            Some(Credential::new("refresh-secret-xyz")),
            None,
            Vec::new(),
        )
    }

    #[tokio::test]
    async fn a_file_store_replaces_owner_only_files_and_forgets_on_remove() {
        let dir = std::env::temp_dir().join(format!("bb-tokens-{}", std::process::id()));
        let store = FileStore::new(&dir).unwrap();
        assert!(store.load("u/1").await.unwrap().is_none());
        store.save("u/1", &tokens("first-access")).await.unwrap();
        store.save("u/1", &tokens("second-access")).await.unwrap();
        let back = store.load("u/1").await.unwrap().unwrap();
        assert_eq!(back.access_token().expose(), "second-access");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path_of("u/1"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
        store.remove("u/1").await.unwrap();
        assert!(store.load("u/1").await.unwrap().is_none());
        store.remove("u/1").await.unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
