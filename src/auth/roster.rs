//! Moving an application's users from the classic API to GraphQL one by one: each user is
//! served by GraphQL once they have authorized the application there, by the classic API
//! until then, and, after the classic API retires, asked to authorize.

use super::{AuthorizationRequest, Clock, Consent, OAuth, RefreshingToken, TokenStore};
use crate::backend::{Backend, BackendKind, Capabilities, Request, Response};
use crate::graphql::GraphQl;
use crate::http::rate_limit::RateLimits;
use crate::http::{Credential, HttpSettings};
use crate::rest::ClassicRest;
use crate::{Error, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

/// When the classic REST API retires (announced 2026-07-27): 2027-02-01T00:00:00Z.
pub const CLASSIC_RETIREMENT: DateTime<Utc> = match DateTime::from_timestamp(1_801_440_000, 0) {
    Some(at) => at,
    None => DateTime::<Utc>::MIN_UTC,
};

/// Which API serves a user now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UserBackend {
    /// The user's GraphQL grant is stored.
    GraphQl,
    /// No grant yet; the classic token serves until the retirement.
    Classic,
    /// Neither: the user must authorize on GraphQL (no grant, and no classic token or the
    /// classic API has retired).
    NeedsConsent,
}

/// How far the move has gone.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct MigrationReport {
    /// Users known to the roster.
    pub users: usize,
    /// Served by GraphQL.
    pub graphql: usize,
    /// Still on the classic API.
    pub classic: usize,
    /// Must authorize before anything works for them.
    pub needs_consent: usize,
}

/// The application's users, each served by the API their credentials allow: GraphQL for a
/// user whose grant is in the token store, the classic API for the others until
/// [`CLASSIC_RETIREMENT`], and [`Error::NeedsConsent`] (with the URL to send them to) when
/// neither works. After the retirement, classic backends already handed out fail fast with
/// [`Error::Retired`] without sending anything.
///
/// "Now" is the [`OAuth`] client's clock, so tests can cross the date.
pub struct Roster {
    oauth: OAuth,
    store: Arc<dyn TokenStore>,
    graphql_url: Option<String>,
    classic_url: Option<String>,
    http: HttpSettings,
    /// One connection pool for every user's backend, built on first use.
    client: std::sync::OnceLock<reqwest::Client>,
    consent: Consent,
    hint_user_ids: bool,
    classic_tokens: Mutex<BTreeMap<String, Credential>>,
    /// Authorizations sent out and not completed, by `state`.
    pending: Mutex<HashMap<String, (String, Arc<AuthorizationRequest>)>>,
    graphql: Mutex<HashMap<String, Arc<dyn Backend>>>,
}

impl fmt::Debug for Roster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Roster")
            .field("users", &lock(&self.classic_tokens).len())
            .finish_non_exhaustive()
    }
}

impl Roster {
    /// A roster whose GraphQL grants go through `oauth` and live in `store`.
    pub fn new(oauth: OAuth, store: Arc<dyn TokenStore>) -> Self {
        Self {
            oauth,
            store,
            graphql_url: None,
            classic_url: None,
            http: HttpSettings::default(),
            client: std::sync::OnceLock::new(),
            consent: Consent::default(),
            hint_user_ids: false,
            classic_tokens: Mutex::default(),
            pending: Mutex::default(),
            graphql: Mutex::default(),
        }
    }

    /// Where the GraphQL API is (default Buffer's).
    pub fn graphql_url(mut self, url: impl Into<String>) -> Self {
        self.graphql_url = Some(url.into());
        self
    }

    /// Where the classic API is (default Buffer's).
    pub fn classic_url(mut self, url: impl Into<String>) -> Self {
        self.classic_url = Some(url.into());
        self
    }

    /// Connection settings for every backend made.
    pub fn http_settings(mut self, settings: HttpSettings) -> Self {
        self.http = settings;
        self
    }

    /// What users are asked to consent to (default [`Consent::default`]).
    pub fn consent(mut self, consent: Consent) -> Self {
        self.consent = consent;
        self
    }

    /// Sends each user id as the authorization's `login_hint`, for applications whose user
    /// ids are Buffer logins.
    pub fn hint_user_ids(mut self, hint: bool) -> Self {
        self.hint_user_ids = hint;
        self
    }

    /// Adds a user with their classic access token (what the application holds today).
    pub fn add_classic_user(&self, user: impl Into<String>, token: impl Into<Credential>) {
        lock(&self.classic_tokens).insert(user.into(), token.into());
    }

    /// Which API serves `user` now.
    pub async fn backend_of(&self, user: &str) -> Result<UserBackend> {
        if self.store.load(user).await?.is_some() {
            return Ok(UserBackend::GraphQl);
        }
        let classic = lock(&self.classic_tokens).contains_key(user);
        Ok(match classic && !self.retired() {
            true => UserBackend::Classic,
            false => UserBackend::NeedsConsent,
        })
    }

    /// How many users are on each API.
    pub async fn report(&self) -> Result<MigrationReport> {
        let users: Vec<String> = lock(&self.classic_tokens).keys().cloned().collect();
        let mut report = MigrationReport {
            users: users.len(),
            ..MigrationReport::default()
        };
        for user in &users {
            match self.backend_of(user).await? {
                UserBackend::GraphQl => report.graphql += 1,
                UserBackend::Classic => report.classic += 1,
                UserBackend::NeedsConsent => report.needs_consent += 1,
            }
        }
        Ok(report)
    }

