//! Retries that never post twice: [`Retrying`], a [`Backend`] layer.
//!
//! Every failed attempt goes to one pure function, [`RetryPolicy::decide`]:
//!
//! - a **read** is retried after a server failure (HTTP 5xx), a timeout, a dropped connection
//!   or a body that broke off, with capped exponential backoff and jitter;
//! - a **rate limit** (HTTP 429) waits as long as the server said (`Retry-After`, else the
//!   reset of the exhausted window), up to [`RetryPolicy::max_wait`]; a longer wait comes
//!   back as [`Error::RateLimited`] carrying it. A 429 means nothing was done, so writes wait
//!   and retry too;
//! - a **write** that may have reached Buffer is never resent blindly. Buffer has no
//!   idempotency keys, so a create is *reconciled*: each channel whose outcome is unknown has
//!   its recent posts read (queue and sent lists) for the same text and due time; where the
//!   post exists the channel is marked created with it, and only the others are sent again.
//!   A delete that meets "not found" after an unknown outcome counts as done. Other writes
//!   (edit, share, reorder, …) return the error: resending them could act twice;
//! - everything else (bad input, not found, unauthorized, a limit reached) is final.
//!
//! Channels that fail inside a successful answer (a typed GraphQL error, a classic code for
//! one profile) keep their error unless it is transient.
//!
//! Waits use `tokio::time`, so tests run them instantly under `tokio::time::pause()`.

mod create;
mod policy;

pub use policy::{Decision, Failure, RetryPolicy};

use crate::backend::{Backend, BackendKind, Capabilities, Request, Response};
use crate::http::rate_limit::RateLimits;
use crate::{Error, Result};
use async_trait::async_trait;
use policy::Jitter;
use std::sync::Mutex;
use std::time::Duration;

/// A [`Backend`] that retries what is safe to retry and reconciles what is not.
///
/// ```no_run
/// use buffer_bridge::retry::{RetryPolicy, Retrying};
/// use buffer_bridge::{BackendExt, rest::ClassicRest};
/// use std::time::Duration;
///
/// # async fn run() -> buffer_bridge::Result<()> {
/// let backend = Retrying::new(ClassicRest::builder().access_token("…").build()?)
///     .policy(RetryPolicy::default().max_attempts(5).max_wait(Duration::from_secs(120)));
/// let channels = backend.channels().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Retrying<B> {
    inner: B,
    policy: RetryPolicy,
    jitter: Mutex<Jitter>,
}

impl<B: Backend> Retrying<B> {
    /// Retries over `inner` with the [default policy](RetryPolicy::default).
    pub fn new(inner: B) -> Self {
        Self {
            inner,
            policy: RetryPolicy::default(),
            jitter: Mutex::new(Jitter::from_clock()),
        }
    }

    /// Uses this policy.
    pub fn policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Seeds the jitter, so a test sees the same waits on every run.
    pub fn seed(self, seed: u64) -> Self {
        Self {
            jitter: Mutex::new(Jitter::seeded(seed)),
            ..self
        }
    }

    /// The backend underneath.
    pub fn inner(&self) -> &B {
        &self.inner
    }

    /// The policy's decision for attempt `attempt`, with a fresh jitter draw.
    fn decide(&self, error: &Error, attempt: u32, idempotent: bool) -> Decision {
        let draw = self
            .jitter
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .next();
        self.policy.decide(error, attempt, idempotent, draw)
    }

    /// Sends a request that has no reconciliation: reads, and writes retried only when the
    /// server refused them outright.
    async fn plain(&self, request: Request) -> Result<Response> {
        let idempotent = !request.writes();
        let mut attempt = 1;
        loop {
            let error = match self.inner.execute(request.clone()).await {
                Ok(response) => return Ok(response),
                Err(error) => error,
            };
            match self.decide(&error, attempt, idempotent) {
                Decision::Retry(wait) => {
                    tracing::debug!(operation = %request.operation(), attempt, ?wait, %error, "retrying");
                    pause(wait).await;
                }
                Decision::Reconcile(_) => {
                    tracing::warn!(operation = %request.operation(), %error, "the write may or may not have been done; not resending it");
                    return Err(error);
                }
                Decision::GiveUp => return Err(error),
            }
            attempt += 1;
        }
    }

    /// Deletes a post. After an unknown outcome the delete is sent again, which is its own
    /// check: "not found" then means the first one worked.
    async fn delete(&self, request: Request) -> Result<Response> {
        let mut unsure = false;
        let mut attempt = 1;
        loop {
            let error = match self.inner.execute(request.clone()).await {
                Ok(response) => return Ok(response),
                Err(Error::NotFound { .. }) if unsure => {
                    tracing::debug!("the post is gone: the earlier delete went through");
                    return Ok(Response::Deleted);
                }
                Err(error) => error,
            };
            match self.decide(&error, attempt, false) {
                Decision::Retry(wait) => pause(wait).await,
                Decision::Reconcile(wait) => {
                    unsure = true;
                    pause(wait).await;
                }
                Decision::GiveUp => return Err(error),
            }
            attempt += 1;
        }
    }
}

async fn pause(wait: Duration) {
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
}

#[async_trait]
impl<B: Backend> Backend for Retrying<B> {
    fn kind(&self) -> BackendKind {
        self.inner.kind()
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn rate_limits(&self) -> Option<RateLimits> {
        self.inner.rate_limits()
    }

    fn server_time(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.inner.server_time()
    }

    async fn execute(&self, request: Request) -> Result<Response> {
        match request {
            Request::CreatePost { post } => {
                let mut outcomes = self.create(std::slice::from_ref(&post)).await?;
                match outcomes.pop() {
                    Some(outcome) => Ok(Response::Created(outcome)),
                    None => Err(Error::Unexpected {
                        message: "a create returned no outcome".to_owned(),
                        legacy_code: None,
                    }),
                }
            }
            Request::CreatePosts { posts } => self.create(&posts).await.map(Response::CreatedMany),
            request @ Request::DeletePost { .. } => self.delete(request).await,
            other => self.plain(other).await,
        }
    }
}
