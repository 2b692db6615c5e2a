//! Token providers: where a backend gets the access token for each request (the aws-sdk
//! `ProvideCredentials` pattern), and the one that refreshes OAuth tokens safely.

use super::{OAuth, TokenStore, Tokens};
use crate::http::Credential;
use crate::{Error, ErrorKind, Result};
use async_trait::async_trait;
use futures::FutureExt;
use std::fmt;
use std::sync::{Arc, PoisonError};
use std::time::Duration;
use tokio::sync::Mutex;

/// How long before its expiry an access token is replaced: a request sent with it must still
/// find it valid, whatever the clocks' difference and the request's time in flight.
pub const DEFAULT_REFRESH_AHEAD: Duration = Duration::from_secs(300);

/// Gives a backend the access token for each request
/// ([`GraphQlBuilder::token_provider`](crate::graphql::GraphQlBuilder::token_provider),
/// [`ClassicRestBuilder::token_provider`](crate::rest::ClassicRestBuilder::token_provider)).
#[async_trait]
pub trait ProvideToken: Send + Sync + fmt::Debug {
    /// The token to send now.
    async fn access_token(&self) -> Result<Credential>;

    /// The API refused `rejected` (HTTP 401): a token to try once more with, or the reason
    /// there is none. The backend calls this at most once a request, so an implementation
    /// that returns an error (or the same token) ends the call.
    async fn rejected(&self, rejected: &Credential) -> Result<Credential>;
}

/// OAuth tokens of one user, refreshed when needed:
///
/// - the access token is cached and replaced [`DEFAULT_REFRESH_AHEAD`] before it expires;
/// - **single flight**: however many requests need a new token at once, one refresh request
///   is sent, and the others wait for its result;
/// - the new tokens are **stored before the new access token is used**: Buffer's refresh
///   tokens are single-use, so a refresh token lost after its refresh would cost the grant. If
///   storing fails, the call fails and the new tokens wait in memory to be stored by the next
///   call, still unused;
/// - after a 401, one refresh and no more; a refused refresh is [`Error::GrantRevoked`], which
///   sticks (no further request) until the store holds tokens from a new authorization;
/// - a refresh whose answer never came (timed out, connection lost) is sent again by the next
///   call, with the same refresh token. If the server never handled it, that recovers; if it
///   did, the rotated token went with the lost answer and the grant is unusable whatever the
///   client does: the retry turns that into one [`Error::GrantRevoked`] instead of a grant
///   that silently never works.
///
/// Share one `RefreshingToken` per user within a process; across processes, refreshing the
/// same grant at once is what makes Buffer revoke it.
pub struct RefreshingToken {
    oauth: OAuth,
    store: Arc<dyn TokenStore>,
    user: String,
    ahead: chrono::Duration,
    slot: Mutex<Slot>,
    /// The refresh on the wire, in a task of its own: a caller dropped while waiting for it
    /// cannot take the rotated tokens with it (the next caller waits for the same task).
    in_flight: std::sync::Mutex<Option<Refresh>>,
}

/// A refresh and the storing of its tokens, shared by whoever waits for it.
type Refresh = futures::future::Shared<futures::future::BoxFuture<'static, Result<Refreshed>>>;

/// New tokens, and whether the store took them.
#[derive(Clone)]
enum Refreshed {
    /// Stored: ready to use.
    Stored(Tokens),
    /// Not stored (the error says why): held unused until a later call stores them.
    Unstored(Tokens, Error),
}

/// What the provider holds.
enum Slot {
    /// Nothing read from the store yet.
    Unread,
    /// Tokens as stored.
    Stored(Tokens),
    /// Tokens a refresh gave that could not be stored yet: not used until they are.
    Unstored(Tokens),
    /// The grant was refused; only a new authorization (in the store) helps.
    Revoked(String),
}

impl fmt::Debug for RefreshingToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshingToken")
            .field("user", &self.user)
            .field("oauth", &self.oauth)
            .finish_non_exhaustive()
    }
}

impl RefreshingToken {
    /// The tokens of `user` in `store`, refreshed through `oauth`.
    pub fn new(oauth: OAuth, store: Arc<dyn TokenStore>, user: impl Into<String>) -> Self {
        Self {
            oauth,
            store,
            user: user.into(),
            ahead: chrono::Duration::from_std(DEFAULT_REFRESH_AHEAD).unwrap_or_default(),
            slot: Mutex::new(Slot::Unread),
            in_flight: std::sync::Mutex::new(None),
        }
    }

    /// How long before expiry to refresh (default [`DEFAULT_REFRESH_AHEAD`]; at most a day).
    pub fn refresh_ahead(mut self, ahead: Duration) -> Self {
        let ahead = ahead.min(Duration::from_secs(86_400));
        self.ahead = chrono::Duration::from_std(ahead).unwrap_or_default();
        self
    }

