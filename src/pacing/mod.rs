//! Client-side pacing: [`Paced`], a [`Backend`] layer that keeps requests inside Buffer's
//! rate limits, so a long batch meets no 429.
//!
//! The classic API allows 60 requests a minute; GraphQL 100 per 15 minutes, plus a daily and
//! a 30-day window that depend on the plan. [`Pacing`] starts from those numbers; once a
//! backend reports the server's own count ([`Backend::rate_limits`], read from `RateLimit`
//! headers by the GraphQL backend) the server's quota replaces the configured one and the
//! higher of the two counts is followed, and a 429 stops every request for the wait it
//! announced.
//!
//! Requests go out as fast as the budget allows and then wait for the oldest to stop
//! counting, rather than being spread evenly: with windows that reset, that finishes a batch
//! in the least time. The first request goes alone, so the server's count is known before a
//! burst.
//!
//! Put pacing under retries (`Retrying<Paced<B>>`) so every retry is paced too.

mod budget;

use crate::backend::{Backend, BackendKind, Capabilities, Request, Response};
use crate::http::rate_limit::{FIFTEEN_MINUTES, ONE_DAY, RateLimits, THIRTY_DAYS};
use crate::{Error, Result};
use async_trait::async_trait;
use budget::{Budget, Wait};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The quotas a [`Paced`] backend keeps to.
///
/// ```
/// use buffer_bridge::pacing::Pacing;
/// use std::time::Duration;
///
/// // A Team plan key: 100 per 15 minutes, 500 a day, 15,000 in 30 days.
/// let team = Pacing::none()
///     .quota(100, Duration::from_secs(900))
///     .quota(500, Duration::from_secs(86_400))
///     .quota(15_000, Duration::from_secs(2_592_000));
/// assert_eq!(team.quotas().len(), 3);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Pacing {
    quotas: Vec<(u64, Duration)>,
    time_scale: f64,
}

impl Pacing {
    /// No quota yet: add them with [`quota`](Self::quota).
    pub fn none() -> Self {
        Self {
            quotas: Vec::new(),
            time_scale: 1.0,
        }
    }

    /// The classic API's limit: 60 requests a minute.
    pub fn classic() -> Self {
        Self::none().quota(60, Duration::from_secs(60))
    }

    /// GraphQL's limits on the Free plan (100 per 15 minutes, 250 a day, 3,000 in 30 days).
    /// Higher plans' numbers are taken from the server's headers once it reports them.
    pub fn graphql() -> Self {
        Self::none()
            .quota(100, FIFTEEN_MINUTES)
            .quota(250, ONE_DAY)
            .quota(3_000, THIRTY_DAYS)
    }

    /// Buffer's published limits for a backend kind.
    pub fn of(kind: BackendKind) -> Self {
        match kind {
            BackendKind::ClassicRest => Self::classic(),
            BackendKind::GraphQl => Self::graphql(),
        }
    }

    /// Adds a quota: at most `limit` requests in any `window`.
    pub fn quota(mut self, limit: u64, window: Duration) -> Self {
        self.quotas.push((limit, window));
        self
    }

    /// How many of the server's seconds pass in one real second: 1 for Buffer, more for a
    /// simulator whose clock runs fast (its windows then pass faster too).
    pub fn time_scale(mut self, scale: f64) -> Self {
        self.time_scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
        self
    }

    /// The configured quotas, `(limit, window)`.
    pub fn quotas(&self) -> &[(u64, Duration)] {
        &self.quotas
    }
}

/// A [`Backend`] that waits before each request until the rate budget has room for it.
///
/// ```no_run
/// use buffer_bridge::pacing::Paced;
/// use buffer_bridge::retry::Retrying;
/// use buffer_bridge::{BackendExt, graphql::GraphQl};
///
/// # async fn run() -> buffer_bridge::Result<()> {
/// let backend = Retrying::new(Paced::new(GraphQl::builder().api_key("…").build()?));
/// let channels = backend.channels().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Paced<B> {
    inner: B,
    budget: Mutex<Budget>,
    changed: Notify,
}

