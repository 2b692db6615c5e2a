//! Tokens in the operating system's credential store (feature `keyring`): the macOS Keychain,
//! the Windows Credential Manager, or the Linux kernel's keyutils, through the `keyring` crate.
//!
//! On Linux the kernel keyring lives as long as the user's session: tokens kept there are gone
//! after a reboot (the refresh then fails with "no tokens are stored" and the user authorizes
//! again). Use [`FileStore`](super::FileStore) where that will not do.

use super::{TokenStore, Tokens};
use crate::{Error, Result};
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

/// Each user's tokens as one entry of the operating system's credential store, under a
/// service name of the application's choosing (one entry: the tokens are replaced whole).
pub struct KeyringStore {
    service: String,
    /// One entry object per user, kept: some platforms' entries are handles, and a handle
    /// made anew for every call costs a lookup each time.
    entries: Mutex<HashMap<String, Arc<keyring::Entry>>>,
}

impl fmt::Debug for KeyringStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyringStore")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl KeyringStore {
    /// A store whose entries are named `service` (for example your application's name), one
    /// per user.
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entry(&self, user: &str) -> Result<Arc<keyring::Entry>> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = entries.get(user) {
            return Ok(entry.clone());
        }
        let entry = Arc::new(
            keyring::Entry::new(&self.service, user)
                .map_err(|e| failure("could not open the keyring entry", &e))?,
        );
        entries.insert(user.to_owned(), entry.clone());
        Ok(entry)
    }

    /// Keyring calls block (a D-Bus or Keychain round trip): off the async threads.
    async fn blocking<T: Send + 'static>(
        &self,
        user: &str,
        work: impl FnOnce(&keyring::Entry) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let entry = self.entry(user)?;
        tokio::task::spawn_blocking(move || work(&entry))
            .await
            .map_err(|e| Error::token_store(format!("the keyring task failed: {e}"), None))?
    }
}

#[async_trait]
impl TokenStore for KeyringStore {
    async fn load(&self, user: &str) -> Result<Option<Tokens>> {
        self.blocking(user, |entry| match entry.get_password() {
            Ok(text) => Tokens::from_secret_json(&SecretString::from(text)).map(Some),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(failure("could not read the keyring entry", &e)),
        })
        .await
    }

    async fn save(&self, user: &str, tokens: &Tokens) -> Result<()> {
        let json = tokens.to_secret_json();
        self.blocking(user, move |entry| {
            entry
                .set_password(json.expose_secret())
                .map_err(|e| match e {
                    // Linux keyutils says so when the process has no session keyring to
                    // write to (a container, a service without a login session).
                    keyring::Error::NoEntry => Error::token_store(
                        "could not write the keyring entry: the credential store has no \
                         keyring for this session; use a file store here",
                        None,
                    ),
                    e => failure("could not write the keyring entry", &e),
                })
        })
        .await
    }

    async fn remove(&self, user: &str) -> Result<()> {
        self.blocking(user, |entry| match entry.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(failure("could not remove the keyring entry", &e)),
        })
        .await
    }
}

/// A keyring failure in words, without its source: `BadEncoding` carries the stored bytes,
/// which are tokens.
fn failure(context: &str, error: &keyring::Error) -> Error {
    let why = match error {
        keyring::Error::PlatformFailure(_) => "the platform's credential store failed",
        keyring::Error::NoStorageAccess(_) => "the credential store is locked or unavailable",
        keyring::Error::NoEntry => "there is no such entry",
        keyring::Error::BadEncoding(_) => "the entry is not UTF-8 text",
        keyring::Error::TooLong(..) => "the tokens are too long for this credential store",
        keyring::Error::Invalid(..) => "the service or user name is not accepted",
        keyring::Error::Ambiguous(_) => "several entries match",
        _ => "unknown failure",
    };
    Error::token_store(format!("{context}: {why}"), None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Credential;

    fn mock() {
        // In-memory credentials: tests never touch the machine's keyring.
        keyring::set_default_credential_builder(keyring::mock::default_credential_builder());
    }

    fn tokens(access: &str) -> Tokens {
        Tokens::new(
            Credential::new(access),
            Some(Credential::new("refresh-in-keyring")),
            None,
            vec!["posts:read".to_owned()],
        )
    }

    #[tokio::test]
    async fn tokens_round_trip_and_are_forgotten() {
        mock();
        let store = KeyringStore::new("buffer-bridge-test");
        assert!(store.load("u1").await.unwrap().is_none());
        store.save("u1", &tokens("access-one")).await.unwrap();
        store.save("u1", &tokens("access-two")).await.unwrap();
        let loaded = store.load("u1").await.unwrap().unwrap();
        assert!(
            loaded
                .access_token()
                .same_secret(&Credential::new("access-two"))
        );
        assert!(store.load("u2").await.unwrap().is_none());
        store.remove("u1").await.unwrap();
        store.remove("u1").await.unwrap();
        assert!(store.load("u1").await.unwrap().is_none());
        assert!(!format!("{store:?}").contains("access"));
    }

    #[tokio::test]
    async fn an_unreadable_entry_is_a_typed_error_without_its_text() {
        mock();
        let store = KeyringStore::new("buffer-bridge-test");
        let entry = store.entry("u3").unwrap();
        entry
            .set_password("{\"access_token\": \"leaky-token-xyz\"")
            .unwrap();
        let error = store.load("u3").await.unwrap_err();
        assert!(matches!(error, Error::TokenStore { .. }), "{error}");
        assert!(!format!("{error} {error:?}").contains("leaky"), "{error:?}");
        let failing = keyring::Error::BadEncoding(b"leaky-token-xyz".to_vec());
        let error = failure("reading", &failing);
        assert!(!format!("{error} {error:?}").contains("leaky"), "{error:?}");
    }
}
