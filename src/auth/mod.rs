//! Credentials: Buffer's OAuth 2.0 (authorization code with PKCE, single-use rotating refresh
//! tokens), the classic API's OAuth code exchange, token providers for the backends, token
//! stores, and moving an application's users from the classic API to GraphQL one by one.
//!
//! On GraphQL each user authorizes the application again ([`OAuth`]). Their access token lives
//! an hour and their refresh token can be used once: the next one must be stored before
//! anything else happens, and a refresh token presented twice (two processes refreshing at
//! once, or a new token lost in a crash) makes Buffer revoke the whole grant. A
//! [`RefreshingToken`] does this for a backend: it caches the access token, refreshes it ahead
//! of expiry with one request however many callers wait, stores the new tokens before the new
//! access token is used, and reports a revoked grant as [`Error::GrantRevoked`] instead of
//! trying again.
//!
//! ```no_run
//! use buffer_bridge::auth::{Consent, FileStore, OAuth, RefreshingToken, TokenStore};
//! use buffer_bridge::graphql::GraphQl;
//! use std::sync::Arc;
//!
//! # async fn demo(redirect_from_browser: &str) -> buffer_bridge::Result<()> {
//! let oauth = OAuth::builder()
//!     .client_id("my-client-id")
//!     .redirect_uri("http://127.0.0.1:8910/callback")
//!     .build()?;
//! let request = oauth.authorize(&Consent::default());
//! println!("open {}", request.url());
//! // … the browser comes back to the redirect URI:
//! let code = request.code_from_redirect(redirect_from_browser)?;
//! let tokens = oauth.exchange(&request, &code).await?;
//! let store: Arc<dyn TokenStore> = Arc::new(FileStore::new("tokens")?);
//! store.save("user-42", &tokens).await?;
//!
//! let buffer = GraphQl::builder()
//!     .token_provider(Arc::new(RefreshingToken::new(oauth, store, "user-42")))
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! [`Error::GrantRevoked`]: crate::Error::GrantRevoked

#[cfg(feature = "keyring")]
mod keyring;
mod oauth;
pub mod private_files;
mod provider;
mod roster;
mod store;
mod tokens;

#[cfg(feature = "keyring")]
pub use keyring::KeyringStore;
pub use oauth::{
    AuthorizationRequest, ClassicOAuth, ClassicOAuthBuilder, Consent, DEFAULT_ISSUER,
    DEFAULT_SCOPES, GRAPHQL_RESOURCE, OAuth, OAuthBuilder,
};
pub use provider::{DEFAULT_REFRESH_AHEAD, ProvideToken, RefreshingToken};
pub use roster::{CLASSIC_RETIREMENT, MigrationReport, Roster, UserBackend};
pub use store::{FileStore, MemoryStore, REFRESH_LOCK_WAIT, RefreshLock, TokenStore};
pub use tokens::Tokens;

use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Where "now" comes from: the system clock by default, a test's simulated clock in tests, so
/// expiry and retirement can be crossed without waiting.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}