impl<B: Backend> Paced<B> {
    /// Paces `inner` by Buffer's published limits for its kind ([`Pacing::of`]).
    pub fn new(inner: B) -> Self {
        let pacing = Pacing::of(inner.kind());
        Self::with(inner, pacing)
    }

    /// Paces `inner` by these quotas.
    pub fn with(inner: B, pacing: Pacing) -> Self {
        Self {
            budget: Mutex::new(Budget::new(&pacing.quotas, pacing.time_scale)),
            inner,
            changed: Notify::new(),
        }
    }

    /// The backend underneath.
    pub fn inner(&self) -> &B {
        &self.inner
    }

    /// Requests left now in the tightest window, as this client counts them.
    pub fn remaining(&self) -> Option<u64> {
        self.lock().left(Instant::now())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Budget> {
        self.budget
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until `cost` requests fit, and takes them.
    async fn admit(&self, cost: u64) {
        loop {
            // Registered before the budget is read, so an answer arriving in between still
            // wakes this waiter.
            let changed = self.changed.notified();
            let mut changed = std::pin::pin!(changed);
            changed.as_mut().enable();
            let wait = self.lock().take(cost, Instant::now());
            match wait {
                Ok(()) => return,
                Err(Wait::FirstAnswer) => changed.await,
                Err(Wait::Until(at)) => {
                    tracing::debug!(wait = ?at.saturating_duration_since(Instant::now()), "pacing");
                    let _ = tokio::time::timeout_at(at, changed).await;
                }
            }
        }
    }
}

/// Requests taken from the budget and not yet answered. Dropped unanswered (the caller gave
/// up on the future), they still count as sent, and waiters are woken.
struct Ticket<'a, B: Backend> {
    paced: &'a Paced<B>,
    cost: u64,
    answered: bool,
}

impl<B: Backend> Ticket<'_, B> {
    fn answer(&mut self, error: Option<&Error>) {
        let limits = self.paced.inner.rate_limits();
        let refusal = error.filter(|e| matches!(e, Error::RateLimited { .. }));
        self.paced
            .lock()
            .answered(self.cost, Instant::now(), limits.as_ref(), refusal);
        self.answered = true;
        self.paced.changed.notify_waiters();
    }
}

impl<B: Backend> Drop for Ticket<'_, B> {
    fn drop(&mut self) {
        if !self.answered {
            self.answer(None);
        }
    }
}

/// How many HTTP requests a request costs: most cost one; a GraphQL create costs one per
/// 30 channels (across posts, for a batch), a classic batch one per post. The server's count corrects any other difference after the fact.
fn cost(kind: BackendKind, request: &Request) -> u64 {
    let aliased = |channels: usize| channels.div_ceil(crate::graphql::MAX_ALIASES).max(1) as u64;
    match (kind, request) {
        (BackendKind::GraphQl, Request::CreatePost { post }) => aliased(post.channel_ids.len()),
        (BackendKind::GraphQl, Request::CreatePosts { posts }) => {
            aliased(posts.iter().map(|p| p.channel_ids.len()).sum())
        }
        (BackendKind::ClassicRest, Request::CreatePosts { posts }) => posts.len().max(1) as u64,
        // The classic API needs the text to edit: keeping it costs a read first.
        (BackendKind::ClassicRest, Request::EditPost { edit, .. }) if edit.text.is_keep() => 2,
        _ => 1,
    }
}

#[async_trait]
impl<B: Backend> Backend for Paced<B> {
    fn kind(&self) -> BackendKind {
        self.inner.kind()
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn rate_limits(&self) -> Option<RateLimits> {
        self.inner.rate_limits()
    }

    async fn execute(&self, request: Request) -> Result<Response> {
        // Refused without a request: costs nothing.
        self.capabilities().check(request.operation())?;
        let cost = cost(self.kind(), &request);
        self.admit(cost).await;
        let mut ticket = Ticket {
            paced: self,
            cost,
            answered: false,
        };
        let result = self.inner.execute(request).await;
        ticket.answer(result.as_ref().err());
        result
    }
}