    /// The backend that serves `user`: GraphQL with their refreshing grant, or the classic
    /// API until it retires, or [`Error::NeedsConsent`] with the URL to send them to.
    pub async fn backend(&self, user: &str) -> Result<Arc<dyn Backend>> {
        match self.backend_of(user).await? {
            UserBackend::GraphQl => self.graphql_backend(user),
            UserBackend::Classic => {
                let token = lock(&self.classic_tokens).get(user).cloned();
                let token = token.ok_or_else(|| self.needs_consent(user))?;
                let mut builder = ClassicRest::builder()
                    .access_token(token)
                    .http_settings(self.http.clone())
                    .http_client(self.client()?);
                if let Some(url) = &self.classic_url {
                    builder = builder.base_url(url.clone());
                }
                Ok(Arc::new(Retiring {
                    inner: builder.build()?,
                    clock: self.oauth.clock().clone(),
                }))
            }
            UserBackend::NeedsConsent => Err(self.needs_consent(user)),
        }
    }

    /// Starts an authorization for `user`: the URL to send them to (kept, with its PKCE
    /// verifier, until [`complete`](Roster::complete)).
    pub fn authorize(&self, user: &str) -> String {
        let consent = match self.hint_user_ids {
            true => self.consent.clone().login_hint(user),
            false => self.consent.clone(),
        };
        let request = Arc::new(self.oauth.authorize(&consent));
        let url = request.url().to_owned();
        let mut pending = lock(&self.pending);
        // One authorization in flight per user: a new one replaces the old.
        pending.retain(|_, (waiting, _)| waiting != user);
        pending.insert(request.state().to_owned(), (user.to_owned(), request));
        url
    }

    /// Completes an authorization from the URL the user was redirected to: the code is
    /// exchanged, the tokens stored, and the user is on GraphQL from the next call. Returns
    /// the user.
    pub async fn complete(&self, redirect: &str) -> Result<String> {
        let state = url::Url::parse(redirect)
            .ok()
            .and_then(|url| {
                url.query_pairs()
                    .find(|(name, _)| name == "state")
                    .map(|(_, value)| value.into_owned())
            })
            .unwrap_or_default();
        let (user, request) = lock(&self.pending).remove(&state).ok_or_else(|| {
            Error::invalid_input("the redirect's state matches no authorization in progress")
        })?;
        let code = request.code_from_redirect(redirect)?;
        let tokens = self.oauth.exchange(&request, &code).await?;
        self.store.save(&user, &tokens).await?;
        lock(&self.graphql).remove(&user);
        Ok(user)
    }

    /// The shared client: a thousand users are a thousand backends, not a thousand pools.
    fn client(&self) -> Result<reqwest::Client> {
        if let Some(client) = self.client.get() {
            return Ok(client.clone());
        }
        let client = self.http.client()?;
        Ok(self.client.get_or_init(|| client).clone())
    }

    fn retired(&self) -> bool {
        (self.oauth.clock())() >= CLASSIC_RETIREMENT
    }

    fn needs_consent(&self, user: &str) -> Error {
        let why = match self.retired() {
            true => "the classic API has retired and the user has not authorized on GraphQL",
            false => "the user has no GraphQL grant and no classic token",
        };
        Error::needs_consent(self.authorize(user), why)
    }

    fn graphql_backend(&self, user: &str) -> Result<Arc<dyn Backend>> {
        if let Some(backend) = lock(&self.graphql).get(user) {
            return Ok(Arc::clone(backend));
        }
        let provider = RefreshingToken::new(self.oauth.clone(), Arc::clone(&self.store), user);
        let mut builder = GraphQl::builder()
            .token_provider(Arc::new(provider))
            .http_settings(self.http.clone())
            .http_client(self.client()?);
        if let Some(url) = &self.graphql_url {
            builder = builder.base_url(url.clone());
        }
        let backend: Arc<dyn Backend> = Arc::new(builder.build()?);
        lock(&self.graphql).insert(user.to_owned(), Arc::clone(&backend));
        Ok(backend)
    }
}

/// A classic backend that stops at the retirement: every call after it fails with
/// [`Error::Retired`] before a request is made.
struct Retiring {
    inner: ClassicRest,
    clock: Clock,
}

impl fmt::Debug for Retiring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retiring")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Backend for Retiring {
    fn kind(&self) -> BackendKind {
        self.inner.kind()
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    async fn execute(&self, request: Request) -> Result<Response> {
        if (self.clock)() >= CLASSIC_RETIREMENT {
            return Err(Error::retired(
                "the classic API stopped on 2027-02-01; have the user authorize the \
                 application on GraphQL (Roster::authorize) and use the GraphQL backend",
            ));
        }
        self.inner.execute(request).await
    }

    fn rate_limits(&self) -> Option<RateLimits> {
        self.inner.rate_limits()
    }

    fn server_time(&self) -> Option<DateTime<Utc>> {
        self.inner.server_time()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retirement_is_the_announced_date() {
        assert_eq!(CLASSIC_RETIREMENT.to_rfc3339(), "2027-02-01T00:00:00+00:00");
    }
}