    /// The access token to use: the cached one unless it expires soon or is `rejected`,
    /// otherwise a new one from one refresh, stored first. The lock is held across the
    /// refresh: that is the single flight.
    async fn token(&self, rejected: Option<&Credential>) -> Result<Credential> {
        let mut slot = self.slot.lock().await;
        if matches!(*slot, Slot::Unread | Slot::Revoked(_)) {
            match (self.store.load(&self.user).await?, &*slot) {
                (Some(tokens), _) => *slot = Slot::Stored(tokens),
                (None, Slot::Revoked(message)) => return Err(Error::grant_revoked(message)),
                (None, _) => {
                    return Err(Error::of_kind(
                        ErrorKind::Unauthorized,
                        format!(
                            "no tokens are stored for user {:?}; authorize first",
                            self.user
                        ),
                        None,
                    ));
                }
            }
        }
        if let Slot::Unstored(tokens) = &*slot {
            self.store.save(&self.user, tokens).await?;
            *slot = Slot::Stored(tokens.clone());
        }
        // A refresh a dropped caller left running: its outcome comes first.
        let left = self.in_flight_refresh();
        if let Some(refresh) = left {
            let outcome = refresh.await;
            self.clear_in_flight();
            self.settle(&mut slot, outcome)?;
        }
        let Slot::Stored(tokens) = &*slot else {
            return Err(Error::unexpected("the token provider lost its tokens"));
        };
        let soon = (self.oauth.clock())() + self.ahead;
        let refused = rejected.is_some_and(|r| r.same_secret(tokens.access_token()));
        if !refused && !tokens.expires_before(soon) {
            return Ok(tokens.access_token().clone());
        }
        // Another provider of this user (another worker, another process) may have refreshed
        // since: its refresh token is the live one, and ours is spent. Under the store's
        // refresh lock, so that no other process refreshes between this look and our refresh.
        let mut tokens = tokens.clone();
        let refresh_lock = self.store.lock_refresh(&self.user).await?;
        if let Some(stored) = self.store.load(&self.user).await?
            && !same_refresh_token(&stored, &tokens)
        {
            tokens = stored;
            *slot = Slot::Stored(tokens.clone());
            let taken_over = rejected.is_some_and(|r| r.same_secret(tokens.access_token()));
            if !taken_over && !tokens.expires_before(soon) {
                return Ok(tokens.access_token().clone());
            }
        }
        let Some(refresh_token) = tokens.refresh_token().cloned() else {
            return Err(Error::of_kind(
                ErrorKind::Unauthorized,
                "the access token expired and the grant has no refresh token (ask for \
                 offline_access); authorize again"
                    .to_owned(),
                None,
            ));
        };
        tracing::debug!(user = %self.user, refused, "refreshing the access token");
        let refresh = {
            let (oauth, store, user) = (self.oauth.clone(), self.store.clone(), self.user.clone());
            let task = tokio::spawn(async move {
                // Held until the new tokens are stored, whoever waits for them.
                let _refresh_lock = refresh_lock;
                match oauth.refresh(&refresh_token).await {
                    Ok(fresh) => Ok(match store.save(&user, &fresh).await {
                        Ok(()) => Refreshed::Stored(fresh),
                        Err(error) => Refreshed::Unstored(fresh, error),
                    }),
                    Err(error @ Error::GrantRevoked { .. }) => {
                        // Tokens of a revoked grant are of no use to anyone.
                        let _ = store.remove(&user).await;
                        Err(error)
                    }
                    Err(error) => Err(error),
                }
            });
            let joined: futures::future::BoxFuture<'static, Result<Refreshed>> =
                Box::pin(async move {
                    task.await.unwrap_or_else(|_| {
                        Err(Error::unexpected("the token refresh task stopped"))
                    })
                });
            joined.shared()
        };
        *self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(refresh.clone());
        let outcome = refresh.await;
        self.clear_in_flight();
        self.settle(&mut slot, outcome)?;
        match &*slot {
            Slot::Stored(fresh) => Ok(fresh.access_token().clone()),
            _ => Err(Error::unexpected("the token provider lost its tokens")),
        }
    }

    fn in_flight_refresh(&self) -> Option<Refresh> {
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn clear_in_flight(&self) {
        *self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Takes a refresh's outcome into the slot: new tokens stored (or, when storing failed,
    /// held unused until they are), or a revoked grant.
    fn settle(&self, slot: &mut Slot, outcome: Result<Refreshed>) -> Result<()> {
        match outcome {
            Ok(Refreshed::Stored(fresh)) => {
                *slot = Slot::Stored(fresh);
                Ok(())
            }
            Ok(Refreshed::Unstored(fresh, error)) => {
                *slot = Slot::Unstored(fresh);
                Err(error)
            }
            Err(error @ Error::GrantRevoked { .. }) => {
                tracing::warn!(user = %self.user, "the grant was revoked; the user must authorize again");
                *slot = Slot::Revoked(error.message());
                Err(error)
            }
            Err(error) => Err(error),
        }
    }
}

/// Whether two token sets carry the same refresh token (neither having one counts as same).
fn same_refresh_token(a: &Tokens, b: &Tokens) -> bool {
    match (a.refresh_token(), b.refresh_token()) {
        (Some(a), Some(b)) => a.same_secret(b),
        (None, None) => true,
        _ => false,
    }
}

#[async_trait]
impl ProvideToken for RefreshingToken {
    async fn access_token(&self) -> Result<Credential> {
        self.token(None).await
    }

    async fn rejected(&self, rejected: &Credential) -> Result<Credential> {
        self.token(Some(rejected)).await
    }
}
